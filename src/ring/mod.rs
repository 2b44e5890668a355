//! Handoff from a feed thread to one strategy thread: an SPSC ring of [`Event`]s plus a pool of
//! top-N book slots with a recycle ring.
//!
//! # Contract
//!
//! * **Allocation.** [`channel`] allocates everything once: the event ring (rtrb's
//!   single-producer/single-consumer `RingBuffer`: exactly `capacity` slots of 192 B, the
//!   event itself, no stamp or padding, plus its header: the two cache-padded indices), the
//!   pool (`pool_size` [`TopBook`]s of `72 B + 2 × depth × 32 B`), the recycle ring (rtrb
//!   the other way: `pool_size × 4 B` + header), the producer's stack of free slots
//!   (`pool_size × 4 B`), its per-symbol
//!   conflation table (`max_symbols × 192 B`), its held statuses and their hand-over to the
//!   consumer (`2 × 8 × 192 B`) and the consumer's ownership table (`pool_size` B). Nothing
//!   allocates afterwards (`tests/no_alloc.rs`).
//! * **Never blocks, never waits.** Both sides only try, with no read-modify-write on the
//!   event path (each ring side stores its own index and re-reads the other side's only when
//!   the ring looks full/empty): the producer never spins on a full ring (exactly `capacity`
//!   events fit), the consumer's [`Consumer::try_recv`] returns `None` on empty.
//! * **Ring full.** Book updates are *conflated per symbol*: the update stays with the
//!   producer, a newer update for the same symbol overwrites it in place (latest wins), and
//!   every later push first retries the held updates. Every other event is *dropped and
//!   counted*; the consumer's next `try_recv` returns a synthesised [`Body::Missed`] with the
//!   number dropped since its last read, before any further event. A held book update keeps
//!   per-symbol order but may arrive after newer non-book events (each book event carries its
//!   own sequence and timestamps).
//! * **Statuses are never lost** (review finding 2). A connection/feed status (every
//!   [`StatusKind`] but the per-symbol `Book`, whose state also rides on the conflated book
//!   updates) that meets a full ring is *held* by the producer, one per kind (latest wins: a
//!   replaced one is counted as dropped, so `Missed` stays exact), in order of arrival, and
//!   delivered before any newer non-book event once there is room (a newer event meeting held
//!   statuses is dropped, or held if it is a status itself). If the producer goes away with
//!   statuses still held (a feed thread that died: `FeedDown`), they are left in the channel
//!   and the consumer receives them after the last event of the ring. Fixed storage, no
//!   allocation. `FeedDown` is the last event a consumer sees from its feed: the feed pushes it
//!   with [`Producer::push_last`] (book updates still held are superseded, not delivered after
//!   it), and a `Missed` for drops that became visible only as `FeedDown` was popped is
//!   reported before it.
//! * **Pool empty** (the consumer holds too many book slots): the update is dropped and
//!   counted like any other event. Size `pool_size >= capacity + max_symbols + held_by_consumer`.
//! * **Book slots.** A [`Body::Book`] event carries a [`BookHandle`]. The slot it names belongs
//!   to exactly one side at a time: the producer (on its stack of free slots, filled at
//!   creation and from the free ring, until it pushes the event), then the consumer (from
//!   `try_recv` until [`Consumer::release`]), then the free ring. The producer reuses the
//!   most recently released slot first (LIFO: its lines are likely still cached; a FIFO
//!   recycle walks the whole pool, every slot cold). Ownership moves between the threads
//!   only through the two queues, whose push/pop are release/acquire,
//!   so the writer's stores happen-before the reader's loads. The consumer tracks which
//!   handles it holds; [`Consumer::book`] returns `None` for a handle it does not hold (an
//!   event copied and used after `release`), so safe code cannot reach a slot the producer
//!   may be writing, and [`Producer::push`] refuses `Book` events, so a copied handle cannot be
//!   sent twice. A consumer that never releases drains the pool (then updates drop).
//!
//! ```
//! use cexfeed::book::Book;
//! use cexfeed::ring::{channel, Body, Header, Pushed, RingConfig};
//! use cexfeed::types::{now_ns, Market, SymbolId, Venue};
//!
//! let (mut tx, mut rx) = channel(&RingConfig::new(1024, 20, 16)); // at start-up
//! let book = Book::with_capacity(1000);
//! // Feed thread, after the book changed:
//! let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(0), now_ns());
//! h.seq = 42;
//! assert_eq!(tx.publish_book(h, &book), Pushed::Sent);
//! // Strategy thread:
//! while let Some(ev) = rx.try_recv() {
//!     match ev.body {
//!         Body::Book { .. } => {
//!             let top = rx.book(&ev).expect("held until released");
//!             assert_eq!(top.seq, 42);
//!             rx.release(&ev); // back to the pool
//!         }
//!         Body::Missed { count } => { /* `count` events lost: re-check state */ }
//!         _ => {}
//!     }
//! }
//! ```
//!
//! Rejected alternative: moving `Box<TopBook>` through the ring next to the event. It needs no
//! `unsafe`, but the ring element stops being the `Copy` 192-B record and grows to 256-B slots,
//! and the strategy can drop a box (the pool shrinks silently). The index protocol keeps the
//! record `Copy` and three cache lines and is checked at run time by the ownership table.
//!
//! Replaced: crossbeam's `ArrayQueue` (MPMC: a CAS and a per-slot stamp per operation, 192-B
//! slots) for both rings, then a hand-written SPSC ring, which rtrb matched (issue 14;
//! `queue.rs`). `benches/core.rs` `handoff_one_way_core0_core1` compares, in one run, the
//! cache-line floor, this channel, and the bare queues (`queue_arrayqueue`, `queue_rtrb`).
//! What the channel adds over its bare queue is mostly the `ts_ring_ns` stamp (one `now_ns()`,
//! about 17–22 ns on the 2-vCPU VM) per push.

mod doorbell;
mod event;
mod queue;
mod sync;

pub use doorbell::Doorbell;
pub use event::*;

use crate::book::Book;
use crate::event::Level;
use crate::types::{now_ns, BookState, SymbolId};
use queue::{spsc, SpscConsumer, SpscProducer};
use sync::{Arc, AtomicU64, Cell, Ordering};

/// Sizes of one feed → strategy channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingConfig {
    /// Event slots. Default 4096.
    pub capacity: usize,
    /// Levels per side in a [`TopBook`]. Default 20.
    pub top_n: usize,
    /// Pooled book slots. Default `capacity + max_symbols + 64`.
    pub pool_size: usize,
    /// Symbol ids `0..max_symbols` get a conflation slot. Default 256.
    pub max_symbols: usize,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig::new(4096, 20, 256)
    }
}

impl RingConfig {
    /// `capacity` events, top-`top_n` book slots, conflation for `max_symbols`; the pool sized so
    /// no update waits for a slot (`capacity + max_symbols + 64`).
    pub const fn new(capacity: usize, top_n: usize, max_symbols: usize) -> Self {
        RingConfig {
            capacity,
            top_n,
            pool_size: capacity + max_symbols + 64,
            max_symbols,
        }
    }

