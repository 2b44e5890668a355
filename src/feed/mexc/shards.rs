//! Public shards: every bound (kind, symbol) is one channel, placed on the first shard with
//! fewer than [`MAX_SUBSCRIPTIONS_PER_CONNECTION`] channels; a new shard connection is opened
//! from the shared public spec when all are full, and closed when its last channel goes.

use super::{MexcFeed, Role};
use crate::channel::Kind;
use crate::exchange::mexc::MAX_SUBSCRIPTIONS_PER_CONNECTION;
use crate::feed::errors::NO_SHARD_SLOT;
use crate::feed::retry::SubRetry;
use crate::feed::{public_index, FeedErrorKind};
use crate::metrics::Counters;
use crate::net::{ConnId, Outbox};
use crate::ring::StatusKind;

/// One public connection's worth of channels, with its make-before-break replacement.
pub(super) struct Shard {
    pub(super) conn: Option<ConnId>,
    /// (kind, symbol index) carried by this shard.
    pub(super) channels: Vec<(Kind, usize)>,
    pub(super) opened_once: bool,
    pub(super) down_since_ns: Option<u64>,
    pub(super) replacement: Option<ConnId>,
    pub(super) rotate_started_ns: u64,
    /// After a handover: trades of the promoted connection are still checked against those the
    /// closed connection delivered, until every trade channel caught up (its trade pushes may
    /// lag the closed connection's). See `rotation.rs`.
    pub(super) catch_up: bool,
}

impl MexcFeed {
    /// Place a public channel on a shard (opening a new shard connection if all are full) and
    /// subscribe it when that connection is live.
    pub(super) fn add_public(&mut self, out: &mut Outbox<'_>, kind: Kind, si: usize, now: u64) {
        let k = public_index(kind);
        if self.shard_of[si][k].is_some() {
            return;
        }
        // Bound (again): a refusal before gets one more try.
        self.retry[si][k] = SubRetry::default();
        let idx = match self
            .shards
            .iter()
            .position(|s| s.channels.len() < MAX_SUBSCRIPTIONS_PER_CONNECTION)
        {
            Some(i) => i,
            None => {
                self.shards.push(Shard {
                    conn: None,
                    channels: Vec::new(),
                    opened_once: false,
                    down_since_ns: None,
                    replacement: None,
                    rotate_started_ns: 0,
                    catch_up: false,
                });
                self.shards.len() - 1
            }
        };
        self.shards[idx].channels.push((kind, si));
        self.shard_of[si][k] = Some(idx);
        self.core.syms[si].subscribed[k] = true;
        match self.shards[idx].conn {
            None => self.open_shard(out, idx),
            Some(c) => {
                self.request(out, c, kind, Some(si), true, now);
                if let Some(r) = self.shards[idx].replacement {
                    self.request(out, r, kind, Some(si), true, now);
                }
            }
        }
    }

    fn open_shard(&mut self, out: &mut Outbox<'_>, idx: usize) {
        let Some(spec) = self.public_spec else {
            return;
        };
        match out.open(spec) {
            Some(c) => {
                self.shards[idx].conn = Some(c);
                self.set_role(c, Role::Shard(idx));
            }
            None => {
                let e = self.core.error(FeedErrorKind::NoShardSlot);
                self.core.log_error(e);
                let chans = self.shards[idx].channels.clone();
                for (kind, si) in chans {
                    self.core.route_error(kind, Some(si), -1, "", NO_SHARD_SLOT);
                }
            }
        }
    }

    pub(super) fn remove_public(&mut self, out: &mut Outbox<'_>, kind: Kind, si: usize, now: u64) {
        let k = public_index(kind);
        self.retry[si][k] = SubRetry::default();
        let Some(idx) = self.shard_of[si][k].take() else {
            return;
        };
        self.core.syms[si].subscribed[k] = false;
        self.shards[idx]
            .channels
            .retain(|&(kk, s)| !(kk == kind && s == si));
        for c in [self.shards[idx].conn, self.shards[idx].replacement]
            .into_iter()
            .flatten()
        {
            self.request(out, c, kind, Some(si), false, now);
        }
        if kind == Kind::OrderBook {
            self.core.syms[si].book.reset(now);
            self.core.publish_state(si, now);
            self.rest_in_flight[si] = false;
        }
        if self.shards[idx].channels.is_empty() {
            // No subscription left: the venue would close it after 30 s anyway.
            for c in [
                self.shards[idx].conn.take(),
                self.shards[idx].replacement.take(),
            ]
            .into_iter()
            .flatten()
            {
                self.set_role(c, Role::Closing);
                out.close(c);
            }
            self.shards[idx].opened_once = false;
            self.shards[idx].down_since_ns = None;
        }
    }

    pub(super) fn subscribe_shard(
        &mut self,
        out: &mut Outbox<'_>,
        idx: usize,
        conn: ConnId,
        now: u64,
    ) {
        let chans = self.shards[idx].channels.clone();
        for (kind, si) in chans {
            // A permanently refused channel is not sent again until it is bound again.
            if self.retry[si][public_index(kind)].refused {
                continue;
            }
            self.request(out, conn, kind, Some(si), true, now);
        }
    }

    /// The serving connection of shard `idx` is up: its books start over, consumers are told,
    /// its channels are subscribed.
    pub(super) fn on_shard_open(
        &mut self,
        out: &mut Outbox<'_>,
        idx: usize,
        conn: ConnId,
        now: u64,
    ) {
        let sh = &mut self.shards[idx];
        if sh.opened_once {
            Counters::add(&self.core.counters().reconnects, 1);
        }
        sh.opened_once = true;
        sh.down_since_ns = None;
        self.reset_shard_books(idx, now);
        self.core
            .broadcast_status(StatusKind::ConnUp, now, 0, false);
        self.subscribe_shard(out, idx, conn, now);
    }

    /// The serving connection of shard `idx` is down (no rotation in progress).
    pub(super) fn on_shard_down(&mut self, idx: usize, now: u64) {
        // A reconnect starts a fresh stream: nothing of it was delivered before.
        self.shards[idx].catch_up = false;
        if self.shards[idx].down_since_ns.is_none() {
            self.shards[idx].down_since_ns = Some(now);
            self.core
                .broadcast_status(StatusKind::ConnDown, now, 0, false);
        }
        self.reset_shard_books(idx, now);
    }

    fn reset_shard_books(&mut self, idx: usize, now: u64) {
        let chans = self.shards[idx].channels.clone();
        for (k, si) in chans {
            if k == Kind::OrderBook {
                self.core.syms[si].book.reset(now);
                self.core.publish_state(si, now);
                self.rest_in_flight[si] = false;
            }
        }
    }
}
