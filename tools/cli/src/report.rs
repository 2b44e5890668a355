//! The run report (`--report FILE.json`) and the latency plot written beside it.
//!
//! Keys are a contract read by scripts: `duration_s`; `feeds[]` (`venue`, `market`, `messages`,
//! `bytes`, `decode_errors`, `gaps`, `resyncs`, `reconnects`, `thread_alive`, `resync_timeouts`,
//! `sub_retries`, `venue_notices`, `pong_timeouts`, `auth_failures`, `resolve_failures`,
//! `outbound_dropped`,
//! `books[]` with `symbol`, `state`,
//! `seq`, top-10 `bids`/`asks` as canonical `[price, quantity]`); `latency_ns` (`decode`,
//! `book_apply`, `wire_to_ring`, `wire_to_strategy`, each `count`, `p50`, `p99`, `p999`, `max`);
//! `ring.overruns`; `strategy`; and in the demo `venue_books_match` and, with scenarios,
//! `venue_faults` (faults injected per scenario name). Private feeds carry a `private` object
//! (`reconciled`: events delivered by a gap's reconciliation, `gaps_open`, `snapshot_events`,
//! `recon_failures`, `duplicates_dropped`, in the demo `matches_venue`), and the demo's report
//! `private_state_matches_venue` beside `venue_books_match` (issue 17). Cold path.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct LatencySummary {
    pub count: u64,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct BookReport {
    pub symbol: String,
    pub state: String,
    pub seq: u64,
    pub bids: Vec<[String; 2]>,
    pub asks: Vec<[String; 2]>,
    /// Demo only: this book equals the venue's true book at the same sequence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_venue: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct FeedReport {
    pub venue: String,
    pub market: String,
    pub messages: u64,
    pub bytes: u64,
    pub decode_errors: u64,
    pub gaps: u64,
    pub resyncs: u64,
    pub reconnects: u64,
    /// `false` when the feed thread died (panic or event-loop failure) before the run ended:
    /// its books were not maintained after that and `cexfeed` exits non-zero.
    pub thread_alive: bool,
    /// Resyncing books whose deadline passed (their stream resubscribed or connection replaced).
    pub resync_timeouts: u64,
    /// Subscriptions sent again after a transient refusal or a resync escalation.
    pub sub_retries: u64,
    /// Informational notices from the venue (Gate.io `*.system`).
    pub venue_notices: u64,
    /// Connections replaced because the venue stopped answering pings.
    pub pong_timeouts: u64,
    /// Authentication refusals (Gate.io code 4, MEXC listen-key refusals).
    pub auth_failures: u64,
    /// DNS lookups that failed (the previous addresses stayed in use).
    pub resolve_failures: u64,
    /// MEXC: outbound frames dropped because a connection's bounded queue was full.
    pub outbound_dropped: u64,
    pub books: Vec<BookReport>,
    /// Errors and rejections surfaced for this feed's channels (bounded list).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channel_errors: Vec<String>,
    /// Private events received on this feed (orders, fills, balances, positions).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub private_events: BTreeMap<String, u64>,
    /// Private feeds: start-up state and gap reconciliation (issue 17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private: Option<PrivateReport>,
}

