//! `cexfeed` command line: with no subcommand the demo on the embedded loopback venue; `run`
//! against real exchanges from a config file; `decode` for captured frames; `venue` for the
//! loopback exchange venue alone.

mod decode;
mod demo;
mod dry_run;
mod jsonl;
mod main_job;
mod replay;
mod report;
mod runner;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand};

use cexfeed_venue::{self as venue, PushMode, Venue, VenueConfig};

#[derive(Parser, Debug)]
#[command(
    name = "cexfeed",
    version,
    about = "MEXC / Gate.io feed handler and loopback venue"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// Demo options (used when no subcommand is given).
    #[command(flatten)]
    demo: main_job::DemoArgs,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the feeds against real exchanges (or any endpoints) from a TOML config.
    Run(main_job::RunArgs),
    /// Decode captured frames into one JSON object per line.
    Decode(decode::DecodeArgs),
    /// Serve MEXC spot and Gate.io spot/USDT-futures on one local address (until Ctrl-C).
    Venue(VenueArgs),
    /// `run`, recording every feed's traffic (see docs/recording.md).
    Record(main_job::RecordArgs),
    /// Run recorded traffic through the decoders, books and rings (no sockets) and report.
    Replay(replay::ReplayArgs),
    /// Decode a recording into `cexfeed decode`'s JSON lines.
    Export(replay::ExportArgs),
}

