//! The channel's two queues (events one way, book-slot indices back): `rtrb`'s wait-free SPSC
//! ring buffer, behind the four calls the channel makes.
//!
//! rtrb replaced a hand-written SPSC ring (issue 14, "hand-written versus the named crates"):
//! 68.7 vs 69.7 ns on the bare queue, and no difference the latency lab could measure end to
//! end in the same run (ARCHITECTURE.md, "rtrb for the handoff rings"), so the crate wins and
//! its two `unsafe` blocks went. rtrb allocates exactly `capacity` slots plus two cache-padded
//! indices once; push and pop are a store-release of one's own index and, only when the ring
//! looks full/empty, a load-acquire of the other's: what the channel's contract needs.
//!
//! Under `--cfg loom` the queue is a bounded `VecDeque` behind loom's `Mutex`: a model whose
//! happens-before edges loom can see (rtrb's atomics are std's), so `tests/loom_ring.rs` still
//! model-checks the channel's own protocol, the book slots handed through these queues.

#[cfg(not(loom))]
mod imp {
    /// Writing end.
    pub(crate) struct SpscProducer<T>(rtrb::Producer<T>);

    /// Reading end.
    pub(crate) struct SpscConsumer<T>(rtrb::Consumer<T>);

    /// A ring of exactly `capacity` values.
    pub(crate) fn spsc<T: Copy + Send>(capacity: usize) -> (SpscProducer<T>, SpscConsumer<T>) {
        let (p, c) = rtrb::RingBuffer::new(capacity);
        (SpscProducer(p), SpscConsumer(c))
    }

    impl<T: Copy + Send> SpscProducer<T> {
        /// Append `v`, or give it back if the ring is full.
        #[inline]
        pub(crate) fn push(&mut self, v: T) -> Result<(), T> {
            self.0.push(v).map_err(|rtrb::PushError::Full(v)| v)
        }

        /// At least `n` free slots.
        #[inline]
        pub(crate) fn has_room(&mut self, n: usize) -> bool {
            self.0.slots() >= n
        }

        /// Values the ring holds when full.
        pub(crate) fn capacity(&self) -> usize {
            self.0.buffer().capacity()
        }

        /// Values in the ring (a snapshot).
        #[cfg(test)]
        pub(crate) fn len(&self) -> usize {
            self.capacity() - self.0.slots()
        }
    }

    impl<T: Copy + Send> SpscConsumer<T> {
        /// Oldest value, or `None` if the ring is empty.
        #[inline]
        pub(crate) fn pop(&mut self) -> Option<T> {
            self.0.pop().ok()
        }

        /// No value in the ring (reloads the producer's index, acquire).
        #[inline]
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }
}

#[cfg(loom)]
mod imp {
    use loom::sync::{Arc, Mutex};
    use std::collections::VecDeque;

    type Q<T> = Arc<(Mutex<VecDeque<T>>, usize)>;

    pub(crate) struct SpscProducer<T>(Q<T>);
    pub(crate) struct SpscConsumer<T>(Q<T>);

    pub(crate) fn spsc<T: Copy + Send>(capacity: usize) -> (SpscProducer<T>, SpscConsumer<T>) {
        let q = Arc::new((Mutex::new(VecDeque::with_capacity(capacity)), capacity));
        (SpscProducer(q.clone()), SpscConsumer(q))
    }

    impl<T: Copy + Send> SpscProducer<T> {
        pub(crate) fn push(&mut self, v: T) -> Result<(), T> {
            let mut g = self.0 .0.lock().unwrap();
            if g.len() == self.0 .1 {
                return Err(v);
            }
            g.push_back(v);
            Ok(())
        }

        pub(crate) fn has_room(&mut self, n: usize) -> bool {
            self.0 .1 - self.0 .0.lock().unwrap().len() >= n
        }

        pub(crate) fn capacity(&self) -> usize {
            self.0 .1
        }
    }

    impl<T: Copy + Send> SpscConsumer<T> {
        pub(crate) fn pop(&mut self) -> Option<T> {
            self.0 .0.lock().unwrap().pop_front()
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.0 .0.lock().unwrap().is_empty()
        }
    }
}

pub(crate) use imp::{spsc, SpscConsumer, SpscProducer};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn holds_exactly_capacity_in_order_across_wrap() {
        let (mut p, mut c) = spsc::<u32>(3);
        assert_eq!(p.capacity(), 3);
        for round in 0..4u32 {
            for i in 0..3 {
                assert!(p.push(round * 10 + i).is_ok());
            }
            assert_eq!(p.push(99), Err(99), "a fourth value fit in a ring of 3");
            assert!(!p.has_room(1));
            for i in 0..3 {
                assert_eq!(c.pop(), Some(round * 10 + i));
            }
            assert!(c.is_empty());
            assert!(p.has_room(3));
        }
    }

    /// Two threads, values in order, none lost, none duplicated.
    #[test]
    fn two_threads_fifo() {
        let (mut p, mut c) = spsc::<u64>(64);
        let n = 100_000u64;
        let t = std::thread::spawn(move || {
            for v in 0..n {
                while p.push(v).is_err() {
                    std::thread::yield_now();
                }
            }
        });
        let mut next = 0;
        while next < n {
            match c.pop() {
                Some(v) => {
                    assert_eq!(v, next);
                    next += 1;
                }
                None => std::thread::yield_now(),
            }
        }
        t.join().unwrap();
        assert!(c.is_empty());
    }
}
