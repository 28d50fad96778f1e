//! `stackwise claims`: the guides' claims about Node.js and Python checked against one run.
//!
//! The run is named as `stackwise show` names it; the checks and their rendering are
//! [`stackwise_advisor::claims`]'s, so this command, the HTML report and the advisor say the
//! same thing. This module only adds a line naming the run and machine, since a verdict is
//! about the machine that measured.

use std::process::ExitCode;

use stackwise_advisor::claims::{check, render_markdown, render_table};
use stackwise_results::RunResult;

use crate::cli::ClaimsArgs;
use crate::history::load_run;
use crate::usage;

/// How the checks are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsFormat {
    Table,
    Markdown,
}

impl std::str::FromStr for ClaimsFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(ClaimsFormat::Table),
            "markdown" | "md" => Ok(ClaimsFormat::Markdown),
            other => Err(format!(
                "unknown format '{other}': expected table or markdown"
            )),
        }
    }
}

pub fn claims(args: &ClaimsArgs) -> anyhow::Result<ExitCode> {
    let format: ClaimsFormat = args.format.parse().map_err(usage)?;
    let result = load_run(&args.run, &args.results_dir)?;
    print!("{}", render(&result, format));
    Ok(ExitCode::SUCCESS)
}

/// The checks of `r` with a line naming the run and what it ran on.
pub fn render(r: &RunResult, format: ClaimsFormat) -> String {
    let checks = check(r);
    let server = r.settings.server_cpus.len().max(1);
    let cores = if server == 1 { "core" } else { "cores" };
    let on = format!(
        "{}, {server} server {cores} of {}{}",
        r.host.cpu_model,
        r.host.cores,
        if r.quick { ", quick run" } else { "" }
    );
    match format {
        ClaimsFormat::Table => format!("Run {} ({on})\n\n{}", r.id, render_table(&checks)),
        ClaimsFormat::Markdown => format!(
            "# Claims checked against run {}\n\n{on}.\n\n{}",
            r.id,
            render_markdown(&checks)
        ),
    }
}
