//! JSON-lines rendering of decoded messages: the output contract of `cexfeed decode`.
//!
//! One object per decoded event. Common keys: `venue`, `market`, `kind`, `symbol` (as the venue
//! writes it) where there is one, `ts_exchange_ms` where the frame has an event time. Decimals
//! are strings in canonical form (`"0.00000000"` → `"0"`, `"19137.740"` → `"19137.74"`). A frame
//! that fails writes `{"kind":"error","error":"<reason>"}`. Cold path: allocation is fine here.

use cexfeed::event::*;
use cexfeed::types::{Dec, Market, Px, Qty, Venue};
use std::fmt::Write;

/// A [`Sink`] that appends one JSON object per line to `out`.
pub struct JsonLines {
    pub venue: Venue,
    pub market: Market,
    pub out: String,
    /// Events written since creation.
    pub events: usize,
}

/// Minimal JSON string escaping.
pub fn escape_into(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `{"kind":"error","error":"<reason>"}` (with venue and market for context).
pub fn error_line(venue: Venue, market: Market, reason: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "{{\"venue\":\"{}\",\"market\":\"{}\",\"kind\":\"error\",\"error\":",
        venue.as_str(),
        market.as_str()
    );
    escape_into(&mut s, reason);
    s.push('}');
    s
}

impl JsonLines {
    pub fn new(venue: Venue, market: Market) -> Self {
        JsonLines {
            venue,
            market,
            out: String::new(),
            events: 0,
        }
    }

    /// Take what was written so far.
    pub fn take(&mut self) -> String {
        std::mem::take(&mut self.out)
    }

    fn begin(&mut self, kind: &str) {
        let _ = write!(
            self.out,
            "{{\"venue\":\"{}\",\"market\":\"{}\",\"kind\":\"{kind}\"",
            self.venue.as_str(),
            self.market.as_str()
        );
    }

    fn end(&mut self) {
        self.out.push_str("}\n");
        self.events += 1;
    }

    fn key(&mut self, k: &str) {
        let _ = write!(self.out, ",\"{k}\":");
    }

    fn str_field(&mut self, k: &str, v: &str) {
        self.key(k);
        escape_into(&mut self.out, v);
    }

    fn opt_str(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str_field(k, v);
        }
    }

    fn int_field(&mut self, k: &str, v: i64) {
        self.key(k);
        let _ = write!(self.out, "{v}");
    }

    /// Sequences and request ids are `u64`: written as unsigned (never `-1` past `i64::MAX`).
    fn uint_field(&mut self, k: &str, v: u64) {
        self.key(k);
        let _ = write!(self.out, "{v}");
    }

    fn ts(&mut self, ts: Option<i64>) {
        if let Some(t) = ts {
            self.int_field("ts_exchange_ms", t);
        }
    }

    fn px(&mut self, k: &str, v: Px) {
        self.key(k);
        let _ = write!(self.out, "\"{v}\"");
    }

    fn opt_px(&mut self, k: &str, v: Option<Px>) {
        if let Some(v) = v {
            self.px(k, v);
        }
    }

    fn qty(&mut self, k: &str, v: Qty) {
        self.key(k);
        let _ = write!(self.out, "\"{v}\"");
    }

    /// Exact decimal, canonical text (`"0.0003998377369698171"`).
    fn dec(&mut self, k: &str, v: Dec) {
        self.key(k);
        let _ = write!(self.out, "\"{v}\"");
    }

    fn id(&mut self, k: &str, v: IdRef<'_>) {
        self.key(k);
        match v {
            IdRef::Num(n) => {
                let _ = write!(self.out, "\"{n}\"");
            }
            IdRef::Str(s) => escape_into(&mut self.out, s),
        }
    }

    fn levels(&mut self, k: &str, levels: &[Level]) {
        self.key(k);
        self.out.push('[');
        for (i, l) in levels.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            let _ = write!(self.out, "[\"{}\",\"{}\"]", l.px, l.qty);
        }
        self.out.push(']');
    }
}