#[derive(Args, Debug)]
struct VenueArgs {
    /// Address to listen on (port 0 = any free port).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// Serve wss:// and https:// with a CA generated at start-up (its path is printed).
    #[arg(long)]
    tls: bool,
    /// Faults to inject, comma-separated: gap, duplicate, reorder, stale-snapshot,
    /// fresh-snapshot, full-reset, reset, close, silent, slow-snapshot, failed-snapshot,
    /// malformed, reject, auth-fail, lifetime, no-pong. `NAME@SYMBOL` targets one symbol.
    #[arg(long, value_delimiter = ',')]
    scenario: Vec<String>,
    /// Default symbol for scenarios given without `@SYMBOL` (default: all symbols).
    #[arg(long)]
    target: Option<String>,
    /// Book changes per second per symbol.
    #[arg(long, default_value_t = 2000)]
    rate: u32,
    /// Push every change as its own frame instead of honouring channel intervals.
    #[arg(long)]
    per_change: bool,
    /// Symbols, comma-separated; `BTCUSDT` style goes to MEXC, `BTC_USDT` style to Gate.io
    /// spot and futures. Default: BTCUSDT,ETHUSDT,BTC_USDT,ETH_USDT.
    #[arg(long, value_delimiter = ',')]
    symbols: Vec<String>,
    /// Bursts of extra book changes per symbol, `SIZE@PERIOD` (e.g. `5000@1s`).
    #[arg(long)]
    burst: Option<String>,
    /// Disable MEXC's 30 s no-subscription close and 100 msg/s inbound limit.
    #[arg(long)]
    no_idle_rules: bool,
    /// Seed of the market simulator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Period of fault strikes (e.g. 5s, 500ms).
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    fault_period: Duration,
    /// Stop striking after this long (books recover before comparison).
    #[arg(long, value_parser = parse_duration)]
    quiet_after: Option<Duration>,
    /// After this long the markets stop changing (no book change, trade or fault) while
    /// connections stay up and pings are answered, so a client's final books can be compared
    /// with the REST snapshots (`/api/v3/depth`, `/api/v4/.../order_book`).
    #[arg(long, value_parser = parse_duration)]
    freeze_after: Option<Duration>,
    /// Exit after this long (default: run until Ctrl-C).
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Every kline window this long instead of its interval (whole seconds, at least 1 s), so
    /// closed candles come quickly (e.g. 2s).
    #[arg(long, value_parser = parse_duration)]
    kline_window: Option<Duration>,
    /// Serve these recordings (files or directories) instead of the simulator: every client
    /// of a service gets its recorded public messages timed like the recording, REST order
    /// books the recorded snapshots (issue 15).
    #[arg(long, num_args = 1..)]
    replay: Vec<std::path::PathBuf>,
    /// One fair value per asset shared by every venue and market, each seeing a move after its
    /// own delay (MEXC 0, Gate futures 1 ms, Gate spot 3 ms), with jumps that open cross-venue
    /// spreads past the fees (issue 14; the demo's setting).
    #[arg(long)]
    lead_lag: bool,
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let v: f64 = num.parse().map_err(|_| format!("bad duration: {s}"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" | "" => v,
        "m" => v * 60.0,
        "h" => v * 3600.0,
        _ => return Err(format!("bad duration unit in {s} (ms, s, m, h)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn install_signal_handlers() {
    // SAFETY: installing a plain handler that only stores to an atomic (async-signal-safe).
    unsafe {
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
    }
}

fn venue(a: VenueArgs) -> Result<()> {
    let mut cfg = VenueConfig {
        listen: a.listen,
        tls: a.tls,
        rate_per_sec: a.rate,
        seed: a.seed,
        fault_period: a.fault_period,
        quiet_after: a.quiet_after,
        freeze_after: a.freeze_after,
        kline_window: a.kline_window,
        lead_lag: a.lead_lag.then(cexfeed_venue::fair::LeadLag::default),
        idle_rules: !a.no_idle_rules,
        push_mode: if a.per_change {
            PushMode::PerChange
        } else {
            PushMode::Interval
        },
        ..VenueConfig::default()
    };
    if !a.symbols.is_empty() {
        let (gate, mexc): (Vec<String>, Vec<String>) =
            a.symbols.iter().cloned().partition(|s| s.contains('_'));
        cfg.mexc_symbols = mexc;
        cfg.gate_spot_symbols = gate.clone();
        cfg.gate_futures_symbols = gate;
    }
    if let Some(b) = &a.burst {
        let (n, p) = b
            .split_once('@')
            .context("--burst wants SIZE@PERIOD, e.g. 5000@1s")?;
        cfg.burst_size = n.parse().context("burst size")?;
        cfg.burst_period = parse_duration(p).map_err(anyhow::Error::msg)?;
    }
    cfg.scenarios = venue::parse_scenarios(&a.scenario.join(","), a.target.as_deref())
        .map_err(anyhow::Error::msg)?;
    if !a.replay.is_empty() {
        cfg.replay = replay::venue_streams(&a.replay)?;
        for s in &cfg.replay {
            eprintln!(
                "venue: replaying {:?}: {} messages, {} REST snapshots",
                s.service,
                s.frames.len(),
                s.rest.len()
            );
        }
    }
    let handle = Venue::start(cfg).context("starting the venue")?;
    print!("{}", handle.describe());
    install_signal_handlers();
    let started = std::time::Instant::now();
    let stop = Arc::new(());
    let mut last = handle.stats();
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(200));
        if a.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        if started.elapsed().as_millis() % 10_000 < 200 {
            let s = handle.stats();
            eprintln!(
                "venue: {} ws conns, {} pushes (+{}), {} rest, {} faults, {} book changes",
                s.ws_connections,
                s.pushes,
                s.pushes - last.pushes,
                s.rest_requests,
                s.faults,
                s.book_changes
            );
            last = s;
        }
    }
    drop(stop);
    eprintln!("venue: stopping");
    handle.stop();
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.cmd {
        Some(Cmd::Venue(a)) => venue(a),
        Some(Cmd::Decode(a)) => match decode::decode(a) {
            Ok(true) => Ok(()),
            Ok(false) => std::process::exit(1),
            Err(e) => Err(e),
        },
        Some(Cmd::Run(a)) => {
            install_signal_handlers();
            main_job::run(a, &STOP, None)
        }
        Some(Cmd::Record(a)) => {
            install_signal_handlers();
            main_job::run(a.run, &STOP, Some(a.out))
        }
        Some(Cmd::Replay(a)) => {
            install_signal_handlers();
            replay::replay(a, &STOP)
        }
        Some(Cmd::Export(a)) => match replay::export(a) {
            Ok(true) => Ok(()),
            Ok(false) => std::process::exit(1),
            Err(e) => Err(e),
        },
        None => {
            install_signal_handlers();
            main_job::demo(cli.demo, &STOP)
        }
    }
}
