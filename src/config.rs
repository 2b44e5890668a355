//! Configuration: plain structs with documented defaults, parsed from TOML with serde (unknown
//! keys refused), checked by [`Config::validate`] (errors name the key and the problem) and turned
//! into what the [`Engine`](crate::engine::Engine) runs by [`Config::resolve`] — the one place
//! where URLs, credentials, CA files and every default are decided. The `cexfeed` command, its
//! demo and a library user all go through `resolve`. See `cexfeed.example.toml` for every key.
//!
//! ```no_run
//! use cexfeed::config::Config;
//! use cexfeed::engine::Engine;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let cfg = Config::load(std::path::Path::new("cexfeed.example.toml"))?;
//! let resolved = cfg.resolve()?; // keys read from the environment variables the file names
//! let mut engine = Engine::new(resolved.engine)?;
//! let rx = engine.consumer()?;
//! for channel in &resolved.channels {
//!     engine.bind(channel, rx.id())?;
//! }
//! engine.start()?;
//! # Ok(()) }
//! ```
//!
//! # Defaults, all of them
//!
//! | knob | default | where it applies |
//! |---|---|---|
//! | `runtime.wait` | `spin` | every feed thread |
//! | `runtime.framing` | `own` ([`Framing::default`]) | WebSocket framing of every connection: `own` (`net::ws`) or `tungstenite` (ARCHITECTURE.md, issue 14) |
//! | `runtime.ring_capacity` | 65 536 events | each consumer ring |
//! | `runtime.book_pool` | `ring_capacity` + [`MAX_SYMBOLS`] + 64 (no update ever waits for a slot) | pooled book slots per consumer ring |
//! | `runtime.top_n` | 20 | levels per side in a pooled book |
//! | `runtime.book_depth` | 5 000 | levels per side in the authoritative book |
//! | `runtime.sync_buffer` | 1 024 | deltas buffered while a snapshot is in flight |
//! | `runtime.idle_timeout_ms` | 30 000 | silence before books go stale and the connection is replaced |
//! | `runtime.resync_timeout_ms` | 15 000 | Gate.io: a book resyncing this long is resubscribed (deadline doubling), then its connection replaced |
//! | `runtime.max_message_bytes` | 4 MiB | largest WebSocket message |
//! | `runtime.so_rcvbuf` | 0 (OS default) | kernel receive buffer |
//! | `feed.channels` | orderbook, trades, bbo | |
//! | `feed.ws_url`, `feed.rest_url` | the exchange's production endpoints ([`default_urls`]) | |
//! | `feed.book_channel` (Gate.io) | `obu` | |
//! | `feed.depth` | MEXC 5 000 (REST limit); Gate.io obu 50; order_book_update 100 ([`default_depth`]); Gate.io: derived from `interval` when only that is set | |
//! | `feed.interval` | MEXC `10ms`; Gate.io obu `20ms`; order_book_update `100ms` ([`default_interval`]); Gate.io: derived from `depth` when only that is set | |
//! | Gate.io book-stream combinations | obu 50 @ 20ms, 400 @ 100ms; spot order_book_update 20 @ 20ms, 100 @ 100ms; futures 20 @ 20ms, 20/50/100 @ 100ms (`exchange::gateio::channel::book_stream`) | REST snapshot `limit` = the stream's levels |
//! | app-level ping | MEXC 20 s, Gate.io 10 s ([`ping_interval`]) | not a key |
//! | connection rotation | [`ROTATE_AFTER`] (23 h, before MEXC's 24 h limit) | not a key |
//! | `publish.channels` | every channel the run binds | `[publish]` (feature `ipc`): what is published over iceoryx2 |
//! | `publish.prefix` | `cexfeed` | service names `<prefix>/<channel>` |
//! | `publish.buffer` | 1 024 | records each subscriber holds per service before its oldest is overwritten |
//! | `publish.max_subscribers` | 16 | subscribers per service (shared memory = subscribers × buffer records) |
//! | `feed.listen_key_keepalive_s` (MEXC) | 1 800 ([`LISTEN_KEY_KEEPALIVE`]; keys expire 60 min after the last keep-alive) | a failed keep-alive that leaves the key valid is retried within a minute |

use crate::channel::{symbol_form, valid_symbol, Kind};
use crate::engine::EngineConfig;
pub use crate::engine::MAX_SYMBOLS;
use crate::feed::FeedSetup;
pub use crate::net::{Framing, WaitMode};
use crate::secret::{Credentials, Secret};
use crate::types::{Market, Venue};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Age at which a connection is replaced make-before-break (MEXC closes at 24 h).
pub const ROTATE_AFTER: Duration = Duration::from_secs(23 * 3600);
/// MEXC listen-key keep-alive period (a key expires 60 min after its last keep-alive).
pub const LISTEN_KEY_KEEPALIVE: Duration = Duration::from_secs(30 * 60);

