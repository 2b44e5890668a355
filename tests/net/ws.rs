//! Loopback tests of the reactor over plain `ws://`: framing edge cases, keepalive, every way a
//! connection dies, and that each reconnect calls `on_open` again (subscriptions resent).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::net::*;
use cexfeed::net::{ConnId, DownReason, Framing, Handler, Outbox, Reactor, SpecId, WsMessage};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

const LIMIT: Duration = Duration::from_secs(5);

pub(crate) fn expect_sub(ws: &mut WebSocket<Conn>) {
    match ws.read().unwrap() {
        Message::Text(t) => assert_eq!(t.as_str(), "sub"),
        m => panic!("expected the subscription, got {m:?}"),
    }
}

/// Block until the client goes away (bounded by the 5 s read timeout).
pub(crate) fn wait_gone(ws: &mut WebSocket<Conn>) {
    while ws.read().is_ok() {}
}

#[test]
fn frames_split_across_reads_byte_by_byte_are_reassembled() {
    split_frames_reassembled(Framing::Own);
}

/// The test's body for either framing (`tg_framing.rs` runs it with tungstenite).
pub(crate) fn split_frames_reassembled(framing: Framing) {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        let mut bytes = frame(1, true, b"hello");
        bytes.extend(frame(2, true, &[1, 2, 3]));
        bytes.extend(frame(1, true, "x".repeat(300).as_bytes()));
        let s = ws.get_mut();
        for b in &bytes {
            s.write_all(std::slice::from_ref(b)).unwrap();
            s.flush().unwrap();
            std::thread::sleep(Duration::from_micros(50));
        }
        wait_gone(&mut ws);
    });
    let (mut r, ev, _) = reactor_framed(framing, fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    let e = ev.lock().unwrap();
    assert_eq!(texts(&e), vec!["hello".to_string(), "x".repeat(300)]);
    assert!(e.contains(&Ev::Binary(ConnId(0), vec![1, 2, 3])));
    assert!(downs(&e).is_empty());
    assert_eq!(r.counters().snapshot().messages_rx, 3);
}

#[test]
fn fragmented_message_with_ping_between_fragments_is_joined_and_ping_answered() {
    fragmented_with_ping_joined(Framing::Own);
}

/// The test's body for either framing (`tg_framing.rs` runs it with tungstenite).
pub(crate) fn fragmented_with_ping_joined(framing: Framing) {
    let pong_ok = Arc::new(AtomicBool::new(false));
    let p = pong_ok.clone();
    let srv = serve(None, 1, move |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        let mut bytes = frame(1, false, b"hel");
        bytes.extend(frame(9, true, b"pp"));
        bytes.extend(frame(0, false, b"lo "));
        bytes.extend(frame(0, true, b"world"));
        ws.get_mut().write_all(&bytes).unwrap();
        match ws.read().unwrap() {
            Message::Pong(d) => p.store(&d[..] == b"pp", Ordering::SeqCst),
            m => panic!("expected pong, got {m:?}"),
        }
        ws.send(Message::text("after")).unwrap();
        wait_gone(&mut ws);
    });
    let (mut r, ev, _) = reactor_framed(framing, fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    assert_eq!(texts(&ev.lock().unwrap()), vec!["hello world", "after"]);
    assert!(
        pong_ok.load(Ordering::SeqCst),
        "the ping was not answered with its payload"
    );
}

