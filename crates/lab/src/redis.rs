//! A throwaway Redis for stacks whose processes are joined through it (Django Channels' Redis
//! channel layer): the system's `redis-server` on a free loopback port, no persistence, no
//! snapshot on exit, in its own process group, ended with the stack it serves.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::Group;

/// How long Redis may take to answer its first PING.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running throwaway Redis.
#[derive(Debug)]
pub struct Redis {
    group: Group,
    pub port: u16,
}

impl Redis {
    /// Starts `redis-server` pinned to `cpus`, its output appended to `log`, and waits until it
    /// answers PING. Errors are one line saying what to do.
    pub fn start(cpus: &[usize], log: &Path) -> Result<Redis, String> {
        let bin = find().ok_or(
            "this stack's WebSocket endpoints need redis-server, which is not installed \
             (Debian/Ubuntu: apt-get install redis-server; or set STACKWISE_REDIS_SERVER)",
        )?;
        let port = crate::net::free_port().map_err(|e| format!("no free port for Redis: {e}"))?;
        let mut cmd = Command::new(&bin);
        cmd.args(["--port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--protected-mode", "no"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(["--dir", &std::env::temp_dir().to_string_lossy()]);
        let mut group = Group::spawn("redis", cmd, Some(cpus), Some(log))
            .map_err(|e| format!("cannot start '{}': {e}", bin.display()))?;
        let began = Instant::now();
        loop {
            if ping(port) {
                return Ok(Redis { group, port });
            }
            if !group.is_running() {
                return Err(format!(
                    "redis-server exited at start; last output: {}",
                    group.log_tail(3).replace('\n', " / ")
                ));
            }
            if began.elapsed() > READY_WITHIN {
                group.stop(Duration::from_secs(2));
                return Err(format!(
                    "redis-server did not answer PING within {} s",
                    READY_WITHIN.as_secs()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    pub fn pgid(&self) -> i32 {
        self.group.pgid()
    }

    pub fn stop(mut self) {
        self.group.stop(Duration::from_secs(5));
    }
}

/// Whether a Redis on `port` answers PING with PONG.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
}

/// `STACKWISE_REDIS_SERVER`, else `redis-server` on the PATH or where Debian installs it.
pub fn find() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STACKWISE_REDIS_SERVER").map(PathBuf::from) {
        return path.is_file().then_some(path);
    }
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("redis-server"))
        .find(|p| p.is_file())
}
