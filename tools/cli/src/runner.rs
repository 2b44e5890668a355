//! The main job, shared by the demo (`cexfeed`) and `cexfeed run --config`: start the engine,
//! bind every configured channel to one consumer, run the example arbitrage monitor on its own
//! (optionally pinned) thread, show a live view, and at the end write the report.

use crate::report::{
    latency_svg, BookReport, FeedReport, InstrumentReport, LatencySummary, PrivateReport, Report,
    Series, StrategyReport,
};
use cexfeed_arb::{default_taker_fee_bps, normalize_pair, ArbMonitor, InstrumentStats, Place};

use cexfeed::engine::{Engine, FeedFinal, FeedView, StrategyRx};
use cexfeed::metrics::{write_hgrm, Percentiles, Stage};
use cexfeed::ring::{Body, StatusKind};
use cexfeed::types::{BookState, Market, SymbolRegistry, Venue};
use cexfeed_venue::VenueHandle;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the live view is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveMode {
    /// Redraw in place (ANSI) — when stdout is a terminal.
    Tty,
    /// One block of plain lines per period — when stdout is not a terminal.
    Lines,
    Off,
}

impl LiveMode {
    pub fn auto() -> LiveMode {
        if std::io::stdout().is_terminal() {
            LiveMode::Tty
        } else {
            LiveMode::Lines
        }
    }
}

pub struct RunOptions {
    pub duration: Duration,
    pub report: Option<PathBuf>,
    pub live: LiveMode,
    pub live_period: Duration,
    pub strategy_core: Option<usize>,
    /// Spin on the strategy thread (`true`) or sleep briefly when idle.
    pub strategy_spin: bool,
    /// Scenario names in force (for the report).
    pub scenarios: Vec<String>,
    /// Top levels compared with the venue's true book (demo).
    pub compare_levels: usize,
    /// Set (e.g. by a SIGINT handler) to end the run early.
    pub interrupt: Option<&'static AtomicBool>,
    /// Test hook: make this feed's thread panic one second into the run.
    pub inject_feed_panic: Option<(Venue, Market)>,
    /// A replay: end when every feed has read its files (and the consumer has drained).
    pub until_replay_done: bool,
}

/// What the strategy thread publishes for cold readers (refreshed every 100 ms).
#[derive(Default, Clone)]
struct StrategyShared {
    stats: Vec<InstrumentStats>,
    events: u64,
    by_kind: BTreeMap<&'static str, u64>,
    errors: Vec<String>,
    private_gaps: u64,
    feeds_down: u64,
    /// Per private feed: what the strategy holds (issue 17), compared with the venue at the
    /// end of the demo.
    private: Vec<((Venue, Market), crate::demo::PrivateHeld)>,
}

fn kind_name(b: &Body) -> &'static str {
    match b {
        Body::Trade { .. } => "trade",
        Body::Bbo { .. } => "bbo",
        Body::Ticker { .. } => "ticker",
        Body::Book { .. } => "book",
        Body::Order { .. } => "order",
        Body::Fill { .. } => "fill",
        Body::Balance { .. } => "balance",
        Body::Position { .. } => "position",
        Body::Status { .. } => "status",
        Body::Error { .. } => "error",
        Body::Missed { .. } => "missed",
        Body::Kline { .. } => "kline",
    }
}

