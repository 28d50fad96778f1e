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
pub use crate::cli::ClaimsFormat;
use crate::history::run_or_reference;
use crate::settings::history::claims_settings;

pub fn claims(args: &ClaimsArgs) -> anyhow::Result<ExitCode> {
    let settings = claims_settings(args)?;
    // Before the user's first run, the bundled reference results stand in, as for `advise`.
    let (result, _) = run_or_reference(
        &settings.run.query,
        &settings.run.results_dir,
        settings.named,
        "checking",
    )?;
    print!("{}", render(&result, settings.format));
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
