//! Snapshot + delta bridging for one symbol: a sans-IO state machine that owns its [`Book`].
//!
//! # Contract
//!
//! * **No I/O, explicit time.** Inputs are method calls carrying `now_ns`: a delta or `full`
//!   push ([`SyncedBook::on_delta`]), a REST snapshot ([`SyncedBook::on_snapshot`]), a failed
//!   snapshot fetch ([`SyncedBook::on_snapshot_failed`]), a reconnect ([`SyncedBook::reset`]),
//!   silence ([`SyncedBook::mark_stale`]). Each returns a [`SyncOutcome`]; requests for the
//!   outside world (fetch a REST snapshot, resubscribe) are polled with
//!   [`SyncedBook::take_request`], which hands each request out once.
//! * **Allocation.** [`SyncedBook::new`] allocates the book and the delta buffer
//!   (`max_buffered_deltas × 32 B + max_buffered_levels × 32 B`, plus `2 × levels_per_side ×
//!   32 B` for the book) once; nothing afterwards.
//! * **Buffer full.** While waiting for a snapshot, deltas (and copies of their levels) go to
//!   the fixed buffer. When it is full the buffer is dropped, buffering starts over with the
//!   delta at hand and a fresh snapshot is requested ([`SyncOutcome::Overflow`]). It never grows.
//! * **Invariant.** The book is handed out only when [`SyncedBook::state`] is `Live` (or
//!   `Stale`), and then it is the venue's book at sequence [`SyncedBook::seq`], never crossed.
//!   Any error clears the book and moves to `Resyncing`.
//!
//! ```
//! use cexfeed::book::{SyncConfig, SyncOutcome, SyncRequest, SyncRule, SyncedBook};
//! use cexfeed::event::{BookMsg, Level};
//!
//! let mut sb = SyncedBook::new(&SyncConfig::new(SyncRule::Mexc)); // at start-up
//! let delta = BookMsg { symbol: "BTCUSDT", snapshot: false, seq_first: 101, seq_last: 103,
//!                       bids: &[], asks: &[], ts_exchange_ms: None };
//! let now_ns = 1;
//! match sb.on_delta(&delta, now_ns) {
//!     o if o.book_changed() => { /* publish top-N of sb.book() at sb.seq() */ }
//!     o if o.is_resync() => { /* count, publish sb.state() */ }
//!     _ => {}
//! }
//! // In the loop: hand requests to the REST / subscription side.
//! assert_eq!(sb.take_request(now_ns), Some(SyncRequest::Snapshot));
//! // … later, the REST answer (lastUpdateId = 102) arrives:
//! let snap = BookMsg { snapshot: true, seq_first: 102, seq_last: 102, ..delta };
//! assert_eq!(sb.on_snapshot(&snap, 2), SyncOutcome::Replaced);
//! assert_eq!(sb.seq(), 103);
//! ```
//!
//! # Rules (protocols.md §1.6, §3.3, §4.3)
//!
//! Gate.io `order_book_update` ([`SyncRule::GateUpdate`]) and MEXC ([`SyncRule::Mexc`]) share
//! one rule with the snapshot id `S`: drop deltas with `last <= S`; the first applied delta
//! must straddle `first <= S + 1 <= last`; if the first remaining buffered delta has
//! `first > S + 1` the snapshot cannot bridge → fetch again ([`SyncOutcome::SnapshotBehind`],
//! the buffer is kept). Live: `last <= local` → dropped as stale (duplicate or old);
//! `first > local + 1` → [`SyncOutcome::Gap`] → resync (the gapping delta starts the new
//! buffer); otherwise applied (an overlapping delta `first <= local` is applied, quantities
//! being absolute) and `local = last`, also for empty deltas. A `full`/snapshot-flagged push
//! replaces the book and sets `local = last`, in any state — it is a valid start without REST.
//!
//! Gate.io `obu` ([`SyncRule::GateObu`]): no REST. While resyncing only a `full` push starts
//! the book (other deltas are dropped); continuity is strict (`U == local + 1`, as Gate
//! documents for obu: an overlapping push is a gap too); a gap requests
//! [`SyncRequest::Resubscribe`].
//!
//! A REST snapshot is requested when the first delta has been buffered (so the snapshot is
//! fetched after the stream started, as both venues prescribe); a failed fetch is retried no
//! earlier than `snapshot_retry_ns` later. One request is outstanding at a time: a snapshot
//! that is in flight when a gap happens is still used if it bridges.

