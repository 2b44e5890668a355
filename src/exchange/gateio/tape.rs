//! Navigation over a simd-json tape, plus exact number text recovery.
//!
//! simd-json's tape stores a JSON number as `i64`/`u64`/`f64`, which loses the text of a float
//! (`40000.4`, `-0.00025`, `1.25e-05`). Prices and sizes must never go through `f64`, so every
//! number is re-read from the frame bytes instead: stage 1 of simd-json leaves the byte offset of
//! every structural token in [`simd_json::Buffers::structural_indexes`]. Each structural that is
//! not `:` `,` `}` `]` opens exactly one tape node, in order, so walking the two side by side
//! gives each tape node its byte offset in the frame (built lazily, only for frames that need a
//! number's text). The frame the caller passed is never mutated (simd-json parses a copy), so the
//! number text is read from it unchanged.

use simd_json::{Node, StaticNode};

use crate::event::{DecodeError, IdRef};
use crate::types::{Dec, Px, Qty};

/// A parsed frame: tape nodes, the original bytes and the node → byte offset table.
pub(crate) struct Doc<'t, 'a> {
    pub nodes: &'t [Node<'a>],
    pub frame: &'a [u8],
    structurals: &'t [u32],
    pos: &'t mut Vec<u32>,
    pos_built: bool,
}

/// A value that carries a decimal: its exact text (a JSON string's content or a number token).
#[derive(Clone, Copy)]
pub(crate) enum NumText<'a> {
    Text(&'a [u8]),
    Null,
    Other,
}

