//! `stackwise advise`'s questionnaire as a person answers it. The questions are asked only when
//! stdin is a terminal, so the binary runs in a pseudo-terminal, in a folder of its own with no
//! run history (the bundled reference results stand in, so nothing is measured): answers typed
//! in the forms people use, a wrong one explained in one line and asked again at once, the
//! questions earlier answers settle left out, and the answers saved to the file the output
//! names, beside a profile already there and never over it.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Stdio};

use rexpect::process::WaitStatus;
use rexpect::session::{spawn_command, PtySession};
use stackwise_advisor::profile::{Pool, Profile};

/// How long any one piece of output may take to appear: a questionnaire that hangs fails here
/// within seconds. The advice after the last answer takes about a second in a debug build; the
/// rest leaves room for a machine busy with other tests.
const WAIT_MS: u64 = 10_000;

/// `stackwise advise ARGS` on a terminal in `dir`, up to its first question.
fn questionnaire(dir: &Path, args: &[&str]) -> PtySession {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stackwise"));
    command
        .arg("advise")
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1");
    let mut s = spawn_command(command, Some(WAIT_MS)).unwrap();
    let before = s
        .exp_string("A few questions about the project (Enter keeps the default in brackets).")
        .unwrap();
    assert_eq!(before, "");
    s
}

/// What the terminal showed, as the program wrote it: the reader hands over each byte as a
/// char of its own (so UTF-8 such as '≤' arrives split in two), and the terminal ends each line
/// with "\r\n".
fn as_written(shown: &str) -> String {
    let bytes: Vec<u8> = shown.chars().map(|c| u8::try_from(c).unwrap()).collect();
    String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
}

/// Waits for `prompt` (with its default in brackets), then types `typed` and Enter. Returns
/// what was printed since the last answer: nothing, unless that answer was refused.
fn answer(s: &mut PtySession, prompt: &str, typed: &str) -> String {
    let before = s
        .exp_string(&format!("{prompt}: "))
        .unwrap_or_else(|e| panic!("waiting for '{prompt}': {e}"));
    s.send_line(typed).unwrap();
    as_written(&before)
}

/// Types `wrong` to `prompt`, then `right` when it is asked again; returns the one line said
/// in between.
fn corrected(s: &mut PtySession, prompt: &str, wrong: &str, right: &str) -> String {
    assert_eq!(answer(s, prompt, wrong), "");
    let said = answer(s, prompt, right);
    assert_eq!(
        said.lines().count(),
        1,
        "one line, then {prompt} again: {said:?}"
    );
    said.trim().to_string()
}

/// After the last answer, with no question after it: the file the answers were saved to, as
/// the output names it, and everything printed until the program exited, which it must have
/// done with success.
fn saved_and_advised(mut s: PtySession) -> (String, String) {
    let before = s.exp_string("saved the answers as ").unwrap();
    assert_eq!(as_written(&before), "", "asked after the last answer");
    let saved = s.exp_string(": `stackwise advise --profile ").unwrap();
    assert_eq!(s.exp_string("` asks nothing").unwrap(), saved);
    let saved = as_written(&saved);
    let rest = as_written(&s.exp_eof().unwrap());
    assert!(
        matches!(s.process().wait().unwrap(), WaitStatus::Exited(_, 0)),
        "{rest}"
    );
    (saved, rest)
}

fn read_profile(path: &Path) -> Profile {
    Profile::parse(&std::fs::read_to_string(path).unwrap(), "saved").unwrap()
}

#[test]
fn answers_typed_as_people_write_them_are_saved_and_then_ask_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = questionnaire(dir.path(), &["--no-adr"]);
    answer(&mut s, "Product name [the backend]", "Shop");
    answer(
        &mut s,
        "Share of plain API / CRUD work (any scale, e.g. percent) [100]",
        "60%",
    );
    answer(
        &mut s,
        "Share of I/O-bound calls to other services [0]",
        "40%",
    );
    // Enter keeps a share at its default of 0: no work is added that was not typed.
    for prompt in [
        "Share of real-time connections (WebSockets, live updates) [0]",
        "Share of CPU-heavy work in requests [0]",
        "Share of data processing [0]",
        "Share of ML inference [0]",
    ] {
        assert_eq!(answer(&mut s, prompt, ""), "");
    }
    assert_eq!(
        corrected(&mut s, "Peak requests per second [1000]", "lots", "2,000"),
        "load.peak_rps expects a number of 0 or more (such as 2000, 2,000 or 10k), got 'lots'"
    );
    answer(&mut s, "p99 latency target in milliseconds [100]", "100ms");
    answer(&mut s, "Connections open at once at the peak [1000]", "10k");
    answer(&mut s, "Team skill in JavaScript/TypeScript, 0-5 [3]", "4");
    answer(&mut s, "Team skill in Python, 0-5 [3]", "2");
    answer(&mut s, "Need an admin back-office? [no]", "no");
    answer(&mut s, "Need server-rendered pages? [no]", "");
    answer(&mut s, "ML models in the product? [no]", "no");
    // No models: whether they run in the API process is not asked; strict typing comes next.
    assert_eq!(answer(&mut s, "Need strict typing? [no]", "yes"), "");
    answer(
        &mut s,
        "Which developers can you hire most easily [either]",
        "",
    );
    // Either language: "only stacks in that language" is not asked.
    assert_eq!(answer(&mut s, "Price of one core-hour [0.04]", "$0.05"), "");
    answer(&mut s, "Monthly compute budget [500]", "1,500");
    answer(&mut s, "Currency [USD]", "EUR");
    // No data or ML work to put in a second service: its overhead is not asked either.

    let (saved, out) = saved_and_advised(s);
    assert_eq!(saved, "stackwise-profile.toml");
    assert!(
        out.contains("advising from the bundled reference results"),
        "{out}"
    );
    assert!(out.contains("stackwise advise: Shop"), "{out}");
    assert!(
        out.contains("workload: API/CRUD 60%, I/O calls 40%\n"),
        "{out}"
    );
    assert!(
        out.contains("load: peak 2,000 req/s at p99 ≤ 100 ms, 10,000 connections"),
        "{out}"
    );

    let p = read_profile(&dir.path().join(&saved));
    assert_eq!(p.name, "Shop");
    assert!((p.workload.crud - 0.6).abs() < 1e-9, "{:?}", p.workload);
    assert!((p.workload.io - 0.4).abs() < 1e-9, "{:?}", p.workload);
    let w = p.workload;
    assert_eq!([w.realtime, w.cpu, w.data, w.ml], [0.0; 4]);
    assert_eq!(
        (p.load.peak_rps, p.load.p99_ms, p.load.connections),
        (2000.0, 100.0, 10_000)
    );
    assert_eq!((p.team.javascript, p.team.python), (4, 2));
    assert!(!p.needs.admin && !p.needs.server_pages && !p.needs.ml_models);
    assert!(!p.needs.ml_in_process && p.needs.strict_typing);
    assert_eq!((p.hiring.pool, p.hiring.only), (Pool::Either, false));
    assert_eq!((p.cost.core_hour, p.cost.monthly_budget), (0.05, 1500.0));
    assert_eq!(p.cost.currency, "EUR");
    assert_eq!(p.hybrid.overhead, 5.0);

    // The saved file is a profile: named, it is read and nothing is asked, with no terminal.
    let out = Command::new(env!("CARGO_BIN_EXE_stackwise"))
        .args(["advise", "--profile", &saved, "--no-adr"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("A few questions"), "{stderr}");
    assert!(stdout.contains("stackwise advise: Shop"), "{stdout}");
    assert!(
        stdout.contains("workload: API/CRUD 60%, I/O calls 40%\n"),
        "{stdout}"
    );
}

