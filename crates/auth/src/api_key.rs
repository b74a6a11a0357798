//! API keys: `tsk_` and 43 base64url characters (256 random bits from the OS), and the SHA-256
//! that is all tanksim keeps of them.
//!
//! A plain SHA-256 (not a slow password hash) is the right function here, as for GitHub's and
//! Stripe's tokens: the key is 256 random bits, so no guess can be checked faster than brute
//! force over 2^256, and verification stays one hash per call.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tanksim_broker::ApiKey;

use crate::error::AuthError;
use crate::scope::Scopes;

/// What every API key starts with: tells keys from JWTs, and secret scanners what to look for.
pub const KEY_PREFIX: &str = "tsk_";
const RANDOM_BYTES: usize = 32;

/// A new random key.
pub fn generate() -> Result<String, AuthError> {
    let mut bytes = [0u8; RANDOM_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Config(format!("no randomness from the OS: {e}")))?;
    Ok(format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The lower-case hex SHA-256 of `key`: what is stored, and what a bootstrap file lists.
pub fn sha256_hex(key: &str) -> String {
    Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `token` has the shape of an API key (it may still be unknown).
pub fn looks_like_key(token: &str) -> bool {
    token.starts_with(KEY_PREFIX)
}

/// Checks the shape of a stored hash (64 lower-case hex characters).
pub fn check_sha256(hex: &str) -> Result<(), String> {
    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err("sha256 must be 64 lower-case hex characters (the SHA-256 of the key)".to_owned())
    }
}

/// Longest key name.
pub const MAX_NAME_LEN: usize = 100;

/// The record stored for a new key (everything but the key).
pub fn record(
    key: &str,
    tenant: &str,
    name: &str,
    scopes: Scopes,
    created_at_ms: u64,
    expires_at_ms: Option<u64>,
) -> Result<ApiKey, AuthError> {
    tanksim_server::tenant::check(tenant).map_err(AuthError::Config)?;
    check_name(name).map_err(AuthError::Config)?;
    if scopes == Scopes::default() {
        return Err(AuthError::Config("a key needs at least one scope".to_owned()));
    }
    Ok(ApiKey {
        sha256: sha256_hex(key),
        tenant: tenant.to_owned(),
        name: name.to_owned(),
        scopes: scopes.names().into_iter().map(str::to_owned).collect(),
        created_at_ms,
        expires_at_ms,
    })
}

/// A key name: 1 to 100 printable characters.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || name.chars().any(char::is_control) {
        Err(format!("a key name is 1 to {MAX_NAME_LEN} bytes without control characters"))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_prefixed_and_hashed_to_64_hex() {
        let (a, b) = (generate().unwrap(), generate().unwrap());
        assert_ne!(a, b);
        assert!(looks_like_key(&a));
        assert_eq!(a.len(), KEY_PREFIX.len() + 43);
        assert!(a[KEY_PREFIX.len()..].bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        assert_eq!(check_sha256(&sha256_hex(&a)), Ok(()));
        // Known answer: `printf tsk_test | sha256sum`.
        assert_eq!(
            sha256_hex("tsk_test"),
            "dff5172bbcc8f2561a0ca6868731919ee79043cc43ca7db36e9a2d3744096803"
        );
    }

    #[test]
    fn records_keep_the_hash_not_the_key() {
        let key = generate().unwrap();
        let scopes = Scopes::parse_strict(&["jobs:read"]).unwrap();
        let r = record(&key, "acme", "ci", scopes, 5, Some(9)).unwrap();
        assert_eq!(r.sha256, sha256_hex(&key));
        assert!(!format!("{r:?}").contains(&key[4..]));
        assert!(record(&key, "Acme", "ci", scopes, 5, None).is_err());
        assert!(record(&key, "acme", "", scopes, 5, None).is_err());
        assert!(record(&key, "acme", "ci", Scopes::default(), 5, None).is_err());
    }
}