/// The exchanges' production endpoints `(websocket, rest)` per venue and market.
pub fn default_urls(venue: Venue, market: Market) -> (&'static str, &'static str) {
    use crate::exchange::{gateio, mexc};
    match (venue, market) {
        (Venue::Mexc, _) => (mexc::WS_URL, mexc::REST_BASE),
        (Venue::Gateio, Market::Spot) => (gateio::SPOT_WS_URL, gateio::REST_BASE),
        (Venue::Gateio, Market::Futures) => (gateio::FUTURES_USDT_WS_URL, gateio::REST_BASE),
    }
}

/// Book depth when `depth` is not set: MEXC REST snapshot limit, Gate.io obu depth or
/// order_book_update level.
pub const fn default_depth(venue: Venue, book_channel: GateBookChannel) -> u32 {
    match (venue, book_channel) {
        (Venue::Mexc, _) => 5000,
        (Venue::Gateio, GateBookChannel::Obu) => 50,
        (Venue::Gateio, GateBookChannel::OrderBookUpdate) => 100,
    }
}

/// Update interval when `interval` is not set.
pub const fn default_interval(venue: Venue, book_channel: GateBookChannel) -> &'static str {
    match (venue, book_channel) {
        (Venue::Mexc, _) => "10ms",
        (Venue::Gateio, GateBookChannel::Obu) => "20ms",
        (Venue::Gateio, GateBookChannel::OrderBookUpdate) => "100ms",
    }
}

/// App-level ping period: MEXC closes a connection silent for a minute (`PING` every 20 s);
/// Gate.io asks for `*.ping` about every 10 s.
pub const fn ping_interval(venue: Venue) -> Duration {
    match venue {
        Venue::Mexc => Duration::from_secs(20),
        Venue::Gateio => Duration::from_secs(10),
    }
}

/// Gate.io book source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum GateBookChannel {
    /// `*.obu` (Order Book V2): self-snapshotting, resubscribe on gap.
    #[default]
    Obu,
    /// `*.order_book_update` bridged with a REST snapshot.
    OrderBookUpdate,
}

/// `[runtime]`: sizes, timeouts and the wait strategy shared by every feed. Defaults in the
/// module's table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Runtime {
    /// Wait strategy of every feed thread.
    pub wait: WaitMode,
    /// WebSocket framing of every feed's connections: `own` (`net::ws`) or `tungstenite`.
    pub framing: Framing,
    /// Core the strategy / consumer thread is pinned to, if any.
    pub strategy_core: Option<usize>,
    /// Events per consumer ring (power of two not required).
    pub ring_capacity: usize,
    /// Pooled top-N book slots per consumer ring; absent = `ring_capacity + MAX_SYMBOLS + 64`
    /// (enough that no book update ever waits for a slot). Fewer slots save memory: an update
    /// that finds the pool empty is dropped and counted (`pool_empty`).
    pub book_pool: Option<usize>,
    /// Levels per side copied into pooled book slots.
    pub top_n: usize,
    /// Levels per side an authoritative book holds (snapshot depth).
    pub book_depth: usize,
    /// Deltas buffered while a snapshot is in flight.
    pub sync_buffer: usize,
    /// No data for this long on a subscribed connection marks its books stale and reconnects.
    pub idle_timeout_ms: u64,
    /// Gate.io: a book still resyncing after this long is escalated (its stream resubscribed,
    /// the deadline doubling; after two retries its connection replaced). 0 = never.
    pub resync_timeout_ms: u64,
    /// Largest WebSocket message accepted; larger is refused and the connection reconnects.
    pub max_message_bytes: usize,
    /// Kernel receive buffer (SO_RCVBUF); 0 leaves the OS default.
    pub so_rcvbuf: usize,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            wait: WaitMode::Spin,
            framing: Framing::default(),
            strategy_core: None,
            ring_capacity: 65_536,
            book_pool: None,
            top_n: 20,
            book_depth: 5_000,
            sync_buffer: 1_024,
            idle_timeout_ms: 30_000,
            resync_timeout_ms: 15_000,
            max_message_bytes: 4 << 20,
            so_rcvbuf: 0,
        }
    }
}

