//! The tenant a call acts for, as it crosses from the gateway to the internal services.
//!
//! The gateway authenticates the caller and sets [`TENANT_METADATA`] on every call it makes
//! for them; the dispatcher and the results service read it with [`from_request`] and scope
//! every job operation to it (a job of another tenant is NOT_FOUND). Only the gateway may
//! call those services (mTLS identities and NetworkPolicies), so they trust the header; a
//! call without it acts for [`DEFAULT_TENANT`], the tenant of every job when auth is off.

use tonic::Status;
use tonic::metadata::{MetadataMap, MetadataValue};

/// The gRPC metadata key carrying the tenant between tanksim's services.
pub const TENANT_METADATA: &str = "x-tanksim-tenant";

/// The tenant of calls made without authentication (the embedded mode, `serve all` without
/// auth) and of jobs stored before tenants existed.
pub use tanksim_broker::DEFAULT_TENANT;

/// Longest tenant name (a DNS label's length: tenants often become namespaces or labels).
pub const MAX_TENANT_LEN: usize = 63;

/// Checks a tenant name: 1 to 63 characters of `a-z`, `0-9` and `-`, starting and ending with
/// a letter or digit (a DNS label), so it is safe in Redis key names, metric labels and paths.
pub fn check(tenant: &str) -> Result<(), String> {
    let bytes = tenant.as_bytes();
    let label_char = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = (1..=MAX_TENANT_LEN).contains(&bytes.len())
        && bytes.iter().all(|b| label_char(b) || *b == b'-')
        && bytes.first().is_some_and(label_char)
        && bytes.last().is_some_and(label_char);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid tenant {:?}: 1 to {MAX_TENANT_LEN} characters of a-z, 0-9 and '-', starting and \
             ending with a letter or digit",
            truncated(tenant)
        ))
    }
}

/// The tenant a call to an internal service acts for: [`TENANT_METADATA`], or
/// [`DEFAULT_TENANT`] when absent. A malformed value is INVALID_ARGUMENT (only a broken or
/// hostile peer sends one).
pub fn from_metadata(metadata: &MetadataMap) -> Result<String, Status> {
    match metadata.get(TENANT_METADATA) {
        None => Ok(DEFAULT_TENANT.to_owned()),
        Some(value) => {
            let tenant = value
                .to_str()
                .map_err(|_| Status::invalid_argument(format!("{TENANT_METADATA} is not ASCII")))?;
            check(tenant).map_err(Status::invalid_argument)?;
            Ok(tenant.to_owned())
        }
    }
}

/// The tenant of `request` (see [`from_metadata`]).
pub fn from_request<T>(request: &tonic::Request<T>) -> Result<String, Status> {
    from_metadata(request.metadata())
}

/// Sets the tenant on a call the gateway makes for a caller.
///
/// # Errors
/// If `tenant` is not a valid tenant name (callers pass names checked by [`check`]).
pub fn insert(metadata: &mut MetadataMap, tenant: &str) -> Result<(), Status> {
    check(tenant).map_err(Status::internal)?;
    let value = MetadataValue::try_from(tenant).map_err(|e| Status::internal(e.to_string()))?;
    metadata.insert(TENANT_METADATA, value);
    Ok(())
}

fn truncated(s: &str) -> &str {
    match s.char_indices().nth(MAX_TENANT_LEN + 1) {
        Some((at, _)) => &s[..at],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_are_dns_labels() {
        for good in ["a", "acme", "team-7", "0", &"x".repeat(63)] {
            assert_eq!(check(good), Ok(()), "{good}");
        }
        for bad in ["", "-a", "a-", "Acme", "a_b", "a.b", "a b", "tanksim:*", "../x", "é", &"x".repeat(64)] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
        assert!(check(&"y".repeat(10_000)).unwrap_err().len() < 300, "errors quote a bounded prefix");
    }

    #[test]
    fn the_tenant_crosses_in_metadata_and_defaults_when_absent() {
        let mut metadata = MetadataMap::new();
        assert_eq!(from_metadata(&metadata).unwrap(), DEFAULT_TENANT);
        insert(&mut metadata, "acme").unwrap();
        assert_eq!(from_metadata(&metadata).unwrap(), "acme");
        assert!(insert(&mut metadata, "Not Valid").is_err());
        metadata.insert(TENANT_METADATA, MetadataValue::from_static("tanksim:*"));
        assert_eq!(from_metadata(&metadata).unwrap_err().code(), tonic::Code::InvalidArgument);
    }
}
