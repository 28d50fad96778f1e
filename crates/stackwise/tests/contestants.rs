//! Every contestant under stacks/ installed, started and verified for real: Node.js and Python
//! packages from their registries, a throwaway PostgreSQL cluster, the delay service.

use std::path::PathBuf;
use std::process::Command;

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
        assert_eq!(cells, ["ok"; 8], "{id}: {row}");
    }
}
