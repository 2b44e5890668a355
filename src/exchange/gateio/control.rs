//! Control frames → `Sink::control`: subscribe/unsubscribe acks and failures, channel errors
//! (`error` not null), `*.pong`, and WS-API responses (`spot.login` …). General path only.
//!
//! ```text
//! {"time":1747391482,"id":1,"channel":"spot.obu","event":"subscribe","payload":["ob.BTC_USDT.400"],
//!  "error":{"code":2,"message":"Alert sub ob.BTC_USDT.400"},"result":{"status":"fail"}}
//! ```

use simd_json::Node;

use super::wire::Doc;
use crate::event::{ControlKind, ControlMsg, DecodeError, Sink};

/// What a refused Gate.io request means for a retry (see [`refusal`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Code 4, authentication failed: re-authenticate later (the feed waits 30 s).
    Auth,
    /// `Alert sub …`: the connection already holds that stream (a duplicate `obu`
    /// subscription, or one sent before its unsubscribe was done). Retry after an
    /// unsubscribe has been acknowledged.
    Duplicate,
    /// Codes 1 and 2 (invalid request / invalid argument: unknown pair, refused interval or
    /// level): the same request fails the same way. Report once, never retry.
    Permanent,
    /// Code 3 (server side / service error) and anything unknown: retry with backoff.
    Transient,
}

/// Classify a refused request by Gate's error code and message. Codes: spot 1 "invalid
/// request body format", 2 "invalid argument", 3 "server side error", 4 "authentication fail";
/// futures 1 "invalid argument struct", 2 "invalid argument", 3 "service error", 4
/// "authentication fail" (Gate spot / futures WS v4 "Error"; protocols.md §2.1, which also
/// lists the observed code-2 texts `unknown currency pair: X`, `Alert sub ob.BTC_USDT.400`,
/// `incorrect update interval specified`, `provided level not supported`).
pub fn refusal(code: i64, message: &str) -> Refusal {
    if message.starts_with("Alert sub") {
        return Refusal::Duplicate;
    }
    match code {
        4 => Refusal::Auth,
        1 | 2 => Refusal::Permanent,
        _ => Refusal::Transient,
    }
}

/// The envelope's control cases, in the order the dispatcher checks them: a non-null `error`,
/// a subscribe/unsubscribe answer, a pong. `None`: not a control frame (a data push).
#[allow(clippy::too_many_arguments)]
#[inline]
pub(super) fn envelope<S: Sink>(
    d: &mut Doc<'_, '_>,
    ch: &str,
    ev: Option<&str>,
    req_id: Option<u64>,
    payload: Option<usize>,
    error: Option<usize>,
    result: Option<usize>,
    sink: &mut S,
) -> Option<Result<(), DecodeError>> {
    let payload0 = match payload {
        Some(p) if d.arr_len(p).is_some_and(|n| n > 0) => d.text_at(p + 1),
        _ => None,
    };
    if let Some(e) = error {
        if !d.is_null(e) {
            if d.obj_len(e).is_none() {
                return Some(Err(DecodeError::WrongType("error")));
            }
            let code = match d.get(e, "code") {
                Some(c) => match d.node(c) {
                    Some(Node::Static(simd_json::StaticNode::I64(v))) => Some(v),
                    Some(Node::Static(simd_json::StaticNode::U64(v))) => i64::try_from(v).ok(),
                    _ => return Some(Err(DecodeError::WrongType("code"))),
                },
                None => None,
            };
            let message = d.get(e, "message").and_then(|m| d.str_at(m));
            sink.control(&ControlMsg {
                kind: ControlKind::Error,
                channel: Some(ch),
                event: ev,
                message,
                req_id,
                code,
                payload0,
            });
            return Some(Ok(()));
        }
    }
    if matches!(ev, Some("subscribe") | Some("unsubscribe")) {
        if result.is_none() && error.is_none() {
            // A request frame (no result, no error): not a server message.
            return Some(Err(DecodeError::UnknownChannel));
        }
        let failed = result
            .and_then(|r| d.get(r, "status"))
            .and_then(|s| d.str_at(s))
            == Some("fail");
        sink.control(&ControlMsg {
            kind: if failed {
                ControlKind::Error
            } else {
                ControlKind::Ack
            },
            channel: Some(ch),
            event: ev,
            message: None,
            req_id,
            code: None,
            payload0,
        });
        return Some(Ok(()));
    }
    if ch.ends_with(".system") {
        // Informational, not data and not an error: `{"channel":"futures.system","event":
        // "update","result":{"type":"upgrade","msg":"The connection will soon be closed for a
        // service upgrade. Please reconnect."}}` (Gate futures WS v4 "服务升级通知" / service
        // upgrade notice, and spot likewise as `spot.system`, docs revision 2026-07-25;
        // protocols.md Uncertain 14 names the same frame from a third-party client).
        let (kind_text, msg) = match result {
            Some(r) if d.obj_len(r).is_some() => (
                d.get(r, "type").and_then(|t| d.str_at(t)),
                d.get(r, "msg").and_then(|m| d.str_at(m)),
            ),
            _ => (None, None),
        };
        sink.control(&ControlMsg {
            kind: ControlKind::Notice,
            channel: Some(ch),
            event: ev,
            message: msg,
            req_id,
            code: None,
            payload0: kind_text,
        });
        return Some(Ok(()));
    }
    if ch.ends_with(".pong") {
        sink.control(&ControlMsg {
            kind: ControlKind::Pong,
            channel: Some(ch),
            event: ev.filter(|e| !e.is_empty()),
            message: None,
            req_id,
            code: None,
            payload0: None,
        });
        return Some(Ok(()));
    }
    None
}