impl Sink for JsonLines {
    fn book(&mut self, m: &BookMsg<'_>) {
        self.begin(if m.snapshot {
            "book_snapshot"
        } else {
            "book_delta"
        });
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        if !m.snapshot {
            self.uint_field("seq_first", m.seq_first);
        }
        self.uint_field("seq_last", m.seq_last);
        self.levels("bids", m.bids);
        self.levels("asks", m.asks);
        self.end();
    }

    fn trade(&mut self, m: &TradeMsg<'_>) {
        self.begin("trade");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        self.px("price", m.px);
        self.qty("quantity", m.qty);
        self.str_field("side", m.side.as_str());
        self.id("trade_id", m.trade_id);
        self.end();
    }

    fn bbo(&mut self, m: &BboMsg<'_>) {
        self.begin("bbo");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        self.px("bid_price", m.bid_px);
        self.qty("bid_quantity", m.bid_qty);
        self.px("ask_price", m.ask_px);
        self.qty("ask_quantity", m.ask_qty);
        if let Some(s) = m.seq {
            self.uint_field("seq", s);
        }
        self.end();
    }

    fn ticker(&mut self, m: &TickerMsg<'_>) {
        self.begin("ticker");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        self.opt_px("last", m.last);
        self.opt_px("bid_price", m.bid_px);
        self.opt_px("ask_price", m.ask_px);
        self.opt_px("mark_price", m.mark_px);
        self.opt_px("index_price", m.index_px);
        self.opt_px("funding_rate", m.funding_rate);
        self.end();
    }

    fn kline(&mut self, m: &KlineMsg<'_>) {
        self.begin("kline");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        self.str_field("interval", m.interval.as_str());
        self.int_field("open_time_ms", m.open_time_ms);
        self.px("open", m.open);
        self.px("high", m.high);
        self.px("low", m.low);
        self.px("close", m.close);
        self.qty("volume", m.volume);
        if let Some(q) = m.quote_volume {
            self.qty("quote_volume", q);
        }
        if let Some(q) = m.base_volume {
            self.qty("base_volume", q);
        }
        self.key("closed");
        self.out.push_str(if m.closed { "true" } else { "false" });
        self.end();
    }

