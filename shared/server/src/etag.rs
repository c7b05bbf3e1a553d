//! AIP-154 etags, derived from a row's version counter. Opaque to clients: they only send one back.

use sha2::{Digest, Sha256};

/// The etag of a resource at `version`.
pub fn etag(resource_name: &str, version: i64) -> String {
    let digest = Sha256::new()
        .chain_update(resource_name)
        .chain_update(version.to_le_bytes())
        .finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// ABORTED (a stale etag) unless the client's `given` etag is empty or current for the resource
/// `resource_name` at `version`.
pub fn check(resource_name: &str, version: i64, given: &str) -> Result<(), crate::ServiceError> {
    if is_current(given, resource_name, version) {
        Ok(())
    } else {
        Err(crate::ServiceError::StaleEtag(resource_name.to_owned()))
    }
}

/// True when the client sent no etag, or the one it sent is current.
pub fn is_current(given: &str, resource_name: &str, version: i64) -> bool {
    given.is_empty() || given == etag(resource_name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_change_with_the_version_and_the_resource() {
        assert_ne!(etag("customers/a", 1), etag("customers/a", 2));
        assert_ne!(etag("customers/a", 1), etag("customers/b", 1));
        assert!(is_current(&etag("customers/a", 3), "customers/a", 3));
        assert!(!is_current(&etag("customers/a", 2), "customers/a", 3));
        assert!(is_current("", "customers/a", 3));
    }
}
