//! The decision as an Architecture Decision Record in the MADR 4.0 layout, ready to commit as
//! `docs/adr/NNNN-backend-stack.md`: a team's stack choice should outlive the chat thread it
//! was made in, with the evidence next to it and the command that re-checks it.
//!
//! Section names follow MADR 4.0 exactly (Context and Problem Statement, Decision Drivers,
//! Considered Options, Decision Outcome with Consequences and Confirmation, Pros and Cons of
//! the Options) so ADR tooling and readers used to the template find their way. Measured
//! evidence names the run and scenario; curated evidence names its source and year.

use std::fmt::Write;

use crate::advise::render::option_name;
use crate::advise::{money, number, rps, Advice, Candidate, Evidence};

/// A score at or above this is a "Good, because" in the pros and cons.
pub const GOOD: f64 = 70.0;
/// A score at or below this is a "Bad, because".
pub const BAD: f64 = 40.0;

/// What the ADR needs beyond the advice.
#[derive(Debug, Clone, PartialEq)]
pub struct AdrInput<'a> {
    /// The day of the decision, `YYYY-MM-DD`.
    pub date: &'a str,
    /// How the confirmation command names the profile, such as `stackwise-profile.toml`.
    pub profile_path: &'a str,
}

/// The ADR as Markdown.
pub fn render(a: &Advice, input: &AdrInput) -> String {
    let mut out = String::new();
    let p = &a.profile;
    let _ = writeln!(out, "---\nstatus: proposed\ndate: {}\n---\n", input.date);
    let title = match (a.top(), &a.sensitivity.tie) {
        (Some(top), None) => format!("Use {} for {}", option_name(top), p.name),
        (Some(top), Some(t)) => format!(
            "Choose between {} and {} for {}",
            top.id,
            t.with.join(", "),
            p.name
        ),
        (None, _) => format!("Backend stack for {}", p.name),
    };
    let _ = writeln!(out, "# {title}\n");

    let _ = writeln!(out, "## Context and Problem Statement\n");
    let _ = writeln!(
        out,
        "Which backend stack, down to the framework, should {} be built on? Node.js and Python \
         frameworks were measured on the same API by stackwise ({}), and weighed together with \
         the project's profile:\n",
        p.name,
        a.source.label()
    );
    for line in crate::advise::render::profile_lines(a) {
        let _ = writeln!(out, "* {line}");
    }

    let _ = writeln!(out, "\n## Decision Drivers\n");
    let mut weights: Vec<_> = a.weights.iter().filter(|w| w.weight > 0.0).collect();
    weights.sort_by(|x, y| y.weight.total_cmp(&x.weight));
    for w in weights {
        let _ = writeln!(
            out,
            "* {} ({:.0}% of the score: {})",
            w.criterion.name(),
            100.0 * w.weight,
            w.why
        );
    }
    for x in &a.excluded {
        let _ = writeln!(out, "* knock-out: {} is out, {}", x.stack, x.reason);
    }

    let _ = writeln!(out, "\n## Considered Options\n");
    for c in &a.ranking {
        let _ = writeln!(out, "* {} — {:.1} of 100", option_name(c), c.total);
    }
    for x in &a.excluded {
        let _ = writeln!(out, "* {} — knocked out: {}", x.stack, x.reason);
    }

    let _ = writeln!(out, "\n## Decision Outcome\n");
    match a.top() {
        None => {
            let _ = writeln!(
                out,
                "No option is left after the knock-outs; the decision is open."
            );
        }
        Some(top) => {
            let _ = writeln!(out, "Chosen option: \"{}\", because:\n", option_name(top));
            for r in &a.reasons {
                let _ = writeln!(out, "* {r}");
            }
            if let Some(t) = &a.sensitivity.tie {
                let _ = writeln!(
                    out,
                    "\nThe measurements and weights do not separate it from {}: {}. Treat this as a \
                     tie and decide on what the scores leave out.",
                    t.with.join(", "),
                    t.why.join("; ")
                );
            }
            let _ = writeln!(out, "\n### Consequences\n");
            for line in consequences(a, top) {
                let _ = writeln!(out, "* {line}");
            }
            let _ = writeln!(out, "\n### Confirmation\n");
            let _ = writeln!(
                out,
                "Re-measure on the production hardware and re-run the advice; the decision holds \
                 while {} stays first and the sensitivity reports no tie:\n",
                top.id
            );
            let _ = writeln!(
                out,
                "```sh\nstackwise run --p99 {}\nstackwise advise --profile {} --results latest\n```",
                number(p.load.p99_ms),
                input.profile_path
            );
        }
    }

    let _ = writeln!(out, "\n## Pros and Cons of the Options");
    for c in &a.ranking {
        let _ = writeln!(out, "\n### {}\n", option_name(c));
        for line in pros_and_cons(c, a) {
            let _ = writeln!(out, "* {line}");
        }
    }

    let _ = writeln!(out, "\n## More Information\n");
    for f in &a.sensitivity.flips {
        let _ = writeln!(
            out,
            "* Sensitivity: {} ({}: {}).",
            f.sentence, f.input, f.change
        );
    }
    for n in &a.notes {
        let _ = writeln!(out, "* {n}");
    }
    let _ = writeln!(
        out,
        "* Scores are 0–100 against this profile's own targets; weights and formulas are \
         documented in stackwise's advisor (`stackwise advise --format markdown` shows every \
         score)."
    );
    let facts = facts_behind(a);
    if !facts.is_empty() {
        let _ = writeln!(out, "\n### Facts behind the scores\n");
        let _ = writeln!(
            out,
            "Curated facts (stackwise's data/facts.toml) that a weighted score rests on, with \
             their sources: check them before relying on the scores they feed.\n"
        );
        for f in facts {
            let _ = writeln!(out, "* {f}");
        }
    }
    out
}

