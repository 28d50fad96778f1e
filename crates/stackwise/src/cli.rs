//! The command line as typed: clap derive types and nothing else.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::defaults;
use crate::export::run::RunFormat;

/// Node.js or Python for your backend? Measured on your machine.
#[derive(Debug, Parser)]
#[command(name = "stackwise", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Drive HTTP/1.1 or WebSocket load at a URL and report throughput, latency and errors.
    ///
    /// Closed loop by default (-c connections, each sending when its last response arrives).
    /// With --rate, an open loop: requests leave on a fixed schedule and latency is measured from
    /// each one's intended send time, so server stalls are not hidden (coordinated omission
    /// corrected); the uncorrected latency is reported too. Requests still unanswered when the
    /// run ends are counted and aged; at a constant rate they count in the corrected latency.
    ///
    /// A ws:// URL drives WebSocket load (--ws-mode): echo (each message answered by its echo;
    /// -c, --rate as a total message rate), broadcast (--rooms of -c/--rooms members each,
    /// --senders of them publishing at --rate in total; every member's delivery of every message
    /// measured from its intended send time; lost, duplicated and out-of-order messages counted)
    /// or idle (-c connections opened at --rate per second, then held idle for -d).
    ///
    /// Exits with 1 when no request got an HTTP response, or no WebSocket message its answer (all
    /// failed, or the server answered nothing within the run), with the reason on stderr after the result; responses of any
    /// status, 4xx and 5xx included, are answers. Bad input, or more connections than the file
    /// descriptor limit allows, exits with 2 before any load is sent.
    Load(Box<LoadArgs>),
    /// Join the JSON results of shards of one run into one result, exactly.
    Merge(MergeArgs),
    /// Install, start and check each contestant against the contract (docs/spec.md).
    ///
    /// Prints a table of stacks by scenario with the reason for every failure, and exits with 1
    /// if any check fails. A stack that fails to install or start is reported and the others
    /// still run.
    Verify(VerifyArgs),
    /// Run the comparison: every stack, every scenario, measured as the protocol says.
    ///
    /// Provisions the contestants, starts PostgreSQL and the delay service, and for each stack
    /// and scenario starts a fresh server pinned to the server CPUs, verifies the scenario,
    /// warms up, and measures trials with the load engine on its own CPUs. results.json is
    /// written after every scenario.
    Run(Box<RunArgs>),
    /// List the runs in the history, newest first.
    ///
    /// Every `stackwise run` is recorded in <results-dir>/history.sqlite after each scenario,
    /// so an interrupted run is listed too.
    Runs(RunsArgs),
    /// Print one run, as `stackwise run` does at its end or in another format.
    Show(ShowArgs),
    /// What changed between two runs: host, versions and settings first, then each stack and
    /// scenario both measured (throughput per core, p99, capacity), with changes that the
    /// trials' spread does not establish marked "within noise".
    Compare(CompareArgs),
    /// Write one self-contained HTML report of a run: charts, tables and notes, data embedded,
    /// nothing loaded from the network.
    Report(ReportArgs),
    /// Recommend a stack for a project profile: ranked options with scores and evidence,
    /// capacity and cost, a sensitivity analysis, and an Architecture Decision Record.
    ///
    /// The profile comes from --profile (write a commented template with --init) or, on a
    /// terminal, from a questionnaire. The run is the latest in the history unless --results
    /// names one.
    Advise(AdviseArgs),
    /// Check the guides' claims ("Node.js is faster for I/O", "Python uses more memory", ...)
    /// against a run: each with a verdict (holds, does not hold, within noise, not measured yet)
    /// and the numbers behind it.
    Claims(ClaimsArgs),
    /// Print the JSON Schema of load results (`load`, the default) or of run results (`run`).
    Schema {
        #[arg(value_enum, default_value = defaults::DEFAULT_SCHEMA)]
        kind: SchemaKind,
    },
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The target, such as http://127.0.0.1:8080/json or ws://127.0.0.1:8080/ws/echo. With
    /// --mix, only its origin is used. For a broadcast over several rooms, {room} in the URL
    /// stands for each room's number: ws://127.0.0.1:8080/ws/room/{room}.
    pub url: String,

    /// Connections (with --rate: connections opened at the start).
    #[arg(short = 'c', long, default_value_t = defaults::DEFAULT_CONNECTIONS)]
    pub connections: usize,

    /// How long to measure, such as 10s, 1m or 500ms.
    #[arg(short = 'd', long, conflicts_with = "requests")]
    pub duration: Option<String>,

    /// Stop after this many measured requests instead of after a duration.
    #[arg(short = 'n', long)]
    pub requests: Option<u64>,

    /// Load driven before measuring, not counted, such as 2s.
    #[arg(short = 'w', long, default_value = defaults::DEFAULT_WARMUP)]
    pub warmup: String,

    /// Start the connections one after another over this time instead of all at once; it must
    /// end within --warmup.
    #[arg(long)]
    pub ramp: Option<String>,

    /// With --ramp: open each connection at its time in the ramp and send the first requests
    /// only when the ramp ends, so the server takes in every connection before it is busy.
    #[arg(long, requires = "ramp")]
    pub connect_first: bool,

    /// Requests per second on a fixed schedule (open loop) instead of a closed loop.
    #[arg(short = 'r', long, allow_negative_numbers = true)]
    pub rate: Option<f64>,

    /// With --rate: most connections to open when the server falls behind
    /// [default: the larger of -c and 1024].
    #[arg(long, requires = "rate")]
    pub max_connections: Option<usize>,

    /// HTTP method.
    #[arg(short = 'm', long, default_value = defaults::DEFAULT_METHOD)]
    pub method: String,

    /// A request header, such as 'Accept: application/json'; repeat for more.
    #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Request body.
    #[arg(short = 'b', long, conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Request body, read from a file.
    #[arg(short = 'B', long, value_name = "PATH")]
    pub body_file: Option<PathBuf>,

    /// A TOML file describing a weighted mix of requests ([[request]] tables with tag, weight,
    /// method, path, headers, body or body_file); each is reported apart.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["body", "body_file", "headers"])]
    pub mix: Option<PathBuf>,

    /// With a ws:// URL: what the connections do.
    #[arg(long, value_enum, default_value_t = WsModeArg::Echo)]
    pub ws_mode: WsModeArg,

    /// With a ws:// URL (echo, broadcast): bytes of each message sent [default: 128].
    #[arg(long, value_name = "BYTES")]
    pub message_size: Option<usize>,

    /// Broadcast: rooms; -c connections are split evenly among them.
    #[arg(long, default_value_t = 1)]
    pub rooms: usize,

    /// Broadcast: members of each room that publish; the others only receive.
    #[arg(long, default_value_t = 1)]
    pub senders: usize,

    /// Give up connecting after this long.
    #[arg(long, default_value = defaults::DEFAULT_CONNECT_TIMEOUT)]
    pub connect_timeout: String,

    /// Give up on a response after this long.
    #[arg(long, default_value = defaults::DEFAULT_TIMEOUT)]
    pub timeout: String,

    /// Worker threads [default: one per CPU in --cpus, or per available CPU].
    #[arg(short = 't', long)]
    pub threads: Option<usize>,

    /// Pin the worker threads to these CPUs, such as 0 or 0,2 or 0-3.
    #[arg(long, value_name = "LIST")]
    pub cpus: Option<String>,

    /// Print the result as JSON (see `stackwise schema`) instead of a summary.
    #[arg(long)]
    pub json: bool,

    /// Also write the JSON result to this file.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Write the raw histograms in HdrHistogram's interval log format to this file.
    #[arg(long, value_name = "PATH")]
    pub hdr_log: Option<PathBuf>,

    /// Show no progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// What the connections of a WebSocket run do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WsModeArg {
    /// Each connection sends a message and waits for its echo (closed loop), or messages leave
    /// at --rate (open loop).
    Echo,
    /// Rooms whose members receive every message their senders publish.
    Broadcast,
    /// Connections opened at --rate per second up to -c, then held idle for -d.
    Idle,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON results (from `stackwise load --json` or `-o`) of the shards of one run.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,

    /// Print the merged result as JSON instead of a summary.
    #[arg(long)]
    pub json: bool,

    /// Also write the merged JSON result to this file.
    #[arg(short = 'o', long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// Write the merged histograms in HdrHistogram's interval log format to this file.
    #[arg(long, value_name = "PATH")]
    pub hdr_log: Option<PathBuf>,
}

