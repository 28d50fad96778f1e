//! Run history: every run result recorded in one embedded SQLite file, so runs can be listed,
//! looked up by id and compared over time.
//!
//! `stackwise run` records its result after every scenario, as it saves `results.json`, so an
//! interrupted run is in the history too. A run is one row of `runs` holding the whole result as
//! JSON (the source of truth) and a few columns to list it by; its summarised figures, one row
//! per stack × scenario, are in `cells`, rewritten on each record, so the history can also be
//! queried with plain SQL:
//!
//! ```sql
//! SELECT r.started_at, c.per_core_median FROM cells c JOIN runs r ON r.id = c.run_id
//! WHERE c.stack = 'express' AND c.scenario = 'json' ORDER BY r.started_at;
//! ```
//!
//! The file's format version is SQLite's `user_version`; [`History::open`] applies the
//! migrations a file lacks and refuses a file from a newer stackwise.
//!
//! # Layout
//!
//! - [`History`]: the store: open, record, list, get, remove.
//! - [`compare`]: what changed between two runs: host, versions, settings and figures.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use stackwise_results::{summary, RunResult};
use thiserror::Error;

pub mod compare;

/// The store's file name inside a results folder.
pub const FILE_NAME: &str = "history.sqlite";

/// Where the history of runs saved under `results_dir` is kept.
pub fn default_path(results_dir: &Path) -> PathBuf {
    results_dir.join(FILE_NAME)
}

/// The schema, one migration per format version: migration `i` takes a file from version `i`
/// to `i + 1`. Append; never edit one that has shipped.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE runs (
        id TEXT PRIMARY KEY NOT NULL,
        started_at TEXT NOT NULL,
        -- NULL until every planned scenario has been measured.
        finished_at TEXT,
        quick INTEGER NOT NULL,
        tool TEXT NOT NULL,
        cpu_model TEXT NOT NULL,
        cores INTEGER NOT NULL,
        kernel TEXT NOT NULL,
        -- JSON arrays of ids, in planned order.
        stacks TEXT NOT NULL,
        scenarios TEXT NOT NULL,
        -- The whole RunResult as JSON.
        result TEXT NOT NULL
    ) STRICT;
    CREATE INDEX runs_started_at ON runs (started_at);
    CREATE TABLE cells (
        run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
        stack TEXT NOT NULL,
        scenario TEXT NOT NULL,
        -- Requests per second of the valid trials.
        throughput_median REAL,
        throughput_min REAL,
        throughput_max REAL,
        -- The median per server core.
        per_core_median REAL,
        p99_ms_median REAL,
        -- Capacity at the run's p99 target, requests per second.
        capacity_rps REAL,
        pss_peak_bytes INTEGER,
        -- Why the scenario was not measured.
        error TEXT,
        PRIMARY KEY (run_id, stack, scenario)
    ) STRICT;
"];

/// A failure of the history store.
#[derive(Debug, Error)]
pub enum Error {
    #[error("cannot open the run history '{0}': {1}")]
    Open(PathBuf, String),
    #[error(
        "the run history '{0}' has format version {1}; this stackwise reads versions up to {2}"
    )]
    TooNew(PathBuf, i64, usize),
    #[error("run history: {0}")]
    Database(rusqlite::Error),
    #[error("no runs in the history yet")]
    Empty,
    #[error("no run '{0}' in the history")]
    UnknownRun(String),
    #[error("'{0}' matches {n} runs: {list}", n = .1.len(), list = .1.join(", "))]
    Ambiguous(String, Vec<String>),
    #[error("run '{0}' in the history cannot be read: {1}")]
    Unreadable(String, String),
    #[error("cannot store run '{0}': {1}")]
    Unwritable(String, serde_json::Error),
}

