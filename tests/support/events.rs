//! An owned copy of every decoded event, and the sink that collects them: one shape for both
//! venues' golden, fuzz and differential tests. Ids keep whether the venue sent a number
//! (`#123`) or a string (`'abc'`).

use cexfeed::event::*;
use cexfeed::types::{Dec, Interval, Px, Qty, Side};

/// One decoded event, owned, comparable across decoding paths and venues.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev {
    Book {
        symbol: String,
        snapshot: bool,
        seq_first: u64,
        seq_last: u64,
        bids: Vec<Level>,
        asks: Vec<Level>,
        ts: Option<i64>,
    },
    Trade {
        symbol: String,
        px: Px,
        qty: Qty,
        side: Side,
        trade_id: String,
        ts: Option<i64>,
    },
    Bbo {
        symbol: String,
        bid_px: Px,
        bid_qty: Qty,
        ask_px: Px,
        ask_qty: Qty,
        seq: Option<u64>,
        ts: Option<i64>,
    },
    Ticker {
        symbol: String,
        last: Option<Px>,
        bid: Option<Px>,
        ask: Option<Px>,
        mark: Option<Px>,
        index: Option<Px>,
        funding: Option<Px>,
        ts: Option<i64>,
    },
    Order {
        symbol: String,
        order_id: String,
        client_id: Option<String>,
        side: Side,
        order_type: OrderType,
        px: Px,
        qty: Qty,
        filled: Qty,
        remaining: Qty,
        avg_px: Dec,
        status: OrderStatus,
        ts_create: Option<i64>,
        ts_update: Option<i64>,
    },
    Fill {
        symbol: String,
        trade_id: String,
        order_id: String,
        client_id: Option<String>,
        px: Px,
        qty: Qty,
        side: Side,
        liquidity: Liquidity,
        fee: Dec,
        fee_currency: Option<String>,
        ts: Option<i64>,
    },
    Balance {
        asset: String,
        available: Dec,
        locked: Dec,
        total: Option<Dec>,
        change: Option<Dec>,
        reason: Option<String>,
        ts: Option<i64>,
    },
    Position {
        contract: String,
        size: Qty,
        entry_px: Dec,
        leverage: Dec,
        margin: Dec,
        liq_px: Dec,
        realised_pnl: Dec,
        ts: Option<i64>,
    },
    Kline {
        symbol: String,
        interval: Interval,
        open_time_ms: i64,
        open: Px,
        high: Px,
        low: Px,
        close: Px,
        volume: Qty,
        quote_volume: Option<Qty>,
        base_volume: Option<Qty>,
        closed: bool,
        ts: Option<i64>,
    },
    Control {
        kind: ControlKind,
        channel: Option<String>,
        event: Option<String>,
        message: Option<String>,
        req_id: Option<u64>,
        code: Option<i64>,
        payload0: Option<String>,
    },
}

fn s(x: &str) -> String {
    x.to_string()
}
fn os(x: Option<&str>) -> Option<String> {
    x.map(s)
}
fn id(x: &IdRef<'_>) -> String {
    match x {
        IdRef::Num(n) => format!("#{n}"),
        IdRef::Str(t) => format!("'{t}'"),
    }
}

#[derive(Default)]
pub struct Collect(pub Vec<Ev>);

impl Sink for Collect {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.0.push(Ev::Book {
            symbol: s(m.symbol),
            snapshot: m.snapshot,
            seq_first: m.seq_first,
            seq_last: m.seq_last,
            bids: m.bids.to_vec(),
            asks: m.asks.to_vec(),
            ts: m.ts_exchange_ms,
        });
    }
    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.0.push(Ev::Trade {
            symbol: s(m.symbol),
            px: m.px,
            qty: m.qty,
            side: m.side,
            trade_id: id(&m.trade_id),
            ts: m.ts_exchange_ms,
        });
    }
    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.0.push(Ev::Bbo {
            symbol: s(m.symbol),
            bid_px: m.bid_px,
            bid_qty: m.bid_qty,
            ask_px: m.ask_px,
            ask_qty: m.ask_qty,
            seq: m.seq,
            ts: m.ts_exchange_ms,
        });
    }
    fn kline(&mut self, m: &KlineMsg<'_>) {
        self.0.push(Ev::Kline {
            symbol: s(m.symbol),
            interval: m.interval,
            open_time_ms: m.open_time_ms,
            open: m.open,
            high: m.high,
            low: m.low,
            close: m.close,
            volume: m.volume,
            quote_volume: m.quote_volume,
            base_volume: m.base_volume,
            closed: m.closed,
            ts: m.ts_exchange_ms,
        });
    }
    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.0.push(Ev::Ticker {
            symbol: s(m.symbol),
            last: m.last,
            bid: m.bid_px,
            ask: m.ask_px,
            mark: m.mark_px,
            index: m.index_px,
            funding: m.funding_rate,
            ts: m.ts_exchange_ms,
        });
    }
    fn order(&mut self, m: &OrderMsg<'_>) {
        self.0.push(Ev::Order {
            symbol: s(m.symbol),
            order_id: id(&m.order_id),
            client_id: os(m.client_id),
            side: m.side,
            order_type: m.order_type,
            px: m.px,
            qty: m.qty,
            filled: m.filled,
            remaining: m.remaining,
            avg_px: m.avg_px,
            status: m.status,
            ts_create: m.ts_create_ms,
            ts_update: m.ts_update_ms,
        });
    }
    fn fill(&mut self, m: &FillMsg<'_>) {
        self.0.push(Ev::Fill {
            symbol: s(m.symbol),
            trade_id: id(&m.trade_id),
            order_id: id(&m.order_id),
            client_id: os(m.client_id),
            px: m.px,
            qty: m.qty,
            side: m.side,
            liquidity: m.liquidity,
            fee: m.fee,
            fee_currency: os(m.fee_currency),
            ts: m.ts_exchange_ms,
        });
    }
    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.0.push(Ev::Balance {
            asset: s(m.asset),
            available: m.available,
            locked: m.locked,
            total: m.total,
            change: m.change,
            reason: os(m.reason),
            ts: m.ts_exchange_ms,
        });
    }
    fn position(&mut self, m: &PositionMsg<'_>) {
        self.0.push(Ev::Position {
            contract: s(m.contract),
            size: m.size,
            entry_px: m.entry_px,
            leverage: m.leverage,
            margin: m.margin,
            liq_px: m.liq_px,
            realised_pnl: m.realised_pnl,
            ts: m.ts_exchange_ms,
        });
    }
    fn control(&mut self, m: &ControlMsg<'_>) {
        self.0.push(Ev::Control {
            kind: m.kind,
            channel: os(m.channel),
            event: os(m.event),
            message: os(m.message),
            req_id: m.req_id,
            code: m.code,
            payload0: os(m.payload0),
        });
    }
}