/// The arbitrage monitor's thread body.
fn strategy_loop(
    mut rx: StrategyRx,
    registry: SymbolRegistry,
    stop: Arc<AtomicBool>,
    shared: Arc<Mutex<StrategyShared>>,
    spin: bool,
) {
    // Places and instruments, fixed before the loop.
    let mut places: Vec<Place> = Vec::new();
    let mut instruments: Vec<String> = Vec::new();
    for (_, m) in registry.iter() {
        if !places
            .iter()
            .any(|p| p.venue == m.venue && p.market == m.market)
        {
            places.push(Place::new(m.venue, m.market));
        }
        if let Some(n) = normalize_pair(m.venue, &m.name) {
            if !instruments.contains(&n) {
                instruments.push(n);
            }
        }
    }
    let mut arb = ArbMonitor::new(places, instruments);
    // SymbolId → (instrument, place), and the last book seq per symbol.
    let map: Vec<Option<(usize, usize)>> = registry
        .iter()
        .map(|(_, m)| {
            let i = arb.instrument_index(&normalize_pair(m.venue, &m.name)?)?;
            let p = arb.place_index(m.venue, m.market)?;
            Some((i, p))
        })
        .collect();
    let mut last_seq = vec![0u64; map.len()];
    let names: Vec<String> = registry.iter().map(|(_, m)| m.name.clone()).collect();
    let mut local = StrategyShared::default();
    let mut last_publish = Instant::now();
    loop {
        let mut n = 0;
        while let Some(ev) = rx.try_recv() {
            n += 1;
            local.events += 1;
            *local.by_kind.entry(kind_name(&ev.body)).or_insert(0) += 1;
            let sid = ev.header.symbol.0 as usize;
            let private = matches!(
                ev.body,
                Body::Order { .. }
                    | Body::Fill { .. }
                    | Body::Balance { .. }
                    | Body::Position { .. }
                    | Body::Status {
                        kind: StatusKind::PrivateSnapshot,
                        ..
                    }
            );
            if private {
                let key = (ev.header.venue, ev.header.market);
                let i = match local.private.iter().position(|(k, _)| *k == key) {
                    Some(i) => i,
                    None => {
                        local.private.push((key, Default::default()));
                        local.private.len() - 1
                    }
                };
                let name = names.get(sid).map_or("", |n| n.as_str());
                local.private[i].1.apply(&ev, name);
            }
            match ev.body {
                Body::Book { .. } => {
                    if let (Some(top), Some(Some((i, p)))) = (ev.book(), map.get(sid)) {
                        let live = ev.header.state == BookState::Live;
                        if let (Some(b), Some(a)) = (top.bids().first(), top.asks().first()) {
                            let _ = arb.on_quote(*i, *p, b.px, a.px, live);
                        } else {
                            let _ = arb.invalidate(*i, *p);
                        }
                        last_seq[sid] = ev.header.seq;
                    }
                }
                Body::Bbo { bid_px, ask_px, .. } => {
                    // A book ticker only updates the quote if it is not older than the book.
                    if let Some(Some((i, p))) = map.get(sid) {
                        if ev.header.seq == 0 || ev.header.seq >= last_seq[sid] {
                            let _ = arb.on_quote(
                                *i,
                                *p,
                                bid_px,
                                ask_px,
                                ev.header.state == BookState::Live,
                            );
                        }
                    }
                }
                Body::Status { kind, .. } => {
                    if kind == StatusKind::Book && ev.header.state != BookState::Live {
                        if let Some(Some((i, p))) = map.get(sid) {
                            let _ = arb.invalidate(*i, *p);
                        }
                    }
                    if kind == StatusKind::PrivateGap {
                        local.private_gaps += 1;
                    }
                    if kind == StatusKind::FeedDown {
                        // Nothing of this venue and market is maintained any more.
                        local.feeds_down += 1;
                        if let Some(p) = arb.place_index(ev.header.venue, ev.header.market) {
                            for i in 0..arb.instruments() {
                                let _ = arb.invalidate(i, p);
                            }
                        }
                    }
                }
                Body::Error {
                    code,
                    channel,
                    message,
                } if local.errors.len() < 32 => {
                    local.errors.push(format!(
                        "{}.{} {} (code {code}): {}",
                        ev.header.venue.as_str(),
                        ev.header.market.as_str(),
                        channel.as_str(),
                        message.as_str()
                    ));
                }
                _ => {}
            }
            if n >= 4096 {
                break;
            }
        }
        if last_publish.elapsed() >= Duration::from_millis(100) {
            last_publish = Instant::now();
            local.stats = arb.stats();
            if let Ok(mut s) = shared.lock() {
                *s = local.clone();
            }
            if stop.load(Ordering::Relaxed) {
                return;
            }
        }
        if n == 0 {
            rx.poll_metrics();
            if spin {
                std::hint::spin_loop();
            } else {
                // Shared cores: park until a feed thread rings (or 100 ms, for the report).
                rx.wait(Duration::from_millis(100));
            }
        }
    }
}

