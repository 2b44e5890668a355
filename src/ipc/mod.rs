//! Fan-out to other processes on the same host over iceoryx2 shared memory (feature `ipc`).
//!
//! A **publisher** ([`PublishPlan`] → [`Publisher`] or [`PublisherThread`]) is an ordinary
//! consumer of the engine: it binds channels like a strategy does, drains its ring and writes
//! every event, as it is, into memory loaned from an iceoryx2 service named after the channel
//! (`cexfeed/gateio.spot.orderbook.BTC_USDT`). A **subscriber** ([`Subscriber`]) in another
//! process opens the same names and reads the same [`Event`] and [`TopBook`] types a
//! [`StrategyRx`](crate::StrategyRx) hands out. Nothing is serialized: an [`Event`] is
//! `#[repr(C)]` all the way down (the body is `#[repr(C, u8)]`), so the record in shared memory
//! is the ring's own 192-byte record behind a 64-byte [`RecordHeader`], and a book's levels
//! follow it as a slice of [`Level`]s.
//!
//! Policies:
//! - **Slow subscriber.** Each subscriber has a bounded buffer (`buffer` records per service);
//!   the services are created with safe overflow, so a full buffer drops the subscriber's
//!   oldest record and the publisher never waits. Every record carries a per-service sequence
//!   number; a subscriber that finds a jump hands out a [`Body::Missed`] with the count first,
//!   exactly as `StrategyRx` does for its own ring.
//! - **Late subscriber.** Book services keep a history of one record: a subscriber that opens
//!   late receives each book's current state first, then the updates.
//! - **Publisher gone, publisher back.** Records carry the publisher's epoch (its start time);
//!   a subscriber checks the services' publisher count every [`LIVENESS_CHECK_NS`] and hands
//!   out `Status { kind: ConnDown }` when the last publisher went and `ConnUp` when one came
//!   back (a new epoch also resets the sequence check, so a restart is not counted as missed).
//! - **Crashed subscriber.** iceoryx2 keeps a record of every node; the publisher removes the
//!   resources of dead nodes at start and every second ([`CLEANUP_EVERY_NS`]), and a subscriber
//!   does the same when it opens, so a `kill -9` leaves nothing that blocks the next one.
//!
//! What the publisher thread does per event: a hash lookup of (venue, market, kind, symbol) →
//! service, a loan, a copy of the 192-byte record (plus the book's levels), a send. No lock of
//! ours, no formatting, and no heap allocation of ours; iceoryx2 0.10 itself allocates one
//! small object per loan (a reference-counted shared state, `ChunkMutSharedState::new` in
//! `iceoryx2-0.10.0/src/port/details/chunk_mut_shared_state.rs`), for its own bare
//! publish loop too: `tests/no_alloc_ipc.rs` counts both and asserts ours adds nothing.
//!
//! Names: the service of a channel is `<prefix>/<channel>` (default prefix `cexfeed`); events
//! that belong to no channel (connection status, errors, feed down) go to `<prefix>/status`.
//! [`list`] tells what a running publisher offers.

mod publisher;
mod subscriber;

pub use publisher::{PublishPlan, PublishStats, Publisher, PublisherThread};
pub use subscriber::{IpcReceived, Subscriber};

use crate::event::Level;
use crate::ring::Event;
use iceoryx2::prelude::*;

/// Default service-name prefix.
pub const DEFAULT_PREFIX: &str = "cexfeed";
/// Service (after the prefix) that carries events tied to no channel: `Status`, `Error`.
pub const STATUS_SERVICE: &str = "status";
/// Default records buffered per subscriber and service before the oldest is overwritten.
pub const DEFAULT_BUFFER: usize = 1024;
/// How often a subscriber checks whether its services still have a publisher.
pub const LIVENESS_CHECK_NS: u64 = 100_000_000;
/// How often a publisher removes what crashed nodes left behind.
pub const CLEANUP_EVERY_NS: u64 = 1_000_000_000;
/// Default most subscribers per service. iceoryx2 preallocates `subscribers × buffer` samples
/// per service (a 20-level book record is 1.5 KiB), so this and the buffer size the shared
/// memory a publisher maps.
pub const DEFAULT_MAX_SUBSCRIBERS: usize = 16;
/// How often a publisher looks for new subscribers when it has nothing to send (a late
/// subscriber's current books are delivered then).
pub const CONNECT_CHECK_NS: u64 = 10_000_000;
/// Layout version of [`RecordHeader`] + [`Event`] + [`Level`]: part of the type name iceoryx2
/// compares when a subscriber opens a service, so a build with another layout is refused
/// instead of misreading memory. Bump on any change to those types.
pub const LAYOUT_VERSION: u32 = 1;

