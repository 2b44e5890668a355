//! Sans-IO WebSocket client framing (RFC 6455) over caller-owned buffers.
//!
//! Why not tungstenite's `WebSocket::read` for data (measured in `tests/no_alloc_net.rs` and
//! `benches/net.rs`, see ARCHITECTURE.md): it does not allocate per message either (payloads
//! are refcounted views split off its `BytesMut`; only ≤ 2 amortized buffer doublings), but it
//! zero-fills the buffer's free capacity on every read call, empty polls included, and every
//! frame costs refcount atomics. This codec parses in place from the connection's receive
//! buffer: zero allocations per message, no zeroing, no atomics, one epoll for all
//! connections. tungstenite still performs the HTTP upgrade handshake.
//!
//! Parsing: `parse` looks at the buffered bytes, returns one event and how many bytes it
//! consumed. Data frames are handed out as a range of the receive buffer (unfragmented) or via
//! the reassembly buffer (fragmented). Pings queue a pong, a Close queues the echo.

use super::backoff::XorShift64;

/// Hot-path WebSocket errors (Copy); each maps to a [`DownReason`](super::DownReason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WsError {
    /// Frame or reassembled message larger than configured.
    Oversized,
    /// RFC 6455 violation by the server.
    Protocol,
    /// More than `max_write` bytes queued for a peer that does not read.
    WriteBufferFull,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// Need at least `total` buffered bytes (from the current start) to make progress.
    NeedMore { total: usize },
    /// A complete unfragmented data message at `buf[start..end]`.
    Data {
        text: bool,
        start: usize,
        end: usize,
    },
    /// A fragmented message completed: it is in the reassembly buffer.
    Reassembled { text: bool },
    /// A continuation fragment was absorbed, ping answered (pong queued), pong ignored.
    Control,
    /// Close frame received (code; 1005 if none). The echo is queued.
    Close { code: u16 },
}

pub(crate) struct WsCodec {
    max_frame: usize,
    max_message: usize,
    /// Reassembly of fragmented messages (capacity kept between messages).
    pub(crate) frag: Vec<u8>,
    frag_text: Option<bool>,
    /// Encoded outgoing frames not yet written.
    pub(crate) wbuf: Vec<u8>,
    pub(crate) wpos: usize,
    pub(crate) close_sent: bool,
    /// Most bytes that may wait in `wbuf` (queued, not yet taken by the transport).
    max_write: usize,
    /// Offset in `wbuf` of the queued pong none of whose bytes were written yet: a newer ping
    /// replaces it (RFC 6455 §5.5.3 allows answering only the latest), so a ping flood from a
    /// peer that does not read queues one pong, not one per ping.
    pong_at: Option<usize>,
    rng: XorShift64,
}

impl WsCodec {
    pub(crate) fn new(max_frame: usize, max_message: usize, seed: u64) -> Self {
        Self {
            max_frame,
            max_message,
            frag: Vec::new(),
            frag_text: None,
            wbuf: Vec::with_capacity(4096),
            wpos: 0,
            close_sent: false,
            max_write: usize::MAX,
            pong_at: None,
            rng: XorShift64::new(seed),
        }
    }

    /// Cap the bytes queued for writing (see [`WsError::WriteBufferFull`]).
    pub(crate) fn with_max_write(mut self, max_write: usize) -> Self {
        self.max_write = max_write;
        self
    }

    #[inline]
    pub(crate) fn has_output(&self) -> bool {
        self.wpos < self.wbuf.len()
    }

    /// Bytes encoded but not yet taken by the transport.
    #[inline]
    pub(crate) fn queued(&self) -> usize {
        self.wbuf.len() - self.wpos
    }

    /// More than the cap is queued: the peer is not reading; fail the connection.
    #[inline]
    pub(crate) fn over_cap(&self) -> bool {
        self.queued() > self.max_write
    }

