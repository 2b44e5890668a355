//! Channel names (protocols.md §1.4): the typed [`Channel`] catalogue, its parser, symbol
//! validation.

use std::fmt;

/// Longest symbol accepted by [`validate_symbol`].
pub const MAX_SYMBOL_LEN: usize = 32;

/// Why a channel could not be built or parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelError {
    /// The symbol is the empty string.
    EmptySymbol,
    /// Longer than [`MAX_SYMBOL_LEN`].
    SymbolTooLong,
    /// Only `A`–`Z` and `0`–`9` (upper case, no separator: `BTCUSDT`).
    BadSymbolChar(u8),
    /// Not a channel name this crate knows.
    Unknown,
}

impl fmt::Display for ChannelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChannelError::EmptySymbol => f.write_str("empty symbol"),
            ChannelError::SymbolTooLong => f.write_str("symbol too long"),
            ChannelError::BadSymbolChar(c) => write!(
                f,
                "symbol byte {c:#04x} not allowed (upper-case letters and digits only, no separator)"
            ),
            ChannelError::Unknown => f.write_str("unknown channel"),
        }
    }
}

impl std::error::Error for ChannelError {}

/// Channel symbols are upper case letters and digits without separator (`BTCUSDT`).
pub fn validate_symbol(symbol: &str) -> Result<(), ChannelError> {
    if symbol.is_empty() {
        return Err(ChannelError::EmptySymbol);
    }
    if symbol.len() > MAX_SYMBOL_LEN {
        return Err(ChannelError::SymbolTooLong);
    }
    match symbol
        .bytes()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit()))
    {
        Some(c) => Err(ChannelError::BadSymbolChar(c)),
        None => Ok(()),
    }
}

/// Push cadence of the aggregated channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interval {
    /// `10ms` windows.
    Ms10,
    /// `100ms` windows.
    Ms100,
}

impl Interval {
    /// The channel-name segment (`10ms`, `100ms`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::Ms10 => "10ms",
            Interval::Ms100 => "100ms",
        }
    }
    fn parse(s: &str) -> Option<Interval> {
        match s {
            "10ms" => Some(Interval::Ms10),
            "100ms" => Some(Interval::Ms100),
            _ => None,
        }
    }
}

/// Depth of the limited-depth snapshot channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitLevels {
    /// Top 5 levels per side.
    L5,
    /// Top 10 levels per side.
    L10,
    /// Top 20 levels per side.
    L20,
}

impl LimitLevels {
    /// The channel-name segment (`5`, `10`, `20`).
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitLevels::L5 => "5",
            LimitLevels::L10 => "10",
            LimitLevels::L20 => "20",
        }
    }
    fn parse(s: &str) -> Option<LimitLevels> {
        match s {
            "5" => Some(LimitLevels::L5),
            "10" => Some(LimitLevels::L10),
            "20" => Some(LimitLevels::L20),
            _ => None,
        }
    }
}

const AGGRE_DEPTH: &str = "spot@public.aggre.depth.v3.api.pb";
const AGGRE_DEALS: &str = "spot@public.aggre.deals.v3.api.pb";
const AGGRE_BOOK_TICKER: &str = "spot@public.aggre.bookTicker.v3.api.pb";
const LIMIT_DEPTH: &str = "spot@public.limit.depth.v3.api.pb";
const BOOK_TICKER_BATCH: &str = "spot@public.bookTicker.batch.v3.api.pb";
/// Private orders channel (listen-key connection).
pub const PRIVATE_ORDERS: &str = "spot@private.orders.v3.api.pb";
/// Private fills channel.
pub const PRIVATE_DEALS: &str = "spot@private.deals.v3.api.pb";
/// Private balances channel.
pub const PRIVATE_ACCOUNT: &str = "spot@private.account.v3.api.pb";

/// A channel this crate subscribes to. `Display` writes the exact wire name; build through
/// [`Channel::name`] to validate the symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel<'a> {
    /// `spot@public.aggre.depth.v3.api.pb@(10ms|100ms)@SYM` → body 313.
    AggreDepth {
        /// Upper-case symbol without separator (`BTCUSDT`).
        symbol: &'a str,
        /// Aggregation window.
        interval: Interval,
    },
    /// `spot@public.aggre.deals.v3.api.pb@(10ms|100ms)@SYM` → body 314.
    AggreDeals {
        /// Upper-case symbol without separator.
        symbol: &'a str,
        /// Aggregation window.
        interval: Interval,
    },
    /// `spot@public.aggre.bookTicker.v3.api.pb@(10ms|100ms)@SYM` → body 315.
    AggreBookTicker {
        /// Upper-case symbol without separator.
        symbol: &'a str,
        /// Aggregation window.
        interval: Interval,
    },
    /// `spot@public.limit.depth.v3.api.pb@SYM@(5|10|20)` → body 303.
    LimitDepth {
        /// Upper-case symbol without separator.
        symbol: &'a str,
        /// Levels per side in each snapshot push.
        levels: LimitLevels,
    },
    /// `spot@public.bookTicker.batch.v3.api.pb@SYM` → body 311.
    BookTickerBatch {
        /// Upper-case symbol without separator.
        symbol: &'a str,
    },
    /// `spot@private.orders.v3.api.pb` → body 304.
    PrivateOrders,
    /// `spot@private.deals.v3.api.pb` → body 306.
    PrivateDeals,
    /// `spot@private.account.v3.api.pb` → body 307.
    PrivateAccount,
}

