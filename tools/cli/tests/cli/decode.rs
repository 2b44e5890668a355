//! `cexfeed decode` as a user runs it: one JSON object per line in the documented shape,
//! canonical decimals, errors as `{"kind":"error"}` lines, exit 0 only if every frame decoded.

use std::io::Write;
use std::process::{Command, Stdio};

fn decode(args: &[&str], input: &[u8]) -> (i32, Vec<serde_json::Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cexfeed"))
        .arg("decode")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    (out.status.code().unwrap_or(-1), lines)
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn gateio_spot_obu_fixture() {
    let (code, lines) = decode(
        &["--venue", "gateio", "--market", "spot", "-"],
        &fixture("gateio_spot_obu.json"),
    );
    assert_eq!(code, 0);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["kind"], "control");
    assert_eq!(lines[0]["control"], "ack");
    let snap = &lines[1];
    assert_eq!(snap["kind"], "book_snapshot");
    assert_eq!(snap["venue"], "gateio");
    assert_eq!(snap["market"], "spot");
    assert_eq!(snap["symbol"], "BTC_USDT");
    assert_eq!(snap["seq_last"], 73777715168u64);
    assert_eq!(snap["ts_exchange_ms"], 1747054612673u64);
    assert_eq!(snap["bids"][0], serde_json::json!(["104027.1", "509392"]));
    let delta = &lines[2];
    assert_eq!(delta["kind"], "book_delta");
    assert_eq!(delta["seq_first"], 73777715169u64);
    assert_eq!(delta["seq_last"], 73777715212u64);
    assert_eq!(delta["asks"][0], serde_json::json!(["104027.2", "0"]));
}

#[test]
fn gateio_futures_signed_trade_sizes() {
    let (code, lines) = decode(
        &["--venue", "gateio", "--market", "futures"],
        &fixture("gateio_futures_trades.json"),
    );
    assert_eq!(code, 0);
    assert_eq!(lines[1]["kind"], "trade");
    assert_eq!(lines[1]["side"], "sell");
    assert_eq!(lines[1]["quantity"], "108.5");
    assert_eq!(lines[1]["trade_id"], "27753479");
}

#[test]
fn mexc_binary_hex_lines_and_control_and_garbage() {
    let mut input = fixture("mexc_spot_aggre_bookticker.frame.hex");
    input.extend_from_slice(b"\n");
    input.extend_from_slice(&fixture("mexc_spot_pong.json"));
    input.extend_from_slice(b"\nnot-a-frame\n");
    let (code, lines) = decode(&["--venue", "mexc", "--market", "spot"], &input);
    assert_eq!(code, 1, "a bad frame makes the exit status 1");
    assert_eq!(lines.len(), 3);
    let b = &lines[0];
    assert_eq!(b["kind"], "bbo");
    assert_eq!(b["bid_price"], "84270");
    assert_eq!(b["bid_quantity"], "0.006387");
    assert_eq!(b["ask_price"], "84270.01");
    assert_eq!(b["ask_quantity"], "5.42169969");
    assert_eq!(b["seq"], 82164153436u64);
    assert_eq!(lines[1]["control"], "pong");
    assert_eq!(lines[2]["kind"], "error");
    assert!(lines[2]["error"].as_str().unwrap().contains("not-a-frame"));
}

#[test]
fn truncated_json_is_an_error_line_not_a_crash() {
    let (code, lines) = decode(
        &["--venue", "gateio"],
        b"{\"channel\":\"spot.trades\",\"result\":{\"price\":\"1\"",
    );
    assert_eq!(code, 1);
    assert_eq!(lines[0]["kind"], "error");
}

/// Issue 12, defect 6: sequences are `u64` and were printed through `i64` (`2^64-1` → `-1`).
#[test]
fn decode_prints_u64_sequences_unsigned_not_minus_one() {
    let frame = br#"{"channel":"spot.obu","result":{"t":1747054612673,"full":true,"s":"ob.BTC_USDT.50","u":18446744073709551615,"b":[["1","1"]],"a":[["2","1"]]},"time_ms":1747054612848}"#;
    let (code, lines) = decode(&["--venue", "gateio", "--market", "spot", "-"], frame);
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines[0]["kind"], "book_snapshot");
    assert_eq!(lines[0]["seq_last"], u64::MAX);
    let text = lines[0].to_string();
    assert!(!text.contains("-1"), "{text}");
}

/// Issue 17: candles print as `{"kind":"kline","symbol","interval","open_time_ms","open","high",
/// "low","close","volume","closed"}` with canonical decimal strings, from the MEXC capture and
/// Gate's documented spot and futures frames.
#[test]
fn issue17_klines_print_in_the_documented_shape() {
    let (code, lines) = decode(
        &["--venue", "mexc", "--market", "spot"],
        &fixture("mexc_spot_kline.frame.hex"),
    );
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines.len(), 1);
    let k = &lines[0];
    for (key, want) in [
        ("kind", serde_json::json!("kline")),
        ("venue", serde_json::json!("mexc")),
        ("symbol", serde_json::json!("BTCUSDT")),
        ("interval", serde_json::json!("1m")),
        ("open_time_ms", serde_json::json!(1790281200000u64)),
        ("open", serde_json::json!("84300.14")),
        ("high", serde_json::json!("84300.15")),
        ("low", serde_json::json!("84270")),
        ("close", serde_json::json!("84270")),
        ("volume", serde_json::json!("2.84044203")),
        ("quote_volume", serde_json::json!("239393.69")),
        ("closed", serde_json::json!(false)),
        ("ts_exchange_ms", serde_json::json!(1790281249008u64)),
    ] {
        assert_eq!(k[key], want, "{key}: {k}");
    }
    let (code, lines) = decode(
        &["--venue", "gateio", "--market", "spot"],
        &fixture("gateio_spot_candlesticks.json"),
    );
    assert_eq!(code, 0, "{lines:?}");
    let k = &lines[0];
    assert_eq!(k["kind"], "kline");
    assert_eq!(k["symbol"], "BTC_USDT");
    assert_eq!(k["interval"], "1m");
    assert_eq!(k["open_time_ms"], 1606292580000u64);
    assert_eq!(k["volume"], "3.8283");
    assert_eq!(k["quote_volume"], "2362.32035");
    assert_eq!(k["closed"], true);
    let (code, lines) = decode(
        &["--venue", "gateio", "--market", "futures"],
        &fixture("gateio_futures_candlesticks.json"),
    );
    assert_eq!(code, 0, "{lines:?}");
    assert_eq!(lines.len(), 2, "one line per row");
    let k = &lines[1];
    assert_eq!(k["kind"], "kline");
    assert_eq!(k["symbol"], "BTC_USD");
    assert_eq!(k["open"], "94.3");
    assert_eq!(k["volume"], "27525555");
    assert_eq!(k["base_volume"], "314732.87412");
    assert_eq!(k["closed"], false);
}
