//! The WebSocket read path as a fuzz entry point (cargo feature `fuzzing`, used by
//! `fuzz/fuzz_targets/ws_read.rs`; the proptest smoke at the bottom runs it in the default test
//! suite).
//!
//! Raw server bytes go through the connection's real receive buffer ([`Stream::fill`]: compact,
//! grow for an oversized frame, shrink back) and the real codec ([`WsCodec::parse`]) over a
//! loopback TCP pair, in the order `Reactor::drain` uses them. The bytes are written in the
//! chunks the fuzzer chose, and the reader drains after each chunk, so frame headers and
//! payloads split at every possible boundary. Checked on every step: the codec makes progress,
//! handed-out ranges lie inside the buffer, no message exceeds the limit, the receive buffer
//! and the write queue stay within their caps. And differentially: the messages and the
//! ending must not depend on how the bytes were chunked.

use super::stream::Stream;
use super::ws::{Parsed, WsCodec, WsError};
use std::io::{self, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// Receive buffer size: the smallest `Stream` allows, so larger frames take the grow path.
const RBUF: usize = 8192;
/// Frame limit above the buffer size (grow and shrink are exercised).
const MAX_FRAME: usize = 3 * RBUF;
/// Reassembled-message limit.
const MAX_MESSAGE: usize = 4 * RBUF;
/// Longest input used (the rest is ignored).
pub const MAX_INPUT: usize = 1 << 16;
/// Write-queue cap (pongs and the close echo are queued, never written here).
const MAX_WRITE: usize = 1024;

/// How the read path ended for one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsReadEnd {
    /// The peer closed TCP (possibly mid-frame).
    Eof,
    /// A Close frame arrived (code; 1005 if none).
    Close(u16),
    /// The codec failed the connection.
    Failed(&'static str),
}

/// Everything the read path delivered for one input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsReadTrace {
    /// Data messages in order: (text?, payload).
    pub messages: Vec<(bool, Vec<u8>)>,
    /// How it ended.
    pub end: WsReadEnd,
}

fn failed(e: WsError) -> WsReadEnd {
    WsReadEnd::Failed(match e {
        WsError::Oversized => "oversized",
        WsError::Protocol => "protocol",
        WsError::WriteBufferFull => "write buffer full",
    })
}

/// A connected loopback pair: (writer std socket, reader as the reactor's `Stream`).
fn pair() -> io::Result<(TcpStream, Stream)> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    let w = TcpStream::connect(l.local_addr()?)?;
    let (r, _) = l.accept()?;
    r.set_nonblocking(true)?;
    Ok((w, Stream::new(mio::net::TcpStream::from_std(r), None, RBUF)))
}

/// Drive `data` through the read path, written in chunks of the given sizes (cycled; the rest
/// in one piece when `chunks` is empty). Panics if an invariant breaks (that is the finding).
pub fn ws_read(data: &[u8], chunks: &[usize]) -> io::Result<WsReadTrace> {
    // Whole inputs are written before reading: stay well inside the loopback socket buffers.
    let data = &data[..data.len().min(MAX_INPUT)];
    let (mut w, mut s) = pair()?;
    let mut codec = WsCodec::new(MAX_FRAME, MAX_MESSAGE, 7).with_max_write(MAX_WRITE);
    let mut messages = Vec::new();
    let mut sent = 0usize;
    let mut next_chunk = 0usize;
    let mut eof_sent = false;
    let deadline = Instant::now() + Duration::from_secs(10);
    let end = 'read: loop {
        // Feed the next chunk (or EOF) once the reader has taken everything it can.
        if sent < data.len() {
            let n = match chunks.get(next_chunk % chunks.len().max(1)) {
                Some(&c) => c.clamp(1, data.len() - sent),
                None => data.len() - sent,
            };
            next_chunk += 1;
            w.write_all(&data[sent..sent + n])?;
            sent += n;
        } else if !eof_sent {
            w.shutdown(Shutdown::Write)?;
            eof_sent = true;
        }
        loop {
            let avail = s.rend - s.rstart;
            let (ev, used) = match codec.parse(&s.rbuf[s.rstart..s.rend]) {
                Ok(x) => x,
                Err(e) => break 'read failed(e),
            };
            assert!(used <= avail, "consumed {used} of {avail} bytes");
            let base = s.rstart;
            s.rstart += used;
            match ev {
                Parsed::NeedMore { total } => {
                    assert_eq!(used, 0);
                    assert!(total > avail, "NeedMore {total} with {avail} buffered");
                    assert!(total <= MAX_FRAME + 14, "asked for {total} bytes");
                    match s.fill(total) {
                        Ok(0) => break 'read WsReadEnd::Eof,
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                            if eof_sent {
                                // Loopback delivers the FIN promptly; a stall is a hang.
                                assert!(Instant::now() < deadline, "read path stalled");
                                std::thread::yield_now();
                                continue;
                            }
                            break; // next chunk
                        }
                        Err(e) => return Err(e),
                    }
                    assert!(
                        s.rbuf.len() <= RBUF.max(MAX_FRAME + 14),
                        "receive buffer grew to {}",
                        s.rbuf.len()
                    );
                }
                Parsed::Data { text, start, end } => {
                    assert!(
                        start <= end && end <= used,
                        "range {start}..{end} of {used}"
                    );
                    assert!(end - start <= MAX_MESSAGE);
                    messages.push((text, s.rbuf[base + start..base + end].to_vec()));
                }
                Parsed::Reassembled { text } => {
                    assert!(
                        codec.frag.len() <= MAX_MESSAGE,
                        "{} bytes",
                        codec.frag.len()
                    );
                    messages.push((text, codec.frag.clone()));
                }
                Parsed::Control => {}
                Parsed::Close { code } => break 'read WsReadEnd::Close(code),
            }
            assert!(
                codec.queued() <= MAX_WRITE + 14 + 125,
                "{} bytes queued for writing",
                codec.queued()
            );
            if codec.over_cap() {
                break 'read failed(WsError::WriteBufferFull);
            }
        }
    };
    Ok(WsReadTrace { messages, end })
}

