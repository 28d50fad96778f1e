//! `verify` against deliberately broken contestants: each flaw is rejected with its reason.
//! Needs PostgreSQL (a throwaway cluster is made) and python3 with psql on the PATH.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::time::Duration;

use stackwise_lab::verify::{verify_stacks, VerifyOptions};

const SERVER: &str = include_str!("fixtures/broken_server.py");
const MANIFEST: &str = include_str!("fixtures/broken_stack.toml");

fn write_stack(root: &Path, mode: &str) {
    let dir = root.join(mode);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("server.py"), SERVER).unwrap();
    std::fs::write(dir.join("stack.toml"), MANIFEST.replace("@MODE@", mode)).unwrap();
}

#[test]
fn broken_contestants_fail_with_the_right_reasons() {
    let root = tempfile::tempdir().unwrap();
    let stacks = root.path().join("stacks");
    for mode in [
        "wrong-body",
        "missing-header",
        "cached-db",
        "unescaped-fortune",
    ] {
        write_stack(&stacks, mode);
    }
    // A stack whose server cannot start is reported, and the others still run.
    write_stack(&stacks, "no-start");
    let manifest = stacks.join("no-start/stack.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("\"server.py\",", "\"missing.py\",")).unwrap();

    let options = VerifyOptions {
        stacks_dir: stacks,
        stacks: Vec::new(),
        cache_dir: root.path().join("cache"),
        database_url: None,
        server_cpus: vec![0],
        infra_cpus: vec![0],
        start_timeout: Duration::from_secs(30),
        runtimes: Default::default(),
    };
    let verdicts = verify_stacks(&options, &mut |_| {}).unwrap();
    let reason = |id: &str, scenario: &str| -> String {
        let v = verdicts.iter().find(|v| v.id == id).unwrap();
        assert!(v.failure.is_none(), "{id}: {:?}", v.failure);
        let o = v.outcomes.iter().find(|o| o.scenario == scenario).unwrap();
        o.result
            .clone()
            .expect_err(&format!("{id} {scenario} should fail"))
    };
    assert!(
        reason("wrong-body", "json").contains("body is"),
        "{}",
        reason("wrong-body", "json")
    );
    assert!(reason("missing-header", "json").contains("missing Server header"));
    assert!(reason("cached-db", "db").contains("no query on world reached PostgreSQL"));
    assert!(reason("unescaped-fortune", "fortunes").contains("not escaped"));
    let no_start = verdicts.iter().find(|v| v.id == "no-start").unwrap();
    let failure = no_start.failure.as_deref().unwrap();
    assert!(failure.starts_with("start failed"), "{failure}");
    assert!(failure.contains("missing.py"), "{failure}");
    assert!(verdicts.iter().all(|v| !v.passed()));
}
