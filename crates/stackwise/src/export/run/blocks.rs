//! What the terminal table and Markdown say about a run, as format-free blocks: a title, facts,
//! grids, lists. Both renderers print the same blocks, so a figure added here appears in both.
//!
//! Cells say why they hold no figure: `error` (not measured; see the notes), `invalid` (no valid
//! trial), `-` (not run, or not searched).

use stackwise_results::summary::{self, latency_tag, Cell, Ranking};
use stackwise_results::{catalogue, StackResult};

use super::{startup_median, View, QUICK_BANNER, UNFINISHED_BANNER};
use crate::export::terminal::thousands;
use stackwise_results::fmt::{bytes, ms, number, rate};

/// One piece of a human report.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Block {
    /// A warning that must not be missed.
    Banner(String),
    /// The report's own title.
    Title(String),
    /// Labelled facts, one a line.
    Facts(Vec<(String, String)>),
    /// A section's title.
    Heading(String),
    /// A line explaining the section below.
    Caption(String),
    Grid(Grid),
    /// Items, one a line.
    List(Vec<String>),
}

/// A table: a header and rows of the same width.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Grid {
    pub head: Vec<String>,
    /// How each column aligns.
    pub align: Vec<Align>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// A detail of the row above (a range, a CV) rather than a row of its own.
    pub sub: bool,
    pub cells: Vec<String>,
}

/// Everything the human formats show, in reading order.
pub(super) fn build(v: &View<'_>) -> Vec<Block> {
    let r = v.r;
    let mut banners = Vec::new();
    if r.quick {
        banners.push(Block::Banner(QUICK_BANNER.to_string()));
    }
    if r.finished_at.is_none() {
        banners.push(Block::Banner(UNFINISHED_BANNER.to_string()));
    }
    let mut out = banners.clone();
    out.push(Block::Title(format!("Run {} ({})", r.id, r.tool)));
    out.push(Block::Facts(
        summary::run_facts(v.r)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    ));
    if r.stacks.is_empty() {
        out.push(Block::Heading("Results".into()));
        out.push(Block::List(vec!["no stack was measured".into()]));
    } else {
        figures(v, &mut out);
    }

    out.push(Block::Heading("Notes".into()));
    let notes: Vec<String> = v
        .notes()
        .into_iter()
        .filter(|n| n != QUICK_BANNER && n != UNFINISHED_BANNER)
        .collect();
    if notes.is_empty() {
        out.push(Block::List(vec![format!(
            "none: no errors, every trial valid, other processes under {:.0}% of the machine",
            stackwise_results::OTHER_LOAD_WARNING * 100.0
        )]));
    } else {
        out.push(Block::List(notes));
    }
    // Repeated at the end, where a reader of a long report arrives at the conclusions.
    out.extend(banners);
    out
}