    /// Approximate bytes allocated by [`channel`]: event ring, pool, recycle ring (`u32`
    /// indices), conflation table, ownership table, and the two ring headers (512 B each).
    pub const fn memory_bytes(&self) -> usize {
        self.capacity * std::mem::size_of::<Event>()
            + self.pool_size
                * (std::mem::size_of::<TopBook>()
                    + 2 * self.top_n * std::mem::size_of::<Level>()
                    + 2 * std::mem::size_of::<u32>()
                    + 1)
            + self.max_symbols * std::mem::size_of::<Option<Event>>()
            + 2 * HELD_STATUSES * std::mem::size_of::<Event>()
            + 2 * 512
    }
}

/// Top-N view of one book, in a pooled slot. Written by the feed, read by the strategy.
#[derive(Debug)]
pub struct TopBook {
    /// The book's symbol.
    pub symbol: SymbolId,
    /// The book's sync state when the copy was taken.
    pub state: BookState,
    /// Book sequence of this view.
    pub seq: u64,
    /// Receive time of the frame that produced this view.
    pub ts_recv_ns: u64,
    /// The feed's book dropped far levels (top levels still exact).
    pub truncated: bool,
    n_bids: usize,
    n_asks: usize,
    bids: Box<[Level]>,
    asks: Box<[Level]>,
}

impl TopBook {
    /// Allocates `2 × depth` levels (once, at pool construction).
    pub fn new(depth: usize) -> Self {
        TopBook {
            symbol: SymbolId(0),
            state: BookState::Resyncing,
            seq: 0,
            ts_recv_ns: 0,
            truncated: false,
            n_bids: 0,
            n_asks: 0,
            bids: vec![Level::default(); depth].into_boxed_slice(),
            asks: vec![Level::default(); depth].into_boxed_slice(),
        }
    }

    /// Best bids, best first.
    pub fn bids(&self) -> &[Level] {
        &self.bids[..self.n_bids]
    }

    /// Best asks, best first.
    pub fn asks(&self) -> &[Level] {
        &self.asks[..self.n_asks]
    }

    /// Levels per side this slot holds at most.
    pub fn depth(&self) -> usize {
        self.bids.len()
    }

    /// Take the view a publisher wrote into shared memory (`ipc`): `ev`'s header and the given
    /// levels, cut to `depth()` (then `truncated`). No allocation.
    #[cfg(feature = "ipc")]
    pub(crate) fn fill_from_levels(
        &mut self,
        ev: &Event,
        bids: &[Level],
        asks: &[Level],
        cut: bool,
    ) {
        let d = self.bids.len();
        let nb = bids.len().min(d);
        let na = asks.len().min(d);
        self.bids[..nb].copy_from_slice(&bids[..nb]);
        self.asks[..na].copy_from_slice(&asks[..na]);
        self.n_bids = nb;
        self.n_asks = na;
        self.symbol = ev.header.symbol;
        self.state = ev.header.state;
        self.seq = ev.header.seq;
        self.ts_recv_ns = ev.header.ts_recv_ns;
        self.truncated = cut
            || nb < bids.len()
            || na < asks.len()
            || ev.header.flags & event::FLAG_BOOK_TRUNCATED != 0;
    }

    /// Copy the top `depth()` levels of `book`. No allocation.
    #[inline]
    pub fn fill_from(&mut self, book: &Book) {
        let d = self.bids.len();
        let (nb, na) = book.top_n(d, &mut self.bids, &mut self.asks);
        self.n_bids = nb;
        self.n_asks = na;
        self.truncated = book.is_truncated();
    }
}

#[repr(align(128))]
struct Padded<T>(T);

/// Statuses a producer holds at most: one per [`StatusKind`] (`Book` excluded).
const HELD_STATUSES: usize = 8;

/// Whether `ev` is a status the producer holds rather than drops on a full ring.
#[inline]
fn is_held_status(ev: &Event) -> bool {
    matches!(ev.body, Body::Status { kind, .. } if kind != StatusKind::Book)
}

struct Shared {
    slots: Box<[Cell<TopBook>]>,
    /// The statuses a dropped producer still held (its last will), written once by the
    /// producer's `Drop` before `will_len` is published (Release), read by the consumer after
    /// it loads `will_len` (Acquire) and only below it.
    will: [Cell<Event>; HELD_STATUSES],
    will_len: AtomicU64,
    /// Events dropped so far (written by the producer only; read by the consumer).
    dropped: Padded<AtomicU64>,
    /// Producer-side statistics (single writer: load + store, no RMW), on their own cache
    /// line so the consumer's loads of `free`/`slots` never share a line with them.
    stats: Padded<ProducerStats>,
}

#[derive(Default)]
struct ProducerStats {
    sent: AtomicU64,
    conflated: AtomicU64,
    pool_empty: AtomicU64,
}

// SAFETY: every field but `slots` is Sync. A slot is accessed only by the side that holds its
// index (producer: on its stack of free slots, filled at creation and from the free ring, or
// taken from it and not yet pushed in an event;
// consumer: received through the event ring, not yet pushed back to the free ring). The index
// moves between threads only through the two SPSC rings, whose push (Release store of the
// tail) / pop (Acquire load of the tail) order the previous owner's accesses before the next
// owner's, so no slot is ever accessed by two threads concurrently.
unsafe impl Sync for Shared {}

/// Counters of one channel (monotonic since creation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RingStats {
    /// Events pushed into the ring (book updates included).
    pub sent: u64,
    /// Events dropped (ring full, or pool empty for book updates): the consumer sees `Missed`.
    pub dropped: u64,
    /// Book updates overwritten by a newer one for the same symbol while the ring was full.
    pub conflated: u64,
    /// Book updates dropped because no pool slot was free (included in `dropped`).
    pub pool_empty: u64,
}

impl Shared {
    fn stats(&self) -> RingStats {
        RingStats {
            sent: self.stats.0.sent.load(Ordering::Relaxed),
            dropped: self.dropped.0.load(Ordering::Relaxed),
            conflated: self.stats.0.conflated.load(Ordering::Relaxed),
            pool_empty: self.stats.0.pool_empty.load(Ordering::Relaxed),
        }
    }
}