fn fmt_px_units(units: u64) -> String {
    if units == 0 {
        "-".into()
    } else {
        // Display only: the status word holds the price at STATUS_PX_DECIMALS.
        format!(
            "{:.2}",
            units as f64 / 10f64.powi(cexfeed::types::STATUS_PX_DECIMALS as i32)
        )
    }
}

fn render_live(
    out: &mut String,
    views: &[FeedView],
    lat: &[(Stage, Percentiles)],
    strat: &StrategyShared,
    elapsed: f64,
    rates: &[u64],
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "cexfeed — {elapsed:5.1}s");
    let _ = writeln!(
        out,
        "{:<16} {:>9} {:>10} {:>7} {:>5} {:>7} {:>6}",
        "feed", "msgs/s", "msgs", "decerr", "gaps", "resyncs", "recon"
    );
    for (i, v) in views.iter().enumerate() {
        let c = v.shared.counters.snapshot();
        let _ = writeln!(
            out,
            "{:<16} {:>9} {:>10} {:>7} {:>5} {:>7} {:>6}{}",
            format!("{}.{}", v.venue.as_str(), v.market.as_str()),
            rates.get(i).copied().unwrap_or(0),
            c.messages,
            c.decode_errors,
            c.gaps,
            c.resyncs,
            c.reconnects,
            if v.shared.is_dead() {
                "  FEED THREAD DEAD"
            } else {
                ""
            }
        );
        for (_, name, st) in &v.shared.symbols {
            let _ = writeln!(
                out,
                "    {:<10} {:<9} seq {:>12}  bid {:>12}  ask {:>12}",
                name,
                st.state().as_str(),
                st.seq.load(Ordering::Relaxed),
                fmt_px_units(st.best_bid_units.load(Ordering::Relaxed)),
                fmt_px_units(st.best_ask_units.load(Ordering::Relaxed)),
            );
        }
    }
    let _ = writeln!(
        out,
        "{:<20} {:>10} {:>10} {:>10} {:>10}",
        "latency (ns)", "p50", "p99", "p99.9", "count"
    );
    for (s, p) in lat {
        let _ = writeln!(
            out,
            "    {:<16} {:>10} {:>10} {:>10} {:>10}",
            s.as_str(),
            p.p50,
            p.p99,
            p.p999,
            p.count
        );
    }
    let _ = writeln!(out, "arbitrage monitor (best spread after taker fees):");
    for s in &strat.stats {
        let cur = s
            .current
            .as_ref()
            .map(|o| {
                format!(
                    "buy {} {:.2} / sell {} {:.2} = {:+.2} bp",
                    o.buy,
                    o.buy_px.to_f64(),
                    o.sell,
                    o.sell_px.to_f64(),
                    o.net_bps
                )
            })
            .unwrap_or_else(|| "waiting for two live books".into());
        let ratio = if s.evaluations > 0 {
            100.0 * s.positive as f64 / s.evaluations as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "    {:<10} {cur}   positive {:.1}% of {}, spreads opened {}",
            s.instrument, ratio, s.evaluations, s.opened
        );
    }
    let kinds: Vec<String> = strat
        .by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    let _ = writeln!(out, "events to strategy: {}", strat.events);
    for chunk in kinds.chunks(5) {
        let _ = writeln!(out, "    {}", chunk.join(", "));
    }
}

fn summary(p: Percentiles) -> LatencySummary {
    LatencySummary {
        count: p.count,
        p50: p.p50,
        p99: p.p99,
        p999: p.p999,
        max: p.max,
    }
}

