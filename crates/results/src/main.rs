//! `tanksim-results`: the results service as a process (flags in `config`, serving in `run`).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tanksim_broker::RedisStore;
use tanksim_results::{ResultsArgs, run};
use tanksim_telemetry::TelemetryConfig;

/// sysexits' EX_USAGE: the configuration is wrong; restarting will not help.
const EXIT_CONFIG: u8 = 64;

#[tokio::main]
async fn main() -> ExitCode {
    let args = match ResultsArgs::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(EXIT_CONFIG);
        }
        Err(e) => {
            let _ = e.print(); // --help, --version
            return ExitCode::SUCCESS;
        }
    };
    let settings = match args.settings() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("tanksim-results: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let telemetry = tanksim_telemetry::init(&TelemetryConfig {
        service: "tanksim-results",
        log_format: args.log_format,
        filter: args.log_filter.clone(),
    });
    let outcome = serve(&args, settings).await;
    if let Err(e) = &outcome {
        tracing::error!(error = format!("{e:#}"), "tanksim-results failed");
    }
    // Flush within a bound: the pod's grace period is not ours to spend.
    let _ =
        tokio::time::timeout(Duration::from_secs(5), tokio::task::spawn_blocking(|| telemetry.shutdown()))
            .await;
    if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn serve(args: &ResultsArgs, settings: tanksim_results::ResultsSettings) -> anyhow::Result<()> {
    let store = RedisStore::connect(&args.redis_url)
        .await
        .with_context(|| format!("connecting to {}", args.redis_url))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    run(settings, store, listener, tanksim_server::shutdown_signal()).await?;
    Ok(())
}
