//! Channel names: the subscription channels we request ([`Channel`], [`Event`]) and the
//! classification of the `channel` field of every push (`channel_kind`, `obu_symbol`).

use crate::types::Market;

/// The request `event` of a channel request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// `"subscribe"`: start pushes for the payload.
    Subscribe,
    /// `"unsubscribe"`: stop them (also how an `obu` gap is healed: unsubscribe, resubscribe).
    Unsubscribe,
}

impl Event {
    /// The wire value (`subscribe`, `unsubscribe`); also part of the private-channel signature.
    pub const fn as_str(self) -> &'static str {
        match self {
            Event::Subscribe => "subscribe",
            Event::Unsubscribe => "unsubscribe",
        }
    }
}

/// One subscription. Pairs/contracts are venue names (`BTC_USDT`).
#[derive(Clone, Copy, Debug)]
pub enum Channel<'a> {
    /// `*.obu`, payload `["ob.<PAIR>.<depth>"]`; depth 50 (20 ms) or 400 (100 ms).
    Obu {
        /// Spot (`spot.obu`) or futures (`futures.obu`).
        market: Market,
        /// Pair or contract (`BTC_USDT`).
        pair: &'a str,
        /// Levels: 50 or 400.
        depth: u16,
    },
    /// Spot `spot.order_book_update` `[pair, interval]` (`"20ms"` ⇔ 20 levels, `"100ms"` ⇔ 100);
    /// futures `[contract, interval, level]` (`"100ms","100"`; `"20ms"` only with `"20"`).
    OrderBookUpdate {
        /// Spot or futures.
        market: Market,
        /// Pair or contract.
        pair: &'a str,
        /// Update interval as sent (`"20ms"`, `"100ms"`).
        interval: &'a str,
        /// Futures depth as sent (`"20"`, `"50"`, `"100"`); ignored on spot.
        level: &'a str,
    },
    /// Spot `spot.order_book` `[pair, level, interval]`; futures legacy `[contract, level, "0"]`.
    OrderBook {
        /// Spot or futures.
        market: Market,
        /// Pair or contract.
        pair: &'a str,
        /// Snapshot depth as sent (spot `"5"`…`"100"`, futures `"1"`…`"100"`).
        level: &'a str,
        /// Spot push interval (`"100ms"`, `"1000ms"`); ignored on futures (which sends `"0"`).
        interval: &'a str,
    },
    /// `*.trades`: public trades of the listed pairs/contracts.
    Trades {
        /// Spot or futures.
        market: Market,
        /// Pairs or contracts.
        pairs: &'a [&'a str],
    },
    /// `*.book_ticker`: best bid/offer of the listed pairs/contracts.
    BookTicker {
        /// Spot or futures.
        market: Market,
        /// Pairs or contracts.
        pairs: &'a [&'a str],
    },
    /// `*.tickers`: 24 h tickers (futures: with mark, index and funding).
    Tickers {
        /// Spot or futures.
        market: Market,
        /// Pairs or contracts.
        pairs: &'a [&'a str],
    },
    /// `spot.orders`: pairs or `["!all"]`.
    SpotOrders {
        /// Pairs, or `["!all"]`.
        pairs: &'a [&'a str],
    },
    /// `spot.usertrades`: own fills; pairs or `["!all"]`.
    SpotUserTrades {
        /// Pairs, or `["!all"]`.
        pairs: &'a [&'a str],
    },
    /// `spot.balances`: no payload.
    SpotBalances,
    /// `futures.orders` `[uid, contract|"!all", …]`.
    FuturesOrders {
        /// Account user id (login `uid`), first payload element.
        uid: &'a str,
        /// Contracts, or `["!all"]`.
        contracts: &'a [&'a str],
    },
    /// `futures.usertrades` `[uid, contract|"!all", …]`: own fills.
    FuturesUserTrades {
        /// Account user id, first payload element.
        uid: &'a str,
        /// Contracts, or `["!all"]`.
        contracts: &'a [&'a str],
    },
    /// `futures.positions` `[uid, contract|"!all", …]`.
    FuturesPositions {
        /// Account user id (documented as a placeholder), first payload element.
        uid: &'a str,
        /// Contracts, or `["!all"]`.
        contracts: &'a [&'a str],
    },
    /// `futures.balances` `[uid]`.
    FuturesBalances {
        /// Account user id, the only payload element.
        uid: &'a str,
    },
    /// `spot.candlesticks` / `futures.candlesticks` `[interval, pair]`, e.g. `["1m","BTC_USDT"]`
    /// (protocols.md §3.2; Gate futures WS v4 "Candlesticks subscription": same payload).
    Candlesticks {
        /// Spot or futures.
        market: Market,
        /// Gate's interval code (`10s`, `1m`, … `7d`; see `Interval::venue_code`).
        interval: &'a str,
        /// Pair or contract.
        pair: &'a str,
    },
}

