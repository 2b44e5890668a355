//! The loopback venue as a configuration: what the demo (`cexfeed` with no arguments) and the
//! end-to-end tests run. The same [`Config`] a user writes for the real exchanges, with the
//! endpoints pointed at the venue, its CA trusted and its demo keys handed over in code; it goes
//! through the same [`Config::resolve`].

use cexfeed::config::{Config, FeedConfig, GateBookChannel, Runtime};
use cexfeed::event::Level;
use cexfeed::secret::Credentials;
use cexfeed::types::{Market, Px, Qty, Venue};
use cexfeed_venue::{self as venue, VenueHandle};

/// BTC and ETH on MEXC spot (aggre depth + REST, 10 ms), Gate.io spot (`obu` 50, 20 ms) and
/// Gate.io USDT futures (`order_book_update` + REST, level 100, 100 ms), so every sync rule
/// runs; books, trades and best bid/ask, and with `private` every private kind.
pub fn loopback_config(v: &VenueHandle, private: bool) -> Config {
    let feed = |venue: &str,
                market: &str,
                symbols: [&str; 2],
                ws_url: String,
                rest_url: String,
                book_channel: GateBookChannel,
                depth: u32,
                interval: &str| {
        let mut channels: Vec<String> = ["orderbook", "trades", "bbo"].map(String::from).into();
        if private {
            channels.extend(["orders", "fills", "balances"].map(String::from));
            if market == "futures" {
                channels.push("positions".into());
            }
        }
        FeedConfig {
            venue: venue.into(),
            market: market.into(),
            symbols: symbols.map(String::from).into(),
            channels,
            ws_url: Some(ws_url),
            rest_url: Some(rest_url),
            ca_file: v.ca_path().map(|p| p.to_path_buf()),
            core: None,
            book_channel,
            depth: Some(depth),
            interval: Some(interval.into()),
            api_key_env: None,
            api_secret_env: None,
            user_id: None,
            listen_key_keepalive_s: None,
            credentials: None,
        }
    };
    let mut mexc = feed(
        "mexc",
        "spot",
        ["BTCUSDT", "ETHUSDT"],
        v.mexc_ws_url(),
        v.mexc_rest_url(),
        GateBookChannel::Obu,
        1000,
        "10ms",
    );
    let mut spot = feed(
        "gateio",
        "spot",
        ["BTC_USDT", "ETH_USDT"],
        v.gate_spot_ws_url(),
        v.gate_rest_url(),
        GateBookChannel::Obu,
        50,
        "20ms",
    );
    let mut fut = feed(
        "gateio",
        "futures",
        ["BTC_USDT", "ETH_USDT"],
        v.gate_futures_ws_url(),
        v.gate_rest_url(),
        GateBookChannel::OrderBookUpdate,
        100,
        "100ms",
    );
    if private {
        mexc.credentials = Some(Credentials::new(
            venue::MEXC_API_KEY,
            venue::MEXC_API_SECRET,
        ));
        let gate = Credentials::new(venue::GATE_API_KEY, venue::GATE_API_SECRET);
        spot.credentials = Some(gate.clone());
        fut.credentials = Some(gate);
        fut.user_id = Some(venue::GATE_FUTURES_USER_ID);
    }
    Config {
        duration_s: 0,
        report: None,
        runtime: Runtime::default(),
        feeds: vec![mexc, spot, fut],
        record: None,
    }
}

/// The venue's true book for a client venue, market and symbol: `(version, bids, asks)`, best
/// first, in the client's types. The venue has numbers of its own; its levels are carried over
/// as decimal text and parsed by the client's parser, so the two implementations check each
/// other. `None` for a book the venue does not have or text the client refuses.
pub fn venue_book(
    v: &VenueHandle,
    venue_id: Venue,
    market: Market,
    symbol: &str,
) -> Option<(u64, Vec<Level>, Vec<Level>)> {
    let vid = match venue_id {
        Venue::Mexc => venue::VenueId::Mexc,
        Venue::Gateio => venue::VenueId::Gateio,
    };
    let vm = match market {
        Market::Spot => venue::Market::Spot,
        Market::Futures => venue::Market::Futures,
    };
    let (seq, bids, asks) = v.true_book(vid, vm, symbol)?;
    let conv = |side: &[venue::Level]| -> Option<Vec<Level>> {
        side.iter()
            .map(|l| {
                Some(Level::new(
                    Px::parse(l.px.to_string().as_bytes()).ok()?,
                    Qty::parse(l.qty.to_string().as_bytes()).ok()?,
                ))
            })
            .collect()
    };
    Some((seq, conv(&bids)?, conv(&asks)?))
}
