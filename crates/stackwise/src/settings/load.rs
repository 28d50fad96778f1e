//! `stackwise load` resolved: a load [`Plan`] with defaults applied, files read and every value
//! checked, so the engine never sees a value it cannot run; and where its result goes, which
//! `stackwise merge` shares.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use stackwise_engine::cpu::{allowed_cpus, parse_cpu_list};
use stackwise_engine::limits;
use stackwise_engine::plan::path_and_query;
use stackwise_engine::{Load, Plan, RequestSpec, Stop, Target, WsMode, WsPlan};

use super::duration;
use crate::cli::{LoadArgs, MergeArgs, WsModeArg};
use crate::defaults::{
    DEFAULT_CONNECT_RATE, DEFAULT_DURATION, DEFAULT_MAX_CONNECTIONS, DEFAULT_MESSAGE_SIZE,
    DEFAULT_METHOD, IDLE_HANDSHAKES, IDLE_MAX_HANDSHAKES,
};
use crate::usage;

/// Where a load result goes: standard output (a summary, or the JSON result) and the files
/// asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    /// The JSON result on standard output instead of the summary.
    pub json: bool,
    /// A file for the JSON result.
    pub output: Option<PathBuf>,
    /// A file for the histograms in HdrHistogram's interval log format.
    pub hdr_log: Option<PathBuf>,
}

/// `stackwise load`, validated.
#[derive(Debug, Clone)]
pub struct LoadSettings {
    pub plan: Plan,
    pub outputs: Outputs,
    /// A progress bar on standard error.
    pub progress: bool,
}

/// `stackwise merge`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeSettings {
    /// The JSON results of the shards, read in this order.
    pub shards: Vec<PathBuf>,
    pub outputs: Outputs,
}

/// Resolves `stackwise load`'s flags, or a usage error naming what is wrong.
pub fn load_settings(args: &LoadArgs) -> anyhow::Result<LoadSettings> {
    Ok(LoadSettings {
        plan: load_plan(args)?,
        outputs: outputs(args.json, &args.output, &args.hdr_log)?,
        progress: !args.no_progress,
    })
}

/// Resolves `stackwise merge`'s arguments, or a usage error naming what is wrong.
pub fn merge_settings(args: &MergeArgs) -> anyhow::Result<MergeSettings> {
    Ok(MergeSettings {
        shards: args.files.clone(),
        outputs: outputs(args.json, &args.output, &args.hdr_log)?,
    })
}

/// The outputs, refusing one file named for both, where the second write would erase the first.
fn outputs(
    json: bool,
    output: &Option<PathBuf>,
    hdr_log: &Option<PathBuf>,
) -> anyhow::Result<Outputs> {
    if let (Some(o), Some(h)) = (output, hdr_log) {
        if o == h {
            return Err(usage(format!(
                "invalid --hdr-log '{}': -o writes the JSON result to the same file",
                h.display()
            )));
        }
    }
    Ok(Outputs {
        json,
        output: output.clone(),
        hdr_log: hdr_log.clone(),
    })
}

/// Resolves `args` into a plan, or a usage error naming what is wrong.
pub fn load_plan(args: &LoadArgs) -> anyhow::Result<Plan> {
    let target = Target::resolve(&args.url).map_err(|e| usage(e.to_string()))?;
    if target.url.scheme() == "ws" {
        return ws_plan(args, target);
    }
    let ws_only = [
        (args.ws_mode != WsModeArg::Echo, "--ws-mode"),
        (args.message_size.is_some(), "--message-size"),
        (args.rooms != 1, "--rooms"),
        (args.senders != 1, "--senders"),
    ];
    if let Some((_, flag)) = ws_only.iter().find(|(given, _)| *given) {
        return Err(usage(format!(
            "{flag} needs a ws:// URL; '{}' is HTTP",
            args.url
        )));
    }
    let requests = match &args.mix {
        Some(path) => read_mix(path, &target)?,
        None => vec![single_request(args, &target)?],
    };
    let stop = stop_of(args)?;
    let (cpus, threads) = cpus_and_threads(args)?;
    let load = load_of(args, threads);
    plan(args, target, requests, (load, stop), (cpus, threads), None)
}