impl Channel<'_> {
    /// Market the channel belongs to (private spot channels: spot; other private: futures).
    pub fn market(&self) -> Market {
        match *self {
            Channel::Obu { market, .. }
            | Channel::OrderBookUpdate { market, .. }
            | Channel::OrderBook { market, .. }
            | Channel::Trades { market, .. }
            | Channel::BookTicker { market, .. }
            | Channel::Tickers { market, .. }
            | Channel::Candlesticks { market, .. } => market,
            Channel::SpotOrders { .. } | Channel::SpotUserTrades { .. } | Channel::SpotBalances => {
                Market::Spot
            }
            _ => Market::Futures,
        }
    }

    /// Channel name, e.g. `spot.obu`.
    pub fn name(&self) -> &'static str {
        let spot = self.market() == Market::Spot;
        let pick = |s: &'static str, f: &'static str| if spot { s } else { f };
        match self {
            Channel::Obu { .. } => pick("spot.obu", "futures.obu"),
            Channel::OrderBookUpdate { .. } => {
                pick("spot.order_book_update", "futures.order_book_update")
            }
            Channel::OrderBook { .. } => pick("spot.order_book", "futures.order_book"),
            Channel::Trades { .. } => pick("spot.trades", "futures.trades"),
            Channel::BookTicker { .. } => pick("spot.book_ticker", "futures.book_ticker"),
            Channel::Tickers { .. } => pick("spot.tickers", "futures.tickers"),
            Channel::SpotOrders { .. } => "spot.orders",
            Channel::SpotUserTrades { .. } => "spot.usertrades",
            Channel::SpotBalances => "spot.balances",
            Channel::FuturesOrders { .. } => "futures.orders",
            Channel::FuturesUserTrades { .. } => "futures.usertrades",
            Channel::FuturesPositions { .. } => "futures.positions",
            Channel::FuturesBalances { .. } => "futures.balances",
            Channel::Candlesticks { .. } => pick("spot.candlesticks", "futures.candlesticks"),
        }
    }

    /// Whether the channel needs the signed `auth` object (orders, user trades, balances,
    /// positions).
    pub fn is_private(&self) -> bool {
        matches!(
            self,
            Channel::SpotOrders { .. }
                | Channel::SpotUserTrades { .. }
                | Channel::SpotBalances
                | Channel::FuturesOrders { .. }
                | Channel::FuturesUserTrades { .. }
                | Channel::FuturesPositions { .. }
                | Channel::FuturesBalances { .. }
        )
    }
}

/// Which parameter of a Gate.io book stream is refused (see [`book_stream`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BookParam {
    /// The update interval (`20ms`, `100ms`).
    Interval,
    /// The depth: obu stream depth, futures `order_book_update` level.
    Depth,
}

/// A Gate.io book stream as the venue accepts it: the interval and depth sent, and the levels
/// its pushes keep up to date (the REST snapshot `limit` for `order_book_update`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BookStream {
    /// Update interval as sent.
    pub interval: &'static str,
    /// Depth as configured: obu stream depth, futures level; spot `order_book_update` = the
    /// levels its interval carries.
    pub depth: u32,
    /// Levels the pushes cover per side (what a REST snapshot must be limited to).
    pub levels: u32,
}

