//! Golden tests: every published MEXC fixture (binary pushes, control frames, REST bodies) and
//! prost-encoded frames for bodies without a binary sample, with decoded values asserted.

use crate::support::mexc::*;
use cexfeed::event::{ControlKind, DecodeError, Liquidity, OrderStatus, OrderType};
use cexfeed::exchange::mexc::*;
use cexfeed::types::{Dec, Interval, NumError, Px, Qty, Side};
use prost::Message;

fn dec(frame: &[u8]) -> Result<Vec<Ev>, DecodeError> {
    let mut d = MexcDecoder::new(64);
    let mut c = Collect::default();
    d.decode_binary(frame, &mut c).map(|_| c.0)
}

fn dec_ref(frame: &[u8]) -> Result<Vec<Ev>, DecodeError> {
    let mut d = MexcDecoder::new(64);
    let mut c = Collect::default();
    d.decode_binary_reference(frame, &mut c).map(|_| c.0)
}

fn text(frame: &[u8]) -> Result<Vec<Ev>, DecodeError> {
    let mut d = MexcDecoder::new(4);
    let mut c = Collect::default();
    d.decode(frame, false, &mut c).map(|_| c.0)
}

#[test]
fn hex_and_bin_fixtures_hold_the_same_bytes() {
    for n in BINARY_FIXTURES {
        assert_eq!(
            hex_fixture(&format!("{n}.hex")),
            fixture(&format!("{n}.bin")),
            "{n}"
        );
    }
}

#[test]
fn aggre_bookticker_capture() {
    let f = hex_fixture("mexc_spot_aggre_bookticker.frame.hex");
    assert_eq!(f.len(), 132);
    assert_eq!(body_kind(&f), Ok(Some(body::PUBLIC_AGGRE_BOOK_TICKER)));
    let ev = dec(&f).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Bbo {
            symbol: "BTCUSDT".into(),
            bid_px: px("84270"),
            bid_qty: qty("0.006387"),
            ask_px: px("84270.01"),
            ask_qty: qty("5.42169969"),
            seq: Some(82164153436),
            // lastOrderCreateTime (body event time) wins over sendTime 1790281243450.
            ts: Some(1790281240471),
        }]
    );
    assert_eq!(px("84270"), Px(842_700_000_000_000_000_000));
    assert_eq!(qty("5.42169969"), Qty(54_216_996_900_000_000));
}

#[test]
fn aggre_deals_capture_two_deals() {
    let ev = dec(&hex_fixture("mexc_spot_aggre_deals.frame.hex")).unwrap();
    assert_eq!(
        ev,
        vec![
            Ev::Trade {
                symbol: "BTCUSDT".into(),
                px: px("84270"),
                qty: qty("0.00099829"),
                side: Side::Sell,
                trade_id: "'731901896985399296X0_731901896985399297X0'".into(),
                ts: Some(1790281246176),
            },
            Ev::Trade {
                symbol: "BTCUSDT".into(),
                px: px("84270"),
                qty: qty("0.00019169"),
                side: Side::Buy,
                trade_id: "'731901896985399298X0_731901896985399299X0'".into(),
                ts: Some(1790281246177),
            },
        ]
    );
}

#[test]
fn aggre_deals_capture_frame2() {
    let ev = dec(&hex_fixture("mexc_spot_aggre_deals.frame2.hex")).unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        ev[0],
        Ev::Trade {
            symbol: "BTCUSDT".into(),
            px: px("65219.38"),
            qty: qty("0.14191302"),
            side: Side::Sell,
            trade_id: "'710342948650209280X0_710342948650209281X0'".into(),
            ts: Some(1785141192354),
        }
    );
    let Ev::Trade {
        qty: q, side, ts, ..
    } = &ev[1]
    else {
        panic!()
    };
    assert_eq!(
        (*q, *side, *ts),
        (qty("0.14340664"), Side::Buy, Some(1785141192357))
    );
}

#[test]
fn limit_depth_capture_is_a_5x5_snapshot() {
    let ev = dec(&hex_fixture("mexc_spot_limit_depth.frame.hex")).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Book {
            symbol: "BTCUSDT".into(),
            snapshot: true,
            seq_first: 82164155643,
            seq_last: 82164155643,
            asks: vec![
                lv("84270.01", "5.42169969"),
                lv("84270.02", "0.00117646"),
                lv("84270.03", "0.00124397"),
                lv("84270.05", "0.00122284"),
                lv("84270.26", "0.00108947"),
            ],
            bids: vec![
                lv("84270.00", "0.00638700"),
                lv("84267.03", "0.00234800"),
                lv("84264.15", "0.04789506"),
                lv("84263.45", "0.04789506"),
                lv("84263.40", "2.07853100"),
            ],
            ts: Some(1790281247239),
        }]
    );
}

