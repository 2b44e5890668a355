//! Deterministic market simulator: one book, one version counter and one change log per symbol.
//!
//! Every book change (a level set, changed or deleted) takes the next version. Trades consume
//! levels on the passive side (each touched level is its own change) and are logged as trade
//! entries carrying the version current after the consumption. The log is the broadcast medium:
//! connection threads read it with their own cursor, so every subscriber of a channel sees the
//! same sequence. Each change entry keeps the level's previous quantity, so the book at any past
//! version still in the log can be rebuilt by rolling back (`book_at`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use crate::num::Level;
use crate::num::{BookSide, Market, Px, Qty, Side, VenueId as Venue};

/// xorshift64* — small, fast, deterministic.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        // splitmix64 of the seed so that nearby seeds diverge and zero is never the state.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 0x1234_5678_9ABC_DEF1 } else { z })
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() >> 32) * n) >> 32
    }
    /// True with probability `pct`/100.
    pub(crate) fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// Static description of a simulated symbol.
#[derive(Debug, Clone)]
pub struct SymSpec {
    pub venue: Venue,
    pub market: Market,
    /// Wire name (`BTCUSDT`, `BTC_USDT`).
    pub name: String,
    /// Price tick in `Px` units.
    pub tick: i128,
    /// Size lot in `Qty` units (futures: one contract = `Qty::from_int(1)`).
    pub lot: i128,
    /// Starting price in ticks.
    pub start_ticks: i128,
    /// Decimals used when MEXC pads depth quantities.
    pub qty_decimals: u32,
    /// Decimals of the price tick.
    pub px_decimals: u32,
    /// Target number of levels per side.
    pub depth: usize,
    /// Futures: base quantity of one contract.
    pub multiplier: Option<Qty>,
    /// Added to every simulated size (`Qty` units): lifts a symbol's sizes above a floor (the
    /// sub-nano memecoin shape rests levels of 1.5 × 10¹¹ units and more). 0 for the others.
    pub size_floor: i128,
}

impl SymSpec {
    /// Reasonable defaults from the name: BTC near 84 270, ETH near 3 200, others near 2.5;
    /// `BABYDOGE…` is the sub-nano memecoin shape ([`SymSpec::memecoin`]).
    pub fn new(venue: Venue, market: Market, name: &str) -> SymSpec {
        let up = name.to_ascii_uppercase();
        if up.starts_with("BABYDOGE") {
            return SymSpec::memecoin(venue, market, name);
        }
        let (px, px_dec_mexc, px_dec_gate) = if up.starts_with("BTC") {
            (84_270.0, 2, 1)
        } else if up.starts_with("ETH") {
            (3_200.0, 2, 2)
        } else {
            (2.5, 4, 4)
        };
        let px_decimals: u32 = match venue {
            Venue::Mexc => px_dec_mexc,
            Venue::Gateio => px_dec_gate,
        };
        let tick = 10i128.pow(Px::DECIMALS - px_decimals);
        let start_ticks = (px * 10f64.powi(px_decimals as i32)) as i128;
        let (lot, qty_decimals, multiplier) = match market {
            Market::Futures => (
                Qty::SCALE,
                0,
                Some(if up.starts_with("BTC") {
                    Qty(Qty::SCALE / 10_000) // 0.0001
                } else if up.starts_with("ETH") {
                    Qty(Qty::SCALE / 100) // 0.01
                } else {
                    Qty(Qty::SCALE)
                }),
            ),
            Market::Spot => {
                if up.starts_with("BTC") {
                    (Qty::SCALE / 1_000_000, 6, None) // 0.000001
                } else if up.starts_with("ETH") {
                    (Qty::SCALE / 10_000, 4, None)
                } else {
                    (Qty::SCALE / 100, 2, None)
                }
            }
        };
        SymSpec {
            venue,
            market,
            name: name.to_string(),
            tick,
            lot,
            start_ticks,
            qty_decimals: if venue == Venue::Mexc {
                qty_decimals.max(8)
            } else {
                qty_decimals
            },
            px_decimals,
            depth: 300,
            multiplier,
            size_floor: 0,
        }
    }

