//! `cexfeed-bench`: the latency lab. Starts the loopback venue in process and, cell by cell
//! (client × venue/market × TLS/plain × push rate × wait mode), measures per push the venue's
//! send instant → the instant the client's consumer had it (CLOCK_MONOTONIC on both sides; the
//! venue's send-time side channel keyed by book version), with hdrhistogram percentiles.
//!
//! Clients: `cexfeed` (this library: feed thread → ring → strategy thread), `tokio-baseline`
//! (tools/baseline), `floor` (blocking read + TLS + deframe, no decoding), `ccxt`
//! (tools/ccxt-bench.sh, when Python 3 is available or `--ccxt` is given).
//!
//! ```text
//! cargo run --release -p cexfeed-bench -- --duration 5s --json bench.json --out bench-out
//! ```
//!
//! Rates: a fixed rate is open loop (the venue makes that many book changes per second, one
//! push each, whether the client keeps up or not); `max` is closed loop: the venue makes
//! changes as fast as its pushes are read, with at most [`MAX_BACKLOG`] unread changes.
//!
//! Options: `--duration DUR` per cell (5s), `--warmup DUR` (1s), `--rates 10k,100k,max`,
//! `--max-rate N` (the ceiling `max` asks the venue for, 1000000), `--feeds mexc.spot,gateio.spot,
//! gateio.futures`, `--tls both|on|off`, `--clients cexfeed,tokio-baseline,floor[,ccxt]`,
//! `--ccxt` / `--no-ccxt`, `--ccxt-rates 10k` (rates ccxt is run at), `--wait block|spin|both`,
//! `--json FILE`, `--out DIR` (`.hgrm` per cell and `latency.svg`; default `bench-out`).
//! `--framing own|tungstenite|both|tungstenite,own` (default: the library's [`Framing::default`]): cexfeed's
//! WebSocket framing; `both` runs the two side by side in each cell group, one after the other
//! (JSON key `framing` on cexfeed entries, issue 14).
//! `--record-copy-cost` only times rustls 0.23's per-record plaintext copy (see tuning.md);
//! `--clock-cost` only times a clock read (CLOCK_MONOTONIC against the TSC);
//! `--memory N` only measures resident memory with 3 feeds × N symbols and 1 000-level books.
//! `--tick-to-signal on|off|only` (default on): the tick-to-signal row (`tick.rs`): the venue's
//! shared fair value moves, venue send of the move → the arbitrage monitor's signal, per TLS
//! setting and wait mode; `--tick-rate N` the venue's churn per symbol between moves (2000/s).

mod ccxt;
mod clients;
mod memory;
mod report;
mod result;
mod tick;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cexfeed::net::Framing;
use cexfeed_venue::{Market, PushMode, Venue, VenueConfig, VenueHandle, VenueId};
use hdrhistogram::Histogram;

use clients::{Client, Live, Wait};

/// The venue/market streams measured (one symbol each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FeedKind {
    /// MEXC spot aggregated depth (protobuf), `spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT`.
    MexcSpot,
    /// Gate.io spot `spot.order_book_update` `["BTC_USDT","20ms"]`.
    GateSpot,
    /// Gate.io USDT futures `futures.order_book_update` `["BTC_USDT","20ms","20"]`.
    GateFutures,
}

/// A stream to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Feed {
    pub kind: FeedKind,
}

