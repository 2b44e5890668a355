//! The publishing thread adds no allocation per event to iceoryx2's own (issue 16): the
//! engine's events drained into iceoryx2 loans on this test's own thread, counted by the shared
//! counting allocator (this thread only), with a subscriber reading in another thread; and the
//! same count for a bare iceoryx2 loan/send loop, which is iceoryx2 0.10's floor (one
//! reference-counted shared state per loan, `ChunkMutSharedState::new`).

mod support;

#[global_allocator]
static GLOBAL: support::alloc::Counting = support::alloc::Counting;

use cexfeed::ipc::{PublishPlan, Subscriber};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn ipc_publisher_adds_no_allocation_to_iceoryx2s_own() {
    let (v, mut e) = support::spot_fanout_engine(2000);
    let prefix = format!("cexfeed-noalloc-{}", std::process::id());
    let chans = support::SPOT_FANOUT_CHANNELS;
    let plan = PublishPlan::new(&mut e, &chans, Some(&prefix), 1024).unwrap();
    let mut publisher = plan.open().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let received = Arc::new(AtomicU64::new(0));
    let reader = {
        let (stop, received, prefix) = (stop.clone(), received.clone(), prefix.clone());
        std::thread::spawn(move || {
            let mut sub = Subscriber::open(&chans, Some(&prefix), 1024).unwrap();
            while !stop.load(Ordering::Relaxed) {
                match sub.try_recv() {
                    Some(_) => {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                    None => std::thread::sleep(Duration::from_micros(100)),
                }
            }
        })
    };
    e.start().unwrap();
    // Warm up: every service has sent, the subscriber is connected.
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline && publisher.stats().published < 2000 {
        if publisher.poll() == 0 {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
    assert!(
        publisher.stats().published >= 2000,
        "no traffic to warm up on"
    );
    let before = publisher.stats().published;
    let (allocs, ()) = support::alloc::count(|| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline && publisher.stats().published < before + 20_000 {
            if publisher.poll() == 0 {
                std::thread::sleep(Duration::from_micros(200));
            }
        }
    });
    let n = publisher.stats().published - before;
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    assert!(n >= 5_000, "only {n} events published in the window");
    assert!(
        received.load(Ordering::Relaxed) > 0,
        "the subscriber received nothing"
    );
    assert_eq!(publisher.stats().failed, 0);
    let floor = bare_iceoryx2_allocations_per_send(&prefix);
    assert_eq!(
        floor, 1.0,
        "iceoryx2's own loop changed: update the docs in src/ipc"
    );
    assert!(
        allocs <= n,
        "{allocs} allocations over {n} published events: more than iceoryx2's one per loan"
    );
    e.stop();
    v.stop();
}

/// Allocations per loan + send of a bare iceoryx2 publisher with the same record type.
fn bare_iceoryx2_allocations_per_send(prefix: &str) -> f64 {
    use iceoryx2::prelude::*;
    let node = NodeBuilder::new().create::<ipc::Service>().unwrap();
    let name: ServiceName = format!("{prefix}/bare").as_str().try_into().unwrap();
    let svc = node
        .service_builder(&name)
        .publish_subscribe::<[cexfeed::event::Level]>()
        .user_header::<cexfeed::ipc::RecordHeader>()
        .open_or_create()
        .unwrap();
    let p = svc
        .publisher_builder()
        .initial_max_slice_len(40)
        .create()
        .unwrap();
    let s = svc.subscriber_builder().create().unwrap();
    let send = || {
        let mut x = p.loan_slice_uninit(20).unwrap();
        x.user_header_mut().seq = 1;
        x.write_from_fn(|_| cexfeed::event::Level::default())
            .send()
            .unwrap();
        while s.receive().unwrap().is_some() {}
    };
    for _ in 0..100 {
        send();
    }
    let (a, ()) = support::alloc::count(|| {
        for _ in 0..1000 {
            send();
        }
    });
    a as f64 / 1000.0
}
