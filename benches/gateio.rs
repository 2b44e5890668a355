//! Gate.io decode benches (criterion). One group per frame, three decoders in each:
//! * `scanner`: the schema-specific byte scanner (`GateDecoder::decode_scan_only`);
//! * `simd_json`: simd-json's zero-allocation tape path over reused buffers, numbers re-read
//!   exactly from the frame text (`GateDecoder::decode_general`);
//! * `serde_owned`: the common approach, `serde_json` into owned structs with
//!   `Vec<(String, String)>` levels, then the same exact fixed-point parse.
//!
//! Plus `scanner+apply`: decode and apply into a simple sorted-`Vec` book (a stand-in for the
//! integrator's book).
//!
//! Issue 14 (`throughput_buffer_*`): pushes per second through the Gate feed thread's real
//! per-message path (`cexfeed::bench_hooks::GateBench`: reactor delivery, decode, sync + book,
//! top-20 pooled slot, ring push) over 60 000 distinct venue-simulated pushes on a ~1 000-level
//! book (`support/gate_buffer.rs`), spot `spot.obu` and futures `futures.order_book_update`:
//! `feed_path` (wall), `feed_path_cpu_time` (thread CPU time: the throughput line is pushes per
//! CPU-second), `feed_path_cpu_time_ring1024`, `decode_only_cpu_time`,
//! `book_apply_only_cpu_time`, and a printed one-line split (decode + book + rest, CPU ns).
//!
//! Run: `cargo bench --bench gateio` (short measurement times; 2-core VM numbers are noisy,
//! compare ratios within one run); `cargo bench --bench gateio -- throughput_buffer` for issue 14.

use std::hint::black_box;
use std::time::Duration;

use cexfeed::event::{BookMsg, Level, Sink};
use cexfeed::exchange::gateio::GateDecoder;
use cexfeed::types::{Market, Px, Qty};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde::Deserialize;

/// 20+20-level `spot.order_book_update` (pretty realistic prices/sizes, unsorted deltas).
fn spot_update_frame(levels: usize) -> Vec<u8> {
    let mut b = String::new();
    let mut a = String::new();
    for i in 0..levels {
        if i > 0 {
            b.push(',');
            a.push(',');
        }
        b.push_str(&format!(
            "[\"{}.{:02}\",\"{}.{:04}\"]",
            104_020 - i * 3,
            (i * 37) % 100,
            i % 7,
            (i * 1733) % 10_000
        ));
        a.push_str(&format!(
            "[\"{}.{:02}\",\"{}.{:04}\"]",
            104_030 + i * 3,
            (i * 53) % 100,
            (i * 3) % 5,
            (i * 977) % 10_000
        ));
    }
    format!(
        "{{\"time\":1747054612,\"time_ms\":1747054612848,\"channel\":\"spot.order_book_update\",\"event\":\"update\",\"result\":{{\"t\":1747054612673,\"e\":\"depthUpdate\",\"E\":1747054612,\"s\":\"BTC_USDT\",\"U\":73777715169,\"u\":73777715212,\"b\":[{b}],\"a\":[{a}]}}}}"
    )
    .into_bytes()
}

/// `futures.obu` delta with `levels` levels per side (sizes as decimal strings, as under
/// `X-Gate-Size-Decimal: 1`).
fn futures_obu_frame(levels: usize) -> Vec<u8> {
    let mut b = String::new();
    let mut a = String::new();
    for i in 0..levels {
        if i > 0 {
            b.push(',');
            a.push(',');
        }
        b.push_str(&format!(
            "[\"{}.{}\",\"{}\"]",
            83_702 - i,
            i % 10,
            (i * 131) % 5000
        ));
        a.push_str(&format!(
            "[\"{}.{}\",\"{}\"]",
            83_706 + i,
            (i * 7) % 10,
            (i * 71) % 5000
        ));
    }
    format!(
        "{{\"channel\":\"futures.obu\",\"result\":{{\"t\":1743673027017,\"s\":\"ob.BTC_USDT.400\",\"U\":79072179674,\"u\":79072179694,\"b\":[{b}],\"a\":[{a}]}},\"time_ms\":1743673027020}}"
    )
    .into_bytes()
}

