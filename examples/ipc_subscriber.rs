//! Watch channels a running cexfeed publishes over iceoryx2 shared memory (issue 16), from a
//! second terminal:
//!
//! ```text
//! cargo run --release -- --publish                      # terminal 1: the demo, publishing
//! cargo run --release --example ipc_subscriber -- gateio.spot.orderbook.BTC_USDT mexc.spot.trades.BTCUSDT
//! ```
//!
//! `CHANNEL...` in the binding grammar; `--count N` exits 0 after N events with a one-line
//! summary (non-zero if none came within 30 s); `--prefix P` for a publisher with another
//! service prefix; `--list` prints what running publishers offer.
use cexfeed::ipc::{list, Subscriber, DEFAULT_BUFFER, DEFAULT_PREFIX};
use cexfeed::ring::Body;
use std::time::{Duration, Instant};

fn main() {
    let mut channels = Vec::new();
    let (mut count, mut prefix, mut want_list) = (None::<u64>, DEFAULT_PREFIX.to_string(), false);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--count" => count = args.next().and_then(|n| n.parse().ok()),
            "--prefix" => prefix = args.next().unwrap_or(prefix),
            "--list" => want_list = true,
            "-h" | "--help" => {
                println!("ipc_subscriber CHANNEL... [--count N] [--prefix P] | --list");
                return;
            }
            _ => channels.push(a),
        }
    }
    if want_list {
        match list(&prefix) {
            Ok(l) => l.iter().for_each(|c| println!("{c}")),
            Err(e) => fail(&e.to_string()),
        }
        return;
    }
    if channels.is_empty() {
        fail("name at least one channel, e.g. gateio.spot.orderbook.BTC_USDT (or --list)");
    }
    let mut sub = match Subscriber::open(&channels, Some(&prefix), DEFAULT_BUFFER) {
        Ok(s) => s,
        Err(e) => fail(&e.to_string()),
    };
    let start = Instant::now();
    let (mut n, mut books, mut trades, mut missed) = (0u64, 0u64, 0u64, 0u64);
    loop {
        let Some(r) = sub.try_recv() else {
            if n == 0 && start.elapsed() > Duration::from_secs(30) {
                fail("no event within 30 s: is a publisher running (cexfeed --publish)?");
            }
            std::thread::sleep(Duration::from_micros(100));
            continue;
        };
        n += 1;
        match r.body {
            Body::Book { .. } => {
                books += 1;
                if let Some(b) = r.book() {
                    let (bid, ask) = (b.bids().first(), b.asks().first());
                    println!(
                        "{} book seq {} {:?} bid {} ask {}",
                        r.channel(),
                        b.seq,
                        b.state,
                        bid.map_or("-".into(), |l| format!("{}@{}", l.qty, l.px)),
                        ask.map_or("-".into(), |l| format!("{}@{}", l.qty, l.px)),
                    );
                }
            }
            Body::Trade { px, qty, side, .. } => {
                trades += 1;
                println!("{} trade {side:?} {qty}@{px}", r.channel());
            }
            Body::Missed { count } => {
                missed += count;
                println!("{} missed {count}", r.channel());
            }
            b => println!("{} {:?}", r.channel(), b.kind()),
        }
        if count.is_some_and(|c| n >= c) {
            println!(
                "received {n} events ({books} books, {trades} trades, {missed} missed) in {:.1} s",
                start.elapsed().as_secs_f64()
            );
            return;
        }
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("ipc_subscriber: {msg}");
    std::process::exit(1)
}
