//! MEXC spot WebSocket service (`/ws`, `/ws?listenKey=…`): JSON control frames, protobuf pushes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use prost::Message as _;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::{Message, WebSocket};

use super::account::{AcctEvent, OrdStatus};
use super::feed::{Feed, Kind, Out};
use super::pb::{self, Body, PushDataV3ApiWrapper};
use super::{Scenario, Shared};
use crate::conn::{self, ConnFaults, Io};
use crate::num::{Market, Px, Qty, Side, VenueId};
use crate::sim::Symbol;

/// Most channels per connection.
pub const MAX_SUBS: usize = 30;
/// A connection without a valid subscription is closed after this long.
pub const IDLE_NO_SUB: std::time::Duration = std::time::Duration::from_secs(30);
/// Private channels are polled this often when nothing else is due.
const PRIVATE_WAIT_MS: i32 = 20;
/// Client messages per second before the venue disconnects.
pub const MAX_MSGS_PER_SEC: u32 = 100;

/// The exact rejection text (full-width colon, two spaces, trailing space).
pub fn blocked_msg(channels: &[String]) -> String {
    format!(
        "Not Subscribed successfully! [{}].  Reason\u{FF1A} Blocked! ",
        channels.join(",")
    )
}

/// `{"id":<id>,"code":0,"msg":<msg>}` in the venue's key order.
pub fn control(id: u64, msg: &str) -> String {
    format!(
        "{{\"id\":{id},\"code\":0,\"msg\":{}}}",
        serde_json::to_string(msg).unwrap_or_else(|_| "\"\"".into())
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Private {
    Orders,
    Deals,
    Account,
}

/// A parsed channel name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    Public {
        kind: Kind,
        interval_ms: u64,
        symbol: String,
    },
    Private(Private),
    /// `spot@public.kline.v3.api.pb@<SYMBOL>@<Min1…Month1>` (protocols.md §1.4): interval
    /// index into `kline::INTERVALS`.
    Kline {
        iv: usize,
        symbol: String,
    },
    /// `spot@public.miniTicker.v3.api.pb@<SYMBOL>@<TZ>`, TZ ∈ 24H, UTC-10 … UTC+13
    /// (protocols.md §1.4).
    MiniTicker {
        symbol: String,
    },
}

/// A mini-ticker time zone as MEXC lists them: `24H` or `UTC-10` … `UTC+13` (protocols.md §1.4;
/// the fixture's channel uses `UTC+8`).
fn valid_tz(tz: &str) -> bool {
    if tz == "24H" || tz == "UTC+0" || tz == "UTC" {
        return true;
    }
    let Some(off) = tz.strip_prefix("UTC") else {
        return false;
    };
    let (sign, n) = off.split_at(off.len().min(1));
    matches!(sign, "+" | "-")
        && !n.is_empty()
        && n.bytes().all(|b| b.is_ascii_digit())
        && n.parse::<i32>()
            .is_ok_and(|v| if sign == "+" { v <= 13 } else { v <= 10 })
}

