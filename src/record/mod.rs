//! Recording and replay of a feed's traffic (issue 15). The file format is documented in
//! `docs/recording.md`; this module is its reference implementation.
//!
//! - [`Tap`] — the feed thread's side: copies each WebSocket message as received (after TLS and
//!   deframing), each outbound frame, each REST snapshot body the sync used and each connection
//!   up/down into a pre-allocated byte ring (no allocation, no lock, never waits; a full ring
//!   counts a drop and the next record that fits is preceded by a [`Kind::Gap`] record).
//! - [`Recorder`] — the recorder thread: drains the ring, compresses ~1 MiB frames with zstd,
//!   writes them with a CRC32 each, rotates files by size or age.
//! - [`FileReader`] — reads a file back frame by frame; every error names its byte offset.
//! - [`replay`] — drives a feed's handler from files through the reactor's replay entry points.

mod reader;
pub mod replay;
mod ring;
mod tap;
mod writer;

pub use reader::{open_inputs, read_meta, FileReader, Frame, ReadError, ReadErrorKind};
pub use tap::{Tap, TapStats};
pub use writer::{encode_file, MetaRefresh, Recorder, RecorderStats};

use std::path::PathBuf;
use std::time::Duration;

/// File magic, the first 8 bytes of every recording.
pub const FILE_MAGIC: [u8; 8] = *b"CXFEEDRC";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Magic of each compressed frame.
pub const FRAME_MAGIC: [u8; 4] = *b"CXFR";
/// Bytes of a frame header.
pub const FRAME_HEADER_SIZE: usize = 32;
/// Largest uncompressed frame a reader accepts (a writer targets ~1 MiB).
pub const MAX_FRAME_RAW: usize = 64 << 20;
/// Largest file header metadata a reader accepts.
pub const MAX_META: usize = 1 << 20;

/// What a record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A text WebSocket message as received.
    MsgText = 1,
    /// A binary WebSocket message as received.
    MsgBinary = 2,
    /// A text frame we sent (payload empty and `flags & FLAG_REDACTED` on private connections).
    OutText = 3,
    /// A binary frame we sent.
    OutBinary = 4,
    /// A connection became live; `aux` = its spec index.
    Up = 5,
    /// A connection went down; `aux` = [`down_code`] of the reason.
    Down = 6,
    /// A REST snapshot reply the feed consumed: `conn` = HTTP status (0: transport error, the
    /// payload is its text), `aux` = request id (the symbol index), payload = the body.
    Rest = 7,
    /// Records lost to a full ring before this point: `aux` = how many.
    Gap = 8,
}

impl Kind {
    /// The kind of a byte, if known.
    pub fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::MsgText,
            2 => Kind::MsgBinary,
            3 => Kind::OutText,
            4 => Kind::OutBinary,
            5 => Kind::Up,
            6 => Kind::Down,
            7 => Kind::Rest,
            8 => Kind::Gap,
            _ => return None,
        })
    }
}

/// `flags` bit: the payload was left out (an outbound frame on a private connection: it
/// carries a signature or a listen key).
pub const FLAG_REDACTED: u8 = 1;

/// The fixed 32-byte head of every record (little-endian on disk and in the ring).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecHeader {
    /// A [`Kind`] byte.
    pub kind: u8,
    /// `FLAG_*` bits.
    pub flags: u8,
    /// Connection id (for [`Kind::Rest`]: the HTTP status).
    pub conn: u16,
    /// Payload bytes following the header.
    pub len: u32,
    /// CLOCK_MONOTONIC ns: receive time of a message, send time of a frame, event time else.
    pub mono_ns: u64,
    /// Wall-clock ns since the Unix epoch: `mono_ns` plus the recorder's latest measured offset.
    pub wall_ns: i64,
    /// Kind-specific (spec index, down reason, request id, gap count).
    pub aux: u64,
}

impl RecHeader {
    /// Bytes of a header.
    pub const SIZE: usize = 32;

    /// A header (`len` and `wall_ns` are filled in when written).
    #[inline]
    pub fn new(kind: Kind, conn: u16, mono_ns: u64, aux: u64) -> Self {
        RecHeader {
            kind: kind as u8,
            flags: 0,
            conn,
            len: 0,
            mono_ns,
            wall_ns: 0,
            aux,
        }
    }

    /// Encode.
    #[inline]
    pub fn to_bytes(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        b[0] = self.kind;
        b[1] = self.flags;
        b[2..4].copy_from_slice(&self.conn.to_le_bytes());
        b[4..8].copy_from_slice(&self.len.to_le_bytes());
        b[8..16].copy_from_slice(&self.mono_ns.to_le_bytes());
        b[16..24].copy_from_slice(&self.wall_ns.to_le_bytes());
        b[24..32].copy_from_slice(&self.aux.to_le_bytes());
        b
    }

    /// Decode.
    #[inline]
    pub fn from_bytes(b: &[u8; 32]) -> Self {
        let u64_at = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        RecHeader {
            kind: b[0],
            flags: b[1],
            conn: u16::from_le_bytes([b[2], b[3]]),
            len: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            mono_ns: u64_at(8),
            wall_ns: u64_at(16) as i64,
            aux: u64_at(24),
        }
    }
}

