//! The HTML report of a run: one self-contained file (data embedded, no network) with charts
//! where people would rather look than read.
