//! The store on a real SQLite file in a temporary folder: what goes in comes back, records
//! replace, runs list newest first, and ids resolve by prefix or `latest`.

#![allow(clippy::unwrap_used)]

mod support;

use rusqlite::Connection;
use stackwise_history::{Error, History};
use tempfile::TempDir;

fn store() -> (TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = stackwise_history::default_path(&dir.path().join("results"));
    (dir, path)
}

#[test]
fn a_recorded_run_comes_back_whole() {
    let (_dir, path) = store();
    let mut history = History::open(&path).unwrap();
    let run = support::fixture();
    history.record(&run).unwrap();
    assert_eq!(history.get(&run.id).unwrap(), run);

    let rows = history.list().unwrap();
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, run.id);
    assert_eq!(row.started_at, run.started_at);
    assert_eq!(row.finished_at, run.finished_at);
    assert_eq!(row.cpu_model, "AMD EPYC");
    assert_eq!(row.cores, 2);
    assert_eq!(row.stacks, run.settings.stacks);
    assert_eq!(row.scenarios, run.settings.scenarios);
    let planned = (run.stacks.len() * run.settings.scenarios.len()) as u64;
    assert_eq!((row.measured, row.planned()), (planned, planned));
    assert_eq!(*row, stackwise_history::RunRow::of(&run));
}

#[test]
fn the_cells_table_answers_plain_sql() {
    let (_dir, path) = store();
    let run = support::fixture();
    History::open(&path).unwrap().record(&run).unwrap();

    let cells = stackwise_results::summary::cells(&run);
    let express_json = stackwise_results::summary::find(&cells, "express", "json").unwrap();
    let conn = Connection::open(&path).unwrap();
    let (n, per_core, capacity): (i64, f64, f64) = conn
        .query_row(
            "SELECT (SELECT count(*) FROM cells), per_core_median, capacity_rps FROM cells
             WHERE run_id = ?1 AND stack = 'express' AND scenario = 'json'",
            [&run.id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(n as usize, run.stacks.len() * run.settings.scenarios.len());
    assert_eq!(per_core, express_json.per_core.unwrap().median);
    assert_eq!(capacity, express_json.capacity_rps.unwrap());
}

#[test]
fn recording_again_replaces_the_run_and_its_cells() {
    let (_dir, path) = store();
    let mut history = History::open(&path).unwrap();
    // As `stackwise run` records it: after its first scenarios, unfinished, then complete.
    let mut partial = support::fixture();
    partial.finished_at = None;
    for stack in &mut partial.stacks {
        stack.scenarios.truncate(1);
    }
    history.record(&partial).unwrap();
    let rows = history.list().unwrap();
    let stacks = partial.stacks.len() as u64;
    assert_eq!(
        (rows[0].measured, rows[0].finished_at.clone()),
        (stacks, None)
    );
    assert_eq!(rows[0], stackwise_history::RunRow::of(&partial));

    let full = support::fixture();
    history.record(&full).unwrap();
    history.record(&full).unwrap();
    let rows = history.list().unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].measured as usize,
        full.stacks.len() * full.settings.scenarios.len()
    );
    assert_eq!(rows[0].finished_at, full.finished_at);
    assert_eq!(history.get(&full.id).unwrap(), full);
}

#[test]
fn runs_list_newest_first() {
    let (_dir, path) = store();
    let mut history = History::open(&path).unwrap();
    for (id, started) in [
        ("20261122-184129", "2026-11-22T18:41:31Z"),
        ("20261124-080000", "2026-11-24T08:00:00Z"),
        ("20261123-120000", "2026-11-23T12:00:00Z"),
    ] {
        history.record(&support::run(id, started)).unwrap();
    }
    let ids: Vec<String> = history.list().unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!(
        ids,
        ["20261124-080000", "20261123-120000", "20261122-184129"]
    );
}