#[test]
#[allow(clippy::result_large_err)] // tungstenite's accept_hdr callback signature
fn server_close_completes_handshake_and_reconnect_resubscribes_with_headers() {
    let srv = serve(None, 2, |n, conn| {
        conn.tcp()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut ws = tungstenite::accept_hdr(
            conn,
            |req: &tungstenite::handshake::server::Request, resp| {
                assert_eq!(req.headers()["X-Gate-Size-Decimal"], "1");
                Ok(resp)
            },
        )
        .unwrap();
        expect_sub(&mut ws);
        if n == 0 {
            ws.send(Message::text("one")).unwrap();
            ws.close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "bye".into(),
            }))
            .unwrap();
            // The client answers the close; read() then reports the finished handshake.
            let end = loop {
                match ws.read() {
                    Ok(_) => continue,
                    Err(e) => break e,
                }
            };
            assert!(
                matches!(end, tungstenite::Error::ConnectionClosed),
                "{end:?}"
            );
        } else {
            ws.send(Message::text("two")).unwrap();
            wait_gone(&mut ws);
        }
    });
    let spec = fast_spec(&srv.ws_url()).header("X-Gate-Size-Decimal", "1");
    let (mut r, ev, _) = reactor(spec, Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    let e = ev.lock().unwrap();
    let c = ConnId(0);
    assert_eq!(
        *e,
        vec![
            Ev::Open(c),
            Ev::Text(c, "one".into()),
            Ev::Down(c, DownReason::ClosedByPeer { code: 1001 }),
            Ev::Open(c),
            Ev::Text(c, "two".into()),
        ]
    );
    assert_eq!(r.counters().snapshot().reconnects, 1);
}

#[test]
fn connection_reset_reconnects_and_resubscribes() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        if n == 0 {
            ws.send(Message::text("one")).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            reset(ws.get_ref().tcp());
        } else {
            ws.send(Message::text("two")).unwrap();
            wait_gone(&mut ws);
        }
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    let e = ev.lock().unwrap();
    assert_eq!(downs(&e), vec![DownReason::Reset]);
    assert_eq!(opens(&e), 2);
    assert_eq!(texts(&e), vec!["one", "two"]);
}

#[test]
fn silent_server_is_detected_as_stale_and_replaced() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text(if n == 0 { "one" } else { "two" }))
            .unwrap();
        wait_gone(&mut ws); // then silence
    });
    let mut spec = fast_spec(&srv.ws_url());
    spec.idle_timeout = Some(Duration::from_millis(200));
    let (mut r, ev, _) = reactor(spec, Some("sub"));
    let t0 = Instant::now();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    assert!(t0.elapsed() >= Duration::from_millis(200));
    let e = ev.lock().unwrap();
    assert_eq!(downs(&e), vec![DownReason::Stale]);
    assert_eq!(opens(&e), 2);
}

#[test]
fn server_restart_on_same_port_is_survived_with_backoff() {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text("one")).unwrap();
        // Returning drops the socket: EOF without a close handshake.
    });
    let addr = srv.addr;
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| !downs(e).is_empty()));
    drop(srv); // listener gone: connects are refused
    assert!(run_until(&mut r, &ev, LIMIT, |e| downs(e)
        .iter()
        .filter(|d| **d == DownReason::ConnectFailed)
        .count()
        >= 2));
    let srv2 = serve_on(&addr.to_string(), None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text("two")).unwrap();
        wait_gone(&mut ws);
    });
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    let e = ev.lock().unwrap();
    assert_eq!(downs(&e)[0], DownReason::Reset);
    assert_eq!(opens(&e), 2);
    assert_eq!(texts(&e), vec!["one", "two"]);
    drop(e);
    drop(r); // client first, so the server thread sees EOF instead of its read timeout
    drop(srv2);
}

#[test]
fn oversized_frame_and_oversized_fragmented_message_are_refused_then_reconnected() {
    oversized_refused_counted_reconnected(Framing::Own);
}

/// The test's body for either framing (`tg_framing.rs` runs it with tungstenite).
pub(crate) fn oversized_refused_counted_reconnected(framing: Framing) {
    let srv = serve(None, 3, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        match n {
            0 => ws.send(Message::text("a".repeat(4096))).unwrap(),
            1 => {
                let mut bytes = frame(1, false, &[b'b'; 600]);
                bytes.extend(frame(0, true, &[b'b'; 600]));
                ws.get_mut().write_all(&bytes).unwrap();
            }
            _ => ws.send(Message::text("fine")).unwrap(),
        }
        wait_gone(&mut ws);
    });
    let mut spec = fast_spec(&srv.ws_url());
    spec.max_frame_size = 1024;
    spec.max_message_size = 1024;
    let (mut r, ev, _) = reactor_framed(framing, spec, Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 1));
    let e = ev.lock().unwrap();
    assert_eq!(
        downs(&e),
        vec![DownReason::Oversized, DownReason::Oversized]
    );
    assert_eq!(opens(&e), 3);
    assert_eq!(texts(&e), vec!["fine"]);
    let c = r.counters().snapshot();
    assert_eq!((c.downs, c.reconnects), (2, 2));
}

