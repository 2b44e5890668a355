//! Shared helpers of the `mexc_*` integration tests and `benches/mexc.rs`: an owning event
//! collector, fixture loaders, the server-side writers ([`encode`]) and the prost reference
//! ([`prost_ref`]). Not a test target itself (directory module).
#![allow(dead_code)]

/// Server-side writers: binary pushes, client-request parsing, ack / refusal / PONG texts.
pub mod encode;
/// prost types of the push schema and the prost reference decoder.
pub mod prost_ref;

pub use self::prost_ref as wire;
#[allow(unused_imports)] // not every including binary calls the reference
pub use self::prost_ref::ReferenceDecode;

use cexfeed::event::*;
use cexfeed::types::{Dec, Px, Qty};

pub use super::events::{Collect, Ev};

pub fn fixture_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(fixture_path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A `.frame.hex` fixture decoded to bytes.
pub fn hex_fixture(name: &str) -> Vec<u8> {
    let t = String::from_utf8(fixture(name)).unwrap();
    hex::decode(t.trim()).unwrap()
}

/// Every JSON value of a fixture file (values separated by blank lines).
pub fn json_values(name: &str) -> Vec<serde_json::Value> {
    let t = fixture(name);
    serde_json::Deserializer::from_slice(&t)
        .into_iter::<serde_json::Value>()
        .map(|v| v.unwrap())
        .collect()
}

/// The real binary frames published as fixtures.
pub const BINARY_FIXTURES: [&str; 5] = [
    "mexc_spot_aggre_bookticker.frame",
    "mexc_spot_aggre_deals.frame",
    "mexc_spot_aggre_deals.frame2",
    "mexc_spot_limit_depth.frame",
    "mexc_spot_kline.frame",
];

pub fn px(s: &str) -> Px {
    Px::parse(s.as_bytes()).unwrap()
}
pub fn dx(s: &str) -> Dec {
    Dec::parse_signed(s.as_bytes()).unwrap()
}

pub fn qty(s: &str) -> Qty {
    Qty::parse(s.as_bytes()).unwrap()
}
pub fn lv(p: &str, q: &str) -> Level {
    Level::new(px(p), qty(q))
}

// ------------------------------------------------------------------------------------------
// Frames encoded with the prost reference types, for bodies with no published binary sample.

use self::wire::{Body, PushDataV3ApiWrapper};
use prost::Message;

fn wrapper(
    channel: &str,
    symbol: Option<&str>,
    send: Option<i64>,
    body: Body,
) -> PushDataV3ApiWrapper {
    PushDataV3ApiWrapper {
        channel: channel.to_string(),
        symbol: symbol.map(str::to_string),
        symbol_id: None,
        create_time: None,
        send_time: send,
        body: Some(body),
    }
}

pub fn item(p: &str, q: &str) -> wire::DepthItem {
    wire::DepthItem {
        price: p.into(),
        quantity: q.into(),
    }
}

/// mexc_spot_aggre_depth.msgtodict.json (hummingbot): BTCUSDC 17521975448 → 17521975455.
pub fn aggre_depth_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDC",
        Some("BTCUSDC"),
        Some(1755973885809),
        Body::PublicAggreDepths(wire::PublicAggreDepthsV3Api {
            asks: vec![item("115198.74", "0.068865")],
            bids: vec![item("114838.84", "0.000101")],
            event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
            from_version: "17521975448".into(),
            to_version: "17521975455".into(),
            last_order_create_time: 0,
        }),
    )
}

/// mexc_spot_aggre_depth.doc.txt: empty asks, one bid deleted with quantity "0.00000000".
pub fn aggre_depth_doc_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
        Some("BTCUSDT"),
        Some(1736411507002),
        Body::PublicAggreDepths(wire::PublicAggreDepthsV3Api {
            asks: vec![],
            bids: vec![item("92877.58", "0.00000000")],
            event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
            from_version: "10589632359".into(),
            to_version: "10589632359".into(),
            last_order_create_time: 0,
        }),
    )
}

