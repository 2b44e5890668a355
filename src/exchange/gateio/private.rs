//! Private push channels (general path): `spot.orders`, `spot.usertrades`, `spot.balances`,
//! `futures.orders`, `futures.usertrades`, `futures.positions`, `futures.balances`.
//!
//! Exactness: order/fill prices and sizes are parsed exactly into `Px`/`Qty` (error if they do
//! not fit the type). Values the venue computes and prints with arbitrary digits
//! (`avg_deal_price`, `fill_price`, fees, `entry_price`, `margin`, `leverage`, PnL, balances)
//! are parsed exactly into [`Dec`] from their text — never rounded, never through `f64`.

use super::wire::{side_of, signed_size, Doc};
use crate::event::{
    BalanceMsg, DecodeError, FillMsg, Liquidity, OrderMsg, OrderStatus, OrderType, PositionMsg,
    Sink,
};
use crate::types::{Dec, Px, Qty};

/// Map Gate spot order `event` + `finish_as` to a status.
pub fn spot_status(event: &str, finish_as: &str, filled: Qty) -> OrderStatus {
    match event {
        "put" => OrderStatus::New,
        "update" => {
            if filled.0 > 0 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::New
            }
        }
        "finish" => finished_as(finish_as, filled),
        _ => OrderStatus::Other,
    }
}

/// `finish_as` of a closed order (spot and futures share the vocabulary).
pub fn finished_as(finish_as: &str, filled: Qty) -> OrderStatus {
    match finish_as {
        "filled" => OrderStatus::Filled,
        "cancelled" | "canceled" => {
            if filled.0 > 0 {
                OrderStatus::PartiallyCanceled
            } else {
                OrderStatus::Canceled
            }
        }
        "" | "-" | "open" => OrderStatus::Other,
        // ioc, fok, poc, stp, small, depth_not_enough, trader_not_enough, liquidate_cancelled,
        // liquidated, auto_deleveraged, reduce_only, position_closed, …
        _ => OrderStatus::Expired,
    }
}

pub(crate) fn order_type(tif: Option<&str>, kind: Option<&str>, px: Px) -> OrderType {
    match tif {
        Some("ioc") => return OrderType::Ioc,
        Some("poc") => return OrderType::PostOnly,
        Some("fok") => return OrderType::Fok,
        _ => {}
    }
    match kind {
        Some("market") => OrderType::Market,
        Some("limit") => OrderType::Limit,
        Some(_) => OrderType::Other,
        None if px.0 == 0 => OrderType::Market,
        None => OrderType::Limit,
    }
}

pub(crate) fn client_id(t: Option<&str>) -> Option<&str> {
    t.filter(|s| !s.is_empty() && *s != "-")
}

/// Run `f` on the result object, or on each element of the result array.
fn each<'a, S: Sink>(
    d: &mut Doc<'_, 'a>,
    r: usize,
    sink: &mut S,
    f: fn(&mut Doc<'_, 'a>, usize, &mut S) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    if d.obj_len(r).is_some() {
        return f(d, r, sink);
    }
    let n = d.arr_len(r).ok_or(DecodeError::WrongType("result"))?;
    let mut e = r + 1;
    for _ in 0..n {
        if d.obj_len(e).is_none() {
            return Err(DecodeError::WrongType("result"));
        }
        f(d, e, sink)?;
        e = d.skip(e);
    }
    Ok(())
}

macro_rules! req {
    ($d:ident, $opt:expr, $name:literal, $method:ident) => {
        $d.$method($opt.ok_or(DecodeError::MissingField($name))?, $name)?
    };
}

fn opt_ms(
    d: &mut Doc<'_, '_>,
    i: Option<usize>,
    f: &'static str,
) -> Result<Option<i64>, DecodeError> {
    match i {
        Some(i) if !d.is_null(i) => d.ms_at(i, f).map(Some),
        _ => Ok(None),
    }
}

