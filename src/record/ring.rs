//! The recorder's byte ring: single producer (a feed thread), single consumer (its recorder
//! thread), variable-length entries, one allocation at construction.
//!
//! An entry is a 32-byte [`RecHeader`] and its payload, padded to 8 bytes, stored contiguously;
//! an entry that does not fit before the end of the buffer is preceded by a wrap marker (a
//! header whose kind is [`WRAP`]) and written at offset 0. `head` (bytes written) and `tail`
//! (bytes consumed) only grow; each lives on its own 128-byte line and each side keeps a private
//! copy of the other's, reloaded only when the ring looks full (producer) or empty (consumer).
//! The producer writes the bytes, then publishes `head` with `Release`; the consumer loads it
//! with `Acquire`, reads, then publishes `tail` with `Release`. Nothing blocks, spins, locks or
//! allocates: a write that does not fit is refused and the caller counts it.

use super::RecHeader;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Kind byte of a wrap marker (never written to a file).
pub(crate) const WRAP: u8 = 0xFF;

#[repr(align(128))]
struct Padded<T>(T);

struct Inner {
    head: Padded<AtomicU64>,
    tail: Padded<AtomicU64>,
    /// `cap` bytes, 8-aligned (`u64` storage).
    buf: *mut u8,
    cap: usize,
    /// The storage `buf` points into (kept alive, never touched through this field).
    _store: Box<[std::cell::UnsafeCell<u64>]>,
}

// SAFETY: bytes in `[tail, head)` are written only by the producer before it publishes `head`
// (Release) and read only by the consumer after loading it (Acquire); bytes outside that window
// are written only by the producer after it loaded `tail` (Acquire) past them, which the consumer
// stored (Release) after its reads. No byte is accessed by both threads at once.
unsafe impl Sync for Inner {}
// SAFETY: see `Sync`; the raw pointer points into `_store`, owned by `Inner`.
unsafe impl Send for Inner {}

/// Create a ring of `bytes` (rounded up to a power of two, at least 4 KiB).
pub(crate) fn byte_ring(bytes: usize) -> (ByteProducer, ByteConsumer) {
    let cap = bytes.max(4096).next_power_of_two();
    let store: Box<[std::cell::UnsafeCell<u64>]> = (0..cap / 8)
        .map(|_| std::cell::UnsafeCell::new(0))
        .collect();
    let buf = store.as_ptr() as *mut u8;
    let inner = Arc::new(Inner {
        head: Padded(AtomicU64::new(0)),
        tail: Padded(AtomicU64::new(0)),
        buf,
        cap,
        _store: store,
    });
    (
        ByteProducer {
            inner: inner.clone(),
            head: 0,
            cached_tail: 0,
            mask: cap as u64 - 1,
        },
        ByteConsumer {
            inner,
            tail: 0,
            mask: cap as u64 - 1,
        },
    )
}

#[inline(always)]
fn padded(len: usize) -> usize {
    (RecHeader::SIZE + len + 7) & !7
}

/// Writing end (the feed thread). `Send`, not `Clone`.
pub(crate) struct ByteProducer {
    inner: Arc<Inner>,
    head: u64,
    cached_tail: u64,
    mask: u64,
}

impl ByteProducer {
    /// Largest payload one entry can carry (a quarter of the ring).
    pub(crate) fn max_payload(&self) -> usize {
        self.inner.cap / 4 - RecHeader::SIZE
    }

    /// Append one entry made of `h` and the concatenation of `parts`; `false` (nothing written)
    /// when it does not fit. `h.len` is set here.
    #[inline]
    pub(crate) fn write(&mut self, h: &mut RecHeader, parts: &[&[u8]]) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len > self.max_payload() {
            return false;
        }
        let need = padded(len) as u64;
        let cap = self.inner.cap as u64;
        let pos = self.head & self.mask;
        let contiguous = cap - pos;
        let total = if contiguous < need {
            contiguous + need
        } else {
            need
        };
        if self.head + total - self.cached_tail > cap {
            self.cached_tail = self.inner.tail.0.load(Ordering::Acquire);
            if self.head + total - self.cached_tail > cap {
                return false;
            }
        }
        let base = self.inner.buf;
        let mut at = pos as usize;
        if contiguous < need {
            // SAFETY: `at..at+8` lies in the buffer (contiguous >= 8: entries are 8-aligned)
            // and in the free window checked above.
            unsafe { base.add(at).write(WRAP) };
            at = 0;
        }
        h.len = len as u32;
        let hb = h.to_bytes();
        // SAFETY: `at..at+need` lies in the buffer (need <= contiguous, or at == 0 and need <=
        // cap/4) and in the free window: no consumer reads it until `head` is published.
        unsafe {
            std::ptr::copy_nonoverlapping(hb.as_ptr(), base.add(at), RecHeader::SIZE);
            let mut off = at + RecHeader::SIZE;
            for p in parts {
                std::ptr::copy_nonoverlapping(p.as_ptr(), base.add(off), p.len());
                off += p.len();
            }
        }
        self.head += total;
        self.inner.head.0.store(self.head, Ordering::Release);
        true
    }
}

