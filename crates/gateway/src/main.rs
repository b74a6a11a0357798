//! `tanksim-gateway`: parse settings, start telemetry, serve the public API until SIGTERM.

use tanksim_gateway::auth::{AuthMode, Authenticator};
use tanksim_gateway::config::SERVICE_NAME;
use tanksim_gateway::{GatewayArgs, GatewaySettings, Peers};
use tanksim_server::Listener;
use tanksim_server::tls::Serving;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: GatewayArgs = tanksim_server::parse_or_exit();
    let (peers, serving) = match transport(&args) {
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
    // Auth is read before the port is bound: a bad keys file or an unreachable issuer is a
    // configuration error, not a gateway that refuses everyone.
    let auth = match Authenticator::from_args(&args.auth, AuthMode::Required, None).await {
        Ok(auth) => auth,
        Err(e) => {
            tracing::error!(error = %e, "auth configuration");
            telemetry.shutdown().await;
            eprintln!("{SERVICE_NAME}: {e}");
            std::process::exit(tanksim_server::EXIT_CONFIG);
        }
    };
    let listener = Listener::new(tokio::net::TcpListener::bind(args.listen).await?, serving);
    tracing::info!(addr = %listener.local_addr()?, tls = args.tls.tls_cert.is_some(), mtls = args.mesh.enabled(), metrics = ?telemetry.admin_addr(), auth = %auth.describe(), "gateway listening");
    if !auth.is_enabled() {
        tracing::warn!(
            "authentication is DISABLED: anyone who reaches this port acts as tenant \"default\" with every scope"
        );
    }
    let result = tanksim_gateway::run(
        GatewaySettings { auth, ..GatewaySettings::from(&args) },
        peers,
        listener,
        tanksim_server::shutdown_signal(),
    )
    .await;
    telemetry.shutdown().await;
    Ok(result?)
}

/// The peers (over mTLS if configured) and how the public port serves (TLS if configured, with
/// the probe port beside it).
fn transport(args: &GatewayArgs) -> Result<(Peers, Serving), String> {
    let mesh = args.mesh.client()?;
    let peers = Peers::connect_lazy(
        &args.dispatcher_url,
        &args.results_url,
        args.limits.max_message_bytes,
        mesh.as_ref(),
    )?;
    let tls = args.tls.server()?;
    let probe = if tls.is_some() { args.mesh.probe()? } else { None };
    Ok((peers, Serving { tls, probe }))
}