    /// A sub-nano memecoin (issue 13, finding 3): price near 0.0000000012345 with a 13-decimal
    /// tick (more decimals than the client's old 10-decimal `Px`), spot sizes of 1.5 × 10¹¹
    /// units and more with 10 decimals (Gate documents a 10-decimal size in its own
    /// `spot.book_ticker` example, `"B":"0.0003341504"`, refused by the old 8-decimal `Qty`,
    /// and the old `i64` `Qty` overflowed at 9.2 × 10¹⁰), i.e. 22 significant digits per
    /// size. Futures: whole contracts of 10 000 000 coins (the shape of Gate's memecoin
    /// contracts' `quanto_multiplier`), same price tick.
    pub fn memecoin(venue: Venue, market: Market, name: &str) -> SymSpec {
        let px_decimals = 13;
        let (lot, qty_decimals, multiplier, size_floor) = match market {
            Market::Futures => (Qty::SCALE, 0, Some(Qty::from_int(10_000_000)), 0),
            Market::Spot => (
                Qty::SCALE / 10i128.pow(10), // 0.0000000001
                10,
                None,
                Qty::from_int(150_000_000_000).0,
            ),
        };
        SymSpec {
            venue,
            market,
            name: name.to_string(),
            tick: 10i128.pow(Px::DECIMALS - px_decimals),
            lot,
            start_ticks: 12_345,
            qty_decimals,
            px_decimals,
            depth: 300,
            multiplier,
            size_floor,
        }
    }
}

/// Best bid and ask after an entry (zero price/qty where a side is empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bbo {
    pub bid: Level,
    pub ask: Level,
}

/// What one log entry records.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// A level now has `qty` (zero: deleted); it had `prev` before.
    Level {
        side: BookSide,
        px: Px,
        qty: Qty,
        prev: Qty,
    },
    /// A trade (taker `side`) that consumed the passive side; book changes precede it.
    Trade {
        px: Px,
        qty: Qty,
        side: Side,
        id: u64,
    },
}

/// One log entry.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The version after this entry (trades: the version current at the trade).
    pub seq: u64,
    /// Venue clock (ms since venue start) when generated; windows are cut on it.
    pub t_ms: u64,
    /// Epoch ms at generation (event time on the wire).
    pub wall_ms: i64,
    pub change: Change,
    pub bbo: Bbo,
}

/// A plain two-sided book keyed by price units.
#[derive(Debug, Clone, Default)]
pub struct Book {
    pub bids: BTreeMap<i128, i128>,
    pub asks: BTreeMap<i128, i128>,
}

impl Book {
    pub fn side_mut(&mut self, side: BookSide) -> &mut BTreeMap<i128, i128> {
        match side {
            BookSide::Bid => &mut self.bids,
            BookSide::Ask => &mut self.asks,
        }
    }
    pub fn side(&self, side: BookSide) -> &BTreeMap<i128, i128> {
        match side {
            BookSide::Bid => &self.bids,
            BookSide::Ask => &self.asks,
        }
    }
    pub fn set(&mut self, side: BookSide, px: i128, qty: i128) {
        let m = self.side_mut(side);
        if qty == 0 {
            m.remove(&px);
        } else {
            m.insert(px, qty);
        }
    }
    pub fn get(&self, side: BookSide, px: i128) -> i128 {
        self.side(side).get(&px).copied().unwrap_or(0)
    }
    pub fn bbo(&self) -> Bbo {
        let bid = self
            .bids
            .iter()
            .next_back()
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .unwrap_or_default();
        let ask = self
            .asks
            .iter()
            .next()
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .unwrap_or_default();
        Bbo { bid, ask }
    }
    /// Top `n` levels per side, best first.
    pub fn top(&self, n: usize) -> (Vec<Level>, Vec<Level>) {
        let bids = self
            .bids
            .iter()
            .rev()
            .take(n)
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .collect();
        let asks = self
            .asks
            .iter()
            .take(n)
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .collect();
        (bids, asks)
    }
    pub fn apply(&mut self, e: &Entry) {
        if let Change::Level { side, px, qty, .. } = e.change {
            self.set(side, px.0, qty.0);
        }
    }
}

