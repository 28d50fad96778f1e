//! The four charts of the report, each one inline SVG with a title, a legend, labelled axes
//! with units, and one panel per scenario where scenarios differ by orders of magnitude (a
//! shared axis would flatten the slow scenarios to nothing).
//!
//! Every mark carries its stack's class (`s0`, `s1`, … in run order) and colour, the same in
//! every chart, and a `<title>` that a browser shows on hover, so the exact figure is one
//! pointer away without any script.

use stackwise_results::summary::{find, Cell};
use stackwise_results::{Language, RunResult};

use crate::html::{axis, bytes, ms, rate};
use crate::latency::{Curve, MAX_NINES};
use crate::svg::{linear_ticks, log_ticks, text_width, Anchor, Scale, Svg};

/// Width of every chart in SVG units; the page scales it to the column.
const WIDTH: f64 = 1120.0;
/// Where the panels start, below the title, the caption and the legend.
const PANELS_TOP: f64 = 96.0;

/// Colours for the Node side's stacks (JavaScript, TypeScript: warm) and Python's (cool), so
/// the language of a bar is visible before its label is read; other languages take the
/// neutral ones.
const NODE_COLOURS: [&str; 5] = ["#e8710a", "#5b9a1d", "#d62d20", "#c2185b", "#a87c00"];
const PYTHON_COLOURS: [&str; 5] = ["#1a66d6", "#7b3fc4", "#00897b", "#3949ab", "#0097c7"];
const OTHER_COLOURS: [&str; 4] = ["#546e7a", "#8d6e63", "#455a64", "#6d4c41"];

/// A stack's identity on the charts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StackStyle {
    pub id: String,
    pub language: String,
    pub colour: &'static str,
    /// `s0`, `s1`, … in run order: safe as a class whatever the stack's id.
    pub class: String,
}

/// One style per stack of the run, in run order.
pub(crate) fn styles(r: &RunResult) -> Vec<StackStyle> {
    let (mut node, mut python, mut other) = (0, 0, 0);
    r.stacks
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let colour = match s.side() {
                Some(Language::Javascript) => {
                    node += 1;
                    NODE_COLOURS[(node - 1) % NODE_COLOURS.len()]
                }
                Some(Language::Python) => {
                    python += 1;
                    PYTHON_COLOURS[(python - 1) % PYTHON_COLOURS.len()]
                }
                None => {
                    other += 1;
                    OTHER_COLOURS[(other - 1) % OTHER_COLOURS.len()]
                }
            };
            StackStyle {
                id: s.id.clone(),
                language: s.language.clone(),
                colour,
                class: format!("s{i}"),
            }
        })
        .collect()
}

/// The server cores every per-core figure is divided by.
fn cores(r: &RunResult) -> f64 {
    r.settings.server_cpus.len().max(1) as f64
}

/// A rectangle on the canvas.
#[derive(Debug, Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Columns for `n` panels: one row up to four, then rows of three or four.
fn columns(n: usize) -> usize {
    match n {
        0 => 1,
        1..=4 => n,
        5 | 6 | 9 => 3,
        _ => 4,
    }
}

/// The panels' rectangles, row by row, and the height of the whole grid.
fn grid(n: usize, top: f64, panel_h: f64) -> (Vec<Rect>, f64) {
    let cols = columns(n);
    let w = (WIDTH - 20.0) / cols as f64;
    let rects = (0..n)
        .map(|i| Rect {
            x: 10.0 + (i % cols) as f64 * w,
            y: top + (i / cols) as f64 * panel_h,
            w,
            h: panel_h,
        })
        .collect();
    let rows = n.div_ceil(cols).max(1);
    (rects, rows as f64 * panel_h)
}

/// An extra legend entry: a swatch drawn by `draw` at (x, y), then `label`.
struct Key {
    label: String,
    draw: fn(&mut Svg, f64, f64),
}

