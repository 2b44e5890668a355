//! The simulated accounts' signed REST endpoints (issue 17): what a client fetches for its
//! start-up state and to reconcile a private-stream gap. Signatures are verified here with
//! the venue's own code (nothing shared with the client library) and bad ones refused with
//! the real error shapes:
//!
//! - Gate.io APIv4: `SIGN = hex(HMAC_SHA512(secret, "METHOD\npath\nquery\nhex(SHA512(body))\nTimestamp"))`,
//!   headers `KEY`, `SIGN`, `Timestamp` (seconds, within 60 s of the server); refusals HTTP 401
//!   `{"label":"INVALID_KEY"|"INVALID_SIGNATURE"|"REQUEST_EXPIRED"|"MISSING_REQUIRED_HEADER","message":…}`
//!   (Gate APIv4 docs "Authentication" and "Error labels").
//! - MEXC spot v3: `http::mexc_verify` (the listen key's check: HMAC-SHA256 over the total
//!   params, `X-MEXC-APIKEY`, `recvWindow`; protocols.md §1.8), refusals `{"code":700002,…}`
//!   etc. (§1.9).
//!
//! Bodies follow the real answers' shapes (Gate: strings for decimals, integers for futures
//! sizes; MEXC: strings for decimals, `C02__…` order ids).

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha512};

use crate::account::{Account, OrdStatus};
use crate::http::{mexc_verify, Request};
use crate::num::{Market, Px, Qty, Side, VenueId};
use crate::{Shared, GATE_API_KEY, GATE_API_SECRET};

fn gate_err(label: &str, message: &str) -> String {
    serde_json::json!({"label": label, "message": message}).to_string()
}

/// Verify a Gate APIv4 signed request.
pub(crate) fn gate_verify(sh: &Shared, req: &Request) -> Result<(), (u16, String)> {
    let (Some(key), Some(sign), Some(ts)) = (
        req.header("KEY"),
        req.header("SIGN"),
        req.header("Timestamp"),
    ) else {
        return Err((
            401,
            gate_err(
                "MISSING_REQUIRED_HEADER",
                "Missing required header: KEY, SIGN or Timestamp",
            ),
        ));
    };
    if key != GATE_API_KEY {
        return Err((401, gate_err("INVALID_KEY", "Invalid key provided")));
    }
    let t: i64 = ts.trim().parse().unwrap_or(i64::MIN);
    if (sh.venue_wall_ms() / 1000).abs_diff(t) > 60 {
        return Err((
            401,
            gate_err(
                "REQUEST_EXPIRED",
                "gap between request Timestamp and server time exceeds 60",
            ),
        ));
    }
    let body_hash = hex::encode(Sha512::digest(&req.body));
    let payload = format!(
        "{}\n{}\n{}\n{}\n{}",
        req.method, req.path, req.query, body_hash, ts
    );
    let mut mac = Hmac::<Sha512>::new_from_slice(GATE_API_SECRET.as_bytes()).expect("any key size");
    mac.update(payload.as_bytes());
    if !hex::encode(mac.finalize().into_bytes()).eq_ignore_ascii_case(sign.trim()) {
        return Err((401, gate_err("INVALID_SIGNATURE", "Signature mismatch")));
    }
    Ok(())
}

