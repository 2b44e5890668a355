//! The fixed-size record that crosses the ring: [`Event`] = 40-byte [`Header`] + 8 bytes of
//! alignment + a 128-byte [`Body`] (16-byte aligned: `Px`/`Qty` are `i128`), 192 bytes = three
//! cache lines, aligned to a cache line. It was 128 bytes while `Px`/`Qty` were `i64`; no exact
//! layout of `Body::Order` (60 bytes of venue ids + three 16-byte numbers) fits 88 bytes, so
//! the record grew by one line rather than carry own-order numbers inexactly (issue 13, see
//! ARCHITECTURE.md "Numbers" for the measured cost). `Copy`, no pointers, no heap: text the venue
//! sends (order ids, asset names, error messages) is copied into [`InlineStr`]s, truncated at a
//! char boundary if too long (then [`FLAG_TRUNCATED_TEXT`] is set).

use crate::event::{
    BalanceMsg, BboMsg, FillMsg, IdRef, KlineMsg, Liquidity, OrderMsg, OrderStatus, OrderType,
    PositionMsg, TickerMsg, TradeMsg,
};
use crate::types::{BookState, Dec, Interval, Market, Px, Qty, Side, SymbolId, Venue};

/// `Header::symbol` of events that belong to no symbol (balances, connection status).
pub const NO_SYMBOL: SymbolId = SymbolId(u16::MAX);

/// Some text did not fit its inline field and was cut.
pub const FLAG_TRUNCATED_TEXT: u8 = 1;
/// Book event: the feed's book dropped far levels for lack of capacity (top levels exact).
pub const FLAG_BOOK_TRUNCATED: u8 = 2;
/// Position event: `leverage` did not fit its compact field (mantissa beyond `i64`) and was
/// left zero. The other decimals of every event are carried exactly.
pub const FLAG_VALUE_DROPPED: u8 = 8;
/// Book event: the whole book was replaced (snapshot / full push), not just updated. Set by
/// the caller of `publish_book` on `SyncOutcome::Replaced`.
pub const FLAG_BOOK_REPLACED: u8 = 4;
/// Private event (order, balance, position): part of the start-up state fetched over signed
/// REST (`feed::recon`), delivered before any stream update of the private feed; a
/// `StatusKind::PrivateSnapshot` follows the last one.
pub const FLAG_SNAPSHOT: u8 = 16;
/// Private event (order, fill, balance, position) the stream missed during a `PrivateGap`,
/// fetched over signed REST and de-duplicated against what the stream delivered
/// (`feed::recon`); a `StatusKind::PrivateGapClosed` follows the last one of the gap.
pub const FLAG_RECONCILED: u8 = 32;
/// Kline event: `closed` was inferred by the feed, not sent by the venue: a later window's
/// first push arrived while this window had no closed push (MEXC never marks one; Gate's `w`
/// may be missing). The values are the window's last pushed state, which may predate its last
/// trades; a venue's own final push for the window, if it comes later, follows as usual.
pub const FLAG_KLINE_INFERRED: u8 = 64;

/// UTF-8 text of at most `N` bytes stored inline, NUL-padded (venue ids never contain NUL).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct InlineStr<const N: usize>([u8; N]);

impl<const N: usize> InlineStr<N> {
    /// No text (all NUL); what an absent id or currency reads as.
    pub const EMPTY: Self = InlineStr([0; N]);

    /// Copy `s`, cut at the last char boundary that fits. Returns the value and whether it was
    /// cut.
    pub(crate) fn new(s: &str) -> (Self, bool) {
        let mut n = s.len().min(N);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        let mut b = [0u8; N];
        b[..n].copy_from_slice(&s.as_bytes()[..n]);
        (InlineStr(b), n < s.len())
    }

    /// Length of the text in bytes (up to the first NUL, at most `N`).
    pub fn len(&self) -> usize {
        self.0.iter().position(|&c| c == 0).unwrap_or(N)
    }

    /// Whether no text is stored (the venue sent none, or an empty string).
    pub fn is_empty(&self) -> bool {
        self.0[0] == 0
    }

    /// The stored text; a prefix of what the venue sent if `FLAG_TRUNCATED_TEXT` is set.
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 chars are ever copied in (see `new`).
        std::str::from_utf8(&self.0[..self.len()]).unwrap_or("")
    }
}