/// Issue 17: the captured kline push (fixtures/mexc_spot_kline.frame.hex, DAX capture) decodes
/// to a candle: seconds → ms, volume = base quantity, amount = quote turnover; pushed at
/// createTime 1790281249008 < windowEnd 1790281260 s, so not closed.
#[test]
fn issue17_kline_capture_decodes() {
    let f = hex_fixture("mexc_spot_kline.frame.hex");
    assert_eq!(body_kind(&f), Ok(Some(body::PUBLIC_SPOT_KLINE)));
    assert_eq!(
        dec(&f),
        Ok(vec![Ev::Kline {
            symbol: "BTCUSDT".into(),
            interval: Interval::M1,
            open_time_ms: 1790281200000,
            open: Px::parse(b"84300.14").unwrap(),
            high: Px::parse(b"84300.15").unwrap(),
            low: Px::parse(b"84270").unwrap(),
            close: Px::parse(b"84270").unwrap(),
            volume: Qty::parse(b"2.84044203").unwrap(),
            quote_volume: Some(Qty::parse(b"239393.69").unwrap()),
            base_volume: None,
            closed: false,
            ts: Some(1790281249008),
        }])
    );
    // The same window pushed at or after its end is its final state: closed.
    let mut w = wire::PushDataV3ApiWrapper::decode(&f[..]).unwrap();
    w.create_time = Some(1790281260000);
    let g = w.encode_to_vec();
    match &dec(&g).unwrap()[..] {
        [Ev::Kline { closed, .. }] => assert!(*closed),
        e => panic!("{e:?}"),
    }
    assert_eq!(dec(&g), dec_ref(&g));
    // The reference decodes the kline fully: check the capture against the schema.
    let w = wire::PushDataV3ApiWrapper::decode(&f[..]).unwrap();
    assert_eq!(
        w.symbol_id.as_deref(),
        Some("2fb942154ef44a4ab2ef98c8afb6a4a7")
    );
    assert_eq!(w.create_time, Some(1790281249008));
    let Some(wire::Body::PublicSpotKline(k)) = w.body else {
        panic!()
    };
    assert_eq!(
        (k.interval.as_str(), k.window_start, k.window_end),
        ("Min1", 1790281200, 1790281260)
    );
    assert_eq!(k.amount, "239393.69");
}

/// Issue 17: the documented Min15 kline (mexc_spot_kline.doc.txt) decodes to the documented
/// values; pushed at createtime 1736410707571 < windowend 1736411400 s: open.
#[test]
fn issue17_kline_doc_values() {
    let f = encode(&kline_doc_msg());
    match &dec(&f).unwrap()[..] {
        [Ev::Kline {
            symbol,
            interval,
            open_time_ms,
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            closed,
            ..
        }] => {
            assert_eq!((symbol.as_str(), *interval), ("BTCUSDT", Interval::M15));
            assert_eq!(*open_time_ms, 1736410500000);
            assert_eq!(open.to_string(), "92925");
            assert_eq!(high.to_string(), "93158.47");
            assert_eq!(low.to_string(), "92800");
            assert_eq!(close.to_string(), "93158.47");
            assert_eq!(volume.to_string(), "36.83803224");
            assert_eq!(
                quote_volume.map(|q| q.to_string()).as_deref(),
                Some("3424811.05")
            );
            assert!(!closed);
        }
        e => panic!("{e:?}"),
    }
    // An interval MEXC does not name is a typed error, never a panic.
    let mut m = kline_doc_msg();
    if let Some(wire::Body::PublicSpotKline(k)) = &mut m.body {
        k.interval = "Min2".into();
    }
    assert_eq!(dec(&encode(&m)), Err(DecodeError::WrongType("interval")));
    assert_eq!(
        dec_ref(&encode(&m)),
        Err(DecodeError::WrongType("interval"))
    );
}

#[test]
fn walker_equals_prost_reference_on_every_frame() {
    for (name, f) in all_frames() {
        assert_eq!(dec(&f), dec_ref(&f), "{name}");
        assert!(dec(&f).is_ok(), "{name}");
    }
}

#[test]
fn aggre_depth_from_hummingbot_values() {
    let ev = dec(&encode(&aggre_depth_msg())).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Book {
            symbol: "BTCUSDC".into(),
            snapshot: false,
            seq_first: 17521975448,
            seq_last: 17521975455,
            bids: vec![lv("114838.84", "0.000101")],
            asks: vec![lv("115198.74", "0.068865")],
            // No lastOrderCreateTime in this (pre-2026) push: sendTime.
            ts: Some(1755973885809),
        }]
    );
}

#[test]
fn aggre_depth_doc_empty_side_and_delete() {
    let ev = dec(&encode(&aggre_depth_doc_msg())).unwrap();
    let Ev::Book {
        bids,
        asks,
        seq_first,
        seq_last,
        ..
    } = &ev[0]
    else {
        panic!()
    };
    assert!(asks.is_empty());
    assert_eq!(bids, &vec![lv("92877.58", "0")]);
    assert!(bids[0].qty.is_zero());
    assert_eq!((*seq_first, *seq_last), (10589632359, 10589632359));
}

#[test]
fn private_orders_doc_values() {
    let ev = dec(&encode(&private_orders_msg())).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Order {
            symbol: "MXUSDT".into(),
            order_id: "'C02__505979017439002624115'".into(),
            client_id: None,
            side: Side::Sell,
            order_type: OrderType::Market,
            px: px("3.5121"),
            qty: qty("1"),
            filled: qty("1"),
            remaining: qty("0"),
            avg_px: dx("3.6962"),
            status: OrderStatus::Filled,
            ts_create: Some(1736417034259),
            ts_update: Some(1736417034281),
        }]
    );
}

