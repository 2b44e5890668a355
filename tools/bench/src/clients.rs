//! The clients the bench runs against the venue, each measured the same way: per push, the
//! instant the consumer had it, keyed by the push's last book version, so the venue's send
//! instant for that version can be looked up afterwards.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use cexfeed::config::{Config, FeedConfig, GateBookChannel, Runtime};
use cexfeed::engine::{Engine, StrategyRx};
use cexfeed::net::WaitMode;
use cexfeed::ring::Body;
use cexfeed_venue::VenueHandle;

pub use crate::result::{ClientResult, Live, Sample};
use crate::{Feed, FeedKind};

/// Client names (a contract of the JSON report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Client {
    /// The library: `Engine` feed thread → ring → `StrategyRx` on a strategy thread.
    Cexfeed,
    /// tokio + tokio-tungstenite + serde_json + BTreeMap + mpsc (tools/baseline).
    TokioBaseline,
    /// Blocking read + TLS + WebSocket deframe; no decoding (the sequence is located only).
    Floor,
    /// ccxt.pro `watch_order_book` in CPython (tools/ccxt-bench.py).
    Ccxt,
}

impl Client {
    pub const ALL: [Client; 4] = [
        Client::Cexfeed,
        Client::TokioBaseline,
        Client::Floor,
        Client::Ccxt,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Client::Cexfeed => "cexfeed",
            Client::TokioBaseline => "tokio-baseline",
            Client::Floor => "floor",
            Client::Ccxt => "ccxt",
        }
    }
    pub fn parse(s: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// Wait strategy of a run (a contract of the JSON report: `block`, `spin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Wait {
    /// Threads sleep in the kernel when there is nothing to read (cexfeed: the feed thread in
    /// `epoll_wait`; its strategy thread, which has no blocking receive, yields).
    Block,
    /// cexfeed only: feed thread and strategy thread busy-poll (a core each).
    Spin,
}

impl Wait {
    pub fn name(self) -> &'static str {
        match self {
            Wait::Block => "block",
            Wait::Spin => "spin",
        }
    }
}

/// Per-client sample capacity (pre-allocated: recording never allocates).
pub fn capacity(rate: u64, secs: f64) -> usize {
    ((rate as f64 * secs) as usize).clamp(100_000, 8_000_000)
}

/// Start a client on its own thread(s).
#[allow(clippy::too_many_arguments)]
pub fn spawn(
    client: Client,
    feed: Feed,
    rate: u64,
    venue: &VenueHandle,
    wait: Wait,
    framing: cexfeed::net::Framing,
    cap: usize,
    live: Arc<Live>,
) -> Result<std::thread::JoinHandle<ClientResult>, String> {
    let url = feed.ws_url(venue);
    let ca_der = venue.ca_der().map(<[u8]>::to_vec);
    let rest = venue.gate_rest_url();
    let mexc_rest = venue.mexc_rest_url();
    let ca_path = venue.ca_path().map(|p| p.to_path_buf());
    let name = format!("bench-{}", client.name());
    let b = std::thread::Builder::new().name(name);
    let h = match client {
        Client::Cexfeed => {
            let rest = if feed.kind == FeedKind::MexcSpot {
                mexc_rest
            } else {
                rest
            };
            b.spawn(move || run_cexfeed(feed, url, rest, ca_path, wait, framing, cap, &live))
        }
        Client::Floor => b.spawn(move || run_floor(feed, url, ca_der, cap, &live)),
        Client::TokioBaseline => b.spawn(move || run_baseline(feed, url, ca_der, cap, &live)),
        Client::Ccxt => {
            let rest = if feed.kind == FeedKind::MexcSpot {
                mexc_rest
            } else {
                rest
            };
            b.spawn(move || crate::ccxt::run(feed, rate, url, rest, ca_path, cap, &live))
        }
    };
    h.map_err(|e| e.to_string())
}

/// How cexfeed's strategy thread idles in block mode: `park` (default: the library's blocking
/// receive, `StrategyRx::recv_timeout`: a short spin, then a futex the feed thread rings),
/// `sleep` ([`CONSUMER_SLEEP_US`] with 1 µs timer slack; what the bench did before the library
/// had a blocking receive) or `yield` (`sched_yield`; keeps the thread runnable, which on a
/// 2-core machine takes CPU from the feed thread). `CEXFEED_BENCH_CONSUMER=park|yield|sleep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumerIdle {
    Park,
    Sleep,
    Yield,
}

