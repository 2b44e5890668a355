//! rustls client configuration: webpki-roots plus an optional extra root (loopback venue).
//! Certificate verification is never disabled.

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

/// Client config with the ring provider, safe default protocol versions, no client auth.
pub fn client_config(extra: Option<&CaCert>) -> Result<Arc<ClientConfig>, NetError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(root_store(extra)?)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}
