//! The advice as text: aligned plain text for a terminal (no colour, so it survives a pipe and
//! a log) and Markdown for a pull request or a wiki. Both show the same sections in the same
//! order: recommendation and reasons, ranking with every score, weights, capacity and cost,
//! knock-outs, sensitivity, caveats, and the top choice's evidence.

use std::fmt::Write;

pub(crate) use stackwise_results::fmt::aligned;
use stackwise_results::fmt::thousands;

use super::score::{money, ms, rps};
use super::{Advice, Candidate, Criterion};

/// How the workload, load and team read in one line each.
pub fn profile_lines(a: &Advice) -> Vec<String> {
    let p = &a.profile;
    let w = &p.workload;
    let shares: Vec<String> = [
        ("API/CRUD", w.crud),
        ("I/O calls", w.io),
        ("real-time", w.realtime),
        ("CPU work", w.cpu),
        ("data", w.data),
        ("ML", w.ml),
    ]
    .iter()
    .filter(|(_, v)| *v > 0.0)
    .map(|(n, v)| format!("{n} {:.0}%", 100.0 * v))
    .collect();
    let n = &p.needs;
    let needs: Vec<&str> = [
        (n.admin, "admin back-office"),
        (n.server_pages, "server-rendered pages"),
        (n.ml_models && !n.ml_in_process, "ML models"),
        (n.ml_in_process, "ML models in-process"),
        (n.strict_typing, "strict typing"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, s)| *s)
    .collect();
    vec![
        format!("workload: {}", shares.join(", ")),
        format!(
            "load: peak {} req/s at p99 ≤ {} ms, {} connections",
            rps(p.load.peak_rps),
            ms(p.load.p99_ms),
            thousands(p.load.connections)
        ),
        format!(
            "team: JavaScript {}, Python {} (of 5); hiring {:?}{}",
            p.team.javascript,
            p.team.python,
            p.hiring.pool,
            if p.hiring.only { ", only" } else { "" }
        )
        .replace("Either", "either language")
        .replace("Javascript", "JavaScript"),
        format!(
            "needs: {}",
            if needs.is_empty() {
                "none".to_string()
            } else {
                needs.join(", ")
            }
        ),
        format!(
            "cost: {} {} per core-hour, budget {} a month",
            p.cost.core_hour,
            p.cost.currency,
            money(p.cost.monthly_budget)
        ),
    ]
}

/// The headline: the top choice, or the tie.
pub fn headline(a: &Advice) -> String {
    match (a.top(), &a.sensitivity.tie) {
        (None, _) => "No recommendation: every stack was knocked out.".to_string(),
        (Some(top), Some(tie)) => format!(
            "Tie: {} ≈ {} (the data does not settle it; what would is below)",
            option_name(top),
            tie.with.join(" ≈ ")
        ),
        (Some(top), None) => format!("Recommendation: {}", option_name(top)),
    }
}

/// An option as `express (Express, JavaScript)` or `express + fastapi (hybrid)`.
pub fn option_name(c: &Candidate) -> String {
    if c.is_hybrid() {
        let parts: Vec<String> = c
            .parts
            .iter()
            .map(|p| format!("{} ({})", p.stack, p.language))
            .collect();
        format!("hybrid: {}", parts.join(" + "))
    } else {
        let p = &c.parts[0];
        format!("{} ({}, {})", p.stack, p.framework, p.language)
    }
}

fn score_cell(c: &Candidate, k: Criterion) -> String {
    match c.score(k).and_then(|s| s.score) {
        Some(v) => format!("{v:.0}"),
        None => "–".to_string(),
    }
}

/// The ranking with a column per criterion that weighs anything: a criterion of 0% decides
/// nothing, and its column is left out.
fn ranking_rows(a: &Advice) -> Vec<Vec<String>> {
    let shown: Vec<Criterion> = Criterion::ALL
        .iter()
        .copied()
        .filter(|c| {
            a.weights
                .iter()
                .any(|w| w.criterion == *c && w.weight > 0.0)
        })
        .collect();
    let mut rows = vec![{
        let mut h = vec!["#".to_string(), "option".to_string(), "total".to_string()];
        h.extend(shown.iter().map(|c| c.short().to_string()));
        h
    }];
    let mut weights = vec![String::new(), "weight".to_string(), String::new()];
    weights.extend(shown.iter().map(|c| {
        let w = a.weights.iter().find(|w| w.criterion == *c);
        format!("{:.0}%", 100.0 * w.map_or(0.0, |w| w.weight))
    }));
    rows.push(weights);
    for (i, c) in a.ranking.iter().enumerate() {
        let mut row = vec![(i + 1).to_string(), c.id.clone(), format!("{:.1}", c.total)];
        row.extend(shown.iter().map(|k| score_cell(c, *k)));
        rows.push(row);
    }
    rows
}

