//! Session lifecycles a client must survive (issue 13): the MEXC listen-key keep-alive going
//! wrong for a while (transport failure, 429/5xx, the key gone), a venue clock that is not the
//! client's, quiet markets, server-sent JSON pings.
//!
//! Facts:
//! * Keep-alive `PUT /api/v3/userDataStream` extends a key to 60 min; send it every 30 min
//!   (protocols.md §1.8). A key that is unknown or expired is answered with a listen-key error:
//!   `{"code":"730708","msg":"listen key information error"}` as reported against MEXC's own demo
//!   (mexcdevelop/mexc-api-demo issue #35); this venue answers `730705 listenKey does not exist`
//!   for a key it never issued or closed (both codes are in MEXC's 7307xx listen-key range).
//! * Signed MEXC requests are accepted when `timestamp < serverTime + 1000` and
//!   `serverTime - timestamp <= recvWindow` (protocols.md §1.8); `700003` otherwise (§1.9).
//!   Server time: `GET /api/v3/time` → `{"serverTime":<ms>}` (MEXC docs, "Check Server Time").
//!   Gate.io: `GET /api/v4/spot/time` → `{"server_time":<ms>}` (Gate.io API v4 docs, "Get
//!   server current time"; gateio-rs `get_server_time.rs`), signed WebSocket `time` within 60 s
//!   (protocols.md §2).
//! * MEXC may send `{"method":"PING"}` itself (protocols.md §8 item 1, third-party notes);
//!   a client answers `{"method":"PONG"}`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;

/// A fault injected on the next MEXC listen-key keep-alive (`PUT /api/v3/userDataStream`),
/// one per call, in the order queued by [`crate::VenueHandle::inject_keepalive_faults`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAliveFault {
    /// The connection is closed without an answer: a transport failure for the client.
    Transport,
    /// An HTTP error status (429, 500, 503 …) with MEXC's error body; the key stays valid.
    Status(u16),
    /// The key is dropped and answered with MEXC's listen-key error (`730708`).
    ListenKeyGone,
}

/// Lifecycle state shared by the server threads.
#[derive(Debug, Default)]
pub(crate) struct Lifecycle {
    pub keepalive_faults: Mutex<VecDeque<KeepAliveFault>>,
    /// Keep-alives that extended a key.
    pub keepalives_ok: AtomicU64,
    /// Keep-alives answered with an injected fault.
    pub keepalives_faulted: AtomicU64,
    /// Listen keys created (`POST`).
    pub keys_created: AtomicU64,
    /// `{"method":"PONG"}` frames received from clients (answers to our JSON pings).
    pub client_pongs: AtomicU64,
    /// Signed requests refused with `700003` (timestamp outside recvWindow).
    pub clock_refusals: AtomicU64,
    /// Symbols (wire names) whose market stands still (no book change, no trade).
    pub quiet: Mutex<Vec<String>>,
    pub any_quiet: AtomicBool,
    /// MEXC symbols whose depth pushes stop while trades and book tickers go on (a channel
    /// that stopped on a live connection).
    pub muted_depth: Mutex<Vec<String>>,
    /// The venue's clock minus the real one (ms); starts at `VenueConfig::clock_skew_ms`.
    pub skew_ms: AtomicI64,
}

impl Lifecycle {
    /// The fault for this keep-alive call, if one is queued.
    pub fn take_keepalive_fault(&self) -> Option<KeepAliveFault> {
        let f = self
            .keepalive_faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop_front();
        if f.is_some() {
            self.keepalives_faulted.fetch_add(1, Ordering::Relaxed);
        }
        f
    }

    /// Whether symbol `name` is quiet.
    pub fn is_quiet(&self, name: &str) -> bool {
        self.any_quiet.load(Ordering::Relaxed)
            && self
                .quiet
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|q| q.eq_ignore_ascii_case(name))
    }

    /// Whether MEXC depth pushes of `name` are muted.
    pub fn depth_muted(&self, name: &str) -> bool {
        let m = self.muted_depth.lock().unwrap_or_else(|p| p.into_inner());
        !m.is_empty() && m.iter().any(|q| q.eq_ignore_ascii_case(name))
    }

    /// Make `name` quiet (`true`) or active again.
    pub fn set_quiet(&self, name: &str, quiet: bool) {
        let mut q = self.quiet.lock().unwrap_or_else(|p| p.into_inner());
        q.retain(|x| !x.eq_ignore_ascii_case(name));
        if quiet {
            q.push(name.to_string());
        }
        self.any_quiet.store(!q.is_empty(), Ordering::Relaxed);
    }
}

/// Counters of the lifecycle faults, read through [`crate::VenueHandle::lifecycle_stats`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleStats {
    /// Keep-alives that extended a key.
    pub keepalives_ok: u64,
    /// Keep-alives answered with an injected fault.
    pub keepalives_faulted: u64,
    /// Listen keys created.
    pub keys_created: u64,
    /// `{"method":"PONG"}` answers received to the venue's own JSON pings.
    pub client_pongs: u64,
    /// Signed requests refused for a timestamp outside the window (MEXC `700003`).
    pub clock_refusals: u64,
}

impl Lifecycle {
    pub fn stats(&self) -> LifecycleStats {
        LifecycleStats {
            keepalives_ok: self.keepalives_ok.load(Ordering::Relaxed),
            keepalives_faulted: self.keepalives_faulted.load(Ordering::Relaxed),
            keys_created: self.keys_created.load(Ordering::Relaxed),
            client_pongs: self.client_pongs.load(Ordering::Relaxed),
            clock_refusals: self.clock_refusals.load(Ordering::Relaxed),
        }
    }
}
