//! Shutdown signals. Kubernetes sends SIGTERM and waits for the grace period before SIGKILL:
//! services stop taking work when this resolves and finish or hand back what is in flight.

/// Resolves on the first SIGTERM or SIGINT (Ctrl-C), logging which.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutting down"),
                    _ = int.recv() => tracing::info!(signal = "SIGINT", "shutting down"),
                }
            }
            _ => {
                tracing::warn!("cannot install signal handlers; shutting down only on Ctrl-C");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!(signal = "Ctrl-C", "shutting down");
    }
}
