//! The transport under the WebSocket codec: plain TCP or rustls over TCP, both non-blocking,
//! plus the connection's receive buffer (the codec parses in place from it).
//!
//! Reads stamp `last_read_ns` (CLOCK_MONOTONIC) after every successful socket `read(2)`: that is
//! the `recv_ns` handed to the handler with each message.
//!
//! ## TLS: record-aligned feeding (why there is a ciphertext buffer here)
//! rustls 0.23's buffered API copies each decrypted application-data record into a fresh
//! `Vec<u8>` (one allocation per record, `ChunkVecBuffer::append`). Its deframer buffer also
//! *grows* (realloc) when a record is split across `read_tls` calls and *shrinks* again when it
//! empties (`DeframerVecBuffer::prepare_read`). To make the allocation count deterministic we read
//! the socket into our own ciphertext buffer and hand rustls only whole records, in batches of at
//! most [`RUSTLS_READ_SIZE`] bytes and four records (more would grow rustls' plaintext queue). Result, measured in `tests/no_alloc_net.rs`: exactly **one
//! allocation per application-data record whose wire size is ≤ 4096 bytes**; a larger record
//! additionally costs the deframer's grow (1–3 reallocs) and shrink (1 realloc).
//!
//! rustls 0.23's *unbuffered* API does not help: `ReadTraffic::next_record` pops the same
//! per-record `Vec` from `received_plaintext`. In-place decryption arrives with rustls 0.24
//! (`0.24.0-dev.2`); kTLS or decrypting with extracted secrets are the other ways out, both
//! deliberately not taken here (our own record layer would have to handle KeyUpdate).

use std::io::{self, Read, Write};

use rustls::ClientConnection;

use crate::types::now_ns;

/// rustls 0.23's deframer reads at most this many bytes per `read_tls` into an empty buffer.
pub const RUSTLS_READ_SIZE: usize = 4096;
/// Ciphertext buffer: room for several maximum-size TLS records (16 KiB + 2 KiB + 5).
const CIPHER_BUF_LEN: usize = 64 * 1024;
const TLS_HEADER_LEN: usize = 5;
/// Records handed to rustls per `process_new_packets`. Each decrypted record becomes one entry
/// of rustls' plaintext queue (`ChunkVecBuffer`, a `VecDeque<Vec<u8>>` that starts at capacity
/// 4 and never shrinks), and a batch is fed only once that queue is empty. A batch of more than
/// four records therefore grows the queue — one extra allocation, the first time a burst of
/// small records arrives, which could be in steady state (CI counted 1477 allocations for 1476
/// records once). At most four keeps the queue at the capacity its first record gave it.
const MAX_BATCH_RECORDS: u64 = 4;

pub(crate) struct TlsLayer {
    pub(crate) conn: ClientConnection,
    cbuf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Complete TLS records handed to rustls (all content types).
    pub(crate) records_in: u64,
    /// Of those, records larger than [`RUSTLS_READ_SIZE`] on the wire: each costs rustls'
    /// deframer a grow and a shrink on top of the per-record plaintext allocation.
    pub(crate) records_large_in: u64,
}

impl TlsLayer {
    pub(crate) fn new(conn: ClientConnection) -> Self {
        Self {
            conn,
            cbuf: vec![0u8; CIPHER_BUF_LEN].into_boxed_slice(),
            start: 0,
            end: 0,
            records_in: 0,
            records_large_in: 0,
        }
    }

    /// Hand rustls a batch of whole records (≤ RUSTLS_READ_SIZE bytes and ≤ [`MAX_BATCH_RECORDS`],
    /// or one larger record).
    /// Returns false if no whole record is buffered.
    fn feed(&mut self) -> io::Result<bool> {
        let avail = &self.cbuf[self.start..self.end];
        let mut batch = 0usize;
        let mut records = 0u64;
        let mut large = 0u64;
        while avail.len() - batch >= TLS_HEADER_LEN {
            let h = &avail[batch..];
            let rec = TLS_HEADER_LEN + (usize::from(h[3]) << 8 | usize::from(h[4]));
            if avail.len() - batch < rec {
                break;
            }
            if batch > 0 && batch + rec > RUSTLS_READ_SIZE {
                break;
            }
            batch += rec;
            records += 1;
            large += u64::from(rec > RUSTLS_READ_SIZE);
            if batch >= RUSTLS_READ_SIZE || records == MAX_BATCH_RECORDS {
                break;
            }
        }
        if batch == 0 {
            // A record that can never fit our buffer is garbage: let rustls reject it.
            if self.start == 0 && self.end == self.cbuf.len() {
                batch = self.end;
            } else {
                return Ok(false);
            }
        }
        let mut slice = &self.cbuf[self.start..self.start + batch];
        let mut fed = 0;
        while fed < batch {
            match self.conn.read_tls(&mut slice) {
                Ok(0) => break,
                Ok(n) => fed += n,
                Err(e) => return Err(e),
            }
            // A larger record: let rustls make room by processing what it has (nothing
            // completes until the record is whole, so this only grows its buffer).
            if fed < batch {
                process(&mut self.conn)?;
            }
        }
        self.start += fed;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        self.records_in += records;
        self.records_large_in += large;
        process(&mut self.conn)?;
        Ok(true)
    }

