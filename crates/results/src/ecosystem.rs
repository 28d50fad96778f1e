//! What is known of a stack's framework beyond what a run measures: how well its ecosystem
//! covers an admin back-office, server-rendered pages, an ORM, typing, validation and
//! WebSockets. Each stack's `stack.toml` carries it (docs/stacks.md), a run copies it into the
//! stack's record, and the advisor scores from that record, so a new framework brings its own
//! judgements rather than silently getting none.
//!
//! Levels are 0–100 judgements, each tied by id to a curated fact in `data/facts.toml`, so the
//! evidence a score shows is a source with its year, not an opinion.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A framework's ecosystem, one judgement per need a project may have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ecosystem {
    /// An admin back-office over the data.
    pub admin: Level,
    /// Pages rendered on the server from templates.
    pub server_pages: Level,
    /// An ORM with migrations.
    pub orm: Level,
    /// Static types checked before the code runs.
    pub typing: Level,
    /// Validation of request bodies and parameters.
    pub validation: Level,
    /// Real-time connections over WebSockets.
    pub websockets: Level,
}

/// A curated judgement: a level and the fact behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// 0 (not available) to 100 (built in and mature).
    #[schemars(range(min = 0, max = 100))]
    pub level: f64,
    /// The id of the fact in `data/facts.toml` that supports it.
    pub fact: String,
    /// The judgement in one sentence, shown when the fact itself is not at hand.
    pub statement: String,
}

impl Ecosystem {
    /// Every judgement with its key, in the order of the table.
    pub fn levels(&self) -> [(&'static str, &Level); 6] {
        [
            ("admin", &self.admin),
            ("server_pages", &self.server_pages),
            ("orm", &self.orm),
            ("typing", &self.typing),
            ("validation", &self.validation),
            ("websockets", &self.websockets),
        ]
    }

    /// The first judgement that cannot be used, as one line naming its key: a level outside
    /// 0–100, or an empty fact id or statement.
    pub fn check(&self) -> Result<(), String> {
        for (key, l) in self.levels() {
            if !(0.0..=100.0).contains(&l.level) {
                return Err(format!(
                    "ecosystem.{key}.level {} is not within 0–100",
                    l.level
                ));
            }
            if l.fact.trim().is_empty() {
                return Err(format!("ecosystem.{key}.fact is empty"));
            }
            if l.statement.trim().is_empty() {
                return Err(format!("ecosystem.{key}.statement is empty"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(level: f64) -> Level {
        Level {
            level,
            fact: "a-fact".into(),
            statement: "A sentence.".into(),
        }
    }

    fn ecosystem() -> Ecosystem {
        Ecosystem {
            admin: level(0.0),
            server_pages: level(100.0),
            orm: level(50.0),
            typing: level(40.0),
            validation: level(60.0),
            websockets: level(70.0),
        }
    }

    #[test]
    fn levels_within_0_to_100_pass() {
        assert_eq!(ecosystem().check(), Ok(()));
    }

    #[test]
    fn a_level_out_of_range_or_an_empty_citation_is_named() {
        let mut e = ecosystem();
        e.orm.level = 101.0;
        assert_eq!(
            e.check(),
            Err("ecosystem.orm.level 101 is not within 0–100".into())
        );
        e.orm.level = f64::NAN;
        assert!(e.check().unwrap_err().starts_with("ecosystem.orm.level"));
        let mut e = ecosystem();
        e.websockets.level = -1.0;
        assert!(e
            .check()
            .unwrap_err()
            .starts_with("ecosystem.websockets.level -1"));
        let mut e = ecosystem();
        e.typing.fact = " ".into();
        assert_eq!(e.check(), Err("ecosystem.typing.fact is empty".into()));
        let mut e = ecosystem();
        e.admin.statement = String::new();
        assert_eq!(e.check(), Err("ecosystem.admin.statement is empty".into()));
    }
}
