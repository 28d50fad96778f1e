//! Starting a provisioned contestant: a free loopback port, the workers its rule gives for its
//! CPUs, the contract's environment, a process group pinned to the server CPUs, and a health
//! check with a deadline. Stopping it ends the whole group.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::manifest::{expand, Service, Serving};
use crate::postgres::DbInfo;
use crate::process::Group;
use crate::provision::{resolve_program, Provisioned};

#[derive(Debug, Error)]
pub enum StartError {
    #[error("cannot start `{0}`: {1}")]
    Spawn(String, std::io::Error),
    #[error("the stack serves no WebSocket endpoints (no [websocket] in its stack.toml)")]
    NoWebSocket,
    #[error("{0}")]
    Service(String),
    #[error("the server exited before answering {health}; last output:\n{tail}")]
    Exited { health: String, tail: String },
    #[error("no 200 from {health} within {secs} s; last output:\n{tail}")]
    Timeout {
        health: String,
        secs: u64,
        tail: String,
    },
}

/// Everything a contestant is started with besides its manifest.
#[derive(Debug, Clone)]
pub struct ServerEnv {
    pub db: DbInfo,
    pub upstream_url: String,
    /// The folder of the model files (`MODELS_DIR`), written by [`crate::models::install`].
    pub models_dir: PathBuf,
    /// CPUs the server is pinned to; its worker count follows from how many.
    pub cpus: Vec<usize>,
}

/// A running contestant.
#[derive(Debug)]
pub struct Running {
    group: Group,
    /// Services started for it (a Redis its processes are joined through), ended with it.
    redis: Option<crate::redis::Redis>,
    pub port: u16,
    pub workers: usize,
    /// Threads per worker process, when the manifest sets them (`threads`).
    pub threads: Option<usize>,
    /// From spawning to the first 200 on the health path.
    pub startup: Duration,
}

impl Running {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn pgid(&self) -> i32 {
        self.group.pgid()
    }

    /// The process groups of the services started for it: their work is the server's.
    pub fn service_pgids(&self) -> Vec<i32> {
        self.redis.iter().map(|r| r.pgid()).collect()
    }

    pub fn log_tail(&self, lines: usize) -> String {
        self.group.log_tail(lines)
    }

    pub fn stop(mut self) {
        self.group.stop(Duration::from_secs(5));
        if let Some(redis) = self.redis.take() {
            redis.stop();
        }
    }
}

/// `args` as a command run the way the server is: in the stack's installed copy (a program
/// named by a relative path is found there), with the manifest's `env` and the placeholders'
/// `values` as upper-case variables besides the lab's own environment.
pub fn command(stack: &Provisioned, args: &[String], values: &BTreeMap<&str, String>) -> Command {
    command_with(stack, args, &stack.stack.manifest.env, values)
}

fn command_with(
    stack: &Provisioned,
    args: &[String],
    env: &BTreeMap<String, String>,
    values: &BTreeMap<&str, String>,
) -> Command {
    let program = resolve_program(&args[0], &stack.dir);
    let mut cmd = Command::new(program);
    cmd.args(&args[1..]).current_dir(&stack.dir);
    stack.runtime.apply(&mut cmd);
    for (k, v) in env {
        cmd.env(k, expand(v, values));
    }
    for (k, v) in values {
        cmd.env(k.to_ascii_uppercase(), v);
    }
    cmd
}

/// Starts `stack` as it runs for `serving` (with the services that needs) and waits until its
/// health path answers 200, for at most `timeout`.
pub fn start(
    stack: &Provisioned,
    env: &ServerEnv,
    log: &Path,
    timeout: Duration,
    serving: Serving,
) -> Result<Running, StartError> {
    let m = &stack.stack.manifest;
    let (rule, start, server_env) = m.serving(serving).ok_or(StartError::NoWebSocket)?;
    let redis = match m.services(serving).contains(&Service::Redis) {
        true => Some(crate::redis::Redis::start(&env.cpus, log).map_err(StartError::Service)?),
        false => None,
    };
    let port = crate::net::free_port().map_err(|e| StartError::Spawn("a free port".into(), e))?;
    let workers = rule.workers(env.cpus.len());
    // Threads are the HTTP server's: a WebSocket configuration states its own command.
    let threads = match serving {
        Serving::Http => m.threads.map(|t| t.workers(env.cpus.len())),
        Serving::WebSocket => None,
    };
    let mut values: BTreeMap<&str, String> = BTreeMap::from([
        ("port", port.to_string()),
        ("workers", workers.to_string()),
        ("database_url", env.db.url()),
        ("upstream_url", env.upstream_url.clone()),
        ("models_dir", env.models_dir.display().to_string()),
        ("db_host", env.db.host.clone()),
        ("db_port", env.db.port.to_string()),
        ("db_user", env.db.user.clone()),
        ("db_password", env.db.password.clone()),
        ("db_name", env.db.name.clone()),
    ]);
    if let Some(r) = &redis {
        values.insert("redis_url", r.url());
    }
    if let Some(t) = threads {
        values.insert("threads", t.to_string());
    }
    let args: Vec<String> = start.iter().map(|a| expand(a, &values)).collect();
    let cmd = command_with(stack, &args, &server_env, &values);
    let began = Instant::now();
    let group = match Group::spawn(m.id.as_str(), cmd, Some(&env.cpus), Some(log)) {
        Ok(g) => g,
        Err(e) => {
            if let Some(r) = redis {
                r.stop();
            }
            return Err(StartError::Spawn(args.join(" "), e));
        }
    };
    let mut running = Running {
        group,
        redis,
        port,
        workers,
        threads,
        startup: Duration::ZERO,
    };
    let health = format!("http://127.0.0.1:{port}{}", m.health);
    let agent = crate::net::agent(Duration::from_secs(2));
    // On every error `running` is dropped, which ends the server's group and its services.
    loop {
        if let Ok(resp) = agent.get(&health).call() {
            // A 200 from a port another process grabbed in the meantime is not ours.
            if resp.status() == 200 && crate::process::group_alive(running.group.pgid()) {
                running.startup = began.elapsed();
                return Ok(running);
            }
        }
        if !running.group.is_running() {
            // The leader may exit on purpose after forking (a daemonising launcher), but then
            // nothing answers either.
            std::thread::sleep(Duration::from_millis(200));
            if agent.get(&health).call().is_err() {
                return Err(StartError::Exited {
                    health: m.health.clone(),
                    tail: running.group.log_tail(20),
                });
            }
        }
        if began.elapsed() > timeout {
            return Err(StartError::Timeout {
                health: m.health.clone(),
                secs: timeout.as_secs(),
                tail: running.group.log_tail(20),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
