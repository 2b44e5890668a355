//! Example strategy: a cross-venue arbitrage monitor (the `cexfeed` demo's strategy, and the
//! latency bench's tick-to-signal consumer).
//!
//! It keeps the latest best bid/ask of every (venue, market) quoting the same instrument
//! (`BTC/USDT` on MEXC spot, Gate.io spot and Gate.io USDT futures), and after each update finds
//! the best "buy on A at its ask, sell on B at its bid" spread after both taker fees. Whether a
//! spread is positive is decided on the exact fixed-point prices: buying at `ask` costs
//! `ask × (1 + fee_a)`, selling at `bid` brings `bid × (1 − fee_b)`, fees in millionths, all in
//! `i128` (`Px` units × 10⁶ stay below 2¹²⁷ for any price under 10¹⁶); only the displayed
//! basis points (and the choice among several positive pairs) go through `f64`. It reports when
//! an instrument's spread opens (no positive pair before, one now) and closes, counts both, and
//! how often an evaluation was positive. It never trades. Quotes from books that are not live
//! are ignored, and so are crossed or empty quotes.
//!
//! Fixed size after construction: instruments and venues are registered up front; updates do
//! not allocate ([`ArbMonitor::stats`], which builds the labels, is for the cold side).

#![warn(missing_docs, unreachable_pub)]

use cexfeed::types::{Market, Px, Venue};

/// Fees are in millionths (1 bp = 100 ppm).
pub const PPM: i128 = 1_000_000;

/// A quoting place: one venue and market.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Venue.
    pub venue: Venue,
    /// Market.
    pub market: Market,
    /// Taker fee in millionths of the notional (1 bp = 100 ppm).
    pub taker_fee_ppm: u32,
}

impl Place {
    /// A place with the default taker fee ([`default_taker_fee_ppm`]).
    pub fn new(venue: Venue, market: Market) -> Place {
        Place {
            venue,
            market,
            taker_fee_ppm: default_taker_fee_ppm(venue, market),
        }
    }
    /// `venue.market`.
    pub fn label(&self) -> String {
        format!("{}.{}", self.venue.as_str(), self.market.as_str())
    }
    /// The taker fee in basis points (display).
    pub fn taker_fee_bps(&self) -> f64 {
        self.taker_fee_ppm as f64 / 100.0
    }
}

/// Default taker fees used by the demo, in ppm (public fee schedules' base tier: MEXC 5 bp,
/// Gate.io spot 10 bp, Gate.io futures 5 bp; configurable through [`Place::taker_fee_ppm`]).
pub fn default_taker_fee_ppm(venue: Venue, market: Market) -> u32 {
    match (venue, market) {
        (Venue::Mexc, _) => 500,
        (Venue::Gateio, Market::Spot) => 1_000,
        (Venue::Gateio, Market::Futures) => 500,
    }
}

/// [`default_taker_fee_ppm`] in basis points (the report's `fees_bps`).
pub fn default_taker_fee_bps(venue: Venue, market: Market) -> f64 {
    default_taker_fee_ppm(venue, market) as f64 / 100.0
}

/// Split a venue-native symbol into `BASE/QUOTE` so the same instrument matches across venues.
pub fn normalize_pair(venue: Venue, name: &str) -> Option<String> {
    match venue {
        Venue::Gateio => name.split_once('_').map(|(b, q)| format!("{b}/{q}")),
        Venue::Mexc => ["USDT", "USDC", "USD1", "BTC", "ETH"]
            .iter()
            .find(|q| name.len() > q.len() && name.ends_with(*q))
            .map(|q| format!("{}/{}", &name[..name.len() - q.len()], q)),
    }
}

/// Exact edge of buying at `ask` on a place with fee `fee_buy` and selling at `bid` on one with
/// `fee_sell`: `bid × (10⁶ − fee_sell) − ask × (10⁶ + fee_buy)`, in `Px` units × 10⁶.
/// Positive: the spread pays both fees.
pub fn net_edge(ask: Px, fee_buy_ppm: u32, bid: Px, fee_sell_ppm: u32) -> i128 {
    bid.0 * (PPM - fee_sell_ppm as i128) - ask.0 * (PPM + fee_buy_ppm as i128)
}

