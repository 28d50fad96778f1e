//! Latency percentile curves from the raw HDR histograms, as HdrHistogram's own plots draw
//! them: latency against percentile on a "nines" axis, where 90%, 99%, 99.9% and 99.99% are
//! equally far apart, so the tail that decides a latency target is not squeezed into a corner.
//!
//! The trials' summaries only keep five percentiles each, and percentiles cannot be averaged;
//! the histograms of a stack's valid trials are added instead, which is exact.

use stackwise_results::histograms::{trial_latency, Histogram};
use stackwise_results::{ScenarioResult, Trial};

/// The last percentile drawn: 99.99%, four nines.
pub(crate) const MAX_NINES: f64 = 4.0;

/// Points drawn per nine.
const STEPS_PER_NINE: u32 = 20;

/// One stack's latency curve in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curve {
    /// (nines, milliseconds): nines = log10(1 / (1 - q)), 0 at the median's far left (q = 0),
    /// 2 at p99.
    pub points: Vec<(f64, f64)>,
    /// Responses behind the curve.
    pub count: u64,
    /// Valid trials merged.
    pub trials: usize,
}

impl Curve {
    /// Latency at the percentile whose nines is closest to `nines`.
    pub fn at(&self, nines: f64) -> Option<f64> {
        self.points
            .iter()
            .min_by(|a, b| (a.0 - nines).abs().total_cmp(&(b.0 - nines).abs()))
            .map(|p| p.1)
    }
}

/// The quantile (0 to 1) at `nines` on the nines scale: 1 is 0.9, 2 is 0.99.
pub(crate) fn quantile(nines: f64) -> f64 {
    // Whole nines exactly as the engine's summaries ask for them, so p99 here is p99 there.
    const WHOLE: [(f64, f64); 4] = [(1.0, 0.9), (2.0, 0.99), (3.0, 0.999), (4.0, 0.9999)];
    WHOLE
        .iter()
        .find(|(n, _)| *n == nines)
        .map_or_else(|| 1.0 - 10f64.powf(-nines), |(_, q)| *q)
}

/// The latency curve of the valid trials of `sc`, or why there is none: no valid trial, or a
/// histogram that could not be decoded (then the result is damaged and the reader must know).
pub(crate) fn curve(sc: &ScenarioResult) -> Result<Option<Curve>, String> {
    let valid: Vec<&Trial> = sc.trials.iter().filter(|t| t.valid).collect();
    let mut merged: Option<Histogram<u64>> = None;
    for t in &valid {
        let h = trial_latency(t, &sc.scenario)?;
        match &mut merged {
            None => merged = Some(h),
            Some(m) => m
                .add(&h)
                .map_err(|e| format!("histograms cannot be added: {e:?}"))?,
        }
    }
    let Some(h) = merged.filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    let points = (0..=(MAX_NINES as u32 * STEPS_PER_NINE))
        .map(|i| {
            let n = f64::from(i) / f64::from(STEPS_PER_NINE);
            (n, h.value_at_quantile(quantile(n)) as f64 / 1000.0)
        })
        .collect();
    Ok(Some(Curve {
        points,
        count: h.len(),
        trials: valid.len(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nines_scale_spaces_the_tail_evenly() {
        assert_eq!(quantile(0.0), 0.0);
        assert_eq!(quantile(1.0), 0.9);
        assert_eq!(quantile(2.0), 0.99);
        assert_eq!(quantile(4.0), 0.9999);
        assert!((quantile(2.5) - (1.0 - 10f64.powf(-2.5))).abs() < 1e-15);
    }
}
