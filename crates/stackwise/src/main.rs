use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = stackwise::cli::Cli::parse();
    match stackwise::run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            stackwise::exit_code(&err)
        }
    }
}
