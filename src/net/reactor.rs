//! The feed-thread reactor: one mio `Poll`, a fixed table of connection slots, per-slot
//! deadlines, and the `Outbox` through which the handler acts on connections.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use mio::{Events, Interest, Poll, Token};
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::client::ClientHandshake;
use tungstenite::handshake::{HandshakeError, MidHandshake};
use tungstenite::http::{HeaderName, HeaderValue};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::frame::{CloseFrame, Utf8Bytes};
use tungstenite::protocol::{Role, WebSocketConfig};
use tungstenite::{Bytes, Message, WebSocket};

use super::backoff::{backoff_delay_ns, XorShift64};
use super::resolve::Dns;
use super::stream::{Stream, TlsIoError};
use super::ws::{Parsed, WsCodec, WsError};
use super::{
    client_config_for, redact_url, sys, ConnId, ConnSpec, DownReason, Framing, Handler,
    NetCounters, NetError, ReactorConfig, SpecId, Wait, WsMessage,
};
use crate::record::Tap;
use crate::types::now_ns;

type Hs = MidHandshake<ClientHandshake<Stream>>;

/// tungstenite framing's read buffer (`WebSocketConfig::read_buffer_size`): it zero-fills its
/// free capacity on every read, so a small buffer keeps that cost down (ARCHITECTURE.md).
pub(crate) const TG_READ_BUFFER: usize = 4096;

/// A registered spec, resolved and with its TLS config built (owner thread, cold).
struct Prepared {
    spec: ConnSpec,
    /// The latest good DNS answer (empty until one arrives).
    addrs: Vec<SocketAddr>,
    next_addr: usize,
    /// A lookup is queued on the resolver thread.
    resolving: bool,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    ws_cfg: WebSocketConfig,
    /// Live-connection config for [`Framing::Tungstenite`] (sizes from the spec).
    tg_cfg: WebSocketConfig,
    idle_ns: u64,
    connect_ns: u64,
    close_ns: u64,
    backoff_min_ns: u64,
    backoff_max_ns: u64,
}

enum State {
    Free,
    /// Waiting for `deadline_ns` to (re)connect.
    Waiting,
    /// Non-blocking TCP connect in flight.
    Connecting(Stream),
    /// TLS + WebSocket upgrade in flight (TLS runs inside the WS handshake's reads/writes).
    Handshaking(Hs),
    /// Open (or, with `closing`, waiting for the server to finish the close handshake).
    Live(Box<Live>),
    /// Open, framed by tungstenite ([`Framing::Tungstenite`]) over the same stream; `closing`
    /// as for `Live`.
    LiveTg(Box<WebSocket<Stream>>),
    /// Live in a replay (`crate::record::replay`): no socket; sends are counted and dropped.
    Replayed,
}

struct Live {
    s: Stream,
    ws: WsCodec,
}

