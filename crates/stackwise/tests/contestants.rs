//! Every contestant under stacks/ installed, started and verified for real: Node.js and Python
//! packages from their registries, a throwaway PostgreSQL cluster, Redis for Django Channels,
//! the delay service.

#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::processes_with;

#[test]
fn every_contestant_passes_verify() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Installs are cached across test runs, keyed by each stack's lockfile.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stackwise-cache");
    let out = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .arg("verify")
        .arg("--stacks-dir")
        .arg(repo.join("stacks"))
        .arg("--cache-dir")
        .arg(&cache)
        .output()
        .expect("stackwise runs");
    let table = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{table}\n{stderr}");
    let header: Vec<&str> = table
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .collect();
    // Every HTTP scenario's check (data, ml and ml-image last), then both WebSocket endpoints.
    assert_eq!(header.len(), 13, "{table}");
    assert_eq!(
        header[8..],
        ["data", "ml", "ml-image", "ws-echo", "ws-room"],
        "{table}"
    );
    for id in [
        "node-http",
        "express",
        "fastify",
        "nestjs",
        "fastapi",
        "flask",
        "django",
    ] {
        let row = table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id} in\n{table}"));
        let cells: Vec<&str> = row.split_whitespace().skip(1).collect();
        assert_eq!(cells, ["ok"; 13], "{id}: {row}");
    }
}