impl<'t, 'a: 't> Doc<'t, 'a> {
    pub fn new(
        nodes: &'t [Node<'a>],
        frame: &'a [u8],
        structurals: &'t [u32],
        pos: &'t mut Vec<u32>,
    ) -> Self {
        Doc {
            nodes,
            frame,
            structurals,
            pos,
            pos_built: false,
        }
    }

    #[inline]
    pub fn node(&self, i: usize) -> Option<Node<'a>> {
        self.nodes.get(i).copied()
    }

    /// Index of the node after the value starting at `i`.
    #[inline]
    pub fn skip(&self, i: usize) -> usize {
        match self.nodes.get(i) {
            Some(Node::Object { count, .. }) | Some(Node::Array { count, .. }) => i + 1 + count,
            _ => i + 1,
        }
    }

    /// Object at `i`: (number of keys). `None` if not an object.
    #[inline]
    pub fn obj_len(&self, i: usize) -> Option<usize> {
        match self.nodes.get(i) {
            Some(Node::Object { len, .. }) => Some(*len),
            _ => None,
        }
    }

    #[inline]
    pub fn arr_len(&self, i: usize) -> Option<usize> {
        match self.nodes.get(i) {
            Some(Node::Array { len, .. }) => Some(*len),
            _ => None,
        }
    }

    /// Iterate an object's (key, value index) pairs.
    #[inline]
    pub fn fields(&self, i: usize) -> Fields<'_, 't, 'a> {
        let n = self.obj_len(i).unwrap_or(0);
        Fields {
            doc: self,
            next: i + 1,
            left: n,
        }
    }

    /// Value index of `key` in the object at `i` (last occurrence wins, like the field loops).
    pub fn get(&self, i: usize, key: &str) -> Option<usize> {
        let mut found = None;
        for (k, v) in self.fields(i) {
            if k == key {
                found = Some(v);
            }
        }
        found
    }

    #[inline]
    pub fn str_at(&self, i: usize) -> Option<&'a str> {
        match self.nodes.get(i) {
            Some(Node::String(s)) => Some(*s),
            _ => None,
        }
    }

    #[inline]
    pub fn is_null(&self, i: usize) -> bool {
        matches!(self.nodes.get(i), Some(Node::Static(StaticNode::Null)))
    }

    pub fn bool_at(&self, i: usize, field: &'static str) -> Result<bool, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::Bool(b))) => Ok(*b),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    fn build_pos(&mut self) {
        self.pos.clear();
        for &ix in self.structurals {
            match self.frame.get(ix as usize) {
                Some(b':') | Some(b',') | Some(b'}') | Some(b']') => {}
                _ => self.pos.push(ix),
            }
        }
        self.pos_built = true;
    }

    /// The original text of the number token at node `i`.
    pub fn number_text(&mut self, i: usize) -> Option<&'a [u8]> {
        if !self.pos_built {
            self.build_pos();
        }
        let start = *self.pos.get(i)? as usize;
        let rest = self.frame.get(start..)?;
        let len = rest
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        Some(&rest[..len])
    }

    /// Decimal text of a string or number node.
    pub fn dec(&mut self, i: usize) -> NumText<'a> {
        match self.nodes.get(i) {
            Some(Node::String(s)) => NumText::Text(s.as_bytes()),
            Some(Node::Static(StaticNode::Null)) => NumText::Null,
            Some(Node::Static(StaticNode::Bool(_))) => NumText::Other,
            Some(Node::Static(_)) => match self.number_text(i) {
                Some(t) => NumText::Text(t),
                None => NumText::Other,
            },
            _ => NumText::Other,
        }
    }

    pub fn px(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => Px::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned price (book levels, trades).
    pub fn pxu(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Px::DECIMALS)
                .map(Px)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Price where `""` (Gate futures empty book side) means zero.
    pub fn px_or_empty(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Px::ZERO),
            NumText::Text(t) => Px::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned quantity.
    pub fn qty(&mut self, i: usize, field: &'static str) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Qty::DECIMALS)
                .map(Qty)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned quantity where `""` means zero.
    pub fn qty_or_empty(&mut self, i: usize, field: &'static str) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Qty::ZERO),
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Qty::DECIMALS)
                .map(Qty)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    pub fn qty_signed(&mut self, i: usize, field: &'static str) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => Qty::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Venue-computed account value (average/entry price, margin, PnL, balance, fee) as an
    /// exact [`Dec`] from the number text (string or JSON number token); `""` means zero.
    /// Never rounded: more than 38 significant digits is a `Number` error.
    pub fn dec_at(&mut self, i: usize, field: &'static str) -> Result<Dec, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Dec::ZERO),
            NumText::Text(t) => Dec::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Integer (u64) from a number or an all-digit string.
    pub fn u64_at(&mut self, i: usize, field: &'static str) -> Result<u64, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::U64(v))) => Ok(*v),
            Some(Node::Static(StaticNode::I64(v))) if *v >= 0 => Ok(*v as u64),
            Some(Node::String(s)) => parse_u64(s.as_bytes()).ok_or(DecodeError::WrongType(field)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Milliseconds from an integer, or the integer part of a decimal (`"1606292218213.4578"`).
    pub fn ms_at(&mut self, i: usize, field: &'static str) -> Result<i64, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::U64(v))) if *v <= i64::MAX as u64 => Ok(*v as i64),
            Some(Node::Static(StaticNode::I64(v))) => Ok(*v),
            _ => match self.dec(i) {
                NumText::Text(t) => parse_ms(t).ok_or(DecodeError::WrongType(field)),
                _ => Err(DecodeError::WrongType(field)),
            },
        }
    }

    /// Identifier: integer → `Num`, string → `Str`.
    pub fn id_at(&self, i: usize, field: &'static str) -> Result<IdRef<'a>, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::U64(v))) => Ok(IdRef::Num(*v)),
            Some(Node::Static(StaticNode::I64(v))) if *v >= 0 => Ok(IdRef::Num(*v as u64)),
            Some(Node::String(s)) => Ok(IdRef::Str(s)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// String content, or the text of a number (e.g. futures uid `123` in an echoed payload).
    pub fn text_at(&mut self, i: usize) -> Option<&'a str> {
        match self.dec(i) {
            NumText::Text(t) => std::str::from_utf8(t).ok(),
            _ => None,
        }
    }
}

pub(crate) struct Fields<'d, 't, 'a> {
    doc: &'d Doc<'t, 'a>,
    next: usize,
    left: usize,
}

impl<'a> Iterator for Fields<'_, '_, 'a> {
    type Item = (&'a str, usize);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let k = self.doc.str_at(self.next)?;
        let v = self.next + 1;
        self.next = self.doc.skip(v);
        Some((k, v))
    }
}

/// All-digit text → u64 (no sign, no fraction).
#[inline]
pub(crate) fn parse_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
    }
    Some(v)
}

/// Integer part of `digits(.digits)?` → i64 milliseconds.
#[inline]
pub(crate) fn parse_ms(s: &[u8]) -> Option<i64> {
    let (int, frac) = match s.iter().position(|&c| c == b'.') {
        Some(p) => (&s[..p], &s[p + 1..]),
        None => (s, &b""[..]),
    };
    if !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v = parse_u64(int)?;
    i64::try_from(v).ok()
}