/// The fuzz property: chunked and whole deliveries agree (and neither breaks an invariant).
pub fn ws_read_differential(data: &[u8], chunks: &[usize]) {
    let (Ok(whole), Ok(split)) = (ws_read(data, &[]), ws_read(data, chunks)) else {
        return; // out of sockets or similar: not a finding
    };
    assert_eq!(whole, split, "chunking {chunks:?} changed what was read");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(op: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![if fin { 0x80 | op } else { op }];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 0xffff => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn frames_split_anywhere_read_the_same() {
        let mut data = frame(1, true, b"{\"a\":1}");
        data.extend(frame(2, false, &[7u8; 5000]));
        data.extend(frame(9, true, b"ping")); // control frame between fragments
        data.extend(frame(0, true, &[8u8; 9000]));
        data.extend(frame(2, true, &vec![1u8; MAX_FRAME - 10])); // grows the buffer
        data.extend(frame(1, true, b"after"));
        data.extend(frame(8, true, &1000u16.to_be_bytes()));
        let t = ws_read(&data, &[]).unwrap();
        assert_eq!(t.end, WsReadEnd::Close(1000));
        assert_eq!(t.messages.len(), 4);
        assert_eq!(t.messages[1].1.len(), 14_000);
        assert_eq!(t.messages[3], (true, b"after".to_vec()));
        for chunks in [&[1usize][..], &[2, 3], &[4095, 1], &[8191, 8193, 1]] {
            ws_read_differential(&data, chunks);
        }
    }

    #[test]
    fn oversized_and_masked_frames_fail_the_connection() {
        let big = frame(2, true, &vec![0u8; MAX_FRAME + 1]);
        assert_eq!(
            ws_read(&big, &[]).unwrap().end,
            WsReadEnd::Failed("oversized")
        );
        let masked = [0x81, 0x81, 0, 0, 0, 0, b'a'];
        assert_eq!(
            ws_read(&masked, &[1]).unwrap().end,
            WsReadEnd::Failed("protocol")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
        /// Random bytes, and random valid frames mutated at one byte, split randomly.
        #[test]
        fn any_bytes_any_chunking(
            raw in proptest::collection::vec(any::<u8>(), 0..2048),
            payloads in proptest::collection::vec(
                (0u8..11, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..300)), 0..8),
            flip in any::<(usize, u8)>(),
            chunks in proptest::collection::vec(1usize..600, 1..6),
        ) {
            ws_read_differential(&raw, &chunks);
            let mut data: Vec<u8> = payloads.iter().flat_map(|(op, fin, p)| frame(*op, *fin, p)).collect();
            if !data.is_empty() {
                let i = flip.0 % data.len();
                data[i] ^= flip.1;
            }
            ws_read_differential(&data, &chunks);
        }
    }
}