use super::{Book, BookError};
use crate::event::{BookMsg, Level};
use crate::types::BookState;

/// Which venue rule bridges snapshot and deltas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRule {
    /// Gate.io spot/futures `order_book_update` + REST `with_id=true` snapshot; `full` pushes.
    GateUpdate,
    /// Gate.io spot/futures `obu`: first push is `full`; gap → resubscribe; no REST.
    GateObu,
    /// MEXC aggregated depth (`fromVersion`/`toVersion`) + REST `lastUpdateId`.
    Mexc,
}

impl SyncRule {
    /// Whether the rule bridges with a REST snapshot.
    pub const fn uses_rest(self) -> bool {
        !matches!(self, SyncRule::GateObu)
    }
}

/// Sizes and timing of one [`SyncedBook`]. All memory is derived from these at construction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncConfig {
    /// How snapshots and deltas are bridged (venue and channel).
    pub rule: SyncRule,
    /// Book capacity per side (`Book::with_capacity`). Default 5000 (MEXC snapshot max).
    pub levels_per_side: usize,
    /// Deltas buffered while waiting for a snapshot. Default 1024.
    pub max_buffered_deltas: usize,
    /// Levels (over all buffered deltas) copied into the buffer arena. Default 16 384.
    /// Size both buffer bounds for the push rate × (REST round trip + retry delay).
    pub max_buffered_levels: usize,
    /// Earliest re-request after a failed snapshot fetch. Default 1 s.
    pub snapshot_retry_ns: u64,
}

impl SyncConfig {
    /// The defaults above for `rule`.
    pub const fn new(rule: SyncRule) -> Self {
        SyncConfig {
            rule,
            levels_per_side: 5000,
            max_buffered_deltas: 1024,
            max_buffered_levels: 16_384,
            snapshot_retry_ns: 1_000_000_000,
        }
    }

    /// Bytes allocated by [`SyncedBook::new`] (book + buffer), for the memory table.
    pub const fn memory_bytes(&self) -> usize {
        2 * self.levels_per_side * std::mem::size_of::<Level>()
            + self.max_buffered_deltas * std::mem::size_of::<Buffered>()
            + self.max_buffered_levels * std::mem::size_of::<Level>()
    }
}

/// What the outside world must do for this book. Taken once with [`SyncedBook::take_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncRequest {
    /// Fetch a REST snapshot and feed it to `on_snapshot` (or `on_snapshot_failed`).
    Snapshot,
    /// Unsubscribe and resubscribe the channel (Gate.io `obu`).
    Resubscribe,
}

/// Result of one input. `Copy`; each variant maps to one action for the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Delta applied; book is live at the new seq → publish.
    Applied,
    /// Book replaced (full push, or snapshot + bridged buffered deltas) → publish.
    Replaced,
    /// Waiting for a snapshot; the delta was buffered.
    Buffered,
    /// `last <= local` (duplicate or old) → count, nothing else.
    DroppedStale,
    /// `obu` waiting for its first `full` push: the delta cannot be used → count.
    DroppedNotFull,
    /// A snapshot that nobody waits for (book already live, or `obu`) → ignore.
    Ignored,
    /// Sequence gap: now resyncing, a request was made → count gap + resync, publish state.
    Gap {
        /// The sequence continuity required next.
        expected: u64,
        /// The sequence the delta started at.
        got: u64,
    },
    /// The snapshot is older than the buffered deltas can bridge: fetched again.
    SnapshotBehind {
        /// The snapshot's sequence.
        snapshot: u64,
        /// The first buffered delta's first sequence.
        first: u64,
    },
    /// The buffer was full: started over with a fresh snapshot request.
    Overflow,
    /// The book refused the data (crossed or bad level): cleared, resyncing.
    Book(BookError),
    /// `seq_first > seq_last`: malformed input, dropped → count.
    BadSeq,
    /// An implausible sequence: above [`MAX_SEQ`], or a live book asked to jump more than
    /// [`MAX_SEQ_JUMP`] past `local` (e.g. an `obu` `full` with `u = 2^64-1`, after which no
    /// delta could ever continue). Accepting it would freeze a `Live` book: cleared, resyncing.
    Implausible {
        /// The book's sequence before.
        local: u64,
        /// The sequence that arrived.
        got: u64,
    },
}

