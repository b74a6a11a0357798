//! The server side: a listener's connections after their TLS handshake, each handshake on its
//! own task (bounded in time), so a slow or silent client holds up no one else.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::server::Connected;

use super::{RELOAD_EVERY, config};
use crate::reload::Reloading;

/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections handshaken and not yet taken by the server.
const READY_BACKLOG: usize = 64;
/// After a failed accept (e.g. out of file descriptors), wait this long before the next.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// A server's TLS configuration, re-read from its files when they change. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<Reloading<ServerConfig>>,
}

impl ServerTls {
    /// Reads `cert`, `key` (and `client_ca`: clients must present a certificate it signed) and
    /// re-reads them every [`RELOAD_EVERY`] once changed. Needs a tokio runtime.
    pub fn start(cert: PathBuf, key: PathBuf, client_ca: Option<PathBuf>) -> Result<ServerTls, String> {
        Self::start_every(cert, key, client_ca, RELOAD_EVERY)
    }

    pub(crate) fn start_every(
        cert: PathBuf,
        key: PathBuf,
        client_ca: Option<PathBuf>,
        every: Duration,
    ) -> Result<ServerTls, String> {
        let what = if client_ca.is_some() { "mTLS certificate" } else { "TLS certificate" };
        let mut files = vec![cert.clone(), key.clone()];
        files.extend(client_ca.clone());
        let read = move || config::server(&cert, &key, client_ca.as_deref());
        let tls = Reloading::new(read()?);
        tls.poll_files(what, every, files, read);
        Ok(ServerTls { config: tls })
    }

    /// `listener`'s connections, handshaken with the configuration current when each arrived.
    /// Failed handshakes (a plaintext client, an unknown certificate) are logged and dropped.
    /// Accepting stops when the stream is dropped.
    pub fn incoming(&self, listener: TcpListener) -> impl Stream<Item = io::Result<TlsConnection>> + use<> {
        let (ready, taken) = mpsc::channel(READY_BACKLOG);
        let config = Arc::clone(&self.config);
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = ready.closed() => return,
                    accepted = listener.accept() => accepted,
                };
                let (tcp, peer) = match accepted {
                    Ok(conn) => conn,
                    Err(error) => {
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let _ = tcp.set_nodelay(true);
                let acceptor = TlsAcceptor::from(config.get());
                let ready = ready.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send(Ok(TlsConnection { stream: tls })).await;
                        }
                        Ok(Err(error)) => tracing::info!(%peer, %error, "TLS handshake failed"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        ReceiverStream::new(taken)
    }
}

/// A plaintext port answering health only (see [`crate::Shell::serving`]), bound when the
/// settings are read so a taken port is a configuration error. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ProbePort(Arc<std::net::TcpListener>);

impl ProbePort {
    pub fn bind(addr: SocketAddr) -> Result<ProbePort, String> {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| format!("probe port {addr}: {e}"))?;
        listener.set_nonblocking(true).map_err(|e| format!("probe port {addr}: {e}"))?;
        Ok(ProbePort(Arc::new(listener)))
    }

    /// The bound address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }

    pub(crate) fn listener(&self) -> io::Result<TcpListener> {
        TcpListener::from_std(self.0.try_clone()?)
    }
}

/// How a service serves its port: TLS or plaintext, and the probe port beside a TLS one.
#[derive(Debug, Clone, Default)]
pub struct Serving {
    pub tls: Option<ServerTls>,
    pub probe: Option<ProbePort>,
}

/// A handshaken connection. Each request on it carries a [`PeerInfo`] in its extensions.
#[derive(Debug)]
pub struct TlsConnection {
    stream: TlsStream<TcpStream>,
}

/// Who is at the other end of a TLS connection: a request extension.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    pub remote_addr: Option<SocketAddr>,
    /// The certificate chain the client presented (leaf first), if any.
    pub certs: Option<Arc<[CertificateDer<'static>]>>,
}

impl Connected for TlsConnection {
    type ConnectInfo = PeerInfo;

    fn connect_info(&self) -> PeerInfo {
        let (tcp, session) = self.stream.get_ref();
        PeerInfo { remote_addr: tcp.peer_addr().ok(), certs: session.peer_certificates().map(Arc::from) }
    }
}

impl AsyncRead for TlsConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConnection {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
