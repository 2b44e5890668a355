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
            | Channel::Tickers { market, .. } => market,
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
}
