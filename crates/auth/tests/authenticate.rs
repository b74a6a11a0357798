//! The authenticator against every kind of credential, good and bad: API keys from the store
//! and from a bootstrap file, JWTs signed RS256 and ES256 against a JWKS file and URL. Each
//! refusal asserts its code (UNAUTHENTICATED or PERMISSION_DENIED) and its reason.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use clap::Parser;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use tanksim_auth::api_key::{generate, record, sha256_hex};
use tanksim_auth::{AuthArgs, AuthError, AuthMode, Authenticator, Credential, Scope, Scopes, StoredKeys};
use tanksim_broker::{KeyStore, MemoryKeys};
use tanksim_test_util::oidc::{self, AUDIENCE, ISSUER, Signer, jwks};
use tonic::metadata::{MetadataMap, MetadataValue};

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    auth: AuthArgs,
}

fn args(flags: &[&str]) -> AuthArgs {
    Args::try_parse_from(std::iter::once("t").chain(flags.iter().copied())).expect("flags parse").auth
}

fn bearer(token: &str) -> MetadataMap {
    let mut m = MetadataMap::new();
    m.insert("authorization", MetadataValue::try_from(format!("Bearer {token}")).unwrap());
    m
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn unauthenticated(result: Result<tanksim_auth::Principal, AuthError>, says: &str) {
    match result {
        Err(AuthError::Unauthenticated(m)) => assert!(m.contains(says), "{m:?} should say {says:?}"),
        other => panic!("expected UNAUTHENTICATED ({says}), got {other:?}"),
    }
}

async fn with_keys(keys: &MemoryKeys) -> Authenticator {
    Authenticator::start(&args(&[]), AuthMode::Required, StoredKeys::Memory(keys.clone())).await.unwrap()
}

#[tokio::test]
async fn stored_api_keys_authenticate_until_revoked_or_expired() {
    let keys = MemoryKeys::new();
    let auth = with_keys(&keys).await;
    let key = generate().unwrap();
    let scopes = Scopes::parse_strict(&["jobs:submit", "jobs:read"]).unwrap();
    let stored = record(&key, "acme", "ci", scopes, 1, None).unwrap();
    keys.put_key(&stored).await.unwrap();

    let p = auth.authenticate(&bearer(&key)).await.unwrap();
    assert_eq!((p.tenant.as_str(), p.subject.as_str(), p.scopes), ("acme", "ci", scopes));
    assert_eq!(p.credential, Credential::ApiKey { id: stored.id().to_owned() });
    assert!(p.require(Scope::JobsRead).is_ok());
    assert!(
        matches!(p.require(Scope::JobsCancel), Err(AuthError::PermissionDenied(m)) if m.contains("jobs:cancel"))
    );

    // Any other key, even one differing in the last character, is unknown.
    let mut near = key.clone();
    near.pop();
    near.push(if key.ends_with('A') { 'B' } else { 'A' });
    unauthenticated(auth.authenticate(&bearer(&near)).await, "unknown or revoked");

    let expired_key = generate().unwrap();
    keys.put_key(&record(&expired_key, "acme", "old", scopes, 1, Some(2)).unwrap()).await.unwrap();
    unauthenticated(auth.authenticate(&bearer(&expired_key)).await, "expired");

    keys.revoke_key(stored.id()).await.unwrap();
    unauthenticated(auth.authenticate(&bearer(&key)).await, "unknown or revoked");
}

#[tokio::test]
async fn malformed_or_missing_authorization_is_unauthenticated() {
    let auth = with_keys(&MemoryKeys::new()).await;
    unauthenticated(auth.authenticate(&MetadataMap::new()).await, "no credentials");
    for value in ["tsk_abc", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer", "bearer    "] {
        let mut m = MetadataMap::new();
        m.insert("authorization", MetadataValue::try_from(value).unwrap());
        unauthenticated(auth.authenticate(&m).await, "not `Bearer <token>`");
    }
    // The scheme is case-insensitive (RFC 7235).
    let mut m = MetadataMap::new();
    m.insert("authorization", MetadataValue::from_static("bEaReR tsk_nope"));
    unauthenticated(auth.authenticate(&m).await, "unknown or revoked");
    unauthenticated(auth.authenticate(&bearer("eyJhbGciOi.x.y")).await, "no OIDC issuer");
}

#[tokio::test]
async fn disabled_auth_makes_everyone_the_default_tenant_and_required_auth_needs_a_source() {
    let off = Authenticator::start(&args(&["--auth", "disabled"]), AuthMode::Required, StoredKeys::None)
        .await
        .unwrap();
    let p = off.authenticate(&MetadataMap::new()).await.unwrap();
    assert_eq!(
        (p.tenant.as_str(), p.scopes, p.credential),
        ("default", Scopes::all(), Credential::Anonymous)
    );
    let err = Authenticator::start(&args(&[]), AuthMode::Required, StoredKeys::None).await.unwrap_err();
    assert!(matches!(err, AuthError::Config(m) if m.contains("no credential source")));
    // Not required by default (serve all) and no source: off.
    assert!(
        !Authenticator::start(&args(&[]), AuthMode::Disabled, StoredKeys::None).await.unwrap().is_enabled()
    );
    assert!(Args::try_parse_from(["t", "--auth", "maybe"]).is_err());
}

fn write(path: &Path, text: &str) {
    // Write then rename, as a Secret volume update does, so a reader never sees half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn key_line(tenant: &str, key: &str, scopes: &[&str]) -> String {
    json!({"tenant": tenant, "name": "bootstrap", "scopes": scopes, "sha256": sha256_hex(key)}).to_string()
}

async fn eventually<F: AsyncFnMut() -> bool>(mut check: F) -> bool {
    for _ in 0..100 {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn the_bootstrap_file_is_read_at_start_and_again_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.jsonl");
    let (first, second) = (generate().unwrap(), generate().unwrap());
    write(&path, &format!("# bootstrap keys\n{}\n", key_line("acme", &first, &["admin"])));
    let file = path.to_str().unwrap();
    let auth = Authenticator::start(
        &args(&["--api-keys-file", file, "--auth-reload-seconds", "1"]),
        AuthMode::Disabled,
        StoredKeys::None,
    )
    .await
    .unwrap();
    assert!(auth.is_enabled(), "a keys file turns auth on");
    assert!(auth.describe().contains("1 keys"), "{}", auth.describe());
    let p = auth.authenticate(&bearer(&first)).await.unwrap();
    assert_eq!(p.tenant, "acme");
    assert!(p.scopes.allows(Scope::JobsCancel), "admin allows everything");
    unauthenticated(auth.authenticate(&bearer(&second)).await, "unknown");

    // Rotated: the second key replaces the first.
    write(&path, &key_line("beta", &second, &["jobs:read"]));
    assert!(
        eventually(async || auth.authenticate(&bearer(&second)).await.is_ok()).await,
        "the new key is picked up"
    );
    unauthenticated(auth.authenticate(&bearer(&first)).await, "unknown");

    // A broken version keeps the last good one.
    write(&path, "{not json");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(auth.authenticate(&bearer(&second)).await.unwrap().tenant, "beta");

    // A bad file at start is an error (the service must not start).
    write(&path, &key_line("Bad Tenant", &first, &["admin"]));
    let err = Authenticator::start(&args(&["--api-keys-file", file]), AuthMode::Required, StoredKeys::None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AuthError::Config(m) if m.contains("line 1") && m.contains("invalid tenant")),
        "{err:?}"
    );
}

fn claims(tenant: &str, scope: Value) -> Value {
    let mut c = oidc::claims(tenant, "", 300);
    c["scope"] = scope;
    c
}

async fn oidc(jwks_at: &str, extra: &[&str]) -> Authenticator {
    let mut flags = vec![
        "--oidc-issuer",
        ISSUER,
        "--oidc-audience",
        AUDIENCE,
        "--oidc-jwks",
        jwks_at,
        "--auth-reload-seconds",
        "1",
    ];
    flags.extend_from_slice(extra);
    Authenticator::start(&args(&flags), AuthMode::Required, StoredKeys::None).await.unwrap()
}

#[tokio::test]
async fn jwts_are_verified_for_signature_issuer_audience_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let (rsa, ec) = (Signer::rs256("rsa-1"), Signer::es256("ec-1"));
    write(&path, &jwks(&[&rsa, &ec]));
    let auth = oidc(path.to_str().unwrap(), &[]).await;

    for signer in [&rsa, &ec] {
        let p = auth
            .authenticate(&bearer(&signer.sign(&claims("acme", json!("openid jobs:read jobs:submit")))))
            .await
            .unwrap();
        assert_eq!((p.tenant.as_str(), p.subject.as_str()), ("acme", "user-17"));
        assert_eq!(
            p.scopes,
            Scopes::parse_strict(&["jobs:read", "jobs:submit"]).unwrap(),
            "unknown scopes ignored"
        );
        assert_eq!(p.credential, Credential::Jwt { issuer: ISSUER.to_owned() });
    }

    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = claims("acme", json!("jobs:read"));
        f(c.as_object_mut().unwrap());
        ec.sign(&c)
    };
    unauthenticated(
        auth.authenticate(&bearer(&with(&|c| {
            c.insert("exp".into(), json!(now() - 120));
        })))
        .await,
        "expired",
    );
    unauthenticated(
        auth.authenticate(&bearer(&with(&|c| {
            c.insert("nbf".into(), json!(now() + 600));
        })))
        .await,
        "not valid yet",
    );
    unauthenticated(
        auth.authenticate(&bearer(&with(&|c| {
            c.insert("aud".into(), json!("another-api"));
        })))
        .await,
        "wrong audience",
    );
    unauthenticated(
        auth.authenticate(&bearer(&with(&|c| {
            c.insert("iss".into(), json!("https://evil.test"));
        })))
        .await,
        "wrong issuer",
    );
    unauthenticated(
        auth.authenticate(&bearer(&with(&|c| {
            c.remove("exp");
        })))
        .await,
        "required claim",
    );
    // Within the leeway, an expired token still passes (clock skew).
    assert!(
        auth.authenticate(&bearer(&with(&|c| {
            c.insert("exp".into(), json!(now() - 5));
        })))
        .await
        .is_ok()
    );

    // Signed by a key the issuer does not have, under a kid it does have.
    let impostor = Signer::es256("ec-1");
    unauthenticated(
        auth.authenticate(&bearer(&impostor.sign(&claims("acme", json!("admin"))))).await,
        "bad signature",
    );
    unauthenticated(
        auth.authenticate(&bearer(&Signer::es256("ec-9").sign(&claims("acme", json!("admin"))))).await,
        "no key",
    );
    // A tampered payload.
    let token = ec.sign(&claims("acme", json!("jobs:read")));
    let parts: Vec<&str> = token.split('.').collect();
    let forged_payload =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims("other", json!("admin")).to_string());
    unauthenticated(
        auth.authenticate(&bearer(&format!("{}.{forged_payload}.{}", parts[0], parts[2]))).await,
        "bad signature",
    );
    // HS256 with the public key as the secret, and `none`: the classic forgeries.
    let hs = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims("acme", json!("admin")),
        &EncodingKey::from_secret(jwks(&[&ec]).as_bytes()).unwrap(),
    )
    .unwrap();
    unauthenticated(auth.authenticate(&bearer(&hs)).await, "only RS256 and ES256");
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims("acme", json!("admin")).to_string())
    );
    unauthenticated(auth.authenticate(&bearer(&none)).await, "invalid token");

    // Valid but without a tenant: known caller, not allowed.
    let mut no_tenant = claims("acme", json!("admin"));
    no_tenant.as_object_mut().unwrap().remove("tenant");
    assert!(
        matches!(auth.authenticate(&bearer(&ec.sign(&no_tenant))).await, Err(AuthError::PermissionDenied(m)) if m.contains("\"tenant\""))
    );
    assert!(matches!(
        auth.authenticate(&bearer(&ec.sign(&claims("../acme", json!("admin"))))).await,
        Err(AuthError::PermissionDenied(m)) if m.contains("invalid tenant")
    ));
}

