//! Low-level protobuf reading, shared by every handler; no dispatch here.
//!
//! * [`Fields`]: a bounds-checked protobuf field walker over borrowed bytes;
//! * [`Head`] (the wrapper fields every body may need) and [`Chunks`] (the occurrences of one
//!   body field, merged as prost merges them);
//! * field conversions: text → `Px`/`Qty`/`Dec` (through [`crate::num`]), versions, `tradeType`.
//!
//! ## Field walker
//! Yields `(field number, value)` pairs in wire order without decoding what the caller does not
//! ask for: length-delimited values are returned as sub-slices of the input, varints as `u64`.
//! Never allocates, never panics (every index is checked), never recurses.
//!
//! Accepted wire types: 0 (varint), 1 (64-bit), 2 (length-delimited), 5 (32-bit). Groups (3, 4)
//! are refused with `WrongType("group")` (proto3 never produces them; prost would skip them), wire
//! types 6 and 7, field number 0 and keys above `u32::MAX` with `Malformed`, over-long varints
//! (more than 10 bytes, or a 10th byte above 1, as prost) with `Malformed`, and lengths past the
//! end of the buffer with `Truncated`.

use crate::event::DecodeError;
use crate::num::parse_unsigned_swar;
use crate::types::{Dec, NumError, Px, Qty, Side};

/// One field value as it sits on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wire<'a> {
    Varint(u64),
    I64(u64),
    Len(&'a [u8]),
    I32(u32),
}

impl<'a> Wire<'a> {
    /// The value of a varint field (`int32`/`int64`/`bool`), or `WrongType(name)`.
    #[inline(always)]
    pub(crate) fn varint(self, name: &'static str) -> Result<u64, DecodeError> {
        match self {
            Wire::Varint(v) => Ok(v),
            _ => Err(DecodeError::WrongType(name)),
        }
    }

    /// The bytes of a length-delimited field (`string`/`bytes`/message), or `WrongType(name)`.
    #[inline(always)]
    pub(crate) fn bytes(self, name: &'static str) -> Result<&'a [u8], DecodeError> {
        match self {
            Wire::Len(b) => Ok(b),
            _ => Err(DecodeError::WrongType(name)),
        }
    }
}

/// Decode a base-128 varint at `*pos`, advancing it. Same acceptance as prost.
#[inline(always)]
pub(crate) fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, DecodeError> {
    let mut i = *pos;
    let Some(&b0) = buf.get(i) else {
        return Err(DecodeError::Truncated);
    };
    i += 1;
    if b0 < 0x80 {
        *pos = i;
        return Ok(b0 as u64);
    }
    let mut value = (b0 & 0x7f) as u64;
    let mut shift = 7u32;
    loop {
        let Some(&b) = buf.get(i) else {
            return Err(DecodeError::Truncated);
        };
        i += 1;
        if shift == 63 {
            // 10th byte: only the lowest bit still fits a u64.
            if b > 1 {
                return Err(DecodeError::Malformed);
            }
            value |= (b as u64) << 63;
            *pos = i;
            return Ok(value);
        }
        value |= ((b & 0x7f) as u64) << shift;
        if b < 0x80 {
            *pos = i;
            return Ok(value);
        }
        shift += 7;
    }
}

/// Iterator-like walker over the fields of one message.
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    #[inline(always)]
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    /// Offset of the next field's key.
    #[inline(always)]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The next field, `Ok(None)` at the end of the message.
    #[inline(always)]
    pub(crate) fn next_field(&mut self) -> Result<Option<(u32, Wire<'a>)>, DecodeError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let buf = self.buf;
        let mut pos = self.pos;
        let key = read_varint(buf, &mut pos)?;
        if key > u32::MAX as u64 {
            return Err(DecodeError::Malformed);
        }
        let number = (key >> 3) as u32;
        if number == 0 {
            return Err(DecodeError::Malformed);
        }
        let value = match key & 7 {
            0 => Wire::Varint(read_varint(buf, &mut pos)?),
            1 => {
                let Some(b) = buf.get(pos..pos + 8) else {
                    return Err(DecodeError::Truncated);
                };
                pos += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Wire::I64(u64::from_le_bytes(a))
            }
            2 => {
                let len = read_varint(buf, &mut pos)?;
                let rest = (buf.len() - pos) as u64;
                if len > rest {
                    return Err(DecodeError::Truncated);
                }
                let end = pos + len as usize;
                let v = &buf[pos..end];
                pos = end;
                Wire::Len(v)
            }
            5 => {
                let Some(b) = buf.get(pos..pos + 4) else {
                    return Err(DecodeError::Truncated);
                };
                pos += 4;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Wire::I32(u32::from_le_bytes(a))
            }
            3 | 4 => return Err(DecodeError::WrongType("group")),
            _ => return Err(DecodeError::Malformed),
        };
        self.pos = pos;
        Ok(Some((number, value)))
    }
}