    /// Queue the pong for a ping, replacing a queued pong none of whose bytes went out yet.
    fn queue_pong(&mut self, payload: &[u8]) {
        if let Some(at) = self.pong_at.take() {
            if at >= self.wpos && at < self.wbuf.len() {
                let len = frame_len(&self.wbuf[at..]);
                // A memmove of what was queued after it (bounded by the cap); no allocation.
                self.wbuf.drain(at..at + len);
            }
        }
        self.encode(0xA, payload);
        // `encode` may have compacted the buffer: the new pong is the last frame.
        self.pong_at = Some(self.wbuf.len() - (6 + payload.len()));
    }

    /// Parse one frame from `buf` (the buffered, unconsumed bytes). Returns the event and the
    /// number of bytes consumed (0 for `NeedMore`).
    #[inline]
    pub(crate) fn parse(&mut self, buf: &[u8]) -> Result<(Parsed, usize), WsError> {
        if buf.len() < 2 {
            return Ok((Parsed::NeedMore { total: 2 }, 0));
        }
        let (b0, b1) = (buf[0], buf[1]);
        let fin = b0 & 0x80 != 0;
        let opcode = b0 & 0x0f;
        if b0 & 0x70 != 0 || b1 & 0x80 != 0 {
            // RSV bits without a negotiated extension, or a masked server frame.
            return Err(WsError::Protocol);
        }
        let (hdr, len) = match b1 & 0x7f {
            126 => {
                if buf.len() < 4 {
                    return Ok((Parsed::NeedMore { total: 4 }, 0));
                }
                (4, u64::from(u16::from_be_bytes([buf[2], buf[3]])))
            }
            127 => {
                if buf.len() < 10 {
                    return Ok((Parsed::NeedMore { total: 10 }, 0));
                }
                let mut b = [0u8; 8];
                b.copy_from_slice(&buf[2..10]);
                (10, u64::from_be_bytes(b))
            }
            n => (2, u64::from(n)),
        };
        let is_control = opcode & 0x08 != 0;
        if is_control && (len > 125 || !fin) {
            return Err(WsError::Protocol);
        }
        if len > self.max_frame as u64 {
            return Err(WsError::Oversized);
        }
        let len = len as usize;
        let total = hdr + len;
        if buf.len() < total {
            return Ok((Parsed::NeedMore { total }, 0));
        }
        let payload = &buf[hdr..total];
        let ev = match opcode {
            1 | 2 => {
                if self.frag_text.is_some() {
                    return Err(WsError::Protocol);
                }
                if len > self.max_message {
                    return Err(WsError::Oversized);
                }
                if fin {
                    Parsed::Data {
                        text: opcode == 1,
                        start: hdr,
                        end: total,
                    }
                } else {
                    self.frag_text = Some(opcode == 1);
                    self.frag.clear();
                    self.frag.extend_from_slice(payload);
                    Parsed::Control
                }
            }
            0 => {
                let Some(text) = self.frag_text else {
                    return Err(WsError::Protocol);
                };
                if self.frag.len() + len > self.max_message {
                    return Err(WsError::Oversized);
                }
                self.frag.extend_from_slice(payload);
                if fin {
                    self.frag_text = None;
                    Parsed::Reassembled { text }
                } else {
                    Parsed::Control
                }
            }
            8 => {
                let code = match len {
                    0 => 1005,
                    1 => return Err(WsError::Protocol),
                    _ => u16::from_be_bytes([payload[0], payload[1]]),
                };
                if !self.close_sent {
                    let echo = if len == 0 { None } else { Some(code) };
                    self.queue_close(echo);
                }
                Parsed::Close { code }
            }
            9 => {
                self.queue_pong(payload);
                if self.over_cap() {
                    return Err(WsError::WriteBufferFull);
                }
                Parsed::Control
            }
            10 => Parsed::Control,
            _ => return Err(WsError::Protocol),
        };
        Ok((ev, total))
    }

