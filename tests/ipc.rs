//! Fan-out over iceoryx2 (issue 16): a publisher in this process, subscribers in other
//! processes (this test binary started again with `CEXFEED_IPC_CHILD` set, running
//! `child_subscriber`), the loopback venue behind the engine. Every test uses its own service
//! prefix, so tests in parallel never see each other's services.

mod support;

use cexfeed::config::{Runtime, WaitMode};
use cexfeed::engine::{Engine, EngineConfig, StrategyRx};
use cexfeed::ipc::{list, PublishPlan, Subscriber, DEFAULT_BUFFER};
use cexfeed::ring::{Body, StatusKind};
use cexfeed::types::{BookState, Market, Venue};
use cexfeed_venue::{Venue as LoopbackVenue, VenueConfig, VenueHandle};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{loopback_feeds, pause_and_settle, valid_book};

const CHANNELS: [&str; 6] = [
    "gateio.spot.orderbook.BTC_USDT",
    "gateio.spot.orderbook.ETH_USDT",
    "gateio.spot.trades.BTC_USDT",
    "mexc.spot.orderbook.BTCUSDT",
    "mexc.spot.orderbook.ETHUSDT",
    "mexc.spot.trades.BTCUSDT",
];

fn prefix(test: &str) -> String {
    format!("cexfeed-test-{}-{test}", std::process::id())
}

fn venue() -> VenueHandle {
    LoopbackVenue::start(VenueConfig {
        rate_per_sec: 300,
        private_period: Duration::ZERO,
        ..VenueConfig::default()
    })
    .unwrap()
}

fn engine(v: &VenueHandle) -> Engine {
    let feeds: Vec<_> = loopback_feeds(
        v,
        &Runtime::default(),
        WaitMode::Block,
        false,
        Duration::from_secs(5),
    )
    .into_iter()
    .filter(|f| f.market == Market::Spot)
    .collect();
    Engine::new(EngineConfig {
        feeds,
        ring_capacity: 1 << 16,
        top_n: 10,
        book_pool: (1 << 16) + 512,
        control_core: None,
    })
    .unwrap()
}

/// What one side saw: events per kind on the data channels, the last book per channel as text.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    counts: BTreeMap<String, u64>,
    books: BTreeMap<String, String>,
    missed: u64,
}

fn kind_name(b: &Body) -> &'static str {
    match b {
        Body::Trade { .. } => "trade",
        Body::Book { .. } => "book",
        Body::Missed { .. } => "missed",
        _ => "other",
    }
}

fn book_text(top: &cexfeed::ring::TopBook) -> String {
    let side = |l: &[cexfeed::event::Level]| {
        l.iter()
            .map(|l| format!("{}@{}", l.qty, l.px))
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        "{:?} seq {} bids {} asks {}",
        top.state,
        top.seq,
        side(top.bids()),
        side(top.asks())
    )
}

fn sym_channel(v: Venue, sym: &str, kind: &str) -> String {
    format!(
        "{}.spot.{kind}.{sym}",
        if v == Venue::Mexc { "mexc" } else { "gateio" }
    )
}

/// The in-process consumer's view, keyed like the subscriber's (channel names).
fn drain_local(rx: &mut StrategyRx, engine: &Engine, seen: &mut Seen) {
    while let Some(ev) = rx.try_recv() {
        let k = kind_name(&ev.body);
        if k == "missed" {
            if let Body::Missed { count } = ev.body {
                seen.missed += count;
            }
            continue;
        }
        if k == "other" {
            continue;
        }
        let sym = engine.registry().meta(ev.header.symbol).name.clone();
        let ch = sym_channel(
            ev.header.venue,
            &sym,
            if k == "book" { "orderbook" } else { "trades" },
        );
        *seen.counts.entry(format!("{ch} {k}")).or_default() += 1;
        if let Some(top) = ev.book() {
            seen.books.insert(ch, book_text(top));
        }
    }
}

/// Start this binary again as a subscriber of `channels` under `prefix`; returns once it has
/// opened its services.
#[allow(clippy::zombie_processes)] // the caller waits (child_result) or kills and waits
fn spawn_child(
    prefix: &str,
    channels: &[&str],
    stall_ms: u64,
) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_subscriber",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            "CEXFEED_IPC_CHILD",
            format!("{prefix};{stall_ms};{}", channels.join(",")),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut line = String::new();
    while Instant::now() < deadline {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("the subscriber process ended before it was ready");
        }
        if line.trim_end().ends_with("READY") {
            return (child, out);
        }
    }
    panic!("the subscriber process never got ready");
}

