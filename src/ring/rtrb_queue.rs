//! The channel's two queues over `rtrb` instead of [`spsc`](super::spsc), same interface,
//! behind the `ring-rtrb` feature: built only to measure the two end to end in the latency lab
//! (issue 14, "hand-written versus the named crates"; ARCHITECTURE.md records the outcome).

/// Writing end (rtrb's `Producer`).
pub(crate) struct SpscProducer<T>(rtrb::Producer<T>);

/// Reading end (rtrb's `Consumer`).
pub(crate) struct SpscConsumer<T>(rtrb::Consumer<T>);

/// A ring of exactly `capacity` values.
pub(crate) fn spsc<T: Copy + Send>(capacity: usize) -> (SpscProducer<T>, SpscConsumer<T>) {
    let (p, c) = rtrb::RingBuffer::new(capacity);
    (SpscProducer(p), SpscConsumer(c))
}

impl<T: Copy + Send> SpscProducer<T> {
    #[inline]
    pub(crate) fn push(&mut self, v: T) -> Result<(), T> {
        self.0.push(v).map_err(|rtrb::PushError::Full(v)| v)
    }

    #[inline]
    pub(crate) fn has_room(&mut self, n: usize) -> bool {
        self.0.slots() >= n
    }

    pub(crate) fn capacity(&self) -> usize {
        self.0.buffer().capacity()
    }
}

impl<T: Copy + Send> SpscConsumer<T> {
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        self.0.pop().ok()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
