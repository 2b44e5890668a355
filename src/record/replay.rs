//! Replay: a feed thread driven from recorded files instead of sockets, through the same
//! reactor callbacks, decoders, sync, books and rings as live.
//!
//! Each record goes where the live one came from: a message to `Handler::on_message` of its
//! connection (through [`Reactor::replay_message`]), an up/down to `on_open`/`on_down`, a REST
//! snapshot body to the feed's (detached) control client, consumed at the next tick as live.
//! The thread's clock ([`crate::types::now_ns`]) reads the recorded time of the current
//! record, so timers (pings, stale books, resync deadlines) judge recorded time: the same file
//! gives the same handler calls, the same events and the same books every time. The handler's
//! reconnects and closes are not acted on: the recording says what became of each connection.

use super::{down_reason, FileReader, Kind, ReadError};
use crate::net::{ConnId, ControlError, Handler, HttpReply, Reactor, ReplyInjector};
use crate::types::thread_cpu_ns;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The replay's loop period in recorded time.
const TICK_NS: u64 = 1_000_000;

/// How fast to replay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// As fast as the thread goes (the throughput bench on real traffic).
    Max,
    /// Recorded time divided by this factor (1.0 keeps the recorded gaps).
    Factor(f64),
}

impl Speed {
    /// `max`, or a positive number (`1`, `10`, `0.5`).
    pub fn parse(s: &str) -> Option<Speed> {
        if s == "max" {
            return Some(Speed::Max);
        }
        let f: f64 = s.parse().ok()?;
        (f.is_finite() && f > 0.0).then_some(Speed::Factor(f))
    }
}

/// What to replay, for every feed of an engine (each takes the files of its venue + market).
#[derive(Clone, Debug)]
pub struct ReplaySetup {
    /// The files, in order (see [`super::open_inputs`]).
    pub files: Vec<PathBuf>,
    /// Pace.
    pub speed: Speed,
    /// Carry on past a corrupt frame (to the next frame magic) instead of stopping the file.
    pub skip_corrupt: bool,
}

/// What a replay did (relaxed counters; `done` once every file was read).
#[derive(Debug, Default)]
pub struct ReplayStats {
    /// Records read.
    pub records: AtomicU64,
    /// Messages handed to the handler.
    pub messages: AtomicU64,
    /// Messages for a connection that was not live in the replay (not delivered).
    pub orphan_messages: AtomicU64,
    /// REST bodies handed to the feed.
    pub rest: AtomicU64,
    /// Records the recorder had dropped (from its gap records).
    pub gap_records: AtomicU64,
    /// Frames that failed (checksum, truncation, decompression), skipped or not.
    pub bad_frames: AtomicU64,
    /// Payload bytes of the messages delivered.
    pub bytes: AtomicU64,
    /// Nanoseconds spent replaying (wall).
    pub elapsed_ns: AtomicU64,
    /// CPU nanoseconds the replaying thread used (on a shared machine, the fairer rate basis).
    pub cpu_ns: AtomicU64,
    /// Every file was read (or given up on).
    pub done: AtomicBool,
    /// File errors, with their offsets (cold).
    pub errors: Mutex<Vec<String>>,
}

