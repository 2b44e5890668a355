//! What a client run yields and shares with the bench while it runs: the samples, the live
//! progress counters, and the reader of a child process's `seq recv_ns` lines (ccxt). Used
//! by `clients` and `ccxt` alike.

use std::io::BufRead;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// One push as a client's consumer saw it (CLOCK_MONOTONIC ns; 0 = stage not exposed).
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub seq: u64,
    /// When the frame's bytes were read (cexfeed `ts_recv_ns`, baseline reader, floor).
    pub recv_ns: u64,
    /// cexfeed: pushed into the ring (`ts_ring_ns`): decoded and applied.
    pub ring_ns: u64,
    /// Read by the consumer.
    pub consumed_ns: u64,
}

/// Shared between the bench and a running client.
#[derive(Default)]
pub struct Live {
    pub stop: AtomicBool,
    /// Pushes the consumer has seen (readiness and progress).
    pub seen: AtomicU64,
    /// Latest version the consumer has seen.
    pub last_seq: AtomicU64,
}

pub type ClientResult = Result<Vec<Sample>, String>;

/// Lines `seq recv_ns` from a child process (ccxt), read until the child ends.
pub fn read_pairs(r: impl std::io::Read, cap: usize, live: &Live) -> Vec<Sample> {
    let mut out = Vec::with_capacity(cap.min(1_000_000));
    for line in std::io::BufReader::new(r).lines() {
        let Ok(line) = line else { break };
        let mut it = line.split_whitespace();
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            continue;
        };
        let (Ok(seq), Ok(t)) = (a.parse::<u64>(), b.parse::<u64>()) else {
            continue;
        };
        if out.len() < cap {
            out.push(Sample {
                seq,
                recv_ns: 0,
                ring_ns: 0,
                consumed_ns: t,
            });
        }
        live.seen.fetch_add(1, Ordering::Relaxed);
        live.last_seq.store(seq, Ordering::Relaxed);
    }
    out
}

#[cfg(test)]
mod tests {
    /// Review finding 4: `ccxt` took `ClientResult`, `Live` and `read_pairs` from `clients`,
    /// which calls `ccxt::run`: an import circle. They live here now.
    #[test]
    fn finding4_ccxt_does_not_import_clients() {
        let code: String = include_str!("ccxt.rs")
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect();
        assert!(
            !code.contains("clients::"),
            "ccxt.rs imports from clients.rs"
        );
    }
}
