//! `Framing::Tungstenite` (issue 14): after the upgrade the reactor reads and writes frames
//! through `tungstenite::WebSocket` over the same non-blocking stream. The same loopback cases
//! as `ws.rs` (which pins `Framing::Own`), run with tungstenite framing: data, pings,
//! fragmentation, frames glued to the 101, both close directions, oversized messages; and the
//! books of a whole engine against the loopback venue equal the `Own` path's and the venue's.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::net::*;
use crate::support::{loopback_config, pause_and_settle, venue_book};
use crate::ws::{
    expect_sub, fragmented_with_ping_joined, oversized_refused_counted_reconnected,
    split_frames_reassembled, upgrade_then_frames, wait_gone,
};
use cexfeed::config::WaitMode;
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::net::{ConnId, DownReason, Framing, Handler, Outbox, Reactor, WsMessage};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::Message;

const LIMIT: Duration = Duration::from_secs(5);
const TG: Framing = Framing::Tungstenite;

#[test]
fn tungstenite_framing_frames_split_across_reads_byte_by_byte_are_reassembled() {
    split_frames_reassembled(TG);
}

#[test]
fn tungstenite_framing_fragmented_message_with_ping_between_fragments_is_joined_and_ping_answered()
{
    fragmented_with_ping_joined(TG);
}

#[test]
fn tungstenite_framing_server_close_is_echoed_reported_with_its_code_and_reconnected() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        if n == 0 {
            ws.send(Message::text("one")).unwrap();
            ws.close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "bye".into(),
            }))
            .unwrap();
            // The client echoes the close; read() then reports the finished handshake.
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
    let (mut r, ev, _) = reactor_framed(TG, fast_spec(&srv.ws_url()), Some("sub"));
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

/// Closes its connection on the first message.
struct Closer {
    ev: Arc<Mutex<Vec<Ev>>>,
}