/// `futures.order_book_update` with `{"p","s"}` levels (decimal-string sizes).
fn futures_update_frame(levels: usize) -> Vec<u8> {
    let mut b = String::new();
    let mut a = String::new();
    for i in 0..levels {
        if i > 0 {
            b.push(',');
            a.push(',');
        }
        b.push_str(&format!(
            "{{\"p\":\"{}.{}\",\"s\":\"{}\"}}",
            54_672 - i,
            i % 10,
            (i * 131) % 5000
        ));
        a.push_str(&format!(
            "{{\"p\":\"{}.{}\",\"s\":\"{}\"}}",
            54_743 + i,
            (i * 7) % 10,
            (i * 71) % 5000
        ));
    }
    format!(
        "{{\"time\":1615366381,\"time_ms\":1615366381123,\"channel\":\"futures.order_book_update\",\"event\":\"update\",\"result\":{{\"t\":1615366381417,\"s\":\"BTC_USDT\",\"U\":2517661101,\"u\":2517661113,\"b\":[{b}],\"a\":[{a}],\"l\":\"100\"}}}}"
    )
    .into_bytes()
}

#[derive(Deserialize)]
struct PS {
    p: String,
    s: String,
}

#[derive(Deserialize)]
struct OwnedFuturesFrame {
    result: OwnedFuturesBook,
}

#[derive(Deserialize)]
struct OwnedFuturesBook {
    t: Option<i64>,
    s: String,
    #[serde(rename = "U")]
    first: u64,
    u: u64,
    b: Vec<PS>,
    a: Vec<PS>,
}

fn serde_owned_futures<S: Sink>(
    frame: &[u8],
    bids: &mut Vec<Level>,
    asks: &mut Vec<Level>,
    sink: &mut S,
) {
    let f: OwnedFuturesFrame = serde_json::from_slice(frame).expect("bench frame");
    bids.clear();
    asks.clear();
    for l in &f.result.b {
        bids.push(Level::new(
            Px::parse(l.p.as_bytes()).unwrap(),
            Qty::parse(l.s.as_bytes()).unwrap(),
        ));
    }
    for l in &f.result.a {
        asks.push(Level::new(
            Px::parse(l.p.as_bytes()).unwrap(),
            Qty::parse(l.s.as_bytes()).unwrap(),
        ));
    }
    sink.book(&BookMsg {
        symbol: &f.result.s,
        snapshot: false,
        seq_first: f.result.first,
        seq_last: f.result.u,
        bids,
        asks,
        ts_exchange_ms: f.result.t,
    });
}

// ---- the common approach: serde_json into owned structs -------------------------------------

#[derive(Deserialize)]
struct OwnedFrame {
    #[allow(dead_code)]
    channel: String,
    result: OwnedBook,
    #[allow(dead_code)]
    time_ms: Option<i64>,
}

#[derive(Deserialize)]
struct OwnedBook {
    t: Option<i64>,
    s: String,
    #[serde(rename = "U")]
    first: Option<u64>,
    u: u64,
    #[serde(default)]
    full: bool,
    #[serde(default)]
    b: Vec<(String, String)>,
    #[serde(default)]
    a: Vec<(String, String)>,
}

/// serde_json owned decode + exact fixed-point conversion (same output as the other paths).
fn serde_owned<S: Sink>(frame: &[u8], bids: &mut Vec<Level>, asks: &mut Vec<Level>, sink: &mut S) {
    let f: OwnedFrame = serde_json::from_slice(frame).expect("bench frame");
    bids.clear();
    asks.clear();
    for (p, q) in &f.result.b {
        bids.push(Level::new(
            Px::parse(p.as_bytes()).unwrap(),
            Qty::parse(q.as_bytes()).unwrap(),
        ));
    }
    for (p, q) in &f.result.a {
        asks.push(Level::new(
            Px::parse(p.as_bytes()).unwrap(),
            Qty::parse(q.as_bytes()).unwrap(),
        ));
    }
    let sym = f.result.s.strip_prefix("ob.").unwrap_or(&f.result.s);
    sink.book(&BookMsg {
        symbol: sym,
        snapshot: f.result.full,
        seq_first: f.result.first.unwrap_or(f.result.u),
        seq_last: f.result.u,
        bids,
        asks,
        ts_exchange_ms: f.result.t,
    });
}

