//! From a call's `authorization` metadata to a [`Principal`].
//!
//! A token starting `tsk_` is an API key: its SHA-256 is looked up in the bootstrap file,
//! then in Redis. Comparing hashes, never the secrets, is what keeps the lookup free of
//! timing leaks: how long it takes depends on the hash, and learning a hash's prefix helps no
//! one find a key. Any other token is a JWT when an OIDC issuer is configured.

use std::sync::Arc;
use std::time::Duration;

use tanksim_server::job::now_ms;

use tanksim_broker::{ApiKey, BrokerError, KeyStore, MemoryKeys, RedisKeys};
use tokio::sync::OnceCell;
use tonic::metadata::MetadataMap;

use crate::api_key::{looks_like_key, sha256_hex};
use crate::config::{AuthArgs, AuthMode};
use crate::error::AuthError;
use crate::jwt::{JwksSource, JwtVerifier, OidcSettings};
use crate::keys_file::KeysFile;
use crate::principal::{Credential, Principal};
use crate::reload::Reloading;
use crate::scope::Scopes;

/// Where keys made with `tanksim keys create` are looked up.
#[derive(Debug, Clone, Default)]
pub enum StoredKeys {
    #[default]
    None,
    /// Redis at this URL, connected on first use (the gateway starts while Redis is away;
    /// key lookups answer UNAVAILABLE until it is back).
    Redis(Arc<LazyRedisKeys>),
    Memory(MemoryKeys),
}

/// A Redis key store connected on first use.
#[derive(Debug)]
pub struct LazyRedisKeys {
    url: String,
    keys: OnceCell<RedisKeys>,
}

impl StoredKeys {
    pub fn redis(url: &str) -> StoredKeys {
        StoredKeys::Redis(Arc::new(LazyRedisKeys { url: url.to_owned(), keys: OnceCell::new() }))
    }

    async fn get(&self, sha256: &str) -> Result<Option<ApiKey>, BrokerError> {
        match self {
            StoredKeys::None => Ok(None),
            StoredKeys::Memory(keys) => keys.key_by_hash(sha256).await,
            StoredKeys::Redis(lazy) => {
                let keys = lazy.keys.get_or_try_init(|| RedisKeys::connect(&lazy.url)).await?;
                keys.key_by_hash(sha256).await
            }
        }
    }
}

/// Authenticates calls. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Authenticator {
    /// `None`: auth is off.
    sources: Option<Arc<Sources>>,
}

#[derive(Debug)]
struct Sources {
    file: Option<Arc<Reloading<KeysFile>>>,
    stored: StoredKeys,
    jwt: Option<JwtVerifier>,
}

impl Authenticator {
    /// Every caller is [`Principal::anonymous`].
    pub fn disabled() -> Authenticator {
        Authenticator { sources: None }
    }

    /// Auth as `args` configure it. `default` is the mode when `--auth` is not given and no
    /// credential source is either; `fallback_redis_url` is where stored keys are when
    /// `--api-keys-redis-url` is not given (`serve all`'s Redis). Reads the keys file and the
    /// JWKS now: an error here means the service must not start.
    pub async fn from_args(
        args: &AuthArgs,
        default: AuthMode,
        fallback_redis_url: Option<&str>,
    ) -> Result<Authenticator, AuthError> {
        let stored = match args.api_keys_redis_url.as_deref().or(fallback_redis_url) {
            Some(url) => StoredKeys::redis(url),
            None => StoredKeys::None,
        };
        Self::start(args, default, stored).await
    }