/// A WebSocket run: the same flags, read for its mode. Each message is a request; in idle each
/// connection opened is one, and -d is how long they are held.
fn ws_plan(args: &LoadArgs, target: Target) -> anyhow::Result<Plan> {
    let http_only = [
        (args.mix.is_some(), "--mix"),
        (!args.headers.is_empty(), "-H"),
        (args.body.is_some() || args.body_file.is_some(), "-b/-B"),
        (!args.method.eq_ignore_ascii_case("GET"), "-m"),
    ];
    if let Some((_, flag)) = http_only.iter().find(|(given, _)| *given) {
        return Err(usage(format!(
            "{flag} applies to HTTP only; a ws:// URL sends WebSocket messages"
        )));
    }
    let ws_flag = |ok: bool, flag: &str, mode: &str| {
        if ok {
            Ok(())
        } else {
            Err(usage(format!("{flag} applies to --ws-mode {mode} only")))
        }
    };
    let broadcast = args.ws_mode == WsModeArg::Broadcast;
    ws_flag(broadcast || args.rooms == 1, "--rooms", "broadcast")?;
    ws_flag(broadcast || args.senders == 1, "--senders", "broadcast")?;
    // The path as typed: `{room}` is kept for the engine to fill in.
    let path = match args.url.find("://").map(|i| &args.url[i + 3..]) {
        Some(rest) => match rest.find('/') {
            Some(slash) => rest[slash..].split('#').next().unwrap_or("/").to_string(),
            None => "/".to_string(),
        },
        None => "/".to_string(),
    };
    let mut request = RequestSpec::get(&target.url);
    request.tag = path.clone();
    let (cpus, threads) = cpus_and_threads(args)?;
    let (mode, load, stop) = match args.ws_mode {
        WsModeArg::Idle => {
            ws_flag(
                args.message_size.is_none(),
                "--message-size",
                "echo or broadcast",
            )?;
            if args.requests.is_some() {
                return Err(usage(
                    "-n does not apply to --ws-mode idle: -c connections are opened, then held \
                     for -d",
                ));
            }
            let hold = match &args.duration {
                Some(d) => duration("--duration", d)?,
                None => DEFAULT_DURATION,
            };
            let target = args.connections as u64;
            let at_once = args.connections.min(IDLE_HANDSHAKES);
            let load = Load::Constant {
                rate: args.rate.unwrap_or(DEFAULT_CONNECT_RATE),
                connections: at_once,
                max_connections: args
                    .max_connections
                    .unwrap_or(IDLE_MAX_HANDSHAKES)
                    .min(args.connections)
                    .max(at_once),
            };
            (WsMode::Idle { hold }, load, Stop::Count(target))
        }
        WsModeArg::Echo | WsModeArg::Broadcast => {
            let stop = stop_of(args)?;
            let load = match args.rate {
                // A broadcast publishes from its members; it never opens more connections.
                Some(rate) if broadcast => Load::Constant {
                    rate,
                    connections: args.connections,
                    max_connections: args.connections,
                },
                _ => load_of(args, threads),
            };
            let mode = if broadcast {
                WsMode::Broadcast {
                    rooms: args.rooms,
                    senders: args.senders,
                }
            } else {
                WsMode::Echo
            };
            (mode, load, stop)
        }
    };
    let ws = WsPlan {
        mode,
        path,
        message_size: args.message_size.unwrap_or(DEFAULT_MESSAGE_SIZE),
    };
    plan(
        args,
        target,
        vec![request],
        (load, stop),
        (cpus, threads),
        Some(ws),
    )
}

