//! The feed thread's record of what the private stream and the reconciler delivered, used to
//! de-duplicate one against the other (issue 17). Allocated once at start-up; nothing here
//! allocates afterwards (fixed tables, open addressing, no deletion but whole-table rebuilds
//! into a preallocated scratch).
//!
//! Rules (`admit_*` return whether the event is delivered):
//! - **fill**: by venue trade id (text hash): delivered once, whichever path brings it first.
//! - **order**: by order id and version (`rank(status)`, then `filled`), compared
//!   lexicographically: delivered only if strictly newer than what was delivered for that
//!   order. So an update the stream repeats after reconciliation, or a REST state older than
//!   a stream update, is dropped. At an equal version an amendment (other price or quantity)
//!   passes: from the stream always, from REST only if the stream delivered nothing for the
//!   order since the fetch started.
//! - **balance / position**: by asset (upper-cased: Gate futures streams `usdt`, its REST
//!   `USDT`) / contract, and *as-of* time: a stream update is as of its receive time, a REST
//!   answer as of the moment its fetch started. Whichever is newer wins; the other is dropped.
//!   A REST value equal to the delivered one is not sent again.

use crate::event::OrderStatus;
use crate::ring::{Body, Event, InlineStr};
use crate::types::{Qty, SymbolId};

/// Orders remembered (open ones are never evicted; closed ones are when the table fills).
pub(crate) const ORDER_SLOTS: usize = 4096;
/// Trade ids remembered: two generations of this many slots each (half filled at most).
pub(crate) const FILL_SLOTS: usize = 8192;
/// Assets with a balance.
pub(crate) const BALANCE_SLOTS: usize = 64;
/// Contracts with a position.
pub(crate) const POSITION_SLOTS: usize = 256;

fn fnv(bytes: &[u8]) -> u64 {
    let h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    });
    h.max(1)
}

/// Life-cycle rank: open without fill, open partially filled, closed. `Other` (an unknown
/// venue status) ranks as open.
pub(crate) fn rank(s: OrderStatus) -> u8 {
    match s {
        OrderStatus::PartiallyFilled => 1,
        s if s.is_final() => 2,
        _ => 0,
    }
}

/// One remembered order.
#[derive(Clone, Copy)]
pub(crate) struct OrderEntry {
    /// Hash of the order id text; 0 = empty slot.
    hash: u64,
    /// The last delivered `Order` event.
    pub(crate) last: Event,
    /// `filled` when the order was first delivered.
    pub(crate) base_filled: Qty,
    /// Quantity of the fills delivered for it since.
    pub(crate) fill_sum: Qty,
    /// When the last update was delivered (`now_ns`).
    pub(crate) delivered_ns: u64,
    /// Reconciliation batch whose open-order list named it (see `Ledger::orders_to_close`).
    pub(crate) seen_batch: u64,
}

impl OrderEntry {
    const EMPTY: OrderEntry = OrderEntry {
        hash: 0,
        last: Event::new(
            crate::ring::Header::new(
                crate::types::Venue::Mexc,
                crate::types::Market::Spot,
                crate::ring::NO_SYMBOL,
                0,
            ),
            Body::Missed { count: 0 },
        ),
        base_filled: Qty::ZERO,
        fill_sum: Qty::ZERO,
        delivered_ns: 0,
        seen_batch: 0,
    };

    /// Open per the last delivered update.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.last.body, Body::Order { status, .. } if rank(status) < 2)
    }
}

#[derive(Clone, Copy)]
struct Keyed {
    key: u64,
    last: Event,
    asof_ns: u64,
}

/// See the module docs.
pub(crate) struct Ledger {
    orders: Vec<OrderEntry>,
    orders_n: usize,
    scratch: Vec<OrderEntry>,
    fills: [Vec<u64>; 2],
    fills_n: usize,
    balances: Vec<Keyed>,
    positions: Vec<Keyed>,
}

/// Order version for the newer-than test: life-cycle rank, then filled quantity. (Not the
/// update time: MEXC's order push carries none, its REST answer does, and the same state must
/// compare equal across the two.)
fn version(ev: &Event) -> Option<(u8, i128)> {
    match ev.body {
        Body::Order { status, filled, .. } => Some((rank(status), filled.0)),
        _ => None,
    }
}

/// Whether two `Order` events of one order differ in what an amendment changes.
fn amended(a: &Event, b: &Event) -> bool {
    match (&a.body, &b.body) {
        (
            Body::Order {
                px: p1, qty: q1, ..
            },
            Body::Order {
                px: p2, qty: q2, ..
            },
        ) => p1 != p2 || q1 != q2,
        _ => false,
    }
}