#[test]
fn private_order_status_and_type_mapping_on_the_wire() {
    for (status, want) in [
        (1, OrderStatus::New),
        (2, OrderStatus::Filled),
        (3, OrderStatus::PartiallyFilled),
        (4, OrderStatus::Canceled),
        (5, OrderStatus::PartiallyCanceled),
    ] {
        for (ot, want_t) in [
            (1, OrderType::Limit),
            (2, OrderType::PostOnly),
            (3, OrderType::Ioc),
            (4, OrderType::Fok),
            (5, OrderType::Market),
            (100, OrderType::Stop),
        ] {
            let mut m = private_orders_msg();
            let Some(wire::Body::PrivateOrders(o)) = &mut m.body else {
                panic!()
            };
            o.status = status;
            o.order_type = ot;
            o.trade_type = 1;
            o.client_id = "my-1".into();
            let ev = dec(&encode(&m)).unwrap();
            let Ev::Order {
                status: s,
                order_type: t,
                side,
                client_id,
                ..
            } = &ev[0]
            else {
                panic!()
            };
            assert_eq!((*s, *t, *side), (want, want_t, Side::Buy));
            assert_eq!(client_id.as_deref(), Some("my-1"));
        }
    }
}

#[test]
fn private_deals_doc_values() {
    let ev = dec(&encode(&private_deals_msg())).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Fill {
            symbol: "MXUSDT".into(),
            trade_id: "'505979017439002624X1'".into(),
            order_id: "'C02__505979017439002624115'".into(),
            client_id: None,
            px: px("3.6962"),
            qty: qty("1"),
            side: Side::Sell,
            // isMaker absent (false) in the doc example.
            liquidity: Liquidity::Taker,
            // 19 fractional digits, exact (never truncated to Px's 10).
            fee: dx("0.0003998377369698171"),
            fee_currency: Some("MX".into()),
            ts: Some(1736417034280),
        }]
    );
    let mut m = private_deals_msg();
    let Some(wire::Body::PrivateDeals(d)) = &mut m.body else {
        panic!()
    };
    d.is_maker = true;
    d.client_order_id = "cid".into();
    let ev = dec(&encode(&m)).unwrap();
    let Ev::Fill {
        liquidity,
        client_id,
        ..
    } = &ev[0]
    else {
        panic!()
    };
    assert_eq!(
        (*liquidity, client_id.as_deref()),
        (Liquidity::Maker, Some("cid"))
    );
}

#[test]
fn private_account_doc_values() {
    let ev = dec(&encode(&private_account_msg())).unwrap();
    assert_eq!(
        ev,
        vec![Ev::Balance {
            asset: "USDT".into(),
            // 14 fractional digits, exact (never truncated to Qty's 8).
            available: dx("21.94210356004384"),
            locked: Dec::ZERO,
            total: Some(dx("21.94210356004384")),
            change: Some(dx("10")),
            reason: Some("CONTRACT_TRANSFER".into()),
            ts: Some(1736416910000),
        }]
    );
}

#[test]
fn account_values_beyond_38_digits_are_refused_not_rounded() {
    // 38 significant digits: still exact.
    let mut m = private_account_msg();
    let Some(wire::Body::PrivateAccount(a)) = &mut m.body else {
        panic!()
    };
    a.frozen_amount = "1234567890.1234567890123456789012345678".into();
    let ev = dec(&encode(&m)).unwrap();
    let Ev::Balance { locked, total, .. } = &ev[0] else {
        panic!("{ev:?}")
    };
    assert_eq!(
        locked.to_string(),
        "1234567890.1234567890123456789012345678"
    );
    assert_eq!(
        total.map(|t| t.to_string()).as_deref(),
        Some("1234567912.0655603490561856789012345678")
    );
    // 40 significant digits: a typed error, never a rounded value.
    let mut m = private_deals_msg();
    let Some(wire::Body::PrivateDeals(d)) = &mut m.body else {
        panic!()
    };
    d.fee_amount = "0.0003998377369698171123456789012345678912".into();
    assert_eq!(
        dec(&encode(&m)),
        Err(DecodeError::Number("feeAmount", NumError::TooManyDigits))
    );
}

