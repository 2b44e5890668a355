//! Exact decimal parsing: the one place text becomes fixed-point, for every layer.
//!
//! [`crate::types`] (`Px`/`Qty`/`Dec` parse), the Gate.io scanner and simd-json path, and the
//! MEXC field walker all call into this module; there is one powers-of-ten table (`POW10_128`).
//!
//! | entry point | input | used by |
//! |---|---|---|
//! | [`parse_fixed`] | any decimal, signed or not, exponents; `i128` result | `Px`/`Qty::parse*`, every fallback |
//! | [`parse_dec`] | same grammar, `i128` mantissa, scale 0..=38 | `Dec::parse*` |
//! | [`parse_unsigned_fast`] | unsigned; fast for short `digits(.digits)?` | Gate tape path, scanner BBO/trades |
//! | [`parse_unsigned_swar`] | unsigned; SWAR for `d{1,8}(.d{1,8})?` | MEXC walker |
//! | [`plain_dec`], `digit_run` | a plain decimal inside a larger buffer | Gate scanner levels |
//!
//! Grammar: `[-+]?digits(.digits)?([eE][-+]?digits{1,4})?`. Exact or a typed [`NumError`]: a value
//! that needs more fractional digits than the scale keeps is `TooManyDigits`, never rounded.
//! Every fast path returns exactly what the general parser returns (errors included): proven by
//! the differential proptest in `tests/decode/num_parse.rs` against an independent reference parser.
//!
//! Rules the general parsers apply, in reading order (the first that fails decides):
//! * empty → `Empty`; a sign where the field is unsigned → `Sign`;
//! * the digits before the exponent, leading zeros and trailing fractional zeros aside, must form
//!   an integer that fits the `u128` mantissa: an integer part that does not is `Overflow`, a
//!   fraction digit that does not is `TooManyDigits` (so is a run of more than 37 zeros followed
//!   by a non-zero fraction digit) — checked
//!   before the exponent is applied;
//! * any other byte, a second `.`, no integer digit, an empty fraction or exponent, more than 4
//!   exponent digits → `Garbage`;
//! * then the exponent and scale are applied exactly: too large → `Overflow`, non-zero digits
//!   below the scale → `TooManyDigits`. Fixed-point results are symmetric: `|units| ≤ i128::MAX`
//!   (`i128::MIN` units is `Overflow`).
//!
//! The fast paths accumulate at most 18 digits in a `u64` (the common shape: a price or size
//! with ≤ 18 significant digits) and scale with one widening `u64 × u128` multiply; longer
//! mantissas (a 1.5 × 10¹¹ size with 10 decimals has 22 digits) take the general `u128` path.

use std::fmt;

/// Largest scale (fractional digits) a `Dec` carries (re-exported as `types::DEC_MAX_SCALE`).
pub const DEC_MAX_SCALE: u8 = 38;

/// 10^i as `u128` for i in 0..=38: the one powers-of-ten table of the crate (every fixed-point
/// parser and formatter indexes it; `Px`/`Qty` keep 16 fractional digits in `i128`).
pub(crate) const POW10_128: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// 10^i as `u64` for i in 0..=19: the fast paths' scaling factors (see [`widen_mul`]).
const POW10_U64: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut i = 1;
    while i < 20 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `mant × 10^k` as `u128`. For k ≤ 19 both factors are `u64`, so this is one widening
/// 64×64→128 multiply (a `u128` table entry would cost a full 128×128 multiply). Callers
/// guarantee k ≤ 38 and that the product fits (`mant × 10^k < 10^38`).
#[inline(always)]
pub(crate) fn widen_mul(mant: u64, k: u32) -> u128 {
    match POW10_U64.get(k as usize) {
        Some(&p) => mant as u128 * p as u128,
        None => mant as u128 * POW10_128[(k as usize).min(38)],
    }
}

/// Why a decimal could not be parsed exactly. `Copy`, no heap: usable on the hot path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    /// Zero-length input.
    Empty,
    /// A byte that is not part of a decimal number, a misplaced `.`, no digits, a bad exponent.
    Garbage,
    /// A leading `-` or `+` where the field is unsigned.
    Sign,
    /// More non-zero fractional digits than the type keeps (would have to round).
    TooManyDigits,
    /// The value does not fit the type's range.
    Overflow,
}

impl fmt::Display for NumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NumError::Empty => "empty number",
            NumError::Garbage => "not a decimal number",
            NumError::Sign => "sign not allowed here",
            NumError::TooManyDigits => "too many fractional digits (would round)",
            NumError::Overflow => "number out of range",
        })
    }
}

impl std::error::Error for NumError {}

