//! Installing a contestant: its files are copied to a private place in the cache and its
//! `install` commands run there, once per content of its `inputs` (lockfiles, or whole folders
//! when the install compiles sources), so a second run reuses the install. Install time,
//! installed size and transitive dependencies are recorded.
//!
//! A variant's files are those of the stack it extends with its own laid over them
//! ([`Stack::files`]); its inputs are read from that same view, so a change to a base file the
//! variant installs from reinstalls the variant.

use std::collections::HashSet;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::manifest::{relative, Stack};
use crate::process::Group;
use crate::runtime::Runtime;

const MARKER: &str = ".stackwise-installed.json";

#[derive(Debug, Error)]
pub enum ProvisionError {
    #[error("cannot prepare '{0}': {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "another stackwise process is running servers from the installed copy of {id} in \
         '{dir}', and this run needs it installed anew; let that run finish, or pass another \
         --cache-dir"
    )]
    InUse { id: String, dir: PathBuf },
    #[error("install step `{command}` failed ({status}); last output:\n{tail}")]
    Step {
        command: String,
        status: String,
        tail: String,
    },
}

/// What installing a stack cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstallFacts {
    /// The inputs' hash the install was made for.
    pub key: String,
    /// Wall time of the install that made this copy, in seconds.
    pub seconds: f64,
    /// Whether this run reused an earlier install.
    #[serde(skip)]
    pub cached: bool,
    /// Size of the installed copy, in bytes.
    pub size_bytes: u64,
    /// Packages installed, transitive ones included.
    pub dependencies: u64,
}

/// A stack ready to start.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub stack: Stack,
    /// The private copy the server runs in.
    pub dir: PathBuf,
    pub install: InstallFacts,
    /// The runtime release its install and server run on.
    pub runtime: Runtime,
    /// A shared hold on the copy while this process may run servers from it.
    _hold: Hold,
}

/// A lock on a stack's installed copy (`<cache>/stacks/<id>.lock`): exclusive while it is
/// installed or refreshed, shared while servers run from it. Two runs sharing a cache thus
/// never remove or half-make each other's install: the second waits for the first's install,
/// and a run that needs a new install of a copy another run is using says so.
#[derive(Clone)]
struct Hold {
    /// Held for its release when the last clone is dropped.
    _lock: std::sync::Arc<Flock<File>>,
}

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hold")
    }
}

/// What [`hold`] got.
enum Held {
    /// Nobody else holds the copy: it may be installed.
    Alone(Flock<File>),
    /// Another process runs servers from it: it may be used as it is.
    Shared(Flock<File>),
}

/// Takes the lock on a copy: exclusive if nobody holds it, else shared, waiting for an install
/// in progress to end.
fn hold(path: &Path) -> std::io::Result<Held> {
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    let file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(lock) => return Ok(Held::Alone(lock)),
        Err((file, Errno::EWOULDBLOCK)) => file,
        Err((_, e)) => return Err(e.into()),
    };
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(lock) => Ok(Held::Shared(lock)),
        // Being installed by another process: wait for it.
        Err((file, Errno::EWOULDBLOCK)) => Flock::lock(file, FlockArg::LockShared)
            .map(Held::Shared)
            .map_err(|(_, e)| e.into()),
        Err((_, e)) => Err(e.into()),
    }
}

