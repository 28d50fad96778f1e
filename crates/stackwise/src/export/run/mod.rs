//! The outputs of a whole run ([`RunResult`]): the comparison a person reads at the end of
//! `stackwise run`, and the same figures for other tools. `results.json` stays the raw record;
//! these are what it means.
//!
//! # Layout
//!
//! - [`blocks`]: what the two human formats say, built once as blocks of text and grids, so the
//!   terminal table and Markdown cannot drift apart.
//! - [`table`]: those blocks as aligned plain text for a terminal.
//! - [`markdown`]: those blocks as GitHub Markdown, for a pull request, an issue or an ADR.
//! - [`csv`]: one tidy row per stack × scenario, for a spreadsheet or a notebook.
//! - [`json`]: a summary document for scripts.
//!
//! Every figure comes from [`stackwise_results::summary`], so all four agree with each other and
//! with the advisor.

mod blocks;
mod csv;
mod json;
mod markdown;
mod table;

use std::fmt;
use std::str::FromStr;

use stackwise_results::summary::{self, Cell, Ranking, Spread};
use stackwise_results::{RunResult, StackResult};

pub use json::SUMMARY_SCHEMA_VERSION;

/// Said by every format of a quick run, and by the human formats of an unfinished one.
pub use stackwise_results::fmt::{QUICK_BANNER, UNFINISHED_BANNER};

/// An output format of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RunFormat {
    /// Aligned plain text for a terminal.
    Table,
    /// GitHub Markdown.
    #[value(alias = "md")]
    Markdown,
    /// One row per stack × scenario.
    Csv,
    /// A summary document.
    Json,
}

impl RunFormat {
    pub const ALL: [RunFormat; 4] = [
        RunFormat::Table,
        RunFormat::Markdown,
        RunFormat::Csv,
        RunFormat::Json,
    ];

    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            RunFormat::Table => "table",
            RunFormat::Markdown => "markdown",
            RunFormat::Csv => "csv",
            RunFormat::Json => "json",
        }
    }
}

impl fmt::Display for RunFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`RunFormat`]'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown format '{}': expected table, markdown (or md), csv or json",
            self.0
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for RunFormat {
    type Err = UnknownFormat;

    /// The spellings the command line accepts, aliases included, in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        <RunFormat as clap::ValueEnum>::from_str(s, true).map_err(|_| UnknownFormat(s.to_string()))
    }
}

/// The run in `format`, ending with a newline.
pub fn render(r: &RunResult, format: RunFormat) -> String {
    let view = View::new(r);
    match format {
        RunFormat::Table => table::render(&blocks::build(&view)),
        RunFormat::Markdown => markdown::render(&blocks::build(&view)),
        RunFormat::Csv => csv::render(&view),
        RunFormat::Json => json::render(&view),
    }
}

/// A run with its summary computed once, for every format to read.
struct View<'a> {
    r: &'a RunResult,
    cells: Vec<Cell>,
    /// Server cores, the divisor of every per-core figure.
    cores: f64,
}

/// One stack × planned scenario, measured or not: CSV and JSON list every one, so a missing
/// measurement is visible rather than absent.
struct Entry<'a> {
    stack: &'a StackResult,
    scenario: &'a str,
    cell: Option<&'a Cell>,
    /// Why there is no figure: the cell's error, else the stack's, else "not run".
    error: Option<&'a str>,
}

impl<'a> View<'a> {
    fn new(r: &'a RunResult) -> View<'a> {
        View {
            r,
            cells: summary::cells(r),
            cores: r.settings.server_cpus.len().max(1) as f64,
        }
    }

    fn cell(&self, stack: &str, scenario: &str) -> Option<&Cell> {
        summary::find(&self.cells, stack, scenario)
    }

    fn entries(&self) -> Vec<Entry<'_>> {
        let mut out = Vec::new();
        for stack in &self.r.stacks {
            for scenario in &self.r.settings.scenarios {
                let cell = self.cell(&stack.id, scenario);
                let error = match cell {
                    Some(c) => c.error.as_deref(),
                    None => stack.error.as_deref().or(Some("not run")),
                };
                out.push(Entry {
                    stack,
                    scenario,
                    cell,
                    error,
                });
            }
        }
        out
    }

    /// One ranking per planned scenario, in planned order.
    fn rankings(&self) -> Vec<Ranking> {
        self.r
            .settings
            .scenarios
            .iter()
            .map(|s| summary::ranking(&self.cells, s))
            .collect()
    }

    /// Highest peak PSS of a stack over its scenarios.
    fn peak_pss(&self, stack: &str) -> Option<u64> {
        self.cells
            .iter()
            .filter(|c| c.stack == stack)
            .filter_map(|c| c.pss_peak_bytes)
            .max()
    }

    /// What a reader must know besides the figures: the banners, then errors, invalid trials
    /// and disturbed measurements, one line each.
    fn notes(&self) -> Vec<String> {
        let r = self.r;
        let mut out = Vec::new();
        if r.quick {
            out.push(QUICK_BANNER.to_string());
        }
        if r.finished_at.is_none() {
            out.push(UNFINISHED_BANNER.to_string());
        }
        out.extend(summary::notes(r, &self.cells));
        out
    }
}

/// The median of a stack's start-up times, in seconds.
fn startup_median(stack: &StackResult) -> Option<f64> {
    Spread::of(&stack.startup_s).map(|s| s.median)
}

/// `x` rounded to `places` decimals, for machine formats that need not carry float noise.
fn round(x: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (x * k).round() / k
}
