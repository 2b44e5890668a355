//! Sockets, TLS, a minimal HTTP/1.1 server (REST + WebSocket upgrade) and path routing.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use super::{KeepAliveFault, Scenario, Shared};
use crate::conn::Io;
use crate::http::{mexc_err, mexc_verify, ws_service, Request, WsService};
use crate::num::{Market, VenueId};
use crate::sim::Symbol;

pub(crate) struct Tls {
    pub config: Arc<ServerConfig>,
    pub ca_der: Vec<u8>,
    pub ca_pem: String,
    pub ca_path: PathBuf,
    /// The private directory created for the CA (removed when the venue stops).
    pub owned_dir: Option<PathBuf>,
}

/// 64 random bits from the OS (a clock-derived value if /dev/urandom is unreadable; the
/// name only has to be hard to guess, exclusivity comes from `mkdir`).
fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok()
    {
        return u64::from_ne_bytes(b);
    }
    crate::num::now_ns() ^ ((std::process::id() as u64) << 32)
}

/// A fresh directory `<temp>/cexfeed-venue-<port>-<random>`, mode 0700, created exclusively
/// (`mkdir` fails on any existing name, a planted link included; another name is tried).
pub(crate) fn private_dir(port: u16) -> io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = std::env::temp_dir();
    for _ in 0..32 {
        let d = base.join(format!("cexfeed-venue-{port}-{:016x}", random_u64()));
        match std::fs::DirBuilder::new().mode(0o700).create(&d) {
            Ok(()) => return Ok(d),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no fresh directory name for the CA",
    ))
}

/// Create `path` exclusively (`O_CREAT|O_EXCL|O_NOFOLLOW`: an existing file or link there is
/// an error, never followed or overwritten) and write `data` to it.
fn write_new(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Put the CA PEM in place: `dir/ca.pem` in a fresh private directory (`dir` = `None`), or in
/// the given directory (created 0700 when missing) through an exclusively created temporary
/// file renamed over `ca.pem` (a rename replaces a link, it does not write through it).
fn write_ca(dir: Option<&Path>, port: u16, pem: &str) -> io::Result<(PathBuf, Option<PathBuf>)> {
    match dir {
        None => {
            let d = private_dir(port)?;
            let path = d.join("ca.pem");
            if let Err(e) = write_new(&path, pem.as_bytes()) {
                let _ = std::fs::remove_dir(&d);
                return Err(e);
            }
            Ok((path, Some(d)))
        }
        Some(d) => {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)?;
            let path = d.join("ca.pem");
            let tmp = d.join(format!(".ca.pem.{:016x}.tmp", random_u64()));
            write_new(&tmp, pem.as_bytes())?;
            std::fs::rename(&tmp, &path).inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })?;
            Ok((path, None))
        }
    }
}

/// Remove what [`write_ca`] created in its own directory (no recursion, no link following).
pub(crate) fn remove_ca_dir(dir: &Path) {
    let _ = std::fs::remove_file(dir.join("ca.pem"));
    let _ = std::fs::remove_dir(dir);
}

/// The name constraints of the venue's CA: it may vouch for `localhost`, `127.0.0.1` and `::1`
/// only, so a leaked venue CA (its PEM is written to disk and handed to clients as `ca_file`)
/// cannot vouch for a real exchange host.
pub(crate) fn loopback_name_constraints() -> rcgen::NameConstraints {
    let mut v6 = [0u8; 16];
    v6[15] = 1;
    rcgen::NameConstraints {
        permitted_subtrees: vec![
            rcgen::GeneralSubtree::DnsName("localhost".to_string()),
            rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V4([127, 0, 0, 1], [255; 4])),
            rcgen::GeneralSubtree::IpAddress(rcgen::CidrSubnet::V6(v6, [255; 16])),
        ],
        excluded_subtrees: Vec::new(),
    }
}

/// The venue CA's parameters: a CA for server certificates, name-constrained to the loopback
/// names ([`loopback_name_constraints`]).
pub(crate) fn ca_params() -> Result<rcgen::CertificateParams, rcgen::Error> {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cexfeed loopback venue CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.name_constraints = Some(loopback_name_constraints());
    Ok(ca_params)
}

