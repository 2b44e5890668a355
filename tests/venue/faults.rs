//! Fault injection: every scenario name is observable on the wire, strikes repeat at the
//! period, targets limit the blast radius, and the quiet period stops them.
#![allow(clippy::int_plus_one)] // bridging rules written the way the docs state them

use std::time::{Duration, Instant};

use crate::support::venue::*;
use cexfeed_venue::pb::{Body, PushDataV3ApiWrapper};
use cexfeed_venue::{self as venue, Scenario, Target, Venue, VenueConfig};
use hmac::{Hmac, Mac};
use prost::Message as _;
use serde_json::Value;
use sha2::Sha256;
use tungstenite::Message;

const PERIOD: Duration = Duration::from_millis(300);

fn start(s: Scenario, t: Target) -> venue::VenueHandle {
    start_p(s, t, PERIOD)
}

/// Request-driven faults are armed at start-up; a long period keeps a second strike from
/// landing inside a test on a loaded machine.
const LONG: Duration = Duration::from_secs(30);

fn start_p(s: Scenario, t: Target, period: Duration) -> venue::VenueHandle {
    Venue::start(VenueConfig {
        scenarios: vec![(s, t)],
        fault_period: period,
        rate_per_sec: 4000,
        slow_snapshot: Duration::from_millis(600),
        private_period: Duration::from_millis(50),
        ..VenueConfig::default()
    })
    .expect("venue")
}

fn mexc_sub(ws: &mut Ws, ch: &str) -> Value {
    send_text(
        ws,
        &format!(r#"{{"method":"SUBSCRIPTION","params":["{ch}"],"id":1}}"#),
    );
    next_json(ws, Duration::from_secs(3), |v| v.get("code").is_some()).expect("ack")
}

fn gate_sub(ws: &mut Ws, id: i64, ch: &str, payload: &str) -> Value {
    send_text(
        ws,
        &format!(
            r#"{{"time":{},"id":{id},"channel":"{ch}","event":"subscribe","payload":{payload}}}"#,
            cexfeed::types::wall_ms() / 1000
        ),
    );
    next_json(ws, Duration::from_secs(3), |v| {
        v["event"] == "subscribe" && v["id"] == id
    })
    .expect("ack")
}

/// (from, to) of MEXC depth pushes for `dur`; undecodable frames counted separately.
fn mexc_depth_versions(ws: &mut Ws, dur: Duration) -> (Vec<(u64, u64)>, usize) {
    let mut v = Vec::new();
    let mut bad = 0;
    let t = Instant::now();
    while t.elapsed() < dur {
        match next_msg(ws, Duration::from_millis(100)) {
            Some(Message::Binary(b)) => match PushDataV3ApiWrapper::decode(b.as_ref()) {
                Ok(PushDataV3ApiWrapper {
                    body: Some(Body::PublicAggreDepths(d)),
                    ..
                }) => match (d.from_version.parse(), d.to_version.parse()) {
                    (Ok(f), Ok(t)) => v.push((f, t)),
                    _ => bad += 1,
                },
                _ => bad += 1,
            },
            Some(Message::Text(_)) => bad += 1,
            _ => {}
        }
    }
    (v, bad)
}

fn gaps(v: &[(u64, u64)]) -> usize {
    v.windows(2).filter(|w| w[1].0 != w[0].1 + 1).count()
}

const BTC_DEPTH: &str = "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT";
const ETH_DEPTH: &str = "spot@public.aggre.depth.v3.api.pb@10ms@ETHUSDT";

#[test]
fn gap_strikes_repeatedly_and_only_on_the_targeted_symbol() {
    let v = start(Scenario::Gap, Target::Symbol("BTCUSDT".into()));
    let mut btc = ws_connect(v.addr(), "/ws", &[]);
    let mut eth = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut btc, BTC_DEPTH);
    mexc_sub(&mut eth, ETH_DEPTH);
    let (b, _) = mexc_depth_versions(&mut btc, Duration::from_millis(1000));
    let (e, _) = mexc_depth_versions(&mut eth, Duration::from_millis(300));
    assert!(gaps(&b) >= 2, "BTC gaps {}", gaps(&b));
    assert!(
        b.windows(2).all(|w| w[1].0 > w[0].1),
        "a gap only skips forward"
    );
    assert_eq!(gaps(&e), 0, "ETH is not targeted");
    assert!(v.stats().faults >= 2);
    v.stop();
}