#[derive(Debug, Clone, Copy, Default)]
struct Quote {
    bid: Px,
    ask: Px,
    valid: bool,
}

/// The best pair of one evaluation (indices into the places).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Best {
    buy: usize,
    sell: usize,
    buy_px: Px,
    sell_px: Px,
    /// Exact edge ([`net_edge`]).
    edge: i128,
    /// Net spread in bp of the buy price (display).
    net_bps: f64,
}

/// The best opportunity seen for one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    /// `BASE/QUOTE`.
    pub instrument: String,
    /// Buy here (at its ask).
    pub buy: String,
    /// Sell here (at its bid).
    pub sell: String,
    /// The ask bought at.
    pub buy_px: Px,
    /// The bid sold at.
    pub sell_px: Px,
    /// Spread after both taker fees, in basis points of the buy price (display).
    pub net_bps: f64,
    /// The exact test: the spread pays both fees ([`net_edge`] > 0).
    pub positive: bool,
}

/// Per-instrument statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstrumentStats {
    /// `BASE/QUOTE`.
    pub instrument: String,
    /// Evaluations (updates where at least two places had valid quotes).
    pub evaluations: u64,
    /// Evaluations whose best net spread was positive (exactly).
    pub positive: u64,
    /// Times a spread opened: a positive pair where the previous evaluation had none.
    pub opened: u64,
    /// Times an open spread closed (no positive pair any more, or too few valid quotes).
    pub closed: u64,
    /// A spread is open now.
    pub open: bool,
    /// Best net spread seen over the run.
    pub best_ever: Option<Opportunity>,
    /// Best net spread at the latest evaluation.
    pub current: Option<Opportunity>,
}

/// What an update changed about an instrument's opportunity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Signal {
    /// A cross-venue spread opened: buy on place `buy` at `buy_px`, sell on `sell` at
    /// `sell_px`, `net_bps` after fees.
    Opened {
        /// Instrument index.
        instrument: usize,
        /// Place index to buy on.
        buy: usize,
        /// Place index to sell on.
        sell: usize,
        /// Ask to buy at.
        buy_px: Px,
        /// Bid to sell at.
        sell_px: Px,
        /// Net spread, bp (display).
        net_bps: f64,
    },
    /// The instrument's open spread closed.
    Closed {
        /// Instrument index.
        instrument: usize,
    },
}

#[derive(Debug, Clone, Default)]
struct State {
    evaluations: u64,
    positive: u64,
    opened: u64,
    closed: u64,
    open: bool,
    best_ever: Option<Best>,
    current: Option<Best>,
}

/// The monitor: latest quotes per (instrument, place), the best pair after fees, open/close.
pub struct ArbMonitor {
    places: Vec<Place>,
    instruments: Vec<String>,
    /// quotes[instrument][place]
    quotes: Vec<Vec<Quote>>,
    state: Vec<State>,
}

impl ArbMonitor {
    /// A monitor over fixed places and instruments.
    pub fn new(places: Vec<Place>, instruments: Vec<String>) -> Self {
        let quotes = vec![vec![Quote::default(); places.len()]; instruments.len()];
        let state = vec![State::default(); instruments.len()];
        ArbMonitor {
            places,
            instruments,
            quotes,
            state,
        }
    }

    /// The places, in index order.
    pub fn places(&self) -> &[Place] {
        &self.places
    }

    /// Index of a venue and market.
    pub fn place_index(&self, venue: Venue, market: Market) -> Option<usize> {
        self.places
            .iter()
            .position(|p| p.venue == venue && p.market == market)
    }

    /// Index of an instrument (`BASE/QUOTE`).
    pub fn instrument_index(&self, name: &str) -> Option<usize> {
        self.instruments.iter().position(|i| i == name)
    }

    /// Number of instruments.
    pub fn instruments(&self) -> usize {
        self.instruments.len()
    }

