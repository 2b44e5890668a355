//! MEXC side of the loopback venue: protobuf frames against the real captures, control frames
//! byte for byte, REST snapshot bridging with the aggregated depth stream, listen keys and
//! signatures.
#![allow(clippy::int_plus_one)] // bridging rules written the way the docs state them

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::support::venue::*;
use cexfeed::types::{Px, Qty};
use cexfeed_venue::pb::{Body, PushDataV3ApiWrapper};
use cexfeed_venue::{self as venue, Venue, VenueConfig};
use hmac::{Hmac, Mac};
use prost::Message as _;
use sha2::Sha256;
use tungstenite::Message;

const FRAMES: [&str; 5] = [
    "mexc_spot_aggre_deals.frame.bin",
    "mexc_spot_aggre_deals.frame2.bin",
    "mexc_spot_aggre_bookticker.frame.bin",
    "mexc_spot_limit_depth.frame.bin",
    "mexc_spot_kline.frame.bin",
];

#[test]
fn venue_prost_schema_decodes_and_reencodes_real_captures_byte_for_byte() {
    for f in FRAMES {
        let bytes = fixture_bytes(f);
        let w = PushDataV3ApiWrapper::decode(bytes.as_slice()).expect(f);
        assert_eq!(w.encode_to_vec(), bytes, "{f} re-encodes differently");
    }
    let w = PushDataV3ApiWrapper::decode(fixture_bytes(FRAMES[0]).as_slice()).unwrap();
    assert_eq!(w.channel, "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT");
    match w.body {
        Some(Body::PublicAggreDeals(d)) => {
            assert_eq!(d.deals.len(), 2);
            assert_eq!(d.deals[0].price, "84270");
            assert_eq!(d.deals[0].trade_type, 2);
            assert_eq!(d.deals[1].quantity, "0.00019169");
            assert_eq!(
                d.deals[0].trade_id,
                "731901896985399296X0_731901896985399297X0"
            );
        }
        other => panic!("{other:?}"),
    }
    let w = PushDataV3ApiWrapper::decode(fixture_bytes(FRAMES[2]).as_slice()).unwrap();
    match w.body {
        Some(Body::PublicAggreBookTicker(b)) => assert_eq!(b.version, "82164153436"),
        other => panic!("{other:?}"),
    }
}

fn start(cfg: VenueConfig) -> venue::VenueHandle {
    Venue::start(cfg).expect("venue")
}

fn subscribe(ws: &mut Ws, id: u64, chans: &[&str]) -> serde_json::Value {
    let params: Vec<String> = chans.iter().map(|c| format!("\"{c}\"")).collect();
    send_text(
        ws,
        &format!(
            r#"{{"method":"SUBSCRIPTION","params":[{}],"id":{id}}}"#,
            params.join(",")
        ),
    );
    next_json(ws, Duration::from_secs(3), |v| v.get("code").is_some()).expect("ack")
}

/// Next binary push decoded, with its raw bytes.
fn next_push(ws: &mut Ws, timeout: Duration) -> Option<(PushDataV3ApiWrapper, Vec<u8>)> {
    let t = Instant::now();
    while t.elapsed() < timeout {
        if let Some(Message::Binary(b)) = next_msg(ws, timeout.saturating_sub(t.elapsed())) {
            let w = PushDataV3ApiWrapper::decode(b.as_ref()).expect("venue protobuf");
            return Some((w, b.to_vec()));
        }
    }
    None
}

