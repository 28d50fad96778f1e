//! `stackwise runs`, `show` and `compare`: the run history read back.
//!
//! The store is `stackwise_history`, kept in `<results-dir>/history.sqlite`; these commands only
//! read it and never create it. A run is named by its id, the start of one, `latest`, or the
//! path of a results.json (or of its folder), so a result mailed around can be shown or
//! compared without a history.

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use stackwise_history::compare::{Change, Comparison};
use stackwise_history::{default_path, History, RunRow};
use stackwise_results::fmt::{aligned, ms, rate};
use stackwise_results::RunResult;

use crate::cli::{CompareArgs, RunsArgs, ShowArgs};
use crate::export::run::render;
use crate::settings::history::{compare_settings, runs_settings, show_settings, RunChoice};
use crate::usage;

pub fn runs(args: &RunsArgs) -> anyhow::Result<ExitCode> {
    let settings = runs_settings(args)?;
    let path = default_path(&settings.results_dir);
    let rows = match open_existing(&path)? {
        Some(history) => history
            .list()
            .with_context(|| format!("cannot read '{}'", path.display()))?,
        None => Vec::new(),
    };
    if rows.is_empty() {
        println!(
            "no runs yet in '{}' (`stackwise run` records every run there)",
            path.display()
        );
    } else {
        print!("{}", runs_table(&rows));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: &ShowArgs) -> anyhow::Result<ExitCode> {
    let settings = show_settings(args)?;
    let result = read_run(&settings.run)?;
    print!("{}", render(&result, settings.format));
    Ok(ExitCode::SUCCESS)
}

pub fn compare(args: &CompareArgs) -> anyhow::Result<ExitCode> {
    let settings = compare_settings(args)?;
    let a = read_run(&settings.a)?;
    let b = read_run(&settings.b)?;
    let comparison = stackwise_history::compare::compare(&a, &b);
    print!("{}", comparison_text(&comparison, &a, &b));
    Ok(ExitCode::SUCCESS)
}

/// The history at `path`, or `None` when there is none yet: reading must not create it.
fn open_existing(path: &Path) -> anyhow::Result<Option<History>> {
    if !path.exists() {
        return Ok(None);
    }
    Ok(Some(History::open(path)?))
}

/// The run `choice` names.
pub(crate) fn read_run(choice: &RunChoice) -> anyhow::Result<RunResult> {
    load_run(&choice.query, &choice.results_dir)
}

/// The run `query` names, or, when the user named none (`named` false) and it cannot be read,
/// the bundled reference results, said on stderr as `doing` them: the stand-in before a user's
/// first run. The flag says which it is.
pub(crate) fn run_or_reference(
    query: &str,
    results_dir: &Path,
    named: bool,
    doing: &str,
) -> anyhow::Result<(RunResult, bool)> {
    match load_run(query, results_dir) {
        Ok(run) => Ok((run, false)),
        Err(e) if !named => {
            eprintln!(
                "no run of yours yet ({e:#}): {doing} the bundled reference results; `stackwise \
                 run` measures this machine"
            );
            Ok((stackwise_advisor::reference::results(), true))
        }
        Err(e) => Err(e),
    }
}

/// The run `query` names: a results.json or its folder, a run folder under `results_dir`, or
/// a run in the history.
pub(crate) fn load_run(query: &str, results_dir: &Path) -> anyhow::Result<RunResult> {
    let given = Path::new(query);
    let candidates: [PathBuf; 3] = [
        given.to_path_buf(),
        given.join("results.json"),
        results_dir.join(query).join("results.json"),
    ];
    if let Some(file) = candidates.iter().find(|p| p.is_file()) {
        return RunResult::load(file).map_err(usage);
    }
    let path = default_path(results_dir);
    let Some(history) = open_existing(&path)? else {
        return Err(usage(format!(
            "no run '{query}': there is no run history at '{}' yet",
            path.display()
        )));
    };
    history.get(query).map_err(|e| match e {
        stackwise_history::Error::UnknownRun(_) => usage(format!("{e} at '{}'", path.display())),
        stackwise_history::Error::Empty => usage(format!("no runs yet in '{}'", path.display())),
        stackwise_history::Error::Ambiguous(..) => usage(e.to_string()),
        e => anyhow::Error::new(e).context(format!("cannot read '{}'", path.display())),
    })
}

/// An RFC 3339 UTC time as `2026-11-22 18:41:31`.
fn time(rfc3339: &str) -> String {
    rfc3339.replace('T', " ").trim_end_matches('Z').to_string()
}

fn host(cpu_model: &str, cores: u64, kernel: &str) -> String {
    format!("{cpu_model}, {cores} cores, {kernel}")
}

fn mode(quick: bool) -> &'static str {
    if quick {
        "quick"
    } else {
        "full"
    }
}

/// The runs as a table, in the order given.
pub fn runs_table(rows: &[RunRow]) -> String {
    aligned(&run_rows(rows.iter().map(|r| (None, r))), "")
}

