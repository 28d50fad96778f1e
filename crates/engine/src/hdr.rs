//! Histograms in HdrHistogram's own encodings, so any HdrHistogram tool can read them.
//!
//! A result carries each histogram as base64 of the compressed V2 encoding (what the interval
//! log holds per line); decoding and adding them back is how shards merge exactly. The interval
//! log writer produces the interchange format that HdrHistogram's plotters and log processors
//! take.

use std::io::Write;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use hdrhistogram::serialization::interval_log::{IntervalLogWriterBuilder, Tag};
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum HdrError {
    #[error("histogram is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("histogram cannot be decoded: {0}")]
    Decode(String),
    #[error("histogram cannot be encoded: {0}")]
    Encode(String),
    #[error("cannot write the interval log: {0}")]
    Io(#[from] std::io::Error),
}

/// Base64 of the compressed V2 encoding.
pub fn encode(h: &Histogram<u64>) -> Result<String, HdrError> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| HdrError::Encode(format!("{e:?}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The inverse of [`encode`].
pub fn decode(s: &str) -> Result<Histogram<u64>, HdrError> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(s.trim())?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| HdrError::Decode(format!("{e:?}")))
}

/// One histogram of an interval log.
#[derive(Debug)]
pub struct LogEntry<'a> {
    /// Written as the line's tag; characters the format forbids become `_`.
    pub tag: String,
    pub histogram: &'a Histogram<u64>,
}

/// Writes `entries` as one interval of `duration` starting at `start`, in HdrHistogram's interval
/// log format. Values are microseconds; the log's max column is given in milliseconds.
pub fn write_interval_log(
    out: &mut impl Write,
    start: SystemTime,
    duration: Duration,
    comment: &str,
    entries: &[LogEntry<'_>],
) -> Result<(), HdrError> {
    let mut serializer = V2DeflateSerializer::new();
    let mut log = IntervalLogWriterBuilder::new()
        .add_comment(comment)
        .add_comment("values in microseconds")
        .with_start_time(start)
        .with_base_time(start)
        .with_max_value_divisor(1000.0)
        .begin_log_with(out, &mut serializer)?;
    log.write_comment(
        "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"",
    )?;
    for e in entries {
        let tag: String = e
            .tag
            .chars()
            .map(|c| {
                if matches!(c, ',' | ' ' | '\r' | '\n') {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        log.write_histogram(e.histogram, Duration::ZERO, duration, Tag::new(&tag))
            .map_err(|e| HdrError::Encode(e.to_string()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::latency_histogram;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry as Parsed};

    #[test]
    fn encoding_round_trips_exactly() {
        let mut h = latency_histogram();
        for v in [1, 10, 100, 1_000, 123_456, 3_000_000] {
            h.record_n(v, v).unwrap();
        }
        let back = decode(&encode(&h).unwrap()).unwrap();
        assert_eq!(back, h);
        assert!(decode("not base64!").is_err());
    }

    #[test]
    fn interval_log_is_readable_by_the_reference_parser() {
        let mut h = latency_histogram();
        h.record(250).unwrap();
        let mut out = Vec::new();
        let entries = [LogEntry {
            tag: "get /json".into(),
            histogram: &h,
        }];
        write_interval_log(
            &mut out,
            SystemTime::now(),
            Duration::from_secs(2),
            "test",
            &entries,
        )
        .unwrap();
        let parsed: Vec<_> = IntervalLogIterator::new(&out)
            .filter_map(|e| match e.unwrap() {
                Parsed::Interval(i) => Some((i.tag().unwrap().as_str().to_string(), i.duration())),
                _ => None,
            })
            .collect();
        assert_eq!(
            parsed,
            vec![("get_/json".to_string(), Duration::from_secs(2))]
        );
    }
}
