//! Gate.io v4 WebSocket services: spot (`/ws/v4/`) and USDT futures (`/v4/ws/usdt`,
//! `/v4/ws/futures/usdt`). JSON written by hand in the documented key order.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha512;
use tungstenite::{Message, WebSocket};

use super::account::{AcctEvent, OrdStatus};
use super::feed::{Feed, Kind, Out};
use super::{Scenario, Shared, GATE_API_KEY, GATE_API_SECRET, GATE_FUTURES_USER_ID};
use crate::conn::{self, ConnFaults, Io};
use crate::num::Level;
use crate::num::{Market, Px, Qty, Side, VenueId};
use crate::sim::Symbol;

/// Futures connections get a protocol ping this often.
pub const SERVER_PING: Duration = Duration::from_secs(10);

/// Subscriptions one connection may hold (Gate.io documents no limit; 385 pairs on one
/// socket were observed, so the cap sits above that). Over it, and for a subscription the
/// connection already has, the subscribe fails as a whole with error code 2 (a duplicate:
/// `Alert sub <payload>`, the text Gate.io sends for a duplicate `obu` stream).
pub const MAX_SUBS: usize = 400;

/// How long an unsubscribe takes to be done. Until then the connection still holds the
/// stream: nothing more is pushed on it, but a subscribe to it is refused as a duplicate
/// (`Alert sub`, code 2), and the unsubscribe's ack is sent when it is done. Gate refuses a
/// second subscription to the same depth stream on one connection ("a single connection is
/// allowed to subscribe only once. Duplicate subscription attempts will result in an error",
/// Gate futures WS v4 "Maintain local depth"; fixture `gateio_spot_subscribe_error.json`), so a
/// client that sends unsubscribe and subscribe back to back is refused, as it is by Gate.
pub const UNSUBSCRIBE_DELAY: Duration = Duration::from_millis(100);

/// Under the `lifetime` fault a connection is told this long before it is closed that the
/// server is going down for an upgrade, as Gate does: `{"channel":"futures.system","event":
/// "update","result":{"type":"upgrade","msg":"The connection will soon be closed for a service
/// upgrade. Please reconnect."}}` (`spot.system` on spot; Gate futures/spot WS v4 "服务升级通知",
/// docs revision 2026-07-25). Capped at half the fault period.
pub const UPGRADE_NOTICE_LEAD: Duration = Duration::from_millis(1000);

/// The `*.system` upgrade notice (see [`UPGRADE_NOTICE_LEAD`]).
fn upgrade_notice(ctx: &Ctx) -> String {
    let now = crate::num::wall_ms();
    let mut s = String::new();
    head(&mut s, &format!("{}.system", ctx.prefix()), "update", now);
    s.push_str("{\"type\":\"upgrade\",\"msg\":\"The connection will soon be closed for a service upgrade. Please reconnect.\"}}");
    s
}

/// Private channels are polled this often when nothing else is due.
const PRIVATE_WAIT_MS: i32 = 20;
/// Longest sleep while a kline subscription waits: a closed window goes out within this.
const KLINE_WAIT_MS: i32 = 50;

/// `hex(HMAC-SHA512(secret, "channel=<ch>&event=<ev>&time=<t>"))`.
pub fn sign(secret: &str, channel: &str, event: &str, time: &str) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("any key size");
    mac.update(format!("channel={channel}&event={event}&time={time}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Priv {
    Orders,
    UserTrades,
    Balances,
    Positions,
}

enum SubKind {
    Feed {
        feed: Box<Feed>,
        /// `l` for order_book_update / order_book (depth text), obu stream name.
        label: String,
        depth: usize,
    },
    Tickers {
        sym: Arc<Symbol>,
        next: Instant,
    },
    Private {
        which: Priv,
        /// Pairs/contracts; empty = all.
        filter: Vec<String>,
        cursor: u64,
    },
    /// `*.candlesticks` `[interval, pair]`: interval index into `kline::INTERVALS`.
    Klines {
        sym: Arc<Symbol>,
        iv: usize,
        cursor: crate::kline::SubCursor,
    },
}

struct Sub {
    channel: String,
    /// The symbol for fault targeting.
    symbol: Option<String>,
    /// The subscribe payload identifying this subscription (for unsubscribe).
    key: String,
    /// What the subscription delivers (channel, symbol, normalized options): two with the
    /// same `ident` on one connection are duplicates.
    ident: String,
    kind: SubKind,
    malformed_turn: u32,
    /// `order_book_update`: when the next unprompted `full: true` push replaces a diff.
    next_full: Option<Instant>,
    /// Being unsubscribed: when that is done, and the ack to send then (see
    /// [`UNSUBSCRIBE_DELAY`]). Nothing is pushed meanwhile.
    closing: Option<(Instant, String)>,
}

struct Ctx {
    market: Market,
    decimal: bool,
    conn_id: String,
    trace_id: String,
}

impl Ctx {
    fn prefix(&self) -> &'static str {
        if self.market == Market::Spot {
            "spot"
        } else {
            "futures"
        }
    }
    /// Futures sizes: decimal string under `X-Gate-Size-Decimal: 1`, integer otherwise.
    fn size(&self, out: &mut String, q: Qty, signed_neg: bool) {
        let c = q.0 / Qty::SCALE;
        let c = if signed_neg { -c } else { c };
        if self.decimal {
            let _ = write!(out, "\"{c}\"");
        } else {
            let _ = write!(out, "{c}");
        }
    }
}

fn jstr(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn contracts(q: Qty) -> i128 {
    q.0 / Qty::SCALE
}

fn arr_levels(out: &mut String, levels: &[Level], futures: bool) {
    out.push('[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if futures {
            let _ = write!(out, "[\"{}\",\"{}\"]", l.px, contracts(l.qty));
        } else {
            let _ = write!(out, "[\"{}\",\"{}\"]", l.px, l.qty);
        }
    }
    out.push(']');
}

fn obj_levels(out: &mut String, levels: &[Level], ctx: &Ctx) {
    out.push('[');
    for (i, l) in levels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"p\":\"{}\",\"s\":", l.px);
        ctx.size(out, l.qty, false);
        out.push('}');
    }
    out.push(']');
}

fn head(out: &mut String, channel: &str, event: &str, wall: i64) {
    let _ = write!(
        out,
        "{{\"time\":{},\"time_ms\":{wall},\"channel\":\"{channel}\",\"event\":\"{event}\",\"result\":",
        wall / 1000
    );
}

/// Encode one public push for a feed subscription.
fn encode(
    out: &Out,
    sub_channel: &str,
    label: &str,
    sym: &Symbol,
    ctx: &Ctx,
) -> (String, Option<u64>) {
    encode_named(out, sub_channel, label, &sym.spec.name, ctx)
}