/// What precedes every record's levels in shared memory (the iceoryx2 user header): 64 bytes of
/// publishing metadata, then the ring's [`Event`] exactly as the consumer received it. For a
/// book event, `n_bids` + `n_asks` levels follow as the sample's payload (bids best first, then
/// asks best first); other events carry none. The event's `Body::Book::handle` is the
/// publisher's pool slot and means nothing to a subscriber.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct RecordHeader {
    /// Sequence of this record in its service, from 1; a jump means the subscriber missed
    /// records (its buffer overflowed).
    pub seq: u64,
    /// The publisher's start time (CLOCK_MONOTONIC, ns, system-wide): changes when the
    /// publisher restarts. A subscriber opened before it expects the epoch's records from 1.
    pub epoch: u64,
    /// CLOCK_MONOTONIC (`metrics::now_ns`) when the publisher wrote the record.
    pub ts_publish_ns: u64,
    /// Events this publisher's own ring dropped before this one (cumulative; see `Missed`).
    pub ring_missed: u64,
    /// Bid levels in the payload.
    pub n_bids: u16,
    /// Ask levels in the payload.
    pub n_asks: u16,
    /// `1` = the publisher's copy of the book was cut to the service's depth.
    pub cut: u8,
    /// Padding; always 0.
    pub _reserved: [u8; 27],
    /// The event as the publisher's consumer received it.
    pub event: Event,
}

const _: () = assert!(std::mem::size_of::<RecordHeader>() == 256);

impl Default for RecordHeader {
    fn default() -> Self {
        RecordHeader {
            seq: 0,
            epoch: 0,
            ts_publish_ns: 0,
            ring_missed: 0,
            n_bids: 0,
            n_asks: 0,
            cut: 0,
            _reserved: [0; 27],
            event: Event {
                header: crate::ring::Header::new(
                    crate::types::Venue::Gateio,
                    crate::types::Market::Spot,
                    crate::ring::NO_SYMBOL,
                    0,
                ),
                body: crate::ring::Body::Missed { count: 0 },
            },
        }
    }
}

// SAFETY: `RecordHeader` is `#[repr(C)]` and holds only integers, byte arrays and an `Event`;
// `Event` is `#[repr(C)]` of a `#[repr(C)]` header and a `#[repr(C, u8)]` body whose fields are
// integers, `repr(transparent)` newtypes over integers or byte arrays, `repr(C)` structs of
// those, and `repr(u8)` enums: no pointer, reference or heap handle anywhere, so the bytes mean
// the same in every process that shares the memory. The type name carries `LAYOUT_VERSION`, so
// a subscriber built with a different layout is refused by iceoryx2 at open (tested in
// `tests/e2e/ipc.rs`). A writer of this type is always a `Publisher` of this crate, which only
// ever stores valid `Event`s (taken from the ring), so a reader never sees an invalid tag.
unsafe impl ZeroCopySend for RecordHeader {
    unsafe fn type_name() -> &'static str {
        "cexfeed::ipc::RecordHeader@1"
    }
}

// SAFETY: `Level` is `#[repr(C)]` of two `repr(transparent)` `i128` newtypes; every bit pattern
// is a valid value.
unsafe impl ZeroCopySend for Level {
    unsafe fn type_name() -> &'static str {
        "cexfeed::Level@1"
    }
}

