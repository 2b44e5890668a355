//! Order books: the authoritative full-depth [`Book`] of one symbol, and its sequencer
//! ([`sync`]) that bridges a snapshot with the delta stream.
//!
//! # Contract
//!
//! * **Allocation.** [`Book::with_capacity`] allocates two arrays of `levels_per_side` levels
//!   (16 bytes each) once. Nothing on [`Book`] allocates afterwards: not `apply_delta`, not
//!   `apply_snapshot`, not `top_n`, not `clear`.
//! * **Layout.** Each side is a flat array sorted from the *worst* price to the *best* price,
//!   so the best level is the last element. Churn near the top (most updates) moves only the
//!   few elements above the touched index. A price is looked up by a linear scan over the top
//!   [`LINEAR_SCAN`] levels, then by binary search over the rest.
//! * **Full side.** When a side already holds `levels_per_side` levels and a delta adds a new
//!   price, the book keeps the best `levels_per_side` levels: the far (worst) level is dropped
//!   (or the new level itself, when it is the worst) and the side is marked truncated
//!   ([`Book::is_truncated`]). The top levels stay exact; the far end may be missing levels
//!   that a later delete near the far end would have exposed. A snapshot or `clear` resets
//!   the flag.
//! * **Empty side.** An empty side is normal (`best_bid()` is `None`); it is never an error.
//! * **Validation and the "never half-applied" rule.** Levels are checked (price `> 0`,
//!   quantity `>= 0`) *before* anything is mutated: a bad level rejects the whole delta with
//!   the book unchanged. A crossed result (best bid `>=` best ask) is only known after the
//!   apply, so it is checked afterwards; the book then marks itself **invalid**
//!   ([`Book::is_valid`] is false) and stays invalid until the next snapshot or `clear`. An
//!   invalid book must never be handed out; [`sync::SyncedBook`] turns the error into a resync
//!   and clears the book.
//! * **Deltas** carry absolute quantities; quantity 0 deletes (deleting an absent price is a
//!   no-op); levels may be in any order, and a price may repeat (the last one wins).

pub mod sync;

use crate::event::Level;
use crate::types::{Px, Qty};

pub use sync::{SyncConfig, SyncOutcome, SyncRequest, SyncRule, SyncedBook, MAX_SEQ, MAX_SEQ_JUMP};

/// Levels scanned linearly from the top before falling back to binary search.
pub const LINEAR_SCAN: usize = 16;

/// Why a delta or snapshot was refused. `Copy`, no heap. Action: resync the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookError {
    /// After the apply the best bid was at or above the best ask. The book is now invalid.
    Crossed {
        /// Best bid after the apply.
        bid: Px,
        /// Best ask after the apply.
        ask: Px,
    },
    /// A level with price `<= 0` or a negative quantity. Nothing was applied.
    BadLevel {
        /// The level's price.
        px: Px,
        /// The level's quantity.
        qty: Qty,
    },
}

impl std::fmt::Display for BookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BookError::Crossed { bid, ask } => write!(f, "crossed book: bid {bid} >= ask {ask}"),
            BookError::BadLevel { px, qty } => write!(f, "bad level {px} x {qty}"),
        }
    }
}

impl std::error::Error for BookError {}

/// One side: `levels[0]` is the worst price, `levels[len-1]` the best. `BID` selects the order
/// (bids ascend, asks descend), so comparisons compile to a single instruction.
#[derive(Debug, Clone)]
struct Ladder<const BID: bool> {
    /// Capacity fixed at construction; `len() <= cap` always (so `insert` never reallocates).
    levels: Vec<Level>,
    cap: usize,
    truncated: bool,
}

impl<const BID: bool> Ladder<BID> {
    fn with_capacity(cap: usize) -> Self {
        Ladder {
            levels: Vec::with_capacity(cap),
            cap,
            truncated: false,
        }
    }

    /// `a` is strictly better (closer to the top) than `b`.
    #[inline(always)]
    fn better(a: Px, b: Px) -> bool {
        if BID {
            a > b
        } else {
            a < b
        }
    }

