//! Reading a recording back: header, then frame by frame. Every error names the byte offset
//! where it was found; nothing here panics on any input.

use super::writer::frame_crc;
use super::{
    FileMeta, Kind, RecHeader, FILE_MAGIC, FORMAT_VERSION, FRAME_HEADER_SIZE, FRAME_MAGIC,
    MAX_FRAME_RAW, MAX_META,
};
use std::path::{Path, PathBuf};

/// What is wrong with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadErrorKind {
    /// The file cannot be read.
    Io(String),
    /// Not a cexfeed recording (the first 8 bytes are not the magic).
    BadMagic,
    /// Written by a format version this build does not read.
    WrongVersion(u16),
    /// The header metadata is corrupt (CRC, UTF-8, TOML).
    BadMeta(String),
    /// The file ends inside a header or a frame.
    Truncated,
    /// Where a frame should start there is no frame magic.
    BadFrameMagic,
    /// A frame's lengths are impossible.
    BadFrameLength,
    /// A frame's CRC32 does not match.
    Checksum,
    /// zstd refused the frame, or it decompressed to another length than its header says.
    Decompress,
    /// A record inside a frame runs past the frame's end, or has an unknown kind.
    BadRecord,
}

/// An error at a byte offset of a file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {kind:?} at byte offset {offset}")]
pub struct ReadError {
    /// The file.
    pub path: String,
    /// Byte offset in the file (of the frame, for errors inside a frame).
    pub offset: u64,
    /// What.
    pub kind: ReadErrorKind,
}

/// One decompressed frame: its records, in order.
#[derive(Debug)]
pub struct Frame {
    /// Byte offset of the frame in its file.
    pub offset: u64,
    /// The frame's uncompressed records.
    pub raw: Vec<u8>,
}

impl Frame {
    /// The records (header, payload); stops at the first malformed record (`Err` with its
    /// offset inside the frame).
    pub fn records(&self) -> impl Iterator<Item = Result<(RecHeader, &[u8]), usize>> + '_ {
        let mut at = 0usize;
        let raw = &self.raw;
        std::iter::from_fn(move || {
            if at >= raw.len() {
                return None;
            }
            let Some(hb) = raw.get(at..at + RecHeader::SIZE) else {
                let e = at;
                at = raw.len();
                return Some(Err(e));
            };
            let mut b = [0u8; RecHeader::SIZE];
            b.copy_from_slice(hb);
            let h = RecHeader::from_bytes(&b);
            let start = at + RecHeader::SIZE;
            let end = start.saturating_add(h.len as usize);
            if Kind::from_u8(h.kind).is_none() || end > raw.len() {
                let e = at;
                at = raw.len();
                return Some(Err(e));
            }
            at = end;
            Some(Ok((h, &raw[start..end])))
        })
    }
}

/// One recording file, read into memory, walked frame by frame.
pub struct FileReader {
    path: String,
    data: Vec<u8>,
    pos: usize,
    meta: FileMeta,
    dctx: Option<zstd::bulk::Decompressor<'static>>,
}

impl FileReader {
    /// Read `path` and check its header.
    pub fn open(path: &Path) -> Result<FileReader, ReadError> {
        let data = std::fs::read(path).map_err(|e| ReadError {
            path: path.display().to_string(),
            offset: 0,
            kind: ReadErrorKind::Io(e.to_string()),
        })?;
        FileReader::from_bytes(path.display().to_string(), data)
    }

    /// Check the header of a file held in memory (`name` is used in errors).
    pub fn from_bytes(name: String, data: Vec<u8>) -> Result<FileReader, ReadError> {
        let err = |offset: usize, kind| ReadError {
            path: name.clone(),
            offset: offset as u64,
            kind,
        };
        if data.len() < 8 {
            return Err(err(
                0,
                if FILE_MAGIC.starts_with(&data) {
                    ReadErrorKind::Truncated
                } else {
                    ReadErrorKind::BadMagic
                },
            ));
        }
        if data[..8] != FILE_MAGIC {
            return Err(err(0, ReadErrorKind::BadMagic));
        }
        if data.len() < 20 {
            return Err(err(data.len(), ReadErrorKind::Truncated));
        }
        let version = u16::from_le_bytes([data[8], data[9]]);
        if version != FORMAT_VERSION {
            return Err(err(8, ReadErrorKind::WrongVersion(version)));
        }
        let len = u32::from_le_bytes([data[12], data[13], data[14], data[15]]) as usize;
        let crc = u32::from_le_bytes([data[16], data[17], data[18], data[19]]);
        if len > MAX_META {
            return Err(err(
                12,
                ReadErrorKind::BadMeta(format!("metadata length {len}")),
            ));
        }
        let Some(meta) = data.get(20..20 + len) else {
            return Err(err(data.len(), ReadErrorKind::Truncated));
        };
        if crc32fast::hash(meta) != crc {
            return Err(err(20, ReadErrorKind::BadMeta("checksum".into())));
        }
        let text = std::str::from_utf8(meta)
            .map_err(|_| err(20, ReadErrorKind::BadMeta("not UTF-8".into())))?;
        let meta: FileMeta =
            toml::from_str(text).map_err(|e| err(20, ReadErrorKind::BadMeta(e.to_string())))?;
        Ok(FileReader {
            pos: 20 + len,
            path: name,
            data,
            meta,
            dctx: None,
        })
    }