/// Highest sequence accepted: venues count updates from small numbers (≈10¹⁰ today), so
/// anything at or above 2⁶³ is corrupt, and `seq + 1` never overflows below it.
pub const MAX_SEQ: u64 = i64::MAX as u64;

/// Largest forward step a live book takes in one input. A live book sees every update of its
/// stream, so a jump of 2³² updates (weeks of the busiest pair) at once is not a real one.
pub const MAX_SEQ_JUMP: u64 = 1 << 32;

impl SyncOutcome {
    /// The book content changed and is live: publish a book update.
    pub const fn book_changed(&self) -> bool {
        matches!(self, SyncOutcome::Applied | SyncOutcome::Replaced)
    }

    /// This input started (or restarted) a resync: count it, publish the state change.
    pub const fn is_resync(&self) -> bool {
        matches!(
            self,
            SyncOutcome::Gap { .. }
                | SyncOutcome::Implausible { .. }
                | SyncOutcome::SnapshotBehind { .. }
                | SyncOutcome::Overflow
                | SyncOutcome::Book(_)
        )
    }
}

/// One buffered delta: sequence range and its levels' place in the arena.
#[derive(Debug, Clone, Copy)]
struct Buffered {
    seq_first: u64,
    seq_last: u64,
    start: u32,
    n_bids: u32,
    n_asks: u32,
}

/// Fixed-capacity FIFO of deltas with their levels copied into one arena.
#[derive(Debug)]
struct DeltaBuffer {
    entries: Vec<Buffered>,
    levels: Vec<Level>,
    /// Index of the first live entry (a snapshot drops a prefix).
    head: usize,
    max_entries: usize,
    max_levels: usize,
}

impl DeltaBuffer {
    fn new(max_entries: usize, max_levels: usize) -> Self {
        DeltaBuffer {
            entries: Vec::with_capacity(max_entries),
            levels: Vec::with_capacity(max_levels),
            head: 0,
            max_entries,
            max_levels,
        }
    }

    fn clear(&mut self) {
        self.entries.clear();
        self.levels.clear();
        self.head = 0;
    }

    fn is_empty(&self) -> bool {
        self.head == self.entries.len()
    }

    fn front(&self) -> Option<&Buffered> {
        self.entries.get(self.head)
    }

    fn back(&self) -> Option<&Buffered> {
        if self.is_empty() {
            None
        } else {
            self.entries.last()
        }
    }

    /// False (and unchanged) when the delta does not fit.
    fn push(&mut self, m: &BookMsg<'_>) -> bool {
        let n = m.bids.len() + m.asks.len();
        if self.entries.len() == self.max_entries || self.levels.len() + n > self.max_levels {
            return false;
        }
        let start = self.levels.len() as u32;
        self.levels.extend_from_slice(m.bids);
        self.levels.extend_from_slice(m.asks);
        self.entries.push(Buffered {
            seq_first: m.seq_first,
            seq_last: m.seq_last,
            start,
            n_bids: m.bids.len() as u32,
            n_asks: m.asks.len() as u32,
        });
        true
    }

    fn pop_front(&mut self) {
        if !self.is_empty() {
            self.head += 1;
        }
    }

