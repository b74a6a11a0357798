//! Prometheus metrics: the process-wide recorder (installed once, with every metric of
//! [`names::CATALOG`] described and its histogram buckets set) and the admin HTTP port
//! serving `GET /metrics` in the text exposition format.
//!
//! Services record with the `metrics` macros and the constants in [`names`]. Without an admin
//! port no recorder is installed and the macros cost next to nothing (embedded mode).

pub mod names;
mod process;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::Error;

/// How often histograms are compacted (the exporter's upkeep).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The installed recorder, with the service it was installed for.
static RECORDER: OnceLock<(PrometheusHandle, &'static str)> = OnceLock::new();

/// The admin HTTP server; dropping it stops the server.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl AdminServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Installs the recorder (first call in the process) and serves `/metrics` on `addr`.
pub fn serve_admin(
    addr: SocketAddr,
    service: &'static str,
    version: &'static str,
) -> Result<AdminServer, Error> {
    let (handle, service) = install(service, version)?;
    let std_listener =
        std::net::TcpListener::bind(addr).map_err(|source| Error::AdminBind { addr, source })?;
    std_listener.set_nonblocking(true).map_err(|source| Error::AdminBind { addr, source })?;
    let listener = TcpListener::from_std(std_listener).map_err(|source| Error::AdminBind { addr, source })?;
    let bound = listener.local_addr().map_err(|source| Error::AdminBind { addr, source })?;
    let task = tokio::spawn(accept(listener, handle.clone(), service));
    tracing::info!(addr = %bound, "serving /metrics");
    Ok(AdminServer { addr: bound, task })
}

/// The process's recorder, installing it on first use: global label `service`, every
/// histogram with its buckets, every metric described, `tanksim_build_info` set.
pub fn install(
    service: &'static str,
    version: &'static str,
) -> Result<(PrometheusHandle, &'static str), Error> {
    if let Some((handle, first)) = RECORDER.get() {
        return Ok((handle.clone(), first));
    }
    let mut builder = PrometheusBuilder::new().add_global_label(names::LABEL_SERVICE, service);
    for m in names::CATALOG.iter().filter(|m| m.kind == names::Kind::Histogram) {
        builder = builder
            .set_buckets_for_metric(Matcher::Full(m.name.to_owned()), m.buckets)
            .map_err(|e| Error::Metrics(e.to_string()))?;
    }
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        // Another recorder won a race (or a test installed one): keep using it.
        return Err(Error::Metrics("a different metrics recorder is already installed".into()));
    }
    let _ = RECORDER.set((handle.clone(), service));
    describe();
    metrics::gauge!(names::BUILD_INFO, "version" => version).set(1.0);
    let upkeep = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(UPKEEP_EVERY);
        loop {
            tick.tick().await;
            upkeep.run_upkeep();
        }
    });
    Ok((handle, service))
}

fn describe() {
    for m in names::CATALOG {
        let (name, help) = (m.name, m.help);
        match m.kind {
            names::Kind::Counter => metrics::describe_counter!(name, help),
            names::Kind::Gauge => metrics::describe_gauge!(name, help),
            names::Kind::Histogram => metrics::describe_histogram!(name, metrics::Unit::Seconds, help),
        }
    }
}

/// The full exposition: the recorder's metrics, then the process metrics read now.
pub fn render(handle: &PrometheusHandle, service: &str) -> String {
    let mut text = handle.render();
    process::render(&mut text, service);
    text
}

async fn accept(listener: TcpListener, handle: PrometheusHandle, service: &'static str) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!(error = %e, "admin port accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let handle = handle.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let response = respond(&req, &handle, service);
                async move { Ok::<_, Infallible>(response) }
            });
            let io = hyper_util::rt::TokioIo::new(stream);
            if let Err(e) = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await {
                tracing::debug!(error = %e, "admin connection ended");
            }
        });
    }
}

fn respond(
    req: &hyper::Request<Incoming>,
    handle: &PrometheusHandle,
    service: &str,
) -> hyper::Response<Full<Bytes>> {
    let reply = |status: u16, content_type: &str, body: String| {
        let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        if let Ok(value) = http::HeaderValue::from_str(content_type) {
            response.headers_mut().insert(http::header::CONTENT_TYPE, value);
        }
        response
    };
    match (req.method(), req.uri().path()) {
        (&hyper::Method::GET, "/metrics") => {
            reply(200, "text/plain; version=0.0.4; charset=utf-8", render(handle, service))
        }
        (_, "/metrics") => reply(405, "text/plain", "only GET\n".into()),
        _ => reply(404, "text/plain", "not found; metrics are at /metrics\n".into()),
    }
}
