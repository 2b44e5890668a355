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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::restjson::lines::Lines;

    // Shapes of the Gate APIv4 docs' examples ("List all open orders", "List personal trading
    // history", "List spot accounts", futures "List futures orders", "List personal trading
    // history", "List all positions of a user", "Query futures account"), values ours.
    #[test]
    fn spot_bodies_read_exactly() {
        let mut s = Lines::default();
        spot_open_orders(
            br#"[{"currency_pair":"ETH_BTC","total":1,"orders":[{"id":"12332324","text":"t-123456","create_time":"1548000000","update_time":"1548000100","create_time_ms":1548000000123,"update_time_ms":1548000100123,"currency_pair":"ETH_BTC","status":"open","type":"limit","account":"spot","side":"buy","amount":"1","price":"5.00032","time_in_force":"gtc","left":"0.5","filled_amount":"0.5","filled_total":"2.50016","fee":"0.005","fee_currency":"ETH","point_fee":"0","gt_fee":"0","rebated_fee":"0","rebated_fee_currency":"BTC","finish_as":"open"}]}]"#,
            &mut s,
        )
        .unwrap();
        spot_my_trades(
            br#"[{"id":"1232893232","create_time":"1548000000","create_time_ms":"1548000000123.456","order_id":"4128442423","side":"buy","role":"maker","amount":"0.15","price":"0.03","fee":"0.0005","fee_currency":"ETH","point_fee":"0","gt_fee":"0","currency_pair":"ETH_BTC","text":"t-x"}]"#,
            &mut s,
        )
        .unwrap();
        spot_accounts(
            br#"[{"currency":"ETH","available":"968.8","locked":"0.00000000000000000001","update_id":98}]"#,
            &mut s,
        )
        .unwrap();
        assert_eq!(
            s.0,
            [
                "order ETH_BTC 12332324 Buy Limit px=5.00032 qty=1 filled=0.5 PartiallyFilled upd=Some(1548000100123)",
                "fill ETH_BTC 1232893232 order=4128442423 Buy px=0.03 qty=0.15 fee=0.0005 Some(\"ETH\") t=Some(1548000000123)",
                "balance ETH avail=968.8 locked=0.00000000000000000001 total=Some(\"968.80000000000000000001\")",
            ]
        );
    }

    #[test]
    fn futures_bodies_read_exactly() {
        let mut s = Lines::default();
        futures_orders(
            br#"[{"id":15675394,"user":100000,"contract":"BTC_USDT","create_time":1546569968.123,"size":-6024,"iceberg":0,"left":-6000,"price":"3765","fill_price":"3765.5","tif":"gtc","text":"t-my","status":"open","finish_as":"","update_time":1546569970123}]"#,
            &mut s,
        )
        .unwrap();
        futures_my_trades(
            br#"[{"id":121234231,"create_time":1514764800.123,"contract":"BTC_USDT","order_id":"21893289839","size":-100,"price":"100.123","role":"taker","text":"t-x","fee":"0.01","point_fee":"0"}]"#,
            &mut s,
        )
        .unwrap();
        futures_positions(
            br#"[{"user":10000,"contract":"BTC_USDT","size":-9440,"leverage":"0","risk_limit":"100","entry_price":"3136.16","margin":"4.4","liq_price":"3600.1","realised_pnl":"-0.00001","mode":"single"}]"#,
            &mut s,
        )
        .unwrap();
        futures_accounts(
            br#"{"total":"9707.803567115145","available":"9669.7","currency":"USDT"}"#,
            &mut s,
        )
        .unwrap();
        assert_eq!(
            s.0,
            [
                "order BTC_USDT 15675394 Sell Limit px=3765 qty=6024 filled=24 PartiallyFilled upd=Some(1546569970123)",
                "fill BTC_USDT 121234231 order=21893289839 Sell px=100.123 qty=100 fee=0.01 None t=Some(1514764800123)",
                "position BTC_USDT size=-9440 entry=3136.16 lev=0",
                "balance USDT avail=9707.803567115145 locked=0 total=Some(\"9707.803567115145\")",
            ]
        );
    }

    #[test]
    fn refused_bodies_name_the_problem() {
        let mut s = Lines::default();
        assert_eq!(
            spot_my_trades(
                br#"[{"id":"1","currency_pair":"X","order_id":"2","side":"up"}]"#,
                &mut s
            ),
            Err(AccountBodyError::Bad("side"))
        );
        assert!(matches!(
            spot_open_orders(br#"{"label":"INVALID_SIGNATURE"}"#, &mut s),
            Err(AccountBodyError::Json(_))
        ));
        assert!(s.0.is_empty());
    }

    #[test]
    fn signed_headers_carry_key_sign_timestamp_and_never_the_secret() {
        let c = Credentials::new("k3y", "s3cr3t-value");
        let h = signed_get_headers(&c, SPOT_ACCOUNTS_PATH, "", 1700000000);
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["KEY", "SIGN", "Timestamp", "Accept"]);
        assert_eq!(h[2].1, "1700000000");
        assert_eq!(h[1].1.len(), 128);
        assert!(h.iter().all(|(_, v)| !v.contains("s3cr3t-value")));
    }
}