/// Why a publisher or subscriber could not be set up. Cold path only.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IpcError {
    /// A channel name is malformed, not configured, or refused by the engine.
    #[error("channel {channel}: {source}")]
    Bind {
        /// The name as given.
        channel: String,
        /// Why.
        source: Box<crate::EngineError>,
    },
    /// A channel name does not parse.
    #[error("channel {channel}: {source}")]
    Channel {
        /// The name as given.
        channel: String,
        /// Why.
        source: Box<crate::ChannelError>,
    },
    /// iceoryx2 refused (node, service, port creation); `what` says which step.
    #[error("iceoryx2: {what}: {detail}")]
    Iceoryx {
        /// The step that failed.
        what: &'static str,
        /// iceoryx2's error, rendered.
        detail: String,
    },
    /// The engine could not make the publisher's consumer.
    #[error("{0}")]
    Engine(Box<crate::EngineError>),
    /// The publisher thread could not be started or died.
    #[error("publisher thread: {0}")]
    Thread(String),
}

impl From<crate::EngineError> for IpcError {
    fn from(e: crate::EngineError) -> Self {
        IpcError::Engine(Box::new(e))
    }
}

pub(crate) fn ice<E: std::fmt::Debug>(what: &'static str) -> impl FnOnce(E) -> IpcError {
    move |e| IpcError::Iceoryx {
        what,
        detail: format!("{e:?}"),
    }
}

/// iceoryx2 logs warnings (no config file, defaults used) to the terminal; keep them to errors
/// unless `IOX2_LOG_LEVEL` asks for more.
pub(crate) fn quiet_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| set_log_level_from_env_or(LogLevel::Error));
}

/// The iceoryx2 service name of `channel` under `prefix`.
pub fn service_name(prefix: &str, channel: &str) -> String {
    format!("{prefix}/{channel}")
}

/// How a publisher creates its services (a subscriber that comes first creates them with the
/// defaults, which a publisher with the same settings then opens).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServiceShape {
    pub(crate) buffer: usize,
    pub(crate) history: usize,
    pub(crate) max_subscribers: usize,
}

type Factory = iceoryx2::service::port_factory::publish_subscribe::PortFactory<
    ipc::Service,
    [Level],
    RecordHeader,
>;

/// Open the service `name`, or create it with `shape` (publisher: its settings are required of
/// an existing service too).
pub(crate) fn open_service(
    node: &Node<ipc::Service>,
    name: &str,
    shape: ServiceShape,
) -> Result<Factory, IpcError> {
    let sname: ServiceName = name.try_into().map_err(ice("service name"))?;
    node.service_builder(&sname)
        .publish_subscribe::<[Level]>()
        .user_header::<RecordHeader>()
        .enable_safe_overflow(true)
        .subscriber_max_buffer_size(shape.buffer)
        .history_size(shape.history)
        .max_subscribers(shape.max_subscribers)
        .max_publishers(2)
        .open_or_create()
        .map_err(ice("open or create service"))
}

/// Open the service `name` as it is; if it does not exist yet, create it with `shape`.
pub(crate) fn open_existing_or_create(
    node: &Node<ipc::Service>,
    name: &str,
    shape: ServiceShape,
) -> Result<Factory, IpcError> {
    let sname: ServiceName = name.try_into().map_err(ice("service name"))?;
    match node
        .service_builder(&sname)
        .publish_subscribe::<[Level]>()
        .user_header::<RecordHeader>()
        .open()
    {
        Ok(f) => Ok(f),
        Err(
            iceoryx2::service::builder::publish_subscribe::PublishSubscribeOpenError::DoesNotExist,
        ) => open_service(node, name, shape),
        Err(e) => Err(ice("open service")(e)),
    }
}

/// What running publishers offer under `prefix`: the channel names (and `status`), sorted.
/// Cold path: walks iceoryx2's service directory.
pub fn list(prefix: &str) -> Result<Vec<String>, IpcError> {
    quiet_logs();
    let cfg = iceoryx2::config::Config::global_config();
    let mut out = Vec::new();
    let head = format!("{prefix}/");
    ipc::Service::list(cfg, |s| {
        let name = s.static_details.name().as_str();
        if let Some(ch) = name.strip_prefix(&head) {
            out.push(ch.to_string());
        }
        CallbackProgression::Continue
    })
    .map_err(ice("list services"))?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// Remove what crashed iceoryx2 nodes left behind (their ports stop counting as subscribers
/// or publishers). Returns how many dead nodes were cleaned.
pub fn cleanup_dead_nodes(node: &Node<ipc::Service>) -> usize {
    let st = node.try_cleanup_dead_nodes();
    st.cleanups as usize
}
