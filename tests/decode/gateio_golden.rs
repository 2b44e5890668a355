//! Golden tests over every published Gate.io / Gate US fixture frame: decoded values asserted.
//! Each frame is decoded by the scanner-enabled decoder and by the simd-json path alone; the
//! helper asserts both give identical results.

use crate::support::gateio::{decode, dx, frames, lv, px, qty, Ev};
use cexfeed::event::{ControlKind, DecodeError, Liquidity, OrderStatus, OrderType};
use cexfeed::types::{Dec, Interval, Market, NumError, Px, Qty, Side};

const S: Market = Market::Spot;
const F: Market = Market::Futures;

fn one(market: Market, frame: &[u8]) -> Ev {
    let (r, ev) = decode(market, frame);
    assert_eq!(r, Ok(()), "{}", String::from_utf8_lossy(frame));
    assert_eq!(ev.len(), 1, "{ev:?}");
    ev.into_iter().next().unwrap()
}

fn ctl(
    kind: ControlKind,
    channel: &str,
    event: Option<&str>,
    req_id: Option<u64>,
    code: Option<i64>,
    message: Option<&str>,
    payload0: Option<&str>,
) -> Ev {
    Ev::Control {
        kind,
        channel: Some(channel.into()),
        event: event.map(Into::into),
        message: message.map(Into::into),
        req_id,
        code,
        payload0: payload0.map(Into::into),
    }
}

#[test]
fn every_fixture_frame_is_covered_below() {
    // Guard: a new fixture file must get a golden test.
    let known = [
        "gateio_futures_balances.json",
        "gateio_futures_book_ticker.json",
        "gateio_futures_candlesticks.json",
        "gateio_futures_login.json",
        "gateio_futures_obu.json",
        "gateio_futures_order_book.json",
        "gateio_futures_order_book_update.json",
        "gateio_futures_orders.json",
        "gateio_futures_pong.json",
        "gateio_futures_positions.json",
        "gateio_futures_rest_order_book.json",
        "gateio_futures_subscribe_ack.json",
        "gateio_futures_tickers.json",
        "gateio_futures_trades.json",
        "gateio_futures_usertrades.json",
        "gateio_private_subscribe_requests_and_acks.json",
        "gateio_spot_balances.json",
        "gateio_spot_book_ticker.json",
        "gateio_spot_candlesticks.json",
        "gateio_spot_login.json",
        "gateio_spot_obu.json",
        "gateio_spot_order_book.json",
        "gateio_spot_order_book_update.json",
        "gateio_spot_orders.json",
        "gateio_spot_pong.json",
        "gateio_spot_rest_order_book.json",
        "gateio_spot_subscribe_ack.json",
        "gateio_spot_subscribe_error.json",
        "gateio_spot_subscribe_request.json",
        "gateio_spot_tickers.json",
        "gateio_spot_trades.json",
        "gateio_spot_usertrades.json",
        "gateio_spot_ws_api_errors.json",
        "gateus_spot_captured_frames.json",
    ];
    assert_eq!(crate::support::gateio::fixture_names(), known);
}

#[test]
fn spot_obu_ack_full_and_delta() {
    let f = frames("gateio_spot_obu.json");
    assert_eq!(f.len(), 3);
    assert_eq!(
        one(S, &f[0]),
        ctl(
            ControlKind::Ack,
            "spot.obu",
            Some("subscribe"),
            None,
            None,
            None,
            Some("ob.BTC_USDT.50")
        )
    );
    assert_eq!(
        one(S, &f[1]),
        Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: true,
            seq_first: 73777715168,
            seq_last: 73777715168,
            bids: vec![lv("104027.1", "509392"), lv("104027", "477932")],
            asks: vec![lv("104027.2", "44617"), lv("104027.4", "39322")],
            ts: Some(1747054612673),
        }
    );
    assert_eq!(
        one(S, &f[2]),
        Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: false,
            seq_first: 73777715169,
            seq_last: 73777715212,
            bids: vec![lv("104024.5", "10343"), lv("104014.5", "509392")],
            asks: vec![lv("104027.2", "0"), lv("104027.4", "0")],
            ts: Some(1747054612695),
        }
    );
}

#[test]
fn futures_obu_ack_full_delta_and_duplicate_error() {
    let f = frames("gateio_futures_obu.json");
    assert_eq!(f.len(), 4);
    assert_eq!(
        one(F, &f[0]),
        ctl(
            ControlKind::Ack,
            "futures.obu",
            Some("subscribe"),
            Some(1),
            None,
            None,
            Some("ob.BTC_USDT.400")
        )
    );
    assert_eq!(
        one(F, &f[1]),
        Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: true,
            seq_first: 79072179673,
            seq_last: 79072179673,
            bids: vec![lv("83705.9", "30166")],
            asks: vec![lv("83706", "4208")],
            ts: Some(1743673026995),
        }
    );
    match one(F, &f[2]) {
        Ev::Book {
            symbol,
            snapshot,
            seq_first,
            seq_last,
            bids,
            asks,
            ..
        } => {
            assert_eq!(symbol, "BTC_USDT");
            assert!(!snapshot);
            assert_eq!((seq_first, seq_last), (79072179674, 79072179694));
            assert_eq!(bids.len(), 5);
            assert_eq!(bids[0], lv("83702.2", "62"));
            assert_eq!(bids[1], lv("83702.1", "0"));
            assert_eq!(bids[4], lv("83685", "239"));
            assert!(asks.is_empty());
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(
        one(F, &f[3]),
        ctl(
            ControlKind::Error,
            "futures.obu",
            Some("subscribe"),
            Some(1),
            Some(2),
            Some("Alert sub ob.BTC_USDT.400"),
            Some("ob.BTC_USDT.400")
        )
    );
}

#[test]
fn spot_order_book_update_full_and_delta() {
    let f = frames("gateio_spot_order_book_update.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: true,
            seq_first: 48776306,
            seq_last: 48776306,
            bids: vec![lv("19137.74", "0.0001"), lv("19088.37", "0")],
            asks: vec![lv("19137.75", "0.6135")],
            ts: Some(1606294781123),
        }
    );
    assert_eq!(
        one(S, &f[1]),
        Ev::Book {
            symbol: "ETH_USDT".into(),
            snapshot: false,
            seq_first: 48776301,
            seq_last: 48776306,
            bids: vec![lv("19137.74", "0.0001"), lv("19088.37", "0")],
            asks: vec![lv("19137.75", "0.6135")],
            ts: Some(1606294781123),
        }
    );
}

