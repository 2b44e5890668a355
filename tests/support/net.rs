//! Shared loopback helpers for the `net_*` integration tests: an rcgen test CA, a threaded
//! loopback server (plain or rustls), raw server-frame encoding, and a recording handler.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use cexfeed::net::{ConnId, DownReason, Handler, Outbox, Reactor, SpecId, WsMessage};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// A generated CA plus a server config whose leaf (127.0.0.1, localhost) it signed.
pub struct TestCa {
    pub ca_pem: String,
    pub ca_der: Vec<u8>,
    pub server: Arc<ServerConfig>,
}

pub fn test_ca() -> TestCa {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "cexfeed test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .unwrap();
    TestCa {
        ca_pem: ca_cert.pem(),
        ca_der: ca_cert.der().to_vec(),
        server: Arc::new(server),
    }
}

/// Server side of one accepted connection: plain or TLS.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ServerConnection, TcpStream>>),
}

impl Conn {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => &s.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// A loopback server: accepts up to `max_conns` connections, each handled on its own thread by
/// `script(n, conn)` (n = 0, 1, ...). TLS is accepted before the script runs.
pub struct Server {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<()>>,
}

impl Server {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }
    pub fn wss_url(&self) -> String {
        format!("wss://{}/ws", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Unblock accept().
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(100));
        if let Some(j) = self.join.take() {
            let _ = j.join();
        }
    }
}

pub fn serve<F>(tls: Option<Arc<ServerConfig>>, max_conns: usize, script: F) -> Server
where
    F: Fn(usize, Conn) + Send + Sync + 'static,
{
    serve_on("127.0.0.1:0", tls, max_conns, script)
}

pub fn serve_on<F>(
    bind: &str,
    tls: Option<Arc<ServerConfig>>,
    max_conns: usize,
    script: F,
) -> Server
where
    F: Fn(usize, Conn) + Send + Sync + 'static,
{
    let listener = TcpListener::bind(bind).unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let (st, acc) = (stop.clone(), accepted.clone());
    let script = Arc::new(script);
    let join = std::thread::spawn(move || {
        let mut workers = Vec::new();
        for n in 0..max_conns {
            let Ok((sock, _)) = listener.accept() else {
                break;
            };
            if st.load(Ordering::Relaxed) {
                break;
            }
            acc.fetch_add(1, Ordering::SeqCst);
            sock.set_nodelay(true).unwrap();
            let conn = match &tls {
                Some(cfg) => Conn::Tls(Box::new(StreamOwned::new(
                    ServerConnection::new(cfg.clone()).unwrap(),
                    sock,
                ))),
                None => Conn::Plain(sock),
            };
            let s = script.clone();
            workers.push(std::thread::spawn(move || s(n, conn)));
        }
        drop(listener);
        for w in workers {
            let _ = w.join();
        }
    });
    Server {
        addr,
        accepted,
        stop,
        join: Some(join),
    }
}

/// Accept the WebSocket upgrade on `conn`.
pub fn ws_accept(conn: Conn) -> tungstenite::WebSocket<Conn> {
    conn.tcp()
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    tungstenite::accept(conn).unwrap()
}

