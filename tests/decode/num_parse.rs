//! Differential test of `cexfeed::num` — the one decimal parser behind `Px`/`Qty`/`Dec`, the
//! Gate.io scanner and tape path, and the MEXC walker — against a reference written for clarity,
//! not speed: it reads the rules listed in `src/num.rs` literally, keeps the digits as text and
//! decides every bound by comparing digit strings (no checked arithmetic, no powers-of-ten
//! table). Every entry point (general and fast) must give exactly the reference's value or
//! error kind, over arbitrary decimal text: signs, leading and trailing zeros, exponents, too
//! many digits, overflow, stray bytes.

use cexfeed::num::{
    parse_dec, parse_fixed, parse_unsigned_fast, parse_unsigned_swar, plain_dec, swar_e8,
};
use cexfeed::types::{Dec, NumError, Px, Qty};
use proptest::prelude::*;

const U128_MAX: &str = "340282366920938463463374607431768211455";
const I128_MAX: &str = "170141183460469231731687303715884105727";

/// `a > b` for digit strings (leading zeros allowed).
fn gt(a: &str, b: &str) -> bool {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    (a.len(), a) > (b.len(), b)
}

/// What the reference reads before the value is formed.
struct Read {
    neg: bool,
    /// Integer digits, then fraction digits up to the last non-zero one.
    digits: String,
    /// Fraction digits kept in `digits`.
    frac: i32,
    exp: i32,
}

/// The reading rules, shared by both mantissa widths. `mant_max`: the mantissa bound as digits;
/// `max_zero_run`: the longest run of fraction zeros that may precede a non-zero digit.
fn read(s: &[u8], signed: bool, mant_max: &str, max_zero_run: usize) -> Result<Read, NumError> {
    if s.is_empty() {
        return Err(NumError::Empty);
    }
    let mut rest = s;
    let mut neg = false;
    if let [c @ (b'-' | b'+'), tail @ ..] = s {
        if !signed {
            return Err(NumError::Sign);
        }
        neg = *c == b'-';
        rest = tail;
    }
    let mut int = String::new();
    let mut frac = String::new();
    let mut in_frac = false;
    let mut k = 0;
    while k < rest.len() {
        let c = rest[k];
        match c {
            b'0'..=b'9' if !in_frac => {
                int.push(c as char);
                if gt(&int, mant_max) {
                    return Err(NumError::Overflow);
                }
            }
            b'0'..=b'9' => {
                if c != b'0' {
                    let run = frac.len() - frac.trim_end_matches('0').len();
                    frac.push(c as char);
                    if run > max_zero_run || gt(&format!("{int}{frac}"), mant_max) {
                        return Err(NumError::TooManyDigits);
                    }
                } else {
                    frac.push('0');
                }
            }
            b'.' if !in_frac && !int.is_empty() => in_frac = true,
            b'e' | b'E' => break,
            _ => return Err(NumError::Garbage),
        }
        k += 1;
    }
    if int.is_empty() || (in_frac && frac.is_empty()) {
        return Err(NumError::Garbage);
    }
    let mut exp = 0i32;
    if k < rest.len() {
        let e = &rest[k + 1..];
        let (eneg, e) = match e {
            [b'-', t @ ..] => (true, t),
            [b'+', t @ ..] => (false, t),
            _ => (false, e),
        };
        if e.is_empty() || e.len() > 4 || !e.iter().all(u8::is_ascii_digit) {
            return Err(NumError::Garbage);
        }
        exp = std::str::from_utf8(e).unwrap().parse().unwrap();
        if eneg {
            exp = -exp;
        }
    }
    let frac = frac.trim_end_matches('0');
    Ok(Read {
        neg,
        digits: format!("{int}{frac}"),
        frac: frac.len() as i32,
        exp,
    })
}