/// Title, caption and legend: every stack, then the chart's own keys.
fn header(svg: &mut Svg, title: &str, caption: &str, stacks: &[StackStyle], keys: &[Key]) {
    svg.text(10.0, 26.0, Anchor::Start, "c-title", 0.0, title);
    svg.text(10.0, 46.0, Anchor::Start, "c-caption", 0.0, caption);
    let mut x = 10.0;
    let y = 70.0;
    for s in stacks {
        svg.open_g(&format!(
            r#"class="legend-item {}" data-stack="{}""#,
            s.class, s.class
        ));
        svg.rect(
            x,
            y - 10.0,
            12.0,
            12.0,
            &format!(r#"rx="2" fill="{}""#, s.colour),
            "",
        );
        let label = format!("{} ({})", s.id, s.language);
        svg.text(x + 17.0, y, Anchor::Start, "legend", 0.0, &label);
        svg.close_g();
        x += 17.0 + text_width(&label, 12.0) + 18.0;
    }
    for k in keys {
        (k.draw)(svg, x, y);
        svg.text(x + 22.0, y, Anchor::Start, "legend", 0.0, &k.label);
        x += 22.0 + text_width(&k.label, 12.0) + 18.0;
    }
}

/// One bar of a bar panel.
#[derive(Debug, Clone, Default)]
struct Bar {
    value: Option<f64>,
    /// Whiskers: the slowest and fastest trial.
    range: Option<(f64, f64)>,
    /// A dashed box from the value up to here: where the true figure may lie.
    beyond: Option<f64>,
    fill: &'static str,
    /// Drawn pale: the lesser of two bars of one stack.
    pale: bool,
    class: String,
    /// Written above the bar.
    label: String,
    /// Written in place of a bar that has no value.
    missing: String,
    tip: String,
}

/// Bars side by side under one label.
#[derive(Debug, Clone)]
struct Group {
    label: String,
    bars: Vec<Bar>,
}

/// A bar panel: title, y axis from 0 with `y_label`, groups along x.
fn bar_panel(
    svg: &mut Svg,
    at: Rect,
    title: &str,
    subtitle: &str,
    y_label: &str,
    groups: &[Group],
) {
    svg.open_g(r#"class="panel""#);
    svg.text(
        at.x + 52.0,
        at.y + 14.0,
        Anchor::Start,
        "p-title",
        0.0,
        title,
    );
    svg.text(
        at.x + 52.0,
        at.y + 30.0,
        Anchor::Start,
        "p-sub",
        0.0,
        subtitle,
    );
    let slot = (at.w - 72.0) / groups.len().max(1) as f64;
    let turn = groups
        .iter()
        .any(|g| text_width(&g.label, 11.0) > slot - 6.0);
    let plot = Rect {
        x: at.x + 52.0,
        y: at.y + 48.0,
        w: at.w - 72.0,
        h: at.h - 48.0 - if turn { 62.0 } else { 30.0 },
    };
    let max = groups
        .iter()
        .flat_map(|g| &g.bars)
        .flat_map(|b| [b.value, b.range.map(|r| r.1), b.beyond])
        .flatten()
        .fold(0.0, f64::max);
    let ticks = linear_ticks(max, 4);
    let top = ticks.last().copied().unwrap_or(1.0);
    let y = Scale::linear((0.0, top), (plot.y + plot.h, plot.y));
    for t in &ticks {
        let ty = y.at(*t);
        svg.line(plot.x, ty, plot.x + plot.w, ty, "grid");
        svg.text(plot.x - 6.0, ty + 4.0, Anchor::End, "tick", 0.0, &axis(*t));
    }
    let mid = plot.y + plot.h / 2.0;
    svg.text(at.x + 12.0, mid, Anchor::Middle, "a-title", -90.0, y_label);
    let base = y.at(0.0);
    for (gi, g) in groups.iter().enumerate() {
        let gx = plot.x + gi as f64 * slot;
        let inner = slot * 0.76;
        let bw = (inner / g.bars.len().max(1) as f64).min(54.0);
        let x0 = gx + (slot - bw * g.bars.len() as f64) / 2.0;
        for (bi, b) in g.bars.iter().enumerate() {
            let bx = x0 + bi as f64 * bw;
            let cx = bx + bw / 2.0;
            let w = bw * 0.86;
            let left = cx - w / 2.0;
            svg.open_g(&format!(r#"class="mark {}""#, b.class));
            let mut top_y = base;
            if let Some(v) = b.value {
                let vy = y.at(v);
                let opacity = if b.pale {
                    r#" fill-opacity="0.38""#
                } else {
                    ""
                };
                svg.rect(
                    left,
                    vy,
                    w,
                    base - vy,
                    &format!(r#"class="bar" fill="{}"{opacity}"#, b.fill),
                    &b.tip,
                );
                top_y = vy;
            }
            if let Some(hi) = b.beyond {
                let lo = b.value.unwrap_or(0.0);
                if hi > lo {
                    let (hy, ly) = (y.at(hi), y.at(lo));
                    svg.rect(
                        left,
                        hy,
                        w,
                        ly - hy,
                        &format!(r#"class="beyond" stroke="{}""#, b.fill),
                        &b.tip,
                    );
                    top_y = top_y.min(hy);
                }
            }
            if let Some((lo, hi)) = b.range {
                let (ly, hy) = (y.at(lo), y.at(hi));
                let cap = (w * 0.22).clamp(3.0, 8.0);
                svg.line(cx, ly, cx, hy, "err");
                svg.line(cx - cap, ly, cx + cap, ly, "err");
                svg.line(cx - cap, hy, cx + cap, hy, "err");
                top_y = top_y.min(hy);
            }
            let bar_h = b.value.map_or(0.0, |v| base - y.at(v));
            if b.value.is_none() {
                svg.text(
                    cx + 4.0,
                    base - 6.0,
                    Anchor::Start,
                    "missing",
                    -90.0,
                    &b.missing,
                );
            } else if b.beyond.is_some() && bar_h > 18.0 && text_width(&b.label, 10.0) < w {
                // Above the dashed box the label would read as the box's top: keep it inside.
                let vy = base - bar_h;
                svg.text(cx, vy + 13.0, Anchor::Middle, "val-in", 0.0, &b.label);
            } else if !b.label.is_empty() {
                if text_width(&b.label, 10.0) > bw + 4.0 {
                    svg.text(cx + 3.5, top_y - 5.0, Anchor::Start, "val", -90.0, &b.label);
                } else {
                    svg.text(cx, top_y - 5.0, Anchor::Middle, "val", 0.0, &b.label);
                }
            }
            svg.close_g();
        }
        let lx = gx + slot / 2.0;
        let ly = base + 16.0;
        if turn {
            svg.text(lx + 4.0, ly - 2.0, Anchor::End, "x-label", -35.0, &g.label);
        } else {
            svg.text(lx, ly, Anchor::Middle, "x-label", 0.0, &g.label);
        }
    }
    svg.line(plot.x, base, plot.x + plot.w, base, "axis");
    svg.line(plot.x, plot.y, plot.x, base, "axis");
    svg.close_g();
}

/// What a scenario drove, for a panel's subtitle: `GET /json · 64 connections`.
fn driven(r: &RunResult, scenario: &str) -> String {
    r.stacks
        .iter()
        .flat_map(|s| &s.scenarios)
        .find(|sc| sc.scenario == scenario)
        .map(|sc| format!("{} · {} connections", sc.target, sc.connections))
        .unwrap_or_else(|| "not run".into())
}

/// Why a stack × scenario has no figure, in the fewest words that fit under a bar.
fn why_missing(r: &RunResult, cell: Option<&Cell>, stack: &str) -> String {
    match cell {
        Some(c) if c.error.is_some() => "error".into(),
        Some(_) => "no valid trial".into(),
        None if r.stacks.iter().any(|s| s.id == stack && s.error.is_some()) => "error".into(),
        None => "not run".into(),
    }
}

fn whisker_key(svg: &mut Svg, x: f64, y: f64) {
    svg.line(x + 9.0, y - 11.0, x + 9.0, y + 2.0, "err");
    svg.line(x + 5.0, y - 11.0, x + 13.0, y - 11.0, "err");
    svg.line(x + 5.0, y + 2.0, x + 13.0, y + 2.0, "err");
}

/// Requests per second per server core, one panel per scenario, whiskers from the slowest to
/// the fastest trial.
pub(crate) fn throughput(r: &RunResult, cells: &[Cell], stacks: &[StackStyle]) -> String {
    let scenarios = &r.settings.scenarios;
    let (rects, h) = grid(scenarios.len(), PANELS_TOP, 300.0);
    let title = "Throughput per server core";
    let mut svg = Svg::new("throughput", WIDTH, PANELS_TOP + h + 10.0, title);
    header(
        &mut svg,
        title,
        "requests/s per server core, median of the valid trials; higher is better",
        stacks,
        &[Key {
            label: "min–max of the trials".into(),
            draw: whisker_key,
        }],
    );
    stack_panels(&mut svg, r, stacks, rects, |s, scenario| {
        let cell = find(cells, &s.id, scenario);
        let spread = cell.filter(|c| c.error.is_none()).and_then(|c| c.per_core);
        match spread {
            Some(p) => Bar {
                value: Some(p.median),
                range: (p.n > 1).then_some((p.min, p.max)),
                label: rate(p.median),
                tip: format!(
                    "{} · {scenario}: {} req/s per core, median of {} trial{} (range {}–{})",
                    s.id,
                    rate(p.median),
                    p.n,
                    if p.n == 1 { "" } else { "s" },
                    rate(p.min),
                    rate(p.max)
                ),
                ..Bar::default()
            },
            None => Bar {
                missing: why_missing(r, cell, &s.id),
                ..Bar::default()
            },
        }
    });
    svg.finish()
}

/// One panel per scenario of the run, in `rects`, with one bar per stack in its colours:
/// `bar_for` gives the bar of a stack in a scenario.
fn stack_panels(
    svg: &mut Svg,
    r: &RunResult,
    stacks: &[StackStyle],
    rects: Vec<Rect>,
    bar_for: impl Fn(&StackStyle, &str) -> Bar,
) {
    for (scenario, at) in r.settings.scenarios.iter().zip(rects) {
        let groups: Vec<Group> = stacks
            .iter()
            .map(|s| Group {
                label: s.id.clone(),
                bars: vec![Bar {
                    fill: s.colour,
                    class: s.class.clone(),
                    ..bar_for(s, scenario)
                }],
            })
            .collect();
        let unit = stackwise_results::catalogue::scenario(scenario)
            .map_or("req/s", |c| c.kind.rate_unit());
        bar_panel(
            svg,
            at,
            scenario,
            &driven(r, scenario),
            &format!("{unit} per core"),
            &groups,
        );
    }
}

fn beyond_key(svg: &mut Svg, x: f64, y: f64) {
    svg.rect(
        x + 2.0,
        y - 11.0,
        14.0,
        13.0,
        r##"class="beyond" stroke="#555""##,
        "",
    );
}

/// Capacity at the p99 target per server core, one panel per scenario; a dashed box up to the
/// first rate that missed, since the true capacity lies in between.
pub(crate) fn capacity(r: &RunResult, cells: &[Cell], stacks: &[StackStyle]) -> String {
    let scenarios = &r.settings.scenarios;
    let cores = cores(r);
    let target = r.settings.p99_target_ms;
    let (rects, h) = grid(scenarios.len(), PANELS_TOP, 300.0);
    let title = format!("Capacity at p99 ≤ {} ms, per server core", ms(target));
    let mut svg = Svg::new("capacity", WIDTH, PANELS_TOP + h + 10.0, &title);
    header(
        &mut svg,
        &title,
        "the highest open-loop rate whose p99 stayed under the target with no errors, in requests/s per core; higher is better",
        stacks,
        &[Key {
            label: "up to the first rate that missed".into(),
            draw: beyond_key,
        }],
    );
    stack_panels(&mut svg, r, stacks, rects, |s, scenario| {
        let cell = find(cells, &s.id, scenario).filter(|c| c.error.is_none());
        let missed = cell.and_then(|c| c.capacity_missed_rps).map(|m| m / cores);
        match cell.map(|c| (c.capacity_rps, c.capacity_per_core)) {
            Some((Some(rps), Some(per_core))) if rps > 0.0 => Bar {
                value: Some(per_core),
                beyond: missed,
                label: rate(per_core),
                tip: format!(
                    "{} · {scenario}: {} req/s per core met p99 ≤ {} ms{}",
                    s.id,
                    rate(per_core),
                    ms(target),
                    missed
                        .map(|m| format!("; {} missed it", rate(m)))
                        .unwrap_or_default()
                ),
                ..Bar::default()
            },
            Some((Some(_), _)) => Bar {
                beyond: missed,
                missing: "no rate met the target".into(),
                tip: format!(
                    "{} · {scenario}: no rate met p99 ≤ {} ms{}",
                    s.id,
                    ms(target),
                    missed
                        .map(|m| format!("; even {} req/s per core missed it", rate(m)))
                        .unwrap_or_default()
                ),
                ..Bar::default()
            },
            Some(_) => Bar {
                missing: "not searched".into(),
                ..Bar::default()
            },
            None => Bar {
                missing: why_missing(r, find(cells, &s.id, scenario), &s.id),
                ..Bar::default()
            },
        }
    });
    svg.finish()
}

fn pale_key(svg: &mut Svg, x: f64, y: f64) {
    svg.rect(
        x + 2.0,
        y - 10.0,
        14.0,
        12.0,
        r##"fill="#555" fill-opacity="0.38""##,
        "",
    );
}

fn solid_key(svg: &mut Svg, x: f64, y: f64) {
    svg.rect(x + 2.0, y - 10.0, 14.0, 12.0, r##"fill="#555""##, "");
}

/// Memory per stack: PSS right after start (pale) and the peak under load over every scenario
/// (solid), in MiB.
pub(crate) fn memory(r: &RunResult, cells: &[Cell], stacks: &[StackStyle]) -> String {
    let title = "Memory: idle and peak under load";
    let panel_h = 290.0;
    let mut svg = Svg::new("memory", WIDTH, PANELS_TOP + panel_h + 10.0, title);
    header(
        &mut svg,
        title,
        "summed PSS of each server's processes (shared pages divided among their sharers), in MiB; lower is better",
        stacks,
        &[
            Key {
                label: "idle, after start".into(),
                draw: pale_key,
            },
            Key {
                label: "peak under load, highest over the scenarios".into(),
                draw: solid_key,
            },
        ],
    );
    const MIB: f64 = 1024.0 * 1024.0;
    let groups: Vec<Group> = stacks
        .iter()
        .zip(&r.stacks)
        .map(|(s, stack)| {
            let peak = cells
                .iter()
                .filter(|c| c.stack == s.id)
                .filter_map(|c| c.pss_peak_bytes)
                .max();
            let bar = |b: Option<u64>, what: &str, pale: bool| Bar {
                value: b.map(|b| b as f64 / MIB),
                label: b
                    .map(|b| format!("{:.0}", b as f64 / MIB))
                    .unwrap_or_default(),
                missing: "not measured".into(),
                tip: b
                    .map(|b| format!("{} · {what}: {}", s.id, bytes(b)))
                    .unwrap_or_default(),
                fill: s.colour,
                pale,
                class: s.class.clone(),
                ..Bar::default()
            };
            Group {
                label: s.id.clone(),
                bars: vec![
                    bar(stack.idle_pss_bytes, "idle", true),
                    bar(peak, "peak under load", false),
                ],
            }
        })
        .collect();
    let at = Rect {
        x: 10.0,
        y: PANELS_TOP,
        w: WIDTH - 20.0,
        h: panel_h,
    };
    bar_panel(
        &mut svg,
        at,
        "per stack",
        "idle: before any load; peak: highest sample during the trials of any scenario",
        "MiB",
        &groups,
    );
    svg.finish()
}

/// Memory held per 1,000 idle WebSocket connections, a panel per idle scenario of the run
/// (ws-idle), a bar per stack with the trials' range; none when the run held no connections.
pub(crate) fn held(r: &RunResult, cells: &[Cell], stacks: &[StackStyle]) -> Option<String> {
    let idle: Vec<&String> = r
        .settings
        .scenarios
        .iter()
        .filter(|s| {
            stackwise_results::catalogue::scenario(s).is_some_and(|c| c.kind.holds_connections())
        })
        .collect();
    if idle.is_empty() {
        return None;
    }
    let title = "Memory per 1,000 idle WebSocket connections";
    let (rects, h) = grid(idle.len(), PANELS_TOP, 290.0);
    let mut svg = Svg::new("held", WIDTH, PANELS_TOP + h + 10.0, title);
    header(
        &mut svg,
        title,
        "summed PSS while the connections were held, less before the first was opened, per 1,000 connections, in MiB; lower is better",
        stacks,
        &[Key {
            label: "min–max of the trials".into(),
            draw: whisker_key,
        }],
    );
    const MIB: f64 = 1024.0 * 1024.0;
    for (scenario, at) in idle.into_iter().zip(rects) {
        let groups: Vec<Group> = stacks
            .iter()
            .map(|s| {
                let cell = find(cells, &s.id, scenario);
                let bar = match cell.and_then(|c| c.held_per_1000_bytes) {
                    Some(h) => Bar {
                        value: Some(h.median / MIB),
                        range: (h.n > 1).then_some((h.min / MIB, h.max / MIB)),
                        label: format!("{:.1}", h.median / MIB),
                        tip: format!(
                            "{} · {scenario}: {} per 1,000 connections, median of {} trial{} (range {}–{})",
                            s.id,
                            bytes(h.median as u64),
                            h.n,
                            if h.n == 1 { "" } else { "s" },
                            bytes(h.min as u64),
                            bytes(h.max as u64)
                        ),
                        ..Bar::default()
                    },
                    None => Bar {
                        missing: why_missing(r, cell, &s.id),
                        ..Bar::default()
                    },
                };
                Group {
                    label: s.id.clone(),
                    bars: vec![Bar {
                        fill: s.colour,
                        class: s.class.clone(),
                        ..bar
                    }],
                }
            })
            .collect();
        bar_panel(
            &mut svg,
            at,
            scenario,
            &driven(r, scenario),
            "MiB per 1,000",
            &groups,
        );
    }
    Some(svg.finish())
}

/// One scenario's curves, for [`latency`]: per stack, its curve or why there is none.
pub(crate) type ScenarioCurves = Vec<(String, Result<Curve, String>)>;

/// Latency by percentile, one panel per scenario, one line per stack: x on the "nines" scale,
/// y logarithmic, so the median and the 99.99th percentile are both readable.
pub(crate) fn latency(r: &RunResult, curves: &[ScenarioCurves], stacks: &[StackStyle]) -> String {
    let scenarios = &r.settings.scenarios;
    let (rects, h) = grid(scenarios.len(), PANELS_TOP, 330.0);
    let title = "Latency by percentile";
    let mut svg = Svg::new("latency", WIDTH, PANELS_TOP + h + 10.0, title);
    header(
        &mut svg,
        title,
        "corrected latency of the valid trials' merged HDR histograms, ms on a log scale, by percentile; lower is better",
        stacks,
        &[Key {
            label: "p99".into(),
            draw: |svg, x, y| svg.circle(x + 9.0, y - 4.0, 4.0, r##"class="p99" stroke="#555""##, ""),
        }],
    );
    for ((scenario, at), per_stack) in scenarios.iter().zip(rects).zip(curves) {
        let sub = match stackwise_results::summary::latency_tag(scenario) {
            Some(tag) => format!("{} · /{tag} requests only", driven(r, scenario)),
            None => driven(r, scenario),
        };
        line_panel(&mut svg, at, scenario, &sub, per_stack, stacks);
    }
    svg.finish()
}

fn line_panel(
    svg: &mut Svg,
    at: Rect,
    title: &str,
    subtitle: &str,
    curves: &ScenarioCurves,
    stacks: &[StackStyle],
) {
    svg.open_g(r#"class="panel""#);
    svg.text(
        at.x + 56.0,
        at.y + 14.0,
        Anchor::Start,
        "p-title",
        0.0,
        title,
    );
    svg.text(
        at.x + 56.0,
        at.y + 30.0,
        Anchor::Start,
        "p-sub",
        0.0,
        subtitle,
    );
    let plot = Rect {
        x: at.x + 56.0,
        y: at.y + 48.0,
        w: at.w - 80.0,
        h: at.h - 48.0 - 58.0,
    };
    let values = curves
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok())
        .flat_map(|c| c.points.iter().map(|p| p.1))
        .filter(|v| *v > 0.0);
    let (lo, hi) = values.fold((f64::MAX, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = if hi > 0.0 { (lo, hi) } else { (0.1, 10.0) };
    let (y0, y1, ticks) = log_ticks(lo, hi);
    let y = Scale::log((y0, y1), (plot.y + plot.h, plot.y));
    let x = Scale::linear((0.0, MAX_NINES), (plot.x, plot.x + plot.w));
    for t in &ticks {
        let ty = y.at(*t);
        svg.line(plot.x, ty, plot.x + plot.w, ty, "grid");
        svg.text(plot.x - 6.0, ty + 4.0, Anchor::End, "tick", 0.0, &axis(*t));
    }
    for (n, label) in ["0%", "90%", "99%", "99.9%", "99.99%"].iter().enumerate() {
        let tx = x.at(n as f64);
        svg.line(tx, plot.y, tx, plot.y + plot.h, "grid");
        svg.text(
            tx,
            plot.y + plot.h + 16.0,
            Anchor::Middle,
            "tick",
            0.0,
            label,
        );
    }
    let bottom = plot.y + plot.h;
    svg.text(
        plot.x + plot.w / 2.0,
        bottom + 34.0,
        Anchor::Middle,
        "a-title",
        0.0,
        "percentile (nines scale)",
    );
    svg.text(
        at.x + 12.0,
        plot.y + plot.h / 2.0,
        Anchor::Middle,
        "a-title",
        -90.0,
        "latency, ms (log)",
    );
    let mut missing = Vec::new();
    for (stack, curve) in curves {
        let Some(style) = stacks.iter().find(|s| &s.id == stack) else {
            continue;
        };
        match curve {
            Ok(c) => {
                let points: Vec<(f64, f64)> =
                    c.points.iter().map(|(n, v)| (x.at(*n), y.at(*v))).collect();
                svg.open_g(&format!(r#"class="mark {}""#, style.class));
                let p99 = c.at(2.0).unwrap_or(0.0);
                let tip = format!(
                    "{stack} · {title}: p50 {} ms, p99 {} ms, p99.99 {} ms ({} responses, {} trial{})",
                    ms(c.at(std::f64::consts::LOG10_2).unwrap_or(0.0)),
                    ms(p99),
                    ms(c.at(4.0).unwrap_or(0.0)),
                    crate::html::thousands(c.count),
                    c.trials,
                    if c.trials == 1 { "" } else { "s" }
                );
                svg.path(
                    &points,
                    &format!(r#"class="curve" stroke="{}""#, style.colour),
                    &tip,
                );
                svg.circle(
                    x.at(2.0),
                    y.at(p99),
                    3.5,
                    &format!(r#"class="p99" stroke="{}""#, style.colour),
                    &tip,
                );
                svg.close_g();
            }
            Err(why) => missing.push(format!("{stack}: {why}")),
        }
    }
    for (i, m) in missing.iter().enumerate() {
        svg.text(
            plot.x + 8.0,
            plot.y + 14.0 + 14.0 * i as f64,
            Anchor::Start,
            "missing",
            0.0,
            m,
        );
    }
    svg.line(plot.x, bottom, plot.x + plot.w, bottom, "axis");
    svg.line(plot.x, plot.y, plot.x, bottom, "axis");
    svg.close_g();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_keep_rows_even() {
        assert_eq!(
            [1, 3, 4, 5, 6, 7, 8, 9, 13].map(columns),
            [1, 3, 4, 3, 3, 4, 4, 3, 4]
        );
        let (rects, h) = grid(9, 0.0, 100.0);
        assert_eq!((rects.len(), h), (9, 300.0));
    }

    /// TypeScript takes the Node side's colours, Python the Python side's, any other language
    /// the neutral ones, by the one reading of `language` the advisor uses too.
    #[test]
    fn colours_follow_the_language_side() {
        let mut r: RunResult = serde_json::from_str(include_str!(
            "../../stackwise/tests/fixtures/run-result.json"
        ))
        .expect("the fixture parses");
        r.stacks.truncate(4);
        for (s, lang) in r
            .stacks
            .iter_mut()
            .zip(["TypeScript", "Python", "Rust", "JavaScript"])
        {
            s.language = lang.to_string();
        }
        let colours: Vec<&str> = styles(&r).iter().map(|s| s.colour).collect();
        assert_eq!(
            colours,
            [
                NODE_COLOURS[0],
                PYTHON_COLOURS[0],
                OTHER_COLOURS[0],
                NODE_COLOURS[1]
            ]
        );
    }
}
