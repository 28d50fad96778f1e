//! The advisor on the real run fixture: the guides' own rules give the answer for three
//! profiles (an ML product with a Python team, a chat product with a JavaScript team, a
//! real-time product with ML that earns the hybrid answer); knock-outs, evidence, capacity,
//! sensitivity and ties; raising a stack's measured capacity never lowers its score; and the
//! terminal, Markdown and JSON outputs as snapshots.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use serde_json::Value;
use stackwise_advisor::advise::{self, advise, Criterion, Evidence};
use stackwise_advisor::profile::Profile;
use stackwise_results::RunResult;

/// The run fixture as the current model reads it (memory sample counts filled in when the
/// recording predates them).
fn fixture() -> RunResult {
    serde_json::from_str(include_str!(
        "../../stackwise/tests/fixtures/run-result.json"
    ))
    .unwrap()
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, "test.toml").unwrap()
}

const DEFAULT: &str = include_str!("../../../docs/profile.example.toml");

/// An ML-centred product, a Python team, models that must run in-process.
const ML_PYTHON: &str = r#"
name = "ml product"
[workload]
crud = 40
ml = 50
data = 10
[load]
peak_rps = 300
p99_ms = 100
[team]
javascript = 1
python = 5
[needs]
ml_models = true
ml_in_process = true
[cost]
core_hour = 0.04
monthly_budget = 500
"#;

/// A chat product: real-time connections, a JavaScript team.
const CHAT_JS: &str = r#"
name = "chat"
[workload]
realtime = 60
crud = 30
io = 10
[load]
peak_rps = 1000
p99_ms = 100
connections = 20000
[team]
javascript = 5
python = 1
[cost]
core_hour = 0.04
monthly_budget = 500
"#;

/// A real-time API with ML in the product, a team fluent in both languages.
const REALTIME_ML: &str = r#"
name = "live scoring"
[workload]
realtime = 50
ml = 30
crud = 20
[load]
peak_rps = 1000
p99_ms = 100
connections = 5000
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

fn top(p: &str) -> advise::Candidate {
    advise::rank(&profile(p), &fixture()).remove(0)
}

fn languages(c: &advise::Candidate) -> Vec<&str> {
    c.parts.iter().map(|p| p.language.as_str()).collect()
}

/// The fixture with each stack's `json` trials copied as `data` and `ml` (without probes), each
/// stack's throughput there scaled by `factor(stack)`.
fn with_data_and_ml(factor: impl Fn(&str) -> f64) -> RunResult {
    let mut r = fixture();
    for s in &mut r.stacks {
        let json = s
            .scenarios
            .iter()
            .find(|x| x.scenario == "json")
            .unwrap()
            .clone();
        for (id, target) in [("data", "POST /aggregate"), ("ml", "POST /predict")] {
            let mut copy = json.clone();
            copy.scenario = id.into();
            copy.target = target.into();
            // No probes: the closed-loop maximum stands for capacity, scaled with the trials.
            copy.sweep.clear();
            copy.capacity = None;
            for t in &mut copy.trials {
                t.load.summary.throughput_rps *= factor(&s.id);
            }
            s.scenarios.push(copy);
        }
    }
    r.settings.scenarios.extend(["data".into(), "ml".into()]);
    r
}

#[test]
fn measured_data_and_ml_figures_enter_the_fit_and_the_cores_and_say_what_is_facts() {
    let p = profile(ML_PYTHON);
    let unmeasured = advise::rank(&p, &fixture());
    let fit = |c: &advise::Candidate| c.score(Criterion::DataMl).unwrap().clone();
    let before = unmeasured.iter().find(|c| c.id == "fastapi").unwrap();
    assert!(
        fit(before).summary.contains("not measured"),
        "{}",
        fit(before).summary
    );

    // fastapi serves data and ml a hundredth as fast as its json: its fit falls below the
    // libraries' level, the evidence cites the run, and the cores for the peak rise.
    let slow = with_data_and_ml(|_| 0.01);
    let ranked = advise::rank(&p, &slow);
    let after = ranked.iter().find(|c| c.id == "fastapi").unwrap();
    let f = fit(after);
    assert!(f.summary.contains("measured"), "{}", f.summary);
    assert!(f.summary.contains("libraries 100"), "{}", f.summary);
    assert!(
        f.score.unwrap() < fit(before).score.unwrap(),
        "{}",
        f.summary
    );
    assert!(f
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Measured { scenario, .. } if scenario == "ml")));
    assert!(
        after.capacity.cores.unwrap() > before.capacity.cores.unwrap(),
        "{:?} vs {:?}",
        after.capacity,
        before.capacity
    );
    assert!(
        after
            .capacity
            .basis
            .iter()
            .any(|b| b.contains("ML inference")),
        "{:?}",
        after.capacity.basis
    );

    // As fast as json: the measured part is at least as good as without it, never worse than
    // the slow run.
    let fast = advise::rank(&p, &with_data_and_ml(|_| 1.0));
    let quick = fast.iter().find(|c| c.id == "fastapi").unwrap();
    assert!(fit(quick).score.unwrap() > f.score.unwrap());
}

