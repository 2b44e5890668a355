//! Serving recorded traffic (issue 15, `cexfeed venue --replay FILE...`): every WebSocket
//! client of a service gets that service's recorded public messages, byte for byte and timed
//! like the recording from the moment it connected; REST order-book requests get the recorded
//! snapshot body for the symbol that was taken closest before the replay's current position.
//!
//! The venue depends on nothing of the library, so it takes the recording as plain frames
//! ([`ReplayStream`]): the `cexfeed` command reads the files with the library's reader and
//! hands them over (one reader implementation, the library's, for every tool). Inbound client
//! frames are read and ignored (the recorded acks are served as recorded); protocol pings are
//! answered by tungstenite.

use crate::conn::{self, Io};
use crate::http::WsService;
use crate::Shared;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::{Message, WebSocket};

/// Which service a stream is served on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayService {
    /// MEXC spot (`/ws`, `/api/v3/depth`).
    Mexc,
    /// Gate.io spot (`/ws/v4`, `/api/v4/spot/order_book`).
    GateSpot,
    /// Gate.io USDT futures (`/v4/ws/usdt`, `/api/v4/futures/usdt/order_book`).
    GateFutures,
}

/// One recorded message: when (ns after the stream's first), text or binary, the bytes.
#[derive(Debug, Clone)]
pub struct ReplayFrame {
    pub at_ns: u64,
    pub text: bool,
    pub data: Vec<u8>,
}

/// One recorded REST order-book answer.
#[derive(Debug, Clone)]
pub struct ReplayRest {
    pub at_ns: u64,
    pub symbol: String,
    pub status: u16,
    pub body: Vec<u8>,
}

/// A service's recorded traffic.
#[derive(Debug, Clone)]
pub struct ReplayStream {
    pub service: ReplayService,
    pub frames: Vec<ReplayFrame>,
    pub rest: Vec<ReplayRest>,
}

fn service_of(svc: WsService) -> ReplayService {
    match svc {
        WsService::Mexc => ReplayService::Mexc,
        WsService::GateSpot => ReplayService::GateSpot,
        WsService::GateFutures => ReplayService::GateFutures,
    }
}

/// Serve the recorded messages of `svc` on one connection, then keep it open (reading and
/// ignoring) until the client or the venue closes it.
pub(crate) fn serve(mut ws: WebSocket<Io>, sh: Arc<Shared>, svc: WsService) {
    let want = service_of(svc);
    let started = Instant::now();
    sh.replay_mark_start(want, started);
    let frames: &[ReplayFrame] = sh
        .cfg
        .replay
        .iter()
        .find(|s| s.service == want)
        .map_or(&[], |s| &s.frames);
    let mut next = 0;
    loop {
        if sh.stopping() {
            let _ = ws.close(None);
            let _ = conn::ws_flush(&mut ws, &sh);
            return;
        }
        loop {
            match ws.read() {
                Ok(Message::Close(_)) => {
                    let _ = conn::ws_flush(&mut ws, &sh);
                    return;
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    break
                }
                Err(_) => return,
            }
        }
        let now = started.elapsed().as_nanos() as u64;
        let mut wrote = false;
        while next < frames.len() && frames[next].at_ns <= now {
            let f = &frames[next];
            let msg = if f.text {
                match String::from_utf8(f.data.clone()) {
                    Ok(t) => Message::Text(t.into()),
                    Err(_) => Message::Binary(f.data.clone().into()),
                }
            } else {
                Message::Binary(f.data.clone().into())
            };
            if !conn::ws_write(&mut ws, msg, &sh) {
                return;
            }
            sh.counters
                .pushes
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            next += 1;
            wrote = true;
        }
        if wrote && !conn::ws_flush(&mut ws, &sh) {
            return;
        }
        let wait = frames.get(next).map_or(Duration::from_millis(20), |f| {
            Duration::from_nanos(f.at_ns.saturating_sub(now))
        });
        std::thread::sleep(wait.min(Duration::from_millis(20)));
    }
}

/// A REST order-book request in replay: the recorded answer for `symbol` taken last before
/// the service's replay position (the first one before any); `None` if none was recorded.
pub(crate) fn rest_answer(sh: &Shared, svc: ReplayService, symbol: &str) -> Option<(u16, String)> {
    let s = sh.cfg.replay.iter().find(|s| s.service == svc)?;
    let pos = sh
        .replay_started(svc)
        .map_or(0, |t| t.elapsed().as_nanos() as u64);
    let mut best: Option<&ReplayRest> = None;
    for r in s.rest.iter().filter(|r| r.symbol == symbol) {
        if best.is_none() || r.at_ns <= pos {
            best = Some(r);
        }
    }
    best.map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
}