    /// `Ok(index)` of `px`, or `Err(index)` where it would be inserted.
    #[inline]
    fn find(&self, px: Px) -> Result<usize, usize> {
        let lv = &self.levels;
        let n = lv.len();
        let stop = n.saturating_sub(LINEAR_SCAN);
        let mut i = n;
        while i > stop {
            let p = lv[i - 1].px;
            if p == px {
                return Ok(i - 1);
            }
            if Self::better(px, p) {
                // px belongs above index i-1
                return Err(i);
            }
            i -= 1;
        }
        if stop == 0 {
            return Err(0);
        }
        // px is worse than everything in [stop, n): binary search in [0, stop).
        lv[..stop].binary_search_by(|l| {
            if l.px == px {
                std::cmp::Ordering::Equal
            } else if Self::better(px, l.px) {
                // l is worse than px → l sorts before px
                std::cmp::Ordering::Less
            } else {
                std::cmp::Ordering::Greater
            }
        })
    }

    #[inline]
    fn set(&mut self, l: Level) {
        match self.find(l.px) {
            Ok(i) => {
                if l.qty.is_zero() {
                    self.levels.remove(i);
                } else {
                    self.levels[i].qty = l.qty;
                }
            }
            Err(i) => {
                if l.qty.is_zero() {
                    return;
                }
                if self.levels.len() < self.cap {
                    self.levels.insert(i, l);
                } else {
                    self.truncated = true;
                    if i == 0 {
                        // Worse than every level we keep: beyond our depth.
                        return;
                    }
                    // Drop the far level, shift the rest down, put `l` at i-1.
                    self.levels.copy_within(1..i, 0);
                    self.levels[i - 1] = l;
                }
            }
        }
    }

    /// Replace the side with `input` (any order; zero quantities skipped; best `cap` kept).
    /// Sorted input (best-first as venues send snapshots, or worst-first) is loaded in one
    /// pass; anything else goes level by level.
    fn load(&mut self, input: &[Level]) {
        self.clear();
        if input.windows(2).all(|w| Self::better(w[0].px, w[1].px)) {
            self.load_best_first(input.iter());
        } else if input.windows(2).all(|w| Self::better(w[1].px, w[0].px)) {
            self.load_best_first(input.iter().rev());
        } else {
            for l in input {
                self.set(*l);
            }
        }
    }

    fn load_best_first<'a>(&mut self, it: impl Iterator<Item = &'a Level>) {
        for l in it {
            if l.qty.is_zero() {
                continue;
            }
            if self.levels.len() == self.cap {
                self.truncated = true;
                break;
            }
            self.levels.push(*l);
        }
        self.levels.reverse();
    }

    fn best(&self) -> Option<Level> {
        self.levels.last().copied()
    }

    fn clear(&mut self) {
        self.levels.clear();
        self.truncated = false;
    }

    /// Copy the best `out.len()` levels, best first. Returns how many were written.
    #[inline]
    fn top(&self, out: &mut [Level]) -> usize {
        let k = out.len().min(self.levels.len());
        for (o, l) in out[..k].iter_mut().zip(self.levels.iter().rev()) {
            *o = *l;
        }
        k
    }

    fn check_sorted(&self) -> bool {
        self.levels.len() <= self.cap
            && self
                .levels
                .windows(2)
                .all(|w| Self::better(w[1].px, w[0].px))
            && self.levels.iter().all(|l| !l.qty.is_zero())
    }
}

/// Full-depth order book of one symbol. See the [module docs](self) for the contract.
#[derive(Debug, Clone)]
pub struct Book {
    bids: Ladder<true>,
    asks: Ladder<false>,
    valid: bool,
}

#[inline]
fn check_levels(levels: &[Level]) -> Result<(), BookError> {
    for l in levels {
        if l.px.0 <= 0 || l.qty.0 < 0 {
            return Err(BookError::BadLevel {
                px: l.px,
                qty: l.qty,
            });
        }
    }
    Ok(())
}

impl Book {
    /// A book that keeps at most `levels_per_side` levels per side (at least 1). Allocates
    /// `2 × levels_per_side × 32` bytes, once.
    pub fn with_capacity(levels_per_side: usize) -> Self {
        let cap = levels_per_side.max(1);
        Book {
            bids: Ladder::with_capacity(cap),
            asks: Ladder::with_capacity(cap),
            valid: true,
        }
    }

    /// Levels kept per side.
    pub fn capacity(&self) -> usize {
        self.bids.cap
    }

