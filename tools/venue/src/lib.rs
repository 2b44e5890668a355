//! Loopback exchange venue: a local server that speaks MEXC spot (protobuf pushes, JSON control,
//! REST depth, listen keys) and Gate.io v4 spot and USDT futures (JSON) on one address, backed by
//! a deterministic market simulator, a simulated account, and fault injection on demand.
//!
//! Not the hot path: one blocking std thread per connection, one market thread. As a server it
//! bounds what a client can make it spend: at most [`VenueConfig::max_connections`]
//! connections; HTTP heads of 64 KiB, bodies of 1 MiB (chunk sizes checked before reading),
//! a whole-request deadline ([`VenueConfig::request_timeout`]) and a 30 s keep-alive idle
//! close; client WebSocket messages of [`server::MAX_WS_MESSAGE`]; Gate.io subscriptions
//! per connection ([`gate::MAX_SUBS`], duplicates refused, also while an unsubscribe is not
//! done yet: [`gate::UNSUBSCRIBE_DELAY`]) and silent Gate.io clients closed
//! after [`VenueConfig::gate_idle_timeout`]. A connection thread with nothing to push sleeps
//! in `poll(2)` until client input or its next push is due (at most 100 ms). Frames are
//! written the way the exchanges document them with encoders of its own (no code shared with
//! `src/exchange/`), and checked against the published fixtures in `tests/venue_*.rs`.
//!
//! Session lifecycles ([`lifecycle`]): keep-alive faults queued with
//! [`VenueHandle::inject_keepalive_faults`] (transport, 429/5xx, the key gone), listen keys that
//! expire after [`VenueConfig::listen_key_ttl`] and end their stream, a venue clock off the real
//! one ([`VenueConfig::clock_skew_ms`], [`VenueHandle::set_clock_skew_ms`]) served by
//! `/api/v3/time` and `/api/v4/spot/time` and enforced on signed requests, quiet symbols
//! ([`VenueHandle::set_quiet`]) and server-sent MEXC pings ([`VenueConfig::mexc_server_ping`]).
//!
//! # Start it alone and point a client at it
//!
//! ```text
//! cargo run --release -- venue --listen 127.0.0.1:8443 --tls \
//!     --scenario gap,reset --target BTCUSDT --fault-period 5s --rate 2000
//! ```
//!
//! It prints what it serves, e.g. (with `--tls`; without it the schemes are `ws://`/`http://`):
//!
//! ```text
//! MEXC spot      ws   wss://127.0.0.1:8443/ws            (private: /ws?listenKey=<key>)
//!                rest https://127.0.0.1:8443             (/api/v3/depth, /api/v3/userDataStream)
//! Gate.io spot   ws   wss://127.0.0.1:8443/ws/v4/
//! Gate.io USDT   ws   wss://127.0.0.1:8443/v4/ws/usdt     (also /v4/ws/futures/usdt)
//!                rest https://127.0.0.1:8443              (/api/v4/spot/order_book, /api/v4/futures/usdt/order_book)
//! CA certificate      /tmp/cexfeed-venue-<port>-<random>/ca.pem   (private dir, 0700, removed at stop)
//! ```
//!
//! Point the client's MEXC and Gate.io base URLs at those (trusting `ca.pem` when `--tls`) and
//! use the demo credentials [`MEXC_API_KEY`]/[`MEXC_API_SECRET`], [`GATE_API_KEY`]/
//! [`GATE_API_SECRET`] and [`GATE_FUTURES_USER_ID`]. It runs until Ctrl-C.
//!
//! From Rust (tests, benches):
//!
//! ```no_run
//! use cexfeed_venue::{Venue, VenueConfig, Scenario, Target};
//! use cexfeed_venue::num::{Market, VenueId};
//! let cfg = VenueConfig {
//!     scenarios: vec![(Scenario::Gap, Target::Symbol("BTC_USDT".into()))],
//!     ..VenueConfig::default()
//! };
//! let venue = Venue::start(cfg).unwrap(); // listening on 127.0.0.1:<ephemeral>
//! let url = venue.gate_spot_ws_url();
//! # let _ = url;
//! let (seq, bids, asks) = venue
//!     .true_book(VenueId::Gateio, Market::Spot, "BTC_USDT")
//!     .unwrap();
//! # let _ = (seq, bids, asks);
//! venue.stop();
//! ```
//!
//! # Market
//!
//! One simulator per (venue, market, symbol), seeded from [`VenueConfig::seed`]: a fair-value
//! random walk (its own, or with [`VenueConfig::lead_lag`] one per base asset shared by every
//! venue and market, each seeing it after its own delay: [`fair`]), a few hundred levels per side with churn concentrated near the top, trades that
//! consume levels. The sequence of book states per version is a function of the seed alone
//! (timing, bursts and MEXC `full-reset` rebuilds aside). Diff channels carry every level
//! touched in the window at any depth (also on depth-limited Gate streams), so a client that
//! bridged a depth-N snapshot has an exact top of book; `obu` keeps an exact top-N view. ONE version counter per symbol, +1 per book change, shared by deltas,
//! snapshots (REST and pushed) and book tickers. [`VenueHandle::true_book`] reports the book
//! and its version at any time; [`VenueHandle::book_at`] rebuilds it at a recent past version.
//!
//! Push cadence ([`PushMode`]): `Interval` honours each channel's interval on a global
//! millisecond grid (window `w` of an `I` ms channel holds the changes made in
//! `[w·I, (w+1)·I)`), so every subscriber sees the same frames and a 100 ms boundary is a
//! boundary of every stream; `PerChange` pushes every change as its own frame (load tests).
//!
//! MEXC REST `lastUpdateId` is the version at the end of the last complete 100 ms window: the
//! `toVersion` of a push every aggre-depth subscriber (10 ms, 100 ms, per-change) has already
//! been sent, so no client sees a frame straddle it (`fresh-snapshot` breaks exactly this).
//! Gate.io REST `id` is the current version.
//!
//! Candles ([`kline`]): per symbol and interval, built from its own trades and closed when the
//! window ends; MEXC `spot@public.kline.v3.api.pb@<SYMBOL>@<Min1…Month1>` (body 308, the final
//! state of a window pushed once more with `createTime` ≥ its end) and mini tickers
//! `spot@public.miniTicker.v3.api.pb@<SYMBOL>@<TZ>` (309, every 3 s); Gate.io `*.candlesticks`
//! `[interval, pair]` (`w: true` on a closed window). Bad intervals are refused as the
//! exchanges refuse them (MEXC `Blocked!`, Gate code 2). [`VenueConfig::kline_window`] shortens
//! every window for tests; [`VenueHandle::klines`] reports the closed candles.
//!
//! Other venue rules served: MEXC closes a connection with no valid subscription after 30 s and
//! one that sends more than 100 messages in a second, and allows 30 channels per connection;
//! Gate.io futures sends a protocol ping every 10 s; every Gate.io `order_book_update`
//! subscription gets an unprompted `full: true` push every [`VenueConfig::gate_full_period`].
//! Protocol pings from clients are answered (tungstenite); permessage-deflate is not offered.
//!
//! # Faults (names are a contract; see [`Scenario`])
//!
//! The configured `(Scenario, Target)`s are staggered so that one never masks another (a `reset`
//! landing with a `gap` would hide it): scenario `i` of the `n` configured (in list order)
//! strikes at `t = k · fault_period + i · fault_period / n` (k = 1, 2, …) on every feed it
//! applies to. Every fault injected is counted per scenario in
//! [`VenueStats::injected`] (one per push dropped, connection reset, request refused, …), so a
//! test can compare the faults injected with the faults a client detected. Request-driven faults (`stale-snapshot`, `fresh-snapshot`,
//! `slow-snapshot`, `failed-snapshot`, `reject`, `auth-fail`) are also armed at start-up and hit
//! the first matching request after each strike, per symbol. With `quiet_after`, nothing
//! strikes after that time so books can recover before comparison. With `freeze_after`
//! (`cexfeed venue --freeze-after DUR`) the markets stop changing at that time for good
//! (nothing strikes either) while connections stay up and pings are answered: every client's
//! final books can be compared with the REST snapshots. Every HTTP request's and WebSocket
//! upgrade's path and `User-Agent` are kept ([`VenueHandle::user_agents`]).
//!
//! | name | what the client sees |
//! |---|---|
//! | `gap` | one diff push missing (MEXC `fromVersion` > prev `toVersion`+1, Gate `U` > prev `u`+1) |
//! | `duplicate` | one diff push sent twice |
//! | `reorder` | one diff push held back and sent after the next |
//! | `stale-snapshot` | REST book from about half the change log ago (older than the stream) |
//! | `fresh-snapshot` | REST book at the current version, inside a future push's range |
//! | `full-reset` | Gate: a `full: true` push (obu: a new full view); MEXC: versions jump by 1000 and the book is rebuilt |
//! | `reset` | TCP RST |
//! | `close` | WebSocket close 1000, then FIN |
//! | `silent` | nothing sent or read any more (no pushes, no pongs) until the client leaves |
//! | `slow-snapshot` | REST answered after [`VenueConfig::slow_snapshot`] (3 s) |
//! | `failed-snapshot` | REST HTTP 500 with the venue's error body |
//! | `malformed` | a push replaced by a truncated frame, non-JSON / non-protobuf bytes or wrong field types |
//! | `reject` | a subscribe refused (MEXC `Not Subscribed successfully! [..].  Reason： Blocked! `, Gate code 3 "server side error"; accepted when asked again) |
//! | `auth-fail` | a correctly signed private request refused (MEXC 700002 on listen-key creation, Gate code 4) |
//! | `lifetime` | targeted connections closed (1000) when `fault_period` old — the 24 h limit, compressed; Gate.io connections get a `*.system` `upgrade` notice [`gate::UPGRADE_NOTICE_LEAD`] before |
//! | `no-pong` | the connection stops reading: `PING` / `*.ping` and protocol pings go unanswered; pushes continue |
//!
//! # CLI
//!
//! `cexfeed venue [--listen ADDR] [--tls] [--scenario NAME[@SYMBOL],…] [--target SYMBOL]
//! [--fault-period 3s] [--quiet-after DUR] [--rate N] [--per-change] [--burst SIZE@PERIOD]
//! [--symbols BTCUSDT,BTC_USDT,…] [--seed N] [--no-idle-rules] [--duration DUR] [--lead-lag]`