// ---- sinks ------------------------------------------------------------------------------------

#[derive(Default)]
struct Touch(u64);

impl Sink for Touch {
    fn book(&mut self, m: &BookMsg<'_>) {
        let mut h = m.seq_last;
        for l in m.bids.iter().chain(m.asks) {
            h = h.wrapping_add(l.px.0 as u64 ^ l.qty.0 as u64);
        }
        self.0 = self.0.wrapping_add(black_box(h));
    }
    fn kline(&mut self, m: &cexfeed::event::KlineMsg<'_>) {
        self.0 = self
            .0
            .wrapping_add(black_box(m.close.0 as u64 ^ m.volume.0 as u64));
    }
}

/// A simple sorted-Vec book: bids descending, asks ascending; qty 0 deletes.
#[derive(Default)]
struct VecBook {
    bids: Vec<Level>,
    asks: Vec<Level>,
}

fn apply_side(side: &mut Vec<Level>, lv: &Level, desc: bool) {
    let r = side.binary_search_by(|x| {
        if desc {
            lv.px.cmp(&x.px)
        } else {
            x.px.cmp(&lv.px)
        }
    });
    match (r, lv.qty.is_zero()) {
        (Ok(i), true) => {
            side.remove(i);
        }
        (Ok(i), false) => side[i].qty = lv.qty,
        (Err(_), true) => {}
        (Err(i), false) => side.insert(i, *lv),
    }
}

impl Sink for VecBook {
    fn book(&mut self, m: &BookMsg<'_>) {
        if m.snapshot {
            self.bids.clear();
            self.asks.clear();
        }
        for l in m.bids {
            apply_side(&mut self.bids, l, true);
        }
        for l in m.asks {
            apply_side(&mut self.asks, l, false);
        }
    }
}

type OwnedFn = fn(&[u8], &mut Vec<Level>, &mut Vec<Level>, &mut Touch);

fn bench_frame(c: &mut Criterion, name: &str, market: Market, frame: &[u8], serde_owned: OwnedFn) {
    let mut g = c.benchmark_group(name);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    let mut d = GateDecoder::new(market, 400);
    // Sanity: all three produce the same digest.
    let (mut s1, mut s2, mut s3) = (Touch::default(), Touch::default(), Touch::default());
    assert!(d.decode_scan_only(frame, &mut s1));
    d.decode_general(frame, &mut s2).unwrap();
    let (mut vb, mut va) = (Vec::with_capacity(400), Vec::with_capacity(400));
    serde_owned(frame, &mut vb, &mut va, &mut s3);
    assert_eq!(s1.0, s2.0);
    assert_eq!(s1.0, s3.0);

    let mut sink = Touch::default();
    g.bench_function("scanner", |b| {
        b.iter(|| black_box(d.decode_scan_only(black_box(frame), &mut sink)))
    });
    g.bench_function("simd_json", |b| {
        b.iter(|| black_box(d.decode_general(black_box(frame), &mut sink)))
    });
    g.bench_function("serde_owned", |b| {
        b.iter(|| serde_owned(black_box(frame), &mut vb, &mut va, &mut sink))
    });
    // Decode + apply into a sorted-Vec book pre-filled around the frame's prices.
    let mut book = VecBook::default();
    let mut seed = GateDecoder::new(market, 400);
    seed.decode(frame, &mut book).unwrap();
    g.bench_function("scanner+apply", |b| {
        b.iter(|| black_box(d.decode_scan_only(black_box(frame), &mut book)))
    });
    g.finish();
    black_box(sink.0);
}

