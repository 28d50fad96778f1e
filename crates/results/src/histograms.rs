//! The raw HDR histograms a trial keeps, decoded. Readers of results (the HTML report's latency
//! curves) get them here, so they depend on the result model and not on how the load engine
//! encodes its histograms.

pub use hdrhistogram::Histogram;

use crate::summary::latency_tag;
use crate::Trial;

/// The corrected latency histogram of one trial: of the scenario's latency tag alone when it
/// has one (`mixed` reports /json apart from /cpu), else of every request, as the summary does.
pub fn trial_latency(t: &Trial, scenario: &str) -> Result<Histogram<u64>, String> {
    let wanted = latency_tag(scenario);
    let tags = t
        .load
        .tags
        .iter()
        .filter(|tag| wanted.is_none_or(|w| tag.tag == w));
    let mut out: Option<Histogram<u64>> = None;
    for tag in tags {
        let h = stackwise_engine::hdr::decode(&tag.histograms.corrected)
            .map_err(|e| format!("trial histogram of '{}': {e}", tag.tag))?;
        match &mut out {
            None => out = Some(h),
            Some(o) => o
                .add(&h)
                .map_err(|e| format!("histograms cannot be added: {e:?}"))?,
        }
    }
    out.ok_or_else(|| "a trial has no histogram".to_string())
}