/// A finished quick run of `stacks` in `scenarios`, with capacity probes and no window set
/// aside for the load other tests put on the machine, installs cached in `cache`: its stdout,
/// its folder and its results.json, checked against the committed schema.
fn quick_run(
    cache: &std::path::Path,
    results: &std::path::Path,
    stacks: &str,
    scenarios: &str,
) -> (String, PathBuf, serde_json::Value) {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args([
            "run",
            "--quick",
            "--no-progress",
            // Other tests load the machine meanwhile: no window may be set aside for that.
            "--noise-limit",
            "100",
            // A quick run probes no capacity unless asked: asked here, to check the probes.
            "--capacity-probes",
            "2",
            "--stacks",
            stacks,
            "--scenarios",
            scenarios,
        ])
        .arg("--stacks-dir")
        .arg(repo.join("stacks"))
        .arg("--cache-dir")
        .arg(cache)
        .arg("--results-dir")
        .arg(results)
        .output()
        .expect("stackwise runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The run's folder, beside the history store.
    let run_dir = std::fs::read_dir(results)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let text = std::fs::read_to_string(run_dir.join("results.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join("schema/run-result.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    (stdout, run_dir, json)
}

#[test]
fn a_quick_run_keeps_a_valid_result_and_leaves_nothing_behind() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stackwise-cache");
    let results = tempfile::tempdir().unwrap();
    let (stdout, run_dir, json) =
        quick_run(&cache, results.path(), "node-http,flask", "json,db,mixed");
    assert!(stdout.contains("QUICK RUN"), "{stdout}");
    assert_eq!(json["quick"], true);
    assert!(json["finished_at"].is_string());
    let stacks = json["stacks"].as_array().unwrap();
    assert_eq!(stacks.len(), 2);
    for stack in stacks {
        for scenario in stack["scenarios"].as_array().unwrap() {
            assert!(scenario["error"].is_null(), "{scenario}");
            let trial = &scenario["trials"][0];
            assert!(trial["load"]["summary"]["requests"].as_u64().unwrap() > 0);
            assert!(trial["server"]["pss_peak_bytes"].as_u64().unwrap() > 0);
            assert!(trial["server"]["cpu_seconds"].as_f64().unwrap() > 0.0);
            // The capacity probes ran in the open loop at rates spanning the closed-loop maximum.
            let capacity = &scenario["capacity"];
            let mut valid: Vec<f64> = scenario["trials"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["valid"] == true)
                .map(|t| t["load"]["summary"]["throughput_rps"].as_f64().unwrap())
                .collect();
            valid.sort_by(f64::total_cmp);
            assert!(!valid.is_empty(), "no valid trial: {}", scenario["trials"]);
            // The closed-loop maximum the probes span: the median of the valid trials.
            let n = valid.len();
            let max = if n % 2 == 1 {
                valid[n / 2]
            } else {
                (valid[n / 2 - 1] + valid[n / 2]) / 2.0
            };
            let probes = capacity["probes"].as_array().unwrap_or_else(|| {
                panic!(
                    "no capacity search in {}: trial valid {}, {}",
                    scenario["scenario"], trial["valid"], trial["invalid_reason"]
                )
            });
            assert!(!probes.is_empty(), "{capacity}");
            for p in probes {
                assert_eq!(p["trial"]["load"]["plan"]["mode"], "constant");
                assert_eq!(p["met"].as_bool().unwrap(), p["reason"].is_null());
            }
            let rates: Vec<f64> = probes.iter().map(|p| p["rate"].as_f64().unwrap()).collect();
            assert!(
                rates.iter().any(|&r| r < max) && rates.iter().any(|&r| r > max),
                "{rates:?} around {max}"
            );
            // The stored capacity is the one read from the probes.
            let missed = probes
                .iter()
                .filter(|p| p["met"] == false && p["inconclusive"] == false)
                .map(|p| p["rate"].as_f64().unwrap())
                .fold(f64::INFINITY, f64::min);
            let best = probes
                .iter()
                .filter(|p| p["met"] == true && p["rate"].as_f64().unwrap() < missed)
                .map(|p| p["rate"].as_f64().unwrap())
                .fold(0.0, f64::max);
            assert_eq!(capacity["rps"].as_f64().unwrap(), best);
        }
        // The mixed scenario reports /json apart from /cpu.
        let mixed = stack["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["scenario"] == "mixed")
            .unwrap();
        let tags: Vec<&str> = mixed["trials"][0]["load"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tag"].as_str().unwrap())
            .collect();
        assert_eq!(tags, ["json", "cpu"]);
    }
    let logs = run_dir.join("logs");
    assert!(logs.join("node-http.log").exists());

    // An interrupted run is finished by --resume: what it measured is kept, the rest is run. A
    // run is cut between scenarios: the first scenario's rounds and every stack's result of it
    // stay.
    let mut cut = json.clone();
    cut["finished_at"] = serde_json::Value::Null;
    cut["rounds"].as_array_mut().unwrap().truncate(1);
    cut["calibration"].as_array_mut().unwrap().truncate(1);
    for stack in cut["stacks"].as_array_mut().unwrap() {
        stack["scenarios"].as_array_mut().unwrap().truncate(1);
    }
    let kept = cut["stacks"][0]["scenarios"][0].clone();
    std::fs::write(run_dir.join("results.json"), cut.to_string()).unwrap();
    let id = json["id"].as_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(["run", "--no-progress", "--resume", id])
        .arg("--stacks-dir")
        .arg(repo.join("stacks"))
        .arg("--cache-dir")
        .arg(&cache)
        .arg("--results-dir")
        .arg(results.path())
        .output()
        .expect("stackwise runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(run_dir.join("results.json")).unwrap();
    let resumed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(resumed["finished_at"].is_string());
    assert_eq!(resumed["id"], json["id"]);
    assert_eq!(
        resumed["stacks"][0]["scenarios"][0], kept,
        "a measured scenario was redone"
    );
    for (i, stack) in resumed["stacks"].as_array().unwrap().iter().enumerate() {
        assert_eq!(stack["id"], json["stacks"][i]["id"]);
        let names: Vec<&str> = stack["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["scenario"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["json", "db", "mixed"]);
    }
    // The history holds the run as it ended, and `runs` lists it.
    let history =
        stackwise_history::History::open(&stackwise_history::default_path(results.path())).unwrap();
    let stored = history.get(id).unwrap();
    assert_eq!(serde_json::to_value(&stored).unwrap(), resumed);
    let runs = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(["runs", "--results-dir"])
        .arg(results.path())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&runs.stdout);
    assert!(runs.status.success() && listed.contains(id), "{listed}");
    for name in ["summary.md", "summary.csv", "summary.json", "report.html"] {
        assert!(run_dir.join(name).is_file(), "{name} missing");
    }

    // A finished run cannot be resumed.
    let again = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(["run", "--resume", id])
        .arg("--results-dir")
        .arg(results.path())
        .arg("--stacks-dir")
        .arg(repo.join("stacks"))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already finished"));
    // Nothing the run started is still running: servers run from the cache's copies.
    let copies = cache.join("stacks").to_string_lossy().into_owned();
    let left = processes_with(&copies);
    assert!(left.is_empty(), "a contestant was left running: {left:?}");
}

#[test]
fn a_websocket_run_measures_echo_fan_out_and_held_connections() {
    // A cache of its own: the other runs check that nothing of theirs is left running.
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stackwise-cache-ws");
    let results = tempfile::tempdir().unwrap();
    // django runs its WebSockets on several processes joined by a Redis the lab starts.
    let (stdout, _, json) = quick_run(
        &cache,
        results.path(),
        "node-http,django",
        "ws-echo,ws-broadcast,ws-idle",
    );
    assert!(
        stdout.contains("Idle WebSocket connections: memory held per 1,000"),
        "{stdout}"
    );

    for stack in json["stacks"].as_array().unwrap() {
        let id = stack["id"].as_str().unwrap();
        assert_eq!(stack["websocket"]["workers"], 1, "{id}: one server core");
        for scenario in stack["scenarios"].as_array().unwrap() {
            let name = scenario["scenario"].as_str().unwrap();
            assert!(
                scenario["error"].is_null(),
                "{id} {name}: {}",
                scenario["error"]
            );
            let trials = scenario["trials"].as_array().unwrap();
            assert!(!trials.is_empty(), "{id} {name}: no trial");
            // A trial may be set aside (the engine saturated by the tests beside this one;
            // Django Channels closing a connection or two of 10,000 while they are held), and
            // then it says why. What the server did is checked in every trial.
            for t in trials.iter().filter(|t| t["valid"] == false) {
                assert!(t["invalid_reason"].is_string(), "{id} {name}: {t}");
            }
            for t in trials {
                let ws = &t["load"]["ws"];
                assert!(t["load"]["summary"]["requests"].as_u64().unwrap() > 0);
                match name {
                    "ws-echo" => assert_eq!(ws["mode"], "echo"),
                    "ws-broadcast" => {
                        assert_eq!(ws["mode"], "broadcast");
                        let b = &ws["broadcast"];
                        assert_eq!(
                            (b["rooms"].as_u64(), b["room_size"].as_u64()),
                            (Some(4), Some(100))
                        );
                        assert_eq!(b["lost"], 0, "{id}: {b}");
                        assert_eq!(b["duplicated"], 0, "{id}: {b}");
                        assert_eq!(b["out_of_order"], 0, "{id}: {b}");
                        // Its requests are the deliveries: a room's size per message.
                        assert_eq!(
                            t["load"]["summary"]["requests"].as_u64(),
                            b["delivered"].as_u64()
                        );
                    }
                    _ => {
                        assert_eq!(ws["mode"], "idle");
                        let held = &t["held"];
                        assert_eq!(held["connections"], ws["idle"]["held"], "{id}");
                        if t["valid"] == true {
                            assert_eq!(held["connections"], 10_000, "{id}");
                        }
                        // Memory an allocator kept from an earlier trial may put a trial's
                        // reading before above its reading while held; the first is the floor.
                        let floor = trials
                            .iter()
                            .filter_map(|t| t["held"]["pss_before_bytes"].as_u64())
                            .min();
                        assert!(
                            held["pss_held_bytes"].as_u64() > floor,
                            "{id}: {held} above {floor:?}"
                        );
                    }
                }
            }
            // Echo and broadcast are probed in the open loop from a valid closed-loop maximum;
            // held connections are not probed.
            let probes = scenario["capacity"]["probes"].as_array();
            if name == "ws-idle" {
                assert!(probes.is_none(), "{id} {name}");
            } else if trials.iter().any(|t| t["valid"] == true) {
                let probes = probes.unwrap_or_else(|| panic!("{id} {name}: no probes"));
                assert!(!probes.is_empty());
            }
        }
    }
    let copies = cache.join("stacks").to_string_lossy().into_owned();
    let left = processes_with(&copies);
    assert!(left.is_empty(), "a contestant was left running: {left:?}");
}

#[test]
fn a_data_and_ml_run_posts_the_lab_s_bodies_and_names_each_library() {
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("stackwise-cache-work");
    let results = tempfile::tempdir().unwrap();
    let (stdout, _, json) = quick_run(
        &cache,
        results.path(),
        "fastapi,node-http",
        "data,ml,ml-image",
    );
    assert!(
        stdout.contains("Data and ML: the library each stack used"),
        "{stdout}"
    );
    for stack in json["stacks"].as_array().unwrap() {
        let id = stack["id"].as_str().unwrap();
        // Named by the manifest, shown beside the figures.
        for key in ["data_library", "ml_library"] {
            let library = stack[key]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: no {key}"));
            assert!(
                stdout.contains(library),
                "{id}: {library} not shown:\n{stdout}"
            );
        }
        // Both serve the image with the same library, and the results say so.
        assert_eq!(stack["ml_image"], true, "{id}");
        for scenario in stack["scenarios"].as_array().unwrap() {
            let name = scenario["scenario"].as_str().unwrap();
            assert!(
                scenario["error"].is_null(),
                "{id} {name}: {}",
                scenario["error"]
            );
            let (target, path, bodies) = match name {
                "data" => ("POST /aggregate", "/aggregate", 1),
                "ml-image" => ("POST /predict/image", "/predict/image", 4),
                _ => ("POST /predict", "/predict", 8),
            };
            assert_eq!(scenario["target"], target, "{id}");
            let trials = scenario["trials"].as_array().unwrap();
            assert!(
                trials.iter().any(|t| t["valid"] == true),
                "{id} {name}: no valid trial"
            );
            for t in trials {
                let load = &t["load"];
                // Every request answered 200: a wrong body would be a 400 and a non-2xx count.
                assert!(
                    load["summary"]["requests"].as_u64().unwrap() > 0,
                    "{id} {name}"
                );
                assert_eq!(
                    load["summary"]["non_2xx"], 0,
                    "{id} {name}: {}",
                    load["summary"]
                );
                // ml's eight bodies are one tag, ml-image's four images too; every request is a
                // POST of the path.
                let tags = load["tags"].as_array().unwrap();
                assert_eq!(tags.len(), 1, "{id} {name}");
                let requests = load["plan"]["requests"].as_array().unwrap();
                assert_eq!(requests.len(), bodies, "{id} {name}");
                assert!(requests
                    .iter()
                    .all(|r| r["method"] == "POST" && r["path"] == path));
                assert!(
                    t["server"]["pss_peak_bytes"].as_u64().unwrap() > 0,
                    "{id} {name}"
                );
            }
        }
    }
    let copies = cache.join("stacks").to_string_lossy().into_owned();
    let left = processes_with(&copies);
    assert!(left.is_empty(), "a contestant was left running: {left:?}");
}