fn benches(c: &mut Criterion) {
    bench_frame(
        c,
        "gateio_spot_order_book_update_20x20",
        Market::Spot,
        &spot_update_frame(20),
        serde_owned,
    );
    bench_frame(
        c,
        "gateio_futures_obu_20x20",
        Market::Futures,
        &futures_obu_frame(20),
        serde_owned,
    );
    bench_frame(
        c,
        "gateio_futures_order_book_update_20x20",
        Market::Futures,
        &futures_update_frame(20),
        serde_owned_futures,
    );
}

/// Issue 17: `spot.candlesticks` / `futures.candlesticks` (general simd-json path; candles are
/// not a scanner channel), frames shaped as Gate documents them.
fn candlesticks(c: &mut Criterion) {
    let mut g = c.benchmark_group("gateio_candlesticks");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    let spot = br#"{"time":1606292600,"time_ms":1606292600376,"channel":"spot.candlesticks","event":"update","result":{"t":"1606292580","v":"2362.32035","c":"19128.1","h":"19128.1","l":"19128.1","o":"19128.1","n":"1m_BTC_USDT","a":"3.8283","w":true}}"#;
    let fut = br#"{"time":1542162490,"time_ms":1542162490123,"channel":"futures.candlesticks","event":"update","result":[{"t":1545129300,"v":27525555,"c":"95.4","h":"96.9","l":"89.5","o":"94.3","n":"1m_BTC_USDT","a":"314732.87412","w":false}]}"#;
    for (name, market, frame) in [
        ("spot", Market::Spot, &spot[..]),
        ("futures", Market::Futures, &fut[..]),
    ] {
        let mut d = GateDecoder::new(market, 400);
        let mut sink = Touch::default();
        d.decode(frame, &mut sink).unwrap();
        assert_ne!(sink.0, 0, "{name}: the candle reaches the sink");
        g.bench_function(name, |b| {
            b.iter(|| black_box(d.decode(black_box(frame), &mut sink)))
        });
    }
    g.finish();
}

criterion_group!(gateio, benches);
criterion_group!(gateio_klines, candlesticks);
criterion_main!(gateio, gateio_apply, gateio_klines, gateio_throughput);

// ---- decode + apply into the crate's real book -----------------------------------------------

/// The crate's authoritative book as a sink (what the feed does, minus sync bookkeeping).
pub struct RealBook(pub cexfeed::book::Book);

impl Sink for RealBook {
    fn book(&mut self, m: &BookMsg<'_>) {
        let r = if m.snapshot {
            self.0.apply_snapshot(m.bids, m.asks)
        } else {
            self.0.apply_delta(m.bids, m.asks)
        };
        black_box(r.is_ok());
    }
}

/// A 1,000-level-per-side book around the frame's prices: bids down from its best bid, asks up
/// from its best ask, on the frame's smallest price step.
pub fn book_around(frame_bids: &[Level], frame_asks: &[Level]) -> cexfeed::book::Book {
    let best_bid = frame_bids.iter().map(|l| l.px.0).max().unwrap();
    let best_ask = frame_asks.iter().map(|l| l.px.0).min().unwrap();
    let mut pxs: Vec<i128> = frame_bids
        .iter()
        .chain(frame_asks)
        .map(|l| l.px.0)
        .collect();
    pxs.sort_unstable();
    let step = pxs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(1);
    let qty = cexfeed::types::Qty::from_int(1);
    let bids: Vec<Level> = (0..1000)
        .map(|i| Level::new(cexfeed::types::Px(best_bid - i * step), qty))
        .collect();
    let asks: Vec<Level> = (0..1000)
        .map(|i| Level::new(cexfeed::types::Px(best_ask + i * step), qty))
        .collect();
    let mut b = cexfeed::book::Book::with_capacity(2000);
    b.apply_snapshot(&bids, &asks).unwrap();
    b
}

#[derive(Default)]
struct Collect(Vec<Level>, Vec<Level>);

impl Sink for Collect {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.0.extend_from_slice(m.bids);
        self.1.extend_from_slice(m.asks);
    }
}