#[test]
fn futures_order_book_update_integer_and_decimal_sizes() {
    let f = frames("gateio_futures_order_book_update.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Book {
            symbol: "BTC_USD".into(),
            snapshot: false,
            seq_first: 2517661101,
            seq_last: 2517661113,
            bids: vec![lv("54672.1", "0"), lv("54664.5", "58794")],
            asks: vec![lv("54743.6", "0"), lv("54742", "95")],
            ts: Some(1615366381417),
        }
    );
    match one(F, &f[1]) {
        Ev::Book {
            symbol, bids, asks, ..
        } => {
            assert_eq!(symbol, "ETH_USDT");
            assert_eq!(bids, vec![lv("54672.1", "0"), lv("54664.5", "58794.5")]);
            assert_eq!(asks, vec![lv("54743.6", "0"), lv("54742", "95.2")]);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn spot_order_book_snapshots() {
    let f = frames("gateio_spot_order_book.json");
    for (i, sym) in [(0, "BTC_USDT"), (1, "ETH_USDT")] {
        match one(S, &f[i]) {
            Ev::Book {
                symbol,
                snapshot,
                seq_first,
                seq_last,
                bids,
                asks,
                ts,
            } => {
                assert_eq!(symbol, sym);
                assert!(snapshot);
                assert_eq!((seq_first, seq_last), (48791820, 48791820));
                assert_eq!(ts, Some(1606295412123));
                assert_eq!(bids.len(), 5);
                assert_eq!(bids[2], lv("19076.23", "0.00011808"));
                assert_eq!(asks[4], lv("19083.8", "0.097"));
            }
            e => panic!("{e:?}"),
        }
    }
}

#[test]
fn futures_legacy_order_book_all() {
    let f = frames("gateio_futures_order_book.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Book {
            symbol: "BTC_USD".into(),
            snapshot: true,
            seq_first: 93973511,
            seq_last: 93973511,
            bids: vec![lv("97.1", "2245"), lv("97.1", "2245")],
            asks: vec![lv("97.1", "2245"), lv("97.1", "2245")],
            ts: Some(1541500161123),
        }
    );
    match one(F, &f[1]) {
        Ev::Book {
            symbol,
            seq_last,
            bids,
            asks,
            ..
        } => {
            assert_eq!(symbol, "BTC_USDT");
            assert_eq!(seq_last, 81045888518);
            assert_eq!(asks[0], lv("94364.1", "41549"));
            assert_eq!(bids[4], lv("94359.2", "59"));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn spot_trade_single_object_taker_side() {
    let f = frames("gateio_spot_trades.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Trade {
            symbol: "GT_USDT".into(),
            px: px("0.4705"),
            qty: qty("16.47"),
            side: Side::Sell,
            trade_id: "#309143071".into(),
            ts: Some(1606292218213),
        }
    );
}

#[test]
fn futures_trades_signed_size_to_side() {
    let f = frames("gateio_futures_trades.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Trade {
            symbol: "BTC_USD".into(),
            px: px("96.4"),
            qty: qty("108"),
            side: Side::Sell,
            trade_id: "#27753479".into(),
            ts: Some(1545136464123),
        }
    );
    match one(F, &f[1]) {
        Ev::Trade {
            symbol,
            qty: q,
            side,
            ..
        } => {
            assert_eq!(symbol, "ETH_USDT");
            assert_eq!(q, qty("108.5"));
            assert_eq!(side, Side::Sell);
        }
        e => panic!("{e:?}"),
    }
}

/// Issue 13, finding 3: the doc example's B = "0.0003341504" has 10 fractional digits. The
/// 8-decimal `Qty` refused the frame (a decode error on every push of such a market); the
/// 16-decimal `Qty` carries it exactly. One digit beyond the scale is still refused, never
/// rounded.
#[test]
fn issue13_finding3_spot_book_ticker_ten_decimal_size_is_exact() {
    let f = frames("gateio_spot_book_ticker.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Bbo {
            symbol: "BTC_USDT".into(),
            bid_px: px("19177.79"),
            bid_qty: qty("0.0003341504"),
            ask_px: px("19179.38"),
            ask_qty: qty("0.09"),
            seq: Some(48733182),
            ts: Some(1606293275123),
        }
    );
    let beyond = String::from_utf8(f[0].clone())
        .unwrap()
        .replace("0.0003341504", "0.00033415040000001");
    let (r, ev) = decode(S, beyond.as_bytes());
    assert_eq!(r, Err(DecodeError::Number("B", NumError::TooManyDigits)));
    assert!(ev.is_empty());
}

#[test]
fn futures_book_ticker_int_and_string_sizes() {
    let f = frames("gateio_futures_book_ticker.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Bbo {
            symbol: "BTC_USD".into(),
            bid_px: px("54696.6"),
            bid_qty: qty("37000"),
            ask_px: px("54696.7"),
            ask_qty: qty("47061"),
            seq: Some(2517661076),
            ts: Some(1615366379123),
        }
    );
    match one(F, &f[1]) {
        Ev::Bbo {
            symbol,
            bid_qty,
            ask_qty,
            ..
        } => {
            assert_eq!(symbol, "ETH_USDT");
            assert_eq!((bid_qty, ask_qty), (qty("37000.5"), qty("47061.2")));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn futures_book_ticker_empty_side_is_zero() {
    let frame = br#"{"time":1,"time_ms":1000,"channel":"futures.book_ticker","event":"update","result":{"t":5,"u":9,"s":"BTC_USDT","b":"","B":0,"a":"54696.7","A":"3"}}"#;
    assert_eq!(
        one(F, frame),
        Ev::Bbo {
            symbol: "BTC_USDT".into(),
            bid_px: Px::ZERO,
            bid_qty: Qty::ZERO,
            ask_px: px("54696.7"),
            ask_qty: qty("3"),
            seq: Some(9),
            ts: Some(5),
        }
    );
}

/// Issue 17: `spot.candlesticks` as Gate documents it: `t` seconds (a string), `v` quote
/// volume, `a` base amount, `w: true` = window closed.
#[test]
fn issue17_spot_candlesticks_doc_example() {
    let f = frames("gateio_spot_candlesticks.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Kline {
            symbol: "BTC_USDT".into(),
            interval: Interval::M1,
            open_time_ms: 1606292580000,
            open: px("19128.1"),
            high: px("19128.1"),
            low: px("19128.1"),
            close: px("19128.1"),
            volume: qty("3.8283"),
            quote_volume: Some(qty("2362.32035")),
            base_volume: None,
            closed: true,
            ts: Some(1606292600376),
        }
    );
    // `w` "may be missing" (the docs): then not closed; `false` likewise.
    for w in ["", r#","w":false"#] {
        let frame = format!(
            r#"{{"time":1,"time_ms":2,"channel":"spot.candlesticks","event":"update","result":{{"t":"60","v":"1","c":"2","h":"3","l":"1","o":"2","n":"5m_ETH_USDT","a":"0.5"{w}}}}}"#
        );
        match one(S, frame.as_bytes()) {
            Ev::Kline {
                symbol,
                interval,
                open_time_ms,
                closed,
                ..
            } => {
                assert_eq!(symbol, "ETH_USDT");
                assert_eq!(
                    (interval, open_time_ms, closed),
                    (Interval::M5, 60_000, false)
                );
            }
            e => panic!("{e:?}"),
        }
    }
}

/// Issue 17: `futures.candlesticks`: an array of rows, `t` and `v` integers, `v` in contracts,
/// `a` the amount; a decimal-string `v` (under `X-Gate-Size-Decimal: 1`) and a `w` read too.
#[test]
fn issue17_futures_candlesticks_doc_example() {
    let f = frames("gateio_futures_candlesticks.json");
    let (r, evs) = decode(F, &f[0]);
    assert_eq!(r, Ok(()));
    assert_eq!(evs.len(), 2);
    assert_eq!(
        evs[0],
        Ev::Kline {
            symbol: "BTC_USD".into(),
            interval: Interval::M1,
            open_time_ms: 1545129300000,
            open: px("94.3"),
            high: px("96.9"),
            low: px("89.5"),
            close: px("95.4"),
            volume: qty("27525555"),
            quote_volume: None,
            base_volume: Some(qty("314732.87412")),
            closed: false,
            ts: Some(1542162490123),
        }
    );
    let frame = br#"{"time":1,"time_ms":2,"channel":"futures.candlesticks","event":"update","result":[{"t":1700000000,"v":"12.5","c":"1","h":"1","l":"1","o":"1","n":"7d_BTC_USDT","w":true}]}"#;
    match one(F, frame) {
        Ev::Kline {
            interval,
            volume,
            base_volume,
            closed,
            ..
        } => assert_eq!(
            (interval, volume, base_volume, closed),
            (Interval::W1, qty("12.5"), None, true)
        ),
        e => panic!("{e:?}"),
    }
}

/// Issue 17: bad candles are typed errors, never a panic or a rounded number.
#[test]
fn issue17_candlesticks_refusals() {
    let base = |n: &str, t: &str, o: &str| {
        format!(
            r#"{{"time":1,"channel":"spot.candlesticks","event":"update","result":{{"t":{t},"v":"1","c":"1","h":"1","l":"1","o":{o},"n":"{n}","a":"1"}}}}"#
        )
    };
    let cases = [
        (
            base("1m_BTC_USDT", "\"x\"", "\"1\""),
            DecodeError::WrongType("t"),
        ),
        (
            base("2m_BTC_USDT", "\"1\"", "\"1\""),
            DecodeError::WrongType("n"),
        ),
        (base("1m", "\"1\"", "\"1\""), DecodeError::WrongType("n")),
        (
            base("1m_BTC_USDT", "\"1\"", "\"1.00000000000000001\""),
            DecodeError::Number("o", NumError::TooManyDigits),
        ),
    ];
    for (frame, want) in cases {
        assert_eq!(decode(S, frame.as_bytes()).0, Err(want), "{frame}");
    }
}

#[test]
fn spot_tickers() {
    let f = frames("gateio_spot_tickers.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Ticker {
            symbol: "BTC_USDT".into(),
            last: Some(px("15743.4")),
            bid: Some(px("15743.5")),
            ask: Some(px("15744.4")),
            mark: None,
            index: None,
            funding: None,
            ts: Some(1669107766406),
        }
    );
    match one(S, &f[1]) {
        Ev::Ticker {
            symbol, last, bid, ..
        } => {
            assert_eq!(symbol, "ETH_USDT");
            assert_eq!(last, Some(px("70775.2")));
            assert_eq!(bid, Some(px("70773")));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn futures_tickers() {
    let f = frames("gateio_futures_tickers.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Ticker {
            symbol: "BTC_USD".into(),
            last: Some(px("118.4")),
            bid: None,
            ask: None,
            mark: Some(px("118.35")),
            index: Some(px("118.36")),
            funding: Some(px("-0.000114")),
            ts: Some(1541659086123),
        }
    );
    assert!(matches!(one(F, &f[1]), Ev::Ticker { symbol, .. } if symbol == "ETH_USDT"));
}

#[test]
fn spot_orders_put_is_new() {
    let f = frames("gateio_spot_orders.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Order {
            symbol: "BTC_USDT".into(),
            order_id: "'399123456'".into(),
            client_id: Some("t-testtext".into()),
            side: Side::Sell,
            order_type: OrderType::Limit,
            px: px("26253.3"),
            qty: qty("0.0001"),
            filled: qty("812.8"),
            remaining: qty("0.0001"),
            avg_px: Dec::ZERO,
            status: OrderStatus::New,
            ts_create: Some(1694655225315),
            ts_update: Some(1694655225315),
        }
    );
}

#[test]
fn spot_order_status_mapping() {
    use cexfeed::exchange::gateio::spot_status;
    let z = Qty::ZERO;
    let some = qty("1");
    assert_eq!(spot_status("put", "open", z), OrderStatus::New);
    assert_eq!(
        spot_status("update", "open", some),
        OrderStatus::PartiallyFilled
    );
    assert_eq!(spot_status("finish", "filled", some), OrderStatus::Filled);
    assert_eq!(spot_status("finish", "cancelled", z), OrderStatus::Canceled);
    assert_eq!(
        spot_status("finish", "cancelled", some),
        OrderStatus::PartiallyCanceled
    );
    assert_eq!(spot_status("finish", "ioc", some), OrderStatus::Expired);
    assert_eq!(spot_status("finish", "stp", z), OrderStatus::Expired);
    assert_eq!(spot_status("weird", "filled", z), OrderStatus::Other);
}

#[test]
fn futures_orders_float_prices_exact() {
    let f = frames("gateio_futures_orders.json");
    let e = one(F, &f[0]);
    assert_eq!(
        e,
        Ev::Order {
            symbol: "BTC_USD".into(),
            order_id: "#4872460".into(),
            client_id: None,
            side: Side::Buy,
            order_type: OrderType::Limit,
            px: Px(400_004_000_000_000_000_000),
            qty: qty("1"),
            filled: qty("1"),
            remaining: Qty::ZERO,
            avg_px: dx("40000.4"),
            status: OrderStatus::Filled,
            ts_create: Some(1628736847325),
            ts_update: Some(1541505434123),
        }
    );
    match one(F, &f[1]) {
        Ev::Order {
            qty: q,
            filled,
            remaining,
            status,
            ts_update,
            ..
        } => {
            assert_eq!(q, qty("1.5"));
            assert_eq!(remaining, qty("0.5"));
            assert_eq!(filled, qty("1"));
            assert_eq!(status, OrderStatus::Filled);
            assert_eq!(
                ts_update,
                Some(1628736848321),
                "finish_time_ms when no update_time"
            );
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn spot_usertrades() {
    let f = frames("gateio_spot_usertrades.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Fill {
            symbol: "BTC_USDT".into(),
            trade_id: "#5736713".into(),
            order_id: "'30784428'".into(),
            client_id: Some("apiv4".into()),
            px: px("10000"),
            qty: qty("1"),
            side: Side::Sell,
            liquidity: Liquidity::Taker,
            fee: dx("0.002"),
            fee_currency: None, // this doc example carries no fee_currency
            ts: Some(1605176741123),
        }
    );
}

#[test]
fn futures_usertrades_float_fee_exact() {
    let f = frames("gateio_futures_usertrades.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Fill {
            symbol: "BTC_USD".into(),
            trade_id: "'3335259'".into(),
            order_id: "'4872460'".into(),
            client_id: Some("api".into()),
            px: px("40000.4"),
            qty: qty("1"),
            side: Side::Buy,
            liquidity: Liquidity::Maker,
            fee: dx("0.0009290592"),
            fee_currency: None,
            ts: Some(1628736848321),
        }
    );
    assert!(matches!(one(F, &f[1]), Ev::Fill { qty: q, .. } if q == qty("1.5")));
}

#[test]
fn spot_balances() {
    let f = frames("gateio_spot_balances.json");
    assert_eq!(
        one(S, &f[0]),
        Ev::Balance {
            asset: "USDT".into(),
            available: dx("222244.3827"),
            locked: dx("5"),
            total: Some(dx("222244.3827652")),
            change: Some(Dec::ZERO),
            reason: Some("order-create".into()),
            ts: Some(1667556323730),
        }
    );
}

#[test]
fn futures_balances_float_fields_exact() {
    let f = frames("gateio_futures_balances.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Balance {
            asset: "btc".into(),
            // JSON numbers with more digits than Qty keeps: exact Dec from the number text.
            available: dx("9.998739899488"),
            locked: Dec::ZERO,
            total: Some(dx("9.998739899488")),
            change: Some(dx("-0.000002074115")),
            reason: Some("fee".into()),
            ts: Some(1547199246123),
        }
    );
}

#[test]
fn account_values_beyond_38_digits_are_refused_not_rounded() {
    // Bare JSON numbers with many digits: exact from the number text.
    let ok = br#"{"channel":"futures.balances","event":"update","result":[{"currency":"usdt","balance":12345678901234567890.123456789012345678,"change":-1e-38,"type":"fee","time_ms":1}]}"#;
    match one(F, ok) {
        Ev::Balance { total, change, .. } => {
            assert_eq!(
                total.unwrap().to_string(),
                "12345678901234567890.123456789012345678"
            );
            assert_eq!(
                change.unwrap().to_string(),
                "-0.00000000000000000000000000000000000001"
            );
        }
        e => panic!("{e:?}"),
    }
    let too_many = br#"{"channel":"futures.balances","event":"update","result":[{"currency":"usdt","balance":0.12345678901234567890123456789012345678901,"time_ms":1}]}"#;
    let (r, ev) = decode(F, too_many);
    assert_eq!(
        r,
        Err(DecodeError::Number("balance", NumError::TooManyDigits))
    );
    assert!(ev.is_empty());
    let too_big = br#"{"channel":"futures.positions","event":"update","result":[{"contract":"BTC_USDT","size":1,"margin":1e39,"time_ms":1}]}"#;
    assert_eq!(
        decode(F, too_big).0,
        Err(DecodeError::Number("margin", NumError::Overflow))
    );
}

#[test]
fn futures_positions_sign_kept() {
    let f = frames("gateio_futures_positions.json");
    assert_eq!(
        one(F, &f[0]),
        Ev::Position {
            contract: "BTC_USD".into(),
            size: qty("3"),
            entry_px: dx("40000.36666661111"),
            leverage: Dec::ZERO,
            margin: dx("49.999890611186"),
            liq_px: dx("0.1"),
            realised_pnl: dx("-0.0000000125"),
            ts: Some(1628736848321),
        }
    );
    assert!(matches!(one(F, &f[1]), Ev::Position { size, .. } if size == qty("3.5")));
    let short = br#"{"channel":"futures.positions","event":"update","result":[{"contract":"BTC_USDT","size":"-7.5","time_ms":1}]}"#;
    assert!(matches!(one(F, short), Ev::Position { size, .. } if size == qty("-7.5")));
}

#[test]
fn pongs() {
    let f = frames("gateio_spot_pong.json");
    assert_eq!(
        one(S, &f[0]),
        ctl(ControlKind::Pong, "spot.pong", None, None, None, None, None)
    );
    let f = frames("gateio_futures_pong.json");
    assert_eq!(
        one(F, &f[0]),
        ctl(
            ControlKind::Pong,
            "futures.pong",
            None,
            None,
            None,
            None,
            None
        )
    );
}

#[test]
fn subscribe_acks() {
    let f = frames("gateio_spot_subscribe_ack.json");
    assert_eq!(
        one(S, &f[0]),
        ctl(
            ControlKind::Ack,
            "spot.orders",
            Some("subscribe"),
            None,
            None,
            None,
            None
        )
    );
    // id -999 is not a u64 request id → None; payload echoed.
    assert_eq!(
        one(S, &f[1]),
        ctl(
            ControlKind::Ack,
            "spot.order_book_update",
            Some("subscribe"),
            None,
            None,
            None,
            Some("ETH_USDT")
        )
    );
    let f = frames("gateio_futures_subscribe_ack.json");
    assert_eq!(
        one(F, &f[0]),
        ctl(
            ControlKind::Ack,
            "futures.tickers",
            Some("subscribe"),
            None,
            None,
            None,
            None
        )
    );
}

#[test]
fn subscribe_error_with_code() {
    let f = frames("gateio_spot_subscribe_error.json");
    assert_eq!(
        one(S, &f[0]),
        ctl(
            ControlKind::Error,
            "spot.obu",
            Some("subscribe"),
            Some(1),
            Some(2),
            Some("Alert sub ob.BTC_USDT.400"),
            Some("ob.BTC_USDT.400")
        )
    );
}

#[test]
fn auth_failure_code_4() {
    let frame = br#"{"time":1,"time_ms":2,"id":5,"channel":"spot.orders","event":"subscribe","error":{"code":4,"message":"Authentication failed"},"result":{"status":"fail"}}"#;
    assert_eq!(
        one(S, frame),
        ctl(
            ControlKind::Error,
            "spot.orders",
            Some("subscribe"),
            Some(5),
            Some(4),
            Some("Authentication failed"),
            None
        )
    );
}

#[test]
fn client_request_frames_are_not_server_messages() {
    for frame in frames("gateio_spot_subscribe_request.json") {
        assert_eq!(decode(S, &frame).0, Err(DecodeError::UnknownChannel));
    }
    for name in ["gateio_spot_login.json", "gateio_futures_login.json"] {
        let f = frames(name);
        // first frame: the login request (event api, payload object) — a client frame
        assert_eq!(decode(S, &f[0]).0, Err(DecodeError::UnknownChannel));
    }
}

#[test]
fn ws_api_login_success_gives_uid() {
    for (name, ch) in [
        ("gateio_spot_login.json", "spot.login"),
        ("gateio_futures_login.json", "futures.login"),
    ] {
        let f = frames(name);
        assert_eq!(
            one(S, &f[1]),
            ctl(
                ControlKind::Ack,
                ch,
                Some("api"),
                None,
                None,
                None,
                Some("110284739")
            )
        );
    }
}

#[test]
fn ws_api_errors() {
    let f = frames("gateio_spot_ws_api_errors.json");
    assert_eq!(
        one(S, &f[0]),
        ctl(
            ControlKind::Error,
            "spot.login",
            Some("api"),
            None,
            Some(401),
            Some("Invalid key provided"),
            Some("INVALID_KEY")
        )
    );
    assert_eq!(
        one(S, &f[1]),
        ctl(
            ControlKind::Error,
            "spot.order_place",
            Some("api"),
            None,
            Some(429),
            Some("Request Rate limit Exceeded (211)"),
            Some("TOO_MANY_REQUESTS")
        )
    );
}

#[test]
fn private_requests_and_acks() {
    let f = frames("gateio_private_subscribe_requests_and_acks.json");
    assert_eq!(f.len(), 14);
    let chans = [
        "spot.orders",
        "spot.balances",
        "spot.usertrades",
        "futures.orders",
        "futures.positions",
        "futures.balances",
        "futures.usertrades",
    ];
    let mut acks = Vec::new();
    for (i, frame) in f.iter().enumerate() {
        if i % 2 == 0 {
            assert_eq!(
                decode(S, frame).0,
                Err(DecodeError::UnknownChannel),
                "request {i}"
            );
        } else {
            acks.push(one(S, frame));
        }
    }
    for ack in &acks {
        match ack {
            Ev::Control {
                kind,
                event,
                payload0,
                ..
            } => {
                assert_eq!(*kind, ControlKind::Ack);
                assert_eq!(event.as_deref(), Some("subscribe"));
                assert!(
                    matches!(payload0.as_deref(), Some("!all") | Some("123")),
                    "{payload0:?}"
                );
            }
            e => panic!("{e:?}"),
        }
    }
    let names: Vec<_> = acks
        .iter()
        .map(|a| match a {
            Ev::Control { channel, .. } => channel.clone().unwrap(),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(names, chans);
}

#[test]
fn rest_snapshots() {
    use cexfeed::exchange::gateio::decode_rest_snapshot;
    let f = frames("gateio_spot_rest_order_book.json");
    let mut c = crate::support::gateio::Collect::default();
    assert_eq!(
        decode_rest_snapshot(&f[0], "BTC_USDT", 1000, &mut c),
        Ok(123456)
    );
    assert_eq!(
        c.0,
        vec![Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: true,
            seq_first: 123456,
            seq_last: 123456,
            bids: vec![lv("1.17", "201.863"), lv("1.16", "725.464")],
            asks: vec![lv("1.52", "1.151"), lv("1.53", "1.218")],
            ts: Some(1623898993123),
        }]
    );
    let f = frames("gateio_futures_rest_order_book.json");
    let mut c = crate::support::gateio::Collect::default();
    assert_eq!(
        decode_rest_snapshot(&f[0], "BTC_USDT", 1000, &mut c),
        Ok(123456)
    );
    assert_eq!(
        c.0,
        vec![Ev::Book {
            symbol: "BTC_USDT".into(),
            snapshot: true,
            seq_first: 123456,
            seq_last: 123456,
            bids: vec![lv("1.17", "150"), lv("1.16", "203")],
            asks: vec![lv("1.52", "100"), lv("1.53", "40")],
            ts: Some(1623898993123),
        }]
    );
}

/// Issue 12, defect 3 (the same check on Gate's REST snapshot): numeric and string prices with
/// ten decimals are exact; a size with more decimals than `Qty` keeps is refused, never rounded.
#[test]
fn issue12_defect3_gate_rest_numbers_are_exact_or_refused() {
    use cexfeed::exchange::gateio::decode_rest_snapshot;
    let exact = Px(12_345_671_234_567_891_000_000);
    let body = br#"{"id":5,"current":1623898993123,"update":1623898993121,"asks":[[1234567.1234567891,"1"]],"bids":[["1234567.1234567891",2]]}"#;
    let mut c = crate::support::gateio::Collect::default();
    assert_eq!(decode_rest_snapshot(body, "BTC_USDT", 10, &mut c), Ok(5));
    match &c.0[..] {
        [Ev::Book { bids, asks, .. }] => {
            assert_eq!((bids[0].px, asks[0].px), (exact, exact));
            assert_eq!(
                (bids[0].qty, asks[0].qty),
                (Qty::from_int(2), Qty::from_int(1))
            );
        }
        e => panic!("{e:?}"),
    }
    let futures = br#"{"id":5,"current":1623898993.123,"update":1623898993.121,"asks":[{"p":"1234567.1234567891","s":1}],"bids":[{"p":1234567.1234567891,"s":"2"}]}"#;
    let mut c = crate::support::gateio::Collect::default();
    assert_eq!(decode_rest_snapshot(futures, "BTC_USDT", 10, &mut c), Ok(5));
    match &c.0[..] {
        [Ev::Book { bids, asks, .. }] => assert_eq!((bids[0].px, asks[0].px), (exact, exact)),
        e => panic!("{e:?}"),
    }
    for body in [
        &br#"{"id":5,"asks":[["1","1234567.12345678912345678"]],"bids":[]}"#[..],
        &br#"{"id":5,"asks":[["1",1234567.12345678912345678]],"bids":[]}"#[..],
    ] {
        let mut c = crate::support::gateio::Collect::default();
        let r = decode_rest_snapshot(body, "BTC_USDT", 10, &mut c);
        assert!(
            matches!(r, Err(DecodeError::Number(_, NumError::TooManyDigits))),
            "{} -> {r:?}",
            String::from_utf8_lossy(body)
        );
        assert!(c.0.is_empty());
    }
}

#[test]
fn gate_us_captured_frames() {
    let f = frames("gateus_spot_captured_frames.json");
    assert_eq!(f.len(), 11);
    // 0: our subscribe request (client frame, no result)
    assert_eq!(decode(S, &f[0]).0, Err(DecodeError::UnknownChannel));
    assert_eq!(
        one(S, &f[1]),
        ctl(
            ControlKind::Ack,
            "spot.order_book",
            Some("subscribe"),
            None,
            None,
            None,
            Some("BTC_USD")
        )
    );
    match one(S, &f[2]) {
        Ev::Book {
            symbol,
            snapshot,
            seq_last,
            bids,
            asks,
            ..
        } => {
            assert_eq!(symbol, "SOL_USD");
            assert!(snapshot);
            assert_eq!(seq_last, 48123154);
            assert_eq!(bids[0], lv("118.91", "13.548"));
            assert_eq!(asks[2], lv("119.07", "13.303"));
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(
        one(S, &f[3]),
        Ev::Book {
            symbol: "ETH_USDT".into(),
            snapshot: false,
            seq_first: 474334686,
            seq_last: 474334687,
            // not price-sorted on the wire; kept in wire order
            bids: vec![
                lv("2765.2", "1.4816"),
                lv("2766.31", "1.4816"),
                lv("2761.72", "0.6967")
            ],
            asks: vec![],
            ts: Some(1790134390805),
        }
    );
    match one(S, &f[4]) {
        Ev::Book {
            symbol,
            bids,
            asks,
            seq_first,
            seq_last,
            ..
        } => {
            assert_eq!(symbol, "SAND_USD");
            assert!(bids.is_empty());
            assert_eq!(asks, vec![lv("0.04446", "0")]);
            assert_eq!((seq_first, seq_last), (2448207, 2448207));
        }
        e => panic!("{e:?}"),
    }
    // 5: our spot.ping (client frame)
    assert_eq!(decode(S, &f[5]).0, Err(DecodeError::UnknownChannel));
    assert_eq!(
        one(S, &f[6]),
        ctl(ControlKind::Pong, "spot.pong", None, None, None, None, None)
    );
    assert_eq!(
        one(S, &f[7]),
        ctl(
            ControlKind::Error,
            "spot.order_book_update",
            Some("subscribe"),
            None,
            Some(2),
            Some("unknown currency pair: NOPE_USD"),
            Some("NOPE_USD")
        )
    );
    assert_eq!(
        one(S, &f[8]),
        ctl(
            ControlKind::Error,
            "spot.obu",
            Some("subscribe"),
            None,
            Some(2),
            Some("Unknown channel spot.obu"),
            Some("ob.BTC_USD.50")
        )
    );
    assert_eq!(
        one(S, &f[9]),
        Ev::Bbo {
            symbol: "SOL_USD".into(),
            bid_px: px("118.91"),
            bid_qty: qty("13.548"),
            ask_px: px("118.99"),
            ask_qty: qty("65.556"),
            seq: Some(48123156),
            ts: Some(1790134391753),
        }
    );
    match one(S, &f[10]) {
        Ev::Ticker {
            symbol, last, ask, ..
        } => {
            assert_eq!(symbol, "BTC_USDT");
            assert_eq!(last, Some(px("86695.3")));
            assert_eq!(ask, Some(px("86691.6")));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn floats_recovered_exactly_from_text() {
    // 40000.4 and 1.25e-05 are not representable in f64; the decoder reads their text.
    let frame = br#"{"channel":"futures.orders","event":"update","time_ms":1,"result":[{"contract":"BTC_USDT","id":1,"size":-2,"left":-1,"price":40000.4,"fill_price":1.25e-05,"status":"open","tif":"poc","text":"t-abc","create_time_ms":7}]}"#;
    match one(F, frame) {
        Ev::Order {
            px: p,
            avg_px,
            side,
            qty: q,
            remaining,
            filled,
            status,
            order_type,
            client_id,
            ..
        } => {
            assert_eq!(p, Px(400_004_000_000_000_000_000));
            assert_eq!(avg_px, dx("0.0000125"));
            assert_eq!(side, Side::Sell);
            assert_eq!((q, remaining, filled), (qty("2"), qty("1"), qty("1")));
            assert_eq!(status, OrderStatus::PartiallyFilled);
            assert_eq!(order_type, OrderType::PostOnly);
            assert_eq!(client_id.as_deref(), Some("t-abc"));
        }
        e => panic!("{e:?}"),
    }
    // Book levels as bare JSON numbers, pretty-printed with odd key order.
    let frame = b"{ \"result\" : { \"u\" : 10 , \"U\" : 9, \"s\":\"BTC_USDT\",\n \"b\" : [ [ 40000.4 , 1.25e-05 ] ], \"a\":[{\"s\":3,\"p\":\"1\"}] } ,\n \"channel\" : \"spot.order_book_update\" }  \n";
    match one(S, frame) {
        Ev::Book {
            bids,
            asks,
            seq_first,
            seq_last,
            ..
        } => {
            assert_eq!(bids, vec![lv("40000.4", "0.0000125")]);
            assert_eq!(asks, vec![lv("1", "3")]);
            assert_eq!((seq_first, seq_last), (9, 10));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn malformed_and_limits_are_typed_errors() {
    assert_eq!(decode(S, b"").0, Err(DecodeError::Malformed));
    assert_eq!(decode(S, b"{\"channel\":").0, Err(DecodeError::Malformed));
    assert_eq!(decode(S, b"[1,2]").0, Err(DecodeError::WrongType("root")));
    assert_eq!(
        decode(S, br#"{"result":{}}"#).0,
        Err(DecodeError::MissingField("channel"))
    );
    assert_eq!(
        decode(S, br#"{"channel":"spot.funding_balances","result":{}}"#).0,
        Err(DecodeError::UnknownChannel)
    );
    // Candlesticks are decoded since issue 17: an empty row is a missing field.
    assert_eq!(
        decode(S, br#"{"channel":"spot.candlesticks","result":{}}"#).0,
        Err(DecodeError::MissingField("n"))
    );
    assert_eq!(
        decode(
            S,
            br#"{"channel":"spot.obu","result":{"s":"ob.X.50","U":1,"b":[]}}"#
        )
        .0,
        Err(DecodeError::MissingField("u"))
    );
    assert_eq!(
        decode(
            S,
            br#"{"channel":"spot.obu","result":{"s":"ob.X.50","U":1,"u":2,"b":[["-1","1"]]}}"#
        )
        .0,
        Err(DecodeError::Number("b", NumError::Sign))
    );
    let mut d = cexfeed::exchange::gateio::GateDecoder::new(S, 2);
    let big = br#"{"channel":"spot.obu","result":{"s":"ob.X.50","U":1,"u":2,"b":[["1","1"],["2","1"],["3","1"]]}}"#;
    assert_eq!(
        d.decode(big, &mut crate::support::gateio::Collect::default()),
        Err(DecodeError::TooLarge)
    );
}

// ---- synthetic frames (shapes from protocols.md where no published example exists) ----------

#[test]
fn futures_order_cancel_partial_and_ioc_statuses() {
    let mk = |status: &str, finish_as: &str, left: &str| {
        format!(
            r#"{{"channel":"futures.orders","event":"update","time_ms":1,"result":[{{"contract":"BTC_USDT","id":9,"size":"-10","left":"{left}","price":"100.5","fill_price":"100.5","status":"{status}","finish_as":"{finish_as}","tif":"ioc","update_time":77}}]}}"#
        )
    };
    let status = |f: String| match one(F, f.as_bytes()) {
        Ev::Order {
            status,
            side,
            filled,
            order_type,
            ts_update,
            ..
        } => {
            assert_eq!(side, Side::Sell);
            assert_eq!(order_type, OrderType::Ioc);
            assert_eq!(ts_update, Some(77));
            (status, filled)
        }
        e => panic!("{e:?}"),
    };
    assert_eq!(
        status(mk("finished", "cancelled", "-4")),
        (OrderStatus::PartiallyCanceled, qty("6"))
    );
    assert_eq!(
        status(mk("finished", "cancelled", "-10")),
        (OrderStatus::Canceled, qty("0"))
    );
    assert_eq!(
        status(mk("finished", "ioc", "-3")),
        (OrderStatus::Expired, qty("7"))
    );
    assert_eq!(status(mk("open", "", "-10")), (OrderStatus::New, qty("0")));
    assert_eq!(
        status(mk("open", "", "-2")),
        (OrderStatus::PartiallyFilled, qty("8"))
    );
}

#[test]
fn spot_order_finish_cancelled_after_partial_fill() {
    let f = br#"{"channel":"spot.orders","event":"update","time_ms":1,"result":[{"id":"1","text":"-","currency_pair":"ETH_USDT","type":"market","side":"buy","amount":"2","price":"0","time_in_force":"ioc","left":"0.5","filled_amount":"1.5","avg_deal_price":"3000.123456789012","event":"finish","finish_as":"cancelled","update_time_ms":"5.5"}]}"#;
    match one(S, f) {
        Ev::Order {
            status,
            order_type,
            client_id,
            filled,
            remaining,
            avg_px,
            ts_update,
            ..
        } => {
            assert_eq!(status, OrderStatus::PartiallyCanceled);
            assert_eq!(order_type, OrderType::Ioc);
            assert_eq!(client_id, None);
            assert_eq!((filled, remaining), (qty("1.5"), qty("0.5")));
            // 12 fraction digits: a venue-computed average, kept exactly
            assert_eq!(avg_px, dx("3000.123456789012"));
            assert_eq!(avg_px.to_string(), "3000.123456789012");
            assert_eq!(ts_update, Some(5));
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn unsubscribe_ack_and_numeric_request_id() {
    let f = br#"{"time":1,"time_ms":2,"id":42,"channel":"futures.order_book_update","event":"unsubscribe","payload":["BTC_USDT","100ms","100"],"error":null,"result":{"status":"success"}}"#;
    assert_eq!(
        one(F, f),
        ctl(
            ControlKind::Ack,
            "futures.order_book_update",
            Some("unsubscribe"),
            Some(42),
            None,
            None,
            Some("BTC_USDT")
        )
    );
    let f = br#"{"request_id":"17","header":{"status":"200","channel":"futures.login","event":"api"},"data":{"result":{"uid":123}}}"#;
    assert_eq!(
        one(F, f),
        ctl(
            ControlKind::Ack,
            "futures.login",
            Some("api"),
            Some(17),
            None,
            None,
            Some("123")
        )
    );
}

#[test]
fn legacy_futures_order_book_update_event_is_not_decoded() {
    let f = br#"{"channel":"futures.order_book","event":"update","time_ms":1,"result":[{"p":"97.1","s":-100,"c":"BTC_USD","id":93973512}]}"#;
    assert_eq!(decode(F, f).0, Err(DecodeError::UnknownChannel));
}

#[test]
fn duplicate_keys_last_wins_on_both_paths() {
    // The spot trades doc example repeats `id_market`; simd-json keeps both, the last wins.
    let f = br#"{"channel":"spot.obu","result":{"s":"ob.BTC_USDT.50","U":1,"u":2,"b":[["1","1"]],"b":[["2","2"]],"u":3}}"#;
    match one(S, f) {
        Ev::Book { bids, seq_last, .. } => {
            assert_eq!(bids, vec![lv("2", "2")]);
            assert_eq!(seq_last, 3);
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn null_envelope_time_does_not_drop_a_book_update() {
    let f = br#"{"time_ms":null,"channel":"spot.obu","result":{"s":"ob.BTC_USDT.50","U":1,"u":2,"b":[["1","1"]]}}"#;
    assert!(matches!(one(S, f), Ev::Book { seq_last: 2, .. }));
}

/// Issue 12, defect 7: one huge frame through the simd-json path used to leave its scratch
/// (frame copy, tape, positions, simd-json buffers) at that size for the connection's life.
/// After a 10 MB frame the scratch is back to what a fresh decoder holds, and the decoder
/// still decodes normal frames.
#[test]
fn huge_frame_scratch_is_released_after_decoding() {
    use cexfeed::exchange::gateio::GateDecoder;
    let mut d = GateDecoder::new(Market::Spot, 400);
    let base = d.scratch_bytes();
    let mut huge = br#"{"time":1,"channel":"spot.tickers","event":"update","result":{"currency_pair":"BTC_USDT","last":"1","pad":""#.to_vec();
    huge.extend(std::iter::repeat_n(b'a', 10 << 20));
    huge.extend_from_slice(br#""}}"#);
    let mut sink = crate::support::gateio::Collect::default();
    let _ = d.decode_general(&huge, &mut sink);
    assert!(
        d.scratch_bytes() <= base,
        "{} bytes of scratch kept (fresh: {base})",
        d.scratch_bytes()
    );
    let frame = frames("gateio_spot_obu.json").remove(1);
    let mut sink = crate::support::gateio::Collect::default();
    assert_eq!(d.decode_general(&frame, &mut sink), Ok(()));
    assert!(!sink.0.is_empty());
}