fn order_key(ev: &Event) -> u64 {
    match &ev.body {
        Body::Order { order_id, .. } => fnv(order_id.as_str().as_bytes()),
        Body::Fill { order_id, .. } => fnv(order_id.as_str().as_bytes()),
        _ => 0,
    }
}

fn asset_key(a: &InlineStr<16>) -> u64 {
    let mut up = [0u8; 16];
    for (d, s) in up.iter_mut().zip(a.as_str().bytes()) {
        *d = s.to_ascii_uppercase();
    }
    fnv(&up[..a.len()])
}

fn pos_key(s: SymbolId) -> u64 {
    s.0 as u64 + 1
}

impl Default for Ledger {
    fn default() -> Self {
        Self::new()
    }
}

impl Ledger {
    /// Every table allocated here, once.
    pub(crate) fn new() -> Ledger {
        Ledger {
            orders: vec![OrderEntry::EMPTY; ORDER_SLOTS],
            orders_n: 0,
            scratch: vec![OrderEntry::EMPTY; ORDER_SLOTS],
            fills: [vec![0; FILL_SLOTS], vec![0; FILL_SLOTS]],
            fills_n: 0,
            balances: Vec::with_capacity(BALANCE_SLOTS),
            positions: Vec::with_capacity(POSITION_SLOTS),
        }
    }