#[test]
fn mexc_control_frames_match_the_documented_text_exactly() {
    let v = start(VenueConfig::default());
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    // PING in any letter case → the exact PONG text.
    for m in ["PING", "ping", "Ping"] {
        send_text(&mut ws, &format!(r#"{{"method":"{m}"}}"#));
        match next_msg(&mut ws, Duration::from_secs(2)) {
            Some(Message::Text(t)) => assert_eq!(t.as_str(), r#"{"id":0,"code":0,"msg":"PONG"}"#),
            other => panic!("{other:?}"),
        }
    }
    let pong = &fixture_values("mexc_spot_pong.json")[0];
    let ours: serde_json::Value =
        serde_json::from_str(r#"{"id":0,"code":0,"msg":"PONG"}"#).unwrap();
    assert_eq!(&ours, pong);
    // Ack: id echoed, msg = comma-joined channels.
    let a = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
    let b = "spot@public.aggre.depth.v3.api.pb@10ms@ETHUSDT";
    send_text(
        &mut ws,
        &format!(r#"{{"method":"subscription","params":["{a}","{b}"],"id":7}}"#),
    );
    match next_msg(&mut ws, Duration::from_secs(2)) {
        Some(Message::Text(t)) => assert_eq!(
            t.as_str(),
            format!(r#"{{"id":7,"code":0,"msg":"{a},{b}"}}"#)
        ),
        other => panic!("{other:?}"),
    }
    // Retired JSON channel and a malformed one → the exact Blocked! text, code 0.
    let old = "spot@public.increase.depth.v3.api@BTCUSDT";
    let bad = "spot@public.aggre.bookTicker.v3.api.pb@BTCUSDT";
    send_text(
        &mut ws,
        &format!(r#"{{"method":"SUBSCRIPTION","params":["{old}","{bad}"]}}"#),
    );
    let t = loop {
        match next_msg(&mut ws, Duration::from_secs(2)) {
            Some(Message::Text(t)) => break t,
            Some(_) => continue,
            None => panic!("no rejection"),
        }
    };
    assert_eq!(
        t.as_str(),
        format!("{{\"id\":0,\"code\":0,\"msg\":\"Not Subscribed successfully! [{old},{bad}].  Reason\u{FF1A} Blocked! \"}}")
    );
    // Unsubscribe ack.
    send_text(
        &mut ws,
        &format!(r#"{{"method":"UNSUBSCRIPTION","params":["{a}"],"id":9}}"#),
    );
    let ack = next_json(&mut ws, Duration::from_secs(2), |v| v["id"] == 9).expect("unsub ack");
    assert_eq!(ack["msg"], a);
    v.stop();
}

#[test]
fn mexc_rejects_subscriptions_beyond_thirty_channels() {
    let v = start(VenueConfig {
        mexc_symbols: (0..16).map(|i| format!("S{i}USDT")).collect(),
        ..VenueConfig::default()
    });
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    let mut chans = Vec::new();
    for i in 0..16 {
        chans.push(format!("spot@public.aggre.deals.v3.api.pb@100ms@S{i}USDT"));
        chans.push(format!("spot@public.aggre.depth.v3.api.pb@100ms@S{i}USDT"));
    }
    let refs: Vec<&str> = chans.iter().map(|s| s.as_str()).collect();
    let ack = subscribe(&mut ws, 1, &refs);
    assert_eq!(ack["msg"], chans[..30].join(","));
    let rej = next_json(&mut ws, Duration::from_secs(2), |v| v.get("code").is_some()).unwrap();
    assert_eq!(
        rej["msg"],
        format!(
            "Not Subscribed successfully! [{}].  Reason\u{FF1A} Blocked! ",
            chans[30..].join(",")
        )
    );
    v.stop();
}

#[test]
fn mexc_pushes_have_the_captured_field_layout_and_the_subscribed_channel() {
    let v = start(VenueConfig {
        rate_per_sec: 5000,
        ..VenueConfig::default()
    });
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    let chans = [
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
        "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
        "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
        "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
    ];
    for (i, c) in chans.iter().enumerate() {
        let ack = subscribe(&mut ws, i as u64 + 1, &[c]);
        assert_eq!(ack["msg"], *c);
    }
    let mut got: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let t = Instant::now();
    while got.len() < 4 && t.elapsed() < Duration::from_secs(5) {
        let Some((w, raw)) = next_push(&mut ws, Duration::from_secs(1)) else {
            continue;
        };
        assert!(chans.contains(&w.channel.as_str()), "{}", w.channel);
        assert_eq!(w.symbol.as_deref(), Some("BTCUSDT"));
        assert!(w.send_time.is_some());
        got.entry(w.channel.clone()).or_insert(raw);
    }
    assert_eq!(got.len(), 4, "one push per channel");
    // Wrapper + body + item layouts equal those of the real captures.
    for (chan, fix) in [
        (chans[0], "mexc_spot_aggre_deals.frame.bin"),
        (chans[1], "mexc_spot_aggre_bookticker.frame.bin"),
        (chans[2], "mexc_spot_limit_depth.frame.bin"),
    ] {
        let ours = walk(&got[chan]).unwrap();
        let theirs = walk(&fixture_bytes(fix)).unwrap();
        assert_eq!(layout(&ours), layout(&theirs), "{chan} wrapper layout");
        let body_no = layout(&theirs).last().unwrap().0;
        let ob = walk(bytes_of(&ours, body_no)[0]).unwrap();
        let tb = walk(bytes_of(&theirs, body_no)[0]).unwrap();
        // Our body fields: the capture's, in the same order (empty sides may be absent).
        let tl = layout(&tb);
        let ol = layout(&ob);
        assert!(
            ol.iter().all(|f| tl.contains(f)),
            "{chan} body {ol:?} vs {tl:?}"
        );
        let pos: Vec<usize> = ol
            .iter()
            .map(|f| tl.iter().position(|x| x == f).unwrap())
            .collect();
        assert!(
            pos.windows(2).all(|w| w[0] < w[1]),
            "{chan} body order {ol:?}"
        );
        if chan != chans[1] {
            let ti = layout(&walk(bytes_of(&tb, 1)[0]).unwrap());
            for oi in bytes_of(&ob, 1) {
                assert_eq!(layout(&walk(oi).unwrap()), ti, "{chan} item layout");
            }
        }
    }
    // 313 has no binary capture: compare with the decoded MessageToDict fixture's fields.
    let w = PushDataV3ApiWrapper::decode(got[chans[3]].as_slice()).unwrap();
    match w.body {
        Some(Body::PublicAggreDepths(d)) => {
            assert_eq!(d.event_type, "spot@public.aggre.depth.v3.api.pb@10ms");
            let f: u64 = d.from_version.parse().unwrap();
            let t: u64 = d.to_version.parse().unwrap();
            assert!(f <= t);
            assert!(!d.bids.is_empty() || !d.asks.is_empty());
            for l in d.bids.iter().chain(d.asks.iter()) {
                Px::parse(l.price.as_bytes()).unwrap();
                Qty::parse(l.quantity.as_bytes()).unwrap();
            }
        }
        other => panic!("{other:?}"),
    }
    let ours = walk(&got[chans[3]]).unwrap();
    assert_eq!(
        layout(&ours).iter().map(|x| x.0).collect::<Vec<_>>(),
        vec![1, 3, 6, 313]
    );
    v.stop();
}

/// A tiny independent bridge (MEXC rules §1.6) applied to buffered pushes.
fn apply(book: &mut [BTreeMap<i128, i128>; 2], d: &cexfeed_venue::pb::PublicAggreDepthsV3Api) {
    for (side, items) in [(0, &d.bids), (1, &d.asks)] {
        for l in items {
            let px = Px::parse(l.price.as_bytes()).unwrap().0;
            let q = Qty::parse(l.quantity.as_bytes()).unwrap().0;
            if q == 0 {
                book[side].remove(&px);
            } else {
                book[side].insert(px, q);
            }
        }
    }
}

fn parse_rest_levels(v: &serde_json::Value) -> BTreeMap<i128, i128> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                Px::parse(l[0].as_str().unwrap().as_bytes()).unwrap().0,
                Qty::parse(l[1].as_str().unwrap().as_bytes()).unwrap().0,
            )
        })
        .collect()
}

#[test]
fn mexc_rest_snapshot_is_a_frame_boundary_and_bridges_with_aggre_depth() {
    let v = start(VenueConfig {
        rate_per_sec: 3000,
        ..VenueConfig::default()
    });
    for (interval, limit) in [("100ms", ""), ("10ms", "&limit=5000")] {
        let mut ws = ws_connect(v.addr(), "/ws", &[]);
        let ch = format!("spot@public.aggre.depth.v3.api.pb@{interval}@BTCUSDT");
        subscribe(&mut ws, 1, &[&ch]);
        let mut buf = Vec::new();
        while buf.len() < 25 {
            let (w, _) = next_push(&mut ws, Duration::from_secs(3)).expect("push");
            if let Some(Body::PublicAggreDepths(d)) = w.body {
                buf.push(d);
            }
        }
        let (st, body) = http(
            v.addr(),
            "GET",
            &format!("/api/v3/depth?symbol=BTCUSDT{limit}"),
            &[],
        );
        assert_eq!(st, 200, "{body}");
        let snap: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_shape(
            &snap,
            &fixture_values("mexc_spot_rest_depth_snapshot.json"),
            "rest depth",
        );
        let id = snap["lastUpdateId"].as_u64().unwrap();
        if limit.is_empty() {
            assert_eq!(
                snap["bids"].as_array().unwrap().len(),
                100,
                "default limit 100"
            );
        }
        // Keep reading until past the snapshot, then bridge.
        while buf.last().unwrap().to_version.parse::<u64>().unwrap() <= id + 1 {
            let (w, _) = next_push(&mut ws, Duration::from_secs(3)).expect("push");
            if let Some(Body::PublicAggreDepths(d)) = w.body {
                buf.push(d);
            }
        }
        let first_from: u64 = buf[0].from_version.parse().unwrap();
        assert!(
            id >= first_from,
            "snapshot older than the stream: {interval} id {id} first {first_from} tos {:?}",
            buf.iter()
                .map(|d| (d.from_version.clone(), d.to_version.clone()))
                .collect::<Vec<_>>()
        );
        // The snapshot sits on a frame boundary: some push ended exactly at it.
        assert!(
            buf.iter()
                .any(|d| d.to_version.parse::<u64>().unwrap() == id),
            "lastUpdateId {id} is not the toVersion of a push"
        );
        let mut book = [
            parse_rest_levels(&snap["bids"]),
            parse_rest_levels(&snap["asks"]),
        ];
        let mut local = id;
        let mut started = false;
        for d in &buf {
            let (f, t): (u64, u64) = (
                d.from_version.parse().unwrap(),
                d.to_version.parse().unwrap(),
            );
            if t <= local && !started {
                continue;
            }
            if !started {
                assert!(
                    f <= local + 1 && local + 1 <= t,
                    "bridge {f}..{t} vs {local}"
                );
                started = true;
            } else {
                assert_eq!(f, local + 1, "continuity");
            }
            apply(&mut book, d);
            local = t;
        }
        assert!(started);
        // Compare the top of the book with the venue's own book at that version.
        let (tb, ta) = v
            .book_at(venue::VenueId::Mexc, venue::Market::Spot, "BTCUSDT", local)
            .expect("in log");
        let n = if limit.is_empty() {
            20
        } else {
            tb.len().min(ta.len())
        };
        let ours_b: Vec<(i128, i128)> = book[0]
            .iter()
            .rev()
            .take(n)
            .map(|(p, q)| (*p, *q))
            .collect();
        let ours_a: Vec<(i128, i128)> = book[1].iter().take(n).map(|(p, q)| (*p, *q)).collect();
        let want_b: Vec<(i128, i128)> = tb.iter().take(n).map(|l| (l.px.0, l.qty.0)).collect();
        let want_a: Vec<(i128, i128)> = ta.iter().take(n).map(|l| (l.px.0, l.qty.0)).collect();
        assert_eq!(ours_b, want_b, "{interval} bids");
        assert_eq!(ours_a, want_a, "{interval} asks");
        std::thread::sleep(Duration::from_millis(20)); // recorded right after the server's flush
        let sent = v.send_time(venue::VenueId::Mexc, venue::Market::Spot, "BTCUSDT", local);
        assert!(sent.is_some(), "send time recorded for version {local}");
    }
    v.stop();
}

fn signed_query(secret: &str, params: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(params.as_bytes());
    format!(
        "{params}&signature={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[test]
fn mexc_listen_key_needs_a_valid_signature_and_feeds_private_pushes() {
    let v = start(VenueConfig {
        private_period: Duration::from_millis(50),
        ..VenueConfig::default()
    });
    let now = cexfeed::types::wall_ms();
    let key = [("X-MEXC-APIKEY", venue::MEXC_API_KEY)];
    // Wrong secret → 700002.
    let q = signed_query("wrong-secret", &format!("timestamp={now}"));
    let (st, body) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 400);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        700002
    );
    // Unknown key → 10072.
    let q = signed_query(venue::MEXC_API_SECRET, &format!("timestamp={now}"));
    let (st, body) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &[("X-MEXC-APIKEY", "nope")],
    );
    assert_eq!(st, 401);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        10072
    );
    // Old timestamp → 700003.
    let q = signed_query(
        venue::MEXC_API_SECRET,
        &format!("timestamp={}&recvWindow=5000", now - 60_000),
    );
    let (st, body) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 400);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["code"],
        700003
    );
    // Good → listenKey, shaped like the doc's answer.
    let q = signed_query(venue::MEXC_API_SECRET, &format!("timestamp={now}"));
    let (st, body) = http(
        v.addr(),
        "POST",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 200, "{body}");
    let lk: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_shape(
        &lk,
        &fixture_values("mexc_spot_listenkey_response.json")[..1],
        "listenKey",
    );
    let lk = lk["listenKey"].as_str().unwrap().to_string();
    // Keepalive.
    let q = signed_query(
        venue::MEXC_API_SECRET,
        &format!("listenKey={lk}&timestamp={now}"),
    );
    let (st, _) = http(
        v.addr(),
        "PUT",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 200);
    // Unknown key refused at the handshake.
    let tcp = std::net::TcpStream::connect(v.addr()).unwrap();
    let r = tungstenite::client(format!("ws://{}/ws?listenKey=bogus", v.addr()), tcp);
    assert!(r.is_err(), "unknown listenKey accepted");
    // Private pushes.
    let mut ws = ws_connect(v.addr(), &format!("/ws?listenKey={lk}"), &[]);
    let chans = [
        "spot@private.orders.v3.api.pb",
        "spot@private.deals.v3.api.pb",
        "spot@private.account.v3.api.pb",
    ];
    let ack = subscribe(&mut ws, 3, &chans);
    assert_eq!(ack["msg"], chans.join(","));
    let mut seen = [false; 3];
    let t = Instant::now();
    while seen.iter().any(|s| !s) && t.elapsed() < Duration::from_secs(5) {
        let Some((w, _)) = next_push(&mut ws, Duration::from_secs(1)) else {
            continue;
        };
        assert!(w.send_time.is_some());
        match w.body {
            Some(Body::PrivateOrders(o)) => {
                assert_eq!(w.channel, chans[0]);
                assert!(w.symbol.as_deref().is_some_and(|s| s.ends_with("USDT")));
                assert!((1..=5).contains(&o.status));
                Qty::parse(o.cumulative_quantity.as_bytes()).unwrap();
                seen[0] = true;
            }
            Some(Body::PrivateDeals(d)) => {
                assert_eq!(w.channel, chans[1]);
                assert!(w.symbol.is_some());
                Px::parse(d.price.as_bytes()).unwrap();
                seen[1] = true;
            }
            Some(Body::PrivateAccount(a)) => {
                assert_eq!(w.channel, chans[2]);
                assert!(w.symbol.is_none(), "account pushes carry no symbol");
                assert!(w.create_time.is_some());
                assert_eq!(a.vcoin_name, "USDT");
                seen[2] = true;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(seen, [true; 3]);
    // Delete → key gone.
    let q = signed_query(
        venue::MEXC_API_SECRET,
        &format!("listenKey={lk}&timestamp={now}"),
    );
    let (st, _) = http(
        v.addr(),
        "DELETE",
        &format!("/api/v3/userDataStream?{q}"),
        &key,
    );
    assert_eq!(st, 200);
    let tcp = std::net::TcpStream::connect(v.addr()).unwrap();
    assert!(tungstenite::client(format!("ws://{}/ws?listenKey={lk}", v.addr()), tcp).is_err());
    v.stop();
}

#[test]
fn chunked_post_bodies_are_signed_with_the_query() {
    use std::io::{Read, Write};
    let v = start(VenueConfig::default());
    let now = cexfeed::types::wall_ms();
    let body = "recvWindow=5000";
    // totalParams = query string then body.
    let q = format!("timestamp={now}");
    let mut mac = Hmac::<Sha256>::new_from_slice(venue::MEXC_API_SECRET.as_bytes()).unwrap();
    mac.update(format!("{q}{body}").as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let mut tcp = std::net::TcpStream::connect(v.addr()).unwrap();
    let req = format!(
        "POST /api/v3/userDataStream?{q}&signature={sig} HTTP/1.1\r\nHost: x\r\nX-MEXC-APIKEY: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        venue::MEXC_API_KEY,
        body.len()
    );
    tcp.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    tcp.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.contains("listenKey"));
    v.stop();
}

#[test]
fn mexc_disconnects_a_client_sending_over_100_messages_per_second() {
    let v = start(VenueConfig::default());
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    for _ in 0..120 {
        send_text(&mut ws, r#"{"method":"PING"}"#);
    }
    let t = Instant::now();
    let closed = loop {
        match ws.read() {
            Ok(Message::Close(_)) => break true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                if t.elapsed() > Duration::from_secs(3) {
                    break false;
                }
            }
            Err(_) => break true,
        }
    };
    assert!(closed, "rate limit not enforced");
    v.stop();
}

#[test]
fn garbage_from_clients_does_not_break_the_connection() {
    let v = start(VenueConfig::default());
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    for junk in [
        "not json",
        "{",
        r#"{"method":5}"#,
        r#"{"method":"SUBSCRIPTION","params":[1,null,{"a":1}]}"#,
        r#"{"method":"SUBSCRIPTION","params":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}"#,
        r#"{"method":"SUBSCRIPTION","params":["spot@@@@"],"id":-3}"#,
        "[]",
    ] {
        send_text(&mut ws, junk);
    }
    ws.send(Message::Binary(vec![0xff, 0x00, 0x13].into()))
        .unwrap();
    let ack = subscribe(
        &mut ws,
        77,
        &["spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"],
    );
    let ack = if ack["id"] == 77 {
        ack
    } else {
        next_json(&mut ws, Duration::from_secs(2), |v| v["id"] == 77).unwrap()
    };
    assert_eq!(
        ack["msg"],
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    );
    // Gate side too.
    let mut g = ws_connect(v.addr(), "/ws/v4/", &[]);
    for junk in [
        "nope",
        r#"{"channel":5}"#,
        r#"{"channel":"spot.obu","event":"subscribe","payload":[["x"]]}"#,
        r#"{"channel":"spot.order_book","event":"subscribe","payload":[]}"#,
    ] {
        send_text(&mut g, junk);
    }
    send_text(
        &mut g,
        r#"{"time":1,"id":9,"channel":"spot.book_ticker","event":"subscribe","payload":["BTC_USDT"]}"#,
    );
    let a = next_json(&mut g, Duration::from_secs(2), |v| v["id"] == 9).unwrap();
    assert!(a["error"].is_null());
    let e = next_json(&mut g, Duration::from_secs(2), |v| v["event"] == "update");
    assert!(e.is_some());
    v.stop();
}

#[test]
fn mexc_book_ticker_batch_matches_the_documented_rendering() {
    let v = start(VenueConfig::default());
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    let ch = "spot@public.bookTicker.batch.v3.api.pb@ETHUSDT";
    assert_eq!(subscribe(&mut ws, 1, &[ch])["msg"], ch);
    let (w, _) = next_push(&mut ws, Duration::from_secs(3)).expect("push");
    let doc = &fixture_values("mexc_spot_bookticker_batch.doc.json")[0];
    assert_eq!(w.channel, ch);
    assert_eq!(w.symbol.as_deref(), Some("ETHUSDT"));
    assert!(w.send_time.is_some() && doc.get("sendTime").is_some());
    match w.body {
        Some(Body::PublicBookTickerBatch(b)) => {
            assert_eq!(
                b.items.len(),
                doc["publicBookTickerBatch"]["items"]
                    .as_array()
                    .unwrap()
                    .len()
            );
            let it = &b.items[0];
            for s in [
                &it.bid_price,
                &it.bid_quantity,
                &it.ask_price,
                &it.ask_quantity,
            ] {
                Px::parse(s.as_bytes()).unwrap();
            }
            assert!(b.version.parse::<u64>().unwrap() > 0);
        }
        other => panic!("{other:?}"),
    }
    v.stop();
}
