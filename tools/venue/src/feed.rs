//! Subscription feeds: turn a symbol's change log into venue-neutral pushes on a global time
//! grid. Every subscriber of the same channel and interval cuts the same windows (window `w` of
//! an `I` ms channel holds the entries with `t_ms` in `[w·I, (w+1)·I)`), so frame boundaries are
//! the same for everyone and a 100 ms boundary is also a boundary of every finer stream.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::num::Level;
use crate::num::{BookSide, Px, Qty, Side};
use crate::sim::{Bbo, Book, Change, Entry, Read, Symbol};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Every level touched in the window with its final quantity (`from..=to` versions).
    Diff,
    /// Best bid/ask at the window's last version when it changed.
    Bbo,
    /// Trades in the window.
    Trades,
    /// Top-N snapshot at the window's last version when the book changed.
    Top(usize),
    /// Gate `obu`: first push full, then diffs that keep an exact top-N view.
    Obu(usize),
}

#[derive(Debug, Clone, Copy)]
pub struct TradeOut {
    pub px: Px,
    pub qty: Qty,
    pub side: Side,
    pub id: u64,
    pub wall_ms: i64,
    pub seq: u64,
}

#[derive(Debug, Clone)]
pub enum Out {
    Diff {
        from: u64,
        to: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
        full: bool,
        wall_ms: i64,
    },
    Bbo {
        seq: u64,
        bbo: Bbo,
        wall_ms: i64,
    },
    Trades(Vec<TradeOut>),
    Top {
        seq: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
        wall_ms: i64,
    },
}

pub struct Feed {
    pub sym: Arc<Symbol>,
    pub kind: Kind,
    /// Window length; 0 = one push per change.
    pub interval_ms: u64,
    cursor: u64,
    win: u64,
    pending: Vec<Entry>,
    replica: Option<Book>,
    view: (Vec<Level>, Vec<Level>),
    last_bbo: Bbo,
    last_u: u64,
    applied_seq: u64,
    first_done: bool,
    scratch: Vec<Entry>,
    /// Fault strikes already handled, per configured scenario.
    pub seen: Vec<u64>,
    /// Held push for `reorder`.
    pub held: Option<Vec<u8>>,
    /// Lag events (slow reader lost entries).
    pub lagged: u64,
}

/// Most entries taken from the log per poll (bounds one loop iteration).
const MAX_PER_POLL: usize = 4096;

impl Feed {
    pub fn new(sym: Arc<Symbol>, kind: Kind, interval_ms: u64, want_replica: bool) -> Feed {
        let need = want_replica || matches!(kind, Kind::Top(_) | Kind::Obu(_));
        let (book, end, seq) = sym.snapshot_for_replica();
        let last_bbo = book.bbo();
        Feed {
            sym,
            kind,
            interval_ms,
            cursor: end,
            win: 0,
            pending: Vec::new(),
            replica: need.then_some(book),
            view: (Vec::new(), Vec::new()),
            last_bbo: if kind == Kind::Bbo {
                Bbo::default()
            } else {
                last_bbo
            },
            last_u: seq,
            applied_seq: seq,
            first_done: false,
            scratch: Vec::new(),
            seen: Vec::new(),
            held: None,
            lagged: 0,
        }
    }

    /// Move new log entries into windows; completed windows become pushes in `out`.
    pub fn poll(&mut self, out: &mut Vec<Out>) {
        if let Kind::Obu(n) = self.kind {
            if !self.first_done {
                self.first_done = true;
                out.push(self.obu_full(n));
            }
        }
        self.scratch.clear();
        let (clock, r) = self.sym.read_from(
            &mut self.cursor,
            &mut self.scratch,
            MAX_PER_POLL,
            self.replica.as_mut(),
        );
        if let Read::Lagged = r {
            self.lagged += 1;
            self.pending.clear();
            if self.replica.is_some() {
                // Replica was refreshed to the current book; versions jump (clients see a gap).
                self.applied_seq = self.sym.lock().seq;
            }
            if let Kind::Obu(_) = self.kind {
                self.first_done = false;
            }
            return;
        }
        let entries = std::mem::take(&mut self.scratch);
        for e in &entries {
            if let Some(w) = e.t_ms.checked_div(self.interval_ms) {
                if !self.pending.is_empty() && w != self.win {
                    self.flush(out);
                }
                self.win = w;
                self.take(e);
            } else {
                self.take(e);
                self.flush(out);
            }
        }
        self.scratch = entries;
        if self.interval_ms > 0
            && !self.pending.is_empty()
            && clock >= (self.win + 1) * self.interval_ms
        {
            self.flush(out);
        }
    }

