//! `cexfeed run --config FILE --dry-run`: what cexfeed would send, without reaching the
//! exchanges, so it can be held against the exchanges' documentation before going live.
//!
//! Nothing is rebuilt here: the real engine runs for a moment with every feed's endpoints
//! pointed at a local recorder (one loopback listener per feed, plain `ws://`/`http://`), and
//! what the feeds' own code sent is printed with the original URLs: the WebSocket upgrades and
//! their headers, every frame (subscriptions, signed logins), every REST request (method, URL,
//! headers, body). The recorder answers REST with `503` and never acknowledges anything, so
//! only what is sent before an answer shows (e.g. a MEXC listen-key request, but not the private
//! stream that would follow; a REST book snapshot is asked for only once deltas arrive, so it
//! does not show either). Secrets never appear: the API key and secret from the config or the
//! environment are replaced by `<api_key>` / `<api_secret>`, signatures by `<signature>`, a
//! listen key by `<redacted>`.

use anyhow::{Context, Result};
use cexfeed::config::Resolved;
use cexfeed::engine::Engine;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One thing a feed sent.
#[derive(Debug, Clone)]
enum Rec {
    Upgrade {
        target: String,
        headers: Vec<(String, String)>,
    },
    Frame {
        binary: bool,
        text: String,
    },
    Rest {
        method: String,
        target: String,
        headers: Vec<(String, String)>,
        body: String,
    },
}