    /// Read ciphertext from the socket into `cbuf`. Ok(0) = EOF.
    fn fill(&mut self, sock: &mut mio::net::TcpStream) -> io::Result<usize> {
        if self.start > 0 && self.cbuf.len() - self.end < RUSTLS_READ_SIZE {
            self.cbuf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let n = sock.read(&mut self.cbuf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Push pending TLS output to the socket. Err(WouldBlock) if some remains.
    fn flush_tls(&mut self, sock: &mut mio::net::TcpStream) -> io::Result<()> {
        while self.conn.wants_write() {
            self.conn.write_tls(sock)?;
        }
        Ok(())
    }
}

fn process(conn: &mut ClientConnection) -> io::Result<()> {
    match conn.process_new_packets() {
        Ok(_) => Ok(()),
        Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, TlsIoError(e))),
    }
}

/// Error wrapper so a rustls error can travel inside `io::Error` and be recognised again.
#[derive(Debug)]
pub(crate) struct TlsIoError(pub(crate) rustls::Error);
impl std::fmt::Display for TlsIoError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tls: {}", self.0)
    }
}
impl std::error::Error for TlsIoError {}

/// Smallest free tail worth a `read(2)`; below it the receive buffer is compacted first.
const MIN_READ: usize = 4096;

/// Plain or TLS transport plus the connection's receive buffer (the WebSocket codec parses in
/// place from `rbuf[rstart..rend]`).
pub(crate) struct Stream {
    pub(crate) sock: mio::net::TcpStream,
    pub(crate) tls: Option<Box<TlsLayer>>,
    pub(crate) rbuf: Box<[u8]>,
    pub(crate) rstart: usize,
    pub(crate) rend: usize,
    /// The configured size of `rbuf`: it returns to it once a larger frame was consumed.
    pub(crate) rbuf_base: usize,
    /// Progress matching the `\r\n\r\n` that ends the HTTP upgrade answer (4 = seen): the
    /// handshake `Read` never hands tungstenite a byte past it, so early frames stay in `rbuf`.
    hs_match: u8,
    /// CLOCK_MONOTONIC ns after the last successful socket read.
    pub(crate) last_read_ns: u64,
    /// Bytes read from the socket (wire bytes, ciphertext for TLS), taken by the reactor.
    pub(crate) bytes_read: u64,
    /// rustls records processed, taken by the reactor.
    pub(crate) records_in: u64,
    /// Of those, larger than [`RUSTLS_READ_SIZE`] on the wire, taken by the reactor.
    pub(crate) records_large_in: u64,
}

impl Stream {
    pub(crate) fn new(
        sock: mio::net::TcpStream,
        tls: Option<ClientConnection>,
        rbuf_len: usize,
    ) -> Self {
        let rbuf_base = rbuf_len.max(MIN_READ * 2);
        Self {
            sock,
            tls: tls.map(|c| Box::new(TlsLayer::new(c))),
            rbuf: vec![0u8; rbuf_base].into_boxed_slice(),
            rstart: 0,
            rend: 0,
            rbuf_base,
            hs_match: 0,
            last_read_ns: 0,
            bytes_read: 0,
            records_in: 0,
            records_large_in: 0,
        }
    }

