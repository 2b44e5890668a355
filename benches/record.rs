//! Issue 15 measurements (not criterion: each figure needs its own set-up). Run:
//! `cargo bench --bench record` (release profile). Prints:
//!
//! 1. the feed thread's cost of `Tap::message` per frame (a 20+20-level Gate.io `spot.obu`
//!    push, ~1.3 KB, and a ~200-byte trade), with the recorder thread compressing and writing
//!    behind it: batches of 256 calls timed, per-frame p50 / p99 over the batches;
//! 2. the recorder thread's throughput (uncompressed MB/s in, from the first record to the last
//!    byte written) and the compression ratio on these frames;
//! 3. replay throughput at `max`: a file of 20+20-level Gate.io spot obu pushes through
//!    `Engine::replay` (reactor callback → decoder → sync → book → ring → a consumer thread),
//!    messages per second on the one feed thread.

use cexfeed::config::Config;
use cexfeed::engine::Engine;
use cexfeed::record::replay::{ReplaySetup, Speed};
use cexfeed::record::{encode_file, FileMeta, Kind, RecHeader, RecordSetup, Recorder};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn obu_push(u: u64, full: bool, levels: usize) -> Vec<u8> {
    let mut b = String::new();
    let mut a = String::new();
    for i in 0..levels {
        if i > 0 {
            b.push(',');
            a.push(',');
        }
        b.push_str(&format!(
            "[\"{}.{}\",\"{}.{:04}\"]",
            99_999 - i,
            (u as usize + i) % 10,
            1 + (u as usize + i) % 7,
            (u as usize * 31 + i * 1733) % 10_000
        ));
        a.push_str(&format!(
            "[\"{}.{}\",\"{}.{:04}\"]",
            100_001 + i,
            (u as usize + 3 * i) % 10,
            1 + (u as usize + 2 * i) % 5,
            (u as usize * 17 + i * 977) % 10_000
        ));
    }
    let seq = if full {
        format!("\"full\":true,\"u\":{u}")
    } else {
        format!("\"U\":{u},\"u\":{u}")
    };
    format!(
        "{{\"channel\":\"spot.obu\",\"result\":{{\"t\":1747054612695,{seq},\"s\":\"ob.BTC_USDT.50\",\"b\":[{b}],\"a\":[{a}]}},\"time_ms\":1747054612925}}"
    )
    .into_bytes()
}

fn trade(i: u64) -> Vec<u8> {
    format!("{{\"time\":1747054612,\"time_ms\":1747054612925,\"channel\":\"spot.trades\",\"event\":\"update\",\"result\":{{\"id\":{i},\"create_time\":1747054612,\"create_time_ms\":\"1747054612925.123\",\"side\":\"sell\",\"currency_pair\":\"BTC_USDT\",\"amount\":\"0.0012\",\"price\":\"104027.1\",\"range\":\"{i}-{i}\"}}}}").into_bytes()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p) as usize]
}

