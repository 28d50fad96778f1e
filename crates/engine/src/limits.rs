//! The process's file descriptor limit, against what a plan needs.
//!
//! Every connection is a socket, and a socket is a file descriptor: a run with more connections
//! than the soft limit (`ulimit -n`, often 1024) would fail to open the rest with EMFILE. So
//! before a run the soft limit is raised towards the hard limit, which any process may do, and a
//! plan that even the hard limit cannot hold is refused with the numbers, before any load is
//! sent.

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use thiserror::Error;

use crate::plan::{Load, Plan, Stop, WsMode, WsPlan};

/// Descriptors a run needs besides its sockets: standard streams, and per worker thread its
/// runtime's epoll and waker and the open loop's timer, with room to spare.
const BASE: u64 = 32;
const PER_THREAD: u64 = 4;
/// Highest soft limit asked for, even when the hard limit is higher (or unlimited): raising it
/// costs nothing, but the kernel refuses values above its own ceiling (fs.nr_open).
const CEILING: u64 = 1 << 20;

/// The soft and hard limits on open file descriptors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DescriptorLimit {
    pub soft: u64,
    pub hard: u64,
}

/// A plan that needs more descriptors than the process may have.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "needs about {needed} file descriptors; the limit is {} (hard limit {}); raise it with \
     ulimit -n, or use fewer connections",
    limit.soft,
    limit.hard
)]
pub struct DescriptorShortfall {
    pub needed: u64,
    pub limit: DescriptorLimit,
}

/// The current limits.
pub fn descriptor_limit() -> std::io::Result<DescriptorLimit> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).map_err(std::io::Error::from)?;
    Ok(DescriptorLimit { soft, hard })
}

/// Descriptors `plan` may hold at once: every connection it may open, and the engine's own.
pub fn descriptors_needed(plan: &Plan) -> u64 {
    let mut connections = match plan.load {
        Load::Closed { connections } => connections,
        Load::Constant {
            max_connections, ..
        } => max_connections,
    } as u64;
    // Idle WebSocket connections are held: every one opened is open at the end, the sockets
    // of the handshakes under way included.
    if let (
        Some(WsPlan {
            mode: WsMode::Idle { .. },
            ..
        }),
        Stop::Count(n),
    ) = (&plan.ws, plan.stop)
    {
        connections = n;
    }
    connections + BASE + PER_THREAD * plan.threads as u64
}

/// Connections a process may open under a hard limit of `hard` with `threads` worker threads.
pub fn connections_within(hard: u64, threads: usize) -> u64 {
    hard.saturating_sub(BASE + PER_THREAD * threads as u64)
}

/// Makes room for `needed` descriptors: raises the soft limit (towards the hard one) if it is
/// lower, or says by how much the hard limit falls short. Returns the limits now in force.
pub fn ensure_descriptors(needed: u64) -> Result<DescriptorLimit, DescriptorShortfall> {
    // A limit that cannot be read cannot be checked either; the run will say if sockets fail.
    let Ok(limit) = descriptor_limit() else {
        return Ok(DescriptorLimit {
            soft: u64::MAX,
            hard: u64::MAX,
        });
    };
    if needed <= limit.soft {
        return Ok(limit);
    }
    if needed > limit.hard {
        return Err(DescriptorShortfall { needed, limit });
    }
    // As high as allowed, so the estimate needs no precision; failing that, what is needed.
    for soft in [limit.hard.min(CEILING).max(needed), needed] {
        if setrlimit(Resource::RLIMIT_NOFILE, soft, limit.hard).is_ok() {
            return Ok(DescriptorLimit {
                soft,
                hard: limit.hard,
            });
        }
    }
    Err(DescriptorShortfall { needed, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortfall_names_every_number() {
        let e = DescriptorShortfall {
            needed: 100_040,
            limit: DescriptorLimit {
                soft: 1024,
                hard: 4096,
            },
        };
        assert_eq!(
            e.to_string(),
            "needs about 100040 file descriptors; the limit is 1024 (hard limit 4096); raise it \
             with ulimit -n, or use fewer connections"
        );
        assert_eq!(connections_within(4096, 2), 4096 - 40);
    }

    #[test]
    fn what_is_already_allowed_changes_nothing() {
        let before = descriptor_limit().unwrap();
        assert_eq!(ensure_descriptors(1).unwrap(), before);
        assert_eq!(descriptor_limit().unwrap(), before);
    }
}