#[test]
fn duplicate_and_reorder_on_gate_order_book_update() {
    for sc in [Scenario::Duplicate, Scenario::Reorder] {
        let v = start(sc, Target::All);
        let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
        gate_sub(
            &mut ws,
            1,
            "spot.order_book_update",
            r#"["BTC_USDT","20ms"]"#,
        );
        let mut us: Vec<(u64, u64)> = Vec::new();
        let t = Instant::now();
        while t.elapsed() < Duration::from_millis(1000) {
            if let Some(m) = next_json(&mut ws, Duration::from_millis(100), |v| {
                v["channel"] == "spot.order_book_update"
            }) {
                us.push((
                    m["result"]["U"].as_u64().unwrap(),
                    m["result"]["u"].as_u64().unwrap(),
                ));
            }
        }
        let dups = us.windows(2).filter(|w| w[0] == w[1]).count();
        let backs = us.windows(2).filter(|w| w[1].1 < w[0].1).count();
        match sc {
            Scenario::Duplicate => assert!(dups >= 2 && backs == 0, "dups {dups} backs {backs}"),
            _ => assert!(backs >= 2 && dups == 0, "dups {dups} backs {backs}"),
        }
        v.stop();
    }
}

#[test]
fn malformed_frames_on_both_venues() {
    let v = start(Scenario::Malformed, Target::All);
    let mut m = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut m, BTC_DEPTH);
    let (_, bad) = mexc_depth_versions(&mut m, Duration::from_millis(1000));
    assert!(bad >= 2, "mexc malformed {bad}");
    let mut g = ws_connect(v.addr(), "/v4/ws/usdt", &[]);
    gate_sub(
        &mut g,
        1,
        "futures.order_book_update",
        r#"["BTC_USDT","20ms","20"]"#,
    );
    let mut bad = 0;
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(1000) {
        if let Some(Message::Text(s)) = next_msg(&mut g, Duration::from_millis(100)) {
            match serde_json::from_str::<Value>(&s) {
                Err(_) => bad += 1,
                Ok(v) if v["event"] == "update" && !v["result"]["u"].is_u64() => bad += 1,
                Ok(_) => {}
            }
        }
    }
    assert!(bad >= 2, "gate malformed {bad}");
    v.stop();
}

#[test]
fn full_reset_gate_full_push_and_mexc_version_jump() {
    let v = start(Scenario::FullReset, Target::All);
    let mut g = ws_connect(v.addr(), "/ws/v4/", &[]);
    gate_sub(
        &mut g,
        1,
        "spot.order_book_update",
        r#"["BTC_USDT","20ms"]"#,
    );
    let full = next_json(&mut g, Duration::from_secs(2), |v| {
        v["result"]["full"] == true
    })
    .expect("full push");
    assert!(full["result"]["b"].as_array().unwrap().len() >= 20);
    assert_eq!(full["result"]["l"], "20");
    let mut m = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut m, BTC_DEPTH);
    let (vs, _) = mexc_depth_versions(&mut m, Duration::from_millis(1000));
    assert!(
        vs.windows(2).any(|w| w[1].0 >= w[0].1 + 1000),
        "no version jump"
    );
    v.stop();
}