/// Create a channel. All memory is allocated here ([`RingConfig::memory_bytes`]).
pub fn channel(cfg: &RingConfig) -> (Producer, Consumer) {
    let capacity = cfg.capacity.max(1);
    let pool = cfg.pool_size.max(1);
    assert!(pool <= u32::MAX as usize, "pool too large");
    assert!(cfg.top_n <= u16::MAX as usize, "book depth too large");
    let (free_tx, free_rx) = spsc(pool);
    // Every slot starts with the producer (its stack, top = slot 0); the free ring carries
    // only what the consumer releases.
    let mut stack = Vec::with_capacity(pool);
    stack.extend((0..pool as u32).rev());
    let (queue_tx, queue_rx) = spsc(capacity);
    let slots = (0..pool)
        .map(|_| Cell::new(TopBook::new(cfg.top_n.max(1))))
        .collect();
    let blank = Event::new(
        Header::new(
            crate::types::Venue::Mexc,
            crate::types::Market::Spot,
            NO_SYMBOL,
            0,
        ),
        Body::Missed { count: 0 },
    );
    let shared = Arc::new(Shared {
        slots,
        will: std::array::from_fn(|_| Cell::new(blank)),
        will_len: AtomicU64::new(0),
        dropped: Padded(AtomicU64::new(0)),
        stats: Padded(ProducerStats::default()),
    });
    let producer = Producer {
        shared: shared.clone(),
        queue: queue_tx,
        free: free_rx,
        stack,
        pending: vec![None; cfg.max_symbols].into_boxed_slice(),
        n_pending: 0,
        statuses: Box::new([blank; HELD_STATUSES]),
        n_statuses: 0,
        dropped: 0,
        sent: 0,
        conflated: 0,
        pool_empty: 0,
        bell: None,
        rang: false,
        stamp_ns: 0,
    };
    let consumer = Consumer {
        shared,
        queue: queue_rx,
        free: free_tx,
        held: vec![false; pool].into_boxed_slice(),
        seen_dropped: 0,
        will_taken: 0,
        last: None,
    };
    (producer, consumer)
}

/// What happened to a pushed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// In the ring.
    Sent,
    /// Book update or status held by the producer (ring full); retried on every later push.
    Held,
    /// Book update replaced an older held one for the same symbol (ring still full).
    Conflated,
    /// Dropped and counted; the consumer will see `Missed`.
    Dropped,
    /// Not pushable through `push` (a `Book` or `Missed` event): a caller bug, nothing sent.
    Rejected,
}

/// Feed side. `Send`, not `Clone`: exactly one producer.
pub struct Producer {
    shared: Arc<Shared>,
    /// Writing end of the event ring.
    queue: SpscProducer<Event>,
    /// Reading end of the recycle ring (slots released by the consumer).
    free: SpscConsumer<u32>,
    /// Free slots the producer holds, most recently released on top (capacity `pool_size`,
    /// never grows: each index is in at most one place). Taking the top reuses the slot whose
    /// lines are most likely still cached instead of the least recently used one, which with
    /// the default pool (`ring_capacity + MAX_SYMBOLS + 64` slots, ~88 MB at 64 Ki events and
    /// top 20) is always a cold one (issue 14, tuning.md §8).
    stack: Vec<u32>,
    /// Per symbol: a book event (its slot owned by the producer) waiting for ring space.
    pending: Box<[Option<Event>]>,
    n_pending: usize,
    /// Statuses waiting for ring space, oldest first (`statuses[..n_statuses]`), one per kind.
    statuses: Box<[Event; HELD_STATUSES]>,
    n_statuses: usize,
    dropped: u64,
    sent: u64,
    conflated: u64,
    pool_empty: u64,
    /// The consumer's bell (blocking receive), rung by [`notify`](Self::notify).
    bell: Option<std::sync::Arc<Doorbell>>,
    /// Something became visible to the consumer since the last `notify`.
    rang: bool,
    /// The `ts_ring_ns` of the last push attempt (see [`Producer::last_stamp_ns`]).
    stamp_ns: u64,
}

impl Producer {
    /// Ring `bell` from [`notify`](Self::notify) (set once, before the producer goes to its
    /// feed thread): the consumer can then park instead of polling.
    pub fn set_doorbell(&mut self, bell: std::sync::Arc<Doorbell>) {
        self.bell = Some(bell);
    }

    /// Wake the consumer if anything was pushed or dropped since the last call and it is
    /// parked. Called once per feed-loop turn: one fence and one load when something was
    /// pushed, a system call only when the consumer sleeps. (Each push already wakes a
    /// consumer it sees parked, without the fence; this closes the race that can miss.)
    #[inline]
    pub fn notify(&mut self) {
        if !std::mem::take(&mut self.rang) {
            return;
        }
        if let Some(b) = &self.bell {
            b.ring();
        }
    }

    fn count_drop(&mut self) -> Pushed {
        self.rang = true;
        self.dropped += 1;
        self.shared.dropped.0.store(self.dropped, Ordering::Release);
        Pushed::Dropped
    }

    fn count_sent(&mut self) {
        self.sent += 1;
        self.shared.stats.0.sent.store(self.sent, Ordering::Relaxed);
    }

    /// The rejected event comes back (like `SpscProducer::push`), hence the large `Err`.
    #[allow(clippy::result_large_err)]
    #[inline]
    fn try_push(&mut self, mut ev: Event) -> Result<(), Event> {
        let t = now_ns();
        self.stamp_ns = t;
        ev.header.ts_ring_ns = t;
        self.queue.push(ev)?;
        self.rang = true;
        if let Some(b) = &self.bell {
            b.peek_ring();
        }
        self.count_sent();
        Ok(())
    }

    /// Retry the held statuses (oldest first), then the held book updates (symbol order).
    /// Called by every push; call it from the feed loop when idle too so held updates do not
    /// wait for the next event.
    #[inline]
    pub fn flush(&mut self) {
        if self.n_statuses != 0 {
            self.flush_statuses();
        }
        if self.n_pending == 0 {
            return;
        }
        for i in 0..self.pending.len() {
            if let Some(ev) = self.pending[i] {
                if self.try_push(ev).is_err() {
                    return;
                }
                self.pending[i] = None;
                self.n_pending -= 1;
                if self.n_pending == 0 {
                    return;
                }
            }
        }
    }

    /// Deliver held statuses, oldest first, while the ring takes them (cold: the ring was full).
    #[cold]
    fn flush_statuses(&mut self) {
        let mut sent = 0;
        while sent < self.n_statuses && self.try_push(self.statuses[sent]).is_ok() {
            sent += 1;
        }
        self.statuses.copy_within(sent..self.n_statuses, 0);
        self.n_statuses -= sent;
    }

    /// Hold a status that met a full ring: a held one of the same kind is replaced (counted
    /// as dropped, so the consumer sees `Missed`), and the new one goes last.
    #[cold]
    fn hold_status(&mut self, ev: Event) -> Pushed {
        let kind = |e: &Event| match e.body {
            Body::Status { kind, .. } => Some(kind),
            _ => None,
        };
        let k = kind(&ev);
        let mut replaced = false;
        if let Some(i) = self.statuses[..self.n_statuses]
            .iter()
            .position(|h| kind(h) == k)
        {
            self.statuses.copy_within(i + 1..self.n_statuses, i);
            self.n_statuses -= 1;
            replaced = true;
        }
        // Cannot overflow: one per kind, `HELD_STATUSES` kinds.
        if self.n_statuses < HELD_STATUSES {
            self.statuses[self.n_statuses] = ev;
            self.n_statuses += 1;
        }
        if replaced {
            self.count_drop();
        }
        Pushed::Held
    }

