//! A contestant's `stack.toml`: what it is, how to install it and how to start it (docs/stacks.md).
//!
//! Stacks are data: the lab reads every folder under `stacks/` and needs no code per stack.
//!
//! A variant names the stack it `extends`: it takes every field of that stack's manifest but
//! those it states itself, and its files are that stack's folder with its own folder's files laid
//! over it (see [`Stack::files`]).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
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

/// How many `extends` a chain may follow: a variant of a variant of a stack, no further.
pub const MAX_EXTENDS: usize = 2;

/// Fields a variant never takes from the stack it extends: its own name for itself, and whether
/// it is run by default (a variant is not, unless it says so).
const NOT_INHERITED: &[&str] = &["id", "default_run", "extends"];

/// Folders never part of a stack's files: installs and caches made in place.
pub(crate) const SKIP: &[&str] = &[
    "node_modules",
    ".venv",
    "__pycache__",
    "dist",
    ".git",
    "target",
];

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

/// A `stack.toml`, resolved: a variant's holds what it inherits (docs/stacks.md has every field).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub id: String,
    pub name: String,
    pub language: String,
    pub runtime: String,
    /// The runtime release it is measured on (a Node.js major, `"24"`; a CPython release,
    /// `"3.13"`); none: Node.js's active LTS, the newest CPython the machine has (see
    /// [`crate::runtime`]). `--runtime` overrides it for a run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_release: Option<String>,
    pub framework: String,
    pub framework_version: String,
    pub database: String,
    pub templates: String,
    pub http_client: String,
    /// Worker processes.
    pub workers: WorkersRule,
    pub workers_rule: String,
    /// Threads per worker process, for a server that runs threads (gunicorn's gthread
    /// worker): `{threads}` / `THREADS`. None: the server's own threads are its business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<WorkersRule>,
    pub health: String,
    /// Files (or folders, meaning every file below them) whose content decides whether the
    /// installed copy is still good.
    pub inputs: Vec<String>,
    /// The stack (a folder beside this one) whose manifest and files this variant starts from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<String>,
    /// The command that prints the runtime's version, run in the installed copy with the
    /// server's environment (`[".venv/bin/python", "--version"]`). Empty: not recorded.
    #[serde(default)]
    pub runtime_version: Vec<String>,
    /// The implementation's own source files, counted as its lines of code: paths, folders
    /// (every file below) or globs (`*`, `?`, `**`, `[ab]`, `{a,b}`). Empty: not counted.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Commands run in order, in the stack's private copy, to install it.
    pub install: Vec<Vec<String>>,
    /// The server command, run in the private copy.
    pub start: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A reference implementation that marks what the hardware allows (a compiled server):
    /// shown as the ceiling beside the contestants, never ranked among them nor recommended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ceiling: bool,
    /// Whether `stackwise run` measures it when no stacks are named. Never inherited: a
    /// variant (the same app again, on another server) is run by name unless it says `true`.
    #[serde(default = "yes")]
    pub default_run: bool,
    /// What the advisor knows of the framework's ecosystem, each level citing a fact of
    /// `data/facts.toml`; without it the stack gets no ecosystem score.
    #[serde(default)]
    pub ecosystem: Option<Ecosystem>,
    /// How it serves docs/spec.md's WebSocket endpoints; none: it does not, and the real-time
    /// scenarios leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub websocket: Option<WebSocket>,
    /// What answers docs/spec.md's `POST /aggregate`; none: it does not, and the `data`
    /// scenario leaves it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Library>,
    /// What answers docs/spec.md's `POST /predict` (and `POST /predict/image` when it says so);
    /// none: it does not, and the `ml` and `ml-image` scenarios leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ml: Option<Ml>,
}

/// A stack's `[data]` or `[ml]` table (docs/stacks.md): the library that does the work, so
/// that results say which library was measured, not only which framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Library {
    /// The library and its version, with what matters of how it is used (threads per call).
    pub library: String,
}

