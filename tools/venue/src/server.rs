//! Sockets, TLS, a minimal HTTP/1.1 server (REST + WebSocket upgrade) and path routing.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};
use sha2::Sha256;

use super::{Scenario, Shared, MEXC_API_KEY, MEXC_API_SECRET};
use crate::conn::Io;
use crate::num::{Market, VenueId};
use crate::sim::Symbol;

pub(crate) struct Tls {
    pub config: Arc<ServerConfig>,
    pub ca_der: Vec<u8>,
    pub ca_pem: String,
    pub ca_path: PathBuf,
}

/// CA + leaf (SAN 127.0.0.1, localhost) generated now; the CA PEM is written to `dir/ca.pem`.
pub(crate) fn make_tls(dir: &Path) -> io::Result<Tls> {
    let err = |e: rcgen::Error| io::Error::other(e.to_string());
    let ca_key = rcgen::KeyPair::generate().map_err(err)?;
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cexfeed loopback venue CA");
    ca_params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
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
    std::fs::create_dir_all(dir)?;
    let ca_path = dir.join("ca.pem");
    let ca_pem = ca_cert.pem();
    std::fs::write(&ca_path, &ca_pem)?;
    Ok(Tls {
        config: Arc::new(config),
        ca_der: ca_cert.der().to_vec(),
        ca_pem,
        ca_path,
    })
}

pub(crate) fn accept_loop(listener: TcpListener, sh: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    let _ = listener.set_nonblocking(true);
    while !sh.stopping() {
        match listener.accept() {
            Ok((tcp, _)) => {
                sh.counters.connections.fetch_add(1, Ordering::Relaxed);
                let sh = sh.clone();
                let tls = tls.clone();
                let _ = std::thread::Builder::new()
                    .name("venue-conn".into())
                    .spawn(move || handle_conn(tcp, sh, tls));
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

/// A parsed HTTP request.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn param(&self, name: &str) -> Option<String> {
        query_param(&self.query, name)
    }
}

pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// Read one request from `io`; `buf` carries bytes across keep-alive requests.
fn read_request(io: &mut Io, buf: &mut Vec<u8>) -> io::Result<Option<Request>> {
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("header too large"));
        }
        let n = io.read(&mut tmp)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
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
        req.body = read_chunked(io, buf)?;
        return Ok(Some(req));
    }
    let len: usize = req
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if len > MAX_BODY {
        return Err(io::Error::other("body too large"));
    }
    while buf.len() < len {
        let n = io.read(&mut tmp)?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    req.body = buf.drain(..len).collect();
    Ok(Some(req))
}

/// Decode a chunked body (extensions and trailers ignored).
fn read_chunked(io: &mut Io, buf: &mut Vec<u8>) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut tmp = [0u8; 4096];
    let mut fill = |buf: &mut Vec<u8>| -> io::Result<()> {
        let n = io.read(&mut tmp)?;
        if n == 0 {
            return Err(io::Error::from(io::ErrorKind::UnexpectedEof));
        }
        buf.extend_from_slice(&tmp[..n]);
        Ok(())
    };
    loop {
        let line_end = loop {
            if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                break p;
            }
            fill(buf)?;
        };
        let line = String::from_utf8_lossy(&buf[..line_end]).to_string();
        let size = usize::from_str_radix(line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| io::Error::other("bad chunk size"))?;
        buf.drain(..line_end + 2);
        if size == 0 {
            // Trailers until the empty line.
            loop {
                if let Some(p) = buf.windows(2).position(|w| w == b"\r\n") {
                    let empty = p == 0;
                    buf.drain(..p + 2);
                    if empty {
                        return Ok(body);
                    }
                } else {
                    fill(buf)?;
                }
            }
        }
        while buf.len() < size + 2 {
            fill(buf)?;
        }
        body.extend_from_slice(&buf[..size]);
        buf.drain(..size + 2);
        if body.len() > MAX_BODY {
            return Err(io::Error::other("body too large"));
        }
    }
}

fn respond(io: &mut Io, code: u16, body: &str) -> io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    );
    io.write_all(head.as_bytes())?;
    io.write_all(body.as_bytes())?;
    io.flush()
}