/// The strategy thread's idle sleep in block mode.
pub const CONSUMER_SLEEP_US: u64 = 20;

impl ConsumerIdle {
    /// `CEXFEED_BENCH_SPIN=N`: µs of polling before the park (`StrategyRx::set_spin`; the
    /// library's default is `DEFAULT_SPIN`).
    pub fn spin_from_env() -> Option<u64> {
        std::env::var("CEXFEED_BENCH_SPIN").ok()?.parse().ok()
    }

    pub fn from_env() -> ConsumerIdle {
        match std::env::var("CEXFEED_BENCH_CONSUMER").as_deref() {
            Ok("yield") => ConsumerIdle::Yield,
            Ok("sleep") => ConsumerIdle::Sleep,
            _ => ConsumerIdle::Park,
        }
    }
}

/// How a cexfeed strategy thread of the lab idles when its rings are empty: the wait mode and
/// `CEXFEED_BENCH_CONSUMER` / `CEXFEED_BENCH_SPIN`, the same for every row that runs one.
pub struct StrategyIdle {
    wait: Wait,
    consumer: ConsumerIdle,
    idle: u32,
}

impl StrategyIdle {
    /// Read the environment and set up `rx` and the calling thread (the strategy thread).
    pub fn new(rx: &mut StrategyRx, wait: Wait) -> StrategyIdle {
        let consumer = ConsumerIdle::from_env();
        if let Some(n) = ConsumerIdle::spin_from_env() {
            rx.set_spin(Duration::from_micros(n));
        }
        if wait == Wait::Block && consumer == ConsumerIdle::Sleep {
            // Timer slack 1 µs (default 50 µs) so the idle sleep below is short.
            // SAFETY: prctl with PR_SET_TIMERSLACK and an integer argument touches only this
            // thread.
            unsafe {
                libc::prctl(libc::PR_SET_TIMERSLACK, 1000u64, 0u64, 0u64, 0u64);
            }
        }
        StrategyIdle {
            wait,
            consumer,
            idle: 0,
        }
    }

    /// `try_recv` gave an event.
    pub fn busy(&mut self) {
        self.idle = 0;
    }

