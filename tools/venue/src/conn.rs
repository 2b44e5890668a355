//! One client connection's plumbing, shared by the MEXC and Gate.io servers: the plain or TLS
//! stream, socket helpers (poll, RST), bounded non-blocking WebSocket writes and the
//! connection-level faults (reset, close, silent, lifetime, no-pong).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use rustls::{ServerConnection, StreamOwned};

use tungstenite::protocol::frame::{coding::CloseCode, CloseFrame};

use crate::{Scenario, Shared, Target};

/// A plain or TLS server stream.
pub(crate) enum Io {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Io {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Io::Plain(s) => s,
            Io::Tls(s) => &s.sock,
        }
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Plain(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Io::Plain(s) => s.write(buf),
            Io::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Io::Plain(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}

/// poll(2) one fd for `events` up to `timeout_ms`; true when ready (or on error/hang-up).
pub(crate) fn wait_fd(tcp: &TcpStream, events: i16, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: tcp.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: `p` is one valid, initialised pollfd and we pass a count of 1.
    let r = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    r != 0
}

/// Longest a connection thread sleeps when it has nothing to push: it wakes earlier on
/// client input, and at the next push due (see [`push_wait_ms`]).
pub(crate) const MAX_IDLE_WAIT_MS: i32 = 100;

/// Milliseconds until a feed with window `interval_ms` may have a push: just after the next
/// boundary of the global grid (the market thread closes a window within a millisecond of
/// it). One-push-per-change feeds (interval 0) wait 1 ms.
pub(crate) fn push_wait_ms(sh: &Shared, interval_ms: u64) -> i32 {
    if interval_ms == 0 {
        return 1;
    }
    let phase = sh.start.elapsed().as_millis() as u64 % interval_ms;
    let ms = if phase < 2 {
        1
    } else {
        interval_ms - phase + 2
    };
    ms.min(MAX_IDLE_WAIT_MS as u64) as i32
}

/// Arrange for the socket's close to send RST instead of FIN (SO_LINGER on, 0 s).
pub(crate) fn reset(tcp: &TcpStream) {
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid fd owned by `tcp`; the option value points at a live `linger` of the size passed.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    // The RST goes out when the caller drops the socket (close(2) with zero linger).
}

/// Flush a non-blocking WebSocket, waiting for the socket to drain (bounded).
pub(crate) fn ws_flush(ws: &mut tungstenite::WebSocket<Io>, sh: &Shared) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match ws.flush() {
            Ok(()) => return true,
            Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() > deadline || sh.stopping() {
                    return false;
                }
                wait_fd(ws.get_ref().tcp(), libc::POLLOUT, 20);
            }
            Err(_) => return false,
        }
    }
}

/// Write one message, flushing when the buffer is large. False: the connection is gone.
pub(crate) fn ws_write(
    ws: &mut tungstenite::WebSocket<Io>,
    msg: tungstenite::Message,
    sh: &Shared,
) -> bool {
    match ws.write(msg) {
        Ok(()) => true,
        Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => ws_flush(ws, sh),
        Err(tungstenite::Error::WriteBufferFull(m)) => ws_flush(ws, sh) && ws.write(*m).is_ok(),
        Err(_) => false,
    }
}

/// What a connection should do after a connection-level fault check.
pub(crate) enum ConnFault {
    None,
    Reset,
    Close,
    Silent,
}

/// Per-connection fault state (reset/close/silent/lifetime/no-pong).
pub(crate) struct ConnFaults {
    pub seen: Vec<u64>,
    pub born: Instant,
    pub no_pong: bool,
}

impl ConnFaults {
    pub fn new() -> Self {
        ConnFaults {
            seen: Vec::new(),
            born: Instant::now(),
            no_pong: false,
        }
    }
    /// `names`: symbols this connection subscribes to (empty: only `Target::All` applies).
    pub fn check(&mut self, sh: &Shared, names: &[String]) -> ConnFault {
        let f = &sh.faults;
        if f.list.is_empty() {
            return ConnFault::None;
        }
        let hit = |s: Scenario, seen: &mut Vec<u64>| -> bool {
            let mut any = false;
            if names.is_empty() {
                any |= f.due(s, "\u{0}all", seen);
            }
            for n in names {
                any |= f.due(s, n, seen);
            }
            any
        };
        if hit(Scenario::NoPong, &mut self.seen) && !self.no_pong {
            self.no_pong = true;
            sh.count_fault(Scenario::NoPong);
        }
        if hit(Scenario::Reset, &mut self.seen) {
            sh.count_fault(Scenario::Reset);
            return ConnFault::Reset;
        }
        if hit(Scenario::Close, &mut self.seen) {
            sh.count_fault(Scenario::Close);
            return ConnFault::Close;
        }
        if hit(Scenario::Silent, &mut self.seen) {
            sh.count_fault(Scenario::Silent);
            return ConnFault::Silent;
        }
        if f.has(Scenario::Lifetime)
            && !f.in_quiet()
            && self.born.elapsed() >= f.period
            && f.list.iter().any(|(s, t)| {
                *s == Scenario::Lifetime
                    && (matches!(t, Target::All) || names.iter().any(|n| t.matches(n)))
            })
        {
            sh.count_fault(Scenario::Lifetime);
            return ConnFault::Close;
        }
        ConnFault::None
    }
}

/// Stay silent (no reads, no writes) until the client leaves, the venue stops or 120 s pass.
pub(crate) fn go_silent(ws: &tungstenite::WebSocket<Io>, sh: &Shared) {
    let t = Instant::now();
    let tcp = ws.get_ref().tcp();
    while !sh.stopping() && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
        // A hang-up shows as readable with a zero-length peek.
        let mut b = [0u8; 1];
        if let Ok(0) = tcp.peek(&mut b) {
            return;
        }
    }
}

/// Act on a connection-level fault: reset, close (1000) or go silent. True when the connection
/// is over and the caller must return.
pub(crate) fn apply(fault: ConnFault, ws: &mut tungstenite::WebSocket<Io>, sh: &Shared) -> bool {
    match fault {
        ConnFault::None => false,
        ConnFault::Reset => {
            reset(ws.get_ref().tcp());
            true
        }
        ConnFault::Close => {
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            let _ = ws_flush(ws, sh);
            true
        }
        ConnFault::Silent => {
            go_silent(ws, sh);
            true
        }
    }
}