/// Parse a channel the way the venue accepts them; `None` → "Blocked!".
pub fn parse_channel(ch: &str) -> Option<Channel> {
    let parts: Vec<&str> = ch.split('@').collect();
    if parts.first() != Some(&"spot") {
        return None;
    }
    let iv = |s: &str| match s {
        "100ms" => Some(100),
        "10ms" => Some(10),
        _ => None,
    };
    match parts.as_slice() {
        ["spot", "private.orders.v3.api.pb"] => Some(Channel::Private(Private::Orders)),
        ["spot", "private.deals.v3.api.pb"] => Some(Channel::Private(Private::Deals)),
        ["spot", "private.account.v3.api.pb"] => Some(Channel::Private(Private::Account)),
        ["spot", name, i, sym] if name.starts_with("public.aggre.") => {
            let kind = match *name {
                "public.aggre.depth.v3.api.pb" => Kind::Diff,
                "public.aggre.deals.v3.api.pb" => Kind::Trades,
                "public.aggre.bookTicker.v3.api.pb" => Kind::Bbo,
                _ => return None,
            };
            Some(Channel::Public {
                kind,
                interval_ms: iv(i)?,
                symbol: sym.to_string(),
            })
        }
        ["spot", "public.kline.v3.api.pb", sym, code] => Some(Channel::Kline {
            iv: crate::kline::mexc_index(code)?,
            symbol: sym.to_string(),
        }),
        ["spot", "public.miniTicker.v3.api.pb", sym, tz] if valid_tz(tz) => {
            Some(Channel::MiniTicker {
                symbol: sym.to_string(),
            })
        }
        ["spot", "public.bookTicker.batch.v3.api.pb", sym] => Some(Channel::Public {
            kind: Kind::Bbo,
            interval_ms: 100,
            symbol: sym.to_string(),
        }),
        ["spot", "public.limit.depth.v3.api.pb", sym, n] => {
            let n: usize = match *n {
                "5" => 5,
                "10" => 10,
                "20" => 20,
                _ => return None,
            };
            Some(Channel::Public {
                kind: Kind::Top(n),
                interval_ms: 100,
                symbol: sym.to_string(),
            })
        }
        _ => None,
    }
}

/// A kline or mini-ticker subscription (no change log behind it: read from the symbol).
enum Periodic {
    Kline {
        sym: Arc<Symbol>,
        iv: usize,
        cursor: crate::kline::SubCursor,
    },
    MiniTicker {
        sym: Arc<Symbol>,
        next: std::time::Instant,
    },
}

/// Mini tickers are pushed "every 3 s" (protocols.md §1.4).
const MINI_TICKER_PERIOD: std::time::Duration = std::time::Duration::from_secs(3);
/// Longest sleep while a kline or mini-ticker subscription waits.
const PERIODIC_WAIT_MS: i32 = 50;

/// A kline push (body 308, protocols.md §1.5): window bounds in seconds, prices and volumes as
/// decimal strings, `volume` = base quantity, `amount` = quote turnover. Like the captured
/// push, the wrapper carries `createTime` and no `sendTime` (§1.5 "Wire facts"). A closed
/// window is pushed once more with `createTime` = its end: MEXC sends no closed flag, so a
/// client knows the window is final when the push was made at or after `windowEnd`.
fn kline_push(channel: &str, sym: &Symbol, code: &str, c: &crate::kline::Candle) -> Vec<u8> {
    use prost::Message as _;
    let now = crate::num::wall_ms();
    let create = if c.closed {
        now.max(c.end_ms())
    } else {
        now.min(c.end_ms() - 1)
    };
    let w = PushDataV3ApiWrapper {
        channel: channel.to_string(),
        symbol: Some(sym.spec.name.clone()),
        symbol_id: Some(format!("{:032x}", sym.spec.name.len())),
        create_time: Some(create),
        send_time: None,
        body: Some(Body::PublicSpotKline(pb::PublicSpotKlineV3Api {
            interval: code.to_string(),
            window_start: c.open_ms / 1000,
            opening_price: c.open.to_string(),
            closing_price: c.close.to_string(),
            highest_price: c.high.to_string(),
            lowest_price: c.low.to_string(),
            volume: c.volume.to_string(),
            amount: c.quote_volume.to_string(),
            window_end: c.end_ms() / 1000,
        })),
    };
    w.encode_to_vec()
}

/// A mini-ticker push (body 309): `price` = last trade price, `high`/`low`, `volume` =
/// turnover, `quantity` = volume (protocols.md §1.5).
fn mini_ticker_push(channel: &str, sym: &Symbol) -> Vec<u8> {
    use prost::Message as _;
    let st = sym.lock();
    let t = pb::PublicMiniTickerV3Api {
        symbol: sym.spec.name.clone(),
        price: Px(st.last_trade_px).to_string(),
        rate: "0".into(),
        zoned_rate: "0".into(),
        high: Px(st.high_px).to_string(),
        low: Px(st.low_px).to_string(),
        volume: Px(st.turnover_units).to_string(),
        quantity: Qty(st.volume).to_string(),
        last_close_rate: "0".into(),
        last_close_zoned_rate: "0".into(),
        last_close_high: Px(st.high_px).to_string(),
        last_close_low: Px(st.low_px).to_string(),
    };
    drop(st);
    wrap(channel, Some(&sym.spec.name), Body::PublicMiniTicker(t)).encode_to_vec()
}