/// CA (name-constrained to the loopback names) + leaf (SAN 127.0.0.1, localhost) generated
/// now; the CA PEM is written by [`write_ca`].
pub(crate) fn make_tls(dir: Option<&Path>, port: u16) -> io::Result<Tls> {
    let err = |e: rcgen::Error| io::Error::other(e.to_string());
    let ca_key = rcgen::KeyPair::generate().map_err(err)?;
    let ca_params = ca_params().map_err(err)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(err)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().map_err(err)?;
    let mut leaf_params =
        rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .map_err(err)?;
    leaf_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "localhost");
    leaf_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).map_err(err)?;
    let chain = vec![
        CertificateDer::from(leaf.der().to_vec()),
        CertificateDer::from(ca_cert.der().to_vec()),
    ];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| io::Error::other(e.to_string()))?;
    let ca_pem = ca_cert.pem();
    let (ca_path, owned_dir) = write_ca(dir, port, &ca_pem)?;
    Ok(Tls {
        config: Arc::new(config),
        ca_der: ca_cert.der().to_vec(),
        ca_pem,
        ca_path,
        owned_dir,
    })
}

pub(crate) fn accept_loop(listener: TcpListener, sh: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    let _ = listener.set_nonblocking(true);
    while !sh.stopping() {
        match listener.accept() {
            Ok((tcp, _)) => {
                sh.counters.connections.fetch_add(1, Ordering::Relaxed);
                // One thread per connection, at most `max_connections` of them.
                if sh.active_conns.fetch_add(1, Ordering::AcqRel) >= sh.cfg.max_connections {
                    sh.active_conns.fetch_sub(1, Ordering::AcqRel);
                    sh.counters.refused.fetch_add(1, Ordering::Relaxed);
                    refuse_conn(tcp, tls.is_some());
                    continue;
                }
                let slot = Slot(sh.clone());
                let sh = sh.clone();
                let tls = tls.clone();
                let _ = std::thread::Builder::new()
                    .name("venue-conn".into())
                    .spawn(move || {
                        let _slot = slot;
                        handle_conn(tcp, sh, tls)
                    });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                let _ = wait_listener(&listener, 20);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn wait_listener(l: &TcpListener, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: l.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, count 1.
    unsafe { libc::poll(&mut p, 1, ms) > 0 }
}

/// Largest request body accepted (Content-Length or the sum of the chunks).
const MAX_BODY: usize = 1 << 20;
/// Largest request head (request line and headers) and largest chunked trailer section.
const MAX_HEAD: usize = 64 * 1024;
/// Longest chunk-size line (size plus extensions).
const MAX_CHUNK_LINE: usize = 4096;
/// A keep-alive connection with no request started is closed after this long.
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(30);
/// Longest a socket read blocks before the stop flag is looked at again.
const READ_SLICE: Duration = Duration::from_millis(250);
/// Blocking writes (HTTP answers) give up after this long.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why no request was read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadErr {
    /// End of stream, socket error, keep-alive idle timeout or venue stopping: close quietly.
    Close,
    /// The whole-request deadline passed while a request was arriving (slow client).
    Timeout,
    /// Malformed or over a limit: answer `code` with `msg`, then close.
    Refuse(u16, &'static str),
}

/// First index of `needle` in `hay[from..]` (absolute).
fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// Read more bytes into `buf`, blocking at most until `deadline`. The socket read timeout is
/// set to what is left of the deadline (in slices of [`READ_SLICE`] so a stopping venue is
/// noticed), so a client trickling bytes cannot stretch the deadline.
fn fill(io: &mut Io, buf: &mut Vec<u8>, deadline: Instant, sh: &Shared) -> Result<(), ReadErr> {
    let mut tmp = [0u8; 4096];
    loop {
        if sh.stopping() {
            return Err(ReadErr::Close);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(ReadErr::Timeout);
        }
        let _ = io.tcp().set_read_timeout(Some(left.min(READ_SLICE)));
        match io.read(&mut tmp) {
            Ok(0) => return Err(ReadErr::Close),
            Ok(n) => {
                buf.extend_from_slice(&tmp[..n]);
                return Ok(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return Err(ReadErr::Close),
        }
    }
}

/// Read one request from `io`; `buf` carries bytes across keep-alive requests. Waits up to
/// [`KEEPALIVE_IDLE`] for a request to start, then `request_timeout` for all of it (head and
/// body). Sizes are capped ([`MAX_HEAD`], [`MAX_BODY`], [`MAX_CHUNK_LINE`]) and every buffer
/// is scanned once (searches resume where the previous one stopped).
pub(crate) fn read_request(
    io: &mut Io,
    buf: &mut Vec<u8>,
    sh: &Shared,
    request_timeout: Duration,
) -> Result<Request, ReadErr> {
    let idle_deadline = Instant::now() + KEEPALIVE_IDLE;
    while buf.is_empty() {
        fill(io, buf, idle_deadline, sh).map_err(|e| match e {
            ReadErr::Timeout => ReadErr::Close,
            e => e,
        })?;
    }
    let deadline = Instant::now() + request_timeout;
    let mut from = 0;
    let head_end = loop {
        if let Some(p) = find(buf, from, b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > MAX_HEAD {
            return Err(ReadErr::Refuse(431, "request header too large"));
        }
        from = buf.len().saturating_sub(3);
        fill(io, buf, deadline, sh)?;
    };
    if head_end > MAX_HEAD {
        return Err(ReadErr::Refuse(431, "request header too large"));
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or("");
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target.clone(), String::new()),
    };
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut req = Request {
        method,
        path,
        query,
        headers,
        body: Vec::new(),
    };
    buf.drain(..head_end);
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    {
        req.body = read_chunked(io, buf, deadline, sh)?;
        return Ok(req);
    }
    let len: usize = match req.header("content-length") {
        None => 0,
        Some(v) => v
            .parse()
            .map_err(|_| ReadErr::Refuse(400, "bad content-length"))?,
    };
    if len > MAX_BODY {
        return Err(ReadErr::Refuse(413, "body too large"));
    }
    while buf.len() < len {
        fill(io, buf, deadline, sh)?;
    }
    req.body = buf.drain(..len).collect();
    Ok(req)
}

/// Parse a chunk-size (hex, at most 16 digits, no sign); `None` when malformed.
fn chunk_size(line: &[u8]) -> Option<u64> {
    let size = line.split(|&b| b == b';').next()?.trim_ascii();
    if size.is_empty() || size.len() > 16 {
        return None;
    }
    size.iter().try_fold(0u64, |acc, &c| {
        let d = (c as char).to_digit(16)?;
        acc.checked_mul(16)?.checked_add(d as u64)
    })
}

/// Index of the next CRLF in `buf`, reading more as needed; lines longer than `max` are refused.
fn line_end(
    io: &mut Io,
    buf: &mut Vec<u8>,
    deadline: Instant,
    sh: &Shared,
    max: usize,
) -> Result<usize, ReadErr> {
    let mut from = 0;
    loop {
        if let Some(p) = find(buf, from, b"\r\n") {
            if p > max {
                break;
            }
            return Ok(p);
        }
        if buf.len() > max {
            break;
        }
        from = buf.len().saturating_sub(1);
        fill(io, buf, deadline, sh)?;
    }
    Err(ReadErr::Refuse(400, "chunk line too long"))
}

/// Decode a chunked body (extensions and trailers ignored). A chunk that would take the body
/// past [`MAX_BODY`] is refused from its size line, before any of it is read.
fn read_chunked(
    io: &mut Io,
    buf: &mut Vec<u8>,
    deadline: Instant,
    sh: &Shared,
) -> Result<Vec<u8>, ReadErr> {
    let mut body = Vec::new();
    loop {
        let end = line_end(io, buf, deadline, sh, MAX_CHUNK_LINE)?;
        let size = chunk_size(&buf[..end]).ok_or(ReadErr::Refuse(400, "bad chunk size"))?;
        buf.drain(..end + 2);
        if size == 0 {
            // Trailers until the empty line, bounded like a head.
            let mut trailers = 0usize;
            loop {
                let p = line_end(io, buf, deadline, sh, MAX_HEAD)?;
                buf.drain(..p + 2);
                if p == 0 {
                    return Ok(body);
                }
                trailers += p + 2;
                if trailers > MAX_HEAD {
                    return Err(ReadErr::Refuse(431, "trailers too large"));
                }
            }
        }
        let room = (MAX_BODY - body.len()) as u64;
        if size > room {
            return Err(ReadErr::Refuse(413, "body too large"));
        }
        // size <= MAX_BODY: no overflow.
        let size = size as usize;
        while buf.len() < size + 2 {
            fill(io, buf, deadline, sh)?;
        }
        if &buf[size..size + 2] != b"\r\n" {
            return Err(ReadErr::Refuse(400, "chunk not followed by CRLF"));
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

fn respond(io: &mut Io, code: u16, body: &str) -> io::Result<()> {
    respond_with(io, code, body, false)
}

fn respond_with(io: &mut Io, code: u16, body: &str, close: bool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {code} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n",
        reason(code),
        body.len(),
        if close { "close" } else { "keep-alive" }
    );
    io.write_all(head.as_bytes())?;
    io.write_all(body.as_bytes())?;
    io.flush()
}

/// Holds one of [`VenueConfig::max_connections`](crate::VenueConfig::max_connections) slots
/// for the life of a connection thread.
struct Slot(Arc<Shared>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active_conns.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Over the connection cap: plain HTTP gets a best-effort `503` and a close; TLS a close.
fn refuse_conn(tcp: TcpStream, tls: bool) {
    if !tls {
        let body = r#"{"message":"too many connections"}"#;
        let msg = format!(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = tcp.set_nonblocking(true);
        let _ = (&tcp).write(msg.as_bytes());
        let _ = tcp.shutdown(std::net::Shutdown::Write);
    }
}

fn handle_conn(tcp: TcpStream, sh: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut io = match tls {
        Some(cfg) => match ServerConnection::new(cfg) {
            Ok(c) => Io::Tls(Box::new(StreamOwned::new(c, tcp))),
            Err(_) => return,
        },
        None => Io::Plain(tcp),
    };
    let mut buf = Vec::new();
    loop {
        let req = match read_request(&mut io, &mut buf, &sh, sh.cfg.request_timeout) {
            Ok(r) => r,
            Err(ReadErr::Close) => return,
            Err(ReadErr::Timeout) => {
                let _ = respond_with(&mut io, 408, r#"{"message":"request timeout"}"#, true);
                return;
            }
            Err(ReadErr::Refuse(code, msg)) => {
                let body = serde_json::json!({ "message": msg }).to_string();
                let _ = respond_with(&mut io, code, &body, true);
                return;
            }
        };
        sh.record_user_agent(&req.path, req.header("user-agent"));
        let upgrade = req
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade {
            ws_upgrade(io, req, std::mem::take(&mut buf), sh);
            return;
        }
        sh.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
        let (code, body) = route_rest(&sh, &req);
        if code == 0 {
            // An injected transport failure: the connection closes without an answer.
            return;
        }
        if respond(&mut io, code, &body).is_err() {
            return;
        }
        if req
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            return;
        }
    }
}

fn ws_upgrade(mut io: Io, req: Request, rest: Vec<u8>, sh: Arc<Shared>) {
    let Some(svc) = ws_service(&req.path) else {
        let _ = respond(&mut io, 404, r#"{"message":"not found"}"#);
        return;
    };
    let Some(key) = req.header("sec-websocket-key") else {
        let _ = respond(&mut io, 400, r#"{"message":"missing Sec-WebSocket-Key"}"#);
        return;
    };
    let listen_key = req.param("listenKey");
    if svc == WsService::Mexc {
        if let Some(k) = &listen_key {
            if !sh.listen_key_valid(k) {
                let _ = respond(
                    &mut io,
                    401,
                    r#"{"code":730708,"msg":"listen key information error"}"#,
                );
                return;
            }
        }
    }
    let size_decimal = req
        .header("x-gate-size-decimal")
        .is_some_and(|v| v.trim() == "1");
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if io
        .write_all(resp.as_bytes())
        .and_then(|_| io.flush())
        .is_err()
    {
        return;
    }
    let _ = io.tcp().set_read_timeout(None);
    let _ = io.tcp().set_nonblocking(true);
    sh.counters.ws_connections.fetch_add(1, Ordering::Relaxed);
    let ws = tungstenite::WebSocket::from_partially_read(
        io,
        rest,
        tungstenite::protocol::Role::Server,
        Some(ws_config()),
    );
    if !sh.cfg.replay.is_empty() {
        return super::replay::serve(ws, sh, svc);
    }
    match svc {
        WsService::Mexc => super::mexc::serve(ws, sh, listen_key),
        WsService::GateSpot => super::gate::serve(ws, sh, Market::Spot, size_decimal),
        WsService::GateFutures => super::gate::serve(ws, sh, Market::Futures, size_decimal),
    }
}

/// Largest client WebSocket message and frame accepted (control frames are a few hundred
/// bytes; a Gate subscribe to 400 pairs is ~10 KiB). Larger ones end the connection.
pub const MAX_WS_MESSAGE: usize = 64 * 1024;
/// Unsent pushes buffered per connection before writes wait for the socket to drain.
const MAX_WS_WRITE_BUFFER: usize = 8 << 20;

fn ws_config() -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(MAX_WS_MESSAGE))
        .max_frame_size(Some(MAX_WS_MESSAGE))
        .max_write_buffer_size(MAX_WS_WRITE_BUFFER)
}

fn json_levels_str(levels: &[crate::num::Level], out: &mut String) {
    use std::fmt::Write;
    out.push('[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[\"{}\",\"{}\"]", l.px, l.qty);
    }
    out.push(']');
}

pub(crate) fn route_rest(sh: &Shared, req: &Request) -> (u16, String) {
    let p = req.path.trim_end_matches('/');
    // The simulated accounts' signed REST (issue 17; `account_rest`).
    if let Some(answer) = crate::account_rest::route(sh, req, p) {
        return answer;
    }
    if !sh.cfg.replay.is_empty() {
        use super::replay::{rest_answer, ReplayService as R};
        let found = match (req.method.as_str(), p) {
            ("GET", "/api/v3/depth") => Some((R::Mexc, "symbol")),
            ("GET", "/api/v4/spot/order_book") => Some((R::GateSpot, "currency_pair")),
            ("GET", "/api/v4/futures/usdt/order_book") => Some((R::GateFutures, "contract")),
            _ => None,
        };
        if let Some((svc, key)) = found {
            let sym = req.param(key).unwrap_or_default();
            return rest_answer(sh, svc, &sym).unwrap_or_else(|| {
                (
                    404,
                    r#"{"message":"no recorded snapshot for this symbol"}"#.into(),
                )
            });
        }
    }
    match (req.method.as_str(), p) {
        ("GET", "/api/v3/ping") => (200, "{}".into()),
        // The venue's clock (`VenueConfig::clock_skew_ms`), as the client must sign with it.
        ("GET", "/api/v3/time") => (200, format!("{{\"serverTime\":{}}}", sh.venue_wall_ms())),
        ("GET", "/api/v4/spot/time") => {
            (200, format!("{{\"server_time\":{}}}", sh.venue_wall_ms()))
        }
        ("GET", "/api/v3/depth") => mexc_depth(sh, req),
        (_, "/api/v3/userDataStream") => mexc_user_stream(sh, req),
        ("GET", "/api/v4/spot/order_book") => gate_book(sh, req, Market::Spot),
        ("GET", "/api/v4/futures/usdt/order_book") => gate_book(sh, req, Market::Futures),
        ("GET", "/api/v4/futures/usdt/contracts") => gate_contracts(sh, None),
        ("GET", p) if p.starts_with("/api/v4/futures/usdt/contracts/") => {
            gate_contracts(sh, p.rsplit('/').next())
        }
        _ => (404, r#"{"code":404,"msg":"Not Found"}"#.into()),
    }
}

/// Snapshot-level faults common to both venues. Returns an early answer when the fault is a
/// failure; `stale`/`fresh` flags otherwise.
fn snapshot_faults(
    sh: &Shared,
    name: &str,
    failed_body: &str,
) -> Result<(bool, bool), (u16, String)> {
    let f = &sh.faults;
    if f.take_request(Scenario::SlowSnapshot, name) {
        sh.count_fault(Scenario::SlowSnapshot);
        std::thread::sleep(sh.cfg.slow_snapshot);
    }
    if f.take_request(Scenario::FailedSnapshot, name) {
        sh.count_fault(Scenario::FailedSnapshot);
        return Err((500, failed_body.to_string()));
    }
    let stale = f.take_request(Scenario::StaleSnapshot, name);
    let fresh = f.take_request(Scenario::FreshSnapshot, name);
    if stale {
        sh.count_fault(Scenario::StaleSnapshot);
    }
    if fresh {
        sh.count_fault(Scenario::FreshSnapshot);
    }
    Ok((stale, fresh))
}

/// Roll back to a version older than anything a client subscribed within the last ~second
/// could have buffered (bounded by the log).
fn stale_seq(sym: &Symbol, cur: u64) -> u64 {
    let st = sym.lock();
    let oldest = st.log.front().map(|e| e.seq).unwrap_or(cur);
    let back = (st.log.len() as u64 / 2).max(1);
    cur.saturating_sub(back).max(oldest)
}

fn mexc_depth(sh: &Shared, req: &Request) -> (u16, String) {
    let Some(symbol) = req.param("symbol") else {
        return (
            400,
            mexc_err(-1102, "Mandatory parameter 'symbol' was not sent"),
        );
    };
    let Some(sym) = sh.sym(VenueId::Mexc, Market::Spot, &symbol) else {
        return (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#.into());
    };
    let limit: usize = req
        .param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(100)
        .clamp(1, 5000);
    let (stale, fresh) = match snapshot_faults(
        sh,
        &symbol,
        r#"{"code":500,"msg":"Internal error; unable to process your request. Please try again."}"#,
    ) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let cur = sym.lock().seq;
    let seq = if fresh {
        cur
    } else if stale {
        stale_seq(&sym, cur)
    } else {
        sym.boundary_seq(100)
    };
    let (seq, book) = sym.book_at(seq).unwrap_or_else(|| {
        let st = sym.lock();
        (st.seq, st.book.clone())
    });
    let (bids, asks) = book.top(limit);
    let mut s = format!("{{\"lastUpdateId\":{seq},\"bids\":");
    json_levels_str(&bids, &mut s);
    s.push_str(",\"asks\":");
    json_levels_str(&asks, &mut s);
    s.push('}');
    (200, s)
}

fn gate_book(sh: &Shared, req: &Request, market: Market) -> (u16, String) {
    use std::fmt::Write;
    let pname = if market == Market::Spot {
        "currency_pair"
    } else {
        "contract"
    };
    let Some(name) = req.param(pname) else {
        return (
            400,
            format!(
                r#"{{"label":"MISSING_REQUIRED_PARAM","message":"Missing required parameter: {pname}"}}"#
            ),
        );
    };
    let Some(sym) = sh.sym(VenueId::Gateio, market, &name) else {
        let label = if market == Market::Spot {
            "INVALID_CURRENCY_PAIR"
        } else {
            "CONTRACT_NOT_FOUND"
        };
        return (
            400,
            format!(r#"{{"label":"{label}","message":"Invalid currency pair {name}"}}"#),
        );
    };
    let limit: usize = req
        .param("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(10)
        .clamp(1, 1000);
    let with_id = req.param("with_id").is_some_and(|v| v == "true");
    let decimal = req
        .header("x-gate-size-decimal")
        .is_some_and(|v| v.trim() == "1");
    let (stale, _fresh) = match snapshot_faults(
        sh,
        &name,
        r#"{"label":"SERVER_ERROR","message":"Internal server error"}"#,
    ) {
        Ok(x) => x,
        Err(e) => return e,
    };
    let (seq, book) = {
        let cur = sym.lock().seq;
        let target = if stale { stale_seq(&sym, cur) } else { cur };
        sym.book_at(target).unwrap_or_else(|| {
            let st = sym.lock();
            (st.seq, st.book.clone())
        })
    };
    let (bids, asks) = book.top(limit);
    let now = crate::num::wall_ms();
    let mut s = String::with_capacity(64 + 40 * (bids.len() + asks.len()));
    s.push('{');
    if with_id {
        let _ = write!(s, "\"id\":{seq},");
    }
    if market == Market::Spot {
        let _ = write!(s, "\"current\":{now},\"update\":{},", now - 2);
    } else {
        let _ = write!(
            s,
            "\"current\":{}.{:03},\"update\":{}.{:03},",
            now / 1000,
            now % 1000,
            (now - 2) / 1000,
            (now - 2) % 1000
        );
    }
    for (key, side) in [("asks", &asks), ("bids", &bids)] {
        let _ = write!(s, "\"{key}\":[");
        for (i, l) in side.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            if market == Market::Spot {
                let _ = write!(s, "[\"{}\",\"{}\"]", l.px, l.qty);
            } else {
                let c = l.qty.0 / crate::num::Qty::SCALE;
                if decimal {
                    let _ = write!(s, "{{\"p\":\"{}\",\"s\":\"{}\"}}", l.px, c);
                } else {
                    let _ = write!(s, "{{\"p\":\"{}\",\"s\":{}}}", l.px, c);
                }
            }
        }
        s.push(']');
        if key == "asks" {
            s.push(',');
        }
    }
    s.push('}');
    (200, s)
}

fn gate_contracts(sh: &Shared, one: Option<&str>) -> (u16, String) {
    let items: Vec<serde_json::Value> = sh
        .syms
        .iter()
        .filter(|s| s.spec.venue == VenueId::Gateio && s.spec.market == Market::Futures)
        .filter(|s| one.is_none_or(|n| n == s.spec.name))
        .map(|s| {
            serde_json::json!({
                "name": s.spec.name,
                "type": "direct",
                "quanto_multiplier": s.spec.multiplier.unwrap_or_default().to_string(),
                "order_price_round": crate::num::Px(s.spec.tick).to_string(),
                "order_size_min": 1,
                "enable_decimal": false,
            })
        })
        .collect();
    match one {
        Some(n) => match items.into_iter().next() {
            Some(v) => (200, v.to_string()),
            None => (
                400,
                format!(r#"{{"label":"CONTRACT_NOT_FOUND","message":"Contract {n} not found"}}"#),
            ),
        },
        None => (200, serde_json::Value::Array(items).to_string()),
    }
}

fn mexc_user_stream(sh: &Shared, req: &Request) -> (u16, String) {
    if let Err(e) = mexc_verify(sh, req) {
        return e;
    }
    if req.method == "POST" && sh.faults.take_request(Scenario::AuthFail, "*") {
        sh.count_fault(Scenario::AuthFail);
        return (
            400,
            mexc_err(700002, "Signature for this request is not valid."),
        );
    }
    let mut keys = sh.listen_keys.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    keys.retain(|_, exp| *exp > now);
    let ttl = sh.cfg.listen_key_ttl;
    match req.method.as_str() {
        "POST" => {
            if keys.len() >= 60 {
                return (400, mexc_err(730706, "listenKey limit exceeded"));
            }
            let mut rng = crate::sim::Rng::new(
                crate::num::now_ns() ^ sh.next_conn.fetch_add(1, Ordering::Relaxed),
            );
            let k: String = (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect();
            keys.insert(k.clone(), now + ttl);
            sh.life.keys_created.fetch_add(1, Ordering::Relaxed);
            (200, serde_json::json!({"listenKey": k}).to_string())
        }
        "GET" => {
            let list: Vec<&String> = keys.keys().collect();
            (200, serde_json::json!({"listenKey": list}).to_string())
        }
        "PUT" | "DELETE" => {
            let Some(k) = req.param("listenKey") else {
                return (
                    400,
                    mexc_err(-1102, "Mandatory parameter 'listenKey' was not sent"),
                );
            };
            if !keys.contains_key(&k) {
                return (400, mexc_err(730705, "listenKey does not exist"));
            }
            if req.method == "PUT" {
                match sh.life.take_keepalive_fault() {
                    Some(KeepAliveFault::Transport) => return (0, String::new()),
                    Some(KeepAliveFault::Status(st)) => {
                        let msg = if st == 429 {
                            "Too Many Requests"
                        } else {
                            "Internal error"
                        };
                        return (st, mexc_err(st as i64, msg));
                    }
                    Some(KeepAliveFault::ListenKeyGone) => {
                        keys.remove(&k);
                        return (400, mexc_err(730708, "listen key information error"));
                    }
                    None => {}
                }
                sh.life.keepalives_ok.fetch_add(1, Ordering::Relaxed);
                keys.insert(k.clone(), now + ttl);
            } else {
                keys.remove(&k);
            }
            (200, serde_json::json!({"listenKey": k}).to_string())
        }
        _ => (404, mexc_err(404, "Not Found")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 12, defect 5 (CA trust): the venue CA carries name constraints (localhost,
    /// 127.0.0.1, ::1), so even a client that trusts it cannot be shown a certificate it issued
    /// for a real exchange host; the venue's own loopback leaf still verifies.
    #[test]
    fn issue12_defect5_venue_ca_is_name_constrained_to_loopback() {
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::{ServerName, UnixTime};
        let params = ca_params().unwrap();
        assert_eq!(params.name_constraints, Some(loopback_name_constraints()));
        let nc = loopback_name_constraints();
        assert_eq!(nc.permitted_subtrees.len(), 3);
        assert!(nc.excluded_subtrees.is_empty());
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        // The extension (id-ce-nameConstraints, 2.5.29.30) is in the certificate itself.
        let der = ca.der().to_vec();
        assert!(der.windows(5).any(|w| w == [0x06, 0x03, 0x55, 0x1d, 0x1e]));
        assert!(der.windows(9).any(|w| w == b"localhost"));
        let issuer = rcgen::Issuer::new(params, ca_key);
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(der)).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        let leaf = |names: &[&str]| {
            let k = rcgen::KeyPair::generate().unwrap();
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            let mut p = rcgen::CertificateParams::new(names).unwrap();
            p.distinguished_name
                .push(rcgen::DnType::CommonName, "localhost");
            p.signed_by(&k, &issuer).unwrap().der().clone()
        };
        let verify = |cert: &CertificateDer<'_>, host: &str| {
            verifier.verify_server_cert(
                cert,
                &[],
                &ServerName::try_from(host.to_string()).unwrap(),
                &[],
                UnixTime::now(),
            )
        };
        let ok = leaf(&["127.0.0.1", "localhost", "::1"]);
        for host in ["127.0.0.1", "localhost", "::1"] {
            assert!(verify(&ok, host).is_ok(), "{host}: {:?}", verify(&ok, host));
        }
        for host in ["api.mexc.com", "api.gateio.ws"] {
            let bad = leaf(&[host]);
            let e = verify(&bad, host).unwrap_err();
            assert!(format!("{e:?}").contains("NameConstraint"), "{host}: {e:?}");
        }
        // A real host smuggled in beside loopback names is refused as well.
        let mixed = leaf(&["localhost", "wbs-api.mexc.com"]);
        assert!(verify(&mixed, "localhost").is_err());
        assert!(verify(&mixed, "wbs-api.mexc.com").is_err());
    }

    #[test]
    fn paths_route_like_the_real_hosts() {
        assert_eq!(ws_service("/ws"), Some(WsService::Mexc));
        assert_eq!(ws_service("/ws/v4/"), Some(WsService::GateSpot));
        assert_eq!(ws_service("/v4/ws/spot"), Some(WsService::GateSpot));
        assert_eq!(ws_service("/v4/ws/usdt"), Some(WsService::GateFutures));
        assert_eq!(
            ws_service("/v4/ws/futures/usdt"),
            Some(WsService::GateFutures)
        );
        assert_eq!(ws_service("/v4/ws/btc"), None);
    }
}