impl Live {
    /// Write queued frames; then push TLS output. Ok(true) if everything went out.
    fn flush_out(&mut self) -> io::Result<bool> {
        while self.ws.has_output() {
            match self.s.write_raw(&self.ws.wbuf[self.ws.wpos..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.ws.wpos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        match self.s.flush_tls() {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(false),
            Err(e) => Err(e),
        }
    }
}

struct Slot {
    spec: u16,
    state: State,
    deadline_ns: u64,
    attempts: u32,
    last_rx_ns: u64,
    registered: Option<Interest>,
    write_pending: bool,
    closing: bool,
    /// Set by the Outbox when it wrote: the interest may need WRITABLE.
    dirty: bool,
    got_data: bool,
    ever_started: bool,
    peer_close_code: Option<u16>,
    /// When the current connection became live (0 = not live).
    live_since_ns: u64,
}

impl Slot {
    fn free() -> Self {
        Self {
            spec: 0,
            state: State::Free,
            deadline_ns: 0,
            attempts: 0,
            last_rx_ns: 0,
            registered: None,
            write_pending: false,
            closing: false,
            dirty: false,
            got_data: false,
            ever_started: false,
            peer_close_code: None,
            live_since_ns: 0,
        }
    }
    fn stream_mut(&mut self) -> Option<&mut Stream> {
        match &mut self.state {
            State::Connecting(s) => Some(s),
            State::Handshaking(h) => Some(h.get_mut().get_mut()),
            State::Live(l) => Some(&mut l.s),
            State::LiveTg(tg) => Some(tg.get_mut()),
            _ => None,
        }
    }
}

/// An outgoing data message.
#[derive(Clone, Copy)]
enum Out<'a> {
    Text(&'a str),
    Binary(&'a [u8]),
}

impl<'a> Out<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Out::Text(t) => t.as_bytes(),
            Out::Binary(b) => b,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Cmd {
    Reconnect(ConnId),
    Close(ConnId),
    Fail(ConnId, DownReason),
}

/// Error from [`Outbox::send_text`] / [`Outbox::send_binary`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// Unknown id, or the connection is not open (connecting, closing, waiting to reconnect).
    NotLive,
    /// The write failed; the connection is being taken down (`on_down` follows).
    Failed,
}

/// What the handler may do to connections from inside a callback.
pub struct Outbox<'a> {
    slots: &'a mut [Slot],
    specs: &'a mut [Prepared],
    cmds: &'a mut Vec<Cmd>,
    any_dirty: &'a mut bool,
    sent: &'a mut u64,
    write_queued_max: &'a mut u64,
    now_ns: u64,
    tap: &'a mut Option<Tap>,
}

impl Outbox<'_> {
    /// CLOCK_MONOTONIC ns at the start of this callback's batch.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// True if `conn` is open (handshake done, not closing).
    pub fn is_live(&self, conn: ConnId) -> bool {
        self.slots.get(conn.0 as usize).is_some_and(|s| {
            matches!(s.state, State::Live(_) | State::LiveTg(_) | State::Replayed) && !s.closing
        })
    }

    /// Replace the path/query of a spec's URL; scheme, host and port must stay the same, so
    /// the resolved addresses and TLS config are reused and nothing blocks. Takes effect at
    /// the next connect from this spec (e.g. a new MEXC listenKey: set the URL, then
    /// [`reconnect`](Self::reconnect) or [`open`](Self::open) + close for make-before-break).
    pub fn set_spec_url(&mut self, spec: SpecId, url: &str) -> Result<(), NetError> {
        let p = self
            .specs
            .get_mut(spec.0 as usize)
            .ok_or_else(|| NetError::BadUrl(redact_url(url), "unknown spec id"))?;
        set_url(p, url)
    }

    /// CLOCK_MONOTONIC ns when `conn` became live (for age-based rotation, e.g. MEXC's 24 h
    /// limit: open a replacement from `on_tick` when the age nears the limit).
    pub fn live_since_ns(&self, conn: ConnId) -> Option<u64> {
        let s = self.slots.get(conn.0 as usize)?;
        (matches!(s.state, State::Live(_) | State::LiveTg(_) | State::Replayed) && !s.closing)
            .then_some(s.live_since_ns)
    }

    /// The spec a connection was opened from.
    pub fn spec_of(&self, conn: ConnId) -> Option<SpecId> {
        let s = self.slots.get(conn.0 as usize)?;
        (!matches!(s.state, State::Free)).then_some(SpecId(s.spec))
    }

    /// Send a text frame. Plain `ws://`: no allocation with [`Framing::Own`] (encoded into
    /// the connection's output buffer); [`Framing::Tungstenite`] copies the payload into a
    /// `Bytes` (one allocation); `wss://`: rustls allocates per record written.
    pub fn send_text(&mut self, conn: ConnId, text: &str) -> Result<(), SendError> {
        self.send(conn, Out::Text(text))
    }

    /// Send a binary frame.
    pub fn send_binary(&mut self, conn: ConnId, data: &[u8]) -> Result<(), SendError> {
        self.send(conn, Out::Binary(data))
    }

    fn send(&mut self, conn: ConnId, out: Out<'_>) -> Result<(), SendError> {
        let Some(slot) = self.slots.get_mut(conn.0 as usize) else {
            return Err(SendError::NotLive);
        };
        if slot.closing {
            return Err(SendError::NotLive);
        }
        if matches!(slot.state, State::Replayed) {
            *self.sent += 1;
            return Ok(());
        }
        let (opcode, data) = match out {
            Out::Text(t) => (0x1, t.as_bytes()),
            Out::Binary(b) => (0x2, b),
        };
        if let State::LiveTg(tg) = &mut slot.state {
            *self.sent += 1;
            slot.dirty = true;
            *self.any_dirty = true;
            if let Some(t) = self.tap.as_mut() {
                t.outbound(conn.0, opcode == 0x1, out.bytes(), self.now_ns);
            }
            // tungstenite owns what it queues: the payload is copied into a `Bytes`.
            let msg = match out {
                Out::Text(t) => Message::Text(Utf8Bytes::from(t)),
                Out::Binary(b) => Message::Binary(Bytes::copy_from_slice(b)),
            };
            let res = match tg.write(msg) {
                Ok(()) => tg.flush(),
                Err(e) => Err(e),
            };
            return match res {
                Ok(()) => {
                    slot.write_pending = false;
                    Ok(())
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Queued in tungstenite's output buffer; flushed when writable.
                    slot.write_pending = true;
                    *self.write_queued_max = (*self.write_queued_max).max(data.len() as u64);
                    Ok(())
                }
                Err(e) => {
                    let reason = classify(&e, false, None);
                    let reason = if reason == DownReason::Oversized {
                        DownReason::WriteBufferFull
                    } else {
                        reason
                    };
                    self.cmds.push(Cmd::Fail(conn, reason));
                    Err(SendError::Failed)
                }
            };
        }
        let State::Live(l) = &mut slot.state else {
            return Err(SendError::NotLive);
        };
        *self.sent += 1;
        slot.dirty = true;
        *self.any_dirty = true;
        l.ws.encode(opcode, data);
        if let Some(t) = self.tap.as_mut() {
            t.outbound(conn.0, opcode == 0x1, data, self.now_ns);
        }
        match l.flush_out() {
            Ok(done) => {
                slot.write_pending = !done;
                let queued = l.ws.queued() as u64;
                *self.write_queued_max = (*self.write_queued_max).max(queued);
                if l.ws.over_cap() {
                    self.cmds.push(Cmd::Fail(conn, DownReason::WriteBufferFull));
                    return Err(SendError::Failed);
                }
                Ok(())
            }
            Err(e) => {
                let reason = io_reason(&e, false);
                self.cmds.push(Cmd::Fail(conn, reason));
                Err(SendError::Failed)
            }
        }
    }

    /// Tear the connection down now and reconnect without backoff (`on_down(Requested)`,
    /// then `on_open` again when live).
    pub fn reconnect(&mut self, conn: ConnId) {
        self.cmds.push(Cmd::Reconnect(conn));
    }

    /// Close the connection (WS close handshake, bounded by `close_timeout`); the slot is freed
    /// and `on_down(ClosedByUs)` is called. No reconnect.
    pub fn close(&mut self, conn: ConnId) {
        self.cmds.push(Cmd::Close(conn));
    }

    /// Open an additional connection from `spec` (make-before-break rotation). Connecting
    /// starts on the next loop iteration; `on_open` fires when it is live. `None` if all
    /// `max_conns` slots are in use.
    pub fn open(&mut self, spec: SpecId) -> Option<ConnId> {
        open_slot(self.slots, spec, self.now_ns)
    }

    /// When the feed is recorded: a REST reply whose body must not be kept (a listen key),
    /// recorded as `status` and `body` instead (status 0: a transport error, `body` its text).
    pub fn record_reply_as(&mut self, id: u64, status: u16, body: &[u8]) {
        if let Some(t) = self.tap.as_mut() {
            t.rest(id, status, body, now_ns());
        }
    }

    /// When the feed is recorded: put a REST reply the handler is about to consume (a book
    /// snapshot) into the recording, at this point of the stream. No allocation.
    #[inline]
    pub fn record_reply(&mut self, reply: &super::control::HttpReply) {
        if let Some(t) = self.tap.as_mut() {
            t.rest_reply(reply, now_ns());
        }
    }
}

/// `scheme://authority` of a URL (everything before the path).
fn origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find(['/', '?']).map_or(url.len(), |j| i + 3 + j);
            &url[..end]
        }
        None => url,
    }
}

fn set_url(p: &mut Prepared, url: &str) -> Result<(), NetError> {
    if origin(url) != origin(&p.spec.url) {
        return Err(NetError::BadUrl(
            redact_url(url),
            "scheme, host and port must match the spec's (register a new spec instead)",
        ));
    }
    url.into_client_request()
        .map_err(|_| NetError::BadUrl(redact_url(url), "not a valid WebSocket request URL"))?;
    p.spec.url = url.to_owned();
    Ok(())
}

