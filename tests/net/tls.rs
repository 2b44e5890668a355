//! `wss://` through rustls with an rcgen-generated CA (the loopback-venue setup), a wrong CA
//! refused, and the control thread's HTTPS calls trusting the same extra CA.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::support::net::*;
use cexfeed::net::{
    CaCert, ConnId, ControlConfig, ControlError, ControlThread, DownReason, HttpMethod, HttpRequest,
};
use tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(5);

#[test]
fn wss_with_generated_ca_delivers_messages_answers_pings_and_reconnects() {
    let ca = test_ca();
    let srv = serve(Some(ca.server.clone()), 2, |n, conn| {
        let mut ws = ws_accept(conn);
        match ws.read().unwrap() {
            Message::Text(t) => assert_eq!(t.as_str(), "sub"),
            m => panic!("{m:?}"),
        }
        if n == 0 {
            ws.send(Message::Ping(b"hb".to_vec().into())).unwrap();
            match ws.read().unwrap() {
                Message::Pong(p) => assert_eq!(&p[..], b"hb"),
                m => panic!("expected pong, got {m:?}"),
            }
            for i in 0..100 {
                ws.send(Message::text(format!("m{i}"))).unwrap();
            }
            ws.send(Message::binary(vec![7u8; 20_000])).unwrap(); // > one TLS record
            std::thread::sleep(Duration::from_millis(20));
            reset(ws.get_ref().tcp());
        } else {
            ws.send(Message::text("again")).unwrap();
            while ws.read().is_ok() {}
        }
    });
    let mut spec = fast_spec(&srv.wss_url());
    spec.extra_root_ca = Some(CaCert::Pem(ca.ca_pem.clone().into_bytes()));
    let (mut r, ev, _) = reactor(spec, Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 101));
    let e = ev.lock().unwrap();
    let t = texts(&e);
    assert_eq!(
        t[..100],
        (0..100).map(|i| format!("m{i}")).collect::<Vec<_>>()[..]
    );
    assert_eq!(t[100], "again");
    assert!(e.contains(&Ev::Binary(ConnId(0), vec![7u8; 20_000])));
    assert_eq!(downs(&e), vec![DownReason::Reset]);
    assert_eq!(opens(&e), 2);
    assert!(r.counters().snapshot().tls_records_rx >= 101);
}

#[test]
fn wss_with_der_ca_also_works() {
    let ca = test_ca();
    let srv = serve(Some(ca.server.clone()), 1, |_, conn| {
        let mut ws = ws_accept(conn);
        ws.send(Message::text("hi")).unwrap();
        while ws.read().is_ok() {}
    });
    let mut spec = fast_spec(&srv.wss_url());
    spec.extra_root_ca = Some(CaCert::Der(ca.ca_der.clone()));
    let (mut r, ev, _) = reactor(spec, None);
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e) == ["hi"]));
}

#[test]
fn wss_with_wrong_ca_is_refused_and_never_opens() {
    let ca = test_ca();
    let other = test_ca();
    let srv = serve(Some(ca.server.clone()), 3, |_, mut conn| {
        // The handshake fails on the client side; the server just sees the alert / EOF.
        let mut b = [0u8; 64];
        let _ = conn.read(&mut b);
    });
    let mut spec = fast_spec(&srv.wss_url());
    spec.extra_root_ca = Some(CaCert::Pem(other.ca_pem.into_bytes()));
    let (mut r, ev, _) = reactor(spec, Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| downs(e).len() >= 2));
    let e = ev.lock().unwrap();
    assert_eq!(opens(&e), 0);
    assert!(
        downs(&e).iter().all(|d| *d == DownReason::Tls),
        "{:?}",
        downs(&e)
    );
}

#[test]
fn wss_without_extra_ca_rejects_the_loopback_cert() {
    let ca = test_ca();
    let srv = serve(Some(ca.server.clone()), 1, |_, mut conn| {
        let mut b = [0u8; 64];
        let _ = conn.read(&mut b);
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.wss_url()), None);
    assert!(run_until(&mut r, &ev, LIMIT, |e| !downs(e).is_empty()));
    assert_eq!(downs(&ev.lock().unwrap())[0], DownReason::Tls);
}

/// Minimal HTTPS server: answers every request on a connection with `status` and `body`.
fn https_once(ca: &TestCa, status: &'static str, body: &'static str) -> Server {
    serve(Some(ca.server.clone()), 1, move |_, mut conn| {
        let mut req = Vec::new();
        let mut b = [0u8; 1024];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            match conn.read(&mut b) {
                Ok(k) if k > 0 => req.extend_from_slice(&b[..k]),
                _ => return, // e.g. the client refused our certificate
            }
        }
        let head = String::from_utf8_lossy(&req).to_string();
        assert!(
            head.starts_with("GET /api/v3/depth?symbol=BTCUSDT HTTP/1.1\r\n"),
            "{head}"
        );
        assert!(head.to_ascii_lowercase().contains("x-test: 1"), "{head}");
        let resp = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(resp.as_bytes()).unwrap();
        conn.flush().unwrap();
        if let Conn::Tls(s) = &mut conn {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
    })
}

