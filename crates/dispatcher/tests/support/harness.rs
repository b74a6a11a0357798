//! A dispatcher served in-process on `127.0.0.1:0` over memory backends, and helpers.

#![allow(clippy::unwrap_used, dead_code)] // helpers outside #[test] fns; each test binary uses some

use std::time::Duration;

use tanksim_broker::{MemoryQueue, MemoryStore};
use tanksim_dispatcher::DispatcherSettings;
use tanksim_proto::internal::v1::DispatchJobRequest;
use tanksim_proto::internal::v1::dispatcher_service_client::DispatcherServiceClient;
use tanksim_proto::v1::SubmitJobRequest;
use tanksim_sim_core::canonical::mc_tau_job;
use tonic::transport::Channel;

pub(crate) struct Running {
    pub(crate) client: DispatcherServiceClient<Channel>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    pub(crate) async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        let _ = self.task.await;
    }
}

pub(crate) async fn start(queue: MemoryQueue, store: MemoryStore, settings: DispatcherSettings) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        tanksim_dispatcher::run(settings, queue, store, listener, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap().connect_lazy();
    Running { client: DispatcherServiceClient::new(channel), stop: Some(tx), task }
}

pub(crate) fn mc_tau_spec(runs: u64) -> SubmitJobRequest {
    let mut spec = SubmitJobRequest::from(&mc_tau_job(runs, 42));
    spec.name = "mc-tau".into();
    spec
}

/// A call acting for `tenant_name` (as the gateway makes them).
pub(crate) fn as_tenant<T>(tenant_name: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    tanksim_server::tenant::insert(request.metadata_mut(), tenant_name).unwrap();
    request
}

/// A DispatchJob call of `tenant_name` for an MC-tau job of `runs` runs.
pub(crate) fn dispatch(tenant_name: &str, runs: u64) -> tonic::Request<DispatchJobRequest> {
    as_tenant(tenant_name, DispatchJobRequest { spec: Some(mc_tau_spec(runs)) })
}

pub(crate) async fn wait_for<F: std::future::Future<Output = bool>>(mut check: impl FnMut() -> F) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "condition not met within 10 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Settings with `chunk_size` and `enqueue_batch`, the rest default.
pub(crate) fn settings(chunk_size: u64, enqueue_batch: u32) -> DispatcherSettings {
    DispatcherSettings { chunk_size, enqueue_batch, ..DispatcherSettings::default() }
}
