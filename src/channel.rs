//! Channel names a strategy binds: `<venue>.<market>.<kind>[.<SYMBOL>]`.
//!
//! ```text
//! gateio.spot.orderbook.BTC_USDT     public kinds take a symbol in the venue's own form
//! gateio.futures.bbo.BTC_USDT
//! mexc.spot.trades.BTCUSDT
//! mexc.spot.kline.1m.BTCUSDT         candles take an interval before the symbol
//! gateio.futures.kline.1h.BTC_USDT   (1m 5m 15m 30m 1h 4h 8h 1d 1w, 10s Gate.io only, 1M MEXC only)
//! gateio.futures.positions           private kinds are account-wide: no symbol
//! mexc.spot.orders
//! ```
//!
//! Parsing is cold-path and strict: every refusal says which part is wrong and what would be right.

pub use crate::types::Interval;
use crate::types::{Market, Venue};
use std::fmt;

/// What a channel carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// Incremental order book kept in sync; delivered as pooled top-N books (`orderbook`).
    OrderBook,
    /// Public trades (`trades`).
    Trades,
    /// Best bid and ask (`bbo`; the venue's book ticker).
    Bbo,
    /// 24 h ticker, mark/index price and funding on futures (`ticker`).
    Ticker,
    /// Own orders, private (`orders`).
    Orders,
    /// Own fills, private (`fills`).
    Fills,
    /// Balances, private (`balances`).
    Balances,
    /// Futures positions, private (`positions`).
    Positions,
    /// Candles of one interval (`kline.<interval>`): open/high/low/close/volume of the
    /// interval's window as the venue pushes it, and whether the window is closed.
    Kline(Interval),
}

impl Kind {
    /// The kinds that take a symbol, `kline` aside (it also takes an interval: `Kind::Kline`).
    pub const PUBLIC: [Kind; 4] = [Kind::OrderBook, Kind::Trades, Kind::Bbo, Kind::Ticker];
    /// The account-wide kinds (no symbol; need credentials).
    pub const PRIVATE: [Kind; 4] = [Kind::Orders, Kind::Fills, Kind::Balances, Kind::Positions];

    /// The name used in channel names and config files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::OrderBook => "orderbook",
            Kind::Trades => "trades",
            Kind::Bbo => "bbo",
            Kind::Ticker => "ticker",
            Kind::Orders => "orders",
            Kind::Fills => "fills",
            Kind::Balances => "balances",
            Kind::Positions => "positions",
            Kind::Kline(_) => "kline",
        }
    }

    /// The kind named `s` (`"orderbook"`, …, `"kline.1m"`), if any: its `Display` form.
    /// Whether a venue offers a kline interval is checked by [`Channel::parse`].
    pub fn parse(s: &str) -> Option<Kind> {
        if let Some(iv) = s.strip_prefix("kline.") {
            return Interval::parse(iv).map(Kind::Kline);
        }
        Kind::PUBLIC
            .iter()
            .chain(Kind::PRIVATE.iter())
            .copied()
            .find(|k| k.as_str() == s)
    }

    /// Account-wide kinds: orders, fills, balances, positions.
    pub const fn is_private(self) -> bool {
        matches!(
            self,
            Kind::Orders | Kind::Fills | Kind::Balances | Kind::Positions
        )
    }
}

/// The kind as written in channel names and config files: [`Kind::as_str`], with the interval
/// for klines (`kline.1m`).
impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Kline(iv) => write!(f, "kline.{iv}"),
            k => f.write_str(k.as_str()),
        }
    }
}

/// A parsed, validated channel name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    /// The exchange.
    pub venue: Venue,
    /// Spot or USDT futures.
    pub market: Market,
    /// What the channel carries.
    pub kind: Kind,
    /// Venue-native symbol for public kinds; `None` for private kinds.
    pub symbol: Option<String>,
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.venue.as_str(),
            self.market.as_str(),
            self.kind
        )?;
        if let Some(s) = &self.symbol {
            write!(f, ".{s}")?;
        }
        Ok(())
    }
}

