//! The run as GitHub Markdown: the terminal table's content for a pull request, an issue or the
//! evidence section of an ADR. Tables render on GitHub and stay legible as plain text.

use std::fmt::Write;

use super::blocks::{Align, Block, Grid};

pub(super) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        if !out.is_empty() {
            out.push('\n');
        }
        match block {
            Block::Banner(text) => {
                let _ = writeln!(out, "> **{}**", inline(text));
            }
            Block::Title(text) => {
                let _ = writeln!(out, "## {}", inline(text));
            }
            Block::Facts(facts) => {
                for (label, value) in facts {
                    let _ = writeln!(out, "- **{}**: {}", inline(label), inline(value));
                }
            }
            Block::Heading(text) => {
                let _ = writeln!(out, "### {}", inline(text));
            }
            Block::Caption(text) => {
                let _ = writeln!(out, "_{}_", inline(text));
            }
            Block::Grid(grid) => grid_text(&mut out, grid),
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", inline(item));
                }
            }
        }
    }
    out
}

fn grid_text(out: &mut String, g: &Grid) {
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        format!("| {} |", cells.join(" | "))
    };
    let _ = writeln!(out, "{}", row(&g.head));
    let rule: Vec<&str> = (0..g.head.len())
        .map(|i| match g.align.get(i) {
            Some(Align::Right) => "--:",
            _ => ":--",
        })
        .collect();
    let _ = writeln!(out, "|{}|", rule.join("|"));
    for r in &g.rows {
        let mut cells: Vec<String> = r.cells.iter().map(|c| cell(c)).collect();
        if let Some(first) = cells.first_mut() {
            if r.sub {
                *first = format!("_{first}_");
            }
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
}

/// Text inside a table cell: a `|` would end the cell, a newline the row.
fn cell(text: &str) -> String {
    inline(text).replace('|', "\\|")
}

/// Text on one line, with what Markdown would read as markup made literal. Left alone where
/// GitHub reads it literally anyway, so the source stays legible: `a > b`, `<1,234`, `snake_case`.
fn inline(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let after = chars.get(i + 1).copied();
        let escape = match c {
            '\\' | '`' | '*' | '[' | ']' => true,
            // Emphasis only opens or closes at a word boundary.
            '_' => {
                !(before.is_some_and(char::is_alphanumeric)
                    && after.is_some_and(char::is_alphanumeric))
            }
            // An HTML tag, comment or declaration.
            '<' => after.is_some_and(|a| a.is_ascii_alphabetic() || "/!?".contains(a)),
            _ => false,
        };
        match c {
            '\n' | '\r' => out.push(' '),
            _ if escape => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_made_literal_and_pipes_stay_in_their_cell() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(inline("fastapi_orm > django"), "fastapi_orm > django");
        assert_eq!(
            inline("_x_ *y* [z] <b> <1,234"),
            "\\_x\\_ \\*y\\* \\[z\\] \\<b> <1,234"
        );
        assert_eq!(inline("one\ntwo"), "one two");
    }
}
