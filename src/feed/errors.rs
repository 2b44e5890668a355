//! Feed-thread errors, two tiers. The feed thread never formats or allocates to report one: it
//! fills a [`FeedError`] (`Copy`: kind, venue, market, symbol id, code, and the venue's own text
//! copied inline) and appends it to the feed's bounded [`ErrorLog`] in
//! [`FeedShared`](super::FeedShared) — the status path cold threads already read. Text is made
//! only on the cold side, by [`FeedError::write_text`] / [`ErrorLog::texts`] (report, CLI).
//!
//! Consumers bound to the failing channel are told separately, through an `Error` event on
//! their ring ([`FeedCore::route_error`](super::FeedCore::route_error)); the log is for
//! operators.

use crate::ring::{InlineStr, NO_SYMBOL};
use crate::types::{Market, SymbolId, Venue};
use std::fmt::{self, Write as _};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// What went wrong: one variant per distinct cause, each with the action the feed took.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedErrorKind {
    /// The venue refused a subscription or reported a channel error (`code` = the venue's
    /// code). Routed to the channel's consumers; Gate code 4 = authentication, retried.
    Channel,
    /// A subscription was not acknowledged within 10 s (MEXC). Routed as an error.
    AckTimeout,
    /// A REST book snapshot answered an HTTP error status (`code`); fetched again.
    SnapshotHttp,
    /// A REST book snapshot failed (transport or body; `detail`); fetched again.
    SnapshotFailed,
    /// A book stayed resyncing past its deadline (`code` = the escalation, 1-based): its
    /// stream resubscribed, or (`detail` says so) its connection replaced.
    ResyncTimeout,
    /// The venue sent an informational notice (Gate.io `*.system`; `arg` = its type,
    /// `detail` = its text). Not an error of ours; logged so the operator sees it.
    VenueNotice,
    /// MEXC: no free connection slot for another shard (raise `max_conns`).
    NoShardSlot,
    /// MEXC: the venue refused to create a listen key (`code`, `detail`); retried with backoff.
    ListenKeyRefused,
    /// MEXC: the listen-key request failed in transport (`detail`); retried with backoff.
    ListenKeyRequestFailed,
    /// MEXC: the listen-key keep-alive was refused with a listen-key error (`detail`): a new
    /// key, then reconnect.
    ListenKeyKeepAliveRefused,
    /// MEXC: the listen-key keep-alive failed for a reason that leaves the key valid (transport,
    /// HTTP 429/5xx, clock skew; `code` = the venue's code or HTTP status, `-1` in transport):
    /// the key is kept and the keep-alive retried within a minute.
    ListenKeyKeepAliveRetry,
    /// The venue's server time could not be read (`detail`); measured again later, signing
    /// goes on with the last offset.
    ClockSync,
    /// MEXC: the private WebSocket upgrade refused the listen key (`code` = HTTP status):
    /// a new key, then reconnect.
    ListenKeyRejectedByStream,
    /// MEXC: the private stream URL with the new key was refused (`detail`).
    PrivateUrl,
    /// A private-state REST fetch (start-up state or a gap's reconciliation, `feed::recon`)
    /// failed (`code` = HTTP status or the venue's code, `-1` in transport; `arg` = the
    /// endpoint path; `detail` = the transport error or the venue's label, never the request's
    /// query or headers); retried with backoff, the gap stays open.
    ReconFailed,
    /// MEXC: a connection's outbound queue (frames waiting for the pacing) was full and a
    /// frame was dropped (`code` = frames queued, `detail` = the frame); a dropped subscribe
    /// is sent again after the retry backoff. Review finding 3.
    OutboundQueueFull,
}

/// Longest channel name kept (MEXC names run to ~50 bytes).
pub(crate) const ERROR_CHANNEL_BYTES: usize = 64;
/// Longest echoed argument kept (Gate: the subscribe payload, e.g. the pair).
pub(crate) const ERROR_ARG_BYTES: usize = 32;
/// Longest detail text kept (the venue's message, or a REST error's text).
pub(crate) const ERROR_DETAIL_BYTES: usize = 96;

