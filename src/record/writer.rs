//! The recorder thread: drain the tap's ring, compress frames, write and rotate files.

use super::ring::{byte_ring, ByteConsumer};
use super::tap::{Tap, TapStats};
use super::{
    wall_ns, wall_offset_ns, FileMeta, RecHeader, RecordSetup, FILE_MAGIC, FORMAT_VERSION,
    FRAME_HEADER_SIZE, FRAME_MAGIC,
};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a recorder has written (relaxed counters, read by the report).
#[derive(Debug, Default)]
pub struct RecorderStats {
    /// Records written to files.
    pub records: AtomicU64,
    /// Uncompressed bytes (record headers + payloads) written.
    pub raw_bytes: AtomicU64,
    /// Compressed bytes written (frame headers included, file headers not).
    pub file_bytes: AtomicU64,
    /// Frames written.
    pub frames: AtomicU64,
    /// Files opened.
    pub files: AtomicU64,
    /// Write failures (disk full, permissions); the recorder drops the frame and carries on.
    pub write_errors: AtomicU64,
}

/// A running recorder: its tap goes to the feed thread; stop it with [`Recorder::finish`].
pub struct Recorder {
    stop: Arc<AtomicBool>,
    join: Option<JoinHandle<Vec<PathBuf>>>,
    /// Counters of the tap (feed side).
    pub tap_stats: Arc<TapStats>,
    /// Counters of the writer (file side).
    pub stats: Arc<RecorderStats>,
}

impl Recorder {
    /// Allocate the ring, create the directory, start the thread; the [`Tap`] is for the
    /// feed thread. `name` prefixes the files (`gateio-spot` → `gateio-spot-<ms>-00000.cxrec`).
    pub fn start(setup: &RecordSetup, meta: FileMeta, name: &str) -> io::Result<(Recorder, Tap)> {
        Self::start_with(setup, meta, name, None)
    }