/// The plan from what HTTP and WebSocket runs resolve alike, checked.
fn plan(
    args: &LoadArgs,
    target: Target,
    requests: Vec<RequestSpec>,
    (load, stop): (Load, Stop),
    (cpus, threads): (Option<Vec<usize>>, usize),
    ws: Option<WsPlan>,
) -> anyhow::Result<Plan> {
    let plan = Plan {
        target,
        requests,
        load,
        stop,
        warmup: duration("--warmup", &args.warmup)?,
        threads,
        cpus,
        connect_timeout: duration("--connect-timeout", &args.connect_timeout)?,
        request_timeout: duration("--timeout", &args.timeout)?,
        windows: 1,
        ramp: match &args.ramp {
            Some(r) => duration("--ramp", r)?,
            None => Duration::ZERO,
        },
        connect_first: args.connect_first,
        ws,
    };
    plan.validate().map_err(|e| usage(e.to_string()))?;
    Ok(plan)
}

/// The CPUs the engine is pinned to, if named, and its worker threads.
fn cpus_and_threads(args: &LoadArgs) -> anyhow::Result<(Option<Vec<usize>>, usize)> {
    let cpus = args
        .cpus
        .as_deref()
        .map(|s| parse_cpu_list(s).map_err(|e| usage(format!("invalid --cpus '{s}': {e}"))))
        .transpose()?;
    let threads = args
        .threads
        .unwrap_or_else(|| cpus.as_ref().map_or_else(allowed_cpus, Vec::len));
    Ok((cpus, threads))
}

/// -n requests, or -d of time (10 s when neither is given).
fn stop_of(args: &LoadArgs) -> anyhow::Result<Stop> {
    Ok(match (args.requests, &args.duration) {
        (Some(n), _) => Stop::Count(n),
        (None, Some(d)) => Stop::Duration(duration("--duration", d)?),
        (None, None) => Stop::Duration(DEFAULT_DURATION),
    })
}

/// A closed loop on -c connections, or --rate with room to open more.
fn load_of(args: &LoadArgs, threads: usize) -> Load {
    match args.rate {
        None => Load::Closed {
            connections: args.connections,
        },
        Some(rate) => Load::Constant {
            rate,
            connections: args.connections,
            max_connections: args
                .max_connections
                .unwrap_or_else(|| default_max_connections(args.connections, threads)),
        },
    }
}

/// The open loop's connection cap when none is given: the larger of -c and
/// [`DEFAULT_MAX_CONNECTIONS`], but no more than the hard descriptor limit allows, so the default
/// never asks for descriptors the process cannot have.
fn default_max_connections(connections: usize, threads: usize) -> usize {
    let cap = connections.max(DEFAULT_MAX_CONNECTIONS);
    match limits::descriptor_limit() {
        Ok(limit) => {
            let allowed = limits::connections_within(limit.hard, threads);
            cap.min(usize::try_from(allowed).unwrap_or(usize::MAX))
                .max(connections)
        }
        Err(_) => cap,
    }
}

/// Makes room for every descriptor `plan` may hold (see [`limits::ensure_descriptors`]), or
/// refuses it with a usage error naming the flag that asks for them.
/// Returns a note for the person running it when the limit was raised.
pub fn fit_descriptors(plan: &Plan) -> anyhow::Result<Option<String>> {
    let needed = limits::descriptors_needed(plan);
    let before = limits::descriptor_limit().ok();
    let raised = |now: limits::DescriptorLimit| {
        before.filter(|b| now.soft > b.soft).map(|b| {
            format!(
                "raised the open file limit from {} to {} (hard limit {}) for about {needed} \
                     descriptors",
                b.soft, now.soft, now.hard
            )
        })
    };
    limits::ensure_descriptors(needed).map(raised).map_err(|e| {
        let asked = match plan.load {
            _ if plan
                .ws
                .as_ref()
                .is_some_and(|w| matches!(w.mode, WsMode::Idle { .. })) =>
            {
                format!(
                    "-c {}",
                    plan.initial_connections().max(match plan.stop {
                        Stop::Count(n) => n as usize,
                        Stop::Duration(_) => 0,
                    })
                )
            }
            Load::Closed { connections } => format!("-c {connections}"),
            Load::Constant {
                max_connections, ..
            } => format!("--max-connections {max_connections}"),
        };
        usage(format!("{asked} {e}"))
    })
}