/// A private feed's state keeping (`feed::recon` in the library).
#[derive(Debug, Clone, Serialize, Default)]
pub struct PrivateReport {
    /// Events delivered by the reconciliation of gaps (what the stream missed).
    pub reconciled: u64,
    /// Gaps reported and not closed by a reconciliation at the end of the run.
    pub gaps_open: u64,
    /// Events of the start-up state (open orders, balances, positions).
    pub snapshot_events: u64,
    /// REST fetches that failed (retried).
    pub recon_failures: u64,
    /// Events dropped as already delivered (stream and REST de-duplicated).
    pub duplicates_dropped: u64,
    /// Demo: the strategy's orders, fills, balances and positions of this feed equal the
    /// venue account's at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matches_venue: Option<bool>,
    /// Demo: what differed, when it did (bounded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct RingReport {
    pub overruns: u64,
    /// Book updates conflated (replaced by a newer one before the consumer read them).
    pub conflated: u64,
    pub events: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct InstrumentReport {
    pub instrument: String,
    pub evaluations: u64,
    pub positive: u64,
    pub positive_ratio: f64,
    pub best_net_bps: Option<f64>,
    pub best_buy: Option<String>,
    pub best_sell: Option<String>,
    /// Times a cross-venue spread opened after fees (exact fixed-point test; issue 14).
    pub opportunities_opened: u64,
    /// Times an open spread closed.
    pub opportunities_closed: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct StrategyReport {
    pub name: String,
    pub fees_bps: BTreeMap<String, f64>,
    pub instruments: Vec<InstrumentReport>,
    pub events_consumed: u64,
    /// Events received by kind (book, trade, bbo, order, …).
    pub events_by_kind: BTreeMap<String, u64>,
    /// Channel errors the strategy was told about (bounded).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors_seen: Vec<String>,
    /// Private-stream gaps reported (fills may have been missed in between).
    pub private_gaps: u64,
    /// `FeedDown` statuses received (a feed thread died).
    pub feeds_down: u64,
    /// Spreads opened after fees over all instruments (issue 14: with the venue's lead-lag
    /// setting, the demo's monitor finds real ones).
    pub opportunities: u64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub duration_s: f64,
    pub feeds: Vec<FeedReport>,
    pub latency_ns: BTreeMap<String, LatencySummary>,
    pub ring: RingReport,
    pub strategy: StrategyReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub venue_books_match: Option<bool>,
    /// Demo with private streams: at the end, each private consumer's orders, fills, balances
    /// and positions equal the venue account's (every private feed's `private.matches_venue`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_state_matches_venue: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<String>,
    /// Demo: faults the loopback venue injected, per configured scenario name (pushes
    /// dropped for `gap`, connections reset for `reset`, …), to compare with what the feeds
    /// counted (`gaps`, `reconnects`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub venue_faults: BTreeMap<String, u64>,
    /// Issue 15: what each recorded feed wrote (`record`, `run` with `[record]`, `--record`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub record: Vec<RecordReport>,
    /// Issue 15: what each feed of a `replay` read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replay: Vec<ReplayReport>,
}

/// One recorded feed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct RecordReport {
    pub venue: String,
    pub market: String,
    /// Records the feed thread put into the ring.
    pub records: u64,
    /// Records lost to a full ring (each marked by a gap record in the file).
    pub dropped: u64,
    /// Uncompressed bytes written (record headers + payloads).
    pub raw_bytes: u64,
    /// Compressed bytes written (frame headers included).
    pub file_bytes: u64,
    /// raw / file.
    pub compression_ratio: f64,
    pub frames: u64,
    pub write_errors: u64,
    pub files: Vec<String>,
}

/// One replayed feed.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReplayReport {
    pub venue: String,
    pub market: String,
    pub records: u64,
    pub messages: u64,
    /// Messages of connections that were not open in the replay (not delivered).
    pub orphan_messages: u64,
    pub rest_bodies: u64,
    /// Records the recorder had lost (from gap records).
    pub gap_records: u64,
    pub bad_frames: u64,
    pub errors: Vec<String>,
    /// Replay wall time and rate (messages per second decoded and applied).
    pub elapsed_s: f64,
    pub messages_per_s: f64,
}

impl Report {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }
}

/// A latency series for the plot: (percentile in 0..100, value in ns).
pub struct Series<'a> {
    pub name: &'a str,
    pub points: Vec<(f64, u64)>,
}

