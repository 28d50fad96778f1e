//! Facts a result carries so that it can be reproduced: the machine, and the version of each
//! stack's runtime as its manifest's `runtime_version` command reports it.

use std::collections::BTreeMap;
use std::process::Stdio;

use stackwise_results::Host;

use crate::provision::Provisioned;
use crate::server::command;

/// The version of `stack`'s runtime: its manifest's `runtime_version` command run the way its
/// server is (in the installed copy, with the server's environment), so a virtual
/// environment's python or a locally installed binary is the one asked. None when the
/// manifest names no command or the command fails.
pub fn runtime_version(stack: &Provisioned) -> Option<String> {
    let args = &stack.stack.manifest.runtime_version;
    if args.is_empty() {
        return None;
    }
    let mut cmd = command(stack, args, &BTreeMap::new());
    cmd.stdin(Stdio::null());
    let out = crate::process::output(&format!("{} version", stack.stack.id()), cmd).ok()?;
    crate::runtime::version_printed(&out)
}

pub fn host() -> Host {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory_bytes = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    Host {
        cpu_model,
        cores: stackwise_engine::cpu::online_cpus() as u64,
        kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim()
            .to_string(),
        memory_bytes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Stack;
    use crate::provision::provision;
    use crate::runtime::version_in as version;

    /// A stack whose install makes its own `.venv/bin/python`, which reports the version the
    /// server's environment gives it.
    const MANIFEST: &str = r#"id = "demo"
name = "Demo"
language = "Python"
runtime = "python"
framework = "none"
framework_version = "0"
database = "none"
templates = "none"
http_client = "none"
workers = "1"
workers_rule = "one"
health = "/"
inputs = ["requirements.txt"]
install = [[
  "sh", "-c",
  "mkdir -p .venv/bin && printf '#!/bin/sh\necho \"Python $DEMO_VERSION\" >&2\n' > .venv/bin/python && chmod +x .venv/bin/python",
]]
runtime_version = [".venv/bin/python", "--version"]
start = ["sh", "-c", "exit 1"]

[env]
DEMO_VERSION = "3.99.1"
"#;

    #[test]
    fn the_runtime_version_is_asked_in_the_installed_copy_with_the_servers_environment() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("stacks/demo");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("requirements.txt"), "").unwrap();
        std::fs::write(src.join("stack.toml"), MANIFEST).unwrap();
        let stack = Stack::load(&src).unwrap();
        let cache = root.path().join("cache");
        let log = root.path().join("install.log");
        let provisioned = provision(&stack, &cache, &log).unwrap();
        // Only the copy has the program: the stack's own folder has no .venv.
        assert!(!src.join(".venv").exists());
        assert_eq!(runtime_version(&provisioned).as_deref(), Some("3.99.1"));

        let mut other = provisioned.clone();
        other.stack.manifest.runtime_version = vec!["sh".into(), "-c".into(), "echo x".into()];
        assert_eq!(runtime_version(&other).as_deref(), Some("x"));
        other.stack.manifest.runtime_version = vec!["sh".into(), "-c".into(), "exit 1".into()];
        assert_eq!(runtime_version(&other), None);
        other.stack.manifest.runtime_version = vec!["./no-such-program".into()];
        assert_eq!(runtime_version(&other), None);
        other.stack.manifest.runtime_version = Vec::new();
        assert_eq!(runtime_version(&other), None);
    }

    #[test]
    fn a_version_is_the_number_in_the_line() {
        assert_eq!(version("Python 3.12.3").as_deref(), Some("3.12.3"));
        assert_eq!(version("v22.11.0").as_deref(), Some("22.11.0"));
        assert_eq!(version("bun 1.2.0 (abc)").as_deref(), Some("1.2.0"));
        assert_eq!(version("  custom build ").as_deref(), Some("custom build"));
    }
}
