//! Listen-key lifecycle (protocols.md §1.8): HMAC-SHA256 signing, request builders for
//! `POST/PUT/DELETE /api/v3/userDataStream`, response and error-body parsing. Cold path; does
//! no I/O (the caller sends the request with its HTTP client and feeds the answer back).
//!
//! Signing: `signature = lowercase hex(HMAC_SHA256(secret, total_params))` where total_params is
//! the query string as sent (values percent-encoded, upper-case hex), e.g.
//! `recvWindow=5000&timestamp=1644489390087`; the request carries `&signature=<hex>` appended
//! and the header `X-MEXC-APIKEY: <api key>`.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::urls::USER_DATA_STREAM_PATH;

/// Header carrying the API key on signed requests.
pub const API_KEY_HEADER: &str = "X-MEXC-APIKEY";
/// Default `recvWindow` (ms) the server applies when none is sent.
pub const DEFAULT_RECV_WINDOW_MS: u32 = 5000;
/// Largest `recvWindow` the server accepts.
pub const MAX_RECV_WINDOW_MS: u32 = 60_000;

/// The crate-wide API key pair and self-redacting, zero-on-drop secret (`crate::secret`).
pub use crate::secret::{Credentials, Secret};

/// `HMAC_SHA256(secret, payload)` as 64 lowercase hex bytes into `out`. No allocation.
pub fn sign_into(secret: &[u8], payload: &[u8], out: &mut [u8; 64]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // HMAC accepts keys of any length.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 0xf) as usize];
    }
}

/// `lowercase hex(HMAC_SHA256(secret, payload))`.
pub fn sign(secret: &Secret, payload: &str) -> String {
    let mut out = [0u8; 64];
    sign_into(secret.expose_bytes(), payload.as_bytes(), &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encode a query value (RFC 3986 unreserved kept, upper-case hex otherwise).
pub fn url_encode(s: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.push(c as char);
        } else {
            out.push('%');
            out.push(HEX[(c >> 4) as usize] as char);
            out.push(HEX[(c & 0xf) as usize] as char);
        }
    }
}

/// HTTP method of a signed request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET` (list listen keys).
    Get,
    /// `POST` (create a listen key).
    Post,
    /// `PUT` (keep a listen key alive).
    Put,
    /// `DELETE` (close a listen key).
    Delete,
}

impl HttpMethod {
    /// The method token as sent on the request line (`GET`, `POST`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
        }
    }
}

/// A signed REST request ready for an HTTP client: no body (parameters are in the query).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// HTTP method to send it with.
    pub method: HttpMethod,
    /// Path and query including `&signature=…`, e.g.
    /// `/api/v3/userDataStream?recvWindow=5000&timestamp=…&signature=…`.
    pub path_and_query: String,
    /// `X-MEXC-APIKEY` and `Content-Type: application/json`.
    pub headers: [(&'static str, String); 2],
}

impl SignedRequest {
    /// Full URL against a base such as [`super::REST_BASE`] or a loopback venue.
    pub fn url(&self, base: &str) -> String {
        format!("{}{}", base.trim_end_matches('/'), self.path_and_query)
    }
}

impl fmt::Debug for SignedRequest {
    /// Method, path and parameter names; the values of `listenKey` and `signature` and every
    /// header value (the API key) are redacted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedRequest")
            .field("method", &self.method)
            .field("path_and_query", &RedactedQuery(&self.path_and_query))
            .field("headers", &[self.headers[0].0, self.headers[1].0])
            .finish()
    }
}

/// `path?a=1&listenKey=<redacted>&signature=<redacted>` for `Debug`: the values of the
/// parameters that are credentials (a listen key is a bearer token for the user stream; a
/// signature is replayable within `recvWindow`) are not shown.
pub(crate) struct RedactedQuery<'a>(pub(crate) &'a str);

impl fmt::Debug for RedactedQuery<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (path, query) = self.0.split_once('?').unwrap_or((self.0, ""));
        f.write_str("\"")?;
        f.write_str(path)?;
        for (i, kv) in query.split('&').filter(|kv| !kv.is_empty()).enumerate() {
            f.write_str(if i == 0 { "?" } else { "&" })?;
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            f.write_str(k)?;
            if kv.contains('=') {
                f.write_str("=")?;
                let secret = matches!(k, "listenKey" | "signature");
                f.write_str(if secret { "<redacted>" } else { v })?;
            }
        }
        f.write_str("\"")
    }
}

