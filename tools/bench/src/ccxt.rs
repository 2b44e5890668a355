//! The ccxt client: `tools/ccxt-bench.sh` (a virtual environment with ccxt and protobuf from
//! PyPI, then `tools/ccxt-bench.py`), pointed at the venue through ccxt's `urls` settings. The
//! script prints one line `<version> <CLOCK_MONOTONIC ns>` per order book update that
//! `watch_order_book` returned to it; the venue's send instants are looked up by version here.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::result::{read_pairs, ClientResult, Live};
use crate::{Feed, FeedKind};

static PREPARED: AtomicBool = AtomicBool::new(false);

fn script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../ccxt-bench.sh"))
}

/// `python3` runs.
pub fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Create the virtual environment and install ccxt (once; `--setup` is a no-op when done).
pub fn prepare() -> Result<(), String> {
    let out = Command::new("bash")
        .arg(script())
        .arg("--setup")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{}: {e}", script().display()))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "setup failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    PREPARED.store(true, Ordering::Relaxed);
    Ok(())
}

/// Whether [`prepare`] succeeded.
pub fn prepared() -> bool {
    PREPARED.load(Ordering::Relaxed)
}

/// Run the script against the venue until `live.stop`.
pub fn run(
    feed: Feed,
    rate: u64,
    ws_url: String,
    rest_url: String,
    ca: Option<PathBuf>,
    cap: usize,
    live: &Live,
) -> ClientResult {
    let (exchange, market, symbol) = match feed.kind {
        FeedKind::MexcSpot => ("mexc", "spot", "BTC/USDT"),
        FeedKind::GateSpot => ("gate", "spot", "BTC/USDT"),
        FeedKind::GateFutures => ("gate", "swap", "BTC/USDT:USDT"),
    };
    let mut cmd = Command::new("bash");
    cmd.arg(script())
        .args([
            "--exchange",
            exchange,
            "--market",
            market,
            "--symbol",
            symbol,
        ])
        .args(["--ws", &ws_url, "--rest", &rest_url])
        // ~250 ms of pushes before the REST snapshot, as ccxt's default does at 10 ms pushes.
        .args(["--snapshot-delay", &(rate / 4).max(25).to_string()]);
    if let Some(ca) = &ca {
        cmd.arg("--ca").arg(ca);
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("ccxt: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let stderr = child.stderr.take().ok_or("no stderr")?;
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut { stderr }, &mut s);
        s
    });
    let samples = std::thread::scope(|sc| {
        let r = sc.spawn(|| read_pairs(stdout, cap, live));
        while !live.stop.load(Ordering::Relaxed) {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // Our own child, by its handle.
        let _ = child.kill();
        let _ = child.wait();
        r.join().unwrap_or_default()
    });
    let err = err_reader.join().unwrap_or_default();
    if samples.is_empty() {
        let tail: Vec<&str> = err.lines().rev().take(6).collect();
        return Err(format!(
            "ccxt produced no update: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
        ));
    }
    Ok(samples)
}