/// The measurements: what was driven, then throughput, latency, capacity, the stacks' own
/// figures and the ranking.
fn figures(v: &View<'_>, out: &mut Vec<Block>) {
    let r = v.r;
    out.push(Block::Heading("Scenarios".into()));
    out.push(Block::Grid(scenarios(v)));

    out.push(Block::Heading(
        "Throughput: requests/s per server core, median of the valid trials".into(),
    ));
    let mut caption = "interval: 95% interval of the median; vs fastest: the ratio to the \
                       scenario's fastest stack, taken round by round, with its interval"
        .to_string();
    // A WebSocket scenario's requests are messages on connections that stay open.
    let mut websocket = false;
    for id in &r.settings.scenarios {
        let means = catalogue::scenario(id).and_then(|c| c.kind.request_means());
        if let Some(means) = means {
            caption.push_str(&format!("; {id}: a request is {means}"));
            websocket = true;
        }
    }
    if websocket {
        caption.push_str("; only stacks that serve WebSockets take part in those");
    }
    // The GIL scenarios' servers have other CPUs than the run's: per core of theirs.
    for id in &r.settings.scenarios {
        let cpus = r
            .stacks
            .iter()
            .flat_map(|s| &s.scenarios)
            .find(|sc| &sc.scenario == id)
            .and_then(|sc| sc.server_cpus.as_ref());
        if let Some(cpus) = cpus {
            caption.push_str(&format!(
                "; {id}: servers on {} CPU{} ({}), per core of those",
                cpus.len(),
                if cpus.len() == 1 { "" } else { "s" },
                stackwise_results::fmt::cpus(cpus)
            ));
        }
    }
    out.push(Block::Caption(caption));
    out.push(Block::Grid(throughput(v)));

    out.push(Block::Heading(
        "p99 latency in ms, median of the valid trials".into(),
    ));
    // A scenario that mixes fast and slow requests reports the fast ones' latency.
    let tagged: Vec<String> = r
        .settings
        .scenarios
        .iter()
        .filter_map(|s| latency_tag(s).map(|tag| format!("{s}: of its /{tag} requests alone")))
        .collect();
    if !tagged.is_empty() {
        out.push(Block::Caption(tagged.join("; ")));
    }
    out.push(Block::Grid(matrix(v, |c| match &c.p99_ms {
        Some(s) => ms(s.median),
        None => "invalid".into(),
    })));

    out.push(Block::Heading(format!(
        "Capacity at p99 ≤ {} ms: requests/s per server core",
        number(r.settings.p99_target_ms)
    )));
    if r.settings.capacity_probes == 0 {
        out.push(Block::Caption(
            "not probed: this run ran no open-loop probes; a quick run ranks throughput, the \
             default run probes capacity"
                .into(),
        ));
    } else {
        out.push(Block::Caption(
            "the highest open-loop rate that met the target; ≥x: no rate tried missed it; <x: \
             even x missed it; -: not searched; *: its p99 rests on fewer responses than a \
             probe aims for (listed below)"
                .into(),
        ));
        out.push(Block::Grid(matrix(v, |c| capacity(c, v.cores))));
        // Stack by stack: `django: json 1,041, updates 35`.
        let mut few: Vec<String> = Vec::new();
        for stack in &v.r.stacks {
            let cells: Vec<String> = v
                .cells
                .iter()
                .filter(|c| c.stack == stack.id && few_responses(c))
                .map(|c| {
                    let n = thousands(c.capacity_responses.unwrap_or(0));
                    match broadcast(c) {
                        true => format!("{} {n} messages", c.scenario),
                        false => format!("{} {n}", c.scenario),
                    }
                })
                .collect();
            if !cells.is_empty() {
                few.push(format!("{}: {}", stack.id, cells.join(", ")));
            }
        }
        if !few.is_empty() {
            let starred_broadcast = v.cells.iter().any(|c| few_responses(c) && broadcast(c));
            let messages = match starred_broadcast {
                true => ", or in a broadcast messages, whose deliveries wait alike",
                false => "",
            };
            out.push(Block::Caption(format!(
                "* p99 of fewer than {} responses{messages} (the probe's longest time ran out \
                 first): {}",
                thousands(summary::PROBE_RESPONSES),
                few.join("; ")
            )));
        }
    }

    if let Some(grid) = held(v) {
        out.push(Block::Heading(
            "Idle WebSocket connections: memory held per 1,000".into(),
        ));
        out.push(Block::Caption(
            "summed PSS while the connections were held, less before the first were opened, per \
             1,000 of them; median of the valid trials (min–max); handshake p99 in ms"
                .into(),
        ));
        out.push(Block::Grid(grid));
    }

    let scalings = summary::scalings(v.r, &v.cells);
    if let Some(grid) = scaling(v, &scalings) {
        out.push(Block::Heading(
            "The GIL: throughput on every server core over one".into(),
        ));
        let how = match scalings.iter().all(|s| s.paired) {
            true => "the factor taken round by round (both measured in the same rounds) with its 95% interval",
            false => "the medians' ratio with an interval from their two intervals (measured apart)",
        };
        out.push(Block::Caption(format!(
            "parallel over parallel-1, requests/s of the whole server (not per core); {how}; \
             one process whose threads take turns under the GIL stays near 1×, worker processes \
             approach the cores; machines with more cores show more"
        )));
        out.push(Block::Grid(grid));
    }

    if let Some(grid) = libraries(v) {
        out.push(Block::Heading(
            "Data and ML: the library each stack used".into(),
        ));
        out.push(Block::Caption(
            "only stacks whose manifest names a library take part in data and ml; peak PSS: \
             the server's summed PSS at its highest in that scenario's trials (the libraries and \
             the model weigh)"
                .into(),
        ));
        out.push(Block::Grid(grid));
    }

    out.push(Block::Heading("Stacks".into()));
    out.push(Block::Caption(
        "peak PSS: highest over the scenarios; idle: after start, before load; start-up: median"
            .into(),
    ));
    out.push(Block::Grid(stacks(v)));

    out.push(Block::Heading(
        "Ranking by throughput, fastest first".into(),
    ));
    out.push(Block::Caption(
        ">: intervals apart; ≈: intervals overlap, so the order is within noise".into(),
    ));
    out.push(Block::Grid(rankings(&v.rankings())));
}

