//! Retry state of refused subscriptions, shared by both venues' feeds (issue 13, finding 11):
//! a transient refusal is sent again after a backoff (1 s doubling to 60 s); a permanent one is
//! reported once and neither retried nor resent on reconnect until the channel is bound again.

/// First delay before a transiently refused subscription is sent again; doubles per refusal.
pub(crate) const SUB_RETRY_MIN_NS: u64 = 1_000_000_000;
/// Longest delay between retries of a refused subscription.
pub(crate) const SUB_RETRY_MAX_NS: u64 = 60_000_000_000;

/// Retry state of one subscription (a public kind of one symbol, or a private kind).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SubRetry {
    /// When to send it again (0 = not scheduled).
    pub(crate) retry_at_ns: u64,
    /// The delay used for the last retry (0 = none yet).
    pub(crate) backoff_ns: u64,
    /// Refused permanently: not retried, not resent on reconnect, until bound again.
    pub(crate) refused: bool,
}

impl SubRetry {
    /// Schedule the next try after the (doubled) backoff.
    pub(crate) fn schedule(&mut self, now: u64) {
        self.backoff_ns = (self.backoff_ns * 2).clamp(SUB_RETRY_MIN_NS, SUB_RETRY_MAX_NS);
        self.retry_at_ns = now + self.backoff_ns;
    }

    /// Due for a retry at `now`.
    pub(crate) fn due(&self, now: u64) -> bool {
        self.retry_at_ns != 0 && now >= self.retry_at_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_to_a_minute() {
        let mut r = SubRetry::default();
        let mut delays = Vec::new();
        for _ in 0..9 {
            r.schedule(0);
            delays.push(r.retry_at_ns / 1_000_000_000);
        }
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert!(!r.due(59_000_000_000) && r.due(60_000_000_000));
        assert!(!SubRetry::default().due(u64::MAX));
    }
}