    /// Push a non-book event; dropped and counted if the ring is full (a status is held
    /// instead, see the module docs). Stamps `ts_ring_ns`.
    /// `Book` and `Missed` events are refused ([`Pushed::Rejected`]): book events only come
    /// from [`publish_book`](Self::publish_book) (a copied handle would break slot ownership),
    /// `Missed` only from the consumer.
    #[inline]
    pub fn push(&mut self, ev: Event) -> Pushed {
        if matches!(ev.body, Body::Book { .. } | Body::Missed { .. }) {
            return Pushed::Rejected;
        }
        self.flush();
        // Held statuses go first: nothing newer overtakes them.
        let ev = if self.n_statuses == 0 {
            match self.try_push(ev) {
                Ok(()) => return Pushed::Sent,
                Err(ev) => ev,
            }
        } else {
            ev
        };
        if is_held_status(&ev) {
            return self.hold_status(ev);
        }
        self.count_drop()
    }

    /// Publish the top-N view of `book` for `header.symbol` (with `header.seq`/`state` set by
    /// the caller) through a pooled slot. Conflated per symbol when the ring is full.
    #[inline]
    pub fn publish_book(&mut self, header: Header, book: &Book) -> Pushed {
        self.flush();
        let sym = header.symbol.0 as usize;
        if sym < self.pending.len() {
            if let Some(held) = self.pending[sym] {
                // Latest wins: rewrite the held slot in place, then try again.
                let Body::Book { handle, .. } = held.body else {
                    unreachable!("only book events are held")
                };
                let ev = self.write_slot(handle, header, book);
                self.conflated += 1;
                let c = self.conflated;
                self.shared.stats.0.conflated.store(c, Ordering::Relaxed);
                return match self.try_push(ev) {
                    Ok(()) => {
                        self.pending[sym] = None;
                        self.n_pending -= 1;
                        Pushed::Sent
                    }
                    Err(ev) => {
                        self.pending[sym] = Some(ev);
                        Pushed::Conflated
                    }
                };
            }
        }
        let Some(h) = self.take_slot() else {
            self.pool_empty += 1;
            let n = self.pool_empty;
            self.shared.stats.0.pool_empty.store(n, Ordering::Relaxed);
            return self.count_drop();
        };
        let handle = BookHandle(h);
        let ev = self.write_slot(handle, header, book);
        match self.try_push(ev) {
            Ok(()) => Pushed::Sent,
            Err(ev) if sym < self.pending.len() => {
                self.pending[sym] = Some(ev);
                self.n_pending += 1;
                Pushed::Held
            }
            Err(_) => {
                // No conflation slot for this symbol: keep the slot for the next update
                // (the free ring's writing end is the consumer's), drop this one.
                self.stack.push(h);
                self.count_drop()
            }
        }
    }

    /// Push the producer's last event (a feed thread's `FeedDown`), so that nothing follows it:
    /// held book updates are first retried, and those the ring still cannot take are
    /// superseded (their slots go back to the pool, counted as conflated: the last event
    /// says every book of the feed is dead). Then `ev` is pushed like [`push`](Self::push)
    /// (held if the ring is full, left to the consumer if the producer goes away first).
    /// Without this, a book update held before `ev` was delivered after it on the next flush
    /// (statuses go first) when the consumer drained in between.
    pub fn push_last(&mut self, ev: Event) -> Pushed {
        self.flush();
        if self.n_pending != 0 {
            for i in 0..self.pending.len() {
                if let Some(held) = self.pending[i].take() {
                    if let Body::Book { handle, .. } = held.body {
                        self.stack.push(handle.0);
                    }
                    self.conflated += 1;
                }
            }
            self.n_pending = 0;
            let c = self.conflated;
            self.shared.stats.0.conflated.store(c, Ordering::Relaxed);
        }
        self.push(ev)
    }

    /// A free slot, or `None` when the pool is empty. Slots the consumer released since the
    /// last call go onto the producer's stack first (oldest first, so the most recently
    /// released ends on top), then the top is taken.
    #[inline]
    fn take_slot(&mut self) -> Option<u32> {
        while let Some(h) = self.free.pop() {
            // Cannot exceed the capacity: every index is in one place at a time.
            debug_assert!(self.stack.len() < self.stack.capacity());
            self.stack.push(h);
        }
        self.stack.pop()
    }

    /// Fill the slot `handle` (owned by the producer) and build its event.
    #[inline]
    fn write_slot(&mut self, handle: BookHandle, mut header: Header, book: &Book) -> Event {
        // SAFETY: the producer holds `handle`: it was taken from its stack (filled from `free`
        // or at creation) or is held in `pending`, both of which only the producer touches, and no event carrying it is in the ring,
        // so neither the consumer nor the free list can reach this slot (see `Shared`).
        let slot = unsafe { self.shared.slots[handle.index()].get_mut() };
        slot.fill_from(book);
        slot.symbol = header.symbol;
        slot.state = header.state;
        slot.seq = header.seq;
        slot.ts_recv_ns = header.ts_recv_ns;
        if slot.truncated {
            header.flags |= FLAG_BOOK_TRUNCATED;
        }
        Event::new(
            header,
            Body::Book {
                handle,
                n_bids: slot.n_bids as u16,
                n_asks: slot.n_asks as u16,
            },
        )
    }

    /// The `ts_ring_ns` stamped on the last event this producer tried to push (`now_ns`
    /// clock): after a [`Pushed::Sent`], the instant the event entered the ring, so the feed
    /// records its wire-to-ring time without reading the clock again.
    #[inline]
    pub fn last_stamp_ns(&self) -> u64 {
        self.stamp_ns
    }

    /// Book updates and statuses currently held back by a full ring.
    pub fn held(&self) -> usize {
        self.n_pending + self.n_statuses
    }

    /// Nothing held back and at least `n` free event slots (replay uses it to wait for the
    /// consumer instead of dropping: a replay is lossless). `n` is capped at half the ring.
    #[inline]
    pub fn has_room(&mut self, n: usize) -> bool {
        let n = n.min(self.queue.capacity() / 2).max(1);
        self.n_pending == 0 && self.n_statuses == 0 && self.queue.has_room(n)
    }

    /// Sent, dropped, conflated and pool-empty counts so far (relaxed).
    pub fn stats(&self) -> RingStats {
        self.shared.stats()
    }
}

impl Drop for Producer {
    /// Statuses still held (the ring stayed full to the end: a feed thread that died with a
    /// slow consumer) are left in the channel for the consumer: its last will. A parked
    /// consumer is woken either way (its `ready` counts the will).
    fn drop(&mut self) {
        self.flush();
        if self.n_statuses > 0 {
            for (i, ev) in self.statuses[..self.n_statuses].iter().enumerate() {
                let mut ev = *ev;
                ev.header.ts_ring_ns = now_ns();
                // SAFETY: `will` is written only here, once (the producer is going away),
                // before `will_len` publishes it; the consumer reads only below `will_len`.
                unsafe { *self.shared.will[i].get_mut() = ev };
            }
            self.shared
                .will_len
                .store(self.n_statuses as u64, Ordering::Release);
            self.n_statuses = 0;
        }
        if let Some(b) = &self.bell {
            b.ring();
        }
    }
}