    fn order(&mut self, m: &OrderMsg<'_>) {
        self.begin("order");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_update_ms.or(m.ts_create_ms));
        self.id("order_id", m.order_id);
        self.opt_str("client_id", m.client_id);
        self.str_field("side", m.side.as_str());
        self.str_field("type", m.order_type.as_str());
        self.px("price", m.px);
        self.qty("quantity", m.qty);
        self.qty("filled", m.filled);
        self.qty("remaining", m.remaining);
        self.dec("avg_price", m.avg_px);
        self.str_field("status", m.status.as_str());
        if let Some(t) = m.ts_create_ms {
            self.int_field("ts_create_ms", t);
        }
        if let Some(t) = m.ts_update_ms {
            self.int_field("ts_update_ms", t);
        }
        self.end();
    }

    fn fill(&mut self, m: &FillMsg<'_>) {
        self.begin("fill");
        self.str_field("symbol", m.symbol);
        self.ts(m.ts_exchange_ms);
        self.id("trade_id", m.trade_id);
        self.id("order_id", m.order_id);
        self.opt_str("client_id", m.client_id);
        self.px("price", m.px);
        self.qty("quantity", m.qty);
        self.str_field("side", m.side.as_str());
        self.str_field("liquidity", m.liquidity.as_str());
        self.dec("fee", m.fee);
        self.opt_str("fee_currency", m.fee_currency);
        self.end();
    }

    fn balance(&mut self, m: &BalanceMsg<'_>) {
        self.begin("balance");
        self.ts(m.ts_exchange_ms);
        self.str_field("asset", m.asset);
        self.dec("available", m.available);
        self.dec("locked", m.locked);
        if let Some(t) = m.total {
            self.dec("total", t);
        }
        if let Some(c) = m.change {
            self.dec("change", c);
        }
        self.opt_str("reason", m.reason);
        self.end();
    }

    fn position(&mut self, m: &PositionMsg<'_>) {
        self.begin("position");
        self.str_field("symbol", m.contract);
        self.ts(m.ts_exchange_ms);
        self.qty("size", m.size);
        self.dec("entry_price", m.entry_px);
        self.dec("leverage", m.leverage);
        self.dec("margin", m.margin);
        self.dec("liq_price", m.liq_px);
        self.dec("realised_pnl", m.realised_pnl);
        self.end();
    }

    fn control(&mut self, m: &ControlMsg<'_>) {
        self.begin("control");
        self.str_field("control", m.kind.as_str());
        self.opt_str("channel", m.channel);
        self.opt_str("event", m.event);
        self.opt_str("message", m.message);
        if let Some(c) = m.code {
            self.int_field("code", c);
        }
        if let Some(id) = m.req_id {
            self.uint_field("id", id);
        }
        self.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cexfeed::types::Side;

    fn d(s: &str) -> Dec {
        Dec::parse_signed(s.as_bytes()).unwrap()
    }

    #[test]
    fn account_values_print_exactly() {
        let mut j = JsonLines::new(Venue::Mexc, Market::Spot);
        j.balance(&BalanceMsg {
            asset: "USDT",
            available: d("21.94210356004384"),
            locked: d("0.000"),
            total: Some(d("21.94210356004384")),
            change: Some(d("-0.000002074115")),
            reason: Some("CONTRACT_TRANSFER"),
            ts_exchange_ms: None,
        });
        j.fill(&FillMsg {
            symbol: "MXUSDT",
            trade_id: IdRef::Str("505979017439002624X1"),
            order_id: IdRef::Str("C02__505979017439002624115"),
            client_id: None,
            px: Px::parse(b"3.6962").unwrap(),
            qty: Qty::parse(b"1").unwrap(),
            side: Side::Sell,
            liquidity: cexfeed::event::Liquidity::Taker,
            fee: d("0.0003998377369698171"),
            fee_currency: Some("MX"),
            ts_exchange_ms: None,
        });
        j.position(&PositionMsg {
            contract: "BTC_USD",
            size: Qty::from_int(3),
            entry_px: d("40000.36666661111"),
            leverage: d("0"),
            margin: d("49.999890611186"),
            liq_px: d("0.1"),
            realised_pnl: d("-1.25e-8"),
            ts_exchange_ms: None,
        });
        let lines: Vec<serde_json::Value> = j
            .take()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["available"], "21.94210356004384");
        assert_eq!(lines[0]["locked"], "0");
        assert_eq!(lines[0]["change"], "-0.000002074115");
        assert_eq!(lines[1]["fee"], "0.0003998377369698171");
        assert_eq!(lines[2]["entry_price"], "40000.36666661111");
        assert_eq!(lines[2]["leverage"], "0");
        assert_eq!(lines[2]["margin"], "49.999890611186");
        assert_eq!(lines[2]["realised_pnl"], "-0.0000000125");
    }

    #[test]
    fn renders_the_documented_shapes() {
        let mut j = JsonLines::new(Venue::Gateio, Market::Spot);
        let bids = [Level::new(
            Px::parse(b"19137.740").unwrap(),
            Qty::parse(b"0.00000000").unwrap(),
        )];
        j.book(&BookMsg {
            symbol: "BTC_USDT",
            snapshot: false,
            seq_first: 5,
            seq_last: 7,
            bids: &bids,
            asks: &[],
            ts_exchange_ms: Some(1_700_000_000_000),
        });
        j.trade(&TradeMsg {
            symbol: "BTC_USDT",
            px: Px::parse(b"100").unwrap(),
            qty: Qty::parse(b"0.5").unwrap(),
            side: Side::Sell,
            trade_id: IdRef::Num(42),
            ts_exchange_ms: None,
        });
        j.control(&ControlMsg {
            kind: ControlKind::Rejected,
            channel: Some("spot@x"),
            event: None,
            message: Some("Reason\u{ff1a} \"Blocked!\""),
            req_id: None,
            code: Some(0),
            payload0: None,
        });
        let lines: Vec<serde_json::Value> = j
            .take()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["kind"], "book_delta");
        assert_eq!(lines[0]["bids"][0][0], "19137.74");
        assert_eq!(lines[0]["bids"][0][1], "0");
        assert_eq!(lines[0]["seq_first"], 5);
        assert_eq!(lines[0]["ts_exchange_ms"], 1_700_000_000_000i64);
        assert_eq!(lines[1]["price"], "100");
        assert_eq!(lines[1]["side"], "sell");
        assert_eq!(lines[1]["trade_id"], "42");
        assert!(lines[1].get("ts_exchange_ms").is_none());
        assert_eq!(lines[2]["control"], "rejected");
        assert_eq!(lines[2]["message"], "Reason\u{ff1a} \"Blocked!\"");
        let e: serde_json::Value =
            serde_json::from_str(&error_line(Venue::Mexc, Market::Spot, "bad \"x\"")).unwrap();
        assert_eq!(e["kind"], "error");
        assert_eq!(e["error"], "bad \"x\"");
    }
}