fn contracts(q: Qty, neg: bool) -> i128 {
    let c = q.0 / Qty::SCALE;
    if neg {
        -c
    } else {
        c
    }
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

/// Route an account REST path; `None` when the path is not one of them.
pub(crate) fn route(sh: &Shared, req: &Request, path: &str) -> Option<(u16, String)> {
    let (venue, market) = match path {
        "/api/v4/spot/open_orders" | "/api/v4/spot/my_trades" | "/api/v4/spot/accounts" => {
            (VenueId::Gateio, Market::Spot)
        }
        "/api/v4/futures/usdt/orders"
        | "/api/v4/futures/usdt/my_trades"
        | "/api/v4/futures/usdt/positions"
        | "/api/v4/futures/usdt/accounts" => (VenueId::Gateio, Market::Futures),
        "/api/v3/openOrders" | "/api/v3/myTrades" | "/api/v3/account" => {
            (VenueId::Mexc, Market::Spot)
        }
        _ => return None,
    };
    if req.method != "GET" {
        return Some((405, r#"{"code":405,"msg":"Method Not Allowed"}"#.into()));
    }
    let verified = match venue {
        VenueId::Gateio => gate_verify(sh, req),
        VenueId::Mexc => mexc_verify(sh, req),
    };
    if let Err(e) = verified {
        return Some(e);
    }
    let acct = sh.account(venue, market)?;
    acct.note_rest_call();
    if acct.take_rest_failure() {
        return Some(match venue {
            VenueId::Gateio => (500, gate_err("SERVER_ERROR", "Internal server error")),
            VenueId::Mexc => (500, r#"{"code":-1,"msg":"Internal error"}"#.into()),
        });
    }
    let p = |k: &str| req.param(k);
    Some(match path {
        "/api/v4/spot/open_orders" => (200, gate_spot_open_orders(&acct)),
        "/api/v4/spot/my_trades" => {
            let from_ms = p("from").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0) * 1000;
            let to_ms = p("to")
                .and_then(|v| v.parse::<i64>().ok())
                .map_or(i64::MAX, |t| t.saturating_mul(1000).saturating_add(999));
            let pair = p("currency_pair");
            let limit = p("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            let limit = acct.page_size(usize::min(limit, 1000));
            let page: usize = p("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
            let skip = (page - 1) * limit;
            (
                200,
                gate_my_trades(&acct, (from_ms, to_ms), pair.as_deref(), false, skip, limit),
            )
        }
        "/api/v4/spot/accounts" => (200, gate_spot_accounts(&acct)),
        "/api/v4/futures/usdt/orders" => {
            if p("status").as_deref() != Some("open") {
                return Some((
                    400,
                    gate_err("INVALID_PARAM_VALUE", "status must be open or finished"),
                ));
            }
            (200, gate_futures_orders(&acct))
        }
        "/api/v4/futures/usdt/my_trades" => {
            let c = p("contract");
            let limit = p("limit").and_then(|v| v.parse().ok()).unwrap_or(100);
            let limit = acct.page_size(usize::min(limit, 1000));
            let skip: usize = p("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
            (
                200,
                gate_my_trades(&acct, (i64::MIN, i64::MAX), c.as_deref(), true, skip, limit),
            )
        }
        "/api/v4/futures/usdt/positions" => (200, gate_positions(&acct)),
        "/api/v4/futures/usdt/accounts" => (200, gate_futures_account(&acct)),
        "/api/v3/openOrders" | "/api/v3/myTrades" => {
            let Some(sym) = p("symbol") else {
                return Some((
                    400,
                    r#"{"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."}"#.into(),
                ));
            };
            if path == "/api/v3/openOrders" {
                (200, mexc_open_orders(&acct, &sym))
            } else {
                let start = p("startTime").and_then(|v| v.parse().ok()).unwrap_or(0);
                let end = p("endTime")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(i64::MAX);
                let limit = p("limit").and_then(|v| v.parse().ok()).unwrap_or(100usize);
                (
                    200,
                    mexc_my_trades(&acct, &sym, (start, end), acct.page_size(limit.min(100))),
                )
            }
        }
        "/api/v3/account" => (200, mexc_account(&acct)),
        _ => return None,
    })
}

fn gate_spot_open_orders(acct: &Account) -> String {
    let (open, _, _, _) = acct.rest_state(i64::MAX);
    let mut pairs: Vec<String> = Vec::new();
    for o in &open {
        let left = Qty(o.qty.0 - o.filled.0);
        let order = serde_json::json!({
            "id": o.id.to_string(),
            "text": "t-cexfeed",
            "amend_text": "-",
            "create_time": (o.create_ms / 1000).to_string(),
            "update_time": (o.update_ms / 1000).to_string(),
            "create_time_ms": o.create_ms,
            "update_time_ms": o.update_ms,
            "status": "open",
            "currency_pair": o.symbol,
            "type": "limit",
            "account": "spot",
            "side": side(o.side),
            "amount": o.qty.to_string(),
            "price": o.px.to_string(),
            "time_in_force": "gtc",
            "iceberg": "0",
            "left": left.to_string(),
            "filled_amount": o.filled.to_string(),
            "filled_total": crate::account::notional(o.avg_px, o.filled, None).to_string(),
            "avg_deal_price": o.avg_px.to_string(),
            "fee": o.fee.to_string(),
            "fee_currency": "USDT",
            "point_fee": "0",
            "gt_fee": "0",
            "finish_as": "open",
        });
        pairs.push(
            serde_json::json!({"currency_pair": o.symbol, "total": 1, "orders": [order]})
                .to_string(),
        );
    }
    format!("[{}]", pairs.join(","))
}

/// Gate answers own trades newest first; `skip`/`limit` page through them (spot `page`,
/// futures `offset`).
fn gate_my_trades(
    acct: &Account,
    (from_ms, to_ms): (i64, i64),
    filter: Option<&str>,
    futures: bool,
    skip: usize,
    limit: usize,
) -> String {
    let (_, fills, _, _) = acct.rest_state(from_ms);
    let mut items = Vec::new();
    for f in fills
        .iter()
        .rev()
        .filter(|f| f.time_ms <= to_ms && filter.is_none_or(|s| s == f.symbol))
        .skip(skip)
        .take(limit)
    {
        let role = if f.maker { "maker" } else { "taker" };
        let v = if futures {
            let mut o = String::new();
            let _ = write!(
                o,
                r#"{{"id":{},"create_time":{}.{:03},"contract":"{}","order_id":"{}","size":{},"price":"{}","role":"{}","text":"-","fee":"{}","point_fee":"0"}}"#,
                f.trade_id,
                f.time_ms / 1000,
                f.time_ms % 1000,
                f.symbol,
                f.order_id,
                contracts(f.qty, f.side == Side::Sell),
                f.px,
                role,
                f.fee
            );
            o
        } else {
            serde_json::json!({
                "id": f.trade_id.to_string(),
                "create_time": (f.time_ms / 1000).to_string(),
                "create_time_ms": format!("{}.000", f.time_ms),
                "currency_pair": f.symbol,
                "side": side(f.side),
                "role": role,
                "amount": f.qty.to_string(),
                "price": f.px.to_string(),
                "order_id": f.order_id.to_string(),
                "fee": f.fee.to_string(),
                "fee_currency": f.fee_ccy,
                "point_fee": "0",
                "gt_fee": "0",
                "text": "t-cexfeed",
            })
            .to_string()
        };
        items.push(v);
    }
    format!("[{}]", items.join(","))
}

fn gate_spot_accounts(acct: &Account) -> String {
    let (_, _, balances, _) = acct.rest_state(i64::MAX);
    let v: Vec<serde_json::Value> = balances
        .iter()
        .map(|b| {
            serde_json::json!({
                "currency": b.currency,
                "available": b.available.to_string(),
                "locked": b.freeze.to_string(),
                "update_id": 1,
            })
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn gate_futures_orders(acct: &Account) -> String {
    let (open, _, _, _) = acct.rest_state(i64::MAX);
    let mut items = Vec::new();
    for o in &open {
        let sell = o.side == Side::Sell;
        let left = Qty(o.qty.0 - o.filled.0);
        let mut s = String::new();
        let _ = write!(
            s,
            r#"{{"id":{},"user":{},"contract":"{}","create_time":{}.{:03},"update_time":{},"size":{},"iceberg":0,"left":{},"price":"{}","fill_price":"{}","mkfr":"-0.00025","tkfr":"0.0005","tif":"gtc","refu":0,"is_reduce_only":false,"is_close":false,"is_liq":false,"text":"-","status":"open","finish_time":0,"finish_as":"","stp_id":0,"stp_act":"-","amend_text":"-"}}"#,
            o.id,
            crate::GATE_FUTURES_USER_ID,
            o.symbol,
            o.create_ms / 1000,
            o.create_ms % 1000,
            o.update_ms,
            contracts(o.qty, sell),
            contracts(left, sell),
            o.px,
            if o.filled.0 > 0 { o.avg_px } else { Px::ZERO },
        );
        items.push(s);
    }
    format!("[{}]", items.join(","))
}

fn gate_positions(acct: &Account) -> String {
    let (_, _, _, positions) = acct.rest_state(i64::MAX);
    let v: Vec<String> = positions
        .iter()
        .map(|p| {
            format!(
                r#"{{"user":{},"contract":"{}","size":{},"leverage":"10","risk_limit":"1000000","leverage_max":"100","maintenance_rate":"0.005","value":"0","margin":"{}","entry_price":"{}","liq_price":"{}","mark_price":"{}","unrealised_pnl":"0","realised_pnl":"{}","history_pnl":"{}","last_close_pnl":"0","realised_point":"0","history_point":"0","adl_ranking":5,"pending_orders":0,"mode":"single","cross_leverage_limit":"0","update_time":{}}}"#,
                crate::GATE_FUTURES_USER_ID,
                p.contract,
                p.size,
                p.margin,
                p.entry_px,
                Px(p.entry_px.0 / 2),
                p.entry_px,
                p.realised_pnl,
                p.realised_pnl,
                p.time_ms / 1000
            )
        })
        .collect();
    format!("[{}]", v.join(","))
}

fn gate_futures_account(acct: &Account) -> String {
    let (_, _, balances, _) = acct.rest_state(i64::MAX);
    let b = balances.iter().find(|b| b.currency == acct.quote_ccy);
    let (total, available) = b.map_or((Qty::ZERO, Qty::ZERO), |b| (b.total, b.available));
    serde_json::json!({
        "user": crate::GATE_FUTURES_USER_ID,
        "currency": "USDT",
        "total": total.to_string(),
        "unrealised_pnl": "0",
        "position_margin": "0",
        "order_margin": "0",
        "available": available.to_string(),
        "point": "0",
        "bonus": "0",
        "in_dual_mode": false,
        "history": {},
    })
    .to_string()
}

fn mexc_open_orders(acct: &Account, symbol: &str) -> String {
    let (open, _, _, _) = acct.rest_state(i64::MAX);
    let v: Vec<serde_json::Value> = open
        .iter()
        .filter(|o| o.symbol == symbol)
        .map(|o| {
            serde_json::json!({
                "symbol": o.symbol,
                "orderId": format!("C02__{}", o.id),
                "orderListId": -1,
                "clientOrderId": "",
                "price": o.px.to_string(),
                "origQty": o.qty.to_string(),
                "executedQty": o.filled.to_string(),
                "cummulativeQuoteQty": crate::account::notional(o.avg_px, o.filled, None).to_string(),
                "status": if o.status == OrdStatus::Partial { "PARTIALLY_FILLED" } else { "NEW" },
                "timeInForce": "",
                "type": "LIMIT",
                "side": if o.side == Side::Buy { "BUY" } else { "SELL" },
                "stopPrice": "",
                "icebergQty": "",
                "time": o.create_ms,
                "updateTime": o.update_ms,
                "isWorking": true,
                "origQuoteOrderQty": crate::account::notional(o.px, o.qty, None).to_string(),
            })
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn mexc_my_trades(
    acct: &Account,
    symbol: &str,
    (start_ms, end_ms): (i64, i64),
    limit: usize,
) -> String {
    let (_, fills, _, _) = acct.rest_state(start_ms);
    let v: Vec<serde_json::Value> = fills
        .iter()
        .filter(|f| f.symbol == symbol && f.time_ms <= end_ms)
        .take(limit)
        .map(|f| {
            serde_json::json!({
                "symbol": f.symbol,
                "id": format!("{}X1", f.trade_id),
                "orderId": format!("C02__{}", f.order_id),
                "orderListId": -1,
                "price": f.px.to_string(),
                "qty": f.qty.to_string(),
                "quoteQty": crate::account::notional(f.px, f.qty, None).to_string(),
                "commission": f.fee.to_string(),
                "commissionAsset": f.fee_ccy,
                "time": f.time_ms,
                "isBuyer": f.side == Side::Buy,
                "isMaker": f.maker,
                "isBestMatch": true,
                "isSelfTrade": false,
                "clientOrderId": null,
            })
        })
        .collect();
    serde_json::Value::Array(v).to_string()
}

fn mexc_account(acct: &Account) -> String {
    let (_, _, balances, _) = acct.rest_state(i64::MAX);
    let b: Vec<serde_json::Value> = balances
        .iter()
        .map(|b| {
            serde_json::json!({
                "asset": b.currency,
                "free": b.available.to_string(),
                "locked": b.freeze.to_string(),
            })
        })
        .collect();
    serde_json::json!({
        "canTrade": true,
        "canWithdraw": true,
        "canDeposit": true,
        "updateTime": null,
        "accountType": "SPOT",
        "balances": b,
        "permissions": ["SPOT"],
    })
    .to_string()
}