impl Feed {
    pub fn venue(self) -> &'static str {
        match self.kind {
            FeedKind::MexcSpot => "mexc",
            _ => "gateio",
        }
    }
    pub fn market(self) -> &'static str {
        match self.kind {
            FeedKind::GateFutures => "futures",
            _ => "spot",
        }
    }
    pub fn symbol(self) -> &'static str {
        match self.kind {
            FeedKind::MexcSpot => "BTCUSDT",
            _ => "BTC_USDT",
        }
    }
    fn venue_ids(self) -> (VenueId, Market) {
        match self.kind {
            FeedKind::MexcSpot => (VenueId::Mexc, Market::Spot),
            FeedKind::GateSpot => (VenueId::Gateio, Market::Spot),
            FeedKind::GateFutures => (VenueId::Gateio, Market::Futures),
        }
    }
    pub fn ws_url(self, v: &VenueHandle) -> String {
        match self.kind {
            FeedKind::MexcSpot => v.mexc_ws_url(),
            FeedKind::GateSpot => v.gate_spot_ws_url(),
            FeedKind::GateFutures => v.gate_futures_ws_url(),
        }
    }
    /// The text frame that subscribes the stream (what cexfeed subscribes to as well).
    pub fn subscribe_frame(self) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        match self.kind {
            FeedKind::MexcSpot => {
                r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"]}"#.into()
            }
            FeedKind::GateSpot => format!(
                r#"{{"time":{now},"id":1,"channel":"spot.order_book_update","event":"subscribe","payload":["BTC_USDT","20ms"]}}"#
            ),
            FeedKind::GateFutures => format!(
                r#"{{"time":{now},"id":1,"channel":"futures.order_book_update","event":"subscribe","payload":["BTC_USDT","20ms","20"]}}"#
            ),
        }
    }
    fn parse(s: &str) -> Option<Feed> {
        let kind = match s {
            "mexc.spot" => FeedKind::MexcSpot,
            "gateio.spot" => FeedKind::GateSpot,
            "gateio.futures" => FeedKind::GateFutures,
            _ => return None,
        };
        Some(Feed { kind })
    }
    fn label(self) -> String {
        format!("{}.{}", self.venue(), self.market())
    }
}

/// A push rate: a number of pushes per second, or as fast as the venue goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rate {
    Fixed(u64),
    Max,
}

impl Rate {
    fn parse(s: &str) -> Option<Rate> {
        if s == "max" {
            return Some(Rate::Max);
        }
        let (num, mul) = match s.strip_suffix(['k', 'K']) {
            Some(n) => (n, 1_000),
            None => match s.strip_suffix(['m', 'M']) {
                Some(n) => (n, 1_000_000),
                None => (s, 1),
            },
        };
        num.parse::<u64>().ok().map(|n| Rate::Fixed(n * mul))
    }
    pub fn label(self) -> String {
        match self {
            Rate::Max => "max".into(),
            Rate::Fixed(n) if n % 1000 == 0 => format!("{}k", n / 1000),
            Rate::Fixed(n) => n.to_string(),
        }
    }
    fn asked(self, max: u64) -> u64 {
        match self {
            Rate::Fixed(n) => n,
            Rate::Max => max,
        }
    }
}

/// What one cell measured.
pub struct CellResult {
    pub client: Client,
    pub feed: Feed,
    pub tls: bool,
    pub rate: Rate,
    /// Pushes per second the venue was asked for.
    pub rate_asked: u64,
    pub wait: Wait,
    /// cexfeed's WebSocket framing (`None` for the other clients).
    pub framing: Option<Framing>,
    /// Venue send → consumer.
    pub hist: Histogram<u64>,
    /// Stages where the client exposes them: (name, histogram).
    pub stages: Vec<(&'static str, Histogram<u64>)>,
    /// Book changes the venue made per second in the window.
    pub venue_rate: f64,
    /// Pushes the consumer had per second in the window.
    pub achieved_rate: f64,
    /// The client kept up: it consumed ≥ 95 % of the venue's changes and its backlog at the
    /// end of the window was under 100 ms worth of pushes (the venue's send queue bounded).
    pub kept_up: bool,
    /// Venue versions not yet consumed at the end of the window.
    pub backlog: u64,
    /// Samples whose send instant was not found (overwritten or never recorded).
    pub unmatched: u64,
    /// Samples read before the venue stamped the send instant (recorded as 0).
    pub early: u64,
    /// Filled by [`report::sustained`]: the highest rate this client kept up with on this
    /// feed, TLS setting and wait mode.
    pub sustained: u64,
    pub error: Option<String>,
}

struct Opts {
    duration: Duration,
    warmup: Duration,
    rates: Vec<Rate>,
    max_rate: u64,
    feeds: Vec<Feed>,
    tls: Vec<bool>,
    clients: Vec<Client>,
    ccxt_rates: Vec<Rate>,
    waits: Vec<Wait>,
    /// cexfeed's framings to run (`--framing`).
    framings: Vec<Framing>,
    json: Option<std::path::PathBuf>,
    out: std::path::PathBuf,
    /// Tick to signal: run it (`on`), not (`off`), or only it (`only`).
    tick: TickMode,
    tick_rate: u64,
}

/// `--tick-to-signal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TickMode {
    On,
    Off,
    Only,
}