/// The hash of everything that decides an install: the inputs' names and contents, the
/// install commands and the runtime's release, both as the lab chose it and as the manifest's
/// `runtime_version` command prints it ([`version_before_install`]), so a new rustc or bun on
/// the PATH rebuilds what it compiles.
fn key(stack: &Stack, runtime: &Runtime) -> Result<String, ProvisionError> {
    let mut h = Sha256::new();
    h.update(stack.manifest.runtime.as_bytes());
    h.update([0]);
    h.update(runtime.version.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    h.update(
        version_before_install(stack, runtime)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.update([0]);
    let files = stack
        .files()
        .map_err(|e| ProvisionError::Io(stack.dir.clone(), e))?;
    let inputs: Vec<PathBuf> = stack.manifest.inputs.iter().map(|i| relative(i)).collect();
    for (name, path) in files {
        if !inputs.iter().any(|i| name.starts_with(i)) {
            continue;
        }
        let bytes = std::fs::read(&path).map_err(|e| ProvisionError::Io(path.clone(), e))?;
        h.update(name.to_string_lossy().as_bytes());
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    for cmd in &stack.manifest.install {
        h.update(cmd.join("\u{1f}").as_bytes());
        h.update([0]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The version the manifest's `runtime_version` command prints before anything is installed,
/// when its program is there already: a name on the runtime's PATH (`rustc`, `node`) or an
/// absolute path, run in the stack's folder with the server's environment. A program of the
/// installed copy (`.venv/bin/python`, `node_modules/.bin/bun`) is made by the install from
/// its inputs and the runtime's release, which the key holds already: `None` then, and when
/// the command fails.
fn version_before_install(stack: &Stack, runtime: &Runtime) -> Option<String> {
    let args = &stack.manifest.runtime_version;
    let program = args.first()?;
    if program.contains('/') && !program.starts_with('/') {
        return None;
    }
    let mut cmd = Command::new(program);
    cmd.args(&args[1..])
        .current_dir(&stack.dir)
        .envs(&stack.manifest.env)
        .stdin(Stdio::null());
    runtime.apply(&mut cmd);
    let out = crate::process::output(&format!("{} version", stack.id()), cmd).ok()?;
    crate::runtime::version_printed(&out)
}

/// Copies the stack's files ([`Stack::files`]) into `to`.
fn copy_files(stack: &Stack, to: &Path) -> Result<(), ProvisionError> {
    let files = stack
        .files()
        .map_err(|e| ProvisionError::Io(stack.dir.clone(), e))?;
    for (name, from) in files {
        let target = to.join(name);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ProvisionError::Io(parent.into(), e))?;
        }
        std::fs::copy(&from, &target).map_err(|e| ProvisionError::Io(from.clone(), e))?;
    }
    Ok(())
}

/// Bytes the files under `path` take, each file once: a file hard-linked in several places
/// (bun's and npm's caches link packages into place) is counted at its first path only.
fn tree_size(path: &Path) -> u64 {
    tree_size_seen(path, &mut HashSet::new())
}

fn tree_size_seen(path: &Path, seen: &mut HashSet<(u64, u64)>) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| tree_size_seen(&e.path(), seen))
            .sum()
    } else if meta.nlink() > 1 && !seen.insert((meta.dev(), meta.ino())) {
        0
    } else {
        meta.len()
    }
}

/// Packages an install brought in: the packages of npm's lockfile that are on disk (an
/// optional package for another platform, or a dev dependency left out, is listed but not
/// installed), the packages of a Cargo.lock less the stack's own, or a virtual environment's
/// distributions other than pip and setuptools.
fn dependency_count(dir: &Path) -> u64 {
    if let Some(n) = npm_packages(dir) {
        return n;
    }
    if let Some(n) = cargo_packages(dir) {
        return n;
    }
    let Ok(libs) = std::fs::read_dir(dir.join(".venv/lib")) else {
        return 0;
    };
    libs.flatten()
        .filter_map(|py| std::fs::read_dir(py.path().join("site-packages")).ok())
        .flat_map(|entries| entries.flatten())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_lowercase();
            name.ends_with(".dist-info")
                && !name.starts_with("pip-")
                && !name.starts_with("setuptools-")
        })
        .count() as u64
}

/// The packages of `dir/package-lock.json` installed in `dir`; `None` without a lockfile.
fn npm_packages(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("package-lock.json")).ok()?;
    let lock = serde_json::from_str::<serde_json::Value>(&text).ok()?;
    let packages = lock.get("packages")?.as_object()?;
    // The key is the package's folder relative to the lockfile; "" is the project itself.
    let installed = packages
        .keys()
        .filter(|k| !k.is_empty() && dir.join(k).is_dir())
        .count();
    Some(installed as u64)
}

/// The packages of `dir/Cargo.lock` that come from a registry or a repository, so not the
/// stack's own crate (which has no `source`); `None` without a lockfile.
fn cargo_packages(dir: &Path) -> Option<u64> {
    #[derive(Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(Deserialize)]
    struct Package {
        source: Option<String>,
    }
    let text = std::fs::read_to_string(dir.join("Cargo.lock")).ok()?;
    let lock: Lock = toml::from_str(&text).ok()?;
    Some(lock.package.iter().filter(|p| p.source.is_some()).count() as u64)
}