/// The one table of Gate.io book-stream combinations, each from Gate's own documentation:
///
/// * `spot.order_book_update` `[pair, interval]`: "`20ms` corresponds to depth level `20`, and
///   `100ms` corresponds to depth level `100`" (Gate spot WS v4, "Changed order book levels");
///   the payload has no level (protocols.md §3.2). Depth 50 does not exist there.
/// * `futures.order_book_update` `[contract, frequency, level]`: frequency `20ms` or `100ms`,
///   level "100", "50", "20"; "`20ms` only Allowed "20"" (Gate futures WS v4, "Order book update
///   subscription"; protocols.md §4.2). Level 20 with `100ms` is allowed.
/// * `spot.obu` / `futures.obu` `ob.<pair>.<level>`: "level enum values are 400, 50; 400-level
///   updates every 100 ms; 50-level updates every 20 ms" (Order Book V2 in both docs;
///   protocols.md §3.2, §4.2).
///
/// `interval` / `depth` `None` = not configured: derived from the other, or the default (obu
/// 50 @ 20ms, order_book_update 100 @ 100ms). A configured pair that Gate refuses is an error
/// naming the parameter and saying what would be accepted.
pub fn book_stream(
    market: Market,
    obu: bool,
    interval: Option<&str>,
    depth: Option<u32>,
) -> Result<BookStream, (BookParam, String)> {
    let iv = match interval {
        None => None,
        Some("20ms") => Some("20ms"),
        Some("100ms") => Some("100ms"),
        Some(other) => {
            return Err((
                BookParam::Interval,
                format!("{other:?}: gateio takes 20ms or 100ms"),
            ))
        }
    };
    let stream = |interval, depth, levels| {
        Ok(BookStream {
            interval,
            depth,
            levels,
        })
    };
    if obu {
        let by_depth = |d: u32| match d {
            50 => Some("20ms"),
            400 => Some("100ms"),
            _ => None,
        };
        return match (iv, depth) {
            (None, None) => stream("20ms", 50, 50),
            (Some(i), None) => {
                let d = if i == "20ms" { 50 } else { 400 };
                stream(i, d, d)
            }
            (i, Some(d)) => match (by_depth(d), i) {
                (None, _) => Err((
                    BookParam::Depth,
                    format!("{d}: obu streams are 50 levels (20ms) or 400 levels (100ms)"),
                )),
                (Some(want), Some(i)) if want != i => Err((
                    BookParam::Interval,
                    format!("{i:?}: obu depth {d} is pushed every {want}, not {i}"),
                )),
                (Some(want), _) => stream(want, d, d),
            },
        };
    }
    match market {
        Market::Spot => {
            let by_depth = |d: u32| match d {
                20 => Some("20ms"),
                100 => Some("100ms"),
                _ => None,
            };
            match (iv, depth) {
                (None, None) => stream("100ms", 100, 100),
                (Some(i), None) => {
                    let d = if i == "20ms" { 20 } else { 100 };
                    stream(i, d, d)
                }
                (i, Some(d)) => match (by_depth(d), i) {
                    (None, _) => Err((
                        BookParam::Depth,
                        format!("{d}: spot order_book_update carries 20 levels at 20ms and 100 at 100ms (its payload has no level)"),
                    )),
                    (Some(want), Some(i)) if want != i => Err((
                        BookParam::Depth,
                        format!("{d}: spot order_book_update at {i} carries {} levels (its payload has no level)", if i == "20ms" { 20 } else { 100 }),
                    )),
                    (Some(want), _) => stream(want, d, d),
                },
            }
        }
        Market::Futures => {
            let i = iv.unwrap_or("100ms");
            let d = depth.unwrap_or(if i == "20ms" { 20 } else { 100 });
            if !matches!(d, 20 | 50 | 100) {
                return Err((
                    BookParam::Depth,
                    format!("{d}: futures order_book_update levels are 20, 50 or 100"),
                ));
            }
            if i == "20ms" && d != 20 {
                return Err((
                    BookParam::Depth,
                    format!("{d}: futures order_book_update at 20ms allows level 20 only (100ms takes 20, 50 or 100)"),
                ));
            }
            stream(i, d, d)
        }
    }
}