/// The flags `verify` and `run` share: which contestants, where they live, and what they and
/// the lab's services run on.
#[derive(Debug, Args)]
pub struct LabArgs {
    /// Only these stacks (repeat, or separate with commas) [default: all under --stacks-dir].
    #[arg(
        long = "stacks",
        visible_alias = "stack",
        value_name = "IDS",
        value_delimiter = ','
    )]
    pub stacks: Vec<String>,

    /// The folder holding one folder per stack.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_STACKS_DIR)]
    pub stacks_dir: PathBuf,

    /// Where installs are cached [default: $STACKWISE_CACHE, $XDG_CACHE_HOME/stackwise or
    /// ~/.cache/stackwise].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Use this PostgreSQL server (holding the TFB schema) instead of a throwaway cluster.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// CPUs the contestants run on [default: the upper half of the machine's CPUs].
    #[arg(long, value_name = "LIST")]
    pub server_cpus: Option<String>,

    /// CPUs for the load engine, PostgreSQL and the delay service [default: the lower half].
    #[arg(long, value_name = "LIST")]
    pub load_cpus: Option<String>,

    /// How long a contestant may take to answer its health check [default: 120s].
    #[arg(long, value_name = "DURATION")]
    pub start_timeout: Option<String>,

    /// Measure on these runtime releases (repeat, or separate with commas), e.g.
    /// `node=22,python=3.12` [default: each manifest's, else Node.js 24 and the newest CPython].
    #[arg(long = "runtime", value_name = "NAME=RELEASE", value_delimiter = ',')]
    pub runtimes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub lab: LabArgs,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub lab: LabArgs,

    /// Scenarios to run [default: every one but parallel-1 and parallel, which measure the GIL when
    /// named; with --quick, one of each kind of claim].
    #[arg(long = "scenarios", value_name = "SCENARIO", value_delimiter = ',',
          value_parser = clap::builder::PossibleValuesParser::new(stackwise_results::catalogue::ids()))]
    pub scenarios: Vec<String>,

    /// Measured time of each trial window [default: 1s; 400ms with --quick].
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,

    /// Longest warm-up before the trials; it ends once throughput settles
    /// [default: 3.5s; 1.5s with --quick].
    #[arg(long, value_name = "DURATION")]
    pub warmup: Option<String>,

    /// Driven before each trial window on its new connections, not counted; at least one
    /// request cycle [default: 500ms; 300ms with --quick].
    #[arg(long, value_name = "DURATION")]
    pub settle: Option<String>,

    /// Fewest rounds of trials per scenario [default: 3; 2 with --quick].
    #[arg(long, value_name = "N")]
    pub trials: Option<usize>,

    /// Most rounds of trials per scenario [default: 12; 5 with --quick].
    #[arg(long, value_name = "N")]
    pub max_rounds: Option<usize>,

    /// Time the measuring may take, first scenario to last: each scenario gets an even share
    /// of what is left, and its rounds stop early enough to leave its probes their time; the
    /// fewest rounds always run [default: 15m; 3m with --quick].
    #[arg(long, value_name = "DURATION")]
    pub budget: Option<String>,

    /// Longest measured time of each capacity probe [default: 800ms; 500ms with --quick].
    #[arg(long, value_name = "DURATION")]
    pub probe: Option<String>,

    /// The run's latency target, p99 in milliseconds; capacity at any other is read from the
    /// same probes.
    #[arg(long, value_name = "MS", default_value_t = defaults::DEFAULT_P99_MS)]
    pub p99: f64,

    /// Open-loop probes per stack and scenario, spanning the closed-loop maximum; 0 skips them
    /// [default: 3; none with --quick].
    #[arg(long, value_name = "N")]
    pub capacity_probes: Option<usize>,

    /// A window in which processes outside the measurement used more than this share of the
    /// machine, in percent, is set aside as noisy and measured again (bounded); 100 keeps every
    /// window.
    #[arg(long, value_name = "PERCENT", default_value_t = defaults::DEFAULT_NOISE_LIMIT_PERCENT)]
    pub noise_limit: f64,

    /// Seed of the rounds' shuffled orders.
    #[arg(long, value_name = "N", default_value_t = defaults::DEFAULT_SEED)]
    pub seed: u64,

    /// A first look: fewer scenarios, fewer and shorter windows, the same rules; labelled as
    /// such in every output.
    #[arg(long)]
    pub quick: bool,

    /// Finish an interrupted run: RUN is its id (a folder under --results-dir); what it
    /// measured is kept and the rest is run with its settings.
    #[arg(long, value_name = "RUN", conflicts_with_all = ["stacks", "scenarios", "duration", "warmup", "settle", "trials", "max_rounds", "probe", "capacity_probes", "seed", "noise_limit", "quick"])]
    pub resume: Option<String>,

    /// Where run folders (results.json, logs) are written.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,

    /// Show no progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

