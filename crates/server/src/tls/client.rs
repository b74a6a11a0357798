//! The client side: channels to `https://` peers through rustls, with the current certificate
//! for each new connection.

use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tonic::transport::{Channel, Endpoint};

use super::{RELOAD_EVERY, config};
use crate::reload::Reloading;

/// How long a connection (TCP and handshake) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A client's TLS configuration: the CAs it trusts and the certificate it presents, re-read
/// when their files change. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientTls {
    config: Arc<Reloading<ClientConfig>>,
}

impl ClientTls {
    /// Trusts the CAs in `ca` (the OS's roots without one) and presents `identity`
    /// (certificate, key) if given. Needs a tokio runtime when there are files to watch.
    pub fn start(ca: Option<PathBuf>, identity: Option<(PathBuf, PathBuf)>) -> Result<ClientTls, String> {
        let mut files: Vec<PathBuf> = ca.iter().cloned().collect();
        files.extend(identity.iter().flat_map(|(c, k)| [c.clone(), k.clone()]));
        let read =
            move || config::client(ca.as_deref(), identity.as_ref().map(|(c, k)| (c.as_path(), k.as_path())));
        let tls = Reloading::new(read()?);
        if !files.is_empty() {
            tls.poll_files("client TLS certificate", RELOAD_EVERY, files, read);
        }
        Ok(ClientTls { config: tls })
    }
}

/// A lazy channel to `url`: plaintext for `http://`, TLS with `tls` for `https://`. A URL whose
/// scheme does not match the configuration is an error (mTLS configured and a plaintext peer
/// would send the service's calls in the clear).
pub fn channel(url: &str, tls: Option<&ClientTls>) -> Result<Channel, String> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| format!("invalid address {url:?}: {e}"))?
        .connect_timeout(CONNECT_TIMEOUT)
        .tcp_nodelay(true);
    connect_lazy(endpoint, tls)
}

/// [`channel`] for an endpoint configured by the caller (timeouts, ...).
pub fn connect_lazy(endpoint: Endpoint, tls: Option<&ClientTls>) -> Result<Channel, String> {
    let url = endpoint.uri().to_string();
    match (endpoint.uri().scheme_str(), tls) {
        (Some("http"), None) => Ok(endpoint.connect_lazy()),
        (Some("https"), Some(tls)) => {
            Ok(endpoint.connect_with_connector_lazy(Connector { config: Arc::clone(&tls.config) }))
        }
        (Some("http"), Some(_)) => {
            Err(format!("{url}: plaintext, but TLS is configured for it (use https://)"))
        }
        (Some("https"), None) => Err(format!("{url}: https, but no TLS configuration for it")),
        _ => Err(format!("{url}: the scheme must be http:// or https://")),
    }
}

/// [`connect_lazy`], connecting now: a peer that cannot be reached is an error at once (the
/// CLI's first call).
pub async fn connect(endpoint: Endpoint, tls: Option<&ClientTls>) -> Result<Channel, String> {
    let url = endpoint.uri().to_string();
    let connected = match (endpoint.uri().scheme_str(), tls) {
        (Some("http"), None) => endpoint.connect().await,
        (Some("https"), Some(tls)) => {
            endpoint.connect_with_connector(Connector { config: Arc::clone(&tls.config) }).await
        }
        _ => return connect_lazy(endpoint, tls),
    };
    connected.map_err(|e| format!("cannot reach {url}: {}", source_chain(&e)))
}

/// An error with its causes ("transport error: ...: invalid peer certificate: ...").
fn source_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Connects TCP, then TLS with the server name from the URL's host.
#[derive(Debug, Clone)]
struct Connector {
    config: Arc<Reloading<ClientConfig>>,
}

type Connecting = Pin<Box<dyn Future<Output = io::Result<TokioIo<TlsStream<TcpStream>>>> + Send>>;

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = io::Error;
    type Future = Connecting;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let connector = TlsConnector::from(self.config.get());
        Box::pin(async move {
            let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
            let host = uri.host().ok_or_else(|| invalid(format!("{uri}: no host")))?;
            let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
            let port = uri.port_u16().unwrap_or(443);
            let name = ServerName::try_from(host.clone()).map_err(|e| invalid(format!("{host}: {e}")))?;
            let tcp = TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(TokioIo::new(connector.connect(name, tcp).await?))
        })
    }
}