#[test]
fn book_ticker_batch_and_mini_tickers() {
    assert_eq!(
        dec(&encode(&book_ticker_batch_msg())).unwrap(),
        vec![Ev::Bbo {
            symbol: "BTCUSDT".into(),
            bid_px: px("96567.37"),
            bid_qty: qty("3.362925"),
            ask_px: px("96567.38"),
            ask_qty: qty("1.545255"),
            seq: None,
            ts: Some(1739503249114),
        }]
    );
    assert_eq!(
        dec(&encode(&mini_ticker_msg())).unwrap(),
        vec![Ev::Ticker {
            symbol: "MXUSDT".into(),
            last: Some(px("2.5174")),
            bid: None,
            ask: None,
            mark: None,
            index: None,
            funding: None,
            ts: Some(1755076752201)
        }]
    );
    let ev = dec(&encode(&mini_tickers_msg())).unwrap();
    assert_eq!(
        ev,
        vec![
            Ev::Ticker {
                symbol: "METAUSDT".into(),
                last: Some(px("0.055")),
                bid: None,
                ask: None,
                mark: None,
                index: None,
                funding: None,
                ts: Some(1755076614201)
            },
            Ev::Ticker {
                symbol: "FCATUSDT".into(),
                last: Some(px("0.0000031")),
                bid: None,
                ask: None,
                mark: None,
                index: None,
                funding: None,
                ts: Some(1755076614201)
            },
            Ev::Ticker {
                symbol: "CRVETH".into(),
                last: Some(px("0.00022592")),
                bid: None,
                ask: None,
                mark: None,
                index: None,
                funding: None,
                ts: Some(1755076614201)
            },
        ]
    );
}

#[test]
fn batch_version_after_items_is_applied_to_every_item() {
    let mut m = book_ticker_batch_msg();
    let Some(wire::Body::PublicBookTickerBatch(b)) = &mut m.body else {
        panic!()
    };
    b.items.push(b.items[0].clone());
    b.version = "82164153436".into();
    b.last_order_create_time = 1790281240471;
    let ev = dec(&encode(&m)).unwrap();
    assert_eq!(ev.len(), 2);
    for e in ev {
        let Ev::Bbo { seq, ts, .. } = e else { panic!() };
        assert_eq!((seq, ts), (Some(82164153436), Some(1790281240471)));
    }
}

/// Re-assemble a frame: wrapper head fields, then `extra` bytes, then the body with
/// `body_extra` appended inside it.
fn with_unknowns(m: &wire::PushDataV3ApiWrapper, body_no: u32, body_extra: &[u8]) -> Vec<u8> {
    let mut head = m.clone();
    let body = head.body.take().unwrap();
    let mut out = head.encode_to_vec();
    unknown_fields(&mut out);
    let mut b = Vec::new();
    body.encode(&mut b);
    // `b` is the oneof field as encoded (key + len + body); re-encode the body bytes with extras.
    let mut pos = 0;
    let k = prost::encoding::decode_varint(&mut &b[pos..]).unwrap();
    assert_eq!((k >> 3) as u32, body_no);
    pos += prost::encoding::encoded_len_varint(k);
    let mut rest = &b[pos..];
    let len = prost::encoding::decode_varint(&mut rest).unwrap() as usize;
    let mut inner = rest[..len].to_vec();
    inner.extend_from_slice(body_extra);
    put_len(body_no, &inner, &mut out);
    unknown_fields(&mut out);
    out
}

#[test]
fn unknown_fields_are_skipped_everywhere() {
    let mut body_extra = Vec::new();
    unknown_fields(&mut body_extra);
    // An item with an unknown field inside (aggre depth item: price, quantity, field 7).
    let mut odd_item = Vec::new();
    put_len(1, b"1.5", &mut odd_item);
    put_len(2, b"2", &mut odd_item);
    unknown_fields(&mut odd_item);
    put_len(7, b"future", &mut odd_item);
    let mut depth_extra = body_extra.clone();
    put_len(2, &odd_item, &mut depth_extra);
    put_len(99, b"unknown body-level field", &mut depth_extra);

    let base = encode(&aggre_depth_msg());
    let f = with_unknowns(&aggre_depth_msg(), 313, &depth_extra);
    let ev = dec(&f).unwrap();
    let mut want = dec(&base).unwrap();
    let Ev::Book { bids, .. } = &mut want[0] else {
        panic!()
    };
    bids.push(lv("1.5", "2"));
    assert_eq!(ev, want);
    assert_eq!(dec_ref(&f).unwrap(), want);

    for (m, no) in [
        (private_orders_msg(), 304),
        (private_deals_msg(), 306),
        (private_account_msg(), 307),
        (book_ticker_batch_msg(), 311),
        (mini_tickers_msg(), 310),
    ] {
        let f = with_unknowns(&m, no, &body_extra);
        assert_eq!(dec(&f), dec(&encode(&m)), "{no}");
        assert_eq!(dec(&f), dec_ref(&f), "{no}");
    }
}

#[test]
fn field_order_does_not_matter() {
    // Symbol and sendTime after the body.
    let m = aggre_depth_msg();
    let mut head = m.clone();
    let body = head.body.take().unwrap();
    let mut out = Vec::new();
    body.encode(&mut out);
    out.extend_from_slice(&head.encode_to_vec());
    assert_eq!(dec(&out), dec(&encode(&m)));
}

