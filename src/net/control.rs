//! Control thread: blocking REST (ureq 3 over rustls/ring) off the feed thread.
//!
//! Requests go in through one `ArrayQueue`, replies come back through another; the feed thread
//! never waits. The usual wiring: the venue [`Handler`](super::Handler) owns the
//! [`ControlClient`], `submit`s a snapshot request when it needs one and polls
//! [`ControlClient::try_reply`] from `on_tick` (called every loop iteration).
//!
//! Trust: the rule of [`extra_ca_applies`](super::extra_ca_applies), the same as the
//! WebSocket reactor's. With `ControlConfig::extra_root_ca` set the thread builds a second agent
//! that trusts only that CA and uses it for the hosts listed in `extra_ca_hosts` (default: the
//! loopback names); every other host goes through the webpki-roots agent. Verification is
//! never disabled, redirects are never followed, and plain `http://` is refused for
//! non-loopback hosts.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_queue::ArrayQueue;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Agent;

use super::{CaCert, NetError};

/// The HTTP methods the venues' REST APIs use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HttpMethod {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// DELETE.
    Delete,
}

/// One REST call. Its `Debug` shows the URL without its query (listen key, signature) and
/// header names only (an API key is a header value).
#[derive(Clone)]
pub struct HttpRequest {
    /// Caller's id, echoed in the reply.
    pub id: u64,
    /// The method.
    pub method: HttpMethod,
    /// Full URL with the query string.
    pub url: String,
    /// Extra headers (API key, signature, timestamp).
    pub headers: Vec<(String, String)>,
    /// Request body (empty for GET).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, query) = self.url.split_once('?').unwrap_or((&self.url, ""));
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("HttpRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("url", &path)
            .field("query", &if query.is_empty() { "" } else { "<redacted>" })
            .field("headers", &names)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Transport-level failure (an HTTP error status is *not* an error: see `HttpReply::status`).
/// Redirects are never followed: a 3xx is handed back as a status reply like any other.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// The request could not be built (URL, header).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// No answer in time.
    #[error("timeout")]
    Timeout,
    /// TLS failed (certificate, handshake).
    #[error("tls: {0}")]
    Tls(String),
    /// Connecting, sending or reading failed.
    #[error("connect/io: {0}")]
    Io(String),
    /// The answer was larger than the limit.
    #[error("response body larger than limit")]
    BodyTooLarge,
}

/// Answer to [`HttpRequest`] with the same `id`.
#[derive(Debug)]
pub struct HttpReply {
    /// The request's id.
    pub id: u64,
    /// HTTP status and body, or why there is none.
    pub result: Result<(u16, Vec<u8>), ControlError>,
}

/// The control thread's settings.
#[derive(Clone, Debug)]
pub struct ControlConfig {
    /// Depth of each queue.
    pub queue_len: usize,
    /// Whole-call timeout.
    pub timeout: Duration,
    /// Largest accepted response body.
    pub max_body_bytes: u64,
    /// An extra trusted CA (loopback venue, proxy) beside the web PKI roots.
    pub extra_root_ca: Option<CaCert>,
    /// Hosts (exact, ASCII case-insensitive) whose TLS is verified against `extra_root_ca`
    /// instead of webpki: [`extra_ca_applies`](super::extra_ca_applies).
    pub extra_ca_hosts: Vec<String>,
    /// Core to pin the control thread to (keep it off the feed cores).
    pub core: Option<usize>,
    /// The venue's server-time URL (Gate.io `…/api/v4/spot/time`, see [`super::clock`]): when
    /// set, the control thread measures the venue's clock offset at start, every 10 min and on
    /// [`ControlClient::resync_clock`]; [`ControlClient::server_now_ms`] signs with it.
    pub server_time_url: Option<String>,
}

impl Default for ControlConfig {
    /// 64-deep queues, 10 s timeout, 16 MiB bodies, no extra CA, hosts `127.0.0.1`,
    /// `localhost`, `::1`, no pinning.
    fn default() -> Self {
        Self {
            queue_len: 64,
            timeout: Duration::from_secs(10),
            max_body_bytes: 16 << 20,
            extra_root_ca: None,
            extra_ca_hosts: super::loopback_hosts(),
            core: None,
            server_time_url: None,
        }
    }
}

/// `submit` refused: the queue is full (the request is handed back) or the thread stopped.
#[derive(Debug)]
pub enum SubmitError {
    /// The request queue is full; the request is handed back.
    Full(HttpRequest),
    /// The control thread has stopped; the request is handed back.
    Stopped(HttpRequest),
}

struct Shared {
    requests: ArrayQueue<HttpRequest>,
    replies: ArrayQueue<HttpReply>,
    stop: AtomicBool,
    /// The venue's clock minus ours (ms), measured by the control thread.
    clock_offset_ms: AtomicI64,
    /// Measure the clock again at the next chance.
    clock_resync: AtomicBool,
    /// A first measurement finished (successful or not).
    clock_done: AtomicBool,
    /// No thread behind it (a replay): requests are accepted and dropped.
    detached: bool,
}

/// The other end of a [`ControlClient::detached`] client: hands it recorded replies.
pub struct ReplyInjector {
    shared: Arc<Shared>,
}

impl ReplyInjector {
    /// Queue a reply for the client's next `try_reply`; `false` if the queue is full.
    pub fn push(&self, reply: HttpReply) -> bool {
        self.shared.replies.push(reply).is_ok()
    }
}

/// Feed-side handle: lock-free, never blocks.
pub struct ControlClient {
    shared: Arc<Shared>,
    thread: std::thread::Thread,
}

impl ControlClient {
    /// A client with no thread and no network (replay, `crate::record::replay`): `submit`
    /// accepts and drops every request, replies come only from the returned injector.
    pub fn detached(queue_len: usize) -> (ControlClient, ReplyInjector) {
        let shared = Arc::new(Shared {
            requests: ArrayQueue::new(1),
            replies: ArrayQueue::new(queue_len.max(1)),
            stop: AtomicBool::new(false),
            clock_offset_ms: AtomicI64::new(0),
            clock_resync: AtomicBool::new(false),
            clock_done: AtomicBool::new(true),
            detached: true,
        });
        (
            ControlClient {
                shared: shared.clone(),
                thread: std::thread::current(),
            },
            ReplyInjector { shared },
        )
    }

