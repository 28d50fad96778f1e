//! Lines of code of a stack's implementation: the non-blank lines of the files its manifest
//! names in `sources` that hold more than a comment.
//!
//! Comments are known by the file's extension (`//` and `/* */` in JavaScript, `#` in Python,
//! `<!-- -->` and `{# #}` in templates, ...); a file of another kind counts every non-blank
//! line. Quoted strings are skipped while looking for comments, so `"http://"` is code; in
//! markup an apostrophe is text, so there nothing is taken for a string.

use std::path::Path;

use crate::manifest::Stack;

/// The comment syntax of one kind of file.
struct Syntax {
    /// Markers that comment out the rest of the line.
    line: &'static [&'static str],
    /// Opening and closing markers of comments that may span lines.
    block: &'static [(&'static str, &'static str)],
    /// Characters that open and close a string on one line.
    quotes: &'static [char],
    /// Markers of strings that may span lines (Python's triple quotes, JavaScript's template
    /// literals), closed by the same marker.
    long_strings: &'static [&'static str],
}

const C_LIKE: Syntax = Syntax {
    line: &["//"],
    block: &[("/*", "*/")],
    quotes: &['"', '\''],
    long_strings: &["`"],
};
const RUST: Syntax = Syntax {
    line: &["//"],
    block: &[("/*", "*/")],
    quotes: &['"'],
    long_strings: &[],
};
const HASH: Syntax = Syntax {
    line: &["#"],
    block: &[],
    quotes: &['"', '\''],
    long_strings: &[],
};
const PYTHON: Syntax = Syntax {
    line: &["#"],
    block: &[],
    quotes: &['"', '\''],
    long_strings: &["\"\"\"", "'''"],
};
const SQL: Syntax = Syntax {
    line: &["--"],
    block: &[("/*", "*/")],
    quotes: &['\''],
    long_strings: &[],
};
const CSS: Syntax = Syntax {
    line: &[],
    block: &[("/*", "*/")],
    quotes: &['"', '\''],
    long_strings: &[],
};
/// HTML and the template languages written in it: EJS (`<%# %>`), Jinja2 and Django (`{# #}`),
/// Handlebars (`{{!-- --}}`, `{{! }}`).
const MARKUP: Syntax = Syntax {
    line: &[],
    block: &[
        ("<!--", "-->"),
        ("<%#", "%>"),
        ("{#", "#}"),
        ("{{!--", "--}}"),
        ("{{!", "}}"),
    ],
    quotes: &[],
    long_strings: &[],
};
/// A kind of file whose comments are not known: every non-blank line counts.
const PLAIN: Syntax = Syntax {
    line: &[],
    block: &[],
    quotes: &[],
    long_strings: &[],
};

fn syntax(path: &Path) -> &'static Syntax {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" | "java" | "kt" | "go"
        | "c" | "h" | "cc" | "cpp" | "hpp" | "cs" | "swift" | "scss" => &C_LIKE,
        "rs" => &RUST,
        "py" | "pyi" => &PYTHON,
        "rb" | "sh" | "bash" | "toml" | "yaml" | "yml" | "cfg" | "ini" | "conf" => &HASH,
        "sql" => &SQL,
        "css" => &CSS,
        "html" | "htm" | "ejs" | "hbs" | "handlebars" | "jinja" | "jinja2" | "j2" | "njk"
        | "xml" | "svg" | "vue" | "svelte" => &MARKUP,
        _ => &PLAIN,
    }
}

/// Lines of code in the files `stack`'s manifest names in `sources`; 0 when it names none.
pub fn lines_of_code(stack: &Stack) -> u64 {
    let Ok(files) = stack.sources() else {
        return 0;
    };
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            count(&text, syntax(path))
        })
        .sum()
}

