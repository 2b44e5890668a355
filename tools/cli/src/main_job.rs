//! The main job: the demo on the embedded loopback venue (`cexfeed` with no subcommand) and
//! `cexfeed run --config FILE.toml` against real exchanges (or any endpoints the file names).

use crate::demo::loopback_config;
use crate::runner::{self, LiveMode, RunOptions};
use anyhow::{bail, Context, Result};
use cexfeed::config::{Config, Runtime, WaitMode};
use cexfeed::engine::Engine;
use cexfeed::types::{Market, Venue};
use cexfeed_venue::{self as venue, VenueConfig};
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
    /// Test hook: make the feed thread of VENUE.MARKET panic one second into the run.
    #[arg(long, hide = true)]
    pub inject_feed_panic: Option<String>,
    /// Publish every channel the demo binds over iceoryx2 shared memory (services
    /// `cexfeed/<channel>`), to watch from a second terminal with
    /// `cargo run --release --example ipc_subscriber -- CHANNEL...`.
    #[arg(long)]
    pub publish: bool,
    /// Record every feed's traffic into this directory (`cexfeed replay DIR` replays it).
    #[arg(long)]
    pub record: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct RecordArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Directory of the recording (default: the config's `record.dir`, else `recordings`).
    #[arg(long)]
    pub out: Option<PathBuf>,
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
    /// Print the exact WebSocket upgrades, subscription frames, REST requests and signed
    /// request shapes the feeds send (secrets redacted) without reaching any exchange: the
    /// feeds run for a moment against a local recorder. See `dry_run.rs`.
    #[arg(long)]
    pub dry_run: bool,
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

/// `venue.market`, e.g. `gateio.spot`.
fn parse_feed(s: &str) -> Result<(Venue, Market)> {
    let (v, m) = s.split_once('.').unwrap_or((s, ""));
    match (Venue::parse(v), Market::parse(m)) {
        (Some(v), Some(m)) => Ok((v, m)),
        _ => bail!("{s:?}: expected VENUE.MARKET, e.g. gateio.spot"),
    }
}

/// A feed thread that died makes the whole run a failure (non-zero exit), after the report.
fn fail_on_dead_feeds(report: &crate::report::Report) -> Result<()> {
    let dead = runner::dead_feeds(report);
    if !dead.is_empty() {
        bail!("feed thread died: {}", dead.join(", "));
    }
    Ok(())
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
        // Issue 14: one fair value per asset shared by the three places, each lagging by its
        // own delay, so the arbitrage monitor finds real spreads that open and close.
        lead_lag: Some(venue::fair::LeadLag::default()),
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
    let mut cfg = loopback_config(&v, !a.no_private);
    cfg.runtime = Runtime {
        wait,
        book_depth: 2_000,
        ring_capacity: 16_384,
        top_n: 10,
        book_pool: Some(32_768),
        idle_timeout_ms: 3_000,
        ..Runtime::default()
    };
    for (f, c) in cfg.feeds.iter_mut().zip(a.feed_cores.iter()) {
        f.core = Some(*c);
    }
    if a.publish {
        cfg.publish = Some(cexfeed::config::PublishConfig::default());
    }
    if let Some(dir) = &a.record {
        cfg.record = Some(cexfeed::config::RecordConfig {
            dir: dir.clone(),
            ..Default::default()
        });
    }
    let resolved = cfg.resolve()?;
    let mut engine = Engine::new(resolved.engine)?;
    if let Some(r) = resolved.record {
        engine.record(r)?;
    }
    let rx = engine.consumer()?;
    for ch in &resolved.channels {
        engine.bind(ch, rx.id())?;
    }
    let publisher = start_publisher(&mut engine, resolved.publish.as_ref())?;
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
        inject_feed_panic: match a.inject_feed_panic.as_deref() {
            None => None,
            Some(s) => Some(parse_feed(s)?),
        },
        until_replay_done: false,
    };
    let mut out = std::io::stdout();
    let report = runner::run(engine, rx, &opts, Some(&v), &mut out)?;
    runner::print_summary(&report, &mut out)?;
    stop_publisher(publisher);
    if let Some(p) = &a.report {
        println!(
            "report: {} (+ .hgrm histograms and .latency.svg beside it)",
            p.display()
        );
    }
    v.stop();
    fail_on_dead_feeds(&report)
}

/// `[publish]` / `--publish`: bind the channels on a consumer of their own and publish them
/// from a thread (before the engine starts, so subscribers see everything from the start).
fn start_publisher(
    engine: &mut Engine,
    p: Option<&cexfeed::config::ResolvedPublish>,
) -> Result<Option<cexfeed::ipc::PublisherThread>> {
    let Some(p) = p else { return Ok(None) };
    let plan = cexfeed::ipc::PublishPlan::new(engine, &p.channels, Some(&p.prefix), p.buffer)
        .context("[publish]")?
        .max_subscribers(p.max_subscribers);
    let t = plan.spawn(p.core).context("[publish]")?;
    println!(
        "publishing {} channels over iceoryx2 as {}/<channel>; watch with: cargo run --release --example ipc_subscriber -- {}",
        p.channels.len(),
        p.prefix,
        p.channels.first().map(String::as_str).unwrap_or("CHANNEL")
    );
    Ok(Some(t))
}

fn stop_publisher(t: Option<cexfeed::ipc::PublisherThread>) {
    if let Some(t) = t {
        let s = t.stop();
        println!(
            "published {} records over iceoryx2 ({} failed, {} dead subscriber nodes cleaned)",
            s.published, s.failed, s.dead_nodes_cleaned
        );
    }
}

/// `run`, or `record` (`record_out`: `Some(dir override)`): recording is on when the config
/// has a `[record]` table or for `record`.
pub fn run(
    a: RunArgs,
    interrupt: &'static AtomicBool,
    record_out: Option<Option<PathBuf>>,
) -> Result<()> {
    let mut cfg = Config::load(&a.config)?;
    if let Some(out) = record_out {
        let rc = cfg.record.get_or_insert_with(Default::default);
        if let Some(d) = out {
            rc.dir = d;
        }
    }
    let resolved = cfg.resolve()?;
    if a.dry_run {
        let mut out = std::io::stdout();
        return crate::dry_run::dry_run(resolved, &mut out);
    }
    let rt = &cfg.runtime;
    let mut engine = Engine::new(resolved.engine)?;
    if let Some(r) = resolved.record {
        engine.record(r)?;
    }
    let rx = engine.consumer()?;
    for ch in &resolved.channels {
        engine.bind(ch, rx.id())?;
    }
    let publisher = start_publisher(&mut engine, resolved.publish.as_ref())?;
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
        inject_feed_panic: None,
        until_replay_done: false,
    };
    let mut out = std::io::stdout();
    let report = runner::run(engine, rx, &opts, None, &mut out)?;
    runner::print_summary(&report, &mut out)?;
    stop_publisher(publisher);
    fail_on_dead_feeds(&report)
}