#[test]
fn runs_are_found_by_id_prefix_or_latest() {
    let (_dir, path) = store();
    let mut history = History::open(&path).unwrap();
    assert!(matches!(history.get("latest"), Err(Error::Empty)));
    for (id, started) in [
        ("20261122-184129", "2026-11-22T18:41:31Z"),
        ("20261122-190000", "2026-11-22T19:00:00Z"),
        ("20261123-120000", "2026-11-23T12:00:00Z"),
    ] {
        history.record(&support::run(id, started)).unwrap();
    }
    assert_eq!(
        history.get("20261122-184129").unwrap().id,
        "20261122-184129"
    );
    assert_eq!(history.get("20261122-18").unwrap().id, "20261122-184129");
    assert_eq!(history.get("20261123").unwrap().id, "20261123-120000");
    assert_eq!(history.get("latest").unwrap().id, "20261123-120000");

    let err = history.get("20261122").unwrap_err();
    assert!(matches!(err, Error::Ambiguous(..)));
    assert_eq!(
        err.to_string(),
        "'20261122' matches 2 runs: 20261122-184129, 20261122-190000"
    );
    let err = history.get("2027").unwrap_err();
    assert!(matches!(err, Error::UnknownRun(_)));
    assert_eq!(err.to_string(), "no run '2027' in the history");
    // Prefix matching is literal: SQL wildcards match nothing.
    assert!(matches!(history.get("2026%"), Err(Error::UnknownRun(_))));
    assert!(matches!(history.get("2026_"), Err(Error::UnknownRun(_))));
    assert!(matches!(history.get(""), Err(Error::UnknownRun(_))));
}

#[test]
fn a_removed_run_is_gone_with_its_cells() {
    let (_dir, path) = store();
    let mut history = History::open(&path).unwrap();
    let run = support::fixture();
    history.record(&run).unwrap();
    assert!(history.remove(&run.id).unwrap());
    assert!(!history.remove(&run.id).unwrap());
    assert!(history.list().unwrap().is_empty());
    let conn = Connection::open(&path).unwrap();
    let cells: i64 = conn
        .query_row("SELECT count(*) FROM cells", [], |r| r.get(0))
        .unwrap();
    assert_eq!(cells, 0);
}

#[test]
fn reopening_keeps_the_runs_and_the_schema_version() {
    let (_dir, path) = store();
    let run = support::fixture();
    History::open(&path).unwrap().record(&run).unwrap();
    let history = History::open(&path).unwrap();
    assert_eq!(history.get("latest").unwrap(), run);
    let conn = Connection::open(&path).unwrap();
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 1);
}

#[test]
fn a_history_from_a_newer_stackwise_is_refused() {
    let (_dir, path) = store();
    drop(History::open(&path).unwrap());
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = History::open(&path).unwrap_err();
    assert!(matches!(err, Error::TooNew(..)), "{err}");
    assert!(err.to_string().contains("format version 99"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_one_clear_error() {
    let (dir, _) = store();
    let path = dir.path().join("history.sqlite");
    std::fs::write(
        &path,
        "not a database, just text that is long enough to be a header\n",
    )
    .unwrap();
    let err = History::open(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert_eq!(msg.lines().count(), 1, "{msg}");
}

#[test]
fn a_reader_sees_what_another_handle_records() {
    // `stackwise runs` reads while `stackwise run` records, each with its own handle.
    let (_dir, path) = store();
    let mut writer = History::open(&path).unwrap();
    let reader = History::open(&path).unwrap();
    assert!(reader.list().unwrap().is_empty());
    writer.record(&support::fixture()).unwrap();
    assert_eq!(reader.list().unwrap().len(), 1);
}

#[test]
fn processes_opening_a_new_history_at_once_all_succeed() {
    // Two runs started together both create the history; the second must find the tables made,
    // not fail on "table runs already exists". Threads with their own connections race the same
    // way processes do.
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite");
        let barrier = std::sync::Barrier::new(4);
        std::thread::scope(|scope| {
            let opened: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        barrier.wait();
                        History::open(&path).map(drop)
                    })
                })
                .collect();
            for handle in opened {
                let result = handle.join().unwrap();
                assert!(result.is_ok(), "round {round}: {result:?}");
            }
        });
    }
}
