//! Signed APIv4 REST for the account's state (cold path: the reconciler thread,
//! `feed::recon`): request paths and signed headers, and answer bodies → the same
//! [`Sink`] messages the private channels produce (orders, fills, balances, positions).
//!
//! Endpoints (Gate APIv4 docs, "Spot" and "Futures" sections; gateapi-python `SpotApi` /
//! `FuturesApi`): `GET /spot/open_orders` (all pairs: `[{currency_pair, total, orders:[…]}]`),
//! `GET /spot/my_trades` (`currency_pair`, `from` in seconds, `limit` ≤ 1000),
//! `GET /spot/accounts` (`[{currency, available, locked}]`), `GET /futures/usdt/orders?status=open`,
//! `GET /futures/usdt/my_trades` (`contract`, `limit` ≤ 1000), `GET /futures/usdt/positions`,
//! `GET /futures/usdt/accounts` (one object). Signing: [`super::auth::sign_rest`].

use crate::event::{BalanceMsg, FillMsg, IdRef, OrderMsg, OrderStatus, PositionMsg, Sink};
use crate::exchange::restjson::{self as rj, AccountBodyError, Obj};
use crate::secret::Credentials;
use crate::types::{Dec, Qty, Side};

use super::auth::{sign_rest, REST_KEY_HEADER, REST_SIGN_HEADER, REST_TIMESTAMP_HEADER};
use super::private::{client_id, finished_as, liquidity, order_type};

/// `GET` open orders of every spot pair.
pub const SPOT_OPEN_ORDERS_PATH: &str = "/api/v4/spot/open_orders";
/// `GET` own spot trades (`currency_pair`, `from`, `limit`).
pub const SPOT_MY_TRADES_PATH: &str = "/api/v4/spot/my_trades";
/// `GET` spot balances.
pub const SPOT_ACCOUNTS_PATH: &str = "/api/v4/spot/accounts";
/// `GET` futures orders (`status=open`).
pub const FUTURES_ORDERS_PATH: &str = "/api/v4/futures/usdt/orders";
/// `GET` own futures trades (`contract`, `limit`).
pub const FUTURES_MY_TRADES_PATH: &str = "/api/v4/futures/usdt/my_trades";
/// `GET` futures positions.
pub const FUTURES_POSITIONS_PATH: &str = "/api/v4/futures/usdt/positions";
/// `GET` the futures account (settle currency USDT).
pub const FUTURES_ACCOUNTS_PATH: &str = "/api/v4/futures/usdt/accounts";

/// Headers of a signed `GET path?query` at `timestamp_s` (venue clock, seconds): `KEY`,
/// `SIGN`, `Timestamp`. Only for an `HttpRequest` (whose `Debug` prints header names only).
pub(crate) fn signed_get_headers(
    creds: &Credentials,
    path: &str,
    query: &str,
    timestamp_s: i64,
) -> Vec<(String, String)> {
    let mut sign = String::with_capacity(128);
    sign_rest(
        &mut sign,
        &creds.api_secret,
        "GET",
        path,
        query,
        b"",
        timestamp_s,
    );
    vec![
        (
            REST_KEY_HEADER.to_string(),
            creds.api_key.expose().to_string(),
        ),
        (REST_SIGN_HEADER.to_string(), sign),
        (REST_TIMESTAMP_HEADER.to_string(), timestamp_s.to_string()),
        ("Accept".to_string(), "application/json".to_string()),
    ]
}

fn side(o: &Obj<'_>) -> Result<Side, AccountBodyError> {
    match rj::req(o, "side")? {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        _ => Err(AccountBodyError::Bad("side")),
    }
}

fn id<'a>(o: &Obj<'a>, k: &'static str) -> Result<IdRef<'a>, AccountBodyError> {
    Ok(IdRef::Str(rj::req(o, k)?))
}

/// `GET /spot/open_orders`: every order of every pair, in the answer's order.
pub(crate) fn spot_open_orders<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for pair in rj::array(body)? {
        let Some(raw) = pair.get("orders") else {
            continue;
        };
        for o in rj::array(raw.get().as_bytes())? {
            spot_order(&o, sink)?;
        }
    }
    Ok(())
}

fn spot_order<S: Sink>(o: &Obj<'_>, sink: &mut S) -> Result<(), AccountBodyError> {
    let qty = rj::qty_or_zero(o, "amount")?;
    let remaining = rj::qty_or_zero(o, "left")?;
    let filled = match rj::text(o, "filled_amount")? {
        Some(_) => rj::qty_or_zero(o, "filled_amount")?,
        None => Qty(qty.0.saturating_sub(remaining.0).max(0)),
    };
    let px = rj::px(o, "price")?;
    let finish_as = rj::text(o, "finish_as")?.unwrap_or("");
    // REST `status`: open / closed / cancelled (Gate APIv4 "Order" model).
    let status = match rj::text(o, "status")? {
        Some("open") | None => {
            if filled.0 > 0 {
                OrderStatus::PartiallyFilled
            } else {
                OrderStatus::New
            }
        }
        Some("cancelled") => finished_as("cancelled", filled),
        Some(_) => finished_as(
            if finish_as.is_empty() {
                "filled"
            } else {
                finish_as
            },
            filled,
        ),
    };
    sink.order(&OrderMsg {
        symbol: rj::req(o, "currency_pair")?,
        order_id: id(o, "id")?,
        client_id: client_id(rj::text(o, "text")?),
        side: side(o)?,
        order_type: order_type(rj::text(o, "time_in_force")?, rj::text(o, "type")?, px),
        px,
        qty,
        filled,
        remaining,
        avg_px: rj::dec(o, "avg_deal_price")?,
        status,
        ts_create_ms: rj::ms(o, "create_time_ms")?,
        ts_update_ms: rj::ms(o, "update_time_ms")?,
    });
    Ok(())
}

