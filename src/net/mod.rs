//! # Network engine: pinned mio reactor, rustls, tungstenite — no async runtime
//!
//! ```text
//!  owner thread                feed thread (pinned, one mio Poll)                 control thread
//!  ───────────                 ───────────────────────────────────               ──────────────
//!  Reactor::new(cfg, handler)  loop {                                             ureq (rustls)
//!  add_spec(ConnSpec)  ──DNS──►  poll(0 | timeout) ─► drain each ready conn:      ▲        │
//!  open(spec)                     socket ─► TLS ─► WS frame ─► Handler::on_message│        │
//!  stop_flag(), counters()        timers: connect/handshake timeout, idle→Stale,  │        ▼
//!  spawn() / run()                        backoff→reconnect, close timeout        ArrayQueue ×2
//!                                 Handler::on_tick (poll ControlClient replies) ──┘
//!                               }
//! ```
//!
//! ## Contract
//! * **Threads.** The reactor runs on the thread that calls [`Reactor::run`] (or the one
//!   [`Reactor::spawn`] creates), pinned to `ReactorConfig::core` if set. DNS resolution happens
//!   in [`Reactor::add_spec`], i.e. on the owner thread *before* the loop starts, and again on
//!   the reactor's resolver thread after a connection loss (see [`Resolve`]); reconnects use
//!   the latest good answer (rotating through its addresses). REST goes through [`ControlThread`].
//! * **Edge-triggered.** Every ready connection is read until `WouldBlock` (socket, TLS and WS
//!   layers all drained); the mio `Interest` is derived from state after every drive: `WRITABLE`
//!   while TCP connects, `READABLE` always afterwards, plus `WRITABLE` only while TLS
//!   (`wants_write`) or WebSocket (a flush hit `WouldBlock`) has output pending. Spurious
//!   wake-ups just read `WouldBlock`.
//! * **Timers** are a per-connection deadline checked each iteration (no timer thread, no heap).
//! * **Layers.** TCP (`sys`) → TLS (`stream`, rustls 0.23 buffered API, record-aligned
//!   feeding) → WebSocket framing (`ws`, our own sans-IO parser over the connection's receive
//!   buffer) → `Handler`. tungstenite performs the HTTP upgrade (client handshake with
//!   `HandshakeError::Interrupted` resumption over the non-blocking stream); the handshake
//!   `Read` stops at the end of the HTTP answer so frames glued to it stay in our buffer.
//! * **Allocation.** Everything is sized in `Reactor::new`/`add_spec`/connect. Steady-state
//!   receive on plain `ws://`: **zero** allocations per message (answering pings included);
//!   `wss://`: exactly **one allocation per TLS application-data record of ≤ 4096 wire bytes**
//!   (rustls 0.23's buffered API copies each record's plaintext into a new `Vec`), plus, for a
//!   larger record, the deframer's grow (1–3 reallocs) and shrink (1). Proven by
//!   `tests/no_alloc_net.rs`. Other, bounded cases: a frame larger than the receive buffer
//!   grows it once (≤ `max_frame_size`); reassembling a fragmented message grows the
//!   reassembly buffer to the largest such message seen; sending on `wss://` allocates in
//!   rustls (sends on `ws://` do not). Connect/reconnect allocates (socket buffers, TLS state).
//! * **Text frames are not UTF-8 validated**: the handler gets bytes and the venue decoders
//!   validate what they parse (validation would cost a pass over every message).
//! * **Errors.** Hot path: [`DownReason`] (Copy), each one leads to `on_down` then a reconnect
//!   with backoff (except [`DownReason::ClosedByUs`]). Cold path: [`NetError`].
//!
//! ## Wiring a venue (what the feed layer writes)
//! ```no_run
//! use cexfeed::net::*;
//! use std::time::Duration;
//!
//! struct Venue { control: ControlClient }
//! impl Handler for Venue {
//!     fn on_open(&mut self, conn: ConnId, _now_ns: u64, out: &mut Outbox<'_>) {
//!         // (re)subscribe on every open: first connect and every reconnect
//!         let _ = out.send_text(conn, r#"{"method":"SUBSCRIPTION","params":["..."]}"#);
//!     }
//!     fn on_message(&mut self, _c: ConnId, msg: WsMessage<'_>, recv_ns: u64, _out: &mut Outbox<'_>) {
//!         let _ = (msg.bytes(), recv_ns); // decode → book → ring
//!     }
//!     fn on_down(&mut self, _c: ConnId, _why: DownReason, _now_ns: u64) { /* mark books stale */ }
//!     fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {
//!         while let Some(_reply) = self.control.try_reply() { /* REST snapshot arrived */ }
//!     }
//! }
//!
//! let (control, _control_join) = ControlThread::spawn(ControlConfig::default())?;
//! let cfg = ReactorConfig { core: Some(1), wait: Wait::Spin, ..Default::default() };
//! let mut reactor = Reactor::new(cfg, Venue { control })?;
//! let mut spec = ConnSpec::new("wss://fx-ws.gateio.ws/v4/ws/usdt").header("X-Gate-Size-Decimal", "1");
//! spec.idle_timeout = Some(Duration::from_secs(30));
//! // Loopback venue: spec.extra_root_ca = Some(CaCert::Pem(std::fs::read("ca.pem")?));
//! let id = reactor.add_spec(spec)?; // DNS here, on this thread (a failure is retried later)
//! reactor.open(id)?;
//! let stop = reactor.stop_flag();
//! let counters = reactor.counters();
//! let feed = reactor.spawn("feed-gate")?; // pins to core 1, spins until `stop`
//! # stop.store(true, std::sync::atomic::Ordering::Relaxed);
//! # let _ = (feed.join(), counters.snapshot());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `ConnId`s are slot indices: a closed connection's id may be reused by a later `open`.