/// A small self-contained SVG: latency (log ns) against percentile on the usual
/// `1/(1-p)` axis (50 %, 90 %, 99 %, 99.9 %, 99.99 %).
pub fn latency_svg(title: &str, series: &[Series<'_>]) -> String {
    const W: f64 = 720.0;
    const H: f64 = 400.0;
    const L: f64 = 70.0;
    const R: f64 = 160.0;
    const T: f64 = 40.0;
    const B: f64 = 50.0;
    let colors = [
        "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    ];
    let xof = |p: f64| {
        let p = p.clamp(0.0, 99.999);
        let v = (1.0 / (1.0 - p / 100.0)).log10(); // 0 .. 5
        L + v / 5.0 * (W - L - R)
    };
    let (mut lo, mut hi) = (u64::MAX, 1u64);
    for s in series {
        for &(_, v) in &s.points {
            lo = lo.min(v.max(1));
            hi = hi.max(v);
        }
    }
    if lo == u64::MAX {
        lo = 1;
    }
    let (llo, lhi) = (
        (lo as f64).log10().floor(),
        (hi as f64).log10().ceil().max(1.0),
    );
    let span = (lhi - llo).max(1.0);
    let yof = |v: u64| T + (H - T - B) * (1.0 - (((v.max(1)) as f64).log10() - llo) / span);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = write!(s, r#"<text x="{L}" y="24" font-size="15">{title}</text>"#);
    for d in (llo as i64)..=(lhi as i64) {
        let y = yof(10f64.powi(d as i32) as u64);
        let label = match d {
            0..=2 => format!("{} ns", 10u64.pow(d as u32)),
            3..=5 => format!("{} µs", 10u64.pow(d as u32 - 3)),
            _ => format!("{} ms", 10u64.pow((d as u32).saturating_sub(6))),
        };
        let _ = write!(
            s,
            r##"<line x1="{L}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{label}</text>"##,
            W - R,
            L - 6.0,
            y + 4.0
        );
    }
    for (p, label) in [
        (0.0, "0%"),
        (90.0, "90%"),
        (99.0, "99%"),
        (99.9, "99.9%"),
        (99.99, "99.99%"),
    ] {
        let x = xof(p);
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" x2="{x:.1}" y1="{T}" y2="{}" stroke="#eee"/><text x="{x:.1}" y="{}" text-anchor="middle">{label}</text>"##,
            H - B,
            H - B + 18.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">percentile</text>"#,
        (L + W - R) / 2.0,
        H - 8.0
    );
    for (i, ser) in series.iter().enumerate() {
        let c = colors[i % colors.len()];
        let pts: Vec<String> = ser
            .points
            .iter()
            .map(|&(p, v)| format!("{:.1},{:.1}", xof(p), yof(v)))
            .collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{}"/>"#,
            pts.join(" ")
        );
        let y = T + 18.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="{}" y="{:.1}" width="12" height="12" fill="{c}"/><text x="{}" y="{:.1}">{}</text>"#,
            W - R + 12.0,
            y,
            W - R + 30.0,
            y + 10.0,
            ser.name
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_has_the_contract_keys() {
        let mut r = Report {
            duration_s: 1.5,
            ..Default::default()
        };
        r.latency_ns.insert(
            "decode".into(),
            LatencySummary {
                count: 3,
                p50: 1,
                p99: 2,
                p999: 3,
                max: 4,
            },
        );
        r.feeds.push(FeedReport {
            venue: "mexc".into(),
            market: "spot".into(),
            books: vec![BookReport {
                symbol: "BTCUSDT".into(),
                state: "live".into(),
                seq: 9,
                bids: vec![["1".into(), "2".into()]],
                ..Default::default()
            }],
            ..Default::default()
        });
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        for k in ["duration_s", "feeds", "latency_ns", "ring", "strategy"] {
            assert!(v.get(k).is_some(), "{k}");
        }
        let f = &v["feeds"][0];
        for k in [
            "venue",
            "market",
            "messages",
            "bytes",
            "decode_errors",
            "gaps",
            "resyncs",
            "reconnects",
            "books",
        ] {
            assert!(f.get(k).is_some(), "{k}");
        }
        assert_eq!(f["books"][0]["bids"][0][0], "1");
        assert_eq!(v["latency_ns"]["decode"]["p999"], 3);
        assert!(v["ring"].get("overruns").is_some());
    }

    #[test]
    fn svg_is_well_formed_enough() {
        let svg = latency_svg(
            "t",
            &[Series {
                name: "decode",
                points: vec![(0.0, 100), (50.0, 200), (99.9, 5000)],
            }],
        );
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("polyline") && svg.contains("decode"));
    }
}
