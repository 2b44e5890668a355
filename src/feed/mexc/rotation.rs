//! Rotation (make-before-break): when a shard's connection is `setup.rotate_after` old, a
//! replacement connection is opened and subscribed to the shard's channels while the old one
//! keeps feeding. [`RotSink`] filters what the two connections deliver while they overlap
//! (book alignment, trade de-duplication by [`TradeRing`]); [`MexcFeed::drive_rotation`] hands
//! over once the replacement is ready.

use super::{MexcFeed, Role};
use crate::channel::Kind;
use crate::event::{
    BalanceMsg, BboMsg, BookMsg, ControlMsg, FillMsg, OrderMsg, PositionMsg, Sink, TickerMsg,
    TradeMsg,
};
use crate::feed::FeedCore;
use crate::net::{ConnId, Outbox};
use crate::types::{now_ns, BookState};

/// Longest make-before-break overlap before the old connection is closed anyway.
pub(crate) const ROTATE_MAX_WAIT_NS: u64 = 5_000_000_000;
/// Trade de-duplication continues this long after a rotation handover.
const DEDUPE_GRACE_NS: u64 = 2_000_000_000;

impl MexcFeed {
    /// Start rotations that are due; finish those whose replacement is ready.
    pub(super) fn drive_rotation(&mut self, out: &mut Outbox<'_>, now: u64) {
        let after = self.setup.rotate_after.as_nanos() as u64;
        for idx in 0..self.shards.len() {
            let Some(conn) = self.shards[idx].conn else {
                continue;
            };
            match self.shards[idx].replacement {
                None => {
                    let Some(since) = out.live_since_ns(conn) else {
                        continue;
                    };
                    if now.saturating_sub(since) < after {
                        continue;
                    }
                    let Some(spec) = self.public_spec else {
                        continue;
                    };
                    if let Some(r) = out.open(spec) {
                        self.shards[idx].replacement = Some(r);
                        self.shards[idx].rotate_started_ns = now;
                        self.set_role(r, Role::Replacement(idx));
                        for &(k, si) in &self.shards[idx].channels {
                            match k {
                                Kind::OrderBook => self.aligned[si] = false,
                                Kind::Trades => self.recent_trades[si].clear(),
                                _ => {}
                            }
                        }
                    }
                }
                Some(r) => {
                    if !out.is_live(r) {
                        if now.saturating_sub(self.shards[idx].rotate_started_ns)
                            > 4 * ROTATE_MAX_WAIT_NS
                        {
                            // Replacement cannot connect: give up, try again later.
                            self.set_role(r, Role::Closing);
                            out.close(r);
                            self.shards[idx].replacement = None;
                        }
                        continue;
                    }
                    let acked = self.outs[r.0 as usize].tracker.pending().is_empty()
                        && self.outs[r.0 as usize].queue.is_empty();
                    let books_ready = self.shards[idx].channels.iter().all(|&(k, si)| {
                        k != Kind::OrderBook
                            || self.aligned[si]
                            || self.core.syms[si].book.state() == BookState::Resyncing
                    });
                    let waited = now.saturating_sub(self.shards[idx].rotate_started_ns);
                    if (acked && books_ready) || waited > ROTATE_MAX_WAIT_NS {
                        self.set_role(conn, Role::Closing);
                        out.close(conn);
                        self.promote(idx, r);
                    }
                }
            }
        }
    }

    pub(super) fn promote(&mut self, idx: usize, r: ConnId) {
        self.shards[idx].dedupe_until_ns = now_ns() + DEDUPE_GRACE_NS;
        self.shards[idx].conn = Some(r);
        self.shards[idx].replacement = None;
        self.set_role(r, Role::Shard(idx));
    }
}

/// Keys of the last trades delivered for one symbol (rotation overlap only).
pub(super) struct TradeRing {
    keys: [u64; 128],
    next: usize,
}

impl Default for TradeRing {
    fn default() -> Self {
        TradeRing {
            keys: [0; 128],
            next: 0,
        }
    }
}

impl TradeRing {
    /// `true` if `key` is new (and records it).
    fn insert(&mut self, key: u64) -> bool {
        if self.keys.contains(&key) {
            return false;
        }
        self.keys[self.next] = key;
        self.next = (self.next + 1) % self.keys.len();
        true
    }

    pub(super) fn clear(&mut self) {
        *self = TradeRing::default();
    }
}

/// FNV-1a over the trade id and exchange time: identifies a trade across two connections.
fn trade_key(m: &TradeMsg<'_>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    match m.trade_id {
        crate::event::IdRef::Num(n) => n.to_le_bytes().into_iter().for_each(&mut eat),
        crate::event::IdRef::Str(s) => s.bytes().for_each(&mut eat),
    }
    m.ts_exchange_ms
        .unwrap_or(0)
        .to_le_bytes()
        .into_iter()
        .for_each(&mut eat);
    m.px.0.to_le_bytes().into_iter().for_each(&mut eat);
    m.qty.0.to_le_bytes().into_iter().for_each(&mut eat);
    h
}

/// Sink for frames of a shard while a rotation overlaps two connections. From the replacement:
/// book pushes that would open a gap while the old stream is live are dropped (alignment), book
/// tickers and tickers dropped (the old connection still delivers them). Trades from either
/// connection are delivered once (de-duplicated by key). Control frames kept.
pub(super) struct RotSink<'a> {
    pub(super) core: &'a mut FeedCore,
    pub(super) aligned: &'a mut [bool],
    pub(super) recent: &'a mut [TradeRing],
    pub(super) replacement: bool,
    pub(super) dropped: u64,
}

impl Sink for RotSink<'_> {
    fn book(&mut self, m: &BookMsg<'_>) {
        if !self.replacement {
            self.core.book(m);
            return;
        }
        if let Some(si) = self.core.find(m.symbol) {
            let b = &self.core.syms[si].book;
            if b.state() != BookState::Resyncing
                && !m.snapshot
                && m.seq_first > b.seq().saturating_add(1)
            {
                self.dropped += 1;
                return;
            }
            self.aligned[si] = true;
        }
        self.core.book(m);
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        if let Some(si) = self.core.find(m.symbol) {
            if !self.recent[si].insert(trade_key(m)) {
                self.dropped += 1;
                return;
            }
        }
        self.core.trade(m);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        if self.replacement {
            self.dropped += 1;
        } else {
            self.core.bbo(m);
        }
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        if self.replacement {
            self.dropped += 1;
        } else {
            self.core.ticker(m);
        }
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.core.order(m);
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.core.fill(m);
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.core.balance(m);
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.core.position(m);
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.core.control(m);
    }
}