struct Sub {
    channel: String,
    symbol: Option<String>,
    periodic: Option<Periodic>,
    feed: Option<Feed>,
    private: Option<Private>,
    acct_cursor: u64,
    event_type: String,
    malformed_turn: u32,
}

/// Decimal text padded to `digits` fractional digits (MEXC depth style: "0.00638700").
pub fn padded(units: i128, scale_decimals: u32, digits: u32) -> String {
    let neg = units < 0;
    let u = units.unsigned_abs();
    let scale = 10u128.pow(scale_decimals);
    let int = u / scale;
    let frac = u % scale;
    let s = if digits == 0 {
        format!("{int}")
    } else if digits >= scale_decimals {
        format!(
            "{int}.{:0w$}{}",
            frac,
            "0".repeat((digits - scale_decimals) as usize),
            w = scale_decimals as usize
        )
    } else {
        let f = frac / 10u128.pow(scale_decimals - digits);
        format!("{int}.{:0w$}", f, w = digits as usize)
    };
    if neg {
        format!("-{s}")
    } else {
        s
    }
}

fn depth_items(levels: &[crate::num::Level], sym: &Symbol) -> Vec<pb::DepthItem> {
    levels
        .iter()
        .map(|l| pb::DepthItem {
            price: padded(l.px.0, Px::DECIMALS, sym.spec.px_decimals),
            quantity: padded(l.qty.0, Qty::DECIMALS, sym.spec.qty_decimals),
        })
        .collect()
}

fn wrap(channel: &str, symbol: Option<&str>, body: Body) -> PushDataV3ApiWrapper {
    PushDataV3ApiWrapper {
        channel: channel.to_string(),
        symbol: symbol.map(str::to_string),
        symbol_id: None,
        create_time: None,
        send_time: Some(crate::num::wall_ms()),
        body: Some(body),
    }
}

/// Encode one public push. Returns bytes and the version it ends at (for send times).
pub fn encode_public(
    out: &Out,
    channel: &str,
    event_type: &str,
    sym: &Symbol,
) -> (Vec<u8>, Option<u64>) {
    let name = sym.spec.name.as_str();
    let (body, seq) = match out {
        Out::Diff {
            from,
            to,
            bids,
            asks,
            wall_ms,
            ..
        } => (
            Body::PublicAggreDepths(pb::PublicAggreDepthsV3Api {
                asks: depth_items(asks, sym),
                bids: depth_items(bids, sym),
                event_type: event_type.to_string(),
                from_version: from.to_string(),
                to_version: to.to_string(),
                last_order_create_time: *wall_ms,
            }),
            Some(*to),
        ),
        Out::Bbo { seq, bbo, wall_ms } if channel.contains("bookTicker.batch") => (
            Body::PublicBookTickerBatch(pb::PublicBookTickerBatchV3Api {
                items: vec![pb::PublicBookTickerV3Api {
                    bid_price: bbo.bid.px.to_string(),
                    bid_quantity: bbo.bid.qty.to_string(),
                    ask_price: bbo.ask.px.to_string(),
                    ask_quantity: bbo.ask.qty.to_string(),
                }],
                version: seq.to_string(),
                last_order_create_time: *wall_ms,
            }),
            Some(*seq),
        ),
        Out::Bbo { seq, bbo, wall_ms } => (
            Body::PublicAggreBookTicker(pb::PublicAggreBookTickerV3Api {
                bid_price: bbo.bid.px.to_string(),
                bid_quantity: bbo.bid.qty.to_string(),
                ask_price: bbo.ask.px.to_string(),
                ask_quantity: bbo.ask.qty.to_string(),
                version: seq.to_string(),
                last_order_create_time: *wall_ms,
            }),
            Some(*seq),
        ),
        Out::Trades(t) => (
            Body::PublicAggreDeals(pb::PublicAggreDealsV3Api {
                deals: t
                    .iter()
                    .map(|d| pb::PublicAggreDealsV3ApiItem {
                        price: d.px.to_string(),
                        quantity: d.qty.to_string(),
                        trade_type: if d.side == Side::Buy { 1 } else { 2 },
                        time: d.wall_ms,
                        trade_id: format!("{}X0_{}X0", d.id, d.id + 1),
                    })
                    .collect(),
                event_type: event_type.to_string(),
            }),
            None,
        ),
        Out::Top {
            seq,
            bids,
            asks,
            wall_ms,
        } => (
            Body::PublicLimitDepths(pb::PublicLimitDepthsV3Api {
                asks: depth_items(asks, sym),
                bids: depth_items(bids, sym),
                event_type: event_type.to_string(),
                version: seq.to_string(),
                last_order_create_time: *wall_ms,
            }),
            Some(*seq),
        ),
    };
    (wrap(channel, Some(name), body).encode_to_vec(), seq)
}