impl Handler for Closer {
    fn on_open(&mut self, conn: ConnId, _now_ns: u64, out: &mut Outbox<'_>) {
        self.ev.lock().unwrap().push(Ev::Open(conn));
        out.send_text(conn, "sub").unwrap();
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        _recv_ns: u64,
        out: &mut Outbox<'_>,
    ) {
        let t = String::from_utf8(msg.bytes().to_vec()).unwrap();
        self.ev.lock().unwrap().push(Ev::Text(conn, t));
        out.close(conn);
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.ev.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

#[test]
fn tungstenite_framing_close_by_us_sends_1000_waits_for_the_answer_and_does_not_reconnect() {
    let code_seen = Arc::new(Mutex::new(None));
    let cs = code_seen.clone();
    let srv = serve(None, 2, move |_, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        ws.send(Message::text("bye")).unwrap();
        loop {
            match ws.read() {
                Ok(Message::Close(f)) => {
                    *cs.lock().unwrap() = f.map(|f| u16::from(f.code));
                }
                Ok(_) => {}
                Err(_) => break, // our answer went out (tungstenite echoes), then EOF
            }
        }
    });
    let ev = Arc::new(Mutex::new(Vec::new()));
    let mut r = Reactor::new(block_cfg_framed(TG), Closer { ev: ev.clone() }).unwrap();
    let spec = r.add_spec(fast_spec(&srv.ws_url())).unwrap();
    r.open(spec).unwrap();
    assert!(run_until(&mut r, &ev, LIMIT, |e| !downs(e).is_empty()));
    // A wrongly scheduled reconnect would show up as a second open.
    run_until(&mut r, &ev, Duration::from_millis(200), |_| false);
    let e = ev.lock().unwrap();
    assert_eq!(opens(&e), 1);
    assert_eq!(downs(&e), vec![DownReason::ClosedByUs]);
    assert_eq!(*code_seen.lock().unwrap(), Some(1000));
}

#[test]
fn tungstenite_framing_oversized_frame_and_fragmented_message_are_refused_counted_and_reconnected()
{
    oversized_refused_counted_reconnected(TG);
}

/// Bytes glued to the 101 answer (whole, and with the answer trickled in pieces) are served
/// to tungstenite from the receive buffer before the socket.
#[test]
fn tungstenite_framing_frames_glued_to_the_101_answer_are_not_lost() {
    for chunk in [usize::MAX, 3, 7] {
        let srv = serve(None, 1, move |_, conn| upgrade_then_frames(conn, chunk));
        let (mut r, ev, _) = reactor_framed(TG, fast_spec(&srv.ws_url()), None);
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

/// Text frames are UTF-8 checked by tungstenite (the `Own` parser hands them out unchecked):
/// invalid UTF-8 is a protocol error.
#[test]
fn tungstenite_framing_refuses_a_text_frame_that_is_not_utf8() {
    let srv = serve(None, 2, |n, conn| {
        let mut ws = ws_accept(conn);
        expect_sub(&mut ws);
        if n == 0 {
            ws.get_mut()
                .write_all(&frame(1, true, &[0xff, 0xfe]))
                .unwrap();
        } else {
            ws.send(Message::text("ok")).unwrap();
        }
        wait_gone(&mut ws);
    });
    let (mut r, ev, _) = reactor_framed(TG, fast_spec(&srv.ws_url()), Some("sub"));
    assert!(run_until(&mut r, &ev, LIMIT, |e| texts(e).len() == 1));
    let e = ev.lock().unwrap();
    assert_eq!(downs(&e), vec![DownReason::Protocol]);
    assert_eq!(texts(&e), vec!["ok"]);
}

/// The whole pipeline over TLS against the loopback venue, two engines side by side (one per
/// framing) on the same venue: once the venue is paused and both settled, every book of both
/// equals the venue's (so tungstenite framing hands the decoders exactly what `Own` does).
#[test]
fn tungstenite_framing_books_equal_the_own_path_and_the_venue() {
    let venue = cexfeed_venue::Venue::start(cexfeed_venue::VenueConfig {
        rate_per_sec: 300,
        tls: true,
        ..cexfeed_venue::VenueConfig::default()
    })
    .unwrap();
    let mut cfg = loopback_config(&venue, false);
    cfg.runtime.wait = WaitMode::Block;
    // Well above the settles below: once the venue pauses, a Gate book stream is silent and
    // would turn the second engine's books stale while the first one settles.
    cfg.runtime.idle_timeout_ms = 60_000;
    let mut engines = Vec::new();
    for framing in [Framing::Own, Framing::Tungstenite] {
        cfg.runtime.framing = framing;
        let resolved = cfg.resolve().expect("config");
        let feeds = resolved.engine.feeds;
        assert!(feeds.iter().all(|f| f.framing == framing));
        assert!(feeds.iter().all(|f| f.ws_url.starts_with("wss://")));
        let mut engine = Engine::new(EngineConfig {
            feeds,
            ring_capacity: 4096,
            top_n: 10,
            book_pool: 8192,
            control_core: None,
        })
        .unwrap();
        let rx = engine.consumer().unwrap();
        for ch in resolved
            .channels
            .iter()
            .filter(|c| c.contains(".orderbook."))
        {
            engine.bind(ch, rx.id()).unwrap();
        }
        engine.start().unwrap();
        // The ring is never read: a full ring drops and conflates, the books are unaffected.
        engines.push((engine, rx));
    }
    // Both live before the venue is paused (a paused venue would leave the other stale).
    let all_live = || {
        engines.iter().all(|(e, _)| {
            e.views().iter().all(|v| {
                v.shared
                    .symbols
                    .iter()
                    .all(|(_, _, st)| st.state() == cexfeed::types::BookState::Live)
            })
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !all_live() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    for (i, (e, _)) in engines.iter().enumerate() {
        let settled = pause_and_settle(&venue, e, Duration::from_secs(30));
        if !settled {
            for v in e.views() {
                let net = v.net.as_ref().map(|n| n.snapshot());
                let st: Vec<_> = v
                    .shared
                    .symbols
                    .iter()
                    .map(|(_, name, st)| (name.clone(), st.state()))
                    .collect();
                eprintln!(
                    "engine {i} {:?} {:?}: {st:?} net {net:?}",
                    v.venue, v.market
                );
            }
        }
        assert!(settled, "engine {i}: books did not settle");
    }
    let finals: Vec<_> = engines.iter_mut().map(|(e, _)| e.stop()).collect();
    let mut compared = [0usize; 2];
    for (i, fs) in finals.iter().enumerate() {
        for f in fs {
            assert!(f.error.is_none(), "{:?}", f.error);
            let market = f.market.unwrap();
            for b in &f.books {
                let (seq, vb, va) =
                    venue_book(&venue, f.venue.unwrap(), market, &b.symbol).unwrap();
                assert_eq!(b.seq, seq, "framing {i} {market:?} {} seq", b.symbol);
                let n = 10.min(vb.len()).min(va.len());
                assert_eq!(&b.bids[..n], &vb[..n], "framing {i} {} bids", b.symbol);
                assert_eq!(&b.asks[..n], &va[..n], "framing {i} {} asks", b.symbol);
                compared[i] += 1;
            }
        }
    }
    assert!(compared[0] >= 3, "{compared:?}");
    assert_eq!(compared[0], compared[1]);
    venue.stop();
}
