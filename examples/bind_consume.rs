//! Bind channels by name and consume them from a strategy thread.
//! `cargo run --release --example bind_consume` (starts its own loopback venue; no network).
use cexfeed::config::Config;
use cexfeed::engine::Engine;
use cexfeed::ring::Body;
use cexfeed_venue::{Venue, VenueConfig};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let venue = Venue::start(VenueConfig::default())?; // in-process loopback exchange (TLS)
                                                       // The same configuration as for the real exchanges, with the endpoints pointed at the venue.
    let cfg = Config::from_toml(
        &format!(
            r#"
            [runtime]
            wait = "block"        # share cores with the rest of the machine
            ring_capacity = 4096
            top_n = 5

            [[feed]]
            venue = "gateio"
            market = "spot"
            symbols = ["BTC_USDT"]
            ws_url = "{spot_ws}"
            rest_url = "{rest}"
            ca_file = "{ca}"

            [[feed]]
            venue = "gateio"
            market = "futures"
            symbols = ["BTC_USDT"]
            ws_url = "{fut_ws}"
            rest_url = "{rest}"
            ca_file = "{ca}"
            "#,
            spot_ws = venue.gate_spot_ws_url(),
            fut_ws = venue.gate_futures_ws_url(),
            rest = venue.gate_rest_url(),
            ca = venue.ca_path().expect("TLS venue").display(),
        ),
        "example",
    )?;
    let mut engine = Engine::new(cfg.resolve()?.engine)?;
    let mut rx = engine.consumer()?;
    engine.bind("gateio.spot.orderbook.BTC_USDT", rx.id())?;
    engine.bind("gateio.futures.trades.BTC_USDT", rx.id())?;
    if let Err(e) = engine.bind("gateio.spot.orderbook.btc-usdt", rx.id()) {
        println!("refused at once: {e}"); // says which part is wrong and what would be right
    }
    engine.start()?;
    let strategy = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(3);
        let (mut books, mut trades) = (0, 0);
        while Instant::now() < end {
            // Spins briefly, then parks until a feed thread pushes (or 100 ms pass).
            let Some(ev) = rx.recv_timeout(Duration::from_millis(100)) else {
                continue;
            };
            match ev.body {
                Body::Book { .. } => {
                    let top = ev.book().expect("a Book event carries its slot");
                    if books % 50 == 0 && !top.bids().is_empty() && !top.asks().is_empty() {
                        println!(
                            "book {:?} seq {}: {} / {}",
                            ev.header.state,
                            top.seq,
                            top.bids()[0].px,
                            top.asks()[0].px
                        );
                    }
                    books += 1;
                }
                Body::Trade { px, qty, side, .. } => {
                    trades += 1;
                    if trades % 100 == 1 {
                        println!("trade {side:?} {qty} @ {px}");
                    }
                }
                _ => {}
            }
        }
        (books, trades)
    });
    let (books, trades) = strategy.join().unwrap();
    engine.stop();
    venue.stop();
    println!("{books} book updates, {trades} trades");
    Ok(())
}
