//! Low-level JSON reading for Gate.io frames, shared by every handler; no dispatch here.
//!
//! * [`Doc`]: navigation over a simd-json tape, plus exact number text recovery (the general
//!   path and REST bodies).
//! * [`Cur`]: the scanner's byte cursor (hot push channels): strings without escapes, number
//!   tokens, exact fixed-point values, book levels; `None` means "defer to the general path".
//! * [`Levels`] scratch, tape book levels, side and signed-size conversions.
//!
//! Numbers become `Px`/`Qty`/`Dec` through [`crate::num`] only.
//!
//! ## Tape numbers
//! simd-json's tape stores a JSON number as `i64`/`u64`/`f64`, which loses the text of a float
//! (`40000.4`, `-0.00025`, `1.25e-05`). Prices and sizes must never go through `f64`, so every
//! number is re-read from the frame bytes instead: stage 1 of simd-json leaves the byte offset of
//! every structural token in [`simd_json::Buffers::structural_indexes`]. Each structural that is
//! not `:` `,` `}` `]` opens exactly one tape node, in order, so walking the two side by side
//! gives each tape node its byte offset in the frame (built lazily, only for frames that need a
//! number's text). The frame the caller passed is never mutated (simd-json parses a copy), so the
//! number text is read from it unchanged.

use simd_json::{Node, StaticNode};

