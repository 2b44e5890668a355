//! Exact numbers, identifiers and clocks shared by every layer.
//!
//! Prices and quantities arrive as decimal text (`"84270.01"`, `"0.00000000"`) or, on Gate.io
//! futures, as JSON numbers (`40000.4`, `-108`). They are parsed straight from those bytes into
//! fixed-point integers; nothing goes through `f64` on the way in. Parsing is exact or it fails
//! with a typed [`NumError`]: a value that needs more fractional digits than the type keeps is
//! refused (`TooManyDigits`), never rounded; one beyond the range is `Overflow`.
//!
//! | type  | unit                         | range                                        |
//! |-------|------------------------------|----------------------------------------------|
//! | [`Px`]  | 10⁻¹⁶ (`PX_DECIMALS` = 16), `i128`  | ±17 014 118 346 046 923 173 168.730 371 588 410 572 7 |
//! | [`Qty`] | 10⁻¹⁶ (`QTY_DECIMALS` = 16), `i128` | same                                   |
//! | [`Dec`] | 10⁻ˢ, s = 0..=38 per value  | 38 significant digits (`i128` mantissa) |
//!
//! Why 16 decimals in `i128` (issue 13, finding 3; ARCHITECTURE.md "Numbers"): `Px` was `i64` at
//! 10⁻¹⁰ and `Qty` `i64` at 10⁻⁸, and listed markets send more. Gate's own documented
//! `spot.book_ticker` frame has a 10-decimal size (`"B":"0.0003341504"`,
//! `tests/fixtures/gateio_spot_book_ticker.json`); a sub-cent memecoin rests levels of 1.5 × 10¹¹
//! units (over `i64` at 8 decimals, 9.2 × 10¹⁰); sub-nano prices need 13 decimals. The venues'
//! metadata (Gate `currency_pairs` `precision`/`amount_precision`, futures
//! `order_price_round`/`order_size_min`; MEXC `exchangeInfo` `baseAssetPrecision`/
//! `quotePrecision`/`quoteAssetPrecision`) gives per-symbol digit counts with no documented
//! bound. One uniform wide scale — NautilusTrader's 128-bit mode, `FIXED_PRECISION` = 16 — keeps
//! six digits of headroom over the most fractional published frame and a range above any token's
//! supply, with plain integer comparison and no per-symbol scale to look up while parsing.
//! The range is symmetric: parsing never yields `i128::MIN` units.
//!
//! `Px` also carries signed price-like values (funding rates), so `parse_signed` exists next to
//! `parse`. `Qty` is used for sizes; signed sizes (Gate.io futures, positions) use
//! `Qty::parse_signed`. Account and aggregate values the venues compute with arbitrary digits
//! (balances and their changes, fees, average/entry prices, margins, PnL, leverage) are [`Dec`]:
//! exact up to 38 significant digits, refused beyond — never rounded to fit a fixed scale.
//!
//! Exponent notation (`1e-8`, `1.5E3`) is accepted and applied exactly, because Go's JSON
//! encoder writes small floats that way (`1.25e-05`); the result must still fit the scale.

use std::fmt;

pub use crate::num::NumError;
use crate::num::{parse_dec, parse_fixed, pow10_u128, POW10_128};

/// Fractional decimal digits kept by [`Px`] (see the module docs for why 16).
pub const PX_DECIMALS: u32 = 16;
/// Fractional decimal digits kept by [`Qty`] (see the module docs for why 16).
pub const QTY_DECIMALS: u32 = 16;

/// Fractional digits of the display-only best bid/ask words a feed keeps per symbol for the
/// live view (`best_bid_units`/`best_ask_units`, one `u64` each): the scale `Px` had before it
/// became `i128` at 16 decimals, truncated and clamped to fit one atomic word.
pub const STATUS_PX_DECIMALS: u32 = 10;

/// Longest canonical [`Px`]/[`Qty`] text: sign, 23 integer digits, point, 16 fraction digits.
pub const FIXED_TEXT_MAX: usize = 48;

