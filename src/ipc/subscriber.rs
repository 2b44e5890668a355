//! The subscribing side: reads a publisher's records as the engine's own event and book types.

use super::{
    cleanup_dead_nodes, ice, open_existing_or_create, service_name, IpcError, RecordHeader,
    ServiceShape, DEFAULT_BUFFER, DEFAULT_MAX_SUBSCRIBERS, DEFAULT_PREFIX, LIVENESS_CHECK_NS,
    STATUS_SERVICE,
};
use crate::channel::{Channel, Kind};
use crate::event::Level;
use crate::ring::{Body, Event, Header, StatusKind, TopBook, NO_SYMBOL};
use crate::types::now_ns;
use iceoryx2::port::subscriber::Subscriber as IceSubscriber;
use iceoryx2::prelude::*;
use iceoryx2::service::port_factory::publish_subscribe::PortFactory;
use iceoryx2::service::port_factory::PortFactory as _;

/// Levels per side a subscriber's book copy holds (more are cut and flagged `truncated`).
const SUB_DEPTH: usize = 1000;

struct SubSvc {
    factory: PortFactory<ipc::Service, [Level], RecordHeader>,
    port: IceSubscriber<ipc::Service, [Level], RecordHeader>,
    channel: String,
    last_seq: u64,
    epoch: u64,
    book: Option<TopBook>,
}

/// One record as received: the event, and for a book event the book's levels.
pub struct IpcReceived<'a> {
    event: Event,
    book: Option<&'a TopBook>,
    channel: &'a str,
    published_ns: u64,
}

impl IpcReceived<'_> {
    /// The event, as the publisher's consumer received it (`Missed` and publisher up/down
    /// `Status` events are made by the subscriber).
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// CLOCK_MONOTONIC (`types::now_ns`, system-wide) when the publisher wrote the record; 0
    /// for events the subscriber made (`Missed`, publisher up/down). `now_ns() -
    /// published_ns()` is the shared-memory hop alone; `ts_ring_ns` in the event's header is
    /// when the publisher's feed pushed it into the in-process ring.
    pub fn published_ns(&self) -> u64 {
        self.published_ns
    }

    /// The book of a `Body::Book` event.
    pub fn book(&self) -> Option<&TopBook> {
        self.book
    }

    /// The channel (service) the record came from; `status` for events tied to none.
    pub fn channel(&self) -> &str {
        self.channel
    }
}

impl std::ops::Deref for IpcReceived<'_> {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.event
    }
}

/// Reads the records of one or more channels a publisher offers.
pub struct Subscriber {
    node: Node<ipc::Service>,
    services: Vec<SubSvc>,
    next: usize,
    /// A record held back while the `Missed` before it is handed out.
    pending: Option<(usize, Event, bool, u64)>,
    publisher_up: Option<bool>,
    last_check_ns: u64,
    opened_ns: u64,
}

impl Subscriber {
    /// Open (or create, if no publisher runs yet) the services of `channels` under `prefix`
    /// (`None` = `cexfeed`), plus the status service. Names are checked with the binding
    /// grammar. `buffer` = records held per service before the oldest is overwritten (at most
    /// what the publisher's services were created with; more is cut to that). A service that
    /// does not exist yet is created with `max(buffer, DEFAULT_BUFFER)` and the default
    /// subscriber count, which a publisher with the default settings then opens.
    pub fn open<S: AsRef<str>>(
        channels: &[S],
        prefix: Option<&str>,
        buffer: usize,
    ) -> Result<Subscriber, IpcError> {
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        super::quiet_logs();
        let node = NodeBuilder::new()
            .signal_handling_mode(SignalHandlingMode::Disabled)
            .create::<ipc::Service>()
            .map_err(ice("create node"))?;
        cleanup_dead_nodes(&node);
        let mut names = Vec::with_capacity(channels.len() + 1);
        for c in channels {
            let ch = Channel::parse(c.as_ref()).map_err(|source| IpcError::Channel {
                channel: c.as_ref().to_string(),
                source: Box::new(source),
            })?;
            let name = ch.to_string();
            if !names.iter().any(|(n, _)| *n == name) {
                names.push((name, ch.kind == Kind::OrderBook));
            }
        }
        names.push((STATUS_SERVICE.to_string(), false));
        let mut services = Vec::with_capacity(names.len());
        for (channel, book) in names {
            let factory = open_existing_or_create(
                &node,
                &service_name(prefix, &channel),
                ServiceShape {
                    buffer: buffer.max(DEFAULT_BUFFER),
                    history: usize::from(book),
                    max_subscribers: DEFAULT_MAX_SUBSCRIBERS,
                },
            )?;
            let max = factory.static_config().subscriber_max_buffer_size();
            let port = factory
                .subscriber_builder()
                .buffer_size(buffer.clamp(1, max.max(1)))
                .history_request(usize::from(book))
                .create()
                .map_err(ice("create subscriber"))?;
            services.push(SubSvc {
                factory,
                port,
                channel,
                last_seq: 0,
                epoch: 0,
                book: book.then(|| TopBook::new(SUB_DEPTH)),
            });
        }
        Ok(Subscriber {
            node,
            services,
            next: 0,
            pending: None,
            publisher_up: None,
            last_check_ns: 0,
            opened_ns: now_ns(),
        })
    }

