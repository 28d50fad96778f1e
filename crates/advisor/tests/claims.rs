//! The claims check on the real run fixture (a snapshot of both renderings) and on altered
//! copies of it, one per rule: which side is faster, overlapping ranges, missing scenarios,
//! missing languages, one core against several, and quick runs.

#![allow(clippy::unwrap_used)]

#[path = "../../history/tests/support/mod.rs"]
mod support;

use stackwise_advisor::claims::{check, render_markdown, render_table, ClaimCheck, Verdict};
use stackwise_results::{RunResult, ScenarioResult};

fn claim<'a>(checks: &'a [ClaimCheck], id: &str) -> &'a ClaimCheck {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no claim {id}"))
}

fn verdict(r: &RunResult, id: &str) -> Verdict {
    claim(&check(r), id).verdict
}

fn is_python(r: &RunResult, stack: &str) -> bool {
    r.stacks
        .iter()
        .any(|s| s.id == stack && s.language == "Python")
}

fn scenario_mut<'a>(r: &'a mut RunResult, stack: &str, scenario: &str) -> &'a mut ScenarioResult {
    r.stacks
        .iter_mut()
        .find(|s| s.id == stack)
        .unwrap()
        .scenarios
        .iter_mut()
        .find(|s| s.scenario == scenario)
        .unwrap()
}

fn stack_ids(r: &RunResult) -> Vec<String> {
    r.stacks.iter().map(|s| s.id.clone()).collect()
}

/// Sets the trials' throughput of every stack in `scenario`: `python` for Python stacks,
/// `node` for the others, one value per trial (repeated as needed).
fn set_rps(r: &mut RunResult, scenario: &str, python: &[f64], node: &[f64]) {
    for id in stack_ids(r) {
        let values = if is_python(r, &id) { python } else { node };
        let sc = scenario_mut(r, &id, scenario);
        for (i, t) in sc.trials.iter_mut().enumerate() {
            t.valid = true;
            t.load.summary.throughput_rps = values[i % values.len()];
        }
    }
}

/// The fixture with a `cpu` scenario: as measured when it has one, else each stack's `json`
/// measurements under that name.
fn with_cpu(r: RunResult) -> RunResult {
    with_json_as(r, "cpu", "GET /cpu?n=100000")
}

/// The fixture with `scenario`: as measured when it has one, else each stack's `json`
/// measurements under that name and `target`.
fn with_json_as(mut r: RunResult, scenario: &str, target: &str) -> RunResult {
    if r.settings.scenarios.iter().any(|s| s == scenario) {
        return r;
    }
    for s in &mut r.stacks {
        let mut copy = s
            .scenarios
            .iter()
            .find(|x| x.scenario == "json")
            .unwrap()
            .clone();
        copy.scenario = scenario.into();
        copy.target = target.into();
        s.scenarios.push(copy);
    }
    r.settings.scenarios.push(scenario.into());
    r
}

/// `r` without `scenario`, as a run that did not plan it.
fn without(mut r: RunResult, scenario: &str) -> RunResult {
    for s in &mut r.stacks {
        s.scenarios.retain(|x| x.scenario != scenario);
    }
    r.settings.scenarios.retain(|x| x != scenario);
    r
}

#[test]
fn fixture_table() {
    insta::assert_snapshot!(render_table(&check(&support::fixture())));
}

#[test]
fn fixture_markdown() {
    insta::assert_snapshot!(render_markdown(&check(&support::fixture())));
}

#[test]
fn every_claim_is_checked_once_in_order() {
    let ids: Vec<&str> = check(&support::fixture()).iter().map(|c| c.id).collect();
    assert_eq!(
        ids,
        [
            "node-faster-io",
            "node-real-time",
            "python-better-cpu",
            "python-better-data",
            "python-better-ml",
            "js-not-for-ml",
            "python-more-memory",
            "gil-limits-parallelism",
            "tens-of-thousands-rps",
            "node-blocks-on-cpu"
        ]
    );
}

/// Sets the trials' throughput of `stack` in `scenario`, one value per trial.
fn set_stack_rps(r: &mut RunResult, stack: &str, scenario: &str, values: &[f64]) {
    for (i, t) in scenario_mut(r, stack, scenario)
        .trials
        .iter_mut()
        .enumerate()
    {
        t.valid = true;
        t.load.summary.throughput_rps = values[i % values.len()];
    }
}

