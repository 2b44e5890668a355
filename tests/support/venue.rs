//! Helpers shared by the venue tests: blocking loopback clients (WebSocket, HTTP), fixture
//! loading, a recursive JSON shape comparison and a schema-less protobuf field walker.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::{Message, WebSocket};

pub type Ws = WebSocket<TcpStream>;

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// All JSON values of a fixture file (values separated by blank lines).
pub fn fixture_values(name: &str) -> Vec<Value> {
    let s = std::fs::read_to_string(fixture_path(name)).expect("fixture");
    serde_json::Deserializer::from_str(&s)
        .into_iter::<Value>()
        .map(|v| v.expect("fixture json"))
        .collect()
}

pub fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).expect("fixture")
}

/// Plain ws:// client on loopback with a read timeout (200 ms, for polling reads). The
/// upgrade itself waits up to 30 s: a venue busy on a loaded machine may take longer than a
/// polling read to answer it.
pub fn ws_connect(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Ws {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{addr}{path}"))
            .unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(
            tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let (ws, _) = tungstenite::client(req, tcp).expect("ws handshake");
    ws.get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    ws
}

/// Next message within `timeout` (None on timeout). Panics on a closed socket.
pub fn next_msg(ws: &mut Ws, timeout: Duration) -> Option<Message> {
    let t = Instant::now();
    while t.elapsed() < timeout {
        match ws.read() {
            Ok(Message::Ping(_)) | Ok(Message::Pong(_)) => continue,
            Ok(m) => return Some(m),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => panic!("ws read: {e}"),
        }
    }
    None
}

/// Next text frame parsed as JSON that satisfies `pred`.
pub fn next_json(ws: &mut Ws, timeout: Duration, pred: impl Fn(&Value) -> bool) -> Option<Value> {
    let t = Instant::now();
    while t.elapsed() < timeout {
        if let Some(Message::Text(s)) = next_msg(ws, timeout.saturating_sub(t.elapsed())) {
            let v: Value = serde_json::from_str(&s).expect("venue JSON");
            if pred(&v) {
                return Some(v);
            }
        }
    }
    None
}

pub fn send_text(ws: &mut Ws, s: &str) {
    ws.send(Message::Text(s.to_string().into())).unwrap();
}

/// Minimal HTTP/1.1 request; returns (status, body).
pub fn http(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("Content-Length: 0\r\n\r\n");
    tcp.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 65536];
    let (head_end, len) = loop {
        let n = tcp.read(&mut tmp).unwrap();
        assert!(n > 0, "eof before response");
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_string();
            let len: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            break (p + 4, len);
        }
    };
    while buf.len() < head_end + len {
        let n = tcp.read(&mut tmp).unwrap();
        assert!(n > 0);
        buf.extend_from_slice(&tmp[..n]);
    }
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    (
        status,
        String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string(),
    )
}

fn ty(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `ours` has the shape of the reference messages: every key ours has appears in some
/// reference with the same JSON type (recursively), and every key all references have is
/// present. Arrays: each element against all reference elements.
pub fn shape_errors(ours: &Value, refs: &[&Value], path: &str, errs: &mut Vec<String>) {
    if refs.is_empty() {
        return;
    }
    let same: Vec<&Value> = refs.iter().copied().filter(|r| ty(r) == ty(ours)).collect();
    if same.is_empty() {
        let want: Vec<&str> = refs.iter().map(|r| ty(r)).collect();
        errs.push(format!("{path}: type {} not in {:?}", ty(ours), want));
        return;
    }
    match ours {
        Value::Object(m) => {
            let objs: Vec<&serde_json::Map<String, Value>> =
                same.iter().filter_map(|r| r.as_object()).collect();
            for (k, v) in m {
                let sub: Vec<&Value> = objs.iter().filter_map(|o| o.get(k)).collect();
                if sub.is_empty() {
                    errs.push(format!("{path}.{k}: key not in any reference"));
                } else {
                    shape_errors(v, &sub, &format!("{path}.{k}"), errs);
                }
            }
            if let Some(first) = objs.first() {
                for k in first.keys() {
                    if objs.iter().all(|o| o.contains_key(k)) && !m.contains_key(k) {
                        errs.push(format!("{path}.{k}: missing (every reference has it)"));
                    }
                }
            }
        }
        Value::Array(a) => {
            let elems: Vec<&Value> = same
                .iter()
                .filter_map(|r| r.as_array())
                .flat_map(|x| x.iter())
                .collect();
            for (i, v) in a.iter().enumerate() {
                shape_errors(v, &elems, &format!("{path}[{i}]"), errs);
            }
        }
        _ => {}
    }
}

pub fn assert_shape(ours: &Value, refs: &[Value], what: &str) {
    let r: Vec<&Value> = refs.iter().collect();
    let mut errs = Vec::new();
    shape_errors(ours, &r, "$", &mut errs);
    assert!(errs.is_empty(), "{what}: {errs:#?}\nours: {ours}");
}

/// One protobuf field as seen without a schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Pf {
    Varint(u64),
    Bytes(Vec<u8>),
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    let mut s = 0;
    loop {
        let c = *b.get(*i)?;
        *i += 1;
        v |= ((c & 0x7f) as u64) << s;
        if c & 0x80 == 0 {
            return Some(v);
        }
        s += 7;
        if s > 63 {
            return None;
        }
    }
}

/// Top-level fields (number, value) in wire order; None if not well-formed.
pub fn walk(b: &[u8]) -> Option<Vec<(u32, Pf)>> {
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let (num, wt) = ((key >> 3) as u32, key & 7);
        match wt {
            0 => out.push((num, Pf::Varint(varint(b, &mut i)?))),
            2 => {
                let len = varint(b, &mut i)? as usize;
                let s = b.get(i..i + len)?;
                i += len;
                out.push((num, Pf::Bytes(s.to_vec())));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Field layout signature: (number, wire kind) in order of first appearance.
pub fn layout(fields: &[(u32, Pf)]) -> Vec<(u32, u8)> {
    let mut v: Vec<(u32, u8)> = Vec::new();
    for (n, f) in fields {
        let k = (*n, matches!(f, Pf::Bytes(_)) as u8);
        if !v.contains(&k) {
            v.push(k);
        }
    }
    v
}

pub fn bytes_of(fields: &[(u32, Pf)], num: u32) -> Vec<&[u8]> {
    fields
        .iter()
        .filter_map(|(n, f)| match f {
            Pf::Bytes(b) if *n == num => Some(b.as_slice()),
            _ => None,
        })
        .collect()
}