fn parse_dur(s: &str) -> Result<Duration, String> {
    let (n, unit) = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| s.split_at(i))
        .unwrap_or((s, "s"));
    let n: f64 = n.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "s" | "" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        _ => return Err(format!("bad duration {s:?} (s, ms, m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

const USAGE: &str = "cexfeed-bench [--duration 5s] [--warmup 1s] [--rates 10k,100k,max] [--max-rate 1000000] \
[--feeds mexc.spot,gateio.spot,gateio.futures] [--tls both|on|off] [--clients cexfeed,tokio-baseline,floor,ccxt] \
[--ccxt | --no-ccxt] [--ccxt-rates 10k] [--wait block|spin|both] [--framing own|tungstenite|both] [--json FILE] [--out DIR] \
[--tick-to-signal on|off|only] [--tick-rate 2000] | --record-copy-cost | --clock-cost | --memory N";

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        duration: Duration::from_secs(5),
        warmup: Duration::from_secs(1),
        rates: vec![Rate::Fixed(10_000), Rate::Fixed(100_000), Rate::Max],
        max_rate: 1_000_000,
        feeds: ["mexc.spot", "gateio.spot", "gateio.futures"]
            .iter()
            .filter_map(|s| Feed::parse(s))
            .collect(),
        tls: vec![true, false],
        clients: vec![Client::Cexfeed, Client::TokioBaseline, Client::Floor],
        ccxt_rates: vec![Rate::Fixed(10_000)],
        waits: vec![Wait::Block, Wait::Spin],
        framings: vec![Framing::default()],
        json: None,
        out: "bench-out".into(),
        tick: TickMode::On,
        tick_rate: 2_000,
    };
    let mut ccxt: Option<bool> = None;
    let mut clients_given = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--duration" => o.duration = parse_dur(&val()?)?,
            "--warmup" => o.warmup = parse_dur(&val()?)?,
            "--rates" => {
                o.rates = val()?
                    .split(',')
                    .map(|r| Rate::parse(r.trim()).ok_or(format!("bad rate {r:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--ccxt-rates" => {
                o.ccxt_rates = val()?
                    .split(',')
                    .map(|r| Rate::parse(r.trim()).ok_or(format!("bad rate {r:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--max-rate" => o.max_rate = val()?.parse().map_err(|_| "bad --max-rate")?,
            "--feeds" => {
                o.feeds = val()?
                    .split(',')
                    .map(|f| Feed::parse(f.trim()).ok_or(format!("bad feed {f:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--tls" => {
                o.tls = match val()?.as_str() {
                    "both" => vec![true, false],
                    "on" => vec![true],
                    "off" => vec![false],
                    x => return Err(format!("--tls {x:?}: both, on or off")),
                }
            }
            "--clients" => {
                clients_given = true;
                o.clients = val()?
                    .split(',')
                    .map(|c| Client::parse(c.trim()).ok_or(format!("bad client {c:?}")))
                    .collect::<Result<_, _>>()?
            }
            "--ccxt" => ccxt = Some(true),
            "--no-ccxt" => ccxt = Some(false),
            "--wait" => {
                o.waits = match val()?.as_str() {
                    "both" => vec![Wait::Block, Wait::Spin],
                    "block" => vec![Wait::Block],
                    "spin" => vec![Wait::Spin],
                    x => return Err(format!("--wait {x:?}: block, spin or both")),
                }
            }
            "--framing" => {
                // `both` = `own,tungstenite`; a list runs in the order given (alternate it
                // across rounds so neither framing always runs first).
                let v = val()?;
                let v = if v == "both" {
                    "own,tungstenite"
                } else {
                    v.as_str()
                };
                o.framings = v
                    .split(',')
                    .map(|x| {
                        Framing::parse(x.trim())
                            .ok_or(format!("--framing {x:?}: own, tungstenite, both or a list"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--memory" => {
                let n = val()?.parse().map_err(|_| "bad --memory N")?;
                if let Err(e) = memory::run(n) {
                    eprintln!("{e}");
                    std::process::exit(1);
                }
                std::process::exit(0);
            }
            "--serve-venue" => {
                memory::serve_venue(val()?.parse().map_err(|_| "bad --serve-venue N")?);
                std::process::exit(0);
            }
            "--clock-cost" => {
                clock_cost();
                std::process::exit(0);
            }
            "--record-copy-cost" => {
                record_copy_cost();
                std::process::exit(0);
            }
            "--tick-to-signal" => {
                o.tick = match val()?.as_str() {
                    "on" => TickMode::On,
                    "off" => TickMode::Off,
                    "only" => TickMode::Only,
                    x => return Err(format!("--tick-to-signal {x:?}: on, off or only")),
                }
            }
            "--tick-rate" => o.tick_rate = val()?.parse().map_err(|_| "bad --tick-rate")?,
            "--json" => o.json = Some(val()?.into()),
            "--out" => o.out = val()?.into(),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            x => return Err(format!("unknown argument {x:?}\n{USAGE}")),
        }
    }
    let want_ccxt = match ccxt {
        Some(b) => b,
        // Listed clients are what runs; otherwise ccxt joins when Python 3 is there.
        None if clients_given => o.clients.contains(&Client::Ccxt),
        None => ccxt::python_available(),
    };
    o.clients.retain(|c| *c != Client::Ccxt);
    if want_ccxt {
        o.clients.push(Client::Ccxt);
    }
    Ok(o)
}

/// What rustls 0.23 spends per application-data record on its plaintext copy
/// (`CommonState::take_received_plaintext` → `Payload::into_vec`: a `Vec` allocated, the
/// plaintext copied, freed once read): the same `to_vec` + drop, timed per record size.
fn record_copy_cost() {
    let src = vec![0x5au8; 16 * 1024];
    println!(
        "rustls 0.23 received-plaintext copy per record (alloc + memcpy + free), this machine:"
    );
    for n in [128usize, 512, 1024, 4096, 16 * 1024 - 256] {
        let iters = 2_000_000usize;
        let mut keep = 0usize;
        let t = Instant::now();
        for _ in 0..iters {
            let v = std::hint::black_box(&src[..n]).to_vec();
            keep = keep.wrapping_add(std::hint::black_box(&v)[n / 2] as usize);
        }
        let ns = t.elapsed().as_nanos() as f64 / iters as f64;
        std::hint::black_box(keep);
        println!("  {n:>6} bytes: {ns:>7.1} ns per record");
    }
}

/// Cost of one clock read: the library's stamp (`clock_gettime(CLOCK_MONOTONIC)` through the
/// vDSO), std's `Instant`, and the TSC through `quanta` (raw `rdtsc`, and scaled to ns).
fn clock_cost() {
    let iters = 5_000_000u64;
    let time = |name: &str, f: &dyn Fn() -> u64| {
        let mut acc = 0u64;
        let t = Instant::now();
        for _ in 0..iters {
            acc = acc.wrapping_add(std::hint::black_box(f()));
        }
        let ns = t.elapsed().as_nanos() as f64 / iters as f64;
        std::hint::black_box(acc);
        println!("  {name:<44} {ns:>6.1} ns per read");
    };
    let clk = quanta::Clock::new();
    let src =
        std::fs::read_to_string("/sys/devices/system/clocksource/clocksource0/current_clocksource")
            .unwrap_or_default();
    println!(
        "clock read cost, this machine (clocksource {}):",
        src.trim()
    );
    time("cexfeed::types::now_ns (CLOCK_MONOTONIC)", &|| {
        cexfeed::types::now_ns()
    });
    time("std Instant::now + elapsed (2 reads)", &|| {
        Instant::now().elapsed().as_nanos() as u64
    });
    time("quanta::Clock::raw (rdtsc)", &|| clk.raw());
    time("quanta::Clock::now, 2 reads (rdtsc, scaled)", &|| {
        clk.now().duration_since(clk.now()).as_nanos() as u64
    });
}

/// Cores needed for cexfeed spinning: the feed thread and the strategy thread each spin on a
/// core of their own, and the venue's market and connection threads need somewhere to run.
const SPIN_CORES: usize = 4;

fn main() {
    let o = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut notes: Vec<String> = Vec::new();
    let mut waits = o.waits.clone();
    if waits.contains(&Wait::Spin) && cores < SPIN_CORES {
        waits.retain(|w| *w != Wait::Spin);
        notes.push(format!(
            "wait spin not run: {cores} cores; cexfeed spinning needs a core per spinning thread (feed + strategy) plus the venue's two threads ({SPIN_CORES})"
        ));
    }
    if o.clients.contains(&Client::Ccxt) {
        if let Err(e) = ccxt::prepare() {
            notes.push(format!("ccxt not run: {e}"));
        }
    } else {
        notes.push("ccxt not run (--no-ccxt, --clients without ccxt, or no python3)".into());
    }
    let ccxt_ok = o.clients.contains(&Client::Ccxt) && ccxt::prepared();
    eprintln!(
        "cexfeed-bench: {cores} cores, {} per cell (+{} warm-up), rates {:?}",
        fmt_dur(o.duration),
        fmt_dur(o.warmup),
        o.rates.iter().map(|r| r.label()).collect::<Vec<_>>()
    );
    let mut results: Vec<CellResult> = Vec::new();
    let feeds: &[Feed] = if o.tick == TickMode::Only {
        &[]
    } else {
        &o.feeds
    };
    for &feed in feeds {
        for &tls in &o.tls {
            for &rate in &o.rates {
                for &client in &o.clients {
                    if client == Client::Ccxt && (!ccxt_ok || !o.ccxt_rates.contains(&rate)) {
                        continue;
                    }
                    for &wait in &waits {
                        if wait == Wait::Spin && client != Client::Cexfeed {
                            continue;
                        }
                        let framings: &[Framing] = if client == Client::Cexfeed {
                            &o.framings
                        } else {
                            &[Framing::Own] // not used by the other clients
                        };
                        for &framing in framings {
                            let r = run_cell(&o, client, feed, tls, rate, wait, framing);
                            eprintln!("  {}", report::one_line(&r));
                            results.push(r);
                        }
                    }
                }
            }
        }
    }
    report::sustained(&mut results);
    let mut ticks: Vec<tick::TickResult> = Vec::new();
    if o.tick != TickMode::Off {
        for &tls in &o.tls {
            for &wait in &waits {
                let r = tick::run(tls, wait, o.tick_rate, o.warmup, o.duration);
                eprintln!("  {}", report::tick_line(&r));
                ticks.push(r);
            }
        }
    }
    let mut table = report::table(&results, cores, &notes);
    if !ticks.is_empty() {
        table.push_str(&report::tick_table(&ticks));
    }
    println!("{table}");
    if let Err(e) = std::fs::create_dir_all(&o.out) {
        eprintln!("cannot create {}: {e}", o.out.display());
    }
    match report::write_hgrms(&results, &o.out)
        .and_then(|n| Ok(n + report::write_tick_hgrms(&ticks, &o.out)?))
    {
        Ok(n) => eprintln!("{n} .hgrm files in {}", o.out.display()),
        Err(e) => eprintln!("hgrm: {e}"),
    }
    let svg = o.out.join("latency.svg");
    if !results.is_empty() {
        match std::fs::write(&svg, report::svg(&results)) {
            Ok(()) => eprintln!("SVG {}", svg.display()),
            Err(e) => eprintln!("svg: {e}"),
        }
    }
    let _ = std::fs::write(o.out.join("table.txt"), &table);
    if let Some(p) = &o.json {
        let mut doc = report::json(&results, cores, &notes, o.duration);
        doc["tick_to_signal"] = report::tick_json(&ticks);
        match std::fs::write(p, serde_json::to_string_pretty(&doc).unwrap_or_default()) {
            Ok(()) => eprintln!("JSON {}", p.display()),
            Err(e) => {
                eprintln!("json {}: {e}", p.display());
                std::process::exit(1);
            }
        }
    }
}

fn fmt_dur(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn new_hist() -> Histogram<u64> {
    // 1 ns .. 100 s, 3 significant figures.
    Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid bounds")
}

/// `max`: the venue's change log may hold this many changes its reader has not read yet
/// (`VenueConfig::max_backlog`): it makes changes as fast as they are read, never falling out
/// of the log.
const MAX_BACKLOG: usize = 4096;

fn venue_config(feed: Feed, tls: bool, rate: Rate, asked: u64, window: Duration) -> VenueConfig {
    let syms = |k: FeedKind| -> Vec<String> {
        if feed.kind == k {
            vec![feed.symbol().into()]
        } else {
            Vec::new()
        }
    };
    VenueConfig {
        tls,
        rate_per_sec: asked.min(u32::MAX as u64) as u32,
        max_backlog: if rate == Rate::Max { MAX_BACKLOG } else { 0 },
        send_stamp_before_write: true,
        push_mode: PushMode::PerChange,
        mexc_symbols: syms(FeedKind::MexcSpot),
        gate_spot_symbols: syms(FeedKind::GateSpot),
        gate_futures_symbols: syms(FeedKind::GateFutures),
        // No unprompted full pushes, no idle or inbound-rate rules, no account activity: only
        // the book stream under test.
        gate_full_period: Duration::ZERO,
        idle_rules: false,
        gate_idle_timeout: Duration::ZERO,
        private_period: Duration::ZERO,
        log_capacity: 1 << 18,
        send_log: ((asked as f64 * (window.as_secs_f64() + 10.0)) as usize).min(1 << 23),
        ..VenueConfig::default()
    }
}

fn run_cell(
    o: &Opts,
    client: Client,
    feed: Feed,
    tls: bool,
    rate: Rate,
    wait: Wait,
    framing: Framing,
) -> CellResult {
    let asked = rate.asked(o.max_rate);
    let mut res = CellResult {
        client,
        feed,
        tls,
        rate,
        rate_asked: asked,
        wait,
        framing: (client == Client::Cexfeed).then_some(framing),
        hist: new_hist(),
        stages: Vec::new(),
        venue_rate: 0.0,
        achieved_rate: 0.0,
        kept_up: false,
        backlog: 0,
        unmatched: 0,
        early: 0,
        sustained: 0,
        error: None,
    };
    let window = o.warmup + o.duration;
    let venue = match Venue::start(venue_config(feed, tls, rate, asked, window)) {
        Ok(v) => v,
        Err(e) => {
            res.error = Some(format!("venue: {e}"));
            return res;
        }
    };
    let live = Arc::new(Live::default());
    let cap = clients::capacity(asked, window.as_secs_f64() + 5.0);
    let h = match clients::spawn(
        client,
        feed,
        asked,
        &venue,
        wait,
        framing,
        cap,
        live.clone(),
    ) {
        Ok(h) => h,
        Err(e) => {
            res.error = Some(e);
            return res;
        }
    };
    // Ready: the consumer has had pushes (cexfeed: its book is synced and live).
    let t = Instant::now();
    let ready_within = if client == Client::Ccxt {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(20)
    };
    while live.seen.load(Ordering::Relaxed) == 0 && t.elapsed() < ready_within && !h.is_finished() {
        std::thread::sleep(Duration::from_millis(10));
    }
    if live.seen.load(Ordering::Relaxed) == 0 {
        live.stop.store(true, Ordering::Relaxed);
        let e = match h.join() {
            Ok(Err(e)) => e,
            _ => format!("no push within {}", fmt_dur(ready_within)),
        };
        res.error = Some(e);
        venue.stop();
        return res;
    }
    std::thread::sleep(o.warmup);
    let (vid, m) = feed.venue_ids();
    let venue_seq = |v: &VenueHandle| v.true_book(vid, m, feed.symbol()).map(|b| b.0).unwrap_or(0);
    let changes0 = venue.stats().book_changes;
    let t0 = cexfeed::types::now_ns();
    std::thread::sleep(o.duration);
    let t1 = cexfeed::types::now_ns();
    let changes1 = venue.stats().book_changes;
    let seq_end = venue_seq(&venue);
    let last_seen = live.last_seq.load(Ordering::Relaxed);
    live.stop.store(true, Ordering::Relaxed);
    let samples = match h.join() {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            res.error = Some(e);
            venue.stop();
            return res;
        }
        Err(_) => {
            res.error = Some("client panicked".into());
            venue.stop();
            return res;
        }
    };
    let secs = (t1 - t0) as f64 / 1e9;
    res.venue_rate = (changes1 - changes0) as f64 / secs;
    let mut in_window = 0u64;
    let mut st_wire = new_hist();
    let mut st_work = new_hist();
    let mut st_hand = new_hist();
    for s in samples
        .iter()
        .filter(|s| s.consumed_ns >= t0 && s.consumed_ns < t1)
    {
        in_window += 1;
        let Some(sent) = venue.send_time(vid, m, feed.symbol(), s.seq) else {
            res.unmatched += 1;
            continue;
        };
        let lat = if s.consumed_ns >= sent {
            s.consumed_ns - sent
        } else {
            res.early += 1;
            0
        };
        res.hist.saturating_record(lat.max(1));
        if s.recv_ns != 0 && s.recv_ns != s.consumed_ns {
            st_wire.saturating_record(s.recv_ns.saturating_sub(sent).max(1));
            if s.ring_ns != 0 {
                st_work.saturating_record(s.ring_ns.saturating_sub(s.recv_ns).max(1));
                st_hand.saturating_record(s.consumed_ns.saturating_sub(s.ring_ns).max(1));
            } else {
                st_hand.saturating_record(s.consumed_ns.saturating_sub(s.recv_ns).max(1));
            }
        }
    }
    if !st_wire.is_empty() {
        res.stages.push(("send_to_read", st_wire));
        if !st_work.is_empty() {
            res.stages.push(("read_to_ring", st_work));
        }
        res.stages.push((
            if client == Client::Cexfeed {
                "ring_to_strategy"
            } else {
                "read_to_consumer"
            },
            st_hand,
        ));
    }
    res.achieved_rate = in_window as f64 / secs;
    res.backlog = seq_end.saturating_sub(last_seen);
    let changes = changes1 - changes0;
    // ccxt returns the latest book per await (pushes in between are applied, not returned):
    // its count is of updates returned, so only its backlog says whether it kept up.
    let count_ok = client == Client::Ccxt || in_window as f64 >= 0.95 * changes as f64;
    res.kept_up =
        changes > 0 && count_ok && (res.backlog as f64) < (res.venue_rate * 0.1).max(1000.0);
    venue.stop();
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> Opts {
        Opts {
            duration: Duration::from_millis(400),
            warmup: Duration::from_millis(100),
            rates: vec![Rate::Fixed(2_000)],
            max_rate: 2_000,
            feeds: vec![],
            tls: vec![false],
            clients: vec![],
            ccxt_rates: vec![],
            waits: vec![Wait::Block],
            framings: vec![Framing::default()],
            json: None,
            out: std::env::temp_dir(),
            tick: TickMode::On,
            tick_rate: 2_000,
        }
    }

    /// Smoke: cexfeed, the tokio baseline and the floor measured on a plain Gate spot stream,
    /// every sample's send instant found, and the JSON entry carries every contract key.
    #[test]
    fn smoke_cells_measure_and_report_contract_keys() {
        let o = quick();
        let feed = Feed {
            kind: FeedKind::GateSpot,
        };
        let mut rs = Vec::new();
        for client in [Client::Cexfeed, Client::TokioBaseline, Client::Floor] {
            let r = run_cell(
                &o,
                client,
                feed,
                false,
                Rate::Fixed(2_000),
                Wait::Block,
                Framing::default(),
            );
            assert!(r.error.is_none(), "{}: {:?}", client.name(), r.error);
            assert!(
                r.hist.len() > 50,
                "{}: {} samples",
                client.name(),
                r.hist.len()
            );
            assert!(
                r.unmatched * 10 < r.hist.len(),
                "{}: {} of {} without a send instant",
                client.name(),
                r.unmatched,
                r.hist.len()
            );
            rs.push(r);
        }
        report::sustained(&mut rs);
        let doc = report::json(&rs, 2, &[], o.duration);
        let keys = [
            "client",
            "venue",
            "market",
            "tls",
            "rate",
            "wait",
            "count",
            "p50_ns",
            "p99_ns",
            "p999_ns",
            "max_ns",
            "sustained_rate",
        ];
        let entries = doc["clients"].as_array().unwrap();
        assert_eq!(entries.len(), 3);
        for e in entries {
            for k in keys {
                assert!(e.get(k).is_some(), "missing {k} in {e}");
            }
        }
        assert_eq!(entries[0]["client"], "cexfeed");
        // Issue 14: cexfeed's entries say which framing ran; the others carry null.
        assert_eq!(entries[0]["framing"], Framing::default().name());
        assert!(entries[1]["framing"].is_null());
        assert_eq!(entries[1]["client"], "tokio-baseline");
        assert_eq!(entries[2]["client"], "floor");
        assert!(report::svg(&rs).contains("<polyline"));
        assert!(report::table(&rs, 2, &[]).contains("gateio.spot plain 2k"));
    }

    /// Tick to signal (issue 14): on the lead-lag venue the monitor opens spreads, each one
    /// attributed to the fair-value move that opened it and measured from that move's first
    /// send, and the JSON's `tick_to_signal` entry carries the contract keys. (Counts only:
    /// no timing is asserted.)
    #[test]
    fn tick_to_signal_smoke_measures_signals_from_the_moves_send() {
        let r = tick::run(
            false,
            Wait::Block,
            2_000,
            Duration::from_millis(300),
            Duration::from_secs(3),
        );
        assert!(r.error.is_none(), "{:?}", r.error);
        assert!(r.jumps > 0, "no jump in the window");
        assert!(r.signals > 0, "no signal in the window");
        assert!(!r.hist.is_empty(), "{} signals, none measured", r.signals);
        assert_eq!(r.hist.len() + r.unmatched, r.attributed);
        let doc = report::tick_json(std::slice::from_ref(&r));
        let e = &doc[0];
        for k in [
            "client",
            "tls",
            "wait",
            "rate",
            "count",
            "p50_ns",
            "p99_ns",
            "p999_ns",
            "max_ns",
            "signals",
            "attributed",
            "jumps",
        ] {
            assert!(e.get(k).is_some(), "missing {k} in {e}");
        }
        assert!(report::tick_table(std::slice::from_ref(&r)).contains("tick to signal"));
    }

    #[test]
    fn rates_and_durations_parse() {
        assert_eq!(Rate::parse("10k"), Some(Rate::Fixed(10_000)));
        assert_eq!(Rate::parse("1M"), Some(Rate::Fixed(1_000_000)));
        assert_eq!(Rate::parse("max"), Some(Rate::Max));
        assert_eq!(Rate::parse("fast"), None);
        assert_eq!(parse_dur("5s").unwrap(), Duration::from_secs(5));
        assert_eq!(parse_dur("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_dur("5h").is_err());
    }
}