/// Write `units × 10^-decimals` in canonical form into `buf`: no trailing fractional zeros, no
/// trailing point, `0` for zero, `-` for negatives. Returns the written text. No allocation.
pub(crate) fn format_fixed(units: i128, decimals: u32, buf: &mut [u8; FIXED_TEXT_MAX]) -> &str {
    let neg = units < 0;
    let mut u = units.unsigned_abs();
    let scale = POW10_128[decimals as usize];
    let int = u / scale;
    let mut frac = u % scale;
    let mut pos = buf.len();
    // fraction, without trailing zeros
    let mut fdigits = decimals;
    if frac != 0 {
        while frac % 10 == 0 {
            frac /= 10;
            fdigits -= 1;
        }
        for _ in 0..fdigits {
            pos -= 1;
            buf[pos] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        pos -= 1;
        buf[pos] = b'.';
    }
    u = int;
    loop {
        pos -= 1;
        buf[pos] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        pos -= 1;
        buf[pos] = b'-';
    }
    // Only ASCII digits, '.', '-' were written.
    std::str::from_utf8(&buf[pos..]).unwrap_or("")
}

macro_rules! fixed_type {
    ($(#[$doc:meta])* $name:ident, $decimals:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[repr(transparent)]
        pub struct $name(pub i128);

        impl $name {
            /// Fractional digits kept.
            pub const DECIMALS: u32 = $decimals;
            /// Units per whole one.
            pub const SCALE: i128 = POW10_128[$decimals as usize] as i128;
            /// Zero; also "absent" where a venue leaves a field empty (an empty BBO side).
            pub const ZERO: $name = $name(0);
            /// Largest representable value (`i128::MAX` units, about 1.7 × 10²²). Parsing never
            /// yields `i128::MIN` units: the range is symmetric, `-MAX..=MAX`.
            pub const MAX: $name = $name(i128::MAX);

            /// Parse an unsigned decimal exactly (`"84270.01"`, `"0.00000000"`, `"1e-8"`).
            /// Short plain decimals take the `u64` fast path (identical results, proven by
            /// `tests/decode/num_parse.rs`); everything else the general `u128` parser.
            #[inline]
            pub fn parse(s: &[u8]) -> Result<Self, NumError> {
                crate::num::parse_unsigned_fast(s, $decimals).map($name)
            }

            /// Parse a decimal that may carry a sign (`"-108.5"`, `"-0.00025"`).
            #[inline]
            pub fn parse_signed(s: &[u8]) -> Result<Self, NumError> {
                parse_fixed(s, $decimals, true).map($name)
            }

            /// Whole units, for tests and configuration (`from_int(5)` is 5.0).
            pub const fn from_int(v: i64) -> Self {
                $name(v as i128 * POW10_128[$decimals as usize] as i128)
            }

            /// The raw fixed-point count of `10^-DECIMALS` units.
            #[inline]
            pub const fn units(self) -> i128 {
                self.0
            }

            /// Whether the value is exactly zero.
            #[inline]
            pub const fn is_zero(self) -> bool {
                self.0 == 0
            }

            /// Absolute value (`wrapping_abs`: `i128::MIN` units, which has no positive
            /// counterpart, stays as is).
            #[inline]
            pub const fn abs(self) -> Self {
                $name(self.0.wrapping_abs())
            }

            /// Lossy conversion for display and statistics only; never used on the way in.
            pub fn to_f64(self) -> f64 {
                self.0 as f64 / Self::SCALE as f64
            }

            /// Canonical text into a caller-owned buffer; no allocation.
            pub fn write_canonical(self, buf: &mut [u8; FIXED_TEXT_MAX]) -> &str {
                format_fixed(self.0, $decimals, buf)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut buf = [0u8; FIXED_TEXT_MAX];
                f.write_str(self.write_canonical(&mut buf))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }

        impl std::str::FromStr for $name {
            type Err = NumError;
            fn from_str(s: &str) -> Result<Self, NumError> {
                Self::parse_signed(s.as_bytes())
            }
        }
    };
}

fixed_type!(
    /// A price (or another signed money-like value: rate, fee, PnL, margin) in units of 10⁻¹⁶.
    Px,
    PX_DECIMALS
);
fixed_type!(
    /// A quantity, size or balance in units of 10⁻¹⁶ (signed where the venue signs it).
    Qty,
    QTY_DECIMALS
);

/// Largest scale (fractional digits) a [`Dec`] carries.
pub use crate::num::DEC_MAX_SCALE;

/// An exact decimal for account and aggregate values the venues compute with many digits
/// (balances, fees, average and entry prices, margins, PnL): `mantissa × 10^-scale`.
///
/// `i128` mantissa (never `i128::MIN`) and a scale of 0..=38, normalized (no trailing fractional
/// zeros; zero is `0 × 10^0`), so equal values have equal representations and `==` is value
/// equality. Parsing is exact: more digits than the mantissa holds is an error, never rounding.
/// `Copy`, 32 bytes (use [`crate::ring::RingDec`] for a compact 17-byte form).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Dec {
    mant: i128,
    scale: u8,
}

impl Dec {
    /// Zero (`0 × 10^0`, the only representation of zero).
    pub const ZERO: Dec = Dec { mant: 0, scale: 0 };

    /// `mantissa × 10^-scale`, normalized. `None` if `scale > 38` or `mantissa == i128::MIN`.
    pub const fn from_parts(mantissa: i128, scale: u8) -> Option<Dec> {
        if scale > DEC_MAX_SCALE || mantissa == i128::MIN {
            return None;
        }
        let mut m = mantissa;
        let mut s = scale;
        while s > 0 && m % 10 == 0 {
            m /= 10;
            s -= 1;
        }
        if m == 0 {
            s = 0;
        }
        Some(Dec { mant: m, scale: s })
    }

    /// Whole number (`from_int(5)` is 5).
    pub const fn from_int(v: i64) -> Dec {
        Dec {
            mant: v as i128,
            scale: 0,
        }
    }

    /// The normalized mantissa.
    #[inline]
    pub const fn mantissa(self) -> i128 {
        self.mant
    }

    /// The normalized number of fractional digits (0..=38).
    #[inline]
    pub const fn scale(self) -> u8 {
        self.scale
    }

    /// Whether the value is exactly zero.
    #[inline]
    pub const fn is_zero(self) -> bool {
        self.mant == 0
    }

    /// Whether the value is below zero (zero is never negative: `-0` normalizes to `0`).
    #[inline]
    pub const fn is_negative(self) -> bool {
        self.mant < 0
    }

    /// Parse an unsigned decimal exactly (`"21.94210356004384"`, `"1.25e-05"`).
    #[inline]
    pub fn parse(s: &[u8]) -> Result<Dec, NumError> {
        parse_dec(s, false).map(|(mant, scale)| Dec { mant, scale })
    }

    /// Parse a decimal that may carry a sign (`"-0.000002074115"`).
    #[inline]
    pub fn parse_signed(s: &[u8]) -> Result<Dec, NumError> {
        parse_dec(s, true).map(|(mant, scale)| Dec { mant, scale })
    }

    /// Exact sum, or `None` if it needs more than the mantissa holds (never rounded).
    pub fn checked_add(self, other: Dec) -> Option<Dec> {
        let scale = self.scale.max(other.scale);
        let a = self
            .mant
            .checked_mul(pow10_u128((scale - self.scale) as u32) as i128)?;
        let b = other
            .mant
            .checked_mul(pow10_u128((scale - other.scale) as u32) as i128)?;
        Dec::from_parts(a.checked_add(b)?, scale)
    }

    /// Exact difference, or `None` if it needs more than the mantissa holds.
    pub fn checked_sub(self, other: Dec) -> Option<Dec> {
        self.checked_add(Dec {
            mant: -other.mant,
            scale: other.scale,
        })
    }

    /// Exact `Px`, or `None` if the value needs more than 16 fractional digits or is out of range.
    pub fn to_px(self) -> Option<Px> {
        self.to_fixed(PX_DECIMALS).map(Px)
    }

    /// Exact `Qty`, or `None` if the value needs more than 16 fractional digits or is out of range.
    pub fn to_qty(self) -> Option<Qty> {
        self.to_fixed(QTY_DECIMALS).map(Qty)
    }

    fn to_fixed(self, decimals: u32) -> Option<i128> {
        if self.scale as u32 > decimals {
            return None;
        }
        let p = pow10_u128(decimals - self.scale as u32) as i128;
        self.mant.checked_mul(p)
    }

    /// Lossy conversion for display and statistics only (correctly rounded from the text).
    pub fn to_f64(self) -> f64 {
        let mut buf = [0u8; DEC_TEXT_MAX];
        self.write_canonical(&mut buf).parse().unwrap_or(f64::NAN)
    }

    /// Canonical text (no trailing fractional zeros, no trailing point, `0` for zero, `-` for
    /// negatives, never exponent notation) into a caller-owned buffer; no allocation.
    pub fn write_canonical(self, buf: &mut [u8; DEC_TEXT_MAX]) -> &str {
        let neg = self.mant < 0;
        let mut u = self.mant.unsigned_abs();
        let mut pos = buf.len();
        let mut fdigits = self.scale as u32;
        if fdigits > 0 {
            while fdigits > 0 {
                pos -= 1;
                buf[pos] = b'0' + (u % 10) as u8;
                u /= 10;
                fdigits -= 1;
            }
            pos -= 1;
            buf[pos] = b'.';
        }
        loop {
            pos -= 1;
            buf[pos] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        if neg {
            pos -= 1;
            buf[pos] = b'-';
        }
        // Only ASCII digits, '.', '-' were written.
        std::str::from_utf8(&buf[pos..]).unwrap_or("")
    }
}

/// Longest canonical [`Dec`] text: sign, `0.`, 38 fractional digits, or 39 digits and a point.
pub const DEC_TEXT_MAX: usize = 42;

impl From<Px> for Dec {
    fn from(p: Px) -> Dec {
        // Scale 16 and any mantissa but i128::MIN (which parsing never yields) fit.
        Dec::from_parts(p.0, PX_DECIMALS as u8).unwrap_or(Dec::ZERO)
    }
}

impl From<Qty> for Dec {
    fn from(q: Qty) -> Dec {
        Dec::from_parts(q.0, QTY_DECIMALS as u8).unwrap_or(Dec::ZERO)
    }
}

impl Ord for Dec {
    /// Numeric order (exact; no rounding even across very different scales).
    fn cmp(&self, other: &Dec) -> std::cmp::Ordering {
        if self.scale == other.scale {
            return self.mant.cmp(&other.mant);
        }
        // Scale the one with fewer fractional digits up to the other's scale.
        let (lo, hi, flip) = if self.scale < other.scale {
            (self, other, false)
        } else {
            (other, self, true)
        };
        let p = pow10_u128((hi.scale - lo.scale) as u32) as i128;
        let r = match lo.mant.checked_mul(p) {
            Some(v) => v.cmp(&hi.mant),
            // |lo| scaled exceeds i128, so exceeds |hi|: lo's sign decides.
            None => {
                if lo.mant > 0 {
                    std::cmp::Ordering::Greater
                } else {
                    std::cmp::Ordering::Less
                }
            }
        };
        if flip {
            r.reverse()
        } else {
            r
        }
    }
}

impl PartialOrd for Dec {
    fn partial_cmp(&self, other: &Dec) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; DEC_TEXT_MAX];
        f.write_str(self.write_canonical(&mut buf))
    }
}

impl fmt::Debug for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dec({self})")
    }
}

