//! Simulated trading account per venue market: orders created, partially filled, filled or
//! cancelled; fills; balance and (futures) position changes. Events go to a bounded log read by
//! private connections with their own cursor, exactly like the market log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::num::{mul_div, Market, Px, Qty, Side};
use crate::sim::{Rng, Symbol};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrdStatus {
    New,
    Partial,
    Filled,
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct OrderEv {
    pub id: u64,
    pub symbol: String,
    pub side: Side,
    pub px: Px,
    /// Order size (spot: base qty; futures: contracts as `Qty` whole units).
    pub qty: Qty,
    pub filled: Qty,
    pub last_fill: Qty,
    pub avg_px: Px,
    pub status: OrdStatus,
    pub create_ms: i64,
    pub update_ms: i64,
    /// Quote fee paid so far.
    pub fee: Px,
    pub update_id: u64,
}

#[derive(Debug, Clone)]
pub struct FillEv {
    pub trade_id: u64,
    pub order_id: u64,
    pub symbol: String,
    pub side: Side,
    pub px: Px,
    pub qty: Qty,
    pub maker: bool,
    pub fee: Px,
    pub fee_ccy: String,
    pub time_ms: i64,
}

#[derive(Debug, Clone)]
pub struct BalanceEv {
    pub currency: String,
    pub total: Qty,
    pub available: Qty,
    pub freeze: Qty,
    pub change: Qty,
    pub freeze_change: Qty,
    /// Gate spot `change_type`; MEXC `type` is derived from it.
    pub change_type: &'static str,
    pub time_ms: i64,
}

#[derive(Debug, Clone)]
pub struct PositionEv {
    pub contract: String,
    /// Signed contracts.
    pub size: i128,
    pub entry_px: Px,
    pub realised_pnl: Px,
    pub margin: Px,
    pub time_ms: i64,
    pub update_id: u64,
}

#[derive(Debug, Clone)]
pub enum AcctEvent {
    Order(OrderEv),
    Fill(FillEv),
    Balance(BalanceEv),
    Position(PositionEv),
}

pub struct AcctState {
    pub log: VecDeque<AcctEvent>,
    pub base: u64,
    rng: Rng,
    live: Option<OrderEv>,
    next_order: u64,
    next_trade: u64,
    quote: (Qty, Qty), // available, freeze
    position: i128,
    entry: Px,
    update_id: u64,
    turn: usize,
    /// Every fill so far (bounded by `FILLS_CAP`, oldest dropped): what `my_trades` answers.
    pub fills: VecDeque<FillEv>,
    /// The latest balance per currency (the initial one included): what `accounts` answers.
    pub balances: BTreeMap<String, BalanceEv>,
    /// The latest position per contract: what `positions` answers.
    pub positions: BTreeMap<String, PositionEv>,
}

pub struct Account {
    pub market: Market,
    pub symbols: Vec<Arc<Symbol>>,
    pub quote_ccy: &'static str,
    pub state: Mutex<AcctState>,
    /// The next this-many account REST requests (open orders, my trades, balances,
    /// positions) answer 500 (`VenueHandle::fail_account_rest`).
    pub fail_rest: AtomicU32,
    /// Own-trade pages hold at most this many trades whatever `limit` asks (0 = `limit`):
    /// makes a client page through a gap (`VenueHandle::set_account_page_cap`).
    pub page_cap: AtomicUsize,
    /// When each account REST request arrived (bounded; for the clients' pacing).
    pub rest_calls: Mutex<Vec<std::time::Instant>>,
}

/// The account as its REST endpoints see it (issue 17): open orders, every fill, the latest
/// balances and positions. Ids and decimals as the venue's wire writes them (MEXC order ids
/// `C02__<n>`, trade ids `<n>X1`; Gate's plain), so a client's state compares as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountView {
    /// (order id, filled quantity) of every open order.
    pub open_orders: Vec<(String, String)>,
    /// (trade id, time ms) of every fill.
    pub fills: Vec<(String, i64)>,
    /// (currency, total) of every balance.
    pub balances: Vec<(String, String)>,
    /// (contract, signed size in contracts) of every position.
    pub positions: Vec<(String, String)>,
}