#[test]
fn data_claims_name_each_library_and_say_when_the_library_decides_more_than_the_language() {
    let r = support::fixture();
    for id in ["python-better-data", "python-better-ml", "js-not-for-ml"] {
        assert_eq!(verdict(&r, id), Verdict::NotMeasured, "{id}");
    }
    let mut r = with_json_as(r, "data", "POST /aggregate");
    for s in &mut r.stacks {
        s.data_library = Some(match s.id.as_str() {
            "django" => "pandas 2.3.3 (read_csv, groupby)".into(),
            "fastapi" => "polars 1.35.2 (read_csv, group_by)".into(),
            "express" => "nodejs-polars 0.23.1".into(),
            _ => "plain JavaScript (split and a Map)".into(),
        });
    }
    // Node's best (express) is between Python's two libraries: polars above, pandas below.
    set_stack_rps(&mut r, "fastapi", "data", &[900.0, 950.0, 1000.0]);
    set_stack_rps(&mut r, "django", "data", &[100.0, 110.0, 120.0]);
    set_stack_rps(&mut r, "express", "data", &[400.0, 420.0, 440.0]);
    set_stack_rps(&mut r, "fastify", "data", &[200.0, 210.0, 220.0]);
    let c = claim(&check(&r), "python-better-data").clone();
    assert_eq!(c.verdict, Verdict::Holds, "{}", c.evidence);
    assert_eq!(c.scenarios, ["data"]);
    for library in [
        "polars 1.35.2 (fastapi)",
        "pandas 2.3.3 (django)",
        "nodejs-polars 0.23.1 (express)",
        "plain JavaScript (fastify)",
    ] {
        assert!(c.evidence.contains(library), "{library}: {}", c.evidence);
    }
    assert!(
        c.evidence.contains(
            "in Python, polars 1.35.2 is faster and pandas 2.3.3 slower than Node's fastest (express)"
        ),
        "{}",
        c.evidence
    );

    // nodejs-polars ahead of every Python library: the claim does not hold, and now Node's
    // libraries straddle Python's fastest.
    set_stack_rps(&mut r, "express", "data", &[4000.0, 4200.0, 4400.0]);
    let c = claim(&check(&r), "python-better-data").clone();
    assert_eq!(c.verdict, Verdict::DoesNotHold, "{}", c.evidence);
    let straddle = "in Node, nodejs-polars 0.23.1 is faster and plain JavaScript slower than \
                    Python's fastest (fastapi)";
    assert!(c.evidence.contains(straddle), "{}", c.evidence);
    assert!(!c.evidence.contains("in Python,"), "{}", c.evidence);
}

/// Every Python stack runs the model with `python`, every other with `node`.
fn with_ml_libraries(r: &mut RunResult, python: &str, node: &str) {
    for s in &mut r.stacks {
        s.ml_library = Some(match s.language.as_str() {
            "Python" => python.into(),
            _ => node.into(),
        });
    }
}

#[test]
fn ml_claims_read_inference_and_say_what_was_not_measured() {
    let mut r = with_json_as(support::fixture(), "ml", "POST /predict");
    with_ml_libraries(
        &mut r,
        "onnxruntime 1.32.0, one intra-op thread per worker",
        "onnxruntime-node 1.23.0, one intra-op thread per worker",
    );
    set_rps(&mut r, "ml", &[100.0, 110.0, 120.0], &[400.0, 420.0, 440.0]);
    let c = check(&r);
    assert_eq!(claim(&c, "python-better-ml").verdict, Verdict::DoesNotHold);
    let js = claim(&c, "js-not-for-ml");
    assert_eq!(js.verdict, Verdict::DoesNotHold, "{}", js.evidence);
    assert!(js.evidence.contains("training, GPUs"), "{}", js.evidence);
    assert!(
        js.evidence
            .starts_with("A Node.js stack served the same model"),
        "{}",
        js.evidence
    );

    set_rps(&mut r, "ml", &[400.0, 420.0, 440.0], &[100.0, 110.0, 120.0]);
    let c = check(&r);
    assert_eq!(claim(&c, "python-better-ml").verdict, Verdict::Holds);
    assert_eq!(claim(&c, "js-not-for-ml").verdict, Verdict::Holds);

    // Within noise, Node.js served the model as well as Python: the claim does not hold.
    set_rps(&mut r, "ml", &[100.0, 300.0, 400.0], &[150.0, 250.0, 350.0]);
    let c = check(&r);
    assert_eq!(claim(&c, "python-better-ml").verdict, Verdict::WithinNoise);
    assert_eq!(claim(&c, "js-not-for-ml").verdict, Verdict::DoesNotHold);
}

