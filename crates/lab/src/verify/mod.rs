//! Checking a running contestant against docs/spec.md, scenario by scenario.
//!
//! Every check looks at what a client sees (status, headers, body) and, where the contract is
//! about the database, at what PostgreSQL saw: statement counts from pg_stat_statements, so a
//! cache cannot pass for queries, and the rows themselves, so updates must persist. Each failure
//! carries a one-line reason.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::delay::DelayService;
use crate::manifest::Serving;
use crate::postgres::{table_counts, Database};

mod post;
mod work;
mod ws;

/// The checks of the WebSocket endpoints, made of a stack that has a `[websocket]` table.
pub const WEBSOCKET_CHECKS: [&str; 2] = ["ws-echo", "ws-room"];

/// Runs the WebSocket check `name` against the server on `port`.
pub fn websocket_check(name: &str, port: u16) -> Result<(), String> {
    match name {
        "ws-echo" => ws::echo(port),
        "ws-room" => ws::room(port),
        other => Err(format!("unknown check '{other}'")),
    }
}

/// The verdict on one scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub scenario: &'static str,
    /// `Err` holds the reason.
    pub result: Result<(), String>,
}

struct Reply {
    status: u16,
    headers: BTreeMap<String, String>,
    body: String,
    elapsed: Duration,
}

/// What the checks need: the server, the database, the delay service.
pub struct Checker<'a> {
    agent: ureq::Agent,
    base: String,
    db: &'a Database,
    client: postgres::Client,
    delay: &'a DelayService,
}

impl std::fmt::Debug for Checker<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker").field("base", &self.base).finish()
    }
}

type Check = Result<(), String>;

impl<'a> Checker<'a> {
    pub fn new(base: &str, db: &'a Database, delay: &'a DelayService) -> Result<Self, String> {
        let client = db
            .info
            .connect()
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        Ok(Checker {
            agent: crate::net::agent(Duration::from_secs(30)),
            base: base.trim_end_matches('/').to_string(),
            db,
            client,
            delay,
        })
    }

    /// Checks every HTTP scenario `manifest`'s stack serves (`data` and `ml` only with their
    /// tables, `ml-image` with `image = true` in its `[ml]`).
    pub fn all(&mut self, manifest: &crate::manifest::Manifest) -> Vec<Outcome> {
        stackwise_results::catalogue::checks()
            .into_iter()
            .filter(|c| !WEBSOCKET_CHECKS.contains(c))
            .filter(|&c| match c {
                "data" => manifest.data.is_some(),
                "ml" => manifest.ml.is_some(),
                "ml-image" => manifest.ml.as_ref().is_some_and(|m| m.image),
                _ => true,
            })
            .map(|scenario| Outcome {
                scenario,
                result: self.scenario(scenario),
            })
            .collect()
    }

    /// Checks one scenario.
    pub fn scenario(&mut self, scenario: &str) -> Check {
        match scenario {
            "json" => self.json(),
            "plaintext" => self.plaintext(),
            "db" => self.db(),
            "queries" => self.queries(),
            "fortunes" => self.fortunes(),
            "updates" => self.updates(),
            "upstream" => self.upstream(),
            "cpu" => self.cpu(),
            "data" => work::data(self.addr()?),
            "ml" => work::ml(self.addr()?),
            "ml-image" => work::ml_image(self.addr()?),
            other => Err(format!("unknown scenario '{other}'")),
        }
    }

    /// The server's address, from its base URL.
    fn addr(&self) -> Result<std::net::SocketAddr, String> {
        let host = self.base.trim_start_matches("http://");
        host.parse()
            .map_err(|_| format!("'{}' is not an address on this machine", self.base))
    }