    /// The header's metadata.
    pub fn meta(&self) -> &FileMeta {
        &self.meta
    }

    /// The file's name as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The next frame, `Ok(None)` at the clean end of the file. After an error the reader
    /// stays at the bad frame: call [`skip_corrupt`](Self::skip_corrupt) to carry on.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, ReadError> {
        let at = self.pos;
        if at == self.data.len() {
            return Ok(None);
        }
        let err = |kind| ReadError {
            path: self.path.clone(),
            offset: at as u64,
            kind,
        };
        let Some(hb) = self.data.get(at..at + FRAME_HEADER_SIZE) else {
            return Err(err(ReadErrorKind::Truncated));
        };
        let mut head = [0u8; FRAME_HEADER_SIZE];
        head.copy_from_slice(hb);
        if head[0..4] != FRAME_MAGIC {
            return Err(err(ReadErrorKind::BadFrameMagic));
        }
        let le32 = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let comp_len = le32(4) as usize;
        let raw_len = le32(8) as usize;
        let crc = le32(12);
        if raw_len > MAX_FRAME_RAW || comp_len > MAX_FRAME_RAW + (MAX_FRAME_RAW >> 6) {
            return Err(err(ReadErrorKind::BadFrameLength));
        }
        let start = at + FRAME_HEADER_SIZE;
        let Some(body) = self.data.get(start..start + comp_len) else {
            return Err(err(ReadErrorKind::Truncated));
        };
        if frame_crc(&head, body) != crc {
            return Err(err(ReadErrorKind::Checksum));
        }
        let dctx = match &mut self.dctx {
            Some(d) => d,
            None => match zstd::bulk::Decompressor::new() {
                Ok(d) => self.dctx.insert(d),
                Err(_) => return Err(err(ReadErrorKind::Decompress)),
            },
        };
        let raw = match dctx.decompress(body, raw_len) {
            Ok(r) if r.len() == raw_len => r,
            _ => return Err(err(ReadErrorKind::Decompress)),
        };
        self.pos = start + comp_len;
        Ok(Some(Frame {
            offset: at as u64,
            raw,
        }))
    }

    /// Move past the frame that failed to the next frame magic (or the end); the bytes skipped.
    pub fn skip_corrupt(&mut self) -> u64 {
        let from = self.pos;
        let mut i = from + 1;
        while i + 4 <= self.data.len() {
            if self.data[i..i + 4] == FRAME_MAGIC {
                break;
            }
            i += 1;
        }
        self.pos = i.min(self.data.len());
        if self.pos + 4 > self.data.len() {
            self.pos = self.data.len();
        }
        (self.pos - from) as u64
    }
}

/// Only the header metadata of `path` (reads the first bytes, not the file).
pub fn read_meta(path: &Path) -> Result<FileMeta, ReadError> {
    use std::io::Read;
    let mut f = std::fs::File::open(path).map_err(|e| ReadError {
        path: path.display().to_string(),
        offset: 0,
        kind: ReadErrorKind::Io(e.to_string()),
    })?;
    let mut head = Vec::new();
    let _ = (&mut f).take(20).read_to_end(&mut head);
    if head.len() == 20 {
        let len = u32::from_le_bytes([head[12], head[13], head[14], head[15]]) as usize;
        let _ = (&mut f)
            .take(len.min(MAX_META) as u64)
            .read_to_end(&mut head);
    }
    FileReader::from_bytes(path.display().to_string(), head).map(|r| r.meta)
}

