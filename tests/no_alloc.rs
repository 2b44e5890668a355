//! Proof that the core data path allocates nothing in steady state: a counting global
//! allocator, armed per thread after warm-up, while thousands of parsed deltas, snapshots,
//! gaps/resyncs, trades and private events go book → ring → consumer → recycle, with metrics
//! recorded and swapped.

use cexfeed::book::{SyncConfig, SyncOutcome, SyncRequest, SyncRule, SyncedBook};
use cexfeed::event::{
    BalanceMsg, BookMsg, FillMsg, IdRef, Level, Liquidity, OrderMsg, OrderStatus, OrderType,
    PositionMsg, TradeMsg,
};
use cexfeed::metrics;
use cexfeed::ring::{channel, Body, Event, Header, RingConfig, StatusKind};
use cexfeed::types::{Dec, Market, Px, Qty, Side, SymbolId, Venue};

#[path = "support/mod.rs"]
mod support;
use support::alloc::count;

#[global_allocator]
static GLOBAL: support::alloc::Counting = support::alloc::Counting;

#[test]
fn counter_sanity_counts_an_allocation() {
    support::alloc::arm_global(true);
    let (n, v) = count(|| std::hint::black_box(vec![1u8; 10]));
    support::alloc::arm_global(false);
    assert_eq!(n, 1);
    assert!(support::alloc::take_global() >= 1);
    drop(v);
}

const PRICES: [&str; 8] = [
    "84270.01", "84269.5", "84268.75", "84267", "84271.25", "84272", "84273.1", "84274.99",
];
const SIZES: [&str; 4] = ["0.00000000", "1.25", "0.0031", "17"];

struct Pipeline {
    gate: SyncedBook,
    mexc: SyncedBook,
    producer: cexfeed::ring::Producer,
    consumer: cexfeed::ring::Consumer,
    rec: metrics::Recorders,
    col: metrics::Collector,
    seq: u64,
    bids: [Level; 8],
    asks: [Level; 8],
    received: u64,
    books_seen: u64,
}

impl Pipeline {
    fn new() -> Self {
        let sc = |rule| SyncConfig {
            levels_per_side: 1000,
            max_buffered_deltas: 64,
            max_buffered_levels: 1024,
            ..SyncConfig::new(rule)
        };
        let (producer, consumer) = channel(&RingConfig::new(64, 20, 8));
        let (rec, col) = metrics::new();
        Pipeline {
            gate: SyncedBook::new(&sc(SyncRule::GateUpdate)),
            mexc: SyncedBook::new(&sc(SyncRule::Mexc)),
            producer,
            consumer,
            rec,
            col,
            seq: 100,
            bids: [Level::default(); 8],
            asks: [Level::default(); 8],
            received: 0,
            books_seen: 0,
        }
    }

    /// Parse levels from text, as a decoder would, into fixed scratch.
    fn parse_levels(&mut self, i: u64) {
        for k in 0..8 {
            let px = Px::parse(PRICES[(i as usize + k) % 8].as_bytes()).unwrap();
            let qty = Qty::parse(SIZES[(i as usize * 3 + k) % 4].as_bytes()).unwrap();
            // Bids below 84260, asks above 84280: never crossed.
            self.bids[k] = Level::new(Px(px.0 - Px::from_int(20).0), qty);
            self.asks[k] = Level::new(Px(px.0 + Px::from_int(10).0), qty);
        }
    }