fn capacity_rows(a: &Advice) -> Vec<Vec<String>> {
    let cur = &a.profile.cost.currency;
    let mut rows = vec![vec![
        "option".to_string(),
        "cores".to_string(),
        "req/s per core".to_string(),
        format!("{cur} a month"),
    ]];
    for c in &a.ranking {
        let e = &c.capacity;
        rows.push(vec![
            c.id.clone(),
            match (e.cores, e.cores_exact) {
                (Some(n), Some(x)) => format!("{n} ({x:.2})"),
                // Nothing of this workload was measured: no figure, not a failure.
                _ if e.basis.is_empty() => "not measured".to_string(),
                _ => "cannot meet".to_string(),
            },
            e.per_core_rps.map_or("–".to_string(), rps),
            e.monthly_cost.map_or("–".to_string(), money),
        ]);
    }
    rows
}

fn sensitivity_lines(a: &Advice) -> Vec<String> {
    let s = &a.sensitivity;
    let mut out: Vec<String> = s
        .flips
        .iter()
        .map(|f| {
            let mark = if f.within_uncertainty {
                " [within uncertainty]"
            } else {
                ""
            };
            format!("{}: {}{mark}", f.input, f.sentence)
        })
        .collect();
    if let (Some(w), true) = (&s.winner, s.flips.is_empty()) {
        out.push(format!("nothing varied flips {w}"));
    }
    match &s.tie {
        Some(t) => {
            for why in &t.why {
                out.push(format!("tie: {why}"));
            }
        }
        None => {
            if let Some(w) = &s.winner {
                out.push(format!(
                    "{w} holds under ±20% of the weights and within the measurements' noise"
                ));
            }
        }
    }
    out.push(format!("varied: {}", s.checked.join("; ")));
    out
}

fn evidence_lines(c: &Candidate) -> Vec<(String, Vec<String>)> {
    c.scores
        .iter()
        .map(|s| {
            let head = format!(
                "{} {}: {}",
                s.criterion.name(),
                s.score.map_or("–".to_string(), |v| format!("{v:.0}")),
                s.summary
            );
            (head, s.evidence.iter().map(ToString::to_string).collect())
        })
        .collect()
}

/// What both terminal forms open with: the profile, the answer and its reasons.
fn opening(a: &Advice) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "stackwise advise: {}", a.profile.name);
    let _ = writeln!(out, "  measurements: {}", a.source.label());
    for line in profile_lines(a) {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "\n{}", headline(a));
    for r in &a.reasons {
        let _ = writeln!(out, "  - {r}");
    }
    out
}

/// Options the brief shows in its ranking.
const BRIEF_OPTIONS: usize = 4;
/// Flips the brief names: the nearest ones first.
const BRIEF_FLIPS: usize = 3;

/// The advice on one screen: the answer and why, the first options with their totals, cores
/// and cost, what would change the answer, and the notes that change how to read it; `--verbose`
/// (and Markdown, JSON, the decision record) has everything.
pub fn brief(a: &Advice) -> String {
    let mut out = opening(a);
    if !a.ranking.is_empty() {
        let _ = writeln!(
            out,
            "\nOptions ({} req/s at p99 ≤ {} ms)",
            rps(a.profile.load.peak_rps),
            ms(a.profile.load.p99_ms)
        );
        let mut rows = vec![vec![
            "#".to_string(),
            "option".to_string(),
            "total".to_string(),
            "cores".to_string(),
            format!("{} a month", a.profile.cost.currency),
        ]];
        for (i, c) in a.ranking.iter().take(BRIEF_OPTIONS).enumerate() {
            rows.push(vec![
                (i + 1).to_string(),
                c.id.clone(),
                format!("{:.1}", c.total),
                c.capacity.cores.map_or("–".to_string(), thousands),
                c.capacity.monthly_cost.map_or("–".to_string(), money),
            ]);
        }
        out.push_str(&aligned(&rows, "  "));
        let more = a.ranking.len().saturating_sub(BRIEF_OPTIONS);
        if more > 0 {
            let _ = writeln!(out, "  … and {more} more (--verbose)");
        }
    }
    if !a.excluded.is_empty() {
        let ids: Vec<&str> = a.excluded.iter().map(|x| x.stack.as_str()).collect();
        let _ = writeln!(
            out,
            "\nKnocked out: {} (--verbose says why)",
            ids.join(", ")
        );
    }
    // The sensitivity analysis finds each flip once.
    let flips: Vec<&str> = a
        .sensitivity
        .flips
        .iter()
        .map(|f| f.sentence.as_str())
        .collect();
    if !flips.is_empty() {
        let _ = writeln!(out, "\nWhat would change the answer");
        for f in flips.iter().take(BRIEF_FLIPS) {
            let _ = writeln!(out, "  - {f}");
        }
        if flips.len() > BRIEF_FLIPS {
            let _ = writeln!(out, "  … {} more (--verbose)", flips.len() - BRIEF_FLIPS);
        }
    } else if a.top().is_some() {
        let _ = writeln!(out, "\nNothing varied changes the answer.");
    }
    if !a.notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in &a.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    let _ = writeln!(
        out,
        "\nEvery score, weight and piece of evidence: stackwise advise --verbose (or --format markdown)"
    );
    out
}

