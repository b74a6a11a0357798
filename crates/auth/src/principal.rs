//! An authenticated caller.

use crate::error::AuthError;
use crate::scope::{Scope, Scopes};

/// Who is calling: the tenant every job operation is scoped to, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub tenant: String,
    /// The key's name or the token's `sub`, for logs.
    pub subject: String,
    pub scopes: Scopes,
    pub credential: Credential,
}

/// How the caller proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// Auth is off: every caller is the default tenant with every scope.
    Anonymous,
    /// An API key, by its public id.
    ApiKey { id: String },
    /// A JWT from this issuer.
    Jwt { issuer: String },
}

impl Principal {
    /// The caller when auth is off.
    pub fn anonymous() -> Principal {
        Principal {
            tenant: tanksim_server::tenant::DEFAULT_TENANT.to_owned(),
            subject: "anonymous".to_owned(),
            scopes: Scopes::all(),
            credential: Credential::Anonymous,
        }
    }

    /// PERMISSION_DENIED unless the caller has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), AuthError> {
        if self.scopes.allows(scope) {
            Ok(())
        } else {
            Err(AuthError::PermissionDenied(format!("this call needs the scope {scope}")))
        }
    }
}