fn header(value: &str) -> anyhow::Result<(String, String)> {
    match value.split_once(':') {
        Some((name, v)) if !name.trim().is_empty() => {
            Ok((name.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(usage(format!(
            "invalid header '{value}': expected 'Name: value'"
        ))),
    }
}

fn read_body(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| usage(format!("cannot read body file '{}': {e}", path.display())))
}

fn single_request(args: &LoadArgs, target: &Target) -> anyhow::Result<RequestSpec> {
    let mut spec = RequestSpec::get(&target.url);
    spec.method = args.method.to_ascii_uppercase();
    spec.headers = args
        .headers
        .iter()
        .map(|h| header(h))
        .collect::<anyhow::Result<_>>()?;
    spec.body = match (&args.body, &args.body_file) {
        (Some(b), _) => b.clone().into_bytes(),
        (None, Some(path)) => read_body(path)?,
        (None, None) => Vec::new(),
    };
    Ok(spec)
}

/// A `--mix` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MixFile {
    request: Vec<MixEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MixEntry {
    tag: Option<String>,
    #[serde(default = "one")]
    weight: u32,
    #[serde(default = "get")]
    method: String,
    path: Option<String>,
    #[serde(default)]
    headers: Vec<String>,
    body: Option<String>,
    body_file: Option<PathBuf>,
}

fn one() -> u32 {
    1
}

fn get() -> String {
    DEFAULT_METHOD.to_string()
}

fn read_mix(path: &Path, target: &Target) -> anyhow::Result<Vec<RequestSpec>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read mix file '{}': {e}", path.display())))?;
    let mix: MixFile = toml::from_str(&text).map_err(|e| {
        let msg = e.message().to_string();
        usage(format!("invalid mix file '{}': {msg}", path.display()))
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::with_capacity(mix.request.len());
    for (i, entry) in mix.request.into_iter().enumerate() {
        let path_q = entry.path.unwrap_or_else(|| path_and_query(&target.url));
        let method = entry.method.to_ascii_uppercase();
        let tag = entry.tag.unwrap_or_else(|| format!("{method} {path_q}"));
        if out.iter().any(|r: &RequestSpec| r.tag == tag) {
            return Err(usage(format!(
                "invalid mix file '{}': request {} repeats the tag '{tag}'",
                path.display(),
                i + 1
            )));
        }
        let body = match (entry.body, entry.body_file) {
            (Some(_), Some(_)) => {
                return Err(usage(format!(
                    "invalid mix file '{}': request '{tag}' has both body and body_file",
                    path.display()
                )))
            }
            (Some(b), None) => b.into_bytes(),
            (None, Some(f)) => read_body(&base.join(f))?,
            (None, None) => Vec::new(),
        };
        out.push(RequestSpec {
            tag,
            weight: entry.weight,
            method,
            path: path_q,
            headers: entry
                .headers
                .iter()
                .map(|h| header(h))
                .collect::<anyhow::Result<_>>()?,
            body,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn plan(args: &[&str]) -> anyhow::Result<Plan> {
        let mut argv = vec!["stackwise", "load"];
        argv.extend_from_slice(args);
        let cli = crate::cli::Cli::try_parse_from(argv)?;
        match cli.command {
            crate::cli::Command::Load(a) => load_plan(&a),
            _ => unreachable!(),
        }
    }

    fn usage_message(args: &[&str]) -> String {
        let err = plan(args).unwrap_err();
        assert!(err.is::<crate::UsageError>(), "{err:#}");
        err.to_string()
    }

    #[test]
    fn defaults() {
        let p = plan(&["http://127.0.0.1:1/x"]).unwrap();
        assert_eq!(p.load, Load::Closed { connections: 50 });
        assert_eq!(p.stop, Stop::Duration(Duration::from_secs(10)));
        assert_eq!(p.requests[0].path, "/x");
        let p = plan(&["http://127.0.0.1:1/", "--rate", "100", "-c", "4"]).unwrap();
        assert_eq!(
            p.load,
            Load::Constant {
                rate: 100.0,
                connections: 4,
                max_connections: 1024
            }
        );
    }

    #[test]
    fn bad_input_is_a_usage_error_naming_the_value() {
        assert!(usage_message(&["not a url"]).contains("invalid URL"));
        assert!(usage_message(&["http://127.0.0.1:1/", "--rate", "0"]).contains("rate"));
        assert!(usage_message(&["http://127.0.0.1:1/", "--rate", "-5"]).contains("-5"));
        assert!(usage_message(&["http://127.0.0.1:1/", "-d", "soon"]).contains("--duration"));
        assert!(
            usage_message(&["http://127.0.0.1:1/", "-B", "/no/such/file"])
                .contains("/no/such/file")
        );
        assert!(usage_message(&["http://127.0.0.1:1/", "-H", "nocolon"]).contains("nocolon"));
        assert!(usage_message(&["http://127.0.0.1:1/", "--cpus", "9999"]).contains("9999"));
        assert!(usage_message(&["http://127.0.0.1:1/", "-c", "0"]).contains("connections"));
    }

    #[test]
    fn outputs_of_load_and_merge_are_resolved_alike() {
        let cli = crate::cli::Cli::try_parse_from([
            "stackwise",
            "load",
            "http://127.0.0.1:1/",
            "--json",
            "-o",
            "r.json",
            "--no-progress",
        ])
        .unwrap();
        let crate::cli::Command::Load(a) = cli.command else {
            unreachable!()
        };
        let s = load_settings(&a).unwrap();
        assert!(!s.progress);
        assert_eq!(
            s.outputs,
            Outputs {
                json: true,
                output: Some(PathBuf::from("r.json")),
                hdr_log: None
            }
        );
        let cli = crate::cli::Cli::try_parse_from([
            "stackwise",
            "merge",
            "a.json",
            "b.json",
            "-o",
            "m.json",
            "--hdr-log",
            "m.json",
        ])
        .unwrap();
        let crate::cli::Command::Merge(a) = cli.command else {
            unreachable!()
        };
        let err = merge_settings(&a).unwrap_err();
        assert!(err.is::<crate::UsageError>());
        assert_eq!(
            err.to_string(),
            "invalid --hdr-log 'm.json': -o writes the JSON result to the same file"
        );
    }

    #[test]
    fn mix_files() {
        let dir = std::env::temp_dir().join(format!("stackwise-mix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("body.csv"), "a,b\n1,2\n").unwrap();
        let mix = dir.join("mix.toml");
        std::fs::write(
            &mix,
            r#"
[[request]]
tag = "json"
weight = 9
path = "/json"

[[request]]
tag = "cpu"
path = "/cpu?n=10000"

[[request]]
method = "post"
path = "/aggregate"
headers = ["Content-Type: text/csv"]
body_file = "body.csv"
"#,
        )
        .unwrap();
        let p = plan(&["http://127.0.0.1:1/", "--mix", mix.to_str().unwrap()]).unwrap();
        let tags: Vec<_> = p.requests.iter().map(|r| r.tag.as_str()).collect();
        assert_eq!(tags, ["json", "cpu", "POST /aggregate"]);
        assert_eq!(p.requests[0].weight, 9);
        assert_eq!(p.requests[2].body, b"a,b\n1,2\n");
        std::fs::write(&mix, "[[request]]\nweight = 0\n").unwrap();
        assert!(
            usage_message(&["http://127.0.0.1:1/", "--mix", mix.to_str().unwrap()])
                .contains("weight")
        );
        std::fs::write(&mix, "[[request]]\nwieght = 1\n").unwrap();
        assert!(
            usage_message(&["http://127.0.0.1:1/", "--mix", mix.to_str().unwrap()])
                .contains("wieght")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
