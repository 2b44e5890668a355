//! Ring handoff across threads: the book-slot ownership protocol, conflation order, missed
//! counts and pool recycling under a consumer that stalls.

use cexfeed::book::Book;
use cexfeed::event::Level;
use cexfeed::ring::{channel, Body, Event, Header, Kind, Pushed, RingConfig, StatusKind};
use cexfeed::types::{Market, Px, Qty, SymbolId, Venue};

fn assert_send<T: Send>() {}

#[test]
fn producer_and_consumer_are_send() {
    assert_send::<cexfeed::ring::Producer>();
    assert_send::<cexfeed::ring::Consumer>();
}

/// A book whose every level carries `seq` as quantity: a torn or reused slot shows up as a
/// level whose quantity differs from the event's sequence.
fn stamp(book: &mut Book, seq: u64) {
    let q = Qty(seq as i128);
    let bids: Vec<Level> = (0..10).map(|i| Level::new(Px(1000 - i), q)).collect();
    let asks: Vec<Level> = (0..10).map(|i| Level::new(Px(1001 + i), q)).collect();
    book.apply_snapshot(&bids, &asks).unwrap();
}

#[test]
fn slots_never_torn_per_symbol_order_kept_and_everything_accounted_for() {
    const SYMBOLS: u16 = 4;
    const UPDATES: u64 = 20_000;
    let cfg = RingConfig {
        capacity: 64,
        top_n: 10,
        pool_size: 64 + 4 + 8,
        max_symbols: SYMBOLS as usize,
    };
    let (mut p, mut c) = channel(&cfg);
    let consumer = std::thread::spawn(move || {
        let mut last_seq = [0u64; SYMBOLS as usize];
        let mut trades = 0u64;
        let mut missed = 0u64;
        let mut books = 0u64;
        let mut done = false;
        let mut spins = 0u64;
        while !done {
            let Some(ev) = c.try_recv() else {
                std::hint::spin_loop();
                continue;
            };
            spins += 1;
            if spins % 1000 == 0 {
                // Stall now and then so the ring fills up.
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            match ev.body {
                Body::Book { n_bids, n_asks, .. } => {
                    let s = ev.header.symbol.0 as usize;
                    let tb = c.book(&ev).expect("held");
                    assert_eq!(tb.seq, ev.header.seq);
                    assert_eq!((n_bids, n_asks), (10, 10));
                    for l in tb.bids().iter().chain(tb.asks()) {
                        assert_eq!(l.qty.0 as u64, ev.header.seq, "torn slot");
                    }
                    assert!(ev.header.seq > last_seq[s], "per-symbol order");
                    last_seq[s] = ev.header.seq;
                    books += 1;
                    assert!(c.release(&ev));
                }
                Body::Trade { .. } => trades += 1,
                Body::Missed { count } => missed += count,
                Body::Status { .. } => done = true,
                _ => unreachable!(),
            }
        }
        (last_seq, trades, missed, books, c)
    });
    let mut book = Book::with_capacity(32);
    let mut trades_sent = 0u64;
    for seq in 1..=UPDATES {
        let sym = (seq % SYMBOLS as u64) as u16;
        stamp(&mut book, seq);
        let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(sym), seq);
        h.seq = seq;
        p.publish_book(h, &book);
        if seq % 3 == 0 {
            let t = Event::new(
                Header::new(Venue::Gateio, Market::Spot, SymbolId(sym), seq),
                Body::Trade {
                    px: Px(1),
                    qty: Qty(1),
                    side: cexfeed::types::Side::Buy,
                    trade_id: seq,
                    id_hash: seq,
                },
            );
            p.push(t);
            trades_sent += 1;
        }
    }
    // Drain held book updates, then the end marker (retried until it fits).
    while p.held() > 0 {
        p.flush();
    }
    let end = Event::status(
        Header::new(Venue::Gateio, Market::Spot, SymbolId(0), 0),
        StatusKind::ConnDown,
        1,
        0,
    );
    let base_dropped = p.stats().dropped;
    loop {
        if p.push(end) == Pushed::Sent {
            break;
        }
        std::thread::yield_now();
    }
    let (last_seq, trades, mut missed, books, mut c) = consumer.join().unwrap();
    // Drops after the consumer's last check arrive as one more `Missed`.
    if let Some(Event {
        body: Body::Missed { count },
        ..
    }) = c.try_recv()
    {
        missed += count;
    }
    assert_eq!(c.try_recv(), None);
    let stats = p.stats();
    assert_eq!(missed, stats.dropped, "every drop reported");
    let trade_drops = base_dropped - stats.pool_empty;
    assert_eq!(trades + trade_drops, trades_sent);
    // The newest update of every symbol arrived (conflation never loses the newest).
    for s in 0..SYMBOLS as u64 {
        let newest = UPDATES - (UPDATES - s) % SYMBOLS as u64;
        assert_eq!(last_seq[s as usize], newest, "symbol {s}");
    }
    assert_eq!(books + stats.conflated + stats.pool_empty, UPDATES);
    assert_eq!(c.held(), 0);
    let s = c.stats();
    assert!(s.sent > 0);
    println!(
        "books {books} conflated {} trades {trades}/{trades_sent} missed {missed} pool_empty {}",
        s.conflated, s.pool_empty
    );
}

#[test]
fn stalled_consumer_sees_missed_then_latest_books() {
    let cfg = RingConfig {
        capacity: 8,
        top_n: 5,
        pool_size: 32,
        max_symbols: 2,
    };
    let (mut p, mut c) = channel(&cfg);
    let mut book = Book::with_capacity(16);
    // Consumer stalls: 100 trades and 100 book updates for 2 symbols.
    for seq in 1..=100u64 {
        let h = Header::new(Venue::Mexc, Market::Spot, SymbolId(0), seq);
        p.push(Event::new(
            h,
            Body::Trade {
                px: Px(1),
                qty: Qty(1),
                side: cexfeed::types::Side::Sell,
                trade_id: seq,
                id_hash: seq,
            },
        ));
        stamp(&mut book, seq);
        let mut h = Header::new(Venue::Mexc, Market::Spot, SymbolId((seq % 2) as u16), seq);
        h.seq = seq;
        p.publish_book(h, &book);
    }
    let st = p.stats();
    assert_eq!(st.sent, 8);
    assert_eq!(st.dropped, 96, "trades beyond the ring are dropped");
    assert_eq!(p.held(), 2);
    let mut kinds = Vec::new();
    while let Some(ev) = c.try_recv() {
        kinds.push(ev.kind());
        if let Body::Missed { count } = ev.body {
            assert_eq!(count, 96);
        }
        c.release(&ev);
    }
    assert_eq!(kinds[0], Kind::Missed);
    assert_eq!(kinds.len(), 9);
    // Producer's next push delivers the held latest books: seq 99 (sym 1) and 100 (sym 0).
    p.flush();
    let a = c.try_recv().unwrap();
    let b = c.try_recv().unwrap();
    let mut got = [
        (a.header.symbol.0, a.header.seq),
        (b.header.symbol.0, b.header.seq),
    ];
    got.sort();
    assert_eq!(got, [(0, 100), (1, 99)]);
    assert_eq!(c.book(&a).unwrap().bids()[0].qty, Qty(a.header.seq as i128));
    c.release(&a);
    c.release(&b);
    assert_eq!(c.try_recv(), None);
}
