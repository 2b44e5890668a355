//! MEXC decode benchmarks (criterion). Compare ratios within one run.
//!
//! `mexc_aggre_depth_20x20`: one 20+20-level aggre depth push (body 313)
//! * `walker_apply` — the hot path: field walker, fixed-point parsing, levels copied into a
//!   fixed buffer by the sink (simulating the book apply). Allocation-free.
//! * `prost_owned` — the baseline: `PushDataV3ApiWrapper::decode` into owned structs
//!   (a `String` per text field, a `Vec` per repeated field; no price parsing).
//! * `prost_reference_apply` — prost decode + the reference mapping (test support,
//!   `tests/support/mexc/prost_ref.rs`) and the same apply as the walker.
//!
//! `mexc_captures`: the walker on the real captured frames.

#[path = "../tests/support/events.rs"]
#[allow(dead_code)]
mod events;
#[path = "../tests/support/mexc/mod.rs"]
#[allow(unused_imports)]
mod mexc_util;

use std::hint::black_box;

use cexfeed::event::{BboMsg, BookMsg, KlineMsg, Level, Sink, TradeMsg};
use cexfeed::exchange::mexc::MexcDecoder;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mexc_util::{wire, ReferenceDecode};
use prost::Message;

/// Copies a book message's levels into fixed arrays, as a book apply would touch them.
struct ApplySink {
    bids: [Level; 64],
    asks: [Level; 64],
    n: usize,
    seq: u64,
    acc: i128,
}

impl ApplySink {
    fn new() -> Self {
        ApplySink {
            bids: [Level::default(); 64],
            asks: [Level::default(); 64],
            n: 0,
            seq: 0,
            acc: 0,
        }
    }
}

impl Sink for ApplySink {
    fn book(&mut self, m: &BookMsg<'_>) {
        let nb = m.bids.len().min(64);
        let na = m.asks.len().min(64);
        self.bids[..nb].copy_from_slice(&m.bids[..nb]);
        self.asks[..na].copy_from_slice(&m.asks[..na]);
        self.n = nb + na;
        self.seq = m.seq_last;
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.acc = self.acc.wrapping_add(m.px.0 ^ m.qty.0);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.acc = self.acc.wrapping_add(m.bid_px.0 ^ m.ask_px.0);
    }
    fn kline(&mut self, m: &KlineMsg<'_>) {
        self.acc = self.acc.wrapping_add(m.close.0 ^ m.volume.0);
    }
}

fn depth(c: &mut Criterion) {
    let frame = mexc_util::encode(&mexc_util::aggre_depth_20_msg());
    let mut dec = MexcDecoder::new(64);
    let mut sink = ApplySink::new();
    dec.decode_binary(&frame, &mut sink).unwrap();
    assert_eq!(sink.n, 40);

    let mut g = c.benchmark_group("mexc_aggre_depth_20x20");
    g.throughput(Throughput::Elements(1));
    g.bench_function("walker_apply", |b| {
        b.iter(|| {
            dec.decode_binary(black_box(&frame), &mut sink).unwrap();
            black_box(sink.seq)
        })
    });
    g.bench_function("prost_owned", |b| {
        b.iter(|| black_box(wire::PushDataV3ApiWrapper::decode(black_box(&frame[..])).unwrap()))
    });
    g.bench_function("prost_reference_apply", |b| {
        b.iter(|| {
            dec.decode_binary_reference(black_box(&frame), &mut sink)
                .unwrap();
            black_box(sink.seq)
        })
    });
    g.finish();
}

fn captures(c: &mut Criterion) {
    let mut dec = MexcDecoder::new(64);
    let mut sink = ApplySink::new();
    let mut g = c.benchmark_group("mexc_captures");
    g.throughput(Throughput::Elements(1));
    for name in [
        "mexc_spot_aggre_bookticker.frame",
        "mexc_spot_aggre_deals.frame",
        "mexc_spot_limit_depth.frame",
        "mexc_spot_kline.frame",
    ] {
        let f = mexc_util::fixture(&format!("{name}.bin"));
        g.bench_function(name.trim_start_matches("mexc_spot_"), |b| {
            b.iter(|| {
                dec.decode_binary(black_box(&f), &mut sink).unwrap();
                black_box(sink.acc)
            })
        });
    }
    let ack = br#"{"id":0,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}"#;
    g.bench_function("control_ack_text", |b| {
        b.iter(|| dec.decode_text(black_box(ack), &mut sink).unwrap())
    });
    g.finish();
}

/// Decode + apply into the crate's real 1,000-level book (what the feed does, minus sync).
fn depth_apply(c: &mut Criterion) {
    use cexfeed::book::Book;
    use cexfeed::types::{Px, Qty};
    struct RealBook(Book, Vec<Level>, Vec<Level>);
    impl Sink for RealBook {
        fn book(&mut self, m: &BookMsg<'_>) {
            if self.0.is_empty() {
                self.1.extend_from_slice(m.bids);
                self.2.extend_from_slice(m.asks);
            } else {
                black_box(self.0.apply_delta(m.bids, m.asks).is_ok());
            }
        }
    }
    let frame = mexc_util::encode(&mexc_util::aggre_depth_20_msg());
    let mut dec = MexcDecoder::new(64);
    let mut rb = RealBook(Book::with_capacity(2000), Vec::new(), Vec::new());
    dec.decode_binary(&frame, &mut rb).unwrap();
    let best_bid = rb.1.iter().map(|l| l.px.0).max().unwrap();
    let best_ask = rb.2.iter().map(|l| l.px.0).min().unwrap();
    let mut pxs: Vec<i128> = rb.1.iter().chain(rb.2.iter()).map(|l| l.px.0).collect();
    pxs.sort_unstable();
    let step = pxs
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(1);
    let bids: Vec<Level> = (0..1000)
        .map(|i| Level::new(Px(best_bid - i * step), Qty::from_int(1)))
        .collect();
    let asks: Vec<Level> = (0..1000)
        .map(|i| Level::new(Px(best_ask + i * step), Qty::from_int(1)))
        .collect();
    rb.0.apply_snapshot(&bids, &asks).unwrap();
    let mut g = c.benchmark_group("mexc_aggre_depth_20x20_decode_apply_1000");
    g.bench_function("walker+book", |b| {
        b.iter(|| {
            dec.decode_binary(black_box(&frame), &mut rb).unwrap();
        })
    });
    g.bench_function("prost_owned+book", |b| {
        b.iter(|| {
            let w = wire::PushDataV3ApiWrapper::decode(black_box(&frame[..])).unwrap();
            black_box(&w);
            dec.decode_binary_reference(black_box(&frame), &mut rb)
                .unwrap();
        })
    });
    g.finish();
}

criterion_group!(benches, depth, captures, depth_apply);
criterion_main!(benches);