#[test]
fn ml_claims_take_the_light_and_the_heavy_model_together() {
    let mut r = with_json_as(support::fixture(), "ml", "POST /predict");
    r = with_json_as(r, "ml-image", "POST /predict/image");
    with_ml_libraries(&mut r, "onnxruntime 1.32.0", "onnxruntime-node 1.30.0");
    paired(&mut r, "ml");
    paired(&mut r, "ml-image");
    // Node ahead on the small model (per-call work), level on the heavy one (the compute).
    set_rps(&mut r, "ml", &[100.0, 110.0, 120.0], &[300.0, 330.0, 360.0]);
    set_rps(
        &mut r,
        "ml-image",
        &[100.0, 110.0, 120.0],
        &[105.0, 104.0, 118.0],
    );
    let c = check(&r);
    let ml = claim(&c, "python-better-ml");
    assert_eq!(ml.verdict, Verdict::DoesNotHold, "{}", ml.evidence);
    assert_eq!(ml.scenarios, ["ml", "ml-image"]);
    assert!(
        ml.evidence.contains("ml (does not hold)"),
        "{}",
        ml.evidence
    );
    assert!(
        ml.evidence.contains("ml-image (within noise)"),
        "{}",
        ml.evidence
    );
    assert!(ml.evidence.contains("per-call work"), "{}", ml.evidence);
    // Every stack once per scenario, named.
    assert_eq!(ml.stacks.len(), 2 * r.stacks.len());
    assert!(ml.stacks.iter().all(|s| s.scenario.is_some()));
    let js = claim(&c, "js-not-for-ml");
    assert_eq!(js.verdict, Verdict::DoesNotHold, "{}", js.evidence);
    assert_eq!(js.scenarios, ["ml", "ml-image"]);

    // Python ahead on the heavy model and level on the small one: it holds.
    set_rps(&mut r, "ml", &[300.0, 330.0, 360.0], &[310.0, 320.0, 370.0]);
    set_rps(
        &mut r,
        "ml-image",
        &[200.0, 210.0, 220.0],
        &[100.0, 104.0, 111.0],
    );
    let c = check(&r);
    assert_eq!(claim(&c, "python-better-ml").verdict, Verdict::Holds);
    assert_eq!(claim(&c, "js-not-for-ml").verdict, Verdict::Holds);
    // Each side ahead on one: it depends on the workload.
    set_rps(&mut r, "ml", &[100.0, 110.0, 120.0], &[300.0, 330.0, 360.0]);
    let c = check(&r);
    assert_eq!(claim(&c, "python-better-ml").verdict, Verdict::Depends);
}

#[test]
fn the_gil_is_judged_by_how_one_process_and_worker_processes_scale_from_one_core_to_two() {
    let mut r = with_json_as(support::fixture(), "parallel-1", "GET /cpu?n=100000");
    r = with_json_as(r, "parallel", "GET /cpu?n=100000");
    for s in &mut r.stacks {
        for sc in s.scenarios.iter_mut() {
            match sc.scenario.as_str() {
                "parallel-1" => sc.server_cpus = Some(vec![1]),
                "parallel" => {
                    sc.server_cpus = Some(vec![0, 1]);
                    // fastapi as one process of threads; the others as two processes.
                    sc.workers = Some(if s.id == "fastapi" { 1 } else { 2 });
                }
                _ => {}
            }
        }
    }
    let one = [100.0, 102.0, 104.0];
    for id in ["django", "express", "fastify"] {
        set_stack_rps(&mut r, id, "parallel-1", &one);
        set_stack_rps(&mut r, id, "parallel", &[196.0, 200.0, 204.0]);
    }
    set_stack_rps(&mut r, "fastapi", "parallel-1", &one);
    set_stack_rps(&mut r, "fastapi", "parallel", &[99.0, 101.0, 103.0]);
    let c = claim(&check(&r), "gil-limits-parallelism").clone();
    assert_eq!(c.verdict, Verdict::Holds, "{}", c.evidence);
    assert_eq!(c.scenarios, ["parallel-1", "parallel"]);
    for part in [
        "on 2 server cores over 1",
        "fastapi 1.0×",
        "1 process",
        "django 2.0×",
        "2 processes",
        "Node express 2.0×",
        "free-threaded",
        "clearly less from more cores than worker processes on the same machine",
    ] {
        assert!(c.evidence.contains(part), "{part}: {}", c.evidence);
    }

    // One process that uses both cores: the GIL did not limit it.
    set_stack_rps(&mut r, "fastapi", "parallel", &[196.0, 200.0, 204.0]);
    assert_eq!(verdict(&r, "gil-limits-parallelism"), Verdict::DoesNotHold);

    // Only worker processes measured, and they scale: processes side-step the GIL.
    for s in &mut r.stacks {
        for sc in s
            .scenarios
            .iter_mut()
            .filter(|sc| sc.scenario == "parallel")
        {
            sc.workers = Some(2);
        }
    }
    let c = claim(&check(&r), "gil-limits-parallelism").clone();
    assert_eq!(c.verdict, Verdict::DoesNotHold, "{}", c.evidence);
    assert!(
        c.evidence.contains("no one-process configuration"),
        "{}",
        c.evidence
    );
}

