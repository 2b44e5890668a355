//! Latency histograms per stage and event counters, recorded on hot threads and read by a cold
//! thread without stopping them.
//!
//! # Contract
//!
//! * **Allocation.** [`new`] allocates, per stage, two histograms with fixed bounds
//!   `[HIST_LOW, HIST_HIGH]` ns at `HIST_SIGFIG` significant figures (auto-resize off, 27 648
//!   counters = 216 KiB each) and two 1-slot exchange queues; the collector adds two more per stage
//!   (cumulative and last interval). Recording ([`HistRecorder::record`]) and swapping
//!   ([`HistRecorder::poll`]) allocate nothing; values above `HIST_HIGH` are clamped.
//! * **No lock, no wait on the hot thread.** A stage's histogram is owned by the thread that
//!   records it. To take a snapshot the collector sends a reset histogram through a 1-slot
//!   queue ([`HistCollector::request`]); the recorder's next `poll()` swaps it in and sends the
//!   filled one back; the collector merges it ([`HistCollector::collect`]). If the recorder does
//!   not poll, the collector simply gets nothing yet.
//! * **Counters** are relaxed atomics ([`Counters`]), shared through an `Arc`; readers see each
//!   counter's latest value, not a consistent cut across counters.
//! * Output: [`Percentiles`] (count, p50, p99, p99.9, max) and the HdrHistogram percentile
//!   distribution text (`.hgrm`, [`write_hgrm`]) that HdrHistogram's plotter reads.

use crossbeam_queue::ArrayQueue;
use hdrhistogram::Histogram;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Lowest discernible value, ns.
pub const HIST_LOW: u64 = 1;
/// Highest trackable value, ns (60 s); larger values are clamped.
pub const HIST_HIGH: u64 = 60_000_000_000;
/// Significant figures kept.
pub const HIST_SIGFIG: u8 = 3;

/// A histogram with the crate's fixed bounds and auto-resize off.
pub fn new_histogram() -> Histogram<u64> {
    let mut h = Histogram::new_with_bounds(HIST_LOW, HIST_HIGH, HIST_SIGFIG)
        .expect("constant histogram bounds are valid");
    h.auto(false);
    h
}

/// Measured stages of the data path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// One frame through the venue decoder.
    Decode,
    /// One delta/snapshot through sync + book.
    BookApply,
    /// Frame receive time → event pushed into the ring (feed thread).
    WireToRing,
    /// Frame receive time → event taken by the strategy (strategy thread).
    WireToStrategy,
}

impl Stage {
    /// Every stage, in data-path order.
    pub const ALL: [Stage; 4] = [
        Stage::Decode,
        Stage::BookApply,
        Stage::WireToRing,
        Stage::WireToStrategy,
    ];

    /// The name used in reports and `.hgrm` file names.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Decode => "decode",
            Stage::BookApply => "book_apply",
            Stage::WireToRing => "wire_to_ring",
            Stage::WireToStrategy => "wire_to_strategy",
        }
    }
}

/// Event counters, shared between hot threads (writers) and a cold reader. Relaxed atomics.
#[derive(Debug, Default)]
pub struct Counters {
    /// WebSocket data messages received.
    pub messages: AtomicU64,
    /// Bytes of those messages.
    pub bytes: AtomicU64,
    /// Frames the decoder refused (dropped, counted).
    pub decode_errors: AtomicU64,
    /// Sequence gaps detected.
    pub gaps: AtomicU64,
    /// Book resyncs started (gaps, reconnects, refused data).
    pub resyncs: AtomicU64,
    /// Connections replaced.
    pub reconnects: AtomicU64,
    /// Events dropped or book updates conflated because a ring was full.
    pub ring_overruns: AtomicU64,
}

/// A plain copy of [`Counters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CounterSnapshot {
    /// See [`Counters::messages`].
    pub messages: u64,
    /// See [`Counters::bytes`].
    pub bytes: u64,
    /// See [`Counters::decode_errors`].
    pub decode_errors: u64,
    /// See [`Counters::gaps`].
    pub gaps: u64,
    /// See [`Counters::resyncs`].
    pub resyncs: u64,
    /// See [`Counters::reconnects`].
    pub reconnects: u64,
    /// See [`Counters::ring_overruns`].
    pub ring_overruns: u64,
}

impl Counters {
    /// Add `n` to a counter (relaxed; allocation- and lock-free).
    #[inline]
    pub fn add(c: &AtomicU64, n: u64) {
        c.fetch_add(n, Ordering::Relaxed);
    }

    /// A relaxed copy of every counter.
    pub fn snapshot(&self) -> CounterSnapshot {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterSnapshot {
            messages: r(&self.messages),
            bytes: r(&self.bytes),
            decode_errors: r(&self.decode_errors),
            gaps: r(&self.gaps),
            resyncs: r(&self.resyncs),
            reconnects: r(&self.reconnects),
            ring_overruns: r(&self.ring_overruns),
        }
    }
}