/// Mutable state of one symbol (behind the symbol's mutex).
pub struct SymState {
    pub book: Book,
    pub seq: u64,
    pub log: VecDeque<Entry>,
    /// Log index of `log[0]`.
    pub log_base: u64,
    /// Venue clock (ms) up to which the log is final: later entries have `t_ms >= clock_ms`.
    pub clock_ms: u64,
    rng: Rng,
    fair: i128,
    next_trade_id: u64,
    cap: usize,
    pub last_trade_px: i128,
    pub high_px: i128,
    pub low_px: i128,
    pub volume: i128,
    /// Σ price × size of trades, in `Px` units (price × base quantity).
    pub turnover_units: i128,
    pub open_px: i128,
    /// Candles built from this symbol's trades (`kline.rs`).
    pub klines: crate::kline::Klines,
    /// Lead-lag ([`crate::VenueConfig::lead_lag`]): the fair value is the shared walk's,
    /// set by [`SymState::reprice`]; the symbol no longer drifts on its own.
    pub(crate) shared_fair: bool,
}

/// One simulated symbol: spec, state, send-time ring and snapshot boundary marks.
pub struct Symbol {
    pub spec: SymSpec,
    pub state: Mutex<SymState>,
    pub send_ring: Mutex<Vec<(u64, u64)>>,
    /// Furthest log position a feed has read up to (for [`crate::VenueConfig::max_backlog`]).
    pub read_upto: std::sync::atomic::AtomicU64,
    /// Lead-lag: where this symbol first reflected each shared fair-value move (`fair.rs`).
    pub marks: Mutex<crate::marks::Marks>,
    /// Lead-lag is on for this symbol (its sends stamp `marks`).
    pub(crate) marks_on: std::sync::atomic::AtomicBool,
}

pub const SEND_RING: usize = 1 << 16;

/// Lead-lag: levels quoted on a side a fair-value move left with fewer than this many.
const REPRICE_LADDER: usize = 16;

/// Lag report from [`Symbol::read_from`].
pub enum Read {
    /// Entries appended to the output; the cursor advanced.
    Ok,
    /// The cursor had fallen out of the log; entries were lost. The cursor now points at the
    /// oldest retained entry (a gap follows) and, if asked, `book` holds a fresh copy of the
    /// current book with the cursor at the log's end.
    Lagged,
}

