//! Stacks run on the runtime release asked for: Node.js installed from the npm registry when the
//! machine has another major, the CPython named or the newest, and a release that cannot be had
//! falls back to the machine's with a note. Needs node, npm (and the npm registry) and python3.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use stackwise_lab::manifest::Stack;
use stackwise_lab::provision::provision;
use stackwise_lab::runtime::{is_release, pythons};
use stackwise_lab::server::command;

/// A stack on `runtime` at `release`, whose install records the version its PATH gives.
fn stack(root: &Path, id: &str, runtime: &str, release: Option<&str>, program: &str) -> Stack {
    let dir = root.join("stacks").join(id);
    std::fs::create_dir_all(&dir).unwrap();
    let release = release.map_or(String::new(), |r| format!("runtime_release = \"{r}\"\n"));
    let text = format!(
        r#"id = "{id}"
name = "{id}"
language = "JavaScript"
runtime = "{runtime}"
{release}framework = "none"
framework_version = "1"
database = "none"
templates = "none"
http_client = "none"
workers = "1"
workers_rule = "one"
health = "/json"
inputs = ["app.txt"]
install = [["sh", "-c", "{program} --version > installed-with.txt 2>&1"]]
start = ["{program}", "--version"]
"#
    );
    std::fs::write(dir.join("stack.toml"), text).unwrap();
    std::fs::write(dir.join("app.txt"), "x").unwrap();
    Stack::load(&dir).unwrap()
}

/// What `program --version` prints when run as the stack's server would run it.
fn server_version(p: &stackwise_lab::provision::Provisioned, program: &str) -> String {
    let out = command(
        p,
        &[program.to_string(), "--version".into()],
        &BTreeMap::new(),
    )
    .output()
    .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    text.trim()
        .trim_start_matches("Python ")
        .trim_start_matches('v')
        .to_string()
}

fn system_node_major() -> String {
    let out = std::process::Command::new("node")
        .arg("--version")
        .output()
        .unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    v.trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn node_is_installed_at_the_major_asked_for_and_used_by_install_and_server() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let log = root.path().join("install.log");
    // A major the machine does not have, so it must come from the registry.
    let major = if system_node_major() == "22" {
        "24"
    } else {
        "22"
    };
    let s = stack(root.path(), "on-node", "node", Some(major), "node");
    let p = provision(&s, &cache, &log).unwrap();
    let version = p.runtime.version.clone().unwrap();
    assert!(is_release(&version, major), "{version}");
    assert_eq!(p.runtime.fallback, None);
    let installed = std::fs::read_to_string(p.dir.join("installed-with.txt")).unwrap();
    assert_eq!(installed.trim(), format!("v{version}"));
    assert_eq!(server_version(&p, "node"), version);
    // A second stack on the same major reuses the cached runtime.
    let again = stack(root.path(), "on-node-too", "node", Some(major), "node");
    let q = provision(&again, &cache, &log).unwrap();
    assert_eq!(q.runtime.bin, p.runtime.bin);
}

#[test]
fn a_release_that_cannot_be_had_falls_back_to_the_machines_and_says_so() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let log = root.path().join("install.log");
    let s = stack(root.path(), "old-python", "python", Some("2.1"), "python3");
    let p = provision(&s, &cache, &log).unwrap();
    let note = p.runtime.fallback.clone().unwrap();
    assert!(
        note.starts_with("CPython 2.1 is not on this machine; measured on CPython 3."),
        "{note}"
    );

    let s = stack(root.path(), "future-node", "node", Some("99"), "node");
    let p = provision(&s, &cache, &log).unwrap();
    let note = p.runtime.fallback.clone().unwrap();
    assert!(
        note.starts_with("Node.js 99 could not be installed ("),
        "{note}"
    );
    assert!(note.contains("measured on the machine's Node.js"), "{note}");
}

#[test]
fn python_is_the_newest_cpython_unless_one_is_named() {
    let root = tempfile::tempdir().unwrap();
    let cache = root.path().join("cache");
    let log = root.path().join("install.log");
    let found = pythons();
    let newest = found.first().unwrap().version.clone();
    let s = stack(root.path(), "py-newest", "python", None, "python3");
    let p = provision(&s, &cache, &log).unwrap();
    assert_eq!(p.runtime.version.as_deref(), Some(newest.as_str()));
    assert_eq!(server_version(&p, "python3"), newest);
    let installed = std::fs::read_to_string(p.dir.join("installed-with.txt")).unwrap();
    assert_eq!(installed.trim(), format!("Python {newest}"));
    // The oldest one found, by name.
    let oldest = found.last().unwrap();
    let named: String = oldest
        .version
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    let s = stack(root.path(), "py-named", "python", Some(&named), "python3");
    let p = provision(&s, &cache, &log).unwrap();
    assert!(is_release(p.runtime.version.as_deref().unwrap(), &named));
    assert_eq!(
        server_version(&p, "python3"),
        p.runtime.version.clone().unwrap()
    );
}
