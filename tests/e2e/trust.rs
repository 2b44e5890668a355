//! Issue 12, defect 5 (secrets and trust), end to end: a MEXC listen key with characters that
//! need encoding round-trips through a fake venue (REST and the private stream URL), and no
//! error text that reaches an operator or a consumer carries it.

use crate::reliability::{engine_for, fake_setup};
use crate::support::net::{serve, Conn};
use cexfeed::ring::Body;
use cexfeed::secret::Credentials;
use cexfeed::types::{Market, Venue};
use std::io::{Read, Write};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Opaque venue text with `+ / = & ? % space #` in it.
const KEY: &str = "LK+a/b=c&d?e%f g#h-0123456789-SECRET";
/// `KEY` percent-encoded (RFC 3986 unreserved kept, upper-case hex).
const ENCODED: &str = "LK%2Ba%2Fb%3Dc%26d%3Fe%25f%20g%23h-0123456789-SECRET";

fn read_head(conn: &mut Conn) -> Option<String> {
    let mut req = Vec::new();
    let mut b = [0u8; 1];
    // Byte by byte: nothing after the head (a WebSocket frame) is consumed.
    while !req.ends_with(b"\r\n\r\n") {
        match conn.read(&mut b) {
            Ok(1) => req.push(b[0]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&req).into_owned())
}

fn reply(conn: &mut Conn, status: &str, body: &str) {
    let r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = conn.write_all(r.as_bytes());
    let _ = conn.flush();
}

#[test]
fn issue12_defect5_listen_key_is_encoded_in_urls_and_redacted_from_errors() {
    // A fake MEXC: REST and WebSocket on one port. Creation hands out KEY; a keep-alive is
    // refused with a message echoing the key (as a venue may); the stream upgrade is accepted.
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let log = lines.clone();
    let srv = serve(None, 64, move |_, mut conn| {
        let _ = conn.tcp().set_read_timeout(Some(Duration::from_secs(3)));
        let Some(head) = read_head(&mut conn) else {
            return;
        };
        let line = head.lines().next().unwrap_or("").to_string();
        log.lock().unwrap().push(line.clone());
        let created = format!(r#"{{"listenKey":"{KEY}"}}"#);
        if line.starts_with("GET /ws") {
            let ws_key = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("sec-websocket-key")
                        .then(|| v.trim().to_string())
                })
                .unwrap_or_default();
            let accept = tungstenite::handshake::derive_accept_key(ws_key.as_bytes());
            let _ = conn.write_all(format!("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").as_bytes());
            let mut b = [0u8; 1024];
            while matches!(conn.read(&mut b), Ok(n) if n > 0) {}
        } else if line.starts_with("POST /api/v3/userDataStream") {
            reply(&mut conn, "200 OK", &created);
        } else if line.starts_with("PUT /api/v3/userDataStream") {
            let msg = format!(r#"{{"code":730705,"msg":"listenKey {KEY} does not exist"}}"#);
            reply(&mut conn, "400 Bad Request", &msg);
        } else if line.starts_with("DELETE /api/v3/userDataStream") {
            reply(&mut conn, "200 OK", &created);
        } else {
            reply(&mut conn, "404 Not Found", "{}");
        }
    });
    let mut setup = fake_setup(Venue::Mexc, Market::Spot, &srv.ws_url(), "BTCUSDT");
    setup.rest_url = format!("http://{}", srv.addr);
    setup.credentials = Some(Credentials::new("mx0key", "mx0secret"));
    setup.listen_key_keepalive = Duration::from_millis(300);
    let mut engine = engine_for(setup);
    let mut rx = engine.consumer().unwrap();
    engine.bind("mexc.spot.orders", rx.id()).unwrap();
    engine.start().unwrap();
    let view = engine.views().remove(0);
    let mut messages = Vec::new();
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end
        && (messages.is_empty() || view.shared.stats.auth_failures.load(Ordering::Relaxed) < 2)
    {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Error { message, .. } = ev.body {
                    messages.push(message.as_str().to_string());
                }
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
    }
    let _ = engine.stop();
    let texts = view.shared.error_texts();
    let lines = lines.lock().unwrap().clone();
    eprintln!("requests: {lines:#?}\nerrors: {texts:#?}\nevents: {messages:#?}");
    // Round trip: the stream URL and the REST query carry the key percent-encoded (the fake
    // venue would have seen a different key, or none, otherwise).
    let ws = format!("GET /ws?listenKey={ENCODED} HTTP/1.1");
    assert!(lines.contains(&ws), "no upgrade with {ws:?}");
    let put = format!("PUT /api/v3/userDataStream?listenKey={ENCODED}&timestamp=");
    assert!(
        lines.iter().any(|l| l.starts_with(&put)),
        "no keep-alive with {put:?}"
    );
    assert!(!lines.iter().any(|l| l.contains(KEY)), "key sent unencoded");
    // The refusal was reported, to the log and to the consumer, with the key redacted.
    assert!(
        texts
            .iter()
            .any(|t| t.contains("keep-alive refused") && t.contains("<redacted LK+a")),
        "{texts:?}"
    );
    assert!(!messages.is_empty());
    for t in texts.iter().chain(&messages) {
        for secret in [KEY, ENCODED, "0123456789", "SECRET", "LK+a/"] {
            assert!(!t.contains(secret), "{secret:?} in {t:?}");
        }
    }
}