/// Run until `opts.duration`, then stop and report. `venue` (demo) enables the comparison of
/// final books with the venue's true books.
pub fn run(
    mut engine: Engine,
    rx: StrategyRx,
    opts: &RunOptions,
    venue: Option<&VenueHandle>,
    out: &mut dyn Write,
) -> anyhow::Result<Report> {
    engine.start()?;
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Mutex::new(StrategyShared::default()));
    let registry = engine.registry().clone();
    let strategy = {
        let (stop, shared, core, spin) = (
            stop.clone(),
            shared.clone(),
            opts.strategy_core,
            opts.strategy_spin,
        );
        std::thread::Builder::new()
            .name("strategy".into())
            .spawn(move || {
                if let Some(c) = core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: c });
                }
                strategy_loop(rx, registry, stop, shared, spin)
            })?
    };
    let views = engine.views();
    let mut prev_msgs: Vec<u64> = vec![0; views.len()];
    let mut last_draw = Instant::now();
    let mut tick = 0u64;
    let redraws = AtomicU64::new(0);
    let interrupted = || opts.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
    let mut inject = opts.inject_feed_panic;
    // An injected panic (test hook) is awaited, by condition with a generous deadline, before
    // the run ends: on a loaded machine the feed thread may reach its next tick late.
    let awaiting_injected = |engine: &Engine| {
        opts.inject_feed_panic
            .is_some_and(|f| !engine.dead_feeds().contains(&f))
            && started.elapsed() < opts.duration + Duration::from_secs(30)
    };
    while (started.elapsed() < opts.duration || awaiting_injected(&engine)) && !interrupted() {
        if opts.until_replay_done && engine.replay_done() {
            break;
        }
        if started.elapsed() >= Duration::from_secs(1) {
            if let Some((v, m)) = inject.take() {
                engine.inject_feed_panic(v, m);
            }
        }
        // Watches the feed threads' join handles too: a dead one is flagged in its view.
        let _ = engine.dead_feeds();
        std::thread::sleep(
            Duration::from_millis(100).min(opts.duration.saturating_sub(started.elapsed())),
        );
        if last_draw.elapsed() < opts.live_period && started.elapsed() < opts.duration {
            continue;
        }
        let dt = last_draw.elapsed().as_secs_f64().max(1e-3);
        last_draw = Instant::now();
        tick += 1;
        engine.collect_metrics();
        let rates: Vec<u64> = views
            .iter()
            .zip(prev_msgs.iter_mut())
            .map(|(v, p)| {
                let m = v.shared.counters.snapshot().messages;
                let r = ((m - *p) as f64 / dt) as u64;
                *p = m;
                r
            })
            .collect();
        if opts.live == LiveMode::Off {
            continue;
        }
        let strat = shared.lock().map(|s| s.clone()).unwrap_or_default();
        let mut text = String::new();
        render_live(
            &mut text,
            &views,
            &engine.latency_percentiles(),
            &strat,
            started.elapsed().as_secs_f64(),
            &rates,
        );
        if opts.live == LiveMode::Tty {
            let _ = write!(out, "\x1b[H\x1b[2J{text}");
        } else {
            let _ = writeln!(
                out,
                "--- t={:.1}s (tick {tick})\n{text}",
                started.elapsed().as_secs_f64()
            );
        }
        let _ = out.flush();
        redraws.fetch_add(1, Ordering::Relaxed);
    }
    // Quiesce the loopback market so the feeds can reach the venue's final sequence.
    if let Some(v) = venue {
        // A book still resyncing when the market stops may never bridge its snapshot.
        settle_books(v, &engine, false, Duration::from_secs(10));
        v.pause(true);
        settle_books(v, &engine, true, Duration::from_secs(10));
    }
    // Demo: the private consumers' state against the venue accounts (issue 17), by condition
    // with a deadline: the account is paused, the streams deliver what it logged before.
    let private_diffs = venue.map(|v| settle_private(v, &views, &shared, Duration::from_secs(10)));
    engine.collect_metrics();
    if opts.until_replay_done {
        // Every event of the replay reaches the consumer: wait (bounded) until it is idle.
        let mut last = u64::MAX;
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            std::thread::sleep(Duration::from_millis(100));
            let n = shared.lock().map(|s| s.events).unwrap_or(0);
            if n == last {
                break;
            }
            last = n;
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    // Every dead feed's `FeedDown` reaches the strategy (it is never dropped, finding 2):
    // wait for it (bounded) before stopping the strategy, whose count goes in the report.
    let dead = engine.dead_feeds().len() as u64;
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until && shared.lock().map_or(0, |s| s.feeds_down) < dead {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let _ = strategy.join();
    engine.collect_metrics();
    let _ = engine.dead_feeds();
    let finals = engine.stop();
    let duration_s = started.elapsed().as_secs_f64();
    let strat = shared.lock().map(|s| s.clone()).unwrap_or_default();
    let report = build_report(
        &engine,
        &views,
        &finals,
        &strat,
        duration_s,
        venue,
        opts,
        private_diffs.as_deref(),
    );
    write_outputs(&engine, &report, opts)?;
    Ok(report)
}

/// A private feed and how its strategy state differs from the venue account (empty = equal).
type PrivateDiffs = ((Venue, Market), Vec<String>);

/// Differences, per private feed, between what the strategy holds and the venue account, once
/// they are gone or `limit` passed (the last ones then).
fn settle_private(
    venue: &VenueHandle,
    views: &[FeedView],
    shared: &Mutex<StrategyShared>,
    limit: Duration,
) -> Vec<PrivateDiffs> {
    let deadline = Instant::now() + limit;
    loop {
        let strat = shared.lock().map(|s| s.clone()).unwrap_or_default();
        let diffs: Vec<PrivateDiffs> = views
            .iter()
            .filter(|v| v.private)
            .map(|v| {
                let key = (v.venue, v.market);
                let held = strat
                    .private
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, h)| h.clone())
                    .unwrap_or_default();
                (
                    key,
                    crate::demo::private_differences(venue, v.venue, v.market, &held),
                )
            })
            .collect();
        if diffs.iter().all(|(_, d)| d.is_empty()) || Instant::now() >= deadline {
            return diffs;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[allow(clippy::too_many_arguments)]
fn build_report(
    engine: &Engine,
    views: &[FeedView],
    finals: &[FeedFinal],
    strat: &StrategyShared,
    duration_s: f64,
    venue: Option<&VenueHandle>,
    opts: &RunOptions,
    private_diffs: Option<&[PrivateDiffs]>,
) -> Report {
    let mut report = Report {
        duration_s,
        scenarios: opts.scenarios.clone(),
        ..Default::default()
    };
    for (venue, market, tap, w) in engine.record_stats() {
        let files = finals
            .iter()
            .find(|f| f.venue == Some(venue) && f.market == Some(market))
            .map(|f| f.recorded.iter().map(|p| p.display().to_string()).collect())
            .unwrap_or_default();
        let raw = w.raw_bytes.load(Ordering::Relaxed);
        let file = w.file_bytes.load(Ordering::Relaxed);
        report.record.push(crate::report::RecordReport {
            venue: venue.as_str().into(),
            market: market.as_str().into(),
            records: tap.records.load(Ordering::Relaxed),
            dropped: tap.dropped.load(Ordering::Relaxed),
            raw_bytes: raw,
            file_bytes: file,
            compression_ratio: if file > 0 {
                raw as f64 / file as f64
            } else {
                0.0
            },
            frames: w.frames.load(Ordering::Relaxed),
            write_errors: w.write_errors.load(Ordering::Relaxed),
            files,
        });
    }
    for (venue, market, st) in engine.replay_stats() {
        let elapsed = st.elapsed_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let messages = st.messages.load(Ordering::Relaxed);
        report.replay.push(crate::report::ReplayReport {
            venue: venue.as_str().into(),
            market: market.as_str().into(),
            records: st.records.load(Ordering::Relaxed),
            messages,
            orphan_messages: st.orphan_messages.load(Ordering::Relaxed),
            rest_bodies: st.rest.load(Ordering::Relaxed),
            gap_records: st.gap_records.load(Ordering::Relaxed),
            bad_frames: st.bad_frames.load(Ordering::Relaxed),
            errors: st.errors.lock().map(|e| e.clone()).unwrap_or_default(),
            elapsed_s: elapsed,
            messages_per_s: if elapsed > 0.0 {
                messages as f64 / elapsed
            } else {
                0.0
            },
        });
    }
    let mut all_match = true;
    let mut compared = 0;
    for v in views {
        let c = v.shared.counters.snapshot();
        let fin = finals
            .iter()
            .find(|f| f.venue == Some(v.venue) && f.market == Some(v.market));
        let mut fr = FeedReport {
            venue: v.venue.as_str().into(),
            market: v.market.as_str().into(),
            messages: c.messages,
            bytes: c.bytes,
            decode_errors: c.decode_errors,
            gaps: c.gaps,
            resyncs: c.resyncs,
            reconnects: c.reconnects,
            thread_alive: !v.shared.is_dead(),
            ..Default::default()
        };
        let st = &v.shared.stats;
        fr.resync_timeouts = st.resync_timeouts.load(Ordering::Relaxed);
        fr.sub_retries = st.sub_retries.load(Ordering::Relaxed);
        fr.venue_notices = st.venue_notices.load(Ordering::Relaxed);
        fr.pong_timeouts = st.pong_timeouts.load(Ordering::Relaxed);
        fr.auth_failures = st.auth_failures.load(Ordering::Relaxed);
        fr.outbound_dropped = st.outbound_dropped.load(Ordering::Relaxed);
        fr.resolve_failures = v.net.as_ref().map_or(0, |n| n.snapshot().resolve_failures);
        for (i, k) in ["orders", "fills", "balances", "positions"]
            .iter()
            .enumerate()
        {
            let n = st.private_events[i].load(Ordering::Relaxed);
            if n > 0 {
                fr.private_events.insert(k.to_string(), n);
            }
        }
        if v.private {
            let diffs =
                private_diffs.and_then(|d| d.iter().find(|(k, _)| *k == (v.venue, v.market)));
            fr.private = Some(PrivateReport {
                reconciled: st.reconciled.load(Ordering::Relaxed),
                gaps_open: st.gaps_open.load(Ordering::Relaxed),
                snapshot_events: st.snapshot_events.load(Ordering::Relaxed),
                recon_failures: st.recon_failures.load(Ordering::Relaxed),
                duplicates_dropped: st.private_duplicates.load(Ordering::Relaxed),
                matches_venue: diffs.map(|(_, d)| d.is_empty()),
                differences: diffs.map(|(_, d)| d.clone()).unwrap_or_default(),
            });
        }
        fr.channel_errors = v.shared.error_texts();
        if let Some(fin) = fin {
            if let Some(e) = &fin.error {
                fr.channel_errors.push(format!("feed thread: {e}"));
                fr.thread_alive = false;
            }
            report.ring.overruns += fin.ring_dropped;
            report.ring.conflated += fin.ring_conflated;
            report.ring.events += fin.ring_sent;
            for b in &fin.books {
                let lv = |l: &cexfeed::event::Level| [l.px.to_string(), l.qty.to_string()];
                // A dead feed's books are not maintained, whatever state they were left in.
                let state = if fr.thread_alive {
                    b.state
                } else {
                    BookState::Stale
                };
                let mut br = BookReport {
                    symbol: b.symbol.clone(),
                    state: state.as_str().into(),
                    seq: b.seq,
                    bids: b.bids.iter().take(10).map(lv).collect(),
                    asks: b.asks.iter().take(10).map(lv).collect(),
                    matches_venue: None,
                };
                if let Some(vh) = venue {
                    let n = opts.compare_levels;
                    let ok = state == BookState::Live
                        && crate::demo::venue_book(vh, v.venue, v.market, &b.symbol).is_some_and(
                            |(seq, vb, va)| {
                                seq == b.seq
                                    && b.bids.iter().take(n).eq(vb.iter().take(n))
                                    && b.asks.iter().take(n).eq(va.iter().take(n))
                            },
                        );
                    br.matches_venue = Some(ok);
                    all_match &= ok;
                    compared += 1;
                }
                fr.books.push(br);
            }
        }
        report.feeds.push(fr);
    }
    if let Some(vh) = venue {
        let st = vh.stats();
        for (sc, _) in vh.scenarios() {
            report
                .venue_faults
                .insert(sc.name().to_string(), st.injected(*sc));
        }
    }
    if venue.is_some() {
        report.venue_books_match = Some(all_match && compared > 0);
    }
    if let Some(d) = private_diffs.filter(|d| !d.is_empty()) {
        report.private_state_matches_venue = Some(d.iter().all(|(_, x)| x.is_empty()));
    }
    for (s, p) in engine.latency_percentiles() {
        report.latency_ns.insert(s.as_str().into(), summary(p));
    }
    let mut fees = BTreeMap::new();
    for v in views {
        fees.insert(
            format!("{}.{}", v.venue.as_str(), v.market.as_str()),
            default_taker_fee_bps(v.venue, v.market),
        );
    }
    report.strategy = StrategyReport {
        name: "cross-venue arbitrage monitor".into(),
        fees_bps: fees,
        events_consumed: strat.events,
        events_by_kind: strat
            .by_kind
            .iter()
            .map(|(k, v)| (k.to_string(), *v))
            .collect(),
        errors_seen: strat.errors.clone(),
        private_gaps: strat.private_gaps,
        feeds_down: strat.feeds_down,
        instruments: strat
            .stats
            .iter()
            .map(|s| InstrumentReport {
                instrument: s.instrument.clone(),
                evaluations: s.evaluations,
                positive: s.positive,
                positive_ratio: if s.evaluations > 0 {
                    s.positive as f64 / s.evaluations as f64
                } else {
                    0.0
                },
                best_net_bps: s.best_ever.as_ref().map(|o| o.net_bps),
                best_buy: s.best_ever.as_ref().map(|o| o.buy.clone()),
                best_sell: s.best_ever.as_ref().map(|o| o.sell.clone()),
                opportunities_opened: s.opened,
                opportunities_closed: s.closed,
            })
            .collect(),
        opportunities: strat.stats.iter().map(|s| s.opened).sum(),
    };
    report
}

fn write_outputs(engine: &Engine, report: &Report, opts: &RunOptions) -> anyhow::Result<()> {
    let Some(path) = &opts.report else {
        return Ok(());
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, report.to_json())?;
    let stem = path.with_extension("");
    let mut series = Vec::new();
    for (stage, h) in engine.latency() {
        let mut f = std::fs::File::create(format!("{}.{}.hgrm", stem.display(), stage.as_str()))?;
        write_hgrm(&h, 1.0, &mut f)?;
        if !h.is_empty() {
            let pts = [0.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99]
                .iter()
                .map(|&p| (p, h.value_at_percentile(p)))
                .collect();
            series.push(Series {
                name: stage.as_str(),
                points: pts,
            });
        }
    }
    std::fs::write(
        format!("{}.latency.svg", stem.display()),
        latency_svg("cexfeed latency by stage (ns)", &series),
    )?;
    Ok(())
}

/// The feeds whose thread died during the run (`venue.market`); the caller exits non-zero.
pub fn dead_feeds(r: &Report) -> Vec<String> {
    r.feeds
        .iter()
        .filter(|f| !f.thread_alive)
        .map(|f| format!("{}.{}", f.venue, f.market))
        .collect()
}

/// The human summary printed at the end.
pub fn print_summary(r: &Report, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "\n=== cexfeed summary ({:.1} s) ===", r.duration_s)?;
    for x in &r.record {
        writeln!(
            out,
            "recorded {}.{}: {} records ({} lost to a full ring), {} bytes -> {} bytes (x{:.1}), {} frames, {} files{}",
            x.venue,
            x.market,
            x.records,
            x.dropped,
            x.raw_bytes,
            x.file_bytes,
            x.compression_ratio,
            x.frames,
            x.files.len(),
            x.files.first().map(|f| format!(" ({f} ...)")).unwrap_or_default()
        )?;
    }
    for x in &r.replay {
        writeln!(
            out,
            "replayed {}.{}: {} records, {} messages in {:.3} s ({:.0} msg/s), {} REST bodies, {} gap-lost, {} orphan, {} bad frames",
            x.venue,
            x.market,
            x.records,
            x.messages,
            x.elapsed_s,
            x.messages_per_s,
            x.rest_bodies,
            x.gap_records,
            x.orphan_messages,
            x.bad_frames
        )?;
        for e in &x.errors {
            writeln!(out, "    {e}")?;
        }
    }
    for f in &r.feeds {
        writeln!(
            out,
            "{}.{}: {} msgs, {} bytes, {} decode errors, {} gaps, {} resyncs, {} reconnects",
            f.venue,
            f.market,
            f.messages,
            f.bytes,
            f.decode_errors,
            f.gaps,
            f.resyncs,
            f.reconnects
        )?;
        if !f.thread_alive {
            writeln!(
                out,
                "    FEED THREAD DEAD: its books were not maintained after it died"
            )?;
        }
        for b in &f.books {
            let top = |l: &Vec<[String; 2]>| {
                l.first()
                    .map(|x| format!("{} x {}", x[0], x[1]))
                    .unwrap_or("-".into())
            };
            writeln!(
                out,
                "    {:<10} {:<9} seq {:>12}  bid {}  ask {}{}",
                b.symbol,
                b.state,
                b.seq,
                top(&b.bids),
                top(&b.asks),
                match b.matches_venue {
                    Some(true) => "  = venue",
                    Some(false) => "  != venue",
                    None => "",
                }
            )?;
        }
        if !f.private_events.is_empty() {
            writeln!(out, "    private events: {:?}", f.private_events)?;
        }
        if let Some(p) = &f.private {
            writeln!(
                out,
                "    private state: {} start-up events, {} reconciled, {} gaps open, {} REST failures{}",
                p.snapshot_events,
                p.reconciled,
                p.gaps_open,
                p.recon_failures,
                match p.matches_venue {
                    Some(m) => format!(", equals the venue account: {m}"),
                    None => String::new(),
                }
            )?;
            for d in p.differences.iter().take(3) {
                writeln!(out, "    private difference: {d}")?;
            }
        }
        for e in f.channel_errors.iter().take(5) {
            writeln!(out, "    error: {e}")?;
        }
    }
    for (k, l) in &r.latency_ns {
        writeln!(
            out,
            "latency {k:<17} n={:<9} p50 {:>8} ns  p99 {:>8} ns  p99.9 {:>9} ns  max {:>10} ns",
            l.count, l.p50, l.p99, l.p999, l.max
        )?;
    }
    writeln!(
        out,
        "ring overruns: {} (conflated book updates: {})",
        r.ring.overruns, r.ring.conflated
    )?;
    for i in &r.strategy.instruments {
        writeln!(
            out,
            "arbitrage {}: positive after fees in {} of {} evaluations ({:.2}%), best {}",
            i.instrument,
            i.positive,
            i.evaluations,
            100.0 * i.positive_ratio,
            i.best_net_bps
                .map(|b| format!(
                    "{b:+.2} bp ({} → {})",
                    i.best_buy.clone().unwrap_or_default(),
                    i.best_sell.clone().unwrap_or_default()
                ))
                .unwrap_or_else(|| "n/a".into())
        )?;
    }
    writeln!(
        out,
        "arbitrage opportunities (spreads opened after fees): {}",
        r.strategy.opportunities
    )?;
    if let Some(m) = r.venue_books_match {
        writeln!(out, "final books equal the venue's true books: {m}")?;
    }
    if let Some(m) = r.private_state_matches_venue {
        writeln!(out, "private state equals the venue accounts: {m}")?;
    }
    if !r.venue_faults.is_empty() {
        let f: Vec<String> = r
            .venue_faults
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        writeln!(out, "faults injected by the venue: {}", f.join(", "))?;
    }
    Ok(())
}

/// Wait until every book of every live feed that ever had one is `Live` (`at_venue`: at the
/// paused venue's frozen version), or `limit` passed: a machine busy on every core can outlast
/// a fixed sleep. The comparison that follows still decides whether the books match.
fn settle_books(venue: &VenueHandle, engine: &Engine, at_venue: bool, limit: Duration) {
    let deadline = Instant::now() + limit;
    loop {
        let settled = engine.views().iter().all(|v| {
            let sh = &v.shared;
            sh.is_dead()
                || sh.symbols.iter().all(|(_, name, st)| {
                    st.updates.load(Ordering::Relaxed) == 0
                        || st.state() == BookState::Live
                            && (!at_venue
                                || crate::demo::venue_book(venue, sh.venue, sh.market, name)
                                    .is_none_or(|(seq, _, _)| {
                                        st.seq.load(Ordering::Relaxed) == seq
                                    }))
                })
        });
        if settled || Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
