//! One module per output format of a load result. Each takes the finished [`LoadReport`]
//! (`stackwise_engine::LoadReport`) and nothing else.

pub mod hdr_log;
pub mod json;
pub mod terminal;