#[test]
fn upstream_verdict_follows_the_faster_language() {
    let mut r = support::fixture();
    set_rps(
        &mut r,
        "upstream",
        &[100.0, 110.0, 120.0],
        &[1000.0, 1100.0, 1200.0],
    );
    let c = check(&r);
    let io = claim(&c, "node-faster-io");
    assert_eq!(io.verdict, Verdict::Holds, "{}", io.evidence);
    assert_eq!(io.scenarios, ["upstream"]);
    assert!(
        io.evidence.contains("Fastest stack of each language"),
        "{}",
        io.evidence
    );

    set_rps(
        &mut r,
        "upstream",
        &[1000.0, 1100.0, 1200.0],
        &[100.0, 110.0, 120.0],
    );
    let c = check(&r);
    let io = claim(&c, "node-faster-io");
    assert_eq!(io.verdict, Verdict::DoesNotHold, "{}", io.evidence);
    assert!(io.evidence.contains("10.0×"), "{}", io.evidence);
}

#[test]
fn real_time_is_judged_on_the_websocket_scenarios_alone() {
    let r = support::fixture();
    let rt = claim(&check(&r), "node-real-time").clone();
    assert_eq!(rt.verdict, Verdict::NotMeasured, "{}", rt.evidence);
    assert_eq!(rt.evidence, "The run did not measure ws-echo.");

    let mut r = with_json_as(r, "ws-echo", "128 B messages on ws /ws/echo");
    set_rps(
        &mut r,
        "ws-echo",
        &[100.0, 110.0, 120.0],
        &[400.0, 420.0, 440.0],
    );
    // upstream says the opposite: the real-time claim must not read it.
    set_rps(
        &mut r,
        "upstream",
        &[1000.0, 1100.0, 1200.0],
        &[100.0, 110.0, 120.0],
    );
    let rt = claim(&check(&r), "node-real-time").clone();
    assert_eq!(rt.verdict, Verdict::Holds, "{}", rt.evidence);
    assert_eq!(rt.scenarios, ["ws-echo"]);
    assert!(rt.evidence.contains("messages/s"), "{}", rt.evidence);

    set_rps(
        &mut r,
        "ws-echo",
        &[400.0, 420.0, 440.0],
        &[100.0, 110.0, 120.0],
    );
    let rt = claim(&check(&r), "node-real-time").clone();
    assert_eq!(rt.verdict, Verdict::DoesNotHold, "{}", rt.evidence);

    // Broadcast fan-out says the opposite of echo: the claim depends on the workload, and
    // both are cited.
    let mut r = with_json_as(r, "ws-broadcast", "128 B messages to 4 rooms of 100");
    set_rps(
        &mut r,
        "ws-broadcast",
        &[100.0, 110.0, 120.0],
        &[400.0, 420.0, 440.0],
    );
    let rt = claim(&check(&r), "node-real-time").clone();
    assert_eq!(rt.verdict, Verdict::Depends, "{}", rt.evidence);
    assert_eq!(rt.scenarios, ["ws-echo", "ws-broadcast"]);
    assert!(rt.evidence.contains("deliveries/s"), "{}", rt.evidence);
    assert!(rt.evidence.contains("messages/s"), "{}", rt.evidence);

    // Where they agree, so does the claim.
    set_rps(
        &mut r,
        "ws-echo",
        &[100.0, 110.0, 120.0],
        &[400.0, 420.0, 440.0],
    );
    let rt = claim(&check(&r), "node-real-time").clone();
    assert_eq!(rt.verdict, Verdict::Holds, "{}", rt.evidence);
}

#[test]
fn overlapping_ranges_are_within_noise() {
    let mut r = support::fixture();
    set_rps(
        &mut r,
        "upstream",
        &[900.0, 1000.0, 1100.0],
        &[1050.0, 1150.0, 1250.0],
    );
    let io = claim(&check(&r), "node-faster-io").clone();
    assert_eq!(io.verdict, Verdict::WithinNoise, "{}", io.evidence);
    assert!(io.evidence.contains("ranges overlap"), "{}", io.evidence);
}

/// Numbers the trials of every stack in `scenario` as rounds 0, 1, 2…: paired results.
fn paired(r: &mut RunResult, scenario: &str) {
    for id in stack_ids(r) {
        for (i, t) in scenario_mut(r, &id, scenario).trials.iter_mut().enumerate() {
            t.round = Some(i as u64);
        }
    }
}

