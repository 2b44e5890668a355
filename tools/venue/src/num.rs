//! The venue's own numbers, clocks and market names.
//!
//! Deliberately independent of the client library: the venue writes prices and sizes with this
//! formatter and the client parses them with its own parser, so a misunderstanding of the
//! decimal format cannot be shared by both sides and hide behind a passing test.

use std::fmt;

const POW10: [i128; 39] = {
    let mut t = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `units × 10^-decimals` as canonical text: no trailing fractional zeros, no trailing point,
/// `0` for zero, `-` for negatives.
fn write_fixed(f: &mut fmt::Formatter<'_>, units: i128, decimals: u32) -> fmt::Result {
    let scale = POW10[decimals as usize] as u128;
    let u = units.unsigned_abs();
    let (int, mut frac) = (u / scale, u % scale);
    if units < 0 {
        f.write_str("-")?;
    }
    write!(f, "{int}")?;
    if frac != 0 {
        let mut digits = [b'0'; 39];
        let mut n = decimals as usize;
        while frac % 10 == 0 {
            frac /= 10;
            n -= 1;
        }
        for i in (0..n).rev() {
            digits[i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        f.write_str(".")?;
        // Only ASCII digits were written.
        f.write_str(std::str::from_utf8(&digits[..n]).unwrap_or("0"))?;
    }
    Ok(())
}

macro_rules! fixed {
    ($(#[$doc:meta])* $name:ident, $decimals:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub i128);

        impl $name {
            /// Fractional digits kept.
            pub const DECIMALS: u32 = $decimals;
            /// Units per whole one.
            pub const SCALE: i128 = POW10[$decimals as usize];
            pub const ZERO: $name = $name(0);

            /// Whole units (`from_int(5)` is 5.0).
            pub const fn from_int(v: i64) -> Self {
                $name(v as i128 * Self::SCALE)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_fixed(f, self.0, $decimals)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self)
            }
        }
    };
}

fixed!(
    /// A price in units of 10⁻¹⁶ (`i128`: sub-nano memecoin prices with 13 decimals and more).
    Px,
    16
);
fixed!(
    /// A quantity in units of 10⁻¹⁶ (`i128`: Gate's 10-decimal sizes, levels of 10¹¹ units and more).
    Qty,
    16
);

/// `a × b / d` without overflowing on the way where the exact product does not fit `i128`
/// (then `(a / d) × b`, truncated: simulated notionals and averages only). Saturates.
pub fn mul_div(a: i128, b: i128, d: i128) -> i128 {
    match a.checked_mul(b) {
        Some(v) => v / d,
        None => (a / d).saturating_mul(b),
    }
}

/// One price level of a simulated book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Level {
    pub px: Px,
    pub qty: Qty,
}

impl Level {
    pub const fn new(px: Px, qty: Qty) -> Self {
        Level { px, qty }
    }
}

/// Taker side of a trade, or the side of an order or fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub const fn as_str(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// Which side of a book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BookSide {
    Bid,
    Ask,
}

/// The exchanges the venue imitates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VenueId {
    Mexc,
    Gateio,
}

impl VenueId {
    pub const fn as_str(self) -> &'static str {
        match self {
            VenueId::Mexc => "mexc",
            VenueId::Gateio => "gateio",
        }
    }
}

/// Spot or USDT-margined futures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Market {
    Spot,
    Futures,
}

impl Market {
    pub const fn as_str(self) -> &'static str {
        match self {
            Market::Spot => "spot",
            Market::Futures => "futures",
        }
    }
}

/// CLOCK_MONOTONIC nanoseconds: the same clock a client on this machine stamps receive times
/// with, so send → receive latencies can be taken across the two.
pub fn now_ns() -> u64 {
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

/// Wall-clock milliseconds since the Unix epoch.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_text() {
        assert_eq!(Px(0).to_string(), "0");
        assert_eq!(Px(12_345_000_000_000_000).to_string(), "1.2345");
        assert_eq!(Px(-5).to_string(), "-0.0000000000000005");
        assert_eq!(Qty::from_int(7).to_string(), "7");
        assert_eq!(
            Qty(i128::MIN).to_string(),
            "-17014118346046923173168.7303715884105728"
        );
        assert_eq!(Qty(15_000_000_000_000_000).to_string(), "1.5");
        assert_eq!(
            Qty(1_500_000_000_000_003_341_504_000_000).to_string(),
            "150000000000.0003341504"
        );
    }
}
