//! The main job: the demo on the embedded loopback venue (`cexfeed` with no subcommand) and
//! `cexfeed run --config FILE.toml` against real exchanges (or any endpoints the file names).

use anyhow::{bail, Context, Result};
use cexfeed::channel::Kind;
use cexfeed::config::{Config, GateBookChannel, Runtime, WaitMode};
use cexfeed::demo::loopback_feeds;
use cexfeed::engine::{Engine, EngineConfig};
use cexfeed::feed::FeedSetup;
use cexfeed::runner::{self, LiveMode, RunOptions};
use cexfeed::secret::{Credentials, Secret};
use cexfeed::types::{Market, Venue};
use cexfeed::venue::{self, VenueConfig};
use clap::Args;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

#[derive(Args, Debug, Default)]
pub struct DemoArgs {
    /// How long the demo runs before it prints the summary (e.g. 20s, 1m).
    #[arg(long, default_value = "20s", value_parser = crate::parse_duration)]
    pub duration: Duration,
    /// Feed-thread wait strategy: spin (lowest latency, one core per feed) or block (shared
    /// cores). Default: spin when the machine has a core for every spinning thread, else block.
    #[arg(long)]
    pub wait: Option<String>,
    /// Venue faults to inject, comma-separated (gap, duplicate, reorder, stale-snapshot,
    /// fresh-snapshot, full-reset, reset, close, silent, slow-snapshot, failed-snapshot,
    /// malformed, reject, auth-fail, lifetime, no-pong); NAME@SYMBOL targets one symbol.
    #[arg(long, value_delimiter = ',')]
    pub scenario: Vec<String>,
    /// Period of fault strikes.
    #[arg(long, default_value = "4s", value_parser = crate::parse_duration)]
    pub fault_period: Duration,
    /// Write the JSON report here (plus `.hgrm` histograms and a `.latency.svg` plot beside it).
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Book changes per second per symbol on the loopback venue.
    #[arg(long, default_value_t = 2000)]
    pub rate: u32,
    /// Live view: tty (redraw in place), lines (plain periodic lines) or off. Default: tty
    /// when stdout is a terminal, lines otherwise.
    #[arg(long)]
    pub live: Option<String>,
    /// Core to pin the arbitrage monitor (strategy) thread to.
    #[arg(long)]
    pub strategy_core: Option<usize>,
    /// Cores to pin the feed threads to, in order mexc.spot, gateio.spot, gateio.futures.
    #[arg(long, value_delimiter = ',')]
    pub feed_cores: Vec<usize>,
    /// Leave the private streams (orders, fills, balances, positions) out.
    #[arg(long)]
    pub no_private: bool,
    /// Serve the loopback venue over plain ws:// and http:// instead of TLS.
    #[arg(long)]
    pub plain: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The configuration file (see cexfeed.example.toml).
    #[arg(long)]
    pub config: PathBuf,
    /// Override the config's duration (0 = until Ctrl-C).
    #[arg(long, value_parser = crate::parse_duration)]
    pub duration: Option<Duration>,
    /// Override the config's report path.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Live view: tty, lines or off.
    #[arg(long)]
    pub live: Option<String>,
}

fn live_mode(s: &Option<String>) -> Result<LiveMode> {
    Ok(match s.as_deref() {
        None => LiveMode::auto(),
        Some("tty") => LiveMode::Tty,
        Some("lines") => LiveMode::Lines,
        Some("off") => LiveMode::Off,
        Some(o) => bail!("--live {o:?}: expected tty, lines or off"),
    })
}