fn read_until_end(ws: &mut Ws, dur: Duration) -> Result<Option<Message>, tungstenite::Error> {
    let t = Instant::now();
    while t.elapsed() < dur {
        match ws.read() {
            Ok(Message::Close(c)) => return Ok(Some(Message::Close(c))),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(None)
}

#[test]
fn reset_close_and_lifetime_end_connections() {
    let v = start(Scenario::Reset, Target::All);
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, BTC_DEPTH);
    match read_until_end(&mut ws, Duration::from_secs(2)) {
        Err(tungstenite::Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        other => panic!("expected a TCP reset, got {other:?}"),
    }
    v.stop();
    for sc in [Scenario::Close, Scenario::Lifetime] {
        let v = start(sc, Target::Symbol("BTC_USDT".into()));
        let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
        gate_sub(&mut ws, 1, "spot.book_ticker", r#"["BTC_USDT"]"#);
        let t = Instant::now();
        match read_until_end(&mut ws, Duration::from_secs(2)) {
            Ok(Some(Message::Close(Some(c)))) => assert_eq!(u16::from(c.code), 1000),
            other => panic!("{sc:?}: expected a clean close, got {other:?}"),
        }
        assert!(t.elapsed() < Duration::from_secs(1));
        v.stop();
    }
}

#[test]
fn silent_and_no_pong() {
    let v = start(Scenario::Silent, Target::All);
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, BTC_DEPTH);
    assert!(
        next_msg(&mut ws, Duration::from_millis(200)).is_some(),
        "data before the strike"
    );
    std::thread::sleep(PERIOD);
    while next_msg(&mut ws, Duration::from_millis(50)).is_some() {}
    send_text(&mut ws, r#"{"method":"PING"}"#);
    assert!(
        next_msg(&mut ws, Duration::from_millis(800)).is_none(),
        "silent connection spoke"
    );
    drop(ws);
    v.stop();

    let v = start_p(Scenario::NoPong, Target::All, Duration::from_millis(1500));
    let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
    gate_sub(&mut ws, 2, "spot.book_ticker", r#"["BTC_USDT"]"#);
    send_text(&mut ws, r#"{"time":1,"channel":"spot.ping"}"#);
    assert!(
        next_json(&mut ws, Duration::from_millis(1000), |v| v["channel"]
            == "spot.pong")
        .is_some()
    );
    std::thread::sleep(Duration::from_millis(1600));
    send_text(&mut ws, r#"{"time":1,"channel":"spot.ping"}"#);
    ws.send(Message::Ping(b"hi".to_vec().into())).unwrap();
    let (mut pongs, mut data) = (0, 0);
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(600) {
        match ws.read() {
            Ok(Message::Pong(_)) => pongs += 1,
            Ok(Message::Text(s)) if s.contains("spot.pong") => pongs += 1,
            Ok(Message::Text(_)) => data += 1,
            _ => {}
        }
    }
    assert_eq!(pongs, 0, "pongs after the strike");
    assert!(data > 0, "pushes continue");
    v.stop();
}

#[test]
fn reject_then_accept_on_retry() {
    let v = start_p(Scenario::Reject, Target::All, LONG);
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    let a = mexc_sub(&mut ws, BTC_DEPTH);
    assert!(
        a["msg"]
            .as_str()
            .unwrap()
            .starts_with("Not Subscribed successfully!"),
        "{a}"
    );
    let a = mexc_sub(&mut ws, BTC_DEPTH);
    assert_eq!(a["msg"], BTC_DEPTH);
    let mut g = ws_connect(v.addr(), "/ws/v4/", &[]);
    let a = gate_sub(&mut g, 1, "spot.obu", r#"["ob.BTC_USDT.50"]"#);
    // Transient: Gate's code 3 (server side error), not code 2 (invalid argument).
    assert_eq!(a["error"]["code"], 3);
    let a = gate_sub(&mut g, 2, "spot.obu", r#"["ob.BTC_USDT.50"]"#);
    assert!(a["error"].is_null());
    v.stop();
}

#[test]
fn snapshot_faults_failed_slow_stale_fresh() {
    let v = start_p(Scenario::FailedSnapshot, Target::All, LONG);
    let (st, body) = http(v.addr(), "GET", "/api/v3/depth?symbol=BTCUSDT", &[]);
    assert_eq!(st, 500, "{body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["code"].is_i64());
    let (st, _) = http(v.addr(), "GET", "/api/v3/depth?symbol=BTCUSDT", &[]);
    assert_eq!(st, 200);
    let (st, body) = http(
        v.addr(),
        "GET",
        "/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true",
        &[],
    );
    assert_eq!(st, 500);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["label"],
        "SERVER_ERROR"
    );
    v.stop();

    let v = start_p(Scenario::SlowSnapshot, Target::All, LONG);
    let t = Instant::now();
    let (st, _) = http(
        v.addr(),
        "GET",
        "/api/v4/futures/usdt/order_book?contract=BTC_USDT&with_id=true",
        &[],
    );
    assert_eq!(st, 200);
    assert!(t.elapsed() >= Duration::from_millis(600));
    v.stop();

    let v = start_p(Scenario::StaleSnapshot, Target::All, LONG);
    std::thread::sleep(Duration::from_millis(1000));
    let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
    gate_sub(
        &mut ws,
        1,
        "spot.order_book_update",
        r#"["BTC_USDT","20ms"]"#,
    );
    let first = next_json(&mut ws, Duration::from_secs(2), |v| v["event"] == "update").unwrap();
    let (_, body) = http(
        v.addr(),
        "GET",
        "/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true",
        &[],
    );
    let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();
    assert!(
        id + 1 < first["result"]["U"].as_u64().unwrap(),
        "snapshot not stale"
    );
    let (_, body) = http(
        v.addr(),
        "GET",
        "/api/v4/spot/order_book?currency_pair=BTC_USDT&with_id=true",
        &[],
    );
    let id2 = serde_json::from_str::<Value>(&body).unwrap()["id"]
        .as_u64()
        .unwrap();
    assert!(
        id2 + 1 >= first["result"]["U"].as_u64().unwrap(),
        "second snapshot fine"
    );
    v.stop();

    let v = start_p(Scenario::FreshSnapshot, Target::All, LONG);
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT");
    let (before, _) = mexc_depth_versions(&mut ws, Duration::from_millis(250));
    let (_, body) = http(v.addr(), "GET", "/api/v3/depth?symbol=BTCUSDT", &[]);
    let id = serde_json::from_str::<Value>(&body).unwrap()["lastUpdateId"]
        .as_u64()
        .unwrap();
    let (after, _) = mexc_depth_versions(&mut ws, Duration::from_millis(250));
    assert!(
        id > before.last().unwrap().1,
        "fresh snapshot is ahead of the stream"
    );
    assert!(
        after.iter().any(|(f, t)| *f <= id + 1 && id + 1 <= *t),
        "bridgeable by a later push"
    );
    v.stop();
}

#[test]
fn auth_fail_refuses_one_correctly_signed_request() {
    let v = start_p(Scenario::AuthFail, Target::All, LONG);
    let now = cexfeed::types::wall_ms();
    let mut mac = Hmac::<Sha256>::new_from_slice(venue::MEXC_API_SECRET.as_bytes()).unwrap();
    mac.update(format!("timestamp={now}").as_bytes());
    let q = format!(
        "timestamp={now}&signature={}",
        hex::encode(mac.finalize().into_bytes())
    );
    let key = [("X-MEXC-APIKEY", venue::MEXC_API_KEY)];
    let (st, body) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 400, "{body}");
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["code"],
        700002
    );
    let (st, _) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 200);
    v.stop();
}

#[test]
fn quiet_period_stops_the_strikes() {
    let v = Venue::start(VenueConfig {
        scenarios: vec![(Scenario::Gap, Target::All)],
        fault_period: Duration::from_millis(200),
        quiet_after: Some(Duration::from_millis(450)),
        rate_per_sec: 4000,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, BTC_DEPTH);
    let (early, _) = mexc_depth_versions(&mut ws, Duration::from_millis(500));
    assert!(gaps(&early) >= 1);
    let (late, _) = mexc_depth_versions(&mut ws, Duration::from_millis(700));
    assert_eq!(gaps(&late[1..]), 0, "strikes after the quiet point");
    v.stop();
}

#[test]
fn bursts_and_send_times_side_channel() {
    let v = Venue::start(VenueConfig {
        rate_per_sec: 100,
        burst_period: Duration::from_millis(200),
        burst_size: 3000,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, BTC_DEPTH);
    let (vs, _) = mexc_depth_versions(&mut ws, Duration::from_millis(700));
    let biggest = vs.iter().map(|(f, t)| t - f + 1).max().unwrap();
    assert!(biggest >= 1000, "no burst-sized push ({biggest})");
    // The instant is recorded right after the server's flush: give it a moment.
    std::thread::sleep(Duration::from_millis(50));
    let times = v.send_times(venue::VenueId::Mexc, venue::Market::Spot, "BTCUSDT");
    let last = vs.last().unwrap().1;
    assert!(
        times.iter().any(|(s, _)| *s == last),
        "send time of the last push recorded"
    );
    assert!(times.windows(2).all(|w| w[0].0 < w[1].0));
    v.stop();
}

#[test]
fn order_book_update_sends_unprompted_full_pushes_that_continue_the_sequence() {
    let v = Venue::start(VenueConfig {
        gate_full_period: Duration::from_millis(300),
        rate_per_sec: 4000,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut ws = ws_connect(v.addr(), "/v4/ws/usdt", &[("X-Gate-Size-Decimal", "1")]);
    gate_sub(
        &mut ws,
        1,
        "futures.order_book_update",
        r#"["BTC_USDT","100ms","50"]"#,
    );
    let mut last_u = 0;
    let mut fulls = 0;
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(1200) {
        let Some(m) = next_json(&mut ws, Duration::from_millis(200), |v| {
            v["event"] == "update"
        }) else {
            continue;
        };
        let r = &m["result"];
        let (uu, u) = (r["U"].as_u64().unwrap(), r["u"].as_u64().unwrap());
        if r["full"] == true {
            fulls += 1;
            assert_eq!(r["b"].as_array().unwrap().len(), 50);
            assert_eq!(r["l"], "50");
        } else if last_u != 0 {
            assert_eq!(uu, last_u + 1, "diff continues after the full push");
        }
        last_u = u;
    }
    assert!(fulls >= 2, "fulls {fulls}");
    v.stop();
}

/// A tiny independent MEXC client (§1.6 rules, REST resync on any discontinuity or bad frame)
/// survives gap/duplicate/reorder/malformed strikes; after the quiet period and a pause its book
/// equals the venue's book exactly, at the same version.
#[test]
fn books_recover_during_the_quiet_period_and_match_the_true_book() {
    use cexfeed::types::{Px, Qty};
    use std::collections::BTreeMap;
    let v = Venue::start(VenueConfig {
        scenarios: vec![
            (Scenario::Gap, Target::All),
            (Scenario::Duplicate, Target::All),
            (Scenario::Reorder, Target::All),
            (Scenario::Malformed, Target::All),
        ],
        fault_period: Duration::from_millis(200),
        quiet_after: Some(Duration::from_millis(1200)),
        rate_per_sec: 3000,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    mexc_sub(&mut ws, BTC_DEPTH);
    type Side = BTreeMap<i128, i128>;
    let mut book: Option<[Side; 2]> = None;
    let mut local = 0u64;
    let mut buf: Vec<cexfeed_venue::pb::PublicAggreDepthsV3Api> = Vec::new();
    let mut resyncs = 0;
    let apply = |b: &mut [Side; 2], d: &cexfeed_venue::pb::PublicAggreDepthsV3Api| {
        for (i, items) in [(0, &d.bids), (1, &d.asks)] {
            for l in items {
                let p = Px::parse(l.price.as_bytes()).unwrap().0;
                let q = Qty::parse(l.quantity.as_bytes()).unwrap().0;
                if q == 0 {
                    b[i].remove(&p);
                } else {
                    b[i].insert(p, q);
                }
            }
        }
    };
    let ver = |d: &cexfeed_venue::pb::PublicAggreDepthsV3Api| -> Option<(u64, u64)> {
        Some((d.from_version.parse().ok()?, d.to_version.parse().ok()?))
    };
    let t = Instant::now();
    let mut paused = false;
    let mut last_msg = Instant::now();
    loop {
        if !paused && t.elapsed() > Duration::from_millis(2200) {
            v.pause(true);
            paused = true;
        }
        if paused && last_msg.elapsed() > Duration::from_millis(400) {
            break;
        }
        let Some(m) = next_msg(&mut ws, Duration::from_millis(50)) else {
            continue;
        };
        last_msg = Instant::now();
        let d = match m {
            Message::Binary(b) => match PushDataV3ApiWrapper::decode(b.as_ref()) {
                Ok(PushDataV3ApiWrapper {
                    body: Some(Body::PublicAggreDepths(d)),
                    ..
                }) if ver(&d).is_some() => d,
                _ => {
                    book = None; // bad frame: data lost, resync
                    resyncs += 1;
                    buf.clear();
                    continue;
                }
            },
            _ => {
                book = None;
                resyncs += 1;
                buf.clear();
                continue;
            }
        };
        let (f, to) = ver(&d).unwrap();
        if let Some(b) = &mut book {
            if to <= local {
                continue; // duplicate or late
            }
            if f == local + 1 {
                apply(b, &d);
                local = to;
                continue;
            }
            book = None; // gap / reorder
            resyncs += 1;
            buf.clear();
        }
        buf.push(d);
        if buf.len() < 3 {
            continue;
        }
        let (st, body) = http(
            v.addr(),
            "GET",
            "/api/v3/depth?symbol=BTCUSDT&limit=5000",
            &[],
        );
        assert_eq!(st, 200);
        let snap: Value = serde_json::from_str(&body).unwrap();
        let id = snap["lastUpdateId"].as_u64().unwrap();
        let side = |k: &str| -> Side {
            snap[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| {
                    (
                        Px::parse(l[0].as_str().unwrap().as_bytes()).unwrap().0,
                        Qty::parse(l[1].as_str().unwrap().as_bytes()).unwrap().0,
                    )
                })
                .collect()
        };
        let mut b = [side("bids"), side("asks")];
        let mut l = id;
        let mut ok = true;
        let mut started = false;
        for d in &buf {
            let (f, to) = ver(d).unwrap();
            if to <= l {
                continue;
            }
            if (!started && f > l + 1) || (started && f != l + 1) {
                ok = false;
                break;
            }
            started = true;
            apply(&mut b, d);
            l = to;
        }
        if ok && started {
            book = Some(b);
            local = l;
            buf.clear();
        } else if !ok {
            buf.clear();
        }
    }
    assert!(resyncs >= 3, "faults were not noticed ({resyncs})");
    let b = book.expect("synced at the end");
    let (seq, tb, ta) = v
        .true_book(venue::VenueId::Mexc, venue::Market::Spot, "BTCUSDT")
        .unwrap();
    assert_eq!(local, seq, "client version equals the venue's");
    let want_b: Side = tb.iter().map(|l| (l.px.0, l.qty.0)).collect();
    let want_a: Side = ta.iter().map(|l| (l.px.0, l.qty.0)).collect();
    assert_eq!(b[0], want_b);
    assert_eq!(b[1], want_a);
    v.stop();
}

/// The same for Gate.io futures `order_book_update` (§4.3 rules: REST `with_id` bridge, `full`
/// pushes replace the book), through gap/duplicate/reorder/malformed/full-reset strikes.
#[test]
fn gate_books_recover_during_the_quiet_period_and_match_the_true_book() {
    use cexfeed::types::{Px, Qty};
    use std::collections::BTreeMap;
    let v = Venue::start(VenueConfig {
        scenarios: vec![
            (Scenario::Gap, Target::All),
            (Scenario::Duplicate, Target::All),
            (Scenario::Reorder, Target::All),
            (Scenario::Malformed, Target::All),
            (Scenario::FullReset, Target::All),
        ],
        fault_period: Duration::from_millis(200),
        quiet_after: Some(Duration::from_millis(1200)),
        rate_per_sec: 3000,
        ..VenueConfig::default()
    })
    .unwrap();
    let hdr = [("X-Gate-Size-Decimal", "1")];
    let mut ws = ws_connect(v.addr(), "/v4/ws/usdt", &hdr);
    gate_sub(
        &mut ws,
        1,
        "futures.order_book_update",
        r#"["BTC_USDT","20ms","20"]"#,
    );
    type Side = BTreeMap<i128, i128>;
    let lv = |l: &Value| -> (i128, i128) {
        (
            Px::parse(l["p"].as_str().unwrap().as_bytes()).unwrap().0,
            Qty::parse(l["s"].as_str().unwrap().as_bytes()).unwrap().0,
        )
    };
    let apply = |b: &mut [Side; 2], r: &Value, bk: &str, ak: &str| {
        for (i, k) in [(0, bk), (1, ak)] {
            for l in r[k].as_array().unwrap() {
                let (p, q) = lv(l);
                if q == 0 {
                    b[i].remove(&p);
                } else {
                    b[i].insert(p, q);
                }
            }
        }
    };
    let mut book: Option<[Side; 2]> = None;
    let mut local = 0u64;
    let mut buf: Vec<Value> = Vec::new();
    let mut snap: Option<(u64, [Side; 2])> = None;
    let (mut resyncs, mut fulls) = (0, 0);
    let t = Instant::now();
    let mut paused = false;
    let mut last_msg = Instant::now();
    loop {
        if !paused && t.elapsed() > Duration::from_millis(2200) {
            v.pause(true);
            paused = true;
        }
        if paused && last_msg.elapsed() > Duration::from_millis(400) {
            break;
        }
        let Some(Message::Text(s)) = next_msg(&mut ws, Duration::from_millis(50)) else {
            continue;
        };
        last_msg = Instant::now();
        let r = match serde_json::from_str::<Value>(&s) {
            Ok(m)
                if m["event"] == "update"
                    && m["result"]["u"].is_u64()
                    && m["result"]["U"].is_u64()
                    && m["result"]["b"].is_array() =>
            {
                m["result"].clone()
            }
            Ok(m) if m["event"] != "update" => continue,
            _ => {
                book = None;
                resyncs += 1;
                buf.clear();
                continue;
            }
        };
        let (uu, u) = (r["U"].as_u64().unwrap(), r["u"].as_u64().unwrap());
        if r["full"] == true {
            fulls += 1;
            let mut b: [Side; 2] = Default::default();
            apply(&mut b, &r, "b", "a");
            book = Some(b);
            local = u;
            buf.clear();
            snap = None;
            continue;
        }
        if let Some(b) = &mut book {
            if u < local + 1 {
                continue;
            }
            if uu == local + 1 {
                apply(b, &r, "b", "a");
                local = u;
                continue;
            }
            book = None;
            resyncs += 1;
            buf.clear();
        }
        buf.push(r);
        if buf.len() < 3 {
            continue;
        }
        // Keep one snapshot until the stream reaches it; refetch only when it is too old.
        if snap.is_none() {
            let (st, body) = http(
                v.addr(),
                "GET",
                "/api/v4/futures/usdt/order_book?contract=BTC_USDT&limit=1000&with_id=true",
                &hdr,
            );
            assert_eq!(st, 200);
            let j: Value = serde_json::from_str(&body).unwrap();
            let mut b: [Side; 2] = Default::default();
            apply(&mut b, &j, "bids", "asks");
            snap = Some((j["id"].as_u64().unwrap(), b));
        }
        let (id, mut b) = snap.clone().unwrap();
        let mut l = id;
        let (mut ok, mut started) = (true, false);
        for r in &buf {
            let (uu, u) = (r["U"].as_u64().unwrap(), r["u"].as_u64().unwrap());
            if u < l + 1 {
                continue;
            }
            if (!started && uu > l + 1) || (started && uu != l + 1) {
                ok = false;
                break;
            }
            started = true;
            apply(&mut b, r, "b", "a");
            l = u;
        }
        if ok && started {
            book = Some(b);
            local = l;
            buf.clear();
            snap = None;
        } else if !ok {
            snap = None; // too old for the buffered stream: fetch again
            buf.clear();
        }
    }
    assert!(resyncs >= 3, "faults were not noticed ({resyncs})");
    assert!(fulls >= 1, "no full push");
    let b = book.expect("synced at the end");
    let (seq, tb, ta) = v
        .true_book(venue::VenueId::Gateio, venue::Market::Futures, "BTC_USDT")
        .unwrap();
    assert_eq!(local, seq, "client version equals the venue's");
    // A `full` push carries the top `level` (20) levels only: compare that top.
    let top = |s: &Side, rev: bool| -> Vec<(i128, i128)> {
        let it: Box<dyn Iterator<Item = (&i128, &i128)>> = if rev {
            Box::new(s.iter().rev())
        } else {
            Box::new(s.iter())
        };
        it.take(20).map(|(p, q)| (*p, *q)).collect()
    };
    let want_b: Vec<(i128, i128)> = tb.iter().take(20).map(|l| (l.px.0, l.qty.0)).collect();
    let want_a: Vec<(i128, i128)> = ta.iter().take(20).map(|l| (l.px.0, l.qty.0)).collect();
    assert_eq!(top(&b[0], true), want_b);
    assert_eq!(top(&b[1], false), want_a);
    v.stop();
}

/// Issue 14 (the latency bench's `max` rate): with `max_backlog` the venue makes book changes
/// only while its reader keeps up. Unread, a symbol stops at the backlog (open loop it would
/// make ~1 000 000 changes a second); read, it goes on, and the reader never falls out of the
/// change log (no gap in the per-change pushes).
#[test]
fn max_backlog_makes_changes_only_as_fast_as_they_are_read() {
    let v = Venue::start(VenueConfig {
        rate_per_sec: 1_000_000,
        max_backlog: 2_000,
        push_mode: venue::PushMode::PerChange,
        mexc_symbols: vec![],
        gate_spot_symbols: vec!["BTC_USDT".into()],
        gate_futures_symbols: vec![],
        gate_full_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let unread = v.stats().book_changes;
    // One step can make a few changes (a trade eats levels): the bound overshoots by that.
    assert!(unread <= 3_000, "{unread} changes with nobody reading");
    let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
    gate_sub(
        &mut ws,
        1,
        "spot.order_book_update",
        r#"["BTC_USDT","20ms"]"#,
    );
    let (mut last_u, mut pushes) = (0u64, 0u64);
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(700) {
        let Some(m) = next_json(&mut ws, Duration::from_millis(200), |v| {
            v["event"] == "update"
        }) else {
            continue;
        };
        let (first, u) = (
            m["result"]["U"].as_u64().unwrap(),
            m["result"]["u"].as_u64().unwrap(),
        );
        if last_u != 0 {
            assert_eq!(
                first,
                last_u + 1,
                "gap after {last_u}: the reader fell out of the log"
            );
        }
        last_u = u;
        pushes += 1;
    }
    assert!(pushes > 2_000, "only {pushes} pushes while reading");
    assert!(v.stats().book_changes > unread + 2_000);
    v.stop();
}

/// Issue 14: with `send_stamp_before_write` a push's send instant is taken before it is
/// written, so no reader has it earlier than its send instant (after the flush, a reader on the
/// other core can; the bench counted such pushes as 0 ns).
#[test]
fn send_stamp_before_write_is_never_after_the_read() {
    let v = Venue::start(VenueConfig {
        rate_per_sec: 20_000,
        push_mode: venue::PushMode::PerChange,
        send_stamp_before_write: true,
        mexc_symbols: vec![],
        gate_spot_symbols: vec!["BTC_USDT".into()],
        gate_futures_symbols: vec![],
        gate_full_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut ws = ws_connect(v.addr(), "/ws/v4/", &[]);
    gate_sub(
        &mut ws,
        1,
        "spot.order_book_update",
        r#"["BTC_USDT","20ms"]"#,
    );
    let mut reads = Vec::new();
    let t = Instant::now();
    while t.elapsed() < Duration::from_millis(500) {
        if let Some(m) = next_json(&mut ws, Duration::from_millis(200), |v| {
            v["event"] == "update"
        }) {
            reads.push((m["result"]["u"].as_u64().unwrap(), venue::num::now_ns()));
        }
    }
    assert!(reads.len() > 100, "{} pushes read", reads.len());
    let mut found = 0;
    for (u, read) in &reads {
        if let Some(sent) = v.send_time(venue::VenueId::Gateio, venue::Market::Spot, "BTC_USDT", *u)
        {
            assert!(sent <= *read, "version {u} sent at {sent}, read at {read}");
            found += 1;
        }
    }
    assert!(
        found * 10 >= reads.len() * 9,
        "{found} of {} send instants",
        reads.len()
    );
    v.stop();
}