/// Makes `stack` ready to start under `cache`, on its runtime's release, installing only when
/// its inputs or that release changed. Install output goes to `log` (the runtime's, if it must
/// be installed, beside it).
pub fn provision(stack: &Stack, cache: &Path, log: &Path) -> Result<Provisioned, ProvisionError> {
    let runtime = crate::runtime::prepare(
        &stack.manifest.runtime,
        stack.manifest.runtime_release.as_deref(),
        cache,
        &log.with_extension("runtime.log"),
    );
    let key = key(stack, &runtime)?;
    let stacks = cache.join("stacks");
    let dir = stacks.join(stack.id());
    let marker = dir.join(MARKER);
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| ProvisionError::Io(p, e)
    };
    std::fs::create_dir_all(&stacks).map_err(io(&stacks))?;
    let lock_path = stacks.join(format!("{}.lock", stack.id()));
    let held = hold(&lock_path).map_err(io(&lock_path))?;
    let previous: Option<InstallFacts> = std::fs::read_to_string(&marker)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .filter(|f: &InstallFacts| f.key == key);
    let lock = match held {
        Held::Alone(lock) => lock,
        // Another run's servers use the copy: it is taken as it is, sources included.
        Held::Shared(lock) => {
            let Some(mut facts) = previous else {
                return Err(ProvisionError::InUse {
                    id: stack.id().to_string(),
                    dir,
                });
            };
            facts.cached = true;
            return Ok(Provisioned {
                stack: stack.clone(),
                dir,
                install: facts,
                runtime,
                _hold: Hold {
                    _lock: std::sync::Arc::new(lock),
                },
            });
        }
    };
    let install = match previous {
        Some(mut facts) => {
            // The same dependencies: refresh the sources only.
            copy_files(stack, &dir)?;
            facts.cached = true;
            facts
        }
        None => {
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
            }
            copy_files(stack, &dir)?;
            let began = Instant::now();
            for step in &stack.manifest.install {
                run_step(step, &dir, log, &runtime)?;
            }
            let facts = InstallFacts {
                key,
                seconds: began.elapsed().as_secs_f64(),
                cached: false,
                size_bytes: tree_size(&dir),
                dependencies: dependency_count(&dir),
            };
            let text = serde_json::to_string_pretty(&facts).unwrap_or_default();
            std::fs::write(&marker, text).map_err(io(&marker))?;
            facts
        }
    };
    lock.relock(FlockArg::LockShared)
        .map_err(|e| ProvisionError::Io(lock_path, e.into()))?;
    Ok(Provisioned {
        stack: stack.clone(),
        dir,
        install,
        runtime,
        _hold: Hold {
            _lock: std::sync::Arc::new(lock),
        },
    })
}

fn run_step(
    step: &[String],
    dir: &Path,
    log: &Path,
    runtime: &Runtime,
) -> Result<(), ProvisionError> {
    let command = step.join(" ");
    let program = resolve_program(&step[0], dir);
    let mut cmd = Command::new(&program);
    cmd.args(&step[1..]).current_dir(dir);
    runtime.apply(&mut cmd);
    let mut group = Group::spawn(&command, cmd, None, Some(log))
        .map_err(|e| ProvisionError::Io(PathBuf::from(&program), e))?;
    let status = group.wait();
    let tail = group.log_tail(30);
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(ProvisionError::Step {
            command,
            status: s.to_string(),
            tail,
        }),
        Err(e) => Err(ProvisionError::Step {
            command,
            status: e.to_string(),
            tail,
        }),
    }
}

