//! The decision record: MADR 4.0's sections in order, front matter, evidence that names the
//! run and scenario or the source and year, and a snapshot on the run fixture.

#![allow(clippy::unwrap_used)]

use stackwise_advisor::adr::{render, AdrInput};
use stackwise_advisor::advise::advise;
use stackwise_advisor::profile::Profile;
use stackwise_results::RunResult;

fn fixture() -> RunResult {
    serde_json::from_str(include_str!(
        "../../stackwise/tests/fixtures/run-result.json"
    ))
    .unwrap()
}

const REALTIME_ML: &str = r#"
name = "live scoring"
[workload]
realtime = 50
ml = 30
crud = 20
[load]
peak_rps = 1000
p99_ms = 100
[team]
javascript = 4
python = 4
[needs]
ml_models = true
ml_in_process = true
[cost]
core_hour = 0.04
monthly_budget = 500
"#;

fn adr(profile: &str) -> (String, RunResult) {
    let run = fixture();
    let p = Profile::parse(profile, "p.toml").unwrap();
    let a = advise(&p, &run, false);
    let text = render(
        &a,
        &AdrInput {
            date: "2026-11-22",
            profile_path: "stackwise-profile.toml",
        },
    );
    (text, run)
}

#[test]
fn madr_sections_in_order() {
    let (text, _) = adr(REALTIME_ML);
    assert!(text.starts_with("---\nstatus: proposed\ndate: 2026-11-22\n---\n\n# "));
    let mut at = 0;
    for heading in [
        "\n## Context and Problem Statement\n",
        "\n## Decision Drivers\n",
        "\n## Considered Options\n",
        "\n## Decision Outcome\n",
        "\n### Consequences\n",
        "\n### Confirmation\n",
        "\n## Pros and Cons of the Options\n",
    ] {
        let found = text[at..]
            .find(heading)
            .unwrap_or_else(|| panic!("{heading:?} after byte {at}"));
        at += found + heading.len();
    }
    assert!(text.contains("Chosen option: \"hybrid: "));
    assert!(text.contains("stackwise advise --profile stackwise-profile.toml --results latest"));
}

#[test]
fn evidence_names_run_and_scenario_or_source_and_year() {
    let (text, run) = adr(REALTIME_ML);
    assert!(text.contains(&format!("(run {})", run.id)));
    assert!(text.contains("measured: fastify upstream"));
    assert!(
        text.contains("https://github.com/fastify/fastify-websocket, 2026; fact fastify-websocket")
    );
    assert!(text.contains("knock-out: express is out"));
}

#[test]
fn snapshot() {
    let (text, run) = adr(REALTIME_ML);
    insta::assert_snapshot!(text.replace(&run.id, "[run_id]"));
}

#[test]
fn each_piece_of_evidence_is_written_once_per_option() {
    let (text, _) = adr(include_str!("../../../docs/profile.example.toml"));
    let options = text
        .split("\n### ")
        .skip(1)
        .filter(|o| !o.starts_with("Facts behind the scores"));
    for option in options {
        let mut seen = std::collections::HashSet::new();
        for line in option.lines().filter(|l| l.starts_with("* ")) {
            let Some((_, evidence)) = line.split_once(" — ") else {
                continue;
            };
            for e in evidence.split("; ") {
                let e = e.trim_end_matches("and as above").trim();
                if e.is_empty() || e == "evidence as above" {
                    continue;
                }
                assert!(seen.insert(e.to_string()), "written twice: {e}");
            }
        }
    }
}

#[test]
fn the_facts_a_weighted_score_rests_on_are_listed_once_with_their_source() {
    let run = fixture();
    let p = Profile::parse(REALTIME_ML, "p.toml").unwrap();
    let a = advise(&p, &run, false);
    let (text, _) = adr(REALTIME_ML);
    let (_, listed) = text
        .split_once("\n### Facts behind the scores\n")
        .expect("a list of the facts");
    // Every fact behind a weighted score of a ranked option, and no other.
    let mut cited: Vec<(&str, &str, &str)> = Vec::new();
    for c in &a.ranking {
        for s in &c.scores {
            if a.weights[s.criterion as usize].weight <= 0.0 {
                continue;
            }
            for e in &s.evidence {
                if let stackwise_advisor::advise::Evidence::Fact {
                    id,
                    source: Some(source),
                    year: Some(year),
                    ..
                } = e
                {
                    if !cited.iter().any(|(i, _, _)| i == id) {
                        cited.push((id, source, year));
                    }
                }
            }
        }
    }
    assert!(!cited.is_empty(), "the profile weighs facts");
    let lines: Vec<&str> = listed.lines().filter(|l| l.starts_with("* `")).collect();
    assert_eq!(lines.len(), cited.len(), "{listed}");
    for (id, source, year) in cited {
        let line = lines
            .iter()
            .find(|l| l.starts_with(&format!("* `{id}`")))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listed}"));
        assert!(line.contains(source), "{line}");
        assert!(line.contains(&format!("({year})")), "{line}");
        assert!(line.contains("; feeds "), "{line}");
    }
}