pub fn demo(a: DemoArgs, interrupt: &'static AtomicBool) -> Result<()> {
    let spinning = 4; // three feeds + the strategy thread
    let wait = match a.wait.as_deref() {
        None => WaitMode::default_for_cores(spinning),
        Some(w) => WaitMode::parse(w)
            .with_context(|| format!("--wait {w:?}: expected spin, yield or block"))?,
    };
    let scenarios =
        venue::parse_scenarios(&a.scenario.join(","), None).map_err(anyhow::Error::msg)?;
    // Faults stop 6 s before the end so every book can recover before the final comparison.
    let quiet_after =
        (!scenarios.is_empty()).then(|| a.duration.saturating_sub(Duration::from_secs(6)));
    let v = venue::Venue::start(VenueConfig {
        tls: !a.plain,
        scenarios,
        rate_per_sec: a.rate,
        fault_period: a.fault_period,
        quiet_after,
        slow_snapshot: Duration::from_secs(2),
        ..VenueConfig::default()
    })
    .context("starting the loopback venue")?;
    println!(
        "cexfeed demo: loopback venue on {} ({}), wait={wait:?}, {} s",
        v.addr(),
        if a.plain {
            "plain"
        } else {
            "TLS, generated CA"
        },
        a.duration.as_secs()
    );
    let rt = Runtime {
        book_depth: 2_000,
        ..Runtime::default()
    };
    let mut feeds = loopback_feeds(&v, &rt, wait, !a.no_private, Duration::from_secs(3));
    for (f, c) in feeds.iter_mut().zip(a.feed_cores.iter()) {
        f.core = Some(*c);
    }
    let bind: Vec<(Venue, Market, Vec<String>, bool)> = feeds
        .iter()
        .map(|f| {
            (
                f.venue,
                f.market,
                f.symbols.iter().map(|(_, s)| s.clone()).collect(),
                f.credentials.is_some(),
            )
        })
        .collect();
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: 16_384,
        top_n: 10,
        book_pool: 32_768,
        control_core: None,
    })?;
    let rx = engine.consumer()?;
    runner::bind_all(
        &mut engine,
        &rx,
        &[Kind::OrderBook, Kind::Trades, Kind::Bbo],
        &bind,
    )?;
    let opts = RunOptions {
        duration: a.duration,
        report: a.report.clone(),
        live: live_mode(&a.live)?,
        live_period: Duration::from_secs(1),
        strategy_core: a.strategy_core,
        strategy_spin: wait == WaitMode::Spin,
        scenarios: a.scenario.clone(),
        compare_levels: 10,
        interrupt: Some(interrupt),
    };
    let mut out = std::io::stdout();
    let report = runner::run(engine, rx, &opts, Some(&v), &mut out)?;
    runner::print_summary(&report, &mut out)?;
    if let Some(p) = &a.report {
        println!(
            "report: {} (+ .hgrm histograms and .latency.svg beside it)",
            p.display()
        );
    }
    v.stop();
    Ok(())
}

/// Real-exchange defaults per venue and market.
fn default_urls(venue: Venue, market: Market) -> (&'static str, &'static str) {
    match (venue, market) {
        (Venue::Mexc, _) => (
            cexfeed::exchange::mexc::WS_URL,
            cexfeed::exchange::mexc::REST_BASE,
        ),
        (Venue::Gateio, Market::Spot) => (
            cexfeed::exchange::gateio::SPOT_WS_URL,
            cexfeed::exchange::gateio::REST_BASE,
        ),
        (Venue::Gateio, Market::Futures) => (
            cexfeed::exchange::gateio::FUTURES_USDT_WS_URL,
            cexfeed::exchange::gateio::REST_BASE,
        ),
    }
}