/// Build a signed request over `params` (name, value) in the given order, then
/// `timestamp` (and `recvWindow` when given) appended, then `signature`.
pub fn signed_request(
    creds: &Credentials,
    method: HttpMethod,
    path: &str,
    params: &[(&str, &str)],
    timestamp_ms: i64,
    recv_window_ms: Option<u32>,
) -> SignedRequest {
    let mut query = String::with_capacity(128);
    for (name, value) in params {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        url_encode(value, &mut query);
    }
    if let Some(w) = recv_window_ms {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("recvWindow=");
        query.push_str(&w.min(MAX_RECV_WINDOW_MS).to_string());
    }
    if !query.is_empty() {
        query.push('&');
    }
    query.push_str("timestamp=");
    query.push_str(&timestamp_ms.to_string());
    let mut sig = [0u8; 64];
    sign_into(creds.api_secret.expose_bytes(), query.as_bytes(), &mut sig);
    let mut path_and_query = String::with_capacity(path.len() + query.len() + 80);
    path_and_query.push_str(path);
    path_and_query.push('?');
    path_and_query.push_str(&query);
    path_and_query.push_str("&signature=");
    path_and_query.push_str(std::str::from_utf8(&sig).unwrap_or(""));
    SignedRequest {
        method,
        path_and_query,
        headers: [
            (API_KEY_HEADER, creds.api_key.expose().to_string()),
            ("Content-Type", "application/json".to_string()),
        ],
    }
}

/// `POST /api/v3/userDataStream?[recvWindow=…&]timestamp=…&signature=…` — create a listen key.
pub fn create_listen_key_request(
    creds: &Credentials,
    timestamp_ms: i64,
    recv_window_ms: Option<u32>,
) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Post,
        USER_DATA_STREAM_PATH,
        &[],
        timestamp_ms,
        recv_window_ms,
    )
}

/// `PUT /api/v3/userDataStream?listenKey=…&timestamp=…&signature=…` — extend to 60 min.
pub fn keepalive_listen_key_request(
    creds: &Credentials,
    listen_key: &str,
    timestamp_ms: i64,
    recv_window_ms: Option<u32>,
) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Put,
        USER_DATA_STREAM_PATH,
        &[("listenKey", listen_key)],
        timestamp_ms,
        recv_window_ms,
    )
}

/// `DELETE /api/v3/userDataStream?listenKey=…&timestamp=…&signature=…` — close the stream.
pub fn close_listen_key_request(
    creds: &Credentials,
    listen_key: &str,
    timestamp_ms: i64,
    recv_window_ms: Option<u32>,
) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Delete,
        USER_DATA_STREAM_PATH,
        &[("listenKey", listen_key)],
        timestamp_ms,
        recv_window_ms,
    )
}

/// `GET /api/v3/userDataStream?timestamp=…&signature=…` — list valid keys.
pub fn list_listen_keys_request(creds: &Credentials, timestamp_ms: i64) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Get,
        USER_DATA_STREAM_PATH,
        &[],
        timestamp_ms,
        None,
    )
}

/// MEXC REST error codes worth acting on (protocols.md §1.9). `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MexcApiError {
    /// 602 "signature verification failed", 700002 "signature not valid".
    BadSignature,
    /// 700001 API-key format invalid.
    ApiKeyFormat,
    /// 700003 timestamp outside recvWindow (clock skew): resync the clock.
    TimestampOutsideRecvWindow,
    /// 700005 recvWindow must be < 60000.
    RecvWindowTooLarge,
    /// 700006 IP not in the key's whitelist.
    IpNotWhitelisted,
    /// 700007 key lacks the permission (listen keys need SPOT_ACCOUNT_R).
    NoPermission,
    /// 10072 invalid access key.
    InvalidAccessKey,
    /// 26 operation not allowed.
    OperationNotAllowed,
    /// HTTP 429 or code 429: back off.
    TooManyRequests,
    /// HTTP 403 (WAF).
    Forbidden,
    /// The listen key is unknown or expired: `730708 listen key information error`
    /// (mexcdevelop/mexc-api-demo issue #35, a keep-alive answered so), `730705 listenKey does
    /// not exist`. The only keep-alive answer after which a new key is needed.
    ListenKeyInvalid,
    /// Any other code.
    Other(i64),
}

