//! Private push bodies → events: orders (304), deals/fills (306), account (307); and the
//! venue's order enums mapped explicitly.

use super::wire::{
    dec, opt_utf8, px, px_or_zero, qty, qty_or_zero, trade_side, utf8, Chunks, Fields, Head,
};
use crate::event::{
    BalanceMsg, DecodeError, FillMsg, IdRef, Liquidity, OrderMsg, OrderStatus, OrderType, Sink,
};

#[derive(Debug, Default, Clone, Copy)]
struct OrderView<'a> {
    id: &'a [u8],
    client_id: &'a [u8],
    price: &'a [u8],
    quantity: &'a [u8],
    avg_price: &'a [u8],
    order_type: i32,
    trade_type: i32,
    remain_quantity: &'a [u8],
    cumulative_quantity: &'a [u8],
    status: i32,
    create_time: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct FillView<'a> {
    price: &'a [u8],
    quantity: &'a [u8],
    trade_type: i32,
    is_maker: bool,
    trade_id: &'a [u8],
    client_order_id: &'a [u8],
    order_id: &'a [u8],
    fee_amount: &'a [u8],
    fee_currency: &'a [u8],
    time: i64,
}

#[derive(Debug, Default, Clone, Copy)]
struct AccountView<'a> {
    vcoin_name: &'a [u8],
    balance_amount: &'a [u8],
    balance_amount_change: &'a [u8],
    frozen_amount: &'a [u8],
    kind: &'a [u8],
    time: i64,
}

/// Order `status`: 1 new, 2 filled, 3 partially filled, 4 canceled, 5 partially canceled.
pub const fn order_status(status: i32) -> OrderStatus {
    match status {
        1 => OrderStatus::New,
        2 => OrderStatus::Filled,
        3 => OrderStatus::PartiallyFilled,
        4 => OrderStatus::Canceled,
        5 => OrderStatus::PartiallyCanceled,
        _ => OrderStatus::Other,
    }
}

/// `orderType`: 1 LIMIT, 2 POST_ONLY, 3 IOC, 4 FOK, 5 MARKET, 100 stop-loss/take-profit.
pub const fn order_type(order_type: i32) -> OrderType {
    match order_type {
        1 => OrderType::Limit,
        2 => OrderType::PostOnly,
        3 => OrderType::Ioc,
        4 => OrderType::Fok,
        5 => OrderType::Market,
        100 => OrderType::Stop,
        _ => OrderType::Other,
    }
}

/// `isMaker` → liquidity.
pub const fn liquidity(is_maker: bool) -> Liquidity {
    if is_maker {
        Liquidity::Maker
    } else {
        Liquidity::Taker
    }
}

fn emit_order<S: Sink>(
    head: &Head<'_>,
    v: &OrderView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let m = OrderMsg {
        symbol: head.symbol()?,
        order_id: IdRef::Str(utf8("id", v.id)?),
        client_id: opt_utf8("clientId", v.client_id)?,
        side: trade_side(v.trade_type)?,
        order_type: order_type(v.order_type),
        px: px_or_zero("price", v.price)?,
        qty: qty_or_zero("quantity", v.quantity)?,
        filled: qty_or_zero("cumulativeQuantity", v.cumulative_quantity)?,
        remaining: qty_or_zero("remainQuantity", v.remain_quantity)?,
        avg_px: dec("avgPrice", v.avg_price)?,
        status: order_status(v.status),
        ts_create_ms: if v.create_time != 0 {
            Some(v.create_time)
        } else {
            None
        },
        ts_update_ms: head.send_time.or(head.create_time),
    };
    sink.order(&m);
    Ok(())
}

fn emit_fill<S: Sink>(head: &Head<'_>, v: &FillView<'_>, sink: &mut S) -> Result<(), DecodeError> {
    let m = FillMsg {
        symbol: head.symbol()?,
        trade_id: IdRef::Str(utf8("tradeId", v.trade_id)?),
        order_id: IdRef::Str(utf8("orderId", v.order_id)?),
        client_id: opt_utf8("clientOrderId", v.client_order_id)?,
        px: px("price", v.price)?,
        qty: qty("quantity", v.quantity)?,
        side: trade_side(v.trade_type)?,
        liquidity: liquidity(v.is_maker),
        fee: dec("feeAmount", v.fee_amount)?,
        fee_currency: opt_utf8("feeCurrency", v.fee_currency)?,
        ts_exchange_ms: head.ts(v.time),
    };
    sink.fill(&m);
    Ok(())
}

