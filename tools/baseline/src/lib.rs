//! The baseline for the latency lab (`cexfeed-bench`): a market-data client built the way most
//! Rust clients are built, so cexfeed can be compared with it on the same venue in the same run.
//!
//! - tokio (multi-thread runtime, as `#[tokio::main]` would build it), tokio-tungstenite over
//!   tokio-rustls (rustls 0.23, ring);
//! - Gate.io frames parsed with serde_json into typed structs (prices and sizes as `String`,
//!   then `rust_decimal::Decimal`), MEXC protobuf pushes decoded with prost into the generated
//!   messages (the venue's `pb` module: prost derives written from MEXC's `.proto`);
//! - a book of two `BTreeMap<Decimal, Decimal>`;
//! - the top of book sent as an owned update over a bounded `tokio::sync::mpsc` channel to a
//!   consumer task, which stamps the time it received it.
//!
//! What it leaves out, to be no slower than it has to be: the REST snapshot and sequence
//! bridging (deltas are applied to the map as they come; the per-push work is the same), pings
//! (a bench cell lasts seconds) and reconnects.
//!
//! It lives beside the library, never in it: the library and the `cexfeed` binary never link
//! tokio (`cargo tree -e normal -p cexfeed`).

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use rust_decimal::Decimal;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

/// Which stream the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// MEXC spot `spot@public.aggre.depth.v3.api.pb@10ms@<SYMBOL>` (protobuf).
    MexcAggreDepth,
    /// Gate.io spot `spot.order_book_update` (levels `[["p","a"]]`).
    GateSpotOrderBookUpdate,
    /// Gate.io USDT futures `futures.order_book_update` (levels `[{"p":"..","s":..}]`).
    GateFuturesOrderBookUpdate,
}

/// What to connect to.
#[derive(Debug, Clone)]
pub struct Spec {
    /// `ws://` or `wss://` URL.
    pub url: String,
    /// DER of the CA that signs the venue's certificate (for `wss://`).
    pub ca_der: Option<Vec<u8>>,
    /// Stream kind.
    pub stream: Stream,
    /// The text frame that subscribes the stream.
    pub subscribe: String,
    /// Measurements to keep (pre-allocated).
    pub capacity: usize,
}

/// One push as the consumer task saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The push's last book version (MEXC `toVersion`, Gate `u`).
    pub seq: u64,
    /// CLOCK_MONOTONIC ns when the reader task had the message.
    pub recv_ns: u64,
    /// CLOCK_MONOTONIC ns when the consumer task received the update.
    pub consumed_ns: u64,
}

/// What the consumer gets per push: the top of the book, owned.
#[derive(Debug, Clone)]
pub struct TopUpdate {
    /// The push's last version.
    pub seq: u64,
    /// When the reader had the frame.
    pub recv_ns: u64,
    /// Best bids, best first.
    pub bids: Vec<(Decimal, Decimal)>,
    /// Best asks, best first.
    pub asks: Vec<(Decimal, Decimal)>,
}

/// Levels handed to the consumer per update.
pub const TOP_N: usize = 10;

/// Live counters, readable while the client runs.
#[derive(Debug, Default)]
pub struct Counters {
    /// Book pushes decoded and applied.
    pub pushes: AtomicU64,
    /// Frames that did not decode as a book push (acks, other control frames).
    pub other: AtomicU64,
    /// Version of the latest book push decoded.
    pub last_seq: AtomicU64,
    /// Set once the stream is subscribed.
    pub connected: AtomicBool,
}

/// CLOCK_MONOTONIC in ns (the venue stamps its send instants with the same clock).
pub fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The book: price → size per side.
#[derive(Debug, Default)]
pub struct Book {
    /// Bids (best = last).
    pub bids: BTreeMap<Decimal, Decimal>,
    /// Asks (best = first).
    pub asks: BTreeMap<Decimal, Decimal>,
}

