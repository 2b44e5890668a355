//! Output: the terminal table with ratios, the JSON report, `.hgrm` files and the SVG.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::clients::{Client, Wait};
use crate::{CellResult, Feed, Rate};
use cexfeed::net::Framing;

fn pct(h: &Histogram<u64>) -> [u64; 4] {
    if h.is_empty() {
        return [0; 4];
    }
    [
        h.value_at_quantile(0.5),
        h.value_at_quantile(0.99),
        h.value_at_quantile(0.999),
        h.max(),
    ]
}

fn us(ns: u64) -> String {
    let u = ns as f64 / 1000.0;
    if u >= 100.0 {
        format!("{u:.0}")
    } else {
        format!("{u:.1}")
    }
}

fn tls_name(tls: bool) -> &'static str {
    if tls {
        "tls"
    } else {
        "plain"
    }
}

/// The client's name in the table and progress lines: cexfeed with its framing.
fn client_label(r: &CellResult) -> String {
    match r.framing {
        Some(f) => format!("{}/{}", r.client.name(), f.name()),
        None => r.client.name().to_string(),
    }
}

/// One progress line per cell (stderr).
pub fn one_line(r: &CellResult) -> String {
    let p = pct(&r.hist);
    match &r.error {
        Some(e) => format!(
            "{:<19} {:<15} {:<5} {:>5} {:<5} ERROR {e}",
            client_label(r),
            r.feed.label(),
            tls_name(r.tls),
            r.rate.label(),
            r.wait.name()
        ),
        None => format!(
            "{:<19} {:<15} {:<5} {:>5} {:<5} n={:<8} p50 {:>7} p99 {:>7} p99.9 {:>7} max {:>8} µs  {:>9.0}/s of {:>9.0}/s{}",
            client_label(r),
            r.feed.label(),
            tls_name(r.tls),
            r.rate.label(),
            r.wait.name(),
            r.hist.len(),
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3]),
            r.achieved_rate,
            r.venue_rate,
            if r.kept_up { "" } else { "  (fell behind)" }
        ),
    }
}

type GroupKey = (Client, Option<Framing>, Feed, bool, Wait);

/// Sustained rate per (client, feed, TLS, wait): the highest rate at which it kept up (a fixed
/// rate: the rate asked; `max`: the rate it consumed), 0 when it kept up at none.
pub fn sustained(results: &mut [CellResult]) {
    let mut best: BTreeMap<GroupKey, u64> = BTreeMap::new();
    for r in results.iter().filter(|r| r.error.is_none() && r.kept_up) {
        let v = match r.rate {
            Rate::Fixed(n) => n,
            Rate::Max => r.achieved_rate as u64,
        };
        let e = best
            .entry((r.client, r.framing, r.feed, r.tls, r.wait))
            .or_insert(0);
        *e = (*e).max(v);
    }
    for r in results.iter_mut() {
        r.sustained = best
            .get(&(r.client, r.framing, r.feed, r.tls, r.wait))
            .copied()
            .unwrap_or(0);
    }
}

/// The terminal table: per cell group, one row per client, percentiles in µs and the ratio of
/// each client's percentile to cexfeed's (block) in the same cell.
pub fn table(results: &[CellResult], cores: usize, notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "cexfeed-bench: venue send → consumer, µs (CLOCK_MONOTONIC both sides); {cores} cores. \
ratio = client / cexfeed(block, first framing listed) at the same percentile (> 1: cexfeed is faster)."
    );
    for n in notes {
        let _ = writeln!(s, "note: {n}");
    }
    let mut groups: BTreeMap<(Feed, bool, Rate), Vec<&CellResult>> = BTreeMap::new();
    for r in results {
        groups.entry((r.feed, r.tls, r.rate)).or_default().push(r);
    }
    for ((feed, tls, rate), rows) in groups {
        let _ = writeln!(
            s,
            "\n{} {} {} pushes/s",
            feed.label(),
            tls_name(tls),
            rate.label()
        );
        let _ = writeln!(
            s,
            "  {:<19} {:<5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>10} | {:>6} {:>6} {:>6} {:>6}",
            "client",
            "wait",
            "count",
            "p50",
            "p99",
            "p99.9",
            "max",
            "rate/s",
            "sustained",
            "×p50",
            "×p99",
            "×p99.9",
            "×max"
        );
        let base = rows
            .iter()
            .find(|r| r.client == Client::Cexfeed && r.wait == Wait::Block && r.error.is_none())
            .map(|r| pct(&r.hist));
        for r in rows {
            if let Some(e) = &r.error {
                let _ = writeln!(
                    s,
                    "  {:<19} {:<5} ERROR {e}",
                    client_label(r),
                    r.wait.name()
                );
                continue;
            }
            let p = pct(&r.hist);
            let ratio = |i: usize| match base {
                Some(b) if b[i] > 0 => format!("{:.2}", p[i] as f64 / b[i] as f64),
                _ => "-".into(),
            };
            let _ = writeln!(
                s,
                "  {:<19} {:<5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10.0} {:>10} | {:>6} {:>6} {:>6} {:>6}{}",
                client_label(r),
                r.wait.name(),
                r.hist.len(),
                us(p[0]),
                us(p[1]),
                us(p[2]),
                us(p[3]),
                r.achieved_rate,
                r.sustained,
                ratio(0),
                ratio(1),
                ratio(2),
                ratio(3),
                if r.kept_up { "" } else { "  fell behind" }
            );
            for (name, h) in &r.stages {
                let q = pct(h);
                let _ = writeln!(
                    s,
                    "      {:<23} {:>8} {:>8} {:>8} {:>8} {:>9}",
                    name,
                    "",
                    us(q[0]),
                    us(q[1]),
                    us(q[2]),
                    us(q[3])
                );
            }
        }
    }
    s
}