    fn take(&mut self, e: &Entry) {
        if let Some(b) = &mut self.replica {
            b.apply(e);
        }
        if let Change::Level { .. } = e.change {
            self.applied_seq = e.seq;
        }
        self.pending.push(*e);
    }

    /// The replica's book as a `full: true` push at the last applied version. Entries of the
    /// window still open are part of it, so they are dropped: the next diff starts right after.
    pub fn full_now(&mut self, depth: usize) -> Option<Out> {
        let b = self.replica.as_ref()?;
        let (bids, asks) = b.top(depth);
        self.pending.clear();
        Some(Out::Diff {
            from: self.applied_seq,
            to: self.applied_seq,
            bids,
            asks,
            full: true,
            wall_ms: crate::num::wall_ms(),
        })
    }

    fn obu_full(&mut self, n: usize) -> Out {
        let (bids, asks) = self.replica.as_ref().map(|b| b.top(n)).unwrap_or_default();
        self.view = (bids.clone(), asks.clone());
        self.last_u = self.applied_seq;
        Out::Diff {
            from: self.applied_seq,
            to: self.applied_seq,
            bids,
            asks,
            full: true,
            wall_ms: crate::num::wall_ms(),
        }
    }

    fn flush(&mut self, out: &mut Vec<Out>) {
        if self.pending.is_empty() {
            return;
        }
        let last = *self.pending.last().expect("non-empty");
        match self.kind {
            Kind::Diff => {
                let mut touched: BTreeMap<(u8, i128), (usize, i128)> = BTreeMap::new();
                let mut from = 0;
                let mut to = 0;
                for (i, e) in self.pending.iter().enumerate() {
                    if let Change::Level { side, px, qty, .. } = e.change {
                        if from == 0 {
                            from = e.seq;
                        }
                        to = e.seq;
                        let k = (side as u8, px.0);
                        let first = touched.get(&k).map(|v| v.0).unwrap_or(i);
                        touched.insert(k, (first, qty.0));
                    }
                }
                if from != 0 {
                    // Wire order: first touch order (unsorted, as the venues send).
                    let mut v: Vec<_> = touched.into_iter().collect();
                    v.sort_by_key(|(_, (i, _))| *i);
                    let mut bids = Vec::new();
                    let mut asks = Vec::new();
                    for ((s, px), (_, q)) in v {
                        let l = Level::new(Px(px), Qty(q));
                        if s == BookSide::Bid as u8 {
                            bids.push(l);
                        } else {
                            asks.push(l);
                        }
                    }
                    out.push(Out::Diff {
                        from,
                        to,
                        bids,
                        asks,
                        full: false,
                        wall_ms: last.wall_ms,
                    });
                }
            }
            Kind::Bbo => {
                if last.bbo != self.last_bbo {
                    self.last_bbo = last.bbo;
                    out.push(Out::Bbo {
                        seq: self.applied_seq,
                        bbo: last.bbo,
                        wall_ms: last.wall_ms,
                    });
                }
            }
            Kind::Trades => {
                let t: Vec<TradeOut> = self
                    .pending
                    .iter()
                    .filter_map(|e| match e.change {
                        Change::Trade { px, qty, side, id } => Some(TradeOut {
                            px,
                            qty,
                            side,
                            id,
                            wall_ms: e.wall_ms,
                            seq: e.seq,
                        }),
                        _ => None,
                    })
                    .collect();
                if !t.is_empty() {
                    out.push(Out::Trades(t));
                }
            }
            Kind::Top(n) => {
                if self
                    .pending
                    .iter()
                    .any(|e| matches!(e.change, Change::Level { .. }))
                {
                    if let Some(b) = &self.replica {
                        let (bids, asks) = b.top(n);
                        out.push(Out::Top {
                            seq: self.applied_seq,
                            bids,
                            asks,
                            wall_ms: last.wall_ms,
                        });
                    }
                }
            }
            Kind::Obu(n) => {
                if let Some(b) = &self.replica {
                    let (nb, na) = b.top(n);
                    let mut touched: [Vec<i128>; 2] = [Vec::new(), Vec::new()];
                    for e in &self.pending {
                        if let Change::Level { side, px, .. } = e.change {
                            touched[side as usize].push(px.0);
                        }
                    }
                    let bids = view_diff(&self.view.0, &nb, &touched[0]);
                    let asks = view_diff(&self.view.1, &na, &touched[1]);
                    if (!bids.is_empty() || !asks.is_empty()) && self.applied_seq > self.last_u {
                        out.push(Out::Diff {
                            from: self.last_u + 1,
                            to: self.applied_seq,
                            bids,
                            asks,
                            full: false,
                            wall_ms: last.wall_ms,
                        });
                        self.last_u = self.applied_seq;
                    }
                    self.view = (nb, na);
                }
            }
        }
        self.pending.clear();
    }