/// Each stack's scaling from `parallel-1` to `parallel`; none when the run has not both.
fn scaling(v: &View<'_>, scalings: &[summary::Scaling]) -> Option<Grid> {
    let rows: Vec<Row> = scalings
        .iter()
        .map(|s| {
            let stack = v.r.stacks.iter().find(|x| x.id == s.stack);
            Row {
                sub: false,
                cells: vec![
                    stack.map_or(s.stack.clone(), label),
                    summary::processes_text(s.processes, s.threads),
                    rate(s.one.median),
                    rate(s.many.median),
                    s.cores.to_string(),
                    format!("{:.2}× ({:.2}–{:.2})", s.factor, s.lo, s.hi),
                ],
            }
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let head = [
        "stack",
        "on many cores",
        "1 core",
        "many cores",
        "cores",
        "scaling",
    ];
    Some(Grid {
        head: head.iter().map(|h| h.to_string()).collect(),
        align: vec![
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ],
        rows,
    })
}

/// The library each stack used in the `data`, `ml` and `ml-image` scenarios of the run, with its
/// peak memory there; none when the run has none of them or no stack took part.
fn libraries(v: &View<'_>) -> Option<Grid> {
    let library = |s: &StackResult, id: &str| match id {
        "data" => s.data_library.clone(),
        // `[ml]`'s library, for the stacks whose table says they serve the image too (results
        // older than the field say it by having run the scenario).
        "ml-image" if !s.ml_image && !s.scenarios.iter().any(|r| r.scenario == id) => None,
        _ => s.ml_library.clone(),
    };
    let work: Vec<&str> = ["data", "ml", "ml-image"]
        .into_iter()
        .filter(|id| v.r.settings.scenarios.iter().any(|s| s == id))
        .collect();
    let rows: Vec<Row> =
        v.r.stacks
            .iter()
            .filter(|s| work.iter().any(|id| library(s, id).is_some()))
            .map(|s| {
                let mut cells = vec![label(s)];
                for id in &work {
                    cells.push(library(s, id).unwrap_or_else(|| "-".into()));
                    cells.push(value(v, s, id, &|c| {
                        c.pss_peak_bytes.map_or("-".into(), bytes)
                    }));
                }
                Row { sub: false, cells }
            })
            .collect();
    if rows.is_empty() {
        return None;
    }
    let mut head = vec!["stack".to_string()];
    let mut align = vec![Align::Left];
    for id in &work {
        head.push(format!("{id} library"));
        head.push(format!("{id} peak PSS"));
        align.extend([Align::Left, Align::Right]);
    }
    Some(Grid { head, align, rows })
}

/// The idle scenarios' memory per 1,000 held connections and handshake p99, a row per stack;
/// none when the run held no connections.
fn held(v: &View<'_>) -> Option<Grid> {
    let idle: Vec<&String> =
        v.r.settings
            .scenarios
            .iter()
            .filter(|s| catalogue::scenario(s).is_some_and(|c| c.kind.holds_connections()))
            .collect();
    if idle.is_empty() {
        return None;
    }
    let mut head = vec!["stack".to_string()];
    let mut align = vec![Align::Left];
    for s in &idle {
        head.extend([
            format!("{s} per 1,000"),
            "min–max".into(),
            "handshake p99".into(),
        ]);
        align.extend([Align::Right; 3]);
    }
    let rows =
        v.r.stacks
            .iter()
            .filter(|s| !s.ceiling)
            .map(|stack| {
                let mut cells = vec![label(stack)];
                for s in &idle {
                    let c = v.cell(&stack.id, s);
                    match c.and_then(|c| c.held_per_1000_bytes.map(|h| (h, c))) {
                        Some((h, c)) => cells.extend([
                            bytes(h.median as u64),
                            format!("{}–{}", bytes(h.min as u64), bytes(h.max as u64)),
                            c.p99_ms.map_or("-".into(), |p| ms(p.median)),
                        ]),
                        None => cells.extend([
                            value(v, stack, s, &|_| "invalid".into()),
                            String::new(),
                            String::new(),
                        ]),
                    }
                }
                Row { sub: false, cells }
            })
            .collect();
    Some(Grid { head, align, rows })
}

fn scenarios(v: &View<'_>) -> Grid {
    let rows =
        v.r.settings
            .scenarios
            .iter()
            .map(|name| {
                let sc =
                    v.r.stacks
                        .iter()
                        .flat_map(|s| &s.scenarios)
                        .find(|sc| &sc.scenario == name);
                Row {
                    sub: false,
                    cells: vec![
                        name.clone(),
                        sc.map(|s| s.target.clone()).unwrap_or_else(|| "-".into()),
                        sc.map(|s| thousands(s.connections))
                            .unwrap_or_else(|| "-".into()),
                    ],
                }
            })
            .collect();
    Grid {
        head: vec!["scenario".into(), "requests".into(), "connections".into()],
        align: vec![Align::Left, Align::Left, Align::Right],
        rows,
    }
}

/// The text of one stack × scenario: `f` of the cell when it was measured, else why not.
fn value(v: &View<'_>, stack: &StackResult, scenario: &str, f: &dyn Fn(&Cell) -> String) -> String {
    match v.cell(&stack.id, scenario) {
        Some(c) if c.error.is_some() => "error".into(),
        Some(c) => f(c),
        None if stack.error.is_some() => "error".into(),
        None => "-".into(),
    }
}

/// A stack × scenario grid of one figure per cell.
fn matrix(v: &View<'_>, f: impl Fn(&Cell) -> String) -> Grid {
    let mut g = matrix_grid(v);
    for stack in &v.r.stacks {
        g.rows.push(matrix_row(v, stack, false, label(stack), &f));
    }
    g
}

/// A stack's name in the tables: a ceiling says so.
fn label(stack: &StackResult) -> String {
    if stack.ceiling {
        format!("{} (ceiling)", stack.id)
    } else {
        stack.id.clone()
    }
}

fn matrix_grid(v: &View<'_>) -> Grid {
    let scenarios = &v.r.settings.scenarios;
    let mut head = vec!["stack".to_string()];
    head.extend(scenarios.iter().cloned());
    let mut align = vec![Align::Left];
    align.extend(scenarios.iter().map(|_| Align::Right));
    Grid {
        head,
        align,
        rows: Vec::new(),
    }
}

fn matrix_row(
    v: &View<'_>,
    stack: &StackResult,
    sub: bool,
    label: String,
    f: &dyn Fn(&Cell) -> String,
) -> Row {
    let mut cells = vec![label];
    for scenario in &v.r.settings.scenarios {
        let text = value(v, stack, scenario, f);
        // A detail row says nothing where the main row already said why there is no figure.
        let text = if sub && (text == "error" || text == "-") {
            String::new()
        } else {
            text
        };
        cells.push(text);
    }
    Row { sub, cells }
}

/// Median per core, then its interval and the ratio to the fastest below it.
fn throughput(v: &View<'_>) -> Grid {
    let mut g = matrix_grid(v);
    for stack in &v.r.stacks {
        g.rows
            .push(matrix_row(v, stack, false, label(stack), &median));
        let interval = matrix_row(v, stack, true, "interval".into(), &interval);
        let ratio = matrix_row(v, stack, true, "vs fastest".into(), &vs_fastest);
        // A stack that failed everywhere needs no blank detail lines.
        for row in [interval, ratio] {
            if row.cells[1..].iter().any(|c| !c.is_empty()) {
                g.rows.push(row);
            }
        }
    }
    g
}

fn median(c: &Cell) -> String {
    match &c.per_core {
        Some(s) => rate(s.median),
        None => "invalid".into(),
    }
}

fn interval(c: &Cell) -> String {
    match &c.per_core {
        Some(s) if s.n == 1 => "1 trial".into(),
        Some(s) => format!("{}–{}", rate(s.lo), rate(s.hi)),
        None => String::new(),
    }
}

fn vs_fastest(c: &Cell) -> String {
    match &c.ratio {
        Some(r) if r.n > 1 => format!("{} ({}–{})", ratio(r.median), ratio(r.lo), ratio(r.hi)),
        Some(r) => ratio(r.median),
        None => String::new(),
    }
}

fn ratio(x: f64) -> String {
    format!("{x:.2}")
}

/// A cell of a broadcast scenario, whose probes count messages rather than responses.
fn broadcast(c: &Cell) -> bool {
    catalogue::scenario(&c.scenario).is_some_and(|s| s.kind.broadcast())
}

/// The capacity's p99 rests on fewer responses than a probe aims for.
fn few_responses(c: &Cell) -> bool {
    c.capacity_responses
        .is_some_and(|n| n < summary::PROBE_RESPONSES)
}

fn capacity(c: &Cell, cores: f64) -> String {
    let few = if few_responses(c) { "*" } else { "" };
    match (c.capacity_rps, c.capacity_per_core) {
        (Some(_), Some(per_core)) if c.capacity_is_lower_bound() => {
            format!("≥{}{few}", rate(per_core))
        }
        (Some(rps), Some(per_core)) if rps > 0.0 => format!("{}{few}", rate(per_core)),
        (Some(_), _) => match c.capacity_missed_rps {
            Some(missed) => format!("<{}", rate(missed / cores)),
            None => "0".into(),
        },
        (None, _) => "-".into(),
    }
}

fn stacks(v: &View<'_>) -> Grid {
    let rows =
        v.r.stacks
            .iter()
            .map(|s| Row {
                sub: false,
                cells: vec![
                    label(s),
                    format!("{} {}", s.name, s.framework_version),
                    s.language.clone(),
                    s.workers_text(),
                    v.peak_pss(&s.id).map_or("-".into(), bytes),
                    s.idle_pss_bytes.map_or("-".into(), bytes),
                    startup_median(s).map_or("-".into(), |t| format!("{t:.2} s")),
                    match s.installed_bytes {
                        0 => "-".into(),
                        b => bytes(b),
                    },
                    thousands(s.dependencies),
                    thousands(s.lines_of_code),
                ],
            })
            .collect();
    let head = [
        "stack",
        "framework",
        "language",
        "workers",
        "peak PSS",
        "idle PSS",
        "start-up",
        "install",
        "deps",
        "lines",
    ];
    let mut align = vec![Align::Left, Align::Left, Align::Left];
    align.extend([Align::Right; 7]);
    Grid {
        head: head.iter().map(|h| h.to_string()).collect(),
        align,
        rows,
    }
}

fn rankings(rankings: &[Ranking]) -> Grid {
    let rows = rankings
        .iter()
        .map(|k| {
            let mut line = if k.places.is_empty() {
                "no stack measured".to_string()
            } else {
                k.order()
            };
            if k.has_noise() {
                line.push_str(" (within noise)");
            }
            if !k.unranked.is_empty() {
                line.push_str(&format!("; not ranked: {}", k.unranked.join(", ")));
            }
            for (id, times) in &k.ceilings {
                line.push_str(&format!("; ceiling {id}: {times:.1}× the fastest"));
            }
            Row {
                sub: false,
                cells: vec![k.scenario.clone(), line],
            }
        })
        .collect();
    Grid {
        head: vec!["scenario".into(), "order".into()],
        align: vec![Align::Left, Align::Left],
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_at_a_glance() {
        assert_eq!(rate(5975.0), "5,975");
        assert_eq!(rate(99.4), "99.4");
        assert_eq!(rate(99.6), "100");
        assert_eq!(rate(7.25), "7.25");
        assert_eq!(rate(0.0), "0");
        assert_eq!(rate(f64::NAN), "?");
        assert_eq!(ms(2.345), "2.35");
        assert_eq!(ms(21.34), "21.3");
        assert_eq!(ms(123.4), "123");
        assert_eq!(ms(1234.0), "1,234");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3_076_365), "2.9 MiB");
        assert_eq!(bytes(130_719_744), "125 MiB");
        assert_eq!(number(0.75), "0.75");
        assert_eq!(number(100.0), "100");
    }
}