impl std::str::FromStr for Dec {
    type Err = NumError;
    fn from_str(s: &str) -> Result<Self, NumError> {
        Self::parse_signed(s.as_bytes())
    }
}

/// Taker side of a trade, or the side of an order or fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Side {
    /// Buy; for a public trade, the taker bought (lifted the offer).
    Buy = 1,
    /// Sell; for a public trade, the taker sold (hit the bid).
    Sell = 2,
}

impl Side {
    /// Lower-case name (`buy`, `sell`), as `cexfeed decode` prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// Which side of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub(crate) enum BookSide {
    Bid = 0,
    Ask = 1,
}

/// The exchange a feed, symbol or event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Venue {
    /// MEXC spot V3 (protobuf pushes).
    Mexc = 0,
    /// Gate.io API v4 (JSON), spot and USDT-settled futures.
    Gateio = 1,
}

impl Venue {
    /// Every venue, in declaration order.
    pub const ALL: [Venue; 2] = [Venue::Mexc, Venue::Gateio];
    /// Configuration and channel-string name (`mexc`, `gateio`); inverse of [`Venue::parse`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Venue::Mexc => "mexc",
            Venue::Gateio => "gateio",
        }
    }
    /// Parse the exact lower-case name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Venue> {
        match s {
            "mexc" => Some(Venue::Mexc),
            "gateio" => Some(Venue::Gateio),
            _ => None,
        }
    }
}

/// Spot or derivatives market of a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Market {
    /// Spot pairs (`BTCUSDT` on MEXC, `BTC_USDT` on Gate.io); sizes in base asset.
    Spot = 0,
    /// Gate.io USDT-settled perpetuals; sizes in contracts (see [`SymbolMeta::contract_multiplier`]).
    Futures = 1,
}

impl Market {
    /// Configuration and channel-string name (`spot`, `futures`); inverse of [`Market::parse`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Futures => "futures",
        }
    }
    /// Parse the exact lower-case name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Market> {
        match s {
            "spot" => Some(Market::Spot),
            "futures" => Some(Market::Futures),
            _ => None,
        }
    }
}

