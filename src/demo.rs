//! Feed setups pointing at the in-process loopback venue: what the demo (`cexfeed` with no
//! arguments) and the end-to-end tests run. The same feed code as against the real exchanges;
//! only the URLs, the extra CA and the demo credentials differ.

use crate::config::{Runtime, WaitMode};
use crate::feed::FeedSetup;
use crate::secret::{Credentials, Secret};
use crate::types::{Market, Venue};
use crate::venue::{self, VenueHandle};
use std::time::Duration;

/// Which books each feed uses in the demo: MEXC aggre depth + REST, Gate.io spot `obu`,
/// Gate.io futures `order_book_update` + REST, so every sync rule runs.
pub fn loopback_feeds(
    v: &VenueHandle,
    runtime: &Runtime,
    wait: WaitMode,
    private: bool,
    idle_timeout: Duration,
) -> Vec<FeedSetup> {
    let ca = v.ca_pem().map(|p| p.as_bytes().to_vec());
    let base = |venue, market, ws: String, rest: String| FeedSetup {
        venue,
        market,
        private_ws_url: ws.clone(),
        ws_url: ws,
        rest_url: rest,
        extra_ca_pem: ca.clone(),
        credentials: None,
        user_id: None,
        gate_obu: false,
        depth: 100,
        interval: "100ms".into(),
        core: None,
        wait,
        symbols: Vec::new(),
        book_levels: runtime.book_depth,
        sync_buffer: runtime.sync_buffer,
        idle_timeout,
        max_message_bytes: runtime.max_message_bytes,
        so_rcvbuf: runtime.so_rcvbuf as u32,
        ping_interval: Duration::from_secs(10),
        rotate_after: Duration::from_secs(24 * 3600),
        listen_key_keepalive: Duration::from_secs(30 * 60),
    };
    let mut mexc = base(
        Venue::Mexc,
        Market::Spot,
        v.mexc_ws_url(),
        v.mexc_rest_url(),
    );
    mexc.interval = "10ms".into();
    mexc.depth = 1000;
    mexc.ping_interval = Duration::from_secs(20);
    mexc.symbols = ["BTCUSDT", "ETHUSDT"]
        .iter()
        .map(|s| (Default::default(), s.to_string()))
        .collect();
    let mut spot = base(
        Venue::Gateio,
        Market::Spot,
        v.gate_spot_ws_url(),
        v.gate_rest_url(),
    );
    spot.gate_obu = true;
    spot.depth = 50;
    spot.interval = "20ms".into();
    spot.symbols = ["BTC_USDT", "ETH_USDT"]
        .iter()
        .map(|s| (Default::default(), s.to_string()))
        .collect();
    let mut fut = base(
        Venue::Gateio,
        Market::Futures,
        v.gate_futures_ws_url(),
        v.gate_rest_url(),
    );
    fut.symbols = spot.symbols.clone();
    if private {
        mexc.credentials = Some(Credentials {
            api_key: Secret::new(venue::MEXC_API_KEY),
            api_secret: Secret::new(venue::MEXC_API_SECRET),
        });
        let gate = Credentials {
            api_key: Secret::new(venue::GATE_API_KEY),
            api_secret: Secret::new(venue::GATE_API_SECRET),
        };
        spot.credentials = Some(gate.clone());
        fut.credentials = Some(gate);
        fut.user_id = Some(venue::GATE_FUTURES_USER_ID);
    }
    vec![mexc, spot, fut]
}