#[test]
fn handshake_refused_with_403_is_reported_and_retried() {
    let srv = serve(None, 2, |n, mut conn| {
        if n == 0 {
            let mut req = Vec::new();
            let mut b = [0u8; 1024];
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                let k = conn.read(&mut b).unwrap();
                assert!(k > 0);
                req.extend_from_slice(&b[..k]);
            }
            conn.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            std::thread::sleep(Duration::from_millis(50));
        } else {
            let mut ws = ws_accept(conn);
            expect_sub(&mut ws);
            ws.send(Message::text("two")).unwrap();
            wait_gone(&mut ws);
        }
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 1));
    let e = ev.lock().unwrap();
    assert_eq!(
        downs(&e),
        vec![DownReason::HandshakeRejected { status: 403 }]
    );
    assert_eq!(*e.last().unwrap(), Ev::Text(ConnId(0), "two".into()));
}

/// Make-before-break: on "rotate" open a second connection from the same spec; when it is
/// live, close the first. The first must not reconnect.
struct Rotator {
    ev: Arc<Mutex<Vec<Ev>>>,
    spec: SpecId,
    old: Option<ConnId>,
}

impl Handler for Rotator {
    fn on_open(&mut self, conn: ConnId, _now_ns: u64, out: &mut Outbox<'_>) {
        self.ev.lock().unwrap().push(Ev::Open(conn));
        out.send_text(conn, "sub").unwrap();
        if let Some(old) = self.old.take() {
            out.close(old);
        }
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        _recv_ns: u64,
        out: &mut Outbox<'_>,
    ) {
        let t = String::from_utf8(msg.bytes().to_vec()).unwrap();
        if t == "rotate" {
            assert_eq!(
                out.send_text(ConnId(7), "x"),
                Err(cexfeed::net::SendError::NotLive)
            );
            self.old = Some(conn);
            assert_eq!(out.spec_of(conn), Some(self.spec));
            assert_ne!(out.open(self.spec), None);
        }
        self.ev.lock().unwrap().push(Ev::Text(conn, t));
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.ev.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

#[test]
fn make_before_break_rotation_opens_new_then_closes_old_without_reconnect() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        if n == 0 {
            ws.send(Message::text("rotate")).unwrap();
        } else {
            ws.send(Message::text("on-b")).unwrap();
        }
        wait_gone(&mut ws);
    });
    let ev = Arc::new(Mutex::new(Vec::new()));
    let mut r = Reactor::new(
        block_cfg(),
        Rotator {
            ev: ev.clone(),
            spec: SpecId(0),
            old: None,
        },
    )
    .unwrap();
    let spec = r.add_spec(fast_spec(&srv.ws_url())).unwrap();
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2
        && !downs(e).is_empty()));
    // Give a wrongly scheduled reconnect of the old connection time to show up.
    run_until(&mut r, &ev, Duration::from_millis(200), |_| false);
    let e = ev.lock().unwrap();
    let (a, b) = (ConnId(0), ConnId(1));
    assert_eq!(opens(&e), 2);
    assert!(e.contains(&Ev::Text(a, "rotate".into())));
    assert!(e.contains(&Ev::Text(b, "on-b".into())));
    assert_eq!(
        e.iter()
            .filter(|x| matches!(x, Ev::Down(..)))
            .collect::<Vec<_>>(),
        vec![&Ev::Down(a, DownReason::ClosedByUs)]
    );
}

