//! `rediss://` URLs: the broker's connections over TLS to a real `redis-server` serving TLS
//! with tanksim's users (certificates from the test CA), the server's certificate checked
//! against the roots rustls-native-certs loads, which `$SSL_CERT_FILE` names. Each client runs
//! in a child process of this test (the same test, with the URL and the roots in its
//! environment), since those roots are read from the process environment.

#![allow(clippy::unwrap_used)]

// Shared with tests/acl.rs, which uses all of it.
#[allow(dead_code)]
#[path = "acl_support/users.rs"]
mod users;

use std::ffi::OsString;
use std::process::{Command, Output};

use tanksim_broker::{ApiKey, JobKind, JobStore, KeyStore, NewJob, RedisKeys, RedisStore};
use tanksim_test_util::pki::Pki;
use users::Users;

/// Set in a child: the `rediss://` URL to use as user `dispatcher`, and the gateway's.
const CHILD_DISPATCHER_URL: &str = "TANKSIM_TEST_REDISS_DISPATCHER_URL";
const CHILD_KEYS_ADMIN_URL: &str = "TANKSIM_TEST_REDISS_KEYS_ADMIN_URL";
const TEST: &str = "rediss_urls_connect_over_tls_to_the_certificate_ssl_cert_file_trusts";

#[tokio::test]
async fn rediss_urls_connect_over_tls_to_the_certificate_ssl_cert_file_trusts() {
    if let (Ok(dispatcher), Ok(keys_admin)) =
        (std::env::var(CHILD_DISPATCHER_URL), std::env::var(CHILD_KEYS_ADMIN_URL))
    {
        return child(&dispatcher, &keys_admin).await;
    }
    let pki = Pki::new();
    let server_cert = pki.issue("redis", &["localhost", "127.0.0.1"]);
    let tls_port = tanksim_test_util::free_port();
    let args: Vec<OsString> = vec![
        "--tls-port".into(),
        tls_port.to_string().into(),
        "--tls-cert-file".into(),
        server_cert.cert.into(),
        "--tls-key-file".into(),
        server_cert.key.into(),
        "--tls-ca-cert-file".into(),
        pki.ca().into(),
        "--tls-auth-clients".into(),
        "no".into(),
    ];
    let _server = Users::start_with_args(&users::committed_rules(), args);
    let url = |role: &str, scheme: &str| {
        format!("{scheme}://{role}:{}@localhost:{tls_port}", users::password(role))
    };
    let urls = |scheme: &str| (url("dispatcher", scheme), url("keys-admin", scheme));

    let trusted = run_child(urls("rediss"), &pki.ca());
    assert!(trusted.status.success(), "over TLS, trusting the test CA:\n{}", stderr(&trusted));

    let other_ca = Pki::new();
    let untrusted = run_child(urls("rediss"), &other_ca.ca());
    assert!(!untrusted.status.success(), "a server certificate from an unknown CA was accepted");
    assert!(
        stderr(&untrusted).contains("invalid peer certificate"),
        "refused for its certificate:\n{}",
        stderr(&untrusted)
    );

    let plaintext = run_child(urls("redis"), &pki.ca());
    assert!(!plaintext.status.success(), "plaintext to the TLS port got through");
}

/// As `dispatcher` and `keys-admin`: a job created and read back, an API key stored and read.
async fn child(dispatcher: &str, keys_admin: &str) {
    let store = RedisStore::connect(dispatcher).await.expect("the dispatcher connects over TLS");
    store.ping().await.unwrap();
    let job = NewJob {
        id: "tls".to_owned(),
        tenant: "acme".to_owned(),
        name: "over TLS".to_owned(),
        kind: JobKind::MonteCarlo,
        spec: b"spec".to_vec(),
        runs_total: 10,
        chunk_size: 10,
        chunks_total: 1,
        chunks_released: 1,
        submitted_at_ms: 1_700_000_000_000,
        trace_context: Vec::new(),
    };
    store.create_job(&job).await.unwrap();
    assert_eq!(store.job("tls").await.unwrap().unwrap().name, "over TLS");
    let keys = RedisKeys::connect(keys_admin).await.expect("keys-admin connects over TLS");
    let key = ApiKey {
        sha256: "e".repeat(64),
        tenant: "acme".to_owned(),
        name: "tls".to_owned(),
        scopes: Vec::new(),
        created_at_ms: 1,
        expires_at_ms: None,
    };
    keys.put_key(&key).await.unwrap();
    assert_eq!(keys.list_keys(None).await.unwrap(), [key]);
}

/// This test again, as a child whose only roots are those of `roots`.
fn run_child((dispatcher, keys_admin): (String, String), roots: &std::path::Path) -> Output {
    Command::new(std::env::current_exe().unwrap())
        .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DISPATCHER_URL, dispatcher)
        .env(CHILD_KEYS_ADMIN_URL, keys_admin)
        .env("SSL_CERT_FILE", roots)
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("the test binary runs")
}

fn stderr(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}
