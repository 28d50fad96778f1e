//! A contestant's `stack.toml`: what it is, how to install it and how to start it (docs/stacks.md).
//!
//! Stacks are data: the lab reads every folder under `stacks/` and needs no code per stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use stackwise_results::Ecosystem;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ManifestError {
    #[error("cannot read '{0}': {1}")]
    Read(PathBuf, std::io::Error),
    #[error("invalid manifest '{0}': {1}")]
    Invalid(PathBuf, String),
    #[error("no stacks found in '{0}' (each stack is a folder with a stack.toml)")]
    NoStacks(PathBuf),
    #[error("unknown stack '{0}'; known stacks: {1}")]
    Unknown(String, String),
}

/// How many workers a stack runs for the CPUs it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkersRule {
    /// One per CPU (Node.js cluster, uvicorn).
    #[serde(rename = "cpus")]
    Cpus,
    /// (2 × CPUs) + 1 (gunicorn's guidance for sync workers).
    #[serde(rename = "2cpus+1")]
    TwoCpusPlusOne,
    /// Always one.
    #[serde(rename = "1")]
    One,
}

impl WorkersRule {
    pub fn workers(self, cpus: usize) -> usize {
        let cpus = cpus.max(1);
        match self {
            WorkersRule::Cpus => cpus,
            WorkersRule::TwoCpusPlusOne => 2 * cpus + 1,
            WorkersRule::One => 1,
        }
    }
}

/// A `stack.toml`, as written.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub language: String,
    pub runtime: String,
    pub framework: String,
    pub framework_version: String,
    pub database: String,
    pub templates: String,
    pub http_client: String,
    pub workers: WorkersRule,
    pub workers_rule: String,
    pub health: String,
    /// Files (or folders, meaning every file below them) whose content decides whether the
    /// installed copy is still good.
    pub inputs: Vec<String>,
    /// Commands run in order, in the stack's private copy, to install it.
    pub install: Vec<Vec<String>>,
    /// The server command, run in the private copy.
    pub start: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Whether `stackwise run` measures it when no stacks are named; a variant of another
    /// stack (the same app on another server) says `false` and is run by name.
    #[serde(default = "yes")]
    pub default_run: bool,
    /// What the advisor knows of the framework's ecosystem, each level citing a fact of
    /// `data/facts.toml`; without it the stack gets no ecosystem score.
    #[serde(default)]
    pub ecosystem: Option<Ecosystem>,
}

fn yes() -> bool {
    true
}

/// A manifest and the folder it came from.
#[derive(Debug, Clone)]
pub struct Stack {
    pub manifest: Manifest,
    pub dir: PathBuf,
}

impl Stack {
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn load(dir: &Path) -> Result<Stack, ManifestError> {
        let path = dir.join("stack.toml");
        let text =
            std::fs::read_to_string(&path).map_err(|e| ManifestError::Read(path.clone(), e))?;
        let manifest: Manifest = toml::from_str(&text)
            .map_err(|e| ManifestError::Invalid(path.clone(), e.message().to_string()))?;
        let invalid = |msg: String| ManifestError::Invalid(path.clone(), msg);
        let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if manifest.id != folder {
            return Err(invalid(format!(
                "id '{}' differs from the folder name '{folder}'",
                manifest.id
            )));
        }
        if manifest.start.is_empty() {
            return Err(invalid("start is empty".into()));
        }
        if manifest.install.iter().any(Vec::is_empty) {
            return Err(invalid("an install command is empty".into()));
        }
        if !manifest.health.starts_with('/') {
            return Err(invalid(format!(
                "health '{}' must be a path starting with '/'",
                manifest.health
            )));
        }
        for input in &manifest.inputs {
            if !dir.join(input).exists() {
                return Err(invalid(format!("input '{input}' does not exist")));
            }
        }
        if let Some(ecosystem) = &manifest.ecosystem {
            ecosystem.check().map_err(invalid)?;
        }
        Ok(Stack {
            manifest,
            dir: dir.to_path_buf(),
        })
    }
}

/// Every stack under `root`, sorted by id.
pub fn discover(root: &Path) -> Result<Vec<Stack>, ManifestError> {
    let entries =
        std::fs::read_dir(root).map_err(|e| ManifestError::Read(root.to_path_buf(), e))?;
    let mut stacks = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if dir.join("stack.toml").is_file() {
            stacks.push(Stack::load(&dir)?);
        }
    }
    if stacks.is_empty() {
        return Err(ManifestError::NoStacks(root.to_path_buf()));
    }
    stacks.sort_by(|a, b| a.id().cmp(b.id()));
    Ok(stacks)
}

/// The stacks named in `ids` (all when empty), in the order given.
pub fn select(all: &[Stack], ids: &[String]) -> Result<Vec<Stack>, ManifestError> {
    if ids.is_empty() {
        return Ok(all.to_vec());
    }
    select_named(all, ids)
}

/// The stacks `stackwise run` measures: those named, or when none are, every stack whose
/// manifest does not opt out of the default run.
pub fn select_for_run(all: &[Stack], ids: &[String]) -> Result<Vec<Stack>, ManifestError> {
    if ids.is_empty() {
        return Ok(all
            .iter()
            .filter(|s| s.manifest.default_run)
            .cloned()
            .collect());
    }
    select_named(all, ids)
}