    fn get(&self, path: &str) -> Result<Reply, String> {
        let began = Instant::now();
        let mut resp = self
            .agent
            .get(&format!("{}{path}", self.base))
            .call()
            .map_err(|e| format!("GET {path}: {e}"))?;
        let elapsed = began.elapsed();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("GET {path}: cannot read the body: {e}"))?;
        Ok(Reply {
            status,
            headers,
            body,
            elapsed,
        })
    }

    /// A GET whose status, Server, Date and Content-Type follow the contract.
    fn get_ok(&self, path: &str, media_type: &str) -> Result<Reply, String> {
        let r = self.get(path)?;
        if r.status != 200 {
            return Err(format!("GET {path} answered {}", r.status));
        }
        if r.headers.get("server").is_none_or(|s| s.trim().is_empty()) {
            return Err(format!("GET {path}: missing Server header"));
        }
        let date = r
            .headers
            .get("date")
            .ok_or_else(|| format!("GET {path}: missing Date header"))?;
        let at = httpdate::parse_http_date(date)
            .map_err(|_| format!("GET {path}: Date header '{date}' is not an HTTP date"))?;
        let off = match at.duration_since(SystemTime::now()) {
            Ok(ahead) => ahead,
            Err(behind) => behind.duration(),
        };
        if off > Duration::from_secs(3) {
            return Err(format!(
                "GET {path}: Date header '{date}' is {} s off the clock",
                off.as_secs()
            ));
        }
        let ctype = r.headers.get("content-type").cloned().unwrap_or_default();
        let media = ctype
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if media != media_type {
            return Err(format!(
                "GET {path}: Content-Type is '{ctype}', expected '{media_type}'"
            ));
        }
        Ok(r)
    }

    fn json_body(path: &str, r: &Reply) -> Result<Value, String> {
        serde_json::from_str(&r.body)
            .map_err(|_| format!("GET {path}: body is not JSON: {}", snippet(&r.body)))
    }

    fn json(&mut self) -> Check {
        let first = self.get_ok("/json", "application/json")?;
        let body = Self::json_body("/json", &first)?;
        if body != json!({"message": "Hello, World!"}) {
            return Err(format!(
                "body is {}, expected {{\"message\":\"Hello, World!\"}}",
                snippet(&first.body)
            ));
        }
        // The Date header must be computed, not frozen at start-up.
        std::thread::sleep(Duration::from_millis(1_100));
        let second = self.get_ok("/json", "application/json")?;
        if first.headers.get("date") == second.headers.get("date") {
            return Err("Date header did not change between requests 1.1 s apart".into());
        }
        Ok(())
    }

    fn plaintext(&mut self) -> Check {
        let r = self.get_ok("/plaintext", "text/plain")?;
        if r.body != "Hello, World!" {
            return Err(format!(
                "body is '{}', expected 'Hello, World!'",
                snippet(&r.body)
            ));
        }
        Ok(())
    }

    fn counts(&mut self) -> Result<Option<(i64, i64)>, String> {
        self.counts_of("world")
    }

    fn counts_of(&mut self, table: &str) -> Result<Option<(i64, i64)>, String> {
        if !self.db.counts_statements {
            return Ok(None);
        }
        table_counts(&mut self.client, table)
            .map(Some)
            .map_err(|e| format!("cannot read statement counts: {e}"))
    }

    /// Fails unless at least `selects` queries on world (and `updated` rows) ran since `before`.
    fn expect_queries(&mut self, before: Option<(i64, i64)>, selects: i64, updated: i64) -> Check {
        self.expect_queries_on("world", before, selects, updated)
    }

    fn expect_queries_on(
        &mut self,
        table: &str,
        before: Option<(i64, i64)>,
        selects: i64,
        updated: i64,
    ) -> Check {
        let (Some(before), Some(after)) = (before, self.counts_of(table)?) else {
            return Ok(());
        };
        let ran = after.0 - before.0;
        if ran < selects {
            return Err(if ran == 0 {
                format!("no query on {table} reached PostgreSQL (a cache?)")
            } else {
                format!("{ran} queries on {table} reached PostgreSQL, expected at least {selects}")
            });
        }
        let rows = after.1 - before.1;
        if rows < updated {
            return Err(format!(
                "{rows} world rows were updated in PostgreSQL, expected at least {updated}"
            ));
        }
        Ok(())
    }

    fn world_row(&mut self, v: &Value) -> Result<(i32, i32), String> {
        let obj = v
            .as_object()
            .ok_or_else(|| format!("{} is not an object", snippet(&v.to_string())))?;
        let mut keys: Vec<&String> = obj.keys().collect();
        keys.sort();
        if keys != ["id", "randomNumber"] {
            return Err(format!(
                "row {} must have exactly the keys id and randomNumber",
                snippet(&v.to_string())
            ));
        }
        let int = |k: &str| {
            obj[k]
                .as_i64()
                .filter(|n| (1..=10_000).contains(n))
                .map(|n| n as i32)
                .ok_or_else(|| format!("{k} in {} is not an integer in 1..=10000", v))
        };
        Ok((int("id")?, int("randomNumber")?))
    }

    fn stored_number(&mut self, id: i32) -> Result<i32, String> {
        self.client
            .query_one("SELECT randomnumber FROM world WHERE id = $1", &[&id])
            .map(|row| row.get(0))
            .map_err(|e| format!("cannot read world row {id}: {e}"))
    }

    fn db(&mut self) -> Check {
        let before = self.counts()?;
        let r = self.get_ok("/db", "application/json")?;
        let (id, number) = self.world_row(&Self::json_body("/db", &r)?)?;
        self.expect_queries(before, 1, 0)?;
        let stored = self.stored_number(id)?;
        if stored != number {
            return Err(format!(
                "row {id} has randomNumber {stored} in the database, the answer said {number}"
            ));
        }
        Ok(())
    }

    fn rows(&mut self, path: &str, expected: usize) -> Result<Vec<(i32, i32)>, String> {
        let r = self.get_ok(path, "application/json")?;
        let body = Self::json_body(path, &r)?;
        let items = body
            .as_array()
            .ok_or_else(|| format!("GET {path}: body is not a JSON array"))?;
        if items.len() != expected {
            return Err(format!(
                "GET {path} gave {} rows, expected {expected}",
                items.len()
            ));
        }
        items.iter().map(|v| self.world_row(v)).collect()
    }

    fn queries(&mut self) -> Check {
        for (path, n) in [
            ("/queries", 1),
            ("/queries?n=foo", 1),
            ("/queries?n=0", 1),
            ("/queries?n=7", 7),
            ("/queries?n=1000", 500),
        ] {
            let before = self.counts()?;
            self.rows(path, n)?;
            self.expect_queries(before, n as i64, 0)
                .map_err(|e| format!("GET {path}: {e}"))?;
        }
        Ok(())
    }

    fn updates(&mut self) -> Check {
        for (path, n) in [("/updates?n=0", 1), ("/updates?n=1000", 500)] {
            self.rows(path, n)?;
        }
        let before = self.counts()?;
        let rows = self.rows("/updates?n=5", 5)?;
        let mut last: BTreeMap<i32, i32> = BTreeMap::new();
        for (id, number) in &rows {
            last.insert(*id, *number);
        }
        self.expect_queries(before, 5, last.len() as i64)
            .map_err(|e| format!("GET /updates?n=5: {e}"))?;
        for (id, number) in last {
            let stored = self.stored_number(id)?;
            if stored != number {
                return Err(format!(
                    "row {id} holds {stored} after /updates answered {number}: the update was not persisted"
                ));
            }
        }
        Ok(())
    }

    fn fortunes(&mut self) -> Check {
        let before = self.counts_of("fortune")?;
        let r = self.get_ok("/fortunes", "text/html")?;
        self.expect_queries_on("fortune", before, 1, 0)?;
        let ctype = r.headers.get("content-type").cloned().unwrap_or_default();
        if !ctype
            .to_ascii_lowercase()
            .replace(' ', "")
            .contains("charset=utf-8")
        {
            return Err(format!(
                "Content-Type is '{ctype}', expected 'text/html; charset=utf-8'"
            ));
        }
        let mut expected: Vec<(i64, String)> = self
            .client
            .query("SELECT id, message FROM fortune", &[])
            .map_err(|e| format!("cannot read fortunes: {e}"))?
            .iter()
            .map(|row| (i64::from(row.get::<_, i32>(0)), row.get(1)))
            .collect();
        expected.push((0, "Additional fortune added at request time.".into()));
        expected.sort_by(|a, b| a.1.cmp(&b.1));
        let got = fortune_rows(&r.body)?;
        if got != expected {
            let first = got
                .iter()
                .zip(&expected)
                .position(|(g, e)| g != e)
                .unwrap_or(got.len().min(expected.len()));
            return Err(format!(
                "rows differ from the expected {} sorted rows at row {}: got {:?}, expected {:?}",
                expected.len(),
                first + 1,
                got.get(first),
                expected.get(first)
            ));
        }
        Ok(())
    }

    fn upstream(&mut self) -> Check {
        let before = self.delay.served();
        let r = self.get_ok("/upstream?ms=50", "application/json")?;
        let body = Self::json_body("/upstream?ms=50", &r)?;
        if body != json!({"ms": 50}) {
            return Err(format!(
                "body is {}, expected the delay service's {{\"ms\":50}}",
                snippet(&r.body)
            ));
        }
        if self.delay.served() <= before {
            return Err("the delay service was not called".into());
        }
        if r.elapsed < Duration::from_millis(50) {
            return Err(format!(
                "answered in {:?}, before the 50 ms delay ended",
                r.elapsed
            ));
        }
        Ok(())
    }

    fn cpu(&mut self) -> Check {
        for (path, n, primes) in [
            ("/cpu?n=100", 100, 25),
            ("/cpu?n=2", 2, 0),
            ("/cpu?n=100000", 100_000, 9_592),
            ("/cpu", 10_000, 1_229),
        ] {
            let r = self.get_ok(path, "application/json")?;
            let body = Self::json_body(path, &r)?;
            if body != json!({"n": n, "primes": primes}) {
                return Err(format!(
                    "GET {path}: body is {}, expected {{\"n\":{n},\"primes\":{primes}}}",
                    snippet(&r.body)
                ));
            }
        }
        Ok(())
    }
}