#[test]
fn stop_flag_ends_a_spawned_reactor() {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text("one")).unwrap();
        wait_gone(&mut ws);
    });
    let (h, ev) = Recorder::new(Some("sub"));
    let mut r = Reactor::new(block_cfg(), h).unwrap();
    let spec = r.add_spec(fast_spec(&srv.ws_url())).unwrap();
    r.open(spec).unwrap();
    let stop = r.stop_flag();
    let counters = r.counters();
    let j = r.spawn("feed-test").unwrap();
    let t0 = Instant::now();
    while counters.snapshot().messages_rx < 1 && t0.elapsed() < LIMIT {
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Relaxed);
    let _h = j.join().unwrap().unwrap();
    assert_eq!(texts(&ev.lock().unwrap()), vec!["one"]);
    let c = counters.snapshot();
    assert_eq!((c.connects, c.messages_rx, c.messages_tx), (1, 1, 1));
    assert!(c.bytes_rx > 0);
}

/// A hand-rolled upgrade answer, written in `chunk`-byte pieces, with two frames glued to its
/// last piece.
pub(crate) fn upgrade_then_frames(mut conn: Conn, chunk: usize) {
    let mut req = Vec::new();
    let mut b = [0u8; 2048];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        let k = conn.read(&mut b).unwrap();
        assert!(k > 0);
        req.extend_from_slice(&b[..k]);
    }
    let head = String::from_utf8_lossy(&req).to_string();
    let key = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| v.trim().to_string())
        })
        .unwrap();
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    )
    .into_bytes();
    let head_len = out.len();
    out.extend(frame(1, true, b"first"));
    out.extend(frame(1, true, b"second"));
    let mut off = 0;
    while off < head_len {
        let end = (off + chunk).min(head_len);
        let end = if end == head_len { out.len() } else { end };
        conn.write_all(&out[off..end]).unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_micros(300));
        off = end;
    }
    conn.tcp()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = conn.read(&mut b);
}

/// Regression: a server that writes its first frames in the same segment as the 101 answer.
/// The handshake must not swallow them into a buffer that is thrown away.
#[test]
fn frames_glued_to_the_101_answer_are_not_lost() {
    let srv = serve(None, 1, |_, conn| upgrade_then_frames(conn, usize::MAX));
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), None);
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    assert_eq!(texts(&ev.lock().unwrap()), vec!["first", "second"]);
}

/// The end-of-header detector must work when `\r\n\r\n` straddles reads. (Not 1-byte
/// pieces: tungstenite refuses an answer spread over > 64 tiny reads as an attack.)
#[test]
fn upgrade_answer_trickled_in_small_pieces_still_keeps_glued_frames() {
    for chunk in [3, 5, 7] {
        let srv = serve(None, 1, move |_, conn| upgrade_then_frames(conn, chunk));
        let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), None);
        let ok = run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2);
        assert!(ok, "chunk {chunk}: {:?}", ev.lock().unwrap());
        assert_eq!(
            texts(&ev.lock().unwrap()),
            vec!["first", "second"],
            "chunk {chunk}"
        );
        drop(r);
    }
}

#[test]
fn server_that_never_answers_the_upgrade_times_out_and_is_retried() {
    let srv = serve(None, 2, |n, mut conn| {
        if n == 0 {
            let mut b = [0u8; 2048];
            let _ = conn.read(&mut b); // swallow the request, answer nothing
            std::thread::sleep(Duration::from_millis(600));
        } else {
            let mut ws = ws_accept(conn);
            ws.send(Message::text("late")).unwrap();
            wait_gone(&mut ws);
        }
    });
    let mut spec = fast_spec(&srv.ws_url());
    spec.connect_timeout = Duration::from_millis(200);
    let (mut r, ev, _) = reactor(spec, None);
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 1));
    let e = ev.lock().unwrap();
    assert_eq!(downs(&e), vec![DownReason::ConnectTimeout]);
    assert_eq!(texts(&e), vec!["late"]);
}

