//! Model checks (loom) of the channel's own lock-free protocol: the book-slot pool handed
//! between the feed thread and a strategy thread through the two queues. Built only with
//! `--cfg loom` (`tools/loom.sh`), where `cexfeed::ring`'s atomics, `Arc` and slot cells are
//! loom's (src/ring/sync.rs) and the queues a loom-visible model (src/ring/queue.rs; the
//! production queues are rtrb's, tested by that crate): loom runs every interleaving the
//! memory model allows (bounded by `LOOM_MAX_PREEMPTIONS`) and fails on a data race on a slot
//! or a lost or reordered value.
#![cfg(loom)]

use cexfeed::book::Book;
use cexfeed::event::Level;
use cexfeed::ring::{channel, Body, Header, RingConfig};
use cexfeed::types::{Market, Px, Qty, SymbolId, Venue};
use loom::thread;

/// Every level of the book carries `seq` as its quantity: a slot written while the consumer
/// reads it shows up as a race (loom) or as a level from another update (the assertion).
fn stamp(book: &mut Book, seq: u64) {
    let q = Qty(seq as i128);
    let bids = [Level::new(Px(100), q), Level::new(Px(99), q)];
    let asks = [Level::new(Px(101), q), Level::new(Px(102), q)];
    book.apply_snapshot(&bids, &asks).unwrap();
}

/// Book slots go producer → event ring → consumer → free ring → producer: never accessed by
/// both threads at once, never torn, and the newest update arrives (conflation keeps it).
#[test]
fn book_slot_pool_handoff() {
    loom::model(|| {
        let cfg = RingConfig {
            capacity: 1,
            top_n: 2,
            pool_size: 4,
            max_symbols: 1,
        };
        let (mut p, mut c) = channel(&cfg);
        let producer = thread::spawn(move || {
            let mut book = Book::with_capacity(4);
            for seq in 1..=3u64 {
                stamp(&mut book, seq);
                let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(0), seq);
                h.seq = seq;
                p.publish_book(h, &book);
            }
            while p.held() > 0 {
                p.flush();
                thread::yield_now();
            }
            p
        });
        let mut last = 0u64;
        while last < 3 {
            let Some(ev) = c.try_recv() else {
                thread::yield_now();
                continue;
            };
            let Body::Book { .. } = ev.body else {
                continue; // `Missed` when an update was dropped
            };
            let tb = c.book(&ev).expect("a received book slot is held");
            assert_eq!(tb.seq, ev.header.seq);
            for l in tb.bids().iter().chain(tb.asks()) {
                assert_eq!(l.qty.0 as u64, ev.header.seq, "torn slot");
            }
            assert!(ev.header.seq > last, "per-symbol order");
            last = ev.header.seq;
            assert!(c.release(&ev));
        }
        let p = producer.join().unwrap();
        assert_eq!(p.stats().pool_empty, 0);
    });
}