fn snippet(s: &str) -> String {
    let one_line: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 80 {
        format!("{}…", one_line.chars().take(80).collect::<String>())
    } else {
        one_line
    }
}

/// Removes white space between tags.
fn compact(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut pending = String::new();
    for c in html.chars() {
        if c.is_whitespace() {
            pending.push(c);
            continue;
        }
        let between_tags = c == '<' && out.ends_with('>');
        if !(out.is_empty() || between_tags) {
            out.push_str(&pending);
        }
        pending.clear();
        out.push(c);
    }
    out
}

/// Decodes the entities a template engine may use; fails on a raw `<`, `>` or a stray `&`.
fn unescape(text: &str) -> Result<String, String> {
    if text.contains('<') || text.contains('>') {
        return Err(format!("message '{}' is not escaped", snippet(text)));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after
            .find(';')
            .filter(|&e| e <= 10)
            .ok_or_else(|| format!("message '{}' is not escaped (a bare &)", snippet(text)))?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("bad entity &{e};"))?,
            e if e.starts_with('#') => e[1..]
                .parse::<u32>()
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| format!("bad entity &{e};"))?,
            e => return Err(format!("unknown entity &{e};")),
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The (id, message) rows of a fortunes page, after checking its frame.
fn fortune_rows(html: &str) -> Result<Vec<(i64, String)>, String> {
    const HEAD: &str = "<!doctype html><html><head><title>fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>";
    const TAIL: &str = "</table></body></html>";
    let page = compact(html);
    let lower = page.to_ascii_lowercase();
    if !lower.starts_with(HEAD) {
        return Err(format!(
            "the page does not start as the spec says: {}",
            snippet(&page)
        ));
    }
    if !lower.trim_end().ends_with(TAIL) {
        return Err("the page does not end with </table></body></html>".into());
    }
    let body = &page[HEAD.len()..page.trim_end().len() - TAIL.len()];
    let mut rows = Vec::new();
    for row in body.split("<tr>").skip(1) {
        let cells = row
            .strip_suffix("</tr>")
            .and_then(|r| r.strip_prefix("<td>"))
            .and_then(|r| r.strip_suffix("</td>"))
            .and_then(|r| r.split_once("</td><td>"))
            .ok_or_else(|| {
                format!(
                    "row '{}' is not <tr><td>id</td><td>message</td></tr>",
                    snippet(row)
                )
            })?;
        let id = cells
            .0
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("id '{}' is not a number", cells.0))?;
        rows.push((id, unescape(cells.1)?));
    }
    if !body.is_empty() && !body.starts_with("<tr>") {
        return Err(format!(
            "unexpected content before the rows: {}",
            snippet(body)
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortunes_pages_are_read_strictly() {
        let page = "<!DOCTYPE html>\n<html>\n<head><title>Fortunes</title></head>\n<body>\n<table>\n<tr><th>id</th><th>message</th></tr>\n<tr><td>11</td><td>&lt;script&gt;alert(&quot;x&#39;s &amp; &#x27;&quot;);&lt;/script&gt;</td></tr>\n<tr><td>12</td><td>フレームワークのベンチマーク</td></tr>\n</table>\n</body>\n</html>\n";
        assert_eq!(
            fortune_rows(page).unwrap(),
            vec![
                (11, "<script>alert(\"x's & '\");</script>".to_string()),
                (12, "フレームワークのベンチマーク".to_string())
            ]
        );
        let raw = page.replace("&lt;script&gt;", "<script>");
        assert!(
            fortune_rows(&raw).unwrap_err().contains("not escaped") || fortune_rows(&raw).is_err()
        );
        assert!(unescape("a & b").unwrap_err().contains("not escaped"));
        assert!(fortune_rows("<html></html>").is_err());
    }

    #[test]
    fn compact_keeps_text_spaces() {
        assert_eq!(compact("<a> <b>x y</b>\n</a>"), "<a><b>x y</b></a>");
    }
}

/// What `verify` needs to know beyond the stacks.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The folder holding one folder per stack.
    pub stacks_dir: std::path::PathBuf,
    /// Stacks to check; all when empty.
    pub stacks: Vec<String>,
    /// Where installs are cached and logs written.
    pub cache_dir: std::path::PathBuf,
    /// An existing database to use instead of a throwaway cluster.
    pub database_url: Option<String>,
    /// CPUs the contestants run on.
    pub server_cpus: Vec<usize>,
    /// CPUs for PostgreSQL and the delay service.
    pub infra_cpus: Vec<usize>,
    pub start_timeout: Duration,
    /// Runtime releases asked for by runtime (`node` → `22`), over the manifests'.
    pub runtimes: BTreeMap<String, String>,
}

/// The verdict on one stack: a failure to install or start, or an outcome per scenario.
#[derive(Debug, Clone)]
pub struct StackVerdict {
    pub id: String,
    pub failure: Option<String>,
    pub outcomes: Vec<Outcome>,
    pub install: Option<crate::provision::InstallFacts>,
    pub startup: Option<Duration>,
    /// Worker processes it was started with.
    pub workers: Option<usize>,
}

impl StackVerdict {
    pub fn passed(&self) -> bool {
        self.failure.is_none() && self.outcomes.iter().all(|o| o.result.is_ok())
    }
}

/// Why `verify` could not run at all (a stack failing is a verdict, not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error(transparent)]
    Database(#[from] crate::postgres::PgError),
    #[error("cannot start the delay service: {0}")]
    Delay(std::io::Error),
    #[error("cannot create '{0}': {1}")]
    Io(std::path::PathBuf, std::io::Error),
    #[error(
        "PostgreSQL accepts {have} connections (max_connections) and the servers of one \
         scenario may open {need} at once: raise max_connections or run fewer stacks"
    )]
    TooFewConnections { have: u64, need: u64 },
}