/// Soak: many reset/reconnect cycles; every cycle re-opens and re-subscribes.
#[test]
#[ignore = "soak: ~200 reconnects, run on purpose"]
fn soak_two_hundred_resets_each_followed_by_a_fresh_subscription() {
    const N: usize = 200;
    let srv = serve(None, N, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text(format!("m{n}"))).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        reset(ws.get_ref().tcp());
    });
    let mut spec = fast_spec(&srv.ws_url());
    spec.backoff_min = Duration::from_millis(1);
    spec.backoff_max = Duration::from_millis(5);
    let (mut r, ev, _) = reactor(spec, Some("sub"));
    assert!(run_until(&mut r, &ev, Duration::from_secs(60), |e| texts(
        e
    )
    .len()
        == N));
    let e = ev.lock().unwrap();
    assert_eq!(opens(&e), N);
    assert_eq!(
        texts(&e),
        (0..N).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
}

/// App-level keepalive from `on_tick` (e.g. `{"method":"PING"}` for MEXC, `spot.ping` for
/// Gate.io): the tick runs every iteration and the handler keeps its own deadline.
struct Pinger {
    ev: Arc<Mutex<Vec<Ev>>>,
    conn: Option<ConnId>,
    next_ns: u64,
}

impl Handler for Pinger {
    fn on_open(&mut self, conn: ConnId, now_ns: u64, _out: &mut Outbox<'_>) {
        self.conn = Some(conn);
        self.next_ns = now_ns;
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        _recv_ns: u64,
        _out: &mut Outbox<'_>,
    ) {
        let t = String::from_utf8(msg.bytes().to_vec()).unwrap();
        self.ev.lock().unwrap().push(Ev::Text(conn, t));
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.conn = None;
        self.ev.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, now_ns: u64, out: &mut Outbox<'_>) {
        if let Some(c) = self.conn {
            if now_ns >= self.next_ns && out.is_live(c) {
                out.send_text(c, r#"{"method":"PING"}"#).unwrap();
                self.next_ns = now_ns + 20_000_000;
            }
        }
    }
}

#[test]
fn app_level_pings_from_on_tick_are_sent_and_answered() {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        for _ in 0..3 {
            match ws.read().unwrap() {
                Message::Text(t) if t.as_str() == r#"{"method":"PING"}"# => ws
                    .send(Message::text(r#"{"id":0,"code":0,"msg":"PONG"}"#))
                    .unwrap(),
                m => panic!("{m:?}"),
            }
        }
        wait_gone(&mut ws);
    });
    let ev = Arc::new(Mutex::new(Vec::new()));
    let mut r = Reactor::new(
        block_cfg(),
        Pinger {
            ev: ev.clone(),
            conn: None,
            next_ns: 0,
        },
    )
    .unwrap();
    let spec = r.add_spec(fast_spec(&srv.ws_url())).unwrap();
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 3));
    assert!(texts(&ev.lock().unwrap())
        .iter()
        .all(|t| t == r#"{"id":0,"code":0,"msg":"PONG"}"#));
    assert!(r.counters().snapshot().messages_tx >= 3);
}

/// A MEXC private stream carries its listenKey in the query: a new key means a new URL on the
/// same host, switched from inside the loop without DNS.
struct KeySwitcher {
    ev: Arc<Mutex<Vec<Ev>>>,
    spec: SpecId,
    base: String,
}

impl Handler for KeySwitcher {
    fn on_open(&mut self, conn: ConnId, _now_ns: u64, _out: &mut Outbox<'_>) {
        self.ev.lock().unwrap().push(Ev::Open(conn));
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        _recv_ns: u64,
        out: &mut Outbox<'_>,
    ) {
        let t = String::from_utf8(msg.bytes().to_vec()).unwrap();
        if t == "/ws?listenKey=k1" {
            assert!(out
                .set_spec_url(self.spec, "ws://example.com/ws?listenKey=k2")
                .is_err());
            out.set_spec_url(self.spec, &format!("{}?listenKey=k2", self.base))
                .unwrap();
            out.reconnect(conn);
        }
        self.ev.lock().unwrap().push(Ev::Text(conn, t));
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.ev.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

#[test]
#[allow(clippy::result_large_err)] // tungstenite's accept_hdr callback signature
fn new_listen_key_url_is_used_on_the_next_connect_without_dns() {
    let srv = serve(None, 2, |_, conn| {
        conn.tcp()
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let path = Arc::new(Mutex::new(String::new()));
        let p = path.clone();
        let mut ws = tungstenite::accept_hdr(
            conn,
            move |req: &tungstenite::handshake::server::Request, resp| {
                *p.lock().unwrap() = req.uri().to_string();
                Ok(resp)
            },
        )
        .unwrap();
        let path = path.lock().unwrap().clone();
        ws.send(Message::text(path)).unwrap();
        wait_gone(&mut ws);
    });
    let ev = Arc::new(Mutex::new(Vec::new()));
    let base = srv.ws_url();
    let mut r = Reactor::new(
        block_cfg(),
        KeySwitcher {
            ev: ev.clone(),
            spec: SpecId(0),
            base: base.clone(),
        },
    )
    .unwrap();
    let spec = r
        .add_spec(fast_spec(&format!("{base}?listenKey=k1")))
        .unwrap();
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 2));
    let e = ev.lock().unwrap();
    assert_eq!(texts(&e), vec!["/ws?listenKey=k1", "/ws?listenKey=k2"]);
    assert_eq!(downs(&e), vec![DownReason::Requested]);
}

#[test]
fn yield_wait_mode_delivers_too() {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        for i in 0..50 {
            ws.send(Message::text(format!("y{i}"))).unwrap();
        }
        wait_gone(&mut ws);
    });
    let (h, ev) = Recorder::new(Some("sub"));
    let cfg = cexfeed::net::ReactorConfig {
        wait: cexfeed::net::Wait::Yield,
        framing: cexfeed::net::Framing::Own,
        ..Default::default()
    };
    let mut r = Reactor::new(cfg, h).unwrap();
    let spec = r.add_spec(fast_spec(&srv.ws_url())).unwrap();
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 50));
    assert_eq!(
        texts(&ev.lock().unwrap()),
        (0..50).map(|i| format!("y{i}")).collect::<Vec<_>>()
    );
}