struct Recorder {
    addr: SocketAddr,
    recs: Arc<Mutex<Vec<Rec>>>,
    last: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

fn now_ms(t0: Instant) -> u64 {
    t0.elapsed().as_millis() as u64
}

impl Recorder {
    fn start(t0: Instant) -> Result<Recorder> {
        let l = TcpListener::bind("127.0.0.1:0").context("dry run: binding a loopback port")?;
        l.set_nonblocking(true)?;
        let addr = l.local_addr()?;
        let recs = Arc::new(Mutex::new(Vec::new()));
        let last = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, la, st) = (recs.clone(), last.clone(), stop.clone());
        std::thread::spawn(move || {
            while !st.load(Ordering::Relaxed) {
                match l.accept() {
                    Ok((s, _)) => {
                        let (r, la, st) = (r.clone(), la.clone(), st.clone());
                        std::thread::spawn(move || serve(s, &r, &la, &st, t0));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Ok(Recorder {
            addr,
            recs,
            last,
            stop,
        })
    }
}

fn push(recs: &Mutex<Vec<Rec>>, last: &AtomicU64, t0: Instant, r: Rec) {
    recs.lock().unwrap_or_else(|e| e.into_inner()).push(r);
    last.store(now_ms(t0), Ordering::Relaxed);
}

/// The request head, peeked (not consumed) so the WebSocket handshake can read it again.
fn peek_head(s: &TcpStream, stop: &AtomicBool) -> Option<String> {
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !stop.load(Ordering::Relaxed) {
        let n = s.peek(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(p) = buf[..n].windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&buf[..p + 4]).into_owned());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn parse_head(head: &str) -> (String, String, Vec<(String, String)>) {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or("").split(' ');
    let method = first.next().unwrap_or("").to_string();
    let target = first.next().unwrap_or("").to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    (method, target, headers)
}

fn serve(s: TcpStream, recs: &Mutex<Vec<Rec>>, last: &AtomicU64, stop: &AtomicBool, t0: Instant) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
    let Some(head) = peek_head(&s, stop) else {
        return;
    };
    let (method, target, headers) = parse_head(&head);
    let upgrade = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("upgrade") && v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        push(
            recs,
            last,
            t0,
            Rec::Upgrade {
                target,
                headers: headers
                    .into_iter()
                    .filter(|(k, _)| !is_handshake_header(k))
                    .collect(),
            },
        );
        let Ok(mut ws) = tungstenite::accept(s) else {
            return;
        };
        while !stop.load(Ordering::Relaxed) {
            match ws.read() {
                Ok(tungstenite::Message::Text(t)) => push(
                    recs,
                    last,
                    t0,
                    Rec::Frame {
                        binary: false,
                        text: t.as_str().to_string(),
                    },
                ),
                Ok(tungstenite::Message::Binary(b)) => push(
                    recs,
                    last,
                    t0,
                    Rec::Frame {
                        binary: true,
                        text: hex::encode(&b),
                    },
                ),
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
        return;
    }
    let mut s = s;
    let len: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut all = vec![0u8; head.len() + len.min(1 << 20)];
    let mut got = 0;
    let deadline = Instant::now() + Duration::from_secs(2);
    while got < all.len() && Instant::now() < deadline {
        match s.read(&mut all[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(_) => {}
        }
    }
    let body = String::from_utf8_lossy(&all[head.len().min(got)..got]).into_owned();
    push(
        recs,
        last,
        t0,
        Rec::Rest {
            method,
            target,
            headers: headers
                .into_iter()
                .filter(|(k, _)| {
                    !k.eq_ignore_ascii_case("host") && !k.eq_ignore_ascii_case("content-length")
                })
                .collect(),
            body,
        },
    );
    let msg = r#"{"message":"cexfeed dry run: not sent to the exchange"}"#;
    let _ = write!(
        s,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
        msg.len()
    );
}

/// Headers every WebSocket client sends for the handshake itself (not worth printing).
fn is_handshake_header(k: &str) -> bool {
    [
        "host",
        "connection",
        "upgrade",
        "sec-websocket-key",
        "sec-websocket-version",
    ]
    .iter()
    .any(|h| k.eq_ignore_ascii_case(h))
}

/// `scheme://authority` of a URL, and the rest.
fn split_origin(url: &str) -> (&str, &str) {
    let Some(i) = url.find("://") else {
        return (url, "");
    };
    let end = url[i + 3..]
        .find(['/', '?'])
        .map_or(url.len(), |j| i + 3 + j);
    url.split_at(end)
}

/// Secrets shorter than this are not searched for as substrings (they would mangle the
/// output); where a key is sent (headers, `KEY`) it is redacted by position anyway.
const MIN_SECRET_LEN: usize = 6;

/// Replace secrets in `s`: the given key/secret texts (one left-to-right pass, longest first,
/// so a placeholder is never rewritten), then by position: Gate's `"KEY"`/`"SIGN"` values, MEXC's
/// `signature=` and a `listenKey=` in a query.
fn redact(s: &str, secrets: &[(String, &str)]) -> String {
    let mut secrets: Vec<&(String, &str)> = secrets
        .iter()
        .filter(|(v, _)| v.len() >= MIN_SECRET_LEN)
        .collect();
    secrets.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    'scan: while i < s.len() {
        for (v, name) in &secrets {
            if s[i..].starts_with(v.as_str()) {
                out.push_str(name);
                i += v.len();
                continue 'scan;
            }
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    for (pre, with) in [
        ("\"KEY\":\"", "<api_key>"),
        ("\"SIGN\":\"", "<signature>"),
        ("signature=", "<signature>"),
        ("listenKey=", "<redacted>"),
    ] {
        let mut i = 0;
        while let Some(p) = out[i..].find(pre) {
            let start = i + p + pre.len();
            let end = out[start..]
                .find(['&', '"', ' ', '\n'])
                .map_or(out.len(), |e| start + e);
            out.replace_range(start..end, with);
            i = start + with.len();
        }
    }
    out
}

/// A header's value as printed: credentials by name, whatever they are.
fn header_value<'a>(name: &str, value: &'a str) -> &'a str {
    let n = name.to_ascii_lowercase();
    if n.contains("sign") {
        "<signature>"
    } else if n.contains("key") || n.contains("auth") || n.contains("secret") {
        "<api_key>"
    } else {
        value
    }
}

/// Run the dry run for a resolved configuration and print the report to `out`.
pub fn dry_run(mut resolved: Resolved, out: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let mut secrets: Vec<(String, &str)> = Vec::new();
    let mut feeds = Vec::new();
    for f in &mut resolved.engine.feeds {
        if let Some(c) = &f.credentials {
            secrets.push((c.api_key.expose().to_string(), "<api_key>"));
            secrets.push((c.api_secret.expose().to_string(), "<api_secret>"));
        }
        let rec = Recorder::start(t0)?;
        let local_ws = format!("ws://{}", rec.addr);
        let local_http = format!("http://{}", rec.addr);
        let (ws_origin, ws_rest) = split_origin(&f.ws_url);
        let (pws_origin, pws_rest) = split_origin(&f.private_ws_url);
        let (rest_origin, _) = split_origin(&f.rest_url);
        feeds.push((
            format!("{}.{}", f.venue.as_str(), f.market.as_str()),
            ws_origin.to_string(),
            pws_origin.to_string(),
            rest_origin.to_string(),
            rec,
        ));
        f.ws_url = format!("{local_ws}{ws_rest}");
        f.private_ws_url = format!("{local_ws}{pws_rest}");
        f.rest_url = format!("{local_http}{}", split_origin(&f.rest_url).1);
        f.extra_ca_pem = None;
    }
    let mut engine = Engine::new(resolved.engine)?;
    let rx = engine.consumer()?;
    for ch in &resolved.channels {
        engine.bind(ch, rx.id())?;
    }
    engine.start()?;
    // Until nothing new has been sent for a while (bounded).
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let quiet_since = feeds
            .iter()
            .map(|f| f.4.last.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let now = now_ms(t0);
        if (now > 2_000 && now.saturating_sub(quiet_since) > 1_000) || Instant::now() > deadline {
            break;
        }
    }
    engine.stop();
    drop(rx);
    writeln!(
        out,
        "cexfeed dry run: what the feeds send (nothing reached an exchange; secrets redacted)"
    )?;
    writeln!(
        out,
        "(REST was answered 503 and nothing acknowledged: retried requests appear again, and what \
         only follows an answer — a private stream after its listen key, a book snapshot after \
         the first deltas — does not appear)"
    )?;
    for (name, ws_origin, pws_origin, rest_origin, rec) in &feeds {
        rec.stop.store(true, Ordering::Relaxed);
        writeln!(out, "\n== {name} ==")?;
        let recs = rec.recs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for r in recs {
            let line = match r {
                Rec::Upgrade { target, headers } => {
                    // The private stream (MEXC: its URL carries the listen key).
                    let origin = if target.contains("listenKey=") {
                        pws_origin
                    } else {
                        ws_origin
                    };
                    let mut l = format!("websocket GET {origin}{target}");
                    for (k, v) in headers {
                        l.push_str(&format!("\n  header {k}: {}", header_value(&k, &v)));
                    }
                    l
                }
                Rec::Frame {
                    binary: false,
                    text,
                } => format!("  send {text}"),
                Rec::Frame { binary: true, text } => format!("  send binary {text}"),
                Rec::Rest {
                    method,
                    target,
                    headers,
                    body,
                } => {
                    let mut l = format!("rest {method} {rest_origin}{target}");
                    for (k, v) in headers {
                        l.push_str(&format!("\n  header {k}: {}", header_value(&k, &v)));
                    }
                    if !body.is_empty() {
                        l.push_str(&format!("\n  body {body}"));
                    }
                    l
                }
            };
            writeln!(out, "{}", redact(&line, &secrets))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_keys_signatures_and_listen_keys() {
        let s = [("K3y".to_string(), "<api_key>")];
        let r = redact(
            r#"{"auth":{"KEY":"K3y","SIGN":"abc123"}} /x?timestamp=1&signature=ff00&listenKey=LK"#,
            &s,
        );
        assert_eq!(
            r,
            r#"{"auth":{"KEY":"<api_key>","SIGN":"<signature>"}} /x?timestamp=1&signature=<signature>&listenKey=<redacted>"#
        );
        // Short secrets are redacted by position only; placeholders are never rewritten.
        let s = [
            ("abcdefgh".to_string(), "<api_key>"),
            ("pi_keyX".to_string(), "<api_secret>"),
        ];
        assert_eq!(redact("x abcdefgh y a b", &s), "x <api_key> y a b");
        assert_eq!(header_value("X-MEXC-APIKEY", "k"), "<api_key>");
        assert_eq!(header_value("User-Agent", "cexfeed/1"), "cexfeed/1");
        assert_eq!(
            split_origin("wss://api.gateio.ws/ws/v4/"),
            ("wss://api.gateio.ws", "/ws/v4/")
        );
    }
}