    /// Invalidate a place's quote (book went stale or resyncing); re-evaluates, so an open
    /// spread that depended on it closes.
    pub fn invalidate(&mut self, instrument: usize, place: usize) -> Option<Signal> {
        if !self.quotes[instrument][place].valid {
            return None;
        }
        self.quotes[instrument][place].valid = false;
        self.evaluate(instrument)
    }

    /// Record a best bid/ask and re-evaluate the instrument. `live` = the book is in sync.
    /// Returns the signal if the instrument's spread opened or closed.
    pub fn on_quote(
        &mut self,
        instrument: usize,
        place: usize,
        bid: Px,
        ask: Px,
        live: bool,
    ) -> Option<Signal> {
        let valid = live && !bid.is_zero() && !ask.is_zero() && bid < ask;
        self.quotes[instrument][place] = Quote { bid, ask, valid };
        self.evaluate(instrument)
    }

    fn evaluate(&mut self, instrument: usize) -> Option<Signal> {
        let q = &self.quotes[instrument];
        let mut best: Option<Best> = None;
        let mut valid = 0;
        for (a, qa) in q.iter().enumerate() {
            if !qa.valid {
                continue;
            }
            valid += 1;
            for (b, qb) in q.iter().enumerate() {
                if a == b || !qb.valid {
                    continue;
                }
                let (fa, fb) = (self.places[a].taker_fee_ppm, self.places[b].taker_fee_ppm);
                let edge = net_edge(qa.ask, fa, qb.bid, fb);
                // bp of the buy cost: edge / (ask × 10⁶) × 10⁴ (display and ranking only).
                let net_bps = edge as f64 / qa.ask.0 as f64 / 100.0;
                let better = match best {
                    None => true,
                    // A positive pair always beats a non-positive one (exact); otherwise
                    // the larger net spread.
                    Some(o) => (edge > 0, net_bps) > (o.edge > 0, o.net_bps),
                };
                if better {
                    best = Some(Best {
                        buy: a,
                        sell: b,
                        buy_px: qa.ask,
                        sell_px: qb.bid,
                        edge,
                        net_bps,
                    });
                }
            }
        }
        let st = &mut self.state[instrument];
        let best = if valid < 2 { None } else { best };
        let positive = best.is_some_and(|b| b.edge > 0);
        if let Some(b) = best {
            st.evaluations += 1;
            if positive {
                st.positive += 1;
            }
            if st.best_ever.is_none_or(|o| b.net_bps > o.net_bps) {
                st.best_ever = Some(b);
            }
        }
        st.current = best;
        match (st.open, positive, best) {
            (false, true, Some(b)) => {
                st.open = true;
                st.opened += 1;
                Some(Signal::Opened {
                    instrument,
                    buy: b.buy,
                    sell: b.sell,
                    buy_px: b.buy_px,
                    sell_px: b.sell_px,
                    net_bps: b.net_bps,
                })
            }
            (true, false, _) => {
                st.open = false;
                st.closed += 1;
                Some(Signal::Closed { instrument })
            }
            _ => None,
        }
    }

    fn opportunity(&self, instrument: usize, b: Best) -> Opportunity {
        Opportunity {
            instrument: self.instruments[instrument].clone(),
            buy: self.places[b.buy].label(),
            sell: self.places[b.sell].label(),
            buy_px: b.buy_px,
            sell_px: b.sell_px,
            net_bps: b.net_bps,
            positive: b.edge > 0,
        }
    }