fn wait_reply(c: &cexfeed::net::ControlClient) -> cexfeed::net::HttpReply {
    let t0 = Instant::now();
    loop {
        if let Some(r) = c.try_reply() {
            return r;
        }
        assert!(t0.elapsed() < LIMIT, "no reply");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn control_thread_https_get_with_extra_ca_returns_status_and_body() {
    let ca = test_ca();
    let srv = https_once(&ca, "200 OK", "{\"lastUpdateId\":7}");
    let cfg = ControlConfig {
        extra_root_ca: Some(CaCert::Pem(ca.ca_pem.clone().into_bytes())),
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let (client, join) = ControlThread::spawn(cfg).unwrap();
    client
        .submit(HttpRequest {
            id: 42,
            method: HttpMethod::Get,
            url: format!("https://{}/api/v3/depth?symbol=BTCUSDT", srv.addr),
            headers: vec![("X-Test".into(), "1".into())],
            body: Vec::new(),
        })
        .unwrap();
    let r = wait_reply(&client);
    assert_eq!(r.id, 42);
    assert_eq!(r.result.unwrap(), (200, b"{\"lastUpdateId\":7}".to_vec()));
    client.stop();
    join.join().unwrap();
}

#[test]
fn control_thread_reports_http_error_status_and_tls_failure_as_values() {
    let ca = test_ca();
    let srv = https_once(&ca, "404 Not Found", "nope");
    let cfg = ControlConfig {
        extra_root_ca: Some(CaCert::Pem(ca.ca_pem.clone().into_bytes())),
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let (client, join) = ControlThread::spawn(cfg).unwrap();
    let req = |id, url: String| HttpRequest {
        id,
        method: HttpMethod::Get,
        url,
        headers: vec![("X-Test".into(), "1".into())],
        body: Vec::new(),
    };
    client
        .submit(req(
            1,
            format!("https://{}/api/v3/depth?symbol=BTCUSDT", srv.addr),
        ))
        .unwrap();
    let r = wait_reply(&client);
    assert_eq!(r.result.unwrap(), (404, b"nope".to_vec()));
    // Same server cert, but the client trusts a different CA: refused.
    let other = test_ca();
    let srv2 = https_once(&ca, "200 OK", "x");
    let cfg2 = ControlConfig {
        extra_root_ca: Some(CaCert::Pem(other.ca_pem.into_bytes())),
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let (client2, join2) = ControlThread::spawn(cfg2).unwrap();
    client2
        .submit(req(
            2,
            format!("https://{}/api/v3/depth?symbol=BTCUSDT", srv2.addr),
        ))
        .unwrap();
    let r2 = wait_reply(&client2);
    assert_eq!(r2.id, 2);
    assert!(
        matches!(
            r2.result,
            Err(ControlError::Tls(_)) | Err(ControlError::Io(_))
        ),
        "{:?}",
        r2.result
    );
    drop(client);
    drop(client2);
    join.join().unwrap();
    join2.join().unwrap();
}

/// The intended wiring of REST into the feed: the handler owns the `ControlClient`, submits
/// from a callback (here `on_open`, like a snapshot fetch) and polls `try_reply` in `on_tick`;
/// the feed thread never waits.
struct SnapshotFetcher {
    control: cexfeed::net::ControlClient,
    url: String,
    ev: std::sync::Arc<std::sync::Mutex<Vec<Ev>>>,
    reply: Option<(u16, Vec<u8>)>,
}

impl cexfeed::net::Handler for SnapshotFetcher {
    fn on_open(&mut self, _c: ConnId, _now_ns: u64, _out: &mut cexfeed::net::Outbox<'_>) {
        self.control
            .submit(HttpRequest {
                id: 1,
                method: HttpMethod::Get,
                url: self.url.clone(),
                headers: vec![("X-Test".into(), "1".into())],
                body: Vec::new(),
            })
            .unwrap();
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: cexfeed::net::WsMessage<'_>,
        _recv_ns: u64,
        _out: &mut cexfeed::net::Outbox<'_>,
    ) {
        let t = String::from_utf8(msg.bytes().to_vec()).unwrap();
        self.ev.lock().unwrap().push(Ev::Text(conn, t));
    }
    fn on_down(&mut self, _c: ConnId, _r: DownReason, _now_ns: u64) {}
    fn on_tick(&mut self, _now_ns: u64, _out: &mut cexfeed::net::Outbox<'_>) {
        if let Some(r) = self.control.try_reply() {
            self.reply = Some(r.result.unwrap());
            self.ev
                .lock()
                .unwrap()
                .push(Ev::Text(ConnId(99), "reply".into()));
        }
    }
}

#[test]
fn handler_owned_control_client_fetches_while_the_feed_keeps_running() {
    let ca = test_ca();
    let rest = https_once(&ca, "200 OK", "{\"lastUpdateId\":7}");
    let ws = serve(Some(ca.server.clone()), 1, |_, conn| {
        let mut ws = ws_accept(conn);
        ws.send(Message::text("delta")).unwrap();
        while ws.read().is_ok() {}
    });
    let (control, join) = ControlThread::spawn(ControlConfig {
        extra_root_ca: Some(CaCert::Pem(ca.ca_pem.clone().into_bytes())),
        ..Default::default()
    })
    .unwrap();
    let ev = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = SnapshotFetcher {
        control,
        url: format!("https://{}/api/v3/depth?symbol=BTCUSDT", rest.addr),
        ev: ev.clone(),
        reply: None,
    };
    let mut r = cexfeed::net::Reactor::new(block_cfg(), h).unwrap();
    let mut spec = fast_spec(&ws.wss_url());
    spec.extra_root_ca = Some(CaCert::Der(ca.ca_der.clone()));
    let s = r.add_spec(spec).unwrap();
    r.open(s).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    assert!(texts(&ev.lock().unwrap()).contains(&"delta".to_string()));
    let h = r.into_handler();
    assert_eq!(h.reply, Some((200, b"{\"lastUpdateId\":7}".to_vec())));
    drop(h);
    join.join().unwrap();
}