#[test]
fn an_ml_product_with_a_python_team_gets_a_python_stack() {
    let a = advise(&profile(ML_PYTHON), &fixture(), false);
    let top = a.top().unwrap();
    assert_eq!(languages(top), ["Python"], "{}", top.id);
    assert!(
        a.ranking.iter().all(|c| !c.is_hybrid()),
        "no real-time: no hybrid"
    );
    let node: Vec<_> = fixture()
        .stacks
        .iter()
        .filter(|s| s.language == "JavaScript")
        .map(|s| s.id.clone())
        .collect();
    assert!(!node.is_empty());
    for id in node {
        let x = a.excluded.iter().find(|x| x.stack == id).unwrap();
        assert!(x.reason.contains("in-process"), "{}", x.reason);
        assert!(x.evidence.iter().any(
            |e| matches!(e, Evidence::Profile { field, .. } if field == "needs.ml_in_process")
        ));
    }
}

#[test]
fn a_chat_product_with_a_javascript_team_gets_a_node_stack() {
    let ranking = advise::rank(&profile(CHAT_JS), &fixture());
    assert_eq!(languages(&ranking[0]), ["JavaScript"], "{}", ranking[0].id);
    let best_python = ranking.iter().find(|c| languages(c) == ["Python"]).unwrap();
    assert!(ranking[0].total > best_python.total + 10.0);
    let rt = ranking[0].score(Criterion::Realtime).unwrap();
    assert!(rt
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Missing { what } if what.contains("WebSocket"))));
}

#[test]
fn a_realtime_product_with_ml_in_process_earns_the_hybrid_answer() {
    let a = advise(&profile(REALTIME_ML), &fixture(), false);
    let top = a.top().unwrap();
    assert!(top.is_hybrid(), "{}", top.id);
    assert_eq!(languages(top), ["JavaScript", "Python"]);
    assert!(top.parts[0]
        .owns
        .iter()
        .any(|o| o == "real-time connections"));
    assert!(top.parts[1].owns.iter().any(|o| o == "ML inference"));
    assert!(
        a.reasons[0].starts_with("Run two services"),
        "{:?}",
        a.reasons
    );
    assert!(top.notes.iter().any(|n| n.contains("two stacks")));
}

#[test]
fn no_hybrid_unless_the_profile_calls_for_one() {
    for p in [DEFAULT, CHAT_JS, ML_PYTHON] {
        assert!(advise::rank(&profile(p), &fixture())
            .iter()
            .all(|c| !c.is_hybrid()));
    }
    let only_python = REALTIME_ML.replace(
        "[needs]",
        "[hiring]\npool = \"python\"\nonly = true\n[needs]",
    );
    let a = advise(&profile(&only_python), &fixture(), false);
    assert!(a.ranking.iter().all(|c| !c.is_hybrid()));
    assert!(a.ranking.iter().all(|c| languages(c) == ["Python"]));
}

#[test]
fn hiring_only_one_language_knocks_out_the_other() {
    let p = CHAT_JS.replace("[cost]", "[hiring]\npool = \"python\"\nonly = true\n[cost]");
    let a = advise(&profile(&p), &fixture(), false);
    assert!(a.ranking.iter().all(|c| languages(c) == ["Python"]));
    assert!(a
        .excluded
        .iter()
        .all(|x| x.reason.contains("Python developers")));
    assert!(!a.excluded.is_empty());
}

#[test]
fn performance_is_scored_against_the_target_not_the_fastest_stack() {
    assert_eq!(advise::performance_score(375.0, 1000.0), 100.0);
    assert_eq!(advise::performance_score(3750.0, 1000.0), 100.0);
    assert!((advise::performance_score(187.5, 1000.0) - 50.0).abs() < 1e-9);
    assert_eq!(advise::performance_score(0.0, 1000.0), 0.0);
    // At a light load every measured stack is fast enough: none gains on performance.
    let light = DEFAULT.replace("peak_rps = 1000", "peak_rps = 20");
    for c in advise::rank(&profile(&light), &fixture()) {
        assert_eq!(
            c.score(Criterion::Performance).unwrap().score,
            Some(100.0),
            "{}",
            c.id
        );
    }
}

