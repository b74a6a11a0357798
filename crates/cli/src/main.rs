//! `tanksim`: the command line. `tanksim run SPEC` runs a job in this process; the other
//! subcommands talk to a deployed gateway (see `tanksim --help`).

use std::process::ExitCode;

use tanksim_cli::cli::Cli;
use tanksim_cli::commands::{self, SERVICE_NAME};

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = tanksim_server::parse_or_exit();
    let telemetry = match commands::telemetry(&cli) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{SERVICE_NAME}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = commands::run(cli.command).await;
    telemetry.shutdown().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{SERVICE_NAME}: {e:#}");
            ExitCode::FAILURE
        }
    }
}