impl<const N: usize> Default for InlineStr<N> {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl<const N: usize> std::fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// A [`Dec`] stored byte-aligned so it packs densely into ring bodies: the low `N` bytes of the
/// little-endian mantissa (sign-extended back to `i128` on read) and the scale. `RingDec<16>`
/// (17 bytes) holds every `Dec` exactly; `RingDec<8>` (9 bytes) holds mantissas within `i64`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct RingDec<const N: usize> {
    mant: [u8; N],
    scale: u8,
}

impl<const N: usize> RingDec<N> {
    const VALID: () = assert!(N >= 1 && N <= 16);
    /// Zero; also what an absent value reads as (see the body's `present` bits).
    pub const ZERO: Self = RingDec {
        mant: [0; N],
        scale: 0,
    };

    /// Store `d` exactly, or `None` if its mantissa needs more than `N` bytes.
    pub(crate) fn new(d: Dec) -> Option<Self> {
        #[allow(clippy::let_unit_value)]
        let () = Self::VALID;
        let m = d.mantissa();
        let b = m.to_le_bytes();
        let ext = if m < 0 { 0xff } else { 0 };
        let top_neg = b[N - 1] & 0x80 != 0;
        if b[N..].iter().any(|&x| x != ext) || top_neg != (m < 0) {
            return None;
        }
        let mut mant = [0u8; N];
        mant.copy_from_slice(&b[..N]);
        Some(RingDec {
            mant,
            scale: d.scale(),
        })
    }

    /// The exact value.
    pub fn get(self) -> Dec {
        let mut b = if self.mant[N - 1] & 0x80 != 0 {
            [0xffu8; 16]
        } else {
            [0u8; 16]
        };
        b[..N].copy_from_slice(&self.mant);
        // Built by `new` from a normalized `Dec`: always valid.
        Dec::from_parts(i128::from_le_bytes(b), self.scale).unwrap_or(Dec::ZERO)
    }
}

impl From<Dec> for RingDec<16> {
    fn from(d: Dec) -> Self {
        // 16 bytes hold any i128 mantissa.
        RingDec::new(d).unwrap_or(RingDec::ZERO)
    }
}

impl<const N: usize> Default for RingDec<N> {
    fn default() -> Self {
        Self::ZERO
    }
}

impl<const N: usize> std::fmt::Debug for RingDec<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.get(), f)
    }
}

impl<const N: usize> std::fmt::Display for RingDec<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.get(), f)
    }
}

/// Index of a pooled [`TopBook`](super::TopBook) slot, carried by [`Body::Book`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(transparent)]
pub struct BookHandle(pub(crate) u32);

impl BookHandle {
    /// Slot number in the book pool (stable while the event is unreleased; for diagnostics).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// What a [`Body::Status`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StatusKind {
    /// Connection (re)established and subscribed; `from_ns` = when.
    ConnUp = 1,
    /// Connection lost; `from_ns` = when.
    ConnDown = 2,
    /// The symbol's book changed state (`Header::state` holds the new one).
    Book = 3,
    /// The private stream was down from `from_ns` to `to_ns`: own orders, fills and balances
    /// in between may be missing — reconcile over REST.
    PrivateGap = 4,
    /// The feed thread died (panic, or its event loop failed): nothing from this venue and
    /// market arrives any more, every book of it is stale from now on, and the process should
    /// be restarted. `from_ns` = when. Sent once, to every consumer of that feed.
    FeedDown = 5,
    /// The venue sent an informational notice on a connection of this feed (Gate.io
    /// `*.system`, e.g. `upgrade`: the server will close the connection for an upgrade).
    /// `from_ns` = when; `to_ns` = 1 when the feed is replacing the connection because of it.
    VenueNotice = 6,
    /// The private feed's start-up state (open orders, balances, futures positions; events
    /// flagged [`FLAG_SNAPSHOT`]) has been delivered; stream updates follow. `from_ns` = when
    /// the REST fetch started, `to_ns` = when it was delivered.
    PrivateSnapshot = 7,
    /// The `PrivateGap` that started at `from_ns` is closed: what the stream missed until
    /// `to_ns` has been fetched over REST and delivered (events flagged [`FLAG_RECONCILED`]).
    /// Until this arrives the gap is open (retried with backoff when the REST fetch fails).
    PrivateGapClosed = 8,
}

