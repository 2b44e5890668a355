//! Example strategy: a cross-venue arbitrage monitor.
//!
//! It keeps the latest best bid/ask of every (venue, market) quoting the same instrument
//! (`BTC/USDT` on MEXC spot, Gate.io spot and Gate.io USDT futures), and after each update finds
//! the best "buy on A at its ask, sell on B at its bid" spread after both taker fees. It counts
//! how often that spread was positive. It never trades. Quotes from books that are not live are
//! ignored, and so are crossed or empty quotes.
//!
//! Fixed size after construction: instruments and venues are registered up front.

use cexfeed::types::{Market, Px, Venue};

/// A quoting place: one venue and market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub venue: Venue,
    pub market: Market,
    /// Taker fee in basis points (1 bp = 0.01 %).
    pub taker_fee_bps: f64,
}

impl Place {
    pub fn label(&self) -> String {
        format!("{}.{}", self.venue.as_str(), self.market.as_str())
    }
}

/// Default taker fees used by the demo (public fee schedules' base tier; configurable).
pub fn default_taker_fee_bps(venue: Venue, market: Market) -> f64 {
    match (venue, market) {
        (Venue::Mexc, _) => 5.0,
        (Venue::Gateio, Market::Spot) => 10.0,
        (Venue::Gateio, Market::Futures) => 5.0,
    }
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

#[derive(Debug, Clone, Copy, Default)]
struct Quote {
    bid: Px,
    ask: Px,
    valid: bool,
}

/// The best opportunity seen for one instrument.
#[derive(Debug, Clone, PartialEq)]
pub struct Opportunity {
    pub instrument: String,
    /// Buy here (at its ask).
    pub buy: String,
    /// Sell here (at its bid).
    pub sell: String,
    pub buy_px: f64,
    pub sell_px: f64,
    /// Spread after both taker fees, in basis points of the buy price.
    pub net_bps: f64,
}

/// Per-instrument statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstrumentStats {
    pub instrument: String,
    /// Evaluations (updates where at least two places had valid quotes).
    pub evaluations: u64,
    /// Evaluations whose best net spread was positive.
    pub positive: u64,
    /// Best net spread seen over the run.
    pub best_ever: Option<Opportunity>,
    /// Best net spread at the latest evaluation.
    pub current: Option<Opportunity>,
}

pub struct ArbMonitor {
    places: Vec<Place>,
    instruments: Vec<String>,
    /// quotes[instrument][place]
    quotes: Vec<Vec<Quote>>,
    stats: Vec<InstrumentStats>,
}

impl ArbMonitor {
    pub fn new(places: Vec<Place>, instruments: Vec<String>) -> Self {
        let quotes = vec![vec![Quote::default(); places.len()]; instruments.len()];
        let stats = instruments
            .iter()
            .map(|i| InstrumentStats {
                instrument: i.clone(),
                ..Default::default()
            })
            .collect();
        ArbMonitor {
            places,
            instruments,
            quotes,
            stats,
        }
    }

    pub fn place_index(&self, venue: Venue, market: Market) -> Option<usize> {
        self.places
            .iter()
            .position(|p| p.venue == venue && p.market == market)
    }

    pub fn instrument_index(&self, name: &str) -> Option<usize> {
        self.instruments.iter().position(|i| i == name)
    }

    /// Invalidate a place's quote (book went stale or resyncing).
    pub fn invalidate(&mut self, instrument: usize, place: usize) {
        self.quotes[instrument][place].valid = false;
    }

    /// Record a best bid/ask and re-evaluate the instrument. `live` = the book is in sync.
    pub fn on_quote(&mut self, instrument: usize, place: usize, bid: Px, ask: Px, live: bool) {
        let valid = live && !bid.is_zero() && !ask.is_zero() && bid < ask;
        self.quotes[instrument][place] = Quote { bid, ask, valid };
        self.evaluate(instrument);
    }

    fn evaluate(&mut self, instrument: usize) {
        let q = &self.quotes[instrument];
        let mut best: Option<(usize, usize, f64)> = None;
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
                let buy = qa.ask.to_f64();
                let sell = qb.bid.to_f64();
                let gross_bps = (sell - buy) / buy * 10_000.0;
                let net = gross_bps - self.places[a].taker_fee_bps - self.places[b].taker_fee_bps;
                if best.is_none_or(|(_, _, n)| net > n) {
                    best = Some((a, b, net));
                }
            }
        }
        let st = &mut self.stats[instrument];
        if valid < 2 {
            st.current = None;
            return;
        }
        let Some((a, b, net)) = best else { return };
        st.evaluations += 1;
        if net > 0.0 {
            st.positive += 1;
        }
        let opp = Opportunity {
            instrument: self.instruments[instrument].clone(),
            buy: self.places[a].label(),
            sell: self.places[b].label(),
            buy_px: q[a].ask.to_f64(),
            sell_px: q[b].bid.to_f64(),
            net_bps: net,
        };
        if st.best_ever.as_ref().is_none_or(|o| net > o.net_bps) {
            st.best_ever = Some(opp.clone());
        }
        st.current = Some(opp);
    }

    pub fn stats(&self) -> &[InstrumentStats] {
        &self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(s: &str) -> Px {
        Px::parse(s.as_bytes()).unwrap()
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
        let places = vec![
            Place {
                venue: Venue::Mexc,
                market: Market::Spot,
                taker_fee_bps: 5.0,
            },
            Place {
                venue: Venue::Gateio,
                market: Market::Spot,
                taker_fee_bps: 10.0,
            },
        ];
        let mut m = ArbMonitor::new(places, vec!["BTC/USDT".into()]);
        // One place only: nothing to compare.
        m.on_quote(0, 0, px("100"), px("100.1"), true);
        assert_eq!(m.stats()[0].evaluations, 0);
        // Gate bids 100.5 while MEXC asks 100.1: gross ~39.96 bp, net ~24.96 bp.
        m.on_quote(0, 1, px("100.5"), px("100.6"), true);
        let s = &m.stats()[0];
        assert_eq!((s.evaluations, s.positive), (1, 1));
        let o = s.current.as_ref().unwrap();
        assert_eq!(
            (o.buy.as_str(), o.sell.as_str()),
            ("mexc.spot", "gateio.spot")
        );
        assert!((o.net_bps - 24.96).abs() < 0.01, "{}", o.net_bps);
        // Gate moves in line: gross 0, net -15 bp → not positive.
        m.on_quote(0, 1, px("100.0"), px("100.1"), true);
        let s = &m.stats()[0];
        assert_eq!((s.evaluations, s.positive), (2, 1));
        assert!(s.current.as_ref().unwrap().net_bps < 0.0);
        assert!(s.best_ever.as_ref().unwrap().net_bps > 24.0);
        // A resyncing book's quote is ignored.
        m.on_quote(0, 1, px("200"), px("201"), false);
        assert!(m.stats()[0].current.is_none());
        assert_eq!(m.stats()[0].evaluations, 2);
    }
}