/// One unmasked server frame.
pub fn frame(opcode: u8, fin: bool, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(payload.len() + 10);
    v.push(if fin { 0x80 } else { 0 } | opcode);
    let n = payload.len();
    if n < 126 {
        v.push(n as u8);
    } else if n < 65536 {
        v.push(126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// Close the socket with an RST (SO_LINGER 0).
pub fn reset(sock: &TcpStream) {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid fd and a correctly sized linger struct.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &l as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ev {
    Open(ConnId),
    Text(ConnId, String),
    Binary(ConnId, Vec<u8>),
    Down(ConnId, DownReason),
}

/// Records every callback; sends `sub` on each open (the "re-subscribe" a venue does).
pub struct Recorder {
    pub events: Arc<Mutex<Vec<Ev>>>,
    pub sub: Option<String>,
}

impl Recorder {
    pub fn new(sub: Option<&str>) -> (Self, Arc<Mutex<Vec<Ev>>>) {
        let ev = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                events: ev.clone(),
                sub: sub.map(str::to_owned),
            },
            ev,
        )
    }
}

impl Handler for Recorder {
    fn on_open(&mut self, conn: ConnId, _now_ns: u64, out: &mut Outbox<'_>) {
        self.events.lock().unwrap().push(Ev::Open(conn));
        if let Some(s) = &self.sub {
            out.send_text(conn, s).unwrap();
        }
    }
    fn on_message(
        &mut self,
        conn: ConnId,
        msg: WsMessage<'_>,
        _recv_ns: u64,
        _out: &mut Outbox<'_>,
    ) {
        let e = match msg {
            WsMessage::Text(t) => Ev::Text(conn, String::from_utf8(t.to_vec()).unwrap()),
            WsMessage::Binary(b) => Ev::Binary(conn, b.to_vec()),
        };
        self.events.lock().unwrap().push(e);
    }
    fn on_down(&mut self, conn: ConnId, reason: DownReason, _now_ns: u64) {
        self.events.lock().unwrap().push(Ev::Down(conn, reason));
    }
    fn on_tick(&mut self, _now_ns: u64, _out: &mut Outbox<'_>) {}
}

/// Drive `r` on this thread until `pred(events)` holds or `limit` passes. Returns whether it held.
pub fn run_until<H: Handler>(
    r: &mut Reactor<H>,
    events: &Arc<Mutex<Vec<Ev>>>,
    limit: Duration,
    pred: impl Fn(&[Ev]) -> bool,
) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        r.run_once().unwrap();
        if pred(&events.lock().unwrap()) {
            return true;
        }
    }
    false
}

pub fn count(ev: &[Ev], f: impl Fn(&Ev) -> bool) -> usize {
    ev.iter().filter(|e| f(e)).count()
}

pub fn opens(ev: &[Ev]) -> usize {
    count(ev, |e| matches!(e, Ev::Open(_)))
}

pub fn texts(ev: &[Ev]) -> Vec<String> {
    ev.iter()
        .filter_map(|e| match e {
            Ev::Text(_, t) => Some(t.clone()),
            _ => None,
        })
        .collect()
}

pub fn downs(ev: &[Ev]) -> Vec<DownReason> {
    ev.iter()
        .filter_map(|e| match e {
            Ev::Down(_, r) => Some(*r),
            _ => None,
        })
        .collect()
}

/// Reactor config for tests: Block wait (2-core CI), small limits.
///
/// Pins [`Framing::Own`](cexfeed::net::Framing::Own): the tests built on it test `net::ws`,
/// whichever framing is the library default ([`block_cfg_framed`] for the other).
pub fn block_cfg() -> cexfeed::net::ReactorConfig {
    block_cfg_framed(cexfeed::net::Framing::Own)
}

/// [`block_cfg`] with the given framing.
pub fn block_cfg_framed(framing: cexfeed::net::Framing) -> cexfeed::net::ReactorConfig {
    cexfeed::net::ReactorConfig {
        wait: cexfeed::net::Wait::Block(Duration::from_millis(5)),
        framing,
        ..Default::default()
    }
}

/// Spec with fast backoff so reconnect tests stay short.
pub fn fast_spec(url: &str) -> cexfeed::net::ConnSpec {
    let mut s = cexfeed::net::ConnSpec::new(url);
    s.backoff_min = Duration::from_millis(10);
    s.backoff_max = Duration::from_millis(100);
    s.connect_timeout = Duration::from_secs(2);
    s
}

/// A [`Recorder`] reactor on [`block_cfg`] (framing `Own`) with one connection opened.
pub fn reactor(
    spec: cexfeed::net::ConnSpec,
    sub: Option<&str>,
) -> (Reactor<Recorder>, Arc<Mutex<Vec<Ev>>>, SpecId) {
    reactor_framed(cexfeed::net::Framing::Own, spec, sub)
}

/// [`reactor`] with the given framing.
pub fn reactor_framed(
    framing: cexfeed::net::Framing,
    spec: cexfeed::net::ConnSpec,
    sub: Option<&str>,
) -> (Reactor<Recorder>, Arc<Mutex<Vec<Ev>>>, SpecId) {
    let (h, ev) = Recorder::new(sub);
    let mut r = Reactor::new(block_cfg_framed(framing), h).unwrap();
    let spec = r.add_spec(spec).unwrap();
    r.open(spec).unwrap();
    (r, ev, spec)
}