#[test]
fn capacity_and_cost_follow_from_capacity_per_core() {
    let p = profile(DEFAULT);
    for c in advise::rank(&p, &fixture()) {
        let e = &c.capacity;
        let exact = e.cores_exact.unwrap();
        assert_eq!(e.cores, Some((exact.ceil() as u64).max(1)));
        let monthly = e.cores.unwrap() as f64 * p.cost.core_hour * advise::HOURS_PER_MONTH;
        assert!((e.monthly_cost.unwrap() - monthly).abs() < 1e-9);
        assert!((e.per_core_rps.unwrap() * exact - p.load.peak_rps).abs() < 1e-6);
        let cost = c.score(Criterion::Cost).unwrap().score.unwrap();
        let expected = (100.0 * (1.0 - monthly / (2.0 * p.cost.monthly_budget))).clamp(0.0, 100.0);
        assert!((cost - expected).abs() < 1e-9);
    }
}

#[test]
fn every_weighted_score_has_evidence_naming_its_run_or_source() {
    let run = fixture();
    for p in [DEFAULT, CHAT_JS, ML_PYTHON, REALTIME_ML] {
        let a = advise(&profile(p), &run, false);
        let total: f64 = a.weights.iter().map(|w| w.weight).sum();
        assert!((total - 1.0).abs() < 1e-9);
        for c in &a.ranking {
            for s in &c.scores {
                if a.weights[s.criterion as usize].weight > 0.0 && s.score.is_some() {
                    assert!(!s.evidence.is_empty(), "{} {:?}", c.id, s.criterion);
                }
                for e in &s.evidence {
                    if let Evidence::Measured {
                        run: id, scenario, ..
                    } = e
                    {
                        assert_eq!(id, &run.id);
                        assert!(run.settings.scenarios.contains(scenario));
                    }
                }
            }
        }
    }
}

#[test]
fn a_failed_scenario_is_stated_not_scored_as_zero() {
    let mut run = fixture();
    let stack = run.stacks.iter_mut().find(|s| s.id == "express").unwrap();
    let db = stack
        .scenarios
        .iter_mut()
        .find(|s| s.scenario == "db")
        .unwrap();
    db.error = Some("did not verify".into());
    let ranking = advise::rank(&profile(DEFAULT), &run);
    let express = ranking.iter().find(|c| c.id == "express").unwrap();
    assert!(express
        .notes
        .iter()
        .any(|n| n.contains("db") && n.contains("did not verify")));
    let perf = express.score(Criterion::Performance).unwrap();
    assert!(perf.score.unwrap() > 0.0);
    assert!(perf
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Missing { what } if what.contains("did not verify"))));
}

#[test]
fn a_stack_that_could_not_be_measured_is_knocked_out_with_its_error() {
    let mut run = fixture();
    run.stacks[0].error = Some("failed to install".into());
    let id = run.stacks[0].id.clone();
    let a = advise(&profile(DEFAULT), &run, false);
    assert!(a.ranking.iter().all(|c| c.id != id));
    let x = a.excluded.iter().find(|x| x.stack == id).unwrap();
    assert!(x.reason.contains("failed to install"));
}

#[test]
fn identical_stacks_are_a_tie_not_a_winner() {
    let mut run = fixture();
    let top_id = top(DEFAULT).id;
    let mut twin = run.stacks.iter().find(|s| s.id == top_id).unwrap().clone();
    twin.id = format!("{top_id}-twin");
    run.settings.stacks.push(twin.id.clone());
    run.stacks.push(twin);
    let a = advise(&profile(DEFAULT), &run, false);
    let tie = a.sensitivity.tie.as_ref().unwrap();
    assert!(tie.with.iter().any(|w| w.contains("twin")) || a.top().unwrap().id.contains("twin"));
    assert!(advise::render::headline(&a).starts_with("Tie:"));
}

#[test]
fn sensitivity_names_the_skill_change_that_flips_the_choice() {
    // A CRUD product where the Node stacks lead on team skill alone.
    let p = DEFAULT
        .replace("javascript = 3", "javascript = 4")
        .replace("python = 3", "python = 2");
    let a = advise(&profile(&p), &fixture(), false);
    assert_eq!(languages(a.top().unwrap()), ["JavaScript"]);
    let flip = a
        .sensitivity
        .flips
        .iter()
        .find(|f| f.input == "team skills")
        .unwrap();
    assert!(
        flip.sentence.contains("Python skill ≥"),
        "{}",
        flip.sentence
    );
    assert!(!flip.within_uncertainty);
    // Applying the change does flip it.
    let q = p
        .replace("python = 2", "python = 4")
        .replace("javascript = 4", "javascript = 2");
    assert_ne!(top(&q).id, a.top().unwrap().id);
}

