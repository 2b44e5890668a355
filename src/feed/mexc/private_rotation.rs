//! The private socket's planned rotation (issue 13, finding 5): MEXC ends every connection at
//! 24 h (protocols.md §1.8: "Same 24 h lifetime"), so when the private connection is
//! `setup.rotate_after` old a replacement is opened on the same listen key (a key serves up to
//! 5 sockets, protocols.md §1.1/§1.8), subscribed to the bound private channels, and once every
//! subscription is acknowledged the old connection is closed: no `PrivateGap` for a planned
//! rotation.
//!
//! While both connections deliver, orders, fills and balances are de-duplicated the way the
//! public shards de-duplicate trades ([`TradeRing`], by identity, never by a clock): one ring
//! per kind records what was delivered since the rotation started; a repeat from the other
//! connection is dropped. After the handover the promoted connection may lag behind what the
//! closed one delivered: its events stay checked until, per kind, it presents one the ring
//! does not hold. Identity: an order update by (order id, status, price, size, filled,
//! remaining, average price, creation time; not the push's send time), a
//! fill by (trade id, order id, price, size), a balance change by (asset, available, locked,
//! change, time).

use super::rotation::{RotFrom, TradeRing};
use super::{MexcFeed, Role};
use crate::channel::Kind;
use crate::event::{
    BalanceMsg, BboMsg, BookMsg, ControlMsg, FillMsg, IdRef, OrderMsg, PositionMsg, Sink,
    TickerMsg, TradeMsg,
};
use crate::feed::{public_index, FeedCore};
use crate::net::{ConnId, Outbox};
use std::hash::{Hash, Hasher};

/// The rotation state of the private connection.
#[derive(Default)]
pub(super) struct PrivateRotation {
    /// The replacement warming up.
    pub(super) replacement: Option<ConnId>,
    pub(super) started_ns: u64,
    /// After a handover: the promoted connection's events are still checked against the rings.
    pub(super) catch_up: bool,
    /// Orders, fills, balances delivered since the rotation started.
    pub(super) rings: [TradeRing; 3],
}

/// FNV-1a as a [`Hasher`] (no allocation, no random state: the same event hashes the same on
/// both connections).
struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn fnv() -> Fnv {
    Fnv(0xcbf2_9ce4_8422_2325)
}

fn id(h: &mut Fnv, i: IdRef<'_>) {
    match i {
        IdRef::Num(n) => n.hash(h),
        IdRef::Str(s) => s.hash(h),
    }
}

fn order_key(m: &OrderMsg<'_>) -> u64 {
    let mut h = fnv();
    m.symbol.hash(&mut h);
    id(&mut h, m.order_id);
    (m.status as u8).hash(&mut h);
    m.filled.hash(&mut h);
    m.remaining.hash(&mut h);
    m.px.hash(&mut h);
    m.qty.hash(&mut h);
    m.avg_px.hash(&mut h);
    m.ts_create_ms.hash(&mut h);
    // Not `ts_update_ms`: MEXC order pushes carry no update time, the decoder takes the
    // wrapper's `sendTime`, which differs between the two connections.
    h.finish()
}

fn fill_key(m: &FillMsg<'_>) -> u64 {
    let mut h = fnv();
    m.symbol.hash(&mut h);
    id(&mut h, m.trade_id);
    id(&mut h, m.order_id);
    m.px.hash(&mut h);
    m.qty.hash(&mut h);
    m.ts_exchange_ms.hash(&mut h);
    h.finish()
}

fn balance_key(m: &BalanceMsg<'_>) -> u64 {
    let mut h = fnv();
    m.asset.hash(&mut h);
    m.available.hash(&mut h);
    m.locked.hash(&mut h);
    m.change.hash(&mut h);
    m.ts_exchange_ms.hash(&mut h);
    h.finish()
}

/// Sink for the private connections while a rotation overlaps them (and for the promoted one
/// until it caught up): orders, fills and balances delivered once; everything else passes.
pub(super) struct PrivRotSink<'a> {
    pub(super) core: &'a mut FeedCore,
    pub(super) rings: &'a mut [TradeRing; 3],
    pub(super) from: RotFrom,
    pub(super) dropped: u64,
}

impl PrivRotSink<'_> {
    fn admit(&mut self, ring: usize, key: u64) -> bool {
        let r = &mut self.rings[ring];
        let new = match self.from {
            RotFrom::Promoted => r.admit_promoted(key),
            RotFrom::Old | RotFrom::Replacement => r.insert(key),
        };
        if !new {
            self.dropped += 1;
        }
        new
    }
}

