//! Candles (klines) of one simulated symbol, built from its own trades: one open candle and a
//! short history of closed ones per interval. The venue's own vocabulary (no code shared with
//! the client): each interval has a length and the code each exchange uses for it.
//!
//! * MEXC `spot@public.kline.v3.api.pb@<SYMBOL>@<Min1|Min5|Min15|Min30|Min60|Hour4|Hour8|Day1|Week1|Month1>`
//!   (protocols.md §1.4; body 308 `PublicSpotKlineV3Api`, window bounds in seconds, §1.5).
//! * Gate.io `spot.candlesticks` / `futures.candlesticks` with payload `[interval, pair]`,
//!   interval `10s 1m 5m 15m 30m 1h 4h 8h 1d 7d` (protocols.md §3.2; Gate spot and futures WS v4
//!   docs, "Candlesticks").
//!
//! A window is `[open, open + length)` on the venue's wall clock (epoch ms), aligned to a
//! multiple of its length. A candle opens at the first trade of its window (a window without
//! trades has no candle) and closes when the clock passes its end. Tests may shorten every
//! window to `window_override_ms` (whole seconds, because MEXC's bounds are seconds).

use crate::num::{Px, Qty};
use std::collections::VecDeque;

/// One interval: (length in seconds, MEXC code, Gate.io code).
#[derive(Debug, Clone, Copy)]
pub struct Iv {
    pub secs: i64,
    pub mexc: Option<&'static str>,
    pub gate: Option<&'static str>,
}

/// Every interval either exchange offers.
pub const INTERVALS: [Iv; 11] = [
    Iv {
        secs: 10,
        mexc: None,
        gate: Some("10s"),
    },
    Iv {
        secs: 60,
        mexc: Some("Min1"),
        gate: Some("1m"),
    },
    Iv {
        secs: 300,
        mexc: Some("Min5"),
        gate: Some("5m"),
    },
    Iv {
        secs: 900,
        mexc: Some("Min15"),
        gate: Some("15m"),
    },
    Iv {
        secs: 1_800,
        mexc: Some("Min30"),
        gate: Some("30m"),
    },
    Iv {
        secs: 3_600,
        mexc: Some("Min60"),
        gate: Some("1h"),
    },
    Iv {
        secs: 14_400,
        mexc: Some("Hour4"),
        gate: Some("4h"),
    },
    Iv {
        secs: 28_800,
        mexc: Some("Hour8"),
        gate: Some("8h"),
    },
    Iv {
        secs: 86_400,
        mexc: Some("Day1"),
        gate: Some("1d"),
    },
    Iv {
        secs: 604_800,
        mexc: Some("Week1"),
        gate: Some("7d"),
    },
    Iv {
        secs: 2_592_000,
        mexc: Some("Month1"),
        gate: None,
    },
];

/// Index of the interval MEXC names `code`.
pub fn mexc_index(code: &str) -> Option<usize> {
    INTERVALS.iter().position(|i| i.mexc == Some(code))
}

/// Index of the interval Gate.io names `code`.
pub fn gate_index(code: &str) -> Option<usize> {
    INTERVALS.iter().position(|i| i.gate == Some(code))
}

/// Closed candles kept per interval.
pub const HISTORY: usize = 512;

/// One candle. Prices and sizes as the venue publishes them (futures: contracts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candle {
    /// Window start, epoch ms.
    pub open_ms: i64,
    /// Window length, ms.
    pub len_ms: i64,
    pub open: Px,
    pub high: Px,
    pub low: Px,
    pub close: Px,
    /// Traded size: base on spot, contracts on futures.
    pub volume: Qty,
    /// Traded value in the quote currency (`Px` × base size), exact.
    pub quote_volume: Qty,
    /// Futures: base amount (contracts × multiplier); spot: equal to `volume`.
    pub base_volume: Qty,
    /// Trades in the candle.
    pub trades: u64,
    pub closed: bool,
}

impl Candle {
    /// Window end, epoch ms.
    pub fn end_ms(&self) -> i64 {
        self.open_ms + self.len_ms
    }
}

/// The candles of one symbol.
#[derive(Debug)]
pub struct Klines {
    /// Every window this long instead of its interval (tests), ms.
    pub window_override_ms: Option<i64>,
    cur: [Option<Candle>; INTERVALS.len()],
    closed: Vec<VecDeque<Candle>>,
}

impl Default for Klines {
    fn default() -> Self {
        Klines {
            window_override_ms: None,
            cur: [None; INTERVALS.len()],
            closed: (0..INTERVALS.len()).map(|_| VecDeque::new()).collect(),
        }
    }
}

impl Klines {
    /// Window length of interval `i`, ms.
    pub fn len_ms(&self, i: usize) -> i64 {
        self.window_override_ms
            .unwrap_or(INTERVALS[i].secs * 1000)
            .max(1000)
    }

    /// Close every candle whose window ended by `wall_ms`.
    pub fn roll(&mut self, wall_ms: i64) {
        for i in 0..INTERVALS.len() {
            if let Some(c) = self.cur[i] {
                if wall_ms >= c.end_ms() {
                    let mut c = c;
                    c.closed = true;
                    let h = &mut self.closed[i];
                    if h.len() == HISTORY {
                        h.pop_front();
                    }
                    h.push_back(c);
                    self.cur[i] = None;
                }
            }
        }
    }