/// A stack's `[ml]` table (docs/stacks.md): the library, and whether the stack also runs the
/// `ml-image` scenario's network with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ml {
    /// The library and its version, with what matters of how it is used (threads per call).
    pub library: String,
    /// Whether it serves `POST /predict/image` with the same library. A variant inherits it key
    /// by key, so one whose library cannot run the network says `image = false`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image: bool,
}

/// A stack's `[websocket]` table (docs/stacks.md): what serves `/ws/echo` and `/ws/room/{id}`,
/// and how the server runs for the WebSocket scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSocket {
    /// What serves the endpoints, pinned.
    pub library: String,
    /// Worker processes in the WebSocket scenarios: a room spans the whole server.
    pub workers: WorkersRule,
    pub workers_rule: String,
    /// Another server command for the WebSocket scenarios; empty: the stack's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start: Vec<String>,
    /// Laid over the stack's `env` in the WebSocket scenarios.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Services the lab starts beside the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
}

/// A service the lab starts beside a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// A throwaway Redis, passed as `{redis_url}` / `REDIS_URL`.
    Redis,
}

impl Service {
    /// Its name in a manifest.
    pub fn name(self) -> &'static str {
        match self {
            Service::Redis => "redis",
        }
    }
}

/// Which of a stack's two ways of running: for HTTP, or for the WebSocket scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    Http,
    WebSocket,
}

impl Manifest {
    /// The worker rule, server command and environment for `serving`; none when the stack does
    /// not serve WebSockets.
    pub fn serving(
        &self,
        serving: Serving,
    ) -> Option<(WorkersRule, &[String], BTreeMap<String, String>)> {
        match serving {
            Serving::Http => Some((self.workers, &self.start, self.env.clone())),
            Serving::WebSocket => self.websocket.as_ref().map(|ws| {
                let start = if ws.start.is_empty() {
                    &self.start
                } else {
                    &ws.start
                };
                let mut env = self.env.clone();
                env.extend(ws.env.clone());
                (ws.workers, start.as_slice(), env)
            }),
        }
    }

    /// Whether it takes part in `scenario`: a WebSocket scenario needs its `[websocket]`, the
    /// `data` and `ml` scenarios their tables, `ml-image` an `[ml]` with `image = true`; the
    /// others every stack serves.
    pub fn serves(&self, scenario: &stackwise_results::catalogue::Scenario) -> bool {
        use stackwise_results::catalogue::Body;
        if scenario.kind.websocket() {
            return self.websocket.is_some();
        }
        scenario.requests.iter().all(|r| match r.body {
            Body::None => true,
            Body::Orders => self.data.is_some(),
            Body::Digits => self.ml.is_some(),
            Body::Image => self.ml.as_ref().is_some_and(|m| m.image),
        })
    }

    /// The services the server needs when `serving`.
    pub fn services(&self, serving: Serving) -> &[Service] {
        match (serving, &self.websocket) {
            (Serving::WebSocket, Some(ws)) => &ws.services,
            _ => &[],
        }
    }
}

fn yes() -> bool {
    true
}

/// A manifest, resolved through what it extends, and the folders it came from.
#[derive(Debug, Clone)]
pub struct Stack {
    pub manifest: Manifest,
    /// The stack's own folder.
    pub dir: PathBuf,
    /// The folders its files come from: the stack it extends first (and what that one extends
    /// before it), `dir` last.
    pub layers: Vec<PathBuf>,
}

impl Stack {
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    pub fn load(dir: &Path) -> Result<Stack, ManifestError> {
        load_chain(dir, &mut Vec::new()).map(|(stack, _)| stack)
    }

    /// Every file of the stack by its path inside the folder, with the file it is read from:
    /// a variant's own files over those of the stack it extends. Installs and caches made in
    /// place (`node_modules`, `.venv`, ...) are left out.
    pub fn files(&self) -> std::io::Result<BTreeMap<PathBuf, PathBuf>> {
        let mut files = BTreeMap::new();
        for layer in &self.layers {
            files_below(layer, Path::new(""), &mut files)?;
        }
        Ok(files)
    }

