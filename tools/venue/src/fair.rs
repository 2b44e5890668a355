//! Lead-lag: one fair value per base asset shared by every venue and market quoting it
//! ([`crate::VenueConfig::lead_lag`], issue 14 "tick to signal").
//!
//! Off by default: each symbol then walks its own fair value (`sim.rs`). On, one random walk
//! per base asset (`BTC`, `ETH`, …) takes a step on a fixed grid of the venue's active time
//! (paused time excluded): most steps move it a few ppm, a few jump it by tens of basis points.
//! Every (venue, market) sees a move only [`LeadLag::delay`] after it was made, and its book
//! follows at once: quotes the new fair value crosses are pulled (each a logged level deletion)
//! and a fresh bid and ask are quoted at the touch around it, so the book never crosses and every
//! protocol frame stays what the venue would send. Between moves the symbol's own churn goes on
//! as before (without its own drift). A jump therefore opens a cross-venue spread on the venue
//! that moves first, and the spread closes when the laggards catch up, as in life.
//!
//! The walk (move times on the grid, values, ids) is a function of the seed alone; how a move
//! interleaves with a symbol's own churn follows the clock.
//!
//! Side channel: every move's id, value and the monotonic instant it was made
//! ([`crate::VenueHandle::fair_moves`]); per symbol, the version that first reflected each move
//! and the monotonic instant the first push carrying that version (or a later one) was sent
//! ([`crate::VenueHandle::fair_marks`]), stamped where [`crate::VenueHandle::send_time`] is.

use std::collections::VecDeque;
use std::time::Duration;

use crate::num::{Market, Px, VenueId};
use crate::sim::{Rng, SymState, Symbol};

/// Lead-lag settings. `Default`: a step every 10 ms; half of the steps move the value by
/// ±2 ppm (up or down alike); 2 % of the steps (about one every 500 ms) jump it by 20–40 bp,
/// back towards the starting value with 70 % odds (so a long run stays near it); MEXC spot sees
/// a move at once, Gate.io USDT futures after 1 ms, Gate.io spot after 3 ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadLag {
    /// Grid of the walk: one step each `step`.
    pub step: Duration,
    /// Percentage of steps that move the value by ±`small_ppm` (the others leave it).
    pub move_pct: u32,
    /// A small move, in millionths of the value.
    pub small_ppm: u32,
    /// Steps per thousand that jump instead.
    pub jump_per_mille: u32,
    /// A jump's size, in basis points of the value: uniform in `jump_bps.0..=jump_bps.1`;
    /// towards the starting value with 70 % odds.
    pub jump_bps: (u32, u32),
    /// How late MEXC spot sees a move.
    pub mexc_spot_delay: Duration,
    /// How late Gate.io spot sees a move.
    pub gate_spot_delay: Duration,
    /// How late Gate.io USDT futures sees a move.
    pub gate_futures_delay: Duration,
}

impl Default for LeadLag {
    fn default() -> Self {
        LeadLag {
            step: Duration::from_millis(10),
            move_pct: 50,
            small_ppm: 2,
            jump_per_mille: 20,
            jump_bps: (20, 40),
            mexc_spot_delay: Duration::ZERO,
            gate_spot_delay: Duration::from_millis(3),
            gate_futures_delay: Duration::from_millis(1),
        }
    }
}

impl LeadLag {
    /// How late `venue`/`market` sees a move.
    pub fn delay(&self, venue: VenueId, market: Market) -> Duration {
        match (venue, market) {
            (VenueId::Mexc, _) => self.mexc_spot_delay,
            (VenueId::Gateio, Market::Spot) => self.gate_spot_delay,
            (VenueId::Gateio, Market::Futures) => self.gate_futures_delay,
        }
    }
}

/// One move of a shared fair value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FairMove {
    /// 1, 2, … per base asset (0 is the starting value, never a move).
    pub id: u64,
    /// When it was made on the walk's grid (ns of venue active time).
    pub t_active_ns: u64,
    /// CLOCK_MONOTONIC instant the market thread made it (`crate::num::now_ns`).
    pub made_ns: u64,
    /// The fair value after the move.
    pub px: Px,
    /// A jump (not a small step).
    pub jump: bool,
}