pub mod account;
pub mod account_rest;
mod conn;
pub mod fair;
pub mod feed;
pub mod gate;
mod http;
pub mod kline;
pub mod lifecycle;
pub mod marks;
pub mod mexc;
pub mod num;
pub mod pb;
pub mod replay;
pub mod server;
pub mod sim;

use std::collections::HashMap;
use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::num::{BookSide, Level, Market, Px, Qty, Side, VenueId};
pub use lifecycle::{KeepAliveFault, LifecycleStats};

use account::Account;
use sim::{SymSpec, Symbol};

/// Demo MEXC API key accepted by the venue (`X-MEXC-APIKEY`).
pub const MEXC_API_KEY: &str = "mx0vglDEMOcexfeedLOOPBACKkey";
/// Demo MEXC API secret (HMAC-SHA256 of the query string).
pub const MEXC_API_SECRET: &str = "cexfeed-demo-mexc-secret-0123456789abcdef";
/// Demo Gate.io API key (`auth.KEY`).
pub const GATE_API_KEY: &str = "cexfeeddemogatekey0123456789abcd";
/// Demo Gate.io API secret (HMAC-SHA512 of `channel=…&event=…&time=…`).
pub const GATE_API_SECRET: &str = "cexfeed-demo-gate-secret-0123456789abcdef0123456789abcdef";
/// Demo Gate.io futures user id (first element of futures private payloads).
pub const GATE_FUTURES_USER_ID: u64 = 110_284_739;

/// Injected faults. Names (for the CLI and [`Scenario::parse`]) are a contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// `gap`: one diff push (MEXC aggre depth, Gate `order_book_update`/`obu`) is not sent.
    Gap,
    /// `duplicate`: one diff push is sent twice.
    Duplicate,
    /// `reorder`: one diff push is held back and sent after the next one.
    Reorder,
    /// `stale-snapshot`: a REST snapshot from well before the stream (older than the first
    /// delta a client could have buffered).
    StaleSnapshot,
    /// `fresh-snapshot`: a REST snapshot at the current version, not at a frame boundary
    /// (MEXC: inside the next push's `fromVersion..toVersion`).
    FreshSnapshot,
    /// `full-reset`: Gate: one diff push replaced by a `full: true` book; MEXC: the symbol's
    /// counter jumps by 1000 and the book is rebuilt (clients see a gap and resync).
    FullReset,
    /// `reset`: TCP reset (SO_LINGER 0) of the connection.
    Reset,
    /// `close`: clean WebSocket close (1000) then TCP close.
    Close,
    /// `silent`: the connection stops sending and reading (no pushes, no pongs) until the
    /// client leaves (closed by the venue after 120 s).
    Silent,
    /// `slow-snapshot`: REST snapshot answered after [`VenueConfig::slow_snapshot`].
    SlowSnapshot,
    /// `failed-snapshot`: REST snapshot answered with HTTP 500 and the venue's error body.
    FailedSnapshot,
    /// `malformed`: one push replaced by a truncated frame, bad JSON/protobuf or wrong types.
    Malformed,
    /// `reject`: a subscription refused, accepted when asked again (MEXC "Blocked!", Gate
    /// error code 3, a transient "server side error").
    Reject,
    /// `auth-fail`: a private request refused although correctly signed (MEXC 700002 on
    /// listen-key creation, Gate error code 4 on a private subscribe).
    AuthFail,
    /// `lifetime`: every connection to a targeted feed is closed when it is `fault_period`
    /// old (the 24 h limit, compressed); Gate.io connections are told shortly before by a
    /// `*.system` `upgrade` notice.
    Lifetime,
    /// `no-pong`: the connection stops reading: application pings (`PING`, `*.ping`) and
    /// protocol pings go unanswered (as do requests) while pushes continue.
    NoPong,
}