impl Symbol {
    pub fn new(spec: SymSpec, seed: u64, log_cap: usize) -> Symbol {
        let mut rng = Rng::new(seed);
        let seq0 = 1_000_000 + rng.below(1_000_000_000);
        let mut st = SymState {
            book: Book::default(),
            seq: seq0,
            log: VecDeque::with_capacity(log_cap.min(1 << 20)),
            log_base: 0,
            clock_ms: 0,
            rng,
            fair: spec.start_ticks,
            next_trade_id: 700_000_000_000_000_000 + seed % 1_000_000_000,
            cap: log_cap.max(1024),
            last_trade_px: spec.start_ticks * spec.tick,
            high_px: spec.start_ticks * spec.tick,
            low_px: spec.start_ticks * spec.tick,
            volume: 0,
            turnover_units: 0,
            open_px: spec.start_ticks * spec.tick,
            klines: crate::kline::Klines::default(),
            shared_fair: false,
        };
        seed_book(&spec, &mut st);
        Symbol {
            spec,
            state: Mutex::new(st),
            send_ring: Mutex::new(vec![(0, 0); SEND_RING]),
            read_upto: std::sync::atomic::AtomicU64::new(0),
            marks: Mutex::new(crate::marks::Marks::default()),
            marks_on: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Keep the send instants of the last `n` versions (rounded up to a power of two, at
    /// least [`SEND_RING`]) instead of [`SEND_RING`]: a latency bench at a high rate.
    pub fn with_send_log(self, n: usize) -> Symbol {
        let n = n.max(SEND_RING).next_power_of_two();
        *self.send_ring.lock().unwrap_or_else(|p| p.into_inner()) = vec![(0, 0); n];
        self
    }

    pub fn lock(&self) -> std::sync::MutexGuard<'_, SymState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Copy the current book and the log end (for a new subscriber's replica).
    pub fn snapshot_for_replica(&self) -> (Book, u64, u64) {
        let st = self.lock();
        (st.book.clone(), st.log_base + st.log.len() as u64, st.seq)
    }

    /// Log end index (where a new cursor starts).
    pub fn log_end(&self) -> u64 {
        let st = self.lock();
        st.log_base + st.log.len() as u64
    }

    /// Copy up to `max` entries from `*cursor` into `out`; returns the venue clock and lag state.
    /// On lag with `replica`, the replica is replaced by the current book and the cursor moves
    /// to the log end.
    pub fn read_from(
        &self,
        cursor: &mut u64,
        out: &mut Vec<Entry>,
        max: usize,
        replica: Option<&mut Book>,
    ) -> (u64, Read) {
        let st = self.lock();
        let end = st.log_base + st.log.len() as u64;
        if *cursor < st.log_base {
            match replica {
                Some(b) => {
                    *b = st.book.clone();
                    *cursor = end;
                }
                None => *cursor = st.log_base,
            }
            return (st.clock_ms, Read::Lagged);
        }
        let start = (*cursor - st.log_base) as usize;
        let n = (end - *cursor).min(max as u64) as usize;
        out.extend(st.log.range(start..start + n).copied());
        *cursor += n as u64;
        self.read_upto
            .fetch_max(*cursor, std::sync::atomic::Ordering::Relaxed);
        // Only claim the clock when everything up to it was handed out.
        let clock = if *cursor == end { st.clock_ms } else { 0 };
        (clock, Read::Ok)
    }

    /// The book as it was right after version `seq`, if the log still reaches back that far.
    pub fn book_at(&self, seq: u64) -> Option<(u64, Book)> {
        let st = self.lock();
        if seq >= st.seq {
            return Some((st.seq, st.book.clone()));
        }
        let mut book = st.book.clone();
        for e in st.log.iter().rev() {
            if e.seq <= seq {
                return Some((seq, book));
            }
            if let Change::Level { side, px, prev, .. } = e.change {
                book.set(side, px.0, prev.0);
            }
        }
        None
    }

    /// Record the monotonic send instant of version `seq` (first sender wins).
    pub fn record_send(&self, seq: u64, ns: u64) {
        let mut r = self.send_ring.lock().unwrap_or_else(|p| p.into_inner());
        let mask = r.len() - 1;
        let slot = &mut r[(seq as usize) & mask];
        if slot.0 != seq {
            *slot = (seq, ns);
        }
        drop(r);
        if self.marks_on.load(std::sync::atomic::Ordering::Relaxed) {
            self.marks_lock().sent(seq, ns);
        }
    }

    pub(crate) fn marks_lock(&self) -> std::sync::MutexGuard<'_, crate::marks::Marks> {
        self.marks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Lead-lag: the moves this symbol has reflected, oldest first (bounded).
    pub fn fair_marks(&self) -> Vec<crate::marks::MoveMark> {
        self.marks_lock().v.iter().copied().collect()
    }

    pub fn send_time(&self, seq: u64) -> Option<u64> {
        let r = self.send_ring.lock().unwrap_or_else(|p| p.into_inner());
        let slot = r[(seq as usize) & (r.len() - 1)];
        (slot.0 == seq && slot.1 != 0).then_some(slot.1)
    }

    /// The version at the end of the last complete `grid_ms` window (a frame boundary of
    /// every stream whose interval divides `grid_ms`); the current version if the log does not
    /// reach back.
    pub fn boundary_seq(&self, grid_ms: u64) -> u64 {
        let st = self.lock();
        let b = (st.clock_ms / grid_ms) * grid_ms;
        for e in st.log.iter().rev() {
            if e.t_ms < b {
                return e.seq;
            }
        }
        st.seq
    }
}

fn rand_qty(spec: &SymSpec, rng: &mut Rng) -> i128 {
    let lots = match spec.market {
        Market::Futures => 1 + rng.below(20_000) as i128,
        Market::Spot => {
            // Heavy-tailed: mostly small, sometimes large.
            let base = 1 + rng.below(2_000) as i128;
            if rng.pct(10) {
                base * (1 + rng.below(500) as i128)
            } else {
                base
            }
        }
    };
    spec.size_floor + lots * spec.lot
}

fn seed_book(spec: &SymSpec, st: &mut SymState) {
    let mid = spec.start_ticks;
    let mut b = 0;
    let mut i = 1;
    while b < spec.depth {
        let px = (mid - i) * spec.tick;
        if !st.rng.pct(20) {
            let q = rand_qty(spec, &mut st.rng);
            st.book.bids.insert(px, q);
            b += 1;
        }
        i += 1;
    }
    let mut a = 0;
    let mut i = 1;
    while a < spec.depth {
        let px = (mid + i) * spec.tick;
        if !st.rng.pct(20) {
            let q = rand_qty(spec, &mut st.rng);
            st.book.asks.insert(px, q);
            a += 1;
        }
        i += 1;
    }
}

impl SymState {
    fn push(&mut self, e: Entry) {
        if self.log.len() >= self.cap {
            self.log.pop_front();
            self.log_base += 1;
        }
        self.log.push_back(e);
    }

    fn set_level(
        &mut self,
        spec: &SymSpec,
        side: BookSide,
        px: i128,
        qty: i128,
        t_ms: u64,
        wall: i64,
    ) {
        let prev = self.book.get(side, px);
        if prev == qty {
            return;
        }
        let _ = spec;
        self.book.set(side, px, qty);
        self.seq += 1;
        let e = Entry {
            seq: self.seq,
            t_ms,
            wall_ms: wall,
            change: Change::Level {
                side,
                px: Px(px),
                qty: Qty(qty),
                prev: Qty(prev),
            },
            bbo: self.book.bbo(),
        };
        self.push(e);
    }

    fn nth_px(&self, side: BookSide, d: usize) -> Option<i128> {
        match side {
            BookSide::Bid => self.book.bids.keys().rev().nth(d).copied(),
            BookSide::Ask => self.book.asks.keys().nth(d).copied(),
        }
    }

    /// Generate at least one book change (a trade may generate several).
    pub fn step(&mut self, spec: &SymSpec, t_ms: u64, wall: i64) {
        let side = if self.rng.pct(50) {
            BookSide::Bid
        } else {
            BookSide::Ask
        };
        let len = self.book.side(side).len();
        // Keep the depth near the target: extend or trim at the far end (rarely needed: inserts
        // and deletes near the top are balanced, so deep levels seldom move into the top).
        if len + 30 < spec.depth {
            let worst = match side {
                BookSide::Bid => self.book.bids.keys().next().copied(),
                BookSide::Ask => self.book.asks.keys().next_back().copied(),
            };
            let step = (1 + self.rng.below(3) as i128) * spec.tick;
            let px = match (side, worst) {
                (BookSide::Bid, Some(w)) => w - step,
                (BookSide::Ask, Some(w)) => w + step,
                (BookSide::Bid, None) => (self.fair - 1) * spec.tick,
                (BookSide::Ask, None) => (self.fair + 1) * spec.tick,
            };
            if px > 0 {
                let q = rand_qty(spec, &mut self.rng);
                self.set_level(spec, side, px, q, t_ms, wall);
                return;
            }
        }
        if len > spec.depth + 20 {
            let worst = match side {
                BookSide::Bid => self.book.bids.keys().next().copied(),
                BookSide::Ask => self.book.asks.keys().next_back().copied(),
            };
            if let Some(px) = worst {
                self.set_level(spec, side, px, 0, t_ms, wall);
                return;
            }
        }
        let r = self.rng.below(100);
        // Depth from the top: mostly near the top, sometimes deeper.
        let d = if self.rng.pct(70) {
            self.rng.below(5) as usize
        } else {
            self.rng.below(60) as usize
        };
        if r < 2 {
            // Fair value drifts one tick; then a quote near it.
            let dir = if self.rng.pct(50) { 1 } else { -1 };
            if !self.shared_fair {
                self.fair += dir;
            }
            self.quote_near_fair(spec, side, t_ms, wall);
        } else if r < 32 {
            if let Some(px) = self.nth_px(side, d.min(len.saturating_sub(1))) {
                let q = rand_qty(spec, &mut self.rng);
                self.set_level(spec, side, px, q, t_ms, wall);
            } else {
                self.quote_near_fair(spec, side, t_ms, wall);
            }
        } else if r < 72 {
            self.quote_near_fair(spec, side, t_ms, wall);
        } else if r < 86 {
            if len > 10 {
                if let Some(px) = self.nth_px(side, d.min(len - 1)) {
                    self.set_level(spec, side, px, 0, t_ms, wall);
                    return;
                }
            }
            self.quote_near_fair(spec, side, t_ms, wall);
        } else {
            self.trade(spec, t_ms, wall);
        }
    }

    fn quote_near_fair(&mut self, spec: &SymSpec, side: BookSide, t_ms: u64, wall: i64) {
        // Mostly at the touch, sometimes up to ~80 ticks away (fills holes that deletes leave).
        let off = if self.rng.pct(70) {
            self.rng.below(8) as i128
        } else {
            self.rng.below(80) as i128
        };
        let bbo = self.book.bbo();
        let mut px = match side {
            BookSide::Bid => (self.fair - 1 - off) * spec.tick,
            BookSide::Ask => (self.fair + 1 + off) * spec.tick,
        };
        // Never cross the other side.
        match side {
            BookSide::Bid => {
                if bbo.ask.px.0 != 0 && px >= bbo.ask.px.0 {
                    px = bbo.ask.px.0 - spec.tick * (1 + self.rng.below(4) as i128);
                }
            }
            BookSide::Ask => {
                if bbo.bid.px.0 != 0 && px <= bbo.bid.px.0 {
                    px = bbo.bid.px.0 + spec.tick * (1 + self.rng.below(4) as i128);
                }
            }
        }
        if px <= 0 {
            return;
        }
        let q = rand_qty(spec, &mut self.rng);
        self.set_level(spec, side, px, q, t_ms, wall);
    }

    fn trade(&mut self, spec: &SymSpec, t_ms: u64, wall: i64) {
        let mid_ticks = {
            let b = self.book.bbo();
            if b.bid.px.0 == 0 || b.ask.px.0 == 0 {
                self.fair
            } else {
                (b.bid.px.0 + b.ask.px.0) / 2 / spec.tick
            }
        };
        let buy_pct = if self.fair > mid_ticks {
            70
        } else if self.fair < mid_ticks {
            30
        } else {
            50
        };
        let taker = if self.rng.pct(buy_pct) {
            Side::Buy
        } else {
            Side::Sell
        };
        let passive = match taker {
            Side::Buy => BookSide::Ask,
            Side::Sell => BookSide::Bid,
        };
        let top_qty = match self.nth_px(passive, 0) {
            Some(px) => self.book.get(passive, px),
            None => return,
        };
        // Consume up to ~1.6× the top level, possibly sweeping a second or third level.
        let mut want = (top_qty / 4).max(spec.lot) + (self.rng.below(13) as i128 * top_qty) / 10;
        want = (want / spec.lot).max(1) * spec.lot;
        let mut levels = 0;
        while want > 0 && levels < 3 {
            let Some(px) = self.nth_px(passive, 0) else {
                break;
            };
            let have = self.book.get(passive, px);
            let take = have.min(want);
            want -= take;
            levels += 1;
            self.set_level(spec, passive, px, have - take, t_ms, wall);
            self.next_trade_id += 2;
            self.last_trade_px = px;
            self.high_px = self.high_px.max(px);
            self.low_px = self.low_px.min(px);
            self.volume += take;
            self.turnover_units += crate::num::mul_div(px, take, Qty::SCALE);
            let base = match spec.multiplier {
                Some(m) => crate::num::mul_div(take, m.0, Qty::SCALE),
                None => take,
            };
            let quote = crate::num::mul_div(px, base, Qty::SCALE);
            self.klines
                .on_trade(wall, Px(px), Qty(take), Qty(quote), Qty(base));
            let e = Entry {
                seq: self.seq,
                t_ms,
                wall_ms: wall,
                change: Change::Trade {
                    px: Px(px),
                    qty: Qty(take),
                    side: taker,
                    id: self.next_trade_id,
                },
                bbo: self.book.bbo(),
            };
            self.push(e);
        }
    }

    /// Lead-lag: the shared fair value moved to `fair_ticks` (as this venue sees it). Quotes
    /// it crosses are pulled (bids at or above it, asks at or below it, each a logged
    /// deletion) and a bid and an ask are quoted one tick either side, so the touch follows
    /// the move in one step and the book never crosses.
    pub fn reprice(&mut self, spec: &SymSpec, fair_ticks: i128, t_ms: u64, wall: i64) {
        let fair_ticks = fair_ticks.max(2);
        self.fair = fair_ticks;
        let f = fair_ticks * spec.tick;
        let asks: Vec<i128> = self.book.asks.range(..=f).map(|(p, _)| *p).collect();
        for px in asks {
            self.set_level(spec, BookSide::Ask, px, 0, t_ms, wall);
        }
        let bids: Vec<i128> = self.book.bids.range(f..).map(|(p, _)| *p).collect();
        for px in bids {
            self.set_level(spec, BookSide::Bid, px, 0, t_ms, wall);
        }
        // A side the move emptied (or nearly) gets a ladder, so trades cannot empty it before
        // the depth upkeep in `step` refills it; otherwise the touch alone.
        for side in [BookSide::Bid, BookSide::Ask] {
            let levels = if self.book.side(side).len() < REPRICE_LADDER {
                REPRICE_LADDER as i128
            } else {
                1
            };
            for k in 1..=levels {
                let px = match side {
                    BookSide::Bid => f - k * spec.tick,
                    BookSide::Ask => f + k * spec.tick,
                };
                if px <= 0 || (k > 1 && self.book.get(side, px) != 0) {
                    continue;
                }
                let q = rand_qty(spec, &mut self.rng);
                self.set_level(spec, side, px, q, t_ms, wall);
            }
        }
    }

    /// `full-reset` on a protobuf venue: the counter jumps and the book is rebuilt around the
    /// current fair value (every level removal and insertion still logged as a change).
    pub fn rebuild(&mut self, spec: &SymSpec, jump: u64, t_ms: u64, wall: i64) {
        self.seq += jump;
        let bids: Vec<i128> = self.book.bids.keys().copied().collect();
        for px in bids {
            self.set_level(spec, BookSide::Bid, px, 0, t_ms, wall);
        }
        let asks: Vec<i128> = self.book.asks.keys().copied().collect();
        for px in asks {
            self.set_level(spec, BookSide::Ask, px, 0, t_ms, wall);
        }
        let mid = self.fair;
        for i in 1..=(spec.depth as i128) {
            let q = rand_qty(spec, &mut self.rng);
            self.set_level(spec, BookSide::Bid, (mid - i) * spec.tick, q, t_ms, wall);
            let q = rand_qty(spec, &mut self.rng);
            self.set_level(spec, BookSide::Ask, (mid + i) * spec.tick, q, t_ms, wall);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_reproduces_past_book_and_book_never_crosses() {
        let spec = SymSpec::new(Venue::Mexc, Market::Spot, "BTCUSDT");
        let sym = Symbol::new(spec.clone(), 7, 1 << 16);
        let mut snaps = Vec::new();
        for i in 0..5_000u64 {
            let mut st = sym.lock();
            st.step(&spec, i / 10, 0);
            let b = st.book.bbo();
            assert!(b.bid.px.0 < b.ask.px.0, "crossed at step {i}");
            if i % 1000 == 0 {
                snaps.push((st.seq, st.book.clone()));
            }
        }
        for (seq, book) in snaps {
            let (s, b) = sym.book_at(seq).expect("in log");
            assert_eq!(s, seq);
            assert_eq!(b.bids, book.bids);
            assert_eq!(b.asks, book.asks);
        }
    }

    #[test]
    fn same_seed_same_market() {
        let spec = SymSpec::new(Venue::Gateio, Market::Futures, "BTC_USDT");
        let a = Symbol::new(spec.clone(), 42, 1 << 12);
        let b = Symbol::new(spec.clone(), 42, 1 << 12);
        for i in 0..2_000 {
            a.lock().step(&spec, i, 0);
            b.lock().step(&spec, i, 0);
        }
        assert_eq!(a.lock().seq, b.lock().seq);
        assert_eq!(a.lock().book.bids, b.lock().book.bids);
    }
}