    /// Apply a delta of absolute quantities (0 deletes). On `BadLevel` nothing changed; on
    /// `Crossed` the delta was applied and the book is now invalid until the next snapshot or
    /// `clear` (see module docs).
    #[inline]
    pub fn apply_delta(&mut self, bids: &[Level], asks: &[Level]) -> Result<(), BookError> {
        check_levels(bids)?;
        check_levels(asks)?;
        for l in bids {
            self.bids.set(*l);
        }
        for l in asks {
            self.asks.set(*l);
        }
        self.check_crossed()
    }

    /// Replace the whole book. Levels may be in any order; zero quantities are ignored; when a
    /// side holds more levels than the capacity the best ones are kept and the side is marked
    /// truncated. On `BadLevel` nothing changed; on `Crossed` the book is invalid.
    pub fn apply_snapshot(&mut self, bids: &[Level], asks: &[Level]) -> Result<(), BookError> {
        check_levels(bids)?;
        check_levels(asks)?;
        self.bids.load(bids);
        self.asks.load(asks);
        self.valid = true;
        self.check_crossed()
    }

    #[inline]
    fn check_crossed(&mut self) -> Result<(), BookError> {
        debug_assert!(self.bids.check_sorted() && self.asks.check_sorted());
        if let (Some(b), Some(a)) = (self.bids.best(), self.asks.best()) {
            if b.px >= a.px {
                self.valid = false;
                return Err(BookError::Crossed {
                    bid: b.px,
                    ask: a.px,
                });
            }
        }
        Ok(())
    }

    /// Empty both sides; the book is valid and not truncated again.
    pub fn clear(&mut self) {
        self.bids.clear();
        self.asks.clear();
        self.valid = true;
    }

    /// False after a `Crossed` error, until the next snapshot or `clear`.
    pub fn is_valid(&self) -> bool {
        self.valid
    }

    /// Whether either side dropped far levels for lack of capacity since the last snapshot.
    pub fn is_truncated(&self) -> bool {
        self.bids.truncated || self.asks.truncated
    }

    /// `(bids truncated, asks truncated)`.
    pub fn truncated_sides(&self) -> (bool, bool) {
        (self.bids.truncated, self.asks.truncated)
    }

    /// Highest bid, if any.
    #[inline]
    pub fn best_bid(&self) -> Option<Level> {
        self.bids.best()
    }

    /// Lowest ask, if any.
    #[inline]
    pub fn best_ask(&self) -> Option<Level> {
        self.asks.best()
    }

    /// `(bid levels, ask levels)`.
    pub fn len(&self) -> (usize, usize) {
        (self.bids.levels.len(), self.asks.levels.len())
    }

    /// No level on either side.
    pub fn is_empty(&self) -> bool {
        self.bids.levels.is_empty() && self.asks.levels.is_empty()
    }

    /// Copy the best `min(n, out.len(), side len)` levels of each side, best first. Returns how
    /// many bid and ask levels were written.
    #[inline]
    pub fn top_n(
        &self,
        n: usize,
        bids_out: &mut [Level],
        asks_out: &mut [Level],
    ) -> (usize, usize) {
        let nb = n.min(bids_out.len());
        let na = n.min(asks_out.len());
        (
            self.bids.top(&mut bids_out[..nb]),
            self.asks.top(&mut asks_out[..na]),
        )
    }

    /// Bid levels, worst to best (the best is the last element).
    pub fn bids_worst_first(&self) -> &[Level] {
        &self.bids.levels
    }

