//! Where each symbol first reflected each move of the lead-lag fair value (`fair.rs`), and when
//! the push carrying it left: the side channel the tick-to-signal bench joins on. Its own
//! module so the simulator (which stamps marks) and the walk (which makes them) both use it
//! without importing each other.

use std::collections::VecDeque;

/// Where a symbol first reflected a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveMark {
    /// The move's id (`fair::FairMove::id`).
    pub move_id: u64,
    /// The symbol's book version right after it repriced to the move (every push ending at
    /// this version or later reflects it).
    pub version: u64,
    /// CLOCK_MONOTONIC instant the symbol repriced.
    pub applied_ns: u64,
    /// CLOCK_MONOTONIC send instant of the first push reflecting it (0: not sent yet), as
    /// `VenueHandle::send_time` stamps it.
    pub sent_ns: u64,
}

/// Most moves and marks kept (about 20 minutes of the default walk).
pub const FAIR_LOG: usize = 1 << 16;

/// A symbol's marks (held by `sim::Symbol`), stamped from `Symbol::record_send`.
#[derive(Debug, Default)]
pub struct Marks {
    pub(crate) v: VecDeque<MoveMark>,
    /// Index of the oldest mark not stamped yet.
    pub(crate) first_unsent: usize,
}

impl Marks {
    pub(crate) fn push(&mut self, m: MoveMark) {
        if self.v.len() >= FAIR_LOG {
            self.v.pop_front();
            self.first_unsent = self.first_unsent.saturating_sub(1);
        }
        self.v.push_back(m);
    }
    /// A push ending at `seq` was sent at `ns`: every mark up to `seq` not stamped yet is.
    pub(crate) fn sent(&mut self, seq: u64, ns: u64) {
        while let Some(m) = self.v.get_mut(self.first_unsent) {
            if m.version > seq {
                break;
            }
            m.sent_ns = ns;
            self.first_unsent += 1;
        }
    }
}