pub use crate::marks::{Marks, MoveMark, FAIR_LOG};

/// The base asset of a wire symbol: `BTC_USDT` → `BTC`, `BTCUSDT` → `BTC`.
pub fn base_asset(name: &str) -> String {
    let up = name.to_ascii_uppercase();
    if let Some((b, _)) = up.split_once('_') {
        return b.to_string();
    }
    for q in ["USDT", "USDC", "USD1", "BTC", "ETH"] {
        if up.len() > q.len() && up.ends_with(q) {
            return up[..up.len() - q.len()].to_string();
        }
    }
    up
}

/// One base asset's walk.
struct Walk {
    base: String,
    rng: Rng,
    px: i128,
    start_px: i128,
    /// Grid steps taken.
    k: u64,
    next_id: u64,
    moves: VecDeque<FairMove>,
}

/// The market thread's lead-lag state (behind a mutex in `Shared`).
pub(crate) struct State {
    cfg: LeadLag,
    walks: Vec<Walk>,
    /// Per symbol (index of `Shared::syms`): its walk, its delay (ns), the move it shows.
    syms: Vec<(usize, u64, u64)>,
}

impl State {
    /// One walk per base asset among `syms`, each from the seed and its asset's index.
    pub(crate) fn new(cfg: LeadLag, seed: u64, syms: &[std::sync::Arc<Symbol>]) -> State {
        let mut walks: Vec<Walk> = Vec::new();
        let mut per_sym = Vec::new();
        for s in syms {
            let base = base_asset(&s.spec.name);
            let w = match walks.iter().position(|w| w.base == base) {
                Some(w) => w,
                None => {
                    let k = walks.len() as u64;
                    walks.push(Walk {
                        base,
                        rng: Rng::new(seed ^ 0xFA1E_0000_0000_0000 ^ k.wrapping_mul(0x9E37)),
                        px: s.spec.start_ticks * s.spec.tick,
                        start_px: s.spec.start_ticks * s.spec.tick,
                        k: 0,
                        next_id: 1,
                        moves: VecDeque::new(),
                    });
                    walks.len() - 1
                }
            };
            let delay = cfg.delay(s.spec.venue, s.spec.market).as_nanos() as u64;
            per_sym.push((w, delay, 0));
            s.marks_on.store(true, std::sync::atomic::Ordering::Relaxed);
            s.lock().shared_fair = true;
        }
        State {
            cfg,
            walks,
            syms: per_sym,
        }
    }

    /// Take every grid step up to `t_active_ns` (moves stamped `now_ns` as made).
    pub(crate) fn advance(&mut self, t_active_ns: u64, now_ns: u64) {
        let step = (self.cfg.step.as_nanos() as u64).max(1);
        let due = t_active_ns / step;
        for w in &mut self.walks {
            while w.k < due {
                w.k += 1;
                let r = w.rng.below(1000);
                let coin = w.rng.below(100);
                let mut up = coin < 50;
                let (delta, jump) = if r < self.cfg.jump_per_mille as u64 {
                    let (lo, hi) = self.cfg.jump_bps;
                    let bps = lo as u64 + w.rng.below((hi.max(lo) - lo) as u64 + 1);
                    // Mean-reverting jumps: towards the start with 70 % odds.
                    up = (coin < 70) == (w.px <= w.start_px);
                    (w.px * bps as i128 / 10_000, true)
                } else if r < self.cfg.jump_per_mille as u64 + self.cfg.move_pct as u64 * 10 {
                    (
                        (w.px * self.cfg.small_ppm as i128 / 1_000_000).max(1),
                        false,
                    )
                } else {
                    continue;
                };
                let next = if up { w.px + delta } else { w.px - delta };
                if next <= 0 || delta == 0 {
                    continue;
                }
                w.px = next;
                if w.moves.len() >= FAIR_LOG {
                    w.moves.pop_front();
                }
                w.moves.push_back(FairMove {
                    id: w.next_id,
                    t_active_ns: w.k * step,
                    made_ns: now_ns,
                    px: Px(next),
                    jump,
                });
                w.next_id += 1;
            }
        }
    }

