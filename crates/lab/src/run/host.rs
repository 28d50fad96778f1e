//! Facts a result carries so that it can be reproduced: the machine, the runtimes' versions, and
//! the size of each stack's own code.

use std::collections::BTreeMap;
use std::path::Path;

use stackwise_results::Host;

fn first_line(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

pub fn runtime_versions() -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    if let Some(node) = first_line("node", &["--version"]) {
        v.insert("node".into(), node.trim_start_matches('v').to_string());
    }
    if let Some(py) = first_line("python3", &["--version"]) {
        v.insert(
            "python".into(),
            py.trim_start_matches("Python ").to_string(),
        );
    }
    v
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

/// Non-blank lines that are not only a comment, in the stack's own source files.
pub fn lines_of_code(dir: &Path) -> u64 {
    const SOURCE: &[&str] = &["js", "mjs", "ts", "py", "ejs", "html", "hbs"];
    const SKIP: &[&str] = &["node_modules", ".venv", "dist", "__pycache__"];
    let mut total = 0;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        if path.is_dir() {
            total += lines_of_code(&path);
        } else if path
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| SOURCE.contains(&x))
        {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            total += text
                .lines()
                .map(str::trim)
                .filter(|l| {
                    !l.is_empty()
                        && !l.starts_with("//")
                        && !l.starts_with('#')
                        && !l.starts_with("/*")
                        && !l.starts_with('*')
                })
                .count() as u64;
        }
    }
    total
}