fn bench_apply(c: &mut Criterion) {
    for (name, market, frame) in [
        (
            "gateio_spot_order_book_update_20x20",
            Market::Spot,
            spot_update_frame(20),
        ),
        (
            "gateio_futures_obu_20x20",
            Market::Futures,
            futures_obu_frame(20),
        ),
    ] {
        let mut g = c.benchmark_group(format!("{name}_decode_apply_1000"));
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(2));
        let mut d = GateDecoder::new(market, 400);
        let mut col = Collect::default();
        d.decode(&frame, &mut col).unwrap();
        let mut book = RealBook(book_around(&col.0, &col.1));
        // A full (snapshot) frame would replace the 1000-level book: apply its levels as a delta.
        let delta_only = String::from_utf8(frame.clone())
            .unwrap()
            .replace("\"full\":true,", "");
        let delta_only = delta_only.into_bytes();
        g.bench_function("scanner+book", |b| {
            b.iter(|| black_box(d.decode(black_box(&delta_only), &mut book)))
        });
        let (mut vb, mut va) = (Vec::with_capacity(400), Vec::with_capacity(400));
        g.bench_function("serde_owned+book", |b| {
            b.iter(|| serde_owned(black_box(&delta_only), &mut vb, &mut va, &mut book))
        });
        g.finish();
    }
}

criterion_group!(gateio_apply, bench_apply);

// ---- issue 14: pushes per second through the feed thread's real path, from a buffer -------

#[path = "support/gate_buffer.rs"]
mod gate_buffer;

use cexfeed::bench_hooks::GateBench;
use cexfeed::book::{SyncConfig, SyncRule, SyncedBook};
use cexfeed::types::thread_cpu_ns;
use gate_buffer::{GateBuffer, Stream};

/// Distinct delta pushes in each buffer (plus the `full` push that starts the book).
const BUFFER_PUSHES: usize = 60_000;
/// Pushes between two drains of the consumer ring (well under its capacity).
const CHUNK: usize = 1024;

/// Wall or thread-CPU time of a closure.
#[derive(Clone, Copy)]
enum Clock {
    Wall,
    Cpu,
}

impl Clock {
    fn time(self, f: impl FnOnce()) -> Duration {
        match self {
            Clock::Wall => {
                let t = std::time::Instant::now();
                f();
                t.elapsed()
            }
            Clock::Cpu => {
                let t = thread_cpu_ns();
                f();
                Duration::from_nanos(thread_cpu_ns() - t)
            }
        }
    }
}

/// The feed path over a buffer, cyclically: at the end the book is reset and started again
/// with the buffer's `full` push (untimed), so every timed push is a live delta.
struct FeedRun<'a> {
    buf: &'a GateBuffer,
    feed: GateBench,
    next: usize,
}

impl<'a> FeedRun<'a> {
    fn new(buf: &'a GateBuffer, market: Market, obu: bool) -> Self {
        Self::with_runtime(buf, market, obu, "")
    }

    fn with_runtime(buf: &'a GateBuffer, market: Market, obu: bool, runtime: &str) -> Self {
        let mut feed = GateBench::with_runtime(market, obu, "BTC_USDT", runtime);
        feed.push(buf.full());
        feed.drain();
        assert_eq!(
            feed.state(),
            cexfeed::BookState::Live,
            "the full push starts the book"
        );
        FeedRun { buf, feed, next: 1 }
    }

    /// `n` pushes; only the pushes are timed (the consumer's drain and the wrap-around are not).
    fn run(&mut self, n: u64, clock: Clock) -> Duration {
        let mut left = n as usize;
        let mut total = Duration::ZERO;
        while left > 0 {
            if self.next > self.buf.deltas() {
                self.feed.reset();
                self.feed.push(self.buf.full());
                self.next = 1;
            }
            let k = left.min(CHUNK).min(self.buf.deltas() + 1 - self.next);
            let (buf, feed, from) = (self.buf, &mut self.feed, self.next);
            total += clock.time(|| {
                for i in from..from + k {
                    feed.push(black_box(buf.frame(i)));
                }
            });
            self.feed.drain();
            self.next += k;
            left -= k;
        }
        total
    }
}

/// Counts what the decoder emits (the cheapest sink that still reads every level).
#[derive(Default)]
struct CountSink(u64);

impl Sink for CountSink {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.0 = self
            .0
            .wrapping_add(m.seq_last ^ (m.bids.len() + m.asks.len()) as u64);
    }
}