    /// Symbol `i` shows the latest move made at least its delay before `t_active_ns`: if that
    /// is a newer move than it shows, it reprices (and marks every move it skipped over).
    pub(crate) fn apply(
        &mut self,
        i: usize,
        sym: &Symbol,
        st: &mut SymState,
        t_active_ns: u64,
        t_ms: u64,
        wall: i64,
    ) {
        let Some(&(w, delay, shown)) = self.syms.get(i) else {
            return;
        };
        let walk = &self.walks[w];
        let Some(horizon) = t_active_ns.checked_sub(delay) else {
            return;
        };
        // Moves are in grid order; find the newest one at or before the horizon.
        let Some(m) = walk
            .moves
            .iter()
            .rev()
            .find(|m| m.t_active_ns <= horizon)
            .copied()
        else {
            return;
        };
        if m.id <= shown {
            return;
        }
        let tick = sym.spec.tick;
        let fair_ticks = (m.px.0 + tick / 2) / tick;
        st.reprice(&sym.spec, fair_ticks, t_ms, wall);
        let now = crate::num::now_ns();
        let mut marks = sym.marks_lock();
        // Skipped moves (several in one market-loop turn) are reflected by the same version.
        let first = walk
            .moves
            .iter()
            .position(|x| x.id > shown)
            .unwrap_or(walk.moves.len());
        for x in walk.moves.range(first..) {
            if x.id > m.id {
                break;
            }
            marks.push(MoveMark {
                move_id: x.id,
                version: st.seq,
                applied_ns: now,
                sent_ns: 0,
            });
        }
        self.syms[i].2 = m.id;
    }