/// WS-API response (`spot.login` …): `{request_id, header:{status,channel,event}, data:{result|errs}}`.
pub(super) fn ws_api<S: Sink>(
    d: &mut Doc<'_, '_>,
    h: usize,
    data: Option<usize>,
    request_id: Option<usize>,
    sink: &mut S,
) -> Result<(), DecodeError> {
    if d.obj_len(h).is_none() {
        return Err(DecodeError::WrongType("header"));
    }
    let channel = d.get(h, "channel").and_then(|c| d.str_at(c));
    let event = d.get(h, "event").and_then(|c| d.str_at(c));
    let status = match d.get(h, "status") {
        Some(s) => Some(d.u64_at(s, "status")?),
        None => None,
    };
    let req_id = request_id.and_then(|r| d.u64_at(r, "request_id").ok());
    let data = data.ok_or(DecodeError::MissingField("data"))?;
    if let Some(errs) = d.get(data, "errs") {
        sink.control(&ControlMsg {
            kind: ControlKind::Error,
            channel,
            event,
            message: d.get(errs, "message").and_then(|m| d.str_at(m)),
            req_id,
            code: status.map(|s| s as i64),
            payload0: d.get(errs, "label").and_then(|m| d.str_at(m)),
        });
        return Ok(());
    }
    let uid = match d.get(data, "result") {
        Some(r) if d.obj_len(r).is_some() => match d.get(r, "uid") {
            Some(u) => d.text_at(u),
            None => None,
        },
        _ => None,
    };
    let ok = status.is_none_or(|s| (200..300).contains(&s));
    sink.control(&ControlMsg {
        kind: if ok {
            ControlKind::Ack
        } else {
            ControlKind::Error
        },
        channel,
        event,
        message: None,
        req_id,
        code: if ok { None } else { status.map(|s| s as i64) },
        payload0: uid,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, finding 11: which refusals are retried.
    #[test]
    fn issue13_finding11_refusals_classified() {
        assert_eq!(refusal(2, "Alert sub ob.BTC_USDT.400"), Refusal::Duplicate);
        assert_eq!(
            refusal(2, "unknown currency pair: NOPE_USD"),
            Refusal::Permanent
        );
        assert_eq!(
            refusal(2, "provided level not supported"),
            Refusal::Permanent
        );
        assert_eq!(
            refusal(1, "invalid request body format"),
            Refusal::Permanent
        );
        assert_eq!(refusal(3, "server side error"), Refusal::Transient);
        assert_eq!(refusal(0, ""), Refusal::Transient);
        assert_eq!(refusal(4, "authentication fail"), Refusal::Auth);
    }
}
