//! The gateway with an in-process dispatcher and results service behind it (memory backends,
//! real sockets), shared by the gateway's integration tests.

#![allow(clippy::unwrap_used)] // a failed setup step should just fail the test
#![allow(dead_code)] // each test binary uses its part

use std::time::Duration;

use tanksim_broker::{MemoryQueue, MemoryStore};
use tanksim_dispatcher::DispatcherSettings;
use tanksim_gateway::{GatewaySettings, Peers};
use tanksim_server::QuotaBook;
use tonic::transport::Channel;

/// The gateway with a dispatcher and a results service behind it; stops when dropped.
pub(crate) struct Stack {
    pub(crate) channel: Channel,
    /// The job store the dispatcher and the results service share.
    pub(crate) store: MemoryStore,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn listen() -> (tokio::net::TcpListener, String) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    (l, url)
}

/// With the default settings.
pub(crate) async fn stack() -> Stack {
    stack_with(GatewaySettings::default()).await
}

/// With `gateway`'s settings; the dispatcher enforces the same quotas.
pub(crate) async fn stack_with(gateway: GatewaySettings) -> Stack {
    let (queue, store) = (MemoryQueue::new(), MemoryStore::new());
    let (stop, rx) = tokio::sync::watch::channel(false);
    let until = move || {
        let mut rx = rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let (dl, durl) = listen().await;
    let dispatcher = DispatcherSettings { quotas: gateway.quotas.clone(), ..Default::default() };
    tokio::spawn(tanksim_dispatcher::run(dispatcher, queue, store.clone(), dl, until()));
    let (rl, rurl) = listen().await;
    let data = tempfile::tempdir().unwrap().keep();
    let settings = tanksim_results::ResultsSettings::new(data, Duration::from_millis(200)).unwrap();
    tokio::spawn(tanksim_results::run(settings, store.clone(), rl, until()));
    let (gl, gurl) = listen().await;
    let peers = Peers::connect_lazy(&durl, &rurl, 1 << 24, None).unwrap();
    tokio::spawn(tanksim_gateway::run(gateway, peers, gl, until()));
    let channel = tonic::transport::Endpoint::from_shared(gurl).unwrap().connect_lazy();
    Stack { channel, store, _stop: stop }
}

/// Fixed quotas as the quotas file `yaml` gives them.
pub(crate) fn quotas(yaml: &str) -> QuotaBook {
    QuotaBook::from_yaml(yaml).unwrap()
}
