//! Network engine latency/throughput, one run, three clients over the same loopback stream:
//!
//! * `reactor`  — cexfeed's mio reactor in `Wait::Spin` (what production runs)
//! * `blocking` — a plain blocking tungstenite client (`WebSocket::read` on a blocking socket)
//! * `tung-nb`  — tungstenite 0.30 framing: `WebSocket::read` spun until `WouldBlock` over a
//!   non-blocking socket (no mio), 4 KiB `read_buffer_size`
//! * `floor`    — a bare mio spin loop reading the same bytes (+ rustls decrypt for TLS),
//!   parsing fixed-size frames by offset: the kernel/crypto floor
//!
//! Then the cost of one empty poll on an idle `ws://` connection: bare `read(2)` →
//! `WouldBlock`, reactor `run_once` (`epoll_wait(0)`), tungstenite `read()` with 4 KiB and
//! 128 KiB read buffers (it zero-fills the buffer's free capacity on every call).
//!
//! For `ws://` and `wss://`. Latency = CLOCK_MONOTONIC at the moment the message is handed to
//! the consumer minus the server's timestamp taken just before its `write(2)` (both threads
//! on the same machine/clock). Throughput = frames/s with the server writing batches flat out.
//!
//! Measured on the 2-core dev VM (neighbour jobs paused at that moment), 120-byte frames 20 µs
//! apart, one-way latency p50 / p99 / p99.9, and frames/s at saturation:
//! ```text
//! ws   reactor  5.73 µs / 1.29 ms* / 2.95 ms*   6.26 M/s
//! ws   blocking 18.6 µs / 0.90 ms  / 3.88 ms    6.69 M/s   blocking/reactor p50 = 3.24x
//! ws   floor    5.71 µs / 8.1 µs   / 39.9 µs    6.38 M/s   reactor/floor p50    = 1.00x
//! wss  reactor  6.43 µs / 8.7 µs   / 25.6 µs    5.04 M/s
//! wss  blocking 20.8 µs / 0.71 ms  / 1.29 ms    5.62 M/s   blocking/reactor p50 = 3.24x
//! wss  floor    6.31 µs / 7.5 µs   / 35.0 µs    5.39 M/s   reactor/floor p50    = 1.02x
//! ```
//! (* a neighbour job woke up during that case; an earlier quiet run gave ws reactor
//! 5.55 µs / 7.7 µs p50/p99.)
//!
//! With `tung-nb` (two quiet runs, load 0.00–0.07; second run's floor/blocking tails disturbed):
//! ```text
//! ws   reactor  5.87–5.91 µs p50   6.06–6.16 M/s
//! ws   tung-nb  5.46–5.50 µs p50   6.27–6.39 M/s   tung-nb/reactor p50 = 0.93x
//! ws   floor    5.78–5.82 µs p50   6.27 M/s
//! wss  reactor  6.51–6.58 µs p50   5.02–5.07 M/s
//! wss  tung-nb  6.02–6.11 µs p50   5.16–5.36 M/s   tung-nb/reactor p50 = 0.92x
//! empty poll, ns  bare read 278–281   reactor 185–191   tungstenite 4 KiB 325–346
//!                 tungstenite 128 KiB 1155–1173 fresh, 799–805 after 61 KB consumed
//! ```
//! tung-nb beats even the floor, which does no framing: its edge is one `read` per spin
//! instead of `epoll_wait` + `read`, not its framer (see ARCHITECTURE.md).
//! Spinning clients lose badly to sleeping ones when the two cores are oversubscribed (a
//! preempted spinner waits a whole scheduler slice): run it on a quiet machine.
//!
//! Run: `cargo bench --bench net` (about 10 s; on 2 cores the server and the spinning client
//! take one core each). Env: `NET_BENCH_N` (latency frames, default 20000), `NET_BENCH_TPUT_N`
//! (throughput frames, default 200000).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cexfeed::net::{
    CaCert, ConnId, ConnSpec, DownReason, Handler, Outbox, Reactor, ReactorConfig, Wait, WsMessage,
};
use cexfeed::types::now_ns;
use hdrhistogram::Histogram;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConnection, ServerConfig, ServerConnection, StreamOwned};

