//! JWTs from an OIDC issuer: RS256 or ES256 signatures verified against the issuer's JWKS,
//! `iss`, `aud` and `exp` required and checked (`nbf` when present), the tenant and scopes
//! read from configurable claims.
//!
//! Only the two asymmetric algorithms are accepted: `none` and the HMAC family never are (an
//! HS256 token "signed" with a public key is the classic JWT forgery). The signing key is
//! chosen by the token's `kid`; a `kid` not in the set makes a JWKS URL be fetched again (at
//! most every [`REFETCH_MIN_INTERVAL`], so forged `kid`s cannot make tanksim hammer the
//! issuer), which is how a rotated key is picked up before the periodic refresh.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::error::AuthError;
use crate::principal::{Credential, Principal};
use crate::reload::Reloading;
use crate::scope::Scopes;

/// Least time between two fetches of a JWKS URL caused by unknown `kid`s.
pub const REFETCH_MIN_INTERVAL: Duration = Duration::from_secs(30);
/// Largest JWKS document read.
const MAX_JWKS_BYTES: usize = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the issuer's signing keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JWKS JSON file (e.g. mounted from a ConfigMap), re-read when it changes.
    File(PathBuf),
    /// The issuer's `jwks_uri` (`https://...`; `http://` only for loopback tests).
    Url(String),
}

impl JwksSource {
    /// A URL when `s` starts with `http://` or `https://`, a file path otherwise.
    pub fn parse(s: &str) -> JwksSource {
        if s.starts_with("https://") || s.starts_with("http://") {
            JwksSource::Url(s.to_owned())
        } else {
            JwksSource::File(PathBuf::from(s))
        }
    }
}

/// How tokens are checked.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The exact `iss` tokens must carry.
    pub issuer: String,
    /// An `aud` tokens must carry (tanksim's client id at the issuer).
    pub audience: String,
    pub jwks: JwksSource,
    /// The claim naming the tenant (a string).
    pub tenant_claim: String,
    /// The claim with the scopes: a space-separated string (`scope`, RFC 8693) or an array of
    /// strings (`scp`, `roles`). Scopes tanksim does not know are ignored.
    pub scopes_claim: String,
    /// Clock skew allowed on `exp` and `nbf`.
    pub leeway: Duration,
    /// How often the JWKS is re-read.
    pub refresh: Duration,
}

/// Verifies tokens of one issuer.
#[derive(Debug)]
pub struct JwtVerifier {
    settings: OidcSettings,
    keys: Arc<Reloading<JwkSet>>,
    http: Option<reqwest::Client>,
    last_fetch: Mutex<Instant>,
}