/// The advice as aligned plain text, all of it.
pub fn text(a: &Advice) -> String {
    let mut out = opening(a);
    let _ = writeln!(out, "\nRanking (scores 0–100; – not scored)");
    out.push_str(&aligned(&ranking_rows(a), "  "));
    let _ = writeln!(out, "\nWeights");
    let rows: Vec<Vec<String>> = a
        .weights
        .iter()
        .map(|w| {
            vec![
                w.criterion.name().to_string(),
                format!("{:.0}%", 100.0 * w.weight),
                w.why.clone(),
            ]
        })
        .collect();
    out.push_str(&aligned(&rows, "  "));
    let _ = writeln!(
        out,
        "\nCapacity and cost at the peak ({} req/s at p99 ≤ {} ms)",
        rps(a.profile.load.peak_rps),
        ms(a.profile.load.p99_ms)
    );
    out.push_str(&aligned(&capacity_rows(a), "  "));
    if !a.excluded.is_empty() {
        let _ = writeln!(out, "\nKnocked out");
        for x in &a.excluded {
            let _ = writeln!(out, "  {}: {}", x.stack, x.reason);
        }
    }
    let _ = writeln!(out, "\nSensitivity");
    for line in sensitivity_lines(a) {
        let _ = writeln!(out, "  - {line}");
    }
    let notes: Vec<String> = a
        .notes
        .iter()
        .cloned()
        .chain(
            a.ranking
                .iter()
                .flat_map(|c| c.notes.iter().map(move |n| format!("{}: {n}", c.id))),
        )
        .collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\nNotes");
        for n in notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    if let Some(top) = a.top() {
        let _ = writeln!(out, "\nEvidence for {}", top.id);
        for (head, lines) in evidence_lines(top) {
            let _ = writeln!(out, "  {head}");
            for l in lines {
                let _ = writeln!(out, "      {l}");
            }
        }
    }
    out
}

/// The advice as Markdown.
pub fn markdown(a: &Advice) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# stackwise advise: {}\n", a.profile.name);
    let _ = writeln!(out, "Measurements: {}.\n", a.source.label());
    for line in profile_lines(a) {
        let _ = writeln!(out, "- {line}");
    }
    let _ = writeln!(out, "\n## {}\n", headline(a));
    for r in &a.reasons {
        let _ = writeln!(out, "- {r}");
    }
    let _ = writeln!(out, "\n## Ranking\n");
    out.push_str(&table(&ranking_rows(a)));
    let _ = writeln!(
        out,
        "\nScores are 0–100; – means not scored.\n\n## Weights\n"
    );
    let mut rows = vec![vec![
        "criterion".to_string(),
        "weight".to_string(),
        "why".to_string(),
    ]];
    rows.extend(a.weights.iter().map(|w| {
        vec![
            w.criterion.name().to_string(),
            format!("{:.0}%", 100.0 * w.weight),
            w.why.clone(),
        ]
    }));
    out.push_str(&table(&rows));
    let _ = writeln!(
        out,
        "\n## Capacity and cost at the peak ({} req/s at p99 ≤ {} ms)\n",
        rps(a.profile.load.peak_rps),
        ms(a.profile.load.p99_ms)
    );
    out.push_str(&table(&capacity_rows(a)));
    if !a.excluded.is_empty() {
        let _ = writeln!(out, "\n## Knocked out\n");
        for x in &a.excluded {
            let _ = writeln!(out, "- **{}**: {}", x.stack, x.reason);
        }
    }
    let _ = writeln!(out, "\n## Sensitivity\n");
    for line in sensitivity_lines(a) {
        let _ = writeln!(out, "- {line}");
    }
    if !a.notes.is_empty() {
        let _ = writeln!(out, "\n## Notes\n");
        for n in &a.notes {
            let _ = writeln!(out, "- {n}");
        }
    }
    if let Some(top) = a.top() {
        let _ = writeln!(out, "\n## Evidence for {}\n", top.id);
        for (head, lines) in evidence_lines(top) {
            let _ = writeln!(out, "- {head}");
            for l in lines {
                let _ = writeln!(out, "  - {l}");
            }
        }
    }
    out
}

/// A Markdown table; the first row is the header.
pub(crate) fn table(rows: &[Vec<String>]) -> String {
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row.iter().map(|c| c.replace('|', "\\|")).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
        if i == 0 {
            let _ = writeln!(out, "|{}", "---|".repeat(row.len()));
        }
    }
    out
}