/// One feed-thread error: `Copy`, no heap, filled without formatting on the feed thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FeedError {
    /// What went wrong.
    pub kind: FeedErrorKind,
    /// The feed's venue.
    pub venue: Venue,
    /// The feed's market.
    pub market: Market,
    /// [`NO_SYMBOL`] when no symbol is concerned.
    pub symbol: SymbolId,
    /// Venue error code or HTTP status (see [`FeedErrorKind`]); `-1` = none.
    pub code: i64,
    /// When (CLOCK_MONOTONIC ns).
    pub ts_ns: u64,
    /// The channel as the venue names it (may be empty).
    pub channel: InlineStr<ERROR_CHANNEL_BYTES>,
    /// Gate: the request payload the venue echoed (may be empty).
    pub arg: InlineStr<ERROR_ARG_BYTES>,
    /// The venue's text or the failed call's error text (cut at a char boundary).
    pub detail: InlineStr<ERROR_DETAIL_BYTES>,
}

impl FeedError {
    /// A record with no symbol, code or text yet.
    pub fn new(kind: FeedErrorKind, venue: Venue, market: Market, ts_ns: u64) -> Self {
        FeedError {
            kind,
            venue,
            market,
            symbol: NO_SYMBOL,
            code: -1,
            ts_ns,
            channel: InlineStr::EMPTY,
            arg: InlineStr::EMPTY,
            detail: InlineStr::EMPTY,
        }
    }

    /// With the symbol it concerns.
    pub fn symbol(mut self, symbol: SymbolId) -> Self {
        self.symbol = symbol;
        self
    }

    /// With the venue's code or HTTP status.
    pub fn code(mut self, code: i64) -> Self {
        self.code = code;
        self
    }

    /// With the channel name (truncated to fit, never allocated).
    pub fn channel(mut self, channel: &str) -> Self {
        self.channel = InlineStr::new(channel).0;
        self
    }

    /// With the payload the venue echoed (truncated to fit).
    pub fn arg(mut self, arg: &str) -> Self {
        self.arg = InlineStr::new(arg).0;
        self
    }

    /// With the venue's or the transport's text (truncated to fit).
    pub fn detail(mut self, detail: &str) -> Self {
        self.detail = InlineStr::new(detail).0;
        self
    }

    /// The `Display` of a cold-path error (REST, URL) as detail, written into the inline
    /// buffer: no allocation, cut at `ERROR_DETAIL_BYTES`.
    pub fn detail_of(mut self, e: &dyn fmt::Display) -> Self {
        let mut w = InlineWriter::<ERROR_DETAIL_BYTES>::default();
        let _ = write!(w, "{e}");
        self.detail = InlineStr::new(w.as_str()).0;
        self
    }

    /// Like [`FeedError::detail_of`], with every occurrence of `secret` (as is and
    /// percent-encoded) replaced by `<redacted abcd…>` (at most a 4-character prefix, none for
    /// a short secret). For error texts that may carry a listen key (a URL, a venue message
    /// echoing the request). No allocation: the text is formatted into stack buffers.
    pub(crate) fn detail_redacted(mut self, e: &dyn fmt::Display, secret: &str) -> Self {
        let mut full = InlineWriter::<512>::default();
        let cut = write!(full, "{e}").is_err();
        let mut enc = InlineWriter::<384>::default();
        let _ = write_url_encoded(secret, &mut enc);
        let mut once = InlineWriter::<512>::default();
        let shown = shown_prefix(secret);
        let _ = redact_into(full.as_str(), secret, shown, cut, &mut once);
        let mut twice = InlineWriter::<ERROR_DETAIL_BYTES>::default();
        let _ = redact_into(once.as_str(), enc.as_str(), shown, cut, &mut twice);
        self.detail = InlineStr::new(twice.as_str()).0;
        self
    }

    /// Run `f` on the operator's text, made in a stack buffer (no allocation; cut at 160
    /// bytes). For the message of an `Error` event sent along with the record.
    pub(crate) fn with_text<R>(&self, symbol_name: &str, f: impl FnOnce(&str) -> R) -> R {
        let mut w = InlineWriter::<160>::default();
        let _ = self.write_text(symbol_name, &mut w);
        f(w.as_str())
    }