const PAYLOAD: usize = 120;
const FRAME: usize = PAYLOAD + 2;
const WARM: usize = 1000;

struct Ca {
    pem: String,
    server: Arc<ServerConfig>,
}

fn ca() -> Ca {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "bench CA");
    let ca_cert = p.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(p, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let server =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
            )
            .unwrap();
    Ca {
        pem: ca_cert.pem(),
        server: Arc::new(server),
    }
}

#[derive(Clone, Copy)]
enum Mode {
    /// `n` frames, one write each, `gap_ns` apart (spin-paced).
    Latency { n: usize, gap_ns: u64 },
    /// `n` frames in writes of `batch` frames, flat out.
    Throughput { n: usize, batch: usize },
}

fn frame_into(buf: &mut [u8], seq: u64) {
    buf[0] = 0x82;
    buf[1] = PAYLOAD as u8;
    buf[2..10].copy_from_slice(&now_ns().to_le_bytes());
    buf[10..18].copy_from_slice(&seq.to_le_bytes());
}

fn pin(core: usize) {
    let _ = core_affinity::set_for_current(core_affinity::CoreId { id: core });
}

fn server(tls: Option<Arc<ServerConfig>>, mode: Mode) -> (SocketAddr, JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let j = std::thread::spawn(move || {
        pin(0);
        let (sock, _) = l.accept().unwrap();
        sock.set_nodelay(true).unwrap();
        let mut conn: Box<dyn ReadWrite> = match tls {
            Some(cfg) => Box::new(StreamOwned::new(ServerConnection::new(cfg).unwrap(), sock)),
            None => Box::new(sock),
        };
        // Upgrade by hand (tungstenite's server would buffer our writes).
        let mut req = Vec::new();
        let mut b = [0u8; 2048];
        while !req.windows(4).any(|w| w == b"\r\n\r\n") {
            let k = conn.read(&mut b).unwrap();
            assert!(k > 0);
            req.extend_from_slice(&b[..k]);
        }
        let head = String::from_utf8_lossy(&req).to_string();
        let key = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| v.trim().to_string())
            })
            .unwrap();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        write!(
            conn,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        )
        .unwrap();
        conn.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50)); // client settles into its loop
        match mode {
            Mode::Latency { n, gap_ns } => {
                let mut f = [0u8; FRAME];
                let mut next = now_ns();
                for seq in 0..n as u64 {
                    while now_ns() < next {
                        std::hint::spin_loop();
                    }
                    // No catch-up bursts after a preemption: pace from now.
                    next = (next + gap_ns).max(now_ns());
                    frame_into(&mut f, seq);
                    if conn.write_all(&f).and_then(|_| conn.flush()).is_err() {
                        return;
                    }
                }
            }
            Mode::Throughput { n, batch } => {
                let mut buf = vec![0u8; FRAME * batch];
                let mut seq = 0u64;
                while (seq as usize) < n {
                    for c in buf.chunks_mut(FRAME) {
                        frame_into(c, seq);
                        seq += 1;
                    }
                    if conn.write_all(&buf).and_then(|_| conn.flush()).is_err() {
                        return;
                    }
                }
            }
        }
        // Keep the socket open until the client is done.
        let _ = conn.read(&mut b);
    });
    (addr, j)
}

trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

struct Stats {
    hist: Histogram<u64>,
    n: usize,
    first_ns: u64,
    last_ns: u64,
}

impl Stats {
    fn new() -> Self {
        Self {
            hist: Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap(),
            n: 0,
            first_ns: 0,
            last_ns: 0,
        }
    }
    #[inline]
    fn record(&mut self, payload: &[u8], now: u64) {
        let ts = u64::from_le_bytes(payload[..8].try_into().unwrap());
        if self.n == 0 {
            self.first_ns = now;
        }
        self.last_ns = now;
        self.n += 1;
        if self.n > WARM {
            let _ = self.hist.record(now.saturating_sub(ts).max(1));
        }
    }
}

