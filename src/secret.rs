//! API credentials. A [`Secret`] never shows its value through `Debug` or `Display`, so it can
//! sit inside config structs, errors and panics without leaking; the bytes are reachable only
//! through [`Secret::expose`], which the signing code calls.

use std::fmt;

/// A secret string (API key or secret). Redacted in every formatted output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for signing and for the one header that must carry an API key.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Read from the environment variable `var`; the error names the variable, never a value.
    pub fn from_env(var: &str) -> Result<Secret, String> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret(v.trim().to_string())),
            Ok(_) => Err(format!("environment variable {var} is empty")),
            Err(_) => Err(format!("environment variable {var} is not set")),
        }
    }

    /// Read from a file (first line, trimmed); the error names the file, never its content.
    pub fn from_file(path: &std::path::Path) -> Result<Secret, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?;
        let line = text.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            return Err(format!("secret file {} is empty", path.display()));
        }
        Ok(Secret(line.to_string()))
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

/// A key pair for one venue account.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub api_key: Secret,
    pub api_secret: Secret,
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
    fn env_errors_name_the_variable_only() {
        let e = Secret::from_env("CEXFEED_TEST_SURELY_UNSET_VAR").unwrap_err();
        assert!(e.contains("CEXFEED_TEST_SURELY_UNSET_VAR"));
    }
}
