//! Metrics snapshots taken by a cold thread while a hot thread keeps recording: nothing lost,
//! nothing counted twice, the hot thread never waits.

use cexfeed::metrics::{self, Percentiles, Stage};
use std::sync::atomic::{AtomicBool, Ordering};

#[test]
fn cold_thread_snapshots_while_hot_thread_records() {
    const N: u64 = 200_000;
    let (mut rec, mut col) = metrics::new();
    let done = AtomicBool::new(false);
    let mut intervals = 0;
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..N {
                rec.decode.record(1 + i % 1000);
                metrics::Counters::add(&rec.counters.messages, 1);
                if i % 64 == 0 {
                    rec.decode.poll();
                }
            }
            // Keep serving requests until the collector has everything.
            while !done.load(Ordering::Acquire) {
                rec.decode.poll();
                std::hint::spin_loop();
            }
        });
        loop {
            col.request();
            if col.stage(Stage::Decode).total().len() < N {
                intervals += col.collect();
            }
            let total = col.stage(Stage::Decode).total().len();
            if total == N {
                done.store(true, Ordering::Release);
                break;
            }
            assert!(total < N, "counted twice");
            std::thread::yield_now();
        }
    });
    let p = Percentiles::of(col.stage(Stage::Decode).total());
    assert_eq!(p.count, N);
    assert_eq!(p.max, 1000);
    assert_eq!(p.p50, 500);
    assert!(intervals >= 1);
    assert_eq!(col.counters.snapshot().messages, N);
    let mut out = Vec::new();
    metrics::write_hgrm(col.stage(Stage::Decode).total(), 1.0, &mut out).unwrap();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("#[Max     =     1000.000, Total count    =       200000]"));
}