    /// `try_recv` gave nothing: wait as configured.
    pub fn idle(&mut self, rx: &mut StrategyRx) {
        self.idle += 1;
        match (self.wait, self.consumer) {
            (Wait::Spin, _) => std::hint::spin_loop(),
            // The library's blocking receive: it spins, then parks until the feed rings.
            (Wait::Block, ConsumerIdle::Park) => {
                rx.wait(Duration::from_millis(5));
            }
            (Wait::Block, _) if self.idle < 64 => std::hint::spin_loop(),
            (Wait::Block, ConsumerIdle::Yield) => std::thread::yield_now(),
            (Wait::Block, ConsumerIdle::Sleep) => {
                std::thread::sleep(Duration::from_micros(CONSUMER_SLEEP_US))
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_cexfeed(
    feed: Feed,
    ws_url: String,
    rest_url: String,
    ca: Option<std::path::PathBuf>,
    wait: Wait,
    framing: cexfeed::net::Framing,
    cap: usize,
    live: &Live,
) -> ClientResult {
    let (venue, market, book_channel, depth, interval) = match feed.kind {
        FeedKind::MexcSpot => ("mexc", "spot", GateBookChannel::Obu, 1000, "10ms"),
        FeedKind::GateSpot => (
            "gateio",
            "spot",
            GateBookChannel::OrderBookUpdate,
            20,
            "20ms",
        ),
        FeedKind::GateFutures => (
            "gateio",
            "futures",
            GateBookChannel::OrderBookUpdate,
            20,
            "20ms",
        ),
    };
    let cfg = Config {
        duration_s: 0,
        report: None,
        runtime: Runtime {
            wait: match wait {
                Wait::Block => WaitMode::Block,
                Wait::Spin => WaitMode::Spin,
            },
            framing,
            ring_capacity: 65_536,
            top_n: cexfeed_baseline::TOP_N,
            ..Runtime::default()
        },
        feeds: vec![FeedConfig {
            venue: venue.into(),
            market: market.into(),
            symbols: vec![feed.symbol().into()],
            channels: vec!["orderbook".into()],
            ws_url: Some(ws_url),
            rest_url: Some(rest_url),
            ca_file: ca,
            core: None,
            book_channel,
            depth: Some(depth),
            interval: Some(interval.into()),
            api_key_env: None,
            api_secret_env: None,
            user_id: None,
            listen_key_keepalive_s: None,
            credentials: None,
        }],
        publish: None,
        record: None,
    };
    let resolved = cfg.resolve().map_err(|e| e.to_string())?;
    let mut engine = Engine::new(resolved.engine).map_err(|e| e.to_string())?;
    let mut rx = engine.consumer().map_err(|e| e.to_string())?;
    let channel = format!("{venue}.{market}.orderbook.{}", feed.symbol());
    engine.bind(&channel, rx.id()).map_err(|e| e.to_string())?;
    engine.start().map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(cap);
    let mut idle = StrategyIdle::new(&mut rx, wait);
    while !live.stop.load(Ordering::Relaxed) {
        let Some(ev) = rx.try_recv() else {
            idle.idle(&mut rx);
            continue;
        };
        idle.busy();
        let t = cexfeed::types::now_ns();
        if let Body::Book { .. } = ev.body {
            // What a strategy would look at.
            if let Some(top) = ev.book() {
                std::hint::black_box((top.bids().first(), top.asks().first()));
            }
            let seq = ev.header.seq;
            if out.len() < cap {
                out.push(Sample {
                    seq,
                    recv_ns: ev.header.ts_recv_ns,
                    ring_ns: ev.header.ts_ring_ns,
                    consumed_ns: t,
                });
            }
            live.seen.fetch_add(1, Ordering::Relaxed);
            live.last_seq.store(seq, Ordering::Relaxed);
        }
    }
    engine.stop();
    Ok(out)
}

fn run_baseline(
    feed: Feed,
    url: String,
    ca_der: Option<Vec<u8>>,
    cap: usize,
    live: &Live,
) -> ClientResult {
    let stream = match feed.kind {
        FeedKind::MexcSpot => cexfeed_baseline::Stream::MexcAggreDepth,
        FeedKind::GateSpot => cexfeed_baseline::Stream::GateSpotOrderBookUpdate,
        FeedKind::GateFutures => cexfeed_baseline::Stream::GateFuturesOrderBookUpdate,
    };
    let stop = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(cexfeed_baseline::Counters::default());
    let spec = cexfeed_baseline::Spec {
        url,
        ca_der,
        stream,
        subscribe: feed.subscribe_frame(),
        capacity: cap,
    };
    let (s2, c2) = (stop.clone(), counters.clone());
    let h = std::thread::Builder::new()
        .name("bench-tokio".into())
        .spawn(move || cexfeed_baseline::run(spec, s2, c2))
        .map_err(|e| e.to_string())?;
    // Progress for the bench: the baseline counts its pushes itself.
    while !live.stop.load(Ordering::Relaxed) && !h.is_finished() {
        live.seen
            .store(counters.pushes.load(Ordering::Relaxed), Ordering::Relaxed);
        live.last_seq
            .store(counters.last_seq.load(Ordering::Relaxed), Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    let v = h.join().map_err(|_| "baseline panicked".to_string())??;
    Ok(v.into_iter()
        .map(|s| Sample {
            seq: s.seq,
            recv_ns: s.recv_ns,
            ring_ns: 0,
            consumed_ns: s.consumed_ns,
        })
        .collect())
}

/// The floor: blocking socket, rustls, tungstenite's framing; per message only the sequence
/// is located (a byte scan for Gate's `"u":`, a protobuf field walk for MEXC's `toVersion`).
fn run_floor(
    feed: Feed,
    url: String,
    ca_der: Option<Vec<u8>>,
    cap: usize,
    live: &Live,
) -> ClientResult {
    use tungstenite::Message;
    let rest = url.split_once("://").map(|x| x.1).ok_or("bad url")?;
    let hostport = rest.split('/').next().unwrap_or(rest).to_string();
    let tcp = TcpStream::connect(&hostport).map_err(|e| format!("connect: {e}"))?;
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let stream: Box<dyn ReadWrite> = if url.starts_with("wss://") {
        let der = ca_der.ok_or("wss:// without a CA")?;
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls_pki_types::CertificateDer::from(der))
            .map_err(|e| e.to_string())?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let host = hostport.rsplit_once(':').map(|x| x.0).unwrap_or(&hostport);
        let name =
            rustls_pki_types::ServerName::try_from(host.to_string()).map_err(|e| e.to_string())?;
        let conn = rustls::ClientConnection::new(Arc::new(cfg), name).map_err(|e| e.to_string())?;
        Box::new(rustls::StreamOwned::new(
            conn,
            tcp.try_clone().map_err(|e| e.to_string())?,
        ))
    } else {
        Box::new(tcp.try_clone().map_err(|e| e.to_string())?)
    };
    let (mut ws, _) = tungstenite::client(url.as_str(), stream).map_err(|e| e.to_string())?;
    ws.send(Message::Text(feed.subscribe_frame().into()))
        .map_err(|e| e.to_string())?;
    // Wake up now and then to see the stop flag.
    tcp.set_read_timeout(Some(Duration::from_millis(100)))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::with_capacity(cap);
    while !live.stop.load(Ordering::Relaxed) {
        let msg = match ws.read() {
            Ok(m) => m,
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => return Err(format!("read: {e}")),
        };
        let t = cexfeed::types::now_ns();
        let seq = match &msg {
            Message::Text(s) => gate_u(s.as_bytes()),
            Message::Binary(b) => mexc_to_version(b),
            _ => None,
        };
        if let Some(seq) = seq {
            if out.len() < cap {
                out.push(Sample {
                    seq,
                    recv_ns: t,
                    ring_ns: 0,
                    consumed_ns: t,
                });
            }
            live.seen.fetch_add(1, Ordering::Relaxed);
            live.last_seq.store(seq, Ordering::Relaxed);
        }
    }
    Ok(out)
}

trait ReadWrite: std::io::Read + std::io::Write + Send {}
impl<T: std::io::Read + std::io::Write + Send> ReadWrite for T {}

/// Gate's `"u":<digits>` (the push's last version), located by a byte scan; `None` for acks.
pub fn gate_u(b: &[u8]) -> Option<u64> {
    let pat = b"\"u\":";
    let i = b.windows(pat.len()).position(|w| w == pat)? + pat.len();
    let mut v = 0u64;
    let mut n = 0;
    for &c in &b[i..] {
        if !c.is_ascii_digit() {
            break;
        }
        v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
        n += 1;
    }
    (n > 0).then_some(v)
}

fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let c = *b.get(*i)?;
        *i += 1;
        v |= ((c & 0x7f) as u64) << shift;
        if c & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

/// Find length-delimited field `want` in a protobuf message; its bytes.
fn pb_field(b: &[u8], want: u64) -> Option<&[u8]> {
    let mut i = 0;
    while i < b.len() {
        let key = varint(b, &mut i)?;
        let (field, wt) = (key >> 3, key & 7);
        match wt {
            0 => {
                varint(b, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = varint(b, &mut i)? as usize;
                let s = b.get(i..i + len)?;
                if field == want {
                    return Some(s);
                }
                i += len;
            }
            _ => return None,
        }
    }
    None
}

/// MEXC `PushDataV3ApiWrapper.publicAggreDepths (313).toVersion (5)`, a decimal string.
pub fn mexc_to_version(b: &[u8]) -> Option<u64> {
    let body = pb_field(b, 313)?;
    let v = pb_field(body, 5)?;
    std::str::from_utf8(v).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_locates_gate_u_and_not_capital_u() {
        let f = br#"{"time":1,"channel":"spot.order_book_update","event":"update","result":{"t":1,"s":"BTC_USDT","U":41,"u":42,"b":[],"a":[]}}"#;
        assert_eq!(gate_u(f), Some(42));
        assert_eq!(
            gate_u(br#"{"event":"subscribe","result":{"status":"success"}}"#),
            None
        );
    }

    #[test]
    fn floor_walks_mexc_wrapper_to_to_version() {
        use cexfeed_venue::pb::{Body, PublicAggreDepthsV3Api, PushDataV3ApiWrapper};
        let w = PushDataV3ApiWrapper {
            channel: "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT".into(),
            symbol: Some("BTCUSDT".into()),
            symbol_id: None,
            create_time: None,
            send_time: Some(1),
            body: Some(Body::PublicAggreDepths(PublicAggreDepthsV3Api {
                asks: vec![],
                bids: vec![],
                event_type: "x".into(),
                from_version: "100".into(),
                to_version: "123456789".into(),
                last_order_create_time: 0,
            })),
        };
        let b = prost::Message::encode_to_vec(&w);
        assert_eq!(mexc_to_version(&b), Some(123_456_789));
        assert_eq!(mexc_to_version(&b[..b.len() - 3]), None);
    }
}