    /// [`start`](Self::start), with `refresh` called on the recorder thread each time a file is
    /// opened, to bring the header up to date (the engine adds the Gate futures contract sizes
    /// known by then). Files are opened lazily, at their first frame.
    pub fn start_with(
        setup: &RecordSetup,
        meta: FileMeta,
        name: &str,
        refresh: Option<MetaRefresh>,
    ) -> io::Result<(Recorder, Tap)> {
        std::fs::create_dir_all(&setup.dir)?;
        let (prod, cons) = byte_ring(setup.ring_bytes);
        let tap_stats = Arc::new(TapStats::default());
        let offset = Arc::new(AtomicI64::new(wall_offset_ns()));
        let tap = Tap::new(prod, tap_stats.clone(), offset.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let stats = Arc::new(RecorderStats::default());
        let mut w = Writer {
            setup: setup.clone(),
            meta,
            refresh,
            prefix: format!("{name}-{}", wall_ns() / 1_000_000),
            cons,
            offset,
            stats: stats.clone(),
            raw: Vec::with_capacity(setup.frame_bytes + (1 << 16)),
            comp: None,
            file: None,
            file_bytes: 0,
            file_opened: Instant::now(),
            frame_records: 0,
            frame_first_mono: 0,
            frame_started: Instant::now(),
            seq: 0,
            paths: Vec::new(),
        };
        let st = stop.clone();
        let join = std::thread::Builder::new()
            .name(format!("rec-{name}"))
            .spawn(move || {
                w.run(&st);
                w.paths
            })?;
        Ok((
            Recorder {
                stop,
                join: Some(join),
                tap_stats,
                stats,
            },
            tap,
        ))
    }

    /// Drain what the feed left in the ring, write the last frame, close the file; the paths
    /// written. Call after the feed thread stopped writing.
    pub fn finish(mut self) -> Vec<PathBuf> {
        self.stop.store(true, Ordering::Release);
        self.join
            .take()
            .and_then(|j| j.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// Brings a file header's metadata up to date when the recorder opens a file (cold).
pub type MetaRefresh = Box<dyn FnMut(&mut FileMeta) + Send>;

struct Writer {
    setup: RecordSetup,
    meta: FileMeta,
    refresh: Option<MetaRefresh>,
    prefix: String,
    cons: ByteConsumer,
    offset: Arc<AtomicI64>,
    stats: Arc<RecorderStats>,
    raw: Vec<u8>,
    comp: Option<zstd::bulk::Compressor<'static>>,
    file: Option<File>,
    file_bytes: u64,
    file_opened: Instant,
    frame_records: u32,
    frame_first_mono: u64,
    frame_started: Instant,
    seq: u32,
    paths: Vec<PathBuf>,
}

impl Writer {
    fn run(&mut self, stop: &AtomicBool) {
        let mut last_offset = Instant::now();
        loop {
            let stopping = stop.load(Ordering::Acquire);
            let n = self.drain();
            if !self.raw.is_empty()
                && (self.raw.len() >= self.setup.frame_bytes
                    || self.frame_started.elapsed() >= self.setup.flush_after)
            {
                self.flush_frame();
            }
            if last_offset.elapsed() >= Duration::from_millis(200) {
                self.offset.store(wall_offset_ns(), Ordering::Relaxed);
                last_offset = Instant::now();
            }
            if n == 0 {
                if stopping {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        self.drain();
        if !self.raw.is_empty() {
            self.flush_frame();
        }
        if let Some(f) = self.file.as_mut() {
            let _ = f.flush();
        }
    }

    fn drain(&mut self) -> usize {
        let raw = &mut self.raw;
        let first = &mut self.frame_first_mono;
        let recs = &mut self.frame_records;
        let started = &mut self.frame_started;
        let target = self.setup.frame_bytes;
        let mut full = false;
        let n = self.cons.drain(|h, payload| {
            if raw.is_empty() {
                *first = h.mono_ns;
                *started = Instant::now();
            }
            raw.extend_from_slice(&h.to_bytes());
            raw.extend_from_slice(payload);
            *recs += 1;
            full |= raw.len() >= target;
        });
        if full {
            self.flush_frame();
        }
        n
    }

    fn open_file(&mut self) -> io::Result<()> {
        let path = self
            .setup
            .dir
            .join(format!("{}-{:05}.cxrec", self.prefix, self.seq));
        if let Some(r) = self.refresh.as_mut() {
            r(&mut self.meta);
        }
        let mut meta = self.meta.clone();
        meta.file_seq = self.seq;
        meta.opened_wall_ns = wall_ns();
        let text = toml::to_string(&meta).map_err(io::Error::other)?;
        let mut f = File::create(&path)?;
        f.write_all(&file_header(text.as_bytes()))?;
        self.seq += 1;
        self.file = Some(f);
        self.file_bytes = 0;
        self.file_opened = Instant::now();
        self.paths.push(path);
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn flush_frame(&mut self) {
        let rotate = self.file.is_some()
            && (self.file_bytes >= self.setup.max_file_bytes
                || (!self.setup.rotate_after.is_zero()
                    && self.file_opened.elapsed() >= self.setup.rotate_after));
        if rotate {
            if let Some(mut f) = self.file.take() {
                let _ = f.flush();
            }
        }
        if self.file.is_none() && self.open_file().is_err() {
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            self.reset_frame();
            return;
        }
        let level = self.setup.level;
        let comp = match &mut self.comp {
            Some(c) => c,
            None => match zstd::bulk::Compressor::new(level) {
                Ok(c) => self.comp.insert(c),
                Err(_) => {
                    self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
                    self.reset_frame();
                    return;
                }
            },
        };
        let Ok(body) = comp.compress(&self.raw) else {
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
            self.reset_frame();
            return;
        };
        let head = frame_header(
            &body,
            self.raw.len() as u32,
            self.frame_records,
            self.frame_first_mono,
        );
        let ok = self
            .file
            .as_mut()
            .is_some_and(|f| f.write_all(&head).and_then(|_| f.write_all(&body)).is_ok());
        if ok {
            let s = &self.stats;
            s.records
                .fetch_add(self.frame_records as u64, Ordering::Relaxed);
            s.raw_bytes
                .fetch_add(self.raw.len() as u64, Ordering::Relaxed);
            let n = (head.len() + body.len()) as u64;
            s.file_bytes.fetch_add(n, Ordering::Relaxed);
            s.frames.fetch_add(1, Ordering::Relaxed);
            self.file_bytes += n;
        } else {
            self.stats.write_errors.fetch_add(1, Ordering::Relaxed);
        }
        self.reset_frame();
    }

    fn reset_frame(&mut self) {
        self.raw.clear();
        self.frame_records = 0;
    }
}

/// A file header: magic, version, flags, meta length and CRC, meta.
pub(crate) fn file_header(meta: &[u8]) -> Vec<u8> {
    let mut h = Vec::with_capacity(20 + meta.len());
    h.extend_from_slice(&FILE_MAGIC);
    h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    h.extend_from_slice(&0u16.to_le_bytes());
    h.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    h.extend_from_slice(&crc32fast::hash(meta).to_le_bytes());
    h.extend_from_slice(meta);
    h
}

/// A frame header; its CRC covers the header (CRC field zero) and the compressed body.
pub(crate) fn frame_header(
    body: &[u8],
    raw_len: u32,
    records: u32,
    first_mono: u64,
) -> [u8; FRAME_HEADER_SIZE] {
    let mut h = [0u8; FRAME_HEADER_SIZE];
    h[0..4].copy_from_slice(&FRAME_MAGIC);
    h[4..8].copy_from_slice(&(body.len() as u32).to_le_bytes());
    h[8..12].copy_from_slice(&raw_len.to_le_bytes());
    h[16..20].copy_from_slice(&records.to_le_bytes());
    h[24..32].copy_from_slice(&first_mono.to_le_bytes());
    let crc = frame_crc(&h, body);
    h[12..16].copy_from_slice(&crc.to_le_bytes());
    h
}

/// CRC32 of a frame header with its CRC field zeroed, then the body.
pub(crate) fn frame_crc(head: &[u8; FRAME_HEADER_SIZE], body: &[u8]) -> u32 {
    let mut z = *head;
    z[12..16].fill(0);
    let mut c = crc32fast::Hasher::new();
    c.update(&z);
    c.update(body);
    c.finalize()
}

/// Encode records as a whole file in memory (tests, tools): header, then one frame per
/// `frame_bytes` of records.
pub fn encode_file(
    meta: &FileMeta,
    records: &[(RecHeader, Vec<u8>)],
    frame_bytes: usize,
) -> Vec<u8> {
    let text = toml::to_string(meta).unwrap_or_default();
    let mut out = file_header(text.as_bytes());
    let mut raw = Vec::new();
    let mut n = 0u32;
    let mut first = 0;
    let flush = |raw: &mut Vec<u8>, n: &mut u32, first: u64, out: &mut Vec<u8>| {
        if raw.is_empty() {
            return;
        }
        let body = zstd::bulk::compress(raw, 3).unwrap_or_default();
        out.extend_from_slice(&frame_header(&body, raw.len() as u32, *n, first));
        out.extend_from_slice(&body);
        raw.clear();
        *n = 0;
    };
    for (h, p) in records {
        if raw.is_empty() {
            first = h.mono_ns;
        }
        let mut h = *h;
        h.len = p.len() as u32;
        raw.extend_from_slice(&h.to_bytes());
        raw.extend_from_slice(p);
        n += 1;
        if raw.len() >= frame_bytes {
            flush(&mut raw, &mut n, first, &mut out);
        }
    }
    flush(&mut raw, &mut n, first, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{FileReader, Kind};

    #[test]
    fn tap_to_files_round_trip_with_rotation_and_a_gap_record() {
        let dir = std::env::temp_dir().join(format!("cexfeed-rec-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let setup = RecordSetup {
            dir: dir.clone(),
            ring_bytes: 8192,
            frame_bytes: 4096,
            max_file_bytes: 1_000,
            ..RecordSetup::default()
        };
        let meta = FileMeta {
            format_version: FORMAT_VERSION,
            cexfeed_version: "t".into(),
            venue: "gateio".into(),
            market: "spot".into(),
            symbols: vec!["BTC_USDT".into()],
            file_seq: 0,
            opened_wall_ns: 0,
            config: "x = 1\n".into(),
            contract_multipliers: Default::default(),
        };
        let (rec, mut tap) = Recorder::start(&setup, meta, "gateio-spot").unwrap();
        tap.up(0, 0, 1);
        // More than the ring holds at once: some are lost and a gap record says how many.
        let mut sent = 0u64;
        for i in 0..20_000u64 {
            let body = format!(
                "{{\"i\":{i},\"pad\":\"{}\"}}",
                "x".repeat((i % 200) as usize)
            );
            tap.message(0, true, body.as_bytes(), 10 + i);
            sent += 1;
            if i % 50 == 0 {
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        tap.outbound(0, true, b"{\"ping\":1}", 30_000);
        tap.set_redact_out(1, true);
        // Until it is in the ring (the recorder drains it within a few ms; 10 s bound).
        let mut extra = 0;
        for _ in 0..10_000 {
            let before = tap.stats().dropped.load(Ordering::Relaxed);
            tap.outbound(1, true, b"{\"signature\":\"s\"}", 30_001);
            if tap.stats().dropped.load(Ordering::Relaxed) == before {
                break;
            }
            extra += 1;
            std::thread::sleep(Duration::from_millis(1));
        }
        tap.down(0, crate::net::DownReason::Reset, 30_002);
        let stats = tap.stats().clone();
        drop(tap);
        let paths = rec.finish();
        assert!(paths.len() > 1, "rotation by size: {paths:?}");
        let dropped = stats.dropped.load(Ordering::Relaxed);
        let (mut msgs, mut others, mut gaps, mut last) = (0u64, 0u64, 0u64, 0u64);
        let mut redacted = false;
        for (i, p) in paths.iter().enumerate() {
            let mut r = FileReader::open(p).unwrap();
            assert_eq!(r.meta().file_seq, i as u32);
            while let Some(f) = r.next_frame().unwrap() {
                for x in f.records() {
                    let (h, b) = x.unwrap();
                    match Kind::from_u8(h.kind).unwrap() {
                        Kind::MsgText => {
                            assert!(h.mono_ns > last || last == 0);
                            last = h.mono_ns;
                            let want = format!("{{\"i\":{}", h.mono_ns - 10);
                            assert!(b.starts_with(want.as_bytes()));
                            msgs += 1;
                        }
                        Kind::Gap => gaps += h.aux,
                        Kind::OutText if h.conn == 1 => {
                            redacted = b.is_empty() && h.flags == crate::record::FLAG_REDACTED;
                            others += 1;
                        }
                        _ => others += 1,
                    }
                    assert!(h.wall_ns > 1_600_000_000_000_000_000);
                }
            }
        }
        assert_eq!(
            msgs + others + dropped,
            sent + 4 + extra,
            "up, two outbound, down"
        );
        assert!(msgs > 0 && dropped > 0);
        assert_eq!(
            gaps, dropped,
            "every lost record is counted in a gap record"
        );
        assert!(redacted, "private outbound payloads are left out");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