/// Event payload. The variant is the event kind ([`Body::kind`]).
///
/// `#[repr(C, u8)]`: a one-byte tag then the variant's fields in declaration order, every field
/// type itself `repr(C)`, `repr(transparent)` or `repr(u8)`, so an [`Event`] has one defined
/// layout and can be placed in shared memory as it is (`ipc`, issue 16). The tag takes 16 bytes
/// (the `i128` alignment), leaving 128 for the largest variant.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, u8)]
pub enum Body {
    /// A public trade. `trade_id` is 0 when the venue sends none or a non-numeric one;
    /// `id_hash` identifies the trade either way.
    Trade {
        /// Trade price, exact.
        px: Px,
        /// Traded quantity, unsigned (contracts on futures).
        qty: Qty,
        /// Taker side: `Buy` lifted the offer, `Sell` hit the bid.
        side: Side,
        /// Venue trade id for de-duplication and gap checks; 0 = none or not numeric.
        trade_id: u64,
        /// The trade's identity for de-duplication whatever the id's form: the numeric id
        /// itself, else FNV-1a (64 bit) of the id text (MEXC's ids are strings); 0 = no id sent.
        /// Equal for the same trade received twice (e.g. on two connections).
        id_hash: u64,
    },
    /// Best bid and offer (empty side = zero). `Header::seq` holds the book sequence if sent.
    Bbo {
        /// Best bid price; 0 = empty bid side.
        bid_px: Px,
        /// Quantity at the best bid; 0 = empty bid side.
        bid_qty: Qty,
        /// Best ask price; 0 = empty ask side.
        ask_px: Px,
        /// Quantity at the best ask; 0 = empty ask side.
        ask_qty: Qty,
    },
    /// Ticker fields; a field is meaningful when its `TICKER_*` bit is set in `present`.
    Ticker {
        /// `TICKER_*` bits of the fields the venue sent; test before reading a field.
        present: u8,
        /// Last trade price (`TICKER_LAST`).
        last: Px,
        /// Best bid (`TICKER_BID`; Gate.io spot only).
        bid_px: Px,
        /// Best ask (`TICKER_ASK`; Gate.io spot only).
        ask_px: Px,
        /// Futures mark price (`TICKER_MARK`): what PnL and liquidation are computed on.
        mark_px: Px,
        /// Futures index price (`TICKER_INDEX`).
        index_px: Px,
        /// Signed funding rate per interval, 0.0001 = 1 bp (`TICKER_FUNDING`).
        funding_rate: Px,
    },
    /// Top-N book in pooled slot `handle`: read it with `Consumer::book`, then
    /// `Consumer::release` it. `Header::seq` is the book sequence.
    Book {
        /// Pool slot holding the levels; pass the event to `Consumer::book`/`release`.
        handle: BookHandle,
        /// Bid levels in the slot, best first.
        n_bids: u16,
        /// Ask levels in the slot, best first.
        n_asks: u16,
    },
    /// Own order. Remaining = `qty - filled`; the average fill price comes with `Fill`s.
    Order {
        /// Order side.
        side: Side,
        /// Type and time-in-force.
        order_type: OrderType,
        /// Life-cycle state; `status.is_final()` means no further updates for this order.
        status: OrderStatus,
        /// Exchange order id as text (integers formatted); key to join fills.
        order_id: InlineStr<28>,
        /// Our client order id as sent back by the venue; empty = none.
        client_id: InlineStr<32>,
        /// Limit price; 0 for market orders.
        px: Px,
        /// Original quantity, unsigned.
        qty: Qty,
        /// Cumulative filled quantity.
        filled: Qty,
    },
    /// Own fill. Join to the client id through `order_id` (the `Order` event carries both).
    /// `fee` is exact (17 bytes); to make room the id fields are sized to the venues' ids
    /// (MEXC trade ids are 20 chars, order ids 26; Gate ids are integers) and `fee_currency` to
    /// 6 bytes (longer asset names are cut and flagged `FLAG_TRUNCATED_TEXT`).
    Fill {
        /// Own side.
        side: Side,
        /// Maker or taker (fee tier).
        liquidity: Liquidity,
        /// Venue trade id as text; de-duplicates fills across a reconnect.
        trade_id: InlineStr<20>,
        /// Exchange id of the filled order, as in the `Order` event.
        order_id: InlineStr<26>,
        /// Asset the fee is charged in; empty = not sent (Gate.io futures: settle currency).
        fee_currency: InlineStr<6>,
        /// Fill price, exact.
        px: Px,
        /// Filled quantity, unsigned (contracts on futures).
        qty: Qty,
        /// Fee as sent, signed (negative = rebate), exact.
        fee: RingDec<16>,
    },
    /// Balance of one asset after a change; `total`/`change` valid when their `BAL_*` bit is set.
    /// All amounts exact. The venue's reason text is not carried (no room next to four exact
    /// decimals; `cexfeed decode` shows it).
    Balance {
        /// `BAL_*` bits: whether `total` and `change` were sent.
        present: u8,
        /// Asset name as the venue writes it (`USDT`).
        asset: InlineStr<16>,
        /// Free to trade or withdraw.
        available: RingDec<16>,
        /// Locked in open orders (always 0 on Gate.io futures).
        locked: RingDec<16>,
        /// Available + locked (`BAL_TOTAL`).
        total: RingDec<16>,
        /// Signed change that produced this balance (`BAL_CHANGE`).
        change: RingDec<16>,
    },
    /// Futures position (`Header::symbol` is the contract). Exact decimals; `leverage` (a small
    /// venue setting, 0 = cross) is held in 9 bytes: if its mantissa exceeds `i64` it is zero
    /// and `FLAG_VALUE_DROPPED` is set.
    Position {
        /// Signed contracts: positive long, negative short, 0 flat.
        size: Qty,
        /// Average entry price.
        entry_px: RingDec<16>,
        /// Leverage setting; 0 = cross margin (or dropped, see `FLAG_VALUE_DROPPED`).
        leverage: RingDec<8>,
        /// Position margin, settle currency.
        margin: RingDec<16>,
        /// Liquidation price; 0 = none.
        liq_px: RingDec<16>,
        /// Realised PnL of the position, settle currency.
        realised_pnl: RingDec<16>,
    },
    /// Connection / book / private-stream status.
    Status {
        /// What changed; see [`StatusKind`] for how to read the times.
        kind: StatusKind,
        /// When it happened, or the start of a gap; `now_ns` clock.
        from_ns: u64,
        /// End of a `PrivateGap`; `VenueNotice`: 1 when the connection is being replaced
        /// because of it; 0 for the other kinds.
        to_ns: u64,
    },
    /// A channel error from the venue (subscription refused, auth failure, …).
    Error {
        /// Venue error code (Gate.io `error.code`, 4 = authentication failure; MEXC `code`, 0
        /// on a refused subscription); -1 = raised by us (ack timeout, channel not offered).
        code: i64,
        /// Channel the error concerns, as the venue names it; empty = not tied to a channel.
        channel: InlineStr<24>,
        /// Venue's message (or ours), cut to 48 bytes.
        message: InlineStr<48>,
    },
    /// Synthesised by the consumer: the producer dropped `count` events since the last read
    /// (ring full or pool empty). Book updates are conflated, not counted here. Its header
    /// has `symbol == NO_SYMBOL`; venue and market are not meaningful.
    Missed {
        /// Events dropped for this consumer since its previous read.
        count: u64,
    },
    /// A candle (kline) of `interval`: the window's state as the venue pushed it, exact.
    /// `quote_volume` / `base_volume` are meaningful when their `KLINE_*` bit is set.
    Kline {
        /// The candle's interval.
        interval: Interval,
        /// The window is final (see [`KlineMsg::closed`](crate::event::KlineMsg) per venue).
        closed: bool,
        /// `KLINE_QUOTE_VOLUME` / `KLINE_BASE_VOLUME` bits of the volumes the venue sent.
        present: u8,
        /// Window start, epoch ms.
        open_time_ms: i64,
        /// Opening price.
        open: Px,
        /// Highest price.
        high: Px,
        /// Lowest price.
        low: Px,
        /// Closing (latest) price.
        close: Px,
        /// Traded quantity: base asset on spot, contracts on futures.
        volume: Qty,
        /// Traded value in the quote currency (`KLINE_QUOTE_VOLUME`).
        quote_volume: Qty,
        /// Gate.io futures `a`, base-currency amount (`KLINE_BASE_VOLUME`).
        base_volume: Qty,
    },
}