/// The general exact parser: decimal text → integer count of `10^-decimals` units (`i128`).
/// `decimals` ≤ 38.
///
/// Accepts `[-+]?digits(.digits)?([eE][-+]?digits)?`. Trailing fractional zeros beyond the scale
/// are fine (`"0.000000000000"`); a non-zero digit beyond it is `TooManyDigits`.
#[inline]
pub fn parse_fixed(s: &[u8], decimals: u32, signed: bool) -> Result<i128, NumError> {
    let len = s.len();
    if len == 0 {
        return Err(NumError::Empty);
    }
    let mut i = 0;
    let mut neg = false;
    match s[0] {
        b'-' | b'+' => {
            if !signed {
                return Err(NumError::Sign);
            }
            neg = s[0] == b'-';
            i = 1;
        }
        _ => {}
    }
    let mut mant: u128 = 0;
    let mut int_digits = 0u32;
    // Fraction digits folded into `mant`; zeros are held back until a non-zero digit follows,
    // so trailing zeros never count against the scale or overflow the mantissa.
    let mut frac_digits = 0u32;
    let mut zeros_pending = 0u32;
    let mut frac_seen = 0u32;
    let mut in_frac = false;
    while i < len {
        let c = s[i];
        if c.is_ascii_digit() {
            let d = (c - b'0') as u128;
            if in_frac {
                frac_seen += 1;
                if d == 0 {
                    zeros_pending += 1;
                } else {
                    let scale = POW10_128
                        .get(zeros_pending as usize + 1)
                        .copied()
                        .ok_or(NumError::TooManyDigits)?;
                    mant = mant
                        .checked_mul(scale)
                        .and_then(|m| m.checked_add(d))
                        .ok_or(NumError::TooManyDigits)?;
                    frac_digits += zeros_pending + 1;
                    zeros_pending = 0;
                }
            } else {
                int_digits += 1;
                mant = mant
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(d))
                    .ok_or(NumError::Overflow)?;
            }
        } else if c == b'.' && !in_frac {
            if int_digits == 0 {
                return Err(NumError::Garbage);
            }
            in_frac = true;
        } else if c == b'e' || c == b'E' {
            break;
        } else {
            return Err(NumError::Garbage);
        }
        i += 1;
    }
    if int_digits == 0 || (in_frac && frac_seen == 0) {
        return Err(NumError::Garbage);
    }
    let mut exp: i32 = 0;
    if i < len {
        // s[i] is 'e' or 'E'
        i += 1;
        let mut eneg = false;
        if i < len && (s[i] == b'-' || s[i] == b'+') {
            eneg = s[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < len {
            let c = s[i];
            if !c.is_ascii_digit() || i - start >= 4 {
                return Err(NumError::Garbage);
            }
            exp = exp * 10 + (c - b'0') as i32;
            i += 1;
        }
        if i == start {
            return Err(NumError::Garbage);
        }
        if eneg {
            exp = -exp;
        }
    }
    let shift = decimals as i32 - frac_digits as i32 + exp;
    let units = if mant == 0 {
        0
    } else if shift >= 0 {
        let p = POW10_128
            .get(shift as usize)
            .copied()
            .ok_or(NumError::Overflow)?;
        mant.checked_mul(p).ok_or(NumError::Overflow)?
    } else {
        let p = POW10_128
            .get((-shift) as usize)
            .copied()
            .ok_or(NumError::TooManyDigits)?;
        if mant % p != 0 {
            return Err(NumError::TooManyDigits);
        }
        mant / p
    };
    // Symmetric range: `i128::MIN` units (no positive counterpart) is never produced.
    if units > i128::MAX as u128 {
        return Err(NumError::Overflow);
    }
    Ok(if neg { -(units as i128) } else { units as i128 })
}

/// 10^i as u128 for i in 0..=38.
pub(crate) const fn pow10_u128(i: u32) -> u128 {
    let mut v: u128 = 1;
    let mut k = 0;
    while k < i {
        v *= 10;
        k += 1;
    }
    v
}

/// The general exact parser for [`Dec`](crate::types::Dec): decimal text → normalized
/// `(mantissa, scale)` (no trailing fractional zeros, zero is `(0, 0)`, scale ≤ 38, mantissa never
/// `i128::MIN`). Same grammar and error kinds as [`parse_fixed`], with an `i128` mantissa.
pub fn parse_dec(s: &[u8], signed: bool) -> Result<(i128, u8), NumError> {
    let len = s.len();
    if len == 0 {
        return Err(NumError::Empty);
    }
    let mut i = 0;
    let mut neg = false;
    if s[0] == b'-' || s[0] == b'+' {
        if !signed {
            return Err(NumError::Sign);
        }
        neg = s[0] == b'-';
        i = 1;
    }
    let mut mant: u128 = 0;
    let mut int_digits = 0u32;
    let mut frac_digits = 0u32;
    let mut zeros_pending = 0u32;
    let mut frac_seen = 0u32;
    let mut in_frac = false;
    while i < len {
        let c = s[i];
        if c.is_ascii_digit() {
            let d = (c - b'0') as u128;
            if in_frac {
                frac_seen += 1;
                if d == 0 {
                    zeros_pending += 1;
                } else {
                    let n = zeros_pending + 1;
                    if n > DEC_MAX_SCALE as u32 {
                        return Err(NumError::TooManyDigits);
                    }
                    mant = mant
                        .checked_mul(pow10_u128(n))
                        .and_then(|m| m.checked_add(d))
                        .ok_or(NumError::TooManyDigits)?;
                    frac_digits += n;
                    zeros_pending = 0;
                }
            } else {
                int_digits += 1;
                mant = mant
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(d))
                    .ok_or(NumError::Overflow)?;
            }
        } else if c == b'.' && !in_frac {
            if int_digits == 0 {
                return Err(NumError::Garbage);
            }
            in_frac = true;
        } else if c == b'e' || c == b'E' {
            break;
        } else {
            return Err(NumError::Garbage);
        }
        i += 1;
    }
    if int_digits == 0 || (in_frac && frac_seen == 0) {
        return Err(NumError::Garbage);
    }
    let mut exp: i32 = 0;
    if i < len {
        i += 1;
        let mut eneg = false;
        if i < len && (s[i] == b'-' || s[i] == b'+') {
            eneg = s[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < len {
            let c = s[i];
            if !c.is_ascii_digit() || i - start >= 4 {
                return Err(NumError::Garbage);
            }
            exp = exp * 10 + (c - b'0') as i32;
            i += 1;
        }
        if i == start {
            return Err(NumError::Garbage);
        }
        if eneg {
            exp = -exp;
        }
    }
    if mant == 0 {
        return Ok((0, 0));
    }
    let mut scale = frac_digits as i32 - exp;
    if scale < 0 {
        let p = if -scale > 38 {
            return Err(NumError::Overflow);
        } else {
            pow10_u128((-scale) as u32)
        };
        mant = mant.checked_mul(p).ok_or(NumError::Overflow)?;
        scale = 0;
    }
    while scale > 0 && mant % 10 == 0 {
        mant /= 10;
        scale -= 1;
    }
    if scale > DEC_MAX_SCALE as i32 {
        return Err(NumError::TooManyDigits);
    }
    if mant > i128::MAX as u128 {
        return Err(if scale > 0 {
            NumError::TooManyDigits
        } else {
            NumError::Overflow
        });
    }
    let m = mant as i128;
    Ok((if neg { -m } else { m }, scale as u8))
}

// ---------------------------------------------------------------------------------------------
// Fast paths. Each handles one common shape and falls back to the general parser for anything
// else, so its result is the general parser's, errors included.

/// Accumulate a run of ASCII digits starting at `j` onto `mant`, two digits per step (halves
/// the multiply-add dependency chain). Returns (mant, digits consumed, index after the run).
/// `mant` wraps if the run is longer than 18 digits; callers reject that case by count.
#[inline(always)]
pub(crate) fn digit_run(b: &[u8], mut j: usize, mut mant: u64) -> (u64, u32, usize) {
    let mut n = 0u32;
    while let Some(&c) = b.get(j) {
        let d0 = c.wrapping_sub(b'0');
        if d0 >= 10 {
            break;
        }
        let d1 = match b.get(j + 1) {
            Some(&c) => c.wrapping_sub(b'0'),
            None => 255,
        };
        if d1 < 10 {
            mant = mant
                .wrapping_mul(100)
                .wrapping_add(d0 as u64 * 10 + d1 as u64);
            j += 2;
            n += 2;
        } else {
            mant = mant.wrapping_mul(10).wrapping_add(d0 as u64);
            j += 1;
            n += 1;
            break;
        }
    }
    (mant, n, j)
}

/// `digits(.digits)?` at `start` within the fast-path limits (≤ 18 digits, ≤ `decimals`
/// fraction digits, integer digits + `decimals` ≤ 38) → (units, index after it). `None`: not
/// this shape, the caller's general parser decides. Whatever follows the digits is the caller's.
#[inline(always)]
pub fn plain_dec(b: &[u8], start: usize, decimals: u32) -> Option<(i128, usize)> {
    let (mant, n_int, j) = digit_run(b, start, 0);
    let (mant, n_frac, j) = if b.get(j) == Some(&b'.') {
        let (m, n, j2) = digit_run(b, j + 1, mant);
        if n == 0 {
            return None;
        }
        (m, n, j2)
    } else {
        (mant, 0, j)
    };
    if n_int == 0 || n_int + n_frac > 18 || n_frac > decimals || n_int + decimals > 38 {
        return None;
    }
    // mant < 10^(n_int+n_frac) and n_int + decimals ≤ 38: the product is < 10^38 < i128::MAX.
    Some((widen_mul(mant, decimals - n_frac) as i128, j))
}

/// Unsigned decimal text → fixed-point with `decimals` digits; identical results to
/// `parse_fixed(s, decimals, false)` (which it falls back to for anything but a short plain
/// `digits(.digits)?`), faster for the common case: the digits accumulate in a `u64` and one
/// widening multiply scales them.
#[inline]
pub fn parse_unsigned_fast(s: &[u8], decimals: u32) -> Result<i128, NumError> {
    let (mant, n_int, j) = digit_run(s, 0, 0);
    let (mant, n_frac, j) = if s.get(j) == Some(&b'.') {
        let (m, n, j2) = digit_run(s, j + 1, mant);
        (m, n, j2)
    } else {
        (mant, 0, j)
    };
    if j != s.len()
        || n_int == 0
        || (n_frac == 0 && j > n_int as usize)
        || n_int + n_frac > 18
        || n_frac > decimals
        || n_int + decimals > 38
    {
        return parse_fixed(s, decimals, false);
    }
    // mant < 10^(n_int+n_frac) and n_int + decimals ≤ 38: the product is < 10^38.
    Ok(widen_mul(mant, decimals - n_frac) as i128)
}

/// Unsigned decimal text → fixed-point with `decimals` digits through the SWAR 8+8 fast path
/// ([`swar_e8`], for `decimals` 8..=30), then [`parse_unsigned_fast`]; identical results to
/// `parse_fixed(s, decimals, false)`.
#[inline(always)]
pub fn parse_unsigned_swar(s: &[u8], decimals: u32) -> Result<i128, NumError> {
    if (8..=30).contains(&decimals) {
        if let Some(v) = swar_e8(s) {
            // v < 10^16, × 10^(decimals-8) ≤ 10^22: < 10^38, fits.
            return Ok(widen_mul(v, decimals - 8) as i128);
        }
    }
    parse_unsigned_fast(s, decimals)
}

/// Eight ASCII digits (first digit in the lowest byte) → their value, without branches.
#[inline(always)]
fn swar8(chunk: u64) -> u64 {
    let mut v = chunk.wrapping_sub(0x3030_3030_3030_3030);
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    ((v & 0x0000_00ff_0000_00ff)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & 0x0000_00ff_0000_00ff).wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

/// Whether all eight bytes are ASCII digits.
#[inline(always)]
fn all_digits8(chunk: u64) -> bool {
    ((chunk & 0xf0f0_f0f0_f0f0_f0f0)
        | ((chunk.wrapping_add(0x0606_0606_0606_0606) & 0xf0f0_f0f0_f0f0_f0f0) >> 4))
        == 0x3333_3333_3333_3333
}

const ZEROS8: u64 = 0x3030_3030_3030_3030;

/// SWAR fast path: `d{1,8}(.d{1,8})?`, at most 16 bytes → value × 10⁸ (exact). `None` for any
/// other shape (the caller falls back). Two independent 8-digit conversions, no per-digit
/// branches.
#[inline(always)]
pub fn swar_e8(s: &[u8]) -> Option<u64> {
    let n = s.len();
    // Load the 4..=16 bytes with two overlapping fixed-size reads (no byte copy into a stack
    // buffer: that costs a store-forwarding stall); bytes past `n` are zero.
    let x: u128 = if (8..=16).contains(&n) {
        let (Ok(lo), Ok(tail)) = (
            <[u8; 8]>::try_from(&s[..8]),
            <[u8; 8]>::try_from(&s[n - 8..]),
        ) else {
            return None;
        };
        let hi = if n == 8 {
            0
        } else {
            u64::from_le_bytes(tail) >> (8 * (16 - n) as u32)
        };
        u64::from_le_bytes(lo) as u128 | (hi as u128) << 64
    } else if (4..8).contains(&n) {
        let (Ok(lo), Ok(tail)) = (
            <[u8; 4]>::try_from(&s[..4]),
            <[u8; 4]>::try_from(&s[n - 4..]),
        ) else {
            return None;
        };
        let hi = (u32::from_le_bytes(tail) as u64) >> (8 * (8 - n) as u32);
        (u32::from_le_bytes(lo) as u64 | hi << 32) as u128
    } else {
        return None;
    };
    // Index of the first '.', or n when there is none.
    let dots = {
        let t = x ^ 0x2e2e_2e2e_2e2e_2e2e_2e2e_2e2e_2e2e_2e2e; // '.' bytes become 0
        let hi = 0x8080_8080_8080_8080_8080_8080_8080_8080u128;
        let lo = 0x0101_0101_0101_0101_0101_0101_0101_0101u128;
        t.wrapping_sub(lo) & !t & hi
    };
    let d = if dots == 0 {
        n
    } else {
        (dots.trailing_zeros() / 8) as usize
    };
    if d == 0 || d > 8 || d > n {
        return None;
    }
    let m = if d == n { 0 } else { n - d - 1 };
    if d < n && (m == 0 || m > 8) {
        return None;
    }
    // Integer digits right-aligned in 8 bytes, '0'-filled on the left (low bytes).
    let int_bits = (x as u64) & (u64::MAX >> (8 * (8 - d) as u32));
    let int_chunk = if d == 8 {
        int_bits
    } else {
        (int_bits << (8 * (8 - d) as u32)) | (ZEROS8 >> (8 * d as u32))
    };
    // Fraction digits left-aligned, '0'-filled on the right (high bytes).
    let frac_bits = if m == 0 {
        0
    } else {
        ((x >> (8 * (d + 1) as u32)) as u64) & (u64::MAX >> (8 * (8 - m) as u32))
    };
    let frac_chunk = if m == 8 {
        frac_bits
    } else {
        frac_bits | (ZEROS8 << (8 * m as u32))
    };
    if !(all_digits8(int_chunk) && all_digits8(frac_chunk)) {
        return None;
    }
    Some(swar8(int_chunk) * 100_000_000 + swar8(frac_chunk))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn swar_window_values() {
        assert_eq!(swar_e8(b"84270.01"), Some(8_427_001_000_000));
        assert_eq!(swar_e8(b"0.00638700"), Some(638_700));
        assert_eq!(swar_e8(b"12345678.12345678"), None, "17 bytes");
    }

    /// Edge cases every fast entry point must agree with the general parser on (also used by
    /// the MEXC walker's wrapper test).
    pub(crate) const FAST_PATH_CASES: &[&[u8]] = &[
        b"84270.01",
        b"0.00638700",
        b"0",
        b"00.5",
        b"1.",
        b".5",
        b"1e3",
        b"-1",
        b"+1",
        b"0.00000000001",
        b"0.000000001",
        b"9223372036854775807",
        b"922337203.6854775807",
        b"922337203.6854775808",
        b"92233720368.54775807",
        b"92233720368.54775808",
        b"1234567890123456789",
        b"1..2",
        b"1.2.3",
        b"",
        b"abc",
        b"12a",
        b"1.0000000000",
    ];

    #[test]
    fn fast_paths_equal_general_parser() {
        // Formerly the MEXC walker's own fast path cases; every fast entry point must equal
        // the general parser on them, errors included.
        let cases = FAST_PATH_CASES;
        for c in cases {
            for dec in [8, 10, 16] {
                let want = parse_fixed(c, dec, false);
                assert_eq!(
                    parse_unsigned_fast(c, dec),
                    want,
                    "{}",
                    String::from_utf8_lossy(c)
                );
                assert_eq!(
                    parse_unsigned_swar(c, dec),
                    want,
                    "{}",
                    String::from_utf8_lossy(c)
                );
            }
        }
        assert_eq!(
            parse_unsigned_swar(b"84270.01", 10),
            Ok(842_700_100_000_000)
        );
    }

    proptest! {
    #[test]
    fn parse_unsigned_fast_matches_parse_fixed(body in "[0-9.eE+-]{0,24}", dec in prop::sample::select(vec![8u32, 10, 16])) {
        prop_assert_eq!(
            parse_unsigned_fast(body.as_bytes(), dec),
            parse_fixed(body.as_bytes(), dec, false)
        );
    }

    #[test]
    fn parse_unsigned_fast_matches_on_plain_decimals(i in 0u64..1_000_000_000_000, f in 0u64..100_000_000_000, fd in 0usize..12, dec in prop::sample::select(vec![8u32, 10, 16])) {
        let t = if fd == 0 { i.to_string() } else { format!("{i}.{:0>fd$}", f % 10u64.pow(fd as u32)) };
        prop_assert_eq!(parse_unsigned_fast(t.as_bytes(), dec), parse_fixed(t.as_bytes(), dec, false));
    }    }
}
