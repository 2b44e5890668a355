//! The venue over TLS: a rustls client trusting only the venue's generated CA reaches the
//! WebSocket and REST services by IP (SAN 127.0.0.1) and by name (SAN localhost).

mod venue_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use cexfeed::venue::{Venue, VenueConfig};
use rustls::pki_types::{CertificateDer, ServerName};
use tungstenite::Message;

fn client(
    ca: &[u8],
    name: &str,
    addr: std::net::SocketAddr,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ca.to_vec())).unwrap();
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let conn = rustls::ClientConnection::new(
        Arc::new(cfg),
        ServerName::try_from(name.to_string()).unwrap(),
    )
    .unwrap();
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    rustls::StreamOwned::new(conn, tcp)
}

#[test]
fn tls_websocket_and_rest_with_the_generated_ca() {
    let v = Venue::start(VenueConfig {
        tls: true,
        ..VenueConfig::default()
    })
    .unwrap();
    assert!(v.gate_spot_ws_url().starts_with("wss://"));
    let pem = std::fs::read_to_string(v.ca_path().unwrap()).unwrap();
    assert_eq!(pem, v.ca_pem().unwrap());
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let ca = v.ca_der().unwrap().to_vec();
    let s = client(&ca, "127.0.0.1", v.addr());
    let (mut ws, _) = tungstenite::client(format!("wss://127.0.0.1:{}/ws/v4/", v.addr().port()), s)
        .expect("wss handshake");
    ws.send(Message::Text(
        r#"{"time":1,"id":1,"channel":"spot.book_ticker","event":"subscribe","payload":["BTC_USDT"]}"#.into(),
    ))
    .unwrap();
    let mut got_update = false;
    for _ in 0..50 {
        if let Message::Text(t) = ws.read().unwrap() {
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            if v["event"] == "update" {
                got_update = true;
                break;
            }
        }
    }
    assert!(got_update);
    let mut s = client(&ca, "localhost", v.addr());
    s.write_all(b"GET /api/v3/depth?symbol=BTCUSDT&limit=5 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"lastUpdateId\":"));
    v.stop();
}
