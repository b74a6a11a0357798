//! `tanksim-dispatcher`: parse settings, start telemetry, connect Redis, serve until SIGTERM,
//! flush telemetry.

use tanksim_broker::{RedisQueue, RedisStore};
use tanksim_dispatcher::{DispatcherArgs, DispatcherSettings};
use tanksim_server::Listener;

const SERVICE: &str = "tanksim-dispatcher";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: DispatcherArgs = tanksim_server::parse_or_exit();
    let telemetry = match tanksim_telemetry::init(&args.telemetry.config(SERVICE, env!("CARGO_PKG_VERSION")))
    {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("{SERVICE}: {e}");
            std::process::exit(1);
        }
    };
    let result = serve(&args).await;
    if let Err(e) = &result {
        tracing::error!(error = format!("{e:#}"), "dispatcher stopped on an error");
    }
    telemetry.shutdown().await;
    result
}

async fn serve(args: &DispatcherArgs) -> anyhow::Result<()> {
    let queue = RedisQueue::connect(&args.redis_url).await?;
    let store = RedisStore::connect(&args.redis_url).await?;
    let serving = match args.mesh.serving() {
        Ok(serving) => serving,
        Err(e) => {
            eprintln!("{SERVICE}: {e}");
            std::process::exit(tanksim_server::EXIT_CONFIG);
        }
    };
    let listener = Listener::new(tokio::net::TcpListener::bind(args.listen).await?, serving);
    tracing::info!(addr = %listener.local_addr()?, mtls = args.mesh.enabled(), "dispatcher listening");
    let settings = DispatcherSettings::from(args);
    tanksim_dispatcher::run(settings, queue, store, listener, tanksim_server::shutdown_signal()).await?;
    Ok(())
}
