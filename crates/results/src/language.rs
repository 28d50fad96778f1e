//! The language of a stack, parsed once from the `language` string of its manifest and its
//! result: which side of "Node.js or Python" it stands on. Team skill, the claims, the data and
//! ML libraries and the charts' colours all go by this one reading.

/// The side of the comparison a stack's language puts it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// JavaScript or TypeScript, run by Node.js.
    Javascript,
    Python,
}

impl Language {
    /// The side of a `language` string, whatever its case: `JavaScript` and `TypeScript` are
    /// the Node side, `Python` the Python side; any other language (Rust, Go) is neither.
    pub fn parse(name: &str) -> Option<Language> {
        match name.trim().to_ascii_lowercase().as_str() {
            "javascript" | "typescript" => Some(Language::Javascript),
            "python" => Some(Language::Python),
            _ => None,
        }
    }

    /// The language, as a team's skill is asked for.
    pub fn name(self) -> &'static str {
        match self {
            Language::Javascript => "JavaScript",
            Language::Python => "Python",
        }
    }

    /// The other side of the comparison.
    pub fn other(self) -> Language {
        match self {
            Language::Javascript => Language::Python,
            Language::Python => Language::Javascript,
        }
    }

    /// The runtime the language runs on, which is what claims about speed are about.
    pub fn runtime(self) -> &'static str {
        match self {
            Language::Javascript => "Node",
            Language::Python => "Python",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn javascript_and_typescript_are_node_python_is_python_others_neither() {
        assert_eq!(Language::parse("JavaScript"), Some(Language::Javascript));
        assert_eq!(Language::parse("TypeScript"), Some(Language::Javascript));
        assert_eq!(Language::parse("typescript"), Some(Language::Javascript));
        assert_eq!(Language::parse("Python"), Some(Language::Python));
        assert_eq!(Language::parse(" PYTHON "), Some(Language::Python));
        assert_eq!(Language::parse("Rust"), None);
        assert_eq!(Language::parse("Go"), None);
        assert_eq!(Language::parse(""), None);
        assert_eq!(Language::Javascript.runtime(), "Node");
        assert_eq!(Language::Javascript.name(), "JavaScript");
        assert_eq!(Language::Python.runtime(), "Python");
    }
}