/// The `Missed` event a consumer synthesizes for `count` events dropped since its last read.
fn missed(count: u64) -> Event {
    let mut h = Header::new(
        crate::types::Venue::Mexc,
        crate::types::Market::Spot,
        NO_SYMBOL,
        0,
    );
    h.ts_ring_ns = now_ns();
    Event::new(h, Body::Missed { count })
}

/// Strategy side. `Send`, not `Clone`: exactly one consumer.
pub struct Consumer {
    shared: Arc<Shared>,
    /// Reading end of the event ring.
    queue: SpscConsumer<Event>,
    /// Writing end of the recycle ring.
    free: SpscProducer<u32>,
    /// `held[i]`: this consumer received slot `i` and has not released it.
    held: Box<[bool]>,
    seen_dropped: u64,
    /// Statuses of the producer's last will delivered so far.
    will_taken: u64,
    /// A `FeedDown` held back one call so that a `Missed` for drops made before it (seen only
    /// after the pop) comes first: the feed's last event stays last.
    last: Option<Event>,
}

impl Consumer {
    /// Next event, or `None` if the ring is empty. Never blocks the producer. If events were
    /// dropped since the last call, returns `Missed { count }` first.
    #[inline]
    pub fn try_recv(&mut self) -> Option<Event> {
        let d = self.shared.dropped.0.load(Ordering::Acquire);
        if d != self.seen_dropped {
            let count = d - self.seen_dropped;
            self.seen_dropped = d;
            return Some(missed(count));
        }
        if self.last.is_some() {
            return self.last.take();
        }
        let Some(ev) = self.queue.pop() else {
            return self.take_will().map(|ev| self.after_missed(ev));
        };
        match ev.body {
            Body::Book { handle, .. } => {
                let held = &mut self.held[handle.index()];
                debug_assert!(!*held, "a handle was sent twice without release");
                *held = true;
            }
            Body::Status {
                kind: StatusKind::FeedDown,
                ..
            } => return Some(self.after_missed(ev)),
            _ => {}
        }
        Some(ev)
    }

    /// `ev` is a feed's last event (`FeedDown`): events the producer dropped before pushing it
    /// may have become visible only after this call's first look at the drop count. Report
    /// them first (`Missed`) and hand `ev` out on the next call, so nothing follows it (cold).
    #[cold]
    fn after_missed(&mut self, ev: Event) -> Event {
        let d = self.shared.dropped.0.load(Ordering::Acquire);
        if d == self.seen_dropped {
            return ev;
        }
        let count = d - self.seen_dropped;
        self.seen_dropped = d;
        self.last = Some(ev);
        missed(count)
    }

    /// Whether [`try_recv`](Self::try_recv) would return an event (one in the ring, a
    /// `Missed` to report, or statuses a dropped producer left). Reads only; for a
    /// [`Doorbell`] park's re-check.
    #[inline]
    pub fn ready(&self) -> bool {
        self.last.is_some()
            || self.shared.dropped.0.load(Ordering::Acquire) != self.seen_dropped
            || !self.queue.is_empty()
            || self.shared.will_len.load(Ordering::Acquire) > self.will_taken
    }

    /// The ring is empty: the statuses a dropped producer left (cold; one Acquire load).
    #[inline]
    fn take_will(&mut self) -> Option<Event> {
        let n = self.shared.will_len.load(Ordering::Acquire);
        if self.will_taken >= n {
            return None;
        }
        let i = self.will_taken as usize;
        self.will_taken += 1;
        // SAFETY: `i < will_len`, published with Release after the cell was written, and the
        // producer (gone) never writes it again.
        Some(unsafe { *self.shared.will[i].get_ref() })
    }

    /// Drain up to `max` events into `f`; returns how many were handled.
    #[inline]
    pub fn poll(&mut self, max: usize, mut f: impl FnMut(&mut Self, Event)) -> usize {
        let mut n = 0;
        while n < max {
            match self.try_recv() {
                Some(ev) => {
                    f(self, ev);
                    n += 1;
                }
                None => break,
            }
        }
        n
    }

    /// The top-N book of a `Book` event this consumer received and has not released yet.
    #[inline]
    pub fn book(&self, ev: &Event) -> Option<&TopBook> {
        let Body::Book { handle, .. } = ev.body else {
            return None;
        };
        if !*self.held.get(handle.index())? {
            return None;
        }
        // SAFETY: `held` is set only in `try_recv` for a handle the producer pushed (giving it
        // up) and cleared in `release` (which needs `&mut self`, so not while this borrow
        // lives) just before the handle goes back to `free`. While held, only this consumer
        // can reach the slot, and the queue pop made the producer's writes visible.
        Some(unsafe { self.shared.slots[handle.index()].get_ref() })
    }

    /// Give the book slot of `ev` back to the pool (the recycle ring). Returns false for
    /// non-book events and for handles not held (released twice).
    #[inline]
    pub fn release(&mut self, ev: &Event) -> bool {
        let Body::Book { handle, .. } = ev.body else {
            return false;
        };
        match self.held.get_mut(handle.index()) {
            Some(h) if *h => {
                *h = false;
                // Cannot fail: the free ring holds every slot index at most once.
                let pushed = self.free.push(handle.0).is_ok();
                debug_assert!(pushed);
                true
            }
            _ => false,
        }
    }

    /// Book slots currently held by this consumer.
    pub fn held(&self) -> usize {
        self.held.iter().filter(|h| **h).count()
    }

    /// Sent, dropped, conflated and pool-empty counts so far (relaxed).
    pub fn stats(&self) -> RingStats {
        self.shared.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Level, OrderMsg};
    use crate::types::{Dec, Market, Px, Qty, Side, Venue};

    fn hdr(sym: u16, seq: u64) -> Header {
        let mut h = Header::new(Venue::Gateio, Market::Spot, SymbolId(sym), 1);
        h.seq = seq;
        h
    }

    fn book_with(px: i128) -> Book {
        let mut b = Book::with_capacity(50);
        b.apply_snapshot(
            &[Level::new(Px(px), Qty(1)), Level::new(Px(px - 1), Qty(2))],
            &[Level::new(Px(px + 1), Qty(3))],
        )
        .unwrap();
        b
    }

    #[test]
    fn layout_is_three_cache_lines() {
        assert_eq!(std::mem::size_of::<Event>(), 192);
        assert_eq!(std::mem::align_of::<Event>(), 64);
        assert_eq!(std::mem::size_of::<Header>(), 40);
        assert_eq!(std::mem::offset_of!(Event, body), 48);
        assert_eq!(std::mem::offset_of!(Header, seq), 8);
        assert_eq!(std::mem::offset_of!(Header, ts_ring_ns), 32);
        // Memory formula inputs (module docs).
        assert_eq!(std::mem::size_of::<Option<Event>>(), 192);
        assert_eq!(std::mem::size_of::<Level>(), 32);
        let cfg = RingConfig::new(1024, 20, 16);
        assert_eq!(
            cfg.memory_bytes(),
            1024 * 192
                + (1024 + 16 + 64) * (72 + 2 * 20 * 32 + 4 + 4 + 1)
                + 16 * 192
                + 2 * 8 * 192
                + 1024
        );
        assert_eq!(std::mem::size_of::<TopBook>(), 72);
    }

