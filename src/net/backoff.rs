//! Bounded exponential backoff with jitter, driven by a tiny xorshift PRNG (no `rand`).

/// xorshift64* — enough for jitter, not for anything secret.
#[derive(Clone, Copy, Debug)]
pub struct XorShift64(u64);

impl XorShift64 {
    /// A generator from `seed` (the low bit is forced on, so 0 is a valid seed).
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }
    /// The next value.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Delay before reconnect attempt number `attempt` (0-based): `min(max, min * 2^attempt)`, then
/// jittered uniformly into `[d/2, d]` so a fleet of clients does not reconnect in lock-step.
pub fn backoff_delay_ns(attempt: u32, min_ns: u64, max_ns: u64, rng: &mut XorShift64) -> u64 {
    let exp = min_ns.saturating_mul(1u64 << attempt.min(32));
    let d = exp.min(max_ns).max(1);
    let half = d / 2;
    half + rng.next_u64() % (d - half + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_grows_and_jitters() {
        let mut rng = XorShift64::new(7);
        let (min, max) = (100_000_000, 10_000_000_000);
        for attempt in 0..80 {
            let d = backoff_delay_ns(attempt, min, max, &mut rng);
            let cap = (min.saturating_mul(1 << attempt.min(32))).min(max);
            assert!(
                d >= cap / 2 && d <= cap,
                "attempt {attempt}: {d} not in [{}, {cap}]",
                cap / 2
            );
        }
        let a: Vec<u64> = (0..8)
            .map(|_| backoff_delay_ns(3, min, max, &mut rng))
            .collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "no jitter: {a:?}");
    }
}
