//! Gate.io USDT futures contract sizes (issue 13, finding 7).
//!
//! Futures sizes are contracts; the base-asset quantity is `size × quanto_multiplier`, and the
//! multiplier differs per contract (BTC_USDT 0.0001, ETH_USDT 0.01, …: protocols.md §4.1;
//! `GET /futures/{settle}/contracts/{contract}`, field `quanto_multiplier` a decimal string —
//! gateio/gateapi-python `docs/Contract.md`). At start-up a contracts thread of the feed fetches
//! each contract's details through its own [`ControlThread`] (blocking HTTPS, never on the feed
//! thread) and [`crate::engine::Engine::start`] waits a bounded time for the first round, so
//! the registry's [`SymbolMeta::contract_multiplier`](crate::types::SymbolMeta) is filled
//! before anything is consumed in the normal case.
//!
//! A failure never yields a wrong multiplier: the symbol's multiplier stays unknown and
//! [`SymbolMeta::base_qty`](crate::types::SymbolMeta::base_qty) answers `None` (the
//! multiplier-dependent value is flagged, not guessed); the book itself is in contracts and
//! unaffected. Transport errors, 5xx and 429 are retried with exponential backoff (1 s, doubled
//! up to 60 s) until they succeed or the engine stops; a 4xx answer (`CONTRACT_NOT_FOUND`) or a
//! body without a valid `quanto_multiplier` is permanent and reported once
//! ([`Multipliers::failures`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::exchange::gateio as gate;
use crate::net::{ControlConfig, ControlThread, HttpMethod, HttpRequest, NetError};
use crate::types::{Qty, SymbolId};

/// First retry delay after a transient failure; doubled per round up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_secs(1);
/// Longest delay between two rounds.
const RETRY_MAX: Duration = Duration::from_secs(60);

/// One feed's contract multipliers, indexed like the feed's symbols; written once each by the
/// contracts thread, read by cold threads.
#[derive(Debug, Default)]
pub(crate) struct Multipliers {
    /// `(symbol, multiplier once known)`.
    pub(crate) symbols: Vec<(SymbolId, String, OnceLock<Qty>)>,
    /// The first round of requests has been answered (successfully or not).
    pub(crate) first_round_done: AtomicBool,
    /// Fetches that failed (transient and permanent).
    pub(crate) failures: AtomicU64,
    /// The last failure, for reports (`contract: why`; no secret can be in it: the request is
    /// public and unsigned).
    pub(crate) last_error: Mutex<Option<String>>,
}

impl Multipliers {
    /// The multiplier of `symbol`, if this feed carries it and it is known.
    pub(crate) fn get(&self, symbol: SymbolId) -> Option<Qty> {
        self.symbols
            .iter()
            .find(|(id, _, _)| *id == symbol)
            .and_then(|(_, _, m)| m.get().copied())
    }

    /// A table filled from a recording's headers (`FileMeta::contract_multipliers`, symbol →
    /// exact decimal text) instead of REST: a replay's. A symbol the recording has no (valid)
    /// size for stays unknown, as it was live.
    pub(crate) fn recorded(
        symbols: &[(SymbolId, String)],
        sizes: &std::collections::BTreeMap<String, String>,
    ) -> Arc<Multipliers> {
        let t = Multipliers {
            symbols: symbols
                .iter()
                .map(|(id, n)| {
                    let slot = OnceLock::new();
                    if let Some(q) = sizes
                        .get(n)
                        .and_then(|s| Qty::parse(s.as_bytes()).ok())
                        .filter(|q| q.0 > 0)
                    {
                        let _ = slot.set(q);
                    }
                    (*id, n.clone(), slot)
                })
                .collect(),
            ..Multipliers::default()
        };
        t.first_round_done.store(true, Ordering::Release);
        Arc::new(t)
    }

    fn fail(&self, name: &str, why: &str) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut e = self.last_error.lock().unwrap_or_else(|e| e.into_inner());
        *e = Some(format!("{name}: {why}"));
    }
}

/// Start the contracts thread of a Gate futures feed: `rest_url` is the REST base
/// (`https://api.gateio.ws` or the loopback venue's). Stops when `stop` is set.
pub(crate) fn spawn(
    rest_url: &str,
    symbols: &[(SymbolId, String)],
    control: ControlConfig,
    stop: Arc<AtomicBool>,
) -> Result<(Arc<Multipliers>, JoinHandle<()>), NetError> {
    let table = Arc::new(Multipliers {
        symbols: symbols
            .iter()
            .map(|(id, n)| (*id, n.clone(), OnceLock::new()))
            .collect(),
        ..Multipliers::default()
    });
    let (client, _join) = ControlThread::spawn(control)?;
    let t = table.clone();
    let base = rest_url.trim_end_matches('/').to_string();
    let handle = std::thread::Builder::new()
        .name("cexfeed-contracts".into())
        .spawn(move || {
            let mut pending: Vec<usize> = (0..t.symbols.len()).collect();
            let mut delay = RETRY_MIN;
            let mut path = String::new();
            while !pending.is_empty() && !stop.load(Ordering::Relaxed) {
                let mut sent = 0usize;
                for &i in &pending {
                    gate::contract_path(&mut path, &t.symbols[i].1);
                    let req = HttpRequest {
                        id: i as u64,
                        method: HttpMethod::Get,
                        url: format!("{base}{path}"),
                        headers: Vec::new(),
                        body: Vec::new(),
                    };
                    if client.submit(req).is_ok() {
                        sent += 1;
                    }
                }
                let mut retry = Vec::new();
                let mut got = 0usize;
                while got < sent && !stop.load(Ordering::Relaxed) {
                    let Some(reply) = client.try_reply() else {
                        std::thread::sleep(Duration::from_millis(2));
                        continue;
                    };
                    got += 1;
                    let i = reply.id as usize;
                    let Some((_, name, slot)) = t.symbols.get(i) else {
                        continue;
                    };
                    match reply.result {
                        Ok((200, body)) => match gate::decode_quanto_multiplier(&body) {
                            Ok(m) => {
                                let _ = slot.set(m);
                            }
                            // Permanent: a wrong or unreadable multiplier is never used.
                            Err(e) => t.fail(name, &format!("quanto_multiplier refused: {e}")),
                        },
                        Ok((status, _)) if status == 429 || status >= 500 => {
                            t.fail(name, &format!("HTTP {status}, retried"));
                            retry.push(i);
                        }
                        Ok((status, _)) => t.fail(name, &format!("HTTP {status}, not retried")),
                        Err(e) => {
                            t.fail(name, &format!("{e}, retried"));
                            retry.push(i);
                        }
                    }
                }
                // Submitted but not answered (queue full): ask again next round.
                if sent < pending.len() {
                    for &i in &pending {
                        if t.symbols[i].2.get().is_none() && !retry.contains(&i) {
                            retry.push(i);
                        }
                    }
                }
                t.first_round_done.store(true, Ordering::Release);
                pending = retry;
                if pending.is_empty() {
                    break;
                }
                let until = Instant::now() + delay;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                delay = (delay * 2).min(RETRY_MAX);
            }
            t.first_round_done.store(true, Ordering::Release);
            client.stop();
        })
        .map_err(NetError::Io)?;
    Ok((table, handle))
}