// By hand rather than `#[from]`, which would also make the SQLite error this one's source and
// print it twice in a chain of causes.
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Database(e)
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// One run as listed: what identifies it and how far it got, without its figures.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub id: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    /// `None` when the run stopped (or is still going) before its last scenario.
    pub finished_at: Option<String>,
    pub quick: bool,
    pub tool: String,
    pub cpu_model: String,
    pub cores: u64,
    pub kernel: String,
    /// Stacks and scenarios planned, in order.
    pub stacks: Vec<String>,
    pub scenarios: Vec<String>,
    /// Stack × scenario cells measured without error.
    pub measured: u64,
}

impl RunRow {
    /// The row of a run that is not (or not yet) in a history: a results.json read from disk.
    pub fn of(r: &RunResult) -> RunRow {
        let measured = summary::cells(r)
            .iter()
            .filter(|c| c.error.is_none())
            .count();
        RunRow {
            id: r.id.clone(),
            started_at: r.started_at.clone(),
            finished_at: r.finished_at.clone(),
            quick: r.quick,
            tool: r.tool.clone(),
            cpu_model: r.host.cpu_model.clone(),
            cores: r.host.cores,
            kernel: r.host.kernel.clone(),
            stacks: r.settings.stacks.clone(),
            scenarios: r.settings.scenarios.clone(),
            measured: measured as u64,
        }
    }

    /// Stack × scenario cells planned.
    pub fn planned(&self) -> u64 {
        (self.stacks.len() * self.scenarios.len()) as u64
    }
}

/// The run history: one SQLite file.
#[derive(Debug)]
pub struct History {
    conn: Connection,
}

