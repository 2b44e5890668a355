//! API credentials — the one `Secret` / `Credentials` pair of the crate (the Gate.io and MEXC
//! signing code takes these). A [`Secret`] never shows its value through `Debug` or `Display`,
//! so it can sit inside config structs, errors and panics without leaking; the bytes are
//! reachable only through [`Secret::expose`] / [`Secret::expose_bytes`], which the signing code
//! calls. Its bytes are overwritten with zeros when it is dropped (best effort: copies made
//! before it was constructed, e.g. by `std::env::var`, are not).

use std::fmt;

/// Why a secret could not be read. Names where it was looked for, never a value (a non-UTF-8
/// variable's content is not kept either).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The environment variable is not set.
    #[error("environment variable {var} is not set")]
    EnvNotSet {
        /// The variable's name.
        var: String,
    },
    /// The environment variable is set but empty.
    #[error("environment variable {var} is empty")]
    EnvEmpty {
        /// The variable's name.
        var: String,
    },
    /// The secret file cannot be read.
    #[error("cannot read secret file {}: {source}", path.display())]
    FileUnreadable {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The secret file's first line is empty.
    #[error("secret file {} is empty", path.display())]
    FileEmpty {
        /// The file.
        path: std::path::PathBuf,
    },
}

/// A secret string (API key or secret). Redacted in every formatted output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value handed over in code.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for signing and for the one header that must carry an API key.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The value as bytes (HMAC keys).
    pub fn expose_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Read from the environment variable `var`; the error names the variable, never a value.
    pub fn from_env(var: &str) -> Result<Secret, SecretError> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
            Ok(_) => Err(SecretError::EnvEmpty {
                var: var.to_string(),
            }),
            Err(_) => Err(SecretError::EnvNotSet {
                var: var.to_string(),
            }),
        }
    }

    /// Read from a file (first line, trimmed); the error names the file, never its content.
    pub fn from_file(path: &std::path::Path) -> Result<Secret, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::FileUnreadable {
            path: path.to_path_buf(),
            source,
        })?;
        let line = text.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            return Err(SecretError::FileEmpty {
                path: path.to_path_buf(),
            });
        }
        Ok(Secret(line.to_string()))
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrite the bytes in place before the allocation is released (no unsafe:
        // `into_bytes` reuses the buffer). `black_box` keeps the writes from being elided.
        let mut bytes = std::mem::take(&mut self.0).into_bytes();
        bytes.fill(0);
        std::hint::black_box(&mut bytes);
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A key pair for one venue account. Both halves are redacted in `Debug`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The API key (sent to the venue in headers or signed payloads).
    pub api_key: Secret,
    /// The API secret (only ever an HMAC key; never sent).
    pub api_secret: Secret,
}

impl Credentials {
    /// A pair handed over in code.
    pub fn new(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Credentials {
            api_key: Secret::new(api_key),
            api_secret: Secret::new(api_secret),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_formats_the_value() {
        let c = Credentials {
            api_key: Secret::new("mx0vglKEYVALUE"),
            api_secret: Secret::new("s3cr3t-VALUE"),
        };
        let shown = format!("{c:?} {} {}", c.api_key, c.api_secret);
        assert!(
            !shown.contains("KEYVALUE") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert_eq!(c.api_secret.expose(), "s3cr3t-VALUE");
    }

    #[test]
    fn drop_zeroes_in_place_and_clone_is_independent() {
        let a = Secret::new("abc");
        let b = a.clone();
        drop(a);
        assert_eq!(b.expose(), "abc");
        assert_eq!(b.expose_bytes(), b"abc");
        let c = Credentials::new("k", "s");
        assert_eq!((c.api_key.expose(), c.api_secret.expose()), ("k", "s"));
        assert_eq!(format!("{c:?}").matches("<redacted>").count(), 2);
    }

    #[test]
    fn env_errors_name_the_variable_only() {
        let e = Secret::from_env("CEXFEED_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.to_string().contains("CEXFEED_TEST_SURELY_UNSET_VAR"));
    }
}
