//! Fan-out over iceoryx2 (issue 16), measured across two processes in one run:
//!
//! 1. **hop, cexfeed**: the loopback venue → engine → ring; per event the time from the ring
//!    push (`ts_ring_ns`) to (a) an in-process consumer's read and (b) a subscriber's read in
//!    another process, through the publisher thread. (b) − (a) is what the fan-out adds.
//! 2. **hop, bare iceoryx2**: the same record type and size (256-byte header + 20 levels)
//!    published by a plain iceoryx2 loop at a steady rate, read in another process.
//! 3. **throughput**: records per second a bare publisher sends with 1, 4 and 16 subscriber
//!    processes attached (each draining what it can; safe overflow, the publisher never waits).
//!
//! `cargo bench --features ipc --bench ipc` (`-- --quick` for shorter runs). Subscribers
//! busy-poll with a yield; on a machine with fewer cores than busy threads the figures include
//! scheduling delays: compare the rows of one run, not runs on different machines.
//! CLOCK_MONOTONIC is system-wide, so send and receive stamps compare across processes.

use cexfeed::event::Level;
use cexfeed::ipc::{PublishPlan, RecordHeader, Subscriber};
use cexfeed::ring::Body;
use cexfeed::types::now_ns;
use hdrhistogram::Histogram;
use iceoryx2::prelude::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "../tests/support/mod.rs"]
mod support;

const CHILD: &str = "CEXFEED_IPC_BENCH_CHILD";

fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn row(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<44} n={:>8} p50={:>8} ns p99={:>9} ns p99.9={:>9} ns max={:>10} ns",
        h.len(),
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max()
    );
}

fn child(spec: &str) {
    // mode;prefix;seconds;channels
    let mut p = spec.splitn(4, ';');
    let (mode, prefix, secs, chans) = (
        p.next().unwrap(),
        p.next().unwrap(),
        p.next().unwrap().parse::<u64>().unwrap(),
        p.next().unwrap_or(""),
    );
    let mut h = hist();
    // cexfeed only: the shared-memory hop alone (publisher's write -> this read).
    let mut shm = hist();
    let end = |start: Instant| start.elapsed() > Duration::from_secs(secs);
    match mode {
        "cexfeed" => {
            let chans: Vec<&str> = chans.split(',').collect();
            let mut sub = Subscriber::open(&chans, Some(prefix), 4096).unwrap();
            println!("READY");
            std::io::stdout().flush().unwrap();
            let start = Instant::now();
            while !end(start) {
                match sub.try_recv() {
                    Some(r) if matches!(r.body, Body::Book { .. } | Body::Trade { .. }) => {
                        let t = now_ns();
                        let _ = h.record(t.saturating_sub(r.header.ts_ring_ns).max(1));
                        let _ = shm.record(t.saturating_sub(r.published_ns()).max(1));
                    }
                    Some(_) => {}
                    None => std::thread::yield_now(),
                }
            }
        }
        _ => {
            let node = NodeBuilder::new().create::<ipc::Service>().unwrap();
            let name: ServiceName = format!("{prefix}/bare").as_str().try_into().unwrap();
            let svc = node
                .service_builder(&name)
                .publish_subscribe::<[Level]>()
                .user_header::<RecordHeader>()
                .enable_safe_overflow(true)
                .subscriber_max_buffer_size(1024)
                .max_subscribers(20)
                .open_or_create()
                .unwrap();
            let sub = svc.subscriber_builder().buffer_size(1024).create().unwrap();
            println!("READY");
            std::io::stdout().flush().unwrap();
            let start = Instant::now();
            while !end(start) {
                match sub.receive() {
                    Ok(Some(s)) => {
                        let _ = h.record(
                            now_ns()
                                .saturating_sub(s.user_header().ts_publish_ns)
                                .max(1),
                        );
                    }
                    _ => std::thread::yield_now(),
                }
            }
        }
    }
    for (tag, h) in [("all", &h), ("shm", &shm)] {
        if h.is_empty() {
            continue;
        }
        println!(
            "RESULT {tag} {} {} {} {} {}",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
}

#[allow(clippy::zombie_processes)] // callers wait (result / the throughput loop)
fn spawn(spec: String) -> (std::process::Child, BufReader<std::process::ChildStdout>) {
    let mut c = Command::new(std::env::current_exe().unwrap())
        .env(CHILD, spec)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(c.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "bench child died");
        if line.trim_end().ends_with("READY") {
            return (c, out);
        }
    }
}

fn result(mut c: std::process::Child, out: BufReader<std::process::ChildStdout>, name: &str) {
    for l in out.lines() {
        let l = l.unwrap();
        if let Some(r) = l.strip_prefix("RESULT ") {
            let (tag, r) = r.split_once(' ').unwrap();
            let name = if tag == "shm" {
                "  of which publisher write -> other process"
            } else {
                name
            };
            let v: Vec<u64> = r.split(' ').map(|x| x.parse().unwrap()).collect();
            println!(
                "{name:<44} n={:>8} p50={:>8} ns p99={:>9} ns p99.9={:>9} ns max={:>10} ns",
                v[0], v[1], v[2], v[3], v[4]
            );
        }
    }
    c.wait().unwrap();
}

fn hop_cexfeed(secs: u64) {
    let (v, mut e) = support::spot_fanout_engine(2000);
    let chans = support::SPOT_FANOUT_CHANNELS;
    let prefix = format!("cexfeed-bench-{}", std::process::id());
    let mut local = e.consumer().unwrap();
    for c in chans {
        e.bind(c, local.id()).unwrap();
    }
    let publisher = PublishPlan::new(&mut e, &chans, Some(&prefix), 4096)
        .unwrap()
        .spawn(None)
        .unwrap();
    let (c, out) = spawn(format!("cexfeed;{prefix};{secs};{}", chans.join(",")));
    e.start().unwrap();
    let mut h = hist();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        // The library's blocking receive, as the publisher thread waits.
        match local.recv_timeout(Duration::from_millis(50)) {
            Some(r) if matches!(r.body, Body::Book { .. } | Body::Trade { .. }) => {
                let _ = h.record(now_ns().saturating_sub(r.header.ts_ring_ns).max(1));
            }
            _ => {}
        }
    }
    row("ring push -> in-process consumer", &h);
    result(c, out, "ring push -> publisher -> other process");
    let s = publisher.stop();
    println!("  (published {} records, {} failed)", s.published, s.failed);
    e.stop();
    v.stop();
}

