//! Drawing primitives for the charts: scales, tick choice and an SVG writer.
//!
//! The charts are written by hand rather than with a plotting crate because the report needs
//! things such crates make awkward: a "nines" percentile axis, small multiples sharing one
//! legend, per-stack classes the page's script uses to focus a stack, and `<title>` tooltips
//! that work without script. Everything here is plain arithmetic on strings, so the output is
//! deterministic and a test can count what was drawn.

use std::fmt::Write;

use crate::html::esc;

/// A map from data values to pixels along one axis, linear or base-10 logarithmic.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
    log: bool,
}

impl Scale {
    pub fn linear(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale {
            d0: domain.0,
            d1: domain.1,
            r0: range.0,
            r1: range.1,
            log: false,
        }
    }

    /// `domain` in data units, both ends above zero.
    pub fn log(domain: (f64, f64), range: (f64, f64)) -> Scale {
        Scale {
            d0: domain.0.log10(),
            d1: domain.1.log10(),
            r0: range.0,
            r1: range.1,
            log: true,
        }
    }

    pub fn at(&self, v: f64) -> f64 {
        let v = if self.log { v.max(1e-12).log10() } else { v };
        let span = self.d1 - self.d0;
        let t = if span == 0.0 {
            0.0
        } else {
            (v - self.d0) / span
        };
        self.r0 + t * (self.r1 - self.r0)
    }
}

/// Ticks from 0 to at least `max` at a step of 1, 2 or 5 × 10^k, about `want` intervals: the
/// steps people read without effort.
pub(crate) fn linear_ticks(max: f64, want: usize) -> Vec<f64> {
    if !(max.is_finite() && max > 0.0) {
        return vec![0.0, 1.0];
    }
    let raw = max / want.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let n = (max / step).ceil().max(1.0) as usize;
    (0..=n).map(|i| i as f64 * step).collect()
}

/// Log-scale bounds that enclose `lo..hi` on 1-2-5 boundaries, and the ticks between them:
/// 1, 2, 5 per decade when the range spans few decades, else decades only.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let lo = lo.max(1e-3);
    let hi = hi.max(lo * 1.01);
    let decades = hi.log10().ceil() - lo.log10().floor();
    let mantissas: &[f64] = if decades <= 3.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let mut ticks = Vec::new();
    let mut e = lo.log10().floor() as i32;
    while ticks.last().is_none_or(|t: &f64| *t < hi) && e < 12 {
        for m in mantissas {
            ticks.push(m * 10f64.powi(e));
        }
        e += 1;
    }
    // Keep one tick at or below lo and one at or above hi.
    let first = ticks
        .iter()
        .rposition(|t| *t <= lo * 1.0000001)
        .unwrap_or(0);
    let last = ticks
        .iter()
        .position(|t| *t >= hi * 0.9999999)
        .unwrap_or(ticks.len() - 1);
    let ticks = ticks[first..=last].to_vec();
    (ticks[0], ticks[ticks.len() - 1], ticks)
}

/// An approximate width of `text` at `size` px in the report's sans-serif font, for laying out
/// legends and deciding when labels must turn.
pub(crate) fn text_width(text: &str, size: f64) -> f64 {
    text.chars().count() as f64 * size * 0.58
}

/// An SVG document written as it is drawn.
#[derive(Debug)]
pub(crate) struct Svg {
    out: String,
}

/// How a text anchors at its point.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

impl Svg {
    /// An SVG of `width` × `height` that scales to its container; `title` is what assistive
    /// technology reads and what a browser shows on hover.
    pub fn new(class: &str, width: f64, height: f64, title: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="chart {class}" viewBox="0 0 {width:.0} {height:.0}" role="img"><title>{}</title>"#,
            esc(title)
        );
        Svg { out }
    }

    pub fn open_g(&mut self, attrs: &str) {
        let _ = write!(self.out, "<g {attrs}>");
    }

    pub fn close_g(&mut self) {
        self.out.push_str("</g>");
    }

    /// A rectangle; `tip` becomes a hover tooltip when not empty.
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, attrs: &str, tip: &str) {
        let _ = write!(
            self.out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" {attrs}"#,
            w.max(0.0),
            h.max(0.0)
        );
        self.close_with_tip(tip, "rect");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" class="{class}"/>"#
        );
    }

    /// A polyline through `points`.
    pub fn path(&mut self, points: &[(f64, f64)], attrs: &str, tip: &str) {
        let mut d = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" });
        }
        let _ = write!(self.out, r#"<path d="{d}" {attrs}"#);
        self.close_with_tip(tip, "path");
    }

    pub fn circle(&mut self, x: f64, y: f64, r: f64, attrs: &str, tip: &str) {
        let _ = write!(
            self.out,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" {attrs}"#
        );
        self.close_with_tip(tip, "circle");
    }

    /// Text at a point, escaped; `rotate` in degrees about that point.
    pub fn text(&mut self, x: f64, y: f64, anchor: Anchor, class: &str, rotate: f64, text: &str) {
        let transform = if rotate == 0.0 {
            String::new()
        } else {
            format!(r#" transform="rotate({rotate:.0} {x:.1} {y:.1})""#)
        };
        let _ = write!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{}" class="{class}"{transform}>{}</text>"#,
            anchor.as_str(),
            esc(text)
        );
    }

    fn close_with_tip(&mut self, tip: &str, element: &str) {
        if tip.is_empty() {
            self.out.push_str("/>");
        } else {
            let _ = write!(self.out, "><title>{}</title></{element}>", esc(tip));
        }
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_round_and_cover_the_maximum() {
        assert_eq!(
            linear_ticks(4956.0, 5),
            [0.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0]
        );
        assert_eq!(linear_ticks(77.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0]);
        assert_eq!(linear_ticks(1.0, 4), [0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(linear_ticks(0.0, 5), [0.0, 1.0]);
        assert_eq!(linear_ticks(f64::NAN, 5), [0.0, 1.0]);
    }

    #[test]
    fn log_ticks_enclose_the_range() {
        let (lo, hi, ticks) = log_ticks(0.35, 41.0);
        assert_eq!((lo, hi), (0.2, 50.0));
        assert_eq!(ticks, [0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0]);
        let (lo, hi, ticks) = log_ticks(0.05, 2000.0);
        assert_eq!((lo, hi), (0.01, 10000.0));
        assert_eq!(ticks.len(), 7);
        let (lo, hi, _) = log_ticks(3.0, 3.0);
        assert!(lo <= 3.0 && hi > 3.0);
    }

    #[test]
    fn scales_map_ends_to_ends() {
        let s = Scale::linear((0.0, 100.0), (200.0, 0.0));
        assert_eq!((s.at(0.0), s.at(50.0), s.at(100.0)), (200.0, 100.0, 0.0));
        let s = Scale::log((1.0, 100.0), (0.0, 10.0));
        assert!((s.at(10.0) - 5.0).abs() < 1e-9);
    }

    #[test]
    fn text_is_escaped() {
        let mut svg = Svg::new("t", 10.0, 10.0, "a<b");
        svg.text(0.0, 0.0, Anchor::Start, "c", 0.0, "<script>");
        let s = svg.finish();
        assert!(s.contains("a&lt;b") && s.contains("&lt;script&gt;"), "{s}");
        assert!(!s.contains("<script>"));
    }
}