/// Most fills remembered for `my_trades`.
const FILLS_CAP: usize = 100_000;

const LOG_CAP: usize = 4096;

impl Account {
    pub fn new(market: Market, symbols: Vec<Arc<Symbol>>, seed: u64) -> Account {
        Account {
            market,
            symbols,
            quote_ccy: "USDT",
            state: Mutex::new(AcctState {
                log: VecDeque::new(),
                base: 0,
                rng: Rng::new(seed ^ 0xACC0_u64),
                live: None,
                next_order: 505_979_017_439_002_624 + seed % 1000,
                next_trade: 3_335_259,
                quote: (Qty::from_int(100_000), Qty::ZERO),
                position: 0,
                entry: Px::ZERO,
                update_id: 1,
                turn: 0,
                fills: VecDeque::new(),
                balances: BTreeMap::from([(
                    "USDT".to_string(),
                    BalanceEv {
                        currency: "USDT".to_string(),
                        total: Qty::from_int(100_000),
                        available: Qty::from_int(100_000),
                        freeze: Qty::ZERO,
                        change: Qty::ZERO,
                        freeze_change: Qty::ZERO,
                        change_type: "init",
                        time_ms: 0,
                    },
                )]),
                positions: BTreeMap::new(),
            }),
            fail_rest: AtomicU32::new(0),
            page_cap: AtomicUsize::new(0),
            rest_calls: Mutex::new(Vec::new()),
        }
    }

    /// Remember an account REST request's arrival.
    pub fn note_rest_call(&self) {
        let mut v = self.rest_calls.lock().unwrap_or_else(|p| p.into_inner());
        if v.len() < 10_000 {
            v.push(std::time::Instant::now());
        }
    }

    /// A page size: `limit` within the venue's cap (`page_cap`).
    pub fn page_size(&self, limit: usize) -> usize {
        match self.page_cap.load(Ordering::Relaxed) {
            0 => limit,
            cap => limit.min(cap),
        }
    }

