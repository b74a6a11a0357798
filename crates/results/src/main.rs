//! `tanksim-results`: the results service as a process (flags in `config`, serving in `run`).

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tanksim_broker::RedisStore;
use tanksim_results::config::SERVICE_NAME;
use tanksim_results::{ResultsArgs, run};

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
            eprintln!("{SERVICE_NAME}: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let telemetry =
        match tanksim_telemetry::init(&args.telemetry.config(SERVICE_NAME, env!("CARGO_PKG_VERSION"))) {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("{SERVICE_NAME}: {e}");
                return ExitCode::FAILURE;
            }
        };
    let serving = match args.mesh.serving() {
        Ok(serving) => serving,
        Err(e) => {
            tracing::error!(error = %e, "mTLS configuration");
            telemetry.shutdown().await;
            eprintln!("{SERVICE_NAME}: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let outcome = serve(&args, settings, serving).await;
    if let Err(e) = &outcome {
        tracing::error!(error = format!("{e:#}"), "{SERVICE_NAME} failed");
    }
    // Bounded by the exporter's timeout: the pod's grace period is not ours to spend.
    telemetry.shutdown().await;
    if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

async fn serve(
    args: &ResultsArgs,
    settings: tanksim_results::ResultsSettings,
    serving: tanksim_server::tls::Serving,
) -> anyhow::Result<()> {
    let store = RedisStore::connect(&args.redis_url)
        .await
        .with_context(|| format!("connecting to {}", tanksim_broker::url::redacted(&args.redis_url)))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let listener = tanksim_server::Listener::new(listener, serving);
    run(settings, store, listener, tanksim_server::shutdown_signal()).await?;
    Ok(())
}
