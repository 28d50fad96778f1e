//! `stackwise report`: one self-contained HTML file of a run, written beside its results.json
//! so the run's folder holds everything to mail around.
//!
//! The run is named as `stackwise show` names it; the page itself is
//! [`stackwise_html::render`]'s, with the claims checked against the run and, given a
//! profile, the recommendation.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use stackwise_html::{markdown_fragment, render, Extras};
use stackwise_results::RunResult;

use crate::cli::ReportArgs;
use crate::history::load_run;
use crate::settings::advise::report_settings;

pub fn html_report(args: &ReportArgs) -> anyhow::Result<ExitCode> {
    let settings = report_settings(args);
    let result = load_run(&settings.run, &settings.results_dir)?;
    let path = match &settings.output {
        Some(file) => file.clone(),
        None => run_dir(&settings.run, &settings.results_dir, &result).join("report.html"),
    };
    let recommendation = match &settings.profile {
        Some(file) => Some(crate::advise::advice_for(file, &result)?),
        None => None,
    };
    let extras = extras(&result, recommendation.as_ref());
    std::fs::write(&path, render(&result, &extras)).with_context(|| {
        format!(
            "cannot write the report to '{}' (-o FILE writes it elsewhere)",
            path.display()
        )
    })?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The sections other parts of stackwise fill: the claims check always, the recommendation
/// when there is advice.
pub fn extras(result: &RunResult, advice: Option<&stackwise_advisor::advise::Advice>) -> Extras {
    let claims = stackwise_advisor::claims::check(result);
    Extras {
        claims_html: Some(markdown_fragment(
            &stackwise_advisor::claims::render_markdown(&claims),
        )),
        recommendation_html: advice
            .map(|a| markdown_fragment(&stackwise_advisor::advise::render::markdown(a))),
    }
}

/// The folder of the run `query` named, in the order `load_run` looks: the folder of a given
/// results.json, a given run folder, a run folder under `results_dir`, else the folder
/// `stackwise run` gave the run (the history keeps runs whose folder may be gone).
fn run_dir(query: &str, results_dir: &Path, result: &RunResult) -> PathBuf {
    let given = Path::new(query);
    if given.is_file() {
        return match given.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
    if given.join("results.json").is_file() {
        return given.to_path_buf();
    }
    let named = results_dir.join(query);
    if named.join("results.json").is_file() {
        return named;
    }
    results_dir.join(&result.id)
}