    /// True if TLS has ciphertext waiting to be written.
    #[inline]
    pub(crate) fn tls_wants_write(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.conn.wants_write())
    }

    pub(crate) fn tls_handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.conn.is_handshaking())
    }

    /// Read from the transport into `rbuf[rend..]`, first making room for a frame of `need`
    /// bytes from `rstart` (compacting; growing — an allocation — to exactly the frame, only
    /// for a frame larger than the buffer, so at most `max_frame_size` + 14). Once such a
    /// frame is consumed and what follows fits the configured size, the buffer shrinks back
    /// (one more allocation): a single huge frame is not retained for the connection's life.
    /// Ok(0) = EOF.
    #[inline]
    pub(crate) fn fill(&mut self, need: usize) -> io::Result<usize> {
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
        }
        let cap = self.rbuf.len();
        let pending = self.rend - self.rstart;
        if need > cap {
            let mut bigger = vec![0u8; need].into_boxed_slice();
            bigger[..pending].copy_from_slice(&self.rbuf[self.rstart..self.rend]);
            self.rend = pending;
            self.rstart = 0;
            self.rbuf = bigger;
        } else if cap > self.rbuf_base && need <= self.rbuf_base {
            // `pending < need`, so the shrunk buffer still has room to read into.
            let mut base = vec![0u8; self.rbuf_base].into_boxed_slice();
            base[..pending].copy_from_slice(&self.rbuf[self.rstart..self.rend]);
            self.rend = pending;
            self.rstart = 0;
            self.rbuf = base;
        } else if self.rstart > 0 && (self.rstart + need > cap || cap - self.rend < MIN_READ) {
            self.rbuf.copy_within(self.rstart..self.rend, 0);
            self.rend -= self.rstart;
            self.rstart = 0;
        }
        // An empty destination would read as EOF; the compaction above rules it out.
        debug_assert!(self.rend < self.rbuf.len());
        let n = self.read_transport_at(self.rend)?;
        self.rend += n;
        Ok(n)
    }

    #[inline]
    fn read_transport_at(&mut self, at: usize) -> io::Result<usize> {
        let Stream {
            sock,
            tls,
            rbuf,
            last_read_ns,
            bytes_read,
            records_in,
            records_large_in,
            ..
        } = self;
        read_transport(
            sock,
            tls.as_deref_mut(),
            &mut rbuf[at..],
            last_read_ns,
            bytes_read,
            (records_in, records_large_in),
        )
    }

    /// Tungstenite framing (`Framing::Tungstenite`): from now on [`Read`] serves what is left
    /// in `rbuf` past the HTTP answer (frames glued to the 101), then reads the transport.
    pub(crate) fn set_live_reads(&mut self) {
        self.hs_match = LIVE_READS;
    }

    /// Write bytes to the transport (TLS: encrypt, then push what the socket takes).
    /// Err(WouldBlock) only if nothing was accepted.
    pub(crate) fn write_raw(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(tls) = self.tls.as_deref_mut() else {
            return self.sock.write(buf);
        };
        let n = tls.conn.writer().write(buf)?;
        if n == 0 && !buf.is_empty() {
            // rustls' outgoing buffer is at its limit: back-pressure, not an error.
            let _ = tls.flush_tls(&mut self.sock);
            return Err(io::ErrorKind::WouldBlock.into());
        }
        match tls.flush_tls(&mut self.sock) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        Ok(n)
    }

    /// Push pending TLS output. Err(WouldBlock) if some remains.
    pub(crate) fn flush_tls(&mut self) -> io::Result<()> {
        match self.tls.as_deref_mut() {
            None => Ok(()),
            Some(tls) => tls.flush_tls(&mut self.sock),
        }
    }
}

/// Read plaintext from the transport into `dst` (TLS: whole records fed to rustls, see the
/// module docs); stamps `last_read_ns` after each socket read. Ok(0) = EOF / close_notify.
#[inline]
fn read_transport(
    sock: &mut mio::net::TcpStream,
    tls: Option<&mut TlsLayer>,
    dst: &mut [u8],
    last_read_ns: &mut u64,
    bytes_read: &mut u64,
    (records_in, records_large_in): (&mut u64, &mut u64),
) -> io::Result<usize> {
    let Some(tls) = tls else {
        let n = sock.read(dst)?;
        *last_read_ns = now_ns();
        *bytes_read += n as u64;
        return Ok(n);
    };
    loop {
        match tls.conn.reader().read(dst) {
            Ok(n) => return Ok(n), // 0 = close_notify received
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(e),
        }
        if tls.feed()? {
            *records_in += std::mem::take(&mut tls.records_in);
            *records_large_in += std::mem::take(&mut tls.records_large_in);
            // Handshake progress or alerts may have queued output.
            if tls.conn.wants_write() {
                match tls.flush_tls(sock) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
            }
            continue;
        }
        let n = tls.fill(sock)?;
        *last_read_ns = now_ns();
        *bytes_read += n as u64;
        if n == 0 {
            return Ok(0);
        }
    }
}

/// `hs_match` once [`Stream::set_live_reads`] was called.
const LIVE_READS: u8 = 5;

/// During the handshake (tungstenite's client handshake): bytes up to the end of the HTTP
/// answer, never past it. After [`Stream::set_live_reads`] (tungstenite framing): the bytes
/// left in `rbuf`, then the transport.
impl Read for Stream {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.hs_match == LIVE_READS {
            if self.rstart < self.rend {
                let n = (self.rend - self.rstart).min(out.len());
                out[..n].copy_from_slice(&self.rbuf[self.rstart..self.rstart + n]);
                self.rstart += n;
                return Ok(n);
            }
            let Stream {
                sock,
                tls,
                last_read_ns,
                bytes_read,
                records_in,
                records_large_in,
                ..
            } = self;
            return read_transport(
                sock,
                tls.as_deref_mut(),
                out,
                last_read_ns,
                bytes_read,
                (records_in, records_large_in),
            );
        }
        if self.hs_match >= 4 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        if self.rstart == self.rend {
            self.rstart = 0;
            self.rend = 0;
            let n = self.read_transport_at(0)?;
            if n == 0 {
                return Ok(0);
            }
            self.rend = n;
        }
        let avail = &self.rbuf[self.rstart..self.rend];
        let mut n = 0;
        while n < avail.len() && n < out.len() && self.hs_match < 4 {
            self.hs_match = match (self.hs_match, avail[n]) {
                (0 | 2, b'\r') => self.hs_match + 1,
                (1 | 3, b'\n') => self.hs_match + 1,
                (_, b'\r') => 1,
                _ => 0,
            };
            n += 1;
        }
        out[..n].copy_from_slice(&avail[..n]);
        self.rstart += n;
        Ok(n)
    }
}

/// The upgrade request (tungstenite's handshake) and, with tungstenite framing, its frames.
impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_raw(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_tls()
    }
}