struct Exchange {
    /// Collector → recorder: a reset histogram to swap in (a snapshot request).
    fresh: ArrayQueue<Box<Histogram<u64>>>,
    /// Recorder → collector: the filled histogram swapped out.
    filled: ArrayQueue<Box<Histogram<u64>>>,
}

/// Hot side of one stage's histogram. `Send`; keep it on the recording thread.
pub struct HistRecorder {
    live: Box<Histogram<u64>>,
    ex: Arc<Exchange>,
}

impl HistRecorder {
    /// Record one value (ns). Clamped to `[0, HIST_HIGH]`. No allocation.
    #[inline]
    pub fn record(&mut self, value_ns: u64) {
        self.live.saturating_record(value_ns);
    }

    /// Serve a pending snapshot request: swap in the collector's fresh histogram and send the
    /// filled one back. Cheap when nothing is pending (one queue probe). No allocation.
    #[inline]
    pub fn poll(&mut self) -> bool {
        let Some(mut fresh) = self.ex.fresh.pop() else {
            return false;
        };
        std::mem::swap(&mut self.live, &mut fresh);
        // Cannot fail: the collector sends a fresh histogram only after receiving the previous
        // filled one, so this 1-slot queue is empty.
        let _ = self.ex.filled.push(fresh);
        true
    }

    /// Samples recorded since the last swap.
    pub fn len(&self) -> u64 {
        self.live.len()
    }

    /// No sample since the last swap.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

/// Cold side of one stage's histogram.
pub struct HistCollector {
    stage: Stage,
    spare: Option<Box<Histogram<u64>>>,
    ex: Arc<Exchange>,
    /// Everything collected so far.
    total: Histogram<u64>,
    /// The last interval collected.
    last: Histogram<u64>,
}

impl HistCollector {
    /// The stage this histogram measures.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Ask the recorder for its histogram (answered on its next `poll`). No-op while a request
    /// is outstanding.
    pub fn request(&mut self) {
        if let Some(h) = self.spare.take() {
            // The fresh queue is empty while we hold the spare.
            let _ = self.ex.fresh.push(h);
        }
    }

    /// Take the recorder's answer if it came: merged into `total()`, kept as `last()`. Returns
    /// whether a new interval arrived.
    pub fn collect(&mut self) -> bool {
        let Some(mut h) = self.ex.filled.pop() else {
            return false;
        };
        // Same bounds on both sides: adding cannot exceed the range.
        let _ = self.total.add(&*h);
        self.last.reset();
        let _ = self.last.add(&*h);
        h.reset();
        self.spare = Some(h);
        true
    }

    /// All samples collected so far.
    pub fn total(&self) -> &Histogram<u64> {
        &self.total
    }

    /// Samples of the last collected interval.
    pub fn last(&self) -> &Histogram<u64> {
        &self.last
    }
}

/// A histogram channel for one stage.
pub fn histogram_channel(stage: Stage) -> (HistRecorder, HistCollector) {
    let ex = Arc::new(Exchange {
        fresh: ArrayQueue::new(1),
        filled: ArrayQueue::new(1),
    });
    (
        HistRecorder {
            live: Box::new(new_histogram()),
            ex: ex.clone(),
        },
        HistCollector {
            stage,
            spare: Some(Box::new(new_histogram())),
            ex,
            total: new_histogram(),
            last: new_histogram(),
        },
    )
}

/// Hot-side handles: give the first three to the feed thread, `wire_to_strategy` to the
/// strategy thread, clone `counters` wherever counted.
pub struct Recorders {
    /// The feed's event counters.
    pub counters: Arc<Counters>,
    /// [`Stage::Decode`], feed thread.
    pub decode: HistRecorder,
    /// [`Stage::BookApply`], feed thread.
    pub book_apply: HistRecorder,
    /// [`Stage::WireToRing`], feed thread.
    pub wire_to_ring: HistRecorder,
    /// [`Stage::WireToStrategy`], strategy thread.
    pub wire_to_strategy: HistRecorder,
}

/// Cold-side handle: request, collect, report.
pub struct Collector {
    /// The feed's event counters.
    pub counters: Arc<Counters>,
    /// One collector per stage, in [`Stage::ALL`] order.
    pub stages: [HistCollector; 4],
}

impl Collector {
    /// Ask every recorder for a snapshot.
    pub fn request(&mut self) {
        for s in &mut self.stages {
            s.request();
        }
    }

    /// Take whatever answers arrived; returns how many stages delivered.
    pub fn collect(&mut self) -> usize {
        self.stages.iter_mut().map(|s| s.collect() as usize).sum()
    }