#[test]
fn beside_an_existing_profile_the_answers_go_to_a_new_file_that_the_record_names() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("stackwise-profile.toml");
    let mine = "# written by hand: the questionnaire must leave it as it is\n";
    std::fs::write(&existing, mine).unwrap();
    let mut s = questionnaire(dir.path(), &["--adr", "some/dir/0001-x.md"]);
    answer(&mut s, "Product name [the backend]", "");
    answer(
        &mut s,
        "Share of plain API / CRUD work (any scale, e.g. percent) [100]",
        "",
    );
    answer(
        &mut s,
        "Share of I/O-bound calls to other services [0]",
        "50",
    );
    for prompt in [
        "Share of real-time connections (WebSockets, live updates) [0]",
        "Share of CPU-heavy work in requests [0]",
        "Share of data processing [0]",
        "Share of ML inference [0]",
    ] {
        answer(&mut s, prompt, "");
    }
    // What a profile file may not hold is refused when typed, not after the last question.
    assert_eq!(
        corrected(&mut s, "Peak requests per second [1000]", "0", "1.5k"),
        "load.peak_rps must be a number above 0, got 0"
    );
    answer(&mut s, "p99 latency target in milliseconds [100]", "0.2s");
    answer(&mut s, "Connections open at once at the peak [1000]", "");
    assert_eq!(
        corrected(
            &mut s,
            "Team skill in JavaScript/TypeScript, 0-5 [3]",
            "9",
            "2"
        ),
        "team.javascript expects 0 to 5, got '9'"
    );
    answer(&mut s, "Team skill in Python, 0-5 [3]", "5");
    answer(&mut s, "Need an admin back-office? [no]", "yes");
    answer(&mut s, "Need server-rendered pages? [no]", "");
    // Models in the product: where they run is asked now, and so is the hiring knock-out.
    answer(&mut s, "ML models in the product? [no]", "yes");
    answer(
        &mut s,
        "Must the models run inside the API process (PyTorch, scikit-learn)? [no]",
        "yes",
    );
    answer(&mut s, "Need strict typing? [no]", "");
    answer(
        &mut s,
        "Which developers can you hire most easily [either]",
        "python",
    );
    answer(&mut s, "Consider only stacks in that language? [no]", "no");
    answer(&mut s, "Price of one core-hour [0.04]", "");
    answer(&mut s, "Monthly compute budget [500]", "");
    answer(&mut s, "Currency [USD]", "");
    // I/O calls and in-process models: a Node service beside a Python one is an option, so
    // what running two costs is asked.
    assert_eq!(
        corrected(
            &mut s,
            "Points (of 100) a Node service beside a Python one should lose for running two \
             stacks (0 if you already run both) [5]",
            "150",
            "10"
        ),
        "hybrid.overhead must be between 0 and 100 points, got 150"
    );

    let (saved, out) = saved_and_advised(s);
    assert_eq!(saved, "stackwise-profile-2.toml");
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), mine);
    let p = read_profile(&dir.path().join(&saved));
    assert_eq!((p.load.peak_rps, p.load.p99_ms), (1500.0, 200.0));
    assert_eq!((p.team.javascript, p.team.python), (2, 5));
    assert!(p.needs.admin && p.needs.ml_models && p.needs.ml_in_process);
    assert_eq!((p.hiring.pool, p.hiring.only), (Pool::Python, false));
    assert_eq!(p.hybrid.overhead, 10.0);

    assert!(out.contains("decision record: some/dir/0001-x.md"), "{out}");
    let adr = std::fs::read_to_string(dir.path().join("some/dir/0001-x.md")).unwrap();
    assert!(
        adr.contains("stackwise advise --profile stackwise-profile-2.toml"),
        "{adr}"
    );
}