/// One venue + market connection set.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// `mexc` or `gateio`.
    pub venue: String,
    /// `spot`, or `futures` (Gate.io USDT-margined).
    pub market: String,
    /// Venue-native symbols (`BTCUSDT` on MEXC, `BTC_USDT` on Gate.io).
    pub symbols: Vec<String>,
    /// Kinds to bind for every symbol (public) or once (private): orderbook, trades, bbo, ticker,
    /// `kline.<interval>` (e.g. `kline.1m`), orders, fills, balances, positions.
    #[serde(default = "default_kinds")]
    pub channels: Vec<String>,
    /// Override of the public WebSocket URL (testnet, loopback venue, proxy).
    pub ws_url: Option<String>,
    /// Override of the REST base URL.
    pub rest_url: Option<String>,
    /// Extra CA certificate (PEM) trusted in addition to the web PKI roots (loopback venue, proxy).
    pub ca_file: Option<PathBuf>,
    /// Core this feed's thread is pinned to.
    pub core: Option<usize>,
    /// Gate.io: `obu` (default) or `order_book_update`.
    #[serde(default)]
    pub book_channel: GateBookChannel,
    /// Gate.io obu depth (50 @ 20ms, 400 @ 100ms); spot order_book_update: the levels its
    /// interval carries (20 @ 20ms, 100 @ 100ms); futures order_book_update level (20 @ 20ms;
    /// 20, 50 or 100 @ 100ms). MEXC snapshot limit. Gate.io REST snapshots are limited to it.
    pub depth: Option<u32>,
    /// Update interval: MEXC `10ms`/`100ms`, Gate.io `20ms`/`100ms` (see `depth` for the pairs
    /// Gate.io accepts; either is derived from the other when only one is set).
    pub interval: Option<String>,
    /// Names of the environment variables holding the API key and secret (private channels).
    pub api_key_env: Option<String>,
    /// See `api_key_env`.
    pub api_secret_env: Option<String>,
    /// Gate.io futures numeric user id for private payloads.
    pub user_id: Option<u64>,
    /// MEXC: seconds between listen-key keep-alives (default 1 800; a key expires 3 600 s after
    /// its last keep-alive, so 1 … 3 599).
    pub listen_key_keepalive_s: Option<u64>,
    /// Credentials handed over in code (a library user's own vault, the demo's venue keys);
    /// they take the place of `api_key_env`/`api_secret_env`. Never read from a file.
    #[serde(skip)]
    pub credentials: Option<Credentials>,
}

fn default_kinds() -> Vec<String> {
    ["orderbook", "trades", "bbo"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// The whole file: run length, report path, `[runtime]` and one `[[feed]]` per venue + market.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Seconds to run; 0 or absent = until interrupted.
    #[serde(default)]
    pub duration_s: u64,
    /// Where to write the JSON report (and `.hgrm` files beside it).
    pub report: Option<PathBuf>,
    /// `[runtime]`.
    #[serde(default)]
    pub runtime: Runtime,
    /// The `[[feed]]` tables.
    #[serde(default, rename = "feed")]
    pub feeds: Vec<FeedConfig>,
    /// `[publish]`: fan the run's events out to other processes over iceoryx2 (needs the `ipc`
    /// feature, on in the `cexfeed` binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<PublishConfig>,
    /// `[record]`: when present, every feed's traffic is recorded while it runs (issue 15,
    /// `docs/recording.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordConfig>,
}

/// `[publish]`: what a run publishes over iceoryx2 shared memory (see `cexfeed::ipc`).
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PublishConfig {
    /// Channel names to publish; empty or absent = every channel the run binds.
    #[serde(default)]
    pub channels: Vec<String>,
    /// Service-name prefix; default `cexfeed`.
    pub prefix: Option<String>,
    /// Records each subscriber holds per service before its oldest is overwritten; default 1 024.
    pub buffer: Option<usize>,
    /// Subscribers per service; default 16.
    pub max_subscribers: Option<usize>,
    /// Core to pin the publishing thread to; none = not pinned.
    pub core: Option<usize>,
}

/// `[publish]` with every default decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPublish {
    /// Channel names to publish (canonical, each bound by the run).
    pub channels: Vec<String>,
    /// Service-name prefix.
    pub prefix: String,
    /// Records per subscriber and service.
    pub buffer: usize,
    /// Subscribers per service.
    pub max_subscribers: usize,
    /// Core for the publishing thread.
    pub core: Option<usize>,
}

/// `[record]`: where and how a run is recorded. Every key has a default; an empty `[record]`
/// table records into `./recordings`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordConfig {
    /// Directory of the files (created if missing). Default `recordings`.
    pub dir: PathBuf,
    /// Ring between each feed thread and its recorder thread, MiB (default 64). A full ring
    /// loses records (counted, and marked in the file by a gap record); the feed never waits.
    pub ring_mb: usize,
    /// Uncompressed bytes per zstd frame, KiB (default 1024).
    pub frame_kb: usize,
    /// zstd level, 1 … 19 (default 3).
    pub level: i32,
    /// A new file after this many MiB (default 256).
    pub max_file_mb: u64,
    /// A new file after this many seconds (default 3 600; 0 = by size only).
    pub rotate_s: u64,
}

impl Default for RecordConfig {
    fn default() -> Self {
        let d = crate::record::RecordSetup::default();
        RecordConfig {
            dir: d.dir,
            ring_mb: d.ring_bytes >> 20,
            frame_kb: d.frame_bytes >> 10,
            level: d.level,
            max_file_mb: d.max_file_bytes >> 20,
            rotate_s: d.rotate_after.as_secs(),
        }
    }
}

/// A feed after validation: enums instead of strings.
#[derive(Debug, Clone)]
pub struct ResolvedFeed {
    /// The exchange.
    pub venue: Venue,
    /// The market.
    pub market: Market,
    /// The channel kinds asked for, each once.
    pub kinds: Vec<Kind>,
    /// The table as written.
    pub raw: FeedConfig,
}

/// Why a configuration was refused; every message names the file or the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema (unknown keys included).
    #[error("config {path}: {message}")]
    Parse {
        /// The file (or the origin given to `from_toml`).
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value out of range or inconsistent with another, or a credential or CA file that
    /// cannot be read.
    #[error("config key `{key}`: {problem}")]
    Invalid {
        /// The key, as `feed[1].symbols[0]`.
        key: String,
        /// What is wrong and what would be right.
        problem: String,
    },
}