#[test]
fn paired_rounds_decide_where_the_ranges_overlap_and_only_there() {
    let mut r = support::fixture();
    paired(&mut r, "upstream");
    // The machine's speed moved from round to round, and Node stayed 15% ahead in each: the
    // ranges overlap, the paired ratio does not span 1.
    set_rps(
        &mut r,
        "upstream",
        &[900.0, 1000.0, 1100.0],
        &[1035.0, 1150.0, 1265.0],
    );
    let io = claim(&check(&r), "node-faster-io").clone();
    assert_eq!(io.verdict, Verdict::Holds, "{}", io.evidence);
    assert!(io.evidence.contains("paired rounds"), "{}", io.evidence);
    // Ahead in two rounds, behind in the third: the interval spans 1.
    set_rps(
        &mut r,
        "upstream",
        &[900.0, 1000.0, 1100.0],
        &[1035.0, 1150.0, 1000.0],
    );
    let io = claim(&check(&r), "node-faster-io").clone();
    assert_eq!(io.verdict, Verdict::WithinNoise, "{}", io.evidence);
    assert!(io.evidence.contains("spans 1"), "{}", io.evidence);
}

#[test]
fn every_stack_gets_the_claim_against_the_other_language_s_best() {
    let mut r = support::fixture();
    paired(&mut r, "upstream");
    // Node's stacks 1,000, 2,000…; Python's 100, 200…, the second of each the best.
    let ids = stack_ids(&r);
    let (mut py, mut node) = (0.0, 0.0);
    for id in &ids {
        let rate = if is_python(&r, id) {
            py += 100.0;
            py
        } else {
            node += 1000.0;
            node
        };
        set_stack_rps(&mut r, id, "upstream", &[rate, rate * 1.02, rate * 0.98]);
    }
    // The first Node stack (1,000) against a Python stack made faster than it in every round.
    let first_python = ids.iter().find(|id| is_python(&r, id)).unwrap().clone();
    set_stack_rps(&mut r, &first_python, "upstream", &[1500.0, 1600.0, 1400.0]);
    let io = claim(&check(&r), "node-faster-io").clone();
    let stacks: Vec<&str> = io.stacks.iter().map(|s| s.stack.as_str()).collect();
    let mut sorted = stacks.clone();
    sorted.sort_unstable();
    let mut all: Vec<&str> = ids.iter().map(String::as_str).collect();
    all.sort_unstable();
    assert_eq!(sorted, all, "each stack once");
    let first_node = ids.iter().find(|id| !is_python(&r, id)).unwrap();
    for s in &io.stacks {
        assert!(
            s.evidence.contains("paired rounds"),
            "{}: {}",
            s.stack,
            s.evidence
        );
        let expected = if &s.stack == first_node {
            // 1,000 against Python's best, 1,500: the claim fails for it.
            Verdict::DoesNotHold
        } else {
            Verdict::Holds
        };
        assert_eq!(s.verdict, expected, "{}: {}", s.stack, s.evidence);
    }
    // The language's verdict is its best stack's against the other's best.
    let last_node = ids.iter().rfind(|id| !is_python(&r, id)).unwrap();
    let best_node = io.stacks.iter().find(|s| &s.stack == last_node).unwrap();
    assert!(
        best_node.evidence.contains(&first_python),
        "{}",
        best_node.evidence
    );
    assert_eq!(best_node.verdict, io.verdict);
    let text = render_table(std::slice::from_ref(&io));
    assert!(text.contains("per stack"), "{text}");
    for id in &ids {
        assert!(text.contains(id.as_str()), "{text}");
    }
    assert!(render_markdown(&[io]).contains("| Claim | Stack | Verdict | Evidence |"));
}

#[test]
fn invalid_trials_are_not_evidence() {
    let mut r = support::fixture();
    let python: Vec<String> = stack_ids(&r)
        .into_iter()
        .filter(|id| is_python(&r, id))
        .collect();
    for id in python {
        for t in &mut scenario_mut(&mut r, &id, "upstream").trials {
            t.valid = false;
        }
    }
    let io = claim(&check(&r), "node-faster-io").clone();
    assert_eq!(io.verdict, Verdict::NotMeasured);
    assert_eq!(
        io.evidence,
        "No Python stack has a valid measurement of upstream."
    );
}

#[test]
fn cpu_claim_needs_the_cpu_scenario() {
    let mut r = with_cpu(support::fixture());
    set_rps(
        &mut r,
        "cpu",
        &[300.0, 310.0, 320.0],
        &[900.0, 950.0, 1000.0],
    );
    let cpu = claim(&check(&r), "python-better-cpu").clone();
    assert_eq!(cpu.verdict, Verdict::DoesNotHold, "{}", cpu.evidence);
    assert_eq!(cpu.scenarios, ["cpu"]);
    set_rps(
        &mut r,
        "cpu",
        &[900.0, 950.0, 1000.0],
        &[300.0, 310.0, 320.0],
    );
    assert_eq!(verdict(&r, "python-better-cpu"), Verdict::Holds);

    let r = without(r, "cpu");
    let cpu = claim(&check(&r), "python-better-cpu").clone();
    assert_eq!(cpu.verdict, Verdict::NotMeasured);
    assert_eq!(cpu.evidence, "The run did not measure cpu.");
    assert!(cpu.scenarios.is_empty());
}