/// Wrapper fields every body may need.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Head<'a> {
    pub symbol: Option<&'a [u8]>,
    pub create_time: Option<i64>,
    pub send_time: Option<i64>,
}

impl<'a> Head<'a> {
    #[inline]
    pub(crate) fn symbol(&self) -> Result<&'a str, DecodeError> {
        match self.symbol {
            Some(b) if !b.is_empty() => utf8("symbol", b),
            _ => Err(DecodeError::MissingField("symbol")),
        }
    }

    #[inline]
    pub(crate) fn ts(&self, body_time_ms: i64) -> Option<i64> {
        if body_time_ms != 0 {
            Some(body_time_ms)
        } else {
            self.send_time.or(self.create_time)
        }
    }
}

/// The occurrences of one body field to merge (normally exactly one).
#[derive(Clone)]
pub(super) enum Chunks<'a> {
    One(Option<&'a [u8]>),
    Many { fields: Fields<'a>, number: u32 },
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match self {
            Chunks::One(c) => c.take(),
            Chunks::Many { fields, number } => loop {
                // The wrapper was fully walked without error in pass 1.
                match fields.next_field() {
                    Ok(Some((n, Wire::Len(b)))) if n == *number => return Some(b),
                    Ok(Some(_)) => continue,
                    _ => return None,
                }
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Field conversions (text through `crate::num` only).

#[inline]
pub(super) fn utf8<'a>(name: &'static str, b: &'a [u8]) -> Result<&'a str, DecodeError> {
    std::str::from_utf8(b).map_err(|_| DecodeError::WrongType(name))
}

#[inline]
pub(super) fn opt_utf8<'a>(
    name: &'static str,
    b: &'a [u8],
) -> Result<Option<&'a str>, DecodeError> {
    if b.is_empty() {
        Ok(None)
    } else {
        utf8(name, b).map(Some)
    }
}

#[inline(always)]
pub(super) fn px(name: &'static str, b: &[u8]) -> Result<Px, DecodeError> {
    parse_unsigned_swar(b, Px::DECIMALS)
        .map(Px)
        .map_err(|e| DecodeError::Number(name, e))
}

#[inline(always)]
pub(super) fn qty(name: &'static str, b: &[u8]) -> Result<Qty, DecodeError> {
    parse_unsigned_swar(b, Qty::DECIMALS)
        .map(Qty)
        .map_err(|e| DecodeError::Number(name, e))
}

#[inline]
pub(super) fn px_or_zero(name: &'static str, b: &[u8]) -> Result<Px, DecodeError> {
    if b.is_empty() {
        Ok(Px::ZERO)
    } else {
        px(name, b)
    }
}

#[inline]
pub(super) fn qty_or_zero(name: &'static str, b: &[u8]) -> Result<Qty, DecodeError> {
    if b.is_empty() {
        Ok(Qty::ZERO)
    } else {
        qty(name, b)
    }
}

/// Venue-computed account value (average price, fee, balance, change): exact [`Dec`] from the
/// text, signed; empty → zero. Never rounded (more than 38 significant digits is an error).
pub(super) fn dec(name: &'static str, b: &[u8]) -> Result<Dec, DecodeError> {
    if b.is_empty() {
        return Ok(Dec::ZERO);
    }
    Dec::parse_signed(b).map_err(|e| DecodeError::Number(name, e))
}

/// A version carried as decimal text (`"82164153436"`) → `u64`. Empty → `MissingField`.
#[inline]
pub(super) fn version(name: &'static str, b: &[u8]) -> Result<u64, DecodeError> {
    if b.is_empty() {
        return Err(DecodeError::MissingField(name));
    }
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(DecodeError::Number(name, NumError::Garbage));
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add((c - b'0') as u64))
            .ok_or(DecodeError::Number(name, NumError::Overflow))?;
    }
    Ok(v)
}