    #[test]
    fn inline_text_is_cut_at_char_boundary_and_flagged() {
        let (s, cut) = InlineStr::<4>::new("abcdef");
        assert!(cut);
        assert_eq!(s.as_str(), "abcd");
        let (s, cut) = InlineStr::<4>::new("abé");
        assert!(!cut);
        assert_eq!(s.as_str(), "abé");
        let (s, cut) = InlineStr::<3>::new("abé");
        assert!(cut);
        assert_eq!(s.as_str(), "ab");
        let m = OrderMsg {
            symbol: "BTC_USDT",
            order_id: crate::event::IdRef::Num(12345678901234),
            client_id: Some("t-0123456789012345678901234567890123"),
            side: Side::Buy,
            order_type: crate::event::OrderType::Limit,
            px: Px::from_int(1),
            qty: Qty::from_int(2),
            filled: Qty::from_int(1),
            remaining: Qty::from_int(1),
            avg_px: Dec::from_int(1),
            status: crate::event::OrderStatus::PartiallyFilled,
            ts_create_ms: Some(5),
            ts_update_ms: Some(6),
        };
        let ev = Event::order(hdr(0, 0), &m);
        assert_eq!(ev.header.flags & FLAG_TRUNCATED_TEXT, FLAG_TRUNCATED_TEXT);
        assert_eq!(ev.header.ts_exchange_ms, 6);
        let Body::Order {
            order_id,
            client_id,
            ..
        } = ev.body
        else {
            panic!()
        };
        assert_eq!(order_id.as_str(), "12345678901234");
        assert_eq!(client_id.as_str(), "t-012345678901234567890123456789");
    }

    fn d(s: &str) -> Dec {
        Dec::parse_signed(s.as_bytes()).unwrap()
    }

    #[test]
    fn ring_dec_round_trips_every_width_boundary() {
        for v in [
            d("0"),
            d("-1"),
            d("0.0003998377369698171"),
            d("-0.000002074115"),
            Dec::from_parts(i128::MAX, 38).unwrap(),
            Dec::from_parts(-i128::MAX, 0).unwrap(),
        ] {
            assert_eq!(RingDec::<16>::from(v).get(), v);
        }
        assert_eq!(RingDec::<8>::new(d("10")).unwrap().get(), d("10"));
        assert_eq!(RingDec::<8>::new(d("-12.5")).unwrap().get(), d("-12.5"));
        let m = Dec::from_parts(i64::MAX as i128, 0).unwrap();
        assert_eq!(RingDec::<8>::new(m).unwrap().get(), m);
        let m = Dec::from_parts(i64::MIN as i128, 0).unwrap();
        assert_eq!(RingDec::<8>::new(m).unwrap().get(), m);
        assert!(RingDec::<8>::new(Dec::from_parts(i64::MAX as i128 + 1, 0).unwrap()).is_none());
        assert!(RingDec::<8>::new(Dec::from_parts(i64::MIN as i128 - 1, 0).unwrap()).is_none());
        assert_eq!(std::mem::size_of::<RingDec<16>>(), 17);
        assert_eq!(std::mem::align_of::<RingDec<16>>(), 1);
    }

    #[test]
    fn trade_id_hash_tells_string_ids_apart() {
        let ev = |id| {
            let m = crate::event::TradeMsg {
                symbol: "BTCUSDT",
                px: Px::from_int(1),
                qty: Qty::from_int(1),
                side: Side::Buy,
                trade_id: id,
                ts_exchange_ms: Some(1),
            };
            match Event::trade(hdr(0, 0), &m).body {
                Body::Trade {
                    trade_id, id_hash, ..
                } => (trade_id, id_hash),
                _ => panic!(),
            }
        };
        use crate::event::IdRef;
        let (a, b) = (
            ev(IdRef::Str("700000000000000009X0_700000000000000010X0")),
            ev(IdRef::Str("700000000000000011X0_700000000000000012X0")),
        );
        // Same price, size, side and millisecond: only the id tells these trades apart.
        assert_eq!((a.0, b.0), (0, 0));
        assert_ne!(a.1, b.1);
        assert_eq!(
            a,
            ev(IdRef::Str("700000000000000009X0_700000000000000010X0"))
        );
        assert_eq!(ev(IdRef::Num(42)), (42, 42));
        assert_eq!(ev(IdRef::Str("42")), (42, 42));
        assert_eq!(ev(IdRef::Str("")), (0, 0));
    }

    #[test]
    fn account_values_cross_the_ring_exactly() {
        let fill = crate::event::FillMsg {
            symbol: "BTCUSDT",
            trade_id: crate::event::IdRef::Str("505979017439002624X1"),
            order_id: crate::event::IdRef::Str("C02__505979017439002624115"),
            client_id: None,
            px: Px::from_int(1),
            qty: Qty::from_int(1),
            side: Side::Sell,
            liquidity: crate::event::Liquidity::Taker,
            fee: d("0.0003998377369698171"),
            fee_currency: Some("USDT"),
            ts_exchange_ms: Some(1),
        };
        let ev = Event::fill(hdr(0, 0), &fill);
        assert_eq!(ev.header.flags, 0);
        let Body::Fill {
            fee,
            trade_id,
            order_id,
            fee_currency,
            ..
        } = ev.body
        else {
            panic!()
        };
        assert_eq!(fee.get().to_string(), "0.0003998377369698171");
        assert_eq!(trade_id.as_str(), "505979017439002624X1");
        assert_eq!(order_id.as_str(), "C02__505979017439002624115");
        assert_eq!(fee_currency.as_str(), "USDT");

        let bal = crate::event::BalanceMsg {
            asset: "USDT",
            available: d("21.94210356004384"),
            locked: d("0"),
            total: Some(d("21.94210356004384")),
            change: Some(d("-0.000002074115")),
            reason: Some("ENTRUST"),
            ts_exchange_ms: None,
        };
        let ev = Event::balance(hdr(0, 0), &bal);
        let Body::Balance {
            present,
            available,
            total,
            change,
            ..
        } = ev.body
        else {
            panic!()
        };
        assert_eq!(present, BAL_TOTAL | BAL_CHANGE);
        assert_eq!(available.get(), d("21.94210356004384"));
        assert_eq!(total.get(), d("21.94210356004384"));
        assert_eq!(change.get(), d("-0.000002074115"));

        let mut pos = crate::event::PositionMsg {
            contract: "BTC_USDT",
            size: Qty::from_int(-10),
            entry_px: d("40000.36666661111"),
            leverage: d("10"),
            margin: d("49.999890611186"),
            liq_px: d("0"),
            realised_pnl: d("-0.000002074115"),
            ts_exchange_ms: None,
        };
        let ev = Event::position(hdr(0, 0), &pos);
        assert_eq!(ev.header.flags & FLAG_VALUE_DROPPED, 0);
        let Body::Position {
            entry_px,
            leverage,
            margin,
            realised_pnl,
            ..
        } = ev.body
        else {
            panic!()
        };
        assert_eq!(entry_px.get(), d("40000.36666661111"));
        assert_eq!(leverage.get(), d("10"));
        assert_eq!(margin.get(), d("49.999890611186"));
        assert_eq!(realised_pnl.get(), d("-0.000002074115"));
        pos.leverage = d("1e30");
        let ev = Event::position(hdr(0, 0), &pos);
        assert_eq!(ev.header.flags & FLAG_VALUE_DROPPED, FLAG_VALUE_DROPPED);
    }

