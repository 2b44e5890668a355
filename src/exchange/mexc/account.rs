//! Signed spot v3 REST for the account's state (cold path: the reconciler thread,
//! `feed::recon`): request builders over [`super::signed_request`] (the listen key's signing:
//! HMAC-SHA256 over the total query, `signature` appended, `X-MEXC-APIKEY` — protocols.md
//! §1.8 "Signing (all SIGNED endpoints)"; ccxt `mexc.js` `sign()` does the same for
//! `/api/v3` private calls), and answer bodies → the same [`Sink`] messages the private
//! channels produce. Refusals are the §1.9 codes (700002 bad signature, 700003 timestamp).
//!
//! Endpoints (MEXC spot v3 docs "Spot Account/Trade", mexcdevelop.github.io/apidocs/spot_v3_en;
//! ccxt `mexc.js` `fetchOpenOrders`/`fetchMyTrades`/`fetchBalance`): `GET /api/v3/openOrders`
//! (`symbol` required), `GET /api/v3/myTrades` (`symbol` required, `startTime` ms, `limit` ≤
//! 100), `GET /api/v3/account` (`balances: [{asset, free, locked}]`). All SIGNED.

use crate::event::{BalanceMsg, FillMsg, IdRef, OrderMsg, OrderStatus, OrderType, Sink};
use crate::exchange::restjson::{self as rj, AccountBodyError, Obj};
use crate::secret::Credentials;
use crate::types::{Qty, Side};

use super::auth::{signed_request, HttpMethod, SignedRequest, DEFAULT_RECV_WINDOW_MS};
use super::private::liquidity;

/// `GET` open orders of one symbol.
pub const OPEN_ORDERS_PATH: &str = "/api/v3/openOrders";
/// `GET` own trades of one symbol.
pub const MY_TRADES_PATH: &str = "/api/v3/myTrades";
/// `GET` the account's balances.
pub const ACCOUNT_PATH: &str = "/api/v3/account";
/// Largest `limit` of `myTrades` (MEXC spot v3 docs: default 100, max 100).
pub const MY_TRADES_MAX_LIMIT: u32 = 100;

/// `GET /api/v3/openOrders?symbol=…` signed.
pub fn open_orders_request(creds: &Credentials, symbol: &str, timestamp_ms: i64) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Get,
        OPEN_ORDERS_PATH,
        &[("symbol", symbol)],
        timestamp_ms,
        Some(DEFAULT_RECV_WINDOW_MS),
    )
}

/// `GET /api/v3/myTrades?symbol=…&startTime=…[&endTime=…]&limit=100` signed.
pub fn my_trades_request(
    creds: &Credentials,
    symbol: &str,
    start_ms: i64,
    end_ms: Option<i64>,
    timestamp_ms: i64,
) -> SignedRequest {
    let start = start_ms.max(0).to_string();
    let end = end_ms.map(|e| e.max(0).to_string());
    let limit = MY_TRADES_MAX_LIMIT.to_string();
    let mut params: Vec<(&str, &str)> = vec![("symbol", symbol), ("startTime", &start)];
    if let Some(e) = &end {
        params.push(("endTime", e));
    }
    params.push(("limit", &limit));
    signed_request(
        creds,
        HttpMethod::Get,
        MY_TRADES_PATH,
        &params,
        timestamp_ms,
        Some(DEFAULT_RECV_WINDOW_MS),
    )
}

/// `GET /api/v3/account` signed.
pub fn account_request(creds: &Credentials, timestamp_ms: i64) -> SignedRequest {
    signed_request(
        creds,
        HttpMethod::Get,
        ACCOUNT_PATH,
        &[],
        timestamp_ms,
        Some(DEFAULT_RECV_WINDOW_MS),
    )
}

fn side(o: &Obj<'_>) -> Result<Side, AccountBodyError> {
    match rj::req(o, "side")? {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        _ => Err(AccountBodyError::Bad("side")),
    }
}

/// REST `status` text (MEXC spot v3 "order status": NEW, PARTIALLY_FILLED, FILLED, CANCELED,
/// PARTIALLY_CANCELED).
fn status(s: &str) -> OrderStatus {
    match s {
        "NEW" => OrderStatus::New,
        "PARTIALLY_FILLED" => OrderStatus::PartiallyFilled,
        "FILLED" => OrderStatus::Filled,
        "CANCELED" => OrderStatus::Canceled,
        "PARTIALLY_CANCELED" => OrderStatus::PartiallyCanceled,
        _ => OrderStatus::Other,
    }
}

/// REST `type` text (LIMIT, LIMIT_MAKER, IMMEDIATE_OR_CANCEL, FILL_OR_KILL, MARKET).
fn order_type(s: Option<&str>) -> OrderType {
    match s {
        Some("LIMIT") => OrderType::Limit,
        Some("LIMIT_MAKER") | Some("POST_ONLY") => OrderType::PostOnly,
        Some("IMMEDIATE_OR_CANCEL") => OrderType::Ioc,
        Some("FILL_OR_KILL") => OrderType::Fok,
        Some("MARKET") => OrderType::Market,
        _ => OrderType::Other,
    }
}