    /// The channels opened (canonical names), `status` last.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.services.iter().map(|s| s.channel.as_str())
    }

    /// Whether a publisher is connected to any of the services (as of the last check).
    pub fn publisher_up(&self) -> bool {
        self.publisher_up.unwrap_or(false)
    }

    fn publishers(&self) -> usize {
        self.services
            .iter()
            .map(|s| s.factory.dynamic_config().number_of_publishers())
            .sum()
    }

    /// The next record, or `None` at once if there is none. A sequence jump on a service is
    /// handed out first as `Body::Missed { count }` (header of the record that follows it); a
    /// publisher that went or came back as `Body::Status { ConnDown | ConnUp }` with no symbol.
    pub fn try_recv(&mut self) -> Option<IpcReceived<'_>> {
        if let Some((i, event, with_book, published_ns)) = self.pending.take() {
            let s = &self.services[i];
            return Some(IpcReceived {
                event,
                book: if with_book { s.book.as_ref() } else { None },
                channel: &s.channel,
                published_ns,
            });
        }
        let t = now_ns();
        if t.saturating_sub(self.last_check_ns) >= LIVENESS_CHECK_NS {
            self.last_check_ns = t;
            let up = self.publishers() > 0;
            let was = self.publisher_up.replace(up);
            if was.is_some_and(|w| w != up) {
                let status = self.services.len() - 1;
                let mut header = Header::new(
                    crate::types::Venue::Gateio,
                    crate::types::Market::Spot,
                    NO_SYMBOL,
                    t,
                );
                header.ts_ring_ns = t;
                return Some(IpcReceived {
                    event: Event {
                        header,
                        body: Body::Status {
                            kind: if up {
                                StatusKind::ConnUp
                            } else {
                                StatusKind::ConnDown
                            },
                            from_ns: t,
                            to_ns: 0,
                        },
                    },
                    book: None,
                    channel: &self.services[status].channel,
                    published_ns: 0,
                });
            }
        }
        let n = self.services.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let svc = &mut self.services[i];
            let Ok(Some(sample)) = svc.port.receive() else {
                continue;
            };
            self.next = (i + 1) % n;
            let h: RecordHeader = *sample.user_header();
            let levels = sample.payload();
            let mut with_book = false;
            if let (Some(book), Body::Book { .. }) = (svc.book.as_mut(), h.event.body) {
                let nb = (h.n_bids as usize).min(levels.len());
                let na = (h.n_asks as usize).min(levels.len() - nb);
                book.fill_from_levels(&h.event, &levels[..nb], &levels[nb..nb + na], h.cut != 0);
                with_book = true;
            }
            drop(sample);
            let missed = if h.epoch != svc.epoch {
                // First record of this publisher (or of a restarted one). Opened before it
                // started: its records from 1 were due. Opened after: where we joined is not
                // known, so nothing is counted before this record.
                svc.epoch = h.epoch;
                if h.epoch > self.opened_ns {
                    h.seq.saturating_sub(1)
                } else {
                    0
                }
            } else {
                h.seq.saturating_sub(svc.last_seq + 1)
            };
            svc.last_seq = h.seq;
            let svc = &self.services[i];
            if missed > 0 {
                self.pending = Some((i, h.event, with_book, h.ts_publish_ns));
                let mut header = h.event.header;
                header.seq = 0;
                return Some(IpcReceived {
                    event: Event {
                        header,
                        body: Body::Missed { count: missed },
                    },
                    book: None,
                    channel: &svc.channel,
                    published_ns: 0,
                });
            }
            return Some(IpcReceived {
                event: h.event,
                book: if with_book { svc.book.as_ref() } else { None },
                channel: &svc.channel,
                published_ns: h.ts_publish_ns,
            });
        }
        None
    }

    /// Remove what crashed iceoryx2 nodes left behind; returns how many were cleaned.
    pub fn cleanup_dead_nodes(&self) -> usize {
        cleanup_dead_nodes(&self.node)
    }
}