#[test]
fn a_stricter_target_than_the_runs_is_said_with_the_run_that_probes_it() {
    let p = DEFAULT.replace("p99_ms = 100", "p99_ms = 20");
    let a = advise(&profile(&p), &fixture(), false);
    let note = a
        .notes
        .iter()
        .find(|n| n.starts_with("Capacities are read at your p99 target (20.0 ms)"))
        .unwrap_or_else(|| panic!("{:?}", a.notes));
    assert!(note.contains("stackwise run --p99 20"), "{note}");
}

/// Scales every throughput figure of `stack`: trials, sweep and capacity.
fn scale_stack(run: &mut RunResult, stack: usize, factor: f64) {
    for sc in &mut run.stacks[stack].scenarios {
        for t in sc.trials.iter_mut().chain(sc.sweep.iter_mut()) {
            t.load.summary.throughput_rps *= factor;
        }
        if let Some(c) = &mut sc.capacity {
            c.rps *= factor;
            c.missed_rps = c.missed_rps.map(|m| m * factor);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The order in which a run recorded its stacks never changes the advice.
    #[test]
    fn reordering_the_run_s_stacks_never_changes_the_answer(
        order in Just(()).prop_perturb(|_, mut rng| {
            let mut v: Vec<usize> = (0..64).collect();
            for i in (1..v.len()).rev() {
                v.swap(i, (rng.next_u32() as usize) % (i + 1));
            }
            v
        }),
        which in 0usize..4,
        peak in 10.0f64..50_000.0,
    ) {
        let base = fixture();
        let mut shuffled = base.clone();
        let mut keyed: Vec<(usize, _)> = order
            .iter()
            .copied()
            .zip(std::mem::take(&mut shuffled.stacks))
            .collect();
        keyed.sort_by_key(|(k, _)| *k);
        shuffled.stacks = keyed.into_iter().map(|(_, s)| s).collect();
        let mut p = profile([DEFAULT, CHAT_JS, ML_PYTHON, REALTIME_ML][which]);
        p.load.peak_rps = peak;
        let a = serde_json::to_value(advise(&p, &base, false)).unwrap();
        let b = serde_json::to_value(advise(&p, &shuffled, false)).unwrap();
        prop_assert_eq!(a, b);
    }

    /// Raising a stack's measured capacity never lowers its score.
    #[test]
    fn more_capacity_never_lowers_a_score(
        stack in 0usize..4,
        factor in 1.0f64..8.0,
        which in 0usize..4,
        peak in 50.0f64..20000.0,
    ) {
        let base = fixture();
        let stack = stack % base.stacks.len();
        let id = base.stacks[stack].id.clone();
        let text = [DEFAULT, CHAT_JS, ML_PYTHON, REALTIME_ML][which];
        let mut p = profile(text);
        p.load.peak_rps = peak;
        let mut faster = base.clone();
        scale_stack(&mut faster, stack, factor);
        let before = advise::rank(&p, &base);
        let after = advise::rank(&p, &faster);
        let find = |r: &[advise::Candidate]| r.iter().find(|c| c.id == id).cloned();
        if let (Some(b), Some(a)) = (find(&before), find(&after)) {
            prop_assert!(a.total >= b.total - 1e-9, "{id}: {} -> {}", b.total, a.total);
            for k in Criterion::ALL {
                let (x, y) = (b.score(k).unwrap().score, a.score(k).unwrap().score);
                if let (Some(x), Some(y)) = (x, y) {
                    prop_assert!(y >= x - 1e-9, "{id} {k:?}: {x} -> {y}");
                }
            }
        }
    }
}

fn masked(text: String, run: &RunResult) -> String {
    text.replace(&run.id, "[run_id]")
}

#[test]
fn terminal_output() {
    let run = fixture();
    for (name, p) in [("default", DEFAULT), ("hybrid", REALTIME_ML)] {
        let a = advise(&profile(p), &run, false);
        insta::assert_snapshot!(
            format!("terminal_{name}"),
            masked(advise::render::text(&a), &run)
        );
    }
}

#[test]
fn the_terminal_brief_fits_a_screen_and_keeps_the_answer_and_what_would_change_it() {
    let run = fixture();
    for p in [DEFAULT, REALTIME_ML, ML_PYTHON, CHAT_JS] {
        let a = advise(&profile(p), &run, false);
        let brief = advise::render::brief(&a);
        let lines = brief.lines().count();
        assert!(lines <= 40, "{lines} lines:\n{brief}");
        assert!(brief.contains(&advise::render::headline(&a)));
        for r in &a.reasons {
            assert!(brief.contains(r.as_str()), "reason left out: {r}");
        }
        let top = a.top().unwrap();
        assert!(brief.contains(&format!("{:.1}", top.total)));
        if !a.sensitivity.flips.is_empty() {
            assert!(brief.contains("What would change the answer"), "{brief}");
        }
        assert!(brief.contains("--verbose"));
        // Everything is still there with --verbose.
        assert!(advise::render::text(&a).lines().count() > lines);
    }
    insta::assert_snapshot!(
        "terminal_brief_hybrid",
        masked(
            advise::render::brief(&advise(&profile(REALTIME_ML), &run, false)),
            &run
        )
    );
}

#[test]
fn markdown_output() {
    let run = fixture();
    let a = advise(&profile(CHAT_JS), &run, true);
    insta::assert_snapshot!(masked(advise::render::markdown(&a), &run));
}

#[test]
fn json_output_carries_scores_and_evidence() {
    let a = advise(&profile(REALTIME_ML), &fixture(), false);
    let v: Value = serde_json::to_value(&a).unwrap();
    assert!(v["ranking"][0]["scores"][0]["evidence"].is_array());
    assert_eq!(v["ranking"][0]["scores"][0]["criterion"], "performance");
    assert!(v["weights"].as_array().unwrap().len() == 7);
    assert!(v["sensitivity"]["checked"].is_array());
}

/// A stack whose run record carries no ecosystem levels gets no ecosystem score, and its option
/// says so in one line, whether or not the profile weighs the ecosystem.
#[test]
fn a_stack_without_ecosystem_levels_gets_no_score_and_one_line_saying_so() {
    let mut run = fixture();
    let bare = run.stacks[0].id.clone();
    run.stacks[0].ecosystem = None;
    for text in [DEFAULT, CHAT_JS, ML_PYTHON] {
        let p = profile(text);
        let a = advise(&p, &run, false);
        let c = a.ranking.iter().find(|c| c.id == bare);
        let Some(c) = c else {
            assert!(
                a.excluded.iter().any(|x| x.stack == bare),
                "{bare} vanished"
            );
            continue;
        };
        let eco = c.score(Criterion::Ecosystem).unwrap();
        assert_eq!(eco.score, None, "{}", eco.summary);
        let lines: Vec<&String> = c.notes.iter().filter(|n| n.contains("ecosystem")).collect();
        assert_eq!(lines.len(), 1, "{:?}", c.notes);
        assert!(
            lines[0].starts_with(&format!("no ecosystem score for {bare}: ")),
            "{}",
            lines[0]
        );
        assert!(!lines[0].contains('\n'));
        for other in a.ranking.iter().filter(|c| c.id != bare) {
            assert!(
                other
                    .notes
                    .iter()
                    .all(|n| !n.contains("no ecosystem levels")),
                "{}: {:?}",
                other.id,
                other.notes
            );
        }
    }
    let a = advise(&profile(DEFAULT), &run, false);
    let c = a.ranking.iter().find(|c| c.id == bare).unwrap();
    let terminal = advise::render::text(&a);
    assert!(
        terminal.contains(&format!("{bare}: no ecosystem score for {bare}: ")),
        "{terminal}"
    );
    assert!(c.notes.iter().any(|n| n.contains("[ecosystem]")));
}

/// What a stack's ecosystem scores comes from its run record, not from its framework's name:
/// a framework the advisor has never heard of is scored on the levels its manifest gave.
#[test]
fn ecosystem_levels_come_from_the_stack_record_not_the_framework_name() {
    let p = profile(DEFAULT);
    let before = advise::rank(&p, &fixture());
    let mut run = fixture();
    for s in &mut run.stacks {
        s.framework = format!("{}-renamed", s.framework);
    }
    let after = advise::rank(&p, &run);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.id, a.id);
        assert_eq!(
            b.score(Criterion::Ecosystem).unwrap().score,
            a.score(Criterion::Ecosystem).unwrap().score
        );
        assert_eq!(b.total, a.total);
    }
    assert!(before[0]
        .score(Criterion::Ecosystem)
        .unwrap()
        .score
        .is_some());
}