    /// The files `sources` names, from [`Stack::files`].
    pub fn sources(&self) -> std::io::Result<Vec<PathBuf>> {
        let selectors = self
            .manifest
            .sources
            .iter()
            .map(|p| Selector::new(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        let files = self.files()?;
        Ok(files
            .into_iter()
            .filter(|(name, _)| selectors.iter().any(|s| s.selects(name)))
            .map(|(_, path)| path)
            .collect())
    }
}

/// Loads the stack in `dir`, following `extends`; `chain` holds the folders that led to it,
/// the stack being loaded first. Returns the stack and its resolved manifest as a table, for a
/// variant of it to start from.
fn load_chain(dir: &Path, chain: &mut Vec<PathBuf>) -> Result<(Stack, toml::Table), ManifestError> {
    let path = dir.join("stack.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| ManifestError::Read(path.clone(), e))?;
    let invalid = |msg: String| ManifestError::Invalid(path.clone(), msg);
    let own: toml::Table = toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
    let folder = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    chain.push(dir.to_path_buf());
    let (table, layers) = match own.get("extends") {
        None => (own, vec![dir.to_path_buf()]),
        Some(base) => {
            let base = base
                .as_str()
                .filter(|b| !b.is_empty() && !b.contains(['/', '\\']) && *b != "." && *b != "..")
                .ok_or_else(|| {
                    invalid("extends must name a stack folder beside this one".into())
                })?;
            let base_dir = dir.parent().unwrap_or(Path::new("")).join(base);
            // What is wrong with the chain is wrong with the stack being loaded.
            let in_chain = |msg: String| ManifestError::Invalid(chain[0].join("stack.toml"), msg);
            let names = || {
                chain
                    .iter()
                    .chain([&base_dir])
                    .map(|d| d.file_name().unwrap_or_default().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" -> ")
            };
            if chain.contains(&base_dir) {
                return Err(in_chain(format!("extends loops: {}", names())));
            }
            if chain.len() > MAX_EXTENDS {
                return Err(in_chain(format!(
                    "extends goes deeper than {MAX_EXTENDS} variants: {}",
                    names()
                )));
            }
            if !base_dir.join("stack.toml").is_file() {
                return Err(invalid(format!(
                    "extends '{base}', but '{}' has no stack.toml",
                    base_dir.display()
                )));
            }
            let (base_stack, mut table) = load_chain(&base_dir, chain)?;
            table.retain(|k, _| !NOT_INHERITED.contains(&k));
            if !own.contains_key("default_run") {
                table.insert("default_run".into(), toml::Value::Boolean(false));
            }
            overlay(&mut table, own);
            let mut layers = base_stack.layers;
            layers.push(dir.to_path_buf());
            (table, layers)
        }
    };
    let manifest: Manifest = toml::Value::Table(table.clone())
        .try_into()
        .map_err(|e: toml::de::Error| invalid(e.message().to_string()))?;
    let stack = Stack {
        manifest,
        dir: dir.to_path_buf(),
        layers,
    };
    check(&stack, folder).map_err(invalid)?;
    Ok((stack, table))
}

/// Lays `over` on `base`: values replaced, tables (`env`) merged key by key.
fn overlay(base: &mut toml::Table, over: toml::Table) {
    for (key, value) in over {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => overlay(b, o),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

/// What a resolved manifest must hold besides its fields' types.
fn check(stack: &Stack, folder: &str) -> Result<(), String> {
    let manifest = &stack.manifest;
    if manifest.id != folder {
        return Err(format!(
            "id '{}' differs from the folder name '{folder}'",
            manifest.id
        ));
    }
    if manifest.start.is_empty() {
        return Err("start is empty".into());
    }
    if manifest.install.iter().any(Vec::is_empty) {
        return Err("an install command is empty".into());
    }
    if !manifest.health.starts_with('/') {
        return Err(format!(
            "health '{}' must be a path starting with '/'",
            manifest.health
        ));
    }
    let files = stack
        .files()
        .map_err(|e| format!("cannot list the files of '{}': {e}", stack.dir.display()))?;
    for input in &manifest.inputs {
        let name = inside("input", input)?;
        if !files.keys().any(|f| f.starts_with(&name)) {
            return Err(format!("input '{input}' does not exist"));
        }
    }
    for source in &manifest.sources {
        inside("source", source)?;
        let selector = Selector::new(source)?;
        if !files.keys().any(|f| selector.selects(f)) {
            return Err(format!("source '{source}' matches no file"));
        }
    }
    if let Some(ecosystem) = &manifest.ecosystem {
        ecosystem.check()?;
    }
    if let Some(ws) = &manifest.websocket {
        if ws.library.trim().is_empty() {
            return Err("websocket.library is empty".into());
        }
    }
    let libraries = [
        ("data", manifest.data.as_ref().map(|l| &l.library)),
        ("ml", manifest.ml.as_ref().map(|l| &l.library)),
    ];
    for (table, library) in libraries {
        if library.is_some_and(|l| l.trim().is_empty()) {
            return Err(format!("{table}.library is empty"));
        }
    }
    Ok(())
}

/// `path` as a path inside the stack's folder, or why it is not one.
fn inside(what: &str, path: &str) -> Result<PathBuf, String> {
    let p = Path::new(path);
    if p.components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "{what} '{path}' must be a path inside the stack's folder"
        ));
    }
    Ok(relative(path))
}

/// A path named in a manifest as a path inside the stack's folder (`./a` is `a`).
pub(crate) fn relative(path: &str) -> PathBuf {
    Path::new(path)
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .collect()
}

/// Adds the files below `dir` to `files` under `prefix`, replacing those already there.
fn files_below(
    dir: &Path,
    prefix: &Path,
    files: &mut BTreeMap<PathBuf, PathBuf>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        let meta = std::fs::metadata(&path)?;
        if meta.is_dir() {
            files_below(&path, &prefix.join(&name), files)?;
        } else if meta.is_file() {
            files.insert(prefix.join(&name), path);
        }
    }
    Ok(())
}

/// The files a `sources` entry (a path, a folder or a glob) selects: those it matches, and every
/// file below a folder it matches. Globs are globset's, with `*` and `?` kept within one name
/// and `**` any number of folders; `./` and doubled or trailing slashes are ignored, as in a
/// path.
#[derive(Debug, Clone)]
struct Selector(GlobMatcher);

impl Selector {
    /// The selector of `pattern`, or why it is not a glob, in one line.
    fn new(pattern: &str) -> Result<Self, String> {
        let normal: Vec<&str> = pattern
            .split('/')
            .filter(|s| !s.is_empty() && *s != ".")
            .collect();
        GlobBuilder::new(&normal.join("/"))
            .literal_separator(true)
            .build()
            .map(|g| Selector(g.compile_matcher()))
            .map_err(|e| format!("sources: '{pattern}' is not a valid glob: {}", e.kind()))
    }

