//! The page around the charts: run header and banners, the tables of figures, the ranking, the
//! notes, and the sections other commands fill. Everything a chart shows is also in a table, so
//! the report reads without the charts (printed in black and white, or by a screen reader).

use std::fmt::Write;

use stackwise_results::summary::{find, latency_tag, ranking, Cell, Spread};
use stackwise_results::{RunResult, StackResult, OTHER_LOAD_WARNING};

use crate::charts::StackStyle;
use crate::html::{bytes, esc, ms, rate, thousands};

/// Said at the top (and the end) of a quick or unfinished run's report, in the words of every
/// other output.
pub use stackwise_results::fmt::{QUICK_BANNER, UNFINISHED_BANNER};

/// The banners a reader must not miss, as HTML.
pub(crate) fn banners(r: &RunResult) -> String {
    let mut out = String::new();
    if r.quick {
        let _ = write!(out, r#"<p class="banner quick">{}</p>"#, esc(QUICK_BANNER));
    }
    if r.finished_at.is_none() {
        let _ = write!(
            out,
            r#"<p class="banner unfinished">{}</p>"#,
            esc(UNFINISHED_BANNER)
        );
    }
    out
}

/// The run's header: when, where, how, with which versions.
pub(crate) fn facts(r: &RunResult) -> String {
    let mut rows = stackwise_results::summary::run_facts(r);
    rows.push(("Measured by", r.tool.clone()));
    let mut out = String::from(r#"<dl class="facts">"#);
    for (k, v) in rows {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&v));
    }
    out.push_str("</dl>");
    out
}