#[test]
fn a_single_stack_run_measures_no_claim_that_compares_the_languages() {
    for keep in ["fastapi", "express"] {
        let mut r = support::fixture();
        r.stacks.retain(|s| s.id == keep);
        // Whether Node blocks on CPU work is a claim about Node alone.
        for c in check(&r)
            .into_iter()
            .filter(|c| keep == "fastapi" || c.id != "node-blocks-on-cpu")
        {
            assert_eq!(
                c.verdict,
                Verdict::NotMeasured,
                "{keep}: {} {}",
                c.id,
                c.evidence
            );
        }
        let missing = if keep == "fastapi" { "Node" } else { "Python" };
        let io = claim(&check(&r), "node-faster-io").clone();
        assert_eq!(io.evidence, format!("The run has no {missing} stack."));
        if keep == "express" {
            assert_eq!(verdict(&r, "node-blocks-on-cpu"), Verdict::Holds);
        }
    }
}

#[test]
fn a_language_other_than_javascript_typescript_or_python_takes_no_side() {
    let mut r = support::fixture();
    for s in r.stacks.iter_mut().filter(|s| s.language != "Python") {
        s.language = "Rust".into();
    }
    assert_eq!(verdict(&r, "node-faster-io"), Verdict::NotMeasured);
    let mut r = support::fixture();
    for s in r.stacks.iter_mut().filter(|s| s.language != "Python") {
        s.language = "TypeScript".into();
    }
    assert_ne!(verdict(&r, "node-faster-io"), Verdict::NotMeasured);
}

#[test]
fn memory_verdict_follows_the_leanest_stack_of_each_language() {
    let set_pss = |r: &mut RunResult, python: u64, node: u64| {
        for id in stack_ids(r) {
            let bytes = if is_python(r, &id) { python } else { node };
            let s = r.stacks.iter_mut().find(|s| s.id == id).unwrap();
            for sc in &mut s.scenarios {
                for (i, t) in sc.trials.iter_mut().enumerate() {
                    t.server.pss_peak_bytes = bytes + i as u64 * 1_000_000;
                }
            }
        }
    };
    let mut r = support::fixture();
    set_pss(&mut r, 200_000_000, 100_000_000);
    let m = claim(&check(&r), "python-more-memory").clone();
    assert_eq!(m.verdict, Verdict::Holds, "{}", m.evidence);
    assert!(
        m.evidence.starts_with("Leanest stack of each language"),
        "{}",
        m.evidence
    );
    assert!(m.evidence.contains("idle before load"), "{}", m.evidence);
    assert!(
        m.scenarios.contains(&"json".to_string()),
        "{:?}",
        m.scenarios
    );
    set_pss(&mut r, 100_000_000, 200_000_000);
    assert_eq!(verdict(&r, "python-more-memory"), Verdict::DoesNotHold);
    set_pss(&mut r, 100_000_000, 101_000_000);
    assert_eq!(verdict(&r, "python-more-memory"), Verdict::WithinNoise);
}

#[test]
fn the_gil_is_not_measured_on_one_server_core() {
    let r = with_cpu(support::fixture());
    assert_eq!(r.settings.server_cpus.len(), 1);
    let g = claim(&check(&r), "gil-limits-parallelism").clone();
    assert_eq!(g.verdict, Verdict::NotMeasured);
    assert!(
        g.evidence.starts_with("The servers had 1 core"),
        "{}",
        g.evidence
    );
    assert!(g.evidence.contains("worker processes"), "{}", g.evidence);
}

#[test]
fn the_gil_on_several_cores_is_judged_by_the_cores_python_kept_busy() {
    let set_busy = |r: &mut RunResult, python: f64, node: f64| {
        for id in stack_ids(r) {
            let busy = if is_python(r, &id) { python } else { node };
            for t in &mut scenario_mut(r, &id, "cpu").trials {
                t.valid = true;
                t.server.cpu_seconds = busy * t.load.elapsed_s;
            }
        }
    };
    let mut r = with_cpu(support::fixture());
    r.settings.server_cpus = vec![2, 3];
    set_busy(&mut r, 1.9, 1.9);
    let g = claim(&check(&r), "gil-limits-parallelism").clone();
    assert_eq!(g.verdict, Verdict::DoesNotHold, "{}", g.evidence);
    assert!(
        g.evidence.contains("kept 1.9 of 2 server cores"),
        "{}",
        g.evidence
    );
    assert_eq!(g.scenarios, ["cpu"]);

    set_busy(&mut r, 1.0, 1.9);
    assert_eq!(verdict(&r, "gil-limits-parallelism"), Verdict::Holds);
    set_busy(&mut r, 1.0, 1.0);
    assert_eq!(verdict(&r, "gil-limits-parallelism"), Verdict::NotMeasured);

    let mut r = without(support::fixture(), "cpu");
    r.settings.server_cpus = vec![2, 3];
    let g = claim(&check(&r), "gil-limits-parallelism").clone();
    assert_eq!(g.verdict, Verdict::NotMeasured);
    assert!(
        g.evidence.starts_with("The run did not measure cpu."),
        "{}",
        g.evidence
    );
}

