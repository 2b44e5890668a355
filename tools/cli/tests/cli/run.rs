//! `cexfeed run --config FILE.toml` end to end: a config pointing every feed at the loopback venue
//! (URLs overridden, keys from the environment variables the file names) runs, reports, and a bad
//! config fails at start naming the key.

use cexfeed_venue::{self as venue, Venue as LoopbackVenue, VenueConfig};
use std::process::Command;

#[test]
fn run_with_config_against_overridden_endpoints() {
    let v = LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        ..VenueConfig::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("cexfeed-cli-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let report = dir.join("run.json");
    let cfg = format!(
        r#"
duration_s = 4
report = "{report}"
[runtime]
wait = "block"
book_depth = 2000
[[feed]]
venue = "mexc"
market = "spot"
symbols = ["BTCUSDT"]
channels = ["orderbook", "trades", "orders", "balances"]
ws_url = "{mexc_ws}"
rest_url = "{mexc_rest}"
depth = 1000
api_key_env = "T_MEXC_KEY"
api_secret_env = "T_MEXC_SECRET"
[[feed]]
venue = "gateio"
market = "futures"
symbols = ["BTC_USDT", "ETH_USDT"]
channels = ["orderbook", "bbo", "positions"]
book_channel = "order_book_update"
ws_url = "{gate_fut_ws}"
rest_url = "{gate_rest}"
api_key_env = "T_GATE_KEY"
api_secret_env = "T_GATE_SECRET"
user_id = {uid}
"#,
        report = report.display(),
        mexc_ws = v.mexc_ws_url(),
        mexc_rest = v.mexc_rest_url(),
        gate_fut_ws = v.gate_futures_ws_url(),
        gate_rest = v.gate_rest_url(),
        uid = venue::GATE_FUTURES_USER_ID,
    );
    let path = dir.join("cexfeed.toml");
    std::fs::write(&path, cfg).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cexfeed"))
        .args(["run", "--live", "off", "--config"])
        .arg(&path)
        .env("T_MEXC_KEY", venue::MEXC_API_KEY)
        .env("T_MEXC_SECRET", venue::MEXC_API_SECRET)
        .env("T_GATE_KEY", venue::GATE_API_KEY)
        .env("T_GATE_SECRET", venue::GATE_API_SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let feeds = r["feeds"].as_array().unwrap();
    assert_eq!(feeds.len(), 2);
    for f in feeds {
        assert!(f["messages"].as_u64().unwrap() > 0, "{f}");
        for b in f["books"].as_array().unwrap() {
            assert_eq!(b["state"], "live", "{b}");
        }
    }
    assert!(
        feeds[0]["private_events"]["orders"].as_u64().unwrap_or(0) > 0,
        "{}",
        feeds[0]
    );
    assert!(
        feeds[1]["private_events"]["positions"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "{}",
        feeds[1]
    );
    assert!(
        r.get("venue_books_match").is_none(),
        "only the demo compares with a venue"
    );
    for s in [venue::MEXC_API_SECRET, venue::GATE_API_SECRET] {
        assert!(!stdout.contains(s));
    }
    let _ = std::fs::remove_dir_all(&dir);
    v.stop();
}

#[test]
fn bad_config_fails_at_start_naming_the_key() {
    let dir = std::env::temp_dir().join(format!("cexfeed-cli-badcfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.toml");
    for (cfg, needle) in [
        ("[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"btc_usdt\"]\n", "feed[0].symbols[0]"),
        (
            "[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\nchannels = [\"orders\"]\napi_key_env = \"CEXFEED_UNSET_K\"\napi_secret_env = \"CEXFEED_UNSET_S\"\n",
            "CEXFEED_UNSET_K",
        ),
    ] {
        std::fs::write(&path, cfg).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_cexfeed"))
            .args(["run", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