use crate::event::{DecodeError, IdRef, Level};
use crate::num::{digit_run, parse_fixed, plain_dec, widen_mul};
use crate::types::{Dec, Px, Qty, Side};

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
    pub(crate) fn new(
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
    pub(crate) fn node(&self, i: usize) -> Option<Node<'a>> {
        self.nodes.get(i).copied()
    }

    /// Index of the node after the value starting at `i`.
    #[inline]
    pub(crate) fn skip(&self, i: usize) -> usize {
        match self.nodes.get(i) {
            Some(Node::Object { count, .. }) | Some(Node::Array { count, .. }) => i + 1 + count,
            _ => i + 1,
        }
    }

    /// Object at `i`: (number of keys). `None` if not an object.
    #[inline]
    pub(crate) fn obj_len(&self, i: usize) -> Option<usize> {
        match self.nodes.get(i) {
            Some(Node::Object { len, .. }) => Some(*len),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn arr_len(&self, i: usize) -> Option<usize> {
        match self.nodes.get(i) {
            Some(Node::Array { len, .. }) => Some(*len),
            _ => None,
        }
    }

    /// Iterate an object's (key, value index) pairs.
    #[inline]
    pub(crate) fn fields(&self, i: usize) -> Fields<'_, 't, 'a> {
        let n = self.obj_len(i).unwrap_or(0);
        Fields {
            doc: self,
            next: i + 1,
            left: n,
        }
    }

    /// Value index of `key` in the object at `i` (last occurrence wins, like the field loops).
    pub(crate) fn get(&self, i: usize, key: &str) -> Option<usize> {
        let mut found = None;
        for (k, v) in self.fields(i) {
            if k == key {
                found = Some(v);
            }
        }
        found
    }

    #[inline]
    pub(crate) fn str_at(&self, i: usize) -> Option<&'a str> {
        match self.nodes.get(i) {
            Some(Node::String(s)) => Some(*s),
            _ => None,
        }
    }

    #[inline]
    pub(crate) fn is_null(&self, i: usize) -> bool {
        matches!(self.nodes.get(i), Some(Node::Static(StaticNode::Null)))
    }

    pub(crate) fn bool_at(&self, i: usize, field: &'static str) -> Result<bool, DecodeError> {
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
    pub(crate) fn number_text(&mut self, i: usize) -> Option<&'a [u8]> {
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
    pub(crate) fn dec(&mut self, i: usize) -> NumText<'a> {
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

    pub(crate) fn px(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => Px::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned price (book levels, trades).
    pub(crate) fn pxu(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Px::DECIMALS)
                .map(Px)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Price where `""` (Gate futures empty book side) means zero.
    pub(crate) fn px_or_empty(&mut self, i: usize, field: &'static str) -> Result<Px, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Px::ZERO),
            NumText::Text(t) => Px::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned quantity.
    pub(crate) fn qty(&mut self, i: usize, field: &'static str) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Qty::DECIMALS)
                .map(Qty)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Unsigned quantity where `""` means zero.
    pub(crate) fn qty_or_empty(
        &mut self,
        i: usize,
        field: &'static str,
    ) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Qty::ZERO),
            NumText::Text(t) => crate::num::parse_unsigned_fast(t, Qty::DECIMALS)
                .map(Qty)
                .map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    pub(crate) fn qty_signed(&mut self, i: usize, field: &'static str) -> Result<Qty, DecodeError> {
        match self.dec(i) {
            NumText::Text(t) => Qty::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Venue-computed account value (average/entry price, margin, PnL, balance, fee) as an
    /// exact [`Dec`] from the number text (string or JSON number token); `""` means zero.
    /// Never rounded: more than 38 significant digits is a `Number` error.
    pub(crate) fn dec_at(&mut self, i: usize, field: &'static str) -> Result<Dec, DecodeError> {
        match self.dec(i) {
            NumText::Text(b"") => Ok(Dec::ZERO),
            NumText::Text(t) => Dec::parse_signed(t).map_err(|e| DecodeError::Number(field, e)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Integer (u64) from a number or an all-digit string.
    pub(crate) fn u64_at(&mut self, i: usize, field: &'static str) -> Result<u64, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::U64(v))) => Ok(*v),
            Some(Node::Static(StaticNode::I64(v))) if *v >= 0 => Ok(*v as u64),
            Some(Node::String(s)) => parse_u64(s.as_bytes()).ok_or(DecodeError::WrongType(field)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// Milliseconds from an integer, or the integer part of a decimal (`"1606292218213.4578"`).
    pub(crate) fn ms_at(&mut self, i: usize, field: &'static str) -> Result<i64, DecodeError> {
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
    pub(crate) fn id_at(&self, i: usize, field: &'static str) -> Result<IdRef<'a>, DecodeError> {
        match self.nodes.get(i) {
            Some(Node::Static(StaticNode::U64(v))) => Ok(IdRef::Num(*v)),
            Some(Node::Static(StaticNode::I64(v))) if *v >= 0 => Ok(IdRef::Num(*v as u64)),
            Some(Node::String(s)) => Ok(IdRef::Str(s)),
            _ => Err(DecodeError::WrongType(field)),
        }
    }

    /// String content, or the text of a number (e.g. futures uid `123` in an echoed payload).
    pub(crate) fn text_at(&mut self, i: usize) -> Option<&'a str> {
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

/// Level scratch shared by both paths (fixed capacity, sized at construction).
pub(crate) struct Levels {
    pub bids: Vec<Level>,
    pub asks: Vec<Level>,
    pub max: usize,
}

impl Levels {
    pub(crate) fn new(max: usize) -> Self {
        Levels {
            bids: Vec::with_capacity(max),
            asks: Vec::with_capacity(max),
            max,
        }
    }
}

/// Book levels `[["p","q"],…]` or `[{"p":…,"s":…},…]` into `out` (cleared first).
pub(crate) fn levels(
    d: &mut Doc<'_, '_>,
    arr: usize,
    out: &mut Vec<Level>,
    max: usize,
    field: &'static str,
) -> Result<(), DecodeError> {
    out.clear();
    let n = d.arr_len(arr).ok_or(DecodeError::WrongType(field))?;
    if n > max {
        return Err(DecodeError::TooLarge);
    }
    let mut e = arr + 1;
    for _ in 0..n {
        let (pi, si) = if let Some(m) = d.arr_len(e) {
            if m < 2 {
                return Err(DecodeError::WrongType(field));
            }
            (e + 1, d.skip(e + 1))
        } else if d.obj_len(e).is_some() {
            let mut p = None;
            let mut s = None;
            for (k, v) in d.fields(e) {
                match k {
                    "p" => p = Some(v),
                    "s" => s = Some(v),
                    _ => {}
                }
            }
            (
                p.ok_or(DecodeError::MissingField("p"))?,
                s.ok_or(DecodeError::MissingField("s"))?,
            )
        } else {
            return Err(DecodeError::WrongType(field));
        };
        let px = d.pxu(pi, field)?;
        let qty = d.qty(si, field)?;
        out.push(Level { px, qty });
        e = d.skip(e);
    }
    Ok(())
}

pub(crate) fn side_of(s: &str) -> Result<Side, DecodeError> {
    match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(DecodeError::WrongType("side")),
    }
}

/// Signed futures size → (side, |size|). Zero has no side.
pub(crate) fn signed_size(q: Qty) -> Result<(Side, Qty), DecodeError> {
    if q.0 > 0 {
        Ok((Side::Buy, q))
    } else if q.0 < 0 && q.0 != i128::MIN {
        Ok((Side::Sell, Qty(-q.0)))
    } else {
        Err(DecodeError::WrongType("size"))
    }
}

// ---------------------------------------------------------------------------------------------
// The scanner's cursor.

/// Deferral: `None`.
pub(super) type R<T> = Option<T>;

#[derive(Clone, Copy, Default)]
pub(super) struct Span {
    pub start: u32,
    pub end: u32,
}

pub(super) struct Cur<'a> {
    pub b: &'a [u8],
    pub i: usize,
}

impl<'a> Cur<'a> {
    #[inline(always)]
    pub(super) fn ws(&mut self) {
        while let Some(&c) = self.b.get(self.i) {
            if c == b' ' || c == b'\n' || c == b'\r' || c == b'\t' {
                self.i += 1;
            } else {
                break;
            }
        }
    }

    #[inline(always)]
    pub(super) fn peek(&mut self) -> R<u8> {
        self.ws();
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    pub(super) fn eat(&mut self, c: u8) -> R<()> {
        self.ws();
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    /// `,` → `Some(true)` (more members), closing `close` → `Some(false)`.
    #[inline(always)]
    pub(super) fn more(&mut self, close: u8) -> R<bool> {
        match self.peek()? {
            b',' => {
                self.i += 1;
                Some(true)
            }
            c if c == close => {
                self.i += 1;
                Some(false)
            }
            _ => None,
        }
    }

    /// A string without escapes, control or non-ASCII bytes; returns its content span.
    #[inline(always)]
    pub(super) fn string(&mut self) -> R<Span> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = *self.b.get(self.i)?;
            if c == b'"' {
                let end = self.i;
                self.i += 1;
                return Some(Span {
                    start: start as u32,
                    end: end as u32,
                });
            }
            if c < 0x20 || c == b'\\' || c >= 0x80 {
                return None;
            }
            self.i += 1;
        }
    }

    #[inline(always)]
    pub(super) fn slice(&self, s: Span) -> &'a [u8] {
        &self.b[s.start as usize..s.end as usize]
    }

    /// A JSON number token (grammar checked); returns its text.
    #[inline(always)]
    pub(super) fn number(&mut self) -> R<&'a [u8]> {
        self.ws();
        let b = self.b;
        let start = self.i;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let int_start = i;
        match b.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while matches!(b.get(i), Some(b'0'..=b'9')) {
                    i += 1;
                }
            }
            _ => return None,
        }
        // Stay where simd-json is certain to accept: ≤ 19 integer digits (fits u64/i64).
        if i - int_start > 19 {
            return None;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            if i == d {
                return None;
            }
        }
        if matches!(b.get(i), Some(b'e') | Some(b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+') | Some(b'-')) {
                i += 1;
            }
            let d = i;
            while matches!(b.get(i), Some(b'0'..=b'9')) {
                i += 1;
            }
            // Exponents beyond two digits may overflow f64, which simd-json refuses.
            if i == d || i - d > 2 {
                return None;
            }
        }
        if i - start > 40 {
            return None;
        }
        self.i = i;
        Some(&b[start..i])
    }

    /// Unquoted non-negative integer.
    #[inline(always)]
    pub(super) fn uint(&mut self) -> R<u64> {
        let t = self.number()?;
        parse_u64(t)
    }

    /// Decimal text: a string's content or a number token.
    #[inline(always)]
    pub(super) fn dec(&mut self) -> R<&'a [u8]> {
        if self.peek()? == b'"' {
            let s = self.string()?;
            Some(self.slice(s))
        } else {
            self.number()
        }
    }

    #[inline(always)]
    pub(super) fn lit(&mut self, word: &[u8]) -> R<()> {
        self.ws();
        if self.b.get(self.i..self.i + word.len())? == word {
            self.i += word.len();
            Some(())
        } else {
            None
        }
    }

    pub(super) fn boolean(&mut self) -> R<bool> {
        match self.peek()? {
            b't' => self.lit(b"true").map(|_| true),
            b'f' => self.lit(b"false").map(|_| false),
            _ => None,
        }
    }

    pub(super) fn skip_value(&mut self, depth: u32) -> R<()> {
        if depth > 64 {
            return None;
        }
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => {
                self.i += 1;
                if self.peek()? == b'}' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.string()?;
                    self.eat(b':')?;
                    self.skip_value(depth + 1)?;
                    if !self.more(b'}')? {
                        return Some(());
                    }
                }
            }
            b'[' => {
                self.i += 1;
                if self.peek()? == b']' {
                    self.i += 1;
                    return Some(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.more(b']')? {
                        return Some(());
                    }
                }
            }
            b't' => self.lit(b"true"),
            b'f' => self.lit(b"false"),
            b'n' => self.lit(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// Milliseconds: unquoted integer, or a string `digits(.digits)?`.
    pub(super) fn ms(&mut self) -> R<i64> {
        if self.peek()? == b'"' {
            let s = self.string()?;
            parse_ms(self.slice(s))
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// Iterate the members of an object: calls `f(self, key)` positioned at each value.
    #[inline(always)]
    pub(super) fn object(&mut self, mut f: impl FnMut(&mut Self, &'a [u8]) -> R<()>) -> R<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let k = self.string()?;
            let key = self.slice(k);
            self.eat(b':')?;
            f(self, key)?;
            if !self.more(b'}')? {
                return Some(());
            }
        }
    }

    /// Unsigned fixed-point value with `decimals` digits from a quoted decimal or a number
    /// token. Fast path: a quoted `digits(.digits)?` with ≤ 18 digits and ≤ `decimals`
    /// fraction digits is converted in the same pass that finds the closing quote. Everything
    /// else goes through `parse_fixed` (the same function `Px::parse`/`Qty::parse` use), so the
    /// result is identical either way. `None` on any parse failure (→ defer).
    #[inline(always)]
    pub(super) fn fixed(&mut self, decimals: u32) -> R<i128> {
        if self.peek()? == b'"' {
            let b = self.b;
            let (mant, n_int, j) = digit_run(b, self.i + 1, 0);
            let (mant, n_frac, j) = if b.get(j) == Some(&b'.') {
                let (m, n, j2) = digit_run(b, j + 1, mant);
                if n == 0 {
                    return self.fixed_slow(decimals);
                }
                (m, n, j2)
            } else {
                (mant, 0, j)
            };
            if b.get(j) != Some(&b'"') || n_int == 0 || n_int + n_frac > 18 || n_frac > decimals {
                return self.fixed_slow(decimals);
            }
            if n_int + decimals > 38 {
                return self.fixed_slow(decimals);
            }
            // mant < 10^(n_int+n_frac) and n_int + decimals ≤ 38: the product is < 10^38, one
            // widening multiply, no overflow.
            let v = widen_mul(mant, decimals - n_frac);
            self.i = j + 1;
            Some(v as i128)
        } else {
            let t = self.number()?;
            parse_fixed(t, decimals, false).ok()
        }
    }

    #[cold]
    pub(super) fn fixed_slow(&mut self, decimals: u32) -> R<i128> {
        let s = self.string()?;
        parse_fixed(self.slice(s), decimals, false).ok()
    }

    /// Book levels `[["p","q"],…]` or `[{"p":…,"s":…},…]`.
    #[inline(always)]
    pub(super) fn levels(&mut self, out: &mut Vec<Level>, max: usize) -> R<()> {
        out.clear();
        self.eat(b'[')?;
        if self.peek()? == b']' {
            self.i += 1;
            return Some(());
        }
        loop {
            if out.len() >= max {
                return None;
            }
            // Compact `["P","Q"]` with plain decimals: no whitespace handling, one pass.
            let fast = match self.b.get(self.i) {
                Some(b'[') => level_compact(self.b, self.i),
                Some(b'{') => level_compact_obj(self.b, self.i),
                _ => None,
            };
            if let Some((p, q, j)) = fast {
                self.i = j;
                out.push(Level {
                    px: Px(p),
                    qty: Qty(q),
                });
                if !self.more(b']')? {
                    return Some(());
                }
                continue;
            }
            let (p, q) = match self.peek()? {
                b'[' => {
                    self.i += 1;
                    let p = self.fixed(Px::DECIMALS)?;
                    self.eat(b',')?;
                    let q = self.fixed(Qty::DECIMALS)?;
                    self.eat(b']')?;
                    (p, q)
                }
                b'{' => {
                    let mut p = None;
                    let mut q = None;
                    self.object(|c, k| {
                        match k {
                            b"p" => p = Some(c.fixed(Px::DECIMALS)?),
                            b"s" => q = Some(c.fixed(Qty::DECIMALS)?),
                            _ => return None,
                        }
                        Some(())
                    })?;
                    (p?, q?)
                }
                _ => return None,
            };
            out.push(Level {
                px: Px(p),
                qty: Qty(q),
            });
            if !self.more(b']')? {
                return Some(());
            }
        }
    }
}

/// `["P","Q"]` at `i` exactly (no whitespace), both plain decimals on the fast path; returns
/// (px units, qty units, index after `]`). `None` → the caller's general element parser runs.
#[inline(always)]
fn level_compact(b: &[u8], i: usize) -> Option<(i128, i128, usize)> {
    if b.get(i..i + 2)? != b"[\"" {
        return None;
    }
    let (p, j) = plain_dec(b, i + 2, Px::DECIMALS)?;
    if b.get(j..j + 3)? != b"\",\"" {
        return None;
    }
    let (q, j) = plain_dec(b, j + 3, Qty::DECIMALS)?;
    if b.get(j..j + 2)? != b"\"]" {
        return None;
    }
    Some((p, q, j + 2))
}

/// `{"p":"P","s":"Q"}` or `{"p":"P","s":N}` (futures levels) at `i` exactly, no whitespace.
/// An unquoted `N` must be a JSON integer (no leading zero) so simd-json would accept it too.
#[inline(never)]
fn level_compact_obj(b: &[u8], i: usize) -> Option<(i128, i128, usize)> {
    if b.get(i..i + 6)? != b"{\"p\":\"" {
        return None;
    }
    let (p, j) = plain_dec(b, i + 6, Px::DECIMALS)?;
    if b.get(j..j + 6)? != b"\",\"s\":" {
        return None;
    }
    let j = j + 6;
    let (q, j) = if *b.get(j)? == b'"' {
        let (q, j) = plain_dec(b, j + 1, Qty::DECIMALS)?;
        if *b.get(j)? != b'"' {
            return None;
        }
        (q, j + 1)
    } else {
        if *b.get(j)? == b'0' && b.get(j + 1).is_some_and(u8::is_ascii_digit) {
            return None;
        }
        let (q, j2) = plain_dec(b, j, Qty::DECIMALS)?;
        // a fraction is valid JSON too, but keep the unquoted fast path to integers
        if b[j..j2].contains(&b'.') {
            return None;
        }
        (q, j2)
    };
    if *b.get(j)? != b'}' {
        return None;
    }
    Some((p, q, j + 1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixed_of(text: &[u8], decimals: u32) -> Option<i128> {
        let mut c = Cur { b: text, i: 0 };
        let v = c.fixed(decimals)?;
        // the whole token must have been consumed
        assert_eq!(c.i, text.len(), "{:?}", String::from_utf8_lossy(text));
        Some(v)
    }

    fn reference(text: &[u8], decimals: u32) -> Option<i128> {
        let inner = if text.first() == Some(&b'"') {
            let s = text.get(1..text.len().checked_sub(1)?)?;
            if s.iter()
                .any(|&c| c < 0x20 || c == b'\\' || c >= 0x80 || c == b'"')
            {
                return None;
            }
            s
        } else {
            text
        };
        parse_fixed(inner, decimals, false).ok()
    }

    #[test]
    fn fixed_fast_path_edges_match_parse_fixed() {
        let cases: &[&[u8]] = &[
            b"\"0\"",
            b"\"00.10\"",
            b"\"1.\"",
            b"\".5\"",
            b"\"\"",
            b"\"-1\"",
            b"\"+1\"",
            b"\"123456789012345678\"",
            b"\"1234567890123456789\"",
            b"\"92233720368.54775807\"",
            b"\"92233720368.54775808\"",
            b"\"922337203.6854775807\"",
            b"\"922337203.6854775808\"",
            b"\"0.0000000001\"",
            b"\"0.00000000010\"",
            b"\"0.00000000001\"",
            b"\"1e5\"",
            b"\"1.5E-3\"",
            b"\"19137.740\"",
            b"\"0.000000000000000000\"",
            // issue 13: Gate's documented 10-decimal size, a 1.5e11 size, 16 and 17 decimals.
            b"\"0.0003341504\"",
            b"\"150000000000\"",
            b"\"150000000000.0003341504\"",
            b"\"0.0000000000000001\"",
            b"\"0.00000000000000001\"",
            b"\"1700000000000000000000.5\"",
            b"\"17014118346046923173168.7303715884105727\"",
            b"\"17014118346046923173168.7303715884105728\"",
            b"\"1.2.3\"",
            b"\"104027.1\"",
            b"\"509392\"",
            b"12",
            b"1.25e-05",
            b"40000.4",
            b"0",
            b"-3",
        ];
        for &t in cases {
            for dec in [8, 10, 16] {
                let want = reference(t, dec);
                let mut c = Cur { b: t, i: 0 };
                let got = c.fixed(dec);
                assert_eq!(got, want, "{:?} dec {dec}", String::from_utf8_lossy(t));
            }
        }
        assert_eq!(fixed_of(b"\"40000.4\"", 10), Some(400_004_000_000_000));
        assert_eq!(fixed_of(b"\"0.0003341504\"", 16), Some(3_341_504_000_000));
    }

    proptest! {
        #[test]
        fn fixed_matches_parse_fixed(body in "[0-9.]{0,42}", dec in prop::sample::select(vec![8u32, 10, 16])) {
            let t = format!("\"{body}\"");
            let mut c = Cur { b: t.as_bytes(), i: 0 };
            prop_assert_eq!(c.fixed(dec), reference(t.as_bytes(), dec));
        }
    }
}