fn invalid(key: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
    }
}

impl Config {
    /// This configuration as TOML (what a recording stores in its header; credentials are
    /// never in it: `credentials` is not serialized and the file names environment variables).
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// `[record]` → the recorder's settings (checked; errors name the key).
    fn record_setup(&self, r: &RecordConfig) -> Result<crate::record::RecordSetup, ConfigError> {
        if r.ring_mb == 0 || r.ring_mb > 4096 {
            return Err(invalid("record.ring_mb", "must be 1 … 4096"));
        }
        if r.frame_kb == 0 || r.frame_kb > 16 * 1024 {
            return Err(invalid("record.frame_kb", "must be 1 … 16384"));
        }
        if !(1..=19).contains(&r.level) {
            return Err(invalid("record.level", "must be 1 … 19"));
        }
        if r.max_file_mb == 0 {
            return Err(invalid("record.max_file_mb", "must be greater than 0"));
        }
        if r.dir.as_os_str().is_empty() {
            return Err(invalid("record.dir", "must not be empty"));
        }
        Ok(crate::record::RecordSetup {
            dir: r.dir.clone(),
            ring_bytes: r.ring_mb << 20,
            frame_bytes: r.frame_kb << 10,
            level: r.level,
            max_file_bytes: r.max_file_mb << 20,
            rotate_after: Duration::from_secs(r.rotate_s),
            flush_after: Duration::from_secs(1),
            config_text: self.to_toml(),
        })
    }