fn str_field<'a>(
    d: &Doc<'_, 'a>,
    i: Option<usize>,
    f: &'static str,
) -> Result<&'a str, DecodeError> {
    d.str_at(i.ok_or(DecodeError::MissingField(f))?)
        .ok_or(DecodeError::WrongType(f))
}

pub(crate) fn spot_orders<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, spot_order)
}

fn spot_order<S: Sink>(d: &mut Doc<'_, '_>, o: usize, sink: &mut S) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 15] = [None; 15];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "currency_pair" => 0,
            "id" => 1,
            "text" => 2,
            "side" => 3,
            "type" => 4,
            "time_in_force" => 5,
            "amount" => 6,
            "price" => 7,
            "left" => 8,
            "filled_amount" => 9,
            "avg_deal_price" => 10,
            "event" => 11,
            "finish_as" => 12,
            "create_time_ms" => 13,
            "update_time_ms" => 14,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let symbol = str_field(d, f[0], "currency_pair")?;
    let order_id = d.id_at(f[1].ok_or(DecodeError::MissingField("id"))?, "id")?;
    let text = f[2].and_then(|i| d.str_at(i));
    let side = side_of(str_field(d, f[3], "side")?)?;
    let kind = f[4].and_then(|i| d.str_at(i));
    let tif = f[5].and_then(|i| d.str_at(i));
    let qty = req!(d, f[6], "amount", qty);
    let px = req!(d, f[7], "price", px_or_empty);
    let remaining = req!(d, f[8], "left", qty);
    let filled = match f[9] {
        Some(i) => d.qty(i, "filled_amount")?,
        None => Qty(qty.0.saturating_sub(remaining.0).max(0)),
    };
    let avg_px = match f[10] {
        Some(i) => d.dec_at(i, "avg_deal_price")?,
        None => Dec::ZERO,
    };
    let event = str_field(d, f[11], "event")?;
    let finish_as = f[12].and_then(|i| d.str_at(i)).unwrap_or("");
    let ts_create_ms = opt_ms(d, f[13], "create_time_ms")?;
    let ts_update_ms = opt_ms(d, f[14], "update_time_ms")?;
    sink.order(&OrderMsg {
        symbol,
        order_id,
        client_id: client_id(text),
        side,
        order_type: order_type(tif, kind, px),
        px,
        qty,
        filled,
        remaining,
        avg_px,
        status: spot_status(event, finish_as, filled),
        ts_create_ms,
        ts_update_ms,
    });
    Ok(())
}

pub(crate) fn futures_orders<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, futures_order)
}

fn futures_order<S: Sink>(d: &mut Doc<'_, '_>, o: usize, sink: &mut S) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 13] = [None; 13];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "contract" => 0,
            "id" => 1,
            "text" => 2,
            "size" => 3,
            "left" => 4,
            "price" => 5,
            "fill_price" => 6,
            "tif" => 7,
            "status" => 8,
            "finish_as" => 9,
            "create_time_ms" => 10,
            "update_time" => 11,
            "finish_time_ms" => 12,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let symbol = str_field(d, f[0], "contract")?;
    let order_id = d.id_at(f[1].ok_or(DecodeError::MissingField("id"))?, "id")?;
    let text = f[2].and_then(|i| d.str_at(i));
    let (side, qty) = signed_size(req!(d, f[3], "size", qty_signed))?;
    let remaining = match f[4] {
        Some(i) => d.qty_signed(i, "left")?.abs(),
        None => Qty::ZERO,
    };
    let px = req!(d, f[5], "price", px_or_empty);
    let avg_px = match f[6] {
        Some(i) => d.dec_at(i, "fill_price")?,
        None => Dec::ZERO,
    };
    let filled = Qty(qty.0.saturating_sub(remaining.0).max(0));
    let tif = f[7].and_then(|i| d.str_at(i));
    let status = f[8].and_then(|i| d.str_at(i)).unwrap_or("");
    let finish_as = f[9].and_then(|i| d.str_at(i)).unwrap_or("");
    let status = match status {
        "open" => {
            if filled.0 > 0 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::New
            }
        }
        "finished" => finished_as(finish_as, filled),
        _ => OrderStatus::Other,
    };
    let ts_create_ms = opt_ms(d, f[10], "create_time_ms")?;
    let ts_update_ms = match opt_ms(d, f[11], "update_time")? {
        Some(t) => Some(t),
        None => opt_ms(d, f[12], "finish_time_ms")?,
    };
    sink.order(&OrderMsg {
        symbol,
        order_id,
        client_id: client_id(text),
        side,
        order_type: order_type(tif, None, px),
        px,
        qty,
        filled,
        remaining,
        avg_px,
        status,
        ts_create_ms,
        ts_update_ms,
    });
    Ok(())
}

