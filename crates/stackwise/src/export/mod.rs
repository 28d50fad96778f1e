//! One module per output format of a load result. Each takes the finished [`LoadReport`]
//! (`stackwise_engine::LoadReport`) and nothing else.
//!
//! [`run`] does the same for a whole run (`stackwise_results::RunResult`): one module per
//! format under it.

pub mod hdr_log;
pub mod json;
pub mod run;
pub mod terminal;