    fn step(&mut self, i: u64, drain: bool) {
        let t0 = cexfeed::types::now_ns();
        self.parse_levels(i);
        // Every 500th step skips a sequence number: gap → resync → buffer → snapshot.
        let skip = i % 500 == 499;
        let first = self.seq + 1 + skip as u64;
        let last = first + (i % 3);
        self.seq = last;
        let (nb, na) = ((i % 8) as usize + 1, ((i + 3) % 8) as usize + 1);
        let msg = BookMsg {
            symbol: "BTC_USDT",
            snapshot: false,
            seq_first: first,
            seq_last: last,
            bids: &self.bids[..nb],
            asks: &self.asks[..na],
            ts_exchange_ms: Some(1_700_000_000_000),
        };
        for (sym, sb) in [(0u16, &mut self.gate), (1u16, &mut self.mexc)] {
            let out = sb.on_delta(&msg, t0);
            if out.is_resync() {
                metrics::Counters::add(&self.rec.counters.resyncs, 1);
            }
            let mut publish = out.book_changed();
            if sb.take_request(t0) == Some(SyncRequest::Snapshot) {
                // Snapshot at the delta's first seq - 1: bridges the buffered delta.
                let snap = BookMsg {
                    snapshot: true,
                    seq_first: first - 1,
                    seq_last: first - 1,
                    ..msg
                };
                let o = sb.on_snapshot(&snap, t0);
                assert_eq!(o, SyncOutcome::Replaced, "step {i}");
                publish = true;
            }
            if publish {
                let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(sym), t0);
                h.seq = sb.seq();
                h.state = sb.state();
                self.producer.publish_book(h, sb.book());
            }
        }
        let h = Header::new(Venue::Gateio, Market::Spot, SymbolId(0), t0);
        let trade = TradeMsg {
            symbol: "BTC_USDT",
            px: self.bids[0].px,
            qty: self.bids[0].qty,
            side: Side::Buy,
            trade_id: IdRef::Num(i),
            ts_exchange_ms: Some(1),
        };
        self.producer.push(Event::trade(h, &trade));
        if i % 10 == 0 {
            let order = OrderMsg {
                symbol: "BTC_USDT",
                order_id: IdRef::Str("C02__413889389185720320104"),
                client_id: Some("t-my-client-id-1234"),
                side: Side::Sell,
                order_type: OrderType::Limit,
                px: self.asks[0].px,
                qty: Qty::from_int(1),
                filled: Qty::ZERO,
                remaining: Qty::from_int(1),
                avg_px: Dec::ZERO,
                status: OrderStatus::New,
                ts_create_ms: Some(1),
                ts_update_ms: None,
            };
            self.producer.push(Event::order(h, &order));
            let fill = FillMsg {
                symbol: "BTC_USDT",
                trade_id: IdRef::Num(9_000_000_000 + i),
                order_id: IdRef::Str("C02__413889389185720320104"),
                client_id: None,
                px: self.asks[0].px,
                qty: Qty::from_int(1),
                side: Side::Sell,
                liquidity: Liquidity::Maker,
                fee: Dec::parse_signed(b"-0.0003998377369698171").unwrap(),
                fee_currency: Some("USDT"),
                ts_exchange_ms: Some(2),
            };
            self.producer.push(Event::fill(h, &fill));
            let bal = BalanceMsg {
                asset: "USDT",
                available: Dec::parse(b"21.94210356004384").unwrap(),
                locked: Dec::from_int(5),
                total: None,
                change: Some(Dec::parse_signed(b"-5").unwrap()),
                reason: Some("order-create"),
                ts_exchange_ms: Some(3),
            };
            self.producer.push(Event::balance(h, &bal));
            let pos = PositionMsg {
                contract: "BTC_USDT",
                size: Qty::parse_signed(b"-108").unwrap(),
                entry_px: self.asks[0].px.into(),
                leverage: Dec::ZERO,
                margin: Dec::parse(b"49.999890611186").unwrap(),
                liq_px: Dec::from_int(90_000),
                realised_pnl: Dec::ZERO,
                ts_exchange_ms: Some(4),
            };
            self.producer.push(Event::position(h, &pos));
            self.producer
                .push(Event::status(h, StatusKind::PrivateGap, t0 - 10, t0));
            self.producer
                .push(Event::error(h, 4, "spot.orders", "invalid key"));
        }
        let t1 = cexfeed::types::now_ns();
        self.rec.book_apply.record(t1 - t0);
        self.rec.wire_to_ring.record(t1 - t0);
        self.rec.decode.poll();
        self.rec.book_apply.poll();
        self.rec.wire_to_ring.poll();
        if drain {
            while let Some(ev) = self.consumer.try_recv() {
                self.received += 1;
                self.rec
                    .wire_to_strategy
                    .record(ev.header.ts_ring_ns.saturating_sub(ev.header.ts_recv_ns));
                if let Some(tb) = self.consumer.book(&ev) {
                    assert!(tb.bids().len() <= 20);
                    self.books_seen += 1;
                }
                if let Body::Book { .. } = ev.body {
                    assert!(self.consumer.release(&ev));
                }
            }
            self.rec.wire_to_strategy.poll();
        }
    }
}

#[test]
fn steady_state_pipeline_allocates_nothing() {
    let mut p = Pipeline::new();
    // Warm-up: first snapshot, first gap, every code path once (lazy statics, TLS).
    for i in 0..1000 {
        p.step(i, true);
    }
    p.col.request();
    let (n, ()) = count(|| {
        for i in 1000..11_000 {
            // The consumer stalls for 50 steps out of every 200: ring full, conflation, drops.
            p.step(i, i % 200 < 150);
            if i % 1000 == 0 {
                p.col.request();
            }
        }
    });
    assert_eq!(n, 0, "allocations on the hot path");
    assert!(p.col.collect() > 0);
    assert_eq!(p.gate.state(), cexfeed::types::BookState::Live);
    assert_eq!(p.mexc.seq(), p.seq);
    let st = p.producer.stats();
    assert!(st.dropped > 0 && st.conflated > 0, "{st:?}");
    assert!(p.books_seen > 5_000 && p.received > 10_000);
}

#[test]
fn cross_thread_handoff_allocates_nothing() {
    let (mut producer, mut consumer) = channel(&RingConfig::new(256, 20, 4));
    let mut book = cexfeed::book::Book::with_capacity(100);
    book.apply_snapshot(
        &[Level::new(Px::from_int(10), Qty::from_int(1))],
        &[Level::new(Px::from_int(11), Qty::from_int(1))],
    )
    .unwrap();
    const N: u64 = 20_000;
    let t = std::thread::spawn(move || {
        let (n, got) = count(|| {
            let mut got = 0u64;
            let mut last = 0u64;
            while last < N {
                if let Some(ev) = consumer.try_recv() {
                    if let Some(tb) = consumer.book(&ev) {
                        last = tb.seq;
                        got += 1;
                    }
                    consumer.release(&ev);
                }
            }
            got
        });
        (n, got)
    });
    let (n, ()) = count(|| {
        for seq in 1..=N {
            let mut h = Header::new(Venue::Mexc, Market::Spot, SymbolId(seq as u16 % 4), seq);
            h.seq = seq;
            if seq == N {
                h.symbol = SymbolId(0);
            }
            book.apply_delta(&[Level::new(Px::from_int(10), Qty(seq as i128))], &[])
                .unwrap();
            producer.publish_book(h, &book);
        }
        while producer.held() > 0 {
            producer.flush();
        }
    });
    let (nc, got) = t.join().unwrap();
    assert_eq!((n, nc), (0, 0));
    assert!(got > 0);
}