impl Book {
    fn set(side: &mut BTreeMap<Decimal, Decimal>, px: Decimal, qty: Decimal) {
        if qty.is_zero() {
            side.remove(&px);
        } else {
            side.insert(px, qty);
        }
    }
    fn top(&self) -> TopUpdate {
        TopUpdate {
            seq: 0,
            recv_ns: 0,
            bids: self
                .bids
                .iter()
                .rev()
                .take(TOP_N)
                .map(|(p, q)| (*p, *q))
                .collect(),
            asks: self
                .asks
                .iter()
                .take(TOP_N)
                .map(|(p, q)| (*p, *q))
                .collect(),
        }
    }
}

#[derive(Deserialize)]
struct GateMsg<L> {
    #[serde(default)]
    event: Option<String>,
    result: Option<GateDiff<L>>,
}

#[derive(Deserialize)]
struct GateDiff<L> {
    #[serde(default)]
    full: bool,
    u: u64,
    #[serde(default = "Vec::new")]
    b: Vec<L>,
    #[serde(default = "Vec::new")]
    a: Vec<L>,
}

#[derive(Deserialize)]
struct FutLevel {
    p: String,
    s: FutSize,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum FutSize {
    Int(i64),
    Text(String),
    Float(f64),
}

impl FutSize {
    fn dec(&self) -> Option<Decimal> {
        match self {
            FutSize::Int(i) => Some(Decimal::from(*i)),
            FutSize::Text(s) => Decimal::from_str(s).ok(),
            FutSize::Float(f) => Decimal::try_from(*f).ok(),
        }
    }
}

fn dec(s: &str) -> Option<Decimal> {
    Decimal::from_str(s).ok()
}

/// Decode one frame and apply it; the pushed version when it was a book push.
fn apply(stream: Stream, book: &mut Book, msg: &Message) -> Option<u64> {
    match (stream, msg) {
        (Stream::GateSpotOrderBookUpdate, Message::Text(t)) => {
            let m: GateMsg<[String; 2]> = serde_json::from_str(t.as_str()).ok()?;
            if m.event.as_deref() != Some("update") {
                return None;
            }
            let r = m.result?;
            if r.full {
                *book = Book::default();
            }
            for l in &r.b {
                Book::set(&mut book.bids, dec(&l[0])?, dec(&l[1])?);
            }
            for l in &r.a {
                Book::set(&mut book.asks, dec(&l[0])?, dec(&l[1])?);
            }
            Some(r.u)
        }
        (Stream::GateFuturesOrderBookUpdate, Message::Text(t)) => {
            let m: GateMsg<FutLevel> = serde_json::from_str(t.as_str()).ok()?;
            if m.event.as_deref() != Some("update") {
                return None;
            }
            let r = m.result?;
            if r.full {
                *book = Book::default();
            }
            for l in &r.b {
                Book::set(&mut book.bids, dec(&l.p)?, l.s.dec()?);
            }
            for l in &r.a {
                Book::set(&mut book.asks, dec(&l.p)?, l.s.dec()?);
            }
            Some(r.u)
        }
        (Stream::MexcAggreDepth, Message::Binary(b)) => {
            use cexfeed_venue::pb::{Body, PushDataV3ApiWrapper};
            let w = <PushDataV3ApiWrapper as prost::Message>::decode(&b[..]).ok()?;
            let Some(Body::PublicAggreDepths(d)) = w.body else {
                return None;
            };
            for l in &d.bids {
                Book::set(&mut book.bids, dec(&l.price)?, dec(&l.quantity)?);
            }
            for l in &d.asks {
                Book::set(&mut book.asks, dec(&l.price)?, dec(&l.quantity)?);
            }
            d.to_version.parse().ok()
        }
        _ => None,
    }
}

/// Start the client on a runtime of its own (on the calling thread; returns when `stop` is set
/// or the connection ends) and hand back what the consumer task measured.
pub fn run(
    spec: Spec,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Result<Vec<Sample>, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(client(spec, stop, counters))
}

async fn client(
    spec: Spec,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
) -> Result<Vec<Sample>, String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<TopUpdate>(4096);
    let cap = spec.capacity;
    let consumer = tokio::spawn(async move {
        let mut out = Vec::with_capacity(cap);
        while let Some(u) = rx.recv().await {
            let t = now_ns();
            if out.len() < cap {
                out.push(Sample {
                    seq: u.seq,
                    recv_ns: u.recv_ns,
                    consumed_ns: t,
                });
            }
            // What a strategy would look at.
            std::hint::black_box((u.bids.first(), u.asks.first()));
        }
        out
    });