impl MexcApiError {
    /// Map a body `code`.
    pub const fn from_code(code: i64) -> Self {
        match code {
            602 | 700002 => MexcApiError::BadSignature,
            700001 => MexcApiError::ApiKeyFormat,
            700003 => MexcApiError::TimestampOutsideRecvWindow,
            700005 => MexcApiError::RecvWindowTooLarge,
            700006 => MexcApiError::IpNotWhitelisted,
            700007 => MexcApiError::NoPermission,
            10072 => MexcApiError::InvalidAccessKey,
            26 => MexcApiError::OperationNotAllowed,
            429 => MexcApiError::TooManyRequests,
            730705 | 730708 => MexcApiError::ListenKeyInvalid,
            other => MexcApiError::Other(other),
        }
    }

    /// Whether retrying later (after backoff or a clock resync) can succeed; credential and
    /// permission problems need an operator.
    pub const fn is_retryable(self) -> bool {
        matches!(
            self,
            MexcApiError::TimestampOutsideRecvWindow
                | MexcApiError::TooManyRequests
                | MexcApiError::Forbidden
                | MexcApiError::ListenKeyInvalid
                | MexcApiError::Other(_)
        )
    }
}

impl fmt::Display for MexcApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MexcApiError::BadSignature => f.write_str("signature rejected"),
            MexcApiError::ApiKeyFormat => f.write_str("API key format invalid"),
            MexcApiError::TimestampOutsideRecvWindow => {
                f.write_str("timestamp outside recvWindow (clock skew)")
            }
            MexcApiError::RecvWindowTooLarge => f.write_str("recvWindow too large"),
            MexcApiError::IpNotWhitelisted => f.write_str("IP not whitelisted for this key"),
            MexcApiError::NoPermission => f.write_str("API key lacks permission"),
            MexcApiError::InvalidAccessKey => f.write_str("invalid access key"),
            MexcApiError::OperationNotAllowed => f.write_str("operation not allowed"),
            MexcApiError::TooManyRequests => f.write_str("too many requests"),
            MexcApiError::Forbidden => f.write_str("forbidden (WAF)"),
            MexcApiError::ListenKeyInvalid => f.write_str("listen key unknown or expired"),
            MexcApiError::Other(c) => write!(f, "error code {c}"),
        }
    }
}

/// Cold-path REST failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MexcRestError {
    /// The venue answered with an error (`{"code":…,"msg":…}` or an error HTTP status).
    #[error("MEXC {kind} (HTTP {http_status}, code {code:?}): {msg}")]
    Api {
        /// The error mapped from `code` (or from the status when the body has none).
        kind: MexcApiError,
        /// HTTP status of the answer.
        http_status: u16,
        /// Body `code` as sent (number or numeric string); `None` if absent.
        code: Option<i64>,
        /// Body `msg`, else the first 256 bytes of the body.
        msg: String,
    },
    /// The body is not the JSON expected.
    #[error("MEXC REST body (HTTP {http_status}) not understood: {source}")]
    Json {
        /// HTTP status of the answer.
        http_status: u16,
        /// What serde_json refused.
        #[source]
        source: serde_json::Error,
    },
    /// A required field is absent.
    #[error("MEXC REST body lacks `{0}`")]
    MissingField(&'static str),
    /// A price or size failed exact parsing.
    #[error("MEXC REST field `{0}`: {1}")]
    Number(&'static str, crate::types::NumError),
}

impl MexcRestError {
    /// The mapped API error, if the venue sent one.
    pub fn api_error(&self) -> Option<MexcApiError> {
        match self {
            MexcRestError::Api { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<serde_json::Value>,
    msg: Option<String>,
}

fn code_of(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Map a non-success answer (HTTP status + body) to [`MexcRestError::Api`]. A body code wins
/// over the status; HTTP 429/418 → `TooManyRequests`, 403 → `Forbidden`.
pub fn parse_error_body(http_status: u16, body: &[u8]) -> MexcRestError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|b| b.code.as_ref())
        .and_then(code_of);
    let msg = parsed
        .and_then(|b| b.msg)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(256)]).into_owned());
    let kind = match (code, http_status) {
        (Some(c), _) if c != 0 && c != 200 => MexcApiError::from_code(c),
        (_, 429) | (_, 418) => MexcApiError::TooManyRequests,
        (_, 403) => MexcApiError::Forbidden,
        (Some(c), _) => MexcApiError::Other(c),
        (None, s) => MexcApiError::Other(s as i64),
    };
    MexcRestError::Api {
        kind,
        http_status,
        code,
        msg,
    }
}

