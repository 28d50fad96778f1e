//! The HTML report of a run: one self-contained file (data embedded, no network) with charts
//! where people would rather look than read.
//!
//! The file is what a tech lead mails around or opens in a meeting, so it must work anywhere:
//! styles and script are inlined, the charts are inline SVG drawn here, a Content Security
//! Policy forbids the page to fetch anything, and every chart and table is there without
//! script. The script only adds focusing a stack (click it in a legend or table) and saving
//! the embedded data.
//!
//! # Layout
//!
//! - [`render`]: the whole page, in reading order.
//! - `charts`: the four charts (throughput per core, latency by percentile, capacity at the
//!   target, memory), one inline SVG each.
//! - `latency`: percentile curves from the trials' merged HDR histograms.
//! - `page`: header, banners, tables, ranking and notes.
//! - `data`: the JSON document embedded in the page.
//! - `svg`, `html`: drawing primitives, escaping and number formats.
//!
//! Every figure comes from [`stackwise_results::summary`], so the report agrees with the
//! terminal table, Markdown, CSV and JSON outputs.

mod charts;
mod data;
mod html;
mod latency;
mod page;
mod svg;

use std::fmt::Write;

use stackwise_results::summary;
use stackwise_results::RunResult;

pub use data::DATA_VERSION;
pub use page::{QUICK_BANNER, UNFINISHED_BANNER};

use crate::charts::ScenarioCurves;
use crate::html::{esc, json_for_script};

/// Sections of the report that other parts of stackwise produce. Each is an HTML fragment the
/// producer has already escaped; when absent, the section says which command fills it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extras {
    /// The guides' claims checked against this run (`stackwise claims`).
    pub claims_html: Option<String>,
    /// The recommendation for a project profile (`stackwise advise`).
    pub recommendation_html: Option<String>,
}

/// Forbids the page to load anything: no fonts, images, scripts or styles from anywhere but the
/// page itself. A report that leaked a request would tell a third party who opened it.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

const CSS: &str = include_str!("../assets/report.css");
const JS: &str = include_str!("../assets/report.js");

