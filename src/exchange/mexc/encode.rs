//! Writers of binary MEXC pushes into a reused buffer, for the loopback venue, replay tools and
//! end-to-end tests (the decoder's inverse). Prices and sizes are written in canonical decimal
//! text ([`Px::write_canonical`]); field order follows the captures: channel (1), symbol (3),
//! sendTime (6), then the body. No allocation once `out` has the capacity.

use super::decode::body;
use crate::event::Level;
use crate::types::{Px, Qty, Side};

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(field: u32, wire_type: u8, out: &mut Vec<u8>) {
    varint(((field as u64) << 3) | wire_type as u64, out);
}

fn bytes_field(field: u32, b: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn int_field(field: u32, v: i64, out: &mut Vec<u8>) {
    key(field, 0, out);
    varint(v as u64, out);
}

fn px_field(field: u32, p: Px, out: &mut Vec<u8>) {
    let mut b = [0u8; 32];
    bytes_field(field, p.write_canonical(&mut b).as_bytes(), out);
}

fn qty_field(field: u32, q: Qty, out: &mut Vec<u8>) {
    let mut b = [0u8; 32];
    bytes_field(field, q.write_canonical(&mut b).as_bytes(), out);
}

fn u64_field(field: u32, v: u64, out: &mut Vec<u8>) {
    let mut b = [0u8; 20];
    let mut i = b.len();
    let mut v = v;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    bytes_field(field, &b[i..], out);
}

/// Write a length-delimited field whose contents `f` writes, fixing the length afterwards.
fn nested(field: u32, out: &mut Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) {
    key(field, 2, out);
    let at = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, 0]); // room for a varint up to 2^35
    let start = out.len();
    f(out);
    let len = out.len() - start;
    let mut tmp = [0u8; 5];
    let mut n = 0;
    let mut v = len as u64;
    while v >= 0x80 {
        tmp[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    tmp[n] = v as u8;
    n += 1;
    out[at..at + n].copy_from_slice(&tmp[..n]);
    out.copy_within(start.., at + n);
    out.truncate(at + n + len);
}

fn head(channel: &str, symbol: Option<&str>, send_time_ms: i64, out: &mut Vec<u8>) {
    out.clear();
    bytes_field(1, channel.as_bytes(), out);
    if let Some(s) = symbol {
        bytes_field(3, s.as_bytes(), out);
    }
    int_field(6, send_time_ms, out);
}

fn levels(field: u32, ls: &[Level], out: &mut Vec<u8>) {
    for l in ls {
        nested(field, out, |o| {
            px_field(1, l.px, o);
            qty_field(2, l.qty, o);
        });
    }
}

/// Body 313 `publicAggreDepths` (diff). `event_type` is the channel without the symbol
/// (`spot@public.aggre.depth.v3.api.pb@100ms`); `last_order_create_time_ms` 0 = omitted.
#[allow(clippy::too_many_arguments)]
pub fn write_aggre_depth<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    from_version: u64,
    to_version: u64,
    bids: &[Level],
    asks: &[Level],
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    let event_type = channel.rsplit_once('@').map_or(channel, |(a, _)| a);
    nested(body::PUBLIC_AGGRE_DEPTHS, out, |o| {
        levels(1, asks, o);
        levels(2, bids, o);
        bytes_field(3, event_type.as_bytes(), o);
        u64_field(4, from_version, o);
        u64_field(5, to_version, o);
        if last_order_create_time_ms != 0 {
            int_field(6, last_order_create_time_ms, o);
        }
    });
    out
}

/// Body 303 `publicLimitDepths` (top-N snapshot).
#[allow(clippy::too_many_arguments)]
pub fn write_limit_depth<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    version: u64,
    bids: &[Level],
    asks: &[Level],
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    nested(body::PUBLIC_LIMIT_DEPTHS, out, |o| {
        levels(1, asks, o);
        levels(2, bids, o);
        bytes_field(3, b"spot@public.limit.depth.v3.api.pb", o);
        u64_field(4, version, o);
        if last_order_create_time_ms != 0 {
            int_field(5, last_order_create_time_ms, o);
        }
    });
    out
}

/// One deal for [`write_aggre_deals`].
#[derive(Debug, Clone, Copy)]
pub struct DealOut<'a> {
    pub px: Px,
    pub qty: Qty,
    /// Taker side.
    pub side: Side,
    pub time_ms: i64,
    /// `""` = omitted (pre-2026 pushes).
    pub trade_id: &'a str,
}

/// Body 314 `publicAggreDeals`.
pub fn write_aggre_deals<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    deals: &[DealOut<'_>],
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    let event_type = channel.rsplit_once('@').map_or(channel, |(a, _)| a);
    nested(body::PUBLIC_AGGRE_DEALS, out, |o| {
        for d in deals {
            nested(1, o, |i| {
                px_field(1, d.px, i);
                qty_field(2, d.qty, i);
                int_field(
                    3,
                    match d.side {
                        Side::Buy => 1,
                        Side::Sell => 2,
                    },
                    i,
                );
                int_field(4, d.time_ms, i);
                if !d.trade_id.is_empty() {
                    bytes_field(5, d.trade_id.as_bytes(), i);
                }
            });
        }
        bytes_field(2, event_type.as_bytes(), o);
    });
    out
}

