//! A pre-recorded buffer of distinct Gate.io book pushes, made by the loopback venue
//! (`cexfeed-venue`): its market simulator walks a BTC_USDT book of ~1 000 levels per side
//! (`sim::SymState::step`: quotes and cancels mostly near the touch, sometimes up to 60 levels
//! deep, trades that sweep up to three levels, the fair value drifting by a tick), its feed
//! cuts 100 ms windows (`feed::Kind::Diff`: every level touched in the window with its final
//! quantity, first-touch order) and its Gate encoder writes each window as the venue's
//! connections do (`gate::encode_book_push`). Frame 0 is a `full: true` push of the whole
//! book; frames 1.. are deltas with `U = previous u + 1`, so a feed stays live through the
//! whole buffer. Every frame is different (versions, prices, sizes): replaying a buffer this
//! size does not train the branch predictor on a few frames or keep them in L1/L2.

use std::sync::Arc;

use cexfeed_venue::feed::{Feed, Kind, Out};
use cexfeed_venue::sim::{SymSpec, Symbol};
use cexfeed_venue::{Market, VenueId};

/// The frames back to back in one allocation (a replay reads them in order, as a socket
/// buffer would be read).
pub struct GateBuffer {
    bytes: Vec<u8>,
    /// `(start, end)` of each frame in `bytes`; frame 0 is the `full` push.
    spans: Vec<(usize, usize)>,
    /// Levels (bids + asks) carried by the delta frames, in total.
    pub delta_levels: usize,
}

impl GateBuffer {
    /// Frame `i` (0: the `full` push).
    #[inline]
    pub fn frame(&self, i: usize) -> &[u8] {
        let (a, b) = self.spans[i];
        &self.bytes[a..b]
    }

    /// The `full` push that starts the book.
    pub fn full(&self) -> &[u8] {
        self.frame(0)
    }

    /// Number of delta frames (frames `1..=deltas()`).
    pub fn deltas(&self) -> usize {
        self.spans.len() - 1
    }

    /// Mean levels per delta push.
    pub fn mean_levels(&self) -> f64 {
        self.delta_levels as f64 / self.deltas() as f64
    }

    /// Mean bytes per delta push.
    pub fn mean_bytes(&self) -> f64 {
        (self.bytes.len() - self.spans[0].1) as f64 / self.deltas() as f64
    }
}

/// Which Gate stream the buffer is encoded as.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// `spot.obu`, stream `ob.BTC_USDT.400`, levels `[["price","amount"]]`.
    SpotObu,
    /// `futures.order_book_update`, level `"100"`, levels `[{"p","s"}]`, sizes as decimal
    /// strings (`X-Gate-Size-Decimal: 1`).
    FuturesOrderBookUpdate,
}

/// `deltas` distinct pushes after one `full` push; `seed` picks the walk.
pub fn record(stream: Stream, deltas: usize, seed: u64) -> GateBuffer {
    let (market, channel, label) = match stream {
        Stream::SpotObu => (Market::Spot, "spot.obu", "ob.BTC_USDT.400"),
        Stream::FuturesOrderBookUpdate => (Market::Futures, "futures.order_book_update", "100"),
    };
    let name = "BTC_USDT";
    let mut spec = SymSpec::new(VenueId::Gateio, market, name);
    spec.depth = 1000;
    let sym = Arc::new(Symbol::new(spec.clone(), seed, 1 << 16));
    let interval_ms = 100;
    let mut feed = Feed::new(sym.clone(), Kind::Diff, interval_ms, true);
    let wall0: i64 = 1_764_806_400_000;
    let mut bytes = Vec::with_capacity(deltas * 700);
    let mut spans = Vec::with_capacity(deltas + 1);
    let push = |bytes: &mut Vec<u8>, spans: &mut Vec<(usize, usize)>, out: &Out| {
        let s = cexfeed_venue::gate::encode_book_push(market, channel, label, name, out, true);
        assert!(!s.is_empty(), "the venue encodes {channel}");
        let a = bytes.len();
        bytes.extend_from_slice(s.as_bytes());
        spans.push((a, bytes.len()));
    };
    let full = feed.full_now(4096).expect("the feed keeps a replica");
    push(&mut bytes, &mut spans, &full);
    // A small walk of its own picks how many book changes each window holds: 8..=40 (the
    // venue coalesces repeated prices, so a push carries somewhat fewer levels).
    let mut r = seed | 1;
    let mut rnd = move |n: u64| {
        r ^= r << 13;
        r ^= r >> 7;
        r ^= r << 17;
        r % n
    };
    let mut delta_levels = 0;
    let mut outs = Vec::new();
    let mut w: u64 = 1;
    while spans.len() < deltas + 1 {
        let t_ms = w * interval_ms;
        {
            let mut st = sym.lock();
            let changes = 8 + rnd(33);
            for _ in 0..changes {
                st.step(&spec, t_ms, wall0 + t_ms as i64);
            }
            st.clock_ms = t_ms + interval_ms;
        }
        outs.clear();
        feed.poll(&mut outs);
        for o in &outs {
            if let Out::Diff { bids, asks, .. } = o {
                if spans.len() < deltas + 1 {
                    delta_levels += bids.len() + asks.len();
                    push(&mut bytes, &mut spans, o);
                }
            }
        }
        w += 1;
    }
    GateBuffer {
        bytes,
        spans,
        delta_levels,
    }
}