    /// Read and parse a TOML file (not validated yet: see [`Config::resolve`]).
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Config::from_toml(&text, &path.display().to_string())
    }

    /// Parse TOML text; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Config, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string(),
        })
    }

    /// Check every value; the error names the key (`feed[1].symbols[0]`) and the problem.
    pub fn validate(&self) -> Result<Vec<ResolvedFeed>, ConfigError> {
        let rt = &self.runtime;
        let positive = [
            ("runtime.ring_capacity", rt.ring_capacity),
            ("runtime.book_pool", rt.book_pool.unwrap_or(1)),
            ("runtime.top_n", rt.top_n),
            ("runtime.book_depth", rt.book_depth),
            ("runtime.sync_buffer", rt.sync_buffer),
            ("runtime.max_message_bytes", rt.max_message_bytes),
        ];
        for (key, v) in positive {
            if v == 0 {
                return Err(invalid(key, "must be greater than 0"));
            }
        }
        if rt.top_n > rt.book_depth {
            return Err(invalid(
                "runtime.top_n",
                format!("{} exceeds runtime.book_depth {}", rt.top_n, rt.book_depth),
            ));
        }
        if rt.idle_timeout_ms < 100 {
            return Err(invalid("runtime.idle_timeout_ms", "must be at least 100"));
        }
        if self.feeds.is_empty() {
            return Err(invalid("feed", "at least one [[feed]] table is required"));
        }
        let mut out = Vec::new();
        for (i, f) in self.feeds.iter().enumerate() {
            let k = |name: &str| format!("feed[{i}].{name}");
            let venue = Venue::parse(&f.venue).ok_or_else(|| {
                invalid(
                    k("venue"),
                    format!("{:?}: expected mexc or gateio", f.venue),
                )
            })?;
            let market = Market::parse(&f.market).ok_or_else(|| {
                invalid(
                    k("market"),
                    format!("{:?}: expected spot or futures", f.market),
                )
            })?;
            if venue == Venue::Mexc && market != Market::Spot {
                return Err(invalid(k("market"), "mexc supports spot only"));
            }
            if f.symbols.is_empty()
                && f.channels
                    .iter()
                    .any(|c| Kind::parse(c).is_some_and(|k| !k.is_private()))
            {
                return Err(invalid(
                    k("symbols"),
                    "public channels need at least one symbol",
                ));
            }
            for (j, s) in f.symbols.iter().enumerate() {
                if !valid_symbol(venue, s) {
                    return Err(invalid(
                        format!("feed[{i}].symbols[{j}]"),
                        format!(
                            "{s:?} is not in {}'s form: {}",
                            venue.as_str(),
                            symbol_form(venue)
                        ),
                    ));
                }
            }
            let mut kinds = Vec::new();
            for (j, c) in f.channels.iter().enumerate() {
                let kind = Kind::parse(c).ok_or_else(|| {
                    invalid(
                        format!("feed[{i}].channels[{j}]"),
                        format!("{c:?}: expected orderbook, trades, bbo, ticker, kline.<interval>, orders, fills, balances or positions"),
                    )
                })?;
                if let Kind::Kline(iv) = kind {
                    if iv.venue_code(venue).is_none() {
                        return Err(invalid(
                            format!("feed[{i}].channels[{j}]"),
                            format!(
                                "{c:?}: {} klines are {}",
                                venue.as_str(),
                                crate::types::Interval::accepted(venue)
                            ),
                        ));
                    }
                }
                if kind == Kind::Positions && market == Market::Spot {
                    return Err(invalid(
                        format!("feed[{i}].channels[{j}]"),
                        "positions exist on futures only",
                    ));
                }
                if kind.is_private()
                    && f.credentials.is_none()
                    && (f.api_key_env.is_none() || f.api_secret_env.is_none())
                {
                    return Err(invalid(
                        k("api_key_env"),
                        format!("private channel {c:?} needs api_key_env and api_secret_env"),
                    ));
                }
                if kind.is_private()
                    && venue == Venue::Gateio
                    && market == Market::Futures
                    && f.user_id.is_none()
                {
                    return Err(invalid(
                        k("user_id"),
                        "gateio futures private channels need the numeric user_id",
                    ));
                }
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
            if let Some(ka) = f.listen_key_keepalive_s {
                // A MEXC key expires 60 min after its last keep-alive (protocols.md §1.8).
                if ka == 0 || ka >= 3600 {
                    return Err(invalid(
                        k("listen_key_keepalive_s"),
                        "must be 1 … 3599 seconds (a listen key expires 3600 s after its last keep-alive; 1800 recommended)",
                    ));
                }
            }
            for (key, url, schemes) in [
                ("ws_url", &f.ws_url, ["ws://", "wss://"]),
                ("rest_url", &f.rest_url, ["http://", "https://"]),
            ] {
                if let Some(u) = url {
                    if !schemes.iter().any(|s| u.starts_with(s)) {
                        return Err(invalid(
                            k(key),
                            format!("{u:?} must start with {} or {}", schemes[0], schemes[1]),
                        ));
                    }
                    // API keys, signatures and listen keys travel in REST requests: clear
                    // text only to this machine.
                    // Likewise subscriptions, signed logins and a listen key on the WebSocket
                    // (issue 13): plain ws:// only to this machine.
                    let plain = if key == "rest_url" {
                        "http://"
                    } else {
                        "ws://"
                    };
                    if u.starts_with(plain)
                        && !crate::net::host_of(u).is_some_and(crate::net::is_loopback_host)
                    {
                        return Err(invalid(
                            k(key),
                            format!("{u:?}: plain {plain} is allowed for loopback hosts only (localhost, 127.0.0.1, ::1); use {}", schemes[1]),
                        ));
                    }
                }
            }
            if let Some(ca) = &f.ca_file {
                if !ca.exists() {
                    return Err(invalid(
                        k("ca_file"),
                        format!("{} does not exist", ca.display()),
                    ));
                }
            }
            match venue {
                Venue::Mexc => {
                    if let Some(iv) = f
                        .interval
                        .as_deref()
                        .filter(|i| !matches!(*i, "10ms" | "100ms"))
                    {
                        return Err(invalid(
                            k("interval"),
                            format!("{iv:?}: mexc takes 10ms or 100ms"),
                        ));
                    }
                    if let Some(d) = f.depth.filter(|d| !(1..=5000).contains(d)) {
                        return Err(invalid(
                            k("depth"),
                            format!("{d} is not offered (mexc snapshot limit 1..=5000)"),
                        ));
                    }
                }
                // Every interval/depth pair Gate refuses (or that would leave levels nothing
                // updates) is refused here, naming the key: the table is
                // `exchange::gateio::channel::book_stream`.
                Venue::Gateio => {
                    gate_book_stream(market, f)
                        .map_err(|(key, problem)| invalid(k(key), problem))?;
                }
            }
            if let Some(core) = f.core {
                let cores = std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1);
                if core >= cores {
                    return Err(invalid(
                        k("core"),
                        format!("core {core} does not exist (this machine has {cores})"),
                    ));
                }
            }
            out.push(ResolvedFeed {
                venue,
                market,
                kinds,
                raw: f.clone(),
            });
        }
        Ok(out)
    }
}

/// A Gate.io feed's book stream (`book_channel`, `interval`, `depth`) as Gate accepts it, or
/// the key to blame and why.
fn gate_book_stream(
    market: Market,
    f: &FeedConfig,
) -> Result<crate::exchange::gateio::channel::BookStream, (&'static str, String)> {
    use crate::exchange::gateio::channel::{book_stream, BookParam};
    let obu = f.book_channel == GateBookChannel::Obu;
    book_stream(market, obu, f.interval.as_deref(), f.depth).map_err(|(p, problem)| {
        let key = match p {
            BookParam::Interval => "interval",
            BookParam::Depth => "depth",
        };
        (key, problem)
    })
}

/// A validated [`Config`] turned into what the engine runs.
#[derive(Debug)]
pub struct Resolved {
    /// Feeds with URLs, credentials, CA and every default filled in.
    pub engine: EngineConfig,
    /// The channel names the config asks for (`<venue>.<market>.<kind>[.<SYMBOL>]`), to bind.
    pub channels: Vec<String>,
    /// Where the strategy thread should run (`runtime.strategy_core`).
    pub strategy_core: Option<usize>,
    /// `runtime.wait`, for the strategy side's own loop.
    pub wait: WaitMode,
    /// `[publish]`, if present: channels to publish over iceoryx2 (each also in `channels`).
    pub publish: Option<ResolvedPublish>,
    /// `[record]`, resolved (with this configuration's text for the files' headers): hand it
    /// to [`Engine::record`](crate::engine::Engine::record). `None` without a `[record]` table.
    pub record: Option<crate::record::RecordSetup>,
}