#[test]
fn repeated_body_occurrences_merge_like_prost() {
    // Same body twice: levels accumulate, later scalars win.
    let m = aggre_depth_msg();
    let mut head = m.clone();
    let body = head.body.take().unwrap();
    let mut out = head.encode_to_vec();
    let mut b = Vec::new();
    body.encode(&mut b);
    out.extend_from_slice(&b);
    let mut second = Vec::new();
    put_len(1, &item("1", "1").encode_to_vec(), &mut second);
    put_len(5, b"17521975460", &mut second);
    put_len(313, &second, &mut out);
    let ev = dec(&out).unwrap();
    assert_eq!(ev, dec_ref(&out).unwrap());
    let Ev::Book { asks, seq_last, .. } = &ev[0] else {
        panic!()
    };
    assert_eq!(asks.len(), 2);
    assert_eq!(*seq_last, 17521975460);
    // A different body in between resets: only the last one counts.
    let mut out2 = head.encode_to_vec();
    out2.extend_from_slice(&b);
    let mut deals = Vec::new();
    wire::Body::PublicAggreDeals(wire::PublicAggreDealsV3Api::default()).encode(&mut deals);
    out2.extend_from_slice(&deals);
    assert_eq!(dec(&out2), Ok(vec![]));
    assert_eq!(dec_ref(&out2), Ok(vec![]));
    out2.extend_from_slice(&b);
    assert_eq!(dec(&out2), dec(&encode(&m)));
}

#[test]
fn missing_fields_and_bad_values() {
    // Book ticker without version/lastOrderCreateTime: seq None, ts = sendTime.
    let f = hex_fixture("mexc_spot_aggre_bookticker.frame.hex");
    let mut w = wire::PushDataV3ApiWrapper::decode(&f[..]).unwrap();
    let Some(wire::Body::PublicAggreBookTicker(b)) = &mut w.body else {
        panic!()
    };
    b.version.clear();
    b.last_order_create_time = 0;
    b.ask_price.clear();
    b.ask_quantity.clear();
    let ev = dec(&encode(&w)).unwrap();
    let Ev::Bbo {
        seq,
        ts,
        ask_px,
        ask_qty,
        ..
    } = &ev[0]
    else {
        panic!()
    };
    assert_eq!((*seq, *ts), (None, Some(1790281243450)));
    assert_eq!(
        (*ask_px, *ask_qty),
        (Px::ZERO, Qty::ZERO),
        "empty side is zero"
    );

    // No symbol.
    let mut m = aggre_depth_msg();
    m.symbol = None;
    assert_eq!(dec(&encode(&m)), Err(DecodeError::MissingField("symbol")));
    // No toVersion.
    let mut m = aggre_depth_msg();
    let Some(wire::Body::PublicAggreDepths(b)) = &mut m.body else {
        panic!()
    };
    b.to_version.clear();
    assert_eq!(
        dec(&encode(&m)),
        Err(DecodeError::MissingField("toVersion"))
    );
    // A price that would round.
    let mut m = aggre_depth_msg();
    let Some(wire::Body::PublicAggreDepths(b)) = &mut m.body else {
        panic!()
    };
    b.bids[0].price = "1.00000000000000001".into();
    assert_eq!(
        dec(&encode(&m)),
        Err(DecodeError::Number("price", NumError::TooManyDigits))
    );
    // No body at all.
    let mut m = aggre_depth_msg();
    m.body = None;
    assert_eq!(dec(&encode(&m)), Err(DecodeError::MissingField("body")));
    // Unknown tradeType.
    let mut m = private_deals_msg();
    let Some(wire::Body::PrivateDeals(d)) = &mut m.body else {
        panic!()
    };
    d.trade_type = 3;
    assert_eq!(dec(&encode(&m)), Err(DecodeError::WrongType("tradeType")));
    // Truncated capture.
    let f = hex_fixture("mexc_spot_limit_depth.frame.hex");
    for cut in [1, 10, 60, 200, f.len() - 1] {
        assert!(dec(&f[..cut]).is_err(), "cut {cut}");
    }
    // A wrong wire type for a field the walker reads.
    let mut bad = Vec::new();
    key(6, 2, &mut bad);
    bad.push(0);
    assert_eq!(dec(&bad), Err(DecodeError::WrongType("sendTime")));
}

#[test]
fn too_many_levels_is_too_large_not_a_panic() {
    let f = encode(&aggre_depth_20_msg());
    let mut d = MexcDecoder::new(19);
    assert_eq!(
        d.decode_binary(&f, &mut Collect::default()),
        Err(DecodeError::TooLarge)
    );
    let mut d = MexcDecoder::new(20);
    let mut c = Collect::default();
    d.decode_binary(&f, &mut c).unwrap();
    let Ev::Book { bids, asks, .. } = &c.0[0] else {
        panic!()
    };
    assert_eq!((bids.len(), asks.len()), (20, 20));
    assert_eq!(asks[0], lv("84270.01", "0.00001000"));
    assert_eq!(bids[19], lv("84269.80", "1.00006729"));
}

// ------------------------------------------------------------------------------------------
// JSON control frames.