    fn sides(&self, b: &Buffered) -> (&[Level], &[Level]) {
        let s = b.start as usize;
        let m = s + b.n_bids as usize;
        (&self.levels[s..m], &self.levels[m..m + b.n_asks as usize])
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Req {
    None,
    Pending {
        kind: SyncRequest,
        not_before_ns: u64,
    },
    InFlight(SyncRequest),
}

/// A [`Book`] with its sequencer. See the [module docs](self).
#[derive(Debug)]
pub struct SyncedBook {
    book: Book,
    rule: SyncRule,
    retry_ns: u64,
    live: bool,
    stale: bool,
    /// Sequence of the last applied update (valid when `live`).
    local: u64,
    req: Req,
    buf: DeltaBuffer,
    last_input_ns: u64,
}

impl SyncedBook {
    /// Allocates everything this book will ever use ([`SyncConfig::memory_bytes`]).
    /// Starts `Resyncing`, as after [`reset`](Self::reset).
    pub fn new(cfg: &SyncConfig) -> Self {
        SyncedBook {
            book: Book::with_capacity(cfg.levels_per_side),
            rule: cfg.rule,
            retry_ns: cfg.snapshot_retry_ns,
            live: false,
            stale: false,
            local: 0,
            req: Req::None,
            buf: DeltaBuffer::new(cfg.max_buffered_deltas.max(1), cfg.max_buffered_levels),
            last_input_ns: 0,
        }
    }

    /// The book. Meaningful only while `state()` is `Live` or `Stale`.
    pub fn book(&self) -> &Book {
        &self.book
    }

    /// The bridging rule this book was made with.
    pub fn rule(&self) -> SyncRule {
        self.rule
    }

    /// Live (bridged, continuous), Resyncing or Stale.
    pub fn state(&self) -> BookState {
        match (self.live, self.stale) {
            (false, _) => BookState::Resyncing,
            (true, true) => BookState::Stale,
            (true, false) => BookState::Live,
        }
    }

    /// Sequence of the last applied update (Gate.io `u`, MEXC `toVersion`); 0 when resyncing.
    pub fn seq(&self) -> u64 {
        if self.live {
            self.local
        } else {
            0
        }
    }

    /// `now_ns` of the last delta or snapshot input (for idle detection).
    pub fn last_input_ns(&self) -> u64 {
        self.last_input_ns
    }

    /// Number of deltas buffered while waiting for a snapshot.
    pub fn buffered(&self) -> usize {
        self.buf.entries.len() - self.buf.head
    }

    /// A REST snapshot is wanted and not yet taken (may still be in its retry delay).
    pub fn wants_snapshot(&self) -> bool {
        matches!(
            self.req,
            Req::Pending {
                kind: SyncRequest::Snapshot,
                ..
            }
        )
    }

    /// A snapshot or resubscribe was taken and has not been answered yet.
    pub fn request_in_flight(&self) -> bool {
        matches!(self.req, Req::InFlight(_))
    }

    /// The next action for the outside world, once; `None` if nothing is due at `now_ns`.
    pub fn take_request(&mut self, now_ns: u64) -> Option<SyncRequest> {
        match self.req {
            Req::Pending {
                kind,
                not_before_ns,
            } if now_ns >= not_before_ns => {
                self.req = Req::InFlight(kind);
                Some(kind)
            }
            _ => None,
        }
    }

    /// Reconnect: forget everything, wait for a new start (first buffered delta requests the
    /// snapshot; `obu` waits for its `full` push, which the new subscription brings).
    pub fn reset(&mut self, now_ns: u64) {
        self.live = false;
        self.stale = false;
        self.local = 0;
        self.req = Req::None;
        self.buf.clear();
        self.book.clear();
        self.last_input_ns = now_ns;
    }

    /// No data for longer than the idle threshold while the socket stayed open. A live book
    /// becomes `Stale` until the next applied update. Returns whether the state changed.
    pub fn mark_stale(&mut self, _now_ns: u64) -> bool {
        let changed = self.live && !self.stale;
        self.stale |= self.live;
        changed
    }

    /// Mark the book stale if no input arrived for more than `idle_ns`. Returns whether the
    /// state changed (publish a status event then).
    pub fn check_idle(&mut self, now_ns: u64, idle_ns: u64) -> bool {
        if now_ns.saturating_sub(self.last_input_ns) > idle_ns {
            self.mark_stale(now_ns)
        } else {
            false
        }
    }

    /// Enter resync: clear book and buffer, request a snapshot (or resubscribe) unless one is
    /// already outstanding.
    fn resync(&mut self, now_ns: u64) {
        self.live = false;
        self.stale = false;
        self.book.clear();
        self.buf.clear();
        self.request(now_ns);
    }

    fn request(&mut self, now_ns: u64) {
        if let Req::None = self.req {
            self.req = Req::Pending {
                kind: if self.rule.uses_rest() {
                    SyncRequest::Snapshot
                } else {
                    SyncRequest::Resubscribe
                },
                not_before_ns: now_ns,
            };
        }
    }

    /// A delta or `full` push (`msg.snapshot`) from the stream.
    pub fn on_delta(&mut self, msg: &BookMsg<'_>, now_ns: u64) -> SyncOutcome {
        if msg.seq_first > msg.seq_last {
            return SyncOutcome::BadSeq;
        }
        self.last_input_ns = now_ns;
        if msg.seq_last > MAX_SEQ {
            return self.implausible(msg.seq_last, now_ns);
        }
        if msg.snapshot {
            return self.on_full(msg, now_ns);
        }
        if self.live {
            if msg.seq_last <= self.local {
                return SyncOutcome::DroppedStale;
            }
            if msg.seq_last - self.local > MAX_SEQ_JUMP {
                return self.implausible(msg.seq_last, now_ns);
            }
            let expected = self.local + 1;
            // `obu` is strict: Gate documents "if `U` equals the local depth ID + 1 the update
            // is continuous; if `U` ≠ local + 1 … unsubscribe and resubscribe" (Gate spot and
            // futures WS v4, "Maintain local depth" under Order Book V2; protocols.md §3.3).
            // An overlapping push (`U <= local < u`) is therefore a gap there, while
            // `order_book_update` and MEXC may apply it (absolute quantities).
            let gap = match self.rule {
                SyncRule::GateObu => msg.seq_first != expected,
                _ => msg.seq_first > expected,
            };
            if gap {
                self.resync(now_ns);
                if self.rule.uses_rest() {
                    // The gapping delta starts the new buffer.
                    self.buf.push(msg);
                }
                return SyncOutcome::Gap {
                    expected,
                    got: msg.seq_first,
                };
            }
            if let Err(e) = self.book.apply_delta(msg.bids, msg.asks) {
                self.resync(now_ns);
                return SyncOutcome::Book(e);
            }
            self.local = msg.seq_last;
            self.stale = false;
            return SyncOutcome::Applied;
        }
        if !self.rule.uses_rest() {
            return SyncOutcome::DroppedNotFull;
        }
        // Waiting for a snapshot: keep the buffer contiguous.
        let mut outcome = SyncOutcome::Buffered;
        if let Some(back) = self.buf.back() {
            if msg.seq_last <= back.seq_last {
                return SyncOutcome::DroppedStale;
            }
            if msg.seq_first > back.seq_last + 1 {
                // A gap inside the buffer: nothing before it can be bridged any more.
                outcome = SyncOutcome::Gap {
                    expected: back.seq_last + 1,
                    got: msg.seq_first,
                };
                self.buf.clear();
            }
        }
        if !self.buf.push(msg) {
            self.buf.clear();
            self.buf.push(msg);
            outcome = SyncOutcome::Overflow;
        }
        self.request(now_ns);
        outcome
    }

    fn on_full(&mut self, msg: &BookMsg<'_>, now_ns: u64) -> SyncOutcome {
        if self.live && msg.seq_last <= self.local {
            return SyncOutcome::DroppedStale;
        }
        if self.live && msg.seq_last - self.local > MAX_SEQ_JUMP {
            return self.implausible(msg.seq_last, now_ns);
        }
        self.buf.clear();
        // A pending request is moot; an in-flight snapshot will be ignored (book is live).
        if let Req::Pending { .. } = self.req {
            self.req = Req::None;
        }
        if let Req::InFlight(SyncRequest::Resubscribe) = self.req {
            self.req = Req::None;
        }
        if let Err(e) = self.book.apply_snapshot(msg.bids, msg.asks) {
            self.resync(now_ns);
            return SyncOutcome::Book(e);
        }
        self.live = true;
        self.stale = false;
        self.local = msg.seq_last;
        SyncOutcome::Replaced
    }

    /// Refuse an implausible sequence: clear, resync (a snapshot or resubscribe is requested).
    fn implausible(&mut self, got: u64, now_ns: u64) -> SyncOutcome {
        let local = self.local;
        self.resync(now_ns);
        SyncOutcome::Implausible { local, got }
    }

    /// A REST snapshot (`msg.seq_last` = Gate.io `id` / MEXC `lastUpdateId`).
    pub fn on_snapshot(&mut self, msg: &BookMsg<'_>, now_ns: u64) -> SyncOutcome {
        if !self.rule.uses_rest() {
            return SyncOutcome::Ignored;
        }
        if let Req::InFlight(SyncRequest::Snapshot) = self.req {
            self.req = Req::None;
        }
        if self.live {
            return SyncOutcome::Ignored;
        }
        self.last_input_ns = now_ns;
        let s = msg.seq_last;
        if s > MAX_SEQ {
            return self.implausible(s, now_ns);
        }
        while let Some(f) = self.buf.front() {
            if f.seq_last <= s {
                self.buf.pop_front();
            } else {
                break;
            }
        }
        if let Some(f) = self.buf.front() {
            if f.seq_first > s.saturating_add(1) {
                let first = f.seq_first;
                self.request(now_ns);
                return SyncOutcome::SnapshotBehind { snapshot: s, first };
            }
        }
        if let Err(e) = self.book.apply_snapshot(msg.bids, msg.asks) {
            self.resync(now_ns);
            return SyncOutcome::Book(e);
        }
        let mut local = s;
        for i in self.buf.head..self.buf.entries.len() {
            let b = self.buf.entries[i];
            debug_assert!(b.seq_first <= local + 1 && b.seq_last > local);
            let (bids, asks) = self.buf.sides(&b);
            if let Err(e) = self.book.apply_delta(bids, asks) {
                self.resync(now_ns);
                return SyncOutcome::Book(e);
            }
            local = b.seq_last;
        }
        self.buf.clear();
        self.local = local;
        self.live = true;
        self.stale = false;
        SyncOutcome::Replaced
    }

    /// The snapshot fetch failed (HTTP error, timeout, bad body): retry after the delay.
    pub fn on_snapshot_failed(&mut self, now_ns: u64) {
        if let Req::InFlight(SyncRequest::Snapshot) = self.req {
            self.req = Req::None;
        }
        if !self.live && self.rule.uses_rest() {
            if let Req::None = self.req {
                self.req = Req::Pending {
                    kind: SyncRequest::Snapshot,
                    not_before_ns: now_ns.saturating_add(self.retry_ns),
                };
            }
        }
    }

    /// The resubscribe (or other request) failed or timed out at the caller: ask again.
    pub fn on_request_failed(&mut self, now_ns: u64) {
        match self.req {
            Req::InFlight(SyncRequest::Snapshot) => self.on_snapshot_failed(now_ns),
            Req::InFlight(kind) => {
                self.req = Req::Pending {
                    kind,
                    not_before_ns: now_ns.saturating_add(self.retry_ns),
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_formula_matches_types() {
        assert_eq!(std::mem::size_of::<Buffered>(), 32);
        // Two i128s, no padding (issue 13: was 16 with i64 Px/Qty).
        assert_eq!(std::mem::size_of::<Level>(), 32);
        let c = SyncConfig::new(SyncRule::Mexc);
        assert_eq!(c.memory_bytes(), 2 * 5000 * 32 + 1024 * 32 + 16_384 * 32);
    }

    fn msg(full: bool, first: u64, last: u64, lv: &[Level]) -> BookMsg<'_> {
        BookMsg {
            symbol: "BTC_USDT",
            snapshot: full,
            seq_first: first,
            seq_last: last,
            bids: lv,
            asks: &[],
            ts_exchange_ms: None,
        }
    }

    /// Issue 13, finding 2: `obu` continuity is strict (`U == local + 1`). An overlapping push
    /// (`U <= local < u`) was applied before; it is a gap (resubscribe) now, while
    /// `order_book_update` still applies it and a wholly old push is still only stale.
    #[test]
    fn issue13_finding2_obu_continuity_is_strict() {
        // Empty pushes: continuity alone is under test (Gate sends empty ones too).
        let lv: [Level; 0] = [];
        for (rule, overlap_is_gap) in [(SyncRule::GateObu, true), (SyncRule::GateUpdate, false)] {
            let mut sb = SyncedBook::new(&SyncConfig::new(rule));
            assert_eq!(
                sb.on_delta(&msg(true, 10, 10, &lv), 1),
                SyncOutcome::Replaced
            );
            assert_eq!(
                sb.on_delta(&msg(false, 11, 12, &lv), 2),
                SyncOutcome::Applied
            );
            assert_eq!(
                sb.on_delta(&msg(false, 5, 12, &lv), 3),
                SyncOutcome::DroppedStale
            );
            let o = sb.on_delta(&msg(false, 12, 14, &lv), 4);
            if overlap_is_gap {
                assert_eq!(
                    o,
                    SyncOutcome::Gap {
                        expected: 13,
                        got: 12
                    }
                );
                assert_eq!(sb.take_request(4), Some(SyncRequest::Resubscribe));
            } else {
                assert_eq!(o, SyncOutcome::Applied);
                assert_eq!(sb.seq(), 14);
            }
        }
    }
}