impl History {
    /// Opens the history at `path`, creating the file, its folder and its tables when missing.
    pub fn open(path: &Path) -> Result<History> {
        let open_error = |e: &dyn std::fmt::Display| Error::Open(path.to_path_buf(), e.to_string());
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| open_error(&e))?;
        }
        let mut conn = Connection::open(path).map_err(|e| open_error(&e))?;
        // Readers (`stackwise runs`) do not block the writer (`stackwise run`) in WAL mode, and
        // a writer that finds the file busy waits rather than failing at once.
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(|e| open_error(&e))?;
        // Turning WAL on needs the file to itself, and SQLite does not wait for that: a second
        // process opening a new history at the same moment retries.
        let began = std::time::Instant::now();
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Ok(()) => break,
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::DatabaseBusy
                        && began.elapsed() < Duration::from_secs(10) =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(open_error(&e)),
            }
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| open_error(&e))?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(|e| open_error(&e))?;
        migrate(&mut conn, path)?;
        Ok(History { conn })
    }

    /// Stores `result`, replacing any earlier record of the same run, in one transaction.
    /// Cheap enough to call after every scenario.
    pub fn record(&mut self, result: &RunResult) -> Result<()> {
        let json =
            serde_json::to_string(result).map_err(|e| Error::Unwritable(result.id.clone(), e))?;
        let ids = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (id, started_at, finished_at, quick, tool, cpu_model, cores, kernel,
                               stacks, scenarios, result)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
             ON CONFLICT (id) DO UPDATE SET
                started_at = excluded.started_at, finished_at = excluded.finished_at,
                quick = excluded.quick, tool = excluded.tool, cpu_model = excluded.cpu_model,
                cores = excluded.cores, kernel = excluded.kernel, stacks = excluded.stacks,
                scenarios = excluded.scenarios, result = excluded.result",
            params![
                result.id,
                result.started_at,
                result.finished_at,
                result.quick,
                result.tool,
                result.host.cpu_model,
                result.host.cores as i64,
                result.host.kernel,
                ids(&result.settings.stacks),
                ids(&result.settings.scenarios),
                json,
            ],
        )?;
        write_cells(&tx, result)?;
        tx.commit()?;
        Ok(())
    }

    /// Every run, newest first.
    pub fn list(&self) -> Result<Vec<RunRow>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, finished_at, quick, tool, cpu_model, cores, kernel, stacks,
                    scenarios,
                    (SELECT count(*) FROM cells c WHERE c.run_id = runs.id AND c.error IS NULL)
             FROM runs ORDER BY started_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |row| {
            let ids = |i: usize| -> rusqlite::Result<Vec<String>> {
                let text: String = row.get(i)?;
                Ok(serde_json::from_str(&text).unwrap_or_default())
            };
            Ok(RunRow {
                id: row.get(0)?,
                started_at: row.get(1)?,
                finished_at: row.get(2)?,
                quick: row.get(3)?,
                tool: row.get(4)?,
                cpu_model: row.get(5)?,
                cores: row.get::<_, i64>(6)?.max(0) as u64,
                kernel: row.get(7)?,
                stacks: ids(8)?,
                scenarios: ids(9)?,
                measured: row.get::<_, i64>(10)?.max(0) as u64,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The id of the run `query` names: `latest`, a whole id, or the start of exactly one id.
    pub fn resolve(&self, query: &str) -> Result<String> {
        if query == "latest" {
            return self
                .conn
                .query_row(
                    "SELECT id FROM runs ORDER BY started_at DESC, id DESC LIMIT 1",
                    [],
                    |row| row.get(0),
                )
                .optional()?
                .ok_or(Error::Empty);
        }
        if query.is_empty() {
            return Err(Error::UnknownRun(String::new()));
        }
        let exact: Option<String> = self
            .conn
            .query_row("SELECT id FROM runs WHERE id = ?1", [query], |row| {
                row.get(0)
            })
            .optional()?;
        if let Some(id) = exact {
            return Ok(id);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM runs WHERE substr(id, 1, length(?1)) = ?1 ORDER BY id")?;
        let mut ids = stmt
            .query_map([query], |row| row.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        match ids.len() {
            0 => Err(Error::UnknownRun(query.to_string())),
            1 => Ok(ids.remove(0)),
            _ => Err(Error::Ambiguous(query.to_string(), ids)),
        }
    }

    /// The run `query` names (see [`History::resolve`]).
    pub fn get(&self, query: &str) -> Result<RunResult> {
        let id = self.resolve(query)?;
        let json: String =
            self.conn
                .query_row("SELECT result FROM runs WHERE id = ?1", [&id], |row| {
                    row.get(0)
                })?;
        RunResult::parse(&json).map_err(|e| Error::Unreadable(id, e))
    }

    /// Forgets the run with exactly this id; false when there was none.
    pub fn remove(&mut self, id: &str) -> Result<bool> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM cells WHERE run_id = ?1", [id])?;
        let removed = tx.execute("DELETE FROM runs WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(removed > 0)
    }
}

/// Brings the file up to the newest format version, one migration per transaction.
fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let version = |c: &Connection| -> Result<usize> {
        let v: i64 = c.pragma_query_value(None, "user_version", |row| row.get(0))?;
        match usize::try_from(v) {
            Ok(v) if v <= MIGRATIONS.len() => Ok(v),
            _ => Err(Error::TooNew(path.to_path_buf(), v, MIGRATIONS.len())),
        }
    };
    if version(conn)? == MIGRATIONS.len() {
        return Ok(());
    }
    // Two runs may open a new history at once: the write lock is taken before the version is
    // read again, so the second waits and then finds the migrations done.
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from = version(&tx)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}

/// Replaces the run's summarised cells.
fn write_cells(tx: &Transaction<'_>, result: &RunResult) -> Result<()> {
    tx.execute("DELETE FROM cells WHERE run_id = ?1", [&result.id])?;
    let mut insert = tx.prepare(
        "INSERT INTO cells (run_id, stack, scenario, throughput_median, throughput_min,
                            throughput_max, per_core_median, p99_ms_median, capacity_rps,
                            pss_peak_bytes, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?;
    for cell in summary::cells(result) {
        insert.execute(params![
            result.id,
            cell.stack,
            cell.scenario,
            cell.throughput.map(|s| s.median),
            cell.throughput.map(|s| s.min),
            cell.throughput.map(|s| s.max),
            cell.per_core.map(|s| s.median),
            cell.p99_ms.map(|s| s.median),
            cell.capacity_rps,
            cell.pss_peak_bytes.map(|b| b as i64),
            cell.error,
        ])?;
    }
    Ok(())
}