    /// Queue a Close frame (once).
    pub(crate) fn queue_close(&mut self, code: Option<u16>) {
        if self.close_sent {
            return;
        }
        self.close_sent = true;
        match code {
            Some(c) => self.encode(0x8, &c.to_be_bytes()),
            None => self.encode(0x8, &[]),
        }
    }

    /// Encode one masked, final client frame into the output buffer (no allocation once the
    /// buffer's capacity covers the frame).
    pub(crate) fn encode(&mut self, opcode: u8, payload: &[u8]) {
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
            self.pong_at = None;
            if self.wbuf.capacity() > WBUF_KEEP {
                // It grew behind a slow peer; everything went out: give the memory back.
                self.wbuf.shrink_to(WBUF_KEEP);
            }
        } else if self.wpos > 0 {
            // Output pending behind a slow peer: drop what was written so the buffer holds
            // only queued bytes (bounded by the cap) instead of growing forever.
            self.wbuf.drain(..self.wpos);
            self.pong_at = match self.pong_at {
                Some(at) if at >= self.wpos => Some(at - self.wpos),
                _ => None,
            };
            self.wpos = 0;
        }
        let n = payload.len();
        self.wbuf.push(0x80 | opcode);
        if n < 126 {
            self.wbuf.push(0x80 | n as u8);
        } else if n < 65536 {
            self.wbuf.push(0x80 | 126);
            self.wbuf.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            self.wbuf.push(0x80 | 127);
            self.wbuf.extend_from_slice(&(n as u64).to_be_bytes());
        }
        let mask = (self.rng.next_u64() as u32).to_ne_bytes();
        self.wbuf.extend_from_slice(&mask);
        let start = self.wbuf.len();
        self.wbuf.extend_from_slice(payload);
        for (i, b) in self.wbuf[start..].iter_mut().enumerate() {
            *b ^= mask[i & 3];
        }
    }
}

/// Capacity the output buffer keeps (subscriptions and pings fit many times over).
const WBUF_KEEP: usize = 64 * 1024;