    /// Issue 17: a candle crosses the ring exactly, largest values included, in the unchanged
    /// 192-byte record.
    #[test]
    fn issue17_kline_event_is_exact_and_fits_the_record() {
        use crate::types::Interval;
        assert_eq!(std::mem::size_of::<Event>(), 192);
        let big = Px(i128::MAX);
        let m = crate::event::KlineMsg {
            symbol: "BTCUSDT",
            interval: Interval::Mo1,
            open_time_ms: 1_790_281_200_000,
            open: Px::parse(b"84300.14").unwrap(),
            high: big,
            low: Px::parse(b"0.0000000000000001").unwrap(),
            close: Px::parse(b"84270").unwrap(),
            volume: Qty(i128::MAX),
            quote_volume: Some(Qty::parse(b"239393.69").unwrap()),
            base_volume: None,
            closed: true,
            ts_exchange_ms: Some(7),
        };
        let ev = Event::kline(hdr(0, 0), &m);
        assert_eq!(ev.kind(), Kind::Kline);
        assert_eq!(ev.header.ts_exchange_ms, 7);
        let Body::Kline {
            interval,
            closed,
            present,
            open_time_ms,
            open,
            high,
            low,
            close,
            volume,
            quote_volume,
            base_volume,
        } = ev.body
        else {
            panic!()
        };
        assert_eq!(
            (interval, closed, present),
            (Interval::Mo1, true, KLINE_QUOTE_VOLUME)
        );
        assert_eq!(open_time_ms, 1_790_281_200_000);
        assert_eq!((open, high, low, close), (m.open, big, m.low, m.close));
        assert_eq!(
            (volume, quote_volume, base_volume),
            (Qty(i128::MAX), m.quote_volume.unwrap(), Qty::ZERO)
        );
    }

    #[test]
    fn book_handoff_and_recycle() {
        let cfg = RingConfig {
            capacity: 4,
            top_n: 5,
            pool_size: 8,
            max_symbols: 4,
        };
        let (mut p, mut c) = channel(&cfg);
        assert_eq!(p.publish_book(hdr(1, 7), &book_with(100)), Pushed::Sent);
        let ev = c.try_recv().unwrap();
        assert!(ev.header.ts_ring_ns >= ev.header.ts_recv_ns);
        let tb = c.book(&ev).unwrap();
        assert_eq!(tb.seq, 7);
        assert_eq!(
            tb.bids(),
            &[Level::new(Px(100), Qty(1)), Level::new(Px(99), Qty(2))]
        );
        assert_eq!(tb.asks(), &[Level::new(Px(101), Qty(3))]);
        assert_eq!(c.held(), 1);
        assert!(c.release(&ev));
        assert!(!c.release(&ev), "double release refused");
        assert!(c.book(&ev).is_none(), "released slot unreachable");
        assert_eq!(c.try_recv(), None);
    }

    #[test]
    fn stalled_consumer_conflates_books_and_counts_dropped() {
        let cfg = RingConfig {
            capacity: 2,
            top_n: 5,
            pool_size: 16,
            max_symbols: 4,
        };
        let (mut p, mut c) = channel(&cfg);
        // A book's state change: dropped like any event (feed statuses are held, see
        // `finding2_*`).
        let t = Event::status(hdr(0, 0), StatusKind::Book, 1, 0);
        assert_eq!(p.push(t), Pushed::Sent);
        assert_eq!(p.push(t), Pushed::Sent);
        // Ring full now.
        assert_eq!(p.push(t), Pushed::Dropped);
        assert_eq!(p.push(t), Pushed::Dropped);
        assert_eq!(p.publish_book(hdr(1, 10), &book_with(100)), Pushed::Held);
        assert_eq!(
            p.publish_book(hdr(1, 11), &book_with(200)),
            Pushed::Conflated
        );
        assert_eq!(p.publish_book(hdr(2, 5), &book_with(300)), Pushed::Held);
        assert_eq!(p.held(), 2);
        let s = p.stats();
        assert_eq!((s.sent, s.dropped, s.conflated), (2, 2, 1));
        // Consumer wakes: first the Missed count, then the two status events.
        let m = c.try_recv().unwrap();
        assert_eq!(m.body, Body::Missed { count: 2 });
        assert_eq!(c.try_recv().unwrap().kind(), Kind::Status);
        assert_eq!(c.try_recv().unwrap().kind(), Kind::Status);
        assert_eq!(c.try_recv(), None);
        // The producer retries on its next push: latest book for symbol 1, then symbol 2.
        p.flush();
        assert_eq!(p.held(), 0);
        let b1 = c.try_recv().unwrap();
        let b2 = c.try_recv().unwrap();
        assert_eq!(b1.header.seq, 11);
        assert_eq!(c.book(&b1).unwrap().bids()[0].px, Px(200));
        assert_eq!(b2.header.symbol, SymbolId(2));
        assert_eq!(c.book(&b2).unwrap().seq, 5);
        c.release(&b1);
        c.release(&b2);
        // Nothing leaked from the pool: 16 slots free again (released, or never taken).
        assert_eq!(c.free.len() + p.stack.len(), 16);
    }

    fn status_kind(ev: &Event) -> Option<StatusKind> {
        match ev.body {
            Body::Status { kind, .. } => Some(kind),
            _ => None,
        }
    }