fn open_slot(slots: &mut [Slot], spec: SpecId, now: u64) -> Option<ConnId> {
    let idx = slots.iter().position(|s| matches!(s.state, State::Free))?;
    let s = &mut slots[idx];
    *s = Slot::free();
    s.spec = spec.0;
    s.state = State::Waiting;
    s.deadline_ns = now;
    Some(ConnId(idx as u16))
}

/// Map a transport error to a down reason.
fn io_reason(e: &io::Error, tls_handshaking: bool) -> DownReason {
    if tls_handshaking
        || e.get_ref()
            .is_some_and(|inner| inner.downcast_ref::<TlsIoError>().is_some())
    {
        return DownReason::Tls;
    }
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionAborted => DownReason::Reset,
        _ => DownReason::Io,
    }
}

fn ws_reason(e: WsError) -> DownReason {
    match e {
        WsError::Oversized => DownReason::Oversized,
        WsError::Protocol => DownReason::Protocol,
        WsError::WriteBufferFull => DownReason::WriteBufferFull,
    }
}

/// Map a tungstenite (handshake) error to a down reason.
fn classify(e: &tungstenite::Error, tls_handshaking: bool, peer_code: Option<u16>) -> DownReason {
    use tungstenite::error::ProtocolError;
    use tungstenite::Error as E;
    match e {
        E::ConnectionClosed | E::AlreadyClosed => DownReason::ClosedByPeer {
            code: peer_code.unwrap_or(1006),
        },
        E::Io(io) => io_reason(io, tls_handshaking),
        E::Tls(_) => DownReason::Tls,
        E::Capacity(_) | E::WriteBufferFull(_) => DownReason::Oversized,
        E::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            if tls_handshaking {
                DownReason::Tls
            } else {
                DownReason::Reset
            }
        }
        E::Protocol(ProtocolError::HandshakeIncomplete) => DownReason::HandshakeFailed,
        E::Protocol(_) | E::Utf8(_) | E::AttackAttempt => DownReason::Protocol,
        E::Http(resp) => DownReason::HandshakeRejected {
            status: resp.status().as_u16(),
        },
        E::HttpFormat(_) | E::Url(_) => DownReason::HandshakeFailed,
    }
}

/// Local counters, published to the shared atomics once per loop iteration.
#[derive(Default)]
struct Local {
    connects: u64,
    reconnects: u64,
    downs: u64,
    messages_rx: u64,
    bytes_rx: u64,
    records_rx: u64,
    records_large_rx: u64,
    messages_tx: u64,
    write_queued_max: u64,
    write_overflows: u64,
    resolves: u64,
    resolve_failures: u64,
}

/// The feed-thread reactor, generic over the venue [`Handler`] (static dispatch).
pub struct Reactor<H: Handler> {
    cfg: ReactorConfig,
    poll: Poll,
    events: Events,
    ready: Vec<usize>,
    slots: Vec<Slot>,
    specs: Vec<Prepared>,
    cmds: Vec<Cmd>,
    handler: H,
    stop: Arc<AtomicBool>,
    counters: Arc<NetCounters>,
    local: Local,
    rng: XorShift64,
    any_dirty: bool,
    dns: Dns,
    /// Recording tap (`crate::record`), when the feed is recorded.
    tap: Option<Tap>,
}

impl<H: Handler> Reactor<H> {
    /// Allocate everything the loop needs (slots, event buffer, command queue).
    pub fn new(cfg: ReactorConfig, handler: H) -> Result<Self, NetError> {
        let max = cfg.max_conns.clamp(1, u16::MAX as usize);
        Ok(Self {
            poll: Poll::new()?,
            events: Events::with_capacity(cfg.events_capacity.max(8)),
            ready: Vec::with_capacity(cfg.events_capacity.max(8)),
            slots: (0..max).map(|_| Slot::free()).collect(),
            specs: Vec::new(),
            cmds: Vec::with_capacity(64),
            handler,
            stop: Arc::new(AtomicBool::new(false)),
            counters: Arc::new(NetCounters::default()),
            local: Local::default(),
            rng: XorShift64::new(cfg.seed),
            any_dirty: false,
            dns: Dns::new(cfg.resolver.clone()),
            tap: None,
            cfg,
        })
    }

