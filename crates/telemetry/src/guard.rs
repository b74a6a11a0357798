//! The handle a service keeps until exit: flushing spans and closing the admin port.

use std::net::SocketAddr;

use opentelemetry_sdk::trace::SdkTracerProvider;

use crate::metrics::AdminServer;

/// Keeps telemetry alive; [`Guard::shutdown`] flushes what is buffered.
#[derive(Debug)]
#[must_use = "dropping the guard stops the admin port; call shutdown() to flush spans"]
pub struct Guard {
    service: &'static str,
    provider: Option<SdkTracerProvider>,
    admin: Option<AdminServer>,
}

impl Guard {
    pub(crate) fn new(
        service: &'static str,
        provider: Option<SdkTracerProvider>,
        admin: Option<AdminServer>,
    ) -> Self {
        Guard { service, provider, admin }
    }

    /// Where `/metrics` is served (the bound address, also when configured with port 0).
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin.as_ref().map(AdminServer::addr)
    }

    /// Exports the spans still buffered and stops (call last, within the shutdown grace
    /// period). Takes at most the exporter's timeout. The flush blocks a thread of Tokio's
    /// blocking pool, not a runtime worker, which the gRPC export itself needs (a pod limited
    /// to one CPU runs one worker).
    pub async fn shutdown(mut self) {
        if let Some(provider) = self.provider.take() {
            let service = self.service;
            let flushed = tokio::task::spawn_blocking(move || {
                if let Err(e) = provider.force_flush() {
                    eprintln!("{service}: flushing spans failed: {e}");
                }
                let _ = provider.shutdown();
            });
            let _ = flushed.await;
        }
        drop(self.admin.take());
    }
}