#[test]
fn subscribe_ack_fixtures() {
    let values = json_values("mexc_spot_subscribe_ack.json");
    assert_eq!(values.len(), 3);
    for v in values {
        let frame = serde_json::to_vec(&v).unwrap();
        let msg = v["msg"].as_str().unwrap();
        let ev = text(&frame).unwrap();
        assert_eq!(
            ev,
            vec![Ev::Control {
                kind: ControlKind::Ack,
                channel: Some(msg.into()),
                event: None,
                message: Some(msg.into()),
                req_id: Some(0),
                code: Some(0),
                payload0: None,
            }]
        );
        assert!(ack_matches(msg, &[msg]));
    }
    // The pretty-printed form as published decodes the same way.
    let raw = String::from_utf8(fixture("mexc_spot_subscribe_ack.json")).unwrap();
    let first = raw.split("\n\n").next().unwrap();
    assert_eq!(text(first.as_bytes()).unwrap().len(), 1);
    let ack = r#"{"id":12,"code":0,"msg":"spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT,spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT"}"#;
    let ev = text(ack.as_bytes()).unwrap();
    let Ev::Control {
        kind,
        req_id,
        channel,
        ..
    } = &ev[0]
    else {
        panic!()
    };
    assert_eq!((*kind, *req_id), (ControlKind::Ack, Some(12)));
    assert!(ack_matches(
        channel.as_deref().unwrap(),
        &[
            "spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT",
            "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
        ]
    ));
}

#[test]
fn pong_fixture() {
    let raw = fixture("mexc_spot_pong.json");
    assert_eq!(
        text(&raw).unwrap(),
        vec![Ev::Control {
            kind: ControlKind::Pong,
            channel: None,
            event: None,
            message: Some("PONG".into()),
            req_id: Some(0),
            code: Some(0),
            payload0: None,
        }]
    );
}

/// The blocked reply as it is on the wire, rebuilt from the Python repr in the fixture.
fn blocked_msg() -> String {
    let raw = String::from_utf8(fixture("mexc_spot_subscribe_blocked.txt")).unwrap();
    let after = &raw[raw.find("'msg':").unwrap() + 6..];
    after
        .split('\'')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .concat()
}

#[test]
fn blocked_fixture_is_rejected_although_code_is_0() {
    let msg = blocked_msg();
    assert!(
        msg.starts_with("Not Subscribed successfully! [spot@public.increase.depth.v3.api@BTCUSDT,")
    );
    assert!(msg.ends_with("].  Reason： Blocked! "));
    let chs = "spot@public.increase.depth.v3.api@BTCUSDT,spot@public.aggre.deals.v3.api.pb@BTCUSDT,spot@public.aggre.bookTicker.v3.api.pb@BTCUSDT";
    // Raw UTF-8 and \u-escaped full-width colon both decode.
    let plain = serde_json::json!({"code": 0, "id": 0, "msg": msg}).to_string();
    let escaped = plain.replace('：', "\\uff1a");
    assert_ne!(plain, escaped);
    for frame in [plain, escaped] {
        assert_eq!(
            text(frame.as_bytes()).unwrap(),
            vec![Ev::Control {
                kind: ControlKind::Rejected,
                channel: Some(chs.into()),
                event: None,
                message: Some(msg.clone()),
                req_id: Some(0),
                code: Some(0),
                payload0: None,
            }]
        );
    }
    assert!(!ack_matches(
        &msg,
        &["spot@public.aggre.deals.v3.api.pb@BTCUSDT"]
    ));
}

