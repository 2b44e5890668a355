//! Channel names: the subscription channels we request ([`Channel`], [`Event`]) and the
//! classification of the `channel` field of every push ([`channel_kind`], [`obu_symbol`]).

use crate::types::Market;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Subscribe,
    Unsubscribe,
}

impl Event {
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
        market: Market,
        pair: &'a str,
        depth: u16,
    },
    /// Spot `spot.order_book_update` `[pair, interval]` (`"20ms"` ⇔ 20 levels, `"100ms"` ⇔ 100);
    /// futures `[contract, interval, level]` (`"100ms","100"`; `"20ms"` only with `"20"`).
    OrderBookUpdate {
        market: Market,
        pair: &'a str,
        interval: &'a str,
        level: &'a str,
    },
    /// Spot `spot.order_book` `[pair, level, interval]`; futures legacy `[contract, level, "0"]`.
    OrderBook {
        market: Market,
        pair: &'a str,
        level: &'a str,
        interval: &'a str,
    },
    Trades {
        market: Market,
        pairs: &'a [&'a str],
    },
    BookTicker {
        market: Market,
        pairs: &'a [&'a str],
    },
    Tickers {
        market: Market,
        pairs: &'a [&'a str],
    },
    /// `spot.orders`: pairs or `["!all"]`.
    SpotOrders {
        pairs: &'a [&'a str],
    },
    SpotUserTrades {
        pairs: &'a [&'a str],
    },
    /// `spot.balances`: no payload.
    SpotBalances,
    /// `futures.orders` `[uid, contract|"!all", …]`.
    FuturesOrders {
        uid: &'a str,
        contracts: &'a [&'a str],
    },
    FuturesUserTrades {
        uid: &'a str,
        contracts: &'a [&'a str],
    },
    FuturesPositions {
        uid: &'a str,
        contracts: &'a [&'a str],
    },
    /// `futures.balances` `[uid]`.
    FuturesBalances {
        uid: &'a str,
    },
}

impl Channel<'_> {
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