fn bare_publisher(prefix: &str) -> (Node<ipc::Service>, impl Fn(u64) -> bool) {
    let node = NodeBuilder::new().create::<ipc::Service>().unwrap();
    let name: ServiceName = format!("{prefix}/bare").as_str().try_into().unwrap();
    let svc = node
        .service_builder(&name)
        .publish_subscribe::<[Level]>()
        .user_header::<RecordHeader>()
        .enable_safe_overflow(true)
        .subscriber_max_buffer_size(1024)
        .max_subscribers(20)
        .open_or_create()
        .unwrap();
    let p = svc
        .publisher_builder()
        .initial_max_slice_len(40)
        .create()
        .unwrap();
    let send = move |seq: u64| {
        let Ok(mut x) = p.loan_slice_uninit(40) else {
            return false;
        };
        let h = x.user_header_mut();
        h.seq = seq;
        h.ts_publish_ns = now_ns();
        x.write_from_fn(|_| Level::default()).send().is_ok()
    };
    let _ = &svc;
    (node, send)
}

fn hop_bare(secs: u64) {
    let prefix = format!("cexfeed-bench-bare-{}", std::process::id());
    let (_node, send) = bare_publisher(&prefix);
    let (c, out) = spawn(format!("bare;{prefix};{secs};"));
    // The same order of rate as the cexfeed hop: one record every 100 µs.
    let start = Instant::now();
    let mut seq = 0;
    while start.elapsed() < Duration::from_secs(secs) {
        seq += 1;
        send(seq);
        let t = Instant::now();
        while t.elapsed() < Duration::from_micros(100) {
            std::thread::yield_now();
        }
    }
    result(c, out, "bare iceoryx2 publish -> other process");
}

fn throughput(subs: usize, secs: u64) {
    let prefix = format!("cexfeed-bench-tp{subs}-{}", std::process::id());
    let (_node, send) = bare_publisher(&prefix);
    let children: Vec<_> = (0..subs)
        .map(|_| spawn(format!("bare;{prefix};{};", secs + 1)))
        .collect();
    let start = Instant::now();
    let (mut n, mut failed) = (0u64, 0u64);
    while start.elapsed() < Duration::from_secs(secs) {
        if send(n) {
            n += 1;
        } else {
            failed += 1;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!("throughput, {subs:>2} subscriber processes: {rate:>12.0} records/s sent ({failed} loans refused)");
    for (mut c, out) in children {
        for _ in out.lines() {}
        let _ = c.wait();
    }
}

fn main() {
    if let Ok(spec) = std::env::var(CHILD) {
        child(&spec);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let secs = if quick { 2 } else { 5 };
    println!("# ipc hop latency and throughput (issue 16); {secs} s per row");
    hop_cexfeed(secs);
    hop_bare(secs);
    for k in [1, 4, 16] {
        throughput(k, if quick { 1 } else { 2 });
    }
}