/// A candle (kline) interval in cexfeed's one vocabulary, mapped per venue by the venue's
/// channel code: MEXC `Min1`…`Month1` (protocols.md §1.4), Gate.io `10s`…`7d` (Gate spot and
/// futures WebSocket docs, `spot.candlesticks` / `futures.candlesticks`: "10s, 1m, 5m, 15m,
/// 30m, 1h, 4h, 8h, 1d, 7d"). Not every venue offers every interval: binding one a venue lacks
/// is refused naming the accepted ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Interval {
    /// 10 seconds (`10s`; Gate.io only).
    S10 = 0,
    /// 1 minute (`1m`).
    M1 = 1,
    /// 5 minutes (`5m`).
    M5 = 2,
    /// 15 minutes (`15m`).
    M15 = 3,
    /// 30 minutes (`30m`).
    M30 = 4,
    /// 1 hour (`1h`; MEXC `Min60`).
    H1 = 5,
    /// 4 hours (`4h`).
    H4 = 6,
    /// 8 hours (`8h`).
    H8 = 7,
    /// 1 day (`1d`).
    D1 = 8,
    /// 1 week (`1w`; Gate.io `7d`).
    W1 = 9,
    /// 1 month (`1M`; MEXC only).
    Mo1 = 10,
}

impl Interval {
    /// Number of intervals (size of per-interval tables).
    pub const COUNT: usize = 11;
    /// Every interval, shortest first (index = `self as usize`).
    pub const ALL: [Interval; Interval::COUNT] = [
        Interval::S10,
        Interval::M1,
        Interval::M5,
        Interval::M15,
        Interval::M30,
        Interval::H1,
        Interval::H4,
        Interval::H8,
        Interval::D1,
        Interval::W1,
        Interval::Mo1,
    ];

    /// The canonical name used in channel names and output (`10s`, `1m`, …, `1w`, `1M`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Interval::S10 => "10s",
            Interval::M1 => "1m",
            Interval::M5 => "5m",
            Interval::M15 => "15m",
            Interval::M30 => "30m",
            Interval::H1 => "1h",
            Interval::H4 => "4h",
            Interval::H8 => "8h",
            Interval::D1 => "1d",
            Interval::W1 => "1w",
            Interval::Mo1 => "1M",
        }
    }

    /// Parse the canonical name (case-sensitive: `1m` is a minute, `1M` a month).
    pub fn parse(s: &str) -> Option<Interval> {
        Interval::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// Index into per-interval tables (`0..COUNT`).
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The interval's length in seconds (a month counts 30 days; only for display and tests).
    pub const fn seconds(self) -> u64 {
        match self {
            Interval::S10 => 10,
            Interval::M1 => 60,
            Interval::M5 => 300,
            Interval::M15 => 900,
            Interval::M30 => 1_800,
            Interval::H1 => 3_600,
            Interval::H4 => 14_400,
            Interval::H8 => 28_800,
            Interval::D1 => 86_400,
            Interval::W1 => 604_800,
            Interval::Mo1 => 2_592_000,
        }
    }

    /// The venue's name for the interval, or `None` where the venue does not offer it.
    /// MEXC: `Min1 Min5 Min15 Min30 Min60 Hour4 Hour8 Day1 Week1 Month1` (protocols.md §1.4,
    /// channel template and `PublicSpotKlineV3Api.interval`); Gate.io spot and futures:
    /// `10s 1m 5m 15m 30m 1h 4h 8h 1d 7d` (Gate spot WS docs "Candlesticks Channel"
    /// enumerated values; futures WS docs "Candlesticks API"; protocols.md §3.2 shows the
    /// `[interval, pair]` payload).
    pub const fn venue_code(self, venue: Venue) -> Option<&'static str> {
        match venue {
            Venue::Mexc => match self {
                Interval::S10 => None,
                Interval::M1 => Some("Min1"),
                Interval::M5 => Some("Min5"),
                Interval::M15 => Some("Min15"),
                Interval::M30 => Some("Min30"),
                Interval::H1 => Some("Min60"),
                Interval::H4 => Some("Hour4"),
                Interval::H8 => Some("Hour8"),
                Interval::D1 => Some("Day1"),
                Interval::W1 => Some("Week1"),
                Interval::Mo1 => Some("Month1"),
            },
            Venue::Gateio => match self {
                Interval::S10 => Some("10s"),
                Interval::M1 => Some("1m"),
                Interval::M5 => Some("5m"),
                Interval::M15 => Some("15m"),
                Interval::M30 => Some("30m"),
                Interval::H1 => Some("1h"),
                Interval::H4 => Some("4h"),
                Interval::H8 => Some("8h"),
                Interval::D1 => Some("1d"),
                Interval::W1 => Some("7d"),
                Interval::Mo1 => None,
            },
        }
    }

    /// The interval a venue's code names (`Min1`, `7d`, …), if any. Hot path: a byte compare
    /// over at most eleven short names, no allocation.
    pub fn from_venue_code(venue: Venue, code: &[u8]) -> Option<Interval> {
        Interval::ALL
            .into_iter()
            .find(|i| matches!(i.venue_code(venue), Some(c) if c.as_bytes() == code))
    }

    /// The canonical names a venue accepts, space-separated (for refusals).
    pub const fn accepted(venue: Venue) -> &'static str {
        match venue {
            Venue::Mexc => "1m 5m 15m 30m 1h 4h 8h 1d 1w 1M",
            Venue::Gateio => "10s 1m 5m 15m 30m 1h 4h 8h 1d 1w",
        }
    }
}

impl std::fmt::Display for Interval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Sync state of a book; travels with every book event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum BookState {
    /// Bridged and continuous: safe to trade on.
    Live = 0,
    /// Waiting for a snapshot or a `full` push after a gap, a reconnect or a start.
    #[default]
    Resyncing = 1,
    /// No data for longer than the idle threshold while the socket stayed open.
    Stale = 2,
}

impl BookState {
    /// Lower-case name (`live`, `resyncing`, `stale`) for logs and metrics labels.
    pub const fn as_str(self) -> &'static str {
        match self {
            BookState::Live => "live",
            BookState::Resyncing => "resyncing",
            BookState::Stale => "stale",
        }
    }
}

