use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if stackwise_lab::process::watchdog_if_asked() {
        return ExitCode::SUCCESS;
    }
    let cli = stackwise::cli::Cli::parse();
    let result = stackwise::run(cli);
    // An interrupted run exits from its signal handler once everything it started is ended.
    stackwise_lab::process::wait_if_interrupted();
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            stackwise::exit_code(&err)
        }
    }
}