/// The report of `r` as one HTML document.
pub fn render(r: &RunResult, extra: &Extras) -> String {
    let cells = summary::cells(r);
    let styles = charts::styles(r);
    let mut damaged = Vec::new();
    let curves: Vec<ScenarioCurves> = r
        .settings
        .scenarios
        .iter()
        .map(|scenario| {
            r.stacks
                .iter()
                .filter_map(|stack| {
                    let sc = stack.scenarios.iter().find(|s| &s.scenario == scenario)?;
                    if sc.error.is_some() {
                        return None;
                    }
                    let curve = match latency::curve(sc) {
                        Ok(Some(c)) => Ok(c),
                        Ok(None) => Err("no valid trial".to_string()),
                        Err(e) => {
                            damaged.push(format!("{} {scenario}: {e}", stack.id));
                            Err("histogram unreadable".to_string())
                        }
                    };
                    Some((stack.id.clone(), curve))
                })
                .collect()
        })
        .collect();
    let notes = page::notes(r, &cells, &damaged);
    let data = data::document(r, &cells, &curves, &styles);

    let title = format!("stackwise run {}", r.id);
    let stack_names: Vec<String> = r.stacks.iter().map(|s| s.id.clone()).collect();
    let mut out = String::with_capacity(256 * 1024);
    let _ = write!(
        out,
        r##"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>{title}</title>
<style>
{CSS}</style>
</head>
<body>
<header>
{banners}
<p class="kicker">stackwise · Node.js or Python, measured on this machine</p>
<h1>Run {id}</h1>
<p class="lede">{n_stacks} stacks ({stacks}) × {n_scenarios} scenarios ({scenarios}), servers on {server_cores} core{plural}.</p>
{facts}
<nav><a href="#recommendation">Recommendation</a><a href="#throughput">Throughput</a><a href="#latency">Latency</a><a href="#capacity">Capacity</a><a href="#memory">Memory</a><a href="#ranking">Ranking</a><a href="#claims">Claims</a><a href="#notes">Notes</a><button type="button" id="save-data" hidden>Save data (JSON)</button></nav>
</header>
<main>
"##,
        csp = CSP,
        title = esc(&title),
        banners = page::banners(r),
        id = esc(&r.id),
        n_stacks = r.stacks.len(),
        stacks = esc(&stack_names.join(", ")),
        n_scenarios = r.settings.scenarios.len(),
        scenarios = esc(&r.settings.scenarios.join(", ")),
        server_cores = r.settings.server_cpus.len().max(1),
        plural = if r.settings.server_cpus.len() > 1 {
            "s"
        } else {
            ""
        },
        facts = page::facts(r),
    );

    section(
        &mut out,
        "recommendation",
        "Recommendation",
        extra.recommendation_html.as_deref(),
        "No recommendation yet: <code>stackwise advise --profile FILE --results RUN</code> weighs this run against a project profile (workload, peak load, latency target, team skills).",
    );

    let _ = write!(
        out,
        r#"<section id="throughput"><h2>Throughput</h2>
<p class="explain">How many requests per second one server core answers when each connection sends its next request as soon as the last one is answered (closed loop, the connections shown under each scenario). Bars are the median of the valid trials; whiskers span the slowest to the fastest trial. Where whiskers overlap, the order is within noise.</p>
<figure>{chart}</figure>
<h3>Requests/s per server core</h3>
<p class="caption">median; below it the trials' range and coefficient of variation; bold: best of the scenario</p>
{table}
</section>
"#,
        chart = charts::throughput(r, &cells, &styles),
        table = page::throughput_table(r, &cells, &styles),
    );

    let _ = write!(
        out,
        r#"<section id="latency"><h2>Latency</h2>
<p class="explain">Each line is a stack's latency at every percentile during the trials, on HdrHistogram's "nines" scale: 90%, 99%, 99.9% and 99.99% are equally far apart, so the tail that breaks latency targets is visible. The dot marks p99.</p>
<figure>{chart}</figure>
<h3>p99 latency, ms</h3>
<p class="caption">median of the valid trials, with p50 beneath; bold: lowest of the scenario{caption}</p>
{table}
</section>
"#,
        chart = charts::latency(r, &curves, &styles),
        caption = esc(&page::latency_caption(r)),
        table = page::latency_table(r, &cells, &styles),
    );

    let _ = write!(
        out,
        r#"<section id="capacity"><h2>Capacity at the latency target</h2>
<p class="explain">The highest fixed request rate (open loop) whose p99 stayed under {target} ms with no errors, per server core: the figure to size a deployment with. The dashed box reaches the first rate that missed; the true capacity lies in between.</p>
<figure>{chart}</figure>
<h3>Requests/s per server core at p99 ≤ {target} ms</h3>
<p class="caption">below it: the rate per core that missed the target; bold: highest of the scenario</p>
{table}
</section>
"#,
        target = esc(&html::ms(r.settings.p99_target_ms)),
        chart = charts::capacity(r, &cells, &styles),
        table = page::capacity_table(r, &cells, &styles),
    );

    let _ = write!(
        out,
        r#"<section id="memory"><h2>Memory and the stacks</h2>
<p class="explain">Memory is the summed PSS of each server's whole process tree: pages shared between forked workers are divided among them, so it is what the server really holds.</p>
<figure>{chart}</figure>{held}
<h3>Stacks</h3>
{table}
</section>
"#,
        chart = charts::memory(r, &cells, &styles),
        held = charts::held(r, &cells, &styles)
            .map(|c| format!("\n<figure>{c}</figure>"))
            .unwrap_or_default(),
        table = page::stacks_table(r, &cells, &styles),
    );

    let _ = write!(
        out,
        r#"<section id="ranking"><h2>Ranking by throughput</h2>
<p class="caption">&gt;: the trials' ranges are apart; ≈: they overlap, so the run does not establish which is faster</p>
{}
</section>
"#,
        page::ranking_table(r, &cells)
    );

    section(
        &mut out,
        "claims",
        "The claims, checked",
        extra.claims_html.as_deref(),
        "Not checked yet: <code>stackwise claims RUN</code> tests the guides' claims (Node.js is faster for I/O, Python for CPU work, Python uses more memory, …) against this run.",
    );

    let _ = write!(
        out,
        r#"<section id="notes"><h2>Notes</h2>
{}
</section>
</main>
<footer>{}{} · report data version {} · this file is self-contained and loads nothing from the network</footer>
<script type="application/json" id="report-data">{}</script>
<script>
{JS}</script>
</body>
</html>
"#,
        page::notes_html(&notes),
        page::banners(r),
        esc(&r.tool),
        DATA_VERSION,
        json_for_script(&data),
    );
    out
}

/// A section filled by another command, or saying which command fills it.
fn section(out: &mut String, id: &str, title: &str, html: Option<&str>, absent: &str) {
    let body = match html {
        Some(h) => h.to_string(),
        None => format!(r#"<p class="absent">{absent}</p>"#),
    };
    let _ = write!(
        out,
        "<section id=\"{id}\"><h2>{}</h2>\n{body}\n</section>\n",
        esc(title)
    );
}

/// A Markdown document (the claims check's or the recommendation's) as an HTML fragment for
/// [`Extras`]. Raw HTML in the text is shown as text, never passed through, so nothing that
/// came from a result or a profile can add markup or script to the page.
pub fn markdown_fragment(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, events);
    html
}
