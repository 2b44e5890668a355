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
/// runs; books, trades, best bid/ask, tickers and 1-minute candles (the venue serves MEXC mini
/// tickers and every venue's klines since issue 17), and with `private` every private kind.
pub fn loopback_config(v: &VenueHandle, private: bool) -> Config {
    let feed = |venue: &str,
                market: &str,
                symbols: [&str; 2],
                ws_url: String,
                rest_url: String,
                book_channel: GateBookChannel,
                depth: u32,
                interval: &str| {
        let mut channels: Vec<String> = ["orderbook", "trades", "bbo", "ticker", "kline.1m"]
            .map(String::from)
            .into();
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
        publish: None,
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

/// What a strategy holds of one private feed, built from its events alone (issue 17): the
/// demo's strategy keeps one per private feed and compares it with the venue account at the
/// end ([`private_differences`]).
#[derive(Debug, Clone, Default)]
pub struct PrivateHeld {
    /// Order id → (final, filled).
    pub orders: std::collections::HashMap<String, (bool, Qty)>,
    /// Trade id → times delivered.
    pub fills: std::collections::HashMap<String, u32>,
    /// Asset (upper case) → total.
    pub balances: std::collections::HashMap<String, cexfeed::types::Dec>,
    /// Contract → signed size (contracts).
    pub positions: std::collections::HashMap<String, Qty>,
    /// Wall clock (ms) when the start-up state had been delivered (`PrivateSnapshot`); 0 = not
    /// yet.
    pub snapshot_wall_ms: i64,
}

impl PrivateHeld {
    /// Apply one private event or status (`name` = the event's symbol name).
    pub fn apply(&mut self, ev: &cexfeed::ring::Event, name: &str) {
        use cexfeed::ring::{Body, StatusKind, BAL_TOTAL};
        match ev.body {
            Body::Order {
                order_id,
                status,
                filled,
                ..
            } => {
                self.orders
                    .insert(order_id.as_str().to_string(), (status.is_final(), filled));
            }
            Body::Fill { trade_id, .. } => {
                *self.fills.entry(trade_id.as_str().to_string()).or_default() += 1;
            }
            Body::Balance {
                asset,
                present,
                total,
                available,
                locked,
                ..
            } => {
                let t = if present & BAL_TOTAL != 0 {
                    Some(total.get())
                } else {
                    available.get().checked_add(locked.get())
                };
                if let Some(t) = t {
                    self.balances.insert(asset.as_str().to_ascii_uppercase(), t);
                }
            }
            Body::Position { size, .. } => {
                self.positions.insert(name.to_string(), size);
            }
            Body::Status {
                kind: StatusKind::PrivateSnapshot,
                ..
            } if self.snapshot_wall_ms == 0 => {
                self.snapshot_wall_ms = cexfeed::types::wall_ms();
            }
            _ => {}
        }
    }
}

/// How `held` differs from the venue account of `venue`/`market` (empty = equal): open orders
/// and their filled quantity, fills (none twice, none the venue lacks, none of the venue's
/// since the start-up state missing), balances' totals, positions' sizes. The venue's values
/// are carried over as text and parsed by the client's parsers.
pub fn private_differences(
    v: &VenueHandle,
    venue_id: Venue,
    market: Market,
    held: &PrivateHeld,
) -> Vec<String> {
    let vid = match venue_id {
        Venue::Mexc => venue::VenueId::Mexc,
        Venue::Gateio => venue::VenueId::Gateio,
    };
    let vm = match market {
        Market::Spot => venue::Market::Spot,
        Market::Futures => venue::Market::Futures,
    };
    let Some(view) = v.account_view(vid, vm) else {
        return vec!["the venue has no such account".into()];
    };
    let mut out = Vec::new();
    if held.snapshot_wall_ms == 0 {
        out.push("start-up state not delivered".into());
    }
    let open: std::collections::BTreeMap<&str, Qty> = held
        .orders
        .iter()
        .filter(|(_, (fin, _))| !fin)
        .map(|(id, (_, f))| (id.as_str(), *f))
        .collect();
    let want: std::collections::BTreeMap<&str, Qty> = view
        .open_orders
        .iter()
        .map(|(id, f)| (id.as_str(), Qty::parse(f.as_bytes()).unwrap_or(Qty(-1))))
        .collect();
    if open != want {
        out.push(format!("open orders: held {open:?}, venue {want:?}"));
    }
    for (id, n) in &held.fills {
        if *n != 1 {
            out.push(format!("fill {id} delivered {n} times"));
        }
        if !view.fills.iter().any(|(t, _)| t == id) {
            out.push(format!("fill {id} unknown to the venue"));
        }
    }
    let missed = view
        .fills
        .iter()
        .filter(|(id, t)| *t >= held.snapshot_wall_ms && !held.fills.contains_key(id))
        .count();
    if missed > 0 {
        out.push(format!("{missed} fills missed"));
    }
    let balances: std::collections::HashMap<String, cexfeed::types::Dec> = view
        .balances
        .iter()
        .filter_map(|(c, t)| Some((c.to_ascii_uppercase(), t.parse().ok()?)))
        .collect();
    if balances != held.balances {
        out.push(format!(
            "balances: held {:?}, venue {balances:?}",
            held.balances
        ));
    }
    let positions: std::collections::HashMap<String, Qty> = view
        .positions
        .iter()
        .filter_map(|(c, s)| Some((c.clone(), Qty::from_int(s.parse().ok()?))))
        .collect();
    if positions != held.positions {
        out.push(format!(
            "positions: held {:?}, venue {positions:?}",
            held.positions
        ));
    }
    out.truncate(8);
    out
}