#[derive(Debug, Args)]
pub struct RunsArgs {
    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run: an id, the start of one, `latest`, or the path of a results.json (or of the
    /// folder holding it).
    pub run: String,

    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,

    /// Output format (markdown also as md).
    #[arg(long, value_name = "FORMAT", value_enum, ignore_case = true, default_value = defaults::DEFAULT_FORMAT)]
    pub format: RunFormat,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference run: an id, the start of one, `latest`, or the path of a results.json.
    pub run_a: String,

    /// The run compared with it, named the same ways.
    pub run_b: String,

    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run: an id, the start of one, `latest`, or the path of a results.json (or of the
    /// folder holding it).
    #[arg(default_value = defaults::DEFAULT_RUN)]
    pub run: String,

    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,

    /// Where to write the report [default: report.html in the run's folder].
    #[arg(short = 'o', long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Add the recommendation for this project profile (see `stackwise advise --init`)
    /// [default: stackwise-profile.toml, when the current folder has one].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// The run: an id, the start of one, `latest`, or the path of a results.json (or of the
    /// folder holding it) [default: latest; before any run, the bundled reference results].
    pub run: Option<String>,

    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,

    /// Output format (markdown also as md).
    #[arg(long, value_name = "FORMAT", value_enum, ignore_case = true, default_value = defaults::DEFAULT_FORMAT)]
    pub format: ClaimsFormat,
}

#[derive(Debug, Clone, Args)]
pub struct AdviseArgs {
    /// The project profile (TOML). Without it, the questions are asked on a terminal.
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,

    /// Write a commented profile template to FILE [default: stackwise-profile.toml] and stop;
    /// an existing file is never overwritten.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = defaults::DEFAULT_PROFILE, conflicts_with_all = ["profile", "results", "adr", "no_adr"])]
    pub init: Option<PathBuf>,

    /// The run to advise from: an id, the start of one, `latest`, or the path of a results.json
    /// (or of its folder) [default: latest].
    #[arg(long, value_name = "RUN")]
    pub results: Option<String>,

    /// The folder `stackwise run` writes to; the history is its history.sqlite.
    #[arg(long, value_name = "DIR", default_value = defaults::DEFAULT_RESULTS_DIR)]
    pub results_dir: PathBuf,

    /// Where to write the decision record [default: the next free docs/adr/NNNN-backend-stack.md].
    #[arg(long, value_name = "FILE")]
    pub adr: Option<PathBuf>,

    /// Write no decision record.
    #[arg(long, conflicts_with = "adr")]
    pub no_adr: bool,

    /// Output format (markdown also as md).
    #[arg(long, value_name = "FORMAT", value_enum, ignore_case = true, default_value = defaults::DEFAULT_FORMAT)]
    pub format: AdviseFormat,

    /// In the terminal, everything: every option's scores, the weights, every flip, the notes
    /// and the evidence (the default is one screen: the answer, why, the runner-up and what
    /// would change it, cores and cost). Markdown, JSON and the decision record always have it
    /// all.
    #[arg(short, long)]
    pub verbose: bool,
}

/// How `stackwise claims` prints the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClaimsFormat {
    /// Aligned plain text for a terminal.
    Table,
    /// GitHub Markdown.
    #[value(alias = "md")]
    Markdown,
}

/// How `stackwise advise` prints the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdviseFormat {
    /// Aligned plain text for a terminal.
    Table,
    /// GitHub Markdown.
    #[value(alias = "md")]
    Markdown,
    /// The advice as a JSON document.
    Json,
}