/// Why a channel name was refused. Each variant names the part and the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// Not `<venue>.<market>.<kind>[.<SYMBOL>]`.
    #[error("malformed channel {input:?}: expected <venue>.<market>.<kind>[.<SYMBOL>], e.g. gateio.spot.orderbook.BTC_USDT")]
    Malformed {
        /// The name as given.
        input: String,
    },
    /// The venue part is not `mexc` or `gateio`.
    #[error("unknown venue {got:?} in {input:?}: expected one of mexc, gateio")]
    UnknownVenue {
        /// The name as given.
        input: String,
        /// The venue part.
        got: String,
    },
    /// The venue has no such market.
    #[error("unknown market {got:?} for venue {venue} in {input:?}: expected {expected}")]
    UnknownMarket {
        /// The name as given.
        input: String,
        /// The venue.
        venue: &'static str,
        /// The market part.
        got: String,
        /// The markets the venue offers.
        expected: &'static str,
    },
    /// The kind part is not a known kind.
    #[error("unknown kind {got:?} in {input:?}: expected one of orderbook, trades, bbo, ticker, kline.<interval> (public, with a symbol) or orders, fills, balances, positions (private, no symbol)")]
    UnknownKind {
        /// The name as given.
        input: String,
        /// The kind part.
        got: String,
    },
    /// A public kind without a symbol.
    #[error("channel {input:?} needs a symbol: {kind} is public, e.g. {example}")]
    SymbolRequired {
        /// The name as given.
        input: String,
        /// The public kind.
        kind: &'static str,
        /// A well-formed name of that kind.
        example: String,
    },
    #[error(
        "channel {input:?} takes no symbol: {kind} is private and account-wide, e.g. {example}"
    )]
    /// A private kind with a symbol.
    SymbolNotAllowed {
        /// The name as given.
        input: String,
        /// The private kind.
        kind: &'static str,
        /// A well-formed name of that kind.
        example: String,
    },
    /// The symbol is not in the venue's form.
    #[error("symbol {got:?} in {input:?} is not in {venue}'s form: {form}")]
    BadSymbol {
        /// The name as given.
        input: String,
        /// The venue.
        venue: &'static str,
        /// The symbol part.
        got: String,
        /// The venue's symbol form.
        form: &'static str,
    },
    /// The venue does not offer this kind on this market.
    #[error("{kind} is not available on {venue}.{market} in {input:?}: {why}")]
    NotOffered {
        /// The name as given.
        input: String,
        /// The venue.
        venue: &'static str,
        /// The market.
        market: &'static str,
        /// The kind.
        kind: &'static str,
        /// Why the venue does not offer it.
        why: &'static str,
    },
    /// A private channel on a feed configured without credentials.
    #[error("channel {channel} is private and no credentials are configured for {venue}.{market}: set the key and secret environment variables named in the config")]
    NoCredentials {
        /// The channel.
        channel: String,
        /// The venue.
        venue: &'static str,
        /// The market.
        market: &'static str,
    },
    /// A `kline` channel whose interval is missing, unknown, or not offered by the venue.
    #[error("bad kline interval {got:?} in {input:?}: {venue} accepts {accepted}, e.g. {example}")]
    BadInterval {
        /// The name as given.
        input: String,
        /// The venue.
        venue: &'static str,
        /// The interval part (empty when missing).
        got: String,
        /// The canonical intervals the venue accepts, space-separated.
        accepted: &'static str,
        /// A well-formed kline name for this venue and market.
        example: String,
    },
    /// Unbinding a channel that is not bound.
    #[error("channel {channel} is not bound")]
    NotBound {
        /// The channel.
        channel: String,
    },
}

/// The venue's symbol form, for messages and validation.
pub fn symbol_form(venue: Venue) -> &'static str {
    match venue {
        Venue::Mexc => "upper-case base and quote with no separator, e.g. BTCUSDT",
        Venue::Gateio => "upper-case BASE_QUOTE with an underscore, e.g. BTC_USDT",
    }
}

