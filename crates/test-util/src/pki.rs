//! A test certificate authority: a CA and the certificates it signs, as PEM files in a
//! directory of their own (the layout of a Kubernetes TLS Secret: certificate, key, CA).

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};

/// A CA that signs certificates for tests. The files go when it is dropped.
pub struct Pki {
    dir: tempfile::TempDir,
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").field("dir", &self.dir.path()).finish_non_exhaustive()
    }
}

/// A certificate and its key, as files.
#[derive(Debug, Clone)]
pub struct Issued {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Pki {
    /// A new CA (P-256), its certificate written to [`Pki::ca`].
    pub fn new() -> Pki {
        let dir = tempfile::tempdir().expect("a directory for the test PKI");
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "tanksim test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("a CA key");
        let ca = CertifiedIssuer::self_signed(params, key).expect("a self-signed CA");
        write(&dir.path().join("ca.crt"), &ca.pem());
        Pki { dir, ca }
    }

    /// The CA certificate's file.
    pub fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A certificate for `names` (DNS names or IP addresses), good for servers and clients,
    /// in `<file>.crt` and `<file>.key` (replaced, by a rename like a Secret's update, if
    /// they exist).
    pub fn issue(&self, file: &str, names: &[&str]) -> Issued {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("valid names");
        params.distinguished_name.push(DnType::CommonName, file);
        params.extended_key_usages =
            vec![ExtendedKeyUsagePurpose::ServerAuth, ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.ca).expect("signed");
        let issued = Issued {
            cert: self.dir.path().join(format!("{file}.crt")),
            key: self.dir.path().join(format!("{file}.key")),
        };
        write(&issued.key, &key.serialize_pem());
        write(&issued.cert, &cert.pem());
        issued
    }

    /// The certificate of a tanksim service's role (`gateway`, `worker`, ...): its identity
    /// name `<role>.identity.tanksim`, and `localhost` / `127.0.0.1` to serve on loopback.
    pub fn role(&self, role: &str) -> Issued {
        self.issue(role, &[&format!("{role}.identity.tanksim"), "localhost", "127.0.0.1"])
    }
}

fn write(path: &Path, contents: &str) {
    let staged = path.with_extension("staged");
    std::fs::write(&staged, contents).expect("write a PEM file");
    std::fs::rename(&staged, path).expect("move it in place");
}
