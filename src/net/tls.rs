//! rustls client configuration: webpki-roots plus an optional extra root (loopback venue).
//! Certificate verification is never disabled.
//!
//! **One trust rule for the extra CA, WebSocket and REST alike** ([`extra_ca_applies`]): the
//! extra CA is trusted for the listed hosts only (a feed lists the hosts of its own configured
//! endpoints; the default list is the loopback names), and for a listed host it is the *only*
//! trust anchor; every other host is verified against the web PKI roots alone. The reactor
//! ([`client_config_for`]) and the control thread (its second ureq agent) apply the same test.

use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use super::NetError;

/// An extra trusted root certificate.
#[derive(Clone, Debug)]
pub enum CaCert {
    /// One or more PEM `CERTIFICATE` blocks.
    Pem(Vec<u8>),
    /// One DER certificate.
    Der(Vec<u8>),
}

impl CaCert {
    /// DER encodings of the certificate(s).
    pub fn ders(&self) -> Result<Vec<CertificateDer<'static>>, NetError> {
        match self {
            CaCert::Der(d) => Ok(vec![CertificateDer::from(d.clone())]),
            CaCert::Pem(p) => {
                let v: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(p).collect();
                let v = v.map_err(|e| NetError::BadCa(e.to_string()))?;
                if v.is_empty() {
                    return Err(NetError::BadCa("no CERTIFICATE block in PEM".into()));
                }
                Ok(v)
            }
        }
    }
}

/// The hosts the extra CA applies to when none are configured: the loopback names.
pub const LOOPBACK_HOSTS: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

/// [`LOOPBACK_HOSTS`] as owned strings (the default of `ConnSpec::extra_ca_hosts` and
/// `ControlConfig::extra_ca_hosts`).
pub fn loopback_hosts() -> Vec<String> {
    LOOPBACK_HOSTS.iter().map(|h| h.to_string()).collect()
}

/// The trust rule: the extra CA applies to `host` (IPv6 without brackets) exactly when it is
/// listed (ASCII case-insensitive). Then it is the only trust anchor; otherwise web PKI is.
pub fn extra_ca_applies(host: &str, listed: &[String]) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    listed.iter().any(|h| h.eq_ignore_ascii_case(host))
}

/// Client config for `host` under [`extra_ca_applies`]: the extra CA alone for a listed host,
/// the web PKI roots alone for every other host (or when there is no extra CA).
pub fn client_config_for(
    host: &str,
    extra: Option<&CaCert>,
    listed: &[String],
) -> Result<Arc<ClientConfig>, NetError> {
    let roots = match extra {
        Some(ca) if extra_ca_applies(host, listed) => {
            let mut roots = RootCertStore::empty();
            for der in ca.ders()? {
                roots.add(der).map_err(|e| NetError::BadCa(e.to_string()))?;
            }
            roots
        }
        _ => root_store(None)?,
    };
    config_with(roots)
}

/// webpki-roots (Mozilla) plus `extra`.
pub fn root_store(extra: Option<&CaCert>) -> Result<RootCertStore, NetError> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(ca) = extra {
        for der in ca.ders()? {
            roots.add(der).map_err(|e| NetError::BadCa(e.to_string()))?;
        }
    }
    Ok(roots)
}

/// Client config with the ring provider, safe default protocol versions, no client auth,
/// trusting webpki-roots plus `extra` for every host. The reactor does not use it (it applies
/// [`client_config_for`]); kept for callers that build their own connections.
pub fn client_config(extra: Option<&CaCert>) -> Result<Arc<ClientConfig>, NetError> {
    config_with(root_store(extra)?)
}

fn config_with(roots: RootCertStore) -> Result<Arc<ClientConfig>, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}