/// Every curated fact a weighted score of a ranked option rests on, once, with its source and
/// year and the criteria and options it feeds:
/// `python-ml (2025): Python leads … — source; feeds ML for fastapi, flask`.
fn facts_behind(a: &Advice) -> Vec<String> {
    struct Cited<'a> {
        id: &'a str,
        statement: &'a str,
        source: Option<&'a str>,
        year: Option<&'a str>,
        feeds: Vec<(String, Vec<&'a str>)>,
    }
    let mut cited: Vec<Cited> = Vec::new();
    for c in &a.ranking {
        for s in &c.scores {
            if a.weights[s.criterion as usize].weight <= 0.0 {
                continue;
            }
            for e in &s.evidence {
                let Evidence::Fact {
                    id,
                    statement,
                    source,
                    year,
                } = e
                else {
                    continue;
                };
                let at = match cited.iter().position(|f| f.id == id) {
                    Some(i) => i,
                    None => {
                        cited.push(Cited {
                            id,
                            statement,
                            source: source.as_deref(),
                            year: year.as_deref(),
                            feeds: Vec::new(),
                        });
                        cited.len() - 1
                    }
                };
                let criterion = s.criterion.name().to_string();
                let feeds = &mut cited[at].feeds;
                match feeds.iter_mut().find(|(name, _)| *name == criterion) {
                    Some((_, options)) if !options.contains(&c.id.as_str()) => options.push(&c.id),
                    Some(_) => {}
                    None => feeds.push((criterion, vec![&c.id])),
                }
            }
        }
    }
    cited
        .into_iter()
        .map(|f| {
            let year = f.year.map(|y| format!(" ({y})")).unwrap_or_default();
            let source = f.source.unwrap_or("not sourced in data/facts.toml yet");
            let feeds: Vec<String> = f
                .feeds
                .iter()
                .map(|(criterion, options)| format!("{criterion} for {}", options.join(", ")))
                .collect();
            format!(
                "`{}`{year}: {} — {source}; feeds {}",
                f.id,
                f.statement,
                feeds.join("; ")
            )
        })
        .collect()
}

fn consequences(a: &Advice, top: &Candidate) -> Vec<String> {
    let mut out = Vec::new();
    let cur = &a.profile.cost.currency;
    if let (Some(c), Some(m)) = (top.capacity.cores, top.capacity.monthly_cost) {
        out.push(format!(
            "Good, because the peak of {} req/s needs {c} core{} at the p99 target, about {} {cur} a month",
            rps(a.profile.load.peak_rps),
            if c == 1 { "" } else { "s" },
            money(m)
        ));
    }
    for s in &top.scores {
        let w = a.weights[s.criterion as usize].weight;
        if w <= 0.0 {
            continue;
        }
        match s.score {
            Some(v) if v >= GOOD => out.push(format!(
                "Good, because {}: {}",
                s.criterion.name(),
                s.summary
            )),
            Some(v) if v <= BAD => out.push(format!(
                "Bad, because {}: {}",
                s.criterion.name(),
                s.summary
            )),
            None => out.push(format!(
                "Neutral, because {} could not be scored: {}",
                s.criterion.name(),
                s.summary
            )),
            _ => {}
        }
    }
    if top.is_hybrid() {
        out.push(
            "Bad, because two services in two languages need two pipelines, two dependency sets \
             and a network hop between them"
                .to_string(),
        );
    }
    out
}

fn pros_and_cons(c: &Candidate, a: &Advice) -> Vec<String> {
    let mut out = Vec::new();
    // Each piece of evidence once per option: a measured figure behind performance is also
    // behind cost, and is not written twice.
    let mut cited: Vec<String> = Vec::new();
    for s in &c.scores {
        if a.weights[s.criterion as usize].weight <= 0.0 {
            continue;
        }
        let verdict = match s.score {
            Some(v) if v >= GOOD => "Good",
            Some(v) if v <= BAD => "Bad",
            _ => "Neutral",
        };
        let score = s
            .score
            .map_or("not scored".to_string(), |v| format!("{v:.0}/100"));
        let all: Vec<String> = s.evidence.iter().map(ToString::to_string).collect();
        let again = all.iter().filter(|e| cited.contains(e)).count();
        let new: Vec<String> = all.into_iter().filter(|e| !cited.contains(e)).collect();
        cited.extend(new.iter().cloned());
        let evidence = match (new.is_empty(), again) {
            (true, 0) => String::new(),
            (true, _) => " — evidence as above".to_string(),
            (false, 0) => format!(" — {}", new.join("; ")),
            (false, _) => format!(" — {}; and as above", new.join("; ")),
        };
        out.push(format!(
            "{verdict}, because {} {score}: {}{evidence}",
            s.criterion.name(),
            s.summary
        ));
    }
    if c.is_hybrid() {
        for part in &c.parts {
            out.push(format!(
                "Neutral, because {} ({}) owns {}",
                part.stack,
                part.language,
                part.owns.join(", ")
            ));
        }
    }
    out
}