mod backoff;
pub mod clock;
mod control;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod reactor;
mod resolve;
mod stream;
/// Socket options and the other OS calls, in one place.
pub mod sys;
mod tls;
mod ws;

pub use backoff::{backoff_delay_ns, XorShift64};
pub(crate) use control::host_of;
pub use control::{
    is_loopback_host, ControlClient, ControlConfig, ControlError, ControlThread, HttpMethod,
    HttpReply, HttpRequest, ReplyInjector, SubmitError,
};
pub use reactor::{Outbox, Reactor, SendError};
pub use resolve::{Resolve, SystemResolver};
pub use stream::RUSTLS_READ_SIZE;
pub use tls::{
    client_config, client_config_for, extra_ca_applies, loopback_hosts, root_store, CaCert,
    LOOPBACK_HOSTS,
};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Index of a logical connection (stable across its reconnects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnId(pub u16);

/// Index of a registered [`ConnSpec`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpecId(pub u16);

/// One complete WebSocket data message, borrowed for the duration of the callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WsMessage<'a> {
    /// A text message (UTF-8 not validated here; decoders validate what they parse).
    Text(&'a [u8]),
    /// A binary message.
    Binary(&'a [u8]),
}

impl<'a> WsMessage<'a> {
    /// The payload, text or binary.
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        match *self {
            WsMessage::Text(b) | WsMessage::Binary(b) => b,
        }
    }
}

/// Why a connection went down. Every reason except `ClosedByUs` is followed by a reconnect
/// (after backoff; `Requested` reconnects at once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// TCP connect refused/unreachable.
    ConnectFailed,
    /// The host has no address yet: every lookup so far failed (start-up DNS failure). The
    /// resolver thread is asked again and the connect retried after backoff.
    Unresolved,
    /// TCP + TLS + WS handshake did not finish within `ConnSpec::connect_timeout`.
    ConnectTimeout,
    /// TLS failure (bad certificate, unknown CA, alert, decrypt error).
    Tls,
    /// The server answered the WebSocket upgrade with a non-101 status (e.g. 403).
    HandshakeRejected {
        /// The HTTP status.
        status: u16,
    },
    /// Malformed HTTP upgrade answer or other WS handshake failure.
    HandshakeFailed,
    /// The server sent a Close frame (code) and the close handshake completed.
    ClosedByPeer {
        /// The close code.
        code: u16,
    },
    /// Connection reset, or EOF without a close handshake.
    Reset,
    /// No bytes received for `ConnSpec::idle_timeout` while the socket was open.
    Stale,
    /// A frame or message exceeded `max_frame_size`/`max_message_size`.
    Oversized,
    /// More than `ConnSpec::max_write_buffer_size` bytes waited to be written: the peer stopped
    /// reading (e.g. a ping flood, each ping asking for a pong).
    WriteBufferFull,
    /// WebSocket protocol violation by the server (bad opcode, masked frame, bad UTF-8...).
    Protocol,
    /// Other socket I/O error.
    Io,
    /// The handler asked for a reconnect ([`Outbox::reconnect`]).
    Requested,
    /// The handler closed the connection ([`Outbox::close`]); no reconnect.
    ClosedByUs,
}