/// One frame read from `cexfeed decode`'s input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InputFrame<'a> {
    /// A JSON value (text frame), exactly as it appeared.
    Json(&'a [u8]),
    /// A binary frame given as a hex string.
    Binary(Vec<u8>),
    /// Something that is neither: the reason.
    Bad(String),
}

/// Split decode input into frames: JSON values separated by whitespace (pretty-printed values
/// spanning lines are fine) and, for MEXC, binary frames as one hex string per line.
pub fn split_frames(input: &[u8]) -> Vec<InputFrame<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    let n = input.len();
    while i < n {
        let c = input[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'{' || c == b'[' {
            // Scan one balanced value, string-aware.
            let start = i;
            let mut depth = 0usize;
            let mut in_str = false;
            let mut esc = false;
            let mut end = None;
            while i < n {
                let b = input[i];
                if in_str {
                    if esc {
                        esc = false;
                    } else if b == b'\\' {
                        esc = true;
                    } else if b == b'"' {
                        in_str = false;
                    }
                } else {
                    match b {
                        b'"' => in_str = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                end = Some(i + 1);
                                i += 1;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                i += 1;
            }
            match end {
                Some(e) => out.push(InputFrame::Json(&input[start..e])),
                None => out.push(InputFrame::Bad(
                    "unterminated JSON value at end of input".to_string(),
                )),
            }
            continue;
        }
        // A bare token up to the end of the line: hex, or garbage.
        let start = i;
        while i < n && input[i] != b'\n' {
            i += 1;
        }
        let tok = input[start..i].trim_ascii();
        match hex::decode(tok) {
            Ok(bytes) => out.push(InputFrame::Binary(bytes)),
            Err(_) => {
                let shown: String = String::from_utf8_lossy(&tok[..tok.len().min(40)]).into_owned();
                out.push(InputFrame::Bad(format!(
                    "neither a JSON value nor a hex-encoded binary frame: {shown:?}"
                )));
            }
        }
    }
    out
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn splits_json_values_hex_lines_and_garbage() {
        let input =
            b"{\"a\":\"}{\\\"\"}\n\n{\n  \"b\": [1, {\"c\": 2}]\n}\n0A0b\nzz\n[1]\n{\"open\":";
        let f = split_frames(input);
        assert_eq!(f.len(), 6, "{f:?}");
        assert_eq!(f[0], InputFrame::Json(b"{\"a\":\"}{\\\"\"}"));
        assert!(matches!(f[1], InputFrame::Json(v) if v.ends_with(b"]\n}")));
        assert_eq!(f[2], InputFrame::Binary(vec![0x0a, 0x0b]));
        assert!(matches!(&f[3], InputFrame::Bad(r) if r.contains("zz")));
        assert_eq!(f[4], InputFrame::Json(b"[1]"));
        assert!(matches!(&f[5], InputFrame::Bad(r) if r.contains("unterminated")));
    }
}