    /// Whether it matches the file `name` or one of the folders above it.
    fn selects(&self, name: &Path) -> bool {
        name.ancestors()
            .filter(|a| !a.as_os_str().is_empty())
            .any(|a| self.0.is_match(a))
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

/// Sets the runtime release of every stack whose runtime `releases` names (`node` → `22`), over
/// what its manifest says: a team measuring the releases it runs.
pub fn ask_runtimes(stacks: &mut [Stack], releases: &BTreeMap<String, String>) {
    for stack in stacks {
        if let Some(release) = releases.get(&stack.manifest.runtime) {
            stack.manifest.runtime_release = Some(release.clone());
        }
    }
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
    fn sources_select_paths_folders_and_globs() {
        let selected =
            |pattern: &str, name: &str| Selector::new(pattern).unwrap().selects(Path::new(name));
        assert!(selected("server.js", "server.js"));
        assert!(selected("./views/", "views/fortunes.ejs"));
        assert!(selected("src", "src/a/b.ts"));
        assert!(!selected("src", "srcs/a.ts"));
        assert!(selected("*.js", "db.js"));
        assert!(!selected("*.js", "views/db.js"), "* stays within one name");
        assert!(selected("src/**/*.ts", "src/main.ts"));
        assert!(selected("src/**/*.ts", "src/a/b/main.ts"));
        assert!(!selected("src/**/*.ts", "test/main.ts"));
        assert!(selected("app.p?", "app.py"));
        assert!(selected("{app,db}.js", "db.js"));
        assert!(selected("**", "any/file"));
    }

    #[test]
    fn an_invalid_glob_in_sources_is_named_in_one_line() {
        let root = tempfile::tempdir().unwrap();
        write_stack(
            root.path(),
            "demo",
            &format!("{EXAMPLE}sources = [\"src/[ab.js\"]\n")
                .replace("[env]\nNODE_ENV = \"production\"\n", ""),
        );
        let err = load_err(&root.path().join("demo"));
        assert!(
            err.contains("demo/stack.toml")
                && err.contains(
                    "sources: 'src/[ab.js' is not a valid glob: unclosed character class"
                ),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
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

    const WEBSOCKET: &str = r#"
[websocket]
library = "ws 8"
workers = "1"
workers_rule = "rooms live in one process"
start = ["node", "ws.js", "--port", "{port}"]
env = { ROOMS = "memory", NODE_ENV = "ws" }
services = ["redis"]
"#;

    #[test]
    fn the_websocket_table_says_how_the_server_runs_for_websockets() {
        let root = tempfile::tempdir().unwrap();
        write_stack(root.path(), "demo", &format!("{EXAMPLE}{WEBSOCKET}"));
        let stack = Stack::load(&root.path().join("demo")).unwrap();
        let m = &stack.manifest;
        let (rule, start, env) = m.serving(Serving::WebSocket).unwrap();
        assert_eq!(rule.workers(8), 1);
        assert_eq!(start, ["node", "ws.js", "--port", "{port}"]);
        assert_eq!(env["NODE_ENV"], "ws", "laid over the stack's env");
        assert_eq!(env["ROOMS"], "memory");
        assert_eq!(m.services(Serving::WebSocket), [Service::Redis]);
        let (rule, start, env) = m.serving(Serving::Http).unwrap();
        assert_eq!(rule.workers(8), 17);
        assert_eq!(start[1], "server.js");
        assert_eq!(env["NODE_ENV"], "production");
        assert!(m.services(Serving::Http).is_empty());

        // Only the library and the workers are required; the stack's start is the default.
        let short = "\n[websocket]\nlibrary = \"ws 8\"\nworkers = \"cpus\"\nworkers_rule = \"x\"\n";
        write_stack(root.path(), "demo", &format!("{EXAMPLE}{short}"));
        let m = Stack::load(&root.path().join("demo")).unwrap().manifest;
        let (rule, start, _) = m.serving(Serving::WebSocket).unwrap();
        assert_eq!((rule.workers(4), start), (4, m.start.as_slice()));
        assert!(m.services(Serving::WebSocket).is_empty());

        // Without the table the stack has no part in WebSocket scenarios.
        write_stack(root.path(), "demo", EXAMPLE);
        let m = Stack::load(&root.path().join("demo")).unwrap().manifest;
        assert!(m.serving(Serving::WebSocket).is_none() && m.serving(Serving::Http).is_some());
    }

    #[test]
    fn a_wrong_websocket_table_is_named_in_one_line() {
        let err = load_error(&format!("{EXAMPLE}{WEBSOCKET}").replace("services", "servises"));
        assert!(err.contains("unknown field `servises`"), "{err}");
        let err =
            load_error(&format!("{EXAMPLE}{WEBSOCKET}").replace("[\"redis\"]", "[\"kafka\"]"));
        assert!(err.contains("kafka"), "{err}");
        let err = load_error(&format!("{EXAMPLE}{WEBSOCKET}").replace("\"ws 8\"", "\" \""));
        assert!(err.contains("websocket.library is empty"), "{err}");
    }

    #[test]
    fn data_and_ml_tables_name_the_library_and_decide_who_takes_part() {
        use stackwise_results::catalogue::scenario;
        let root = tempfile::tempdir().unwrap();
        let tables = "\n[data]\nlibrary = \"pandas 2\"\n\n[ml]\nlibrary = \"onnxruntime 1\"\n";
        write_stack(root.path(), "demo", &format!("{EXAMPLE}{tables}"));
        let m = Stack::load(&root.path().join("demo")).unwrap().manifest;
        assert_eq!(
            m.data.as_ref().map(|d| d.library.as_str()),
            Some("pandas 2")
        );
        assert_eq!(
            m.threads, None,
            "threads are the server's business unless set"
        );
        let serves = |m: &Manifest, id: &str| m.serves(scenario(id).unwrap());
        assert!(serves(&m, "data") && serves(&m, "ml") && serves(&m, "json"));
        assert!(!serves(&m, "ws-echo"), "no [websocket]");
        assert!(!serves(&m, "ml-image"), "[ml] without image = true");

        // A variant that leaves out the library it measures inherits the table; without one,
        // the stack has no part in the scenario.
        write_variant(
            root.path(),
            "v",
            "demo",
            "threads = \"2cpus+1\"\n[data]\nlibrary = \"polars 1\"\n",
        );
        let v = Stack::load(&root.path().join("v")).unwrap().manifest;
        assert_eq!(v.data.map(|d| d.library), Some("polars 1".into()));
        assert_eq!(v.threads.map(|t| t.workers(2)), Some(5));
        write_stack(root.path(), "demo", EXAMPLE);
        let m = Stack::load(&root.path().join("demo")).unwrap().manifest;
        assert!(!serves(&m, "data") && !serves(&m, "ml") && serves(&m, "mixed"));

        let err = load_error(&format!("{EXAMPLE}{tables}").replace("\"pandas 2\"", "\"\""));
        assert!(err.contains("data.library is empty"), "{err}");
        let err =
            load_error(&format!("{EXAMPLE}{tables}").replace("library = \"onnx", "lib = \"onnx"));
        assert!(err.contains("unknown field `lib`"), "{err}");
    }

    #[test]
    fn the_image_scenario_takes_an_ml_table_that_says_image_and_a_variant_may_say_no() {
        use stackwise_results::catalogue::scenario;
        let root = tempfile::tempdir().unwrap();
        let ml = "\n[ml]\nlibrary = \"onnxruntime 1\"\nimage = true\n";
        write_stack(root.path(), "demo", &format!("{EXAMPLE}{ml}"));
        let serves = |id: &str, sc: &str| {
            let m = Stack::load(&root.path().join(id)).unwrap().manifest;
            m.serves(scenario(sc).unwrap())
        };
        assert!(serves("demo", "ml") && serves("demo", "ml-image"));
        // Inherited key by key: a variant on another server keeps it, one whose library cannot
        // run the network says so.
        write_variant(root.path(), "other-server", "demo", "");
        assert!(serves("other-server", "ml-image"));
        write_variant(
            root.path(),
            "sk",
            "demo",
            "[ml]\nlibrary = \"scikit-learn 1\"\nimage = false\n",
        );
        assert!(serves("sk", "ml") && !serves("sk", "ml-image"));
        let err = load_error(&format!("{EXAMPLE}{ml}").replace("image = true", "image = \"yes\""));
        assert!(err.contains("expected a boolean"), "{err}");
    }

    /// A variant of `demo` (written by `write_stack`) in `root/<id>`, with `fields` after `extends`.
    fn write_variant(root: &Path, id: &str, extends: &str, fields: &str) {
        let dir = root.join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!("id = \"{id}\"\nextends = \"{extends}\"\n{fields}");
        std::fs::write(dir.join("stack.toml"), text).unwrap();
    }

    fn load_err(dir: &Path) -> String {
        Stack::load(dir).unwrap_err().to_string()
    }

    #[test]
    fn a_variant_inherits_what_it_does_not_state() {
        let root = tempfile::tempdir().unwrap();
        let base = EXAMPLE.replace(
            "[env]\n",
            "runtime_version = [\"node\", \"--version\"]\nsources = [\"server.js\"]\n\n[env]\nA = \"1\"\n",
        );
        write_stack(root.path(), "demo", &base);
        std::fs::write(root.path().join("demo/server.js"), "base").unwrap();
        std::fs::write(root.path().join("demo/util.js"), "base").unwrap();
        write_variant(
            root.path(),
            "demo-fast",
            "demo",
            r#"name = "Demo (fast)"
start = ["node", "fast.js"]
install = []

[env]
A = "2"
B = "3"
"#,
        );
        std::fs::write(root.path().join("demo-fast/server.js"), "variant").unwrap();
        let stacks = discover(root.path()).unwrap();
        let (demo, fast) = (&stacks[0], &stacks[1]);
        let (b, v) = (&demo.manifest, &fast.manifest);
        assert_eq!(v.id, "demo-fast");
        assert_eq!(v.extends.as_deref(), Some("demo"));
        // Stated: replaced, lists included.
        assert_eq!(v.name, "Demo (fast)");
        assert_eq!(v.start, ["node", "fast.js"]);
        assert!(v.install.is_empty() && !b.install.is_empty());
        // Not stated: the base's.
        assert_eq!(v.language, b.language);
        assert_eq!(v.framework_version, b.framework_version);
        assert_eq!(v.workers, b.workers);
        assert_eq!(v.health, b.health);
        assert_eq!(v.inputs, b.inputs);
        assert_eq!(v.runtime_version, b.runtime_version);
        assert_eq!(v.sources, b.sources);
        // env merged key by key.
        let env: Vec<(&str, &str)> = v
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(env, [("A", "2"), ("B", "3"), ("NODE_ENV", "production")]);
        // Out of the default run unless it says otherwise; the base stays in.
        assert!(b.default_run && !v.default_run);
        let default: Vec<String> = select_for_run(&stacks, &[])
            .unwrap()
            .into_iter()
            .map(|s| s.manifest.id)
            .collect();
        assert_eq!(default, ["demo"]);
        write_variant(
            root.path(),
            "demo-fast",
            "demo",
            "name = \"Demo (fast)\"\ndefault_run = true\n",
        );
        assert!(
            Stack::load(&root.path().join("demo-fast"))
                .unwrap()
                .manifest
                .default_run
        );

        // Its files: the base's, with its own over them.
        let files = fast.files().unwrap();
        let from = |name: &str| files[Path::new(name)].clone();
        assert_eq!(from("server.js"), root.path().join("demo-fast/server.js"));
        assert_eq!(from("util.js"), root.path().join("demo/util.js"));
        assert_eq!(from("package.json"), root.path().join("demo/package.json"));
        assert_eq!(from("stack.toml"), root.path().join("demo-fast/stack.toml"));
        assert_eq!(
            fast.sources().unwrap(),
            [root.path().join("demo-fast/server.js")]
        );

        // A variant of a variant is one level deeper, and is resolved through both.
        write_variant(
            root.path(),
            "demo-faster",
            "demo-fast",
            "name = \"Faster\"\n",
        );
        let faster = Stack::load(&root.path().join("demo-faster")).unwrap();
        assert_eq!(
            faster.manifest.start,
            ["node", "server.js", "--port", "{port}"]
        );
        assert_eq!(faster.manifest.env["A"], "1");
        assert_eq!(faster.layers.len(), 3);
    }

    #[test]
    fn a_variant_that_cannot_be_resolved_says_why_in_one_line() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        write_stack(root, "demo", EXAMPLE);
        let errors = |id: &str| {
            let err = load_err(&root.join(id));
            assert!(!err.contains('\n'), "{err}");
            err
        };

        write_variant(root, "orphan", "nope", "");
        let err = errors("orphan");
        assert!(
            err.contains("orphan/stack.toml") && err.contains("extends 'nope'"),
            "{err}"
        );
        assert!(err.contains("has no stack.toml"), "{err}");

        write_variant(root, "ping", "pong", "");
        write_variant(root, "pong", "ping", "");
        let err = errors("ping");
        assert!(
            err.contains("ping/stack.toml") && err.contains("loops: ping -> pong -> ping"),
            "{err}"
        );
        write_variant(root, "self", "self", "");
        assert!(errors("self").contains("loops: self -> self"));

        write_variant(root, "v1", "demo", "");
        write_variant(root, "v2", "v1", "");
        write_variant(root, "v3", "v2", "");
        Stack::load(&root.join("v2")).unwrap();
        let err = errors("v3");
        assert!(
            err.contains("v3/stack.toml")
                && err.contains(&format!("deeper than {MAX_EXTENDS}"))
                && err.contains("v3 -> v2 -> v1 -> demo"),
            "{err}"
        );

        // An unknown field is named, in a variant as in a stack.
        write_variant(root, "typo", "demo", "sources = []\nstrat = [\"node\"]\n");
        let err = errors("typo");
        assert!(
            err.contains("typo/stack.toml") && err.contains("unknown field `strat`"),
            "{err}"
        );
        write_variant(root, "typo", "demo", "[env]\nX = 1\n");
        assert!(errors("typo").contains("typo/stack.toml"));

        // id is not inherited: the variant names itself, after its folder.
        write_variant(root, "unnamed", "demo", "");
        let text = std::fs::read_to_string(root.join("unnamed/stack.toml")).unwrap();
        let text = text.replace("id = \"unnamed\"\n", "");
        std::fs::write(root.join("unnamed/stack.toml"), text).unwrap();
        assert!(errors("unnamed").contains("missing field `id`"));
        write_variant(root, "renamed", "demo", "");
        let text = std::fs::read_to_string(root.join("renamed/stack.toml")).unwrap();
        std::fs::write(
            root.join("renamed/stack.toml"),
            text.replace("\"renamed\"", "\"demo\""),
        )
        .unwrap();
        assert!(errors("renamed").contains("differs from the folder name 'renamed'"));

        write_variant(root, "outside", "../demo", "");
        assert!(errors("outside").contains("extends must name a stack folder beside this one"));
        // A broken base is reported against its own file.
        write_stack(
            root,
            "demo",
            &EXAMPLE.replace("health = \"/json\"", "health = \"json\""),
        );
        let err = errors("v1");
        assert!(
            err.contains("demo/stack.toml") && err.contains("health 'json'"),
            "{err}"
        );
    }

    #[test]
    fn every_stack_of_the_repository_loads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks");
        let all = discover(&root).unwrap();
        assert!(all.len() >= 8, "{} stacks", all.len());
        for stack in &all {
            let m = &stack.manifest;
            assert!(
                !m.runtime_version.is_empty(),
                "{}: no runtime_version",
                m.id
            );
            assert!(!stack.sources().unwrap().is_empty(), "{}: no sources", m.id);
        }
        let find = |id: &str| all.iter().find(|s| s.id() == id).unwrap();
        let (base, variant) = (find("fastapi"), find("fastapi-granian"));
        let (b, v) = (&base.manifest, &variant.manifest);
        assert_eq!(v.extends.as_deref(), Some("fastapi"));
        // Everything that does not depend on the server is fastapi's.
        assert_eq!(
            (&v.language, &v.runtime, &v.framework, &v.framework_version),
            (&b.language, &b.runtime, &b.framework, &b.framework_version)
        );
        assert_eq!(
            (&v.database, &v.templates, &v.http_client, &v.health),
            (&b.database, &b.templates, &b.http_client, &b.health)
        );
        assert_eq!(
            (v.workers, &v.inputs, &v.install),
            (b.workers, &b.inputs, &b.install)
        );
        assert_eq!(
            (&v.env, &v.runtime_version, &v.sources),
            (&b.env, &b.runtime_version, &b.sources)
        );
        // The server is its own.
        assert_eq!(v.start[0], ".venv/bin/granian");
        assert!(v.start.contains(&"app:app".to_string()));
        assert_ne!(v.workers_rule, b.workers_rule);
        // fastapi's app and templates, its own requirements (granian instead of uvicorn).
        let files = variant.files().unwrap();
        assert_eq!(files[Path::new("app.py")], base.dir.join("app.py"));
        assert_eq!(
            files[Path::new("templates/fortunes.html")],
            base.dir.join("templates/fortunes.html")
        );
        assert_eq!(
            files[Path::new("requirements.txt")],
            variant.dir.join("requirements.txt")
        );
        assert_eq!(variant.sources().unwrap(), base.sources().unwrap());
        assert!(b.default_run && !v.default_run);
        assert!(!select_for_run(&all, &[])
            .unwrap()
            .iter()
            .any(|s| s.id() == v.id));
    }
}