    /// The operator's text (cold side). `symbol_name` names [`FeedError::symbol`].
    pub fn write_text(&self, symbol_name: &str, f: &mut dyn fmt::Write) -> fmt::Result {
        let (ch, detail, code) = (self.channel.as_str(), self.detail.as_str(), self.code);
        match self.kind {
            FeedErrorKind::Channel => match self.venue {
                Venue::Gateio => write!(f, "{ch} {}: code {code} {detail}", self.arg.as_str()),
                Venue::Mexc => write!(f, "MEXC {ch}: code {code} {detail}"),
            },
            FeedErrorKind::AckTimeout => {
                write!(f, "MEXC {ch}: subscription not acknowledged within 10 s")
            }
            FeedErrorKind::SnapshotHttp => {
                write!(f, "REST snapshot for {symbol_name} answered HTTP {code}")
            }
            FeedErrorKind::SnapshotFailed => {
                write!(f, "REST snapshot for {symbol_name} failed: {detail}")
            }
            FeedErrorKind::ResyncTimeout => write!(
                f,
                "book {symbol_name} still resyncing at its deadline (escalation {code}): {detail}"
            ),
            FeedErrorKind::VenueNotice => {
                write!(f, "{ch} notice {}: {detail}", self.arg.as_str())
            }
            FeedErrorKind::NoShardSlot => f.write_str(NO_SHARD_SLOT),
            FeedErrorKind::OutboundQueueFull => write!(
                f,
                "outbound queue full ({code} frames waiting for the rate limit): dropped {detail}"
            ),
            FeedErrorKind::ListenKeyRefused => write!(f, "MEXC listen key refused: {detail}"),
            FeedErrorKind::ListenKeyRequestFailed => {
                write!(f, "MEXC listen key request failed: {detail}")
            }
            FeedErrorKind::ListenKeyKeepAliveRefused => {
                write!(f, "MEXC listen key keep-alive refused: {detail}")
            }
            FeedErrorKind::ListenKeyKeepAliveRetry => {
                write!(
                    f,
                    "MEXC listen key keep-alive failed (code {code}), retrying: {detail}"
                )
            }
            FeedErrorKind::ClockSync => write!(f, "server time request failed: {detail}"),
            FeedErrorKind::ListenKeyRejectedByStream => write!(
                f,
                "MEXC private stream refused the listen key (HTTP {code}); renewing"
            ),
            FeedErrorKind::PrivateUrl => write!(f, "MEXC private url: {detail}"),
            FeedErrorKind::ReconFailed => write!(
                f,
                "private state REST {} failed (code {code}), retrying: {detail}",
                self.arg.as_str()
            ),
        }
    }
}

/// The text of [`FeedErrorKind::NoShardSlot`] (also the message of its `Error` events).
pub(crate) const NO_SHARD_SLOT: &str =
    "no free connection slot for another MEXC shard (raise max_conns)";

/// The first [`ErrorLog::CAPACITY`] errors of a feed, append-only: one writer (the feed
/// thread), any number of cold readers, no lock. Later errors are only counted.
pub struct ErrorLog {
    slots: Box<[OnceLock<FeedError>]>,
    next: AtomicUsize,
    dropped: AtomicU64,
}

impl Default for ErrorLog {
    fn default() -> Self {
        ErrorLog {
            slots: (0..Self::CAPACITY).map(|_| OnceLock::new()).collect(),
            next: AtomicUsize::new(0),
            dropped: AtomicU64::new(0),
        }
    }
}

