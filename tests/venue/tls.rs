//! The venue over TLS: a rustls client trusting only the venue's generated CA reaches the
//! WebSocket and REST services by IP (SAN 127.0.0.1) and by name (SAN localhost).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use cexfeed_venue::{Venue, VenueConfig};
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

/// The crate's own REST client stack (ureq 3 over rustls) against the venue: keep-alive GETs and
/// a signed POST, trusting the venue CA.
#[test]
fn ureq_with_the_venue_ca_gets_snapshots_and_creates_a_listen_key() {
    use hmac::{Hmac, Mac};
    use ureq::tls::{Certificate, RootCerts, TlsConfig};
    let v = Venue::start(VenueConfig {
        tls: true,
        ..VenueConfig::default()
    })
    .unwrap();
    let cert = Certificate::from_der(v.ca_der().unwrap()).to_owned();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&[cert]))
                .build(),
        )
        .http_status_as_error(false)
        .build()
        .into();
    for path in [
        "/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true",
        "/api/v4/futures/usdt/order_book?contract=BTC_USDT&with_id=true",
        "/api/v3/depth?symbol=ETHUSDT",
    ] {
        let url = format!("{}{path}", v.gate_rest_url());
        let mut r = agent
            .get(&url)
            .header("X-Gate-Size-Decimal", "1")
            .call()
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        let body: serde_json::Value =
            serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
        assert!(body.get("bids").is_some(), "{body}");
    }
    let now = cexfeed::types::wall_ms();
    let q = format!("recvWindow=5000&timestamp={now}");
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(cexfeed_venue::MEXC_API_SECRET.as_bytes()).unwrap();
    mac.update(q.as_bytes());
    let url = format!(
        "{}/api/v3/userDataStream?{q}&signature={}",
        v.mexc_rest_url(),
        hex::encode(mac.finalize().into_bytes())
    );
    let mut r = agent
        .post(&url)
        .header("X-MEXC-APIKEY", cexfeed_venue::MEXC_API_KEY)
        .header("Content-Type", "application/json")
        .send(&b""[..])
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value =
        serde_json::from_slice(&r.body_mut().read_to_vec().unwrap()).unwrap();
    assert_eq!(body["listenKey"].as_str().unwrap().len(), 64);
    v.stop();
}
