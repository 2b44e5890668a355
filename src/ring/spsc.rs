//! Bounded single-producer / single-consumer ring of `Copy` values.
//!
//! * One allocation at construction: `capacity` slots of `size_of::<T>()` bytes (exactly
//!   `capacity`, no power-of-two rounding, no per-slot stamp) plus two 128-B index lines.
//! * `push` on full returns the value back (`Err(v)`); `pop` on empty returns `None`. Neither
//!   blocks, spins, allocates nor does a read-modify-write.
//! * `head` (values popped, written by the consumer only) and `tail` (values pushed, written by
//!   the producer only) live on separate 128-B lines; each side keeps a private copy of the
//!   other side's index and reloads it only when the ring looks full (producer) or empty
//!   (consumer), so in steady state each operation touches one slot and one shared line.
//! * Memory order: a side writes its slot, then publishes its index with `Release`; the other
//!   side loads that index with `Acquire` before touching the slot. Slots are written and read
//!   by value (`T: Copy`, nothing to drop).

use super::sync::{Arc, AtomicUsize, Cell, Ordering};
use std::mem::MaybeUninit;

#[repr(align(128))]
struct Padded<T>(T);

struct Inner<T> {
    /// Values popped so far (wrapping). Written by the consumer only.
    head: Padded<AtomicUsize>,
    /// Values pushed so far (wrapping). Written by the producer only.
    tail: Padded<AtomicUsize>,
    slots: Box<[Cell<MaybeUninit<T>>]>,
}

// SAFETY: slot `i` is written only by the producer while `tail - head < capacity` says the
// consumer is not reading it (the consumer released it by storing `head` with Release after its
// read; the producer loaded `head` with Acquire), and read only by the consumer after it loaded
// `tail` (Acquire) past `i`, which the producer stored (Release) after its write. So no slot is
// accessed by both threads at once, and values move between threads only as `T: Send`.
unsafe impl<T: Send> Sync for Inner<T> {}

/// Create a ring holding up to `capacity.max(1)` values.
pub fn spsc<T: Copy + Send>(capacity: usize) -> (SpscProducer<T>, SpscConsumer<T>) {
    let cap = capacity.max(1);
    let slots = (0..cap).map(|_| Cell::new(MaybeUninit::uninit())).collect();
    let inner = Arc::new(Inner {
        head: Padded(AtomicUsize::new(0)),
        tail: Padded(AtomicUsize::new(0)),
        slots,
    });
    (
        SpscProducer {
            inner: inner.clone(),
            tail: 0,
            slot: 0,
            cached_head: 0,
            cap,
        },
        SpscConsumer {
            inner,
            head: 0,
            slot: 0,
            cached_tail: 0,
            cap,
        },
    )
}

/// Writing end. `Send`, not `Clone`.
pub struct SpscProducer<T> {
    inner: Arc<Inner<T>>,
    /// Own copy of `inner.tail`.
    tail: usize,
    /// `tail % cap`, kept incrementally (no division on the hot path).
    slot: usize,
    /// Last `inner.head` seen; the true head is never behind it.
    cached_head: usize,
    cap: usize,
}

impl<T: Copy + Send> SpscProducer<T> {
    /// Append `v`, or give it back if the ring is full.
    #[inline]
    pub fn push(&mut self, v: T) -> Result<(), T> {
        if self.tail.wrapping_sub(self.cached_head) == self.cap {
            self.cached_head = self.inner.head.0.load(Ordering::Acquire);
            if self.tail.wrapping_sub(self.cached_head) == self.cap {
                return Err(v);
            }
        }
        let cell = &self.inner.slots[self.slot];
        // SAFETY: fewer than `cap` values are unread (checked above against a head loaded with
        // Acquire, so the consumer's read of this slot, `cap` pushes ago, happened before), and
        // the consumer will not read this slot until the Release store of `tail` below.
        unsafe { cell.get_mut().write(v) };
        self.tail = self.tail.wrapping_add(1);
        self.slot += 1;
        if self.slot == self.cap {
            self.slot = 0;
        }
        self.inner.tail.0.store(self.tail, Ordering::Release);
        Ok(())
    }

    /// At least `n` free slots (the head is reloaded only when the cached one says fewer).
    #[inline]
    pub fn has_room(&mut self, n: usize) -> bool {
        if self.cap - self.tail.wrapping_sub(self.cached_head) >= n {
            return true;
        }
        self.cached_head = self.inner.head.0.load(Ordering::Acquire);
        self.cap - self.tail.wrapping_sub(self.cached_head) >= n
    }

    /// Values currently in the ring (a snapshot).
    pub fn len(&self) -> usize {
        self.tail
            .wrapping_sub(self.inner.head.0.load(Ordering::Acquire))
    }