/// `Body::Ticker::present` bit: `last` was sent.
pub const TICKER_LAST: u8 = 1;
/// `Body::Ticker::present` bit: `bid_px` was sent.
pub const TICKER_BID: u8 = 2;
/// `Body::Ticker::present` bit: `ask_px` was sent.
pub const TICKER_ASK: u8 = 4;
/// `Body::Ticker::present` bit: `mark_px` was sent.
pub const TICKER_MARK: u8 = 8;
/// `Body::Ticker::present` bit: `index_px` was sent.
pub const TICKER_INDEX: u8 = 16;
/// `Body::Ticker::present` bit: `funding_rate` was sent.
pub const TICKER_FUNDING: u8 = 32;
/// `Body::Balance::present` bit: `total` was sent (or computed from available + locked).
pub const BAL_TOTAL: u8 = 1;
/// `Body::Balance::present` bit: `change` was sent.
pub const BAL_CHANGE: u8 = 2;
/// `Body::Kline::present` bit: `quote_volume` was sent.
pub const KLINE_QUOTE_VOLUME: u8 = 1;
/// `Body::Kline::present` bit: `base_volume` was sent.
pub const KLINE_BASE_VOLUME: u8 = 2;

/// Event kind, for counting and dispatch without matching the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// [`Body::Trade`].
    Trade,
    /// [`Body::Bbo`].
    Bbo,
    /// [`Body::Ticker`].
    Ticker,
    /// [`Body::Book`].
    Book,
    /// [`Body::Order`].
    Order,
    /// [`Body::Fill`].
    Fill,
    /// [`Body::Balance`].
    Balance,
    /// [`Body::Position`].
    Position,
    /// [`Body::Status`].
    Status,
    /// [`Body::Error`].
    Error,
    /// [`Body::Missed`].
    Missed,
    /// [`Body::Kline`].
    Kline,
}