/// Installs, starts and checks each selected stack in turn; `progress` hears what is happening.
/// A stack that fails to install or start is reported and the others still run.
pub fn verify_stacks(
    options: &VerifyOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<StackVerdict>, VerifyError> {
    let all = crate::manifest::discover(&options.stacks_dir)?;
    let mut stacks = crate::manifest::select(&all, &options.stacks)?;
    crate::manifest::ask_runtimes(&mut stacks, &options.runtimes);
    let logs = options.cache_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| VerifyError::Io(logs.clone(), e))?;
    progress("starting the delay service");
    let delay =
        DelayService::start(Some(options.infra_cpus.clone())).map_err(VerifyError::Delay)?;
    let db = match &options.database_url {
        Some(url) => {
            progress("connecting to the database");
            Database::existing(url)?
        }
        None => {
            progress("starting a throwaway PostgreSQL cluster");
            Database::throwaway(
                Some(&options.infra_cpus),
                &logs.join("postgres.log"),
                &options.cache_dir,
            )?
        }
    };
    let models_dir = crate::models::install(&options.cache_dir)
        .map_err(|e| VerifyError::Io(options.cache_dir.join("models"), e))?;
    let env = crate::server::ServerEnv {
        db: db.info.clone(),
        upstream_url: delay.url(),
        models_dir,
        cpus: options.server_cpus.clone(),
    };
    let mut verdicts = Vec::with_capacity(stacks.len());
    for stack in &stacks {
        let id = stack.id().to_string();
        let mut verdict = StackVerdict {
            id: id.clone(),
            failure: None,
            outcomes: Vec::new(),
            install: None,
            startup: None,
            workers: None,
        };
        progress(&format!("{id}: installing"));
        let log = logs.join(format!("{id}.log"));
        let _ = std::fs::write(&log, "");
        let provisioned = match crate::provision::provision(stack, &options.cache_dir, &log) {
            Ok(p) => p,
            Err(e) => {
                verdict.failure = Some(format!("install failed: {e}"));
                verdicts.push(verdict);
                continue;
            }
        };
        verdict.install = Some(provisioned.install.clone());
        progress(&format!("{id}: starting"));
        let start = |serving| {
            crate::server::start(&provisioned, &env, &log, options.start_timeout, serving)
        };
        let running = match start(Serving::Http) {
            Ok(r) => r,
            Err(e) => {
                verdict.failure = Some(format!("start failed: {e}"));
                verdicts.push(verdict);
                continue;
            }
        };
        verdict.startup = Some(running.startup);
        verdict.workers = Some(running.workers);
        progress(&format!("{id}: checking"));
        match Checker::new(&running.base_url(), &db, &delay) {
            Ok(mut checker) => verdict.outcomes = checker.all(&stack.manifest),
            Err(e) => verdict.failure = Some(e),
        }
        running.stop();
        if stack.manifest.websocket.is_some() && verdict.failure.is_none() {
            progress(&format!("{id}: checking its WebSocket endpoints"));
            match start(Serving::WebSocket) {
                Ok(running) => {
                    verdict
                        .outcomes
                        .extend(WEBSOCKET_CHECKS.iter().map(|&scenario| Outcome {
                            scenario,
                            result: websocket_check(scenario, running.port),
                        }));
                    running.stop();
                }
                Err(e) => verdict
                    .outcomes
                    .extend(WEBSOCKET_CHECKS.iter().map(|&scenario| Outcome {
                        scenario,
                        result: Err(format!("start for WebSockets failed: {e}")),
                    })),
            }
        }
        verdicts.push(verdict);
    }
    Ok(verdicts)
}