/// A header and one row per run, each after its label when it has one.
fn run_rows<'a>(runs: impl Iterator<Item = (Option<&'a str>, &'a RunRow)>) -> Vec<Vec<String>> {
    let header = [
        "id",
        "started (UTC)",
        "finished (UTC)",
        "run",
        "stacks×scenarios",
        "measured",
        "host",
    ];
    let mut table = vec![header.map(String::from).to_vec()];
    let mut labelled = false;
    for (label, r) in runs {
        let mut row = Vec::new();
        if let Some(label) = label {
            labelled = true;
            row.push(label.to_string());
        }
        row.extend([
            r.id.clone(),
            time(&r.started_at),
            r.finished_at
                .as_deref()
                .map_or("interrupted".to_string(), time),
            mode(r.quick).to_string(),
            format!("{}×{}", r.stacks.len(), r.scenarios.len()),
            format!("{}/{}", r.measured, r.planned()),
            host(&r.cpu_model, r.cores, &r.kernel),
        ]);
        table.push(row);
    }
    if labelled {
        table[0].insert(0, String::new());
    }
    table
}

/// Pairs of values as `A → B`, each side right-aligned to the widest of its column.
fn pairs(values: Vec<(String, String)>) -> Vec<String> {
    let wa = values.iter().map(|(a, _)| a.chars().count()).max();
    let wb = values.iter().map(|(_, b)| b.chars().count()).max();
    let (wa, wb) = (wa.unwrap_or(0), wb.unwrap_or(0));
    values
        .into_iter()
        .map(|(a, b)| format!("{a:>wa$} → {b:>wb$}"))
        .collect()
}

fn spread_pair(c: &Change, errors: (bool, bool), fmt: impl Fn(f64) -> String) -> (String, String) {
    let side = |s: Option<stackwise_results::summary::Spread>, error: bool| match (error, s) {
        (true, _) => "error".to_string(),
        (false, Some(s)) => fmt(s.median),
        (false, None) => "invalid".to_string(),
    };
    (side(c.a, errors.0), side(c.b, errors.1))
}

/// A comparison as plain aligned text: the runs, what differs, the figures, what one side lacks.
pub fn comparison_text(c: &Comparison, a: &RunResult, b: &RunResult) -> String {
    let mut out = String::new();
    let (row_a, row_b) = (RunRow::of(a), RunRow::of(b));
    out.push_str(&aligned(
        &run_rows([(Some("A"), &row_a), (Some("B"), &row_b)].into_iter()),
        "",
    ));
    out.push('\n');
    if c.differences.is_empty() {
        let _ = writeln!(out, "Same host, versions and settings.");
    } else {
        let _ = writeln!(out, "Differences (A → B)");
        let wa = c.differences.iter().map(|d| d.a.chars().count()).max();
        let wa = wa.unwrap_or(0);
        let rows: Vec<Vec<String>> = c
            .differences
            .iter()
            .map(|d| vec![format!("  {}", d.what), format!("{:>wa$} → {}", d.a, d.b)])
            .collect();
        out.push_str(&aligned(&rows, ""));
    }
    out.push('\n');
    if c.cells.is_empty() {
        let _ = writeln!(out, "No stack and scenario measured in both runs.");
    } else {
        let errors =
            |x: &stackwise_history::compare::CellChange| (x.error_a.is_some(), x.error_b.is_some());
        let per_core = pairs(
            c.cells
                .iter()
                .map(|x| spread_pair(&x.per_core, errors(x), rate))
                .collect(),
        );
        let p99 = pairs(
            c.cells
                .iter()
                .map(|x| spread_pair(&x.p99_ms, errors(x), ms))
                .collect(),
        );
        let capacity = pairs(
            c.cells
                .iter()
                .map(|x| {
                    let side = |v: Option<f64>| v.map_or("-".to_string(), rate);
                    (side(x.capacity_per_core.0), side(x.capacity_per_core.1))
                })
                .collect(),
        );
        let mut rows = vec![[
            "stack",
            "scenario",
            "req/s per core A → B",
            "change",
            "p99 ms A → B",
            "capacity per core A → B",
        ]
        .map(String::from)
        .to_vec()];
        for (i, x) in c.cells.iter().enumerate() {
            let change = match (x.per_core.percent(), x.per_core.within_noise()) {
                (Some(p), Some(true)) => format!("{p:>+7.1}% within noise"),
                (Some(p), _) => format!("{p:>+7.1}%"),
                (None, _) => String::new(),
            };
            rows.push(vec![
                x.stack.clone(),
                x.scenario.clone(),
                per_core[i].clone(),
                change,
                p99[i].clone(),
                capacity[i].clone(),
            ]);
        }
        out.push_str(&aligned(&rows, ""));
    }
    for (side, id, only) in [("A", &c.a, &c.only_a), ("B", &c.b, &c.only_b)] {
        if !only.is_empty() {
            let list: Vec<String> = only.iter().map(ToString::to_string).collect();
            let _ = writeln!(out, "\nOnly in {side} ({id}): {}", list.join(", "));
        }
    }
    out
}
