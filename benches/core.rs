//! Core data path benches: number parsing, book apply, top-N copy, cross-thread handoff (and
//! the bare cache-line ping-pong floor between the same two cores).
//!
//! Run: `cargo bench --bench core -- --warm-up-time 1 --measurement-time 3`
//!
//! `handoff_one_way_core0_core1`: `cache_line_floor` (bare 8-B ping-pong), `ring_event` /
//! `ring_book_top20` (the `ring::channel`, ts_ring_ns stamp included), and the bare event
//! queues in the same ping-pong shape: `queue_arrayqueue` (crossbeam MPMC, the channel's first
//! queue), `queue_rtrb` (rtrb SPSC, the channel's queue). Compare
//! ratios to the floor within one run: the VM's cross-core latency changes between runs.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cexfeed::book::{Book, SyncConfig, SyncRule, SyncedBook};
use cexfeed::event::{BookMsg, Level};
use cexfeed::ring::{channel, Body, Event, Header, RingConfig, TopBook};
use cexfeed::types::{Market, Px, Qty, Side, SymbolId, Venue};
use criterion::{criterion_group, criterion_main, Criterion};
use crossbeam_queue::ArrayQueue;

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    for (name, s) in [
        ("px_84270.01", "84270.01"),
        ("px_19137.740", "19137.740"),
        ("px_0.000012345", "0.000012345"),
        ("qty_0.00000000", "0.00000000"),
        ("qty_1.25", "1.25"),
        ("qty_1.25e-05", "1.25e-05"),
    ] {
        let b = s.as_bytes();
        if name.starts_with("px") {
            g.bench_function(name, |bn| bn.iter(|| Px::parse(black_box(b))));
        } else {
            g.bench_function(name, |bn| bn.iter(|| Qty::parse(black_box(b))));
        }
    }
    g.finish();
}

const TICK: i128 = Px::SCALE / 100; // 0.01 in Px units

fn deep_book(levels: usize) -> Book {
    let mut b = Book::with_capacity(levels + 64);
    let mid = Px::from_int(50_000).0;
    let bids: Vec<Level> = (1..=levels as i128)
        .map(|i| Level::new(Px(mid - i * TICK), Qty(100_000_000 + i)))
        .collect();
    let asks: Vec<Level> = (1..=levels as i128)
        .map(|i| Level::new(Px(mid + i * TICK), Qty(100_000_000 + i)))
        .collect();
    b.apply_snapshot(&bids, &asks).unwrap();
    b
}

/// Realistic 20-level deltas: mostly size changes near the top, an insert + delete pair inside
/// the spread-side levels, one far level; a pair of deltas leaves the book as it was.
fn deltas() -> Vec<(Vec<Level>, Vec<Level>)> {
    let mid = Px::from_int(50_000).0;
    let mut out = Vec::new();
    for k in 0..16i128 {
        let mut bids = Vec::new();
        let mut asks = Vec::new();
        for i in 0..8 {
            let d = 1 + (i * 3 + k) % 12;
            bids.push(Level::new(Px(mid - d * TICK), Qty(200_000_000 + k)));
            asks.push(Level::new(Px(mid + d * TICK), Qty(200_000_000 + k)));
        }
        // Insert (even k) / delete (odd k) a level between ticks near the top.
        let q = if k % 2 == 0 { Qty(5) } else { Qty(0) };
        bids.push(Level::new(Px(mid - 3 * TICK - TICK / 2), q));
        asks.push(Level::new(Px(mid + 2 * TICK + TICK / 2), q));
        // A far level (binary search path).
        bids.push(Level::new(Px(mid - (500 + k) * TICK), Qty(300_000_000)));
        asks.push(Level::new(Px(mid + (700 + k) * TICK), Qty(300_000_000)));
        assert_eq!(bids.len() + asks.len(), 20);
        out.push((bids, asks));
    }
    out
}