/// A malformed variant of a protobuf push (cycled per strike).
pub fn malform(bytes: &[u8], turn: u32, sym: &Symbol) -> Message {
    match turn % 4 {
        0 => Message::Binary(bytes[..bytes.len() / 2].to_vec().into()),
        1 => {
            // Field 1 declared as varint (wrong wire type) — the rest no longer parses.
            let mut b = bytes.to_vec();
            if !b.is_empty() {
                b[0] = 0x08;
            }
            Message::Binary(b.into())
        }
        2 => {
            // Well-formed protobuf, wrong content type: versions that are not numbers.
            let w = wrap(
                &format!("spot@public.aggre.depth.v3.api.pb@100ms@{}", sym.spec.name),
                Some(&sym.spec.name),
                Body::PublicAggreDepths(pb::PublicAggreDepthsV3Api {
                    asks: vec![pb::DepthItem {
                        price: "abc".into(),
                        quantity: "1e".into(),
                    }],
                    bids: vec![],
                    event_type: "spot@public.aggre.depth.v3.api.pb@100ms".into(),
                    from_version: "x".into(),
                    to_version: "-".into(),
                    last_order_create_time: 0,
                }),
            );
            Message::Binary(w.encode_to_vec().into())
        }
        _ => Message::Text("{\"id\":0,\"code\":0,\"msg\":".into()),
    }
}