/// Issue 12, defect 2: a server sending 125-byte pings nonstop while not reading used to queue
/// one pong per ping in the client's write buffer (60 MB → 4.4 GB in 16 s). Once the kernel
/// buffers are full, only the latest pong waits: the queued-bytes gauge stays within two pongs
/// (one partly written, one waiting) and the connection is not failed for it.
#[test]
fn ping_flood_from_a_peer_that_does_not_read_keeps_one_pong_queued() {
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let (s2, f2) = (sent.clone(), finished.clone());
    let srv = serve(None, 1, move |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        let mut batch = Vec::new();
        for i in 0..64u8 {
            batch.extend(frame(9, true, &[i; 125]));
        }
        let end = Instant::now() + Duration::from_millis(1500);
        while Instant::now() < end {
            if ws.get_mut().write_all(&batch).is_err() {
                return;
            }
            s2.fetch_add(64, Ordering::Relaxed);
        }
        ws.get_mut().write_all(&frame(1, true, b"done")).unwrap();
        // Still not reading, until the test has looked (bounded).
        let end = Instant::now() + Duration::from_secs(20);
        while !f2.load(Ordering::Relaxed) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, Duration::from_secs(20), |e| {
        texts(e) == ["done"]
    }));
    let pings = sent.load(Ordering::Relaxed);
    // Far more pongs than the kernel buffers hold (131 bytes each): the queue was exercised.
    assert!(pings > 200_000, "only {pings} pings sent");
    let c = r.counters().snapshot();
    assert!(
        c.write_queued_max <= 2 * 131,
        "{} bytes queued at most",
        c.write_queued_max
    );
    assert_eq!(c.write_overflows, 0);
    assert!(downs(&ev.lock().unwrap()).is_empty());
    finished.store(true, Ordering::Relaxed);
    drop(r);
}

/// A handler that answers every text message with a 4 KiB text (a chatty client).
struct Chatty {
    events: Arc<Mutex<Vec<Ev>>>,
}