/// One book push (`Out::Diff`: `spot.obu`/`futures.obu`, `spot.order_book_update`,
/// `futures.order_book_update`), byte for byte as the venue's connections send it, without a
/// server: for pre-recorded buffers (the client's throughput benches, `benches/gateio.rs`).
/// `label` is the obu stream name (`ob.BTC_USDT.400`) or the `l` depth text (`"100"`);
/// `decimal`: futures sizes as decimal strings (`X-Gate-Size-Decimal: 1`). Other `out`
/// shapes or channels give an empty string.
pub fn encode_book_push(
    market: Market,
    channel: &str,
    label: &str,
    name: &str,
    out: &Out,
    decimal: bool,
) -> String {
    let ctx = Ctx {
        market,
        decimal,
        conn_id: String::new(),
        trace_id: String::new(),
    };
    encode_named(out, channel, label, name, &ctx).0
}

fn encode_named(
    out: &Out,
    sub_channel: &str,
    label: &str,
    name: &str,
    ctx: &Ctx,
) -> (String, Option<u64>) {
    let fut = ctx.market == Market::Futures;
    let now = crate::num::wall_ms();
    let mut s = String::with_capacity(256);
    let short = sub_channel
        .split_once('.')
        .map(|x| x.1)
        .unwrap_or(sub_channel);
    match (short, out) {
        (
            "obu",
            Out::Diff {
                from,
                to,
                bids,
                asks,
                full,
                wall_ms,
            },
        ) => {
            let _ = write!(
                s,
                "{{\"channel\":\"{sub_channel}\",\"result\":{{\"t\":{wall_ms},"
            );
            if *full {
                s.push_str("\"full\":true,");
            }
            let _ = write!(s, "\"s\":\"{label}\",");
            if !*full {
                let _ = write!(s, "\"U\":{from},");
            }
            let _ = write!(s, "\"u\":{to},\"b\":");
            arr_levels(&mut s, bids, fut);
            s.push_str(",\"a\":");
            arr_levels(&mut s, asks, fut);
            let _ = write!(s, "}},\"time_ms\":{now}}}");
            (s, Some(*to))
        }
        (
            "order_book_update",
            Out::Diff {
                from,
                to,
                bids,
                asks,
                full,
                wall_ms,
            },
        ) => {
            head(&mut s, sub_channel, "update", now);
            let _ = write!(s, "{{\"t\":{wall_ms},");
            if *full {
                s.push_str("\"full\":true,");
            }
            if fut {
                let _ = write!(s, "\"s\":\"{name}\",\"U\":{from},\"u\":{to},\"b\":");
                obj_levels(&mut s, bids, ctx);
                s.push_str(",\"a\":");
                obj_levels(&mut s, asks, ctx);
                let _ = write!(s, ",\"l\":\"{label}\"}}}}");
            } else {
                let _ = write!(
                    s,
                    "\"l\":\"{label}\",\"e\":\"depthUpdate\",\"E\":{},\"s\":\"{name}\",\"U\":{from},\"u\":{to},\"b\":",
                    wall_ms / 1000
                );
                arr_levels(&mut s, bids, false);
                s.push_str(",\"a\":");
                arr_levels(&mut s, asks, false);
                s.push_str("}}");
            }
            (s, Some(*to))
        }
        ("book_ticker", Out::Bbo { seq, bbo, wall_ms }) => {
            head(&mut s, sub_channel, "update", now);
            let px = |l: &Level| {
                if l.px.0 == 0 {
                    String::new()
                } else {
                    l.px.to_string()
                }
            };
            let _ = write!(
                s,
                "{{\"t\":{wall_ms},\"u\":{seq},\"s\":\"{name}\",\"b\":\"{}\",\"B\":",
                px(&bbo.bid)
            );
            if fut {
                ctx.size(&mut s, bbo.bid.qty, false);
            } else {
                let _ = write!(s, "\"{}\"", bbo.bid.qty);
            }
            let _ = write!(s, ",\"a\":\"{}\",\"A\":", px(&bbo.ask));
            if fut {
                ctx.size(&mut s, bbo.ask.qty, false);
            } else {
                let _ = write!(s, "\"{}\"", bbo.ask.qty);
            }
            s.push_str("}}");
            (s, Some(*seq))
        }
        ("trades", Out::Trades(t)) => {
            head(&mut s, sub_channel, "update", now);
            if fut {
                s.push('[');
                for (i, d) in t.iter().enumerate() {
                    if i > 0 {
                        s.push(',');
                    }
                    s.push_str("{\"size\":");
                    ctx.size(&mut s, d.qty, d.side == Side::Sell);
                    let _ = write!(
                        s,
                        ",\"id\":{},\"create_time\":{},\"create_time_ms\":{},\"price\":\"{}\",\"contract\":\"{name}\"}}",
                        d.id / 2,
                        d.wall_ms / 1000,
                        d.wall_ms,
                        d.px
                    );
                }
                s.push_str("]}");
            } else {
                // Spot pushes one object per trade: only the first here; callers split.
                let d = &t[0];
                let idm = d.id / 2 % 1_000_000_000;
                let _ = write!(
                    s,
                    "{{\"id\":{},\"id_market\":{idm},\"create_time\":{},\"create_time_ms\":\"{}.{:04}\",\"side\":\"{}\",\"currency_pair\":\"{name}\",\"amount\":\"{}\",\"price\":\"{}\",\"range\":\"{idm}-{idm}\"}}}}",
                    d.id / 2,
                    d.wall_ms / 1000,
                    d.wall_ms,
                    d.seq % 10_000,
                    d.side.as_str(),
                    d.qty,
                    d.px
                );
            }
            (s, None)
        }
        (
            "order_book",
            Out::Top {
                seq,
                bids,
                asks,
                wall_ms,
            },
        ) => {
            if fut {
                head(&mut s, sub_channel, "all", now);
                let _ = write!(
                    s,
                    "{{\"t\":{wall_ms},\"contract\":\"{name}\",\"id\":{seq},\"asks\":"
                );
                obj_levels(&mut s, asks, ctx);
                s.push_str(",\"bids\":");
                obj_levels(&mut s, bids, ctx);
                let _ = write!(s, ",\"l\":\"{label}\"}}}}");
            } else {
                head(&mut s, sub_channel, "update", now);
                let _ = write!(
                    s,
                    "{{\"t\":{wall_ms},\"lastUpdateId\":{seq},\"s\":\"{name}\",\"l\":\"{label}\",\"bids\":"
                );
                arr_levels(&mut s, bids, false);
                s.push_str(",\"asks\":");
                arr_levels(&mut s, asks, false);
                s.push_str("}}");
            }
            (s, Some(*seq))
        }
        _ => (String::new(), None),
    }
}