fn private_push(ev: &AcctEvent, p: Private) -> Option<Vec<u8>> {
    let (ch, sym, body, create) = match (ev, p) {
        (AcctEvent::Order(o), Private::Orders) => {
            let status = match o.status {
                OrdStatus::New => 1,
                OrdStatus::Filled => 2,
                OrdStatus::Partial => 3,
                OrdStatus::Cancelled if o.filled.0 > 0 => 5,
                OrdStatus::Cancelled => 4,
            };
            let amount = super::account::notional(o.px, o.qty, None);
            let cum_amount = super::account::notional(o.avg_px, o.filled, None);
            let remain = Qty(o.qty.0 - o.filled.0);
            (
                "spot@private.orders.v3.api.pb",
                Some(o.symbol.clone()),
                Body::PrivateOrders(pb::PrivateOrdersV3Api {
                    id: format!("C02__{}", o.id),
                    client_id: String::new(),
                    price: o.px.to_string(),
                    quantity: o.qty.to_string(),
                    amount: amount.to_string(),
                    avg_price: o.avg_px.to_string(),
                    order_type: 1,
                    trade_type: if o.side == Side::Buy { 1 } else { 2 },
                    is_maker: true,
                    remain_amount: super::account::notional(o.px, remain, None).to_string(),
                    remain_quantity: remain.to_string(),
                    last_deal_quantity: (o.last_fill.0 > 0).then(|| o.last_fill.to_string()),
                    cumulative_quantity: o.filled.to_string(),
                    cumulative_amount: cum_amount.to_string(),
                    status,
                    create_time: o.create_ms,
                }),
                None,
            )
        }
        (AcctEvent::Fill(f), Private::Deals) => (
            "spot@private.deals.v3.api.pb",
            Some(f.symbol.clone()),
            Body::PrivateDeals(pb::PrivateDealsV3Api {
                price: f.px.to_string(),
                quantity: f.qty.to_string(),
                amount: super::account::notional(f.px, f.qty, None).to_string(),
                trade_type: if f.side == Side::Buy { 1 } else { 2 },
                is_maker: f.maker,
                is_self_trade: false,
                trade_id: format!("{}X1", f.trade_id),
                client_order_id: String::new(),
                order_id: format!("C02__{}", f.order_id),
                fee_amount: f.fee.to_string(),
                fee_currency: f.fee_ccy.clone(),
                time: f.time_ms,
            }),
            None,
        ),
        (AcctEvent::Balance(b), Private::Account) => {
            let ty = match b.change_type {
                "order-create" => "ENTRUST_PLACE",
                "order-update" => "ENTRUST_CANCEL",
                "order-match" => "ENTRUST",
                _ => "CONTRACT_TRANSFER",
            };
            (
                "spot@private.account.v3.api.pb",
                None,
                Body::PrivateAccount(pb::PrivateAccountV3Api {
                    vcoin_name: b.currency.clone(),
                    coin_id: "128f589271cb4951b03e71e6323eb7be".into(),
                    balance_amount: b.available.to_string(),
                    balance_amount_change: b.change.to_string(),
                    frozen_amount: b.freeze.to_string(),
                    frozen_amount_change: b.freeze_change.to_string(),
                    r#type: ty.into(),
                    time: b.time_ms,
                }),
                Some(b.time_ms),
            )
        }
        _ => return None,
    };
    let mut w = wrap(ch, sym.as_deref(), body);
    w.create_time = create;
    Some(w.encode_to_vec())
}