#[test]
fn non_zero_code_is_an_error_and_garbage_is_refused() {
    let ev = text(br#"{"id":5,"code":700002,"msg":"Signature for this request is not valid."}"#)
        .unwrap();
    assert_eq!(
        ev,
        vec![Ev::Control {
            kind: ControlKind::Error,
            channel: None,
            event: None,
            message: Some("Signature for this request is not valid.".into()),
            req_id: Some(5),
            code: Some(700002),
            payload0: None,
        }]
    );
    assert!(text(b"").is_err());
    assert!(text(b"{\"id\":1").is_err());
    // A server-sent ping is a ping (issue 13, finding 6); any other request is refused.
    assert!(matches!(
        text(br#"{"method":"PING"}"#).unwrap().as_slice(),
        [Ev::Control {
            kind: ControlKind::Ping,
            ..
        }]
    ));
    assert!(text(br#"{"method":"SUBSCRIPTION"}"#).is_err());
    assert!(text(b"\x0a\x05hello").is_err());
}

// ------------------------------------------------------------------------------------------
// REST bodies.

#[test]
fn rest_depth_snapshots() {
    let s = parse_depth_snapshot(200, &fixture("mexc_spot_rest_depth_snapshot.json")).unwrap();
    assert_eq!(s.last_update_id, 1112416);
    assert_eq!(s.bids, vec![lv("15", "49999")]);
    assert_eq!(s.asks, vec![lv("14", "1")]);
    let b = s.book_msg("BTCUSDT");
    assert!(b.snapshot);
    assert_eq!(
        (b.seq_first, b.seq_last, b.symbol),
        (1112416, 1112416, "BTCUSDT")
    );
    let s = parse_depth_snapshot(200, &fixture("mexc_spot_rest_depth_snapshot_hb.json")).unwrap();
    assert_eq!(s.last_update_id, 1027024);
    assert_eq!(s.bids, vec![lv("4.00000000", "431.00000000")]);
    assert_eq!(s.asks, vec![lv("4.000002", "12")]);
    let e = parse_depth_snapshot(400, br#"{"code":-1121,"msg":"Invalid symbol."}"#).unwrap_err();
    assert_eq!(e.api_error(), Some(MexcApiError::Other(-1121)));
    assert!(parse_depth_snapshot(200, br#"{"bids":[],"asks":[]}"#).is_err());
    assert!(
        parse_depth_snapshot(200, br#"{"lastUpdateId":1,"bids":[["x","1"]],"asks":[]}"#).is_err()
    );
}

/// Issue 12, defect 3: REST prices went through `serde_json::Number` (f64), so
/// `1234567.1234567891` came out as `…7892`. Numeric and string forms now read the body's text:
/// exact where the type keeps the digits, refused (never rounded) where it does not.
#[test]
fn issue12_defect3_mexc_rest_numbers_are_exact_or_refused() {
    let exact = Px(12_345_671_234_567_891_000_000);
    let s = parse_depth_snapshot(
        200,
        br#"{"lastUpdateId":9,"bids":[[1234567.1234567891,"1"]],"asks":[["1234567.1234567891",2]]}"#,
    )
    .unwrap();
    assert_eq!(s.bids[0].px, exact);
    assert_eq!(s.asks[0].px, exact);
    assert_eq!(
        (s.bids[0].qty, s.asks[0].qty),
        (Qty::from_int(1), Qty::from_int(2))
    );
    // Exponent form, as a number.
    let s = parse_depth_snapshot(
        200,
        br#"{"lastUpdateId":9,"bids":[[1.25e-5,1e2]],"asks":[]}"#,
    )
    .unwrap();
    assert_eq!(s.bids[0].px, Px(125_000_000_000));
    assert_eq!(s.bids[0].qty, Qty::from_int(100));
    // A size with 17 decimals (Qty keeps 16), in both forms: refused with a clear error.
    for body in [
        &br#"{"lastUpdateId":9,"bids":[["1","1234567.12345678912345678"]],"asks":[]}"#[..],
        &br#"{"lastUpdateId":9,"bids":[["1",1234567.12345678912345678]],"asks":[]}"#[..],
    ] {
        let e = parse_depth_snapshot(200, body).unwrap_err();
        assert!(
            matches!(
                e,
                MexcRestError::Number("quantity", NumError::TooManyDigits)
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("would round"), "{e}");
    }
    // A price with 17 decimals (Px keeps 16), number form: refused, not rounded to 16.
    let e = parse_depth_snapshot(
        200,
        br#"{"lastUpdateId":9,"bids":[[1234567.12345678912345678,"1"]],"asks":[]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(e, MexcRestError::Number("price", NumError::TooManyDigits)),
        "{e:?}"
    );
    // Not a number at all.
    for bad in [&b"null"[..], b"true", br#""1\u0030""#, b"[1]"] {
        let body = [
            &br#"{"lastUpdateId":9,"bids":[["#[..],
            bad,
            br#","1"]],"asks":[]}"#,
        ]
        .concat();
        assert!(
            parse_depth_snapshot(200, &body).is_err(),
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[test]
fn listen_key_fixture() {
    let values = json_values("mexc_spot_listenkey_response.json");
    let k = parse_listen_key_response(200, values[0].to_string().as_bytes()).unwrap();
    assert_eq!(
        k,
        "pqia91ma19a5s61cv6a81va65sdf19v8a65a1a5s61cv6a81va65sdf19v8a65a1"
    );
    let l = parse_listen_key_list(200, values[1].to_string().as_bytes()).unwrap();
    assert_eq!(l.len(), 3);
    assert!(l[2].starts_with("dc027517"));
}

/// The server-side writers (test support since they left the library): byte-exact against a
/// capture, and round trips through the decoder (and prost).
mod writers {
    use super::*;
    use crate::support::mexc::encode::*;
    use cexfeed::event::{BboMsg, BookMsg, Level, Sink, TradeMsg};

    type BookSeen = (bool, u64, u64, Vec<Level>, Vec<Level>, Option<i64>);

    #[derive(Default)]
    struct Last {
        book: Option<BookSeen>,
        trades: Vec<(Px, Qty, Side, String, Option<i64>)>,
        bbo: Option<(Px, Qty, Px, Qty, Option<u64>)>,
    }

    impl Sink for Last {
        fn book(&mut self, m: &BookMsg<'_>) {
            self.book = Some((
                m.snapshot,
                m.seq_first,
                m.seq_last,
                m.bids.to_vec(),
                m.asks.to_vec(),
                m.ts_exchange_ms,
            ));
        }
        fn trade(&mut self, m: &TradeMsg<'_>) {
            self.trades.push((
                m.px,
                m.qty,
                m.side,
                m.trade_id.to_string(),
                m.ts_exchange_ms,
            ));
        }
        fn bbo(&mut self, m: &BboMsg<'_>) {
            self.bbo = Some((m.bid_px, m.bid_qty, m.ask_px, m.ask_qty, m.seq));
        }
    }

    fn l(p: &str, q: &str) -> Level {
        Level::new(
            Px::parse(p.as_bytes()).unwrap(),
            Qty::parse(q.as_bytes()).unwrap(),
        )
    }

    #[test]
    fn captured_book_ticker_is_reproduced_byte_for_byte() {
        let want = hex::decode("0A3473706F74407075626C69632E61676772652E626F6F6B5469636B65722E76332E6170692E7062403130306D7340425443555344541A074254435553445430BAB6CFA88D34DA133B0A0538343237301208302E3030363338371A0838343237302E3031220A352E34323136393936392A0B383231363431353334333630979FCFA88D34").unwrap();
        let mut out = Vec::new();
        let got = write_aggre_book_ticker(
            &mut out,
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
            "BTCUSDT",
            1790281243450,
            l("84270", "0.006387"),
            l("84270.01", "5.42169969"),
            82164153436,
            1790281240471,
        );
        assert_eq!(got, &want[..]);
    }

    #[test]
    fn writers_round_trip_through_the_decoder() {
        let mut out = Vec::with_capacity(4096);
        let mut dec = MexcDecoder::new(300);
        let bids: Vec<Level> = (0..200).map(|i| l(&format!("100.{i:03}"), "1.5")).collect();
        let asks = [l("101", "0")];
        write_aggre_depth(
            &mut out,
            "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
            "BTCUSDT",
            7,
            10,
            12,
            &bids,
            &asks,
            0,
        );
        let mut s = Last::default();
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(
            s.book,
            Some((false, 10, 12, bids.clone(), asks.to_vec(), Some(7)))
        );
        // prost agrees (the body is > 127 bytes: multi-byte length prefix).
        let w = wire::PushDataV3ApiWrapper::decode(&out[..]).unwrap();
        assert_eq!(w.symbol.as_deref(), Some("BTCUSDT"));

        write_limit_depth(
            &mut out,
            "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
            "BTCUSDT",
            7,
            99,
            &[],
            &asks,
            5,
        );
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(s.book, Some((true, 99, 99, vec![], asks.to_vec(), Some(5))));

        let deals = [
            DealOut {
                px: l("1.25", "0").px,
                qty: l("0", "2").qty,
                side: Side::Sell,
                time_ms: 11,
                trade_id: "a_b",
            },
            DealOut {
                px: l("1.5", "0").px,
                qty: l("0", "3").qty,
                side: Side::Buy,
                time_ms: 12,
                trade_id: "",
            },
        ];
        write_aggre_deals(
            &mut out,
            "spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT",
            "BTCUSDT",
            13,
            &deals,
        );
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(s.trades.len(), 2);
        assert_eq!(
            s.trades[0],
            (
                deals[0].px,
                deals[0].qty,
                Side::Sell,
                "a_b".to_string(),
                Some(11)
            )
        );
        assert_eq!(s.trades[1].3, "");
    }

    #[test]
    fn server_side_request_parsing_and_replies() {
        let r = parse_client_request(br#"{"method":"ping"}"#).unwrap();
        assert_eq!((r.method, r.id), (RequestMethod::Ping, None));
        let mut buf = Vec::new();
        let a = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT";
        let r = parse_client_request(write_subscribe(&mut buf, &[a, "x"], 9).as_bytes()).unwrap();
        assert_eq!(r.method, RequestMethod::Subscription);
        assert_eq!(r.params, vec![a.to_string(), "x".to_string()]);
        assert_eq!(r.id, Some(9));
        let r =
            parse_client_request(br#"{"method":"UNSUBSCRIPTION","params":[],"id":"4"}"#).unwrap();
        assert_eq!((r.method, r.id), (RequestMethod::Unsubscription, Some(4)));
        assert!(parse_client_request(b"{}").is_err());
        assert!(parse_client_request(b"nope").is_err());
        // Replies decode back to what they claim.
        let mut dec = MexcDecoder::new(1);
        #[derive(Default)]
        struct C(Vec<(cexfeed::event::ControlKind, Option<String>, Option<String>)>);
        impl cexfeed::event::Sink for C {
            fn control(&mut self, m: &cexfeed::event::ControlMsg<'_>) {
                self.0.push((
                    m.kind,
                    m.channel.map(str::to_string),
                    m.message.map(str::to_string),
                ));
            }
        }
        let mut c = C::default();
        dec.decode_text(write_ack(&mut buf, 9, &[a, "y"]).as_bytes(), &mut c)
            .unwrap();
        dec.decode_text(write_blocked(&mut buf, 0, &[a, "y"]).as_bytes(), &mut c)
            .unwrap();
        dec.decode_text(PONG_REPLY.as_bytes(), &mut c).unwrap();
        use cexfeed::event::ControlKind::*;
        let ay = format!("{a},y");
        assert_eq!(c.0[0], (Ack, Some(ay.clone()), Some(ay.clone())));
        assert_eq!(c.0[1].0, Rejected);
        assert_eq!(c.0[1].1.as_deref(), Some(ay.as_str()));
        assert_eq!(
            c.0[1].2.as_deref(),
            Some(format!("Not Subscribed successfully! [{ay}].  Reason： Blocked! ").as_str())
        );
        assert_eq!(c.0[2].0, Pong);
    }
}