/// `tradeType` 1 buy / 2 sell (taker side on public deals; order/fill side on private pushes).
#[inline]
pub fn trade_side(trade_type: i32) -> Result<Side, DecodeError> {
    match trade_type {
        1 => Ok(Side::Buy),
        2 => Ok(Side::Sell),
        _ => Err(DecodeError::WrongType("tradeType")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_protobuf_encoding() {
        let mut out = Vec::new();
        for v in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX] {
            out.clear();
            prost::encoding::encode_varint(v, &mut out);
            let mut pos = 0;
            assert_eq!(read_varint(&out, &mut pos), Ok(v));
            assert_eq!(pos, out.len());
        }
    }

    #[test]
    fn overlong_varint_is_malformed_not_panic() {
        let b = [0xffu8; 11];
        assert_eq!(read_varint(&b, &mut 0), Err(DecodeError::Malformed));
        let mut b = [0xffu8; 10];
        b[9] = 0x02;
        assert_eq!(read_varint(&b, &mut 0), Err(DecodeError::Malformed));
        assert_eq!(
            read_varint(&[0x80, 0x80], &mut 0),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn walks_all_wire_types_and_rejects_groups() {
        // f1 varint 150, f2 fixed64, f3 "ab", f4 fixed32
        let b = [
            0x08, 0x96, 0x01, 0x11, 1, 0, 0, 0, 0, 0, 0, 0, 0x1a, 2, b'a', b'b', 0x25, 2, 0, 0, 0,
        ];
        let mut f = Fields::new(&b);
        assert_eq!(f.next_field(), Ok(Some((1, Wire::Varint(150)))));
        assert_eq!(f.next_field(), Ok(Some((2, Wire::I64(1)))));
        assert_eq!(f.next_field(), Ok(Some((3, Wire::Len(b"ab")))));
        assert_eq!(f.next_field(), Ok(Some((4, Wire::I32(2)))));
        assert_eq!(f.next_field(), Ok(None));
        assert_eq!(
            Fields::new(&[0x0b, 0x0c]).next_field(),
            Err(DecodeError::WrongType("group"))
        );
        assert_eq!(
            Fields::new(&[0x00]).next_field(),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            Fields::new(&[0x0e]).next_field(),
            Err(DecodeError::Malformed)
        );
        assert_eq!(
            Fields::new(&[0x0a, 5, b'a']).next_field(),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            Fields::new(&[0x09, 1, 2]).next_field(),
            Err(DecodeError::Truncated)
        );
        // key above u32::MAX
        assert_eq!(
            Fields::new(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).next_field(),
            Err(DecodeError::Malformed)
        );
    }
}

#[cfg(test)]
mod conv_tests {
    use super::*;

    #[test]
    fn account_values_are_exact_never_truncated() {
        assert_eq!(
            dec("f", b"0.0003998377369698171").map(|d| d.to_string()),
            Ok("0.0003998377369698171".to_string())
        );
        assert_eq!(
            dec("f", b"-1.123456789"),
            Ok(Dec::from_parts(-1_123_456_789, 9).unwrap())
        );
        assert_eq!(dec("f", b""), Ok(Dec::ZERO));
        assert_eq!(
            dec("f", b"1.0000000000000000000000000000000000000001"),
            Err(DecodeError::Number("f", NumError::TooManyDigits))
        );
    }

    #[test]
    fn fast_path_equals_general_parser() {
        let cases = crate::num::tests::FAST_PATH_CASES;
        for c in cases {
            // The fast paths themselves: tests/decode/num_parse.rs and `crate::num`'s unit tests.
            // Through the wrappers: identical to the general parser, errors included.
            assert_eq!(
                px("p", c),
                Px::parse(c).map_err(|e| DecodeError::Number("p", e))
            );
            assert_eq!(
                qty("q", c),
                Qty::parse(c).map_err(|e| DecodeError::Number("q", e))
            );
        }
        assert_eq!(px("p", b"84270.01"), Ok(Px(842_700_100_000_000_000_000)));
    }

    #[test]
    fn swar_shapes_equal_general_parser() {
        // Every (integer digits, fraction digits) shape around the 8+8 SWAR window, with and
        // without a dot, digits varied; plus a non-digit planted at every position.
        let digits = b"9081726354";
        for d in 0..=10usize {
            for m in 0..=10usize {
                for dot in [true, false] {
                    if !dot && m > 0 {
                        continue;
                    }
                    let mut s = Vec::new();
                    for i in 0..d {
                        s.push(digits[(i * 7 + m) % 10]);
                    }
                    if dot {
                        s.push(b'.');
                    }
                    for i in 0..m {
                        s.push(digits[(i * 3 + d) % 10]);
                    }
                    let want_p = Px::parse(&s).map_err(|e| DecodeError::Number("p", e));
                    let want_q = Qty::parse(&s).map_err(|e| DecodeError::Number("q", e));
                    assert_eq!(px("p", &s), want_p, "{}", String::from_utf8_lossy(&s));
                    assert_eq!(qty("q", &s), want_q, "{}", String::from_utf8_lossy(&s));
                    for pos in 0..s.len() {
                        for bad in [b'/', b':', b'.', b'e', b'-', 0u8, 0xae, b' '] {
                            let mut t = s.clone();
                            t[pos] = bad;
                            assert_eq!(
                                px("p", &t),
                                Px::parse(&t).map_err(|e| DecodeError::Number("p", e)),
                                "{:?}",
                                t
                            );
                            assert_eq!(
                                qty("q", &t),
                                Qty::parse(&t).map_err(|e| DecodeError::Number("q", e)),
                                "{:?}",
                                t
                            );
                        }
                    }
                }
            }
        }
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

            #[test]
            fn swar_window_matches(s in "[0-9]{1,9}(\\.[0-9]{0,9})?") {
                let b = s.as_bytes();
                prop_assert_eq!(px("p", b), Px::parse(b).map_err(|e| DecodeError::Number("p", e)));
                prop_assert_eq!(qty("q", b), Qty::parse(b).map_err(|e| DecodeError::Number("q", e)));
            }

            #[test]
            fn fast_path_matches_on_random_text(s in "[0-9.]{0,21}|[0-9]{1,12}\\.[0-9]{0,12}") {
                let b = s.as_bytes();
                prop_assert_eq!(px("p", b), Px::parse(b).map_err(|e| DecodeError::Number("p", e)));
                prop_assert_eq!(qty("q", b), Qty::parse(b).map_err(|e| DecodeError::Number("q", e)));
            }

            #[test]
            fn fast_path_matches_on_bytes(b in proptest::collection::vec(any::<u8>(), 0..22)) {
                prop_assert_eq!(px("p", &b), Px::parse(&b).map_err(|e| DecodeError::Number("p", e)));
            }

        }
    }

    #[test]
    fn versions_parse_as_u64() {
        assert_eq!(version("v", b"82164153436"), Ok(82_164_153_436));
        assert_eq!(version("v", b""), Err(DecodeError::MissingField("v")));
        assert_eq!(
            version("v", b"1x"),
            Err(DecodeError::Number("v", NumError::Garbage))
        );
        assert_eq!(
            version("v", b"99999999999999999999"),
            Err(DecodeError::Number("v", NumError::Overflow))
        );
    }
}