fn book(c: &mut Criterion) {
    let mut g = c.benchmark_group("book");
    let mut b = deep_book(1000);
    let ds = deltas();
    let mut i = 0usize;
    g.bench_function("apply_delta_20_levels_on_1000", |bn| {
        bn.iter(|| {
            let (bids, asks) = &ds[i & 15];
            i += 1;
            b.apply_delta(black_box(bids), black_box(asks)).unwrap();
        })
    });
    // The same deltas through the sequencer (what the feed calls per message).
    let mut sb = SyncedBook::new(&SyncConfig {
        levels_per_side: 1064,
        ..SyncConfig::new(SyncRule::GateUpdate)
    });
    let full_b: Vec<Level> = b.bids_worst_first().to_vec();
    let full_a: Vec<Level> = b.asks_worst_first().to_vec();
    let start = BookMsg {
        symbol: "BTC_USDT",
        snapshot: true,
        seq_first: 1,
        seq_last: 1,
        bids: &full_b,
        asks: &full_a,
        ts_exchange_ms: None,
    };
    assert!(sb.on_delta(&start, 0).book_changed());
    let mut seq = 1u64;
    g.bench_function("synced_on_delta_20_levels_on_1000", |bn| {
        bn.iter(|| {
            let (bids, asks) = &ds[seq as usize & 15];
            seq += 1;
            let m = BookMsg {
                symbol: "BTC_USDT",
                snapshot: false,
                seq_first: seq,
                seq_last: seq,
                bids,
                asks,
                ts_exchange_ms: None,
            };
            sb.on_delta(black_box(&m), seq)
        })
    });
    let mut tb = TopBook::new(20);
    g.bench_function("top20_copy_into_pooled_slot", |bn| {
        bn.iter(|| {
            tb.fill_from(black_box(&b));
            black_box(&tb);
        })
    });
    let snap_bids: Vec<Level> = b
        .bids_worst_first()
        .iter()
        .rev()
        .take(100)
        .copied()
        .collect();
    let snap_asks: Vec<Level> = b
        .asks_worst_first()
        .iter()
        .rev()
        .take(100)
        .copied()
        .collect();
    let mut s = Book::with_capacity(1000);
    g.bench_function("snapshot_100_levels_best_first", |bn| {
        bn.iter(|| s.apply_snapshot(black_box(&snap_bids), black_box(&snap_asks)))
    });
    g.finish();
}

/// Core ids read once, before any thread is pinned: `get_core_ids` reports the *current*
/// thread's affinity mask, so a thread spawned by a pinned thread would only see that core.
static CORES: std::sync::OnceLock<Vec<core_affinity::CoreId>> = std::sync::OnceLock::new();

fn pin(i: usize) {
    let ids = CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default());
    let id = ids.get(i).copied();
    assert!(
        id.is_some_and(core_affinity::set_for_current),
        "cannot pin to core {i}"
    );
}

fn trade(seq: u64) -> Event {
    let mut h = Header::new(Venue::Mexc, Market::Spot, SymbolId(0), seq);
    h.seq = seq;
    Event::new(
        h,
        Body::Trade {
            px: Px(1),
            qty: Qty(1),
            side: Side::Buy,
            trade_id: seq,
            id_hash: seq,
        },
    )
}

/// Round trips through two rings (A → B event, B → A echo); reports one-way time.
fn ring_ping_pong(iters: u64, book: bool) -> Duration {
    let cfg = RingConfig::new(64, 20, 4);
    let (mut to_b, mut at_b) = channel(&cfg);
    let (mut to_a, mut at_a) = channel(&cfg);
    let ready = AtomicBool::new(false);
    let src = deep_book(100);
    let ready = &ready;
    std::thread::scope(|s| {
        // `move`: B's two ends live on B's stack, not next to A's on A's (false sharing).
        s.spawn(move || {
            pin(1);
            ready.store(true, Ordering::Release);
            let mut n = 0;
            while n < iters {
                if let Some(ev) = at_b.try_recv() {
                    if let Some(tb) = at_b.book(&ev) {
                        black_box(tb.bids()[0]);
                    }
                    at_b.release(&ev);
                    to_a.push(trade(ev.header.seq));
                    n += 1;
                }
            }
        });
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        let t0 = Instant::now();
        for i in 0..iters {
            if book {
                let mut h = Header::new(Venue::Mexc, Market::Spot, SymbolId(0), i);
                h.seq = i;
                to_b.publish_book(h, &src);
            } else {
                to_b.push(trade(i));
            }
            loop {
                if let Some(ev) = at_a.try_recv() {
                    black_box(ev);
                    break;
                }
            }
        }
        t0.elapsed() / 2
    })
}

