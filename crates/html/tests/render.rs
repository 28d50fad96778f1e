//! The report of the real fixture run, checked without a browser: nothing external, one SVG per
//! chart with a mark per measured figure, valid embedded data, hostile text escaped, and the
//! banners and odd results (no capacity, failed stacks) said plainly.

#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use stackwise_html::{render, Extras, QUICK_BANNER, UNFINISHED_BANNER};
use stackwise_results::summary::{self, Cell};
use stackwise_results::RunResult;

fn html(r: &RunResult) -> String {
    render(r, &Extras::default())
}

/// The values of every `name="…"` attribute in `html`.
fn attributes<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let needle = format!(" {name}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

/// The chart SVG whose class is `chart {name}`.
fn chart<'a>(html: &'a str, name: &str) -> &'a str {
    let start = html
        .find(&format!(r#"<svg class="chart {name}""#))
        .unwrap_or_else(|| panic!("no {name} chart"));
    let end = start + html[start..].find("</svg>").unwrap();
    &html[start..end]
}

/// The JSON document embedded in the page.
fn embedded(html: &str) -> Value {
    let open = r#"<script type="application/json" id="report-data">"#;
    let start = html.find(open).unwrap() + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).unwrap()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn nothing_is_loaded_from_anywhere() {
    let mut r = support::fixture();
    // Text that looks like markup and addresses must stay text.
    r.stacks[0].error =
        Some(r#"<img src="https://tracker.example/x.png"> see http://docs.example"#.into());
    let page = html(&r);
    for href in attributes(&page, "href") {
        assert!(href.starts_with('#'), "href to {href}");
    }
    assert!(attributes(&page, "src").is_empty(), "src attributes");
    assert!(
        !page.contains("url(") && !page.contains("@import"),
        "CSS fetches"
    );
    // The only addresses left are text: in the embedded data, or in escaped text, never
    // inside a tag.
    let open = r#"<script type="application/json" id="report-data">"#;
    let data_start = page.find(open).unwrap();
    let data_end = data_start + page[data_start..].find("</script>").unwrap();
    for scheme in ["http://", "https://"] {
        for (i, _) in page.match_indices(scheme) {
            if (data_start..data_end).contains(&i) {
                continue;
            }
            let before = &page[..i];
            assert!(
                before.rfind('>') > before.rfind('<'),
                "{scheme} inside a tag: …{}…",
                &page[i.saturating_sub(60)..i + 20]
            );
        }
    }
    assert!(page.contains("&lt;img src=&quot;https://tracker.example/x.png&quot;&gt;"));
    assert!(page.contains(r#"http-equiv="Content-Security-Policy" content="default-src 'none';"#));
}

#[test]
fn each_chart_is_one_svg_with_a_mark_per_measured_figure() {
    let r = support::fixture();
    let cells = summary::cells(&r);
    let page = html(&r);
    assert_eq!(count(&page, "<svg"), 4, "one SVG per chart");
    let ok = |c: &&Cell| c.error.is_none();

    let bars = cells
        .iter()
        .filter(ok)
        .filter(|c| c.per_core.is_some())
        .count();
    let throughput = chart(&page, "throughput");
    assert_eq!(count(throughput, r#"class="bar""#), bars);
    let ranged = cells
        .iter()
        .filter(ok)
        .filter(|c| c.per_core.is_some_and(|p| p.n > 1))
        .count();
    assert_eq!(
        count(throughput, r#"class="err""#),
        3 * ranged + 3,
        "whiskers and the key's"
    );
    assert_eq!(
        count(throughput, "class=\"panel\""),
        r.settings.scenarios.len()
    );

    let met = cells
        .iter()
        .filter(ok)
        .filter(|c| c.capacity_rps.is_some_and(|v| v > 0.0))
        .count();
    assert_eq!(count(chart(&page, "capacity"), r#"class="bar""#), met);

    let idle = r
        .stacks
        .iter()
        .filter(|s| s.idle_pss_bytes.is_some())
        .count();
    let peak = r
        .stacks
        .iter()
        .filter(|s| {
            cells
                .iter()
                .any(|c| c.stack == s.id && c.pss_peak_bytes.is_some())
        })
        .count();
    assert_eq!(count(chart(&page, "memory"), r#"class="bar""#), idle + peak);

    let curves = cells
        .iter()
        .filter(ok)
        .filter(|c| c.throughput.is_some())
        .count();
    let latency = chart(&page, "latency");
    assert_eq!(count(latency, r#"class="curve""#), curves);
    for label in ["90%", "99%", "99.9%", "99.99%", "latency, ms (log)"] {
        assert!(
            latency.contains(&format!(">{label}<")),
            "latency axis lacks {label}"
        );
    }
    for (name, unit) in [
        ("throughput", "req/s per core"),
        ("capacity", "req/s per core"),
        ("memory", "MiB"),
    ] {
        let svg = chart(&page, name);
        assert!(svg.contains(&format!(">{unit}<")), "{name} axis unit");
        for s in &r.stacks {
            assert!(
                svg.contains(&format!("{} ({})", s.id, s.language)),
                "{name} legend"
            );
        }
    }
}

#[test]
fn the_embedded_data_is_the_summary() {
    let r = support::fixture();
    let cells = summary::cells(&r);
    let data = embedded(&html(&r));
    assert_eq!(data["run"]["id"], r.id.as_str());
    assert_eq!(data["data_version"], stackwise_html::DATA_VERSION);
    assert_eq!(data["cells"].as_array().unwrap().len(), cells.len());
    for (c, v) in cells.iter().zip(data["cells"].as_array().unwrap()) {
        assert_eq!(v["stack"], c.stack.as_str());
        assert_eq!(v["scenario"], c.scenario.as_str());
        assert_eq!(
            v["per_core_rps"]["median"].as_f64(),
            c.per_core.map(|p| p.median)
        );
    }
    assert_eq!(data["stacks"].as_array().unwrap().len(), r.stacks.len());
}

#[test]
fn the_curves_come_from_the_valid_trials_histograms() {
    // With one valid trial per cell, the merged histogram is that trial's, so the curve's p99
    // must be exactly the engine's (of /json alone in `mixed`).
    let mut r = support::fixture();
    for s in &mut r.stacks {
        for sc in &mut s.scenarios {
            for t in sc.trials.iter_mut().skip(1) {
                t.valid = false;
            }
        }
    }
    let cells = summary::cells(&r);
    let data = embedded(&html(&r));
    let curves = data["latency"].as_array().unwrap();
    assert!(!curves.is_empty());
    for curve in curves {
        let c = summary::find(
            &cells,
            curve["stack"].as_str().unwrap(),
            curve["scenario"].as_str().unwrap(),
        )
        .unwrap();
        let points = curve["percentile_ms"].as_array().unwrap();
        let p99 = points.iter().find(|p| p[0].as_f64() == Some(99.0)).unwrap();
        assert_eq!(p99[1].as_f64(), c.p99_ms.map(|p| p.median), "{curve}");
        let p50 = points.first().unwrap()[1].as_f64().unwrap();
        assert!(p50 <= p99[1].as_f64().unwrap());
    }
}

#[test]
fn a_hostile_stack_name_stays_text() {
    let mut r = support::fixture();
    let evil = "<script>alert(1)</script>";
    let old = r.stacks[0].id.clone();
    r.stacks[0].id = evil.into();
    r.stacks[0].name = evil.into();
    for s in &mut r.settings.stacks {
        if *s == old {
            *s = evil.into();
        }
    }
    let page = html(&r);
    assert!(!page.contains("<script>alert"), "unescaped");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert_eq!(
        count(&page, "<script"),
        2,
        "the data block and the page's script"
    );
    assert_eq!(count(&page, "</script>"), 2);
    let data = embedded(&page);
    assert_eq!(data["stacks"][0]["id"], evil);
}

#[test]
fn quick_and_unfinished_runs_say_so() {
    let mut r = support::fixture();
    let page = html(&r);
    assert!(!page.contains(QUICK_BANNER) && !page.contains(UNFINISHED_BANNER));
    r.quick = true;
    r.finished_at = None;
    let page = html(&r);
    assert!(page.contains(r#"<p class="banner quick">QUICK RUN"#));
    assert_eq!(count(&page, QUICK_BANNER), 2, "at the top and the end");
    assert_eq!(count(&page, UNFINISHED_BANNER), 2);
}

#[test]
fn a_capacity_no_rate_met_is_said_not_drawn() {
    let mut r = support::fixture();
    let stack = r.stacks[0].id.clone();
    let scenario = r.stacks[0].scenarios[0].scenario.clone();
    let cap = r.stacks[0].scenarios[0].capacity.as_mut().unwrap();
    // Every probe missed the target by latency.
    let over = (cap.target_p99_ms * 2000.0) as u64;
    for p in &mut cap.probes {
        p.met = false;
        p.trial.load.summary.latency.corrected.p99_us = over;
        for t in &mut p.trial.load.tags {
            t.summary.latency.corrected.p99_us = over;
        }
    }
    cap.rps = 0.0;
    cap.missed_rps = cap.probes.iter().map(|p| p.rate).reduce(f64::min);
    let page = html(&r);
    let svg = chart(&page, "capacity");
    assert!(svg.contains(">no rate met the target<"));
    assert!(svg.contains(&format!("{stack} · {scenario}: no rate met p99")));
    let cells = summary::cells(&r);
    let met = cells
        .iter()
        .filter(|c| c.capacity_rps.is_some_and(|v| v > 0.0))
        .count();
    assert_eq!(count(svg, r#"class="bar""#), met);
    assert!(page.contains(r#"<td class="num none-met">no rate met the target"#));
}

#[test]
fn failed_stacks_and_scenarios_are_explained() {
    let mut r = support::fixture();
    r.stacks[0].error = Some("npm install failed\nlong log".into());
    r.stacks[0].scenarios.clear();
    r.stacks[0].idle_pss_bytes = None;
    r.stacks[1].scenarios[0].error = Some("verify: wrong body".into());
    r.stacks[1].scenarios[0].trials.clear();
    r.settings.stacks.push("ghost".into());
    let page = html(&r);
    let a = &r.stacks[0].id;
    let b = &r.stacks[1].id;
    let sc = &r.stacks[1].scenarios[0].scenario;
    assert!(page.contains(&format!("<li>{a}: not measured: npm install failed</li>")));
    let notes = &page[page.find(r#"<section id="notes">"#).unwrap()..];
    let notes = &notes[..notes.find("</section>").unwrap()];
    assert!(
        !notes.contains("long log"),
        "notes give the first line; results.json the rest"
    );
    assert!(page.contains(&format!(
        "<li>{b} {sc}: not measured: verify: wrong body</li>"
    )));
    assert!(page.contains("<li>ghost: planned but not run</li>"));
    assert!(chart(&page, "throughput").contains(">error<"));
}

#[test]
fn nothing_measured_renders_without_a_panic() {
    let mut r = support::fixture();
    r.stacks.clear();
    let page = html(&r);
    assert_eq!(count(&page, "<svg"), 4);
    embedded(&page);
    r.settings.scenarios.clear();
    html(&r);
}

#[test]
fn extras_fill_their_sections_or_name_the_command() {
    let r = support::fixture();
    let page = html(&r);
    assert!(page.contains("<code>stackwise claims RUN</code>"));
    assert!(page.contains("<code>stackwise advise --profile FILE --results RUN</code>"));
    let page = render(
        &r,
        &Extras {
            claims_html: Some("<p id=\"c\">claims</p>".into()),
            recommendation_html: Some("<p id=\"rec\">fastify</p>".into()),
        },
    );
    assert!(page.contains("<p id=\"c\">claims</p>") && page.contains("<p id=\"rec\">fastify</p>"));
    assert!(!page.contains("stackwise claims RUN"));
}

#[test]
fn markdown_fragments_keep_tables_and_never_pass_markup_through() {
    let html = stackwise_html::markdown_fragment(
        "## Claims\n\n| claim | verdict |\n|---|---|\n| fast <script>x()</script> | holds |\n",
    );
    assert!(
        html.contains("<table>") && html.contains("<td>holds</td>"),
        "{html}"
    );
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
}