impl fmt::Debug for ErrorLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorLog")
            .field("len", &self.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl ErrorLog {
    /// Records kept; later errors are only counted ([`ErrorLog::dropped`]).
    pub const CAPACITY: usize = 64;

    /// Append (feed thread): a slot index, then the record; no allocation.
    pub(crate) fn push(&self, e: FeedError) {
        let i = self.next.load(Ordering::Relaxed);
        if i >= self.slots.len() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.next.store(i + 1, Ordering::Relaxed);
        let _ = self.slots[i].set(e);
    }

    /// The errors logged so far, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &FeedError> + '_ {
        self.slots.iter().map_while(|s| s.get())
    }

    /// Records written so far.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// No record yet.
    pub fn is_empty(&self) -> bool {
        self.slots[0].get().is_none()
    }

    /// Errors not kept because the log was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Every logged error as operator text (cold side); `symbol_name` names a symbol id.
    pub fn texts(&self, symbol_name: impl Fn(SymbolId) -> Option<String>) -> Vec<String> {
        self.iter()
            .map(|e| {
                let name = symbol_name(e.symbol).unwrap_or_default();
                let mut s = String::new();
                let _ = e.write_text(&name, &mut s);
                s
            })
            .collect()
    }
}

/// Percent-encoding as the MEXC request builders do it (RFC 3986 unreserved kept).
fn write_url_encoded(s: &str, out: &mut dyn fmt::Write) -> fmt::Result {
    for &c in s.as_bytes() {
        if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'~') {
            out.write_char(c as char)?;
        } else {
            write!(out, "%{c:02X}")?;
        }
    }
    Ok(())
}

/// The part of a secret an error text may show: its first 4 characters, nothing for a
/// secret shorter than 16 bytes.
fn shown_prefix(secret: &str) -> &str {
    if secret.len() >= 16 {
        secret
            .char_indices()
            .nth(4)
            .map_or(secret, |(i, _)| &secret[..i])
    } else {
        ""
    }
}

/// Copy `text` to `out` with each `secret` replaced by a marker showing `shown` (a short
/// prefix of the raw secret). `cut`: `text` was truncated, so a tail that starts a `secret` is dropped too.
fn redact_into(
    text: &str,
    secret: &str,
    shown: &str,
    cut: bool,
    out: &mut dyn fmt::Write,
) -> fmt::Result {
    if secret.is_empty() {
        return out.write_str(text);
    }
    let mut text = text;
    if cut {
        // The longest suffix of `text` that is a proper prefix of `secret`.
        let max = secret.len().min(text.len());
        if let Some(n) = (1..=max).rev().find(|&n| {
            text.is_char_boundary(text.len() - n)
                && secret
                    .as_bytes()
                    .starts_with(&text.as_bytes()[text.len() - n..])
        }) {
            text = &text[..text.len() - n];
        }
    }
    let mut rest = text;
    while let Some(i) = rest.find(secret) {
        out.write_str(&rest[..i])?;
        write!(out, "<redacted {shown}…>")?;
        rest = &rest[i + secret.len()..];
    }
    out.write_str(rest)
}

/// `fmt::Write` into a fixed buffer, cutting at the last char boundary that fits.
struct InlineWriter<const N: usize> {
    buf: [u8; N],
    len: usize,
}

impl<const N: usize> Default for InlineWriter<N> {
    fn default() -> Self {
        InlineWriter {
            buf: [0; N],
            len: 0,
        }
    }
}