impl Scenario {
    pub const ALL: [Scenario; 16] = [
        Scenario::Gap,
        Scenario::Duplicate,
        Scenario::Reorder,
        Scenario::StaleSnapshot,
        Scenario::FreshSnapshot,
        Scenario::FullReset,
        Scenario::Reset,
        Scenario::Close,
        Scenario::Silent,
        Scenario::SlowSnapshot,
        Scenario::FailedSnapshot,
        Scenario::Malformed,
        Scenario::Reject,
        Scenario::AuthFail,
        Scenario::Lifetime,
        Scenario::NoPong,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Scenario::Gap => "gap",
            Scenario::Duplicate => "duplicate",
            Scenario::Reorder => "reorder",
            Scenario::StaleSnapshot => "stale-snapshot",
            Scenario::FreshSnapshot => "fresh-snapshot",
            Scenario::FullReset => "full-reset",
            Scenario::Reset => "reset",
            Scenario::Close => "close",
            Scenario::Silent => "silent",
            Scenario::SlowSnapshot => "slow-snapshot",
            Scenario::FailedSnapshot => "failed-snapshot",
            Scenario::Malformed => "malformed",
            Scenario::Reject => "reject",
            Scenario::AuthFail => "auth-fail",
            Scenario::Lifetime => "lifetime",
            Scenario::NoPong => "no-pong",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Position in [`Scenario::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Request-driven faults are armed at start-up as well as at every strike.
    pub const fn request_driven(self) -> bool {
        matches!(
            self,
            Scenario::StaleSnapshot
                | Scenario::FreshSnapshot
                | Scenario::SlowSnapshot
                | Scenario::FailedSnapshot
                | Scenario::Reject
                | Scenario::AuthFail
        )
    }
}

/// Parse `NAME[@SYMBOL],…` (e.g. `gap@BTCUSDT,reset`); a name without `@SYMBOL` targets
/// `default_target` or, if none, every symbol. Unknown names are an error listing the known ones.
pub fn parse_scenarios(
    spec: &str,
    default_target: Option<&str>,
) -> Result<Vec<(Scenario, Target)>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (name, sym) = match item.split_once('@') {
            Some((n, t)) => (n.trim(), Some(t.trim())),
            None => (item, default_target),
        };
        let Some(sc) = Scenario::parse(name) else {
            let names: Vec<&str> = Scenario::ALL.iter().map(|s| s.name()).collect();
            return Err(format!(
                "unknown scenario {name:?}; known: {}",
                names.join(", ")
            ));
        };
        let t = match sym {
            Some(s) if !s.is_empty() && s != "*" => Target::Symbol(s.to_string()),
            _ => Target::All,
        };
        out.push((sc, t));
    }
    Ok(out)
}

/// Which feeds a scenario hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every symbol of every venue (and every connection, for connection faults).
    All,
    /// One wire symbol name (`BTCUSDT`, `BTC_USDT`), on whichever venue/market lists it.
    Symbol(String),
}

impl Target {
    pub fn matches(&self, name: &str) -> bool {
        match self {
            Target::All => true,
            Target::Symbol(s) => s.eq_ignore_ascii_case(name),
        }
    }
}

/// Push cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushMode {
    /// Honour each channel's interval (10/20/100 ms …) on a global grid.
    Interval,
    /// Every book change and trade is its own push, sent as soon as it is generated.
    PerChange,
}

/// Venue configuration. `Default`: `127.0.0.1:0`, plain (no TLS), no faults, 2 000 book changes
/// per second per symbol, no bursts, `PushMode::Interval`, MEXC `BTCUSDT`,`ETHUSDT`, Gate `BTC_USDT`,
/// `ETH_USDT` on spot and futures, seed 1, fault period 3 s, no quiet period, slow snapshots
/// delayed 3 s, account step every 500 ms, change log of 65 536 entries per symbol, MEXC idle
/// and inbound-rate rules on, a Gate `order_book_update` `full: true` push every 30 s.
#[derive(Debug, Clone)]
pub struct VenueConfig {
    pub listen: SocketAddr,
    pub tls: bool,
    pub scenarios: Vec<(Scenario, Target)>,
    /// Book changes per second per symbol (trades come on top, a few % of changes).
    pub rate_per_sec: u32,
    pub push_mode: PushMode,
    pub mexc_symbols: Vec<String>,
    pub gate_spot_symbols: Vec<String>,
    pub gate_futures_symbols: Vec<String>,
    pub seed: u64,
    pub fault_period: Duration,
    pub quiet_after: Option<Duration>,
    pub slow_snapshot: Duration,
    /// Simulated account: one order-lifecycle step per period (0 disables).
    pub private_period: Duration,
    /// Bursts: every `burst_period` (zero = never) each symbol makes `burst_size` extra book
    /// changes at once, on top of the steady rate.
    pub burst_period: Duration,
    pub burst_size: u32,
    /// Per-symbol change log length (history for slow readers and `book_at`).
    pub log_capacity: usize,
    /// Gate `order_book_update`: every subscription gets an unprompted `full: true` push (top
    /// `level` levels) this often, as Gate does at irregular times since 2025 (zero = never).
    pub gate_full_period: Duration,
    /// MEXC connection rules: close a connection with no valid subscription after 30 s,
    /// disconnect a client sending more than 100 messages per second (default on).
    pub idle_rules: bool,
    /// Where the CA certificate is written when `tls`. Default (`None`): a fresh private
    /// directory (mode 0700, unique name, created exclusively) under the temp dir, removed
    /// when the venue stops. A given directory is created 0700 if missing; `ca.pem` is written
    /// exclusively to a new file there and renamed into place (links are never followed).
    pub ca_dir: Option<PathBuf>,
    /// Connections served at once (one thread each); more are refused (plain: `503`, TLS: a
    /// close). Default 256 (Gate.io allows 300 per IP).
    pub max_connections: usize,
    /// Whole-request deadline for HTTP (head and body, from its first byte); a slower client
    /// gets `408` and a close. Default 10 s.
    pub request_timeout: Duration,
    /// Gate.io WebSocket: a client that sends nothing at all (no request, no `*.ping`, no
    /// protocol ping or pong) for this long is disconnected, as Gate.io drops unresponsive
    /// clients (60 s measured on Gate US). Zero = never. Default 60 s.
    pub gate_idle_timeout: Duration,
    /// After this long the markets stop changing for good (no book change, trade, ticker or
    /// account step, no fault strikes) while connections stay up and pings are answered, so
    /// any client's final books can be compared with the REST snapshots. `None` = never.
    pub freeze_after: Option<Duration>,
    /// The venue's clock minus the real one, in ms: served by the time endpoints (MEXC
    /// `/api/v3/time`, Gate.io `/api/v4/spot/time`) and used to check signed MEXC requests'
    /// `recvWindow`, so a client that signs with its own clock is refused (`700003`). Default 0.
    pub clock_skew_ms: i64,
    /// MEXC: the venue sends `{"method":"PING"}` on every connection this often and counts the
    /// `{"method":"PONG"}` answers (zero = never, the default).
    pub mexc_server_ping: Duration,
    /// MEXC listen-key validity after creation or the last keep-alive (60 min on MEXC,
    /// protocols.md §1.8); a private connection whose key is no longer valid is closed.
    pub listen_key_ttl: Duration,
    /// Klines: every interval's window is this long instead (tests; rounded down to whole
    /// seconds, at least 1 s, since MEXC's window bounds are seconds). `None` = the interval.
    pub kline_window: Option<Duration>,
    /// Klines: the open candle is pushed this often (MEXC ~1 s, protocols.md §1.4; Gate 2 s,
    /// §3.2) and at once when its window opens; a closed one at once. Default 1 s.
    pub kline_push_period: Duration,
    /// Issue 15: serve recorded traffic instead of the simulator on the services listed
    /// (`replay::ReplayStream`; empty = none). Default empty.
    pub replay: Vec<replay::ReplayStream>,
    /// Send instants kept per symbol ([`VenueHandle::send_time`]): the last `send_log`
    /// versions (a power of two, at least 65 536, the default). The latency bench
    /// (`tools/bench`) raises it so a whole measurement window stays covered.
    pub send_log: usize,
    /// Closed loop (0 = off, the default): a symbol makes a book change only while the change
    /// log holds fewer than `max_backlog` entries its furthest reader has not read yet, so a
    /// high `rate_per_sec` means "as fast as the venue's pushes are read" without the readers
    /// falling out of the log. The latency bench's `max` rate (`tools/bench`).
    pub max_backlog: usize,
    /// Send instants ([`VenueHandle::send_time`]) taken right before a push's frames are
    /// written instead of after the flush that put them on the socket (default `false`). A
    /// flush of a large batch lets a fast reader have a frame before the after-flush instant;
    /// the latency bench stamps before the write (its figures then include the venue's own
    /// write of the batch, the same for every client).
    pub send_stamp_before_write: bool,
    /// Lead-lag (issue 14, tick to signal): one fair value per base asset shared by every
    /// venue and market quoting it, each seeing a move after its own delay, with occasional
    /// jumps that open cross-venue spreads past the fees until the laggards follow
    /// ([`fair`]; moves and per-symbol send instants through [`VenueHandle::fair_moves`] and
    /// [`VenueHandle::fair_marks`]). `None` (the default): each symbol walks on its own.
    pub lead_lag: Option<fair::LeadLag>,
}

impl Default for VenueConfig {
    fn default() -> Self {
        VenueConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            scenarios: Vec::new(),
            rate_per_sec: 2_000,
            push_mode: PushMode::Interval,
            mexc_symbols: vec!["BTCUSDT".into(), "ETHUSDT".into()],
            gate_spot_symbols: vec!["BTC_USDT".into(), "ETH_USDT".into()],
            gate_futures_symbols: vec!["BTC_USDT".into(), "ETH_USDT".into()],
            seed: 1,
            fault_period: Duration::from_secs(3),
            quiet_after: None,
            slow_snapshot: Duration::from_secs(3),
            private_period: Duration::from_millis(500),
            log_capacity: 1 << 16,
            burst_period: Duration::ZERO,
            burst_size: 0,
            idle_rules: true,
            gate_full_period: Duration::from_secs(30),
            ca_dir: None,
            max_connections: 256,
            request_timeout: Duration::from_secs(10),
            gate_idle_timeout: Duration::from_secs(60),
            freeze_after: None,
            clock_skew_ms: 0,
            mexc_server_ping: Duration::ZERO,
            listen_key_ttl: Duration::from_secs(3600),
            kline_window: None,
            kline_push_period: Duration::from_secs(1),
            replay: Vec::new(),
            send_log: sim::SEND_RING,
            max_backlog: 0,
            send_stamp_before_write: false,
            lead_lag: None,
        }
    }
}

/// Counters readable through [`VenueHandle::stats`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct VenueStats {
    pub connections: u64,
    pub ws_connections: u64,
    pub pushes: u64,
    pub push_bytes: u64,
    pub rest_requests: u64,
    /// Faults injected, all scenarios.
    pub faults: u64,
    pub book_changes: u64,
    /// Connections refused over [`VenueConfig::max_connections`].
    pub refused: u64,
    /// Faults injected per scenario, indexed like [`Scenario::ALL`] (see
    /// [`VenueStats::injected`]): one per push dropped (`gap`), connection reset (`reset`),
    /// request answered with the fault (`failed-snapshot`), and so on.
    pub injected_by_scenario: [u64; Scenario::ALL.len()],
    /// Times a WebSocket connection thread went to sleep with nothing to push (each sleep
    /// lasts until client input or the next push due, at most 100 ms).
    pub idle_waits: u64,
}

impl VenueStats {
    /// Faults of scenario `s` injected so far.
    pub fn injected(&self, s: Scenario) -> u64 {
        self.injected_by_scenario[s.index()]
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub connections: AtomicU64,
    pub ws_connections: AtomicU64,
    pub pushes: AtomicU64,
    pub push_bytes: AtomicU64,
    pub rest_requests: AtomicU64,
    pub faults: AtomicU64,
    pub book_changes: AtomicU64,
    pub refused: AtomicU64,
    pub injected: [AtomicU64; Scenario::ALL.len()],
    pub idle_waits: AtomicU64,
}

/// Fault schedule.
pub(crate) struct Faults {
    pub list: Vec<(Scenario, Target)>,
    pub start: Instant,
    pub period: Duration,
    pub quiet_after: Option<Duration>,
    consumed: Mutex<HashMap<(usize, String), u64>>,
}

impl Faults {
    /// When configured scenario `i` of `n` strikes within each period: `i · period / n`.
    pub fn offset(&self, i: usize) -> Duration {
        let n = self.list.len().max(1) as u128;
        let ns = self.period.as_nanos() * (i as u128 % n) / n;
        Duration::from_nanos(ns as u64)
    }

    /// Strikes of configured scenario `i` so far: it strikes at `k · period + offset(i)`
    /// (k = 1, 2, …), frozen at `quiet_after`.
    pub fn strikes(&self, i: usize) -> u64 {
        let mut el = self.start.elapsed();
        if let Some(q) = self.quiet_after {
            el = el.min(q);
        }
        let el = el.saturating_sub(self.offset(i));
        (el.as_nanos() / self.period.as_nanos().max(1)) as u64
    }

    pub fn in_quiet(&self) -> bool {
        self.quiet_after.is_some_and(|q| self.start.elapsed() >= q)
    }

    /// Indices of configured scenarios of kind `s` that target `name`.
    pub fn targets(&self, s: Scenario, name: &str) -> impl Iterator<Item = usize> + '_ {
        let name = name.to_string();
        self.list
            .iter()
            .enumerate()
            .filter(move |(_, (sc, t))| *sc == s && (name == "*" || t.matches(&name)))
            .map(|(i, _)| i)
    }

    pub fn has(&self, s: Scenario) -> bool {
        self.list.iter().any(|(x, _)| *x == s)
    }

    /// A stream fault is due on a feed: a strike happened since `seen[i]`.
    pub fn due(&self, s: Scenario, name: &str, seen: &mut Vec<u64>) -> bool {
        if self.list.is_empty() {
            return false;
        }
        while seen.len() < self.list.len() {
            seen.push(self.strikes(seen.len()));
        }
        let mut hit = false;
        for i in self.targets(s, name).collect::<Vec<_>>() {
            let now = self.strikes(i);
            if now > seen[i] {
                seen[i] = now;
                hit = true;
            }
        }
        hit
    }

    /// A request-driven fault takes the next matching request (armed at start and per strike).
    pub fn take_request(&self, s: Scenario, name: &str) -> bool {
        if self.in_quiet() {
            return false;
        }
        let mut c = self.consumed.lock().unwrap_or_else(|p| p.into_inner());
        let mut hit = false;
        for i in self.targets(s, name).collect::<Vec<_>>() {
            let armed = self.strikes(i) + 1;
            let e = c.entry((i, name.to_ascii_uppercase())).or_insert(0);
            if *e < armed {
                *e = armed;
                hit = true;
            }
        }
        hit
    }
}

/// Everything the server threads share.
pub(crate) struct Shared {
    pub cfg: VenueConfig,
    pub start: Instant,
    pub syms: Vec<Arc<Symbol>>,
    pub stop: AtomicBool,
    pub paused: AtomicBool,
    pub counters: Counters,
    pub faults: Faults,
    pub listen_keys: Mutex<HashMap<String, Instant>>,
    pub accounts: Vec<Arc<Account>>,
    pub next_conn: AtomicU64,
    /// Connection threads alive (bounded by `cfg.max_connections`).
    pub active_conns: AtomicUsize,
    /// `(path, User-Agent)` of the latest HTTP requests and WebSocket upgrades (bounded).
    pub user_agents: Mutex<std::collections::VecDeque<(String, Option<String>)>>,
    /// Listen-key faults, quiet symbols, lifecycle counters (issue 13).
    pub life: lifecycle::Lifecycle,
    /// Replay (issue 15): when each service's first client connected (its replay clock).
    pub replay_start: Mutex<Vec<(replay::ReplayService, Instant)>>,
    /// Lead-lag's walks and what each symbol shows (`cfg.lead_lag`).
    pub(crate) lead_lag: Option<Mutex<fair::State>>,
}

impl Shared {
    pub fn sym(&self, venue: VenueId, market: Market, name: &str) -> Option<Arc<Symbol>> {
        self.syms
            .iter()
            .find(|s| s.spec.venue == venue && s.spec.market == market && s.spec.name == name)
            .cloned()
    }
    pub fn account(&self, venue: VenueId, market: Market) -> Option<Arc<Account>> {
        let idx = match (venue, market) {
            (VenueId::Mexc, _) => 0,
            (VenueId::Gateio, Market::Spot) => 1,
            (VenueId::Gateio, Market::Futures) => 2,
        };
        self.accounts.get(idx).cloned()
    }
    /// Replay: the first connection of `svc` sets its clock.
    pub(crate) fn replay_mark_start(&self, svc: replay::ReplayService, at: Instant) {
        let mut v = self.replay_start.lock().unwrap_or_else(|e| e.into_inner());
        if !v.iter().any(|(s, _)| *s == svc) {
            v.push((svc, at));
        }
    }
    /// Replay: when `svc`'s clock started, if a client connected.
    pub(crate) fn replay_started(&self, svc: replay::ReplayService) -> Option<Instant> {
        let v = self.replay_start.lock().unwrap_or_else(|e| e.into_inner());
        v.iter().find(|(s, _)| *s == svc).map(|(_, t)| *t)
    }
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
    /// A listen key the venue issued and that has not expired.
    pub fn listen_key_valid(&self, k: &str) -> bool {
        let keys = self.listen_keys.lock().unwrap_or_else(|p| p.into_inner());
        keys.get(k).is_some_and(|exp| *exp > Instant::now())
    }
    /// Past `freeze_after`: the markets no longer change.
    pub fn frozen(&self) -> bool {
        self.cfg
            .freeze_after
            .is_some_and(|f| self.start.elapsed() >= f)
    }
    /// Remember a request's path (query dropped: it may carry a listen key) and User-Agent.
    pub fn record_user_agent(&self, path: &str, ua: Option<&str>) {
        let mut q = self.user_agents.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= 256 {
            q.pop_front();
        }
        q.push_back((path.to_string(), ua.map(str::to_string)));
    }
    /// One fault of scenario `s` injected.
    /// The venue's wall clock (ms): the real one plus the skew (`cfg.clock_skew_ms`, or as
    /// set by [`VenueHandle::set_clock_skew_ms`]).
    pub fn venue_wall_ms(&self) -> i64 {
        crate::num::wall_ms().saturating_add(self.life.skew_ms.load(Ordering::Relaxed))
    }
    pub fn count_fault(&self, s: Scenario) {
        self.counters.faults.fetch_add(1, Ordering::Relaxed);
        self.counters.injected[s.index()].fetch_add(1, Ordering::Relaxed);
    }
}

/// Entry point.
pub struct Venue;

impl Venue {
    /// Bind, generate certificates when `tls`, start the market and accept threads; returns
    /// once the socket is listening (port 0 → the real port is in [`VenueHandle::addr`]).
    pub fn start(cfg: VenueConfig) -> io::Result<VenueHandle> {
        if cfg.fault_period.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "fault_period is zero",
            ));
        }
        let listener = TcpListener::bind(cfg.listen)?;
        let addr = listener.local_addr()?;
        let tls = if cfg.tls {
            Some(server::make_tls(cfg.ca_dir.as_deref(), addr.port())?)
        } else {
            None
        };
        let mut syms = Vec::new();
        let mut k = 0u64;
        let mut add = |v: VenueId, m: Market, names: &[String], syms: &mut Vec<Arc<Symbol>>| {
            for n in names {
                k += 1;
                let spec = SymSpec::new(v, m, n);
                let seed = cfg.seed.wrapping_mul(0x100_0000_01B3).wrapping_add(k);
                let sym = Symbol::new(spec, seed, cfg.log_capacity).with_send_log(cfg.send_log);
                sym.lock().klines.window_override_ms =
                    cfg.kline_window.map(|w| (w.as_secs().max(1) * 1000) as i64);
                syms.push(Arc::new(sym));
            }
        };
        add(VenueId::Mexc, Market::Spot, &cfg.mexc_symbols, &mut syms);
        add(
            VenueId::Gateio,
            Market::Spot,
            &cfg.gate_spot_symbols,
            &mut syms,
        );
        add(
            VenueId::Gateio,
            Market::Futures,
            &cfg.gate_futures_symbols,
            &mut syms,
        );
        let pick = |v: VenueId, m: Market| -> Vec<Arc<Symbol>> {
            syms.iter()
                .filter(|s| s.spec.venue == v && s.spec.market == m)
                .cloned()
                .collect()
        };
        let accounts = vec![
            Arc::new(Account::new(
                Market::Spot,
                pick(VenueId::Mexc, Market::Spot),
                cfg.seed,
            )),
            Arc::new(Account::new(
                Market::Spot,
                pick(VenueId::Gateio, Market::Spot),
                cfg.seed + 1,
            )),
            Arc::new(Account::new(
                Market::Futures,
                pick(VenueId::Gateio, Market::Futures),
                cfg.seed + 2,
            )),
        ];
        let lead_lag = cfg
            .lead_lag
            .clone()
            .map(|l| Mutex::new(fair::State::new(l, cfg.seed, &syms)));
        let start = Instant::now();
        let shared = Arc::new(Shared {
            lead_lag,
            faults: Faults {
                list: cfg.scenarios.clone(),
                start,
                period: cfg.fault_period,
                // Frozen markets take no more fault strikes either.
                quiet_after: match (cfg.quiet_after, cfg.freeze_after) {
                    (Some(q), Some(f)) => Some(q.min(f)),
                    (q, f) => q.or(f),
                },
                consumed: Mutex::new(HashMap::new()),
            },
            cfg,
            start,
            syms,
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            counters: Counters::default(),
            listen_keys: Mutex::new(HashMap::new()),
            accounts,
            next_conn: AtomicU64::new(1),
            user_agents: Mutex::new(std::collections::VecDeque::new()),
            active_conns: AtomicUsize::new(0),
            replay_start: Mutex::new(Vec::new()),
            life: lifecycle::Lifecycle::default(),
        });
        shared
            .life
            .skew_ms
            .store(shared.cfg.clock_skew_ms, Ordering::Relaxed);
        let ca = tls
            .as_ref()
            .map(|t| (t.ca_pem.clone(), t.ca_path.clone(), t.ca_der.clone()));
        let ca_dir_owned = tls.as_ref().and_then(|t| t.owned_dir.clone());
        let m = shared.clone();
        let market = std::thread::Builder::new()
            .name("venue-market".into())
            .spawn(move || market_loop(&m))?;
        let a = shared.clone();
        let tls_cfg = tls.map(|t| t.config);
        let acceptor = std::thread::Builder::new()
            .name("venue-accept".into())
            .spawn(move || server::accept_loop(listener, a, tls_cfg))?;
        Ok(VenueHandle {
            addr,
            shared,
            ca,
            ca_dir_owned,
            threads: vec![market, acceptor],
        })
    }
}

/// A running venue.
pub struct VenueHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    ca: Option<(String, PathBuf, Vec<u8>)>,
    /// The private CA directory the venue created (removed at stop).
    ca_dir_owned: Option<PathBuf>,
    threads: Vec<JoinHandle<()>>,
}

impl VenueHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn tls(&self) -> bool {
        self.ca.is_some()
    }
    /// PEM of the generated CA (when TLS).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca.as_ref().map(|c| c.0.as_str())
    }
    /// DER of the generated CA (when TLS), for a rustls root store.
    pub fn ca_der(&self) -> Option<&[u8]> {
        self.ca.as_ref().map(|c| c.2.as_slice())
    }
    /// File holding [`Self::ca_pem`] (when TLS): by default `ca.pem` in a fresh private
    /// directory (mode 0700) under the temp dir, removed when the venue stops.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca.as_ref().map(|c| c.1.as_path())
    }
    fn base(&self, ws: bool) -> String {
        let s = match (ws, self.tls()) {
            (true, true) => "wss",
            (true, false) => "ws",
            (false, true) => "https",
            (false, false) => "http",
        };
        format!("{s}://{}", self.addr)
    }
    /// `ws[s]://addr/ws` (private: append `?listenKey=<key>`).
    pub fn mexc_ws_url(&self) -> String {
        format!("{}/ws", self.base(true))
    }
    /// `http[s]://addr` (paths `/api/v3/...`).
    pub fn mexc_rest_url(&self) -> String {
        self.base(false)
    }
    /// `ws[s]://addr/ws/v4/`.
    pub fn gate_spot_ws_url(&self) -> String {
        format!("{}/ws/v4/", self.base(true))
    }
    /// `ws[s]://addr/v4/ws/usdt`.
    pub fn gate_futures_ws_url(&self) -> String {
        format!("{}/v4/ws/usdt", self.base(true))
    }
    /// `http[s]://addr` (paths `/api/v4/spot/...`, `/api/v4/futures/usdt/...`), the
    /// counterpart of `https://api.gateio.ws`.
    pub fn gate_rest_url(&self) -> String {
        self.base(false)
    }

    fn sym(&self, venue: VenueId, market: Market, symbol: &str) -> Option<Arc<Symbol>> {
        self.shared.sym(venue, market, symbol)
    }

    /// The venue's book right now: (version, bids best first, asks best first), full depth.
    /// Quantities as the venue publishes them: base units on spot, whole contracts on Gate.io
    /// futures (`Qty::from_int(contracts)`). `None` for an unknown symbol.
    pub fn true_book(
        &self,
        venue: VenueId,
        market: Market,
        symbol: &str,
    ) -> Option<(u64, Vec<Level>, Vec<Level>)> {
        let s = self.sym(venue, market, symbol)?;
        let st = s.lock();
        let (b, a) = st.book.top(usize::MAX);
        Some((st.seq, b, a))
    }

    /// The venue's closed candles of `symbol` for the interval the venue names `code` (MEXC
    /// `Min1`…, Gate.io `1m`…), oldest first, as it publishes them (futures: contracts).
    pub fn klines(
        &self,
        venue: VenueId,
        market: Market,
        symbol: &str,
        code: &str,
    ) -> Vec<kline::Candle> {
        let i = match venue {
            VenueId::Mexc => kline::mexc_index(code),
            VenueId::Gateio => kline::gate_index(code),
        };
        match (self.sym(venue, market, symbol), i) {
            (Some(s), Some(i)) => s.lock().klines.closed(i),
            _ => Vec::new(),
        }
    }

    /// The book right after version `seq`, while the change log still covers it.
    pub fn book_at(
        &self,
        venue: VenueId,
        market: Market,
        symbol: &str,
        seq: u64,
    ) -> Option<(Vec<Level>, Vec<Level>)> {
        let s = self.sym(venue, market, symbol)?;
        let (_, book) = s.book_at(seq)?;
        Some(book.top(usize::MAX))
    }

    /// Monotonic (`crate::num::now_ns`) instant the push ending at version `seq` was first
    /// written to a socket (depth diffs, book tickers, snapshots pushed). Bounded: the last
    /// [`VenueConfig::send_log`] versions per symbol (65 536 by default).
    pub fn send_time(&self, venue: VenueId, market: Market, symbol: &str, seq: u64) -> Option<u64> {
        self.sym(venue, market, symbol)?.send_time(seq)
    }

    /// Lead-lag: the moves of `base`'s shared fair value (`BTC`, `ETH`, …) kept so far, oldest
    /// first (bounded by [`fair::FAIR_LOG`]); empty without [`VenueConfig::lead_lag`].
    pub fn fair_moves(&self, base: &str) -> Vec<fair::FairMove> {
        match &self.shared.lead_lag {
            Some(l) => l.lock().unwrap_or_else(|p| p.into_inner()).moves(base),
            None => Vec::new(),
        }
    }

    /// Lead-lag: per move a symbol reflected, the version that first did and the monotonic
    /// instant the first push carrying it was sent (same stamp as [`VenueHandle::send_time`]),
    /// oldest first (bounded).
    pub fn fair_marks(&self, venue: VenueId, market: Market, symbol: &str) -> Vec<fair::MoveMark> {
        self.sym(venue, market, symbol)
            .map(|s| s.fair_marks())
            .unwrap_or_default()
    }

    /// Every recorded (version, send instant ns) of a symbol, oldest version first (bounded).
    pub fn send_times(&self, venue: VenueId, market: Market, symbol: &str) -> Vec<(u64, u64)> {
        let Some(s) = self.sym(venue, market, symbol) else {
            return Vec::new();
        };
        let r = s.send_ring.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<(u64, u64)> = r.iter().copied().filter(|x| x.1 != 0).collect();
        v.sort_unstable();
        v
    }

    /// The configured fault scenarios, in the order that sets their strike offsets.
    pub fn scenarios(&self) -> &[(Scenario, Target)] {
        &self.shared.cfg.scenarios
    }

    /// `(path, User-Agent)` of the latest HTTP requests and WebSocket upgrades, oldest first
    /// (at most 256; the query is dropped).
    pub fn user_agents(&self) -> Vec<(String, Option<String>)> {
        let q = self
            .shared
            .user_agents
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        q.iter().cloned().collect()
    }

    /// Whether `freeze_after` has passed (the markets no longer change).
    pub fn frozen(&self) -> bool {
        self.shared.frozen()
    }

    /// The simulated account of `venue`/`market` as its REST endpoints see it (issue 17).
    pub fn account_view(&self, venue: VenueId, market: Market) -> Option<account::AccountView> {
        let a = self.shared.account(venue, market)?;
        Some(a.view(venue == VenueId::Mexc))
    }

    /// The next `n` account REST requests of `venue`/`market` answer HTTP 500 (issue 17:
    /// a failing reconciliation is retried and its gap stays open).
    pub fn fail_account_rest(&self, venue: VenueId, market: Market, n: u32) {
        if let Some(a) = self.shared.account(venue, market) {
            a.fail_rest.store(n, Ordering::SeqCst);
        }
    }

    /// When each correctly signed account REST request of `venue`/`market` arrived (issue 17:
    /// the clients' pacing).
    pub fn account_rest_times(&self, venue: VenueId, market: Market) -> Vec<Instant> {
        self.shared
            .account(venue, market)
            .map(|a| {
                a.rest_calls
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone()
            })
            .unwrap_or_default()
    }

    /// Own-trade answers (`my_trades`, `myTrades`) of every account hold at most `n` trades
    /// a page whatever the client's `limit` (0 = no cap), so a client must page (issue 17).
    pub fn set_account_page_cap(&self, n: usize) {
        for a in &self.shared.accounts {
            a.page_cap.store(n, Ordering::SeqCst);
        }
    }

    /// Freeze (`true`) or resume the simulated market (pushes stop when frozen).
    pub fn pause(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::SeqCst);
    }

    /// Queue faults for the next MEXC listen-key keep-alives, one per call, in order.
    pub fn inject_keepalive_faults(&self, faults: &[KeepAliveFault]) {
        let mut q = self
            .shared
            .life
            .keepalive_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        q.extend(faults.iter().copied());
    }

    /// Move the venue's clock: from now on it reads the real clock plus `skew_ms`.
    pub fn set_clock_skew_ms(&self, skew_ms: i64) {
        self.shared.life.skew_ms.store(skew_ms, Ordering::Relaxed);
    }

    /// Keep-alive, listen-key, server-ping and clock counters.
    pub fn lifecycle_stats(&self) -> LifecycleStats {
        self.shared.life.stats()
    }

    /// Make symbol `name` (wire name, any venue) a quiet market (`true`: no book change and no
    /// trade; connections stay up and pings are answered) or active again.
    pub fn set_quiet(&self, name: &str, quiet: bool) {
        self.shared.life.set_quiet(name, quiet);
    }

    /// Stop (`true`) or resume MEXC depth pushes of symbol `name` while its trades and book
    /// tickers go on: a channel that stopped on a live connection.
    pub fn set_depth_muted(&self, name: &str, muted: bool) {
        let mut m = self
            .shared
            .life
            .muted_depth
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        m.retain(|x| !x.eq_ignore_ascii_case(name));
        if muted {
            m.push(name.to_string());
        }
    }

    pub fn stats(&self) -> VenueStats {
        let c = &self.shared.counters;
        VenueStats {
            connections: c.connections.load(Ordering::Relaxed),
            ws_connections: c.ws_connections.load(Ordering::Relaxed),
            pushes: c.pushes.load(Ordering::Relaxed),
            push_bytes: c.push_bytes.load(Ordering::Relaxed),
            rest_requests: c.rest_requests.load(Ordering::Relaxed),
            faults: c.faults.load(Ordering::Relaxed),
            book_changes: c.book_changes.load(Ordering::Relaxed),
            refused: c.refused.load(Ordering::Relaxed),
            injected_by_scenario: std::array::from_fn(|i| c.injected[i].load(Ordering::Relaxed)),
            idle_waits: c.idle_waits.load(Ordering::Relaxed),
        }
    }

    /// A human-readable listing of URLs, CA and credentials (what the CLI prints).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        use std::fmt::Write;
        let _ = writeln!(s, "cexfeed venue listening on {}", self.addr);
        let _ = writeln!(
            s,
            "MEXC spot      ws   {}   (private: {}?listenKey=<key>)",
            self.mexc_ws_url(),
            self.mexc_ws_url()
        );
        let _ = writeln!(
            s,
            "               rest {}   (/api/v3/depth, /api/v3/userDataStream)",
            self.mexc_rest_url()
        );
        let _ = writeln!(s, "Gate.io spot   ws   {}", self.gate_spot_ws_url());
        let _ = writeln!(
            s,
            "Gate.io USDT   ws   {}   (also /v4/ws/futures/usdt)",
            self.gate_futures_ws_url()
        );
        let _ = writeln!(
            s,
            "               rest {}   (/api/v4/spot/order_book, /api/v4/futures/usdt/order_book)",
            self.gate_rest_url()
        );
        if let Some(p) = self.ca_path() {
            let _ = writeln!(s, "CA certificate      {}", p.display());
        }
        let c = &self.shared.cfg;
        let _ = writeln!(s, "MEXC symbols        {}", c.mexc_symbols.join(","));
        let _ = writeln!(s, "Gate spot symbols   {}", c.gate_spot_symbols.join(","));
        let _ = writeln!(
            s,
            "Gate futures        {}",
            c.gate_futures_symbols.join(",")
        );
        let _ = writeln!(s, "MEXC api key        {MEXC_API_KEY}");
        let _ = writeln!(s, "MEXC api secret     {MEXC_API_SECRET}");
        let _ = writeln!(s, "Gate api key        {GATE_API_KEY}");
        let _ = writeln!(s, "Gate api secret     {GATE_API_SECRET}");
        let _ = writeln!(s, "Gate futures uid    {GATE_FUTURES_USER_ID}");
        let _ = writeln!(
            s,
            "rate {} changes/s/symbol, push mode {:?}, seed {}",
            c.rate_per_sec, c.push_mode, c.seed
        );
        if !c.scenarios.is_empty() {
            let names: Vec<String> = c
                .scenarios
                .iter()
                .map(|(sc, t)| match t {
                    Target::All => sc.name().to_string(),
                    Target::Symbol(n) => format!("{}@{n}", sc.name()),
                })
                .collect();
            let _ = writeln!(
                s,
                "faults {} every {:?}{}",
                names.join(","),
                c.fault_period,
                c.quiet_after
                    .map(|q| format!(", quiet after {q:?}"))
                    .unwrap_or_default()
            );
        }
        s
    }