    /// Like [`Authenticator::from_args`], with stored keys given directly.
    pub async fn start(
        args: &AuthArgs,
        default: AuthMode,
        stored: StoredKeys,
    ) -> Result<Authenticator, AuthError> {
        let has_source =
            args.api_keys_file.is_some() || args.oidc_issuer.is_some() || !matches!(stored, StoredKeys::None);
        let mode = args.mode.unwrap_or(if args.api_keys_file.is_some() || args.oidc_issuer.is_some() {
            AuthMode::Required
        } else {
            default
        });
        if mode == AuthMode::Disabled {
            return Ok(Authenticator::disabled());
        }
        if !has_source {
            return Err(AuthError::Config(
                "auth is required but no credential source is configured: give --api-keys-file, \
                 --api-keys-redis-url or --oidc-issuer (or --auth disabled)"
                    .to_owned(),
            ));
        }
        let reload = Duration::from_secs(args.auth_reload_seconds.max(1));
        let file = match &args.api_keys_file {
            Some(path) => {
                let keys = Reloading::new(KeysFile::read(path).map_err(AuthError::Config)?);
                keys.poll_file("api keys file", reload, path.clone(), KeysFile::read);
                Some(keys)
            }
            None => None,
        };
        let jwt = match (&args.oidc_issuer, &args.oidc_audience, &args.oidc_jwks) {
            (Some(issuer), Some(audience), Some(jwks)) => {
                let jwks = JwksSource::parse(jwks);
                let refresh = match jwks {
                    JwksSource::Url(_) => Duration::from_secs(args.oidc_jwks_refresh_seconds.max(1)),
                    JwksSource::File(_) => reload,
                };
                Some(
                    JwtVerifier::start(OidcSettings {
                        issuer: issuer.clone(),
                        audience: audience.clone(),
                        jwks,
                        tenant_claim: args.oidc_tenant_claim.clone(),
                        scopes_claim: args.oidc_scopes_claim.clone(),
                        leeway: Duration::from_secs(args.oidc_leeway_seconds),
                        refresh,
                    })
                    .await?,
                )
            }
            (None, _, _) => None,
            _ => {
                return Err(AuthError::Config(
                    "--oidc-issuer needs --oidc-audience and --oidc-jwks".to_owned(),
                ));
            }
        };
        Ok(Authenticator { sources: Some(Arc::new(Sources { file, stored, jwt })) })
    }

    pub fn is_enabled(&self) -> bool {
        self.sources.is_some()
    }

    /// What is accepted, for the startup log line (no secrets).
    pub fn describe(&self) -> String {
        let Some(s) = &self.sources else {
            return "disabled: every caller is tenant \"default\" with every scope".to_owned();
        };
        let mut parts = Vec::new();
        if let Some(file) = &s.file {
            parts.push(format!("API keys from a file ({} keys)", file.get().len()));
        }
        match &s.stored {
            StoredKeys::Redis(lazy) => {
                parts.push(format!("API keys in Redis {}", tanksim_broker::url::redacted(&lazy.url)))
            }
            StoredKeys::Memory(_) => parts.push("API keys in memory".to_owned()),
            StoredKeys::None => {}
        }
        if let Some(jwt) = &s.jwt {
            parts.push(format!("JWTs from {}", jwt.issuer()));
        }
        format!("required: {}", parts.join(", "))
    }

    /// The caller of a call with this metadata.
    pub async fn authenticate(&self, metadata: &MetadataMap) -> Result<Principal, AuthError> {
        let Some(sources) = &self.sources else { return Ok(Principal::anonymous()) };
        let token = bearer(metadata)?;
        if looks_like_key(token) {
            return sources.api_key(token).await;
        }
        match &sources.jwt {
            Some(jwt) => jwt.verify(token).await,
            None => Err(AuthError::Unauthenticated(
                "the bearer token is not an API key (tsk_...) and no OIDC issuer is configured".to_owned(),
            )),
        }
    }
}

impl Sources {
    async fn api_key(&self, key: &str) -> Result<Principal, AuthError> {
        let hash = sha256_hex(key);
        let from_file = self.file.as_ref().and_then(|f| f.get().get(&hash).cloned());
        let found = match from_file {
            Some(k) => Some(k),
            None => self.stored.get(&hash).await.map_err(|e| {
                tracing::warn!(error = %e, "API key lookup failed");
                AuthError::Unavailable("the API key store is unavailable; retry later".to_owned())
            })?,
        };
        let key = found.ok_or_else(|| AuthError::Unauthenticated("unknown or revoked API key".to_owned()))?;
        if key.expires_at_ms.is_some_and(|at| now_ms() >= at) {
            return Err(AuthError::Unauthenticated("the API key has expired".to_owned()));
        }
        let scopes = Scopes::parse_lenient(key.scopes.iter().map(String::as_str));
        Ok(Principal {
            subject: key.name.clone(),
            credential: Credential::ApiKey { id: key.id().to_owned() },
            tenant: key.tenant,
            scopes,
        })
    }
}

/// The token of `authorization: Bearer <token>`.
fn bearer(metadata: &MetadataMap) -> Result<&str, AuthError> {
    let value = metadata.get("authorization").ok_or_else(|| {
        AuthError::Unauthenticated("no credentials: send `authorization: Bearer <API key or JWT>`".to_owned())
    })?;
    let malformed =
        || AuthError::Unauthenticated("the authorization header is not `Bearer <token>`".to_owned());
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    Ok(token)
}
