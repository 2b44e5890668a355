//! Blocking receive without a lock: a consumer parks on a futex word when its rings are empty,
//! and a producer rings the bell after a batch of pushes.
//!
//! The feed thread pays one load per push ([`Doorbell::peek_ring`]: wakes a consumer seen
//! parked at the first push, not at the end of the batch), one fence and one load per loop
//! turn in which it pushed anything ([`Doorbell::ring`]: closes the race), and a
//! `futex(FUTEX_WAKE)` system call only when the consumer is actually parked: a spinning or
//! busy consumer costs the feed nothing beyond that. A parked
//! consumer wakes in the kernel's wake-up latency instead of a sleep quantum (the strategy's
//! 20–50 µs idle sleep was most of the gap to the floor in the latency lab, issue 14).
//!
//! Lost wake-ups are excluded by the usual store-fence-load pairing on both sides (Dekker):
//! the producer publishes its ring index, fences, then reads the bell; the consumer announces
//! `PARKED`, fences, then re-reads the rings. In the single total order of the two `SeqCst`
//! fences one of them comes first, so either the consumer sees the event or the producer sees
//! `PARKED` (and wakes it). `FUTEX_WAIT` itself re-checks the word atomically, so a wake that
//! lands between the re-check and the wait makes the wait return at once.
//!
//! Not Linux: the park is a 50 µs sleep slice (same contract, coarser wake-up).

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Duration;

const AWAKE: u32 = 0;
const PARKED: u32 = 1;

/// One consumer's bell, shared (`Arc`) by the producers of every ring it reads.
#[repr(align(128))]
#[derive(Debug, Default)]
pub struct Doorbell {
    state: AtomicU32,
    wakes: std::sync::atomic::AtomicU64,
}

impl Doorbell {
    /// A bell with nobody parked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Producer side, after its pushes are visible in the ring: wake the consumer if it is
    /// parked. Returns whether a wake-up was sent. No allocation, no lock; a system call only
    /// when the consumer sleeps.
    #[inline]
    pub fn ring(&self) -> bool {
        fence(Ordering::SeqCst);
        if self.state.load(Ordering::Relaxed) != PARKED {
            return false;
        }
        self.wake()
    }

    /// Producer side, per push: wake the consumer if it is *seen* parked, without a fence
    /// (one load of a line that stays in the producer's cache while nobody parks). It can miss
    /// a park that races with the push; [`ring`](Self::ring) at the end of the producer's
    /// loop turn closes that race. Together: the first push wakes a sleeping consumer at
    /// once, not at the end of the batch it belongs to.
    #[inline]
    pub fn peek_ring(&self) {
        if self.state.load(Ordering::Relaxed) == PARKED {
            self.wake();
        }
    }

    #[cold]
    #[inline(never)]
    fn wake(&self) -> bool {
        if self.state.swap(AWAKE, Ordering::SeqCst) != PARKED {
            return false;
        }
        self.wakes.fetch_add(1, Ordering::Relaxed);
        futex_wake(&self.state);
        true
    }

    /// Consumer side: sleep until a producer rings or `timeout` passes, unless `ready()` (the
    /// rings, re-read after announcing the park) says there is something to read already.
    /// Returns `ready()`'s answer after waking. Spurious wake-ups are possible: callers loop.
    pub fn park(&self, timeout: Duration, ready: impl Fn() -> bool) -> bool {
        self.state.store(PARKED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
        if ready() {
            self.state.store(AWAKE, Ordering::Relaxed);
            return true;
        }
        futex_wait(&self.state, PARKED, timeout);
        self.state.store(AWAKE, Ordering::Relaxed);
        ready()
    }

    /// Wake-ups sent so far (each one a system call on a producer's thread).
    pub fn wakes(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }
}

#[cfg(target_os = "linux")]
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: `word` is a live, aligned u32 for the whole call; FUTEX_WAIT only reads it and
    // compares with `expected`; `ts` is a valid relative timeout on this stack frame. The
    // result (woken, timed out, EAGAIN if the word changed, EINTR) needs no handling: the
    // caller re-checks its rings either way.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

#[cfg(target_os = "linux")]
fn futex_wake(word: &AtomicU32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE wakes at most one waiter on it and
    // touches no memory.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            1,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn futex_wait(_word: &AtomicU32, _expected: u32, timeout: Duration) {
    std::thread::sleep(timeout.min(Duration::from_micros(50)));
}

#[cfg(not(target_os = "linux"))]
fn futex_wake(_word: &AtomicU32) {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn ring_without_a_parked_consumer_sends_nothing() {
        let b = Doorbell::new();
        assert!(!b.ring());
        assert_eq!(b.wakes(), 0);
    }

    #[test]
    fn park_returns_at_once_when_ready() {
        let b = Doorbell::new();
        let t = Instant::now();
        assert!(b.park(Duration::from_secs(30), || true));
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "parked although ready"
        );
        assert!(!b.ring(), "the bell was left parked");
    }

    #[test]
    fn park_times_out_when_nothing_comes() {
        let b = Doorbell::new();
        assert!(!b.park(Duration::from_millis(5), || false));
        assert!(!b.ring(), "the bell was left parked after the timeout");
    }

    /// The race the fences exist for: many rounds of "producer publishes, then rings" against
    /// "consumer announces, re-checks, sleeps" with a 30 s timeout. A lost wake-up would leave
    /// the consumer asleep for the whole timeout and the test would hit its deadline.
    #[test]
    fn a_published_flag_is_never_slept_through() {
        let bell = Arc::new(Doorbell::new());
        let flag = Arc::new(AtomicBool::new(false));
        let rounds = 2_000;
        let (b2, f2) = (bell.clone(), flag.clone());
        let consumer = std::thread::spawn(move || {
            let mut slow = 0;
            for _ in 0..rounds {
                let t = Instant::now();
                while !f2.load(Ordering::Acquire) {
                    b2.park(Duration::from_secs(30), || f2.load(Ordering::Acquire));
                }
                if t.elapsed() > Duration::from_secs(25) {
                    slow += 1;
                }
                f2.store(false, Ordering::Release);
            }
            slow
        });
        for _ in 0..rounds {
            while flag.load(Ordering::Acquire) {
                std::thread::yield_now();
            }
            flag.store(true, Ordering::Release);
            bell.ring();
        }
        assert_eq!(consumer.join().unwrap(), 0, "a wake-up was lost");
    }
}