// ---- (a) the reactor ----------------------------------------------------------------------

struct BenchHandler {
    stats: Stats,
    target: usize,
    stop: Arc<AtomicBool>,
}

impl Handler for BenchHandler {
    fn on_open(&mut self, _c: ConnId, _now_ns: u64, _out: &mut Outbox<'_>) {}
    #[inline]
    fn on_message(&mut self, _c: ConnId, msg: WsMessage<'_>, _recv_ns: u64, _out: &mut Outbox<'_>) {
        self.stats.record(msg.bytes(), now_ns());
        if self.stats.n >= self.target {
            self.stop.store(true, Ordering::Relaxed);
        }
    }
    fn on_down(&mut self, _c: ConnId, reason: DownReason, _now_ns: u64) {
        eprintln!("reactor: down {reason:?}");
        self.stop.store(true, Ordering::Relaxed);
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

fn run_reactor(addr: SocketAddr, tls: Option<&Ca>, n: usize) -> Stats {
    let stop = Arc::new(AtomicBool::new(false));
    let h = BenchHandler {
        stats: Stats::new(),
        target: n,
        stop: stop.clone(),
    };
    let cfg = ReactorConfig {
        core: Some(1),
        wait: Wait::Spin,
        // The reactor rows measure our parser (net::ws), whichever framing is the default.
        framing: cexfeed::net::Framing::Own,
        ..Default::default()
    };
    let mut r = Reactor::new(cfg, h).unwrap();
    pin(1); // run_once is driven here, so pin this thread as `Reactor::run` would
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let mut spec = ConnSpec::new(format!("{scheme}://{addr}/ws"));
    spec.extra_root_ca = tls.map(|c| CaCert::Pem(c.pem.clone().into_bytes()));
    spec.idle_timeout = None;
    let s = r.add_spec(spec).unwrap();
    r.open(s).unwrap();
    // The reactor's own stop flag is the handler's.
    let rstop = r.stop_flag();
    let t0 = Instant::now();
    while !stop.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(30) {
        r.run_once().unwrap();
    }
    rstop.store(true, Ordering::Relaxed);
    r.into_handler().stats
}

// ---- (b) blocking tungstenite -------------------------------------------------------------

fn client_tls(addr: SocketAddr, ca: &Ca) -> StreamOwned<ClientConnection, TcpStream> {
    let cfg = cexfeed::net::client_config(Some(&CaCert::Pem(ca.pem.clone().into_bytes()))).unwrap();
    let name = ServerName::try_from(addr.ip().to_string()).unwrap();
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_nodelay(true).unwrap();
    StreamOwned::new(ClientConnection::new(cfg, name).unwrap(), sock)
}

fn run_blocking(addr: SocketAddr, tls: Option<&Ca>, n: usize) -> Stats {
    pin(1);
    let url = format!("ws://{addr}/ws");
    let mut stats = Stats::new();
    let mut go = |mut ws: tungstenite::WebSocket<Box<dyn ReadWrite>>| {
        while stats.n < n {
            match ws.read() {
                Ok(tungstenite::Message::Binary(b)) => stats.record(&b, now_ns()),
                Ok(_) => {}
                Err(e) => {
                    eprintln!("blocking: {e}");
                    break;
                }
            }
        }
    };
    let stream: Box<dyn ReadWrite> = match tls {
        Some(ca) => Box::new(client_tls(addr, ca)),
        None => {
            let s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            Box::new(s)
        }
    };
    let (ws, _) = tungstenite::client::client(url.as_str(), stream).unwrap();
    go(ws);
    stats
}

// ---- (c) bare mio spin loop ---------------------------------------------------------------

fn upgrade_blocking<S: Read + Write>(s: &mut S, addr: SocketAddr) {
    write!(
        s,
        "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .unwrap();
    s.flush().unwrap();
    // Read the 101 byte by byte so no frame byte is consumed.
    let mut resp = Vec::new();
    let mut b = [0u8; 1];
    while !resp.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).unwrap(), 1);
        resp.push(b[0]);
    }
    assert!(resp.starts_with(b"HTTP/1.1 101"));
}

fn run_floor(addr: SocketAddr, tls: Option<&Ca>, n: usize) -> Stats {
    pin(1);
    let mut stats = Stats::new();
    let (sock, mut tlsc) = match tls {
        Some(ca) => {
            let mut s = client_tls(addr, ca);
            upgrade_blocking(&mut s, addr);
            let (c, sock) = (s.conn, s.sock);
            (sock, Some(c))
        }
        None => {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            upgrade_blocking(&mut s, addr);
            (s, None)
        }
    };
    sock.set_nonblocking(true).unwrap();
    let mut sock = mio::net::TcpStream::from_std(sock);
    let mut poll = mio::Poll::new().unwrap();
    let mut events = mio::Events::with_capacity(8);
    poll.registry()
        .register(&mut sock, mio::Token(0), mio::Interest::READABLE)
        .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let (mut start, mut end) = (0usize, 0usize);
    // Frames may already be buffered inside rustls from the blocking upgrade.
    let mut pending = true;
    let t0 = Instant::now();
    while stats.n < n && t0.elapsed() < Duration::from_secs(30) {
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
        if events.is_empty() && !pending {
            continue;
        }
        pending = false;
        loop {
            let r = match tlsc.as_mut() {
                None => sock.read(&mut buf[end..]),
                Some(c) => match c.reader().read(&mut buf[end..]) {
                    Ok(k) => Ok(k),
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        match c.read_tls(&mut sock) {
                            Ok(0) => Ok(0),
                            Ok(_) => {
                                c.process_new_packets().unwrap();
                                continue;
                            }
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                },
            };
            match r {
                Ok(0) => return stats,
                Ok(k) => {
                    end += k;
                    let now = now_ns();
                    while end - start >= FRAME {
                        stats.record(&buf[start + 2..start + FRAME], now);
                        start += FRAME;
                    }
                    if start == end {
                        start = 0;
                        end = 0;
                    } else if buf.len() - end < 4096 {
                        buf.copy_within(start..end, 0);
                        end -= start;
                        start = 0;
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("floor: {e}"),
            }
        }
    }
    stats
}

// ---- (d) tungstenite framing, non-blocking spin -------------------------------------------

/// tungstenite's read buffer for the `tung-nb` client (the design's "a few KiB").
const TUNG_BUF: usize = 4 * 1024;

fn tung_config(read_buffer_size: usize) -> tungstenite::protocol::WebSocketConfig {
    tungstenite::protocol::WebSocketConfig::default().read_buffer_size(read_buffer_size)
}

/// Spins `WebSocket::read` until `n` messages arrived (`WouldBlock` = empty poll, retried at
/// once), like the reactor's `Wait::Spin` but with tungstenite doing the framing and no mio.
fn spin_tungstenite<S: Read + Write>(ws: &mut tungstenite::WebSocket<S>, n: usize) -> Stats {
    let mut stats = Stats::new();
    let t0 = Instant::now();
    while stats.n < n && t0.elapsed() < Duration::from_secs(30) {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) => stats.record(&b, now_ns()),
            Ok(_) => {}
            Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => {
                eprintln!("tung-nb: {e}");
                break;
            }
        }
    }
    stats
}

fn run_tung_nb(addr: SocketAddr, tls: Option<&Ca>, n: usize) -> Stats {
    pin(1);
    let url = format!("ws://{addr}/ws");
    match tls {
        Some(ca) => {
            let s = client_tls(addr, ca);
            let (mut ws, _) = tungstenite::client::client_with_config(
                url.as_str(),
                s,
                Some(tung_config(TUNG_BUF)),
            )
            .unwrap();
            ws.get_mut().sock.set_nonblocking(true).unwrap();
            spin_tungstenite(&mut ws, n)
        }
        None => {
            let s = TcpStream::connect(addr).unwrap();
            s.set_nodelay(true).unwrap();
            let (mut ws, _) = tungstenite::client::client_with_config(
                url.as_str(),
                s,
                Some(tung_config(TUNG_BUF)),
            )
            .unwrap();
            ws.get_mut().set_nonblocking(true).unwrap();
            spin_tungstenite(&mut ws, n)
        }
    }
}

// ---- empty poll: one read that finds nothing ----------------------------------------------

const EMPTY_POLLS: u32 = 200_000;

/// Mean ns of `EMPTY_POLLS` calls of `poll` on an idle connection (each must find nothing).
fn time_empty(mut poll: impl FnMut() -> bool) -> f64 {
    for _ in 0..1000 {
        assert!(!poll(), "connection not idle");
    }
    let t = Instant::now();
    for _ in 0..EMPTY_POLLS {
        if poll() {
            panic!("connection not idle");
        }
    }
    t.elapsed().as_nanos() as f64 / f64::from(EMPTY_POLLS)
}

/// Idle plain `ws://` connection after `pre` frames were received and consumed. Returns mean
/// ns per empty poll for tungstenite (given read buffer size).
fn empty_poll_tungstenite(pre: usize, read_buffer_size: usize) -> f64 {
    let (addr, j) = server(None, Mode::Throughput { n: pre, batch: 1 });
    pin(1);
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    let url = format!("ws://{addr}/ws");
    let (mut ws, _) = tungstenite::client::client_with_config(
        url.as_str(),
        s,
        Some(tung_config(read_buffer_size)),
    )
    .unwrap();
    ws.get_mut().set_nonblocking(true).unwrap();
    let st = spin_tungstenite(&mut ws, pre);
    assert_eq!(st.n, pre);
    std::thread::sleep(Duration::from_millis(20));
    let ns = time_empty(|| match ws.read() {
        Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => false,
        r => {
            eprintln!("empty poll: {r:?}");
            true
        }
    });
    drop(ws);
    drop(j);
    ns
}

/// Same for a bare non-blocking `read(2)` on the socket (the syscall floor).
fn empty_poll_bare(pre: usize) -> f64 {
    let (addr, j) = server(None, Mode::Throughput { n: pre, batch: 1 });
    pin(1);
    let mut s = TcpStream::connect(addr).unwrap();
    upgrade_blocking(&mut s, addr);
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0;
    while got < pre * FRAME {
        got += s.read(&mut buf).unwrap();
    }
    s.set_nonblocking(true).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let ns = time_empty(
        || !matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
    );
    drop(s);
    drop(j);
    ns
}

/// Same for one `Reactor::run_once` (`Wait::Spin`: epoll_wait(0) + timers) on an idle
/// connection.
fn empty_poll_reactor(pre: usize) -> f64 {
    let (addr, j) = server(None, Mode::Throughput { n: pre, batch: 1 });
    let stop = Arc::new(AtomicBool::new(false));
    let h = BenchHandler {
        stats: Stats::new(),
        target: pre,
        stop: stop.clone(),
    };
    let cfg = ReactorConfig {
        core: Some(1),
        wait: Wait::Spin,
        // The reactor rows measure our parser (net::ws), whichever framing is the default.
        framing: cexfeed::net::Framing::Own,
        ..Default::default()
    };
    let mut r = Reactor::new(cfg, h).unwrap();
    pin(1);
    let mut spec = ConnSpec::new(format!("ws://{addr}/ws"));
    spec.idle_timeout = None;
    let sp = r.add_spec(spec).unwrap();
    r.open(sp).unwrap();
    let t0 = Instant::now();
    while !stop.load(Ordering::Relaxed) && t0.elapsed() < Duration::from_secs(10) {
        r.run_once().unwrap();
    }
    std::thread::sleep(Duration::from_millis(20));
    let mut last = r.handler().stats.n;
    let ns = time_empty(|| {
        r.run_once().unwrap();
        let n = r.handler().stats.n;
        std::mem::replace(&mut last, n) != n
    });
    r.stop_flag().store(true, Ordering::Relaxed);
    drop(r);
    drop(j);
    ns
}

// ---- driver -------------------------------------------------------------------------------

type Client = fn(SocketAddr, Option<&Ca>, usize) -> Stats;

fn case(name: &str, client: Client, ca: &Ca, tls: bool, mode: Mode) -> Stats {
    let n = match mode {
        Mode::Latency { n, .. } | Mode::Throughput { n, .. } => n,
    };
    let (addr, j) = server(tls.then(|| ca.server.clone()), mode);
    let s = client(addr, tls.then_some(ca), n);
    drop(j); // the server exits when the client's socket closes
    if s.n < n {
        eprintln!("{name}: only {} of {n} frames", s.n);
    }
    s
}

fn main() {
    let n_lat: usize = std::env::var("NET_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let n_tput: usize = std::env::var("NET_BENCH_TPUT_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let ca = ca();
    let clients: [(&str, Client); 4] = [
        ("reactor", run_reactor),
        ("blocking", run_blocking),
        ("tung-nb", run_tung_nb),
        ("floor", run_floor),
    ];
    println!(
        "net bench: {PAYLOAD}-byte binary frames over loopback; latency {n_lat} frames 20 µs apart \
         (first {WARM} dropped), throughput {n_tput} frames in 32-frame writes"
    );
    // Spinning clients are only meaningful on otherwise idle cores: show what else ran.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("loadavg before run: {}", load.trim());
    println!(
        "{:<5} {:<9} {:>8} {:>8} {:>9} {:>9} {:>12}",
        "tls", "client", "p50 ns", "p99 ns", "p99.9 ns", "max ns", "frames/s"
    );
    for tls in [false, true] {
        let mut p50 = [0u64; 4];
        for (i, (name, client)) in clients.iter().enumerate() {
            let lat = case(
                name,
                *client,
                &ca,
                tls,
                Mode::Latency {
                    n: n_lat,
                    gap_ns: 20_000,
                },
            );
            let tp = case(
                name,
                *client,
                &ca,
                tls,
                Mode::Throughput {
                    n: n_tput,
                    batch: 32,
                },
            );
            let secs = (tp.last_ns - tp.first_ns) as f64 / 1e9;
            let h = &lat.hist;
            p50[i] = h.value_at_quantile(0.5);
            println!(
                "{:<5} {:<9} {:>8} {:>8} {:>9} {:>9} {:>12.0}",
                if tls { "wss" } else { "ws" },
                name,
                h.value_at_quantile(0.5),
                h.value_at_quantile(0.99),
                h.value_at_quantile(0.999),
                h.max(),
                tp.n as f64 / secs.max(1e-9)
            );
        }
        println!(
            "{:<5} p50 ratios: blocking/reactor = {:.2}x (target >= 1.8x), reactor/floor = {:.2}x (target <= 1.3x), tung-nb/reactor = {:.2}x",
            if tls { "wss" } else { "ws" },
            p50[1] as f64 / p50[0] as f64,
            p50[0] as f64 / p50[3] as f64,
            p50[2] as f64 / p50[0] as f64
        );
    }
    // One empty poll on an idle plain connection, after `pre` frames were consumed (a
    // tungstenite read zero-fills the buffer's free capacity, which shrinks as its offset
    // advances, so its cost depends on where the buffer stands).
    println!("empty poll (idle ws, mean of {EMPTY_POLLS}), ns:");
    for pre in [10usize, 500] {
        let bytes = pre * FRAME;
        println!(
            "  after {pre:>3} frames ({bytes:>5} B): bare read {:>7.1}   reactor run_once {:>7.1}   tungstenite 4 KiB {:>7.1}   tungstenite 128 KiB {:>7.1}",
            empty_poll_bare(pre),
            empty_poll_reactor(pre),
            empty_poll_tungstenite(pre, 4 * 1024),
            empty_poll_tungstenite(pre, 128 * 1024),
        );
    }
}
