use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use thiserror::Error;

/// The minimum key length, in bytes: HMAC-SHA256 keys shorter than the hash weaken it.
const MIN_KEY_LEN: usize = 32;
/// The file, under the data directory, that holds a generated development key.
const KEY_FILE: &str = "internal.key";

/// The secret shared by the gateway and the services. Never printed.
#[derive(Clone)]
pub struct InternalKey(Vec<u8>);

impl fmt::Debug for InternalKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InternalKey(***)")
    }
}

/// Why the internal key could not be had.
#[derive(Debug, Error)]
pub enum KeyError {
    /// `KEFU_INTERNAL_KEY` is set but too short.
    #[error("KEFU_INTERNAL_KEY must be at least {MIN_KEY_LEN} bytes long")]
    TooShort,
    /// The key file could not be read or created.
    #[error("cannot read or create the internal key file {path}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl InternalKey {
    /// A key from raw bytes (tests, and keys already checked).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A key from configuration text, which must be at least 32 bytes long.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort);
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(hex(&bytes).into_bytes())
    }

    /// The configured key: `KEFU_INTERNAL_KEY` when set (`configured`), otherwise the key in
    /// `<data_dir>/internal.key`, generated on first use. The file lets every process of a
    /// development setup that shares the data directory agree on a key without configuration;
    /// production sets `KEFU_INTERNAL_KEY` from a secret.
    pub fn resolve(configured: Option<&str>, data_dir: &Path) -> Result<Self, KeyError> {
        match configured {
            Some(text) if !text.trim().is_empty() => Self::parse(text),
            _ => Self::load_or_create(&data_dir.join(KEY_FILE)),
        }
    }

    fn load_or_create(path: &Path) -> Result<Self, KeyError> {
        let file_error = |source| KeyError::File {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => return Self::parse(&text),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                return Err(file_error(error));
            }
            Err(_) => {}
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(file_error)?;
        }
        let key = Self::generate();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(&key.0).map_err(file_error)?;
                Ok(key)
            }
            // Another process created it first: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(file_error)?;
                Self::parse(&text)
            }
            Err(error) => Err(file_error(error)),
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(
            InternalKey::parse("short"),
            Err(KeyError::TooShort)
        ));
        assert!(InternalKey::parse(&"k".repeat(32)).is_ok());
    }

    #[test]
    fn a_generated_key_file_is_reused() -> Result<(), KeyError> {
        let dir = std::env::temp_dir().join(format!("kefu-key-test-{}", std::process::id()));
        let first = InternalKey::resolve(None, &dir)?;
        let second = InternalKey::resolve(Some(""), &dir)?;
        assert_eq!(first.bytes(), second.bytes());
        let configured = InternalKey::resolve(Some(&"x".repeat(40)), &dir)?;
        assert_ne!(configured.bytes(), first.bytes());
        let _ = std::fs::remove_dir_all(dir);
        Ok(())
    }
}
