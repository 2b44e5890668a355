//! Throughput of the venue (run on purpose, release build recommended):
//! `cargo test --release --test venue -- rate:: --ignored --nocapture`.
//! Per-change pushes on MEXC (protobuf) and Gate.io (JSON), counted by blocking readers.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::support::venue::*;
use cexfeed_venue::{PushMode, Venue, VenueConfig};
use tungstenite::Message;

#[test]
#[ignore = "load test: run on purpose in release"]
fn venue_sustains_at_least_200k_pushes_per_second() {
    let v = Venue::start(VenueConfig {
        rate_per_sec: 110_000,
        push_mode: PushMode::PerChange,
        mexc_symbols: vec!["BTCUSDT".into()],
        gate_spot_symbols: vec!["BTC_USDT".into()],
        gate_futures_symbols: vec![],
        private_period: Duration::ZERO,
        log_capacity: 1 << 18,
        ..VenueConfig::default()
    })
    .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for which in 0..2 {
        let (stop, count, addr) = (stop.clone(), count.clone(), v.addr());
        threads.push(std::thread::spawn(move || {
            let mut ws = if which == 0 {
                let mut ws = ws_connect(addr, "/ws", &[]);
                send_text(&mut ws, r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"]}"#);
                ws
            } else {
                let mut ws = ws_connect(addr, "/ws/v4/", &[]);
                send_text(&mut ws, r#"{"time":1,"id":1,"channel":"spot.order_book_update","event":"subscribe","payload":["BTC_USDT","20ms"]}"#);
                ws
            };
            while !stop.load(Ordering::Relaxed) {
                match ws.read() {
                    Ok(Message::Binary(_)) | Ok(Message::Text(_)) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(_)) => {}
                    Err(e) => panic!("{e}"),
                }
            }
        }));
    }
    std::thread::sleep(Duration::from_millis(500));
    let c0 = count.load(Ordering::Relaxed);
    let p0 = v.stats().pushes;
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(3));
    let el = t.elapsed().as_secs_f64();
    let recv = (count.load(Ordering::Relaxed) - c0) as f64 / el;
    let sent = (v.stats().pushes - p0) as f64 / el;
    stop.store(true, Ordering::Relaxed);
    println!("venue pushes/s: sent {sent:.0}, received {recv:.0}");
    for t in threads {
        let _ = t.join();
    }
    v.stop();
    assert!(sent >= 200_000.0, "sent {sent:.0} pushes/s");
}

#[test]
#[ignore = "load test: run on purpose in release"]
fn venue_push_rate_over_tls() {
    use rustls::pki_types::{CertificateDer, ServerName};
    let v = Venue::start(VenueConfig {
        tls: true,
        rate_per_sec: 250_000,
        push_mode: PushMode::PerChange,
        mexc_symbols: vec!["BTCUSDT".into()],
        gate_spot_symbols: vec![],
        gate_futures_symbols: vec![],
        private_period: Duration::ZERO,
        log_capacity: 1 << 18,
        ..VenueConfig::default()
    })
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(v.ca_der().unwrap().to_vec()))
        .unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn =
        rustls::ClientConnection::new(Arc::new(cfg), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let tcp = std::net::TcpStream::connect(v.addr()).unwrap();
    let s = rustls::StreamOwned::new(conn, tcp);
    let (mut ws, _) =
        tungstenite::client(format!("wss://localhost:{}/ws", v.addr().port()), s).unwrap();
    ws.send(Message::Text(
        r#"{"method":"SUBSCRIPTION","params":["spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"]}"#
            .into(),
    ))
    .unwrap();
    let mut n = 0u64;
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(3) {
        if let Ok(Message::Binary(_)) = ws.read() {
            n += 1;
        }
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    println!("venue pushes/s over TLS, one connection: {rate:.0}");
    v.stop();
}