fn emit_account<S: Sink>(
    head: &Head<'_>,
    v: &AccountView<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if v.vcoin_name.is_empty() {
        return Err(DecodeError::MissingField("vcoinName"));
    }
    let available = dec("balanceAmount", v.balance_amount)?;
    let locked = dec("frozenAmount", v.frozen_amount)?;
    let m = BalanceMsg {
        asset: utf8("vcoinName", v.vcoin_name)?,
        available,
        locked,
        total: available.checked_add(locked),
        change: if v.balance_amount_change.is_empty() {
            None
        } else {
            Some(dec("balanceAmountChange", v.balance_amount_change)?)
        },
        reason: opt_utf8("type", v.kind)?,
        ts_exchange_ms: head.ts(v.time),
    };
    sink.balance(&m);
    Ok(())
}

pub(super) fn walk_order<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = OrderView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.id = w.bytes("id")?,
                2 => v.client_id = w.bytes("clientId")?,
                3 => v.price = w.bytes("price")?,
                4 => v.quantity = w.bytes("quantity")?,
                6 => v.avg_price = w.bytes("avgPrice")?,
                7 => v.order_type = w.varint("orderType")? as i32,
                8 => v.trade_type = w.varint("tradeType")? as i32,
                11 => v.remain_quantity = w.bytes("remainQuantity")?,
                13 => v.cumulative_quantity = w.bytes("cumulativeQuantity")?,
                15 => v.status = w.varint("status")? as i32,
                16 => v.create_time = w.varint("createTime")? as i64,
                _ => {}
            }
        }
    }
    emit_order(head, &v, sink)
}

pub(super) fn walk_fill<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = FillView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.price = w.bytes("price")?,
                2 => v.quantity = w.bytes("quantity")?,
                4 => v.trade_type = w.varint("tradeType")? as i32,
                5 => v.is_maker = w.varint("isMaker")? != 0,
                7 => v.trade_id = w.bytes("tradeId")?,
                8 => v.client_order_id = w.bytes("clientOrderId")?,
                9 => v.order_id = w.bytes("orderId")?,
                10 => v.fee_amount = w.bytes("feeAmount")?,
                11 => v.fee_currency = w.bytes("feeCurrency")?,
                12 => v.time = w.varint("time")? as i64,
                _ => {}
            }
        }
    }
    emit_fill(head, &v, sink)
}

pub(super) fn walk_account<S: Sink>(
    chunks: Chunks<'_>,
    head: &Head<'_>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    let mut v = AccountView::default();
    for chunk in chunks {
        let mut f = Fields::new(chunk);
        while let Some((no, w)) = f.next_field()? {
            match no {
                1 => v.vcoin_name = w.bytes("vcoinName")?,
                3 => v.balance_amount = w.bytes("balanceAmount")?,
                4 => v.balance_amount_change = w.bytes("balanceAmountChange")?,
                5 => v.frozen_amount = w.bytes("frozenAmount")?,
                7 => v.kind = w.bytes("type")?,
                8 => v.time = w.varint("time")? as i64,
                _ => {}
            }
        }
    }
    emit_account(head, &v, sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Side;

    #[test]
    fn enums_map_explicitly() {
        assert_eq!(order_status(1), OrderStatus::New);
        assert_eq!(order_status(2), OrderStatus::Filled);
        assert_eq!(order_status(3), OrderStatus::PartiallyFilled);
        assert_eq!(order_status(4), OrderStatus::Canceled);
        assert_eq!(order_status(5), OrderStatus::PartiallyCanceled);
        assert_eq!(order_status(0), OrderStatus::Other);
        assert_eq!(order_type(1), OrderType::Limit);
        assert_eq!(order_type(2), OrderType::PostOnly);
        assert_eq!(order_type(3), OrderType::Ioc);
        assert_eq!(order_type(4), OrderType::Fok);
        assert_eq!(order_type(5), OrderType::Market);
        assert_eq!(order_type(100), OrderType::Stop);
        assert_eq!(order_type(6), OrderType::Other);
        assert_eq!(trade_side(1), Ok(Side::Buy));
        assert_eq!(trade_side(2), Ok(Side::Sell));
        assert!(trade_side(3).is_err());
        assert_eq!(liquidity(true), Liquidity::Maker);
        assert_eq!(liquidity(false), Liquidity::Taker);
    }
}