fn ticker(sym: &Symbol, ctx: &Ctx) -> String {
    let st = sym.lock();
    let bbo = st.book.bbo();
    let last = Px(st.last_trade_px);
    let open = st.open_px.max(1);
    let chg = Px(crate::num::mul_div(
        (st.last_trade_px - open) * 100,
        Px::SCALE,
        open,
    ));
    let chg = Px(chg.0 / 1_000_000_000_000 * 1_000_000_000_000); // 4 decimals
    let vol = Qty(st.volume);
    let turnover = Px(st.turnover_units);
    let turnover = Px(turnover.0 / 100_000_000 * 100_000_000); // 8 decimals
    let (hi, lo) = (Px(st.high_px), Px(st.low_px));
    drop(st);
    let now = crate::num::wall_ms();
    let mut s = String::with_capacity(400);
    let ch = format!("{}.tickers", ctx.prefix());
    head(&mut s, &ch, "update", now);
    let name = &sym.spec.name;
    if ctx.market == Market::Spot {
        let _ = write!(
            s,
            "{{\"currency_pair\":\"{name}\",\"last\":\"{last}\",\"lowest_ask\":\"{}\",\"highest_bid\":\"{}\",\"change_percentage\":\"{chg}\",\"base_volume\":\"{vol}\",\"quote_volume\":\"{turnover}\",\"high_24h\":\"{hi}\",\"low_24h\":\"{lo}\"}}}}",
            bbo.ask.px, bbo.bid.px
        );
    } else {
        let mark = Px((bbo.bid.px.0 + bbo.ask.px.0) / 2 / sym.spec.tick * sym.spec.tick);
        let index = Px(mark.0 - sym.spec.tick);
        let contracts = vol.0 / Qty::SCALE;
        let mult = sym.spec.multiplier.unwrap_or(Qty(Qty::SCALE));
        let base = Qty(contracts * mult.0);
        let total = format!("\"{}\"", 100_000 + contracts);
        let _ = write!(
            s,
            "[{{\"contract\":\"{name}\",\"last\":\"{last}\",\"change_percentage\":\"{chg}\",\"funding_rate\":\"0.0001\",\"funding_rate_indicative\":\"0.0001\",\"mark_price\":\"{mark}\",\"index_price\":\"{index}\",\"total_size\":{total},\"volume_24h\":\"{contracts}\",\"volume_24h_btc\":\"0\",\"volume_24h_usd\":\"{turnover}\",\"quanto_base_rate\":\"\",\"volume_24h_quote\":\"{turnover}\",\"volume_24h_settle\":\"{turnover}\",\"volume_24h_base\":\"{base}\",\"low_24h\":\"{lo}\",\"high_24h\":\"{hi}\"}}]}}"
        );
    }
    s
}

/// One `spot.candlesticks` / `futures.candlesticks` push (protocols.md §3.2; Gate spot WS v4
/// "Candlesticks Channel": spot result is one object, `t` a string of seconds, `v` quote
/// volume, `a` base amount, `w` window closed; futures WS v4 "Candlesticks notification":
/// result is an array, `t` and `v` integers, `v` in contracts, `a` amount).
fn candle(sym: &Symbol, code: &str, c: &crate::kline::Candle, ctx: &Ctx) -> String {
    let mut s = String::with_capacity(300);
    let ch = format!("{}.candlesticks", ctx.prefix());
    head(&mut s, &ch, "update", crate::num::wall_ms());
    let name = &sym.spec.name;
    let t = c.open_ms / 1000;
    let w = c.closed;
    if ctx.market == Market::Spot {
        let _ = write!(
            s,
            "{{\"t\":\"{t}\",\"v\":\"{}\",\"c\":\"{}\",\"h\":\"{}\",\"l\":\"{}\",\"o\":\"{}\",\"n\":\"{code}_{name}\",\"a\":\"{}\",\"w\":{w}}}}}",
            c.quote_volume, c.close, c.high, c.low, c.open, c.volume
        );
    } else {
        let _ = write!(s, "[{{\"t\":{t},\"v\":");
        ctx.size(&mut s, c.volume, false);
        let _ = write!(
            s,
            ",\"c\":\"{}\",\"h\":\"{}\",\"l\":\"{}\",\"o\":\"{}\",\"n\":\"{code}_{name}\",\"a\":\"{}\",\"w\":{w}}}]}}",
            c.close, c.high, c.low, c.open, c.base_volume
        );
    }
    s
}

/// Minimal JSON object builder for the private payloads (keeps exact decimals).
struct Obj(String);
impl Obj {
    fn new() -> Obj {
        Obj(String::from("{"))
    }
    fn sep(&mut self) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
    }
    fn s(mut self, k: &str, v: &str) -> Obj {
        self.sep();
        let _ = write!(self.0, "\"{k}\":{}", jstr(v));
        self
    }
    fn n(mut self, k: &str, v: impl std::fmt::Display) -> Obj {
        self.sep();
        let _ = write!(self.0, "\"{k}\":{v}");
        self
    }
    fn done(mut self) -> String {
        self.0.push('}');
        self.0
    }
}