    /// Ask levels, worst to best (the best is the last element).
    pub fn asks_worst_first(&self) -> &[Level] {
        &self.asks.levels
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn l(px: i128, qty: i128) -> Level {
        Level::new(Px(px), Qty(qty))
    }

    #[test]
    fn insert_update_delete_and_absent_delete() {
        let mut b = Book::with_capacity(10);
        b.apply_delta(&[l(100, 1), l(98, 2), l(99, 3)], &[l(103, 1), l(101, 2)])
            .unwrap();
        assert_eq!(b.best_bid(), Some(l(100, 1)));
        assert_eq!(b.best_ask(), Some(l(101, 2)));
        b.apply_delta(&[l(100, 0), l(97, 0)], &[l(101, 5)]).unwrap();
        assert_eq!(b.best_bid(), Some(l(99, 3)));
        assert_eq!(b.best_ask(), Some(l(101, 5)));
        let mut bo = [Level::default(); 5];
        let mut ao = [Level::default(); 5];
        assert_eq!(b.top_n(5, &mut bo, &mut ao), (2, 2));
        assert_eq!(&bo[..2], &[l(99, 3), l(98, 2)]);
        assert_eq!(&ao[..2], &[l(101, 5), l(103, 1)]);
        assert_eq!(b.top_n(1, &mut bo, &mut ao), (1, 1));
        assert_eq!(b.len(), (2, 2));
    }

    #[test]
    fn crossed_delta_invalidates_until_snapshot() {
        let mut b = Book::with_capacity(10);
        b.apply_snapshot(&[l(100, 1)], &[l(101, 1)]).unwrap();
        let e = b.apply_delta(&[l(101, 1)], &[]).unwrap_err();
        assert_eq!(
            e,
            BookError::Crossed {
                bid: Px(101),
                ask: Px(101)
            }
        );
        assert!(!b.is_valid());
        b.apply_snapshot(&[l(100, 1)], &[l(101, 1)]).unwrap();
        assert!(b.is_valid());
    }

    #[test]
    fn bad_level_rejects_whole_delta_unchanged() {
        let mut b = Book::with_capacity(10);
        b.apply_snapshot(&[l(100, 1)], &[l(101, 1)]).unwrap();
        let e = b.apply_delta(&[l(99, 1)], &[l(102, -1)]).unwrap_err();
        assert_eq!(
            e,
            BookError::BadLevel {
                px: Px(102),
                qty: Qty(-1)
            }
        );
        assert_eq!(b.len(), (1, 1));
        assert!(b.is_valid());
        assert!(matches!(
            b.apply_delta(&[l(0, 1)], &[]),
            Err(BookError::BadLevel { .. })
        ));
    }

    #[test]
    fn full_side_keeps_best_and_marks_truncated() {
        let mut b = Book::with_capacity(3);
        b.apply_snapshot(
            &[l(100, 1), l(90, 1), l(80, 1)],
            &[l(200, 1), l(210, 1), l(220, 1)],
        )
        .unwrap();
        assert!(!b.is_truncated());
        // Worse than all kept: dropped.
        b.apply_delta(&[l(70, 1)], &[l(230, 1)]).unwrap();
        assert_eq!(b.bids_worst_first(), &[l(80, 1), l(90, 1), l(100, 1)]);
        assert_eq!(b.asks_worst_first(), &[l(220, 1), l(210, 1), l(200, 1)]);
        assert_eq!(b.truncated_sides(), (true, true));
        // Better than all: far level dropped; deletes of absent levels are no-ops.
        b.apply_delta(&[l(110, 2), l(85, 0)], &[l(190, 2), l(205, 0)])
            .unwrap();
        assert_eq!(b.bids_worst_first(), &[l(90, 1), l(100, 1), l(110, 2)]);
        assert_eq!(b.asks_worst_first(), &[l(210, 1), l(200, 1), l(190, 2)]);
        // In the middle: far level dropped.
        b.apply_delta(&[l(95, 3)], &[l(205, 3)]).unwrap();
        assert_eq!(b.bids_worst_first(), &[l(95, 3), l(100, 1), l(110, 2)]);
        assert_eq!(b.asks_worst_first(), &[l(205, 3), l(200, 1), l(190, 2)]);
        b.clear();
        assert!(!b.is_truncated() && b.is_empty());
    }

    #[test]
    fn sorted_snapshots_load_in_one_pass_with_capacity() {
        let mut b = Book::with_capacity(3);
        // Best-first, as REST snapshots come, with a zero level and more than capacity.
        b.apply_snapshot(
            &[l(100, 1), l(99, 0), l(98, 2), l(97, 3), l(96, 4)],
            &[l(101, 1), l(102, 2), l(103, 3)],
        )
        .unwrap();
        assert_eq!(b.bids_worst_first(), &[l(97, 3), l(98, 2), l(100, 1)]);
        assert_eq!(b.asks_worst_first(), &[l(103, 3), l(102, 2), l(101, 1)]);
        assert_eq!(b.truncated_sides(), (true, false));
        // Worst-first.
        b.apply_snapshot(&[l(96, 4), l(97, 3), l(98, 2)], &[l(105, 1), l(104, 1)])
            .unwrap();
        assert_eq!(b.bids_worst_first(), &[l(96, 4), l(97, 3), l(98, 2)]);
        assert_eq!(b.asks_worst_first(), &[l(105, 1), l(104, 1)]);
        assert!(!b.is_truncated());
        // Unsorted with a duplicate price: the last one wins.
        b.apply_snapshot(&[l(97, 1), l(99, 1), l(97, 5), l(98, 1)], &[])
            .unwrap();
        assert_eq!(b.bids_worst_first(), &[l(97, 5), l(98, 1), l(99, 1)]);
    }

    /// Seeded xorshift so the differential test is deterministic.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// Reference: a BTreeMap per side, truncated to the best `cap` levels after every level,
    /// exactly like the capacity policy.
    struct RefBook {
        bids: BTreeMap<i128, i128>,
        asks: BTreeMap<i128, i128>,
        cap: usize,
    }

    impl RefBook {
        fn set(&mut self, bid: bool, l: Level) {
            let m = if bid { &mut self.bids } else { &mut self.asks };
            if l.qty.0 == 0 {
                m.remove(&l.px.0);
            } else {
                m.insert(l.px.0, l.qty.0);
                if m.len() > self.cap {
                    let far = if bid {
                        *m.keys().next().unwrap()
                    } else {
                        *m.keys().next_back().unwrap()
                    };
                    m.remove(&far);
                }
            }
        }
        fn bids_worst_first(&self) -> Vec<Level> {
            self.bids.iter().map(|(p, q)| l(*p, *q)).collect()
        }
        fn asks_worst_first(&self) -> Vec<Level> {
            self.asks.iter().rev().map(|(p, q)| l(*p, *q)).collect()
        }
    }

    fn differential(seed: u64, cap: usize, steps: usize, spread: i64) {
        let mut rng = Rng(seed);
        let mut book = Book::with_capacity(cap);
        let mut r = RefBook {
            bids: BTreeMap::new(),
            asks: BTreeMap::new(),
            cap,
        };
        // Mid moves slowly; bids below mid, asks above mid, so the book never crosses except
        // when we make it.
        let mid = 100_000i64;
        let mut bids = Vec::new();
        let mut asks = Vec::new();
        for step in 0..steps {
            bids.clear();
            asks.clear();
            let n = 1 + rng.below(20) as usize;
            for _ in 0..n {
                let bid = rng.below(2) == 0;
                // Skewed toward the top: most updates near mid.
                let dist = if rng.below(4) == 0 {
                    1 + rng.below(spread as u64) as i64
                } else {
                    1 + rng.below(12) as i64
                };
                let qty = if rng.below(3) == 0 {
                    0
                } else {
                    1 + rng.below(1000) as i64
                };
                if bid {
                    bids.push(l((mid - dist) as i128, qty as i128));
                } else {
                    asks.push(l((mid + dist) as i128, qty as i128));
                }
            }
            if step % 997 == 0 {
                book.apply_snapshot(&bids, &asks).unwrap();
                r.bids.clear();
                r.asks.clear();
            } else {
                book.apply_delta(&bids, &asks).unwrap();
            }
            for x in &bids {
                r.set(true, *x);
            }
            for x in &asks {
                r.set(false, *x);
            }
            // Deletes below the kept depth make the reference (which also forgets) and the
            // book agree by construction; compare exactly.
            assert_eq!(
                book.bids_worst_first(),
                &r.bids_worst_first()[..],
                "step {step}"
            );
            assert_eq!(
                book.asks_worst_first(),
                &r.asks_worst_first()[..],
                "step {step}"
            );
            assert_eq!(
                book.best_bid(),
                r.bids.iter().next_back().map(|(p, q)| l(*p, *q))
            );
        }
    }

    #[test]
    fn differential_against_btreemap_no_pressure() {
        differential(0x9E37_79B9_7F4A_7C15, 4096, 20_000, 300);
    }

    #[test]
    fn differential_against_btreemap_capacity_pressure() {
        differential(0xDEAD_BEEF_1234_5678, 16, 20_000, 200);
        differential(7, 1, 5_000, 30);
    }
}
