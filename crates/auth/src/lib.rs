//! Who is calling tanksim's public API, for which tenant, allowed to do what.
//!
//! Every public call carries `authorization: Bearer <token>`, where the token is either
//!
//! - an **API key** (`tsk_...`, [`api_key`]): random, shown once when made, stored only as
//!   its SHA-256 with tenant, name, scopes and expiry, in Redis (`tanksim keys create`) or in
//!   a bootstrap file mounted from a Kubernetes Secret ([`keys_file`]); or
//! - a **JWT from an OIDC issuer** ([`jwt`]): RS256 or ES256, verified against the issuer's
//!   JWKS (a file or an HTTPS URL), with issuer, audience and expiry checked and the tenant and
//!   scopes read from configurable claims.
//!
//! [`Authenticator`] turns the call's metadata into a [`Principal`] (tenant, subject,
//! [`Scopes`]) or an [`AuthError`]: UNAUTHENTICATED when the caller is not known,
//! PERMISSION_DENIED when it is known but lacks the scope. [`AuthArgs`] are the options, shared
//! by the gateway and `tanksim serve all`.

pub mod api_key;
pub mod authenticator;
pub mod config;
pub mod error;
pub mod jwt;
pub mod keys_file;
pub mod principal;
pub(crate) use tanksim_server::reload;
pub mod scope;

pub use authenticator::{Authenticator, StoredKeys};
pub use config::{AuthArgs, AuthMode};
pub use error::AuthError;
pub use principal::{Credential, Principal};
pub use scope::{Scope, Scopes};
