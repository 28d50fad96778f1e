use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    if stackwise_lab::process::watchdog_if_asked() {
        return ExitCode::SUCCESS;
    }
    let cli = match stackwise::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => match stackwise::clap_error_line(&err) {
            Some(line) => {
                eprintln!("error: {line}");
                return ExitCode::from(2);
            }
            None => err.exit(),
        },
    };
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