/// Reference for `parse_fixed`: units of 10^-decimals as i128, symmetric range
/// (`|units| ≤ i128::MAX`), the same `u128` mantissa rules as `Dec`.
fn ref_fixed(s: &[u8], decimals: u32, signed: bool) -> Result<i128, NumError> {
    let r = read(s, signed, U128_MAX, 37)?;
    let digits = r.digits.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(0);
    }
    let shift = decimals as i32 - r.frac + r.exp;
    let units = if shift >= 0 {
        format!("{digits}{}", "0".repeat(shift as usize))
    } else {
        let k = (-shift) as usize;
        if k > digits.len() || !digits[digits.len() - k..].bytes().all(|c| c == b'0') {
            return Err(NumError::TooManyDigits);
        }
        digits[..digits.len() - k].to_string()
    };
    if gt(&units, I128_MAX) {
        return Err(NumError::Overflow);
    }
    let v: i128 = if units.is_empty() {
        0
    } else {
        units.parse().unwrap()
    };
    Ok(if r.neg { -v } else { v })
}

/// Reference for `parse_dec`: normalized (mantissa, scale).
fn ref_dec(s: &[u8], signed: bool) -> Result<(i128, u8), NumError> {
    let r = read(s, signed, U128_MAX, 37)?;
    let mut digits = r.digits.trim_start_matches('0').to_string();
    if digits.is_empty() {
        return Ok((0, 0));
    }
    let mut scale = r.frac - r.exp;
    if scale < 0 {
        digits.push_str(&"0".repeat((-scale) as usize));
        if -scale > 38 || gt(&digits, U128_MAX) {
            return Err(NumError::Overflow);
        }
        scale = 0;
    }
    while scale > 0 && digits.ends_with('0') {
        digits.pop();
        scale -= 1;
    }
    if scale > 38 {
        return Err(NumError::TooManyDigits);
    }
    if gt(&digits, I128_MAX) {
        return Err(if scale > 0 {
            NumError::TooManyDigits
        } else {
            NumError::Overflow
        });
    }
    let m: i128 = digits.parse().unwrap();
    Ok((if r.neg { -m } else { m }, scale as u8))
}

fn check_all(s: &[u8]) -> Result<(), TestCaseError> {
    let show = String::from_utf8_lossy(s);
    for signed in [false, true] {
        for decimals in [0u32, 2, 8, 10, 16, 18, 19, 38] {
            prop_assert_eq!(
                parse_fixed(s, decimals, signed),
                ref_fixed(s, decimals, signed),
                "parse_fixed({:?}, {}, {})",
                show,
                decimals,
                signed
            );
        }
        prop_assert_eq!(
            parse_dec(s, signed),
            ref_dec(s, signed),
            "parse_dec({:?})",
            show
        );
    }
    for decimals in [0u32, 2, 8, 10, 16, 18, 30] {
        let want = ref_fixed(s, decimals, false);
        prop_assert_eq!(parse_unsigned_fast(s, decimals), want, "fast {:?}", show);
        prop_assert_eq!(parse_unsigned_swar(s, decimals), want, "swar {:?}", show);
        // The scanner's in-buffer form: whatever prefix it takes, it reads exactly.
        if let Some((v, j)) = plain_dec(s, 0, decimals) {
            prop_assert_eq!(
                Ok(v),
                ref_fixed(&s[..j], decimals, false),
                "plain {:?}",
                show
            );
        }
    }
    if let Some(v) = swar_e8(s) {
        prop_assert_eq!(Ok(v as i128), ref_fixed(s, 8, false), "swar_e8 {:?}", show);
    }
    // The types' own entry points are the same module.
    prop_assert_eq!(Px::parse(s).map(|p| p.0), ref_fixed(s, 16, false));
    prop_assert_eq!(Px::parse_signed(s).map(|p| p.0), ref_fixed(s, 16, true));
    prop_assert_eq!(Qty::parse(s).map(|q| q.0), ref_fixed(s, 16, false));
    prop_assert_eq!(Qty::parse_signed(s).map(|q| q.0), ref_fixed(s, 16, true));
    prop_assert_eq!(
        Dec::parse_signed(s).map(|d| (d.mantissa(), d.scale())),
        ref_dec(s, true)
    );
    Ok(())
}