/// Body 315 `publicAggreBookTicker`.
#[allow(clippy::too_many_arguments)]
pub fn write_aggre_book_ticker<'b>(
    out: &'b mut Vec<u8>,
    channel: &str,
    symbol: &str,
    send_time_ms: i64,
    bid: Level,
    ask: Level,
    version: u64,
    last_order_create_time_ms: i64,
) -> &'b [u8] {
    head(channel, Some(symbol), send_time_ms, out);
    nested(body::PUBLIC_AGGRE_BOOK_TICKER, out, |o| {
        px_field(1, bid.px, o);
        qty_field(2, bid.qty, o);
        px_field(3, ask.px, o);
        qty_field(4, ask.qty, o);
        u64_field(5, version, o);
        if last_order_create_time_ms != 0 {
            int_field(6, last_order_create_time_ms, o);
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{BboMsg, BookMsg, Sink, TradeMsg};
    use crate::exchange::mexc::MexcDecoder;

    type BookSeen = (bool, u64, u64, Vec<Level>, Vec<Level>, Option<i64>);

    #[derive(Default)]
    struct Last {
        book: Option<BookSeen>,
        trades: Vec<(Px, Qty, Side, String, Option<i64>)>,
        bbo: Option<(Px, Qty, Px, Qty, Option<u64>)>,
    }

    impl Sink for Last {
        fn book(&mut self, m: &BookMsg<'_>) {
            self.book = Some((
                m.snapshot,
                m.seq_first,
                m.seq_last,
                m.bids.to_vec(),
                m.asks.to_vec(),
                m.ts_exchange_ms,
            ));
        }
        fn trade(&mut self, m: &TradeMsg<'_>) {
            self.trades.push((
                m.px,
                m.qty,
                m.side,
                m.trade_id.to_string(),
                m.ts_exchange_ms,
            ));
        }
        fn bbo(&mut self, m: &BboMsg<'_>) {
            self.bbo = Some((m.bid_px, m.bid_qty, m.ask_px, m.ask_qty, m.seq));
        }
    }

    fn l(p: &str, q: &str) -> Level {
        Level::new(
            Px::parse(p.as_bytes()).unwrap(),
            Qty::parse(q.as_bytes()).unwrap(),
        )
    }

    #[test]
    fn captured_book_ticker_is_reproduced_byte_for_byte() {
        let want = hex::decode("0A3473706F74407075626C69632E61676772652E626F6F6B5469636B65722E76332E6170692E7062403130306D7340425443555344541A074254435553445430BAB6CFA88D34DA133B0A0538343237301208302E3030363338371A0838343237302E3031220A352E34323136393936392A0B383231363431353334333630979FCFA88D34").unwrap();
        let mut out = Vec::new();
        let got = write_aggre_book_ticker(
            &mut out,
            "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT",
            "BTCUSDT",
            1790281243450,
            l("84270", "0.006387"),
            l("84270.01", "5.42169969"),
            82164153436,
            1790281240471,
        );
        assert_eq!(got, &want[..]);
    }

    #[test]
    fn writers_round_trip_through_the_decoder() {
        let mut out = Vec::with_capacity(4096);
        let mut dec = MexcDecoder::new(300);
        let bids: Vec<Level> = (0..200).map(|i| l(&format!("100.{i:03}"), "1.5")).collect();
        let asks = [l("101", "0")];
        write_aggre_depth(
            &mut out,
            "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT",
            "BTCUSDT",
            7,
            10,
            12,
            &bids,
            &asks,
            0,
        );
        let mut s = Last::default();
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(
            s.book,
            Some((false, 10, 12, bids.clone(), asks.to_vec(), Some(7)))
        );
        // prost agrees (the body is > 127 bytes: multi-byte length prefix).
        use prost::Message;
        let w = super::super::wire::PushDataV3ApiWrapper::decode(&out[..]).unwrap();
        assert_eq!(w.symbol.as_deref(), Some("BTCUSDT"));

        write_limit_depth(
            &mut out,
            "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
            "BTCUSDT",
            7,
            99,
            &[],
            &asks,
            5,
        );
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(s.book, Some((true, 99, 99, vec![], asks.to_vec(), Some(5))));

        let deals = [
            DealOut {
                px: l("1.25", "0").px,
                qty: l("0", "2").qty,
                side: Side::Sell,
                time_ms: 11,
                trade_id: "a_b",
            },
            DealOut {
                px: l("1.5", "0").px,
                qty: l("0", "3").qty,
                side: Side::Buy,
                time_ms: 12,
                trade_id: "",
            },
        ];
        write_aggre_deals(
            &mut out,
            "spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT",
            "BTCUSDT",
            13,
            &deals,
        );
        dec.decode_binary(&out, &mut s).unwrap();
        assert_eq!(s.trades.len(), 2);
        assert_eq!(
            s.trades[0],
            (
                deals[0].px,
                deals[0].qty,
                Side::Sell,
                "a_b".to_string(),
                Some(11)
            )
        );
        assert_eq!(s.trades[1].3, "");
    }
}
