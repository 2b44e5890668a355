//! Engine commands on the feed thread, handled the same way for every venue: a consumer's
//! producer is installed, a bind/unbind updates the routing tables, and only a change in
//! whether *anyone* needs a channel reaches the venue feed, through its [`BindingHook`]
//! (static dispatch). Cold path: called from `on_tick` when the queue is not empty.

use super::FeedCore;
use crate::channel::Kind;
use crate::net::Outbox;
use crate::ring::Producer;
use crate::types::SymbolId;
use crossbeam_queue::ArrayQueue;
use std::sync::Arc;

/// Cold-path requests from the engine to a feed thread.
pub(crate) enum Command {
    /// A consumer's producer end for this feed (sent once per consumer, before or while running).
    AddConsumer { consumer: usize, producer: Producer },
    /// Start delivering `kind` (for `symbol` on public kinds) to `consumer`; subscribes if needed.
    Bind {
        kind: Kind,
        symbol: Option<SymbolId>,
        consumer: usize,
    },
    /// Stop delivering; unsubscribes when no consumer is left.
    Unbind {
        kind: Kind,
        symbol: Option<SymbolId>,
        consumer: usize,
    },
}

/// Shared queue of commands for one feed.
pub(crate) type CommandQueue = Arc<ArrayQueue<Command>>;

/// The venue-specific part of command handling.
pub(crate) trait BindingHook {
    fn core_mut(&mut self) -> &mut FeedCore;

    fn commands(&self) -> &CommandQueue;

    /// The first consumer of `kind` (on symbol index `si` for public kinds) arrived (`on`), or
    /// the last one left (`!on`): subscribe or unsubscribe at the venue.
    fn on_binding(
        &mut self,
        out: &mut Outbox<'_>,
        kind: Kind,
        si: Option<usize>,
        on: bool,
        now: u64,
    );

    /// Drain the command queue.
    fn handle_commands(&mut self, out: &mut Outbox<'_>, now: u64) {
        while let Some(cmd) = self.commands().pop() {
            match cmd {
                Command::AddConsumer { consumer, producer } => {
                    self.core_mut().add_consumer(consumer, producer)
                }
                Command::Bind {
                    kind,
                    symbol,
                    consumer,
                }
                | Command::Unbind {
                    kind,
                    symbol,
                    consumer,
                } => {
                    let bind = matches!(cmd, Command::Bind { .. });
                    if let Some((si, on)) =
                        self.core_mut().apply_binding(kind, symbol, consumer, bind)
                    {
                        self.on_binding(out, kind, si, on, now);
                    }
                }
            }
        }
    }
}