/// A program named with a relative path (`.venv/bin/pip`) is found in the stack's copy; a bare
/// name (`npm`) on the PATH.
pub fn resolve_program(program: &str, dir: &Path) -> PathBuf {
    if program.contains('/') && !program.starts_with('/') {
        dir.join(program)
    } else {
        PathBuf::from(program)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Stack;

    /// A stack `demo` of shell scripts, less its inputs and install.
    const DEMO: &str = r#"id = "demo"
name = "Demo"
language = "sh"
runtime = "sh"
framework = "none"
framework_version = "0"
database = "none"
templates = "none"
http_client = "none"
workers = "1"
workers_rule = "one"
health = "/"
start = ["sh", "server.sh"]
"#;

    #[test]
    fn installs_once_per_input_content() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("src").join("demo");
        std::fs::create_dir_all(src.join("node_modules")).unwrap();
        std::fs::write(src.join("node_modules/junk"), "not copied").unwrap();
        std::fs::write(src.join("deps.lock"), "a==1\n").unwrap();
        std::fs::write(src.join("server.sh"), "echo hi\n").unwrap();
        std::fs::write(
            src.join("stack.toml"),
            format!(
                "{DEMO}inputs = [\"deps.lock\"]\n\
                 install = [[\"sh\", \"-c\", \"echo installed >> count.txt\"]]\n"
            ),
        )
        .unwrap();
        let stack = Stack::load(&src).unwrap();
        let cache = root.path().join("cache");
        let log = root.path().join("install.log");
        let first = provision(&stack, &cache, &log).unwrap();
        assert!(!first.install.cached);
        assert!(!first.dir.join("node_modules").exists());
        assert!(first.install.size_bytes > 0);
        let second = provision(&stack, &cache, &log).unwrap();
        assert!(second.install.cached);
        let count = std::fs::read_to_string(first.dir.join("count.txt")).unwrap();
        assert_eq!(count.lines().count(), 1, "installed twice");

        // While a copy is in use, a changed input cannot reinstall it under the user's feet.
        std::fs::write(src.join("deps.lock"), "a==2\n").unwrap();
        let err = provision(&stack, &cache, &log).unwrap_err();
        assert!(matches!(err, ProvisionError::InUse { .. }), "{err}");
        assert!(err.to_string().contains("--cache-dir"), "{err}");
        drop((first, second));
        let third = provision(&stack, &cache, &log).unwrap();
        assert!(!third.install.cached);
        // Another user of the same install shares it.
        let fourth = provision(&stack, &cache, &log).unwrap();
        assert!(fourth.install.cached);
        drop((third, fourth));

        // A failing step names itself and shows its output.
        let mut broken = stack.clone();
        broken.manifest.install = vec![vec!["sh".into(), "-c".into(), "echo boom; exit 3".into()]];
        let err = provision(&broken, &cache, &log).unwrap_err().to_string();
        assert!(
            err.contains("exit status: 3") && err.contains("boom"),
            "{err}"
        );
    }

    #[test]
    fn a_variant_is_installed_from_its_base_with_its_own_files_over_it() {
        let root = tempfile::tempdir().unwrap();
        let stacks = root.path().join("stacks");
        let base = stacks.join("demo");
        let variant = stacks.join("demo-alt");
        std::fs::create_dir_all(base.join("src")).unwrap();
        std::fs::create_dir_all(&variant).unwrap();
        std::fs::write(base.join("deps.lock"), "a==1\n").unwrap();
        std::fs::write(base.join("src/lib.sh"), "lib 1\n").unwrap();
        std::fs::write(base.join("server.sh"), "base server\n").unwrap();
        std::fs::write(base.join("README"), "base notes\n").unwrap();
        std::fs::write(
            base.join("stack.toml"),
            format!(
                "{DEMO}inputs = [\"deps.lock\", \"src\"]\n\
                 install = [[\"sh\", \"-c\", \"cat deps.lock src/lib.sh >> installed.txt\"]]\n"
            ),
        )
        .unwrap();
        std::fs::write(variant.join("server.sh"), "variant server\n").unwrap();
        std::fs::write(
            variant.join("stack.toml"),
            "id = \"demo-alt\"\nextends = \"demo\"\nname = \"Demo (alt)\"\n",
        )
        .unwrap();
        let cache = root.path().join("cache");
        let log = root.path().join("install.log");
        let read = |p: &Provisioned, name: &str| std::fs::read_to_string(p.dir.join(name)).unwrap();

        let first = provision(&Stack::load(&variant).unwrap(), &cache, &log).unwrap();
        assert!(!first.install.cached);
        assert_eq!(first.dir, cache.join("stacks/demo-alt"));
        assert_eq!(read(&first, "server.sh"), "variant server\n");
        assert_eq!(read(&first, "src/lib.sh"), "lib 1\n");
        assert_eq!(read(&first, "installed.txt"), "a==1\nlib 1\n");
        assert!(read(&first, "stack.toml").contains("extends"));
        drop(first);

        // A base file that is no input is refreshed in the copy without an install.
        std::fs::write(base.join("README"), "base notes 2\n").unwrap();
        let second = provision(&Stack::load(&variant).unwrap(), &cache, &log).unwrap();
        assert!(second.install.cached);
        assert_eq!(read(&second, "README"), "base notes 2\n");
        drop(second);

        // A change to a base input the variant installs from reinstalls it.
        std::fs::write(base.join("src/lib.sh"), "lib 2\n").unwrap();
        let third = provision(&Stack::load(&variant).unwrap(), &cache, &log).unwrap();
        assert!(!third.install.cached);
        assert_eq!(read(&third, "installed.txt"), "a==1\nlib 2\n");
        drop(third);

        // A variant's own input stands in for the base's.
        std::fs::write(variant.join("deps.lock"), "b==1\n").unwrap();
        let fourth = provision(&Stack::load(&variant).unwrap(), &cache, &log).unwrap();
        assert!(!fourth.install.cached);
        assert_eq!(read(&fourth, "installed.txt"), "b==1\nlib 2\n");
        drop(fourth);
        std::fs::write(base.join("deps.lock"), "a==2\n").unwrap();
        let fifth = provision(&Stack::load(&variant).unwrap(), &cache, &log).unwrap();
        assert!(
            fifth.install.cached,
            "the base's deps.lock is not what the variant installs"
        );
    }

    #[test]
    fn a_new_runtime_version_changes_the_install_key() {
        let root = tempfile::tempdir().unwrap();
        let src = root.path().join("demo");
        std::fs::create_dir_all(&src).unwrap();
        let version = root.path().join("version.txt");
        std::fs::write(&version, "rustc 1.90.0 (1159e78c4 2025-09-14)\n").unwrap();
        std::fs::write(
            src.join("stack.toml"),
            format!(
                "{DEMO}inputs = []\ninstall = []\nruntime_version = [\"sh\", \"-c\", \"cat '{}'\"]\n",
                version.display()
            ),
        )
        .unwrap();
        let stack = Stack::load(&src).unwrap();
        let runtime = Runtime::default();
        assert_eq!(
            version_before_install(&stack, &runtime).as_deref(),
            Some("1.90.0")
        );
        let first = key(&stack, &runtime).unwrap();
        assert_eq!(key(&stack, &runtime).unwrap(), first);
        std::fs::write(&version, "rustc 1.91.1 (ed61e7d7e 2025-11-07)\n").unwrap();
        assert_ne!(key(&stack, &runtime).unwrap(), first);

        // A program of the installed copy is not there before the install: not asked.
        let mut venv = stack.clone();
        venv.manifest.runtime_version = vec![".venv/bin/python".into(), "--version".into()];
        assert_eq!(version_before_install(&venv, &runtime), None);
    }

    #[test]
    fn a_hard_linked_file_is_counted_once() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::create_dir_all(dir.join("a")).unwrap();
        std::fs::create_dir_all(dir.join("b")).unwrap();
        std::fs::write(dir.join("a/bin"), vec![0u8; 1000]).unwrap();
        std::fs::hard_link(dir.join("a/bin"), dir.join("b/bin")).unwrap();
        std::fs::write(dir.join("b/other"), vec![0u8; 10]).unwrap();
        assert_eq!(tree_size(dir), 1010);
    }

    #[test]
    fn npm_packages_count_only_what_was_installed() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::write(
            dir.join("package-lock.json"),
            r#"{"lockfileVersion": 3, "packages": {
                "": {"name": "demo"},
                "node_modules/bun": {"version": "1.3.0"},
                "node_modules/@oven/bun-linux-x64": {"optional": true, "os": ["linux"]},
                "node_modules/@oven/bun-darwin-aarch64": {"optional": true, "os": ["darwin"]},
                "node_modules/a/node_modules/b": {"version": "1.0.0"}
            }}"#,
        )
        .unwrap();
        for installed in ["bun", "@oven/bun-linux-x64", "a/node_modules/b"] {
            std::fs::create_dir_all(dir.join("node_modules").join(installed)).unwrap();
        }
        assert_eq!(dependency_count(dir), 3);
    }

    #[test]
    fn cargo_packages_are_the_lockfile_less_the_stack_itself() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        std::fs::write(
            dir.join("Cargo.lock"),
            r#"version = 4

[[package]]
name = "axum"
version = "0.8.9"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "00"

[[package]]
name = "stackwise-axum"
version = "0.1.0"
dependencies = ["axum", "tokio"]

[[package]]
name = "tokio"
version = "1.54.1"
source = "registry+https://github.com/rust-lang/crates.io-index"
"#,
        )
        .unwrap();
        assert_eq!(dependency_count(dir), 2);
        // The stacks/axum lockfile: every package but stackwise-axum comes from crates.io.
        let axum = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../stacks/axum");
        let text = std::fs::read_to_string(axum.join("Cargo.lock")).unwrap();
        let packages = text.matches("[[package]]").count() as u64;
        assert_eq!(dependency_count(&axum), packages - 1);
    }
}
