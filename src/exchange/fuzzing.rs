//! The REST answers the reconciler reads (issue 17: `gateio::account`, `mexc::account`, both
//! through `restjson`), the Gate contract size and MEXC's listen-key and error bodies, as one
//! fuzz entry point (cargo feature `fuzzing`, used by `fuzz/fuzz_targets/account_rest.rs`; the
//! proptest smoke at the bottom runs it in the default test suite).
//!
//! These bodies come from the exchange like the stream does, but run on the reconciler's cold
//! thread: a panic there would leave a private gap open for good. Checked for every input: no
//! decoder panics, each is deterministic (the same input twice gives the same messages and the
//! same error), and a decoder that refuses a body says which field or why.

use crate::event::{BalanceMsg, FillMsg, OrderMsg, PositionMsg, Sink};
use crate::exchange::gateio::account as ga;
use crate::exchange::mexc::account as ma;
use crate::exchange::AccountBodyError;

/// Every message a decoder emitted, as text (allocation is fine in a fuzz harness).
#[derive(Default, Debug, PartialEq, Eq)]
struct Trace(Vec<String>);

impl Sink for Trace {
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.0.push(format!("{m:?}"));
    }
}

type Decode = fn(&[u8], &mut Trace) -> Result<(), AccountBodyError>;

/// The ten account body decoders, by endpoint.
const DECODERS: [(&str, Decode); 10] = [
    ("gate spot open_orders", ga::spot_open_orders::<Trace>),
    ("gate spot my_trades", ga::spot_my_trades::<Trace>),
    ("gate spot accounts", ga::spot_accounts::<Trace>),
    ("gate futures orders", ga::futures_orders::<Trace>),
    ("gate futures my_trades", ga::futures_my_trades::<Trace>),
    ("gate futures positions", ga::futures_positions::<Trace>),
    ("gate futures accounts", ga::futures_accounts::<Trace>),
    ("mexc openOrders", ma::open_orders::<Trace>),
    ("mexc myTrades", ma::my_trades::<Trace>),
    ("mexc account", ma::account::<Trace>),
];