/// Decode only, over the same frames.
struct DecodeRun<'a> {
    buf: &'a GateBuffer,
    dec: GateDecoder,
    sink: CountSink,
    next: usize,
}

impl DecodeRun<'_> {
    fn run(&mut self, n: u64, clock: Clock) -> Duration {
        let mut left = n as usize;
        let mut total = Duration::ZERO;
        while left > 0 {
            if self.next > self.buf.deltas() {
                self.next = 1;
            }
            let k = left.min(CHUNK).min(self.buf.deltas() + 1 - self.next);
            let (buf, dec, sink, from) = (self.buf, &mut self.dec, &mut self.sink, self.next);
            total += clock.time(|| {
                for i in from..from + k {
                    let _ = black_box(dec.decode(black_box(buf.frame(i)), sink));
                }
            });
            self.next += k;
            left -= k;
        }
        total
    }
}

/// One decoded push, owned (levels in `Predecoded::levels`).
#[derive(Clone, Copy)]
struct OwnedMsg {
    snapshot: bool,
    seq_first: u64,
    seq_last: u64,
    ts: Option<i64>,
    bids: (usize, usize),
    asks: (usize, usize),
}

#[derive(Default)]
struct Predecoded {
    msgs: Vec<OwnedMsg>,
    levels: Vec<Level>,
}

impl Sink for Predecoded {
    fn book(&mut self, m: &BookMsg<'_>) {
        let b0 = self.levels.len();
        self.levels.extend_from_slice(m.bids);
        let a0 = self.levels.len();
        self.levels.extend_from_slice(m.asks);
        self.msgs.push(OwnedMsg {
            snapshot: m.snapshot,
            seq_first: m.seq_first,
            seq_last: m.seq_last,
            ts: m.ts_exchange_ms,
            bids: (b0, a0),
            asks: (a0, self.levels.len()),
        });
    }
}

impl Predecoded {
    #[inline]
    fn msg(&self, i: usize) -> BookMsg<'_> {
        let m = self.msgs[i];
        BookMsg {
            symbol: "BTC_USDT",
            snapshot: m.snapshot,
            seq_first: m.seq_first,
            seq_last: m.seq_last,
            bids: &self.levels[m.bids.0..m.bids.1],
            asks: &self.levels[m.asks.0..m.asks.1],
            ts_exchange_ms: m.ts,
        }
    }
}

/// Book apply only (the sync state machine and the 1 000-level book, as `FeedCore` calls it),
/// over the same pushes decoded beforehand.
struct BookRun<'a> {
    pre: &'a Predecoded,
    book: SyncedBook,
    next: usize,
}

impl<'a> BookRun<'a> {
    fn new(pre: &'a Predecoded, obu: bool) -> Self {
        let mut cfg = SyncConfig::new(if obu {
            SyncRule::GateObu
        } else {
            SyncRule::GateUpdate
        });
        // As the feed builds it (`runtime.book_depth`, `runtime.sync_buffer` defaults).
        cfg.levels_per_side = 5_000;
        cfg.max_buffered_deltas = 1_024;
        cfg.max_buffered_levels = 1_024 * 64;
        let mut book = SyncedBook::new(&cfg);
        assert!(book.on_delta(&pre.msg(0), 1).book_changed());
        BookRun { pre, book, next: 1 }
    }

    fn run(&mut self, n: u64, clock: Clock) -> Duration {
        let mut left = n as usize;
        let mut total = Duration::ZERO;
        while left > 0 {
            if self.next >= self.pre.msgs.len() {
                self.book.reset(1);
                assert!(self.book.on_delta(&self.pre.msg(0), 1).book_changed());
                self.next = 1;
            }
            let k = left.min(CHUNK).min(self.pre.msgs.len() - self.next);
            let (pre, book, from) = (self.pre, &mut self.book, self.next);
            total += clock.time(|| {
                for i in from..from + k {
                    black_box(book.on_delta(&pre.msg(i), 2));
                }
            });
            self.next += k;
            left -= k;
        }
        total
    }
}