fn file_stem(r: &CellResult) -> String {
    format!(
        "{}_{}_{}_{}_{}_{}{}",
        r.client.name(),
        r.feed.venue(),
        r.feed.market(),
        tls_name(r.tls),
        r.rate.label(),
        r.wait.name(),
        r.framing
            .map_or(String::new(), |f| format!("_{}", f.name()))
    )
}

/// One `.hgrm` per measured cell (values in µs, as HdrHistogram's plotter expects).
pub fn write_hgrms(results: &[CellResult], dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for r in results
        .iter()
        .filter(|r| r.error.is_none() && !r.hist.is_empty())
    {
        let p = dir.join(format!("{}.hgrm", file_stem(r)));
        let mut f = std::io::BufWriter::new(std::fs::File::create(p)?);
        cexfeed::metrics::write_hgrm(&r.hist, 1000.0, &mut f)?;
        n += 1;
    }
    Ok(n)
}

/// One `.hgrm` per tick-to-signal run: `tick_to_signal_<tls>_<wait>.hgrm`.
pub fn write_tick_hgrms(rs: &[crate::tick::TickResult], dir: &Path) -> std::io::Result<usize> {
    let mut n = 0;
    for r in rs
        .iter()
        .filter(|r| r.error.is_none() && !r.hist.is_empty())
    {
        let p = dir.join(format!(
            "tick_to_signal_{}_{}.hgrm",
            tls_name(r.tls),
            r.wait.name()
        ));
        let mut f = std::io::BufWriter::new(std::fs::File::create(p)?);
        cexfeed::metrics::write_hgrm(&r.hist, 1000.0, &mut f)?;
        n += 1;
    }
    Ok(n)
}

/// The JSON report: `clients`, one entry per client and feed measured.
pub fn json(
    results: &[CellResult],
    cores: usize,
    notes: &[String],
    duration: std::time::Duration,
) -> Value {
    let clients: Vec<Value> = results
        .iter()
        .map(|r| {
            let p = pct(&r.hist);
            let stages: serde_json::Map<String, Value> = r
                .stages
                .iter()
                .map(|(n, h)| {
                    let q = pct(h);
                    (
                        n.to_string(),
                        json!({"p50_ns": q[0], "p99_ns": q[1], "p999_ns": q[2], "max_ns": q[3]}),
                    )
                })
                .collect();
            json!({
                "client": r.client.name(),
                "venue": r.feed.venue(),
                "market": r.feed.market(),
                "tls": r.tls,
                "rate": r.rate_asked,
                "rate_label": r.rate.label(),
                "wait": r.wait.name(),
                "framing": r.framing.map(Framing::name),
                "count": r.hist.len(),
                "p50_ns": p[0],
                "p99_ns": p[1],
                "p999_ns": p[2],
                "max_ns": p[3],
                "sustained_rate": r.sustained,
                "achieved_rate": r.achieved_rate.round() as u64,
                "venue_rate": r.venue_rate.round() as u64,
                "kept_up": r.kept_up,
                "backlog": r.backlog,
                "unmatched": r.unmatched,
                "early": r.early,
                "stages": stages,
                "error": r.error,
            })
        })
        .collect();
    json!({
        "machine": {
            "cores": cores,
            "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            "cpu": cpu_model(),
        },
        "duration_s": duration.as_secs_f64(),
        "notes": notes,
        "clients": clients,
    })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|x| x.1.trim().to_string())
        })
        .unwrap_or_default()
}