/// How the feed thread waits for readiness.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// `poll` with a zero timeout in a tight loop (production default; burns the core).
    Spin,
    /// Zero-timeout `poll` then `thread::yield_now()`.
    Yield,
    /// `poll` with a timeout (bounded by the next timer deadline). Tests and small machines.
    Block(Duration),
}

/// Reactor configuration (sized at start-up).
#[derive(Clone, Debug)]
pub struct ReactorConfig {
    /// Core to pin the feed thread to (`core_affinity` id). `None` = no pinning.
    pub core: Option<usize>,
    /// How the loop waits for readiness.
    pub wait: Wait,
    /// Maximum simultaneous logical connections (including make-before-break spares).
    pub max_conns: usize,
    /// mio `Events` capacity.
    pub events_capacity: usize,
    /// Seed for backoff jitter.
    pub seed: u64,
    /// DNS lookups (start-up in `add_spec`, then on the reactor's resolver thread after a
    /// connection loss, never on the feed thread). Default: [`SystemResolver`].
    pub resolver: std::sync::Arc<dyn Resolve>,
    /// Who parses WebSocket frames once the upgrade is done: our sans-IO parser (`net::ws`)
    /// or tungstenite's `WebSocket` over the same non-blocking stream. Default:
    /// [`Framing::default`]; see ARCHITECTURE.md for the measurement behind it.
    pub framing: Framing,
}

/// WebSocket framing of live connections (issue 14). The HTTP upgrade is tungstenite's in
/// both; only what reads and writes frames afterwards differs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Deserialize,
    serde::Serialize,
    Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Framing {
    /// `net::ws`: parses in place from the connection's receive buffer, borrowed payloads.
    #[default]
    Own,
    /// `tungstenite::WebSocket` (4 KiB read buffer) read on mio readiness until `WouldBlock`.
    Tungstenite,
}

impl Framing {
    /// `own` or `tungstenite`.
    pub fn parse(s: &str) -> Option<Framing> {
        match s {
            "own" => Some(Framing::Own),
            "tungstenite" => Some(Framing::Tungstenite),
            _ => None,
        }
    }

    /// `own` or `tungstenite` (the config and report spelling).
    pub fn name(self) -> &'static str {
        match self {
            Framing::Own => "own",
            Framing::Tungstenite => "tungstenite",
        }
    }
}

impl Default for ReactorConfig {
    /// `core: None, wait: Spin, max_conns: 8, events_capacity: 64, framing: Framing::default()`.
    fn default() -> Self {
        Self {
            framing: Framing::default(),
            core: None,
            wait: Wait::Spin,
            max_conns: 8,
            events_capacity: 64,
            seed: 0x9E37_79B9_7F4A_7C15,
            resolver: std::sync::Arc::new(SystemResolver),
        }
    }
}