/// Where the scan is.
enum State {
    Code,
    /// In a comment that ends with this marker.
    Comment(&'static str),
    /// In a string that ends with this quote or with its line.
    Quote(char),
    /// In a string that ends with this marker, on this line or a later one.
    Long(&'static str),
}

/// Non-blank lines of `text` that hold something besides comments.
fn count(text: &str, syntax: &Syntax) -> u64 {
    let mut state = State::Code;
    let mut lines = 0;
    for line in text.lines() {
        if matches!(state, State::Quote(_)) {
            state = State::Code;
        }
        let mut code = matches!(state, State::Long(_)) && !line.trim().is_empty();
        let mut rest = line;
        while !rest.is_empty() {
            match state {
                State::Comment(end) => match rest.find(end) {
                    Some(at) => {
                        rest = &rest[at + end.len()..];
                        state = State::Code;
                    }
                    None => rest = "",
                },
                State::Quote(end) => match closing(rest, &end.to_string()) {
                    Some(at) => {
                        rest = &rest[at + end.len_utf8()..];
                        state = State::Code;
                    }
                    None => rest = "",
                },
                State::Long(end) => match closing(rest, end) {
                    Some(at) => {
                        rest = &rest[at + end.len()..];
                        state = State::Code;
                    }
                    None => rest = "",
                },
                State::Code => {
                    let trimmed = rest.trim_start();
                    if trimmed.is_empty() {
                        break;
                    }
                    rest = trimmed;
                    if syntax.line.iter().any(|m| rest.starts_with(m)) {
                        break;
                    }
                    if let Some((open, close)) =
                        syntax.block.iter().find(|(open, _)| rest.starts_with(open))
                    {
                        rest = &rest[open.len()..];
                        state = State::Comment(close);
                        continue;
                    }
                    code = true;
                    if let Some(open) = syntax.long_strings.iter().find(|m| rest.starts_with(*m)) {
                        rest = &rest[open.len()..];
                        state = State::Long(open);
                        continue;
                    }
                    let mut chars = rest.chars();
                    let c = chars.next().unwrap_or(' ');
                    if syntax.quotes.contains(&c) {
                        state = State::Quote(c);
                    }
                    rest = chars.as_str();
                }
            }
        }
        if code {
            lines += 1;
        }
    }
    lines
}

/// Where `end` closes a string in `rest`, a backslash escaping the character after it.
fn closing(rest: &str, end: &str) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in rest.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if rest[at..].starts_with(end) {
            return Some(at);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_blank_lines_are_not_code() {
        let js = "// a comment\n\nconst a = 1; // trailing\n/* one\n   two */\n\
                  const url = \"http://x\"; /* starts\n ends */ f();\n`multi\n// in a template\n`;\n";
        // const a, const url, f(), `multi, the line in the template, `;
        assert_eq!(count(js, &C_LIKE), 6);
        let py = "# comment\nimport x\n\"\"\"Doc\n# not a comment\n\"\"\"\ns = 'it''s # no'\n";
        assert_eq!(count(py, &PYTHON), 5);
        let html = "<!-- header\n-->\n<p>it's</p>\n{# note #}\n<%# ejs %>\n{{ x }}\n";
        assert_eq!(count(html, &MARKUP), 2);
        assert_eq!(count("a\n\n# b\n// c\n", &PLAIN), 3);
    }

    #[test]
    fn counts_exactly_the_named_sources() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("demo");
        std::fs::create_dir_all(dir.join("views/partials")).unwrap();
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("server.js"), "// start\nrun();\n\nstop();\n").unwrap();
        std::fs::write(dir.join("helper.js"), "help();\n").unwrap();
        std::fs::write(dir.join("views/page.ejs"), "<%# title %>\n<h1>x</h1>\n").unwrap();
        std::fs::write(dir.join("views/partials/row.ejs"), "<tr></tr>\n").unwrap();
        std::fs::write(dir.join("lib/a.py"), "# a\nA = 1\n").unwrap();
        std::fs::write(dir.join("lib/b.py"), "B = 2\nC = 3\n").unwrap();
        std::fs::write(dir.join("package.json"), "{\n}\n").unwrap();
        let manifest = |sources: &str| {
            format!(
                r#"id = "demo"
name = "Demo"
language = "JavaScript"
runtime = "node"
framework = "none"
framework_version = "1"
database = "none"
templates = "none"
http_client = "none"
workers = "1"
workers_rule = "one"
health = "/"
inputs = ["package.json"]
sources = {sources}
install = []
start = ["node", "server.js"]
"#
            )
        };
        let loc = |sources: &str| {
            std::fs::write(dir.join("stack.toml"), manifest(sources)).unwrap();
            lines_of_code(&Stack::load(&dir).unwrap())
        };
        assert_eq!(loc(r#"["server.js"]"#), 2);
        // A folder stands for every file below it.
        assert_eq!(loc(r#"["server.js", "views"]"#), 4);
        assert_eq!(loc(r#"["*.js"]"#), 3);
        assert_eq!(loc(r#"["**/*.py"]"#), 3);
        assert_eq!(loc(r#"["lib/?.py", "views/*"]"#), 5);
        assert_eq!(loc("[]"), 0);
        // A source that names nothing is a mistake, said at load.
        std::fs::write(dir.join("stack.toml"), manifest(r#"["server.jss"]"#)).unwrap();
        let err = Stack::load(&dir).unwrap_err().to_string();
        assert!(err.contains("source 'server.jss' matches no file"), "{err}");
        std::fs::write(dir.join("stack.toml"), manifest(r#"["../x"]"#)).unwrap();
        let err = Stack::load(&dir).unwrap_err().to_string();
        assert!(err.contains("inside the stack's folder"), "{err}");
    }
}
