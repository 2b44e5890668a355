//! Tick to signal (issue 14): the venue moves one BTC fair value shared by MEXC spot, Gate.io
//! spot and Gate.io USDT futures, each seeing a move after its own delay (the venue's lead-lag
//! setting, `cexfeed_venue::fair`); cexfeed runs the three feeds into one strategy thread that
//! runs the arbitrage monitor (`cexfeed-arb`, the demo's). Measured per signal: the venue's
//! send instant of the move that opened the spread (the first venue's push carrying it) → the
//! instant the monitor returned `Signal::Opened` on the strategy thread. CLOCK_MONOTONIC on
//! both sides, one process.
//!
//! Which move opened a spread: the update that triggered the signal carries a book version;
//! the venue's marks (`VenueHandle::fair_marks`) say which move that version first reflected.
//! A signal is attributed only when that update is the first from its place to carry the move
//! (the place's previous update was older than the move's mark); others (a spread opened by
//! the book's own churn, or by a later update) are counted as unattributed, not measured.
//!
//! The venue pushes on its channels' intervals, as the real venues do and as the demo runs
//! (MEXC 10 ms, Gate 20 ms): a move's reprice (quotes pulled, touch requoted) leaves in one
//! frame per venue. Measuring from the send excludes the interval wait.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cexfeed::config::{Config, FeedConfig, GateBookChannel, Runtime};
use cexfeed::engine::Engine;
use cexfeed::net::WaitMode;
use cexfeed::ring::Body;
use cexfeed::types::BookState;
use cexfeed_arb::{normalize_pair, ArbMonitor, Place, Signal};
use cexfeed_venue::fair::LeadLag;
use cexfeed_venue::{Market, PushMode, Venue, VenueConfig, VenueHandle, VenueId};
use hdrhistogram::Histogram;

use crate::clients::{Live, StrategyIdle, Wait};

/// The places measured (one BTC symbol each).
const PLACES: [(VenueId, Market, &str); 3] = [
    (VenueId::Mexc, Market::Spot, "BTCUSDT"),
    (VenueId::Gateio, Market::Spot, "BTC_USDT"),
    (VenueId::Gateio, Market::Futures, "BTC_USDT"),
];

/// What one tick-to-signal run measured.
pub struct TickResult {
    pub tls: bool,
    pub wait: Wait,
    /// Book changes per second per symbol the venue was asked for (churn between moves).
    pub rate: u64,
    /// Move (first venue's send) → `Signal::Opened` on the strategy thread.
    pub hist: Histogram<u64>,
    /// The triggering place's own send of the move → the signal (the client's part alone:
    /// without the other venues' lag when a later venue's update opened the spread).
    pub own: Histogram<u64>,
    /// Spreads the monitor opened in the window.
    pub signals: u64,
    /// Of those, attributed to a move and measured.
    pub attributed: u64,
    /// Fair-value jumps the venue made in the window.
    pub jumps: u64,
    /// Attributed signals whose move had no send instant yet (not measured).
    pub unmatched: u64,
    /// Measured signals per place that triggered them (`venue.market`).
    pub by_trigger: Vec<(String, u64)>,
    pub error: Option<String>,
}

/// The venue of the tick-to-signal run: three BTC books, lead-lag with a jump about every
/// 50 ms (so a few seconds give hundreds of signals), pushes on the channels' intervals.
pub fn venue_config(tls: bool, rate: u64) -> VenueConfig {
    VenueConfig {
        tls,
        rate_per_sec: rate.min(u32::MAX as u64) as u32,
        push_mode: PushMode::Interval,
        send_stamp_before_write: true,
        mexc_symbols: vec![PLACES[0].2.into()],
        gate_spot_symbols: vec![PLACES[1].2.into()],
        gate_futures_symbols: vec![PLACES[2].2.into()],
        gate_full_period: Duration::ZERO,
        idle_rules: false,
        gate_idle_timeout: Duration::ZERO,
        private_period: Duration::ZERO,
        lead_lag: Some(LeadLag {
            jump_per_mille: 200,
            ..LeadLag::default()
        }),
        ..VenueConfig::default()
    }
}

/// One signal as the strategy thread saw it.
#[derive(Debug, Clone, Copy)]
struct SignalRec {
    /// Index into [`PLACES`] of the place whose update triggered it.
    place: usize,
    /// That update's book version, and the place's previous one.
    seq: u64,
    prev_seq: u64,
    /// When the monitor returned the signal.
    t_ns: u64,
}

