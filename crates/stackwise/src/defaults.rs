//! The command line's defaults, in one named place: the raw command line ([`crate::cli`]) shows
//! them in its help, and the settings ([`crate::settings`]) apply them.
//!
//! The run's protocol defaults (window, rounds, budget...) are not here: they belong to the lab
//! (`Protocol::default_run` and `Protocol::quick`), since a resumed run reads its protocol back
//! from what it saved.

use std::time::Duration;

// `stackwise load`.

/// Connections of a closed loop (and of an open loop at its start) when -c is not given.
pub const DEFAULT_CONNECTIONS: usize = 50;
/// No warm-up unless asked: `load` measures the service as it is.
pub const DEFAULT_WARMUP: &str = "0s";
/// How long a connection attempt may take before it counts as a connect error.
pub const DEFAULT_CONNECT_TIMEOUT: &str = "3s";
/// How long a response may take before it counts as a timeout.
pub const DEFAULT_TIMEOUT: &str = "10s";
/// How long a run lasts when neither -d nor -n is given.
pub const DEFAULT_DURATION: Duration = Duration::from_secs(10);
/// Floor of the default connection cap of an open loop.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Bytes of a WebSocket message when --message-size is not given: a short chat message or
/// dashboard update, with room for the stamp a broadcast message carries.
pub const DEFAULT_MESSAGE_SIZE: usize = 128;
/// WebSocket idle: connections opened per second when --rate is not given.
pub const DEFAULT_CONNECT_RATE: f64 = 1000.0;
/// WebSocket idle: handshakes under way at once at the start, and at most (never more than
/// the connections asked for).
pub const IDLE_HANDSHAKES: usize = 64;
pub const IDLE_MAX_HANDSHAKES: usize = 1024;

/// The request method unless -m names another.
pub const DEFAULT_METHOD: &str = "GET";

/// The schema `stackwise schema` prints when none is named: that of `load`'s results.
pub const DEFAULT_SCHEMA: &str = "load";

/// How `show`, `claims` and `advise` print unless --format says otherwise: aligned plain text,
/// read without colour; the other formats are for files and tools.
pub const DEFAULT_FORMAT: &str = "table";

// The commands that read a run back, and `stackwise advise`.

/// The run a command reads when none is named: the newest in the history.
pub const DEFAULT_RUN: &str = "latest";

/// Where `advise --init` writes the profile template and the questionnaire saves its answers,
/// and the profile `report` and `run` add a recommendation from when the current folder has one.
pub const DEFAULT_PROFILE: &str = "stackwise-profile.toml";

// `stackwise verify` and `stackwise run`.

/// The folder holding one folder per contestant, relative to the current folder: the
/// repository's `stacks/`.
pub const DEFAULT_STACKS_DIR: &str = "stacks";

/// Where `stackwise run` writes its run folders and history, and where the commands that read
/// runs back look for them.
pub const DEFAULT_RESULTS_DIR: &str = "results";

/// How long a contestant may take to answer its health check: long enough for a cold NestJS or
/// Django start on a slow, shared machine.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(120);

/// The run's latency target, p99 in milliseconds: a common service-level objective for an API.
pub const DEFAULT_P99_MS: f64 = 100.0;

/// Share of the machine, in percent, that other processes may use during a trial window before
/// it is measured again.
pub const DEFAULT_NOISE_LIMIT_PERCENT: f64 = 10.0;

/// Seed of the rounds' shuffled orders, fixed so that two runs shuffle alike.
pub const DEFAULT_SEED: u64 = 0;