    /// A trade of `size` (venue units) at `px` at `wall_ms`; `quote` its value in the quote
    /// currency, `base` its base amount.
    pub fn on_trade(&mut self, wall_ms: i64, px: Px, size: Qty, quote: Qty, base: Qty) {
        if wall_ms <= 0 {
            return;
        }
        self.roll(wall_ms);
        for i in 0..INTERVALS.len() {
            let len = self.len_ms(i);
            let c = self.cur[i].get_or_insert(Candle {
                open_ms: wall_ms - wall_ms.rem_euclid(len),
                len_ms: len,
                open: px,
                high: px,
                low: px,
                close: px,
                volume: Qty::ZERO,
                quote_volume: Qty::ZERO,
                base_volume: Qty::ZERO,
                trades: 0,
                closed: false,
            });
            c.high = c.high.max(px);
            c.low = c.low.min(px);
            c.close = px;
            c.volume = Qty(c.volume.0 + size.0);
            c.quote_volume = Qty(c.quote_volume.0 + quote.0);
            c.base_volume = Qty(c.base_volume.0 + base.0);
            c.trades += 1;
        }
    }

    /// The open candle of interval `i`, if its window has a trade.
    pub fn current(&self, i: usize) -> Option<Candle> {
        self.cur[i]
    }

    /// Closed candles of interval `i` that opened at or after `from_ms`, oldest first.
    pub fn closed_since(&self, i: usize, from_ms: i64) -> impl Iterator<Item = &Candle> + '_ {
        self.closed[i].iter().filter(move |c| c.open_ms >= from_ms)
    }

    /// Every closed candle of interval `i` still kept, oldest first.
    pub fn closed(&self, i: usize) -> Vec<Candle> {
        self.closed[i].iter().copied().collect()
    }
}

/// What a kline subscription has delivered: the newest closed window and the state of the open
/// one last pushed.
#[derive(Debug, Clone, Copy, Default)]
pub struct SubCursor {
    /// Closed candles that opened before this were sent (or predate the subscription).
    pub closed_from_ms: i64,
    /// The open candle last pushed: (open_ms, trades).
    pub last_open: Option<(i64, u64)>,
    /// When the open candle was last pushed (venue `Instant`-based ns).
    pub last_push_ns: u64,
}

impl SubCursor {
    /// A cursor for a subscription made at `wall_ms`: closed windows before it are not sent.
    pub fn new(k: &Klines, i: usize, wall_ms: i64) -> SubCursor {
        let len = k.len_ms(i);
        SubCursor {
            closed_from_ms: wall_ms - wall_ms.rem_euclid(len),
            last_open: None,
            last_push_ns: 0,
        }
    }

    /// Candles to push now: newly closed ones (oldest first), then the open one when its
    /// window is new to this subscription or `period_ns` passed since it was last pushed (the
    /// exchanges push candles on a cadence, not per trade: MEXC ~1 s, Gate 2 s).
    pub fn due(&mut self, k: &Klines, i: usize, now_ns: u64, period_ns: u64) -> Vec<Candle> {
        let mut out: Vec<Candle> = k.closed_since(i, self.closed_from_ms).copied().collect();
        if let Some(last) = out.last() {
            self.closed_from_ms = last.open_ms + 1;
        }
        if let Some(c) = k.current(i) {
            let key = (c.open_ms, c.trades);
            if c.open_ms >= self.closed_from_ms
                && (self.last_open.map(|(o, _)| o) != Some(c.open_ms)
                    || now_ns.saturating_sub(self.last_push_ns) >= period_ns)
            {
                self.last_open = Some(key);
                self.last_push_ns = now_ns;
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(v: i64) -> Px {
        Px::from_int(v)
    }

    #[test]
    fn candles_aggregate_trades_and_close_when_the_window_ends() {
        let mut k = Klines {
            window_override_ms: Some(2000),
            ..Klines::default()
        };
        let m1 = mexc_index("Min1").unwrap();
        let q = Qty::from_int(1);
        k.on_trade(10_500, px(5), q, Qty::from_int(5), q);
        k.on_trade(11_000, px(7), q, Qty::from_int(7), q);
        k.on_trade(11_900, px(4), q, Qty::from_int(4), q);
        let c = k.current(m1).unwrap();
        assert_eq!(
            (c.open_ms, c.open, c.high, c.low, c.close),
            (10_000, px(5), px(7), px(4), px(4))
        );
        assert_eq!(
            (c.volume, c.quote_volume, c.trades),
            (Qty::from_int(3), Qty::from_int(16), 3)
        );
        let mut cur = SubCursor::new(&k, m1, 10_600);
        assert_eq!(cur.due(&k, m1, 1, u64::MAX).len(), 1);
        k.on_trade(11_950, px(4), q, Qty::from_int(4), q);
        assert!(
            cur.due(&k, m1, 2, u64::MAX).is_empty(),
            "same window within the period: not pushed again, even if changed"
        );
        assert_eq!(cur.due(&k, m1, 2, 1).len(), 1, "period passed: pushed");
        k.roll(12_000);
        assert!(k.current(m1).is_none());
        let d = cur.due(&k, m1, 3, u64::MAX);
        assert_eq!(d.len(), 1);
        assert!(d[0].closed && d[0].close == px(4));
        assert!(cur.due(&k, m1, 4, u64::MAX).is_empty());
        k.on_trade(12_100, px(9), q, Qty::from_int(9), q);
        let d = cur.due(&k, m1, 5, u64::MAX);
        assert_eq!((d.len(), d[0].open_ms, d[0].closed), (1, 12_000, false));
    }
}