/// Reading end (the recorder thread).
pub(crate) struct ByteConsumer {
    inner: Arc<Inner>,
    tail: u64,
    mask: u64,
}

impl ByteConsumer {
    /// Hand every available entry to `f` (header, payload), then release their bytes; the
    /// number of entries.
    pub(crate) fn drain(&mut self, mut f: impl FnMut(&RecHeader, &[u8])) -> usize {
        let head = self.inner.head.0.load(Ordering::Acquire);
        let cap = self.inner.cap as u64;
        let base = self.inner.buf as *const u8;
        let mut n = 0;
        while self.tail < head {
            let pos = (self.tail & self.mask) as usize;
            // SAFETY: `[tail, head)` was published by the producer (Acquire above).
            let kind = unsafe { *base.add(pos) };
            if kind == WRAP {
                self.tail += cap - pos as u64;
                continue;
            }
            let mut hb = [0u8; RecHeader::SIZE];
            // SAFETY: a whole header was written at `pos` (entries never straddle the end).
            unsafe { std::ptr::copy_nonoverlapping(base.add(pos), hb.as_mut_ptr(), hb.len()) };
            let h = RecHeader::from_bytes(&hb);
            let len = h.len as usize;
            // SAFETY: the payload follows its header contiguously, inside the published window.
            let payload =
                unsafe { std::slice::from_raw_parts(base.add(pos + RecHeader::SIZE), len) };
            f(&h, payload);
            n += 1;
            self.tail += padded(len) as u64;
        }
        self.inner.tail.0.store(self.tail, Ordering::Release);
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Kind;

    #[test]
    fn entries_come_out_in_order_across_wraps_and_full_is_refused() {
        let (mut p, mut c) = byte_ring(4096);
        let mut got = Vec::new();
        let mut next = 0u64;
        let mut refused = 0;
        for round in 0..200u64 {
            for _ in 0..(round % 7 + 1) {
                let body = vec![next as u8; (next as usize * 37) % 700];
                let mut h = RecHeader::new(Kind::MsgText, 1, next, 0);
                if p.write(&mut h, &[&body[..body.len() / 2], &body[body.len() / 2..]]) {
                    next += 1;
                } else {
                    refused += 1;
                    break;
                }
            }
            if round % 3 == 2 {
                c.drain(|h, b| got.push((h.mono_ns, b.to_vec())));
            }
        }
        c.drain(|h, b| got.push((h.mono_ns, b.to_vec())));
        assert!(refused > 0, "the ring never filled");
        assert_eq!(got.len() as u64, next);
        for (i, (m, b)) in got.iter().enumerate() {
            assert_eq!(*m, i as u64);
            assert_eq!(b.len(), (i * 37) % 700);
            assert!(b.iter().all(|&x| x == i as u8));
        }
    }

    #[test]
    fn too_large_payload_is_refused() {
        let (mut p, _c) = byte_ring(4096);
        let big = vec![0u8; 2000];
        assert!(!p.write(&mut RecHeader::new(Kind::MsgText, 0, 0, 0), &[&big]));
    }

    #[test]
    fn threads_hand_over_every_entry() {
        let (mut p, mut c) = byte_ring(1 << 14);
        let n = 100_000u64;
        let t = std::thread::spawn(move || {
            let mut i = 0;
            while i < n {
                let b = i.to_le_bytes();
                if p.write(
                    &mut RecHeader::new(Kind::MsgBinary, 0, i, 0),
                    &[&b[..(i % 8) as usize]],
                ) {
                    i += 1;
                }
            }
        });
        let mut seen = 0u64;
        while seen < n {
            c.drain(|h, b| {
                assert_eq!(h.mono_ns, seen);
                assert_eq!(b, &seen.to_le_bytes()[..(seen % 8) as usize]);
                seen += 1;
            });
        }
        t.join().unwrap();
    }
}