    /// Stop every thread (connections notice within ~250 ms) and wait for the main ones.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(d) = self.ca_dir_owned.take() {
            server::remove_ca_dir(&d);
        }
    }
}

impl Drop for VenueHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn market_loop(sh: &Shared) {
    let start = sh.start;
    let mut done: Vec<u64> = vec![0; sh.syms.len()];
    let mut reset_seen: Vec<Vec<u64>> = vec![Vec::new(); sh.syms.len()];
    let mut last_private = Instant::now();
    let mut paused_since: Option<Instant> = None;
    let mut paused_total = Duration::ZERO;
    let rate = sh.cfg.rate_per_sec as u128;
    let mut last_burst = Instant::now();
    while !sh.stopping() {
        let now = Instant::now();
        let t_ms = now.duration_since(start).as_millis() as u64;
        let wall = crate::num::wall_ms();
        let paused = sh.paused.load(Ordering::Relaxed) || sh.frozen();
        match (paused, paused_since) {
            (true, None) => paused_since = Some(now),
            (false, Some(p)) => {
                paused_total += now - p;
                paused_since = None;
            }
            _ => {}
        }
        let active = now.duration_since(start).saturating_sub(paused_total);
        let due_total = (active.as_nanos() * rate / 1_000_000_000) as u64;
        let bp = sh.cfg.burst_period;
        let mut lead_lag = sh
            .lead_lag
            .as_ref()
            .map(|l| l.lock().unwrap_or_else(|p| p.into_inner()));
        let active_ns = active.as_nanos() as u64;
        if let (Some(l), false) = (lead_lag.as_mut(), paused) {
            l.advance(active_ns, crate::num::now_ns());
        }
        let burst = if !bp.is_zero() && !paused && last_burst.elapsed() >= bp {
            last_burst = Instant::now();
            sh.cfg.burst_size as u64
        } else {
            0
        };
        for (i, sym) in sh.syms.iter().enumerate() {
            let mut st = sym.lock();
            if !paused && !sh.life.is_quiet(&sym.spec.name) {
                // Symbol-level full reset (protobuf venue has no `full` flag).
                if sym.spec.venue == VenueId::Mexc
                    && sh
                        .faults
                        .due(Scenario::FullReset, &sym.spec.name, &mut reset_seen[i])
                {
                    st.rebuild(&sym.spec, 1000, t_ms, wall);
                    sh.count_fault(Scenario::FullReset);
                }
                let mut n = due_total.saturating_sub(done[i]).min(200_000) + burst;
                if sh.cfg.max_backlog > 0 {
                    let end = st.log_base + st.log.len() as u64;
                    let unread = end.saturating_sub(sym.read_upto.load(Ordering::Relaxed));
                    n = n.min((sh.cfg.max_backlog as u64).saturating_sub(unread));
                }
                let before = st.seq;
                if let Some(l) = lead_lag.as_mut() {
                    l.apply(i, sym, &mut st, active_ns, t_ms, wall);
                }
                for _ in 0..n {
                    st.step(&sym.spec, t_ms, wall);
                }
                done[i] = due_total.max(done[i]);
                sh.counters
                    .book_changes
                    .fetch_add(st.seq - before, Ordering::Relaxed);
            }
            st.clock_ms = t_ms;
            if !paused {
                st.klines.roll(wall);
            }
        }
        drop(lead_lag);
        let pp = sh.cfg.private_period;
        if !pp.is_zero() && !paused && last_private.elapsed() >= pp {
            last_private = Instant::now();
            for a in &sh.accounts {
                a.step(wall);
            }
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_index_is_the_position_in_all() {
        for (i, s) in Scenario::ALL.into_iter().enumerate() {
            assert_eq!(s.index(), i);
        }
    }

    #[test]
    fn configured_scenarios_strike_at_staggered_offsets() {
        let f = Faults {
            list: vec![
                (Scenario::Gap, Target::All),
                (Scenario::Reset, Target::All),
                (Scenario::Close, Target::All),
                (Scenario::NoPong, Target::All),
            ],
            start: Instant::now(),
            period: Duration::from_secs(4),
            quiet_after: None,
            consumed: Mutex::new(HashMap::new()),
        };
        let offsets: Vec<Duration> = (0..4).map(|i| f.offset(i)).collect();
        assert_eq!(
            offsets,
            [0, 1, 2, 3].map(Duration::from_secs).to_vec(),
            "scenario i of n at i * period / n"
        );
        // Frozen clock: 5.5 s after start -> gap (5.5 s) 1, reset (4.5 s) 1, close (3.5 s) 0.
        let g = Faults {
            start: Instant::now() - Duration::from_millis(5500),
            quiet_after: Some(Duration::from_millis(5500)),
            ..f
        };
        assert_eq!(
            (0..4).map(|i| g.strikes(i)).collect::<Vec<_>>(),
            [1, 1, 0, 0]
        );
    }

    #[test]
    fn scenario_names_round_trip_and_lists_parse() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::parse(s.name()), Some(s));
        }
        let v = parse_scenarios("gap@BTCUSDT, reset,no-pong", Some("ETH_USDT")).unwrap();
        assert_eq!(
            v,
            vec![
                (Scenario::Gap, Target::Symbol("BTCUSDT".into())),
                (Scenario::Reset, Target::Symbol("ETH_USDT".into())),
                (Scenario::NoPong, Target::Symbol("ETH_USDT".into())),
            ]
        );
        assert_eq!(
            parse_scenarios("close@*", None).unwrap(),
            vec![(Scenario::Close, Target::All)]
        );
        assert!(parse_scenarios("gapp", None)
            .unwrap_err()
            .contains("stale-snapshot"));
    }
}