/// Replay the files whose header names this feed. Returns when done or `stop` is set.
///
/// `room` is asked before each message whether the consumers can take its events; while it
/// says no the replay waits (a replay never drops or conflates: the same file gives the same
/// events, however slow the consumer).
pub fn run<H: Handler>(
    r: &mut Reactor<H>,
    inject: &ReplyInjector,
    files: &[PathBuf],
    setup: &ReplaySetup,
    stats: &ReplayStats,
    stop: &AtomicBool,
    mut room: impl FnMut(&mut H) -> bool,
) {
    let started = Instant::now();
    let cpu0 = thread_cpu_ns();
    let mut first_mono = 0u64;
    let mut last_tick = 0u64;
    let mut last_mono = 0u64;
    let mut n = 0u64;
    let note = |e: ReadError| {
        stats.bad_frames.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut v) = stats.errors.lock() {
            if v.len() < 100 {
                v.push(e.to_string());
            }
        }
    };
    'files: for path in files {
        let mut rd = match FileReader::open(path) {
            Ok(rd) => rd,
            Err(e) => {
                note(e);
                continue;
            }
        };
        loop {
            let frame = match rd.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    note(e);
                    if setup.skip_corrupt {
                        rd.skip_corrupt();
                        continue;
                    }
                    break;
                }
            };
            for rec in frame.records() {
                let Ok((h, payload)) = rec else {
                    // The CRC matched, so this is a writer bug or a foreign file: say where.
                    note(ReadError {
                        path: rd.path().to_string(),
                        offset: frame.offset,
                        kind: super::ReadErrorKind::BadRecord,
                    });
                    break;
                };
                n += 1;
                if n % 1024 == 0 && stop.load(Ordering::Relaxed) {
                    break 'files;
                }
                let t = h.mono_ns.max(1);
                if first_mono == 0 {
                    first_mono = t;
                    last_tick = t;
                    // As live: the loop ticks before any connection is up (handlers open
                    // connections and bind from their first tick).
                    crate::types::set_replay_clock(t);
                    r.replay_tick(t);
                }
                if let Speed::Factor(f) = setup.speed {
                    pace(started, (t.saturating_sub(first_mono)) as f64 / f, stop);
                }
                // Live, the loop ticks all the time (timers gated on 100 ms, ping periods,
                // deadlines): ticks every recorded millisecond up to this record, bounded to the
                // last minute of a longer silence.
                if t >= last_tick + TICK_NS {
                    last_tick = last_tick.max(t.saturating_sub(60_000 * TICK_NS));
                    while last_tick + TICK_NS <= t {
                        last_tick += TICK_NS;
                        if last_tick > last_mono {
                            last_mono = last_tick;
                            crate::types::set_replay_clock(last_mono);
                            r.replay_tick(last_mono);
                        }
                    }
                }
                last_mono = last_mono.max(t);
                // Monotonic within the replay even if records of two connections interleave
                // out of order by a few ns.
                crate::types::set_replay_clock(last_mono);
                let conn = ConnId(h.conn);
                while !room(r.handler_mut()) {
                    if stop.load(Ordering::Relaxed) {
                        break 'files;
                    }
                    std::thread::sleep(Duration::from_micros(50));
                }
                match Kind::from_u8(h.kind) {
                    Some(Kind::MsgText) | Some(Kind::MsgBinary) => {
                        let text = h.kind == Kind::MsgText as u8;
                        if r.replay_message(conn, text, payload, last_mono) {
                            stats.messages.fetch_add(1, Ordering::Relaxed);
                            stats
                                .bytes
                                .fetch_add(payload.len() as u64, Ordering::Relaxed);
                        } else {
                            stats.orphan_messages.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(Kind::Up) => {
                        // Live, the loop ticks many times between opening a slot and the
                        // connection being up (TCP, TLS, upgrade): a handler that opens on a
                        // tick has done so.
                        r.replay_tick(last_mono);
                        // A handler that opens on a timer (MEXC's private stream, checked every
                        // 100 ms) may not have opened yet at the replay's tick phase: let time
                        // run on, 1 ms a tick, up to 200 ms, until it has.
                        let mut extra = 0;
                        while !r.replay_up(conn, last_mono) && extra < 200 {
                            extra += 1;
                            last_mono += TICK_NS;
                            crate::types::set_replay_clock(last_mono);
                            r.replay_tick(last_mono);
                        }
                        last_tick = last_tick.max(last_mono);
                    }
                    Some(Kind::Down) => r.replay_down(conn, down_reason(h.aux), last_mono),
                    Some(Kind::Rest) => {
                        let result = if h.conn == 0 {
                            Err(ControlError::Io(
                                String::from_utf8_lossy(payload).into_owned(),
                            ))
                        } else {
                            Ok((h.conn, payload.to_vec()))
                        };
                        // Live, the request went out on a tick before its reply came back
                        // (many loop iterations apart): give the handler that tick first.
                        r.replay_tick(last_mono);
                        inject.push(HttpReply { id: h.aux, result });
                        stats.rest.fetch_add(1, Ordering::Relaxed);
                        r.replay_tick(last_mono);
                        last_tick = last_mono;
                    }
                    Some(Kind::Gap) => {
                        stats.gap_records.fetch_add(h.aux, Ordering::Relaxed);
                    }
                    Some(Kind::OutText) | Some(Kind::OutBinary) | None => {}
                }
                stats.records.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    if last_mono != 0 {
        r.replay_tick(last_mono);
    }
    // The handler is not called again; what runs on this thread afterwards (shutdown waits
    // such as MEXC's listen-key close) needs a clock that moves.
    crate::types::set_replay_clock(0);
    stats
        .elapsed_ns
        .store(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
    stats
        .cpu_ns
        .store(thread_cpu_ns().saturating_sub(cpu0), Ordering::Relaxed);
    stats.done.store(true, Ordering::Release);
}

/// Wait until `started + at_ns` (sleeping in slices, so `stop` is seen).
fn pace(started: Instant, at_ns: f64, stop: &AtomicBool) {
    let target = Duration::from_nanos(at_ns as u64);
    loop {
        let el = started.elapsed();
        if el >= target || stop.load(Ordering::Relaxed) {
            return;
        }
        let left = target - el;
        if left > Duration::from_micros(200) {
            std::thread::sleep(left.min(Duration::from_millis(5)));
        } else {
            std::hint::spin_loop();
        }
    }
}

/// The resolver of a replaying reactor: every lookup fails at once (no DNS, no network).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResolver;

impl crate::net::Resolve for NoResolver {
    fn resolve(&self, host: &str, _port: u16) -> std::io::Result<Vec<std::net::SocketAddr>> {
        Err(std::io::Error::other(format!(
            "replay: no lookup of {host}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::Speed;

    #[test]
    fn speed_parses_max_and_positive_factors_only() {
        assert_eq!(Speed::parse("max"), Some(Speed::Max));
        assert_eq!(Speed::parse("1"), Some(Speed::Factor(1.0)));
        assert_eq!(Speed::parse("2.5"), Some(Speed::Factor(2.5)));
        for bad in ["0", "-1", "nan", "inf", "fast", ""] {
            assert_eq!(Speed::parse(bad), None, "{bad}");
        }
    }
}