#[test]
fn tens_of_thousands_is_per_core_times_the_machines_cores() {
    let mut r = support::fixture();
    r.host.cores = 4;
    // One server core: per core = throughput; times 4 cores.
    set_rps(
        &mut r,
        "json",
        &[3000.0, 3100.0, 3200.0],
        &[2600.0, 2700.0, 2800.0],
    );
    let t = claim(&check(&r), "tens-of-thousands-rps").clone();
    assert_eq!(t.verdict, Verdict::Holds, "{}", t.evidence);
    assert!(t.evidence.contains("× 4 = 12,400 req/s"), "{}", t.evidence);
    assert!(
        t.evidence.contains("linear scaling assumed"),
        "{}",
        t.evidence
    );
    assert_eq!(t.scenarios, ["json"]);

    set_rps(
        &mut r,
        "json",
        &[1000.0, 1100.0, 1200.0],
        &[2600.0, 2700.0, 2800.0],
    );
    let t = claim(&check(&r), "tens-of-thousands-rps").clone();
    assert_eq!(t.verdict, Verdict::DoesNotHold, "{}", t.evidence);
    assert!(t.evidence.contains("would need 10 cores"), "{}", t.evidence);

    set_rps(
        &mut r,
        "json",
        &[2400.0, 2600.0, 2800.0],
        &[3000.0, 3100.0, 3200.0],
    );
    assert_eq!(verdict(&r, "tens-of-thousands-rps"), Verdict::WithinNoise);
}

#[test]
fn tens_of_thousands_is_judged_at_a_reference_core_s_speed_not_the_day_s() {
    let mut r = support::fixture();
    r.host.cores = 4;
    set_rps(
        &mut r,
        "json",
        &[1500.0, 1550.0, 1600.0],
        &[2600.0, 2700.0, 2800.0],
    );
    let calibrate = |r: &mut RunResult, start: f64, end: f64| {
        r.calibration = ["start", "end"]
            .iter()
            .zip([start, end])
            .map(|(at, rps)| stackwise_results::Calibration {
                at: (*at).to_string(),
                throughput_rps: rps,
                steal: None,
                cpu_steps: Vec::new(),
            })
            .collect();
    };
    // A slow day: the machine served half the reference core's static rate, so its figures
    // count double: 1,550 × 2 × 4 = 12,400.
    calibrate(&mut r, 20_000.0, 20_000.0);
    let slow = claim(&check(&r), "tens-of-thousands-rps").clone();
    assert_eq!(slow.verdict, Verdict::Holds, "{}", slow.evidence);
    assert!(
        slow.evidence.contains("= 12,400 req/s"),
        "{}",
        slow.evidence
    );
    assert!(
        slow.evidence.contains("reference core"),
        "{}",
        slow.evidence
    );
    // The same stacks on a day twice as fast measure twice the throughput, and the verdict
    // stays.
    set_rps(
        &mut r,
        "json",
        &[3000.0, 3100.0, 3200.0],
        &[5200.0, 5400.0, 5600.0],
    );
    calibrate(&mut r, 40_000.0, 40_000.0);
    let fast = claim(&check(&r), "tens-of-thousands-rps").clone();
    assert_eq!(fast.verdict, Verdict::Holds, "{}", fast.evidence);
    assert!(
        fast.evidence.contains("= 12,400 req/s"),
        "{}",
        fast.evidence
    );
    // A machine that sped up fourfold during the run cannot say.
    calibrate(&mut r, 20_000.0, 80_000.0);
    assert_eq!(verdict(&r, "tens-of-thousands-rps"), Verdict::WithinNoise);
    // A machine that is simply fast: the same figures are a quarter of the reference's.
    calibrate(&mut r, 160_000.0, 160_000.0);
    assert_eq!(verdict(&r, "tens-of-thousands-rps"), Verdict::DoesNotHold);
}