/// mexc_spot_private_orders.doc.txt.
pub fn private_orders_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@private.orders.v3.api.pb",
        Some("MXUSDT"),
        Some(1736417034281),
        Body::PrivateOrders(wire::PrivateOrdersV3Api {
            id: "C02__505979017439002624115".into(),
            price: "3.5121".into(),
            quantity: "1".into(),
            amount: "0".into(),
            avg_price: "3.6962".into(),
            order_type: 5,
            trade_type: 2,
            remain_amount: "0".into(),
            remain_quantity: "0".into(),
            last_deal_quantity: Some("1".into()),
            cumulative_quantity: "1".into(),
            cumulative_amount: "3.6962".into(),
            status: 2,
            create_time: 1736417034259,
            ..Default::default()
        }),
    )
}

/// mexc_spot_private_deals.doc.txt.
pub fn private_deals_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@private.deals.v3.api.pb",
        Some("MXUSDT"),
        Some(1736417034332),
        Body::PrivateDeals(wire::PrivateDealsV3Api {
            price: "3.6962".into(),
            quantity: "1".into(),
            amount: "3.6962".into(),
            trade_type: 2,
            trade_id: "505979017439002624X1".into(),
            order_id: "C02__505979017439002624115".into(),
            fee_amount: "0.0003998377369698171".into(),
            fee_currency: "MX".into(),
            time: 1736417034280,
            ..Default::default()
        }),
    )
}

/// mexc_spot_private_account.doc.txt (createTime + sendTime, no symbol).
pub fn private_account_msg() -> PushDataV3ApiWrapper {
    let mut w = wrapper(
        "spot@private.account.v3.api.pb",
        None,
        Some(1736417034307),
        Body::PrivateAccount(wire::PrivateAccountV3Api {
            vcoin_name: "USDT".into(),
            coin_id: "128f589271cb4951b03e71e6323eb7be".into(),
            balance_amount: "21.94210356004384".into(),
            balance_amount_change: "10".into(),
            frozen_amount: "0".into(),
            frozen_amount_change: "0".into(),
            r#type: "CONTRACT_TRANSFER".into(),
            time: 1736416910000,
        }),
    );
    w.create_time = Some(1736417034305);
    w
}

/// mexc_spot_bookticker_batch.doc.json.
pub fn book_ticker_batch_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@public.bookTicker.batch.v3.api.pb@BTCUSDT",
        Some("BTCUSDT"),
        Some(1739503249114),
        Body::PublicBookTickerBatch(wire::PublicBookTickerBatchV3Api {
            items: vec![wire::PublicBookTickerV3Api {
                bid_price: "96567.37".into(),
                bid_quantity: "3.362925".into(),
                ask_price: "96567.38".into(),
                ask_quantity: "1.545255".into(),
            }],
            version: String::new(),
            last_order_create_time: 0,
        }),
    )
}

fn mini(symbol: &str, price: &str) -> wire::PublicMiniTickerV3Api {
    wire::PublicMiniTickerV3Api {
        symbol: symbol.into(),
        price: price.into(),
        rate: "0.0766".into(),
        high: "2.6299".into(),
        ..Default::default()
    }
}

/// mexc_spot_kline.doc.txt (the docs' Min15 rendering), pushed with the documented
/// `createtime` and no `sendTime`, as kline pushes are (protocols.md §1.5).
pub fn kline_doc_msg() -> PushDataV3ApiWrapper {
    PushDataV3ApiWrapper {
        channel: "spot@public.kline.v3.api.pb@BTCUSDT@Min15".into(),
        symbol: Some("BTCUSDT".into()),
        symbol_id: Some("2fb942154ef44a4ab2ef98c8afb6a4a7".into()),
        create_time: Some(1736410707571),
        send_time: None,
        body: Some(Body::PublicSpotKline(wire::PublicSpotKlineV3Api {
            interval: "Min15".into(),
            window_start: 1736410500,
            opening_price: "92925".into(),
            closing_price: "93158.47".into(),
            highest_price: "93158.47".into(),
            lowest_price: "92800".into(),
            volume: "36.83803224".into(),
            amount: "3424811.05".into(),
            window_end: 1736411400,
        })),
    }
}