fn color(c: Client) -> &'static str {
    match c {
        Client::Cexfeed => "#1f77b4",
        Client::TokioBaseline => "#d62728",
        Client::Floor => "#2ca02c",
        Client::Ccxt => "#ff7f0e",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Percentile distributions side by side: one panel per (feed, TLS, rate), one curve per
/// client (x: percentile on the usual 1/(1-p) log axis up to 99.99 %; y: latency, log µs).
pub fn svg(results: &[CellResult]) -> String {
    let mut groups: BTreeMap<(Feed, bool, Rate), Vec<&CellResult>> = BTreeMap::new();
    for r in results
        .iter()
        .filter(|r| r.error.is_none() && !r.hist.is_empty())
    {
        groups.entry((r.feed, r.tls, r.rate)).or_default().push(r);
    }
    let (pw, ph, cols) = (360.0f64, 240.0f64, 3usize);
    let rows = groups.len().div_ceil(cols).max(1);
    let (w, h) = (pw * cols as f64 + 20.0, ph * rows as f64 + 60.0);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="10">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="16" font-size="13">cexfeed-bench: venue send → consumer latency by percentile (log µs)</text>"#
    );
    // Legend.
    for (i, c) in Client::ALL.iter().enumerate() {
        let x = 10.0 + i as f64 * 110.0;
        let _ = writeln!(
            s,
            r#"<line x1="{x}" y1="32" x2="{}" y2="32" stroke="{}" stroke-width="2"/><text x="{}" y="35">{}</text>"#,
            x + 20.0,
            color(*c),
            x + 24.0,
            c.name()
        );
    }
    let _ = writeln!(s, r#"<text x="460" y="35">dashed: wait spin</text>"#);
    let xs = [0.0, 0.5, 0.9, 0.99, 0.999, 0.9999];
    let xpos = |q: f64| -> f64 { (1.0 / (1.0 - q.min(0.9999))).log10() / 4.0 };
    for (gi, ((feed, tls, rate), rs)) in groups.iter().enumerate() {
        let ox = 10.0 + (gi % cols) as f64 * pw;
        let oy = 50.0 + (gi / cols) as f64 * ph;
        let (iw, ih) = (pw - 60.0, ph - 60.0);
        let (x0, y0) = (ox + 45.0, oy + 20.0);
        let lo = rs
            .iter()
            .map(|r| r.hist.value_at_quantile(0.0).max(1))
            .min()
            .unwrap_or(1) as f64
            / 1000.0;
        let hi = rs.iter().map(|r| r.hist.max().max(2)).max().unwrap_or(2) as f64 / 1000.0;
        let (llo, lhi) = (
            lo.max(0.01).log10().floor(),
            hi.log10().ceil().max(lo.log10() + 1.0),
        );
        let ypos = |v_us: f64| -> f64 {
            let f = (v_us.max(10f64.powf(llo)).log10() - llo) / (lhi - llo);
            y0 + ih - f * ih
        };
        let _ = writeln!(
            s,
            r##"<text x="{x0}" y="{}" font-size="11">{} {} {}</text><rect x="{x0}" y="{y0}" width="{iw}" height="{ih}" fill="none" stroke="#999"/>"##,
            oy + 14.0,
            esc(&feed.label()),
            if *tls { "tls" } else { "plain" },
            rate.label()
        );
        let mut d = llo;
        while d <= lhi + 1e-9 {
            let y = ypos(10f64.powf(d));
            let _ = writeln!(
                s,
                r##"<line x1="{x0}" y1="{y}" x2="{}" y2="{y}" stroke="#eee"/><text x="{}" y="{}" text-anchor="end">{}</text>"##,
                x0 + iw,
                x0 - 3.0,
                y + 3.0,
                fmt_us(10f64.powf(d))
            );
            d += 1.0;
        }
        for q in xs {
            let x = x0 + xpos(q) * iw;
            let _ = writeln!(
                s,
                r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                y0 + ih + 12.0,
                if q == 0.0 {
                    "0".to_string()
                } else {
                    format!("{}", q * 100.0)
                }
            );
        }
        for r in rs {
            let mut pts = String::new();
            for i in 0..=80 {
                let q = 1.0 - 10f64.powf(-(i as f64) / 20.0);
                let q = q.min(0.9999);
                let v = r.hist.value_at_quantile(q) as f64 / 1000.0;
                let _ = write!(pts, "{:.1},{:.1} ", x0 + xpos(q) * iw, ypos(v));
            }
            let dash = if r.wait == Wait::Spin {
                r#" stroke-dasharray="4 3""#
            } else {
                ""
            };
            let _ = writeln!(
                s,
                r#"<polyline fill="none" stroke="{}" stroke-width="1.5"{dash} points="{pts}"/>"#,
                color(r.client)
            );
        }
    }
    s.push_str("</svg>\n");
    s
}

fn fmt_us(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}ms", v / 1000.0)
    } else {
        format!("{v}µs")
    }
}

