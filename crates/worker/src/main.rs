//! `tanksim-worker`: parse the configuration, start telemetry, connect to Redis and the
//! results service, bind the health port, and run until SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Parser;
use tanksim_broker::{RedisQueue, RedisStore};
use tanksim_worker::config::SERVICE_NAME;
use tanksim_worker::{Error, WorkerArgs};

#[tokio::main]
async fn main() -> ExitCode {
    let args = match WorkerArgs::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(64);
        }
    };
    let config = match args.validate() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("{SERVICE_NAME}: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let guard = match tanksim_telemetry::init(&config.telemetry) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{SERVICE_NAME}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = serve(config).await;
    if let Err(e) = &outcome {
        tracing::error!(error = %e, "worker failed");
    }
    guard.shutdown().await;
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(e.exit_code()),
    }
}

async fn serve(config: tanksim_worker::Config) -> Result<(), Error> {
    let queue = RedisQueue::connect(&config.redis_url).await?;
    let store = RedisStore::connect(&config.redis_url).await?;
    let tls = config.mesh.client().map_err(Error::Config)?;
    let results = tanksim_worker::results_client(&config.results_url, tls.as_ref())?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| Error::Bind { addr: config.listen, source })?;
    let listen = listener.local_addr().map_err(|source| Error::Bind { addr: config.listen, source })?;
    tracing::info!(
        name = %config.settings.name,
        %listen,
        threads = config.settings.threads,
        "{SERVICE_NAME} starting"
    );
    let shutdown = tanksim_server::shutdown_signal();
    tanksim_worker::run(config.settings, queue, store, results, listener, shutdown).await
}
