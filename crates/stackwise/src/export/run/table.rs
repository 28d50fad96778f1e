//! The run as aligned plain text, printed at the end of `stackwise run`: what a tech lead reads
//! first. No colour and no escape codes, so it survives a log file, a pipe and a paste.

use std::fmt::Write;

use super::blocks::{Align, Block, Grid};

/// Facts are labelled in a column this wide.
const LABEL: usize = 10;

pub(super) fn render(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (i, block) in blocks.iter().enumerate() {
        match block {
            Block::Banner(text) => {
                if i > 0 {
                    out.push('\n');
                }
                let _ = writeln!(out, "*** {text} ***");
                if i == 0 {
                    out.push('\n');
                }
            }
            Block::Title(text) => {
                let _ = writeln!(out, "{text}");
            }
            Block::Facts(facts) => {
                for (label, value) in facts {
                    let _ = writeln!(out, "  {label:<LABEL$}{value}");
                }
            }
            Block::Heading(text) => {
                let _ = writeln!(out, "\n{text}");
            }
            Block::Caption(text) => {
                let _ = writeln!(out, "  ({text})");
            }
            Block::Grid(grid) => grid_text(&mut out, grid),
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "  {item}");
                }
            }
        }
    }
    out
}

/// Columns two spaces apart, each as wide as its widest text; detail rows indented.
fn grid_text(out: &mut String, g: &Grid) {
    let label = |row_sub: bool, text: &str| {
        if row_sub {
            format!("  {text}")
        } else {
            text.to_string()
        }
    };
    let mut widths: Vec<usize> = g.head.iter().map(|h| h.chars().count()).collect();
    for row in &g.rows {
        for (i, cell) in row.cells.iter().enumerate() {
            let len = if i == 0 {
                label(row.sub, cell).chars().count()
            } else {
                cell.chars().count()
            };
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(len);
            }
        }
    }
    let mut line = |cells: Vec<String>| {
        let mut text = String::from("  ");
        for (i, cell) in cells.iter().enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            if i > 0 {
                text.push_str("  ");
            }
            match g.align.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => {
                    let _ = write!(text, "{cell:<w$}");
                }
                Align::Right => {
                    let _ = write!(text, "{cell:>w$}");
                }
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(g.head.clone());
    for row in &g.rows {
        let mut cells = row.cells.clone();
        if let Some(first) = cells.first_mut() {
            *first = label(row.sub, first);
        }
        line(cells);
    }
}