/// Read what the child printed until it ends: `count <key> <n>`, `book <channel> <text>`,
/// `missed <n>`.
fn child_result(mut child: Child, out: BufReader<std::process::ChildStdout>) -> Seen {
    let mut seen = Seen::default();
    for line in out.lines() {
        let line = line.unwrap();
        let mut it = line.splitn(2, ' ');
        match (it.next(), it.next()) {
            (Some("count"), Some(rest)) => {
                let (k, n) = rest.rsplit_once(' ').unwrap();
                seen.counts.insert(k.to_string(), n.parse().unwrap());
            }
            (Some("book"), Some(rest)) => {
                let (ch, text) = rest.split_once(' ').unwrap();
                seen.books.insert(ch.to_string(), text.to_string());
            }
            (Some("missed"), Some(n)) => seen.missed = n.parse().unwrap(),
            _ => {}
        }
    }
    assert!(
        child.wait().unwrap().success(),
        "the subscriber process failed"
    );
    seen
}

/// The subscriber process (only when started by a test above): reads until the publisher goes
/// away, then prints what it saw.
#[test]
#[ignore = "run as a child process by the tests of this file"]
fn child_subscriber() {
    let Ok(spec) = std::env::var("CEXFEED_IPC_CHILD") else {
        return;
    };
    let mut parts = spec.splitn(3, ';');
    let (prefix, stall, channels) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let stall: u64 = stall.parse().unwrap();
    let channels: Vec<&str> = channels.split(',').collect();
    let mut sub = Subscriber::open(&channels, Some(prefix), 1 << 16).unwrap();
    println!("READY");
    std::io::stdout().flush().unwrap();
    if stall > 0 {
        std::thread::sleep(Duration::from_millis(stall));
    }
    let mut seen = Seen::default();
    let mut was_up = false;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let Some(rec) = sub.try_recv() else {
            std::thread::sleep(Duration::from_micros(200));
            continue;
        };
        match rec.body {
            Body::Status {
                kind: StatusKind::ConnDown,
                ..
            } if rec.channel() == "status" && was_up => break,
            Body::Missed { count } => seen.missed += count,
            _ => {}
        }
        let k = kind_name(&rec.body);
        if k == "trade" || k == "book" {
            *seen
                .counts
                .entry(format!("{} {k}", rec.channel()))
                .or_default() += 1;
        }
        if let Some(top) = rec.book() {
            if top.state == BookState::Live {
                valid_book(top).unwrap();
            }
            seen.books.insert(rec.channel().to_string(), book_text(top));
        }
        // Any record (or a ConnUp) means a publisher was up; its going ends the run.
        was_up = true;
    }
    for (k, n) in &seen.counts {
        println!("count {k} {n}");
    }
    for (ch, text) in &seen.books {
        println!("book {ch} {text}");
    }
    println!("missed {}", seen.missed);
}

/// Two processes: a subscriber in another process receives exactly what an in-process consumer
/// bound to the same channels receives (event counts per channel and kind), and ends with the
/// same books; `list` shows the channels while the publisher runs.
#[test]
fn ipc_subscriber_process_sees_what_the_in_process_consumer_sees() {
    let v = venue();
    let mut e = engine(&v);
    let p = prefix("equal");
    let mut local = e.consumer().unwrap();
    for c in CHANNELS {
        e.bind(c, local.id()).unwrap();
    }
    let plan = PublishPlan::new(&mut e, &CHANNELS, Some(&p), 4096)
        .unwrap()
        .max_subscribers(4);
    let publisher = plan.spawn(None).unwrap();
    let offered = list(&p).unwrap();
    for c in CHANNELS {
        assert!(
            offered.iter().any(|o| o == c),
            "{c} not listed in {offered:?}"
        );
    }
    let (child, out) = spawn_child(&p, &CHANNELS, 0);
    e.start().unwrap();
    let mut seen = Seen::default();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        drain_local(&mut local, &e, &mut seen);
        std::thread::sleep(Duration::from_millis(2));
    }
    let settled = pause_and_settle(&v, &e, Duration::from_secs(30));
    if !settled {
        for view in e.views() {
            for (_, name, st) in &view.shared.symbols {
                eprintln!(
                    "{:?} {:?} {name} {:?} seq {}",
                    view.shared.venue,
                    view.shared.market,
                    st.state(),
                    st.seq.load(std::sync::atomic::Ordering::Relaxed)
                );
            }
        }
    }
    assert!(settled, "books did not settle");
    // Let both consumers drain what the settled engine still had in flight.
    let mut last = u64::MAX;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        drain_local(&mut local, &e, &mut seen);
        let now = publisher.stats().published;
        if now == last {
            break;
        }
        last = now;
    }
    let stats = publisher.stop();
    let theirs = child_result(child, out);
    assert_eq!(stats.failed, 0);
    assert_eq!(
        seen.missed, 0,
        "the in-process consumer dropped events; enlarge its ring"
    );
    assert_eq!(theirs.missed, 0, "the subscriber missed records");
    assert!(
        seen.counts.values().sum::<u64>() > 50,
        "too little traffic: {:?}",
        seen.counts
    );
    assert_eq!(theirs.counts, seen.counts, "event counts differ");
    assert_eq!(theirs.books, seen.books, "final books differ");
    e.stop();
    v.stop();
}