    /// Register an endpoint: parse the URL, resolve DNS (here, on the calling thread), build
    /// the TLS config (`extra_root_ca` for the hosts in `extra_ca_hosts`, webpki-roots for
    /// every other: [`client_config_for`]) and the WebSocket config.
    pub fn add_spec(&mut self, spec: ConnSpec) -> Result<SpecId, NetError> {
        let url = spec.url.as_str();
        let (is_tls, rest) = if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else {
            return Err(NetError::BadUrl(
                redact_url(url),
                "scheme must be ws:// or wss://",
            ));
        };
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let default_port = if is_tls { 443 } else { 80 };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| NetError::BadUrl(redact_url(url), "unclosed ["))?;
            let port = match after.strip_prefix(':') {
                Some(p) => p
                    .parse()
                    .map_err(|_| NetError::BadUrl(redact_url(url), "bad port"))?,
                None => default_port,
            };
            (h, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (
                    h,
                    p.parse()
                        .map_err(|_| NetError::BadUrl(redact_url(url), "bad port"))?,
                ),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(NetError::BadUrl(redact_url(url), "empty host"));
        }
        // Subscriptions, login frames (Gate signs them) and a MEXC listen key in the path
        // travel over this socket: clear text only to this machine.
        if !is_tls && !super::is_loopback_host(host) {
            return Err(NetError::BadUrl(
                redact_url(url),
                "plain ws:// is allowed for loopback hosts only (localhost, 127.0.0.1, ::1); use wss://",
            ));
        }
        let tls = if is_tls {
            let name = ServerName::try_from(host.to_owned()).map_err(|_| {
                NetError::BadUrl(redact_url(url), "host is not a valid TLS server name")
            })?;
            let cfg = client_config_for(host, spec.extra_root_ca.as_ref(), &spec.extra_ca_hosts)?;
            Some((cfg, name))
        } else {
            None
        };
        let mut headers = Vec::with_capacity(spec.headers.len());
        for (k, v) in &spec.headers {
            let name =
                HeaderName::from_bytes(k.as_bytes()).map_err(|_| NetError::BadHeader(k.clone()))?;
            let value = HeaderValue::from_str(v).map_err(|_| NetError::BadHeader(k.clone()))?;
            headers.push((name, value));
        }
        // Issue 13, finding 12: identify ourselves on the upgrade, unless the spec set its own
        // (tungstenite sends none). Gate's own SDK sends a default User-Agent on every request
        // (gateio/gateapi-python, gate_api/api_client.py: `self.user_agent = ...`).
        if !headers
            .iter()
            .any(|(k, _)| k == tungstenite::http::header::USER_AGENT)
        {
            headers.push((
                tungstenite::http::header::USER_AGENT,
                HeaderValue::from_static(super::USER_AGENT),
            ));
        }
        // tungstenite only runs the upgrade handshake: its own frame buffers stay tiny (the
        // WebSocket it returns is unwrapped with `into_inner` at once).
        let ws_cfg = WebSocketConfig::default()
            .read_buffer_size(256)
            .write_buffer_size(0);
        // Framing::Tungstenite: 4 KiB read buffer, every write goes straight to the stream
        // (write_buffer_size 0), the spec's limits (max_write_buffer_size must exceed 0).
        let tg_cfg = WebSocketConfig::default()
            .read_buffer_size(TG_READ_BUFFER)
            .write_buffer_size(0)
            .max_write_buffer_size(spec.max_write_buffer_size.max(1))
            .max_message_size(Some(spec.max_message_size))
            .max_frame_size(Some(spec.max_frame_size));
        let ns = |d: Duration| d.as_nanos().min(u64::MAX as u128) as u64;
        if self.specs.len() >= u16::MAX as usize {
            return Err(NetError::TooManyConns(self.specs.len()));
        }
        // Start-up lookup, here on the owner thread. A failure is not fatal (issue 13,
        // finding 9): the spec has no address yet, its connects fail with `Unresolved` and
        // the resolver thread is asked again before each retry.
        let index = self.specs.len() as u16;
        let addrs = match self.dns.register(index, host, port) {
            Ok(a) => {
                self.local.resolves += 1;
                a
            }
            Err(_) => {
                self.local.resolve_failures += 1;
                Vec::new()
            }
        };
        self.specs.push(Prepared {
            idle_ns: spec.idle_timeout.map_or(0, ns),
            connect_ns: ns(spec.connect_timeout),
            close_ns: ns(spec.close_timeout),
            backoff_min_ns: ns(spec.backoff_min),
            backoff_max_ns: ns(spec.backoff_max),
            spec,
            addrs,
            next_addr: 0,
            resolving: false,
            tls,
            headers,
            ws_cfg,
            tg_cfg,
        });
        Ok(SpecId((self.specs.len() - 1) as u16))
    }

    /// Open a connection from `spec`; it connects on the first loop iteration.
    pub fn open(&mut self, spec: SpecId) -> Result<ConnId, NetError> {
        if spec.0 as usize >= self.specs.len() {
            return Err(NetError::BadUrl(
                format!("spec {}", spec.0),
                "unknown spec id",
            ));
        }
        open_slot(&mut self.slots, spec, 0).ok_or(NetError::TooManyConns(self.slots.len()))
    }

    /// See [`Outbox::set_spec_url`].
    pub fn set_spec_url(&mut self, spec: SpecId, url: &str) -> Result<(), NetError> {
        let p = self
            .specs
            .get_mut(spec.0 as usize)
            .ok_or_else(|| NetError::BadUrl(redact_url(url), "unknown spec id"))?;
        set_url(p, url)
    }

    /// Bytes held by the live connections' frame buffers (receive, reassembly, output), for
    /// memory checks (cold; call it from the thread that owns the reactor).
    pub fn buffer_bytes(&self) -> usize {
        self.slots
            .iter()
            .map(|s| match &s.state {
                State::Live(l) => l.s.rbuf.len() + l.ws.frag.capacity() + l.ws.wbuf.capacity(),
                // tungstenite's buffers are private: its configured read buffer, plus ours
                // (kept for bytes glued to the 101).
                State::LiveTg(tg) => tg.get_ref().rbuf.len() + TG_READ_BUFFER,
                _ => 0,
            })
            .sum()
    }

    /// Record this feed's traffic through `tap` (see `crate::record`); set before `run`.
    pub fn set_tap(&mut self, tap: Tap) {
        self.tap = Some(tap);
    }

    /// The recording tap, if any (taken back when the feed stops).
    pub fn take_tap(&mut self) -> Option<Tap> {
        self.tap.take()
    }

    /// Run a handler callback with the loop's `Outbox` (stamped `now`): the one place the
    /// handler is lent the connections.
    #[inline]
    fn with_outbox(&mut self, now: u64, f: impl FnOnce(&mut H, &mut Outbox<'_>)) {
        let mut out = Outbox {
            slots: &mut self.slots,
            specs: &mut self.specs,
            cmds: &mut self.cmds,
            any_dirty: &mut self.any_dirty,
            sent: &mut self.local.messages_tx,
            write_queued_max: &mut self.local.write_queued_max,
            now_ns: now,
            tap: &mut self.tap,
        };
        f(&mut self.handler, &mut out);
    }

    fn replay_outbox_call(&mut self, now: u64, f: impl FnOnce(&mut H, &mut Outbox<'_>)) {
        self.with_outbox(now, f);
        // The recording says what became of the connections: the handler's reconnects and
        // closes are not acted on in a replay.
        self.cmds.clear();
        self.any_dirty = false;
    }

    /// Replay (`crate::record::replay`): connection `conn` became live at `now`
    /// (no socket; the handler's `on_open` runs, its sends are counted and dropped).
    /// `false` (nothing done) unless the slot was opened (by the engine or the handler) and
    /// is not live: as live, only an opened connection can come up.
    pub fn replay_up(&mut self, conn: ConnId, now: u64) -> bool {
        let idx = conn.0 as usize;
        if idx >= self.slots.len() || !matches!(self.slots[idx].state, State::Waiting) {
            return false;
        }
        let slot = &mut self.slots[idx];
        if slot.ever_started {
            self.local.reconnects += 1;
        }
        self.local.connects += 1;
        slot.ever_started = true;
        slot.state = State::Replayed;
        slot.closing = false;
        slot.got_data = false;
        slot.last_rx_ns = now;
        slot.live_since_ns = now;
        self.replay_outbox_call(now, |h, out| h.on_open(conn, now, out));
        true
    }

    /// Replay: one recorded WebSocket message; `false` if `conn` is not live in the replay.
    pub fn replay_message(&mut self, conn: ConnId, text: bool, data: &[u8], recv_ns: u64) -> bool {
        let idx = conn.0 as usize;
        if idx >= self.slots.len() || !matches!(self.slots[idx].state, State::Replayed) {
            return false;
        }
        self.slots[idx].last_rx_ns = recv_ns;
        self.deliver(idx, text, data, recv_ns);
        self.cmds.clear();
        self.any_dirty = false;
        true
    }

    /// Replay: connection `conn` went down for `reason` at `now`.
    pub fn replay_down(&mut self, conn: ConnId, reason: DownReason, now: u64) {
        let idx = conn.0 as usize;
        if idx >= self.slots.len() {
            return;
        }
        self.local.downs += 1;
        let slot = &mut self.slots[idx];
        slot.state = State::Waiting;
        slot.closing = false;
        self.handler.on_down(conn, reason, now);
        if reason == DownReason::ClosedByUs {
            self.slots[idx] = Slot::free();
        }
        self.cmds.clear();
        self.any_dirty = false;
    }

    /// Replay: one loop iteration's tick at `now` (the handler's timers, REST replies), then
    /// the counters are published.
    pub fn replay_tick(&mut self, now: u64) {
        self.replay_outbox_call(now, |h, out| h.on_tick(now, out));
        self.publish();
    }

    /// Set it to `true` (any thread) to make [`run`](Self::run) return.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    /// The connection counters, for a monitoring thread.
    pub fn counters(&self) -> Arc<NetCounters> {
        self.counters.clone()
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// The handler, mutably.
    pub fn handler_mut(&mut self) -> &mut H {
        &mut self.handler
    }

    /// The handler, after the loop is done.
    pub fn into_handler(self) -> H {
        self.handler
    }

    /// Pin (if configured) and loop until the stop flag is set. Returns only on stop or a
    /// `poll` failure.
    pub fn run(&mut self) -> Result<(), NetError> {
        if let Some(core) = self.cfg.core {
            // Pinning failure is not fatal (e.g. restricted cpuset); the loop still runs.
            let _ = core_affinity::set_for_current(core_affinity::CoreId { id: core });
        }
        while !self.stop.load(Ordering::Relaxed) {
            self.run_once()?;
        }
        Ok(())
    }

    /// Move the reactor to a new thread named `name` and [`run`](Self::run) it; the handler
    /// comes back through the join handle.
    pub fn spawn(mut self, name: &str) -> io::Result<JoinHandle<Result<H, NetError>>>
    where
        H: Send + 'static,
    {
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                self.run()?;
                Ok(self.handler)
            })
    }

    /// One loop iteration: poll (per [`Wait`]), drain ready connections, fire timers, tick.
    pub fn run_once(&mut self) -> Result<(), NetError> {
        let now = now_ns();
        let timeout = match self.cfg.wait {
            Wait::Spin | Wait::Yield => Duration::ZERO,
            Wait::Block(max) => {
                let next = self.next_deadline_ns();
                Duration::from_nanos(next.saturating_sub(now)).min(max)
            }
        };
        match self.poll.poll(&mut self.events, Some(timeout)) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        self.ready.clear();
        for ev in self.events.iter() {
            self.ready.push(ev.token().0);
        }
        for i in 0..self.ready.len() {
            let idx = self.ready[i];
            if idx < self.slots.len() {
                self.drive(idx);
            }
        }
        let now = if self.ready.is_empty() { now } else { now_ns() };
        self.take_dns_answers();
        self.timers(now);
        self.with_outbox(now, |h, out| h.on_tick(now, out));
        self.after_callback();
        self.publish();
        if self.cfg.wait == Wait::Yield {
            std::thread::yield_now();
        }
        Ok(())
    }

    /// Fresh DNS answers from the resolver thread (a lock-free pop; nothing when none).
    /// A failed lookup keeps the previous addresses.
    #[inline]
    fn take_dns_answers(&mut self) {
        while let Some((spec, res)) = self.dns.try_answer() {
            let Some(p) = self.specs.get_mut(spec as usize) else {
                continue;
            };
            p.resolving = false;
            match res {
                Ok(addrs) => {
                    self.local.resolves += 1;
                    if addrs != p.addrs {
                        p.addrs = addrs;
                        p.next_addr = 0;
                    }
                }
                Err(_) => self.local.resolve_failures += 1,
            }
        }
    }

    fn publish(&mut self) {
        let l = std::mem::take(&mut self.local);
        let c = &self.counters;
        NetCounters::add(&c.connects, l.connects);
        NetCounters::add(&c.reconnects, l.reconnects);
        NetCounters::add(&c.downs, l.downs);
        NetCounters::add(&c.messages_rx, l.messages_rx);
        NetCounters::add(&c.bytes_rx, l.bytes_rx);
        NetCounters::add(&c.tls_records_rx, l.records_rx);
        NetCounters::add(&c.tls_records_rx_large, l.records_large_rx);
        NetCounters::add(&c.messages_tx, l.messages_tx);
        NetCounters::add(&c.write_overflows, l.write_overflows);
        NetCounters::add(&c.resolves, l.resolves);
        NetCounters::add(&c.resolve_failures, l.resolve_failures);
        if l.write_queued_max > 0 {
            c.write_queued_max
                .fetch_max(l.write_queued_max, Ordering::Relaxed);
        }
    }

    fn next_deadline_ns(&self) -> u64 {
        let mut next = u64::MAX;
        for s in &self.slots {
            let d = match s.state {
                State::Free => continue,
                State::Live(_) | State::LiveTg(_) if !s.closing => {
                    let idle = self.specs[s.spec as usize].idle_ns;
                    if idle == 0 {
                        continue;
                    }
                    s.last_rx_ns.saturating_add(idle)
                }
                _ => s.deadline_ns,
            };
            next = next.min(d);
        }
        next
    }

    fn timers(&mut self, now: u64) {
        for idx in 0..self.slots.len() {
            let s = &self.slots[idx];
            match s.state {
                State::Free | State::Replayed => {}
                State::Waiting => {
                    if now >= s.deadline_ns {
                        self.start_connect(idx, now);
                    }
                }
                State::Connecting(_) | State::Handshaking(_) => {
                    if now >= s.deadline_ns {
                        self.down(idx, DownReason::ConnectTimeout, now);
                    }
                }
                State::Live(_) | State::LiveTg(_) => {
                    if s.closing {
                        if now >= s.deadline_ns {
                            self.down(idx, DownReason::ClosedByUs, now);
                        }
                    } else {
                        let idle = self.specs[s.spec as usize].idle_ns;
                        if idle != 0 && now.saturating_sub(s.last_rx_ns) > idle {
                            self.down(idx, DownReason::Stale, now);
                        }
                    }
                }
            }
        }
    }

    fn start_connect(&mut self, idx: usize, now: u64) {
        let slot = &mut self.slots[idx];
        let p = &mut self.specs[slot.spec as usize];
        if slot.ever_started {
            self.local.reconnects += 1;
        }
        slot.ever_started = true;
        self.local.connects += 1;
        if p.addrs.is_empty() {
            return self.down(idx, DownReason::Unresolved, now);
        }
        let addr = p.addrs[p.next_addr % p.addrs.len()];
        p.next_addr = p.next_addr.wrapping_add(1);
        let tls = match &p.tls {
            Some((cfg, name)) => match rustls::ClientConnection::new(cfg.clone(), name.clone()) {
                Ok(c) => Some(c),
                Err(_) => return self.down(idx, DownReason::Tls, now),
            },
            None => None,
        };
        let sock = match sys::connect_nonblocking(addr, p.spec.so_rcvbuf) {
            Ok(s) => s,
            Err(_) => return self.down(idx, DownReason::ConnectFailed, now),
        };
        slot.state = State::Connecting(Stream::new(sock, tls, p.spec.read_buffer_size));
        slot.deadline_ns = now.saturating_add(p.connect_ns);
        slot.write_pending = false;
        slot.closing = false;
        slot.peer_close_code = None;
        slot.got_data = false;
        self.update_interest(idx);
    }

    /// Handle readiness of slot `idx` (spurious wake-ups are harmless).
    fn drive(&mut self, idx: usize) {
        match self.slots[idx].state {
            State::Connecting(_) => self.drive_connecting(idx),
            State::Handshaking(_) => {
                let State::Handshaking(hs) =
                    std::mem::replace(&mut self.slots[idx].state, State::Waiting)
                else {
                    unreachable!()
                };
                self.handshake_result(idx, hs.handshake());
            }
            State::Live(_) | State::LiveTg(_) => self.drain(idx),
            State::Free | State::Waiting | State::Replayed => {}
        }
    }

    fn drive_connecting(&mut self, idx: usize) {
        let now = now_ns();
        let State::Connecting(stream) = &self.slots[idx].state else {
            return;
        };
        match sys::connect_result(&stream.sock) {
            Ok(false) => return,
            Ok(true) => {}
            Err(_) => return self.down(idx, DownReason::ConnectFailed, now),
        }
        let State::Connecting(stream) =
            std::mem::replace(&mut self.slots[idx].state, State::Waiting)
        else {
            unreachable!()
        };
        let p = &self.specs[self.slots[idx].spec as usize];
        let mut req = match p.spec.url.as_str().into_client_request() {
            Ok(r) => r,
            Err(_) => {
                self.slots[idx].state = State::Connecting(stream);
                return self.down(idx, DownReason::HandshakeFailed, now);
            }
        };
        for (k, v) in &p.headers {
            req.headers_mut().append(k.clone(), v.clone());
        }
        let res = tungstenite::client::client_with_config(req, stream, Some(p.ws_cfg));
        self.handshake_result(idx, res);
    }

    fn handshake_result(
        &mut self,
        idx: usize,
        res: Result<
            (WebSocket<Stream>, tungstenite::handshake::client::Response),
            HandshakeError<ClientHandshake<Stream>>,
        >,
    ) {
        let now = now_ns();
        match res {
            Ok((ws, _resp)) => {
                let p = &self.specs[self.slots[idx].spec as usize];
                let state = match self.cfg.framing {
                    Framing::Own => {
                        let codec = WsCodec::new(
                            p.spec.max_frame_size,
                            p.spec.max_message_size,
                            self.rng.next_u64(),
                        )
                        .with_max_write(p.spec.max_write_buffer_size);
                        State::Live(Box::new(Live {
                            s: ws.into_inner(),
                            ws: codec,
                        }))
                    }
                    Framing::Tungstenite => {
                        // The handshake read nothing past the HTTP answer: frames glued to
                        // the 101 are still in our receive buffer, served first.
                        let mut s = ws.into_inner();
                        s.set_live_reads();
                        State::LiveTg(Box::new(WebSocket::from_raw_socket(
                            s,
                            Role::Client,
                            Some(p.tg_cfg),
                        )))
                    }
                };
                let slot = &mut self.slots[idx];
                slot.state = state;
                slot.last_rx_ns = now;
                slot.live_since_ns = now;
                if let Some(t) = self.tap.as_mut() {
                    t.set_redact_out(idx as u16, p.spec.record_redact_out);
                    t.up(idx as u16, slot.spec, now);
                }
                self.with_outbox(now, |h, out| h.on_open(ConnId(idx as u16), now, out));
                self.after_callback();
                self.update_interest(idx);
                // Frames may already sit in the receive buffer (read with the HTTP answer):
                // edge-triggered readiness will not report them again.
                self.drain(idx);
            }
            Err(HandshakeError::Interrupted(hs)) => {
                self.slots[idx].state = State::Handshaking(hs);
                self.update_interest(idx);
            }
            Err(HandshakeError::Failure(e)) => {
                // The stream is gone with the failed handshake; the slot holds `Waiting`.
                let reason = match classify(&e, false, None) {
                    // (tungstenite also refuses an answer trickled in > 64 tiny reads as
                    // `AttackAttempt`: a handshake failure too.)
                    DownReason::ClosedByPeer { .. }
                    | DownReason::Reset
                    | DownReason::Io
                    | DownReason::Protocol => DownReason::HandshakeFailed,
                    r => r,
                };
                self.slots[idx].registered = None; // fd closed with the stream
                self.down(idx, reason, now);
            }
        }
    }

    /// Read everything available on a live connection (until `WouldBlock`) and hand each
    /// complete message to the handler.
    fn drain(&mut self, idx: usize) {
        if matches!(self.slots[idx].state, State::LiveTg(_)) {
            return self.drain_tg(idx);
        }
        loop {
            let slot = &mut self.slots[idx];
            let State::Live(l) = &mut slot.state else {
                return;
            };
            let parsed = l.ws.parse(&l.s.rbuf[l.s.rstart..l.s.rend]);
            let (ev, used) = match parsed {
                Ok(x) => x,
                Err(e) => return self.down(idx, ws_reason(e), now_ns()),
            };
            let base = l.s.rstart;
            l.s.rstart += used;
            match ev {
                Parsed::NeedMore { total } => match l.s.fill(total) {
                    Ok(0) => {
                        let reason = if slot.closing {
                            DownReason::ClosedByUs
                        } else if let Some(code) = slot.peer_close_code {
                            DownReason::ClosedByPeer { code }
                        } else {
                            DownReason::Reset
                        };
                        self.take_stream_counts(idx);
                        return self.down(idx, reason, now_ns());
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) => {
                        let reason = io_reason(&e, l.s.tls_handshaking());
                        self.take_stream_counts(idx);
                        return self.down(idx, reason, now_ns());
                    }
                },
                Parsed::Data { text, start, end } => {
                    if slot.closing {
                        continue;
                    }
                    let recv_ns = l.s.last_read_ns;
                    // Lend the receive buffer out for the callback (a pointer move): the
                    // Outbox may touch this connection's output side meanwhile.
                    let rbuf = std::mem::take(&mut l.s.rbuf);
                    self.deliver(idx, text, &rbuf[base + start..base + end], recv_ns);
                    if let State::Live(l) = &mut self.slots[idx].state {
                        l.s.rbuf = rbuf;
                    }
                    if !self.cmds.is_empty() || self.any_dirty {
                        self.after_callback();
                    }
                }
                Parsed::Reassembled { text } => {
                    if slot.closing {
                        continue;
                    }
                    let recv_ns = l.s.last_read_ns;
                    let frag = std::mem::take(&mut l.ws.frag);
                    self.deliver(idx, text, &frag, recv_ns);
                    if let State::Live(l) = &mut self.slots[idx].state {
                        l.ws.frag = frag;
                        if l.ws.frag.capacity() > l.s.rbuf_base {
                            // A message larger than the receive buffer was reassembled: keep
                            // no more than that size between messages.
                            l.ws.frag.clear();
                            l.ws.frag.shrink_to(l.s.rbuf_base);
                        }
                    }
                    if !self.cmds.is_empty() || self.any_dirty {
                        self.after_callback();
                    }
                }
                Parsed::Control => {}
                Parsed::Close { code } => {
                    // Our echo (or their answer to our close) is queued: send it best-effort,
                    // then drop the TCP connection.
                    let _ = l.flush_out();
                    let reason = if slot.closing {
                        DownReason::ClosedByUs
                    } else {
                        DownReason::ClosedByPeer { code }
                    };
                    self.take_stream_counts(idx);
                    return self.down(idx, reason, now_ns());
                }
            }
        }
        self.take_stream_counts(idx);
        let slot = &mut self.slots[idx];
        let State::Live(l) = &mut slot.state else {
            return;
        };
        slot.last_rx_ns = slot.last_rx_ns.max(l.s.last_read_ns);
        if l.ws.has_output() || l.s.tls_wants_write() {
            match l.flush_out() {
                Ok(done) => {
                    slot.write_pending = !done;
                    let queued = l.ws.queued() as u64;
                    self.local.write_queued_max = self.local.write_queued_max.max(queued);
                }
                Err(e) => {
                    let reason = io_reason(&e, false);
                    return self.down(idx, reason, now_ns());
                }
            }
        }
        self.update_interest(idx);
    }

    /// [`drain`](Self::drain) for [`Framing::Tungstenite`]: `WebSocket::read` until
    /// `WouldBlock` (it answers pings and echoes a close itself), each data message to the
    /// handler; then whatever tungstenite still holds (pongs, a blocked send) is flushed.
    fn drain_tg(&mut self, idx: usize) {
        loop {
            let slot = &mut self.slots[idx];
            let State::LiveTg(tg) = &mut slot.state else {
                return;
            };
            let (text, payload) = match tg.read() {
                Ok(Message::Text(t)) => (true, Bytes::from(t)),
                Ok(Message::Binary(b)) => (false, b),
                Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_)) => continue,
                Ok(Message::Close(frame)) => {
                    // tungstenite queued the echo (or this answers ours): send it
                    // best-effort, then drop the TCP connection.
                    let _ = tg.flush();
                    let reason = if slot.closing {
                        DownReason::ClosedByUs
                    } else {
                        DownReason::ClosedByPeer {
                            code: frame.map_or(1005, |f| u16::from(f.code)),
                        }
                    };
                    self.take_stream_counts(idx);
                    return self.down(idx, reason, now_ns());
                }
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    let reason = if slot.closing {
                        DownReason::ClosedByUs
                    } else {
                        classify(&e, tg.get_ref().tls_handshaking(), slot.peer_close_code)
                    };
                    self.take_stream_counts(idx);
                    return self.down(idx, reason, now_ns());
                }
            };
            if slot.closing {
                continue;
            }
            let recv_ns = tg.get_ref().last_read_ns;
            self.deliver(idx, text, &payload, recv_ns);
            if !self.cmds.is_empty() || self.any_dirty {
                self.after_callback();
            }
        }
        self.take_stream_counts(idx);
        let slot = &mut self.slots[idx];
        let State::LiveTg(tg) = &mut slot.state else {
            return;
        };
        slot.last_rx_ns = slot.last_rx_ns.max(tg.get_ref().last_read_ns);
        match tg.flush() {
            Ok(()) => slot.write_pending = false,
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                slot.write_pending = true;
            }
            Err(e) => {
                let reason = if slot.closing {
                    DownReason::ClosedByUs
                } else {
                    classify(&e, false, slot.peer_close_code)
                };
                return self.down(idx, reason, now_ns());
            }
        }
        self.update_interest(idx);
    }

    #[inline]
    fn deliver(&mut self, idx: usize, text: bool, data: &[u8], recv_ns: u64) {
        let slot = &mut self.slots[idx];
        if !slot.got_data {
            slot.got_data = true;
            slot.attempts = 0;
        }
        self.local.messages_rx += 1;
        if let Some(t) = self.tap.as_mut() {
            t.message(idx as u16, text, data, recv_ns);
        }
        let m = if text {
            WsMessage::Text(data)
        } else {
            WsMessage::Binary(data)
        };
        self.with_outbox(recv_ns, |h, out| {
            h.on_message(ConnId(idx as u16), m, recv_ns, out)
        });
    }

    fn take_stream_counts(&mut self, idx: usize) {
        if let Some(s) = self.slots[idx].stream_mut() {
            self.local.bytes_rx += std::mem::take(&mut s.bytes_read);
            self.local.records_rx += std::mem::take(&mut s.records_in);
            self.local.records_large_rx += std::mem::take(&mut s.records_large_in);
        }
    }

    /// Run queued commands and fix interests after a handler callback.
    fn after_callback(&mut self) {
        let mut i = 0;
        while i < self.cmds.len() {
            let cmd = self.cmds[i];
            i += 1;
            let now = now_ns();
            match cmd {
                Cmd::Reconnect(c) | Cmd::Fail(c, _) => {
                    let idx = c.0 as usize;
                    if idx >= self.slots.len() {
                        continue;
                    }
                    match self.slots[idx].state {
                        State::Free => {}
                        State::Waiting => self.slots[idx].deadline_ns = now,
                        _ => {
                            let reason = match cmd {
                                Cmd::Fail(_, r) => r,
                                _ => DownReason::Requested,
                            };
                            self.down(idx, reason, now);
                        }
                    }
                }
                Cmd::Close(c) => {
                    let idx = c.0 as usize;
                    if idx >= self.slots.len() {
                        continue;
                    }
                    let close_ns = {
                        let s = &self.slots[idx];
                        if matches!(s.state, State::Free) {
                            continue;
                        }
                        self.specs[s.spec as usize].close_ns
                    };
                    let slot = &mut self.slots[idx];
                    match &mut slot.state {
                        State::Live(l) if !slot.closing => {
                            slot.closing = true;
                            slot.deadline_ns = now.saturating_add(close_ns);
                            l.ws.queue_close(Some(1000));
                            match l.flush_out() {
                                Ok(done) => {
                                    slot.write_pending = !done;
                                    self.update_interest(idx);
                                }
                                Err(_) => self.down(idx, DownReason::ClosedByUs, now),
                            }
                        }
                        State::LiveTg(tg) if !slot.closing => {
                            slot.closing = true;
                            slot.deadline_ns = now.saturating_add(close_ns);
                            let frame = CloseFrame {
                                code: CloseCode::Normal,
                                reason: Utf8Bytes::from_static(""),
                            };
                            match tg.close(Some(frame)) {
                                Ok(()) => {
                                    slot.write_pending = false;
                                    self.update_interest(idx);
                                }
                                Err(tungstenite::Error::Io(e))
                                    if e.kind() == io::ErrorKind::WouldBlock =>
                                {
                                    slot.write_pending = true;
                                    self.update_interest(idx);
                                }
                                Err(_) => self.down(idx, DownReason::ClosedByUs, now),
                            }
                        }
                        State::Live(_) | State::LiveTg(_) => {}
                        _ => self.down(idx, DownReason::ClosedByUs, now),
                    }
                }
            }
        }
        self.cmds.clear();
        if self.any_dirty {
            self.any_dirty = false;
            for idx in 0..self.slots.len() {
                if self.slots[idx].dirty {
                    self.slots[idx].dirty = false;
                    self.update_interest(idx);
                }
            }
        }
    }

    /// Derive the mio interest from the connection state; re-register only on change.
    fn update_interest(&mut self, idx: usize) {
        let slot = &mut self.slots[idx];
        let want = match &slot.state {
            State::Connecting(_) => Some(Interest::WRITABLE),
            State::Handshaking(_) => Some(Interest::READABLE | Interest::WRITABLE),
            State::Live(l) => {
                if slot.write_pending || l.s.tls_wants_write() {
                    Some(Interest::READABLE | Interest::WRITABLE)
                } else {
                    Some(Interest::READABLE)
                }
            }
            State::LiveTg(tg) => {
                if slot.write_pending || tg.get_ref().tls_wants_write() {
                    Some(Interest::READABLE | Interest::WRITABLE)
                } else {
                    Some(Interest::READABLE)
                }
            }
            _ => None,
        };
        let Some(want) = want else { return };
        if slot.registered == Some(want) {
            return;
        }
        let registry = self.poll.registry();
        let was = slot.registered;
        let Some(stream) = slot.stream_mut() else {
            return;
        };
        let res = match was {
            None => registry.register(&mut stream.sock, Token(idx), want),
            Some(_) => registry.reregister(&mut stream.sock, Token(idx), want),
        };
        match res {
            Ok(()) => slot.registered = Some(want),
            Err(_) => {
                let now = now_ns();
                self.down(idx, DownReason::Io, now);
            }
        }
    }

    /// Tear a connection down, tell the handler, schedule the reconnect (or free the slot).
    fn down(&mut self, idx: usize, reason: DownReason, now: u64) {
        self.local.downs += 1;
        if reason == DownReason::WriteBufferFull {
            self.local.write_overflows += 1;
        }
        let slot = &mut self.slots[idx];
        if slot.registered.is_some() {
            if let Some(s) = slot.stream_mut() {
                let _ = self.poll.registry().deregister(&mut s.sock);
            }
        }
        slot.registered = None;
        slot.state = State::Waiting; // drops the socket
        slot.write_pending = false;
        slot.dirty = false;
        let closing = slot.closing;
        slot.closing = false;
        let spec = slot.spec as usize;
        if let Some(t) = self.tap.as_mut() {
            t.down(idx as u16, reason, now);
        }
        self.handler.on_down(ConnId(idx as u16), reason, now);
        let slot = &mut self.slots[idx];
        if reason == DownReason::ClosedByUs || closing {
            *slot = Slot::free();
            return;
        }
        let p = &mut self.specs[spec];
        // A lost connection may mean the host moved (CDN): look it up again on the resolver
        // thread; the answer is taken in before a later connect (issue 13, finding 9).
        if reason != DownReason::Requested && !p.resolving {
            p.resolving = self.dns.request(spec as u16);
        }
        let delay = if reason == DownReason::Requested {
            0
        } else {
            backoff_delay_ns(
                slot.attempts,
                p.backoff_min_ns,
                p.backoff_max_ns,
                &mut self.rng,
            )
        };
        slot.attempts = slot.attempts.saturating_add(1);
        slot.deadline_ns = now.saturating_add(delay);
    }
}