/// mexc_spot_miniticker.doc.json, first value.
pub fn mini_ticker_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@public.miniTicker.v3.api.pb@MXUSDT@UTC+8",
        Some("MXUSDT"),
        Some(1755076752201),
        Body::PublicMiniTicker(mini("MXUSDT", "2.5174")),
    )
}

/// mexc_spot_miniticker.doc.json, second value (no wrapper symbol).
pub fn mini_tickers_msg() -> PushDataV3ApiWrapper {
    wrapper(
        "spot@public.miniTickers.v3.api.pb@UTC+8",
        None,
        Some(1755076614201),
        Body::PublicMiniTickers(wire::PublicMiniTickersV3Api {
            items: vec![
                mini("METAUSDT", "0.055"),
                mini("FCATUSDT", "0.0000031"),
                mini("CRVETH", "0.00022592"),
            ],
        }),
    )
}

/// A 20+20-level aggre depth frame (the benchmark's shape).
pub fn aggre_depth_20_msg() -> PushDataV3ApiWrapper {
    let asks = (0..20)
        .map(|i| {
            item(
                &format!("84270.{:02}", i + 1),
                &format!("0.{:08}", 1000 + i * 37),
            )
        })
        .collect();
    let bids = (0..20)
        .map(|i| {
            item(
                &format!("84269.{:02}", 99 - i),
                &format!("1.{:08}", 5000 + i * 91),
            )
        })
        .collect();
    wrapper(
        "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
        Some("BTCUSDT"),
        Some(1790281247251),
        Body::PublicAggreDepths(wire::PublicAggreDepthsV3Api {
            asks,
            bids,
            event_type: "spot@public.aggre.depth.v3.api.pb@10ms".into(),
            from_version: "82164155644".into(),
            to_version: "82164155650".into(),
            last_order_create_time: 1790281247239,
        }),
    )
}

pub fn encode(m: &PushDataV3ApiWrapper) -> Vec<u8> {
    m.encode_to_vec()
}

/// Every frame the tests know: the five real captures and the prost-encoded ones.
pub fn all_frames() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = BINARY_FIXTURES
        .iter()
        .map(|n| (n.to_string(), fixture(&format!("{n}.bin"))))
        .collect();
    for (n, m) in [
        ("aggre_depth", aggre_depth_msg()),
        ("aggre_depth_doc", aggre_depth_doc_msg()),
        ("aggre_depth_20", aggre_depth_20_msg()),
        ("private_orders", private_orders_msg()),
        ("private_deals", private_deals_msg()),
        ("private_account", private_account_msg()),
        ("book_ticker_batch", book_ticker_batch_msg()),
        ("mini_ticker", mini_ticker_msg()),
        ("mini_tickers", mini_tickers_msg()),
        ("kline_doc", kline_doc_msg()),
    ] {
        v.push((n.to_string(), encode(&m)));
    }
    v
}

/// Protobuf key bytes for (field, wire type).
pub fn key(field: u32, wt: u8, out: &mut Vec<u8>) {
    prost::encoding::encode_varint(((field as u64) << 3) | wt as u64, out);
}

/// Append a length-delimited field.
pub fn put_len(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    prost::encoding::encode_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// One unknown field of every skippable wire type (numbers chosen unused by the schema).
pub fn unknown_fields(out: &mut Vec<u8>) {
    key(90, 0, out);
    prost::encoding::encode_varint(u64::MAX, out);
    key(91, 1, out);
    out.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
    put_len(92, b"\xff\xfe not utf8 is fine in bytes", out);
    key(93, 5, out);
    out.extend_from_slice(&[9, 9, 9, 9]);
}
