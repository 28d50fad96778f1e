//! The `stackwise` command: argument handling and output around the library crates.
//!
//! # Layout
//!
//! - [`cli`]: the raw command line (clap derive). Nothing else sees clap types.
//! - [`defaults`]: the command line's defaults, named once.
//! - [`settings`]: each command's arguments resolved, with files (body, mix, a resumed run)
//!   and defaults, into one validated settings value.
//! - [`load`]: `stackwise load` and `stackwise merge`: run or join, then export.
//! - [`run`]: `stackwise run`: the measured comparison, saved as it goes.
//! - [`verify`]: `stackwise verify`: the contestants checked against the contract.
//! - [`history`]: `stackwise runs`, `show` and `compare`: the run history read back.
//! - [`html_report`]: `stackwise report`: one self-contained HTML file of a run.
//! - [`claims`]: `stackwise claims`: the guides' claims checked against a run.
//! - [`advise`]: `stackwise advise`: a recommendation and a decision record for a profile.
//! - [`export`]: one module per output format of a load result.
//!
//! Errors: anything the user can fix by changing the command line is a [`UsageError`] and exits
//! with code 2; anything else exits with 1.

pub mod advise;
pub mod claims;
pub mod cli;
pub mod defaults;
pub mod export;
pub mod history;
pub mod html_report;
pub mod load;
pub mod run;
pub mod settings;
pub mod verify;

use std::process::ExitCode;

/// Bad input: the command is wrong, not the world. Exits with code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for returning a [`UsageError`].
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// A clap error as the one line every other usage error is, without the `error: ` prefix;
/// `None` for help and version, which are not errors. Clap's own message spans several lines
/// (the error, a tip, the usage, a pointer to --help): the line keeps the error itself, and a
/// value clap refuses reads as [`value_error_line`] words it.
pub fn clap_error_line(err: &clap::Error) -> Option<String> {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        _ => {}
    }
    if let Some(line) = value_error_line(err) {
        return Some(line);
    }
    let text = err.render().to_string();
    let first: Vec<&str> = text
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let line = first.join(" ");
    Some(line.strip_prefix("error: ").unwrap_or(&line).to_string())
}

/// A clap error about a value (a format, a scenario, a schema kind) in the words of the other
/// usage errors: `unknown format 'xml' for --format: expected table, markdown or json`.
pub fn value_error_line(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::InvalidValue {
        return None;
    }
    let text = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        _ => None,
    };
    let arg = text(ContextKind::InvalidArg)?;
    let value = text(ContextKind::InvalidValue)?;
    // "--format <FORMAT>", or "[KIND]" / "<KIND>" for a positional argument.
    let (flag, name) = match arg.split_once(' ') {
        Some((flag, name)) => (Some(flag), name),
        None => (None, arg.as_str()),
    };
    let name = name
        .trim_matches(|c| matches!(c, '<' | '>' | '[' | ']' | '.'))
        .to_ascii_lowercase();
    let mut line = format!("unknown {name} '{value}'");
    if let Some(flag) = flag {
        line.push_str(&format!(" for {flag}"));
    }
    if let Some(ContextValue::Strings(valid)) = err.get(ContextKind::ValidValue) {
        line.push_str(": expected ");
        line.push_str(&match valid.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        });
    }
    Some(line)
}

/// The exit code for an error: 2 for bad usage, 1 for anything else.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    if err.chain().any(|e| e.is::<UsageError>()) {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

/// Called before a command starts processes: removes what an earlier stackwise that was killed
/// left behind, saying so, and starts the watchdog that will do the same for this one.
pub fn guard_processes() {
    stackwise_lab::process::install_interrupt_handler();
    let reaped = stackwise_lab::process::reap_dead();
    if !reaped.is_empty() {
        eprintln!("stackwise: {reaped}");
    }
    let watchdog =
        std::env::current_exe().and_then(|exe| stackwise_lab::process::start_watchdog(&exe));
    if let Err(e) = watchdog {
        eprintln!(
            "stackwise: warning: no watchdog ({e}); should this process be killed, the next \
             run removes what it leaves"
        );
    }
}

/// Runs one command.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        cli::Command::Load(args) => load::load(&args),
        cli::Command::Merge(args) => load::merge(&args),
        cli::Command::Verify(args) => verify::verify(&args),
        cli::Command::Run(args) => run::run(&args),
        cli::Command::Runs(args) => history::runs(&args),
        cli::Command::Show(args) => history::show(&args),
        cli::Command::Compare(args) => history::compare(&args),
        cli::Command::Report(args) => html_report::html_report(&args),
        cli::Command::Advise(args) => advise::advise(&args),
        cli::Command::Claims(args) => claims::claims(&args),
        cli::Command::Schema { kind } => {
            match kind {
                cli::SchemaKind::Run => print!("{}", stackwise_results::json_schema()),
                cli::SchemaKind::Load => print!("{}", stackwise_engine::load_report::json_schema()),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