/// One progress line for a tick-to-signal run (stderr).
pub fn tick_line(r: &crate::tick::TickResult) -> String {
    let p = pct(&r.hist);
    match &r.error {
        Some(e) => format!(
            "tick-to-signal  {:<5} {:<5} ERROR {e}",
            tls_name(r.tls),
            r.wait.name()
        ),
        None => format!(
            "tick-to-signal  {:<5} {:<5} n={:<6} p50 {:>7} p99 {:>7} p99.9 {:>7} max {:>8} µs  ({} signals, {} jumps)",
            tls_name(r.tls),
            r.wait.name(),
            r.hist.len(),
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3]),
            r.signals,
            r.jumps
        ),
    }
}

/// The tick-to-signal table (appended to the terminal table).
pub fn tick_table(rs: &[crate::tick::TickResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\ntick to signal: venue send of a fair-value move (first venue's push) → the arbitrage \
monitor's Opened signal on the strategy thread, µs; MEXC spot + Gate.io spot + futures BTC, \
lead-lag venue (MEXC 0, Gate futures 1 ms, Gate spot 3 ms late)"
    );
    let _ = writeln!(
        s,
        "  {:<15} {:<5} {:<5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6}  triggers",
        "client",
        "tls",
        "wait",
        "count",
        "p50",
        "p99",
        "p99.9",
        "max",
        "signals",
        "attrib",
        "jumps"
    );
    for r in rs {
        if let Some(e) = &r.error {
            let _ = writeln!(
                s,
                "  {:<15} {:<5} {:<5} ERROR {e}",
                "cexfeed",
                tls_name(r.tls),
                r.wait.name()
            );
            continue;
        }
        let p = pct(&r.hist);
        let trig: Vec<String> = r
            .by_trigger
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "  {:<15} {:<5} {:<5} {:>8} {:>8} {:>8} {:>8} {:>9} {:>8} {:>8} {:>6}  {}",
            "cexfeed",
            tls_name(r.tls),
            r.wait.name(),
            r.hist.len(),
            us(p[0]),
            us(p[1]),
            us(p[2]),
            us(p[3]),
            r.signals,
            r.attributed,
            r.jumps,
            trig.join(", ")
        );
        let q = pct(&r.own);
        let _ = writeln!(
            s,
            "      {:<25} {:>8} {:>8} {:>8} {:>8} {:>9}",
            "trigger's own send",
            r.own.len(),
            us(q[0]),
            us(q[1]),
            us(q[2]),
            us(q[3])
        );
    }
    s
}

/// `tick_to_signal` in the JSON report: one entry per TLS setting and wait mode.
pub fn tick_json(rs: &[crate::tick::TickResult]) -> Value {
    Value::Array(
        rs.iter()
            .map(|r| {
                let p = pct(&r.hist);
                let q = pct(&r.own);
                let trig: serde_json::Map<String, Value> = r
                    .by_trigger
                    .iter()
                    .map(|(k, n)| (k.clone(), json!(n)))
                    .collect();
                json!({
                    "client": "cexfeed",
                    "venues": ["mexc.spot", "gateio.spot", "gateio.futures"],
                    "tls": r.tls,
                    "wait": r.wait.name(),
                    "rate": r.rate,
                    "count": r.hist.len(),
                    "p50_ns": p[0],
                    "p99_ns": p[1],
                    "p999_ns": p[2],
                    "max_ns": p[3],
                    "signals": r.signals,
                    "attributed": r.attributed,
                    "unmatched": r.unmatched,
                    "jumps": r.jumps,
                    "by_trigger": trig,
                    "own_send": {"count": r.own.len(), "p50_ns": q[0], "p99_ns": q[1], "p999_ns": q[2], "max_ns": q[3]},
                    "error": r.error,
                })
            })
            .collect(),
    )
}
