//! Issue 17: the venue's klines (MEXC 308, Gate.io `*.candlesticks`) and MEXC mini tickers
//! (309): accepted and refused as the exchanges do, shaped like the published frames, and
//! equal to the venue's own candles.

use std::time::{Duration, Instant};

use crate::support::venue::*;
use cexfeed_venue::pb::{Body, PushDataV3ApiWrapper};
use cexfeed_venue::{Market, Venue, VenueConfig, VenueId};
use prost::Message as _;
use serde_json::Value;
use tungstenite::Message;

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn short_windows() -> VenueConfig {
    VenueConfig {
        rate_per_sec: 3000,
        kline_window: Some(Duration::from_secs(1)),
        kline_push_period: Duration::from_millis(200),
        ..VenueConfig::default()
    }
}

fn mexc_sub(ws: &mut Ws, id: u64, ch: &str) -> Value {
    send_text(
        ws,
        &format!(r#"{{"method":"SUBSCRIPTION","params":["{ch}"],"id":{id}}}"#),
    );
    next_json(ws, Duration::from_secs(3), |v| v.get("code").is_some()).expect("ack")
}

fn blocked(ch: &str) -> String {
    format!("Not Subscribed successfully! [{ch}].  Reason\u{FF1A} Blocked! ")
}

#[test]
fn issue17_mexc_kline_and_mini_ticker_are_served_and_bad_names_blocked() {
    let v = Venue::start(short_windows()).unwrap();
    let mut ws = ws_connect(v.addr(), "/ws", &[]);
    // Unknown interval, the canonical name instead of MEXC's, a bad time zone: Blocked!
    for (i, bad) in [
        "spot@public.kline.v3.api.pb@BTCUSDT@Min2",
        "spot@public.kline.v3.api.pb@BTCUSDT@1m",
        "spot@public.kline.v3.api.pb@Min1@BTCUSDT",
        "spot@public.miniTicker.v3.api.pb@BTCUSDT@UTC+20",
        "spot@public.kline.v3.api.pb@XXXUSDT@Min1",
    ]
    .iter()
    .enumerate()
    {
        let a = mexc_sub(&mut ws, 100 + i as u64, bad);
        assert_eq!(a["msg"], blocked(bad), "{bad}");
    }
    let k = "spot@public.kline.v3.api.pb@BTCUSDT@Min1";
    let t = "spot@public.miniTicker.v3.api.pb@BTCUSDT@UTC+8";
    assert_eq!(mexc_sub(&mut ws, 1, k)["msg"], k);
    assert_eq!(mexc_sub(&mut ws, 2, t)["msg"], t);
    let capture = walk(&fixture_bytes("mexc_spot_kline.frame.bin")).unwrap();
    let (mut open, mut closed, mut ticker) = (0, Vec::new(), 0);
    let start = Instant::now();
    while (closed.len() < 2 || ticker == 0 || open == 0)
        && start.elapsed() < Duration::from_secs(20)
    {
        let Some(Message::Binary(b)) = next_msg(&mut ws, Duration::from_secs(1)) else {
            continue;
        };
        let w = PushDataV3ApiWrapper::decode(b.as_ref()).unwrap();
        assert_eq!(w.symbol.as_deref(), Some("BTCUSDT"));
        match w.body {
            Some(Body::PublicSpotKline(kl)) => {
                assert_eq!(w.channel, k);
                assert_eq!(kl.interval, "Min1");
                // The captured push's wrapper layout: channel, symbol, symbolId, createTime,
                // body 308 (no sendTime).
                assert_eq!(layout(&walk(&b).unwrap()), layout(&capture));
                let ct = w.create_time.unwrap();
                assert_eq!(kl.window_end - kl.window_start, 1, "short windows: 1 s");
                if ct >= kl.window_end * 1000 {
                    closed.push(kl);
                } else {
                    open += 1;
                }
            }
            Some(Body::PublicMiniTicker(m)) => {
                assert_eq!(w.channel, t);
                assert_eq!(m.symbol, "BTCUSDT");
                assert!(!m.price.is_empty());
                ticker += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(open > 0 && ticker > 0, "open {open}, tickers {ticker}");
    assert!(closed.len() >= 2, "closed candles: {}", closed.len());
    // Closed candles equal the venue's own, exactly.
    let own = v.klines(VenueId::Mexc, Market::Spot, "BTCUSDT", "Min1");
    for c in &closed {
        let o = own
            .iter()
            .find(|o| o.open_ms == c.window_start * 1000)
            .expect("venue candle");
        assert_eq!(
            (
                c.opening_price.as_str(),
                c.highest_price.as_str(),
                c.lowest_price.as_str(),
                c.closing_price.as_str(),
                c.volume.as_str(),
                c.amount.as_str()
            ),
            (
                o.open.to_string().as_str(),
                o.high.to_string().as_str(),
                o.low.to_string().as_str(),
                o.close.to_string().as_str(),
                o.volume.to_string().as_str(),
                o.quote_volume.to_string().as_str()
            )
        );
    }
    v.stop();
}

fn gate_sub(ws: &mut Ws, id: i64, channel: &str, payload: &str) -> Value {
    send_text(
        ws,
        &format!(
            r#"{{"time":{},"id":{id},"channel":"{channel}","event":"subscribe","payload":{payload}}}"#,
            now_s()
        ),
    );
    next_json(ws, Duration::from_secs(3), |v| {
        v["event"] == "subscribe" && v["id"] == id
    })
    .expect("ack")
}

#[test]
fn issue17_gate_candlesticks_spot_and_futures_shapes_and_refusals() {
    let v = Venue::start(short_windows()).unwrap();
    for (path, market, ch, file) in [
        (
            "/ws/v4/",
            Market::Spot,
            "spot.candlesticks",
            "gateio_spot_candlesticks.json",
        ),
        (
            "/v4/ws/usdt",
            Market::Futures,
            "futures.candlesticks",
            "gateio_futures_candlesticks.json",
        ),
    ] {
        let mut ws = ws_connect(v.addr(), path, &[]);
        for (i, (p, msg)) in [
            (
                r#"["2m","BTC_USDT"]"#,
                "incorrect update interval specified",
            ),
            (
                r#"["1M","BTC_USDT"]"#,
                "incorrect update interval specified",
            ),
            (r#"["1m","NOPE_USDT"]"#, "unknown currency pair: NOPE_USDT"),
        ]
        .iter()
        .enumerate()
        {
            let a = gate_sub(&mut ws, 50 + i as i64, ch, p);
            assert_eq!(a["error"]["code"], 2, "{ch} {p}: {a}");
            assert_eq!(a["error"]["message"], *msg, "{ch} {p}: {a}");
        }
        let a = gate_sub(&mut ws, 1, ch, r#"["1m","BTC_USDT"]"#);
        assert!(a["error"].is_null(), "{a}");
        // The same stream twice: Gate's duplicate refusal.
        let a = gate_sub(&mut ws, 2, ch, r#"["1m","BTC_USDT"]"#);
        assert_eq!(a["error"]["code"], 2, "{a}");
        let reference = fixture_values(file);
        let mut closed: Vec<Value> = Vec::new();
        let start = Instant::now();
        while closed.len() < 2 && start.elapsed() < Duration::from_secs(20) {
            let Some(p) = next_json(&mut ws, Duration::from_secs(1), |x| x["channel"] == ch) else {
                continue;
            };
            assert_shape_candle(&p, &reference[0], market);
            let row = if market == Market::Spot {
                p["result"].clone()
            } else {
                p["result"][0].clone()
            };
            assert_eq!(row["n"], "1m_BTC_USDT");
            if row["w"] == true {
                closed.push(row);
            }
        }
        assert!(closed.len() >= 2, "{ch}: closed {}", closed.len());
        let own = v.klines(VenueId::Gateio, market, "BTC_USDT", "1m");
        for row in &closed {
            let t: i64 = match &row["t"] {
                Value::String(s) => s.parse().unwrap(),
                n => n.as_i64().unwrap(),
            };
            let o = own
                .iter()
                .find(|o| o.open_ms == t * 1000)
                .expect("venue candle");
            assert_eq!(row["o"], o.open.to_string());
            assert_eq!(row["h"], o.high.to_string());
            assert_eq!(row["l"], o.low.to_string());
            assert_eq!(row["c"], o.close.to_string());
            if market == Market::Spot {
                assert_eq!(row["v"], o.quote_volume.to_string());
                assert_eq!(row["a"], o.volume.to_string());
            } else {
                assert_eq!(
                    row["v"].as_i64().unwrap() as i128,
                    o.volume.0 / 10i128.pow(16)
                );
                assert_eq!(row["a"], o.base_volume.to_string());
            }
        }
        // Unsubscribe with the same `[interval, pair]`: acknowledged, then no more candles.
        send_text(
            &mut ws,
            &format!(
                r#"{{"time":{},"id":9,"channel":"{ch}","event":"unsubscribe","payload":["1m","BTC_USDT"]}}"#,
                now_s()
            ),
        );
        let a = next_json(&mut ws, Duration::from_secs(5), |x| {
            x["event"] == "unsubscribe" && x["id"] == 9
        })
        .expect("unsubscribe ack");
        assert!(a["error"].is_null(), "{a}");
        assert!(
            next_json(&mut ws, Duration::from_millis(1500), |x| x["channel"] == ch).is_none(),
            "{ch}: pushes after the unsubscribe"
        );
    }
    v.stop();
}

/// Our push has the documented keys with the documented JSON types (`w` added on futures).
fn assert_shape_candle(ours: &Value, doc: &Value, market: Market) {
    for k in ["time", "time_ms", "channel", "event"] {
        assert!(ours.get(k).is_some(), "{k} missing: {ours}");
    }
    let (o, d) = if market == Market::Spot {
        (&ours["result"], &doc["result"])
    } else {
        assert!(ours["result"].is_array(), "futures result is an array");
        (&ours["result"][0], &doc["result"][0])
    };
    for (k, dv) in d.as_object().unwrap() {
        let ov = o.get(k).unwrap_or_else(|| panic!("{k} missing: {o}"));
        let same = matches!(
            (ov, dv),
            (Value::String(_), Value::String(_))
                | (Value::Number(_), Value::Number(_))
                | (Value::Bool(_), Value::Bool(_))
        );
        assert!(same, "{k}: {ov} vs documented {dv}");
    }
    assert!(o["w"].is_boolean(), "w: {o}");
}
