//! The auth options of the gateway and `tanksim serve all` (flattened into each).

use std::path::PathBuf;

/// Whether calls need credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuthMode {
    /// Every public call needs a bearer token.
    Required,
    /// No call does: every caller is tenant `default` with every scope (development only).
    Disabled,
}

/// Auth options.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// `required` or `disabled`. Unset: required when a keys file or an OIDC issuer is given;
    /// otherwise the gateway requires auth and `tanksim serve all` runs without (saying so).
    #[arg(long = "auth", env = "TANKSIM_AUTH", value_enum)]
    pub mode: Option<AuthMode>,
    /// Bootstrap API keys: JSON lines `{"tenant","name","scopes":[...],"sha256":"<hex of the
    /// key's SHA-256>"}` (e.g. a mounted Secret), re-read when the file changes.
    #[arg(long, env = "TANKSIM_API_KEYS_FILE", value_name = "PATH")]
    pub api_keys_file: Option<PathBuf>,
    /// Redis holding the keys made with `tanksim keys create` (`serve all`: its own Redis).
    #[arg(long, env = "TANKSIM_API_KEYS_REDIS_URL", value_name = "URL", hide_env_values = true)]
    pub api_keys_redis_url: Option<String>,
    /// Accept JWTs from this OIDC issuer (its exact `iss`).
    #[arg(long, env = "TANKSIM_OIDC_ISSUER", value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// The audience tokens must name (`aud`).
    #[arg(long, env = "TANKSIM_OIDC_AUDIENCE")]
    pub oidc_audience: Option<String>,
    /// The issuer's signing keys: a JWKS file, or its `jwks_uri` (https://).
    #[arg(long, env = "TANKSIM_OIDC_JWKS", value_name = "PATH|URL")]
    pub oidc_jwks: Option<String>,
    /// The claim naming the caller's tenant.
    #[arg(long, env = "TANKSIM_OIDC_TENANT_CLAIM", default_value = "tenant")]
    pub oidc_tenant_claim: String,
    /// The claim listing the caller's scopes (a space-separated string or an array).
    #[arg(long, env = "TANKSIM_OIDC_SCOPES_CLAIM", default_value = "scope")]
    pub oidc_scopes_claim: String,
    /// Clock skew allowed on a token's `exp` and `nbf`, in seconds.
    #[arg(long, env = "TANKSIM_OIDC_LEEWAY_SECONDS", default_value_t = 30)]
    pub oidc_leeway_seconds: u64,
    /// How often a JWKS URL is fetched again, in seconds (an unknown `kid` also triggers a
    /// fetch, at most every 30 s).
    #[arg(long, env = "TANKSIM_OIDC_JWKS_REFRESH_SECONDS", default_value_t = 300)]
    pub oidc_jwks_refresh_seconds: u64,
    /// How often the keys file and a JWKS file are checked for changes, in seconds.
    #[arg(long, env = "TANKSIM_AUTH_RELOAD_SECONDS", default_value_t = 10)]
    pub auth_reload_seconds: u64,
}