fn place_of(v: cexfeed::types::Venue, m: cexfeed::types::Market) -> usize {
    use cexfeed::types::{Market as M, Venue as V};
    match (v, m) {
        (V::Mexc, _) => 0,
        (V::Gateio, M::Spot) => 1,
        (V::Gateio, M::Futures) => 2,
    }
}

/// Run the venue and the cexfeed client for `warmup + duration`; measure the window.
pub fn run(tls: bool, wait: Wait, rate: u64, warmup: Duration, duration: Duration) -> TickResult {
    let mut res = TickResult {
        tls,
        wait,
        rate,
        hist: crate::new_hist(),
        own: crate::new_hist(),
        signals: 0,
        attributed: 0,
        jumps: 0,
        unmatched: 0,
        by_trigger: Vec::new(),
        error: None,
    };
    let venue = match Venue::start(venue_config(tls, rate)) {
        Ok(v) => v,
        Err(e) => {
            res.error = Some(format!("venue: {e}"));
            return res;
        }
    };
    let live = Arc::new(Live::default());
    let cfg = client_config(&venue, wait);
    let l2 = live.clone();
    let h = match std::thread::Builder::new()
        .name("bench-tick".into())
        .spawn(move || strategy(cfg, wait, &l2))
    {
        Ok(h) => h,
        Err(e) => {
            res.error = Some(e.to_string());
            return res;
        }
    };
    // Ready: the monitor has evaluated (two live books at least).
    let t = Instant::now();
    while live.seen.load(Ordering::Relaxed) == 0
        && t.elapsed() < Duration::from_secs(30)
        && !h.is_finished()
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(warmup);
    let t0 = cexfeed::types::now_ns();
    std::thread::sleep(duration);
    let t1 = cexfeed::types::now_ns();
    live.stop.store(true, Ordering::Relaxed);
    let recs = match h.join() {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            res.error = Some(e);
            venue.stop();
            return res;
        }
        Err(_) => {
            res.error = Some("strategy thread panicked".into());
            venue.stop();
            return res;
        }
    };
    if live.seen.load(Ordering::Relaxed) == 0 {
        res.error = Some("the monitor never had two live books".into());
        venue.stop();
        return res;
    }
    measure(&venue, &recs, t0, t1, &mut res);
    venue.stop();
    res
}

fn measure(venue: &VenueHandle, recs: &[SignalRec], t0: u64, t1: u64, res: &mut TickResult) {
    let marks: Vec<_> = PLACES
        .iter()
        .map(|(v, m, s)| venue.fair_marks(*v, *m, s))
        .collect();
    let moves = venue.fair_moves("BTC");
    res.jumps = moves
        .iter()
        .filter(|m| m.jump && m.made_ns >= t0 && m.made_ns < t1)
        .count() as u64;
    // First send of a move over the three places.
    let first_send = |id: u64| -> Option<u64> {
        marks
            .iter()
            .filter_map(|ms| {
                ms.binary_search_by_key(&id, |k| k.move_id)
                    .ok()
                    .map(|i| ms[i].sent_ns)
            })
            .filter(|&ns| ns != 0)
            .min()
    };
    let mut by = [0u64; 3];
    for r in recs.iter().filter(|r| r.t_ns >= t0 && r.t_ns < t1) {
        res.signals += 1;
        let ms = &marks[r.place];
        // The newest move this update reflects (marks are in version order).
        let i = ms.partition_point(|k| k.version <= r.seq);
        let Some(mark) = i.checked_sub(1).map(|i| ms[i]) else {
            continue;
        };
        if r.prev_seq >= mark.version {
            continue; // the place already showed this move: not what opened the spread
        }
        res.attributed += 1;
        let Some(sent) = first_send(mark.move_id) else {
            res.unmatched += 1;
            continue;
        };
        res.hist
            .saturating_record(r.t_ns.saturating_sub(sent).max(1));
        if mark.sent_ns != 0 {
            res.own
                .saturating_record(r.t_ns.saturating_sub(mark.sent_ns).max(1));
        }
        by[r.place] += 1;
    }
    res.by_trigger = PLACES
        .iter()
        .zip(by)
        .filter(|(_, n)| *n > 0)
        .map(|((v, m, _), n)| {
            let v = match v {
                VenueId::Mexc => "mexc",
                VenueId::Gateio => "gateio",
            };
            let m = match m {
                Market::Spot => "spot",
                Market::Futures => "futures",
            };
            (format!("{v}.{m}"), n)
        })
        .collect();
}