impl Sink for PrivRotSink<'_> {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.core.book(m);
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.core.trade(m);
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.core.bbo(m);
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.core.ticker(m);
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        if self.admit(0, order_key(m)) {
            self.core.order(m);
        }
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        if self.admit(1, fill_key(m)) {
            self.core.fill(m);
        }
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        if self.admit(2, balance_key(m)) {
            self.core.balance(m);
        }
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.core.position(m);
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.core.control(m);
    }
}

impl MexcFeed {
    /// Which side of a private rotation a frame from `role` comes from, if one is under way.
    pub(super) fn private_rot_from(&self, role: Role) -> Option<RotFrom> {
        let rot = &self.private.rotation;
        match role {
            Role::PrivateReplacement => Some(RotFrom::Replacement),
            Role::Private if rot.replacement.is_some() => Some(RotFrom::Old),
            Role::Private if rot.catch_up => Some(RotFrom::Promoted),
            _ => None,
        }
    }

    /// Start the private connection's rotation when it is due; hand over once the replacement
    /// acknowledged every private subscription.
    pub(super) fn drive_private_rotation(&mut self, out: &mut Outbox<'_>, now: u64) {
        let Some(conn) = self.private.conn else {
            return;
        };
        if self.private.key.is_none() {
            return;
        }
        let rot = &mut self.private.rotation;
        match rot.replacement {
            None => {
                if rot.catch_up && rot.rings.iter().all(|r| !r.catching_up()) {
                    rot.catch_up = false;
                }
                let Some(since) = out.live_since_ns(conn) else {
                    return;
                };
                if now.saturating_sub(since) < self.setup.rotate_after.as_nanos() as u64 {
                    return;
                }
                let Some(spec) = self.private.spec else {
                    return;
                };
                if let Some(r) = out.open(spec) {
                    let rot = &mut self.private.rotation;
                    rot.replacement = Some(r);
                    rot.started_ns = now;
                    rot.catch_up = false;
                    rot.rings.iter_mut().for_each(TradeRing::clear);
                    self.set_role(r, Role::PrivateReplacement);
                }
            }
            Some(r) => {
                let waited = now.saturating_sub(rot.started_ns);
                if !out.is_live(r) {
                    if waited > 4 * super::rotation::ROTATE_MAX_WAIT_NS {
                        // The replacement cannot connect: give up, try again later.
                        self.set_role(r, Role::Closing);
                        out.close(r);
                        self.private.rotation.replacement = None;
                    }
                    return;
                }
                let o = &self.outs[r.0 as usize];
                if o.tracker.pending().is_empty() && o.queue.is_empty() && o.subscribed_once {
                    self.set_role(conn, Role::Closing);
                    out.close(conn);
                    self.promote_private(r, now, false);
                }
            }
        }
    }

    /// The replacement `r` serves the private stream from now on; the old connection is closed
    /// or down (none of its frames is processed any more). `gap`: the old one died before the
    /// replacement was subscribed, so events may have been missed.
    pub(super) fn promote_private(&mut self, r: ConnId, now: u64, gap: bool) {
        let rot = &mut self.private.rotation;
        rot.replacement = None;
        rot.catch_up = true;
        rot.rings.iter_mut().for_each(TradeRing::start_catch_up);
        self.private.conn = Some(r);
        self.set_role(r, Role::Private);
        if gap {
            self.core.private_gap(now, now);
            // Its reconciliation waits for the replacement's acknowledgements; if they are all
            // in already, it may go now.
            let o = &self.outs[r.0 as usize];
            if o.subscribed_once && o.tracker.pending().is_empty() {
                self.core.private_live();
            }
        }
    }

    /// The replacement is up: subscribe it to the bound private channels.
    pub(super) fn on_private_replacement_open(
        &mut self,
        out: &mut Outbox<'_>,
        conn: ConnId,
        now: u64,
    ) {
        for kind in [Kind::Orders, Kind::Fills, Kind::Balances] {
            if self.core.private_routes[public_index(kind)] != 0 {
                self.request(out, conn, kind, None, true, now);
            }
        }
        if let Some(o) = self.outs.get_mut(conn.0 as usize) {
            o.subscribed_once = true;
        }
    }
}