/// How to reach one WebSocket endpoint. Its `Debug` shows the URL with secret query values
/// (a MEXC `listenKey`, a signature) redacted: [`redact_url`].
#[derive(Clone)]
pub struct ConnSpec {
    /// `ws://host[:port]/path?query` or `wss://…` (scheme picks plain or TLS).
    pub url: String,
    /// Extra upgrade-request headers, e.g. `("X-Gate-Size-Decimal", "1")`.
    pub headers: Vec<(String, String)>,
    /// Extra trusted root CA (loopback venue, proxy), trusted for the hosts in
    /// `extra_ca_hosts` only (and there instead of webpki-roots): the rule of
    /// [`extra_ca_applies`], the same as the REST control thread's.
    pub extra_root_ca: Option<CaCert>,
    /// Hosts `extra_root_ca` applies to (exact, ASCII case-insensitive). Default: the loopback
    /// names ([`LOOPBACK_HOSTS`]).
    pub extra_ca_hosts: Vec<String>,
    /// No bytes for this long while open → `on_down(Stale)` + reconnect. `None` = off.
    pub idle_timeout: Option<Duration>,
    /// TCP connect + TLS + WS handshake must complete within this.
    pub connect_timeout: Duration,
    /// Largest accepted WS message (reassembled) and frame payload.
    pub max_message_size: usize,
    /// Largest accepted frame payload.
    pub max_frame_size: usize,
    /// Most bytes queued for writing (frames the socket has not taken yet); past it the
    /// connection fails with [`DownReason::WriteBufferFull`] and reconnects. Only the latest
    /// pong is ever queued, so a ping flood alone stays far below it.
    pub max_write_buffer_size: usize,
    /// Receive buffer per connection (never zeroed after allocation; a frame larger than it
    /// grows it once, up to `max_frame_size`).
    pub read_buffer_size: usize,
    /// `SO_RCVBUF` set before connect; 0 = kernel default.
    pub so_rcvbuf: u32,
    /// Reconnect backoff bounds.
    pub backoff_min: Duration,
    /// See `backoff_min`.
    pub backoff_max: Duration,
    /// After we send Close, how long to wait for the server to finish the close handshake.
    pub close_timeout: Duration,
    /// When the feed is recorded (`crate::record`): leave this connection's outbound frames
    /// out of the file (a private stream's login carries a signature, its URL a listen key).
    pub record_redact_out: bool,
}

impl std::fmt::Debug for ConnSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ConnSpec")
            .field("url", &redact_url(&self.url))
            .field("headers", &headers)
            .field("extra_root_ca", &self.extra_root_ca.is_some())
            .field("extra_ca_hosts", &self.extra_ca_hosts)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_message_size", &self.max_message_size)
            .field("max_frame_size", &self.max_frame_size)
            .field("max_write_buffer_size", &self.max_write_buffer_size)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("so_rcvbuf", &self.so_rcvbuf)
            .field("backoff_min", &self.backoff_min)
            .field("backoff_max", &self.backoff_max)
            .field("close_timeout", &self.close_timeout)
            .finish()
    }
}

/// Query parameters whose values are secrets: a MEXC listen key (it lets anyone read the
/// account's private stream), a signature.
const SECRET_PARAMS: [&str; 3] = ["listenkey", "signature", "sign"];

/// `url` with the values of secret query parameters (`listenKey`, `signature`, `sign`; names
/// ASCII case-insensitive) replaced by `<redacted>`, for logs, `Debug` and error messages.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else {
        return url.to_owned();
    };
    let mut out = String::with_capacity(url.len());
    out.push_str(base);
    out.push('?');
    for (i, kv) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match kv.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.iter().any(|s| k.eq_ignore_ascii_case(s)) => {
                out.push_str(k);
                out.push_str("=<redacted>");
            }
            _ => out.push_str(kv),
        }
    }
    out
}