impl<'a> Channel<'a> {
    /// The symbol, for public channels.
    pub fn symbol(&self) -> Option<&'a str> {
        match *self {
            Channel::AggreDepth { symbol, .. }
            | Channel::AggreDeals { symbol, .. }
            | Channel::AggreBookTicker { symbol, .. }
            | Channel::LimitDepth { symbol, .. }
            | Channel::BookTickerBatch { symbol } => Some(symbol),
            _ => None,
        }
    }

    /// Whether the channel needs a listen-key connection.
    pub fn is_private(&self) -> bool {
        self.symbol().is_none()
    }

    /// Validated wire name.
    pub fn name(&self) -> Result<String, ChannelError> {
        if let Some(s) = self.symbol() {
            validate_symbol(s)?;
        }
        Ok(self.to_string())
    }

    /// Parse a wire name (e.g. routing a subscription on a loopback venue). Borrows the symbol.
    pub fn parse(s: &'a str) -> Result<Channel<'a>, ChannelError> {
        match s {
            PRIVATE_ORDERS => return Ok(Channel::PrivateOrders),
            PRIVATE_DEALS => return Ok(Channel::PrivateDeals),
            PRIVATE_ACCOUNT => return Ok(Channel::PrivateAccount),
            _ => {}
        }
        let mut it = s.split('@');
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            return Err(ChannelError::Unknown);
        };
        let base_len = a.len() + 1 + b.len();
        let base = &s[..base_len];
        let p1 = it.next();
        let p2 = it.next();
        let extra = it.next();
        if extra.is_some() {
            return Err(ChannelError::Unknown);
        }
        let ch = match (base, p1, p2) {
            (AGGRE_DEPTH | AGGRE_DEALS | AGGRE_BOOK_TICKER, Some(iv), Some(symbol)) => {
                let interval = Interval::parse(iv).ok_or(ChannelError::Unknown)?;
                match base {
                    AGGRE_DEPTH => Channel::AggreDepth { symbol, interval },
                    AGGRE_DEALS => Channel::AggreDeals { symbol, interval },
                    _ => Channel::AggreBookTicker { symbol, interval },
                }
            }
            (LIMIT_DEPTH, Some(symbol), Some(lv)) => Channel::LimitDepth {
                symbol,
                levels: LimitLevels::parse(lv).ok_or(ChannelError::Unknown)?,
            },
            (BOOK_TICKER_BATCH, Some(symbol), None) => Channel::BookTickerBatch { symbol },
            _ => return Err(ChannelError::Unknown),
        };
        if let Some(sym) = ch.symbol() {
            validate_symbol(sym)?;
        }
        Ok(ch)
    }
}

impl fmt::Display for Channel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Channel::AggreDepth { symbol, interval } => {
                write!(f, "{AGGRE_DEPTH}@{}@{symbol}", interval.as_str())
            }
            Channel::AggreDeals { symbol, interval } => {
                write!(f, "{AGGRE_DEALS}@{}@{symbol}", interval.as_str())
            }
            Channel::AggreBookTicker { symbol, interval } => {
                write!(f, "{AGGRE_BOOK_TICKER}@{}@{symbol}", interval.as_str())
            }
            Channel::LimitDepth { symbol, levels } => {
                write!(f, "{LIMIT_DEPTH}@{symbol}@{}", levels.as_str())
            }
            Channel::BookTickerBatch { symbol } => write!(f, "{BOOK_TICKER_BATCH}@{symbol}"),
            Channel::PrivateOrders => f.write_str(PRIVATE_ORDERS),
            Channel::PrivateDeals => f.write_str(PRIVATE_DEALS),
            Channel::PrivateAccount => f.write_str(PRIVATE_ACCOUNT),
        }
    }
}

/// `spot@public.aggre.depth.v3.api.pb@<interval>@<SYMBOL>`.
pub fn aggre_depth_channel(symbol: &str, interval: Interval) -> Result<String, ChannelError> {
    Channel::AggreDepth { symbol, interval }.name()
}