/// A subscriber that does not read does not slow the publisher: with a buffer of 8 records it
/// stalls 2 s while another subscriber reads; the publisher's consumer never falls behind
/// (no `Missed` in its ring), no send fails, the reading subscriber misses nothing, and the
/// stalled one, when it reads again, is told how many it missed and goes on.
#[test]
fn ipc_stalled_subscriber_does_not_slow_the_publisher() {
    let v = venue();
    let mut e = engine(&v);
    let p = prefix("stall");
    let chans = [
        "gateio.spot.trades.BTC_USDT",
        "gateio.spot.orderbook.BTC_USDT",
    ];
    let plan = PublishPlan::new(&mut e, &chans, Some(&p), DEFAULT_BUFFER).unwrap();
    // Both open before the publisher starts, so both are due every record from 1.
    let mut stalled = Subscriber::open(&chans, Some(&p), 8).unwrap();
    let mut reader = Subscriber::open(&chans, Some(&p), DEFAULT_BUFFER).unwrap();
    let publisher = plan.spawn(None).unwrap();
    e.start().unwrap();
    let (mut read, mut reader_missed) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_secs(2);
    while Instant::now() < until {
        match reader.try_recv() {
            Some(r) => {
                read += 1;
                if let Body::Missed { count } = r.body {
                    reader_missed += count;
                }
            }
            None => std::thread::sleep(Duration::from_micros(200)),
        }
    }
    assert!(read > 100, "the reading subscriber got {read} records");
    assert_eq!(reader_missed, 0);
    let (mut got, mut missed) = (0u64, 0u64);
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until && got < 20 {
        match stalled.try_recv() {
            Some(r) => {
                got += 1;
                if let Body::Missed { count } = r.body {
                    missed += count;
                }
            }
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    let stats = publisher.stop();
    assert!(
        missed > 0,
        "the stalled subscriber was not told it missed records"
    );
    assert!(got >= 20, "the stalled subscriber did not go on reading");
    assert_eq!(
        stats.failed, 0,
        "a send failed: the publisher waited or refused"
    );
    e.stop();
    v.stop();
}

/// A subscriber process killed with SIGKILL leaves nothing behind: the publisher removes its
/// node (`dead_nodes_cleaned`), the service's subscriber count goes back down, and a new
/// subscriber opens and receives.
#[test]
fn ipc_killed_subscriber_is_cleaned_up() {
    let v = venue();
    let mut e = engine(&v);
    let p = prefix("kill");
    let chans = ["gateio.spot.trades.BTC_USDT"];
    let plan = PublishPlan::new(&mut e, &chans, Some(&p), 1024).unwrap();
    let publisher = plan.spawn(None).unwrap();
    e.start().unwrap();
    let subscribers = || {
        use iceoryx2::prelude::*;
        let node = NodeBuilder::new().create::<ipc::Service>().unwrap();
        let name: ServiceName = format!("{p}/{}", chans[0]).as_str().try_into().unwrap();
        let svc = node
            .service_builder(&name)
            .publish_subscribe::<[cexfeed::event::Level]>()
            .user_header::<cexfeed::ipc::RecordHeader>()
            .open()
            .unwrap();
        svc.dynamic_config().number_of_subscribers()
    };
    let (mut child, _out) = spawn_child(&p, &chans, 0);
    assert_eq!(subscribers(), 1, "the subscriber process is not connected");
    child.kill().unwrap();
    child.wait().unwrap();
    // Whoever cleans first (this publisher, or any other iceoryx2 node on the machine), the
    // dead subscriber's port must go from the service.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && subscribers() > 0 {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        subscribers(),
        0,
        "the dead subscriber's port was not removed"
    );
    let mut sub = Subscriber::open(&chans, Some(&p), 1024).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got = 0;
    while Instant::now() < deadline && got < 5 {
        if sub
            .try_recv()
            .is_some_and(|r| matches!(r.body, Body::Trade { .. }))
        {
            got += 1;
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert_eq!(got, 5, "a new subscriber after the kill received nothing");
    publisher.stop();
    e.stop();
    v.stop();
}

/// A subscriber that starts late gets each book's current state first; when the publisher
/// stops it is told (`ConnDown`), and when a publisher comes back (`ConnUp`) records flow again
/// from the new epoch with nothing counted as missed across the restart.
#[test]
fn ipc_late_subscriber_gets_books_first_and_sees_publisher_restart() {
    let v = venue();
    let mut e = engine(&v);
    let p = prefix("late");
    let chans = ["gateio.spot.orderbook.BTC_USDT"];
    let first = PublishPlan::new(&mut e, &chans, Some(&p), 1024).unwrap();
    let second = PublishPlan::new(&mut e, &chans, Some(&p), 1024).unwrap();
    let publisher = first.spawn(None).unwrap();
    e.start().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && publisher.stats().published < 20 {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(publisher.stats().published >= 20);
    v.pause(true);
    std::thread::sleep(Duration::from_millis(300));
    let mut sub = Subscriber::open(&chans, Some(&p), 1024).unwrap();
    let first_rec = (0..2000).find_map(|_| {
        let r = sub
            .try_recv()
            .map(|r| (r.body, r.book().map(|b| b.bids().len() + b.asks().len())));
        if r.is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        r
    });
    let (body, levels) = first_rec.expect("the late subscriber received nothing");
    assert!(
        matches!(body, Body::Book { .. }),
        "first record is not the current book: {body:?}"
    );
    assert!(
        levels.unwrap_or(0) > 0,
        "the current book came without levels"
    );
    drop(publisher); // stops the thread; its node and publisher ports go
    let wait_status = |sub: &mut Subscriber, want: StatusKind| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match sub.try_recv() {
                Some(r) if matches!(r.body, Body::Status { kind, .. } if kind == want) => {
                    return true
                }
                Some(_) => {}
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        false
    };
    assert!(
        wait_status(&mut sub, StatusKind::ConnDown),
        "publisher gone not seen"
    );
    let publisher = second.spawn(None).unwrap();
    v.pause(false);
    assert!(
        wait_status(&mut sub, StatusKind::ConnUp),
        "publisher back not seen"
    );
    let (mut books, mut missed) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline && books < 5 {
        match sub.try_recv() {
            Some(r) => match r.body {
                Body::Book { .. } => books += 1,
                Body::Missed { count } => missed += count,
                _ => {}
            },
            None => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    assert!(books >= 5, "no records after the publisher came back");
    assert_eq!(missed, 0, "a restart was counted as missed records");
    publisher.stop();
    e.stop();
    v.stop();
}

/// A service whose record type has another layout (name) is refused at open, not misread.
#[test]
fn ipc_subscriber_refuses_a_service_with_another_record_layout() {
    use iceoryx2::prelude::*;
    #[derive(Debug, Default, Clone, Copy)]
    #[repr(C)]
    struct Other([u64; 32]);
    // SAFETY: plain integers.
    unsafe impl ZeroCopySend for Other {}
    let p = prefix("layout");
    let node = NodeBuilder::new().create::<ipc::Service>().unwrap();
    let name: ServiceName = format!("{p}/gateio.spot.trades.BTC_USDT")
        .as_str()
        .try_into()
        .unwrap();
    let _svc = node
        .service_builder(&name)
        .publish_subscribe::<[u64]>()
        .user_header::<Other>()
        .open_or_create()
        .unwrap();
    let r = Subscriber::open(&["gateio.spot.trades.BTC_USDT"], Some(&p), 16);
    assert!(r.is_err(), "a foreign layout was opened");
}