    /// No value in the ring (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values the ring holds when full (exactly the capacity asked for).
    pub fn capacity(&self) -> usize {
        self.cap
    }
}

/// Reading end. `Send`, not `Clone`.
pub struct SpscConsumer<T> {
    inner: Arc<Inner<T>>,
    /// Own copy of `inner.head`.
    head: usize,
    /// `head % cap`.
    slot: usize,
    /// Last `inner.tail` seen; the true tail is never behind it.
    cached_tail: usize,
    cap: usize,
}

impl<T: Copy + Send> SpscConsumer<T> {
    /// Oldest value, or `None` if the ring is empty.
    #[inline]
    pub fn pop(&mut self) -> Option<T> {
        if self.head == self.cached_tail {
            self.cached_tail = self.inner.tail.0.load(Ordering::Acquire);
            if self.head == self.cached_tail {
                return None;
            }
        }
        let cell = &self.inner.slots[self.slot];
        // SAFETY: `head < tail` (tail loaded with Acquire, stored with Release after the
        // producer's write of this slot), so the slot holds an initialised `T`, and the producer
        // will not overwrite it until the Release store of `head` below. `T: Copy`: reading by
        // value leaves nothing to drop.
        let v = unsafe { cell.get_ref().assume_init_read() };
        self.head = self.head.wrapping_add(1);
        self.slot += 1;
        if self.slot == self.cap {
            self.slot = 0;
        }
        self.inner.head.0.store(self.head, Ordering::Release);
        Some(v)
    }

    /// Values currently in the ring (a snapshot).
    pub fn len(&self) -> usize {
        self.inner
            .tail
            .0
            .load(Ordering::Acquire)
            .wrapping_sub(self.head)
    }

    /// No value in the ring (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values the ring holds when full (exactly the capacity asked for).
    pub fn capacity(&self) -> usize {
        self.cap
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_full_at_exact_capacity_and_wraps() {
        let (mut p, mut c) = spsc::<u64>(3);
        assert_eq!(c.pop(), None);
        let mut next_in = 0;
        let mut next_out = 0;
        // Many laps, at every fill level, so the slot index wraps at a non-power-of-two.
        for round in 0..50 {
            for _ in 0..(round % 4) {
                match p.push(next_in) {
                    Ok(()) => next_in += 1,
                    Err(v) => {
                        assert_eq!(v, next_in, "full ring gives the value back");
                        assert_eq!(p.len(), 3);
                    }
                }
            }
            assert!(p.len() <= 3);
            while let Some(v) = c.pop() {
                assert_eq!(v, next_out);
                next_out += 1;
            }
            assert_eq!(next_out, next_in);
        }
        assert!(next_in > 40);
        for i in 0..3 {
            assert_eq!(p.push(i), Ok(()));
        }
        assert_eq!(p.push(9), Err(9));
        assert_eq!(c.len(), 3);
        assert_eq!(c.pop(), Some(0));
        assert_eq!(p.push(9), Ok(()));
        assert_eq!(
            (c.pop(), c.pop(), c.pop(), c.pop()),
            (Some(1), Some(2), Some(9), None)
        );
    }

    #[test]
    fn header_is_three_padded_lines() {
        // `RingConfig::memory_bytes` counts 512 B per ring: Arc counts + these 384 B.
        assert_eq!(std::mem::size_of::<Inner<u64>>(), 384);
        assert_eq!(std::mem::size_of::<crate::ring::Event>(), 192);
    }

    #[test]
    fn capacity_zero_means_one() {
        let (mut p, mut c) = spsc::<u8>(0);
        assert_eq!(p.capacity(), 1);
        assert_eq!(p.push(1), Ok(()));
        assert_eq!(p.push(2), Err(2));
        assert_eq!(c.pop(), Some(1));
        assert_eq!(c.pop(), None);
    }

    /// Two threads, a small ring, 128-B values: every value arrives once, in order, intact
    /// (a torn or early read would show a mismatched word).
    #[test]
    fn cross_thread_values_arrive_in_order_and_whole() {
        #[derive(Clone, Copy)]
        #[repr(align(64))]
        struct Big([u64; 16]);
        const N: u64 = 200_000;
        let (mut p, mut c) = spsc::<Big>(7);
        let t = std::thread::spawn(move || {
            let mut i = 0;
            while i < N {
                if p.push(Big([i; 16])).is_ok() {
                    i += 1;
                } else {
                    std::hint::spin_loop();
                }
            }
        });
        let mut expect = 0;
        while expect < N {
            if let Some(Big(v)) = c.pop() {
                assert!(v.iter().all(|w| *w == expect), "torn value at {expect}");
                expect += 1;
            } else {
                std::hint::spin_loop();
            }
        }
        t.join().unwrap();
        assert_eq!(c.pop().map(|b| b.0[0]), None);
    }
}