fn private_item(ev: &AcctEvent, which: Priv, ctx: &Ctx, filter: &[String]) -> Option<String> {
    let pass = |sym: &str| filter.is_empty() || filter.iter().any(|f| f == sym || f == "!all");
    let uid = GATE_FUTURES_USER_ID;
    let fut = ctx.market == Market::Futures;
    let size = |q: Qty, neg: bool| -> String {
        let mut s = String::new();
        ctx.size(&mut s, q, neg);
        s
    };
    match (ev, which) {
        (AcctEvent::Order(o), Priv::Orders) if pass(&o.symbol) => {
            let left = Qty(o.qty.0 - o.filled.0);
            let finished = matches!(o.status, OrdStatus::Filled | OrdStatus::Cancelled);
            let finish_as = match o.status {
                OrdStatus::New => {
                    if fut {
                        "_new"
                    } else {
                        "open"
                    }
                }
                OrdStatus::Partial => {
                    if fut {
                        "_update"
                    } else {
                        "open"
                    }
                }
                OrdStatus::Filled => "filled",
                OrdStatus::Cancelled => "cancelled",
            };
            if fut {
                let sell = o.side == Side::Sell;
                Some(
                    Obj::new()
                        .s("contract", &o.symbol)
                        .n("create_time", o.create_ms / 1000)
                        .n("create_time_ms", o.create_ms)
                        .n(
                            "fill_price",
                            if o.filled.0 > 0 { o.avg_px } else { Px::ZERO },
                        )
                        .s("finish_as", finish_as)
                        .n("finish_time", if finished { o.update_ms / 1000 } else { 0 })
                        .n("finish_time_ms", if finished { o.update_ms } else { 0 })
                        .n("iceberg", size(Qty::ZERO, false))
                        .n("id", o.id)
                        .n("is_close", false)
                        .n("is_liq", false)
                        .n("is_reduce_only", false)
                        .n("left", size(left, sell))
                        .n("mkfr", "-0.00025")
                        .n("price", o.px)
                        .n("refr", 0)
                        .n("refu", 0)
                        .n("size", size(o.qty, sell))
                        .s("status", if finished { "finished" } else { "open" })
                        .s("text", "-")
                        .s("tif", "gtc")
                        .n("tkfr", "0.0005")
                        .s("user", &uid.to_string())
                        .n("update_id", o.update_id)
                        .n("update_time", o.update_ms)
                        .s("stop_loss_price", "")
                        .s("stop_profit_price", "")
                        .done(),
                )
            } else {
                let event = match o.status {
                    OrdStatus::New => "put",
                    OrdStatus::Partial => "update",
                    _ => "finish",
                };
                let filled_total = super::account::notional(o.avg_px, o.filled, None);
                Some(
                    Obj::new()
                        .s("id", &o.id.to_string())
                        .s("text", "t-cexfeed")
                        .s("create_time", &(o.create_ms / 1000).to_string())
                        .s("update_time", &(o.update_ms / 1000).to_string())
                        .s("currency_pair", &o.symbol)
                        .s("type", "limit")
                        .s("account", "spot")
                        .s("side", o.side.as_str())
                        .s("amount", &o.qty.to_string())
                        .s("price", &o.px.to_string())
                        .s("time_in_force", "gtc")
                        .s("left", &left.to_string())
                        .s("filled_total", &filled_total.to_string())
                        .s("filled_amount", &o.filled.to_string())
                        .s("avg_deal_price", &o.avg_px.to_string())
                        .s("fee", &o.fee.to_string())
                        .s("fee_currency", "USDT")
                        .s("point_fee", "0")
                        .s("gt_fee", "0")
                        .s("rebated_fee", "0")
                        .s("rebated_fee_currency", "USDT")
                        .s("create_time_ms", &o.create_ms.to_string())
                        .s("update_time_ms", &o.update_ms.to_string())
                        .n("user", uid)
                        .s("event", event)
                        .n("stp_id", 0)
                        .s("stp_act", "-")
                        .s("finish_as", finish_as)
                        .s("biz_info", "-")
                        .s("amend_text", "-")
                        .done(),
                )
            }
        }
        (AcctEvent::Fill(f), Priv::UserTrades) if pass(&f.symbol) => {
            let role = if f.maker { "maker" } else { "taker" };
            if fut {
                let mut o = Obj::new()
                    .s("id", &f.trade_id.to_string())
                    .n("create_time", f.time_ms / 1000)
                    .n("create_time_ms", f.time_ms)
                    .s("contract", &f.symbol)
                    .s("order_id", &f.order_id.to_string())
                    .n("size", size(f.qty, f.side == Side::Sell))
                    .s("price", &f.px.to_string())
                    .s("role", role)
                    .s("text", "api")
                    .n("fee", f.fee)
                    .n("point_fee", 0);
                if ctx.decimal {
                    o = o.s("close_size", "0");
                }
                Some(o.done())
            } else {
                Some(
                    Obj::new()
                        .n("id", f.trade_id)
                        .n("user_id", uid)
                        .s("order_id", &f.order_id.to_string())
                        .s("currency_pair", &f.symbol)
                        .n("create_time", f.time_ms / 1000)
                        .s("create_time_ms", &format!("{}.000", f.time_ms))
                        .s("side", f.side.as_str())
                        .s("amount", &f.qty.to_string())
                        .s("role", role)
                        .s("price", &f.px.to_string())
                        .s("fee", &f.fee.to_string())
                        .s("point_fee", "0")
                        .s("gt_fee", "0")
                        .s("text", "apiv4")
                        .n("id_market", f.trade_id)
                        .done(),
                )
            }
        }
        (AcctEvent::Balance(b), Priv::Balances) => {
            if fut {
                Some(
                    Obj::new()
                        .n("balance", b.total)
                        .n("change", b.change)
                        .s("text", "BTC_USDT:3914424")
                        .n("time", b.time_ms / 1000)
                        .n("time_ms", b.time_ms)
                        .s(
                            "type",
                            if b.change_type == "order-match" {
                                "fee"
                            } else {
                                "order"
                            },
                        )
                        .s("user", &uid.to_string())
                        .s("currency", &b.currency.to_ascii_lowercase())
                        .done(),
                )
            } else {
                Some(
                    Obj::new()
                        .s("timestamp", &(b.time_ms / 1000).to_string())
                        .s("timestamp_ms", &b.time_ms.to_string())
                        .s("user", &uid.to_string())
                        .s("currency", &b.currency)
                        .s("change", &b.change.to_string())
                        .s("total", &b.total.to_string())
                        .s("available", &b.available.to_string())
                        .s("freeze", &b.freeze.to_string())
                        .s("freeze_change", &b.freeze_change.to_string())
                        .s("change_type", b.change_type)
                        .done(),
                )
            }
        }
        (AcctEvent::Position(p), Priv::Positions) if pass(&p.contract) => {
            let mut sz = String::new();
            ctx.size(&mut sz, Qty(p.size.abs() * Qty::SCALE), p.size < 0);
            Some(
                Obj::new()
                    .s("contract", &p.contract)
                    .n("cross_leverage_limit", 0)
                    .n("entry_price", p.entry_px)
                    .n("history_pnl", p.realised_pnl)
                    .n("history_point", 0)
                    .n("last_close_pnl", 0)
                    .n("leverage", 10)
                    .n("leverage_max", 100)
                    .n("liq_price", Px(p.entry_px.0 / 2))
                    .n("maintenance_rate", "0.005")
                    .n("margin", p.margin)
                    .s("mode", "single")
                    .n("realised_pnl", p.realised_pnl)
                    .n("realised_point", 0)
                    .n("risk_limit", 1000000)
                    .n("size", sz)
                    .n("time", p.time_ms / 1000)
                    .n("time_ms", p.time_ms)
                    .s("user", &uid.to_string())
                    .n("update_id", p.update_id)
                    .done(),
            )
        }
        _ => None,
    }
}

fn private_push(channel: &str, items: &[String]) -> String {
    let now = crate::num::wall_ms();
    let mut s = String::new();
    head(&mut s, channel, "update", now);
    s.push('[');
    s.push_str(&items.join(","));
    s.push_str("]}");
    s
}

