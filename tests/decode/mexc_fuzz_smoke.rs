//! Stable-toolchain fuzz smoke for the MEXC decoder (the coverage-guided twin is
//! `fuzz/fuzz_targets/mexc_decode.rs`): random bytes, mutated real/encoded frames and randomly
//! generated well-formed messages. Never a panic; and whenever the prost reference accepts a
//! frame, the walker produces exactly the same events (sole permitted difference: the walker
//! refuses protobuf groups, `WrongType("group")`, which prost skips). Bounded to about a second.

use crate::support::mexc::*;
use cexfeed::event::DecodeError;
use cexfeed::exchange::mexc::MexcDecoder;
use proptest::prelude::*;

fn both(frame: &[u8]) -> (Result<Vec<Ev>, DecodeError>, Result<Vec<Ev>, DecodeError>) {
    let mut d = MexcDecoder::new(32);
    let mut w = Collect::default();
    let rw = d.decode_binary(frame, &mut w).map(|_| w.0);
    let mut r = Collect::default();
    let rr = d.decode_binary_reference(frame, &mut r).map(|_| r.0);
    // The text path must not panic on anything either.
    let _ = d.decode_text(frame, &mut Collect::default());
    (rw, rr)
}

fn check(frame: &[u8]) -> Result<(), TestCaseError> {
    let (walker, reference) = both(frame);
    if let Ok(ev) = &reference {
        if walker != Err(DecodeError::WrongType("group")) {
            prop_assert_eq!(&walker, &Ok(ev.clone()), "frame {}", hex::encode(frame));
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn apply(mut f: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let n = f.len().max(1);
        match *m {
            Mutation::Flip(i, x) => {
                if !f.is_empty() {
                    let i = i % n;
                    f[i] ^= x;
                }
            }
            Mutation::Insert(i, x) => f.insert(i % (f.len() + 1), x),
            Mutation::Delete(i) => {
                if !f.is_empty() {
                    f.remove(i % n);
                }
            }
            Mutation::Truncate(i) => f.truncate(i % n),
        }
    }
    f
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (any::<usize>(), 1u8..=255).prop_map(|(i, x)| Mutation::Flip(i, x)),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, x)| Mutation::Insert(i, x)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

/// Decimal-ish strings: mostly valid, sometimes empty, rounding, signed or garbage.
fn num_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (0u64..10_000_000, 0u32..9).prop_map(|(m, d)| {
            let s = format!("{m:0width$}", width = d as usize + 1);
            if d == 0 { s } else { format!("{}.{}", &s[..s.len() - d as usize], &s[s.len() - d as usize..]) }
        }),
        1 => Just(String::new()),
        1 => Just("0.000000000001".to_string()),
        1 => Just("-1".to_string()),
        1 => "[0-9a-z.eE+-]{0,8}",
    ]
}

fn version_text() -> impl Strategy<Value = String> {
    prop_oneof![8 => any::<u64>().prop_map(|v| v.to_string()), 1 => Just(String::new()), 1 => "[0-9x]{1,22}"]
}

fn items() -> impl Strategy<Value = Vec<wire::DepthItem>> {
    proptest::collection::vec(
        (num_text(), num_text()).prop_map(|(p, q)| wire::DepthItem {
            price: p,
            quantity: q,
        }),
        0..40,
    )
}