impl Body {
    /// The event kind of this payload.
    pub const fn kind(&self) -> Kind {
        match self {
            Body::Trade { .. } => Kind::Trade,
            Body::Bbo { .. } => Kind::Bbo,
            Body::Ticker { .. } => Kind::Ticker,
            Body::Book { .. } => Kind::Book,
            Body::Order { .. } => Kind::Order,
            Body::Fill { .. } => Kind::Fill,
            Body::Balance { .. } => Kind::Balance,
            Body::Position { .. } => Kind::Position,
            Body::Status { .. } => Kind::Status,
            Body::Error { .. } => Kind::Error,
            Body::Missed { .. } => Kind::Missed,
            Body::Kline { .. } => Kind::Kline,
        }
    }
}

/// Who and when. 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Header {
    /// Exchange the event came from; with `market` and `symbol` it identifies the instrument.
    pub venue: Venue,
    /// Spot or futures.
    pub market: Market,
    /// Book state of the symbol at the time of the event (`Live` for non-book events).
    pub state: BookState,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Instrument in the engine's `SymbolRegistry`; `NO_SYMBOL` for balances and connection
    /// status.
    pub symbol: SymbolId,
    /// Padding; always 0.
    pub _reserved: u16,
    /// Book sequence for book/BBO events, 0 otherwise.
    pub seq: u64,
    /// Venue event time, epoch ms; 0 when the venue sent none.
    pub ts_exchange_ms: i64,
    /// Our receive time of the frame (`now_ns`, CLOCK_MONOTONIC).
    pub ts_recv_ns: u64,
    /// Stamped by the producer right before the push (`now_ns`); `now_ns() - ts_ring_ns` is
    /// the ring hop, `ts_ring_ns - ts_recv_ns` the decode and book work.
    pub ts_ring_ns: u64,
}

impl Header {
    /// A header with state `Live`, no flags, `seq` and `ts_exchange_ms` 0 and `ts_ring_ns` 0
    /// (set by the push).
    pub const fn new(venue: Venue, market: Market, symbol: SymbolId, ts_recv_ns: u64) -> Self {
        Header {
            venue,
            market,
            state: BookState::Live,
            flags: 0,
            symbol,
            _reserved: 0,
            seq: 0,
            ts_exchange_ms: 0,
            ts_recv_ns,
            ts_ring_ns: 0,
        }
    }
}