/// True if `s` is a well-formed symbol for `venue` (it may still be unknown to the venue).
pub fn valid_symbol(venue: Venue, s: &str) -> bool {
    let upper_alnum = |p: &str| {
        !p.is_empty()
            && p.len() <= 20
            && p.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    match venue {
        Venue::Mexc => upper_alnum(s),
        Venue::Gateio => match s.split_once('_') {
            Some((base, quote)) => upper_alnum(base) && upper_alnum(quote),
            None => false,
        },
    }
}

fn example_symbol(venue: Venue) -> &'static str {
    match venue {
        Venue::Mexc => "BTCUSDT",
        Venue::Gateio => "BTC_USDT",
    }
}

impl Channel {
    /// Parse and validate a channel name.
    pub fn parse(input: &str) -> Result<Channel, ChannelError> {
        let owned = || input.to_string();
        let mut parts = input.splitn(4, '.');
        let (Some(v), Some(m), Some(k)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ChannelError::Malformed { input: owned() });
        };
        let symbol = parts.next();
        if v.is_empty() || m.is_empty() || k.is_empty() || symbol == Some("") {
            return Err(ChannelError::Malformed { input: owned() });
        }
        let venue = Venue::parse(v).ok_or_else(|| ChannelError::UnknownVenue {
            input: owned(),
            got: v.to_string(),
        })?;
        let expected_markets = match venue {
            Venue::Mexc => "spot",
            Venue::Gateio => "spot or futures",
        };
        let market = match (venue, Market::parse(m)) {
            (Venue::Mexc, Some(Market::Spot)) => Market::Spot,
            (Venue::Gateio, Some(mk)) => mk,
            _ => {
                return Err(ChannelError::UnknownMarket {
                    input: owned(),
                    venue: venue.as_str(),
                    got: m.to_string(),
                    expected: expected_markets,
                })
            }
        };
        let mut kind = match k {
            // Placeholder; the interval is read below.
            "kline" => Kind::Kline(Interval::M1),
            _ => Kind::parse(k).ok_or_else(|| ChannelError::UnknownKind {
                input: owned(),
                got: k.to_string(),
            })?,
        };
        let mut symbol = symbol;
        if k == "kline" {
            // `kline.<interval>.<SYMBOL>`: the interval is the part before the symbol.
            let (iv, sym) = match symbol.map(|r| r.split_once('.')) {
                Some(Some((iv, sym))) => (iv, Some(sym)),
                Some(None) => (symbol.unwrap_or(""), None),
                None => ("", None),
            };
            let offered = Interval::parse(iv).filter(|i| i.venue_code(venue).is_some());
            let Some(interval) = offered else {
                return Err(ChannelError::BadInterval {
                    input: owned(),
                    venue: venue.as_str(),
                    got: iv.to_string(),
                    accepted: Interval::accepted(venue),
                    example: format!(
                        "{}.{}.kline.1m.{}",
                        venue.as_str(),
                        market.as_str(),
                        example_symbol(venue)
                    ),
                });
            };
            kind = Kind::Kline(interval);
            symbol = sym;
            if symbol == Some("") {
                return Err(ChannelError::Malformed { input: owned() });
            }
        }
        let prefix = format!("{}.{}.{kind}", venue.as_str(), market.as_str());
        if kind.is_private() {
            if symbol.is_some() {
                return Err(ChannelError::SymbolNotAllowed {
                    input: owned(),
                    kind: kind.as_str(),
                    example: prefix,
                });
            }
            if kind == Kind::Positions && market == Market::Spot {
                return Err(ChannelError::NotOffered {
                    input: owned(),
                    venue: venue.as_str(),
                    market: market.as_str(),
                    kind: kind.as_str(),
                    why: "positions exist on futures only (gateio.futures.positions)",
                });
            }
        } else {
            let Some(sym) = symbol else {
                return Err(ChannelError::SymbolRequired {
                    input: owned(),
                    kind: kind.as_str(),
                    example: format!("{prefix}.{}", example_symbol(venue)),
                });
            };
            if !valid_symbol(venue, sym) {
                return Err(ChannelError::BadSymbol {
                    input: owned(),
                    venue: venue.as_str(),
                    got: sym.to_string(),
                    form: symbol_form(venue),
                });
            }
        }
        Ok(Channel {
            venue,
            market,
            kind,
            symbol: symbol.map(str::to_string),
        })
    }
}

