//! The advisor: turns a run's measurements and a project profile into a recommendation a team
//! can defend, and checks the guides' claims against the measurements.
//!
//! Nothing here measures or starts a process: inputs are a [`stackwise_results::RunResult`]
//! (the user's own run, or the bundled reference results) and a profile; outputs are data that
//! the command line and the reports render.
//!
//! # Layout
//!
//! - [`facts`]: the curated facts a recommendation may cite (`data/facts.toml`), each dated and
//!   sourced.
//! - [`claims`]: the guides' claims checked against a run, with the numbers behind each verdict.
//! - [`profile`]: the project profile (TOML, validated, normalised) and the questionnaire.
//! - [`advise`]: the recommendation: knock-outs, weighted scores with evidence, capacity and
//!   cost, the hybrid answer, sensitivity; rendered as text, Markdown or JSON.
//! - [`adr`]: the decision as an Architecture Decision Record in the MADR 4.0 layout.
//! - [`reference`]: the bundled reference results, for advice before the user's first run.

pub mod adr;
pub mod advise;
pub mod claims;
pub mod facts;
pub mod profile;
pub mod reference;
