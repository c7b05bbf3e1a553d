//! AIP-158 pagination: page sizes and opaque, keyset-based page tokens.
//!
//! A token carries the sort key of the last item returned and a fingerprint of the request's
//! filters, so a token replayed with different filters is refused instead of returning a wrong page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::Violations;

/// Page size when the request asks for none.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest page served; larger requests are lowered to it (AIP-158).
pub const MAX_PAGE_SIZE: usize = 1000;

/// The page size to serve for a requested `page_size`.
pub fn page_size(requested: i32, field: &str, violations: &mut Violations) -> usize {
    match requested {
        0 => DEFAULT_PAGE_SIZE,
        n if n < 0 => {
            violations.add(field, "must not be negative");
            DEFAULT_PAGE_SIZE
        }
        n => usize::try_from(n)
            .unwrap_or(MAX_PAGE_SIZE)
            .min(MAX_PAGE_SIZE),
    }
}

/// A stable fingerprint of the filters a token belongs to.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    let digest = hasher.finalize();
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize, serde::Deserialize)]
struct Token<K> {
    k: K,
    f: String,
}

/// Encodes the key of the last item on a page.
pub fn encode_token<K: Serialize>(key: &K, filter_fingerprint: &str) -> String {
    let token = Token {
        k: key,
        f: filter_fingerprint.to_owned(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Decodes a page token: `None` for the first page, or a violation on `field` when the token is
/// malformed or was issued for other filters.
pub fn decode_token<K: DeserializeOwned>(
    token: &str,
    filter_fingerprint: &str,
    field: &str,
    violations: &mut Violations,
) -> Option<K> {
    if token.is_empty() {
        return None;
    }
    let decoded = URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<Token<K>>(&bytes).ok());
    match decoded {
        Some(token) if token.f == filter_fingerprint => Some(token.k),
        Some(_) => {
            violations.add(
                field,
                "page token was issued for a request with other filters",
            );
            None
        }
        None => {
            violations.add(field, "is not a page token issued by this service");
            None
        }
    }
}

/// One List request's paging: how many to serve, where the previous page ended, and the
/// fingerprint of the filters its token must have been issued for.
#[derive(Debug, Clone)]
pub struct Page<K> {
    /// Items to serve.
    pub size: usize,
    /// The sort key of the last item of the previous page, if any.
    pub after: Option<K>,
    fingerprint: String,
}

impl<K: Serialize + DeserializeOwned> Page<K> {
    /// Reads `page_size` and `page_token` of a request whose filters are `filters`; bad values
    /// are violations on `page_size` and `page_token`.
    pub fn read(page_size: i32, page_token: &str, filters: &[&str], v: &mut Violations) -> Self {
        let size = self::page_size(page_size, "page_size", v);
        let fingerprint = self::fingerprint(filters);
        let after = decode_token(page_token, &fingerprint, "page_token", v);
        Self {
            size,
            after,
            fingerprint,
        }
    }

    /// [`Page::read`] for a request whose filters are all in `filter` (its `Debug` text is what
    /// the token is bound to).
    pub fn filtered(
        page_size: i32,
        page_token: &str,
        filter: &impl std::fmt::Debug,
        v: &mut Violations,
    ) -> Self {
        Self::read(page_size, page_token, &[&format!("{filter:?}")], v)
    }

    /// How many rows to fetch: one more than the page, to know whether another follows.
    pub fn fetch(&self) -> usize {
        self.size + 1
    }

    /// The page out of rows fetched with [`Page::fetch`], and the token of the next page (empty
    /// when there is none), keyed on the last item kept.
    pub fn finish<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> K) -> (Vec<T>, String) {
        let token = next_page_token(&mut rows, self.size, key, &self.fingerprint);
        (rows, token)
    }
}

/// Trims a page fetched with one extra row (`limit + 1`) to `limit` and returns the token for the
/// next page, keyed on the last row kept; empty when there is no next page.
pub fn next_page_token<K: Serialize, T>(
    items: &mut Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> K,
    filter_fingerprint: &str,
) -> String {
    if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|last| encode_token(&key(last), filter_fingerprint))
            .unwrap_or_default()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_cap_and_refuse_negatives() {
        let mut violations = Violations::new();
        assert_eq!(
            page_size(0, "page_size", &mut violations),
            DEFAULT_PAGE_SIZE
        );
        assert_eq!(page_size(5000, "page_size", &mut violations), MAX_PAGE_SIZE);
        assert_eq!(page_size(7, "page_size", &mut violations), 7);
        assert!(violations.is_empty());
        page_size(-1, "page_size", &mut violations);
        assert!(!violations.is_empty());
    }

    #[test]
    fn tokens_round_trip_only_for_the_same_filters() {
        let f = fingerprint(&["tag", "vip"]);
        let token = encode_token(&("id-1".to_owned(), 42_i64), &f);
        let mut violations = Violations::new();
        let key: Option<(String, i64)> = decode_token(&token, &f, "page_token", &mut violations);
        assert_eq!(key, Some(("id-1".to_owned(), 42)));
        assert!(violations.is_empty());

        let other = fingerprint(&["tag", "gold"]);
        let key: Option<(String, i64)> =
            decode_token(&token, &other, "page_token", &mut violations);
        assert_eq!(key, None);
        assert_eq!(violations.iter().count(), 1);

        let key: Option<(String, i64)> = decode_token("%%%", &f, "page_token", &mut violations);
        assert_eq!(key, None);
        assert_eq!(violations.iter().count(), 2);
    }

    #[test]
    fn a_page_reads_its_token_and_issues_the_next() {
        let mut v = Violations::new();
        let first: Page<String> = Page::read(2, "", &["f"], &mut v);
        assert_eq!(
            (first.size, first.fetch(), first.after.clone()),
            (2, 3, None)
        );
        let (items, token) = first.finish(vec!["a", "b", "c"], |s| (*s).to_owned());
        assert_eq!(items, ["a", "b"]);
        let second: Page<String> = Page::read(2, &token, &["f"], &mut v);
        assert_eq!(second.after.as_deref(), Some("b"));
        let (items, token) = second.finish(vec!["c"], |s| (*s).to_owned());
        assert_eq!((items, token), (vec!["c"], String::new()));
        assert!(v.is_empty());
        let _: Page<String> = Page::read(2, &encode_token(&"b", "other"), &["f"], &mut v);
        assert_eq!(v.iter().count(), 1);
    }

    #[test]
    fn fingerprints_do_not_collide_on_concatenation() {
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
