//! The report as a browser shows it: headless Chromium loads the real fixture's report, takes a
//! screenshot and dumps the DOM. The page must draw its charts and log nothing to the console
//! (the script's errors, and the Content Security Policy's refusals of any fetch, are console
//! messages). A page with a deliberate error proves the console check can fail.
//!
//! Chromium is required: scripts/test.sh installs Debian's `chromium` package when no browser
//! is on PATH. The screenshot is kept at `<target dir>/tmp/report-screenshot.png`.

#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use stackwise_html::{render, Extras};

/// How long one browser run may take before the test gives up on it.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(90);

const SMALL: &str = "--window-size=800,600";

/// The first of chromium, chromium-browser, google-chrome on PATH.
fn browser() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "no chromium, chromium-browser or google-chrome on PATH: run scripts/test.sh, which \
         installs Debian's chromium package"
    );
}

/// What one headless run printed: stdout, and stderr where Chromium logs console messages.
struct Run {
    stdout: String,
    stderr: String,
}

/// Runs headless Chromium on `page` with `args`, its profile in `dir` so parallel tests do not
/// share one.
fn chromium(dir: &Path, page: &Path, args: &[&str]) -> Run {
    let profile = dir.join(format!("profile-{}", args.join("-").len()));
    let mut child = Command::new(browser())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read both pipes on threads so a full pipe cannot stall the browser.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > BROWSER_TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let run = Run {
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    assert!(status.success(), "chromium failed: {}", run.stderr);
    run
}

/// Console messages and uncaught errors in Chromium's log. This Chromium logs every console
/// message, whatever its level, as `INFO:CONSOLE:<line>] "<text>", source: …`; others log
/// `ERROR:CONSOLE(…)`. The report's script logs nothing, so any console line is a problem.
fn console_problems(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn the_console_check_catches_errors_and_blocked_fetches() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("bad.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head><body><img src="https://example.invalid/x.png"><script>throw new Error("deliberate failure")</script></body></html>"#,
    )
    .unwrap();
    let run = chromium(dir.path(), &page, &["--dump-dom", SMALL]);
    let problems = console_problems(&run.stderr);
    assert!(
        problems
            .iter()
            .any(|l| l.contains("Uncaught Error: deliberate failure")),
        "the thrown error was not seen: {}",
        run.stderr
    );
    assert!(
        problems
            .iter()
            .any(|l| l.contains("Content Security Policy")),
        "the blocked fetch was not seen: {}",
        run.stderr
    );

    let clean = dir.path().join("clean.html");
    std::fs::write(&clean, "<!DOCTYPE html><p>fine</p><script>1 + 1</script>").unwrap();
    let run = chromium(dir.path(), &clean, &["--dump-dom", SMALL]);
    assert_eq!(console_problems(&run.stderr), Vec::<&str>::new());
}

#[test]
fn the_report_draws_its_charts_in_chromium_without_console_errors() {
    let dir = tempfile::tempdir().unwrap();
    let r = support::fixture();
    let page = dir.path().join("report.html");
    std::fs::write(&page, render(&r, &Extras::default())).unwrap();

    let dom = chromium(
        dir.path(),
        &page,
        &["--dump-dom", "--window-size=1280,4000"],
    );
    assert_eq!(console_problems(&dom.stderr), Vec::<&str>::new());
    let cells = stackwise_results::summary::cells(&r).len();
    assert!(
        dom.stdout.contains(&format!(r#"data-ready="{cells}""#)),
        "the page's script did not run to its end"
    );
    assert_eq!(dom.stdout.matches("<svg class=\"chart ").count(), 4);
    assert!(dom.stdout.matches(r#"class="bar""#).count() >= 3 * r.stacks.len());
    assert!(dom.stdout.matches(r#"class="curve""#).count() >= r.stacks.len());
    assert!(
        !dom.stdout.contains(r#"id="save-data" hidden"#),
        "the script shows its button"
    );

    let shot = dir.path().join("report.png");
    let arg = format!("--screenshot={}", shot.display());
    // Tall enough for the whole report, so the kept screenshot shows every section.
    let run = chromium(dir.path(), &page, &[&arg, "--window-size=1280,6400"]);
    assert_eq!(console_problems(&run.stderr), Vec::<&str>::new());
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 50_000,
        "a blank page compresses to almost nothing"
    );
    // Kept beside the test's other output, wherever CARGO_TARGET_DIR puts it.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    std::fs::copy(&shot, &keep).unwrap();
    println!("screenshot: {}", keep.canonicalize().unwrap().display());
}
