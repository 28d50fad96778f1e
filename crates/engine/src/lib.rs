//! The stackwise load engine: an HTTP/1.1 and WebSocket load generator that measures honestly.
//!
//! # Layout
//!
//! - [`plan`]: what a run does, as validated data (target, request mix, load shape, stop).
//! - [`pacer`]: the load shape turned into send tickets; the only place closed and open loops
//!   differ.
//! - [`worker`]: pinned worker threads, each with its own runtime, running the one load loop.
//! - [`timer`]: sub-millisecond sleeps for the open loop's schedule.
//! - [`http`]: where a response ends, without storing it.
//! - [`ws`]: WebSocket connections: the handshake, frames, and what broadcast messages carry.
//! - [`record`]: raw measurements: HDR histograms, status counts, errors by kind.
//! - [`load_report`]: the serialisable result, computed from recordings; merging shards exactly.
//! - [`hdr`]: histograms in HdrHistogram's encodings (the interval log, base64 V2).
//! - [`cpu`]: pinning, and the engine's own CPU use.
//! - [`limits`]: the file descriptor limit, raised or refused before a run.
//!
//! The engine knows nothing of stacks, scenarios or reports beyond its own result.

pub mod cpu;
pub mod hdr;
pub mod http;
pub mod limits;
pub mod load_report;
pub mod pacer;
pub mod plan;
pub mod record;
pub mod timer;
pub mod worker;
pub mod ws;

pub use load_report::LoadReport;
pub use plan::{Load, Plan, PlanError, RequestSpec, Stop, Target, WsMode, WsPlan};
pub use worker::Live;