/// `GET /api/v3/openOrders`: the open orders of one symbol.
pub(crate) fn open_orders<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        let qty = rj::qty_or_zero(&o, "origQty")?;
        let filled = rj::qty_or_zero(&o, "executedQty")?;
        let cid = rj::text(&o, "clientOrderId")?.filter(|s| !s.is_empty());
        sink.order(&OrderMsg {
            symbol: rj::req(&o, "symbol")?,
            order_id: IdRef::Str(rj::req(&o, "orderId")?),
            client_id: cid,
            side: side(&o)?,
            order_type: order_type(rj::text(&o, "type")?),
            px: rj::px(&o, "price")?,
            qty,
            filled,
            remaining: Qty(qty.0.saturating_sub(filled.0).max(0)),
            avg_px: crate::types::Dec::ZERO,
            status: status(rj::text(&o, "status")?.unwrap_or("")),
            ts_create_ms: rj::ms(&o, "time")?,
            ts_update_ms: rj::ms(&o, "updateTime")?,
        });
    }
    Ok(())
}

/// `GET /api/v3/myTrades`: own trades of one symbol.
pub(crate) fn my_trades<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    for o in rj::array(body)? {
        let buyer = rj::req(&o, "isBuyer")? == "true";
        sink.fill(&FillMsg {
            symbol: rj::req(&o, "symbol")?,
            trade_id: IdRef::Str(rj::req(&o, "id")?),
            order_id: IdRef::Str(rj::req(&o, "orderId")?),
            client_id: rj::text(&o, "clientOrderId")?.filter(|s| !s.is_empty()),
            px: rj::px(&o, "price")?,
            qty: rj::qty_or_zero(&o, "qty")?,
            side: if buyer { Side::Buy } else { Side::Sell },
            liquidity: liquidity(rj::text(&o, "isMaker")? == Some("true")),
            fee: rj::dec(&o, "commission")?,
            fee_currency: rj::text(&o, "commissionAsset")?,
            ts_exchange_ms: rj::ms(&o, "time")?,
        });
    }
    Ok(())
}

/// `GET /api/v3/account`: one balance per asset (`free` → available, `locked`).
pub(crate) fn account<S: Sink>(body: &[u8], sink: &mut S) -> Result<(), AccountBodyError> {
    let o = rj::object(body)?;
    let Some(raw) = o.get("balances") else {
        return Err(AccountBodyError::Missing("balances"));
    };
    for b in rj::array(raw.get().as_bytes())? {
        let available = rj::dec(&b, "free")?;
        let locked = rj::dec(&b, "locked")?;
        sink.balance(&BalanceMsg {
            asset: rj::req(&b, "asset")?,
            available,
            locked,
            total: available.checked_add(locked),
            change: None,
            reason: None,
            ts_exchange_ms: None,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::restjson::lines::Lines;

    // Shapes of the MEXC spot v3 docs' examples ("Current Open Orders", "Account Trade List",
    // "Account Information"), values ours.
    #[test]
    fn bodies_read_exactly() {
        let mut s = Lines::default();
        open_orders(
            br#"[{"symbol":"LTCBTC","orderId":"C02__443776347957968896","orderListId":-1,"clientOrderId":"myOrder1","price":"0.1","origQty":"1.0","executedQty":"0.25","cummulativeQuoteQty":"0.025","status":"PARTIALLY_FILLED","timeInForce":"GTC","type":"LIMIT","side":"SELL","stopPrice":"0.0","icebergQty":"0.0","time":1499827319559,"updateTime":1499827319560,"isWorking":true,"origQuoteOrderQty":"0.000000"}]"#,
            &mut s,
        )
        .unwrap();
        my_trades(
            br#"[{"symbol":"BNBBTC","id":"fad2af9e942049b6adbda1a271f990c6","orderId":"bb41e5663e124046bd9497a3f5692f39","orderListId":-1,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","commission":"10.10000000","commissionAsset":"BNB","time":1499865549590,"isBuyer":true,"isMaker":false,"isBestMatch":true,"isSelfTrade":true,"clientOrderId":null}]"#,
            &mut s,
        )
        .unwrap();
        account(
            br#"{"canTrade":true,"canWithdraw":true,"canDeposit":true,"updateTime":null,"accountType":"SPOT","balances":[{"asset":"NBNTEST","free":"1111078","locked":"33"}],"permissions":["SPOT"]}"#,
            &mut s,
        )
        .unwrap();
        assert_eq!(
            s.0,
            [
                "order LTCBTC C02__443776347957968896 Sell Limit px=0.1 qty=1 filled=0.25 PartiallyFilled upd=Some(1499827319560)",
                "fill BNBBTC fad2af9e942049b6adbda1a271f990c6 order=bb41e5663e124046bd9497a3f5692f39 Buy px=4.000001 qty=12 fee=10.1 Some(\"BNB\") t=Some(1499865549590)",
                "balance NBNTEST avail=1111078 locked=33 total=Some(\"1111111\")",
            ]
        );
    }

    #[test]
    fn requests_are_signed_over_the_total_query() {
        let c = Credentials::new("mx0key", "s3cr3t-value");
        let r = my_trades_request(
            &c,
            "BTCUSDT",
            1_700_000_000_000,
            Some(1_700_000_000_500),
            1_700_000_001_000,
        );
        let (path, q) = r.path_and_query.split_once('?').unwrap();
        assert_eq!(path, MY_TRADES_PATH);
        let (signed, sig) = q.rsplit_once("&signature=").unwrap();
        assert_eq!(
            signed,
            "symbol=BTCUSDT&startTime=1700000000000&endTime=1700000000500&limit=100&recvWindow=5000&timestamp=1700000001000"
        );
        assert_eq!(sig, super::super::auth::sign(&c.api_secret, signed));
        assert!(!format!("{r:?}").contains(sig));
        assert!(!r.path_and_query.contains("s3cr3t-value"));
    }
}