pub(crate) fn serve(mut ws: WebSocket<Io>, sh: Arc<Shared>, listen_key: Option<String>) {
    let mut conn = ConnFaults::new();
    let mut subs: Vec<Sub> = Vec::new();
    let mut outs: Vec<Out> = Vec::new();
    let mut acct_buf = Vec::new();
    let acct = sh.account(VenueId::Mexc, Market::Spot);
    let born = std::time::Instant::now();
    let mut ever_subscribed = false;
    let mut rate_window = (std::time::Instant::now(), 0u32);
    let mut sent_seqs: Vec<(Arc<Symbol>, u64, u64)> = Vec::new();
    let mut last_server_ping = std::time::Instant::now();
    let mut last_key_check = std::time::Instant::now();
    loop {
        // A private connection ends when its listen key is no longer valid (expired 60 min
        // after its last keep-alive, or closed). How MEXC's socket reacts is undocumented
        // (protocols.md §8 item 7); ending it is the strict reading a client must survive.
        if let Some(k) = &listen_key {
            if last_key_check.elapsed() >= std::time::Duration::from_millis(100) {
                last_key_check = std::time::Instant::now();
                if !sh.listen_key_valid(k) {
                    let _ = ws.close(Some(CloseFrame {
                        code: CloseCode::Normal,
                        reason: "".into(),
                    }));
                    let _ = conn::ws_flush(&mut ws, &sh);
                    return;
                }
            }
        }
        // Venue rules (§1.1): no valid subscription within 30 s → close; more than 100
        // client messages in a second → disconnect.
        if sh.cfg.idle_rules && !ever_subscribed && born.elapsed() >= IDLE_NO_SUB {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            let _ = conn::ws_flush(&mut ws, &sh);
            return;
        }
        if sh.stopping() {
            let _ = ws.close(None);
            let _ = conn::ws_flush(&mut ws, &sh);
            return;
        }
        // 1. Client frames (none under `no-pong`: unread pings, protocol or JSON, go unanswered).
        loop {
            if conn.no_pong {
                break;
            }
            match ws.read() {
                Ok(Message::Text(t)) => {
                    if rate_window.0.elapsed() >= std::time::Duration::from_secs(1) {
                        rate_window = (std::time::Instant::now(), 0);
                    }
                    rate_window.1 += 1;
                    if sh.cfg.idle_rules && rate_window.1 > MAX_MSGS_PER_SEC {
                        let _ = ws.close(Some(CloseFrame {
                            code: CloseCode::Policy,
                            reason: "".into(),
                        }));
                        let _ = conn::ws_flush(&mut ws, &sh);
                        return;
                    }
                    if !handle_text(&mut ws, &sh, &mut subs, &t, listen_key.is_some(), &conn) {
                        return;
                    }
                    ever_subscribed |= !subs.is_empty();
                }
                Ok(Message::Close(_)) => {
                    let _ = conn::ws_flush(&mut ws, &sh);
                    return;
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break
                }
                Err(_) => return,
            }
        }
        // Server-initiated JSON ping (protocols.md §8 item 1): `{"method":"PING"}`, in the
        // letter case a venue may pick; the client answers `{"method":"PONG"}`.
        let sp = sh.cfg.mexc_server_ping;
        if !sp.is_zero() && last_server_ping.elapsed() >= sp {
            last_server_ping = std::time::Instant::now();
            if !conn::ws_write(&mut ws, Message::Text(r#"{"method":"ping"}"#.into()), &sh) {
                return;
            }
        }
        // 2. Connection faults.
        let names: Vec<String> = subs.iter().filter_map(|s| s.symbol.clone()).collect();
        if conn::apply(conn.check(&sh, &names), &mut ws, &sh) {
            return;
        }
        // 3. Pushes.
        let mut sent = 0u64;
        let mut bytes = 0u64;
        for sub in subs.iter_mut() {
            if let Some(feed) = &mut sub.feed {
                feed.poll(&mut outs);
                for o in outs.drain(..) {
                    let (buf, seq) = encode_public(&o, &sub.channel, &sub.event_type, &feed.sym);
                    let is_diff = matches!(o, Out::Diff { .. });
                    let name = feed.sym.spec.name.as_str();
                    let mut msgs: Vec<Message> = Vec::with_capacity(2);
                    if is_diff && sh.life.depth_muted(name) {
                        continue;
                    }
                    if is_diff && sh.faults.due(Scenario::Gap, name, &mut feed.seen) {
                        sh.count_fault(Scenario::Gap);
                        continue;
                    }
                    if sh.faults.due(Scenario::Malformed, name, &mut feed.seen) {
                        sh.count_fault(Scenario::Malformed);
                        msgs.push(malform(&buf, sub.malformed_turn, &feed.sym));
                        sub.malformed_turn += 1;
                    } else if is_diff && sh.faults.due(Scenario::Reorder, name, &mut feed.seen) {
                        sh.count_fault(Scenario::Reorder);
                        feed.held = Some(buf);
                        continue;
                    } else {
                        let dup =
                            is_diff && sh.faults.due(Scenario::Duplicate, name, &mut feed.seen);
                        msgs.push(Message::Binary(buf.clone().into()));
                        if dup {
                            sh.count_fault(Scenario::Duplicate);
                            msgs.push(Message::Binary(buf.into()));
                        }
                    }
                    if let Some(h) = feed.held.take() {
                        msgs.push(Message::Binary(h.into()));
                    }
                    let before = crate::num::now_ns();
                    for m in msgs {
                        bytes += m.len() as u64;
                        if !conn::ws_write(&mut ws, m, &sh) {
                            return;
                        }
                        sent += 1;
                    }
                    if let Some(seq) = seq {
                        sent_seqs.push((feed.sym.clone(), seq, before));
                    }
                }
            } else if let Some(p) = &mut sub.periodic {
                let mut frames: Vec<Vec<u8>> = Vec::new();
                match p {
                    Periodic::Kline { sym, iv, cursor } => {
                        let due = {
                            let st = sym.lock();
                            cursor.due(
                                &st.klines,
                                *iv,
                                crate::num::now_ns(),
                                sh.cfg.kline_push_period.as_nanos() as u64,
                            )
                        };
                        let code = crate::kline::INTERVALS[*iv].mexc.unwrap_or("");
                        for c in &due {
                            frames.push(kline_push(&sub.channel, sym, code, c));
                        }
                    }
                    Periodic::MiniTicker { sym, next } => {
                        if std::time::Instant::now() >= *next {
                            *next += MINI_TICKER_PERIOD;
                            frames.push(mini_ticker_push(&sub.channel, sym));
                        }
                    }
                }
                for b in frames {
                    bytes += b.len() as u64;
                    if !conn::ws_write(&mut ws, Message::Binary(b.into()), &sh) {
                        return;
                    }
                    sent += 1;
                }
            } else if let (Some(p), Some(a)) = (sub.private, &acct) {
                acct_buf.clear();
                a.read_from(&mut sub.acct_cursor, &mut acct_buf);
                for ev in &acct_buf {
                    if let Some(b) = private_push(ev, p) {
                        bytes += b.len() as u64;
                        if !conn::ws_write(&mut ws, Message::Binary(b.into()), &sh) {
                            return;
                        }
                        sent += 1;
                    }
                }
            }
        }
        if !conn::ws_flush(&mut ws, &sh) {
            return;
        }
        // Send instants are taken once the frames are on the socket (or, with
        // `send_stamp_before_write`, right before the push's first write).
        if !sent_seqs.is_empty() {
            let now = crate::num::now_ns();
            for (sym, seq, before) in sent_seqs.drain(..) {
                sym.record_send(
                    seq,
                    if sh.cfg.send_stamp_before_write {
                        before
                    } else {
                        now
                    },
                );
            }
        }
        if sent > 0 {
            sh.counters.pushes.fetch_add(sent, Ordering::Relaxed);
            sh.counters.push_bytes.fetch_add(bytes, Ordering::Relaxed);
        } else {
            // Nothing to push: sleep until client input or the next push can be due.
            let wait = subs
                .iter()
                .map(|s| match (&s.feed, &s.periodic) {
                    (Some(f), _) => conn::push_wait_ms(&sh, f.interval_ms),
                    (None, Some(_)) => PERIODIC_WAIT_MS,
                    (None, None) => PRIVATE_WAIT_MS,
                })
                .fold(conn::MAX_IDLE_WAIT_MS, i32::min);
            sh.counters.idle_waits.fetch_add(1, Ordering::Relaxed);
            conn::wait_fd(ws.get_ref().tcp(), libc::POLLIN, wait);
        }
    }
}

/// Handle one control frame; false when the connection must end.
fn handle_text(
    ws: &mut WebSocket<Io>,
    sh: &Arc<Shared>,
    subs: &mut Vec<Sub>,
    text: &str,
    private_conn: bool,
    conn: &ConnFaults,
) -> bool {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(text) else {
        return true;
    };
    let method = v
        .get("method")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_ascii_uppercase();
    let id = v.get("id").and_then(|i| i.as_u64()).unwrap_or(0);
    let params: Vec<String> = v
        .get("params")
        .and_then(|p| p.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let reply = match method.as_str() {
        "PING" => {
            if conn.no_pong {
                return true;
            }
            control(0, "PONG")
        }
        // The answer to the venue's own `{"method":"PING"}`.
        "PONG" => {
            sh.life.client_pongs.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        "SUBSCRIPTION" => {
            let mut ok = Vec::new();
            let mut bad = Vec::new();
            for ch in params {
                if subs.iter().any(|s| s.channel == ch) {
                    ok.push(ch);
                    continue;
                }
                let parsed = parse_channel(&ch);
                let accepted = match &parsed {
                    Some(
                        Channel::Public { symbol, .. }
                        | Channel::Kline { symbol, .. }
                        | Channel::MiniTicker { symbol },
                    ) => {
                        sh.sym(VenueId::Mexc, Market::Spot, symbol).is_some()
                            && !(sh.faults.take_request(Scenario::Reject, symbol) && {
                                sh.count_fault(Scenario::Reject);
                                true
                            })
                    }
                    Some(Channel::Private(_)) => private_conn,
                    None => false,
                };
                // Unknown, retired, malformed, refused, or beyond the 30-channel limit.
                if !accepted || subs.len() >= MAX_SUBS {
                    bad.push(ch);
                    continue;
                }
                match parsed {
                    Some(Channel::Public {
                        kind,
                        interval_ms,
                        symbol,
                    }) => {
                        let Some(sym) = sh.sym(VenueId::Mexc, Market::Spot, &symbol) else {
                            bad.push(ch);
                            continue;
                        };
                        let iv = if sh.cfg.push_mode == super::PushMode::PerChange
                            && !matches!(kind, Kind::Top(_))
                        {
                            0
                        } else {
                            interval_ms
                        };
                        let event_type = match kind {
                            Kind::Top(_) => "spot@public.limit.depth.v3.api.pb".to_string(),
                            _ => ch
                                .rsplit_once('@')
                                .map(|x| x.0.to_string())
                                .unwrap_or_default(),
                        };
                        let mut feed = Feed::new(sym, kind, iv, false);
                        feed.seen = Vec::new();
                        let _ = sh.faults.due(Scenario::Gap, "\u{0}", &mut feed.seen);
                        subs.push(Sub {
                            channel: ch.clone(),
                            symbol: Some(symbol),
                            periodic: None,
                            feed: Some(feed),
                            private: None,
                            acct_cursor: 0,
                            event_type,
                            malformed_turn: 0,
                        });
                    }
                    Some(Channel::Kline { iv, symbol }) => {
                        let Some(sym) = sh.sym(VenueId::Mexc, Market::Spot, &symbol) else {
                            bad.push(ch);
                            continue;
                        };
                        let cursor = {
                            let st = sym.lock();
                            crate::kline::SubCursor::new(&st.klines, iv, crate::num::wall_ms())
                        };
                        subs.push(Sub {
                            channel: ch.clone(),
                            symbol: Some(symbol),
                            periodic: Some(Periodic::Kline { sym, iv, cursor }),
                            feed: None,
                            private: None,
                            acct_cursor: 0,
                            event_type: String::new(),
                            malformed_turn: 0,
                        });
                    }
                    Some(Channel::MiniTicker { symbol }) => {
                        let Some(sym) = sh.sym(VenueId::Mexc, Market::Spot, &symbol) else {
                            bad.push(ch);
                            continue;
                        };
                        subs.push(Sub {
                            channel: ch.clone(),
                            symbol: Some(symbol),
                            periodic: Some(Periodic::MiniTicker {
                                sym,
                                next: std::time::Instant::now(),
                            }),
                            feed: None,
                            private: None,
                            acct_cursor: 0,
                            event_type: String::new(),
                            malformed_turn: 0,
                        });
                    }
                    Some(Channel::Private(p)) => {
                        let cur = sh
                            .account(VenueId::Mexc, Market::Spot)
                            .map(|a| a.end())
                            .unwrap_or(0);
                        subs.push(Sub {
                            channel: ch.clone(),
                            symbol: None,
                            periodic: None,
                            feed: None,
                            private: Some(p),
                            acct_cursor: cur,
                            event_type: String::new(),
                            malformed_turn: 0,
                        });
                    }
                    None => unreachable!("rejected above"),
                }
                ok.push(ch);
            }
            if !ok.is_empty()
                && !conn::ws_write(ws, Message::Text(control(id, &ok.join(",")).into()), sh)
            {
                return false;
            }
            if bad.is_empty() {
                return true;
            }
            control(id, &blocked_msg(&bad))
        }
        "UNSUBSCRIPTION" => {
            subs.retain(|s| !params.contains(&s.channel));
            control(id, &params.join(","))
        }
        _ => return true,
    };
    conn::ws_write(ws, Message::Text(reply.into()), sh) && conn::ws_flush(ws, sh)
}