#[tokio::test]
async fn claim_names_are_configurable_and_array_scopes_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let ec = Signer::es256("k");
    write(&path, &jwks(&[&ec]));
    let auth =
        oidc(path.to_str().unwrap(), &["--oidc-tenant-claim", "org", "--oidc-scopes-claim", "scp"]).await;
    let token = ec.sign(&json!({"iss": ISSUER, "aud": [AUDIENCE, "other"], "exp": now() + 60, "org": "team-7", "scp": ["jobs:cancel", "x"]}));
    let p = auth.authenticate(&bearer(&token)).await.unwrap();
    assert_eq!((p.tenant.as_str(), p.scopes.names()), ("team-7", vec!["jobs:cancel"]));
}

#[tokio::test]
async fn a_rotated_jwks_file_is_picked_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jwks.json");
    let (old, new) = (Signer::es256("2026-01"), Signer::es256("2026-02"));
    write(&path, &jwks(&[&old]));
    let auth = oidc(path.to_str().unwrap(), &[]).await;
    let new_token = new.sign(&claims("acme", json!("jobs:read")));
    unauthenticated(auth.authenticate(&bearer(&new_token)).await, "no key");
    write(&path, &jwks(&[&new]));
    assert!(eventually(async || auth.authenticate(&bearer(&new_token)).await.is_ok()).await);
    unauthenticated(
        auth.authenticate(&bearer(&old.sign(&claims("acme", json!("jobs:read"))))).await,
        "no key",
    );
}

/// A JWKS over HTTP on loopback that counts its requests.
async fn jwks_server(body: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/protocol/openid-connect/certs", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn a_jwks_url_is_fetched_and_unknown_kids_cannot_make_it_refetch_in_a_loop() {
    let ec = Signer::es256("live");
    let (url, hits) = jwks_server(jwks(&[&ec])).await;
    let auth = oidc(&url, &[]).await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(
        auth.authenticate(&bearer(&ec.sign(&claims("acme", json!("jobs:read"))))).await.unwrap().tenant,
        "acme"
    );
    for i in 0..50 {
        let forged = Signer::es256(&format!("forged-{i}")).sign(&claims("acme", json!("admin")));
        unauthenticated(auth.authenticate(&bearer(&forged)).await, "no key");
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "no refetch within 30 s of the last");
    // An issuer that cannot be reached at start: the service must not start.
    let err = Authenticator::start(
        &args(&[
            "--oidc-issuer",
            ISSUER,
            "--oidc-audience",
            AUDIENCE,
            "--oidc-jwks",
            "http://127.0.0.1:9/certs",
        ]),
        AuthMode::Required,
        StoredKeys::None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, AuthError::Config(m) if m.contains("JWKS")));
}