#[derive(Deserialize)]
struct ListenKeyBody {
    #[serde(rename = "listenKey")]
    listen_key: Option<serde_json::Value>,
    code: Option<serde_json::Value>,
}

/// Parse the answer to POST / PUT / DELETE `/api/v3/userDataStream`: `{"listenKey":"…"}` →
/// the key; an error body or status → [`MexcRestError::Api`].
pub fn parse_listen_key_response(http_status: u16, body: &[u8]) -> Result<String, MexcRestError> {
    if !(200..300).contains(&http_status) {
        return Err(parse_error_body(http_status, body));
    }
    let b: ListenKeyBody = serde_json::from_slice(body).map_err(|source| MexcRestError::Json {
        http_status,
        source,
    })?;
    match b.listen_key {
        Some(serde_json::Value::String(k)) if !k.is_empty() => Ok(k),
        _ if b
            .code
            .as_ref()
            .and_then(code_of)
            .is_some_and(|c| c != 0 && c != 200) =>
        {
            Err(parse_error_body(http_status, body))
        }
        _ => Err(MexcRestError::MissingField("listenKey")),
    }
}

/// Parse the answer to GET `/api/v3/userDataStream`: `{"listenKey":["…","…"]}`.
pub fn parse_listen_key_list(http_status: u16, body: &[u8]) -> Result<Vec<String>, MexcRestError> {
    if !(200..300).contains(&http_status) {
        return Err(parse_error_body(http_status, body));
    }
    let b: ListenKeyBody = serde_json::from_slice(body).map_err(|source| MexcRestError::Json {
        http_status,
        source,
    })?;
    match b.listen_key {
        Some(serde_json::Value::Array(a)) => Ok(a
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()),
        Some(serde_json::Value::String(k)) => Ok(vec![k]),
        _ if b
            .code
            .as_ref()
            .and_then(code_of)
            .is_some_and(|c| c != 0 && c != 200) =>
        {
            Err(parse_error_body(http_status, body))
        }
        _ => Err(MexcRestError::MissingField("listenKey")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Vectors computed with Python 3 on this VM:
    //   python3 -c "import hmac,hashlib; print(hmac.new(K.encode(), M.encode(), hashlib.sha256).hexdigest())"
    const KEY: &str = "45d0b3c26f2644f19bfb98b07741b2f5";

    #[test]
    fn hmac_matches_python_vectors() {
        let s = Secret::new(KEY);
        assert_eq!(
            sign(&s, "recvWindow=5000&timestamp=1644489390087"),
            "1103ce19f47c037fc03b8b9d674e10ee76e53272851eb2a3b10321cd353fb9bf"
        );
        assert_eq!(
            sign(
                &s,
                "listenKey=pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1&timestamp=1644489390087"
            ),
            "42926b31ac527c30f62c2d5c0a96a7f6cee17e54e8b2a5ef25ebb570ac39cdec"
        );
        // The well-known HMAC-SHA256 example (also in Wikipedia's HMAC article).
        assert_eq!(
            sign(
                &Secret::new("key"),
                "The quick brown fox jumps over the lazy dog"
            ),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn listen_key_requests_are_signed_over_the_query() {
        let c = Credentials::new("mx0vglabcdef", KEY);
        let r = create_listen_key_request(&c, 1644489390087, Some(5000));
        assert_eq!(r.method, HttpMethod::Post);
        assert_eq!(
            r.path_and_query,
            "/api/v3/userDataStream?recvWindow=5000&timestamp=1644489390087&signature=1103ce19f47c037fc03b8b9d674e10ee76e53272851eb2a3b10321cd353fb9bf"
        );
        assert_eq!(r.headers[0], ("X-MEXC-APIKEY", "mx0vglabcdef".to_string()));
        assert_eq!(
            r.url("https://api.mexc.com/"),
            format!("https://api.mexc.com{}", r.path_and_query)
        );
        let key = "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1";
        let r = keepalive_listen_key_request(&c, key, 1644489390087, None);
        assert_eq!(r.method, HttpMethod::Put);
        assert_eq!(
            r.path_and_query,
            format!("/api/v3/userDataStream?listenKey={key}&timestamp=1644489390087&signature=42926b31ac527c30f62c2d5c0a96a7f6cee17e54e8b2a5ef25ebb570ac39cdec")
        );
        let r = close_listen_key_request(&c, key, 1644489390087, None);
        assert_eq!(r.method, HttpMethod::Delete);
        assert!(r
            .path_and_query
            .ends_with("42926b31ac527c30f62c2d5c0a96a7f6cee17e54e8b2a5ef25ebb570ac39cdec"));
        let mut e = String::new();
        url_encode("a b/+é", &mut e);
        assert_eq!(e, "a%20b%2F%2B%C3%A9");
    }

    #[test]
    fn secrets_are_redacted() {
        let c = Credentials::new("mx0vglabcdef", "supersecretvalue");
        let d = format!("{c:?} {} {:?}", c.api_secret, c.api_secret);
        assert!(!d.contains("supersecretvalue"), "{d}");
        assert!(!d.contains("mx0vglabcdef"), "{d}");
        assert!(d.contains("<redacted>"));
        let r = create_listen_key_request(&c, 1, None);
        assert!(!format!("{r:?}").contains("mx0vglabcdef"));
    }

    /// Issue 12, defect 5 (listen key): `SignedRequest`'s `Debug` shows neither the API key,
    /// nor the listen key (raw or encoded), nor the signature.
    #[test]
    fn issue12_defect5_signed_request_debug_redacts_key_material() {
        let c = Credentials::new("mx0vglabcdef", KEY);
        let lk = "LK+secret/listen=key&0123456789";
        let r = keepalive_listen_key_request(&c, lk, 1644489390087, Some(5000));
        let mut enc = String::new();
        url_encode(lk, &mut enc);
        assert!(r.path_and_query.contains(&format!("listenKey={enc}&")));
        let sig = r.path_and_query.rsplit_once("signature=").unwrap().1;
        assert_eq!(sig.len(), 64);
        let d = format!("{r:?}");
        for secret in ["mx0vglabcdef", KEY, lk, enc.as_str(), sig, "0123456789"] {
            assert!(!d.contains(secret), "{secret:?} in {d}");
        }
        assert!(
            d.contains(
                "/api/v3/userDataStream?listenKey=<redacted>&recvWindow=5000&timestamp=1644489390087&signature=<redacted>"
            ),
            "{d}"
        );
        assert!(d.contains("X-MEXC-APIKEY"), "{d}");
    }

    #[test]
    fn listen_key_bodies_and_errors() {
        assert_eq!(
            parse_listen_key_response(200, br#"{"listenKey":"abc"}"#).unwrap(),
            "abc"
        );
        let e = parse_listen_key_response(
            400,
            br#"{"code":700002,"msg":"Signature for this request is not valid."}"#,
        )
        .unwrap_err();
        assert_eq!(e.api_error(), Some(MexcApiError::BadSignature));
        assert!(e.to_string().contains("Signature for this request"));
        let cases = [
            (602, MexcApiError::BadSignature),
            (700003, MexcApiError::TimestampOutsideRecvWindow),
            (700006, MexcApiError::IpNotWhitelisted),
            (700007, MexcApiError::NoPermission),
            (10072, MexcApiError::InvalidAccessKey),
            (429, MexcApiError::TooManyRequests),
            (12345, MexcApiError::Other(12345)),
        ];
        for (code, kind) in cases {
            let body = format!(r#"{{"code":{code},"msg":"x"}}"#);
            assert_eq!(
                parse_error_body(400, body.as_bytes()).api_error(),
                Some(kind)
            );
        }
        // An error body under a 200 status.
        assert_eq!(
            parse_listen_key_response(200, br#"{"code":10072,"msg":"Api key info invalid"}"#)
                .unwrap_err()
                .api_error(),
            Some(MexcApiError::InvalidAccessKey)
        );
        assert_eq!(
            parse_error_body(429, b"<html>busy</html>").api_error(),
            Some(MexcApiError::TooManyRequests)
        );
        assert_eq!(
            parse_error_body(403, b"").api_error(),
            Some(MexcApiError::Forbidden)
        );
        assert!(matches!(
            parse_listen_key_response(200, b"nope"),
            Err(MexcRestError::Json { .. })
        ));
        assert!(MexcApiError::TimestampOutsideRecvWindow.is_retryable());
        assert!(!MexcApiError::BadSignature.is_retryable());
    }
}