/// The `User-Agent` cexfeed sends on every WebSocket upgrade and REST request
/// (`cexfeed/<crate version>`), unless the spec or request sets its own.
pub const USER_AGENT: &str = concat!("cexfeed/", env!("CARGO_PKG_VERSION"));

impl ConnSpec {
    /// Defaults: no headers, no extra CA, idle 30 s, connect 10 s, max message 16 MiB, max
    /// frame 16 MiB, write queue 1 MiB, read buffer 64 KiB, kernel `SO_RCVBUF`, backoff 100 ms … 10 s, close 1 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            headers: Vec::new(),
            extra_root_ca: None,
            extra_ca_hosts: loopback_hosts(),
            idle_timeout: Some(Duration::from_secs(30)),
            connect_timeout: Duration::from_secs(10),
            max_message_size: 16 << 20,
            max_frame_size: 16 << 20,
            max_write_buffer_size: 1 << 20,
            read_buffer_size: 64 * 1024,
            so_rcvbuf: 0,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            close_timeout: Duration::from_secs(1),
            record_redact_out: false,
        }
    }

    /// Add a header to the WebSocket upgrade request.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

/// Cold-path errors (setup, URL, TLS config, resolution).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
/// Why a connection spec or the TLS set-up was refused (cold path).
pub enum NetError {
    /// A URL that is not `ws://` / `wss://` host:port/path, or plain `ws://` to a host that is
    /// not loopback (the URL with secret query values redacted by [`redact_url`], and the
    /// problem).
    #[error("bad url {0:?}: {1}")]
    BadUrl(String, &'static str),
    /// DNS resolution of the host failed.
    #[error("resolving {0}: {1}")]
    Resolve(String, #[source] std::io::Error),
    /// The extra CA is not a PEM or DER certificate.
    #[error("bad CA certificate: {0}")]
    BadCa(String),
    /// rustls refused the client configuration.
    #[error("tls config: {0}")]
    Tls(#[from] rustls::Error),
    /// A header name or value that cannot go into an HTTP request.
    #[error("bad header {0:?}")]
    BadHeader(String),
    /// More connections than the reactor was sized for.
    #[error("too many connections (max_conns = {0})")]
    TooManyConns(usize),
    /// An OS call failed (poll, socket).
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Relaxed counters shared with a monitoring thread (`Reactor::counters`).
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct NetCounters {
    /// Connections established (WebSocket open).
    pub connects: AtomicU64,
    /// Reconnects scheduled after a connection went down.
    pub reconnects: AtomicU64,
    /// Connections that went down, for any reason.
    pub downs: AtomicU64,
    /// Bytes read from sockets (ciphertext for TLS).
    pub bytes_rx: AtomicU64,
    /// WebSocket data messages received.
    pub messages_rx: AtomicU64,
    /// TLS records handed to rustls.
    pub tls_records_rx: AtomicU64,
    /// TLS records larger than `RUSTLS_READ_SIZE` on the wire (rustls 0.23 reallocates its
    /// deframer buffer for each, on top of the per-record plaintext allocation).
    pub tls_records_rx_large: AtomicU64,
    /// WebSocket messages sent.
    pub messages_tx: AtomicU64,
    /// High-water mark of bytes queued for writing on any one connection (gauge).
    pub write_queued_max: AtomicU64,
    /// Connections failed because their write queue passed `max_write_buffer_size`.
    pub write_overflows: AtomicU64,
    /// DNS answers taken in (start-up and the resolver thread's), successful.
    pub resolves: AtomicU64,
    /// DNS lookups that failed (the previous addresses, if any, stay in use).
    pub resolve_failures: AtomicU64,
}

/// Plain-value snapshot of [`NetCounters`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetCountersSnapshot {
    /// See [`NetCounters::connects`].
    pub connects: u64,
    /// See [`NetCounters::reconnects`].
    pub reconnects: u64,
    /// See [`NetCounters::downs`].
    pub downs: u64,
    /// See [`NetCounters::bytes_rx`].
    pub bytes_rx: u64,
    /// See [`NetCounters::messages_rx`].
    pub messages_rx: u64,
    /// See [`NetCounters::tls_records_rx`].
    pub tls_records_rx: u64,
    /// See [`NetCounters::tls_records_rx_large`].
    pub tls_records_rx_large: u64,
    /// See [`NetCounters::messages_tx`].
    pub messages_tx: u64,
    /// See [`NetCounters::write_queued_max`].
    pub write_queued_max: u64,
    /// See [`NetCounters::write_overflows`].
    pub write_overflows: u64,
    /// See [`NetCounters::resolves`].
    pub resolves: u64,
    /// See [`NetCounters::resolve_failures`].
    pub resolve_failures: u64,
}

impl NetCounters {
    /// A relaxed copy of every counter.
    pub fn snapshot(&self) -> NetCountersSnapshot {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        NetCountersSnapshot {
            connects: l(&self.connects),
            reconnects: l(&self.reconnects),
            downs: l(&self.downs),
            bytes_rx: l(&self.bytes_rx),
            messages_rx: l(&self.messages_rx),
            tls_records_rx: l(&self.tls_records_rx),
            tls_records_rx_large: l(&self.tls_records_rx_large),
            messages_tx: l(&self.messages_tx),
            write_queued_max: l(&self.write_queued_max),
            write_overflows: l(&self.write_overflows),
            resolves: l(&self.resolves),
            resolve_failures: l(&self.resolve_failures),
        }
    }
    #[inline]
    pub(crate) fn add(a: &AtomicU64, v: u64) {
        if v != 0 {
            a.fetch_add(v, Ordering::Relaxed);
        }
    }
}

/// Venue protocol handling plugs in here (static dispatch: the reactor is generic over it).
pub trait Handler {
    /// Connection is live (WS handshake done): send subscriptions/auth via `out`.
    fn on_open(&mut self, conn: ConnId, now_ns: u64, out: &mut Outbox<'_>);
    /// One complete WebSocket data message. `recv_ns` = CLOCK_MONOTONIC when the last bytes of
    /// it were read from the socket.
    fn on_message(&mut self, conn: ConnId, msg: WsMessage<'_>, recv_ns: u64, out: &mut Outbox<'_>);
    /// Connection went down; a reconnect follows unless `reason == ClosedByUs`.
    fn on_down(&mut self, conn: ConnId, reason: DownReason, now_ns: u64);
    /// Called once per loop iteration (Spin/Yield: continuously; Block: at least every wait
    /// timeout). App-level pings, polling `ControlClient::try_reply`, rotation decisions.
    fn on_tick(&mut self, now_ns: u64, out: &mut Outbox<'_>);
}

/// How a feed thread waits for socket readiness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WaitMode {
    /// Poll with a zero timeout forever (lowest latency; burns the core). Production default.
    #[default]
    Spin,
    /// Zero-timeout poll, then `sched_yield`.
    Yield,
    /// Poll with a timeout (tests, CI, machines with fewer cores than spinning threads).
    Block,
}

impl WaitMode {
    /// `spin`, `yield` or `block`.
    pub fn parse(s: &str) -> Option<WaitMode> {
        match s {
            "spin" => Some(WaitMode::Spin),
            "yield" => Some(WaitMode::Yield),
            "block" => Some(WaitMode::Block),
            _ => None,
        }
    }

    /// `spin` where there are cores for every spinning thread, `block` otherwise.
    pub fn default_for_cores(spinning_threads: usize) -> WaitMode {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        if cores > spinning_threads {
            WaitMode::Spin
        } else {
            WaitMode::Block
        }
    }
}