    /// Review finding 2: a feed status pushed into a full ring was dropped like any event, so
    /// a slow strategy might never learn its feed died. Now it is held (one per kind, latest
    /// wins, a replaced one counted in `Missed`) and delivered before newer events.
    #[test]
    fn finding2_status_meeting_a_full_ring_is_held_and_delivered_first() {
        let (mut p, mut c) = channel(&RingConfig::new(2, 5, 4));
        let filler = Event::status(hdr(0, 0), StatusKind::Book, 1, 0);
        assert_eq!(p.push(filler), Pushed::Sent);
        assert_eq!(p.push(filler), Pushed::Sent);
        // Full: ConnDown, ConnUp, ConnDown again (replaces the first), then FeedDown.
        for (t, kind) in [
            StatusKind::ConnDown,
            StatusKind::ConnUp,
            StatusKind::ConnDown,
            StatusKind::FeedDown,
        ]
        .into_iter()
        .enumerate()
        {
            let ev = Event::status(hdr(0, 0), kind, t as u64 + 1, 0);
            assert_eq!(p.push(ev), Pushed::Held);
        }
        assert_eq!(p.push(filler), Pushed::Dropped);
        assert_eq!(p.held(), 3);
        assert!(!p.has_room(1));
        // Consumer drains: Missed (the replaced ConnDown and the filler), the two fillers.
        assert_eq!(c.try_recv().unwrap().body, Body::Missed { count: 2 });
        assert_eq!(status_kind(&c.try_recv().unwrap()), Some(StatusKind::Book));
        assert_eq!(status_kind(&c.try_recv().unwrap()), Some(StatusKind::Book));
        assert_eq!(c.try_recv(), None);
        // The next push delivers the held statuses first (in order of their latest arrival);
        // the new event waits behind them (dropped: the ring is full again).
        assert_eq!(p.push(filler), Pushed::Dropped);
        assert_eq!(c.try_recv().unwrap().body, Body::Missed { count: 1 });
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::ConnUp)
        );
        let b = c.try_recv().unwrap();
        assert_eq!(status_kind(&b), Some(StatusKind::ConnDown));
        assert!(matches!(b.body, Body::Status { from_ns: 3, .. }));
        p.flush();
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::FeedDown)
        );
        assert_eq!(c.try_recv(), None);
        assert_eq!(p.held(), 0);
        let s = p.stats();
        assert_eq!((s.sent, s.dropped), (5, 3));
    }

    /// Review finding 2: a producer that goes away (its feed thread died) with statuses still
    /// held leaves them to the consumer, after the ring's last event.
    #[test]
    fn finding2_statuses_held_at_producer_drop_reach_the_consumer() {
        let (mut p, mut c) = channel(&RingConfig::new(2, 5, 4));
        let filler = Event::status(hdr(0, 0), StatusKind::Book, 1, 0);
        p.push(filler);
        p.push(filler);
        assert_eq!(
            p.push(Event::status(hdr(0, 0), StatusKind::ConnDown, 1, 0)),
            Pushed::Held
        );
        assert_eq!(
            p.push(Event::status(hdr(0, 0), StatusKind::FeedDown, 2, 0)),
            Pushed::Held
        );
        drop(p);
        let kinds: Vec<_> = std::iter::from_fn(|| c.try_recv())
            .map(|e| status_kind(&e))
            .collect();
        assert_eq!(
            kinds,
            [
                Some(StatusKind::Book),
                Some(StatusKind::Book),
                Some(StatusKind::ConnDown),
                Some(StatusKind::FeedDown)
            ]
        );
        assert_eq!(c.try_recv(), None);
    }

    /// A feed thread's `FeedDown` is its last event: a book update held behind a full ring
    /// before it is superseded, not delivered after it by the next flush (statuses go first).
    /// With `push` instead of `push_last` this test sees the book after `FeedDown`
    /// (`e2e reliability::finding2_feed_down_reaches_a_consumer_whose_ring_was_full`, flaky
    /// on a loaded machine before).
    #[test]
    fn push_last_supersedes_held_books_so_nothing_follows_feed_down() {
        let cfg = RingConfig {
            capacity: 2,
            top_n: 5,
            pool_size: 16,
            max_symbols: 4,
        };
        let (mut p, mut c) = channel(&cfg);
        let filler = Event::status(hdr(0, 0), StatusKind::ConnUp, 1, 0);
        assert_eq!(p.push(filler), Pushed::Sent);
        assert_eq!(p.push(filler), Pushed::Sent);
        assert_eq!(p.publish_book(hdr(1, 10), &book_with(100)), Pushed::Held);
        let down = Event::status(hdr(0, 0), StatusKind::FeedDown, 2, 0);
        assert_eq!(p.push_last(down), Pushed::Held);
        assert_eq!(
            p.held(),
            1,
            "only FeedDown is held; the book update was superseded"
        );
        assert_eq!(p.stats().conflated, 1);
        assert_eq!(
            p.stack.len(),
            16,
            "the superseded slot went back to the pool"
        );
        // The consumer drains while the feed thread flushes once more (`FeedCore::feed_down`).
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::ConnUp)
        );
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::ConnUp)
        );
        p.flush();
        drop(p);
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::FeedDown)
        );
        assert_eq!(c.try_recv(), None);
    }

    /// Drops the producer made just before `FeedDown` can become visible to the consumer only
    /// after its first look at the drop count in the call that pops `FeedDown`; the `Missed`
    /// then comes first and `FeedDown` on the next call. The interleaving is replayed here by
    /// popping `FeedDown` after the drop, as that call would.
    #[test]
    fn missed_seen_late_still_precedes_feed_down() {
        let (mut p, mut c) = channel(&RingConfig::new(2, 5, 4));
        let down = Event::status(hdr(0, 0), StatusKind::FeedDown, 2, 0);
        let filler = Event::status(hdr(0, 0), StatusKind::Book, 1, 0);
        assert_eq!(p.push(down), Pushed::Sent);
        assert_eq!(p.push(filler), Pushed::Sent);
        assert_eq!(p.push(filler), Pushed::Dropped);
        let popped = c.queue.pop().unwrap();
        let first = c.after_missed(popped);
        assert_eq!(first.body, Body::Missed { count: 1 });
        assert!(c.ready());
        assert_eq!(
            status_kind(&c.try_recv().unwrap()),
            Some(StatusKind::FeedDown)
        );
        assert_eq!(status_kind(&c.try_recv().unwrap()), Some(StatusKind::Book));
        assert_eq!(c.try_recv(), None);
    }

    #[test]
    fn copied_book_event_cannot_be_pushed_again() {
        let (mut p, mut c) = channel(&RingConfig::new(4, 2, 2));
        p.publish_book(hdr(0, 1), &book_with(100));
        let ev = c.try_recv().unwrap();
        assert!(c.release(&ev));
        // The slot is free again; re-sending the stale handle would hand the consumer a slot
        // the producer may be writing.
        assert_eq!(p.push(ev), Pushed::Rejected);
        assert_eq!(
            p.push(Event::new(hdr(0, 0), Body::Missed { count: 1 })),
            Pushed::Rejected
        );
        assert_eq!(c.try_recv(), None);
        assert!(c.book(&ev).is_none());
    }

    #[test]
    fn pool_exhaustion_drops_and_counts() {
        let cfg = RingConfig {
            capacity: 8,
            top_n: 2,
            pool_size: 2,
            max_symbols: 4,
        };
        let (mut p, mut c) = channel(&cfg);
        let b = book_with(100);
        assert_eq!(p.publish_book(hdr(0, 1), &b), Pushed::Sent);
        assert_eq!(p.publish_book(hdr(0, 2), &b), Pushed::Sent);
        assert_eq!(p.publish_book(hdr(0, 3), &b), Pushed::Dropped);
        assert_eq!(p.stats().pool_empty, 1);
        assert_eq!(c.try_recv().unwrap().body, Body::Missed { count: 1 });
        let e = c.try_recv().unwrap();
        c.release(&e);
        assert_eq!(p.publish_book(hdr(0, 4), &b), Pushed::Sent);
    }
}
