//! MEXC spot feed: public shards (≤ 30 subscriptions each) and the private listen-key stream.
//! (Stub: being written.)

use super::{CommandQueue, FeedCore, FeedSetup};
use crate::net::{
    ConnId, ConnSpec, ControlClient, DownReason, Handler, NetError, Outbox, Reactor, WsMessage,
};

pub struct MexcFeed {
    core: FeedCore,
    #[allow(dead_code)]
    control: ControlClient,
    #[allow(dead_code)]
    commands: CommandQueue,
    #[allow(dead_code)]
    setup: FeedSetup,
}

impl MexcFeed {
    pub(crate) fn new(
        core: FeedCore,
        control: ControlClient,
        commands: CommandQueue,
        setup: FeedSetup,
    ) -> Self {
        MexcFeed {
            core,
            control,
            commands,
            setup,
        }
    }

    /// Register the connection specs with the reactor and open what must be open at start.
    pub(crate) fn install(
        _r: &mut Reactor<MexcFeed>,
        _public: ConnSpec,
        _private: ConnSpec,
    ) -> Result<(), NetError> {
        Ok(())
    }

    pub(crate) fn into_core(self) -> FeedCore {
        self.core
    }
}

impl Handler for MexcFeed {
    fn on_open(&mut self, _conn: ConnId, _now_ns: u64, _out: &mut Outbox<'_>) {}
    fn on_message(
        &mut self,
        _conn: ConnId,
        _msg: WsMessage<'_>,
        _recv_ns: u64,
        _out: &mut Outbox<'_>,
    ) {
    }
    fn on_down(&mut self, _conn: ConnId, _reason: DownReason, _now_ns: u64) {}
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}