/// One ring record: three cache lines. See the module docs.
#[derive(Debug, Clone, Copy, PartialEq)]
#[repr(C, align(64))]
pub struct Event {
    /// Who and when: instrument, book state, flags, sequence and the latency timestamps.
    pub header: Header,
    /// What: the payload, one variant per event kind.
    pub body: Body,
}

const _: () = assert!(std::mem::size_of::<Header>() == 40);
const _: () = assert!(std::mem::size_of::<Body>() <= 144);
const _: () = assert!(std::mem::size_of::<Body>() == 144);
const _: () = assert!(std::mem::size_of::<Event>() == 192);
const _: () = assert!(std::mem::align_of::<Event>() == 64);

fn ms(v: Option<i64>) -> i64 {
    v.unwrap_or(0)
}

fn id_num(id: &IdRef<'_>) -> u64 {
    id.as_u64().unwrap_or(0)
}

/// A trade's identity: its numeric id (`num`, from [`id_num`]), else an FNV-1a hash of the
/// id text; 0 = no id. Parses nothing again.
fn id_hash(id: &IdRef<'_>, num: u64) -> u64 {
    match *id {
        _ if num != 0 => num,
        IdRef::Str(s) if !s.is_empty() => s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
        }),
        _ => 0,
    }
}

fn id_str<const N: usize>(id: &IdRef<'_>, flags: &mut u8) -> InlineStr<N> {
    match *id {
        IdRef::Str(s) => text(s, flags),
        IdRef::Num(n) => {
            // u64 has at most 20 digits; format without allocating.
            let mut buf = [0u8; 20];
            let mut i = buf.len();
            let mut v = n;
            loop {
                i -= 1;
                buf[i] = b'0' + (v % 10) as u8;
                v /= 10;
                if v == 0 {
                    break;
                }
            }
            text(std::str::from_utf8(&buf[i..]).unwrap_or(""), flags)
        }
    }
}

fn text<const N: usize>(s: &str, flags: &mut u8) -> InlineStr<N> {
    let (v, cut) = InlineStr::new(s);
    if cut {
        *flags |= FLAG_TRUNCATED_TEXT;
    }
    v
}

impl Event {
    /// An event from its parts, as is.
    pub const fn new(header: Header, body: Body) -> Self {
        Event { header, body }
    }

    /// The event kind ([`Body::kind`]).
    pub const fn kind(&self) -> Kind {
        self.body.kind()
    }

    /// A [`Body::Trade`]; `ts_exchange_ms` from the message, a non-numeric trade id becomes 0
    /// in `trade_id` and its hash in `id_hash`.
    pub fn trade(mut h: Header, m: &TradeMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let trade_id = id_num(&m.trade_id);
        Event::new(
            h,
            Body::Trade {
                px: m.px,
                qty: m.qty,
                side: m.side,
                trade_id,
                id_hash: id_hash(&m.trade_id, trade_id),
            },
        )
    }

    /// A [`Body::Bbo`]; `ts_exchange_ms` and `seq` (the book update id, 0 if none) from the
    /// message.
    pub fn bbo(mut h: Header, m: &BboMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        h.seq = m.seq.unwrap_or(0);
        Event::new(
            h,
            Body::Bbo {
                bid_px: m.bid_px,
                bid_qty: m.bid_qty,
                ask_px: m.ask_px,
                ask_qty: m.ask_qty,
            },
        )
    }

    /// A [`Body::Ticker`] with the `present` bits of the fields the message carries.
    pub fn ticker(mut h: Header, m: &TickerMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let mut present = 0;
        let mut get = |v: Option<Px>, bit: u8| {
            if v.is_some() {
                present |= bit;
            }
            v.unwrap_or(Px::ZERO)
        };
        let last = get(m.last, TICKER_LAST);
        let bid_px = get(m.bid_px, TICKER_BID);
        let ask_px = get(m.ask_px, TICKER_ASK);
        let mark_px = get(m.mark_px, TICKER_MARK);
        let index_px = get(m.index_px, TICKER_INDEX);
        let funding_rate = get(m.funding_rate, TICKER_FUNDING);
        Event::new(
            h,
            Body::Ticker {
                present,
                last,
                bid_px,
                ask_px,
                mark_px,
                index_px,
                funding_rate,
            },
        )
    }