fn handle_conn(tcp: TcpStream, sh: Arc<Shared>, tls: Option<Arc<ServerConfig>>) {
    let _ = tcp.set_nodelay(true);
    let _ = tcp.set_nonblocking(false);
    let _ = tcp.set_read_timeout(Some(Duration::from_millis(200)));
    let mut io = match tls {
        Some(cfg) => match ServerConnection::new(cfg) {
            Ok(c) => Io::Tls(Box::new(StreamOwned::new(c, tcp))),
            Err(_) => return,
        },
        None => Io::Plain(tcp),
    };
    let mut buf = Vec::new();
    let idle_deadline = Duration::from_secs(30);
    let mut last = Instant::now();
    loop {
        if sh.stopping() {
            return;
        }
        let req = match read_request(&mut io, &mut buf) {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if last.elapsed() > idle_deadline {
                    return;
                }
                continue;
            }
            Err(_) => return,
        };
        last = Instant::now();
        let upgrade = req
            .header("upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
        if upgrade {
            ws_upgrade(io, req, std::mem::take(&mut buf), sh);
            return;
        }
        sh.counters.rest_requests.fetch_add(1, Ordering::Relaxed);
        let (code, body) = route_rest(&sh, &req);
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

/// Which WebSocket service a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WsService {
    Mexc,
    GateSpot,
    GateFutures,
}

pub(crate) fn ws_service(path: &str) -> Option<WsService> {
    match path.trim_end_matches('/') {
        "/ws" => Some(WsService::Mexc),
        "/ws/v4" | "/v4/ws/spot" => Some(WsService::GateSpot),
        "/v4/ws/usdt" | "/v4/ws/futures/usdt" => Some(WsService::GateFutures),
        _ => None,
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
            if !listen_key_valid(&sh, k) {
                let _ = respond(
                    &mut io,
                    401,
                    r#"{"code":700003,"msg":"listenKey does not exist or has expired"}"#,
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
        None,
    );
    match svc {
        WsService::Mexc => super::mexc::serve(ws, sh, listen_key),
        WsService::GateSpot => super::gate::serve(ws, sh, Market::Spot, size_decimal),
        WsService::GateFutures => super::gate::serve(ws, sh, Market::Futures, size_decimal),
    }
}

pub(crate) fn listen_key_valid(sh: &Shared, k: &str) -> bool {
    let keys = sh.listen_keys.lock().unwrap_or_else(|p| p.into_inner());
    keys.get(k).is_some_and(|exp| *exp > Instant::now())
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
    match (req.method.as_str(), p) {
        ("GET", "/api/v3/ping") => (200, "{}".into()),
        ("GET", "/api/v3/time") => (200, format!("{{\"serverTime\":{}}}", crate::num::wall_ms())),
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
        sh.count_fault();
        std::thread::sleep(sh.cfg.slow_snapshot);
    }
    if f.take_request(Scenario::FailedSnapshot, name) {
        sh.count_fault();
        return Err((500, failed_body.to_string()));
    }
    let stale = f.take_request(Scenario::StaleSnapshot, name);
    let fresh = f.take_request(Scenario::FreshSnapshot, name);
    if stale || fresh {
        sh.count_fault();
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

fn mexc_err(code: i64, msg: &str) -> String {
    serde_json::json!({"code": code, "msg": msg}).to_string()
}

/// Verify a MEXC SIGNED request: API key header, `signature` = hex HMAC-SHA256 over the total
/// params (query string without `signature`, then the body), `timestamp` within `recvWindow`.
pub(crate) fn mexc_verify(req: &Request) -> Result<(), (u16, String)> {
    let key = req.header("x-mexc-apikey").unwrap_or("");
    if key != MEXC_API_KEY {
        return Err((401, mexc_err(10072, "Api key info invalid")));
    }
    let mut signed = String::new();
    let mut sig = None;
    for kv in req.query.split('&').filter(|s| !s.is_empty()) {
        if let Some(v) = kv.strip_prefix("signature=") {
            sig = Some(v.to_string());
            continue;
        }
        if !signed.is_empty() {
            signed.push('&');
        }
        signed.push_str(kv);
    }
    signed.push_str(&String::from_utf8_lossy(&req.body));
    let Some(sig) = sig else {
        return Err((
            400,
            mexc_err(700002, "Signature for this request is not valid."),
        ));
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(MEXC_API_SECRET.as_bytes()).expect("any key size");
    mac.update(signed.as_bytes());
    let want = hex::encode(mac.finalize().into_bytes());
    if !want.eq_ignore_ascii_case(&sig) {
        return Err((
            400,
            mexc_err(700002, "Signature for this request is not valid."),
        ));
    }
    let ts: i64 = query_param(&req.query, "timestamp")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let window: i64 = query_param(&req.query, "recvWindow")
        .and_then(|t| t.parse().ok())
        .unwrap_or(5000);
    if window > 60_000 {
        return Err((400, mexc_err(700005, "recvWindow must less than 60000")));
    }
    let now = crate::num::wall_ms();
    if ts >= now + 1000 || now - ts > window {
        return Err((
            400,
            mexc_err(
                700003,
                "Timestamp for this request is outside of the recvWindow.",
            ),
        ));
    }
    Ok(())
}

fn mexc_user_stream(sh: &Shared, req: &Request) -> (u16, String) {
    if let Err(e) = mexc_verify(req) {
        return e;
    }
    if req.method == "POST" && sh.faults.take_request(Scenario::AuthFail, "*") {
        sh.count_fault();
        return (
            400,
            mexc_err(700002, "Signature for this request is not valid."),
        );
    }
    let mut keys = sh.listen_keys.lock().unwrap_or_else(|p| p.into_inner());
    let now = Instant::now();
    keys.retain(|_, exp| *exp > now);
    let ttl = Duration::from_secs(3600);
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

    #[test]
    fn query_params_decode_percent_escapes_and_survive_garbage() {
        assert_eq!(
            query_param("a=1&symbol=BTC%5FUSDT", "symbol").as_deref(),
            Some("BTC_USDT")
        );
        assert_eq!(query_param("x=%é%", "x").as_deref(), Some("%é%"));
        assert_eq!(query_param("x=%zz", "x").as_deref(), Some("%zz"));
        assert_eq!(query_param("flag&x=1", "flag").as_deref(), Some(""));
        assert_eq!(query_param("", "x"), None);
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
