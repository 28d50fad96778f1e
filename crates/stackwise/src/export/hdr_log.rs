//! The raw histograms in HdrHistogram's interval log format, one line per tag and kind
//! (`<tag>.corrected`, `<tag>.uncorrected`; a WebSocket run adds `handshake`), readable by
//! HdrHistogram's plotters.

use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use stackwise_engine::hdr::{self, LogEntry};
use stackwise_engine::LoadReport;

pub fn write(report: &LoadReport, path: &Path) -> anyhow::Result<()> {
    let mut decoded = Vec::new();
    for t in &report.tags {
        let r = t
            .to_recording()
            .with_context(|| format!("cannot decode the histograms of '{}'", t.tag))?;
        decoded.push((t.tag.clone(), r));
    }
    let handshake = match &report.ws {
        Some(w) => Some(
            hdr::decode(&w.handshake_histogram).context("cannot decode the handshake histogram")?,
        ),
        None => None,
    };
    let mut entries: Vec<LogEntry<'_>> = decoded
        .iter()
        .flat_map(|(tag, r)| {
            [
                LogEntry {
                    tag: format!("{tag}.corrected"),
                    histogram: &r.corrected,
                },
                LogEntry {
                    tag: format!("{tag}.uncorrected"),
                    histogram: &r.uncorrected,
                },
            ]
        })
        .collect();
    if let Some(h) = &handshake {
        entries.push(LogEntry {
            tag: "handshake".to_string(),
            histogram: h,
        });
    }
    let mut out = Vec::new();
    let comment = format!("{} load {}", report.tool, report.plan.url);
    hdr::write_interval_log(
        &mut out,
        // The log's start is when measuring began; the result keeps only its length.
        SystemTime::now() - Duration::from_secs_f64(report.elapsed_s),
        Duration::from_secs_f64(report.elapsed_s),
        &comment,
        &entries,
    )?;
    std::fs::write(path, out).with_context(|| format!("cannot write '{}'", path.display()))
}