/// The files of `inputs` (files, or directories whose `*.cxrec` files are taken), in order:
/// a directory's files sorted by name (name = feed, start time, sequence number).
pub fn open_inputs(inputs: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in inputs {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "cxrec"))
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::writer::encode_file;

    fn meta() -> FileMeta {
        FileMeta {
            format_version: FORMAT_VERSION,
            cexfeed_version: "t".into(),
            venue: "gateio".into(),
            market: "spot".into(),
            symbols: vec!["BTC_USDT".into()],
            file_seq: 0,
            opened_wall_ns: 1,
            config: "[[feed]]\n".into(),
            contract_multipliers: Default::default(),
        }
    }

    fn records(n: usize) -> Vec<(RecHeader, Vec<u8>)> {
        (0..n)
            .map(|i| {
                (
                    RecHeader::new(Kind::MsgText, 1, i as u64, 0),
                    format!("{{\"n\":{i}}}").into_bytes(),
                )
            })
            .collect()
    }

    fn read_all(r: &mut FileReader, skip: bool) -> (Vec<u64>, Vec<ReadError>) {
        let mut got = Vec::new();
        let mut errs = Vec::new();
        loop {
            match r.next_frame() {
                Ok(None) => break,
                Ok(Some(f)) => {
                    for x in f.records() {
                        got.push(x.unwrap().0.mono_ns);
                    }
                }
                Err(e) => {
                    errs.push(e);
                    if !skip {
                        break;
                    }
                    r.skip_corrupt();
                }
            }
        }
        (got, errs)
    }

    #[test]
    fn round_trip_many_frames() {
        let bytes = encode_file(&meta(), &records(1000), 2048);
        let mut r = FileReader::from_bytes("t".into(), bytes).unwrap();
        assert_eq!(r.meta(), &meta());
        let (got, errs) = read_all(&mut r, false);
        assert!(errs.is_empty());
        assert_eq!(got, (0..1000).collect::<Vec<u64>>());
    }

    #[test]
    fn truncated_file_is_reported_with_offset_at_every_length() {
        let bytes = encode_file(&meta(), &records(300), 1024);
        let mut r = FileReader::from_bytes("t".into(), bytes.clone()).unwrap();
        let mut bounds = vec![r.pos];
        while r.next_frame().unwrap().is_some() {
            bounds.push(r.pos);
        }
        assert!(bounds.len() > 3);
        let full = read_all(
            &mut FileReader::from_bytes("t".into(), bytes.clone()).unwrap(),
            false,
        )
        .0;
        for cut in 0..bytes.len() {
            match FileReader::from_bytes("t".into(), bytes[..cut].to_vec()) {
                Err(e) => assert!(e.offset as usize <= cut, "{e}"),
                Ok(mut r) => {
                    let (got, errs) = read_all(&mut r, false);
                    assert!(full.starts_with(&got));
                    if bounds.contains(&cut) {
                        // Frames are independent: a cut between two is a shorter clean file.
                        assert!(errs.is_empty(), "cut at {cut}");
                    } else {
                        assert_eq!(errs.len(), 1, "cut at {cut}");
                        assert_eq!(errs[0].kind, ReadErrorKind::Truncated);
                        assert!(bounds.contains(&(errs[0].offset as usize)));
                        assert!(errs[0].offset as usize <= cut);
                    }
                }
            }
        }
    }

    #[test]
    fn corrupted_frame_is_reported_and_skipped_on_request() {
        let bytes = encode_file(&meta(), &records(600), 1024);
        let r0 = FileReader::from_bytes("t".into(), bytes.clone()).unwrap();
        let first_frame = r0.pos;
        let mut bad = bytes.clone();
        bad[first_frame + FRAME_HEADER_SIZE + 5] ^= 0x40;
        let mut r = FileReader::from_bytes("t".into(), bad.clone()).unwrap();
        let (got, errs) = read_all(&mut r, false);
        assert!(got.is_empty());
        assert_eq!(errs[0].kind, ReadErrorKind::Checksum);
        assert_eq!(errs[0].offset as usize, first_frame);
        let mut r = FileReader::from_bytes("t".into(), bad).unwrap();
        let (got, errs) = read_all(&mut r, true);
        assert_eq!(errs.len(), 1);
        assert!(!got.is_empty() && got.len() < 600);
        assert_eq!(*got.last().unwrap(), 599);
    }

    #[test]
    fn every_single_byte_flip_is_an_error_or_a_clean_read_never_a_panic() {
        let bytes = encode_file(&meta(), &records(50), 512);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0xA5;
            if let Ok(mut r) = FileReader::from_bytes("t".into(), b) {
                let _ = read_all(&mut r, true);
            }
        }
    }

    #[test]
    fn wrong_version_and_magic_are_named() {
        let mut bytes = encode_file(&meta(), &records(3), 512);
        bytes[8] = 9;
        let e = FileReader::from_bytes("t".into(), bytes.clone())
            .err()
            .unwrap();
        assert_eq!((e.kind, e.offset), (ReadErrorKind::WrongVersion(9), 8));
        bytes[0] = b'X';
        let e = FileReader::from_bytes("t".into(), bytes).err().unwrap();
        assert_eq!((e.kind, e.offset), (ReadErrorKind::BadMagic, 0));
    }
}