#[repr(align(128))]
struct Line(AtomicU64);

/// Bare cache-line ping-pong: A writes flag_a = i, B waits for it and writes flag_b = i.
fn line_ping_pong(iters: u64) -> Duration {
    let a = Line(AtomicU64::new(0));
    let b = Line(AtomicU64::new(0));
    let ready = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            pin(1);
            ready.store(true, Ordering::Release);
            for i in 1..=iters {
                while a.0.load(Ordering::Acquire) != i {
                    std::hint::spin_loop();
                }
                b.0.store(i, Ordering::Release);
            }
        });
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        let t0 = Instant::now();
        for i in 1..=iters {
            a.0.store(i, Ordering::Release);
            while b.0.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
        }
        t0.elapsed() / 2
    })
}

/// Event queue under test in the bare-queue ping-pong (no channel bookkeeping).
trait Tx: Send {
    fn send(&mut self, ev: Event) -> bool;
}
trait Rx: Send {
    fn recv(&mut self) -> Option<Event>;
}
impl Tx for Arc<ArrayQueue<Event>> {
    #[inline]
    fn send(&mut self, ev: Event) -> bool {
        self.push(ev).is_ok()
    }
}
impl Rx for Arc<ArrayQueue<Event>> {
    #[inline]
    fn recv(&mut self) -> Option<Event> {
        self.pop()
    }
}
impl Tx for rtrb::Producer<Event> {
    #[inline]
    fn send(&mut self, ev: Event) -> bool {
        self.push(ev).is_ok()
    }
}
impl Rx for rtrb::Consumer<Event> {
    #[inline]
    fn recv(&mut self) -> Option<Event> {
        self.pop().ok()
    }
}

fn arrayqueue_pair() -> (Arc<ArrayQueue<Event>>, Arc<ArrayQueue<Event>>) {
    let q = Arc::new(ArrayQueue::new(64));
    (q.clone(), q)
}

/// Same shape as `ring_ping_pong` (A → B event, B → A echo, 64 slots) over a bare queue.
fn queue_ping_pong<T: Tx, R: Rx>(iters: u64, ab: (T, R), ba: (T, R)) -> Duration {
    let (mut to_b, mut at_b) = ab;
    let (mut to_a, mut at_a) = ba;
    let ready = AtomicBool::new(false);
    let ready = &ready;
    std::thread::scope(|s| {
        // `move`: B's two ends live on B's stack, not next to A's on A's (false sharing).
        s.spawn(move || {
            pin(1);
            ready.store(true, Ordering::Release);
            let mut n = 0;
            while n < iters {
                if let Some(ev) = at_b.recv() {
                    to_a.send(trade(ev.header.seq));
                    n += 1;
                }
            }
        });
        while !ready.load(Ordering::Acquire) {
            std::hint::spin_loop();
        }
        let t0 = Instant::now();
        for i in 0..iters {
            to_b.send(trade(i));
            loop {
                if let Some(ev) = at_a.recv() {
                    black_box(ev);
                    break;
                }
            }
        }
        t0.elapsed() / 2
    })
}

fn handoff(c: &mut Criterion) {
    pin(0);
    let mut g = c.benchmark_group("handoff_one_way_core0_core1");
    g.bench_function("cache_line_floor", |bn| bn.iter_custom(line_ping_pong));
    g.bench_function("ring_event", |bn| {
        bn.iter_custom(|n| ring_ping_pong(n, false))
    });
    g.bench_function("ring_book_top20", |bn| {
        bn.iter_custom(|n| ring_ping_pong(n, true))
    });
    // Bare event queues, same shape: which queue the channel's event path should use.
    g.bench_function("queue_arrayqueue", |bn| {
        bn.iter_custom(|n| queue_ping_pong(n, arrayqueue_pair(), arrayqueue_pair()))
    });
    g.bench_function("queue_rtrb", |bn| {
        bn.iter_custom(|n| queue_ping_pong(n, rtrb::RingBuffer::new(64), rtrb::RingBuffer::new(64)))
    });
    g.finish();
}

criterion_group!(benches, parse, book, handoff);
criterion_main!(benches);