    /// The collector of `stage`.
    pub fn stage(&self, stage: Stage) -> &HistCollector {
        &self.stages[stage as usize]
    }
}

/// All metrics of one feed: recorders for the hot threads, a collector for the cold thread.
pub fn new() -> (Recorders, Collector) {
    let counters = Arc::new(Counters::default());
    let (d, dc) = histogram_channel(Stage::Decode);
    let (b, bc) = histogram_channel(Stage::BookApply);
    let (r, rc) = histogram_channel(Stage::WireToRing);
    let (s, sc) = histogram_channel(Stage::WireToStrategy);
    (
        Recorders {
            counters: counters.clone(),
            decode: d,
            book_apply: b,
            wire_to_ring: r,
            wire_to_strategy: s,
        },
        Collector {
            counters,
            stages: [dc, bc, rc, sc],
        },
    )
}

/// The usual summary of a histogram (values in the histogram's unit, ns here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest sample.
    pub max: u64,
}

impl Percentiles {
    /// The summary of `h` (all zero when empty).
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Percentiles::default();
        }
        Percentiles {
            count: h.len(),
            p50: h.value_at_quantile(0.5),
            p99: h.value_at_quantile(0.99),
            p999: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

/// Write HdrHistogram's percentile distribution text (the `.hgrm` format of
/// `outputPercentileDistribution`, 5 ticks per half distance). Values are divided by
/// `scale` (e.g. 1000.0 to print µs from ns).
pub fn write_hgrm<W: Write>(h: &Histogram<u64>, scale: f64, w: &mut W) -> io::Result<()> {
    let d = h.sigfig() as usize;
    writeln!(
        w,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / scale;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                writeln!(
                    w,
                    "{:>12.d$} {:>2.12} {:>10} {:>14.2}",
                    value,
                    q,
                    total,
                    1.0 / (1.0 - q),
                    d = d
                )?;
            } else {
                writeln!(w, "{:>12.d$} {:>2.12} {:>10}", value, q, total, d = d)?;
            }
        }
    }
    let sub_buckets = (2 * 10u64.pow(d as u32)).next_power_of_two();
    writeln!(
        w,
        "#[Mean    = {:>12.d$}, StdDeviation   = {:>12.d$}]",
        h.mean() / scale,
        h.stdev() / scale,
        d = d
    )?;
    writeln!(
        w,
        "#[Max     = {:>12.d$}, Total count    = {:>12}]",
        h.max() as f64 / scale,
        h.len(),
        d = d
    )?;
    writeln!(
        w,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
        h.buckets(),
        sub_buckets
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_swap_does_not_lose_or_double_count() {
        let (mut rec, mut col) = new();
        for v in 1..=1000u64 {
            rec.decode.record(v);
        }
        assert!(!rec.decode.poll(), "nothing requested yet");
        col.request();
        assert_eq!(col.collect(), 0, "recorder has not polled");
        assert!(rec.decode.poll());
        assert!(rec.book_apply.poll());
        rec.decode.record(5000);
        assert_eq!(col.collect(), 2);
        let p = Percentiles::of(col.stage(Stage::Decode).total());
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50, 500);
        assert_eq!(p.max, 1000);
        col.request();
        rec.decode.poll();
        col.collect();
        let t = Percentiles::of(col.stage(Stage::Decode).total());
        assert_eq!(
            (t.count, t.max),
            (1001, 5003),
            "max is the highest equivalent value"
        );
        assert_eq!(Percentiles::of(col.stage(Stage::Decode).last()).count, 1);
        // Clamping instead of failing.
        rec.wire_to_ring.record(u64::MAX);
        assert_eq!(rec.wire_to_ring.len(), 1);
    }

    #[test]
    fn counters_snapshot() {
        let (rec, col) = new();
        Counters::add(&rec.counters.gaps, 2);
        Counters::add(&rec.counters.messages, 7);
        let s = col.counters.snapshot();
        assert_eq!((s.gaps, s.messages, s.resyncs), (2, 7, 0));
    }

    #[test]
    fn hgrm_text_has_standard_shape() {
        let mut h = new_histogram();
        for v in 1..=100u64 {
            h.record(v * 1000).unwrap();
        }
        let mut out = Vec::new();
        write_hgrm(&h, 1000.0, &mut out).unwrap();
        let s = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        let last_data = lines[lines.len() - 4];
        assert_eq!(last_data, "     100.031 1.000000000000        100");
        assert!(lines[lines.len() - 3]
            .starts_with("#[Mean    =       50.504, StdDeviation   =       28.866]"));
        assert_eq!(
            lines[lines.len() - 2],
            "#[Max     =      100.031, Total count    =          100]"
        );
        assert_eq!(
            lines[lines.len() - 1],
            "#[Buckets =           26, SubBuckets     =         2048]"
        );
        assert_eq!(
            lines[5],
            "      31.007 0.300000000000         31           1.43"
        );
    }
}