/// The contestants: framework, workers, memory, start-up, install.
pub(crate) fn stacks_table(r: &RunResult, cells: &[Cell], styles: &[StackStyle]) -> String {
    let mut out = String::from(
        r#"<table class="stacks"><thead><tr><th>stack</th><th>framework and database access</th><th>language</th><th class="num">workers</th><th class="num">idle PSS</th><th class="num">peak PSS</th><th class="num">CPU ms/req</th><th class="num">start-up</th><th class="num">install</th><th class="num">deps</th><th class="num">lines</th></tr></thead><tbody>"#,
    );
    for (s, style) in r.stacks.iter().zip(styles) {
        let mine: Vec<&Cell> = cells.iter().filter(|c| c.stack == s.id).collect();
        let peak = mine.iter().filter_map(|c| c.pss_peak_bytes).max();
        let cpu = Spread::of(
            &mine
                .iter()
                .filter_map(|c| c.cpu_ms_per_request)
                .collect::<Vec<_>>(),
        );
        let startup = Spread::of(&s.startup_s);
        let _ = write!(
            out,
            r#"<tr class="{}"><th>{}{}</th><td>{} {}<small>{}</small></td><td>{}</td><td class="num" title="{}">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num" title="median over the scenarios">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            style.class,
            swatch(style),
            esc(&s.id),
            esc(&s.name),
            esc(&s.framework_version),
            esc(&[
                Some(s.database.clone()),
                s.data_library.as_ref().map(|l| format!("data: {l}")),
                s.ml_library.as_ref().map(|l| format!("ML: {l}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ")),
            esc(&s.language),
            esc(&match &s.websocket {
                Some(ws) => format!("{}; WebSockets: {}", s.workers_rule, ws.workers_rule),
                None => s.workers_rule.clone(),
            }),
            esc(&s.workers_text()),
            s.idle_pss_bytes.map_or("-".into(), bytes),
            peak.map_or("-".into(), bytes),
            cpu.map_or("-".into(), |c| format!("{:.3}", c.median)),
            startup.map_or("-".into(), |t| format!("{:.2} s", t.median)),
            match s.installed_bytes {
                0 => "-".into(),
                b => format!("{} in {:.0} s", bytes(b), s.install_seconds),
            },
            thousands(s.dependencies),
            thousands(s.lines_of_code),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn swatch(style: &StackStyle) -> String {
    format!(
        r#"<span class="swatch" style="background:{}"></span>"#,
        style.colour
    )
}

/// Why a stack × scenario has no figure: `error`, `not run`; `f` gives the figure otherwise.
fn value(
    stack: &StackResult,
    cell: Option<&Cell>,
    f: &dyn Fn(&Cell) -> (String, String),
) -> (String, String) {
    match cell {
        Some(c) if c.error.is_some() => ("error".into(), "missing".into()),
        Some(c) => f(c),
        None if stack.error.is_some() => ("error".into(), "missing".into()),
        None => ("not run".into(), "missing".into()),
    }
}

/// A stack × scenario table; `f` gives a cell's HTML (already escaped) and its class.
pub(crate) fn matrix(
    r: &RunResult,
    cells: &[Cell],
    styles: &[StackStyle],
    f: &dyn Fn(&Cell) -> (String, String),
) -> String {
    let mut out = String::from(r#"<table class="matrix"><thead><tr><th>stack</th>"#);
    for s in &r.settings.scenarios {
        let _ = write!(out, r#"<th class="num">{}</th>"#, esc(s));
    }
    out.push_str("</tr></thead><tbody>");
    for (stack, style) in r.stacks.iter().zip(styles) {
        let _ = write!(
            out,
            r#"<tr class="{}"><th>{}{}</th>"#,
            style.class,
            swatch(style),
            esc(&stack.id)
        );
        for scenario in &r.settings.scenarios {
            let (html, class) = value(stack, find(cells, &stack.id, scenario), f);
            let _ = write!(out, r#"<td class="num {class}">{html}</td>"#);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// Whether `c`'s figure is the best of its scenario, for bold type in the tables.
fn best(cells: &[Cell], c: &Cell, key: impl Fn(&Cell) -> Option<f64>, higher: bool) -> bool {
    let Some(mine) = key(c) else { return false };
    cells
        .iter()
        .filter(|o| o.scenario == c.scenario && o.error.is_none())
        .filter_map(&key)
        .all(|o| if higher { mine >= o } else { mine <= o })
}

/// Throughput per core: median, and its 95% interval and ratio to the fastest beneath it.
pub(crate) fn throughput_table(r: &RunResult, cells: &[Cell], styles: &[StackStyle]) -> String {
    let per_core = |c: &Cell| c.per_core.map(|p| p.median);
    matrix(r, cells, styles, &|c| match c.per_core {
        Some(p) => {
            let detail = if p.n > 1 {
                let ratio = c
                    .ratio
                    .map(|r| format!(" · {:.2}× fastest ({:.2}–{:.2})", r.median, r.lo, r.hi))
                    .unwrap_or_default();
                format!("{}–{}{ratio}", rate(p.lo), rate(p.hi))
            } else {
                "1 trial".into()
            };
            let class = if best(cells, c, per_core, true) {
                "best"
            } else {
                ""
            };
            (
                format!(r#"{}<small>{}</small>"#, rate(p.median), esc(&detail)),
                class.into(),
            )
        }
        None => ("no valid trial".into(), "missing".into()),
    })
}

/// p50 and p99 latency, ms.
pub(crate) fn latency_table(r: &RunResult, cells: &[Cell], styles: &[StackStyle]) -> String {
    let p99 = |c: &Cell| c.p99_ms.map(|p| p.median);
    matrix(r, cells, styles, &|c| match (c.p50_ms, c.p99_ms) {
        (Some(p50), Some(p99s)) => {
            let class = if best(cells, c, p99, false) {
                "best"
            } else {
                ""
            };
            (
                format!("{}<small>p50 {}</small>", ms(p99s.median), ms(p50.median)),
                class.into(),
            )
        }
        _ => ("no valid trial".into(), "missing".into()),
    })
}

/// Capacity per core at the target, with the rate that missed.
pub(crate) fn capacity_table(r: &RunResult, cells: &[Cell], styles: &[StackStyle]) -> String {
    let cores = r.settings.server_cpus.len().max(1) as f64;
    let cap = |c: &Cell| c.capacity_per_core.filter(|v| *v > 0.0);
    matrix(
        r,
        cells,
        styles,
        &|c| match (c.capacity_rps, c.capacity_per_core) {
            (Some(rps), Some(per_core)) if rps > 0.0 => {
                let lower_bound = c.capacity_is_lower_bound();
                let missed = c
                    .capacity_missed_rps
                    .map(|m| format!("{} missed", rate(m / cores)))
                    .unwrap_or_else(|| "every rate tried met it: a lower bound".into());
                let class = if best(cells, c, cap, true) {
                    "best"
                } else {
                    ""
                };
                let at_least = if lower_bound { "≥ " } else { "" };
                (
                    format!(
                        "{at_least}{}<small>{}</small>",
                        rate(per_core),
                        esc(&missed)
                    ),
                    class.into(),
                )
            }
            (Some(_), _) => {
                let missed = c
                    .capacity_missed_rps
                    .map(|m| format!("even {} missed", rate(m / cores)))
                    .unwrap_or_default();
                (
                    format!("no rate met the target<small>{}</small>", esc(&missed)),
                    "none-met".into(),
                )
            }
            (None, _) => ("not searched".into(), "missing".into()),
        },
    )
}

/// One line per scenario: the order by throughput, `≈` where the trials' ranges overlap.
pub(crate) fn ranking_table(r: &RunResult, cells: &[Cell]) -> String {
    let mut out = String::from(
        r#"<table class="ranking"><thead><tr><th>scenario</th><th>fastest first</th><th>not ranked</th></tr></thead><tbody>"#,
    );
    for scenario in &r.settings.scenarios {
        let k = ranking(cells, scenario);
        let order = if k.places.is_empty() {
            "-".to_string()
        } else {
            k.order()
        };
        let _ = write!(
            out,
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            esc(scenario),
            esc(&order),
            esc(&k.unranked.join(", "))
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// Scenario captions for the latency table: what a mixed scenario reports.
pub(crate) fn latency_caption(r: &RunResult) -> String {
    let tagged: Vec<String> = r
        .settings
        .scenarios
        .iter()
        .filter_map(|s| latency_tag(s).map(|tag| format!("{s}: of its /{tag} requests alone")))
        .collect();
    if tagged.is_empty() {
        String::new()
    } else {
        format!("; {}", tagged.join("; "))
    }
}

/// What a reader must know besides the figures (see [`stackwise_results::summary::notes`]),
/// then `extra` (damaged histograms); one line each.
pub(crate) fn notes(r: &RunResult, cells: &[Cell], extra: &[String]) -> Vec<String> {
    let mut out = stackwise_results::summary::notes(r, cells);
    out.extend(extra.iter().cloned());
    out
}

/// The notes as HTML, or a line saying there are none and what that means.
pub(crate) fn notes_html(notes: &[String]) -> String {
    if notes.is_empty() {
        return format!(
            r#"<p class="ok">None: no errors, every trial valid, other processes under {:.0}% of the machine.</p>"#,
            OTHER_LOAD_WARNING * 100.0
        );
    }
    let mut out = String::from(r#"<ul class="notes">"#);
    for n in notes {
        let _ = write!(out, "<li>{}</li>", esc(n));
    }
    out.push_str("</ul>");
    out
}