/// `spot@public.aggre.deals.v3.api.pb@<interval>@<SYMBOL>`.
pub fn aggre_deals_channel(symbol: &str, interval: Interval) -> Result<String, ChannelError> {
    Channel::AggreDeals { symbol, interval }.name()
}

/// `spot@public.aggre.bookTicker.v3.api.pb@<interval>@<SYMBOL>`.
pub fn aggre_book_ticker_channel(symbol: &str, interval: Interval) -> Result<String, ChannelError> {
    Channel::AggreBookTicker { symbol, interval }.name()
}

/// `spot@public.limit.depth.v3.api.pb@<SYMBOL>@<5|10|20>`.
pub fn limit_depth_channel(symbol: &str, levels: LimitLevels) -> Result<String, ChannelError> {
    Channel::LimitDepth { symbol, levels }.name()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::mexc::urls::{depth_snapshot_path, private_ws_url};

    #[test]
    fn channel_names_match_the_catalogue() {
        assert_eq!(
            aggre_depth_channel("BTCUSDT", Interval::Ms100).unwrap(),
            "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
        );
        assert_eq!(
            aggre_deals_channel("BTCUSDT", Interval::Ms10).unwrap(),
            "spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT"
        );
        assert_eq!(
            aggre_book_ticker_channel("ETHUSDC", Interval::Ms100).unwrap(),
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@ETHUSDC"
        );
        assert_eq!(
            limit_depth_channel("BTCUSDT", LimitLevels::L20).unwrap(),
            "spot@public.limit.depth.v3.api.pb@BTCUSDT@20"
        );
        assert_eq!(
            Channel::BookTickerBatch { symbol: "BTCUSDT" }
                .name()
                .unwrap(),
            "spot@public.bookTicker.batch.v3.api.pb@BTCUSDT"
        );
        assert_eq!(
            Channel::PrivateOrders.to_string(),
            "spot@private.orders.v3.api.pb"
        );
        assert_eq!(
            Channel::PrivateDeals.to_string(),
            "spot@private.deals.v3.api.pb"
        );
        assert_eq!(
            Channel::PrivateAccount.to_string(),
            "spot@private.account.v3.api.pb"
        );
        assert!(Channel::PrivateAccount.is_private());
    }

    #[test]
    fn symbols_are_validated() {
        assert_eq!(
            aggre_depth_channel("btcusdt", Interval::Ms10),
            Err(ChannelError::BadSymbolChar(b'b'))
        );
        assert_eq!(
            aggre_depth_channel("BTC_USDT", Interval::Ms10),
            Err(ChannelError::BadSymbolChar(b'_'))
        );
        assert_eq!(
            aggre_depth_channel("", Interval::Ms10),
            Err(ChannelError::EmptySymbol)
        );
        assert_eq!(
            validate_symbol(&"A".repeat(33)),
            Err(ChannelError::SymbolTooLong)
        );
        assert!(validate_symbol("1000SATSUSDT").is_ok());
    }

    #[test]
    fn parse_round_trips() {
        let all = [
            Channel::AggreDepth {
                symbol: "BTCUSDT",
                interval: Interval::Ms10,
            },
            Channel::AggreDeals {
                symbol: "BTCUSDT",
                interval: Interval::Ms100,
            },
            Channel::AggreBookTicker {
                symbol: "BTCUSDT",
                interval: Interval::Ms100,
            },
            Channel::LimitDepth {
                symbol: "BTCUSDT",
                levels: LimitLevels::L5,
            },
            Channel::BookTickerBatch { symbol: "BTCUSDT" },
            Channel::PrivateOrders,
            Channel::PrivateDeals,
            Channel::PrivateAccount,
        ];
        for c in all {
            let s = c.name().unwrap();
            assert_eq!(Channel::parse(&s), Ok(c));
        }
        for bad in [
            "spot@public.aggre.deals.v3.api.pb@BTCUSDT",
            "spot@public.increase.depth.v3.api@BTCUSDT",
            "spot@public.aggre.depth.v3.api.pb@1ms@BTCUSDT",
            "spot@public.limit.depth.v3.api.pb@BTCUSDT@7",
            "spot@public.aggre.depth.v3.api.pb@10ms@btcusdt",
            "",
        ] {
            assert!(Channel::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            depth_snapshot_path("BTCUSDT", 9999).unwrap(),
            "/api/v3/depth?symbol=BTCUSDT&limit=5000"
        );
        assert_eq!(
            private_ws_url("abc"),
            "wss://wbs-api.mexc.com/ws?listenKey=abc"
        );
    }
}