impl std::str::FromStr for Channel {
    type Err = ChannelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_examples() {
        for s in [
            "gateio.spot.orderbook.BTC_USDT",
            "gateio.futures.bbo.BTC_USDT",
            "mexc.spot.trades.BTCUSDT",
            "gateio.futures.positions",
            "mexc.spot.orders",
            "gateio.spot.ticker.ETH_USDT",
            "gateio.spot.fills",
            "mexc.spot.balances",
            "mexc.spot.kline.1m.BTCUSDT",
            "mexc.spot.kline.1M.BTCUSDT",
            "gateio.spot.kline.1m.BTC_USDT",
            "gateio.futures.kline.10s.BTC_USDT",
            "gateio.futures.kline.1w.BTC_USDT",
        ] {
            let c = Channel::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(c.to_string(), s, "round trip");
        }
        assert_eq!(Kind::parse("kline.1M"), Some(Kind::Kline(Interval::Mo1)));
        assert_eq!(Kind::parse("kline.2m"), None);
        assert_eq!(Kind::parse("kline"), None);
        assert_eq!(Kind::Kline(Interval::M15).to_string(), "kline.15m");
        let c = Channel::parse("mexc.spot.kline.1h.BTCUSDT").unwrap();
        assert_eq!(
            (c.kind, c.symbol.as_deref()),
            (Kind::Kline(Interval::H1), Some("BTCUSDT"))
        );
        let c = Channel::parse("gateio.futures.bbo.BTC_USDT").unwrap();
        assert_eq!(
            (c.venue, c.market, c.kind, c.symbol.as_deref()),
            (Venue::Gateio, Market::Futures, Kind::Bbo, Some("BTC_USDT"))
        );
    }

    #[test]
    fn refusals_name_the_wrong_part() {
        let cases: &[(&str, &str)] = &[
            ("", "malformed"),
            ("gateio.spot", "malformed"),
            ("gateio..orderbook.BTC_USDT", "malformed"),
            ("gateio.spot.orderbook.", "malformed"),
            ("binance.spot.trades.BTCUSDT", "unknown venue \"binance\""),
            ("mexc.futures.trades.BTCUSDT", "expected spot"),
            ("gateio.margin.trades.BTC_USDT", "expected spot or futures"),
            ("gateio.spot.depth.BTC_USDT", "unknown kind \"depth\""),
            ("gateio.spot.orderbook", "needs a symbol"),
            ("mexc.spot.orders.BTCUSDT", "takes no symbol"),
            ("gateio.spot.trades.BTCUSDT", "BTC_USDT"),
            ("gateio.spot.trades.btc_usdt", "upper-case"),
            ("mexc.spot.trades.BTC_USDT", "no separator"),
            ("mexc.spot.positions", "futures only"),
            ("mexc.spot.kline.BTCUSDT", "bad kline interval \"BTCUSDT\""),
            ("mexc.spot.kline", "bad kline interval \"\""),
            (
                "mexc.spot.kline.2m.BTCUSDT",
                "mexc accepts 1m 5m 15m 30m 1h 4h 8h 1d 1w 1M",
            ),
            ("mexc.spot.kline.10s.BTCUSDT", "bad kline interval \"10s\""),
            ("gateio.spot.kline.1M.BTC_USDT", "gateio accepts 10s 1m"),
            ("gateio.futures.kline.1m", "needs a symbol"),
            ("gateio.spot.kline.1m.", "malformed"),
            ("gateio.spot.kline.1m.BTC_USDT.X", "BTC_USDT"),
        ];
        for (input, needle) in cases {
            let err = Channel::parse(input).expect_err(input).to_string();
            assert!(err.contains(needle), "{input:?}: {err:?} lacks {needle:?}");
        }
    }
}
