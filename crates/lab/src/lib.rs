//! The lab: everything `stackwise verify` and `stackwise run` need around the load engine.
//!
//! # Layout
//!
//! - [`manifest`]: a contestant's `stack.toml`, read and checked.
//! - [`process`]: process groups pinned to CPUs, ended with all descendants on every exit path.
//! - [`provision`]: installing a contestant in a private copy, cached by its inputs' hash.
//! - [`postgres`]: a throwaway PostgreSQL cluster with the TFB schema, or an existing server.
//! - [`postgres_npm`]: PostgreSQL binaries from an npm package, where none is installed.
//! - [`postgres_user`]: the user a cluster runs as when stackwise runs as root.
//! - [`delay`]: the delay service the `upstream` scenario calls.
//! - [`orders`], [`predictions`], [`models`]: the `data` and `ml` scenarios' bodies, answers
//!   and model files.
//! - [`net`]: free loopback ports and the HTTP client that checks servers.
//! - [`server`]: starting a provisioned contestant and waiting until it answers.
//! - [`verify`]: checking every scenario of docs/spec.md against a running contestant.
//!
//! Dependencies between these modules go one way: `net`, `process` and `postgres_user` are
//! at the bottom, and nothing a module uses depends on it in turn.
//!
//! The lab drives load through `stackwise-engine` and knows nothing of reports or advice.

pub mod delay;
pub mod images;
pub mod manifest;
pub mod models;
pub mod net;
pub mod orders;
pub mod postgres;
pub mod postgres_npm;
pub mod postgres_user;
pub mod predictions;
pub mod process;
pub mod provision;
pub mod redis;
pub mod run;
pub mod runtime;
pub mod sample;
pub mod server;
pub mod verify;