/// `GET /spot/my_trades`: own trades, in the answer's order.
pub(crate) fn spot_my_trades<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        sink.fill(&FillMsg {
            symbol: rj::req(&o, "currency_pair")?,
            trade_id: id(&o, "id")?,
            order_id: id(&o, "order_id")?,
            client_id: client_id(rj::text(&o, "text")?),
            px: rj::px(&o, "price")?,
            qty: rj::qty_or_zero(&o, "amount")?,
            side: side(&o)?,
            liquidity: liquidity(rj::text(&o, "role")?),
            fee: rj::dec(&o, "fee")?,
            fee_currency: rj::text(&o, "fee_currency")?,
            ts_exchange_ms: rj::ms(&o, "create_time_ms")?,
        });
    }
    Ok(())
}

/// `GET /spot/accounts`: one balance per currency (`total` = available + locked).
pub(crate) fn spot_accounts<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        let available = rj::dec(&o, "available")?;
        let locked = rj::dec(&o, "locked")?;
        sink.balance(&BalanceMsg {
            asset: rj::req(&o, "currency")?,
            available,
            locked,
            total: add(available, locked),
            change: None,
            reason: None,
            ts_exchange_ms: None,
        });
    }
    Ok(())
}

fn add(a: Dec, b: Dec) -> Option<Dec> {
    a.checked_add(b)
}

/// `GET /futures/usdt/orders?status=open`: open futures orders (signed `size`/`left`).
pub(crate) fn futures_orders<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        let size = rj::qty_signed(&o, "size")?;
        let side = if size.0 < 0 { Side::Sell } else { Side::Buy };
        let qty = size.abs();
        let remaining = rj::qty_signed(&o, "left")?.abs();
        let filled = Qty(qty.0.saturating_sub(remaining.0).max(0));
        let px = rj::px(&o, "price")?;
        let status = match rj::text(&o, "status")? {
            Some("finished") => finished_as(rj::text(&o, "finish_as")?.unwrap_or(""), filled),
            _ if filled.0 > 0 => OrderStatus::PartiallyFilled,
            _ => OrderStatus::New,
        };
        let update = match rj::ms(&o, "update_time")? {
            Some(t) => Some(t),
            None => rj::ms_from_s(&o, "finish_time")?.filter(|t| *t > 0),
        };
        sink.order(&OrderMsg {
            symbol: rj::req(&o, "contract")?,
            order_id: id(&o, "id")?,
            client_id: client_id(rj::text(&o, "text")?),
            side,
            order_type: order_type(rj::text(&o, "tif")?, None, px),
            px,
            qty,
            filled,
            remaining,
            avg_px: rj::dec(&o, "fill_price")?,
            status,
            ts_create_ms: rj::ms_from_s(&o, "create_time")?,
            ts_update_ms: update,
        });
    }
    Ok(())
}

/// `GET /futures/usdt/my_trades`: own futures trades (signed `size`; fee in settle currency).
pub(crate) fn futures_my_trades<S: Sink>(
    body: &[u8],
    sink: &mut S,
) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        let size = rj::qty_signed(&o, "size")?;
        sink.fill(&FillMsg {
            symbol: rj::req(&o, "contract")?,
            trade_id: id(&o, "id")?,
            order_id: id(&o, "order_id")?,
            client_id: client_id(rj::text(&o, "text")?),
            px: rj::px(&o, "price")?,
            qty: size.abs(),
            side: if size.0 < 0 { Side::Sell } else { Side::Buy },
            liquidity: liquidity(rj::text(&o, "role")?),
            fee: rj::dec(&o, "fee")?,
            fee_currency: None,
            ts_exchange_ms: rj::ms_from_s(&o, "create_time")?,
        });
    }
    Ok(())
}

/// `GET /futures/usdt/positions`.
pub(crate) fn futures_positions<S: Sink>(
    body: &[u8],
    sink: &mut S,
) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        sink.position(&PositionMsg {
            contract: rj::req(&o, "contract")?,
            size: rj::qty_signed(&o, "size")?,
            entry_px: rj::dec(&o, "entry_price")?,
            leverage: rj::dec(&o, "leverage")?,
            margin: rj::dec(&o, "margin")?,
            liq_px: rj::dec(&o, "liq_price")?,
            realised_pnl: rj::dec(&o, "realised_pnl")?,
            ts_exchange_ms: None,
        });
    }
    Ok(())
}

/// `GET /futures/usdt/accounts`: one object. Reported like the `futures.balances` channel
/// (which carries the balance only): `available = total = total`, `locked = 0`.
pub(crate) fn futures_accounts<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    let o = rj::object(body)?;
    let total = rj::dec(&o, "total")?;
    let currency = rj::text(&o, "currency")?.unwrap_or("USDT");
    sink.balance(&BalanceMsg {
        asset: currency,
        available: total,
        locked: Dec::ZERO,
        total: Some(total),
        change: None,
        reason: None,
        ts_exchange_ms: None,
    });
    Ok(())
}
