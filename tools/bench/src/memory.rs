//! `--memory`: resident memory of the library with 100 symbols × 3 feeds and 1 000-level books.
//! The venue runs in a child process (this binary with `--serve-venue N`) so that only the
//! engine's memory is in this process's RSS.

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cexfeed::config::{Config, FeedConfig, GateBookChannel, Runtime};
use cexfeed::engine::Engine;
use cexfeed::net::WaitMode;
use cexfeed::ring::Body;
use cexfeed::types::BookState;
use cexfeed_venue::{Venue, VenueConfig};

fn names(n: usize, sep: &str) -> Vec<String> {
    (0..n).map(|i| format!("S{i:03}{sep}USDT")).collect()
}

/// Child: serve a plain venue with `n` symbols per market at a low rate; print the address;
/// stop when stdin closes.
pub fn serve_venue(n: usize) {
    let v = Venue::start(VenueConfig {
        rate_per_sec: 5,
        mexc_symbols: names(n, ""),
        gate_spot_symbols: names(n, "_"),
        gate_futures_symbols: names(n, "_"),
        private_period: Duration::ZERO,
        idle_rules: false,
        ..VenueConfig::default()
    })
    .expect("venue");
    println!("{}", v.addr());
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    v.stop();
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Parent: start the child venue, an engine of 3 feeds × `n` symbols with 1 000-level books,
/// wait until every book has been live, and report RSS before / after.
pub fn run(n: usize) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .args(["--serve-venue", &n.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut out = std::io::BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut addr = String::new();
    out.read_line(&mut addr).map_err(|e| e.to_string())?;
    let addr = addr.trim().to_string();
    let base = format!("ws://{addr}");
    let rest = format!("http://{addr}");
    let feed = |venue: &str, market: &str, syms: Vec<String>, url: String, ch, depth, iv: &str| {
        FeedConfig {
            venue: venue.into(),
            market: market.into(),
            symbols: syms,
            channels: vec!["orderbook".into()],
            ws_url: Some(url),
            rest_url: Some(rest.clone()),
            ca_file: None,
            core: None,
            book_channel: ch,
            depth: Some(depth),
            interval: Some(iv.into()),
            api_key_env: None,
            api_secret_env: None,
            user_id: None,
            listen_key_keepalive_s: None,
            credentials: None,
        }
    };
    let runtime = Runtime {
        wait: WaitMode::Block,
        book_depth: 1_000,
        ..Runtime::default()
    };
    let cfg = Config {
        duration_s: 0,
        report: None,
        runtime: runtime.clone(),
        feeds: vec![
            feed(
                "mexc",
                "spot",
                names(n, ""),
                format!("{base}/ws"),
                GateBookChannel::Obu,
                1000,
                "100ms",
            ),
            feed(
                "gateio",
                "spot",
                names(n, "_"),
                format!("{base}/ws/v4/"),
                GateBookChannel::OrderBookUpdate,
                100,
                "100ms",
            ),
            feed(
                "gateio",
                "futures",
                names(n, "_"),
                format!("{base}/v4/ws/usdt"),
                GateBookChannel::OrderBookUpdate,
                100,
                "100ms",
            ),
        ],
        publish: None,
        record: None,
    };
    let rss0 = rss_kib();
    let resolved = cfg.resolve().map_err(|e| e.to_string())?;
    let mut engine = Engine::new(resolved.engine).map_err(|e| e.to_string())?;
    let mut rx = engine.consumer().map_err(|e| e.to_string())?;
    for (v, m, sep) in [
        ("mexc", "spot", ""),
        ("gateio", "spot", "_"),
        ("gateio", "futures", "_"),
    ] {
        for s in names(n, sep) {
            engine
                .bind(&format!("{v}.{m}.orderbook.{s}"), rx.id())
                .map_err(|e| e.to_string())?;
        }
    }
    let rss_built = rss_kib();
    engine.start().map_err(|e| e.to_string())?;
    let mut live = HashSet::new();
    let t = Instant::now();
    while live.len() < 3 * n && t.elapsed() < Duration::from_secs(120) {
        match rx.try_recv() {
            Some(ev) => {
                if let Body::Book { .. } = ev.body {
                    if ev.header.state == BookState::Live {
                        live.insert((ev.header.venue, ev.header.market, ev.header.symbol));
                    }
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let rss_live = rss_kib();
    let t_live = t.elapsed();
    // Keep running a little: steady state.
    let t2 = Instant::now();
    while t2.elapsed() < Duration::from_secs(5) {
        if rx.try_recv().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    let rss_steady = rss_kib();
    engine.stop();
    drop(child.stdin.take());
    let _ = child.wait();
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "resident memory, 3 feeds × {n} symbols, book_depth {}, ring {} events, top_n {} (venue in a child process):",
        runtime.book_depth, runtime.ring_capacity, runtime.top_n
    );
    println!("  before the engine      {:>8.1} MiB", mib(rss0));
    println!(
        "  engine built           {:>8.1} MiB (+{:.1})",
        mib(rss_built),
        mib(rss_built.saturating_sub(rss0))
    );
    println!(
        "  {} of {} books live     {:>8.1} MiB (+{:.1}) after {:.1} s",
        live.len(),
        3 * n,
        mib(rss_live),
        mib(rss_live.saturating_sub(rss0)),
        t_live.as_secs_f64()
    );
    println!(
        "  5 s later              {:>8.1} MiB (+{:.1})",
        mib(rss_steady),
        mib(rss_steady.saturating_sub(rss0))
    );
    if live.len() < 3 * n {
        return Err(format!("only {} of {} books went live", live.len(), 3 * n));
    }
    Ok(())
}