impl Config {
    /// Validate, then decide everything the engine needs: endpoints (overrides or the
    /// production defaults), credentials (in code, or from the environment variables named),
    /// the extra CA, every default. Errors name the key.
    pub fn resolve(&self) -> Result<Resolved, ConfigError> {
        let feeds_v = self.validate()?;
        let rt = &self.runtime;
        let mut feeds = Vec::with_capacity(feeds_v.len());
        let mut channels = Vec::new();
        for (i, f) in feeds_v.iter().enumerate() {
            let raw = &f.raw;
            let key = |name: &str| format!("feed[{i}].{name}");
            let credentials = match (&raw.credentials, &raw.api_key_env, &raw.api_secret_env) {
                (Some(c), _, _) => Some(c.clone()),
                (None, Some(k), Some(s)) => Some(Credentials {
                    api_key: Secret::from_env(k)
                        .map_err(|e| invalid(key("api_key_env"), e.to_string()))?,
                    api_secret: Secret::from_env(s)
                        .map_err(|e| invalid(key("api_secret_env"), e.to_string()))?,
                }),
                _ => None,
            };
            let extra_ca_pem = match &raw.ca_file {
                Some(p) => Some(std::fs::read(p).map_err(|e| {
                    invalid(key("ca_file"), format!("cannot read {}: {e}", p.display()))
                })?),
                None => None,
            };
            // Gate.io: interval and depth as the stream really is (one derived from the other
            // when only one is set), so the REST snapshot limit follows the stream's coverage.
            let (depth, interval) = match f.venue {
                Venue::Gateio => {
                    let s = gate_book_stream(f.market, raw)
                        .map_err(|(k, problem)| invalid(key(k), problem))?;
                    (s.depth, s.interval.to_string())
                }
                Venue::Mexc => (
                    raw.depth
                        .unwrap_or(default_depth(f.venue, raw.book_channel)),
                    raw.interval
                        .clone()
                        .unwrap_or_else(|| default_interval(f.venue, raw.book_channel).to_string()),
                ),
            };
            let (ws, rest) = default_urls(f.venue, f.market);
            let ws_url = raw.ws_url.clone().unwrap_or_else(|| ws.to_string());
            feeds.push(FeedSetup {
                venue: f.venue,
                market: f.market,
                private_ws_url: ws_url.clone(),
                ws_url,
                rest_url: raw.rest_url.clone().unwrap_or_else(|| rest.to_string()),
                extra_ca_pem,
                credentials,
                user_id: raw.user_id,
                gate_obu: f.venue == Venue::Gateio && raw.book_channel == GateBookChannel::Obu,
                depth,
                interval,
                core: raw.core,
                wait: rt.wait,
                framing: rt.framing,
                symbols: raw
                    .symbols
                    .iter()
                    .map(|s| (Default::default(), s.clone()))
                    .collect(),
                book_levels: rt.book_depth,
                sync_buffer: rt.sync_buffer,
                idle_timeout: Duration::from_millis(rt.idle_timeout_ms),
                max_message_bytes: rt.max_message_bytes,
                so_rcvbuf: rt.so_rcvbuf.min(u32::MAX as usize) as u32,
                ping_interval: ping_interval(f.venue),
                resync_timeout: Duration::from_millis(rt.resync_timeout_ms),
                rotate_after: ROTATE_AFTER,
                listen_key_keepalive: raw
                    .listen_key_keepalive_s
                    .map_or(LISTEN_KEY_KEEPALIVE, Duration::from_secs),
            });
            let prefix = format!("{}.{}", f.venue.as_str(), f.market.as_str());
            for s in &raw.symbols {
                for k in f.kinds.iter().filter(|k| !k.is_private()) {
                    channels.push(format!("{prefix}.{k}.{s}"));
                }
            }
            for k in f.kinds.iter().filter(|k| k.is_private()) {
                channels.push(format!("{prefix}.{}", k.as_str()));
            }
        }
        Ok(Resolved {
            engine: EngineConfig {
                feeds,
                ring_capacity: rt.ring_capacity,
                top_n: rt.top_n,
                book_pool: rt.book_pool.unwrap_or(rt.ring_capacity + MAX_SYMBOLS + 64),
                control_core: None,
            },
            publish: match &self.publish {
                None => None,
                Some(p) => {
                    let mut pc = Vec::with_capacity(p.channels.len());
                    for (i, c) in p.channels.iter().enumerate() {
                        let ch = crate::channel::Channel::parse(c).map_err(|e| {
                            invalid(format!("publish.channels[{i}]"), e.to_string())
                        })?;
                        let name = ch.to_string();
                        if !channels.contains(&name) {
                            return Err(invalid(
                                format!("publish.channels[{i}]"),
                                format!("{name} is not a channel this run binds (see [[feed]] symbols and channels)"),
                            ));
                        }
                        pc.push(name);
                    }
                    if pc.is_empty() {
                        pc = channels.clone();
                    }
                    let buffer = p.buffer.unwrap_or(1024);
                    let max_subscribers = p.max_subscribers.unwrap_or(16);
                    if buffer == 0 || buffer > 1 << 20 {
                        return Err(invalid("publish.buffer", "must be 1..=1048576"));
                    }
                    if max_subscribers == 0 || max_subscribers > 256 {
                        return Err(invalid("publish.max_subscribers", "must be 1..=256"));
                    }
                    Some(ResolvedPublish {
                        channels: pc,
                        prefix: p.prefix.clone().unwrap_or_else(|| "cexfeed".into()),
                        buffer,
                        max_subscribers,
                        core: p.core,
                    })
                }
            },
            channels,
            strategy_core: rt.strategy_core,
            wait: rt.wait,
            record: match &self.record {
                Some(r) => Some(self.record_setup(r)?),
                None => None,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(toml: &str) -> String {
        match Config::from_toml(toml, "t.toml") {
            Err(e) => e.to_string(),
            Ok(c) => c
                .validate()
                .map(|_| String::new())
                .unwrap_or_else(|e| e.to_string()),
        }
    }

    /// Issue 14: `runtime.framing` reaches every feed; the example spells out the default;
    /// anything but `own` / `tungstenite` is refused.
    #[test]
    fn runtime_framing_is_carried_to_every_feed() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("cexfeed.example.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("framing = \"own\""));
        let cfg = Config::from_toml(&text, "example").unwrap();
        assert_eq!(cfg.runtime.framing, Framing::default());
        let tg = text.replace("framing = \"own\"", "framing = \"tungstenite\"");
        let r = Config::from_toml(&tg, "example")
            .unwrap()
            .resolve()
            .unwrap();
        assert!(r
            .engine
            .feeds
            .iter()
            .all(|f| f.framing == Framing::Tungstenite));
        let bad = text.replace("framing = \"own\"", "framing = \"tokio\"");
        assert!(Config::from_toml(&bad, "example").is_err());
    }

    #[test]
    fn sample_config_in_repo_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("cexfeed.example.toml");
        let cfg = Config::load(&path).unwrap();
        let feeds = cfg.validate().unwrap();
        assert_eq!(feeds.len(), 3);
        // Issue 17: the example binds 1-minute candles on every feed.
        let r = cfg.resolve().unwrap();
        for ch in [
            "mexc.spot.kline.1m.BTCUSDT",
            "mexc.spot.ticker.ETHUSDT",
            "gateio.futures.kline.1m.ETH_USDT",
        ] {
            assert!(r.channels.iter().any(|c| c == ch), "{ch}: {:?}", r.channels);
            crate::channel::Channel::parse(ch).unwrap();
        }
    }

    #[test]
    fn errors_name_key_and_problem() {
        let base = "[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\n";
        assert_eq!(err_of(base), "");
        let cases = [
            (base.replace("gateio", "kraken"), "feed[0].venue"),
            (base.replace("spot", "margin"), "feed[0].market"),
            (base.replace("BTC_USDT", "btcusdt"), "feed[0].symbols[0]"),
            (
                format!("{base}channels = [\"depth\"]\n"),
                "feed[0].channels[0]",
            ),
            (
                format!("{base}channels = [\"orders\"]\n"),
                "feed[0].api_key_env",
            ),
            (format!("{base}ws_url = \"http://x\"\n"), "feed[0].ws_url"),
            (format!("{base}depth = 7\n"), "feed[0].depth"),
            (format!("{base}bogus = 1\n"), "unknown field `bogus`"),
            (
                format!("[runtime]\nring_capacity = 0\n{base}"),
                "runtime.ring_capacity",
            ),
            (format!("[runtime]\nwait = \"sleep\"\n{base}"), "wait"),
            (String::from("duration_s = 5\n"), "at least one [[feed]]"),
            // Issue 17: a kline interval the venue lacks, or none at all.
            (
                format!("{base}channels = [\"kline.1M\"]\n"),
                "gateio klines are 10s 1m 5m 15m 30m 1h 4h 8h 1d 1w",
            ),
            (
                format!("{base}channels = [\"kline\"]\n"),
                "feed[0].channels[0]",
            ),
        ];
        for (toml, needle) in cases {
            let e = err_of(&toml);
            assert!(e.contains(needle), "{toml:?} -> {e:?} lacks {needle:?}");
        }
    }

    /// Issue 13, finding 1: every Gate.io depth/interval pair Gate refuses (or that leaves
    /// levels no push updates) is refused at config time, naming the key; the resolved depth
    /// (the REST snapshot limit) is what the stream really covers.
    #[test]
    fn issue13_finding1_gate_depth_interval_validated_and_rest_limit_follows_stream() {
        let feed = |market: &str, extra: &str| {
            format!("[[feed]]\nvenue = \"gateio\"\nmarket = \"{market}\"\nsymbols = [\"BTC_USDT\"]\n{extra}")
        };
        let oba = "book_channel = \"order_book_update\"\n";
        for (market, extra, key) in [
            ("spot", format!("{oba}depth = 50\n"), "feed[0].depth"),
            (
                "spot",
                format!("{oba}depth = 100\ninterval = \"20ms\"\n"),
                "feed[0].depth",
            ),
            (
                "futures",
                format!("{oba}depth = 100\ninterval = \"20ms\"\n"),
                "feed[0].depth",
            ),
            (
                "futures",
                format!("{oba}depth = 50\ninterval = \"20ms\"\n"),
                "feed[0].depth",
            ),
            (
                "spot",
                "depth = 400\ninterval = \"20ms\"\n".to_string(),
                "feed[0].interval",
            ),
            (
                "futures",
                "depth = 50\ninterval = \"100ms\"\n".to_string(),
                "feed[0].interval",
            ),
            (
                "spot",
                format!("{oba}interval = \"1000ms\"\n"),
                "feed[0].interval",
            ),
        ] {
            let e = err_of(&feed(market, &extra));
            assert!(e.contains(key), "{market} {extra:?} -> {e:?} lacks {key}");
        }
        let resolved = |market: &str, extra: &str| {
            let cfg = Config::from_toml(&feed(market, extra), "t.toml").unwrap();
            let f = &cfg.resolve().unwrap().engine.feeds[0];
            (f.interval.clone(), f.depth)
        };
        // Spot 20ms carries 20 levels: the REST snapshot limit is 20, not the old default 100.
        assert_eq!(
            resolved("spot", &format!("{oba}interval = \"20ms\"\n")),
            ("20ms".into(), 20)
        );
        assert_eq!(
            resolved("spot", &format!("{oba}depth = 20\n")),
            ("20ms".into(), 20)
        );
        assert_eq!(
            resolved("futures", &format!("{oba}interval = \"20ms\"\n")),
            ("20ms".into(), 20)
        );
        assert_eq!(
            resolved("futures", &format!("{oba}depth = 50\n")),
            ("100ms".into(), 50)
        );
        assert_eq!(resolved("spot", "depth = 400\n"), ("100ms".into(), 400));
        assert_eq!(resolved("spot", ""), ("20ms".into(), 50));
    }

    /// Issue 13: a plain `ws://` WebSocket URL (subscriptions, signed logins, a listen key in
    /// clear) is refused at config time unless its host is loopback; the error names the key.
    #[test]
    fn issue13_plain_ws_url_only_for_loopback() {
        let base = "[[feed]]\nvenue = \"gateio\"\nmarket = \"spot\"\nsymbols = [\"BTC_USDT\"]\n";
        for ok in [
            "wss://api.gateio.ws/ws/v4/",
            "ws://127.0.0.1:8080/ws/v4/",
            "ws://localhost:1/x",
        ] {
            assert_eq!(err_of(&format!("{base}ws_url = \"{ok}\"\n")), "", "{ok}");
        }
        for bad in ["ws://api.gateio.ws/ws/v4/", "ws://10.1.2.3:80/ws"] {
            let e = err_of(&format!("{base}ws_url = \"{bad}\"\n"));
            assert!(
                e.contains("feed[0].ws_url") && e.contains("loopback") && e.contains("wss://"),
                "{bad}: {e}"
            );
        }
    }

    /// Issue 12, defect 5 (redirects / https only): a plain `http://` REST URL is refused at
    /// config time unless its host is loopback; the error names the key.
    #[test]
    fn issue12_defect5_plain_http_rest_url_only_for_loopback() {
        let base = "[[feed]]\nvenue = \"mexc\"\nmarket = \"spot\"\nsymbols = [\"BTCUSDT\"]\n";
        for ok in [
            "https://api.mexc.com",
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert_eq!(err_of(&format!("{base}rest_url = \"{ok}\"\n")), "", "{ok}");
        }
        for bad in [
            "http://api.mexc.com",
            "http://10.1.2.3:80",
            "http://localhost.example.com",
        ] {
            let e = err_of(&format!("{base}rest_url = \"{bad}\"\n"));
            assert!(
                e.contains("feed[0].rest_url") && e.contains("loopback"),
                "{bad}: {e}"
            );
        }
    }

    /// Issue 13, finding 4: the keep-alive period is a key of the feed's section (default
    /// 1800 s), checked against the key's 60 min life.
    #[test]
    fn issue13_finding4_listen_key_keepalive_s_is_a_feed_key() {
        let base = "[[feed]]\nvenue = \"mexc\"\nmarket = \"spot\"\nsymbols = [\"BTCUSDT\"]\n";
        let r = Config::from_toml(base, "t").unwrap().resolve().unwrap();
        assert_eq!(
            r.engine.feeds[0].listen_key_keepalive,
            Duration::from_secs(1800)
        );
        let with = format!("{base}listen_key_keepalive_s = 5\n");
        let r = Config::from_toml(&with, "t").unwrap().resolve().unwrap();
        assert_eq!(
            r.engine.feeds[0].listen_key_keepalive,
            Duration::from_secs(5)
        );
        for bad in ["0", "3600"] {
            let e = err_of(&format!("{base}listen_key_keepalive_s = {bad}\n"));
            assert!(e.contains("feed[0].listen_key_keepalive_s"), "{e}");
        }
    }
}
