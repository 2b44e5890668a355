//! Issue 13: DNS off the feed thread (finding 9), plain `ws://` only to loopback, secrets out of
//! `ConnSpec`'s `Debug` and URL errors.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::net::*;
use cexfeed::net::{ConnSpec, DownReason, NetError, Reactor, Resolve};
use tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(10);

/// A resolver whose answer the test changes; it records which thread asked.
#[derive(Debug, Default)]
struct TestResolver {
    answer: Mutex<Option<SocketAddr>>,
    calls: Mutex<Vec<(String, String)>>,
}

impl TestResolver {
    fn set(&self, a: Option<SocketAddr>) {
        *self.answer.lock().unwrap() = a;
    }
    fn calls(&self) -> Vec<(String, String)> {
        self.calls.lock().unwrap().clone()
    }
}

impl Resolve for TestResolver {
    fn resolve(&self, host: &str, _port: u16) -> io::Result<Vec<SocketAddr>> {
        let t = std::thread::current();
        self.calls
            .lock()
            .unwrap()
            .push((host.to_string(), t.name().unwrap_or("?").to_string()));
        match *self.answer.lock().unwrap() {
            Some(a) => Ok(vec![a]),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                "test: no such host",
            )),
        }
    }
}

/// A server that greets each connection with `hello` after the subscription, then holds it
/// until the client goes, or (`close`) drops it at once (EOF: the client reconnects).
fn greeter(hello: &'static str, close: bool) -> Server {
    serve(None, 1000, move |_, conn| {
        let mut ws = ws_accept(conn);
        if let Ok(Message::Text(_)) = ws.read() {
            let _ = ws.send(Message::text(hello));
            let _ = ws.flush();
        }
        if !close {
            while ws.read().is_ok() {}
        }
    })
}

/// Finding 9: a start-up DNS failure is not fatal (the spec is registered, connects fail with
/// `Unresolved` and are retried), the host is looked up again after connection losses on the
/// resolver thread (never the thread running the reactor), and a changed answer is followed.
#[test]
fn issue13_finding9_dns_failure_at_start_is_retried_and_host_re_resolved_after_loss() {
    let res = Arc::new(TestResolver::default());
    let (h, ev) = Recorder::new(Some("sub"));
    let cfg = cexfeed::net::ReactorConfig {
        resolver: res.clone(),
        ..block_cfg()
    };
    let mut r = Reactor::new(cfg, h).unwrap();
    // `localhost` with a port nobody listens on: only the test resolver's answer counts.
    let spec = r
        .add_spec(fast_spec("ws://localhost:1/ws"))
        .expect("a start-up DNS failure must not be fatal");
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| downs(e)
        .iter()
        .filter(|d| **d == DownReason::Unresolved)
        .count()
        >= 2));
    assert!(res.calls().len() >= 2, "{:?}", res.calls());

    // The name starts resolving: the next retry connects to A.
    let a = greeter("from-a", true);
    res.set(Some(a.addr));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e)
        .contains(&"from-a".to_string())));

    // The host moves: the answer becomes B. A drops every connection; the reconnect after
    // the loss asks the resolver again and follows the new answer.
    let b = greeter("from-b", false);
    res.set(Some(b.addr));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e)
        .contains(&"from-b".to_string())));
    drop(a);

    let calls = res.calls();
    assert!(calls.iter().all(|(h, _)| h == "localhost"), "{calls:?}");
    let here = std::thread::current().name().unwrap_or("?").to_string();
    // The first lookup is `add_spec`'s (the owner thread); every later one ran on the
    // resolver thread, never on the thread that runs the reactor loop.
    assert!(
        calls[1..]
            .iter()
            .all(|(_, t)| t == "cexfeed-dns" && *t != here),
        "{calls:?}"
    );
    let c = r.counters().snapshot();
    assert!(c.resolves >= 2 && c.resolve_failures >= 2, "{c:?}");
}

/// Finding 9: the system resolver still serves loopback names (`localhost`).
#[test]
fn issue13_finding9_system_resolver_connects_by_name() {
    let a = greeter("by-name", false);
    let url = format!("ws://localhost:{}/ws", a.addr.port());
    let (mut r, ev, _) = reactor(fast_spec(&url), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e)
        .contains(&"by-name".to_string())));
}

/// Plain `ws://` carries subscriptions, signed logins and a listen key in clear: refused for a
/// host that is not loopback, with an error that says so.
#[test]
fn issue13_plain_ws_refused_for_non_loopback_host() {
    let (h, _ev) = Recorder::new(None);
    let mut r = Reactor::new(block_cfg(), h).unwrap();
    for bad in ["ws://api.mexc.com/ws", "ws://10.0.0.1:80/ws"] {
        match r.add_spec(ConnSpec::new(bad)) {
            Err(NetError::BadUrl(_, why)) => assert!(why.contains("loopback"), "{why}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    for ok in [
        "ws://127.0.0.1:1/ws",
        "ws://[::1]:1/ws",
        "ws://localhost:1/ws",
    ] {
        assert!(r.add_spec(ConnSpec::new(ok)).is_ok(), "{ok}");
    }
}

/// A MEXC listen key in the query is a secret: neither `ConnSpec`'s `Debug` nor a URL error
/// prints it.
#[test]
fn issue13_listen_key_redacted_from_conn_spec_debug_and_bad_url() {
    let key = "LKsecret0123456789";
    let spec = ConnSpec::new(format!("wss://wbs-api.mexc.com/ws?listenKey={key}"));
    let d = format!("{spec:?}");
    assert!(
        !d.contains(key) && d.contains("listenKey=<redacted>"),
        "{d}"
    );
    let (h, _ev) = Recorder::new(None);
    let mut r = Reactor::new(block_cfg(), h).unwrap();
    let e = r
        .add_spec(ConnSpec::new(format!("ftp://h/ws?listenKey={key}")))
        .unwrap_err();
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(key), "{text}");
    }
    let sid = r.add_spec(ConnSpec::new("ws://127.0.0.1:1/ws")).unwrap();
    let e = r
        .set_spec_url(sid, &format!("ws://example.com/ws?a=1&listenKey={key}"))
        .unwrap_err();
    assert!(!e.to_string().contains(key), "{e}");
    assert_eq!(
        cexfeed::net::redact_url("wss://h/ws?x=1&listenKey=abc&Signature=s"),
        "wss://h/ws?x=1&listenKey=<redacted>&Signature=<redacted>"
    );
}

/// Finding 12: the upgrade request carries `User-Agent: cexfeed/<version>`.
#[test]
#[allow(clippy::result_large_err)] // tungstenite's handshake callback signature
fn issue13_finding12_user_agent_on_websocket_upgrade() {
    let seen = Arc::new(Mutex::new(None::<String>));
    let s2 = seen.clone();
    let srv = serve(None, 1, move |_, conn| {
        conn.tcp()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let cb = |req: &tungstenite::handshake::server::Request,
                  resp: tungstenite::handshake::server::Response| {
            *s2.lock().unwrap() = req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            Ok(resp)
        };
        let mut ws = tungstenite::accept_hdr(conn, cb).unwrap();
        let _ = ws.read();
        let _ = ws.send(Message::text("ok"));
        while ws.read().is_ok() {}
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).contains(&"ok".to_string())));
    let ua = seen.lock().unwrap().clone();
    assert_eq!(ua.as_deref(), Some(cexfeed::net::USER_AGENT));
    assert!(cexfeed::net::USER_AGENT.starts_with("cexfeed/"));
}