    fn find_order(&self, h: u64) -> Option<usize> {
        let mask = ORDER_SLOTS - 1;
        let mut i = h as usize & mask;
        loop {
            match self.orders[i].hash {
                0 => return None,
                x if x == h => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    fn insert_slot(table: &mut [OrderEntry], e: OrderEntry) {
        let mask = ORDER_SLOTS - 1;
        let mut i = e.hash as usize & mask;
        while table[i].hash != 0 {
            i = (i + 1) & mask;
        }
        table[i] = e;
    }

    /// Keep the table at most 3/4 full: closed orders are dropped, open ones kept (rebuilt
    /// through the scratch table, no allocation). If open orders alone fill it, the oldest
    /// half is dropped too (more than 3 000 open orders: de-duplication of the rest is lost,
    /// never the delivery).
    fn make_room(&mut self) {
        if self.orders_n < ORDER_SLOTS * 3 / 4 {
            return;
        }
        let mut open = 0;
        for e in self.orders.iter() {
            if e.hash != 0 && e.is_open() {
                open += 1;
            }
        }
        let keep_open = open < ORDER_SLOTS / 2;
        for s in self.scratch.iter_mut() {
            *s = OrderEntry::EMPTY;
        }
        let mut n = 0;
        for i in 0..ORDER_SLOTS {
            let e = self.orders[i];
            if e.hash != 0 && e.is_open() && (keep_open || n < ORDER_SLOTS / 4) {
                Self::insert_slot(&mut self.scratch, e);
                n += 1;
            }
        }
        std::mem::swap(&mut self.orders, &mut self.scratch);
        self.orders_n = n;
    }

    /// Whether an `Order` event is newer than what was delivered for its order; if so it is
    /// recorded as delivered at `now_ns`. `batch` (non-zero for reconciliation) marks the
    /// order as named by that batch whatever the answer; `fetch_ns` is then when the batch's
    /// fetch started.
    ///
    /// Newer: a higher (rank, filled). At an equal one, an update that changes the order
    /// otherwise (an amended price or quantity) is delivered from the stream, and from REST
    /// only if nothing was delivered for the order since the fetch started (the stream's
    /// amendment after it is newer than the answer).
    pub(crate) fn admit_order(
        &mut self,
        ev: &Event,
        now_ns: u64,
        batch: u64,
        fetch_ns: u64,
    ) -> bool {
        let Some(v) = version(ev) else {
            return true;
        };
        let h = order_key(ev);
        if let Some(i) = self.find_order(h) {
            let e = &mut self.orders[i];
            if batch != 0 {
                e.seen_batch = batch;
            }
            let old = version(&e.last).unwrap_or((0, 0));
            let newer = v > old
                || (v == old && amended(&e.last, ev) && (batch == 0 || e.delivered_ns < fetch_ns));
            if !newer {
                return false;
            }
            e.last = *ev;
            e.delivered_ns = now_ns;
            return true;
        }
        self.make_room();
        let filled = match ev.body {
            Body::Order { filled, .. } => filled,
            _ => Qty::ZERO,
        };
        Self::insert_slot(
            &mut self.orders,
            OrderEntry {
                hash: h,
                last: *ev,
                base_filled: filled,
                fill_sum: Qty::ZERO,
                delivered_ns: now_ns,
                seen_batch: batch,
            },
        );
        self.orders_n += 1;
        true
    }

    /// Whether a `Fill` is new (its trade id not delivered before); if so it is recorded and
    /// its quantity added to its order's.
    pub(crate) fn admit_fill(&mut self, ev: &Event) -> bool {
        let Body::Fill { trade_id, qty, .. } = &ev.body else {
            return true;
        };
        if trade_id.is_empty() {
            return true;
        }
        let h = fnv(trade_id.as_str().as_bytes());
        let mask = FILL_SLOTS - 1;
        for g in 0..2 {
            let mut i = h as usize & mask;
            loop {
                match self.fills[g][i] {
                    0 => break,
                    x if x == h => return false,
                    _ => i = (i + 1) & mask,
                }
            }
        }
        if self.fills_n >= FILL_SLOTS / 2 {
            // Generation change: the older half of the history is forgotten.
            self.fills.swap(0, 1);
            for x in self.fills[0].iter_mut() {
                *x = 0;
            }
            self.fills_n = 0;
        }
        let mut i = h as usize & mask;
        while self.fills[0][i] != 0 {
            i = (i + 1) & mask;
        }
        self.fills[0][i] = h;
        self.fills_n += 1;
        if let Some(o) = self.find_order(order_key(ev)) {
            let e = &mut self.orders[o];
            e.fill_sum = Qty(e.fill_sum.0.saturating_add(qty.0));
        }
        true
    }

    fn keyed(
        table: &mut Vec<Keyed>,
        cap: usize,
        key: u64,
        ev: &Event,
        asof_ns: u64,
        rest: bool,
    ) -> bool {
        if let Some(k) = table.iter_mut().find(|k| k.key == key) {
            if asof_ns < k.asof_ns {
                return false;
            }
            if rest && k.last.body == ev.body {
                return false;
            }
            k.last = *ev;
            k.asof_ns = asof_ns;
            return true;
        }
        if table.len() < cap {
            table.push(Keyed {
                key,
                last: *ev,
                asof_ns,
            });
        }
        true
    }

    /// Whether a `Balance` (stream: `asof_ns` = receive time; REST: when the fetch started,
    /// `rest` = true) is newer than the delivered one for its asset.
    pub(crate) fn admit_balance(&mut self, ev: &Event, asof_ns: u64, rest: bool) -> bool {
        let Body::Balance { asset, .. } = &ev.body else {
            return true;
        };
        let key = asset_key(asset);
        Self::keyed(&mut self.balances, BALANCE_SLOTS, key, ev, asof_ns, rest)
    }

    /// As [`Self::admit_balance`], for a `Position` of its contract.
    pub(crate) fn admit_position(&mut self, ev: &Event, asof_ns: u64, rest: bool) -> bool {
        let key = pos_key(ev.header.symbol);
        Self::keyed(&mut self.positions, POSITION_SLOTS, key, ev, asof_ns, rest)
    }

    /// Orders believed open that batch `batch`'s open-order list did not name and that were
    /// last updated before its fetch started (`fetch_ns`): they closed during the gap. Calls
    /// `f` with the closing `Order` event (status from the fills delivered for it: `Filled`
    /// when they cover the quantity, `PartiallyCanceled` when some, `Canceled` when none)
    /// and records it.
    pub(crate) fn close_unlisted(
        &mut self,
        batch: u64,
        fetch_ns: u64,
        now_ns: u64,
        mut f: impl FnMut(Event),
    ) {
        for i in 0..ORDER_SLOTS {
            let e = &mut self.orders[i];
            if e.hash == 0 || !e.is_open() || e.seen_batch == batch || e.delivered_ns >= fetch_ns {
                continue;
            }
            let mut ev = e.last;
            if let Body::Order {
                qty,
                ref mut filled,
                ref mut status,
                ..
            } = ev.body
            {
                let done = Qty(e.base_filled.0.saturating_add(e.fill_sum.0))
                    .0
                    .max(filled.0);
                *filled = Qty(done);
                *status = if done >= qty.0 {
                    OrderStatus::Filled
                } else if done > 0 {
                    OrderStatus::PartiallyCanceled
                } else {
                    OrderStatus::Canceled
                };
            }
            ev.header.flags |= crate::ring::FLAG_RECONCILED;
            e.last = ev;
            e.delivered_ns = now_ns;
            f(ev);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FillMsg, IdRef, Liquidity, OrderMsg, OrderType};
    use crate::ring::Header;
    use crate::types::{Dec, Market, Px, Side, Venue};

    fn h() -> Header {
        Header::new(Venue::Gateio, Market::Spot, SymbolId(1), 1)
    }

    fn order(id: &str, status: OrderStatus, filled: i64, ts: i64) -> Event {
        Event::order(
            h(),
            &OrderMsg {
                symbol: "BTC_USDT",
                order_id: IdRef::Str(id),
                client_id: None,
                side: Side::Buy,
                order_type: OrderType::Limit,
                px: Px::from_int(1),
                qty: Qty::from_int(10),
                filled: Qty::from_int(filled),
                remaining: Qty::from_int(10 - filled),
                avg_px: Dec::ZERO,
                status,
                ts_create_ms: Some(1),
                ts_update_ms: Some(ts),
            },
        )
    }

    fn fill(id: &str, order: &str, q: i64) -> Event {
        Event::fill(
            h(),
            &FillMsg {
                symbol: "BTC_USDT",
                trade_id: IdRef::Str(id),
                order_id: IdRef::Str(order),
                client_id: None,
                px: Px::from_int(1),
                qty: Qty::from_int(q),
                side: Side::Buy,
                liquidity: Liquidity::Maker,
                fee: Dec::ZERO,
                fee_currency: None,
                ts_exchange_ms: Some(5),
            },
        )
    }

    #[test]
    fn fills_are_delivered_once_whichever_path_brings_them() {
        let mut l = Ledger::new();
        assert!(l.admit_fill(&fill("1", "o", 1)));
        assert!(!l.admit_fill(&fill("1", "o", 1)));
        assert!(l.admit_fill(&fill("2", "o", 1)));
        // Past a generation change the recent ids are still known.
        for i in 3..(FILL_SLOTS as u64) {
            assert!(l.admit_fill(&fill(&i.to_string(), "o", 1)));
        }
        assert!(!l.admit_fill(&fill(&(FILL_SLOTS as u64 - 1).to_string(), "o", 1)));
    }

    #[test]
    fn orders_only_move_forward() {
        let mut l = Ledger::new();
        assert!(l.admit_order(&order("a", OrderStatus::New, 0, 1), 1, 0, 0));
        assert!(!l.admit_order(&order("a", OrderStatus::New, 0, 1), 2, 0, 0));
        assert!(l.admit_order(&order("a", OrderStatus::PartiallyFilled, 5, 2), 3, 0, 0));
        // A REST state older than the stream's: dropped.
        assert!(!l.admit_order(&order("a", OrderStatus::New, 0, 1), 4, 7, 3));
        assert!(l.admit_order(&order("a", OrderStatus::Filled, 10, 3), 5, 0, 0));
        assert!(!l.admit_order(&order("a", OrderStatus::PartiallyFilled, 5, 2), 6, 0, 0));
    }

    #[test]
    fn amendments_pass_and_an_older_rest_amendment_does_not() {
        let mut l = Ledger::new();
        let mut o = order("a", OrderStatus::New, 0, 1);
        assert!(l.admit_order(&o, 10, 0, 0));
        // The stream amends the price: same rank and filled, delivered.
        if let Body::Order { ref mut px, .. } = o.body {
            *px = Px::from_int(2);
        }
        assert!(l.admit_order(&o, 20, 0, 0));
        // A REST answer fetched (at 15) before that amendment still shows price 1: dropped.
        let old = order("a", OrderStatus::New, 0, 1);
        assert!(!l.admit_order(&old, 30, 3, 15));
        // One fetched after it, with a further amendment: delivered.
        if let Body::Order { ref mut px, .. } = o.body {
            *px = Px::from_int(3);
        }
        assert!(l.admit_order(&o, 40, 4, 25));
        assert!(!l.admit_order(&o, 50, 0, 0));
    }

    #[test]
    fn an_open_order_missing_from_the_rest_list_is_closed_from_its_fills() {
        let mut l = Ledger::new();
        l.admit_order(&order("a", OrderStatus::New, 0, 1), 10, 0, 0);
        l.admit_order(&order("b", OrderStatus::New, 0, 1), 10, 0, 0);
        l.admit_order(&order("c", OrderStatus::New, 0, 1), 10, 0, 0);
        l.admit_order(&order("late", OrderStatus::New, 0, 1), 100, 0, 0);
        assert!(l.admit_fill(&fill("t1", "a", 4)));
        assert!(l.admit_fill(&fill("t2", "a", 6)));
        assert!(l.admit_fill(&fill("t3", "b", 4)));
        // Batch 9 named "c" as open (fetch started at 50).
        l.admit_order(&order("c", OrderStatus::New, 0, 1), 60, 9, 50);
        let mut out = Vec::new();
        l.close_unlisted(9, 50, 70, |e| out.push(e));
        let got: Vec<(String, OrderStatus, i128)> = out
            .iter()
            .map(|e| match e.body {
                Body::Order {
                    order_id,
                    status,
                    filled,
                    ..
                } => (order_id.as_str().to_string(), status, filled.0),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.contains(&("a".into(), OrderStatus::Filled, Qty::from_int(10).0)));
        assert!(got.contains(&(
            "b".into(),
            OrderStatus::PartiallyCanceled,
            Qty::from_int(4).0
        )));
        assert!(out
            .iter()
            .all(|e| e.header.flags & crate::ring::FLAG_RECONCILED != 0));
    }
}