    let rest = spec
        .url
        .split_once("://")
        .map(|x| x.1)
        .ok_or("url without scheme")?;
    let hostport = rest.split('/').next().unwrap_or(rest);
    let tcp = tokio::net::TcpStream::connect(hostport)
        .await
        .map_err(|e| format!("connect {hostport}: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let stream: Box<dyn AsyncStream> = if spec.url.starts_with("wss://") {
        let der = spec.ca_der.as_ref().ok_or("wss:// without a CA")?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls_pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = hostport.rsplit_once(':').map(|x| x.0).unwrap_or(hostport);
        let name =
            rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("tls: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (mut ws, _) = tokio_tungstenite::client_async(spec.url.as_str(), stream)
        .await
        .map_err(|e| format!("upgrade: {e}"))?;
    ws.send(Message::Text(spec.subscribe.clone().into()))
        .await
        .map_err(|e| e.to_string())?;
    counters.connected.store(true, Ordering::Release);

    let mut book = Book::default();
    loop {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let msg = match tokio::time::timeout(Duration::from_millis(100), ws.next()).await {
            Err(_) => continue,
            Ok(None) => break,
            Ok(Some(Err(e))) => return Err(format!("read: {e}")),
            Ok(Some(Ok(m))) => m,
        };
        let recv_ns = now_ns();
        match apply(spec.stream, &mut book, &msg) {
            Some(seq) => {
                counters.pushes.fetch_add(1, Ordering::Relaxed);
                counters.last_seq.store(seq, Ordering::Relaxed);
                let mut top = book.top();
                top.seq = seq;
                top.recv_ns = recv_ns;
                if tx.send(top).await.is_err() {
                    break;
                }
            }
            None => {
                counters.other.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    drop(tx);
    let _ = ws.close(None).await;
    consumer.await.map_err(|e| e.to_string())
}

trait AsyncStream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> AsyncStream for T {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_spot_push_is_applied_and_zero_removes() {
        let mut book = Book::default();
        let f = r#"{"time":1,"time_ms":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"e":"depthUpdate","E":1,"s":"BTC_USDT","U":5,"u":7,"b":[["100.5","2"]],"a":[["101","1"],["102","3"]]}}"#;
        let seq = apply(
            Stream::GateSpotOrderBookUpdate,
            &mut book,
            &Message::Text(f.into()),
        );
        assert_eq!(seq, Some(7));
        assert_eq!(book.asks.len(), 2);
        let f2 = r#"{"time":1,"channel":"spot.order_book_update","event":"update","result":{"U":8,"u":8,"b":[],"a":[["101","0"]]}}"#;
        assert_eq!(
            apply(
                Stream::GateSpotOrderBookUpdate,
                &mut book,
                &Message::Text(f2.into())
            ),
            Some(8)
        );
        assert_eq!(book.asks.len(), 1);
        let top = book.top();
        assert_eq!(top.bids[0].0, Decimal::from_str("100.5").unwrap());
        assert_eq!(top.asks[0].0, Decimal::from(102));
    }

    #[test]
    fn futures_levels_take_integer_or_text_sizes_and_acks_are_not_pushes() {
        let mut book = Book::default();
        let f = r#"{"channel":"futures.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":1,"u":2,"b":[{"p":"10","s":3}],"a":[{"p":"11","s":"4"}],"l":"20"}}"#;
        assert_eq!(
            apply(
                Stream::GateFuturesOrderBookUpdate,
                &mut book,
                &Message::Text(f.into())
            ),
            Some(2)
        );
        assert_eq!(book.asks[&Decimal::from(11)], Decimal::from(4));
        let ack = r#"{"time":1,"channel":"futures.order_book_update","event":"subscribe","error":null,"result":{"status":"success"}}"#;
        assert_eq!(
            apply(
                Stream::GateFuturesOrderBookUpdate,
                &mut book,
                &Message::Text(ack.into())
            ),
            None
        );
    }
}