fn select_named(all: &[Stack], ids: &[String]) -> Result<Vec<Stack>, ManifestError> {
    ids.iter()
        .map(|id| {
            all.iter().find(|s| s.id() == id).cloned().ok_or_else(|| {
                ManifestError::Unknown(
                    id.clone(),
                    all.iter().map(|s| s.id()).collect::<Vec<_>>().join(", "),
                )
            })
        })
        .collect()
}

/// Replaces `{name}` placeholders in `arg` with `values`.
pub fn expand(arg: &str, values: &BTreeMap<&str, String>) -> String {
    let mut out = arg.to_string();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
id = "demo"
name = "Demo"
language = "JavaScript"
runtime = "node"
framework = "none"
framework_version = "1.0.0"
database = "pg"
templates = "none"
http_client = "fetch"
workers = "2cpus+1"
workers_rule = "gunicorn guidance"
health = "/json"
inputs = ["package.json"]
install = [["npm", "ci"]]
start = ["node", "server.js", "--port", "{port}"]

[env]
NODE_ENV = "production"
"#;

    fn write_stack(root: &Path, id: &str, text: &str) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("stack.toml"), text).unwrap();
        std::fs::write(dir.join("package.json"), "{}").unwrap();
    }

    #[test]
    fn reads_checks_and_selects_stacks() {
        let root = tempfile::tempdir().unwrap();
        write_stack(root.path(), "demo", EXAMPLE);
        let stacks = discover(root.path()).unwrap();
        assert_eq!(stacks.len(), 1);
        let m = &stacks[0].manifest;
        assert_eq!(m.workers.workers(2), 5);
        assert_eq!(m.env["NODE_ENV"], "production");
        let values = BTreeMap::from([("port", "8080".to_string())]);
        assert_eq!(expand(&m.start[3], &values), "8080");
        assert!(select(&stacks, &["nope".into()])
            .unwrap_err()
            .to_string()
            .contains("known stacks: demo"));

        write_stack(root.path(), "other", EXAMPLE);
        let err = discover(root.path()).unwrap_err().to_string();
        assert!(err.contains("differs from the folder name"), "{err}");
        write_stack(
            root.path(),
            "other",
            &EXAMPLE.replace("id = \"demo\"", "id = \"other\"\nbogus = 1"),
        );
        assert!(discover(root.path())
            .unwrap_err()
            .to_string()
            .contains("bogus"));
    }

    const ECOSYSTEM: &str = r#"
[ecosystem]
admin = { level = 50, fact = "adminjs", statement = "AdminJS adds one" }
server_pages = { level = 70, fact = "express-views", statement = "Pluggable engines" }
orm = { level = 70, fact = "orms-node", statement = "Prisma and others" }
typing = { level = 60, fact = "typescript-for-node", statement = "TypeScript" }
validation = { level = 50, fact = "express-validator", statement = "A middleware" }
websockets = { level = 90, fact = "node-ws", statement = "ws and Socket.IO" }
"#;

    /// The error of loading `demo` with `text` as its manifest, which must be one line.
    fn load_error(text: &str) -> String {
        let root = tempfile::tempdir().unwrap();
        write_stack(root.path(), "demo", text);
        let err = Stack::load(&root.path().join("demo"))
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\n'), "not one line: {err}");
        err
    }

    #[test]
    fn reads_the_ecosystem_table_which_is_optional() {
        let root = tempfile::tempdir().unwrap();
        write_stack(root.path(), "demo", &format!("{EXAMPLE}{ECOSYSTEM}"));
        let stack = Stack::load(&root.path().join("demo")).unwrap();
        let e = stack.manifest.ecosystem.unwrap();
        assert_eq!(e.websockets.level, 90.0);
        assert_eq!(e.validation.fact, "express-validator");
        assert_eq!(e.admin.statement, "AdminJS adds one");

        write_stack(root.path(), "demo", EXAMPLE);
        let stack = Stack::load(&root.path().join("demo")).unwrap();
        assert_eq!(stack.manifest.ecosystem, None);
    }

    #[test]
    fn an_out_of_range_level_is_named() {
        let text = format!("{EXAMPLE}{ECOSYSTEM}").replace("level = 90", "level = 120");
        let err = load_error(&text);
        assert!(
            err.contains("ecosystem.websockets.level 120 is not within 0–100"),
            "{err}"
        );
        let text = format!("{EXAMPLE}{ECOSYSTEM}").replace("level = 60", "level = -5");
        let err = load_error(&text);
        assert!(err.contains("ecosystem.typing.level -5"), "{err}");
    }

    #[test]
    fn an_unknown_key_in_the_ecosystem_table_is_named() {
        let text = format!(
            "{EXAMPLE}{ECOSYSTEM}realtime = {{ level = 1, fact = \"x\", statement = \"y\" }}\n"
        );
        let err = load_error(&text);
        assert!(err.contains("unknown field `realtime`"), "{err}");
        let text = format!("{EXAMPLE}{ECOSYSTEM}").replace(
            "fact = \"orms-node\"",
            "fact = \"orms-node\", source = \"z\"",
        );
        let err = load_error(&text);
        assert!(err.contains("unknown field `source`"), "{err}");
    }
}