fn client_config(v: &VenueHandle, wait: Wait) -> Config {
    let feed = |venue: &str,
                market: &str,
                symbol: &str,
                ws_url: String,
                rest_url: String,
                book_channel,
                depth,
                interval: &str| FeedConfig {
        venue: venue.into(),
        market: market.into(),
        symbols: vec![symbol.into()],
        channels: vec!["orderbook".into()],
        ws_url: Some(ws_url),
        rest_url: Some(rest_url),
        ca_file: v.ca_path().map(|p| p.to_path_buf()),
        core: None,
        book_channel,
        depth: Some(depth),
        interval: Some(interval.into()),
        api_key_env: None,
        api_secret_env: None,
        user_id: None,
        listen_key_keepalive_s: None,
        credentials: None,
    };
    Config {
        duration_s: 0,
        report: None,
        runtime: Runtime {
            wait: match wait {
                Wait::Block => WaitMode::Block,
                Wait::Spin => WaitMode::Spin,
            },
            ring_capacity: 16_384,
            top_n: 5,
            ..Runtime::default()
        },
        feeds: vec![
            feed(
                "mexc",
                "spot",
                PLACES[0].2,
                v.mexc_ws_url(),
                v.mexc_rest_url(),
                GateBookChannel::Obu,
                1000,
                "10ms",
            ),
            feed(
                "gateio",
                "spot",
                PLACES[1].2,
                v.gate_spot_ws_url(),
                v.gate_rest_url(),
                GateBookChannel::OrderBookUpdate,
                20,
                "20ms",
            ),
            feed(
                "gateio",
                "futures",
                PLACES[2].2,
                v.gate_futures_ws_url(),
                v.gate_rest_url(),
                GateBookChannel::OrderBookUpdate,
                20,
                "20ms",
            ),
        ],
        publish: None,
        record: None,
    }
}

/// The strategy thread: the engine's consumer, the monitor, a preallocated signal log.
fn strategy(cfg: Config, wait: Wait, live: &Live) -> Result<Vec<SignalRec>, String> {
    let resolved = cfg.resolve().map_err(|e| e.to_string())?;
    let mut engine = Engine::new(resolved.engine).map_err(|e| e.to_string())?;
    let mut rx = engine.consumer().map_err(|e| e.to_string())?;
    for (v, m, s) in [
        ("mexc", "spot", PLACES[0].2),
        ("gateio", "spot", PLACES[1].2),
        ("gateio", "futures", PLACES[2].2),
    ] {
        engine
            .bind(&format!("{v}.{m}.orderbook.{s}"), rx.id())
            .map_err(|e| e.to_string())?;
    }
    let registry = engine.registry().clone();
    let places: Vec<Place> = [
        (cexfeed::types::Venue::Mexc, cexfeed::types::Market::Spot),
        (cexfeed::types::Venue::Gateio, cexfeed::types::Market::Spot),
        (
            cexfeed::types::Venue::Gateio,
            cexfeed::types::Market::Futures,
        ),
    ]
    .into_iter()
    .map(|(v, m)| Place::new(v, m))
    .collect();
    let mut arb = ArbMonitor::new(places, vec!["BTC/USDT".into()]);
    // SymbolId → place index (every symbol here is BTC/USDT).
    let map: Vec<Option<usize>> = registry
        .iter()
        .map(|(_, m)| {
            (normalize_pair(m.venue, &m.name).as_deref() == Some("BTC/USDT"))
                .then(|| place_of(m.venue, m.market))
        })
        .collect();
    engine.start().map_err(|e| e.to_string())?;
    let mut out: Vec<SignalRec> = Vec::with_capacity(1 << 16);
    let mut last_seq = [0u64; 3];
    let mut idle = StrategyIdle::new(&mut rx, wait);
    while !live.stop.load(Ordering::Relaxed) {
        let Some(ev) = rx.try_recv() else {
            idle.idle(&mut rx);
            continue;
        };
        idle.busy();
        let Body::Book { .. } = ev.body else {
            continue;
        };
        let Some(Some(p)) = map.get(ev.header.symbol.0 as usize).copied() else {
            continue;
        };
        let Some(top) = ev.book() else { continue };
        let live_book = ev.header.state == BookState::Live;
        let sig = match (top.bids().first(), top.asks().first()) {
            (Some(b), Some(a)) => arb.on_quote(0, p, b.px, a.px, live_book),
            _ => arb.invalidate(0, p),
        };
        let t = cexfeed::types::now_ns();
        let seq = ev.header.seq;
        if let Some(Signal::Opened { .. }) = sig {
            if out.len() < out.capacity() {
                out.push(SignalRec {
                    place: p,
                    seq,
                    prev_seq: last_seq[p],
                    t_ns: t,
                });
            }
        }
        last_seq[p] = seq;
        if live_book {
            live.seen.fetch_add(1, Ordering::Relaxed);
        }
    }
    engine.stop();
    Ok(out)
}