    /// A [`Body::Order`]; `ts_exchange_ms` = update time, else creation time. Ids longer than
    /// their field are cut and flagged `FLAG_TRUNCATED_TEXT`.
    pub fn order(mut h: Header, m: &OrderMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_update_ms.or(m.ts_create_ms));
        let order_id = id_str(&m.order_id, &mut h.flags);
        let client_id = text(m.client_id.unwrap_or(""), &mut h.flags);
        Event::new(
            h,
            Body::Order {
                side: m.side,
                order_type: m.order_type,
                status: m.status,
                order_id,
                client_id,
                px: m.px,
                qty: m.qty,
                filled: m.filled,
            },
        )
    }

    /// A [`Body::Fill`]; long ids and fee currency are cut and flagged `FLAG_TRUNCATED_TEXT`.
    pub fn fill(mut h: Header, m: &FillMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let trade_id = id_str(&m.trade_id, &mut h.flags);
        let order_id = id_str(&m.order_id, &mut h.flags);
        let fee_currency = text(m.fee_currency.unwrap_or(""), &mut h.flags);
        Event::new(
            h,
            Body::Fill {
                side: m.side,
                liquidity: m.liquidity,
                trade_id,
                order_id,
                fee_currency,
                px: m.px,
                qty: m.qty,
                fee: m.fee.into(),
            },
        )
    }

    /// A [`Body::Balance`] with the `present` bits; a long asset name is cut and flagged.
    pub fn balance(mut h: Header, m: &BalanceMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let asset = text(m.asset, &mut h.flags);
        let present =
            (m.total.is_some() as u8 * BAL_TOTAL) | (m.change.is_some() as u8 * BAL_CHANGE);
        Event::new(
            h,
            Body::Balance {
                present,
                asset,
                available: m.available.into(),
                locked: m.locked.into(),
                total: m.total.unwrap_or(Dec::ZERO).into(),
                change: m.change.unwrap_or(Dec::ZERO).into(),
            },
        )
    }

    /// A [`Body::Position`]; a leverage beyond 9 bytes is zeroed and `FLAG_VALUE_DROPPED` set.
    pub fn position(mut h: Header, m: &PositionMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let leverage = RingDec::new(m.leverage).unwrap_or_else(|| {
            h.flags |= FLAG_VALUE_DROPPED;
            RingDec::ZERO
        });
        Event::new(
            h,
            Body::Position {
                size: m.size,
                entry_px: m.entry_px.into(),
                leverage,
                margin: m.margin.into(),
                liq_px: m.liq_px.into(),
                realised_pnl: m.realised_pnl.into(),
            },
        )
    }

    /// A [`Body::Kline`]; `ts_exchange_ms` from the message, `present` bits for the optional
    /// volumes.
    pub fn kline(mut h: Header, m: &KlineMsg<'_>) -> Self {
        h.ts_exchange_ms = ms(m.ts_exchange_ms);
        let present = (m.quote_volume.is_some() as u8 * KLINE_QUOTE_VOLUME)
            | (m.base_volume.is_some() as u8 * KLINE_BASE_VOLUME);
        Event::new(
            h,
            Body::Kline {
                interval: m.interval,
                closed: m.closed,
                present,
                open_time_ms: m.open_time_ms,
                open: m.open,
                high: m.high,
                low: m.low,
                close: m.close,
                volume: m.volume,
                quote_volume: m.quote_volume.unwrap_or(Qty::ZERO),
                base_volume: m.base_volume.unwrap_or(Qty::ZERO),
            },
        )
    }

    /// A [`Body::Status`]; the header is used as is.
    pub fn status(h: Header, kind: StatusKind, from_ns: u64, to_ns: u64) -> Self {
        Event::new(
            h,
            Body::Status {
                kind,
                from_ns,
                to_ns,
            },
        )
    }

    /// A [`Body::Error`]; channel and message are cut to their fields and flagged if cut.
    pub fn error(mut h: Header, code: i64, channel: &str, message: &str) -> Self {
        let channel = text(channel, &mut h.flags);
        let message = text(message, &mut h.flags);
        Event::new(
            h,
            Body::Error {
                code,
                channel,
                message,
            },
        )
    }
}
