//! DNS off the feed thread (issue 13, finding 9).
//!
//! Exchanges sit behind CDNs whose addresses change, so an address resolved once at start-up
//! goes bad. The reactor resolves a spec's host once in `add_spec` (owner thread; a failure
//! there is no longer fatal: the spec is registered without addresses) and again, on a
//! resolver thread, after every connection loss that is followed by a backoff reconnect. The
//! feed thread only pushes the spec's index into a lock-free queue and picks the answer up on
//! a later loop iteration; it never waits in `getaddrinfo`. Until an answer arrives the last
//! good addresses are used; a spec with none yet fails its connect attempt with
//! [`DownReason::Unresolved`](super::DownReason::Unresolved) and retries with the usual
//! backoff.
//!
//! The lookup itself is a [`Resolve`] trait object ([`ReactorConfig::resolver`](
//! super::ReactorConfig::resolver)): [`SystemResolver`] (the OS, `getaddrinfo`) by default; a
//! test passes one whose answer changes.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_queue::ArrayQueue;

/// Turns a host name (or address literal) and port into socket addresses. Blocking: called on
/// the owner thread in `add_spec` and on the reactor's resolver thread, never on the feed
/// thread.
pub trait Resolve: Send + Sync + std::fmt::Debug {
    /// The addresses of `host` (as in a URL, IPv6 without brackets) at `port`.
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>>;
}

/// The operating system's resolver (`getaddrinfo` through `ToSocketAddrs`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        Ok((host, port).to_socket_addrs()?.collect())
    }
}

/// One answer: the spec index and the addresses (empty = failed).
pub(crate) type Answer = (u16, io::Result<Vec<SocketAddr>>);

struct Shared {
    /// `(host, port)` per spec index; written by the owner thread in `add_spec`, read by the
    /// resolver thread (cold; the feed thread never touches it).
    hosts: Mutex<Vec<(String, u16)>>,
    requests: ArrayQueue<u16>,
    answers: ArrayQueue<Answer>,
    stop: AtomicBool,
}

/// The reactor's side of its resolver thread (started at the first `add_spec`, stopped when
/// the reactor is dropped).
pub(crate) struct Dns {
    resolver: Arc<dyn Resolve>,
    shared: Arc<Shared>,
    thread: Option<std::thread::Thread>,
}

impl Dns {
    pub(crate) fn new(resolver: Arc<dyn Resolve>) -> Self {
        Dns {
            resolver,
            shared: Arc::new(Shared {
                hosts: Mutex::new(Vec::new()),
                requests: ArrayQueue::new(64),
                answers: ArrayQueue::new(64),
                stop: AtomicBool::new(false),
            }),
            thread: None,
        }
    }

    /// Owner thread: resolve once now (start-up) and register the host for later lookups.
    pub(crate) fn register(
        &mut self,
        spec: u16,
        host: &str,
        port: u16,
    ) -> io::Result<Vec<SocketAddr>> {
        {
            let mut hosts = self.shared.hosts.lock().unwrap_or_else(|e| e.into_inner());
            if hosts.len() <= spec as usize {
                hosts.resize(spec as usize + 1, (String::new(), 0));
            }
            hosts[spec as usize] = (host.to_owned(), port);
        }
        if self.thread.is_none() {
            let sh = self.shared.clone();
            let resolver = self.resolver.clone();
            let handle = std::thread::Builder::new()
                .name("cexfeed-dns".into())
                .spawn(move || run(&sh, &*resolver))?;
            self.thread = Some(handle.thread().clone());
        }
        let addrs = self.resolver.resolve(host, port)?;
        if addrs.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no address"));
        }
        Ok(addrs)
    }

    /// Feed thread: ask for a fresh lookup of `spec` (lock-free, no allocation). False if the
    /// queue is full (the caller asks again at the next failure).
    #[inline]
    pub(crate) fn request(&self, spec: u16) -> bool {
        let ok = self.shared.requests.push(spec).is_ok();
        if let Some(t) = &self.thread {
            t.unpark();
        }
        ok
    }

    /// Feed thread: a finished lookup, if any.
    #[inline]
    pub(crate) fn try_answer(&self) -> Option<Answer> {
        self.shared.answers.pop()
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = &self.thread {
            t.unpark();
        }
    }
}

fn run(sh: &Shared, resolver: &dyn Resolve) {
    while !sh.stop.load(Ordering::Relaxed) {
        let Some(spec) = sh.requests.pop() else {
            std::thread::park_timeout(Duration::from_millis(200));
            continue;
        };
        let target = {
            let hosts = sh.hosts.lock().unwrap_or_else(|e| e.into_inner());
            hosts.get(spec as usize).cloned()
        };
        let Some((host, port)) = target else {
            continue;
        };
        let res = resolver.resolve(&host, port).and_then(|a| {
            if a.is_empty() {
                Err(io::Error::new(io::ErrorKind::NotFound, "no address"))
            } else {
                Ok(a)
            }
        });
        let mut ans = (spec, res);
        // The feed drains answers every iteration; wait for room rather than drop one.
        loop {
            match sh.answers.push(ans) {
                Ok(()) => break,
                Err(a) => {
                    if sh.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    ans = a;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
    }
}