    /// Whether this account REST request is one to fail (`fail_rest`).
    pub fn take_rest_failure(&self) -> bool {
        self.fail_rest
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// A consistent copy of what the REST endpoints answer: (open orders, fills since
    /// `from_ms`, balances, positions).
    pub fn rest_state(
        &self,
        from_ms: i64,
    ) -> (Vec<OrderEv>, Vec<FillEv>, Vec<BalanceEv>, Vec<PositionEv>) {
        let st = self.lock();
        (
            st.live.iter().cloned().collect(),
            st.fills
                .iter()
                .filter(|f| f.time_ms >= from_ms)
                .cloned()
                .collect(),
            st.balances.values().cloned().collect(),
            st.positions.values().cloned().collect(),
        )
    }

    /// The account as its REST endpoints see it, ids in `venue`'s wire form.
    pub fn view(&self, mexc: bool) -> AccountView {
        let (open, fills, balances, positions) = self.rest_state(i64::MIN);
        AccountView {
            open_orders: open
                .iter()
                .map(|o| {
                    let id = if mexc {
                        format!("C02__{}", o.id)
                    } else {
                        o.id.to_string()
                    };
                    (id, o.filled.to_string())
                })
                .collect(),
            fills: fills
                .iter()
                .map(|f| {
                    let id = if mexc {
                        format!("{}X1", f.trade_id)
                    } else {
                        f.trade_id.to_string()
                    };
                    (id, f.time_ms)
                })
                .collect(),
            balances: balances
                .iter()
                .map(|b| (b.currency.clone(), b.total.to_string()))
                .collect(),
            positions: positions
                .iter()
                .map(|p| (p.contract.clone(), p.size.to_string()))
                .collect(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AcctState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn end(&self) -> u64 {
        let st = self.lock();
        st.base + st.log.len() as u64
    }

    pub fn read_from(&self, cursor: &mut u64, out: &mut Vec<AcctEvent>) {
        let st = self.lock();
        if *cursor < st.base {
            *cursor = st.base;
        }
        let start = (*cursor - st.base) as usize;
        out.extend(st.log.range(start..).cloned());
        *cursor = st.base + st.log.len() as u64;
    }

    /// Advance one step of the order lifecycle.
    pub fn step(&self, wall_ms: i64) {
        if self.symbols.is_empty() {
            return;
        }
        let mut st = self.lock();
        let st = &mut *st;
        let mut events = Vec::new();
        let futures = self.market == Market::Futures;
        match st.live.take() {
            None => {
                let sym = &self.symbols[st.turn % self.symbols.len()];
                st.turn += 1;
                let bbo = sym.lock().book.bbo();
                let side = if st.rng.pct(50) {
                    Side::Buy
                } else {
                    Side::Sell
                };
                let px = match side {
                    Side::Buy => bbo.bid.px,
                    Side::Sell => bbo.ask.px,
                };
                let qty = if futures {
                    Qty::from_int(2 + st.rng.below(10) as i64)
                } else {
                    Qty(sym.spec.lot * (1_000 + st.rng.below(5_000) as i128))
                };
                st.next_order += 1;
                let o = OrderEv {
                    id: st.next_order,
                    symbol: sym.spec.name.clone(),
                    side,
                    px,
                    qty,
                    filled: Qty::ZERO,
                    last_fill: Qty::ZERO,
                    avg_px: Px::ZERO,
                    status: OrdStatus::New,
                    create_ms: wall_ms,
                    update_ms: wall_ms,
                    fee: Px::ZERO,
                    update_id: 1,
                };
                let notional = notional(px, qty, sym.spec.multiplier);
                st.quote.0 = Qty(st.quote.0 .0 - notional.0);
                st.quote.1 = Qty(st.quote.1 .0 + notional.0);
                events.push(AcctEvent::Order(o.clone()));
                events.push(AcctEvent::Balance(BalanceEv {
                    currency: self.quote_ccy.to_string(),
                    total: Qty(st.quote.0 .0 + st.quote.1 .0),
                    available: st.quote.0,
                    freeze: st.quote.1,
                    change: Qty::ZERO,
                    freeze_change: notional,
                    change_type: "order-create",
                    time_ms: wall_ms,
                }));
                st.live = Some(o);
            }
            Some(mut o) => {
                let sym = self
                    .symbols
                    .iter()
                    .find(|s| s.spec.name == o.symbol)
                    .cloned()
                    .unwrap_or_else(|| self.symbols[0].clone());
                let mult = sym.spec.multiplier;
                let left = Qty(o.qty.0 - o.filled.0);
                let finish_cancel = o.status == OrdStatus::Partial && st.rng.pct(30);
                if finish_cancel {
                    o.status = OrdStatus::Cancelled;
                    o.last_fill = Qty::ZERO;
                    o.update_ms = wall_ms;
                    o.update_id += 1;
                    let unfrozen = notional(o.px, left, mult);
                    st.quote.0 = Qty(st.quote.0 .0 + unfrozen.0);
                    st.quote.1 = Qty(st.quote.1 .0 - unfrozen.0);
                    events.push(AcctEvent::Order(o.clone()));
                    events.push(AcctEvent::Balance(BalanceEv {
                        currency: self.quote_ccy.to_string(),
                        total: Qty(st.quote.0 .0 + st.quote.1 .0),
                        available: st.quote.0,
                        freeze: st.quote.1,
                        change: Qty::ZERO,
                        freeze_change: Qty(-unfrozen.0),
                        change_type: "order-update",
                        time_ms: wall_ms,
                    }));
                } else {
                    let fill = if o.status == OrdStatus::New {
                        let lots = if futures { 1 } else { 2 };
                        if futures {
                            Qty((left.0 / Qty::SCALE / lots).max(1) * Qty::SCALE)
                        } else {
                            Qty((left.0 / sym.spec.lot / lots).max(1) * sym.spec.lot)
                        }
                    } else {
                        left
                    };
                    let prev_cost = mul_div(o.avg_px.0, o.filled.0, Qty::SCALE);
                    o.filled = Qty(o.filled.0 + fill.0);
                    o.last_fill = fill;
                    o.avg_px = Px(mul_div(
                        prev_cost + mul_div(o.px.0, fill.0, Qty::SCALE),
                        Qty::SCALE,
                        o.filled.0.max(1),
                    ));
                    o.status = if o.filled == o.qty {
                        OrdStatus::Filled
                    } else {
                        OrdStatus::Partial
                    };
                    o.update_ms = wall_ms;
                    o.update_id += 1;
                    let value = notional(o.px, fill, mult);
                    // fee 0.1 % of the notional in quote units (Px scale)
                    let fee = Px(value.0 * 100 / 1000 / 100);
                    o.fee = Px(o.fee.0 + fee.0);
                    st.next_trade += 1;
                    let fill_ev = FillEv {
                        trade_id: st.next_trade,
                        order_id: o.id,
                        symbol: o.symbol.clone(),
                        side: o.side,
                        px: o.px,
                        qty: fill,
                        maker: true,
                        fee,
                        fee_ccy: self.quote_ccy.to_string(),
                        time_ms: wall_ms,
                    };
                    st.quote.1 = Qty(st.quote.1 .0 - value.0);
                    events.push(AcctEvent::Order(o.clone()));
                    events.push(AcctEvent::Fill(fill_ev));
                    events.push(AcctEvent::Balance(BalanceEv {
                        currency: self.quote_ccy.to_string(),
                        total: Qty(st.quote.0 .0 + st.quote.1 .0),
                        available: st.quote.0,
                        freeze: st.quote.1,
                        change: Qty(-value.0),
                        freeze_change: Qty(-value.0),
                        change_type: "order-match",
                        time_ms: wall_ms,
                    }));
                    if futures {
                        let signed = match o.side {
                            Side::Buy => fill.0 / Qty::SCALE,
                            Side::Sell => -(fill.0 / Qty::SCALE),
                        };
                        st.position += signed;
                        st.entry = o.px;
                        st.update_id += 1;
                        events.push(AcctEvent::Position(PositionEv {
                            contract: o.symbol.clone(),
                            size: st.position,
                            entry_px: st.entry,
                            realised_pnl: Px(-fee.0),
                            margin: Px(value.0 / 10),
                            time_ms: wall_ms,
                            update_id: st.update_id,
                        }));
                    }
                    if o.status == OrdStatus::Partial {
                        st.live = Some(o);
                    }
                }
            }
        }
        for e in events {
            match &e {
                AcctEvent::Fill(f) => {
                    if st.fills.len() >= FILLS_CAP {
                        st.fills.pop_front();
                    }
                    st.fills.push_back(f.clone());
                }
                AcctEvent::Balance(b) => {
                    st.balances.insert(b.currency.clone(), b.clone());
                }
                AcctEvent::Position(p) => {
                    st.positions.insert(p.contract.clone(), p.clone());
                }
                AcctEvent::Order(_) => {}
            }
            if st.log.len() >= LOG_CAP {
                st.log.pop_front();
                st.base += 1;
            }
            st.log.push_back(e);
        }
    }
}

/// Quote notional of `qty` at `px` as a `Qty` (16 decimals), contracts × multiplier on futures.
pub fn notional(px: Px, qty: Qty, mult: Option<Qty>) -> Qty {
    let base = match mult {
        Some(m) => mul_div(qty.0, m.0, Qty::SCALE),
        None => qty.0,
    };
    Qty(mul_div(px.0, base, Px::SCALE))
}

/// Base currency of a symbol name (`BTCUSDT` → `BTC`, `BTC_USDT` → `BTC`).
pub fn base_ccy(name: &str) -> &str {
    if let Some((b, _)) = name.split_once('_') {
        b
    } else {
        name.strip_suffix("USDT").unwrap_or(name)
    }
}