pub(crate) fn liquidity(s: Option<&str>) -> Liquidity {
    match s {
        Some("maker") => Liquidity::Maker,
        Some("taker") => Liquidity::Taker,
        _ => Liquidity::Unknown,
    }
}

pub(crate) fn spot_usertrades<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, spot_usertrade)
}

fn spot_usertrade<S: Sink>(d: &mut Doc<'_, '_>, o: usize, sink: &mut S) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 11] = [None; 11];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "currency_pair" => 0,
            "id" => 1,
            "order_id" => 2,
            "text" => 3,
            "side" => 4,
            "amount" => 5,
            "price" => 6,
            "role" => 7,
            "fee" => 8,
            "fee_currency" => 9,
            "create_time_ms" => 10,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let symbol = str_field(d, f[0], "currency_pair")?;
    let trade_id = d.id_at(f[1].ok_or(DecodeError::MissingField("id"))?, "id")?;
    let order_id = d.id_at(
        f[2].ok_or(DecodeError::MissingField("order_id"))?,
        "order_id",
    )?;
    let text = f[3].and_then(|i| d.str_at(i));
    let side = side_of(str_field(d, f[4], "side")?)?;
    let qty = req!(d, f[5], "amount", qty);
    let px = req!(d, f[6], "price", pxu);
    let liq = liquidity(f[7].and_then(|i| d.str_at(i)));
    let fee = match f[8] {
        Some(i) => d.dec_at(i, "fee")?,
        None => Dec::ZERO,
    };
    let fee_currency = f[9].and_then(|i| d.str_at(i));
    let ts = opt_ms(d, f[10], "create_time_ms")?;
    sink.fill(&FillMsg {
        symbol,
        trade_id,
        order_id,
        client_id: client_id(text),
        px,
        qty,
        side,
        liquidity: liq,
        fee,
        fee_currency,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(crate) fn futures_usertrades<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, futures_usertrade)
}

fn futures_usertrade<S: Sink>(
    d: &mut Doc<'_, '_>,
    o: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 9] = [None; 9];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "contract" => 0,
            "id" => 1,
            "order_id" => 2,
            "text" => 3,
            "size" => 4,
            "price" => 5,
            "role" => 6,
            "fee" => 7,
            "create_time_ms" => 8,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let symbol = str_field(d, f[0], "contract")?;
    let trade_id = d.id_at(f[1].ok_or(DecodeError::MissingField("id"))?, "id")?;
    let order_id = d.id_at(
        f[2].ok_or(DecodeError::MissingField("order_id"))?,
        "order_id",
    )?;
    let text = f[3].and_then(|i| d.str_at(i));
    let (side, qty) = signed_size(req!(d, f[4], "size", qty_signed))?;
    let px = req!(d, f[5], "price", pxu);
    let liq = liquidity(f[6].and_then(|i| d.str_at(i)));
    let fee = match f[7] {
        Some(i) => d.dec_at(i, "fee")?,
        None => Dec::ZERO,
    };
    let ts = opt_ms(d, f[8], "create_time_ms")?;
    sink.fill(&FillMsg {
        symbol,
        trade_id,
        order_id,
        client_id: client_id(text),
        px,
        qty,
        side,
        liquidity: liq,
        fee,
        fee_currency: None,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(crate) fn spot_balances<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, spot_balance)
}