fn throughput_buffer(c: &mut Criterion) {
    for (name, stream, market, obu, seed) in [
        (
            "throughput_buffer_spot_obu_book1000",
            Stream::SpotObu,
            Market::Spot,
            true,
            0x5107_0b00,
        ),
        (
            "throughput_buffer_futures_order_book_update_book1000",
            Stream::FuturesOrderBookUpdate,
            Market::Futures,
            false,
            0xF07_0B00,
        ),
    ] {
        let buf = gate_buffer::record(stream, BUFFER_PUSHES, seed);
        // The buffer runs clean through the real path: every push applied, nothing refused.
        let mut check = FeedRun::new(&buf, market, obu);
        check.run(buf.deltas() as u64, Clock::Wall);
        let st = check.feed.stats();
        assert_eq!(
            st.decode_errors + st.gaps + st.resyncs + st.ring_dropped,
            0,
            "{st:?}"
        );
        assert_eq!(st.books_received, buf.deltas() as u64 + 1, "{st:?}");
        assert_eq!(check.feed.state(), cexfeed::BookState::Live);
        let (nb, na) = check.feed.book_len();
        drop(check);
        let mut pre = Predecoded::default();
        let mut d = GateDecoder::new(market, 5_000);
        for i in 0..=buf.deltas() {
            d.decode(buf.frame(i), &mut pre).unwrap();
        }
        assert_eq!(pre.msgs.len(), buf.deltas() + 1);
        eprintln!(
            "{name}: {} distinct delta pushes, {:.1} levels and {:.0} bytes per push on average, book {nb}+{na} levels after one pass",
            buf.deltas(),
            buf.mean_levels(),
            buf.mean_bytes()
        );

        let mut g = c.benchmark_group(name);
        g.throughput(Throughput::Elements(1));
        g.warm_up_time(Duration::from_millis(500));
        g.measurement_time(Duration::from_secs(3));
        let mut feed = FeedRun::new(&buf, market, obu);
        g.bench_function("feed_path", |b| b.iter_custom(|n| feed.run(n, Clock::Wall)));
        // Same path, timed in the thread's CPU time: criterion's throughput line is then
        // pushes per CPU-second (robust to other load taking the core away).
        g.bench_function("feed_path_cpu_time", |b| {
            b.iter_custom(|n| feed.run(n, Clock::Cpu))
        });
        // The same with a 1 024-event ring (pool 1 344 slots) instead of the default 65 536: what
        // the ring's and the pool's memory footprint costs per push.
        let mut small = FeedRun::with_runtime(&buf, market, obu, "ring_capacity = 1024");
        g.bench_function("feed_path_cpu_time_ring1024", |b| {
            b.iter_custom(|n| small.run(n, Clock::Cpu))
        });
        let mut dec = DecodeRun {
            buf: &buf,
            dec: GateDecoder::new(market, 5_000),
            sink: CountSink::default(),
            next: 1,
        };
        g.bench_function("decode_only_cpu_time", |b| {
            b.iter_custom(|n| dec.run(n, Clock::Cpu))
        });
        let mut book = BookRun::new(&pre, obu);
        g.bench_function("book_apply_only_cpu_time", |b| {
            b.iter_custom(|n| book.run(n, Clock::Cpu))
        });
        g.finish();

        // The split in one line, all in thread CPU time over the same passes (3 × the buffer).
        let n = 3 * buf.deltas() as u64;
        let whole = feed.run(n, Clock::Cpu).as_nanos() as f64 / n as f64;
        let dns = dec.run(n, Clock::Cpu).as_nanos() as f64 / n as f64;
        let bns = book.run(n, Clock::Cpu).as_nanos() as f64 / n as f64;
        eprintln!(
            "{name}: {:.0} k pushes per CPU-second; per push {whole:.0} ns = decode {dns:.0} + book apply {bns:.0} + rest {:.0} ns (clock reads, histograms, top-20 copy, ring push)",
            1e6 / whole,
            whole - dns - bns
        );
        black_box((dec.sink.0, feed.feed.digest()));
    }
}

criterion_group!(gateio_throughput, throughput_buffer);