#[test]
fn the_reasons_name_the_knock_out_that_removed_the_other_language() {
    let a = advise(&profile(ML_PYTHON), &fixture(), false);
    let line = a
        .reasons
        .iter()
        .find(|r| r.starts_with("Every JavaScript stack was set aside"))
        .unwrap_or_else(|| panic!("{:?}", a.reasons));
    assert!(line.contains("models must run in-process"), "{line}");
}

#[test]
fn the_reasons_name_the_criteria_that_decide_against_the_other_language_with_points() {
    // CPU-heavy work, equal skills: the measured cpu scenario decides, and the reasons say so
    // with the points it gave against the best Python option.
    let cpu_heavy = r#"
name = "image service"
[workload]
cpu = 70
crud = 30
[load]
peak_rps = 500
p99_ms = 100
[team]
javascript = 3
python = 3
[cost]
core_hour = 0.04
monthly_budget = 500
"#;
    let a = advise(&profile(cpu_heavy), &fixture(), false);
    let top = a.top().unwrap();
    assert_eq!(languages(top), ["JavaScript"], "{}", top.id);
    let line = a
        .reasons
        .iter()
        .find(|r| r.contains("the best Python option"))
        .unwrap_or_else(|| panic!("{:?}", a.reasons));
    let best_python = a
        .ranking
        .iter()
        .find(|c| languages(c) == ["Python"])
        .unwrap();
    assert!(
        line.starts_with(&format!("Against {}", best_python.id)),
        "{line}"
    );
    // The criteria are listed largest first: CPU-work fit leads, with its points.
    let cpu_points = line
        .split("CPU-work fit +")
        .nth(1)
        .and_then(|rest| rest.split([',', ';']).next())
        .and_then(|n| n.trim().trim_end_matches('.').parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no CPU-work points in {line}"));
    let w = a
        .weights
        .iter()
        .find(|w| w.criterion == Criterion::Cpu)
        .unwrap()
        .weight;
    let gap = top.score(Criterion::Cpu).unwrap().score.unwrap()
        - best_python.score(Criterion::Cpu).unwrap().score.unwrap();
    assert!((cpu_points - w * gap).abs() < 0.06, "{line}: {w} × {gap}");
    let first = line.split(": ").nth(1).unwrap_or("");
    assert!(
        first.starts_with("CPU-work fit") || first.starts_with("performance"),
        "{line}"
    );
}

#[test]
fn the_hybrid_overhead_is_a_profile_input_shown_varied_and_costed_per_service() {
    let a = advise(&profile(REALTIME_ML), &fixture(), false);
    let top = a.top().unwrap();
    assert!(top.is_hybrid(), "{}", top.id);
    assert!(
        a.reasons.iter().any(|r| r.contains("hybrid.overhead")),
        "{:?}",
        a.reasons
    );
    let flip = a
        .sensitivity
        .flips
        .iter()
        .find(|f| f.input == "hybrid overhead")
        .unwrap_or_else(|| panic!("{:?}", a.sensitivity.flips));
    assert!(flip.sentence.contains("instead of 5"), "{}", flip.sentence);
    // Each service on cores of its own.
    assert!(top.capacity.cores.unwrap() >= 2, "{:?}", top.capacity);
    assert!(
        top.capacity
            .basis
            .iter()
            .any(|b| b.starts_with("each service on cores of its own")),
        "{:?}",
        top.capacity.basis
    );

    // A team that finds two stacks dear enough gets one stack, and is told what two would need.
    let dear = format!("{REALTIME_ML}\n[hybrid]\noverhead = 30\n");
    let a = advise(&profile(&dear), &fixture(), false);
    let top = a.top().unwrap();
    assert!(!top.is_hybrid(), "{}", top.id);
    let hybrid = a.ranking.iter().find(|c| c.is_hybrid()).unwrap();
    assert!(hybrid.notes.iter().any(|n| n.starts_with("30 points off")));
    let line = a
        .reasons
        .iter()
        .find(|r| r.starts_with("The two-service option"))
        .unwrap_or_else(|| panic!("{:?}", a.reasons));
    assert!(line.contains("less than"), "{line}");
}

#[test]
fn capacity_is_read_at_the_profile_s_own_target() {
    let at = |p99: &str| {
        let text = DEFAULT.replace("p99_ms = 100 ", &format!("p99_ms = {p99} "));
        assert!(
            text.contains(&format!("p99_ms = {p99} ")),
            "the template changed"
        );
        advise(&profile(&text), &fixture(), false)
    };
    let run_target = at("100");
    let strict = at("1");
    // Nothing the run probed answered within 1 ms at its p99: said, and not sized as if it had.
    assert!(
        strict
            .notes
            .iter()
            .any(|n| n.starts_with("Nothing measured meets p99 ≤ 1.00 ms")),
        "{:?}",
        strict.notes
    );
    assert!(strict.ranking.iter().all(|c| c.capacity.cores.is_none()));
    assert!(strict
        .notes
        .iter()
        .any(|n| n.starts_with("Capacities are read at your p99 target (1.00 ms)")));
    // A lenient target: every probe met it, so each capacity is a lower bound, shown as such.
    let lenient = at("5000");
    let evidence: Vec<String> = lenient
        .ranking
        .iter()
        .flat_map(|c| &c.scores)
        .filter(|s| s.criterion == Criterion::Performance)
        .flat_map(|s| &s.evidence)
        .map(|e| e.to_string())
        .collect();
    assert!(
        evidence
            .iter()
            .any(|e| e.contains("≥ ") && e.contains("a lower bound")),
        "{evidence:?}"
    );
    // The run's own target gives the run's own figures.
    assert!(run_target
        .notes
        .iter()
        .all(|n| !n.starts_with("Capacities are read at your")));
    let top = run_target.top().unwrap();
    assert!(top.capacity.cores.is_some());
}

#[test]
fn a_load_and_budget_no_option_reaches_are_said_first_and_still_tell_options_apart() {
    // Ten million requests a second on a budget of 1 USD: nothing fits, and the answer says so
    // before anything else, then ranks by what each option would take.
    let huge = DEFAULT
        .replace("peak_rps = 1000 ", "peak_rps = 10000000 ")
        .replace("monthly_budget = 500 ", "monthly_budget = 1 ");
    assert!(huge.contains("peak_rps = 10000000"), "the template changed");
    let a = advise(&profile(&huge), &fixture(), false);
    assert!(
        a.reasons[0].starts_with("Every option is over the budget of 1"),
        "{:?}",
        a.reasons
    );
    assert!(
        a.reasons[1].starts_with("No option carries the 10,000,000 req/s peak on 4 cores"),
        "{:?}",
        a.reasons
    );
    let score = |c: &advise::Candidate, k: Criterion| c.score(k).unwrap().score.unwrap();
    for k in [Criterion::Performance, Criterion::Cost] {
        let scores: Vec<f64> = a.ranking.iter().map(|c| score(c, k)).collect();
        let best = scores.iter().copied().fold(f64::MIN, f64::max);
        let worst = scores.iter().copied().fold(f64::MAX, f64::min);
        assert!(best >= 25.0 && best - worst > 15.0, "{k:?}: {scores:?}");
    }
    // The cheapest option scores best on cost, and the top choice is not the dearest.
    let cost = |c: &advise::Candidate| c.capacity.monthly_cost.unwrap();
    let cheapest = a
        .ranking
        .iter()
        .min_by(|x, y| cost(x).total_cmp(&cost(y)))
        .unwrap();
    assert_eq!(score(cheapest, Criterion::Cost), 50.0);
    let dearest = a
        .ranking
        .iter()
        .max_by(|x, y| cost(x).total_cmp(&cost(y)))
        .unwrap();
    assert_ne!(a.top().unwrap().id, dearest.id);
}

#[test]
fn plain_crud_every_stack_serves_is_a_tie_not_a_win_on_hand_set_levels() {
    // 50 req/s at a p99 of 500 ms, equal skills: every stack carries it on one core, so what
    // is left between the leaders is hand-set levels within their own precision.
    let crud = DEFAULT
        .replace("peak_rps = 1000 ", "peak_rps = 50 ")
        .replace("p99_ms = 100 ", "p99_ms = 500 ");
    let a = advise(&profile(&crud), &fixture(), false);
    assert!(a.ranking.iter().all(|c| c.capacity.cores == Some(1)));
    let tie = a
        .sensitivity
        .tie
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", a.reasons));
    assert!(!tie.with.is_empty());
    assert!(
        tie.why.iter().any(|w| w.contains("hand-set levels")),
        "{:?}",
        tie.why
    );
    let level = a
        .reasons
        .iter()
        .find(|r| r.starts_with("It is level with"))
        .unwrap_or_else(|| panic!("{:?}", a.reasons));
    assert!(level.contains("your team's skills"), "{level}");
    // Every option the reasons call level is in the tie.
    for id in &tie.with {
        assert!(level.contains(id.as_str()), "{id} missing from {level}");
    }
}

#[test]
fn a_workload_the_run_did_not_measure_is_not_measured_rather_than_cannot_meet() {
    let data_only = DEFAULT
        .replace("crud = 100 ", "crud = 0 ")
        .replace("data = 0 ", "data = 100 ");
    assert!(data_only.contains("data = 100"), "the template changed");
    let a = advise(&profile(&data_only), &fixture(), false);
    let text = advise::render::text(&a);
    assert!(text.contains("not measured"), "{text}");
    assert!(!text.contains("cannot meet"), "{text}");
    // A criterion of 0% weight has no column.
    let header = text
        .lines()
        .find(|l| l.trim_start().starts_with("#  option"))
        .unwrap();
    assert!(!header.contains("realtime"), "{header}");
}

/// A chat product's connections on the bundled reference results, which measured ws-idle.
fn chat_with(connections: u64, memory_per_core_gib: f64) -> advise::Advice {
    let text = DEFAULT
        .replace("crud = 100 ", "crud = 40 ")
        .replace("realtime = 0 ", "realtime = 60 ")
        .replace(
            "connections = 1000 ",
            &format!("connections = {connections} "),
        )
        .replace(
            "memory_per_core_gib = 4 ",
            &format!("memory_per_core_gib = {memory_per_core_gib} "),
        );
    let p = profile(&text);
    assert_eq!(p.load.connections, connections);
    assert_eq!(p.cost.memory_per_core_gib, memory_per_core_gib);
    advise(&p, &stackwise_advisor::reference::results(), true)
}

#[test]
fn the_memory_of_open_connections_sizes_the_cores_where_it_needs_more_than_the_rate() {
    let few = chat_with(1_000, 4.0);
    let many = chat_with(1_000_000, 4.0);
    let run = stackwise_advisor::reference::results();
    let mut bound = 0;
    for c in &many.ranking {
        let small = few.ranking.iter().find(|x| x.id == c.id).unwrap();
        assert!(!small.capacity.memory_bound, "{}", c.id);
        let (Some(big), Some(rate)) = (c.capacity.cores_exact, small.capacity.cores_exact) else {
            continue;
        };
        // The memory of a million connections, from ws-idle's figure per 1,000.
        let held = run
            .stacks
            .iter()
            .find(|s| s.id == c.id)
            .and_then(|s| s.scenarios.iter().find(|x| x.scenario == "ws-idle"))
            .and_then(stackwise_results::summary::held_per_1000)
            .filter(|_| !c.is_hybrid());
        match held {
            Some(held) => {
                let memory = held.median * 1000.0 / (4.0 * (1u64 << 30) as f64);
                let expected = rate.max(memory);
                assert!(
                    (big - expected).abs() < 1e-6,
                    "{}: {big} vs {expected}",
                    c.id
                );
                assert_eq!(c.capacity.memory_bound, memory > rate, "{}", c.id);
                if c.capacity.memory_bound {
                    bound += 1;
                    let figure = c
                        .scores
                        .iter()
                        .flat_map(|s| &s.evidence)
                        .find_map(|e| match e {
                            Evidence::Measured {
                                scenario, figure, ..
                            } if scenario == "ws-idle" => Some(figure.clone()),
                            _ => None,
                        })
                        .unwrap();
                    assert!(figure.contains("1,000,000 connections hold"), "{figure}");
                }
            }
            None if !c.is_hybrid() => assert_eq!(big, rate, "{}: no ws-idle figure", c.id),
            None => {}
        }
    }
    assert!(
        bound > 0,
        "a million connections outweigh the rate somewhere"
    );
    // Half the memory per core: twice the cores for memory.
    let tight = chat_with(1_000_000, 2.0);
    for c in tight.ranking.iter().filter(|c| c.capacity.memory_bound) {
        let roomy = many.ranking.iter().find(|x| x.id == c.id).unwrap();
        if roomy.capacity.memory_bound {
            let (a, b) = (
                c.capacity.cores_exact.unwrap(),
                roomy.capacity.cores_exact.unwrap(),
            );
            assert!((a - 2.0 * b).abs() < 1e-6, "{}: {a} vs {b}", c.id);
        }
    }
    if let Some(top) = many.ranking.first().filter(|t| t.capacity.memory_bound) {
        assert!(
            many.reasons
                .iter()
                .any(|r| r.contains("the memory of its 1,000,000 open connections")),
            "{}: {:?}",
            top.id,
            many.reasons
        );
    }
}
