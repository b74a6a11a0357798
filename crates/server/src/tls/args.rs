//! The TLS options: the public port's certificate ([`TlsArgs`]) and the mesh identity every
//! service has ([`MeshTlsArgs`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use super::{ClientTls, ProbePort, ServerTls, Serving};

/// TLS on a public port (the gateway, `serve all`): both files or neither (plaintext).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct TlsArgs {
    /// PEM certificate chain the public port presents (re-read when it changes).
    #[arg(long = "tls-cert", env = "TANKSIM_TLS_CERT", value_name = "PEM", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long = "tls-key", env = "TANKSIM_TLS_KEY", value_name = "PEM", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The public port's TLS, `None` for plaintext. Reads the files (and starts watching
    /// them: needs a tokio runtime).
    pub fn server(&self) -> Result<Option<ServerTls>, String> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => ServerTls::start(cert.clone(), key.clone(), None).map(Some),
            _ => Ok(None),
        }
    }
}

/// The service's identity between tanksim's services: all three files or none (plaintext,
/// for a trusted network only).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct MeshTlsArgs {
    /// PEM certificate chain naming this service's role (e.g. DNS name
    /// `worker.identity.tanksim`), presented to peers and to callers; turns mTLS on.
    #[arg(long = "mtls-cert", env = "TANKSIM_MTLS_CERT", value_name = "PEM", requires_all = ["mtls_key", "mtls_ca"])]
    pub mtls_cert: Option<PathBuf>,
    /// PEM private key of --mtls-cert.
    #[arg(long = "mtls-key", env = "TANKSIM_MTLS_KEY", value_name = "PEM", requires = "mtls_cert")]
    pub mtls_key: Option<PathBuf>,
    /// PEM CA certificate(s) that signed the services' certificates: peers are checked
    /// against it, in both directions.
    #[arg(long = "mtls-ca", env = "TANKSIM_MTLS_CA", value_name = "PEM", requires = "mtls_cert")]
    pub mtls_ca: Option<PathBuf>,
    /// Plaintext address answering gRPC health only, for the kubelet's probes (which cannot
    /// speak TLS) when this service serves TLS.
    #[arg(long = "probe-listen", env = "TANKSIM_PROBE_LISTEN", value_name = "ADDR")]
    pub probe_listen: Option<SocketAddr>,
}

impl MeshTlsArgs {
    fn files(&self) -> Option<(PathBuf, PathBuf, PathBuf)> {
        Some((self.mtls_cert.clone()?, self.mtls_key.clone()?, self.mtls_ca.clone()?))
    }

    /// Whether mTLS is configured.
    pub fn enabled(&self) -> bool {
        self.files().is_some()
    }

    /// The server side: clients must present a certificate from the CA; plaintext without
    /// mTLS. The probe port is bound now.
    pub fn serving(&self) -> Result<Serving, String> {
        let tls = self.files().map(|(cert, key, ca)| ServerTls::start(cert, key, Some(ca))).transpose()?;
        Ok(Serving { tls, probe: self.probe()? })
    }

    /// The probe port, bound (see [`ProbePort`]).
    pub fn probe(&self) -> Result<Option<ProbePort>, String> {
        self.probe_listen.map(ProbePort::bind).transpose()
    }

    /// The client side: the service's certificate for its calls to peers, which must present
    /// one from the CA. `None` without mTLS.
    pub fn client(&self) -> Result<Option<ClientTls>, String> {
        self.files().map(|(cert, key, ca)| ClientTls::start(Some(ca), Some((cert, key)))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Service {
        #[command(flatten)]
        edge: TlsArgs,
        #[command(flatten)]
        mesh: MeshTlsArgs,
    }

    #[test]
    fn files_come_together_or_not_at_all() {
        let none = Service::try_parse_from(["s"]).expect("plaintext parses");
        assert!(!none.mesh.enabled());
        assert!(none.edge.tls_cert.is_none());
        assert!(
            Service::try_parse_from(["s", "--tls-cert", "c.pem"]).is_err(),
            "a certificate without its key"
        );
        assert!(Service::try_parse_from(["s", "--tls-key", "k.pem"]).is_err());
        assert!(Service::try_parse_from(["s", "--mtls-cert", "c", "--mtls-key", "k"]).is_err(), "no CA");
        assert!(Service::try_parse_from(["s", "--mtls-ca", "ca"]).is_err());
        let mesh = Service::try_parse_from(["s", "--mtls-cert", "c", "--mtls-key", "k", "--mtls-ca", "ca"])
            .expect("all three");
        assert!(mesh.mesh.enabled());
    }
}