/// Which results `stackwise schema` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaKind {
    /// One `stackwise load` (or `merge`) result.
    Load,
    /// A whole run's results.json.
    Run,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        let argv = std::iter::once("stackwise").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.command)
    }

    #[test]
    fn formats_take_their_names_and_aliases_in_any_case() {
        let show = |f: &str| match parse(&["show", "latest", "--format", f]).unwrap() {
            Command::Show(a) => a.format,
            _ => unreachable!(),
        };
        let claims = |f: &str| match parse(&["claims", "--format", f]).unwrap() {
            Command::Claims(a) => a.format,
            _ => unreachable!(),
        };
        let advise = |f: &str| match parse(&["advise", "--format", f]).unwrap() {
            Command::Advise(a) => a.format,
            _ => unreachable!(),
        };
        for (name, format) in [
            ("table", RunFormat::Table),
            ("markdown", RunFormat::Markdown),
            ("md", RunFormat::Markdown),
            ("MD", RunFormat::Markdown),
            ("csv", RunFormat::Csv),
            ("JSON", RunFormat::Json),
        ] {
            assert_eq!(show(name), format, "{name}");
        }
        for (name, format) in [
            ("table", ClaimsFormat::Table),
            ("markdown", ClaimsFormat::Markdown),
            ("md", ClaimsFormat::Markdown),
        ] {
            assert_eq!(claims(name), format, "{name}");
        }
        for (name, format) in [
            ("table", AdviseFormat::Table),
            ("Markdown", AdviseFormat::Markdown),
            ("md", AdviseFormat::Markdown),
            ("json", AdviseFormat::Json),
        ] {
            assert_eq!(advise(name), format, "{name}");
        }
        assert!(
            matches!(parse(&["show", "latest"]).unwrap(), Command::Show(a) if a.format == RunFormat::Table)
        );
    }

    #[test]
    fn an_unknown_value_is_one_line_naming_the_flag_and_the_choices() {
        let line = |args: &[&str]| crate::value_error_line(&parse(args).unwrap_err()).unwrap();
        assert_eq!(
            line(&["claims", "--format", "csv"]),
            "unknown format 'csv' for --format: expected table or markdown"
        );
        assert_eq!(
            line(&["advise", "--format", "xml"]),
            "unknown format 'xml' for --format: expected table, markdown or json"
        );
        assert!(line(&["run", "--scenarios", "json,nope"])
            .starts_with("unknown scenario 'nope' for --scenarios: expected json, "));
        assert_eq!(
            line(&["schema", "html"]),
            "unknown kind 'html': expected load or run"
        );
        // Other errors keep clap's words, on one line; help is not an error.
        assert!(crate::value_error_line(&parse(&["load"]).unwrap_err()).is_none());
        assert_eq!(
            crate::clap_error_line(&parse(&["load"]).unwrap_err()).unwrap(),
            "the following required arguments were not provided: <URL>"
        );
        assert!(crate::clap_error_line(&parse(&["load", "--help"]).unwrap_err()).is_none());
    }
}