    /// Copy of the moves of `base` kept so far, oldest first.
    pub(crate) fn moves(&self, base: &str) -> Vec<FairMove> {
        let base = base.to_ascii_uppercase();
        self.walks
            .iter()
            .find(|w| w.base == base)
            .map(|w| w.moves.iter().copied().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SymSpec;
    use std::sync::Arc;

    fn three() -> Vec<Arc<Symbol>> {
        [
            (VenueId::Mexc, Market::Spot, "BTCUSDT"),
            (VenueId::Gateio, Market::Spot, "BTC_USDT"),
            (VenueId::Gateio, Market::Futures, "BTC_USDT"),
            (VenueId::Mexc, Market::Spot, "ETHUSDT"),
        ]
        .into_iter()
        .enumerate()
        .map(|(k, (v, m, n))| Arc::new(Symbol::new(SymSpec::new(v, m, n), 11 + k as u64, 1 << 16)))
        .collect()
    }

    /// Drive the walk and the symbols' churn on a 100 µs clock for `ms` milliseconds.
    fn drive(state: &mut State, syms: &[Arc<Symbol>], ms: u64, mut each: impl FnMut(&State, u64)) {
        for t in (0..ms * 1_000_000).step_by(100_000) {
            state.advance(t, t);
            for (i, s) in syms.iter().enumerate() {
                let mut st = s.lock();
                st.step(&s.spec, t / 1_000_000, 0);
                state.apply(i, s, &mut st, t, t / 1_000_000, 0);
                let b = st.book.bbo();
                assert!(b.bid.px.0 < b.ask.px.0, "{} crossed at {t} ns", s.spec.name);
            }
            each(state, t);
        }
    }

    #[test]
    fn base_assets_match_across_venues() {
        assert_eq!(base_asset("BTCUSDT"), "BTC");
        assert_eq!(base_asset("BTC_USDT"), "BTC");
        assert_eq!(base_asset("ethusdt"), "ETH");
        assert_eq!(base_asset("BABYDOGE_USDT"), "BABYDOGE");
    }

    /// Every venue shows the shared walk's value exactly its delay late (MEXC at once, Gate
    /// futures 1 ms and Gate spot 3 ms later), its touch right around it, books never crossed.
    #[test]
    fn shared_walk_is_seen_by_every_venue_after_its_delay_and_books_stay_uncrossed() {
        for seed in [5, 6, 7] {
            shared_walk_case(seed);
        }
    }

    fn shared_walk_case(seed: u64) {
        let syms = three();
        let cfg = LeadLag::default();
        let mut state = State::new(cfg.clone(), seed, &syms);
        let mut checked = 0u64;
        drive(&mut state, &syms, 3_000, |state, t| {
            let moves = state.moves("BTC");
            for (i, s) in syms.iter().take(3).enumerate() {
                let delay = cfg.delay(s.spec.venue, s.spec.market).as_nanos() as u64;
                let want = moves
                    .iter()
                    .rev()
                    .find(|m| m.t_active_ns + delay <= t)
                    .map(|m| m.id)
                    .unwrap_or(0);
                assert_eq!(state.syms[i].2, want, "{:?} at {t}", s.spec.venue);
                if let Some(m) = moves.iter().find(|m| m.id == want) {
                    let st = s.lock();
                    let tick = s.spec.tick;
                    let fair = (m.px.0 + tick / 2) / tick * tick;
                    let b = st.book.bbo();
                    assert!(
                        b.bid.px.0 < fair && b.ask.px.0 > fair,
                        "{:?} touch {b:?} around {fair}",
                        s.spec.venue
                    );
                    checked += 1;
                }
            }
        });
        assert!(checked > 1000, "{checked}");
        let moves = state.moves("BTC");
        assert!(moves.len() > 50, "{} moves", moves.len());
        // Every move is marked on every venue, at versions in move order.
        for s in syms.iter().take(3) {
            let marks = s.fair_marks();
            let ids: Vec<u64> = marks.iter().map(|k| k.move_id).collect();
            let want: Vec<u64> = moves
                .iter()
                .map(|m| m.id)
                .filter(|id| ids.contains(id))
                .collect();
            assert_eq!(ids, want, "{:?}", s.spec.venue);
            assert!(
                ids.len() + 2 >= moves.len(),
                "{:?}: {} of {}",
                s.spec.venue,
                ids.len(),
                moves.len()
            );
            assert!(marks.windows(2).all(|w| w[0].version <= w[1].version));
        }
        assert!(moves.iter().any(|m| m.jump), "no jump in 3 s");
        // ETH walks on its own.
        assert!(!state.moves("ETH").is_empty());
        assert_ne!(state.moves("ETH")[0].px, moves[0].px);
    }

    #[test]
    fn the_walk_is_a_function_of_the_seed() {
        let run = |seed| {
            let syms = three();
            let mut st = State::new(LeadLag::default(), seed, &syms);
            st.advance(5_000_000_000, 0);
            st.moves("BTC")
                .into_iter()
                .map(|m| (m.id, m.t_active_ns, m.px, m.jump))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
        // Advancing in small steps makes the same moves as in one go.
        let syms = three();
        let mut st = State::new(LeadLag::default(), 3, &syms);
        for t in (0..=5_000u64).map(|ms| ms * 1_000_000) {
            st.advance(t, 0);
        }
        let stepped: Vec<_> = st
            .moves("BTC")
            .into_iter()
            .map(|m| (m.id, m.t_active_ns, m.px, m.jump))
            .collect();
        assert_eq!(stepped, run(3));
    }

    /// Marks are stamped by the first push ending at or after their version, once.
    #[test]
    fn marks_are_stamped_by_the_first_push_reflecting_them() {
        let mut m = Marks::default();
        for (id, v) in [(1, 10), (2, 10), (3, 15)] {
            m.push(MoveMark {
                move_id: id,
                version: v,
                applied_ns: 1,
                sent_ns: 0,
            });
        }
        m.sent(9, 100);
        assert!(m.v.iter().all(|x| x.sent_ns == 0));
        m.sent(12, 200);
        m.sent(11, 250); // a slower connection: first sender wins
        assert_eq!(
            m.v.iter().map(|x| x.sent_ns).collect::<Vec<_>>(),
            [200, 200, 0]
        );
        m.sent(20, 300);
        assert_eq!(m.v[2].sent_ns, 300);
    }
}