/// Length of the masked client frame at the start of `f` (header, mask key, payload).
fn frame_len(f: &[u8]) -> usize {
    match f[1] & 0x7f {
        126 => 8 + usize::from(u16::from_be_bytes([f[2], f[3]])),
        127 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&f[2..10]);
            14 + u64::from_be_bytes(b) as usize
        }
        n => 6 + usize::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![if fin { 0x80 } else { 0 } | opcode];
        let n = payload.len();
        if n < 126 {
            v.push(n as u8);
        } else if n < 65536 {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    fn unmask(frame: &[u8]) -> (u8, Vec<u8>) {
        assert!(frame[1] & 0x80 != 0, "client frames must be masked");
        let (hdr, len) = match frame[1] & 0x7f {
            126 => (4, u16::from_be_bytes([frame[2], frame[3]]) as usize),
            127 => (
                10,
                u64::from_be_bytes(frame[2..10].try_into().unwrap()) as usize,
            ),
            n => (2, n as usize),
        };
        let mask = &frame[hdr..hdr + 4];
        let p = frame[hdr + 4..hdr + 4 + len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i & 3])
            .collect();
        (frame[0], p)
    }

    #[test]
    fn every_length_encoding_parses_and_partial_input_asks_for_the_exact_total() {
        let mut c = WsCodec::new(1 << 20, 1 << 20, 1);
        for n in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
            let f = frame(2, true, &vec![9u8; n]);
            for cut in [0, 1, 2, 3, f.len() - 1] {
                if cut >= f.len() {
                    continue;
                }
                let (p, used) = c.parse(&f[..cut]).unwrap();
                assert_eq!(used, 0);
                let Parsed::NeedMore { total } = p else {
                    panic!("{p:?}")
                };
                assert!(
                    total > cut && total <= f.len(),
                    "n={n} cut={cut} total={total}"
                );
            }
            let (p, used) = c.parse(&f).unwrap();
            assert_eq!(used, f.len());
            let Parsed::Data { text, start, end } = p else {
                panic!()
            };
            assert!(!text);
            assert_eq!(end - start, n);
        }
    }

    #[test]
    fn fragments_with_ping_between_reassemble_and_pong_echoes_payload() {
        let mut c = WsCodec::new(1024, 1024, 1);
        let mut s = frame(1, false, b"hel");
        s.extend(frame(9, true, b"pp"));
        s.extend(frame(0, false, b"lo "));
        s.extend(frame(0, true, b"world"));
        let mut off = 0;
        let mut evs = Vec::new();
        while off < s.len() {
            let (p, used) = c.parse(&s[off..]).unwrap();
            off += used;
            evs.push(p);
        }
        assert_eq!(evs.last(), Some(&Parsed::Reassembled { text: true }));
        assert_eq!(c.frag, b"hello world");
        let (op, p) = unmask(&c.wbuf);
        assert_eq!((op, p.as_slice()), (0x8A, &b"pp"[..]));
    }

    #[test]
    fn protocol_violations_and_oversize_are_typed_errors() {
        let mut c = WsCodec::new(100, 150, 1);
        assert_eq!(
            c.parse(&frame(1, true, &[b'a'; 101])),
            Err(WsError::Oversized)
        );
        assert_eq!(
            c.parse(&[0x81, 0x80 | 1, 0, 0, 0, 0, b'a']),
            Err(WsError::Protocol)
        ); // masked
        assert_eq!(c.parse(&[0xC1, 0]), Err(WsError::Protocol)); // RSV1
        assert_eq!(c.parse(&frame(9, false, b"")), Err(WsError::Protocol)); // fragmented ping
        assert_eq!(c.parse(&frame(0, true, b"x")), Err(WsError::Protocol)); // stray continuation
        assert_eq!(c.parse(&frame(3, true, b"")), Err(WsError::Protocol)); // reserved opcode
        assert_eq!(c.parse(&frame(8, true, b"x")), Err(WsError::Protocol)); // 1-byte close
        let mut c = WsCodec::new(100, 150, 1);
        c.parse(&frame(1, false, &[b'a'; 100])).unwrap();
        assert_eq!(
            c.parse(&frame(0, true, &[b'a'; 51])),
            Err(WsError::Oversized)
        );
    }

    #[test]
    fn close_is_echoed_once_and_encode_masks() {
        let mut c = WsCodec::new(100, 100, 1);
        let (p, _) = c.parse(&frame(8, true, &1001u16.to_be_bytes())).unwrap();
        assert_eq!(p, Parsed::Close { code: 1001 });
        let (op, payload) = unmask(&c.wbuf);
        assert_eq!((op, payload), (0x88, 1001u16.to_be_bytes().to_vec()));
        c.queue_close(Some(1000));
        let before = c.wbuf.len();
        c.queue_close(Some(1000));
        assert_eq!(c.wbuf.len(), before);
        let mut c = WsCodec::new(100, 100, 1);
        c.encode(1, &[b'z'; 300]);
        assert_eq!(unmask(&c.wbuf), (0x81, vec![b'z'; 300]));
    }

    #[test]
    fn ping_flood_queues_only_the_latest_pong_and_the_cap_is_an_error() {
        let ping = |b: u8| frame(9, true, &[b; 125]);
        let mut c = WsCodec::new(1024, 1024, 1);
        for i in 0..1000u32 {
            assert_eq!(c.parse(&ping(i as u8)).unwrap().0, Parsed::Control);
        }
        assert_eq!(c.queued(), 131);
        assert_eq!(unmask(&c.wbuf[c.wpos..]), (0x8A, vec![231u8; 125]));
        // A pong of which some bytes went out stays; the next one queues behind it.
        c.wpos += 10;
        c.parse(&ping(1)).unwrap();
        c.parse(&ping(2)).unwrap();
        assert_eq!(c.queued(), 121 + 131);
        // A pong queued before other output is replaced in place; the output keeps its order.
        let mut c = WsCodec::new(1024, 1024, 1);
        c.parse(&ping(7)).unwrap();
        c.encode(1, b"sub");
        c.parse(&ping(8)).unwrap();
        assert_eq!(unmask(&c.wbuf), (0x81, b"sub".to_vec()));
        assert_eq!(unmask(&c.wbuf[9..]), (0x8A, vec![8u8; 125]));
        assert_eq!(c.queued(), 9 + 131);
        // Written bytes are dropped before queueing more, so the buffer holds only the queue.
        c.wpos = 9;
        c.encode(1, b"x");
        assert_eq!((c.wpos, c.queued()), (0, 131 + 7));
        // Past the cap, a ping fails the connection.
        let mut c = WsCodec::new(1024, 1024, 1).with_max_write(200);
        c.encode(1, &[0u8; 150]);
        assert_eq!(c.parse(&ping(1)), Err(WsError::WriteBufferFull));
    }

    /// Drive the parser like the reactor does: feed `stream` in `cuts`-sized pieces into a
    /// buffer, parse until NeedMore, collect delivered messages.
    fn drive(
        c: &mut WsCodec,
        stream: &[u8],
        cuts: &[usize],
    ) -> Result<Vec<(bool, Vec<u8>)>, WsError> {
        let mut buf = Vec::new();
        let mut start = 0;
        let mut fed = 0;
        let mut out = Vec::new();
        let mut ci = 0;
        loop {
            let (p, used) = c.parse(&buf[start..])?;
            match p {
                Parsed::NeedMore { total } => {
                    assert!(total > buf.len() - start);
                    if fed == stream.len() {
                        return Ok(out);
                    }
                    let n = cuts.get(ci).copied().unwrap_or(1).max(1);
                    ci += 1;
                    let end = (fed + n).min(stream.len());
                    buf.extend_from_slice(&stream[fed..end]);
                    fed = end;
                }
                Parsed::Data {
                    text,
                    start: s,
                    end,
                } => out.push((text, buf[start + s..start + end].to_vec())),
                Parsed::Reassembled { text } => out.push((text, c.frag.clone())),
                Parsed::Control | Parsed::Close { .. } => {}
            }
            start += used;
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
                                       cuts in proptest::collection::vec(1usize..50, 0..40)) {
            let mut c = WsCodec::new(300, 500, 1);
            let _ = drive(&mut c, &bytes, &cuts);
        }

        #[test]
        fn any_split_of_a_valid_stream_yields_the_same_messages(
            msgs in proptest::collection::vec((proptest::bool::ANY, proptest::collection::vec(proptest::num::u8::ANY, 0..400), 1usize..4), 1..12),
            cuts in proptest::collection::vec(1usize..300, 0..60),
        ) {
            let mut stream = Vec::new();
            for (i, (text, payload, parts)) in msgs.iter().enumerate() {
                // Split each message into `parts` fragments, with a ping after the first.
                let chunk = payload.len().div_ceil(*parts).max(1);
                let pieces: Vec<&[u8]> = if payload.is_empty() { vec![&[][..]] } else { payload.chunks(chunk).collect() };
                for (j, piece) in pieces.iter().enumerate() {
                    let op = if j == 0 { if *text { 1 } else { 2 } } else { 0 };
                    stream.extend(frame(op, j + 1 == pieces.len(), piece));
                    if j == 0 && i % 2 == 0 {
                        stream.extend(frame(9, true, b"p"));
                    }
                }
            }
            let mut c = WsCodec::new(1 << 16, 1 << 16, 1);
            let got = drive(&mut c, &stream, &cuts).unwrap();
            let want: Vec<(bool, Vec<u8>)> = msgs.iter().map(|(t, p, _)| (*t, p.clone())).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