/// Sets, in every capacity probe of `stack` in mixed, /json's p99 and /cpu's p50.
fn set_probes(r: &mut RunResult, stack: &str, json_p99_ms: f64, cpu_p50_ms: f64) {
    let sc = scenario_mut(r, stack, "mixed");
    for p in &mut sc.capacity.as_mut().unwrap().probes {
        for t in &mut p.trial.load.tags {
            let l = &mut t.summary.latency.corrected;
            match t.tag.as_str() {
                "json" => l.p99_us = (json_p99_ms * 1000.0) as u64,
                "cpu" => l.p50_us = (cpu_p50_ms * 1000.0) as u64,
                _ => {}
            }
        }
    }
}

#[test]
fn node_blocks_is_read_below_saturation_from_how_long_json_waited_behind_cpu_work() {
    let mut r = support::fixture();
    let ids = stack_ids(&r);
    // Node: /json's p99 beyond the /cpu request's latency; Python: a small part of it.
    for id in &ids {
        if is_python(&r, id) {
            set_probes(&mut r, id, 2.0, 80.0);
        } else {
            set_probes(&mut r, id, 4.0, 3.0);
        }
    }
    let b = claim(&check(&r), "node-blocks-on-cpu").clone();
    assert_eq!(b.verdict, Verdict::Holds, "{}", b.evidence);
    assert_eq!(b.scenarios, ["mixed"]);
    assert!(
        b.evidence.contains("4.00 of 3.00 ms (1.33)"),
        "{}",
        b.evidence
    );
    assert!(b.evidence.contains("did not."), "{}", b.evidence);
    assert_eq!(b.stacks.len(), ids.len());
    for s in &b.stacks {
        let expected = if is_python(&r, &s.stack) {
            Verdict::DoesNotHold
        } else {
            Verdict::Holds
        };
        assert_eq!(s.verdict, expected, "{}: {}", s.stack, s.evidence);
    }
    // A Python stack of one event loop blocks as well, and the evidence says so.
    let python = ids.iter().find(|id| is_python(&r, id)).unwrap().clone();
    set_probes(&mut r, &python, 80.0, 80.0);
    let b = claim(&check(&r), "node-blocks-on-cpu").clone();
    assert!(
        b.evidence
            .contains(&format!("It is not Node's alone: {python} blocked too.")),
        "{}",
        b.evidence
    );
    // Node's /json running alongside: it does not hold.
    let node: Vec<String> = ids
        .iter()
        .filter(|id| !is_python(&r, id))
        .cloned()
        .collect();
    for id in &node {
        set_probes(&mut r, id, 1.0, 80.0);
    }
    assert_eq!(verdict(&r, "node-blocks-on-cpu"), Verdict::DoesNotHold);
    // Without probes (a quick run) there is nothing below saturation to read.
    let mut quick = r.clone();
    for id in &ids {
        scenario_mut(&mut quick, id, "mixed").capacity = None;
    }
    let b = claim(&check(&quick), "node-blocks-on-cpu").clone();
    assert_eq!(b.verdict, Verdict::NotMeasured);
    assert!(b.evidence.contains("open-loop probes"), "{}", b.evidence);

    let r = without(r, "mixed");
    let b = claim(&check(&r), "node-blocks-on-cpu").clone();
    assert_eq!(b.verdict, Verdict::NotMeasured);
    assert_eq!(b.evidence, "The run did not measure mixed.");
}

#[test]
fn a_quick_runs_verdicts_carry_a_note() {
    let mut r = support::fixture();
    r.quick = true;
    let checks = check(&r);
    assert!(checks.iter().any(|c| c.verdict != Verdict::NotMeasured));
    for c in checks {
        let noted = c.evidence.contains("Quick run");
        assert_eq!(
            noted,
            c.verdict != Verdict::NotMeasured,
            "{}: {}",
            c.id,
            c.evidence
        );
    }
    assert!(!check(&support::fixture())
        .iter()
        .any(|c| c.evidence.contains("Quick run")));
}

#[test]
fn the_table_fits_100_columns_and_markdown_has_a_row_per_claim() {
    let checks = check(&with_cpu(support::fixture()));
    let table = render_table(&checks);
    for line in table.lines() {
        assert!(line.chars().count() <= 100, "{line}");
    }
    for c in &checks {
        assert!(table.contains(c.claim));
    }
    let md = render_markdown(&checks);
    // A row per claim, then a row per claim and stack.
    let tables: Vec<Vec<&str>> = md
        .split("\n\n")
        .map(|part| part.lines().filter(|l| l.starts_with('|')).collect())
        .filter(|rows: &Vec<&str>| !rows.is_empty())
        .collect();
    assert_eq!(tables.len(), 2, "{md}");
    assert_eq!(tables[0].len(), 2 + checks.len());
    let per_stack: usize = checks.iter().map(|c| c.stacks.len()).sum();
    assert!(per_stack > 0);
    assert_eq!(tables[1].len(), 2 + per_stack);
    assert!(tables
        .iter()
        .flatten()
        .all(|l| l.starts_with('|') && l.ends_with('|')));
}