impl<const N: usize> InlineWriter<N> {
    fn as_str(&self) -> &str {
        // Only whole chars are ever copied in (see `write_str`).
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl<const N: usize> fmt::Write for InlineWriter<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = N - self.len;
        let mut n = s.len().min(room);
        while !s.is_char_boundary(n) {
            n -= 1;
        }
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        if n < s.len() {
            // Full: stop formatting the rest.
            Err(fmt::Error)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(e: &FeedError, sym: &str) -> String {
        let mut s = String::new();
        e.write_text(sym, &mut s).unwrap();
        s
    }

    #[test]
    fn texts_read_as_before_the_records() {
        let g = FeedError::new(FeedErrorKind::Channel, Venue::Gateio, Market::Spot, 1)
            .code(2)
            .channel("spot.trades")
            .arg("BTC_USDT")
            .detail("unknown currency pair");
        assert_eq!(
            text(&g, ""),
            "spot.trades BTC_USDT: code 2 unknown currency pair"
        );
        let m = FeedError::new(FeedErrorKind::AckTimeout, Venue::Mexc, Market::Spot, 1)
            .channel("spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT");
        assert_eq!(
            text(&m, ""),
            "MEXC spot@public.aggre.deals.v3.api.pb@10ms@BTCUSDT: subscription not acknowledged within 10 s"
        );
        let s = FeedError::new(
            FeedErrorKind::SnapshotHttp,
            Venue::Gateio,
            Market::Futures,
            1,
        )
        .symbol(SymbolId(3))
        .code(503);
        assert_eq!(
            text(&s, "BTC_USDT"),
            "REST snapshot for BTC_USDT answered HTTP 503"
        );
        let k = FeedError::new(
            FeedErrorKind::ListenKeyRejectedByStream,
            Venue::Mexc,
            Market::Spot,
            1,
        )
        .code(401);
        assert_eq!(
            text(&k, ""),
            "MEXC private stream refused the listen key (HTTP 401); renewing"
        );
    }

    #[test]
    fn detail_of_cuts_long_text_at_a_char_boundary_without_allocating_a_string() {
        let long = "é".repeat(100);
        let e = FeedError::new(FeedErrorKind::SnapshotFailed, Venue::Mexc, Market::Spot, 1)
            .detail_of(&long);
        assert_eq!(e.detail.as_str(), "é".repeat(ERROR_DETAIL_BYTES / 2));
        let e = e.detail_of(&format_args!("HTTP {}", 500));
        assert_eq!(e.detail.as_str(), "HTTP 500");
    }

    /// Issue 12, defect 5 (listen key): a text carrying the key, raw or percent-encoded (a
    /// URL, a venue message echoing the request), keeps at most a 4-character prefix.
    #[test]
    fn issue12_defect5_listen_key_is_redacted_from_error_details() {
        let key = "Ab+/=&?% #KEY-0123456789-secret";
        let mut url = String::new();
        write_url_encoded(key, &mut url).unwrap();
        assert!(url.contains("%2B") && !url.contains('+'), "{url}");
        let texts = [
            format!("listenKey {key} does not exist"),
            format!("bad url \"ws://h/ws?listenKey={url}\": scheme, host and port must match"),
            format!("{key}{key}"),
        ];
        for t in &texts {
            let e = FeedError::new(FeedErrorKind::PrivateUrl, Venue::Mexc, Market::Spot, 1)
                .detail_redacted(&t.as_str(), key);
            let d = e.detail.as_str();
            assert!(!d.contains(key) && !d.contains(&url), "{d}");
            assert!(!d.contains("secret") && !d.contains("0123456789"), "{d}");
            assert!(d.contains("<redacted Ab+/…>"), "{d}");
        }
        // A long text cut in the middle of the key: the partial key is dropped, not shown.
        let long = format!("{}{key}", "x".repeat(500));
        let e = FeedError::new(FeedErrorKind::PrivateUrl, Venue::Mexc, Market::Spot, 1)
            .detail_redacted(&long.as_str(), key);
        assert!(!e.detail.as_str().contains("Ab+/"), "{}", e.detail.as_str());
        let mut head = InlineWriter::<512>::default();
        let cut = write!(head, "{}", "x".repeat(505) + key).is_err();
        let mut out = String::new();
        redact_into(head.as_str(), key, "", cut, &mut out).unwrap();
        assert_eq!(out, "x".repeat(505));
        // A short key is not even shown by prefix.
        let e = FeedError::new(FeedErrorKind::PrivateUrl, Venue::Mexc, Market::Spot, 1)
            .detail_redacted(&"key abc123 gone", "abc123");
        assert_eq!(e.detail.as_str(), "key <redacted …> gone");
    }

    #[test]
    fn log_keeps_the_first_errors_and_counts_the_rest() {
        let log = ErrorLog::default();
        assert!(log.is_empty());
        for i in 0..ErrorLog::CAPACITY as i64 + 5 {
            log.push(FeedError::new(FeedErrorKind::Channel, Venue::Mexc, Market::Spot, 1).code(i));
        }
        assert_eq!(log.len(), ErrorLog::CAPACITY);
        assert_eq!(log.dropped(), 5);
        assert_eq!(log.iter().next().unwrap().code, 0);
        let texts = log.texts(|_| None);
        assert_eq!(texts[1], "MEXC : code 1 ");
    }
}