/// A subscribe/unsubscribe answer.
fn ack(
    ctx: &Ctx,
    req: &serde_json::Value,
    channel: &str,
    event: &str,
    error: Option<(i64, String)>,
) -> String {
    let now = crate::num::wall_ms();
    let mut s = format!("{{\"time\":{},\"time_ms\":{now},", now / 1000);
    if let Some(id) = req.get("id") {
        if id.is_number() || id.is_string() {
            let _ = write!(s, "\"id\":{id},");
        }
    }
    let _ = write!(
        s,
        "\"conn_id\":\"{}\",\"trace_id\":\"{}\",\"channel\":{},\"event\":{},",
        ctx.conn_id,
        ctx.trace_id,
        jstr(channel),
        jstr(event)
    );
    if let Some(p) = req.get("payload") {
        let _ = write!(s, "\"payload\":{p},");
    }
    match error {
        None => s.push_str("\"error\":null,\"result\":{\"status\":\"success\"},"),
        Some((code, msg)) => {
            let _ = write!(
                s,
                "\"error\":{{\"code\":{code},\"message\":{}}},\"result\":{{\"status\":\"fail\"}},",
                jstr(&msg)
            );
        }
    }
    let _ = write!(s, "\"requestId\":\"{}\"}}", ctx.trace_id);
    s
}

fn pong(ctx: &Ctx) -> String {
    let now = crate::num::wall_ms();
    if ctx.market == Market::Futures {
        return format!(
            "{{\"time\":{},\"time_ms\":{now},\"channel\":\"futures.pong\",\"event\":\"\",\"result\":null}}",
            now / 1000
        );
    }
    format!(
        "{{\"time\":{},\"time_ms\":{now},\"conn_id\":\"{}\",\"channel\":\"{}.pong\",\"event\":\"\",\"error\":null,\"result\":null}}",
        now / 1000,
        ctx.conn_id,
        ctx.prefix()
    )
}