pub fn run(a: RunArgs, interrupt: &'static AtomicBool) -> Result<()> {
    let cfg = Config::load(&a.config)?;
    let resolved = cfg.validate()?;
    let rt: Runtime = cfg.runtime.clone();
    let mut feeds = Vec::new();
    let mut bind = Vec::new();
    for (i, f) in resolved.iter().enumerate() {
        let raw = &f.raw;
        let (ws, rest) = default_urls(f.venue, f.market);
        let credentials = match (&raw.api_key_env, &raw.api_secret_env) {
            (Some(k), Some(s)) => Some(Credentials {
                api_key: Secret::from_env(k)
                    .map_err(|e| anyhow::anyhow!("config key `feed[{i}].api_key_env`: {e}"))?,
                api_secret: Secret::from_env(s)
                    .map_err(|e| anyhow::anyhow!("config key `feed[{i}].api_secret_env`: {e}"))?,
            }),
            _ => None,
        };
        let ca = match &raw.ca_file {
            Some(p) => Some(std::fs::read(p).with_context(|| {
                format!(
                    "config key `feed[{i}].ca_file`: cannot read {}",
                    p.display()
                )
            })?),
            None => None,
        };
        let ws_url = raw.ws_url.clone().unwrap_or_else(|| ws.to_string());
        let gate_obu = raw.book_channel == GateBookChannel::Obu;
        let setup = FeedSetup {
            venue: f.venue,
            market: f.market,
            private_ws_url: ws_url.clone(),
            ws_url,
            rest_url: raw.rest_url.clone().unwrap_or_else(|| rest.to_string()),
            extra_ca_pem: ca,
            credentials,
            user_id: raw.user_id,
            gate_obu,
            depth: raw.depth.unwrap_or(match (f.venue, gate_obu) {
                (Venue::Mexc, _) => 5000,
                (Venue::Gateio, true) => 50,
                (Venue::Gateio, false) => 100,
            }),
            interval: raw
                .interval
                .clone()
                .unwrap_or_else(|| match (f.venue, gate_obu) {
                    (Venue::Mexc, _) => "10ms".into(),
                    (Venue::Gateio, true) => "20ms".into(),
                    (Venue::Gateio, false) => "100ms".into(),
                }),
            core: raw.core,
            wait: rt.wait,
            symbols: raw
                .symbols
                .iter()
                .map(|s| (Default::default(), s.clone()))
                .collect(),
            book_levels: rt.book_depth,
            sync_buffer: rt.sync_buffer,
            idle_timeout: Duration::from_millis(rt.idle_timeout_ms),
            max_message_bytes: rt.max_message_bytes,
            so_rcvbuf: rt.so_rcvbuf as u32,
            ping_interval: Duration::from_secs(if f.venue == Venue::Mexc { 20 } else { 10 }),
            rotate_after: Duration::from_secs(23 * 3600),
            listen_key_keepalive: Duration::from_secs(30 * 60),
        };
        bind.push((f.venue, f.market, raw.symbols.clone(), f.kinds.clone()));
        feeds.push(setup);
    }
    let mut engine = Engine::new(EngineConfig {
        feeds,
        ring_capacity: rt.ring_capacity,
        top_n: rt.top_n,
        book_pool: rt.book_pool.max(rt.ring_capacity + 512),
        control_core: None,
    })?;
    let rx = engine.consumer()?;
    for (venue, market, symbols, kinds) in &bind {
        for k in kinds {
            if k.is_private() {
                engine.bind(
                    &format!("{}.{}.{}", venue.as_str(), market.as_str(), k.as_str()),
                    rx.id(),
                )?;
            } else {
                for s in symbols {
                    engine.bind(
                        &format!(
                            "{}.{}.{}.{}",
                            venue.as_str(),
                            market.as_str(),
                            k.as_str(),
                            s
                        ),
                        rx.id(),
                    )?;
                }
            }
        }
    }
    let duration = a.duration.unwrap_or(Duration::from_secs(cfg.duration_s));
    let opts = RunOptions {
        duration: if duration.is_zero() {
            Duration::from_secs(u32::MAX as u64)
        } else {
            duration
        },
        report: a.report.or(cfg.report.clone()),
        live: live_mode(&a.live)?,
        live_period: Duration::from_secs(1),
        strategy_core: rt.strategy_core,
        strategy_spin: rt.wait == WaitMode::Spin,
        scenarios: Vec::new(),
        compare_levels: 10,
        interrupt: Some(interrupt),
    };
    let mut out = std::io::stdout();
    let report = runner::run(engine, rx, &opts, None, &mut out)?;
    runner::print_summary(&report, &mut out)?;
    Ok(())
}