impl Handler for Chatty {
    fn on_open(&mut self, conn: ConnId, _now_ns: u64, out: &mut Outbox<'_>) {
        self.events.lock().unwrap().push(Ev::Open(conn));
        let _ = out.send_text(conn, "sub");
    }
    fn on_message(&mut self, conn: ConnId, msg: WsMessage<'_>, _: u64, out: &mut Outbox<'_>) {
        if let WsMessage::Text(t) = msg {
            let t = String::from_utf8_lossy(t).into_owned();
            if t != "x" {
                self.events.lock().unwrap().push(Ev::Text(conn, t));
            }
        }
        let _ = out.send_text(conn, &"y".repeat(4096));
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.events.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

/// Issue 12, defect 2: the write buffer is capped. A peer that never reads while the client
/// keeps sending makes the queue pass `max_write_buffer_size`: the connection fails with
/// `WriteBufferFull` (counted) and reconnects; the gauge never exceeds the cap plus one frame.
#[test]
fn write_buffer_past_its_cap_fails_and_reconnects_the_connection() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        if n == 0 {
            let end = Instant::now() + Duration::from_secs(10);
            let x = frame(1, true, b"x");
            while Instant::now() < end && ws.get_mut().write_all(&x).is_ok() {}
            return;
        }
        ws.send(Message::text("fine")).unwrap();
        wait_gone(&mut ws);
    });
    let mut spec = fast_spec(&srv.ws_url());
    spec.max_write_buffer_size = 64 * 1024;
    let events = Arc::new(Mutex::new(Vec::new()));
    let mut r = Reactor::new(
        block_cfg(),
        Chatty {
            events: events.clone(),
        },
    )
    .unwrap();
    let id = r.add_spec(spec).unwrap();
    r.open(id).unwrap();
    assert!(run_until(&mut r, &events, Duration::from_secs(20), |e| {
        texts(e) == ["fine"]
    }));
    let e = events.lock().unwrap();
    assert_eq!(downs(&e), vec![DownReason::WriteBufferFull]);
    assert_eq!(opens(&e), 2);
    let c = r.counters().snapshot();
    assert_eq!(c.write_overflows, 1);
    assert!(
        c.write_queued_max <= 64 * 1024 + 4096 + 14,
        "{}",
        c.write_queued_max
    );
    drop(e);
    drop(r);
}

/// Issue 12, defect 7: a single huge frame used to leave the receive buffer at up to twice the
/// frame limit, and a huge fragmented message its reassembly buffer, for the connection's life
/// (10 MB frame → 182 MB retained). After a 10 MB frame and a 3 MB fragmented message, once the
/// small frame after them is read, the connection's buffers are back to their configured size.
#[test]
fn one_huge_frame_does_not_keep_its_buffers_for_the_connection_life() {
    let srv = serve(None, 1, |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        let s = ws.get_mut();
        s.write_all(&frame(1, true, &vec![b'h'; 10 << 20])).unwrap();
        s.write_all(&frame(1, false, &vec![b'f'; 3 << 19])).unwrap();
        s.write_all(&frame(0, true, &vec![b'f'; 3 << 19])).unwrap();
        s.write_all(&frame(1, true, b"after")).unwrap();
        wait_gone(&mut ws);
    });
    let (mut r, ev, _) = reactor(fast_spec(&srv.ws_url()), Some("sub"));
    let base = r.buffer_bytes();
    assert!(run_until(&mut r, &ev, Duration::from_secs(10), |e| {
        texts(e).last().is_some_and(|t| t == "after")
    }));
    let lens: Vec<usize> = texts(&ev.lock().unwrap()).iter().map(|t| t.len()).collect();
    assert_eq!(lens, vec![10 << 20, 3 << 20, 5]);
    // Receive 64 KiB + reassembly ≤ 64 KiB + output 4 KiB.
    let held = r.buffer_bytes();
    assert!(
        held <= 64 * 1024 * 2 + 4096,
        "{held} bytes held (before: {base})"
    );
    drop(r);
}