impl JwtVerifier {
    /// Reads the JWKS (an error if it cannot be read: the service must not start without
    /// it) and keeps it fresh in the background.
    pub async fn start(settings: OidcSettings) -> Result<JwtVerifier, AuthError> {
        let http = match &settings.jwks {
            JwksSource::Url(_) => Some(http_client()?),
            JwksSource::File(_) => None,
        };
        let keys = Reloading::new(load(&settings.jwks, http.as_ref()).await.map_err(AuthError::Config)?);
        match &settings.jwks {
            JwksSource::File(path) => keys.poll_file("jwks", settings.refresh, path.clone(), read_jwks_file),
            JwksSource::Url(_) => {
                let (source, client) = (settings.jwks.clone(), http.clone());
                keys.poll("jwks", settings.refresh, move || {
                    let (source, client) = (source.clone(), client.clone());
                    async move { load(&source, client.as_ref()).await.map(Some) }
                });
            }
        }
        Ok(JwtVerifier { settings, keys, http, last_fetch: Mutex::new(Instant::now()) })
    }

    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    /// The caller a token proves, or why it proves nothing.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let invalid = |why: &str| AuthError::Unauthenticated(format!("invalid token: {why}"));
        let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("not a JWT"))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(invalid("only RS256 and ES256 signatures are accepted"));
        }
        let jwk = match self.signing_key(header.kid.as_deref(), header.alg) {
            Some(jwk) => jwk,
            None => {
                self.refetch_if_allowed().await;
                self.signing_key(header.kid.as_deref(), header.alg)
                    .ok_or_else(|| invalid("no key of the issuer matches its kid and algorithm"))?
            }
        };
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("the issuer's key is unusable"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_nbf = true;
        let claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &key, &validation)
            .map_err(|e| {
                invalid(match e.kind() {
                    ErrorKind::ExpiredSignature => "expired",
                    ErrorKind::ImmatureSignature => "not valid yet (nbf)",
                    ErrorKind::InvalidIssuer => "wrong issuer",
                    ErrorKind::InvalidAudience => "wrong audience",
                    ErrorKind::InvalidSignature => "bad signature",
                    ErrorKind::MissingRequiredClaim(_) => "a required claim (exp, iss, aud) is missing",
                    _ => "malformed",
                })
            })?
            .claims;
        self.principal(&claims)
    }

    fn principal(&self, claims: &serde_json::Map<String, Value>) -> Result<Principal, AuthError> {
        let claim = &self.settings.tenant_claim;
        let tenant = claims.get(claim).and_then(Value::as_str).ok_or_else(|| {
            AuthError::PermissionDenied(format!("the token has no {claim:?} claim naming a tenant"))
        })?;
        tanksim_server::tenant::check(tenant)
            .map_err(|e| AuthError::PermissionDenied(format!("the token's {claim:?} claim: {e}")))?;
        let scopes = match claims.get(&self.settings.scopes_claim) {
            Some(Value::String(s)) => Scopes::parse_lenient(s.split_whitespace()),
            Some(Value::Array(items)) => Scopes::parse_lenient(items.iter().filter_map(Value::as_str)),
            _ => Scopes::default(),
        };
        let subject = claims.get("sub").and_then(Value::as_str).unwrap_or("").chars().take(200).collect();
        Ok(Principal {
            tenant: tenant.to_owned(),
            subject,
            scopes,
            credential: Credential::Jwt { issuer: self.settings.issuer.clone() },
        })
    }

    fn signing_key(&self, kid: Option<&str>, alg: Algorithm) -> Option<Jwk> {
        let keys = self.keys.get();
        let fits = |jwk: &&Jwk| {
            let family = matches!(
                (&jwk.algorithm, alg),
                (AlgorithmParameters::RSA(_), Algorithm::RS256)
                    | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256)
            );
            let declared = jwk.common.key_algorithm.is_none_or(|a| {
                matches!(
                    (a, alg),
                    (KeyAlgorithm::RS256, Algorithm::RS256) | (KeyAlgorithm::ES256, Algorithm::ES256)
                )
            });
            family && declared
        };
        match kid {
            Some(kid) => keys.keys.iter().filter(|k| k.common.key_id.as_deref() == Some(kid)).find(fits),
            None => keys.keys.iter().find(fits),
        }
        .cloned()
    }

    /// Fetches a JWKS URL again unless it was fetched less than [`REFETCH_MIN_INTERVAL`] ago.
    async fn refetch_if_allowed(&self) {
        let JwksSource::Url(_) = &self.settings.jwks else { return };
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|p| p.into_inner());
            if last.elapsed() < REFETCH_MIN_INTERVAL {
                return;
            }
            *last = Instant::now();
        }
        match load(&self.settings.jwks, self.http.as_ref()).await {
            Ok(set) => self.keys.set(set),
            Err(error) => tracing::warn!(%error, "fetching the JWKS for an unknown kid failed"),
        }
    }
}

/// An HTTPS client on rustls with the ring provider (the one tonic's TLS uses) and the
/// system's roots.
fn http_client() -> Result<reqwest::Client, AuthError> {
    // Installing twice is harmless (the first provider stays).
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .build()
        .map_err(|e| AuthError::Config(format!("HTTPS client: {e}")))
}

async fn load(source: &JwksSource, http: Option<&reqwest::Client>) -> Result<JwkSet, String> {
    match (source, http) {
        (JwksSource::File(path), _) => read_jwks_file(path),
        (JwksSource::Url(url), Some(client)) => {
            parse_jwks(&fetch(client, url).await.map_err(|e| format!("JWKS {url}: {e}"))?)
        }
        (JwksSource::Url(url), None) => Err(format!("JWKS {url}: no HTTP client")),
    }
}

/// A JWKS file (small: read in place, like the keys file).
fn read_jwks_file(path: &std::path::Path) -> Result<JwkSet, String> {
    parse_jwks(&std::fs::read_to_string(path).map_err(|e| format!("JWKS {}: {e}", path.display()))?)
}

fn parse_jwks(text: &str) -> Result<JwkSet, String> {
    let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("JWKS is not a JWK set: {e}"))?;
    if set.keys.is_empty() {
        return Err("the JWKS has no keys".to_owned());
    }
    Ok(set)
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_JWKS_BYTES {
            return Err(format!("larger than {MAX_JWKS_BYTES} bytes"));
        }
    }
    String::from_utf8(body).map_err(|_| "not UTF-8".to_owned())
}