fn spot_balance<S: Sink>(d: &mut Doc<'_, '_>, o: usize, sink: &mut S) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 7] = [None; 7];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "currency" => 0,
            "available" => 1,
            "freeze" => 2,
            "total" => 3,
            "change" => 4,
            "change_type" => 5,
            "timestamp_ms" => 6,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let asset = str_field(d, f[0], "currency")?;
    let available = req!(d, f[1], "available", dec_at);
    let locked = match f[2] {
        Some(i) => d.dec_at(i, "freeze")?,
        None => Dec::ZERO,
    };
    let total = match f[3] {
        Some(i) => Some(d.dec_at(i, "total")?),
        None => None,
    };
    let change = match f[4] {
        Some(i) => Some(d.dec_at(i, "change")?),
        None => None,
    };
    let reason = f[5].and_then(|i| d.str_at(i));
    let ts = opt_ms(d, f[6], "timestamp_ms")?;
    sink.balance(&BalanceMsg {
        asset,
        available,
        locked,
        total,
        change,
        reason,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(crate) fn futures_balances<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, futures_balance)
}

/// `futures.balances`: `balance` is the account balance after the change; Gate sends no frozen
/// part here, so `available = total = balance`, `locked = 0`.
fn futures_balance<S: Sink>(
    d: &mut Doc<'_, '_>,
    o: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 5] = [None; 5];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "currency" => 0,
            "balance" => 1,
            "change" => 2,
            "type" => 3,
            "time_ms" => 4,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let asset = str_field(d, f[0], "currency")?;
    let balance = req!(d, f[1], "balance", dec_at);
    let change = match f[2] {
        Some(i) => Some(d.dec_at(i, "change")?),
        None => None,
    };
    let reason = f[3].and_then(|i| d.str_at(i));
    let ts = opt_ms(d, f[4], "time_ms")?;
    sink.balance(&BalanceMsg {
        asset,
        available: balance,
        locked: Dec::ZERO,
        total: Some(balance),
        change,
        reason,
        ts_exchange_ms: ts,
    });
    Ok(())
}

pub(crate) fn positions<S: Sink>(
    d: &mut Doc<'_, '_>,
    r: usize,
    sink: &mut S,
) -> Result<(), DecodeError> {
    each(d, r, sink, position)
}

fn position<S: Sink>(d: &mut Doc<'_, '_>, o: usize, sink: &mut S) -> Result<(), DecodeError> {
    let mut f: [Option<usize>; 8] = [None; 8];
    for (k, v) in d.fields(o) {
        let slot = match k {
            "contract" => 0,
            "size" => 1,
            "entry_price" => 2,
            "leverage" => 3,
            "margin" => 4,
            "liq_price" => 5,
            "realised_pnl" => 6,
            "time_ms" => 7,
            _ => continue,
        };
        f[slot] = Some(v);
    }
    let contract = str_field(d, f[0], "contract")?;
    let size = req!(d, f[1], "size", qty_signed);
    let px = |d: &mut Doc<'_, '_>, i: Option<usize>, n: &'static str| match i {
        Some(i) => d.dec_at(i, n),
        None => Ok(Dec::ZERO),
    };
    let entry_px = px(d, f[2], "entry_price")?;
    let leverage = px(d, f[3], "leverage")?;
    let margin = px(d, f[4], "margin")?;
    let liq_px = px(d, f[5], "liq_price")?;
    let realised_pnl = px(d, f[6], "realised_pnl")?;
    let ts = opt_ms(d, f[7], "time_ms")?;
    sink.position(&PositionMsg {
        contract,
        size,
        entry_px,
        leverage,
        margin,
        liq_px,
        realised_pnl,
        ts_exchange_ms: ts,
    });
    Ok(())
}