fn tap_cost(name: &str, frames: &[Vec<u8>], ring_bytes: usize) {
    let dir = std::env::temp_dir().join(format!("cexfeed-bench-rec-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let setup = RecordSetup {
        dir: dir.clone(),
        ring_bytes,
        ..RecordSetup::default()
    };
    let meta = FileMeta {
        format_version: cexfeed::record::FORMAT_VERSION,
        cexfeed_version: "bench".into(),
        venue: "gateio".into(),
        market: "spot".into(),
        symbols: vec!["BTC_USDT".into()],
        file_seq: 0,
        opened_wall_ns: 0,
        config: String::new(),
        contract_multipliers: Default::default(),
    };
    let (rec, mut tap) = Recorder::start(&setup, meta, "bench").unwrap();
    let batch = 64;
    let batches = 8_000;
    let mut per = Vec::with_capacity(batches);
    let t0 = Instant::now();
    let mut n = 0u64;
    for _ in 0..batches {
        let s = Instant::now();
        for _ in 0..batch {
            let f = &frames[n as usize % frames.len()];
            tap.message(0, true, std::hint::black_box(f), n);
            n += 1;
        }
        per.push(s.elapsed().as_nanos() as f64 / batch as f64);
        // Pace a little so the recorder keeps up (no drops measured as "cheap" writes).
        std::thread::sleep(Duration::from_micros(200));
    }
    let stats = tap.stats().clone();
    drop(tap);
    let wstats = rec.stats.clone();
    let paths = rec.finish();
    let total = t0.elapsed();
    let raw = wstats.raw_bytes.load(Ordering::Relaxed);
    let file = wstats.file_bytes.load(Ordering::Relaxed);
    println!(
        "tap {name}, ring {} MiB: {} bytes/frame, per frame p50 {:.1} ns, p99 {:.1} ns (batches of {batch}); dropped {}; \
         recorder: {:.1} MB raw in {:.2} s incl. pacing, compression x{:.1}, {} files",
        ring_bytes >> 20,
        frames[0].len(),
        pct(&mut per.clone(), 0.5),
        pct(&mut per, 0.99),
        stats.dropped.load(Ordering::Relaxed),
        raw as f64 / 1e6,
        total.as_secs_f64(),
        raw as f64 / file.max(1) as f64,
        paths.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn recorder_throughput(frames: &[Vec<u8>]) {
    let dir = std::env::temp_dir().join(format!("cexfeed-bench-thr-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let setup = RecordSetup {
        dir: dir.clone(),
        ring_bytes: 64 << 20,
        ..RecordSetup::default()
    };
    let meta = FileMeta {
        format_version: cexfeed::record::FORMAT_VERSION,
        cexfeed_version: "bench".into(),
        venue: "gateio".into(),
        market: "spot".into(),
        symbols: vec![],
        file_seq: 0,
        opened_wall_ns: 0,
        config: String::new(),
        contract_multipliers: Default::default(),
    };
    let (rec, mut tap) = Recorder::start(&setup, meta, "thr").unwrap();
    let t0 = Instant::now();
    let total = 400_000u64;
    let mut sent = 0;
    while sent < total {
        let before = tap.stats().dropped.load(Ordering::Relaxed);
        tap.message(0, true, &frames[sent as usize % frames.len()], sent);
        if tap.stats().dropped.load(Ordering::Relaxed) == before {
            sent += 1;
        } else {
            std::thread::yield_now(); // ring full: the recorder is the bottleneck
        }
    }
    let st = rec.stats.clone();
    drop(tap);
    rec.finish();
    let el = t0.elapsed().as_secs_f64();
    let raw = st.raw_bytes.load(Ordering::Relaxed) as f64;
    let file = st.file_bytes.load(Ordering::Relaxed) as f64;
    println!(
        "recorder throughput: {:.0} MB/s uncompressed in ({:.0} k records/s), compression x{:.1} (zstd level 3, 1 MiB frames)",
        raw / el / 1e6,
        total as f64 / el / 1e3,
        raw / file
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn replay_throughput() {
    let cfg_text = "[runtime]\nwait = \"block\"\nring_capacity = 65536\n[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\nchannels = [\"orderbook\"]\nws_url = \"ws://127.0.0.1:1/ws\"\nrest_url = \"http://127.0.0.1:1\"\n";
    let n = 1_000_000u64;
    let mut recs = Vec::with_capacity(n as usize + 2);
    recs.push((RecHeader::new(Kind::Up, 0, 1_000, 0), Vec::new()));
    let base = 1_000_000u64;
    for i in 0..n {
        recs.push((
            RecHeader::new(Kind::MsgText, 0, 2_000 + i * 1_000, 0),
            obu_push(base + i, i == 0, 20),
        ));
    }
    let meta = FileMeta {
        format_version: cexfeed::record::FORMAT_VERSION,
        cexfeed_version: "bench".into(),
        venue: "gateio".into(),
        market: "spot".into(),
        symbols: vec!["BTC_USDT".into()],
        file_seq: 0,
        opened_wall_ns: 0,
        config: cfg_text.into(),
        contract_multipliers: Default::default(),
    };
    let bytes = encode_file(&meta, &recs, 1 << 20);
    drop(recs);
    let path =
        std::env::temp_dir().join(format!("cexfeed-bench-replay-{}.cxrec", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let resolved = Config::from_toml(cfg_text, "bench")
        .unwrap()
        .resolve()
        .unwrap();
    let mut engine = Engine::new(resolved.engine).unwrap();
    engine
        .replay(ReplaySetup {
            files: vec![path.clone()],
            speed: Speed::Max,
            skip_corrupt: false,
        })
        .unwrap();
    let mut rx = engine.consumer().unwrap();
    engine
        .bind("gateio.spot.orderbook.BTC_USDT", rx.id())
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let st = stop.clone();
    let consumer = std::thread::spawn(move || {
        let mut n = 0u64;
        while !st.load(Ordering::Relaxed) {
            while let Some(ev) = rx.try_recv() {
                std::hint::black_box(ev.book().map(|b| b.bids().len()));
                n += 1;
            }
            std::hint::spin_loop();
        }
        while rx.try_recv().is_some() {
            n += 1;
        }
        n
    });
    engine.start().unwrap();
    while !engine.replay_done() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let (_, _, s) = engine.replay_stats().pop().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let events = consumer.join().unwrap();
    let fin = engine.stop();
    let msgs = s.messages.load(Ordering::Relaxed);
    let el = s.elapsed_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let cpu = s.cpu_ns.load(Ordering::Relaxed) as f64 / 1e9;
    let book = &fin[0].books[0];
    println!(
        "replay at max: {msgs} Gate.io spot obu pushes of 20+20 levels in {el:.3} s wall = {:.0} pushes/s; \
         feed thread CPU {cpu:.3} s = {:.0} pushes per CPU-second \
         (read + zstd + decode + sync + book + ring; a consumer thread read {events} events); \
         final book seq {} state {:?}, file {:.1} MB",
        msgs as f64 / el,
        msgs as f64 / cpu,
        book.seq,
        book.state,
        bytes.len() as f64 / 1e6
    );
    let _ = std::fs::remove_file(&path);
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let obu: Vec<Vec<u8>> = (0..64).map(|i| obu_push(1000 + i, false, 20)).collect();
    let trades: Vec<Vec<u8>> = (0..64).map(trade).collect();
    for ring in [4 << 20, 64 << 20] {
        tap_cost("obu-20", &obu, ring);
        tap_cost("trade", &trades, ring);
    }
    recorder_throughput(&obu);
    replay_throughput();
}