/// Compact symbol handle; index into a [`SymbolRegistry`]. No `String` symbols on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[repr(transparent)]
pub struct SymbolId(pub u16);

/// What a venue publishes about a symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolMeta {
    /// Exchange the symbol trades on.
    pub venue: Venue,
    /// Market within the venue; the same name can exist on spot and futures.
    pub market: Market,
    /// Exchange-native name as the venue writes it (`BTCUSDT`, `BTC_USDT`).
    pub name: String,
    /// Price decimals where the venue publishes them (tick size as a power of ten).
    pub price_decimals: Option<u8>,
    /// Quantity decimals where published.
    pub qty_decimals: Option<u8>,
    /// Futures: base-asset quantity of one contract (`quanto_multiplier`); `None` on spot.
    pub contract_multiplier: Option<Qty>,
}

impl SymbolMeta {
    /// Metadata with only the identity filled in (decimals and multiplier unknown).
    pub fn new(venue: Venue, market: Market, name: &str) -> Self {
        SymbolMeta {
            venue,
            market,
            name: name.to_string(),
            price_decimals: None,
            qty_decimals: None,
            contract_multiplier: None,
        }
    }

    /// Base-asset quantity for a venue size (contracts × multiplier on futures; as-is on spot).
    /// `None` on futures while the contract's `quanto_multiplier` is not known (issue 13,
    /// finding 7: never a size taken for base units with a wrong multiplier), or on overflow.
    /// Otherwise exact or `None`: a product out of range or needing more than 16 fractional
    /// digits is refused, never rounded.
    pub fn base_qty(&self, size: Qty) -> Option<Qty> {
        match self.contract_multiplier {
            None if self.market == Market::Futures => None,
            None => Some(size),
            Some(m) => {
                // The multiplier as a normalized decimal (`0.0001` = 1 × 10⁻⁴): multiply by its
                // short mantissa, then divide by 10^scale exactly.
                let d = Dec::from(m);
                let v = size.0.checked_mul(d.mantissa())?;
                let p = pow10_u128(d.scale() as u32) as i128;
                (v % p == 0).then_some(Qty(v / p))
            }
        }
    }
}

/// Maps exchange-native names to [`SymbolId`]s. Filled at start-up (cold path); lookups by
/// `&[u8]` allocate nothing.
#[derive(Debug, Default, Clone)]
pub struct SymbolRegistry {
    metas: Vec<SymbolMeta>,
    index: std::collections::HashMap<(Venue, Market, Box<[u8]>), SymbolId>,
}

impl SymbolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Register (or find) a symbol. Returns its id; re-registering updates the metadata.
    pub fn register(&mut self, meta: SymbolMeta) -> SymbolId {
        let key = (meta.venue, meta.market, meta.name.as_bytes().into());
        if let Some(&id) = self.index.get(&key) {
            self.metas[id.0 as usize] = meta;
            return id;
        }
        assert!(self.metas.len() < u16::MAX as usize, "symbol registry full");
        let id = SymbolId(self.metas.len() as u16);
        self.metas.push(meta);
        self.index.insert(key, id);
        id
    }

    /// Look a venue-native name up. Linear over the (few) symbols of one venue and market:
    /// for the tens of symbols a feed carries this beats hashing, and it allocates nothing.
    #[inline]
    pub fn lookup(&self, venue: Venue, market: Market, name: &[u8]) -> Option<SymbolId> {
        self.metas
            .iter()
            .position(|m| m.venue == venue && m.market == market && m.name.as_bytes() == name)
            .map(|i| SymbolId(i as u16))
    }

    /// Metadata of a registered id. Panics on an id this registry did not issue.
    pub fn meta(&self, id: SymbolId) -> &SymbolMeta {
        &self.metas[id.0 as usize]
    }

    /// Metadata of `id`, or `None` for an id this registry did not issue (e.g. `NO_SYMBOL`).
    pub fn get(&self, id: SymbolId) -> Option<&SymbolMeta> {
        self.metas.get(id.0 as usize)
    }

    /// Number of registered symbols; ids run `0..len`.
    pub fn len(&self) -> usize {
        self.metas.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }

    /// Every symbol with its id, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (SymbolId, &SymbolMeta)> {
        self.metas
            .iter()
            .enumerate()
            .map(|(i, m)| (SymbolId(i as u16), m))
    }
}

