//! The advisor: turns a run's measurements and a project profile into a recommendation a team
//! can defend, and checks the guides' claims against the measurements.
//!
//! Nothing here measures or starts a process: inputs are a [`stackwise_results::RunResult`]
//! (the user's own run, or the bundled reference results) and a profile; outputs are data that
//! the command line and the reports render.
//!
//! # Layout
//!