/// Strip `ob.` and a trailing `.<digits>` from an obu stream name (`ob.BTC_USDT.50` → `BTC_USDT`).
#[inline]
pub(crate) fn obu_symbol(s: &str) -> &str {
    let Some(rest) = s.strip_prefix("ob.") else {
        return s;
    };
    match rest.rsplit_once('.') {
        Some((pair, depth)) if !depth.is_empty() && depth.bytes().all(|c| c.is_ascii_digit()) => {
            pair
        }
        _ => rest,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Obu,
    Update,
    OrderBook,
    Trades,
    BookTicker,
    Tickers,
    Orders,
    UserTrades,
    Balances,
    Positions,
    Candlesticks,
}

/// `spot.obu` → (Spot, Obu).
#[inline]
pub(crate) fn channel_kind(ch: &[u8]) -> Option<(Market, Kind)> {
    let (m, rest) = if let Some(r) = ch.strip_prefix(b"spot.") {
        (Market::Spot, r)
    } else if let Some(r) = ch.strip_prefix(b"futures.") {
        (Market::Futures, r)
    } else {
        return None;
    };
    let k = match rest {
        b"obu" => Kind::Obu,
        b"order_book_update" => Kind::Update,
        b"order_book" => Kind::OrderBook,
        b"trades" => Kind::Trades,
        b"book_ticker" => Kind::BookTicker,
        b"tickers" => Kind::Tickers,
        b"orders" => Kind::Orders,
        b"usertrades" => Kind::UserTrades,
        b"balances" => Kind::Balances,
        b"positions" => Kind::Positions,
        b"candlesticks" => Kind::Candlesticks,
        _ => return None,
    };
    Some((m, k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obu_symbol_strips_prefix_and_depth() {
        assert_eq!(obu_symbol("ob.BTC_USDT.50"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.BTC_USDT.400"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.BTC_USDT"), "BTC_USDT");
        assert_eq!(obu_symbol("ob.A.B.x"), "A.B.x");
        assert_eq!(obu_symbol("BTC_USDT"), "BTC_USDT");
    }

    /// Issue 13, finding 1: every Gate.io book-stream combination, as Gate documents it.
    #[test]
    fn issue13_finding1_book_stream_table() {
        use BookParam::*;
        let ok = |m, obu, i: Option<&str>, d: Option<u32>| {
            let s = book_stream(m, obu, i, d).unwrap();
            (s.interval, s.depth, s.levels)
        };
        let bad =
            |m, obu, i: Option<&str>, d: Option<u32>| book_stream(m, obu, i, d).unwrap_err().0;
        let (sp, fu) = (Market::Spot, Market::Futures);
        // obu: 50 @ 20ms, 400 @ 100ms, either derived from the other.
        assert_eq!(ok(sp, true, None, None), ("20ms", 50, 50));
        assert_eq!(ok(fu, true, None, Some(400)), ("100ms", 400, 400));
        assert_eq!(ok(sp, true, Some("100ms"), None), ("100ms", 400, 400));
        assert_eq!(bad(sp, true, Some("20ms"), Some(400)), Interval);
        assert_eq!(bad(fu, true, None, Some(100)), Depth);
        // spot order_book_update: the interval is the depth; 50 does not exist.
        assert_eq!(ok(sp, false, None, None), ("100ms", 100, 100));
        assert_eq!(ok(sp, false, Some("20ms"), None), ("20ms", 20, 20));
        assert_eq!(ok(sp, false, None, Some(20)), ("20ms", 20, 20));
        assert_eq!(bad(sp, false, None, Some(50)), Depth);
        assert_eq!(bad(sp, false, Some("20ms"), Some(100)), Depth);
        assert_eq!(bad(sp, false, Some("100ms"), Some(20)), Depth);
        // futures order_book_update: 20ms only with level 20; 100ms with 20, 50, 100.
        assert_eq!(ok(fu, false, None, None), ("100ms", 100, 100));
        assert_eq!(ok(fu, false, Some("20ms"), None), ("20ms", 20, 20));
        assert_eq!(ok(fu, false, Some("100ms"), Some(20)), ("100ms", 20, 20));
        assert_eq!(ok(fu, false, None, Some(50)), ("100ms", 50, 50));
        assert_eq!(bad(fu, false, Some("20ms"), Some(100)), Depth);
        assert_eq!(bad(fu, false, Some("20ms"), Some(50)), Depth);
        assert_eq!(bad(fu, false, None, Some(10)), Depth);
        assert_eq!(bad(fu, false, Some("1000ms"), None), Interval);
    }
}