/// A down reason as a number (`kind | detail << 8`) for [`Kind::Down`] records, and back.
pub fn down_code(r: crate::net::DownReason) -> u64 {
    use crate::net::DownReason as D;
    match r {
        D::ConnectFailed => 1,
        D::Unresolved => 2,
        D::ConnectTimeout => 3,
        D::Tls => 4,
        D::HandshakeRejected { status } => 5 | (status as u64) << 8,
        D::HandshakeFailed => 6,
        D::ClosedByPeer { code } => 7 | (code as u64) << 8,
        D::Reset => 8,
        D::Io => 9,
        D::Stale => 10,
        D::Oversized => 11,
        D::Protocol => 12,
        D::WriteBufferFull => 13,
        D::Requested => 14,
        D::ClosedByUs => 15,
    }
}

/// The reason a [`down_code`] stands for (unknown codes read as `Io`).
pub fn down_reason(code: u64) -> crate::net::DownReason {
    use crate::net::DownReason as D;
    let detail = (code >> 8) as u16;
    match code & 0xFF {
        1 => D::ConnectFailed,
        2 => D::Unresolved,
        3 => D::ConnectTimeout,
        4 => D::Tls,
        5 => D::HandshakeRejected { status: detail },
        6 => D::HandshakeFailed,
        7 => D::ClosedByPeer { code: detail },
        8 => D::Reset,
        10 => D::Stale,
        11 => D::Oversized,
        12 => D::Protocol,
        13 => D::WriteBufferFull,
        14 => D::Requested,
        15 => D::ClosedByUs,
        _ => D::Io,
    }
}

/// The metadata in a file's header (TOML text on disk).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileMeta {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u16,
    /// `cexfeed` crate version of the writer.
    pub cexfeed_version: String,
    /// `mexc` or `gateio`.
    pub venue: String,
    /// `spot` or `futures`.
    pub market: String,
    /// The feed's symbols, venue-native.
    pub symbols: Vec<String>,
    /// This file's number in the recording (0, 1, …; rotation increments it).
    pub file_seq: u32,
    /// Wall-clock ns when the file was opened.
    pub opened_wall_ns: i64,
    /// The whole configuration of the run, as TOML (credentials are never in it: the file
    /// names environment variables only).
    pub config: String,
    /// Gate.io futures: the contract size (`quanto_multiplier`, exact decimal text) of each
    /// symbol known when this file was opened, venue-native symbol → size. A replay folds them
    /// into its registry before it starts, so replayed sizes convert to base quantities as live
    /// ones did. Empty for other feeds (and in files written before it existed).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub contract_multipliers: std::collections::BTreeMap<String, String>,
}

/// Recording settings of one feed (resolved from the config's `[record]` table).
#[derive(Clone, Debug)]
pub struct RecordSetup {
    /// Directory the files go to (created if missing).
    pub dir: PathBuf,
    /// Ring between the feed thread and the recorder thread, bytes.
    pub ring_bytes: usize,
    /// Target uncompressed bytes per zstd frame.
    pub frame_bytes: usize,
    /// zstd level.
    pub level: i32,
    /// A new file after this many bytes.
    pub max_file_bytes: u64,
    /// A new file after this long (zero: never by age).
    pub rotate_after: Duration,
    /// A frame is written at least this often when traffic is thin.
    pub flush_after: Duration,
    /// The configuration text stored in each file header.
    pub config_text: String,
}

impl Default for RecordSetup {
    /// 64 MiB ring, 1 MiB frames, zstd level 3, 256 MiB or 1 h per file, 1 s flush.
    fn default() -> Self {
        RecordSetup {
            dir: PathBuf::from("recordings"),
            ring_bytes: 64 << 20,
            frame_bytes: 1 << 20,
            level: 3,
            max_file_bytes: 256 << 20,
            rotate_after: Duration::from_secs(3600),
            flush_after: Duration::from_secs(1),
            config_text: String::new(),
        }
    }
}

/// Wall-clock ns since the Unix epoch.
pub fn wall_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

/// Wall minus monotonic, ns (the offset every record's `wall_ns` is derived with).
pub fn wall_offset_ns() -> i64 {
    wall_ns().wrapping_sub(real_mono_ns() as i64)
}

/// CLOCK_MONOTONIC ns, never the replay clock.
pub(crate) fn real_mono_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC is always available on Linux.
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut h = RecHeader::new(Kind::Rest, 503, 123_456_789, 7);
        h.len = 99;
        h.flags = FLAG_REDACTED;
        h.wall_ns = -5;
        assert_eq!(RecHeader::from_bytes(&h.to_bytes()), h);
    }

    #[test]
    fn down_reasons_round_trip() {
        use crate::net::DownReason as D;
        for r in [
            D::ClosedByPeer { code: 1001 },
            D::HandshakeRejected { status: 403 },
            D::Reset,
            D::Stale,
            D::Requested,
            D::ClosedByUs,
            D::WriteBufferFull,
        ] {
            assert_eq!(down_reason(down_code(r)), r);
        }
    }
}