#[test]
fn reference_agrees_on_the_documented_edges() {
    // The reference itself, on values the unit tables in src/types.rs pin.
    let max = "17014118346046923173168.7303715884105727";
    assert_eq!(ref_fixed(max.as_bytes(), 16, false), Ok(i128::MAX));
    assert_eq!(
        ref_fixed(b"17014118346046923173168.7303715884105728", 16, false),
        Err(NumError::Overflow)
    );
    assert_eq!(
        ref_fixed(b"-17014118346046923173168.7303715884105728", 16, true),
        Err(NumError::Overflow)
    );
    assert_eq!(
        ref_fixed(format!("-{max}").as_bytes(), 16, true),
        Ok(-i128::MAX)
    );
    assert_eq!(
        ref_fixed(b"150000000000.0003341504", 16, false),
        Ok(1_500_000_000_000_003_341_504_000_000)
    );
    assert_eq!(ref_fixed(b"1.25e-05", 10, false), Ok(125_000));
    assert_eq!(ref_fixed(b"1e-11", 10, false), Err(NumError::TooManyDigits));
    assert_eq!(ref_fixed(b"1e99999", 10, false), Err(NumError::Garbage));
    assert_eq!(ref_fixed(b"0e30", 10, false), Ok(0));
    assert_eq!(ref_fixed(b"-", 10, true), Err(NumError::Garbage));
    assert_eq!(ref_dec(b"100e-40", true), Ok((1, 38)));
    assert_eq!(ref_dec(b"1e39", true), Err(NumError::Overflow));
    assert_eq!(ref_dec(b"19137.740", true), Ok((1_913_774, 2)));
    // Mantissa bounds apply before the exponent (today's rule, kept; the u128 mantissa allows
    // a run of 37 fraction zeros, 38 is refused).
    assert_eq!(
        ref_fixed(b"0.000000000000000000000000000000000000001e40", 10, false),
        Err(NumError::TooManyDigits)
    );
    assert_eq!(
        parse_fixed(b"0.000000000000000000000000000000000000001e40", 10, false),
        Err(NumError::TooManyDigits)
    );
    assert_eq!(
        ref_fixed(b"0.00000000000000000001e20", 10, false),
        Ok(10_000_000_000)
    );
}

/// Decimal-shaped text: optional sign, zero runs, long digit runs, optional fraction and
/// exponent (up to five exponent digits), with the occasional stray byte.
fn decimal_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?0{0,3}[0-9]{1,12}(\\.[0-9]{1,12})?",
        "[-+]?0{0,22}[0-9]{0,24}(\\.0{0,22}[0-9]{0,24})?([eE][-+]?[0-9]{0,5})?",
        "[-+]?[1-9][0-9]{17,40}(\\.[0-9]{0,20})?([eE][-+]?[0-9]{1,2})?",
        "[0-9]{1,9}(\\.[0-9]{0,9})?",
        "[-+]?0{1,3}\\.0{15,40}[1-9][0-9]{0,3}([eE][-+]?[0-9]{1,2})?",
        "[-+]?[0-9]{1,20}\\.0{0,20}[1-9][0-9]{0,20}([eE][-+]?[0-9]{1,2})?",
        "[0-9.eE+-]{0,24}",
        "[0-9.eE+ a,-]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_entry_point_equals_the_reference(s in decimal_text()) {
        check_all(s.as_bytes())?;
    }

    #[test]
    fn every_entry_point_equals_the_reference_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..24)) {
        check_all(&b)?;
    }

    #[test]
    fn exponent_forms_of_exact_values(v in -i128::MAX..=i128::MAX, pad in 0usize..12, exp in -25i32..25) {
        // A value written with an exponent: shift the point by hand and compare.
        let p = Px(v).to_string();
        let mut s = p.clone();
        if !s.contains('.') { s.push_str(".0"); }
        for _ in 0..pad { s.push('0'); }
        let e = format!("{s}e{exp}");
        check_all(e.as_bytes())?;
        check_all(s.as_bytes())?;
    }
}
