//! The curated facts a recommendation may cite: popularity, radar rings, runtime and framework
//! capabilities, each with its year and source (`data/facts.toml`).
//!
//! A recommendation mixes what the user's run measured with what cannot be measured on one
//! machine (is there an admin panel, which ML libraries exist, how many developers know the
//! stack). Keeping the second kind as data, each entry dated and sourced, lets a reader check
//! every sentence the advisor writes and lets the list be refreshed without touching code.
//!
//! The file is embedded at build time and parsed on first use. It is not user input: a file
//! that does not parse is a bug in this repository, caught by this module's tests.

use std::sync::OnceLock;

use serde::Deserialize;

/// The facts file, embedded so the binary needs no data directory at run time.
const FACTS_TOML: &str = include_str!("../../../data/facts.toml");

/// One fact, as a recommendation quotes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    /// Stable kebab-case name, so reports and ADRs can refer to it across refreshes.
    pub id: String,
    /// What it is about, such as `popularity`, `admin`, `realtime` or `ml`.
    pub topic: String,
    /// The stacks (ids of `stacks/*/stack.toml`) or languages (`node`, `python`, `javascript`,
    /// `typescript`) it concerns; empty for facts about method rather than a stack.
    pub subject: Vec<String>,
    /// A plain sentence a recommendation can quote.
    pub statement: String,
    /// The figure, when there is one.
    pub value: Option<String>,
    /// The year or range of years it describes, such as `2024` or `2023–2025`.
    pub year: String,
    /// URL or document it comes from.
    pub source: String,
    /// Whether the source is primary (official docs, the dataset, the maintainers' words) or
    /// secondary (an article quoting one), which is weaker and due for a refresh.
    pub primary: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    fact: Vec<Fact>,
}

/// Parses a facts file in the format of `data/facts.toml`.
pub fn parse(text: &str) -> Result<Vec<Fact>, toml::de::Error> {
    toml::from_str::<File>(text).map(|f| f.fact)
}

/// Every fact, in file order.
pub fn all() -> &'static [Fact] {
    static FACTS: OnceLock<Vec<Fact>> = OnceLock::new();
    FACTS.get_or_init(|| {
        // The text is compiled in; the tests parse it, so this cannot fail in a tested build.
        parse(FACTS_TOML).expect("data/facts.toml parses (checked by the facts tests)")
    })
}

/// The fact named `id`.
pub fn get(id: &str) -> Option<&'static Fact> {
    all().iter().find(|f| f.id == id)
}

/// The facts whose subjects include `subject` exactly: `about("node")` gives the facts about
/// Node.js in general, not those about Express alone, so a caller wanting both asks for both.
pub fn about(subject: &str) -> impl Iterator<Item = &'static Fact> + '_ {
    all()
        .iter()
        .filter(move |f| f.subject.iter().any(|s| s == subject))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_file_parses() {
        if let Err(e) = parse(FACTS_TOML) {
            panic!("data/facts.toml does not parse: {e}");
        }
        assert!(!all().is_empty());
    }

    #[test]
    fn an_unknown_field_is_an_error() {
        let text = r#"
            [[fact]]
            id = "x"
            topic = "admin"
            subject = []
            statement = "s"
            year = "2026"
            source = "u"
            primary = true
            sorce = "typo"
        "#;
        assert!(parse(text).is_err());
    }
}
