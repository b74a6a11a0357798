//! `tanksim-gateway`: parse settings, start telemetry, serve the public API until SIGTERM.

use tanksim_gateway::config::SERVICE_NAME;
use tanksim_gateway::{GatewayArgs, GatewaySettings, Peers};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: GatewayArgs = tanksim_server::parse_or_exit();
    let peers = match Peers::connect_lazy(&args.dispatcher_url, &args.results_url, args.max_message_bytes) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{SERVICE_NAME}: {e}");
            std::process::exit(tanksim_server::EXIT_CONFIG);
        }
    };
    let telemetry =
        match tanksim_telemetry::init(&args.telemetry.config(SERVICE_NAME, env!("CARGO_PKG_VERSION"))) {
            Ok(guard) => guard,
            Err(e) => {
                eprintln!("{SERVICE_NAME}: {e}");
                std::process::exit(1);
            }
        };
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    tracing::info!(addr = %listener.local_addr()?, metrics = ?telemetry.admin_addr(), "gateway listening");
    let result = tanksim_gateway::run(
        GatewaySettings::from(&args),
        peers,
        listener,
        tanksim_server::shutdown_signal(),
    )
    .await;
    telemetry.shutdown().await;
    Ok(result?)
}