/// `hex(HMAC-SHA512(secret, "api\n<channel>\n<req_param>\n<timestamp>"))` (WS-API signature;
/// `req_param` is empty for login).
pub fn api_sign(secret: &str, channel: &str, req_param: &str, timestamp: &str) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(secret.as_bytes()).expect("any key size");
    mac.update(format!("api\n{channel}\n{req_param}\n{timestamp}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// WS-API `*.login` answer (result with the uid, or `errs` INVALID_KEY / 401).
fn login(ctx: &Ctx, req: &serde_json::Value, channel: &str) -> String {
    let p = &req["payload"];
    let key = p["api_key"].as_str().unwrap_or("");
    let ts = p.get("timestamp").map(value_text).unwrap_or_default();
    let req_id = p.get("req_id").map(value_text).unwrap_or_default();
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|t| within_60s(crate::num::wall_ms() / 1000, t));
    let ok = key == GATE_API_KEY
        && fresh
        && p["signature"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case(&api_sign(GATE_API_SECRET, channel, "", &ts)));
    let now = crate::num::wall_ms();
    let header = serde_json::json!({
        "response_time": now.to_string(),
        "status": if ok { "200" } else { "401" },
        "channel": channel,
        "event": "api",
        "clientId": "",
        "x_in_time": now * 1000,
        "x_out_time": now * 1000 + 90,
        "conn_id": ctx.conn_id,
        "conn_trace_id": ctx.trace_id,
        "trace_id": ctx.trace_id,
    });
    let data = if ok {
        serde_json::json!({"result": {"api_key": key, "uid": GATE_FUTURES_USER_ID.to_string()}})
    } else {
        serde_json::json!({"errs": {"label": "INVALID_KEY", "message": "Invalid key provided"}})
    };
    serde_json::json!({"request_id": req_id, "header": header, "data": data}).to_string()
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `|now_s - t| <= 60` without overflow (any `i64`, `i64::MIN` included).
fn within_60s(now_s: i64, t: i64) -> bool {
    now_s.abs_diff(t) <= 60
}

fn auth_ok(sh: &Shared, req: &serde_json::Value, channel: &str, event: &str) -> bool {
    let Some(auth) = req.get("auth") else {
        return false;
    };
    let t = req.get("time").map(value_text).unwrap_or_default();
    let ts: i64 = t.parse().unwrap_or(0);
    // The venue's clock (`VenueConfig::clock_skew_ms`), against which the client must sign.
    if !within_60s(sh.venue_wall_ms() / 1000, ts) {
        sh.life
            .clock_refusals
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return false;
    }
    let key_ok = auth.get("method").and_then(|m| m.as_str()) == Some("api_key")
        && auth.get("KEY").and_then(|k| k.as_str()) == Some(GATE_API_KEY);
    let want = sign(GATE_API_SECRET, channel, event, &t);
    key_ok
        && auth
            .get("SIGN")
            .and_then(|s| s.as_str())
            .is_some_and(|s| s.eq_ignore_ascii_case(&want))
}

pub(crate) fn serve(mut ws: WebSocket<Io>, sh: Arc<Shared>, market: Market, decimal: bool) {
    let n = sh.next_conn.fetch_add(1, Ordering::Relaxed);
    let mut rng = crate::sim::Rng::new(n ^ crate::num::now_ns());
    let ctx = Ctx {
        market,
        decimal,
        conn_id: format!("{:016x}", rng.next_u64()),
        trace_id: format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
    };
    let mut conn = ConnFaults::new();
    let mut subs: Vec<Sub> = Vec::new();
    let mut outs: Vec<Out> = Vec::new();
    let mut acct_buf = Vec::new();
    let acct = sh.account(VenueId::Gateio, market);
    let mut last_ping = Instant::now();
    let mut last_input = Instant::now();
    let mut sent_seqs: Vec<(Arc<Symbol>, u64, u64)> = Vec::new();
    let born = Instant::now();
    let mut upgrade_noticed = false;
    loop {
        // Futures: the server initiates protocol pings (§2.3); clients must answer.
        if market == Market::Futures && last_ping.elapsed() >= SERVER_PING {
            last_ping = Instant::now();
            if !conn::ws_write(&mut ws, Message::Ping(Vec::new().into()), &sh) {
                return;
            }
        }
        if sh.stopping() {
            let _ = ws.close(None);
            let _ = conn::ws_flush(&mut ws, &sh);
            return;
        }
        // Under `no-pong` nothing is read, so neither `*.ping` nor protocol pings are answered.
        loop {
            if conn.no_pong {
                break;
            }
            match ws.read() {
                Ok(Message::Text(t)) => {
                    last_input = Instant::now();
                    if !handle_text(&mut ws, &sh, &ctx, &mut subs, &t, &conn) {
                        return;
                    }
                }
                Ok(Message::Close(_)) => {
                    let _ = conn::ws_flush(&mut ws, &sh);
                    return;
                }
                Ok(_) => last_input = Instant::now(),
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break
                }
                Err(_) => return,
            }
        }
        // Unresponsive client (nothing received, not even a ping or pong): dropped without a
        // close frame, as Gate.io does (1006 on the client).
        let idle = sh.cfg.gate_idle_timeout;
        if !idle.is_zero() && !conn.no_pong && last_input.elapsed() >= idle {
            return;
        }
        // Unsubscribes that are done: the stream is released and the ack sent.
        let now = Instant::now();
        let mut done_acks = Vec::new();
        subs.retain_mut(|s| match &mut s.closing {
            Some((at, a)) if *at <= now => {
                if !a.is_empty() {
                    done_acks.push(std::mem::take(a));
                }
                false
            }
            _ => true,
        });
        for a in done_acks {
            if !conn::ws_write(&mut ws, Message::Text(a.into()), &sh) {
                return;
            }
        }
        let names: Vec<String> = subs.iter().filter_map(|s| s.symbol.clone()).collect();
        let f = &sh.faults;
        if !upgrade_noticed
            && !subs.is_empty()
            && f.has(Scenario::Lifetime)
            && !f.in_quiet()
            && born.elapsed() + UPGRADE_NOTICE_LEAD.min(f.period / 2) >= f.period
            && f.list.iter().any(|(s, t)| {
                *s == Scenario::Lifetime
                    && (matches!(t, super::Target::All) || names.iter().any(|n| t.matches(n)))
            })
        {
            upgrade_noticed = true;
            if !conn::ws_write(&mut ws, Message::Text(upgrade_notice(&ctx).into()), &sh) {
                return;
            }
        }
        if conn::apply(conn.check(&sh, &names), &mut ws, &sh) {
            return;
        }
        let mut sent = 0u64;
        let mut bytes = 0u64;
        for sub in subs.iter_mut().filter(|s| s.closing.is_none()) {
            let mut msgs: Vec<String> = Vec::new();
            let mut sends: Vec<(Arc<Symbol>, u64)> = Vec::new();
            match &mut sub.kind {
                SubKind::Feed { feed, label, depth } => {
                    feed.poll(&mut outs);
                    let name = feed.sym.spec.name.clone();
                    let is_obu = sub.channel.ends_with(".obu");
                    let mut skip_to: u64 = 0;
                    for o in outs.drain(..) {
                        let (is_diff, to) = match &o {
                            Out::Diff { to, .. } => (true, *to),
                            _ => (false, 0),
                        };
                        if is_diff && to <= skip_to {
                            continue;
                        }
                        // Spot trades: one push per trade.
                        if let (Out::Trades(t), Market::Spot) = (&o, market) {
                            for d in t {
                                let (s, _) = encode(
                                    &Out::Trades(vec![*d]),
                                    &sub.channel,
                                    label,
                                    &feed.sym,
                                    &ctx,
                                );
                                msgs.push(s);
                            }
                            continue;
                        }
                        if is_diff && sh.faults.due(Scenario::Gap, &name, &mut feed.seen) {
                            sh.count_fault(Scenario::Gap);
                            continue;
                        }
                        let periodic = is_diff
                            && !is_obu
                            && sub.next_full.is_some_and(|t| Instant::now() >= t);
                        if periodic {
                            sub.next_full = Some(Instant::now() + sh.cfg.gate_full_period);
                        }
                        if periodic
                            || (is_diff
                                && sh.faults.due(Scenario::FullReset, &name, &mut feed.seen))
                        {
                            if !periodic {
                                sh.count_fault(Scenario::FullReset);
                            }
                            if is_obu {
                                feed.restart_view();
                                skip_to = u64::MAX;
                                continue;
                            }
                            if let Some(full) = feed.full_now(*depth) {
                                if let Out::Diff { to, .. } = &full {
                                    skip_to = *to;
                                }
                                let (s, seq) = encode(&full, &sub.channel, label, &feed.sym, &ctx);
                                msgs.push(s);
                                if let Some(seq) = seq {
                                    sends.push((feed.sym.clone(), seq));
                                }
                            }
                            continue;
                        }
                        let (s, seq) = encode(&o, &sub.channel, label, &feed.sym, &ctx);
                        if s.is_empty() {
                            continue;
                        }
                        if let Some(seq) = seq {
                            sends.push((feed.sym.clone(), seq));
                        }
                        if sh.faults.due(Scenario::Malformed, &name, &mut feed.seen) {
                            sh.count_fault(Scenario::Malformed);
                            msgs.push(malform(&s, sub.malformed_turn));
                            sub.malformed_turn += 1;
                            continue;
                        }
                        if is_diff && sh.faults.due(Scenario::Reorder, &name, &mut feed.seen) {
                            sh.count_fault(Scenario::Reorder);
                            feed.held = Some(s.into_bytes());
                            continue;
                        }
                        let dup =
                            is_diff && sh.faults.due(Scenario::Duplicate, &name, &mut feed.seen);
                        if dup {
                            sh.count_fault(Scenario::Duplicate);
                            msgs.push(s.clone());
                        }
                        msgs.push(s);
                        if let Some(h) = feed.held.take() {
                            msgs.push(String::from_utf8(h).unwrap_or_default());
                        }
                    }
                }
                SubKind::Tickers { sym, next } => {
                    if Instant::now() >= *next {
                        *next += Duration::from_millis(1000);
                        msgs.push(ticker(sym, &ctx));
                    }
                }
                SubKind::Klines { sym, iv, cursor } => {
                    let due = {
                        let st = sym.lock();
                        cursor.due(
                            &st.klines,
                            *iv,
                            crate::num::now_ns(),
                            sh.cfg.kline_push_period.as_nanos() as u64,
                        )
                    };
                    let code = crate::kline::INTERVALS[*iv].gate.unwrap_or("");
                    for c in &due {
                        msgs.push(candle(sym, code, c, &ctx));
                    }
                }
                SubKind::Private {
                    which,
                    filter,
                    cursor,
                } => {
                    if let Some(a) = &acct {
                        acct_buf.clear();
                        a.read_from(cursor, &mut acct_buf);
                        let items: Vec<String> = acct_buf
                            .iter()
                            .filter_map(|e| private_item(e, *which, &ctx, filter))
                            .collect();
                        if !items.is_empty() {
                            msgs.push(private_push(&sub.channel, &items));
                        }
                    }
                }
            }
            let before = crate::num::now_ns();
            for m in msgs {
                bytes += m.len() as u64;
                if !conn::ws_write(&mut ws, Message::Text(m.into()), &sh) {
                    return;
                }
                sent += 1;
            }
            sent_seqs.extend(sends.into_iter().map(|(sym, seq)| (sym, seq, before)));
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
                .map(|s| match &s.kind {
                    SubKind::Feed { feed, .. } => conn::push_wait_ms(&sh, feed.interval_ms),
                    SubKind::Tickers { next, .. } => {
                        next.saturating_duration_since(Instant::now()).as_millis() as i32 + 1
                    }
                    SubKind::Private { .. } => PRIVATE_WAIT_MS,
                    SubKind::Klines { .. } => KLINE_WAIT_MS,
                })
                .chain(subs.iter().filter_map(|s| {
                    s.closing.as_ref().map(|(at, _)| {
                        at.saturating_duration_since(Instant::now()).as_millis() as i32 + 1
                    })
                }))
                .fold(conn::MAX_IDLE_WAIT_MS, i32::min);
            sh.counters.idle_waits.fetch_add(1, Ordering::Relaxed);
            conn::wait_fd(ws.get_ref().tcp(), libc::POLLIN, wait.max(1));
        }
    }
}

/// Malformed variants of a JSON push (cycled per strike): truncated, not JSON, wrong types.
pub fn malform(s: &str, turn: u32) -> String {
    match turn % 3 {
        0 => s[..s.len() / 2].to_string(),
        1 => "{\"time\":,\"channel\":}}".to_string(),
        _ => s
            .replacen("\"u\":", "\"u\":\"not-a-number\",\"x\":", 1)
            .replacen("\"b\":[", "\"b\":{\"oops\":[", 1)
            .replacen("\"result\":{", "\"result\":[{", 1),
    }
}

fn payload_strings(req: &serde_json::Value) -> Vec<String> {
    req.get("payload")
        .and_then(|p| p.as_array())
        .map(|a| a.iter().map(value_text).collect())
        .unwrap_or_default()
}

/// Handle one client text frame; false when the connection must end.
fn handle_text(
    ws: &mut WebSocket<Io>,
    sh: &Arc<Shared>,
    ctx: &Ctx,
    subs: &mut Vec<Sub>,
    text: &str,
    conn: &ConnFaults,
) -> bool {
    let Ok(req) = serde_json::from_str::<serde_json::Value>(text) else {
        let msg = format!(
            "{{\"time\":{},\"channel\":\"\",\"event\":\"\",\"error\":{{\"code\":1,\"message\":\"invalid request body format\"}},\"result\":null}}",
            crate::num::wall_ms() / 1000
        );
        return conn::ws_write(ws, Message::Text(msg.into()), sh);
    };
    let channel = req
        .get("channel")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .to_string();
    let event = req
        .get("event")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .to_string();
    let prefix = ctx.prefix();
    let Some(short) = channel
        .strip_prefix(prefix)
        .and_then(|c| c.strip_prefix('.'))
    else {
        let a = ack(
            ctx,
            &req,
            &channel,
            &event,
            Some((2, format!("Unknown channel {channel}"))),
        );
        return conn::ws_write(ws, Message::Text(a.into()), sh);
    };
    if short == "ping" {
        if conn.no_pong {
            return true;
        }
        return conn::ws_write(ws, Message::Text(pong(ctx).into()), sh);
    }
    if short == "login" && event == "api" {
        return conn::ws_write(ws, Message::Text(login(ctx, &req, &channel).into()), sh);
    }
    let payload = payload_strings(&req);
    let reply = match event.as_str() {
        "subscribe" => subscribe(sh, ctx, subs, &req, &channel, short, &payload),
        "unsubscribe" => {
            let key = payload.join(",");
            let done = Instant::now() + UNSUBSCRIBE_DELAY;
            let mut answer = Some(ack(ctx, &req, &channel, &event, None));
            for s in subs.iter_mut().filter(|s| {
                s.closing.is_none()
                    && s.channel == channel
                    && (payload.is_empty() || s.key == key || payload.contains(&s.key))
            }) {
                // The ack goes out with the first matching stream once it is done.
                s.closing = Some((done, answer.take().unwrap_or_default()));
            }
            match answer {
                Some(a) => a,
                None => return true,
            }
        }
        _ => ack(
            ctx,
            &req,
            &channel,
            &event,
            Some((1, "invalid request body format".into())),
        ),
    };
    conn::ws_write(ws, Message::Text(reply.into()), sh)
}

fn too_many() -> String {
    format!("too many subscriptions: at most {MAX_SUBS} per connection")
}

fn subscribe(
    sh: &Arc<Shared>,
    ctx: &Ctx,
    subs: &mut Vec<Sub>,
    req: &serde_json::Value,
    channel: &str,
    short: &str,
    payload: &[String],
) -> String {
    let market = ctx.market;
    let fut = market == Market::Futures;
    let err = |code: i64, msg: String| ack(ctx, req, channel, "subscribe", Some((code, msg)));
    let lookup = |name: &str| sh.sym(VenueId::Gateio, market, name);
    let unknown = |name: &str| format!("unknown currency pair: {name}");
    let per_change = sh.cfg.push_mode == super::PushMode::PerChange;
    let iv = |ms: u64| if per_change { 0 } else { ms };
    let mut new_subs: Vec<Sub> = Vec::new();
    let private = matches!(short, "orders" | "usertrades" | "balances" | "positions");
    if private {
        if !auth_ok(sh, req, channel, "subscribe") {
            return err(4, "Authentication failed".into());
        }
        if sh.faults.take_request(Scenario::AuthFail, "*") {
            sh.count_fault(Scenario::AuthFail);
            return err(4, "Authentication failed".into());
        }
        let which = match short {
            "orders" => Priv::Orders,
            "usertrades" => Priv::UserTrades,
            "balances" => Priv::Balances,
            "positions" if fut => Priv::Positions,
            _ => return err(2, format!("Unknown channel {channel}")),
        };
        let mut filter: Vec<String> = payload.to_vec();
        if fut {
            let uid_ok = filter
                .first()
                .is_some_and(|u| u.trim() == GATE_FUTURES_USER_ID.to_string());
            if !uid_ok {
                return err(2, "invalid argument: user id mismatch".into());
            }
            filter.remove(0);
        }
        if let Some(bad) = filter
            .iter()
            .find(|f| f.as_str() != "!all" && lookup(f).is_none())
        {
            return err(2, unknown(bad));
        }
        if filter.iter().any(|f| f == "!all") {
            filter.clear();
        }
        let key = payload.join(",");
        let ident = format!("{channel}|{key}");
        if subs.iter().any(|s| s.ident == ident) {
            return err(2, format!("Alert sub {key}"));
        }
        if subs.len() >= MAX_SUBS {
            return err(2, too_many());
        }
        let cursor = sh
            .account(VenueId::Gateio, market)
            .map(|a| a.end())
            .unwrap_or(0);
        subs.push(Sub {
            channel: channel.to_string(),
            symbol: None,
            key,
            ident,
            kind: SubKind::Private {
                which,
                filter,
                cursor,
            },
            malformed_turn: 0,
            next_full: None,
            closing: None,
        });
        return ack(ctx, req, channel, "subscribe", None);
    }
    let mk_feed = |sym: Arc<Symbol>, kind: Kind, ms: u64, replica: bool| {
        let mut f = Feed::new(sym, kind, ms, replica);
        let _ = sh.faults.due(Scenario::Gap, "\u{0}", &mut f.seen);
        f
    };
    match short {
        "tickers" | "trades" | "book_ticker" => {
            for name in payload {
                let Some(sym) = lookup(name) else {
                    return err(2, unknown(name));
                };
                let kind = match short {
                    "tickers" => SubKind::Tickers {
                        sym: sym.clone(),
                        next: Instant::now(),
                    },
                    "trades" => SubKind::Feed {
                        feed: Box::new(mk_feed(
                            sym,
                            Kind::Trades,
                            iv(if fut { 10 } else { 0 }),
                            false,
                        )),
                        label: String::new(),
                        depth: 0,
                    },
                    _ => SubKind::Feed {
                        feed: Box::new(mk_feed(sym, Kind::Bbo, iv(10), false)),
                        label: String::new(),
                        depth: 0,
                    },
                };
                new_subs.push(Sub {
                    channel: channel.to_string(),
                    symbol: Some(name.clone()),
                    key: name.clone(),
                    ident: format!("{channel}|{name}"),
                    kind,
                    malformed_turn: 0,
                    next_full: None,
                    closing: None,
                });
            }
        }
        "candlesticks" => {
            // `[interval, pair]` (protocols.md §3.2; futures: `[interval, contract]`, Gate
            // futures WS v4 "Candlesticks subscription"). An interval Gate does not list is
            // refused with code 2, as other bad intervals are (protocols.md §2.1: "incorrect
            // update interval specified").
            let code = payload.first().cloned().unwrap_or_default();
            let name = payload.get(1).cloned().unwrap_or_default();
            let Some(i) = crate::kline::gate_index(&code) else {
                return err(2, "incorrect update interval specified".into());
            };
            let Some(sym) = lookup(&name) else {
                return err(2, unknown(&name));
            };
            let cursor = {
                let st = sym.lock();
                crate::kline::SubCursor::new(&st.klines, i, crate::num::wall_ms())
            };
            let key = payload.join(",");
            new_subs.push(Sub {
                channel: channel.to_string(),
                symbol: Some(name.clone()),
                ident: format!("{channel}|{key}"),
                key,
                kind: SubKind::Klines { sym, iv: i, cursor },
                malformed_turn: 0,
                next_full: None,
                closing: None,
            });
        }
        "order_book_update" => {
            let name = payload.first().cloned().unwrap_or_default();
            let Some(sym) = lookup(&name) else {
                return err(2, unknown(&name));
            };
            let interval = payload.get(1).map(String::as_str).unwrap_or("100ms");
            let ms = match interval {
                "20ms" => 20,
                "100ms" => 100,
                _ => return err(2, "incorrect update interval specified".into()),
            };
            let level = if fut {
                let l = payload.get(2).map(String::as_str).unwrap_or("100");
                match (l, ms) {
                    ("20", _) => 20,
                    ("50", 100) | ("100", 100) => l.parse().unwrap_or(100),
                    _ => return err(2, "provided level not supported".into()),
                }
            } else if ms == 20 {
                20
            } else {
                100
            };
            new_subs.push(Sub {
                channel: channel.to_string(),
                symbol: Some(name.clone()),
                key: payload.join(","),
                ident: format!("{channel}|{name}|{ms}|{level}"),
                kind: SubKind::Feed {
                    feed: Box::new(mk_feed(sym, Kind::Diff, iv(ms), true)),
                    label: level.to_string(),
                    depth: level,
                },
                malformed_turn: 0,
                next_full: (!sh.cfg.gate_full_period.is_zero())
                    .then(|| Instant::now() + sh.cfg.gate_full_period),
                closing: None,
            });
        }
        "order_book" => {
            let name = payload.first().cloned().unwrap_or_default();
            let Some(sym) = lookup(&name) else {
                return err(2, unknown(&name));
            };
            let level: usize = match payload.get(1).and_then(|l| l.parse().ok()) {
                Some(l) if [1usize, 5, 10, 20, 50, 100].contains(&l) => l,
                _ => return err(2, "provided level not supported".into()),
            };
            let ms = match payload.get(2).map(String::as_str) {
                Some("1000ms") => 1000,
                Some("100ms") | Some("0") | None => 100,
                _ => return err(2, "incorrect update interval specified".into()),
            };
            new_subs.push(Sub {
                channel: channel.to_string(),
                symbol: Some(name.clone()),
                key: payload.join(","),
                ident: format!("{channel}|{name}|{level}|{ms}"),
                kind: SubKind::Feed {
                    feed: Box::new(mk_feed(sym, Kind::Top(level), ms, true)),
                    label: level.to_string(),
                    depth: level,
                },
                malformed_turn: 0,
                next_full: None,
                closing: None,
            });
        }
        "obu" => {
            for stream in payload {
                let parts: Vec<&str> = stream.split('.').collect();
                let (name, depth, ms) = match parts.as_slice() {
                    ["ob", n, "400"] => (*n, 400, 100),
                    ["ob", n, "50"] => (*n, 50, 20),
                    _ => return err(2, format!("invalid stream name: {stream}")),
                };
                let Some(sym) = lookup(name) else {
                    return err(2, unknown(name));
                };
                if subs
                    .iter()
                    .chain(new_subs.iter())
                    .any(|s| s.channel == channel && &s.key == stream)
                {
                    return err(2, format!("Alert sub {stream}"));
                }
                new_subs.push(Sub {
                    channel: channel.to_string(),
                    symbol: Some(name.to_string()),
                    key: stream.clone(),
                    ident: format!("{channel}|{stream}"),
                    kind: SubKind::Feed {
                        feed: Box::new(mk_feed(sym, Kind::Obu(depth), iv(ms), true)),
                        label: stream.clone(),
                        depth,
                    },
                    malformed_turn: 0,
                    next_full: None,
                    closing: None,
                });
            }
        }
        _ => return err(2, format!("Unknown channel {channel}")),
    }
    // Duplicates (of a held subscription or within the payload) and the cap: the whole
    // subscribe fails, nothing is added.
    for (k, s) in new_subs.iter().enumerate() {
        if subs
            .iter()
            .chain(&new_subs[..k])
            .any(|o| o.ident == s.ident)
        {
            return err(2, format!("Alert sub {}", s.key));
        }
    }
    if subs.len() + new_subs.len() > MAX_SUBS {
        return err(2, too_many());
    }
    for s in &new_subs {
        if let Some(n) = &s.symbol {
            if sh.faults.take_request(Scenario::Reject, n) {
                // A transient refusal (accepted when asked again): Gate's code 3, "server
                // side error" on spot, "service error" on futures (WS v4 "Error" tables;
                // protocols.md §2.1).
                sh.count_fault(Scenario::Reject);
                let text = if fut {
                    "service error"
                } else {
                    "server side error"
                };
                return err(3, text.to_string());
            }
        }
    }
    subs.extend(new_subs);
    ack(ctx, req, channel, "subscribe", None)
}