/// CPU time of the calling thread, ns (`CLOCK_THREAD_CPUTIME_ID`): a replay's per-CPU-second
/// rate and the throughput benches' CPU-time rows.
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is always available.
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Monotonic nanoseconds (`CLOCK_MONOTONIC`): comparable across threads and across processes on
/// the same machine (the loopback venue's send-time side channel uses the same clock).
#[inline]
pub fn now_ns() -> u64 {
    let replay = REPLAY_NOW.with(|c| c.get());
    if replay != 0 {
        return replay;
    }
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always available on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

thread_local! {
    /// The recorded time a replaying feed thread runs at (0: the real clock). A `const`
    /// thread-local without a destructor: one TLS load per `now_ns`, no registration.
    static REPLAY_NOW: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Make [`now_ns`] on this thread return `ns` (a replay's recorded time); 0 restores the real
/// clock. Only `crate::record::replay` calls it, on the thread it replays on.
pub(crate) fn set_replay_clock(ns: u64) {
    REPLAY_NOW.with(|c| c.set(ns));
}

/// Wall-clock milliseconds since the Unix epoch (exchange timestamps are in this unit).
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Result<i128, NumError> {
        Px::parse(s.as_bytes()).map(|p| p.0)
    }

    /// One whole unit in raw units (10^16).
    const ONE: i128 = 10_000_000_000_000_000;

    #[test]
    fn table_of_odd_inputs() {
        let cases: &[(&str, Result<i128, NumError>)] = &[
            ("0", Ok(0)),
            ("0.00000000", Ok(0)),
            ("0.000000000000000000000000", Ok(0)),
            ("84270.01", Ok(842_700_100_000_000_000_000)),
            ("19137.740", Ok(191_377_400_000_000_000_000)),
            ("100", Ok(100 * ONE)),
            ("007", Ok(7 * ONE)),
            ("0.0000000001", Ok(1_000_000)),
            ("0.0000000000000001", Ok(1)),
            ("0.00000000000000001", Err(NumError::TooManyDigits)),
            ("0.00000000000000010000", Ok(1)),
            ("1e-8", Ok(100_000_000)),
            ("1E-16", Ok(1)),
            ("1e-17", Err(NumError::TooManyDigits)),
            ("1.5e3", Ok(1500 * ONE)),
            ("1.25e-05", Ok(125_000_000_000)),
            ("", Err(NumError::Empty)),
            ("-0", Err(NumError::Sign)),
            ("-1", Err(NumError::Sign)),
            ("+1", Err(NumError::Sign)),
            (".5", Err(NumError::Garbage)),
            ("5.", Err(NumError::Garbage)),
            ("1.2.3", Err(NumError::Garbage)),
            ("1,5", Err(NumError::Garbage)),
            (" 1", Err(NumError::Garbage)),
            ("abc", Err(NumError::Garbage)),
            ("-", Err(NumError::Sign)),
            ("1e", Err(NumError::Garbage)),
            ("1e+", Err(NumError::Garbage)),
            ("1e99999", Err(NumError::Garbage)),
            ("NaN", Err(NumError::Garbage)),
            ("17014118346046923173168.7303715884105727", Ok(i128::MAX)),
            (
                "17014118346046923173168.7303715884105728",
                Err(NumError::Overflow),
            ),
            ("99999999999999999999999", Err(NumError::Overflow)),
            ("1e30", Err(NumError::Overflow)),
            ("1e22", Ok(10_000_000_000_000_000_000_000 * ONE)),
            ("1e23", Err(NumError::Overflow)),
            ("0e30", Ok(0)),
        ];
        for (input, want) in cases {
            assert_eq!(px(input), *want, "input {input:?}");
        }
    }

    /// Issue 13 finding 3: every price and size a listed Gate or MEXC market sends fits, exactly;
    /// one digit beyond the scale or the range is refused with a typed error, never rounded.
    #[test]
    fn exact_numbers_for_every_market_boundaries() {
        // Gate's documented spot.book_ticker frame: "B":"0.0003341504" (10 decimals). Refused
        // (TooManyDigits) by the 8-decimal Qty this replaced.
        assert_eq!(
            Qty::parse(b"0.0003341504").unwrap().to_string(),
            "0.0003341504"
        );
        // A 1.5e11-unit level (a sub-cent memecoin): overflowed the i64 Qty (max 9.2e10).
        let big = Qty::parse(b"150000000000").unwrap();
        assert_eq!(big.to_string(), "150000000000");
        assert_eq!(big, Qty::from_int(150_000_000_000));
        // Both at once (22 significant digits: the general parser's u128 path).
        assert_eq!(
            Qty::parse(b"150000000000.0003341504").unwrap().to_string(),
            "150000000000.0003341504"
        );
        // A sub-nano price with 13 decimals (Px kept 10).
        assert_eq!(
            Px::parse(b"0.0000000012345").unwrap().to_string(),
            "0.0000000012345"
        );
        // The scale: 16 decimals exact, the 17th refused.
        assert_eq!(Qty::parse(b"0.0000000000000001"), Ok(Qty(1)));
        assert_eq!(
            Qty::parse(b"0.00000000000000001"),
            Err(NumError::TooManyDigits)
        );
        assert_eq!(
            Px::parse(b"1.00000000000000001"),
            Err(NumError::TooManyDigits)
        );
        // The range: MAX exact, one unit more refused; symmetric for signed values.
        let max = "17014118346046923173168.7303715884105727";
        assert_eq!(Qty::parse(max.as_bytes()), Ok(Qty::MAX));
        assert_eq!(Qty::MAX.to_string(), max);
        assert_eq!(
            Qty::parse(b"17014118346046923173168.7303715884105728"),
            Err(NumError::Overflow)
        );
        assert_eq!(
            Qty::parse_signed(format!("-{max}").as_bytes()),
            Ok(Qty(-i128::MAX))
        );
        assert_eq!(
            Qty::parse_signed(b"-17014118346046923173168.7303715884105728"),
            Err(NumError::Overflow)
        );
        // Errors say why (what a decode error report carries).
        assert_eq!(
            NumError::TooManyDigits.to_string(),
            "too many fractional digits (would round)"
        );
        assert_eq!(NumError::Overflow.to_string(), "number out of range");
    }

    #[test]
    fn signed_parsing() {
        assert_eq!(Px::parse_signed(b"-0").unwrap(), Px(0));
        assert_eq!(
            Px::parse_signed(b"-0.00025").unwrap(),
            Px(-2_500_000_000_000)
        );
        assert_eq!(
            Qty::parse_signed(b"-108.5").unwrap(),
            Qty(-1_085_000_000_000_000_000)
        );
        assert_eq!(Qty::parse_signed(b"+3").unwrap(), Qty::from_int(3));
        assert_eq!(Qty::parse_signed(b"--3"), Err(NumError::Garbage));
        assert_eq!(
            Qty::parse(b"0.00000000000000001"),
            Err(NumError::TooManyDigits)
        );
        assert_eq!(Qty::parse(b"0.00000000000000010"), Ok(Qty(1)));
    }

    #[test]
    fn canonical_formatting() {
        let cases = [
            ("0.00000000", "0"),
            ("19137.740", "19137.74"),
            ("100", "100"),
            ("0.0000000001", "0.0000000001"),
            ("0.0000000000000001", "0.0000000000000001"),
            ("84270.01", "84270.01"),
            ("1e3", "1000"),
        ];
        for (input, want) in cases {
            assert_eq!(Px::parse(input.as_bytes()).unwrap().to_string(), want);
        }
        assert_eq!(Px::parse_signed(b"-0.5").unwrap().to_string(), "-0.5");
        assert_eq!(
            Px(-i128::MAX).to_string(),
            "-17014118346046923173168.7303715884105727"
        );
        assert_eq!(
            Px(i128::MIN).to_string(),
            "-17014118346046923173168.7303715884105728"
        );
        assert_eq!(
            Qty(i128::MAX).to_string(),
            "17014118346046923173168.7303715884105727"
        );
    }

    fn dec(s: &str) -> Result<(i128, u8), NumError> {
        Dec::parse_signed(s.as_bytes()).map(|d| (d.mantissa(), d.scale()))
    }

    #[test]
    fn dec_table_of_odd_inputs() {
        type Parts = Result<(i128, u8), NumError>;
        let cases: &[(&str, Parts)] = &[
            ("0", Ok((0, 0))),
            ("-0", Ok((0, 0))),
            (
                "0.000000000000000000000000000000000000000000000",
                Ok((0, 0)),
            ),
            ("21.94210356004384", Ok((2_194_210_356_004_384, 14))),
            ("0.0003998377369698171", Ok((3_998_377_369_698_171, 19))),
            ("40000.36666661111", Ok((4_000_036_666_661_111, 11))),
            ("-0.000002074115", Ok((-2_074_115, 12))),
            ("19137.740", Ok((1_913_774, 2))),
            ("100", Ok((100, 0))),
            ("100.000", Ok((100, 0))),
            ("007", Ok((7, 0))),
            ("1.25e-05", Ok((125, 7))),
            ("1.5E3", Ok((1500, 0))),
            ("100e-40", Ok((1, 38))),
            ("1e-38", Ok((1, 38))),
            ("1e-39", Err(NumError::TooManyDigits)),
            (
                "0.000000000000000000000000000000000000001",
                Err(NumError::TooManyDigits),
            ),
            // 38 significant digits fit, exactly.
            (
                "1234567890123456789.0123456789012345678",
                Ok((12_345_678_901_234_567_890_123_456_789_012_345_678, 19)),
            ),
            (
                "12345678901234567890123456789012345678.9",
                Ok((123_456_789_012_345_678_901_234_567_890_123_456_789, 1)),
            ),
            // 40 significant digits do not: refused, never rounded.
            (
                "1.234567890123456789012345678901234567891",
                Err(NumError::TooManyDigits),
            ),
            (
                "1234567890123456789012345678901234567890",
                Err(NumError::Overflow),
            ),
            (
                "1e38",
                Ok((100_000_000_000_000_000_000_000_000_000_000_000_000, 0)),
            ),
            ("1e39", Err(NumError::Overflow)),
            ("1e99", Err(NumError::Overflow)),
            ("0e99", Ok((0, 0))),
            ("", Err(NumError::Empty)),
            ("-", Err(NumError::Garbage)),
            (".5", Err(NumError::Garbage)),
            ("5.", Err(NumError::Garbage)),
            ("1.2.3", Err(NumError::Garbage)),
            ("1e", Err(NumError::Garbage)),
            ("1e99999", Err(NumError::Garbage)),
            ("--1", Err(NumError::Garbage)),
            ("NaN", Err(NumError::Garbage)),
        ];
        for (input, want) in cases {
            assert_eq!(dec(input), *want, "input {input:?}");
        }
        assert_eq!(Dec::parse(b"-1"), Err(NumError::Sign));
        assert_eq!(Dec::parse(b"1.50"), Dec::parse_signed(b"+1.5"));
    }

    #[test]
    fn dec_canonical_formatting() {
        let cases = [
            ("0.00000000", "0"),
            ("-0.0", "0"),
            ("19137.740", "19137.74"),
            ("100", "100"),
            ("1e3", "1000"),
            ("0.0003998377369698171", "0.0003998377369698171"),
            ("-0.000002074115", "-0.000002074115"),
            ("1e-38", "0.00000000000000000000000000000000000001"),
            ("-1.25e-05", "-0.0000125"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Dec::parse_signed(input.as_bytes()).unwrap().to_string(),
                want
            );
        }
        let max = Dec::from_parts(i128::MAX, 38).unwrap();
        assert_eq!(max.to_string(), "1.70141183460469231731687303715884105727");
        let min = Dec::from_parts(-i128::MAX, 0).unwrap();
        assert_eq!(min.to_string(), "-170141183460469231731687303715884105727");
        assert_eq!(Dec::from_parts(i128::MIN, 0), None);
        assert_eq!(Dec::from_parts(1, 39), None);
        assert_eq!(Dec::from_parts(1500, 3), Dec::parse(b"1.5").ok());
    }

    #[test]
    fn dec_px_qty_conversions_are_exact_only() {
        let d = |s: &str| Dec::parse_signed(s.as_bytes()).unwrap();
        let p = Px::parse(b"84270.01").unwrap();
        assert_eq!(Dec::from(p).to_string(), "84270.01");
        assert_eq!(Dec::from(p).to_px(), Some(p));
        assert_eq!(Dec::from(Qty(-1)).to_string(), "-0.0000000000000001");
        assert_eq!(Dec::from(Qty(-1)).to_qty(), Some(Qty(-1)));
        let fee = Dec::parse(b"0.0003998377369698171").unwrap();
        assert_eq!(fee.to_px(), None);
        assert_eq!(fee.to_qty(), None);
        assert_eq!(Dec::parse(b"1e30").unwrap().to_px(), None);
        assert_eq!(
            Dec::parse(b"0.5").unwrap().to_qty(),
            Some(Qty(5_000_000_000_000_000))
        );
        assert_eq!(Dec::from(Px::ZERO), Dec::ZERO);
        assert_eq!(fee.to_f64(), 0.0003998377369698171);
        let a = Dec::parse(b"21.94210356004384").unwrap();
        let b = Dec::parse(b"0.06").unwrap();
        assert_eq!(a.checked_add(b), Dec::parse(b"22.00210356004384").ok());
        assert_eq!(a.checked_add(b).unwrap().checked_sub(b), Some(a));
        assert_eq!(b.checked_sub(b), Some(Dec::ZERO));
        let big = Dec::from_parts(i128::MAX, 0).unwrap();
        assert_eq!(big.checked_add(Dec::from_int(1)), None);
        assert_eq!(
            Dec::from_parts(1, 38)
                .unwrap()
                .checked_add(Dec::from_int(2)),
            None
        );
        let max = Dec::from_parts(i128::MAX, 0).unwrap();
        let tiny = Dec::from_parts(i128::MAX, 38).unwrap();
        assert!(max > tiny);
        assert_eq!(tiny.cmp(&max), std::cmp::Ordering::Less);
        assert!(Dec::from_parts(-i128::MAX, 0).unwrap() < Dec::from_parts(-1, 38).unwrap());
        assert!(d("0.1") > d("0.09999999999999999999999999999999999999"));
        assert!(d("-0.1") < d("-0.09999999999999999999999999999999999999"));
        assert_eq!(d("1.50").cmp(&d("1.5")), std::cmp::Ordering::Equal);
    }

    #[test]
    fn registry_lookup() {
        let mut r = SymbolRegistry::new();
        let a = r.register(SymbolMeta::new(Venue::Mexc, Market::Spot, "BTCUSDT"));
        let b = r.register(SymbolMeta::new(Venue::Gateio, Market::Spot, "BTC_USDT"));
        let c = r.register(SymbolMeta::new(Venue::Gateio, Market::Futures, "BTC_USDT"));
        assert_ne!(b, c);
        assert_eq!(r.lookup(Venue::Mexc, Market::Spot, b"BTCUSDT"), Some(a));
        assert_eq!(
            r.lookup(Venue::Gateio, Market::Futures, b"BTC_USDT"),
            Some(c)
        );
        assert_eq!(r.lookup(Venue::Gateio, Market::Spot, b"BTCUSDT"), None);
        let mut m = SymbolMeta::new(Venue::Gateio, Market::Futures, "BTC_USDT");
        m.contract_multiplier = Some(Qty::parse(b"0.0001").unwrap());
        let c2 = r.register(m);
        assert_eq!(c, c2);
        assert_eq!(
            r.meta(c).base_qty(Qty::from_int(5)),
            Some(Qty::parse(b"0.0005").unwrap())
        );
        // Issue 13: exact or refused, never truncated or wrapped.
        let q = |s: &str| Qty::parse_signed(s.as_bytes()).unwrap();
        let mut m = SymbolMeta::new(Venue::Gateio, Market::Futures, "PEPE_USDT");
        m.contract_multiplier = Some(q("10000000"));
        assert_eq!(m.base_qty(q("-150000")), Some(q("-1500000000000")));
        m.contract_multiplier = Some(q("0.0001"));
        assert_eq!(m.base_qty(q("0.5")), Some(q("0.00005")));
        assert_eq!(m.base_qty(q("0.0000000000001")), None, "needs 17 decimals");
        m.contract_multiplier = Some(q("1000000"));
        assert_eq!(m.base_qty(Qty::MAX), None, "out of range");
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn dec_round_trips(m in any::<i128>(), s in 0u8..=38) {
                prop_assume!(m != i128::MIN);
                let d = Dec::from_parts(m, s).unwrap();
                prop_assert_eq!(Dec::parse_signed(d.to_string().as_bytes()), Ok(d));
            }

            #[test]
            fn dec_agrees_with_px(v in -i128::MAX..=i128::MAX, pad in 0usize..12) {
                let mut s = Px(v).to_string();
                if !s.contains('.') { s.push('.'); s.push('0'); }
                for _ in 0..pad { s.push('0'); }
                let d = Dec::parse_signed(s.as_bytes()).unwrap();
                prop_assert_eq!(d, Dec::from(Px(v)));
                prop_assert_eq!(d.to_px(), Some(Px(v)));
            }

            #[test]
            fn dec_order_matches_px_order(a in any::<i64>(), b in any::<i64>(), sa in 0u8..=38) {
                // Px-derived values compare like Px; mixed scales compare numerically.
                prop_assert_eq!(Dec::from(Px(a as i128)).cmp(&Dec::from(Px(b as i128))), a.cmp(&b));
                let x = Dec::from_parts(a as i128, sa).unwrap();
                let y = Dec::from_parts(b as i128, 0).unwrap();
                // x = a·10^-sa, y = b: compare a with b·10^sa; if that overflows i128,
                // |b·10^sa| > |a| and b's sign decides.
                let want = match (b as i128).checked_mul(10i128.pow(sa as u32)) {
                    Some(bb) => (a as i128).cmp(&bb),
                    None => 0.cmp(&b),
                };
                prop_assert_eq!(x.cmp(&y), want);
            }

            #[test]
            fn dec_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..60)) {
                let _ = Dec::parse_signed(&bytes);
                let _ = Dec::parse(&bytes);
            }

            #[test]
            fn px_round_trips(v in -i128::MAX..=i128::MAX) {
                let p = Px(v);
                prop_assert_eq!(Px::parse_signed(p.to_string().as_bytes()), Ok(p));
            }

            #[test]
            fn qty_round_trips(v in -i128::MAX..=i128::MAX) {
                let q = Qty(v);
                prop_assert_eq!(Qty::parse_signed(q.to_string().as_bytes()), Ok(q));
            }

            #[test]
            fn unsigned_round_trips_with_padding(v in 0i128..=i128::MAX, pad in 0usize..12) {
                // Trailing zeros the venue adds ("19137.740") never change the value.
                let mut s = Qty(v).to_string();
                if !s.contains('.') { s.push('.'); s.push('0'); }
                for _ in 0..pad { s.push('0'); }
                prop_assert_eq!(Qty::parse(s.as_bytes()), Ok(Qty(v)));
            }

            #[test]
            fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
                let _ = Px::parse_signed(&bytes);
                let _ = Qty::parse(&bytes);
            }
        }
    }
}