    /// Statistics per instrument (builds labels: for the cold side).
    pub fn stats(&self) -> Vec<InstrumentStats> {
        self.state
            .iter()
            .enumerate()
            .map(|(i, s)| InstrumentStats {
                instrument: self.instruments[i].clone(),
                evaluations: s.evaluations,
                positive: s.positive,
                opened: s.opened,
                closed: s.closed,
                open: s.open,
                best_ever: s.best_ever.map(|b| self.opportunity(i, b)),
                current: s.current.map(|b| self.opportunity(i, b)),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Px {
        Px::parse(s.as_bytes()).unwrap()
    }

    fn two() -> ArbMonitor {
        ArbMonitor::new(
            vec![
                Place::new(Venue::Mexc, Market::Spot),
                Place::new(Venue::Gateio, Market::Spot),
            ],
            vec!["BTC/USDT".into()],
        )
    }

    #[test]
    fn pairs_normalize_across_venues() {
        assert_eq!(
            normalize_pair(Venue::Mexc, "BTCUSDT").as_deref(),
            Some("BTC/USDT")
        );
        assert_eq!(
            normalize_pair(Venue::Gateio, "BTC_USDT").as_deref(),
            Some("BTC/USDT")
        );
        assert_eq!(normalize_pair(Venue::Mexc, "USDT"), None);
    }

    #[test]
    fn finds_best_spread_after_fees_and_counts_positive() {
        let mut m = two();
        // One place only: nothing to compare.
        assert_eq!(m.on_quote(0, 0, px("100"), px("100.1"), true), None);
        assert_eq!(m.stats()[0].evaluations, 0);
        // Gate bids 100.5 while MEXC asks 100.1: gross ~39.96 bp; net of both fees
        // (100.5 × 0.999 − 100.1 × 1.0005) / 100.1 = 24.92 bp: opens.
        let s = m.on_quote(0, 1, px("100.5"), px("100.6"), true);
        assert!(
            matches!(
                s,
                Some(Signal::Opened {
                    buy: 0,
                    sell: 1,
                    ..
                })
            ),
            "{s:?}"
        );
        let st = &m.stats()[0];
        assert_eq!(
            (st.evaluations, st.positive, st.opened, st.open),
            (1, 1, 1, true)
        );
        let o = st.current.as_ref().unwrap();
        assert_eq!(
            (o.buy.as_str(), o.sell.as_str()),
            ("mexc.spot", "gateio.spot")
        );
        assert!((o.net_bps - 24.92).abs() < 0.01, "{}", o.net_bps);
        // Still open: no new signal.
        assert_eq!(m.on_quote(0, 1, px("100.4"), px("100.6"), true), None);
        // Gate moves in line: gross 0, net -15 bp → closes.
        assert_eq!(
            m.on_quote(0, 1, px("100.0"), px("100.1"), true),
            Some(Signal::Closed { instrument: 0 })
        );
        let st = &m.stats()[0];
        assert_eq!(
            (st.evaluations, st.positive, st.closed, st.open),
            (3, 2, 1, false)
        );
        assert!(st.current.as_ref().unwrap().net_bps < 0.0);
        assert!(st.best_ever.as_ref().unwrap().net_bps > 24.0);
        // A resyncing book's quote is ignored.
        assert_eq!(m.on_quote(0, 1, px("200"), px("201"), false), None);
        assert!(m.stats()[0].current.is_none());
        assert_eq!(m.stats()[0].evaluations, 3);
    }

    /// The decision is exact: a spread that pays the fees by one price unit is positive, one
    /// that falls one unit short is not (f64 cannot tell these apart at BTC prices).
    #[test]
    fn positive_is_decided_on_exact_fixed_point_prices() {
        // Buy at 84 270 with 5 bp, sell at X with 10 bp: break-even X = 84270 × 1.0005 / 0.999.
        let ask = px("84270");
        let cost = ask.0 * (PPM + 500); // must be < bid × (10⁶ − 1000)
        let even = cost / (PPM - 1_000); // floor
        let short = Px(even); // bid × 999000 ≤ cost
        let pays = Px(even + 1);
        assert!(net_edge(ask, 500, short, 1_000) <= 0);
        assert!(net_edge(ask, 500, pays, 1_000) > 0);
        let mut m = two();
        m.on_quote(0, 0, px("84269"), ask, true);
        assert_eq!(m.on_quote(0, 1, short, Px(short.0 + 1), true), None);
        assert!(matches!(
            m.on_quote(0, 1, pays, Px(pays.0 + 1), true),
            Some(Signal::Opened { .. })
        ));
        // Invalidating a place closes the open spread.
        assert_eq!(m.invalidate(0, 1), Some(Signal::Closed { instrument: 0 }));
        assert_eq!(m.invalidate(0, 1), None);
    }
}
