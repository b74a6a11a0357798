//! `tanksim-dispatcher`: parse settings, start telemetry, connect Redis, serve until SIGTERM.

use tanksim_broker::{RedisQueue, RedisStore};
use tanksim_dispatcher::{DispatcherArgs, DispatcherSettings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: DispatcherArgs = tanksim_server::parse_or_exit();
    let telemetry = tanksim_telemetry::init(&tanksim_telemetry::TelemetryConfig {
        service: "tanksim-dispatcher",
        log_format: args.log_format,
        filter: args.log_filter.clone(),
    });
    let queue = RedisQueue::connect(&args.redis_url).await?;
    let store = RedisStore::connect(&args.redis_url).await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, "dispatcher listening");
    let result = tanksim_dispatcher::run(
        DispatcherSettings::from(&args),
        queue,
        store,
        listener,
        tanksim_server::shutdown_signal(),
    )
    .await;
    telemetry.shutdown();
    Ok(result?)
}
