//! A bounds-checked protobuf field walker over borrowed bytes.
//!
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
