//! `cexfeed run --config FILE --dry-run` (issue 13): prints the WebSocket upgrades, subscription
//! frames, REST requests and signed-request shapes the feeds send for a Gate spot, a Gate
//! futures and a MEXC feed with the production URLs, without reaching any exchange, and never a
//! secret. `cexfeed venue --freeze-after` is accepted.

use std::process::Command;

const MEXC_KEY: &str = "mx0vglDRYRUNKEY77";
const MEXC_SECRET: &str = "mxDRYRUNSECRETabc123";
const GATE_KEY: &str = "gtDRYRUNKEY42";
const GATE_SECRET: &str = "gtDRYRUNSECRETxyz789";

#[test]
fn issue13_dry_run_prints_frames_urls_and_signed_shapes_without_secrets() {
    let dir = std::env::temp_dir().join(format!("cexfeed-cli-dry-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cexfeed.toml");
    std::fs::write(
        &path,
        r#"
[runtime]
wait = "block"
[[feed]]
venue = "mexc"
market = "spot"
symbols = ["BTCUSDT"]
channels = ["orderbook", "trades", "orders", "ticker", "kline.1h"]
api_key_env = "T_DRY_MEXC_KEY"
api_secret_env = "T_DRY_MEXC_SECRET"
[[feed]]
venue = "gateio"
market = "spot"
symbols = ["BTC_USDT"]
channels = ["orderbook", "bbo", "orders"]
api_key_env = "T_DRY_GATE_KEY"
api_secret_env = "T_DRY_GATE_SECRET"
[[feed]]
venue = "gateio"
market = "futures"
symbols = ["BTC_USDT", "ETH_USDT"]
channels = ["orderbook", "trades", "kline.1w"]
"#,
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cexfeed"))
        .args(["run", "--dry-run", "--config"])
        .arg(&path)
        .env("T_DRY_MEXC_KEY", MEXC_KEY)
        .env("T_DRY_MEXC_SECRET", MEXC_SECRET)
        .env("T_DRY_GATE_KEY", GATE_KEY)
        .env("T_DRY_GATE_SECRET", GATE_SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let section = |name: &str| -> String {
        let start = stdout
            .find(&format!("== {name} =="))
            .unwrap_or_else(|| panic!("no {name} section: {stdout}"));
        let rest = &stdout[start + 4..];
        rest[..rest.find("\n== ").unwrap_or(rest.len())].to_string()
    };
    let ua = "user-agent: cexfeed/";

    let mexc = section("mexc.spot");
    assert!(
        mexc.contains("websocket GET wss://wbs-api.mexc.com/ws"),
        "{mexc}"
    );
    assert!(mexc.contains(ua), "{mexc}");
    assert!(
        mexc.contains(r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@"#)
            && mexc.contains("@BTCUSDT\"]"),
        "{mexc}"
    );
    assert!(
        mexc.contains("spot@public.aggre.deals.v3.api.pb@"),
        "{mexc}"
    );
    // Issue 17: the mini ticker and the kline channel as protocols.md §1.4 names them.
    assert!(
        mexc.contains("spot@public.miniTicker.v3.api.pb@BTCUSDT@UTC+8")
            && mexc.contains("spot@public.kline.v3.api.pb@BTCUSDT@Min60"),
        "{mexc}"
    );
    // The signed listen-key request: its shape, with the key and signature redacted.
    assert!(
        mexc.contains("rest POST https://api.mexc.com/api/v3/userDataStream?timestamp=")
            && mexc.contains("&signature=<signature>")
            && mexc.contains("x-mexc-apikey: <api_key>"),
        "{mexc}"
    );

    let spot = section("gateio.spot");
    assert!(
        spot.contains("websocket GET wss://api.gateio.ws/ws/v4/"),
        "{spot}"
    );
    assert!(spot.contains(ua), "{spot}");
    assert!(
        spot.contains(r#""channel":"spot.book_ticker","event":"subscribe","payload":["BTC_USDT"]"#),
        "{spot}"
    );
    assert!(
        spot.contains(r#""event":"subscribe""#)
            && spot.contains("BTC_USDT")
            && spot.contains("spot.o"),
        "{spot}"
    );
    // The signed private subscription: key and signature redacted.
    assert!(
        spot.contains(r#""channel":"spot.orders""#)
            && spot
                .contains(r#""auth":{"method":"api_key","KEY":"<api_key>","SIGN":"<signature>"}"#),
        "{spot}"
    );

    let fut = section("gateio.futures");
    assert!(
        fut.contains("websocket GET wss://fx-ws.gateio.ws/v4/ws/usdt"),
        "{fut}"
    );
    assert!(
        fut.contains("x-gate-size-decimal: 1") && fut.contains(ua),
        "{fut}"
    );
    for c in ["BTC_USDT", "ETH_USDT"] {
        assert!(
            fut.contains(&format!(
                "rest GET https://api.gateio.ws/api/v4/futures/usdt/contracts/{c}"
            )),
            "{fut}"
        );
        assert!(
            fut.contains(&format!(
                r#""channel":"futures.trades","event":"subscribe","payload":["{c}"]"#
            )),
            "{fut}"
        );
        // Issue 17: `[interval, contract]`, Gate's code for a week is `7d`.
        assert!(
            fut.contains(&format!(
                r#""channel":"futures.candlesticks","event":"subscribe","payload":["7d","{c}"]"#
            )),
            "{fut}"
        );
    }

    for secret in [MEXC_KEY, MEXC_SECRET, GATE_KEY, GATE_SECRET] {
        assert!(!stdout.contains(secret), "{secret} printed: {stdout}");
        assert!(!stderr.contains(secret), "{secret} printed: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn issue13_venue_accepts_freeze_after() {
    let out = Command::new(env!("CARGO_BIN_EXE_cexfeed"))
        .args([
            "venue",
            "--listen",
            "127.0.0.1:0",
            "--freeze-after",
            "200ms",
            "--duration",
            "600ms",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