    /// Queue a request (wakes the control thread).
    pub fn submit(&self, req: HttpRequest) -> Result<(), SubmitError> {
        if self.shared.detached {
            return Ok(());
        }
        if self.shared.stop.load(Ordering::Relaxed) {
            return Err(SubmitError::Stopped(req));
        }
        self.shared.requests.push(req).map_err(SubmitError::Full)?;
        self.thread.unpark();
        Ok(())
    }

    /// A finished reply, if any.
    #[inline]
    pub fn try_reply(&self) -> Option<HttpReply> {
        self.shared.replies.pop()
    }

    /// The venue's time now (ms): the local wall clock plus the offset the control thread
    /// measured from `ControlConfig::server_time_url` (0 before the first measurement or
    /// without one). No I/O, no lock.
    #[inline]
    pub fn server_now_ms(&self) -> i64 {
        crate::types::wall_ms().saturating_add(self.shared.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// The measured offset of the venue's clock from ours (ms).
    pub fn clock_offset_ms(&self) -> i64 {
        self.shared.clock_offset_ms.load(Ordering::Relaxed)
    }

    /// Wait (cold path: engine start-up, never a feed thread) until the first clock
    /// measurement finished or `limit` passed; whether it finished. Immediate without a
    /// `server_time_url`.
    pub fn wait_clock(&self, limit: Duration) -> bool {
        let until = std::time::Instant::now() + limit;
        while !self.shared.clock_done.load(Ordering::Acquire) {
            if std::time::Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    }

    /// Ask the control thread to measure the venue's clock again (a clock refusal).
    pub fn resync_clock(&self) {
        self.shared.clock_resync.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }

    /// Ask the control thread to exit (after its current call).
    pub fn stop(&self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.thread.unpark();
    }
}

impl Drop for ControlClient {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The blocking HTTPS thread that serves a feed's REST calls (snapshots, listen keys).
pub struct ControlThread;

impl ControlThread {
    /// Start the control thread. Stop it with [`ControlClient::stop`] or by dropping the client.
    pub fn spawn(cfg: ControlConfig) -> Result<(ControlClient, JoinHandle<()>), NetError> {
        let public = agent(&cfg, RootCerts::WebPki);
        let extra = match &cfg.extra_root_ca {
            Some(ca) => {
                let certs: Vec<Certificate<'static>> = ca
                    .ders()?
                    .iter()
                    .map(|d| Certificate::from_der(d).to_owned())
                    .collect();
                Some(agent(&cfg, RootCerts::new_with_certs(&certs)))
            }
            None => None,
        };
        let shared = Arc::new(Shared {
            requests: ArrayQueue::new(cfg.queue_len.max(1)),
            replies: ArrayQueue::new(cfg.queue_len.max(1)),
            stop: AtomicBool::new(false),
            clock_offset_ms: AtomicI64::new(0),
            clock_resync: AtomicBool::new(true),
            clock_done: AtomicBool::new(cfg.server_time_url.is_none()),
            detached: false,
        });
        let sh = shared.clone();
        let handle = std::thread::Builder::new()
            .name("cexfeed-control".into())
            .spawn(move || {
                if let Some(core) = cfg.core {
                    let _ = core_affinity::set_for_current(core_affinity::CoreId { id: core });
                }
                let pick = |url: &str| -> &Agent {
                    let use_extra = extra.is_some()
                        && host_of(url)
                            .is_some_and(|h| super::extra_ca_applies(h, &cfg.extra_ca_hosts));
                    if use_extra {
                        extra.as_ref().unwrap_or(&public)
                    } else {
                        &public
                    }
                };
                let mut clock_next = std::time::Instant::now();
                while !sh.stop.load(Ordering::Relaxed) {
                    if let Some(url) = &cfg.server_time_url {
                        if sh.clock_resync.load(Ordering::Relaxed)
                            || std::time::Instant::now() >= clock_next
                        {
                            sh.clock_resync.store(false, Ordering::Relaxed);
                            let ag = pick(url);
                            let ok = measure_clock(ag, url, cfg.max_body_bytes, &sh);
                            sh.clock_done.store(true, Ordering::Release);
                            clock_next = std::time::Instant::now()
                                + Duration::from_nanos(if ok {
                                    super::clock::REMEASURE_NS
                                } else {
                                    5_000_000_000
                                });
                        }
                    }
                    let Some(req) = sh.requests.pop() else {
                        std::thread::park_timeout(Duration::from_millis(100));
                        continue;
                    };
                    let ag = pick(&req.url);
                    let id = req.id;
                    let result = call(ag, req, cfg.max_body_bytes);
                    let mut reply = HttpReply { id, result };
                    // Replies queue full: the feed side is not polling; wait for room (bounded
                    // by stop), never drop a reply silently.
                    loop {
                        match sh.replies.push(reply) {
                            Ok(()) => break,
                            Err(r) => {
                                if sh.stop.load(Ordering::Relaxed) {
                                    break;
                                }
                                reply = r;
                                std::thread::sleep(Duration::from_millis(1));
                            }
                        }
                    }
                }
            })
            .map_err(NetError::Io)?;
        let thread = handle.thread().clone();
        Ok((ControlClient { shared, thread }, handle))
    }
}

/// One server-time measurement into `sh.clock_offset_ms` (see [`super::clock`]); whether it
/// succeeded (a failure keeps the last offset).
fn measure_clock(ag: &Agent, url: &str, max_body: u64, sh: &Shared) -> bool {
    let sent = crate::types::wall_ms();
    let req = HttpRequest {
        id: 0,
        method: HttpMethod::Get,
        url: url.to_string(),
        headers: Vec::new(),
        body: Vec::new(),
    };
    let server = match call(ag, req, max_body) {
        Ok((status, body)) => super::clock::parse_server_time(status, &body),
        Err(_) => None,
    };
    let mut c = super::clock::ServerClock::new();
    c.sent_at(sent);
    if c.on_reply_at(server, crate::types::wall_ms(), 0) {
        sh.clock_offset_ms.store(c.offset_ms(), Ordering::Relaxed);
        true
    } else {
        false
    }
}

fn agent(cfg: &ControlConfig, roots: RootCerts) -> Agent {
    let config = Agent::config_builder()
        .http_status_as_error(false)
        // Never follow a redirect: it would re-send the request's headers (the API key) and
        // signed query to wherever `Location` points. A 3xx comes back as a status reply.
        .max_redirects(0)
        // Identify ourselves (issue 13, finding 12), as on the WebSocket upgrade.
        .user_agent(super::USER_AGENT)
        .timeout_global(Some(cfg.timeout))
        .tls_config(TlsConfig::builder().root_certs(roots).build())
        .build();
    Agent::new_with_config(config)
}

/// Whether `host` (as in a URL, IPv6 without brackets) is this machine: `localhost`, or a
/// loopback address (127.0.0.0/8, `::1`). Plain `http://` and `ws://` are allowed only there.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Plain `http://` to a host that is not loopback is refused: API keys, signatures and
/// listen keys would cross the network in clear. The error names the host, never the URL
/// (its query may carry a listen key or a signature).
fn check_scheme(url: &str) -> Result<(), ControlError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    match (url.starts_with("http://"), host_of(url)) {
        (true, Some(h)) if is_loopback_host(h) => Ok(()),
        (true, Some(h)) => Err(ControlError::BadRequest(format!(
            "plain http:// to non-loopback host {h} refused (use https://)"
        ))),
        _ => Err(ControlError::BadRequest(
            "URL must be https:// (http:// only for loopback hosts)".into(),
        )),
    }
}

/// Host part of `scheme://host[:port]/...` (brackets stripped for IPv6).
pub(crate) fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let auth = rest.split(['/', '?']).next()?;
    let auth = auth.rsplit_once('@').map_or(auth, |(_, a)| a);
    if let Some(v6) = auth.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(auth.rsplit_once(':').map_or(auth, |(h, _)| h))
}

fn call(agent: &Agent, req: HttpRequest, max_body: u64) -> Result<(u16, Vec<u8>), ControlError> {
    use ureq::http;
    check_scheme(&req.url)?;
    let method = match req.method {
        HttpMethod::Get => http::Method::GET,
        HttpMethod::Post => http::Method::POST,
        HttpMethod::Put => http::Method::PUT,
        HttpMethod::Delete => http::Method::DELETE,
    };
    let mut b = http::Request::builder().method(method).uri(&req.url);
    for (k, v) in &req.headers {
        b = b.header(k.as_str(), v.as_str());
    }
    let request = b
        .body(req.body)
        .map_err(|e| ControlError::BadRequest(e.to_string()))?;
    let mut resp = agent.run(request).map_err(map_err)?;
    let status = resp.status().as_u16();
    let body = resp
        .body_mut()
        .with_config()
        .limit(max_body)
        .read_to_vec()
        .map_err(map_err)?;
    Ok((status, body))
}

fn map_err(e: ureq::Error) -> ControlError {
    match e {
        ureq::Error::Timeout(_) => ControlError::Timeout,
        ureq::Error::Tls(m) => ControlError::Tls(m.to_string()),
        ureq::Error::Rustls(e) => ControlError::Tls(e.to_string()),
        ureq::Error::BodyExceedsLimit(_) => ControlError::BodyTooLarge,
        ureq::Error::BadUri(m) => ControlError::BadRequest(m),
        ureq::Error::Http(e) => ControlError::BadRequest(e.to_string()),
        other => ControlError::Io(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::{check_scheme, host_of, is_loopback_host};

    #[test]
    fn plain_http_only_to_loopback() {
        for h in ["localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["api.mexc.com", "10.0.0.1", "localhost.evil.com", "::2", ""] {
            assert!(!is_loopback_host(h), "{h}");
        }
        assert!(check_scheme("https://api.mexc.com/api/v3/depth").is_ok());
        assert!(check_scheme("http://127.0.0.1:8080/x").is_ok());
        assert!(check_scheme("http://[::1]:8080/x").is_ok());
        let e = check_scheme("http://api.mexc.com/x?listenKey=secretkey").unwrap_err();
        assert!(e.to_string().contains("api.mexc.com"), "{e}");
        assert!(!e.to_string().contains("secretkey"), "{e}");
        assert!(check_scheme("ftp://127.0.0.1/x").is_err());
    }

    #[test]
    fn host_of_handles_ports_ipv6_and_userinfo() {
        assert_eq!(host_of("https://127.0.0.1:8443/api?x=1"), Some("127.0.0.1"));
        assert_eq!(
            host_of("https://api.mexc.com/api/v3/depth"),
            Some("api.mexc.com")
        );
        assert_eq!(host_of("https://[::1]:9/x"), Some("::1"));
        assert_eq!(host_of("http://u:p@localhost/x"), Some("localhost"));
        assert_eq!(host_of("nonsense"), None);
    }
}