fn message() -> impl Strategy<Value = wire::PushDataV3ApiWrapper> {
    let body = prop_oneof![
        (
            items(),
            items(),
            version_text(),
            version_text(),
            any::<i64>()
        )
            .prop_map(|(asks, bids, from, to, t)| wire::Body::PublicAggreDepths(
                wire::PublicAggreDepthsV3Api {
                    asks,
                    bids,
                    event_type: "e".into(),
                    from_version: from,
                    to_version: to,
                    last_order_create_time: t,
                }
            )),
        (items(), items(), version_text()).prop_map(|(asks, bids, v)| {
            wire::Body::PublicLimitDepths(wire::PublicLimitDepthsV3Api {
                asks,
                bids,
                version: v,
                ..Default::default()
            })
        }),
        proptest::collection::vec(
            (
                num_text(),
                num_text(),
                0i32..4,
                any::<i64>(),
                "[A-Za-z0-9_]{0,12}"
            ),
            0..6
        )
        .prop_map(
            |ds| wire::Body::PublicAggreDeals(wire::PublicAggreDealsV3Api {
                deals: ds
                    .into_iter()
                    .map(|(price, quantity, trade_type, time, trade_id)| {
                        wire::PublicAggreDealsV3ApiItem {
                            price,
                            quantity,
                            trade_type,
                            time,
                            trade_id,
                        }
                    })
                    .collect(),
                event_type: String::new(),
            })
        ),
        (
            num_text(),
            num_text(),
            num_text(),
            num_text(),
            version_text()
        )
            .prop_map(|(a, b, c, d, v)| {
                wire::Body::PublicAggreBookTicker(wire::PublicAggreBookTickerV3Api {
                    bid_price: a,
                    bid_quantity: b,
                    ask_price: c,
                    ask_quantity: d,
                    version: v,
                    last_order_create_time: 0,
                })
            }),
        (num_text(), num_text(), 0i32..4, any::<bool>(), num_text()).prop_map(
            |(p, q, tt, mk, fee)| {
                wire::Body::PrivateDeals(wire::PrivateDealsV3Api {
                    price: p,
                    quantity: q,
                    trade_type: tt,
                    is_maker: mk,
                    fee_amount: fee,
                    trade_id: "t".into(),
                    order_id: "o".into(),
                    ..Default::default()
                })
            }
        ),
        (num_text(), num_text(), 0i32..7, 0i32..4).prop_map(|(p, q, st, tt)| {
            wire::Body::PrivateOrders(wire::PrivateOrdersV3Api {
                price: p,
                quantity: q,
                status: st,
                trade_type: tt,
                order_type: 1,
                id: "x".into(),
                ..Default::default()
            })
        }),
        (num_text(), num_text(), "[A-Z]{0,5}").prop_map(|(a, f, c)| {
            wire::Body::PrivateAccount(wire::PrivateAccountV3Api {
                vcoin_name: c,
                balance_amount: a,
                frozen_amount: f,
                ..Default::default()
            })
        }),
    ];
    (
        proptest::option::of("[A-Z]{0,8}"),
        proptest::option::of(any::<i64>()),
        proptest::option::of(any::<i64>()),
        body,
    )
        .prop_map(
            |(symbol, send_time, create_time, body)| wire::PushDataV3ApiWrapper {
                channel: "c".into(),
                symbol,
                symbol_id: None,
                create_time,
                send_time,
                body: Some(body),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes)?;
    }

    #[test]
    fn body_prefixed_random_bytes(no in 301u32..=316, bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        // A plausible wrapper (symbol + body tag) around random body bytes: reaches the body walkers.
        let mut f = Vec::new();
        put_len(3, b"BTCUSDT", &mut f);
        put_len(no, &bytes, &mut f);
        check(&f)?;
    }

    #[test]
    fn mutated_frames(which in any::<prop::sample::Index>(), muts in proptest::collection::vec(mutation(), 1..4)) {
        let frames = all_frames();
        let (_, f) = &frames[which.index(frames.len())];
        check(&apply(f.clone(), &muts))?;
    }

    #[test]
    fn generated_messages_agree(m in message()) {
        use prost::Message;
        let f = m.encode_to_vec();
        let (walker, reference) = both(&f);
        // prost always accepts its own encoding: the walker must give the same result, errors
        // included (same mapping code, same first failing field for single-field faults).
        prop_assert_eq!(walker.is_ok(), reference.is_ok());
        if reference.is_ok() {
            prop_assert_eq!(walker, reference);
        }
    }
}

#[path = "../support/mexc/control_oracle.rs"]
mod control_oracle;

/// A JSON string literal with escapes the scanner must undo (quotes, backslashes, `\u` pairs).
fn json_string() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            "[a-zA-Z0-9@.,_ \\[\\]!：]{1,12}".prop_map(|s| s),
            Just("\\\"".to_string()),
            Just("\\\\".to_string()),
            Just("\\n".to_string()),
            Just("\\u00e9".to_string()),
            Just("\\ud83d\\ude00".to_string()),
            Just("\\/".to_string()),
        ],
        0..8,
    )
    .prop_map(|parts| format!("\"{}\"", parts.concat()))
}

/// A control-shaped object: `id`, `code`, `msg` in any order, plus unrelated keys with nested
/// values the scanner must skip, and optional whitespace.
fn control_frame() -> impl Strategy<Value = String> {
    (
        proptest::option::of(any::<u64>()),
        prop_oneof![Just(0i64), any::<i64>(), 700_000i64..800_000],
        proptest::option::of(json_string()),
        proptest::collection::vec(
            prop_oneof![
                Just(r#""data":{"x":[1,"]}",{"y":null}],"z":-1.5e3}"#.to_string()),
                Just(r#""ok":true"#.to_string()),
                Just(r#""list":[]"#.to_string()),
            ],
            0..3,
        ),
        any::<prop::sample::Index>(),
        prop_oneof![Just(""), Just(" "), Just("\n\t ")],
    )
        .prop_map(|(id, code, msg, extra, at, ws)| {
            let mut fields: Vec<String> = extra;
            if let Some(id) = id {
                fields.push(format!(r#""id":{id}"#));
            }
            if let Some(m) = msg {
                fields.push(format!(r#""msg":{m}"#));
            }
            fields.insert(at.index(fields.len() + 1), format!(r#""code":{code}"#));
            format!("{ws}{{{ws}{}{ws}}}{ws}", fields.join(&format!("{ws},{ws}")))
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    /// The scanner agrees with serde_json on every valid control object (id, code, unescaped
    /// msg), and on mutations of them wherever serde_json still reads a control object.
    #[test]
    fn control_frames_agree_with_serde_json(
        f in control_frame(),
        muts in proptest::collection::vec(mutation(), 0..3),
    ) {
        control_oracle::check_control(f.as_bytes()).map_err(TestCaseError::fail)?;
        let mutated = apply(f.into_bytes(), &muts);
        control_oracle::check_control(&mutated).map_err(TestCaseError::fail)?;
    }
}
