//! What the advisor knows beyond what a run measures, and where it comes from: a framework's
//! ecosystem (admin back-office, server-rendered pages, ORM, typing, validation, WebSockets) is
//! carried by its stack's manifest and recorded in the run ([`stackwise_results::Ecosystem`]);
//! each language's data and ML libraries are in `data/languages.toml`, embedded here. This
//! module holds no judgement of its own, only the reading of that data.
//!
//! Levels are 0–100 judgements, each tied to a curated fact (`data/facts.toml`) by id, so the
//! evidence a score shows is a source with its year, not an opinion. A stack whose record has
//! no ecosystem levels gets no ecosystem score rather than a guess, and the advice says so.

use std::sync::OnceLock;

use serde::Deserialize;
use stackwise_results::{Language, Level};

use super::Evidence;

/// The languages file, embedded so the binary needs no data directory at run time.
const LANGUAGES_TOML: &str = include_str!("../../../../data/languages.toml");

/// A language's data-processing and ML libraries.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LanguageLibraries {
    pub data: Level,
    pub ml: Level,
    /// Whether PyTorch / scikit-learn models can run inside the API process.
    pub ml_in_process: Level,
}

/// `data/languages.toml`: one entry per side of the comparison.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct Languages {
    javascript: LanguageLibraries,
    python: LanguageLibraries,
}

fn parse(text: &str) -> Result<Languages, toml::de::Error> {
    toml::from_str(text)
}

fn languages() -> &'static Languages {
    static LANGUAGES: OnceLock<Languages> = OnceLock::new();
    LANGUAGES.get_or_init(|| {
        // The text is compiled in; the tests parse it, so this cannot fail in a tested build.
        parse(LANGUAGES_TOML).expect("data/languages.toml parses (checked by the tests)")
    })
}

/// The data and ML libraries of a side.
pub fn libraries(language: Language) -> &'static LanguageLibraries {
    let all = languages();
    match language {
        Language::Javascript => &all.javascript,
        Language::Python => &all.python,
    }
}

/// The evidence for a level: the curated fact's own statement, source and year from
/// `data/facts.toml` (tests keep every cited fact there); the level's statement, marked as
/// unsourced, only if one went missing.
pub fn evidence(level: &Level) -> Evidence {
    match crate::facts::get(&level.fact) {
        Some(f) => Evidence::Fact {
            id: f.id.clone(),
            statement: f.statement.clone(),
            source: Some(f.source.clone()),
            year: Some(f.year.clone()),
        },
        None => Evidence::Fact {
            id: level.fact.clone(),
            statement: level.statement.clone(),
            source: None,
            year: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_languages_file_parses() {
        if let Err(e) = parse(LANGUAGES_TOML) {
            panic!("data/languages.toml does not parse: {e}");
        }
    }

    /// Every language judgement is within 0–100 and cites a fact that `data/facts.toml` holds,
    /// so no score's evidence is an unsourced opinion.
    #[test]
    fn every_language_level_cites_a_curated_fact() {
        for lang in [Language::Javascript, Language::Python] {
            let libs = libraries(lang);
            for level in [&libs.data, &libs.ml, &libs.ml_in_process] {
                assert!((0.0..=100.0).contains(&level.level), "{level:?}");
                assert!(
                    crate::facts::get(&level.fact).is_some(),
                    "'{}' is not in data/facts.toml",
                    level.fact
                );
                assert!(matches!(
                    evidence(level),
                    Evidence::Fact {
                        source: Some(_),
                        year: Some(_),
                        ..
                    }
                ));
            }
        }
    }

    #[test]
    fn an_unknown_key_in_the_languages_file_is_named() {
        let text = LANGUAGES_TOML.replace("ml_in_process =", "ml_in_proces =");
        let err = parse(&text).unwrap_err().message().to_string();
        assert!(err.contains("ml_in_proces"), "{err}");
    }

    #[test]
    fn a_missing_fact_is_shown_as_unsourced() {
        let level = Level {
            level: 10.0,
            fact: "no-such-fact".into(),
            statement: "A judgement.".into(),
        };
        assert_eq!(
            evidence(&level),
            Evidence::Fact {
                id: "no-such-fact".into(),
                statement: "A judgement.".into(),
                source: None,
                year: None,
            }
        );
    }
}