/// Run `data` through every REST body decoder; the number of messages they emitted in all.
/// Panics (the fuzzer's finding) if a decoder panics or answers twice differently.
pub fn account_rest(data: &[u8]) -> usize {
    let mut n = 0;
    for (name, decode) in DECODERS {
        let mut a = Trace::default();
        let ra = decode(data, &mut a);
        let mut b = Trace::default();
        let rb = decode(data, &mut b);
        assert_eq!((&ra, &a), (&rb, &b), "{name}: not deterministic");
        if let Err(e) = &ra {
            assert!(
                !e.to_string().is_empty(),
                "{name}: an error without a reason"
            );
        }
        n += a.0.len();
    }
    let _ = crate::exchange::gateio::decode_quanto_multiplier(data);
    let _ = crate::exchange::mexc::parse_error_body(400, data);
    let _ = crate::exchange::mexc::parse_listen_key_response(200, data);
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Gate's documented field names and MEXC's, so generated objects reach every field read.
    const KEYS: &[&str] = &[
        "amount",
        "asset",
        "available",
        "avg_deal_price",
        "balances",
        "clientOrderId",
        "commission",
        "commissionAsset",
        "contract",
        "create_time",
        "create_time_ms",
        "currency",
        "currency_pair",
        "entry_price",
        "executedQty",
        "fee",
        "fee_currency",
        "fill_price",
        "filled_amount",
        "finish_as",
        "finish_time",
        "free",
        "id",
        "isBuyer",
        "isMaker",
        "left",
        "leverage",
        "liq_price",
        "locked",
        "margin",
        "orderId",
        "order_id",
        "orders",
        "origQty",
        "price",
        "qty",
        "realised_pnl",
        "role",
        "side",
        "size",
        "status",
        "symbol",
        "text",
        "tif",
        "time",
        "time_in_force",
        "total",
        "type",
        "updateTime",
        "update_time",
        "update_time_ms",
        "quanto_multiplier",
        "listenKey",
        "code",
        "msg",
    ];

    /// Values that reach the numeric, time and enum paths at their edges.
    const VALUES: &[&str] = &[
        "\"1\"",
        "\"0\"",
        "\"-1\"",
        "\"1.25e-05\"",
        "\"\"",
        "null",
        "true",
        "[]",
        "{}",
        "\"buy\"",
        "\"sell\"",
        "\"BUY\"",
        "\"LIMIT\"",
        "\"open\"",
        "\"closed\"",
        "\"cancelled\"",
        "\"filled\"",
        "\"ioc\"",
        "\"poc\"",
        "\"gtc\"",
        "\"BTC_USDT\"",
        "\"BTCUSDT\"",
        "1700000000",
        "1700000000.123",
        "\"1700000000123.456\"",
        "9223372036854775807",
        "\"9223372036854775807.999\"",
        "-9223372036854775808",
        "1e400",
        "\"1e400\"",
        "99999999999999999999999999999999999999999",
        "\"0.000000000000000000000000001\"",
        "\"a\\\\b\"",
        "\"\\u0000\"",
        "18446744073709551616",
    ];

    fn object(fields: &[(usize, usize)]) -> String {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("\"{}\":{}", KEYS[k % KEYS.len()], VALUES[v % VALUES.len()]))
            .collect();
        format!("{{{}}}", body.join(","))
    }

    #[test]
    fn seconds_beyond_the_millisecond_range_are_refused_not_overflowed() {
        // Gate futures `create_time` in seconds: × 1000 would overflow i64.
        let body = br#"[{"id":"1","order_id":"2","contract":"BTC_USDT","size":"1","price":"1","role":"taker","create_time":9223372036854775807}]"#;
        let mut t = Trace::default();
        assert_eq!(
            ga::futures_my_trades(body, &mut t),
            Err(AccountBodyError::Bad("create_time"))
        );
        account_rest(body);
    }

    /// The fuzz corpus seeds (`fuzz/seeds/account_rest/`, one body per endpoint in the shape
    /// the venues document) each reach a decoder's success path, so the fuzzer starts from
    /// bodies that decode rather than from refusals.
    #[test]
    fn every_seed_body_decodes_into_messages() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/account_rest");
        let mut seen = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let body = std::fs::read(&path).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let emitted = account_rest(&body);
            match name.as_str() {
                "gate_contract" => {
                    assert!(crate::exchange::gateio::decode_quanto_multiplier(&body).is_ok())
                }
                "mexc_listen_key" => {
                    assert!(crate::exchange::mexc::parse_listen_key_response(200, &body).is_ok())
                }
                "mexc_error" => assert!(matches!(
                    crate::exchange::mexc::parse_error_body(400, &body),
                    crate::exchange::mexc::MexcRestError::Api {
                        code: Some(700003),
                        ..
                    }
                )),
                _ => assert!(emitted > 0, "{name}: no decoder took it"),
            }
            seen += 1;
        }
        assert_eq!(seen, 13, "seed files in {}", dir.display());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
        /// Random bytes; arrays of objects built from the decoders' own field names and edge
        /// values (also nested as Gate's `orders`/MEXC's `balances`), cut at a random byte.
        #[test]
        fn any_body(
            raw in proptest::collection::vec(any::<u8>(), 0..512),
            objs in proptest::collection::vec(
                proptest::collection::vec((any::<usize>(), any::<usize>()), 0..24), 0..4),
            nest in any::<bool>(),
            cut in any::<usize>(),
        ) {
            account_rest(&raw);
            let items: Vec<String> = objs.iter().map(|o| object(o)).collect();
            let arr = format!("[{}]", items.join(","));
            let body = if nest {
                format!("[{{\"currency_pair\":\"BTC_USDT\",\"orders\":{arr}}}]")
            } else {
                arr
            };
            account_rest(body.as_bytes());
            if let Some(first) = objs.first() {
                let mut one = object(first);
                account_rest(one.as_bytes());
                one.insert_str(1, "\"balances\":[{\"asset\":\"USDT\",\"free\":\"1\",\"locked\":\"0\"}],");
                account_rest(one.as_bytes());
            }
            let b = body.as_bytes();
            account_rest(&b[..cut % (b.len() + 1)]);
        }
    }
}
