//! `tanksim`: the command line. `tanksim run SPEC` runs a job in this process; the other
//! subcommands talk to a deployed gateway (see `tanksim --help`).

use std::process::ExitCode;

use tanksim_cli::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli: Cli = tanksim_server::parse_or_exit();
    let telemetry = tanksim_telemetry::init_stderr("tanksim", cli.log_filter.as_deref());
    let result = tanksim_cli::commands::run(cli.command).await;
    telemetry.shutdown();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tanksim: {e:#}");
            ExitCode::FAILURE
        }
    }
}