    /// For `obu`: forget the view so the next poll sends a fresh `full` push.
    pub fn restart_view(&mut self) {
        self.first_done = false;
    }
}

/// Levels to send so a client holding exactly `old` ends up with exactly `new`.
fn view_diff(old: &[Level], new: &[Level], touched: &[i128]) -> Vec<Level> {
    let o: BTreeMap<i128, i128> = old.iter().map(|l| (l.px.0, l.qty.0)).collect();
    let n: BTreeMap<i128, i128> = new.iter().map(|l| (l.px.0, l.qty.0)).collect();
    let mut res = Vec::new();
    let mut done = std::collections::BTreeSet::new();
    for px in touched.iter().copied() {
        if !done.insert(px) {
            continue;
        }
        match (o.get(&px), n.get(&px)) {
            (_, Some(q)) => res.push(Level::new(Px(px), Qty(*q))),
            (Some(_), None) => res.push(Level::new(Px(px), Qty(0))),
            (None, None) => {}
        }
    }
    for (px, q) in &n {
        if !done.contains(px) && o.get(px) != Some(q) {
            done.insert(*px);
            res.push(Level::new(Px(*px), Qty(*q)));
        }
    }
    for px in o.keys() {
        if !done.contains(px) && !n.contains_key(px) {
            res.push(Level::new(Px(*px), Qty(0)));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::num::{Market, VenueId as Venue};
    use crate::sim::{SymSpec, Symbol};

    fn apply(book: &mut Book, bids: &[Level], asks: &[Level]) {
        for l in bids {
            book.set(BookSide::Bid, l.px.0, l.qty.0);
        }
        for l in asks {
            book.set(BookSide::Ask, l.px.0, l.qty.0);
        }
    }

    #[test]
    fn diff_windows_rebuild_the_book_exactly_at_every_to_version() {
        for interval in [0u64, 10, 100] {
            let spec = SymSpec::new(Venue::Gateio, Market::Spot, "BTC_USDT");
            let sym = Arc::new(Symbol::new(spec.clone(), 3, 1 << 16));
            let mut feed = Feed::new(sym.clone(), Kind::Diff, interval, false);
            let mut book = sym.lock().book.clone();
            let mut last_to = sym.lock().seq;
            let mut out = Vec::new();
            for ms in 0..400u64 {
                {
                    let mut st = sym.lock();
                    for _ in 0..7 {
                        st.step(&spec, ms, 0);
                    }
                    st.clock_ms = ms;
                }
                feed.poll(&mut out);
                for o in out.drain(..) {
                    if let Out::Diff {
                        from,
                        to,
                        bids,
                        asks,
                        ..
                    } = o
                    {
                        assert_eq!(from, last_to + 1, "interval {interval}");
                        apply(&mut book, &bids, &asks);
                        let (_, want) = sym.book_at(to).unwrap();
                        assert_eq!(book.bids, want.bids, "interval {interval} at {to}");
                        assert_eq!(book.asks, want.asks, "interval {interval} at {to}");
                        last_to = to;
                    }
                }
            }
        }
    }
}
