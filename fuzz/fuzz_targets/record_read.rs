#![no_main]
//! Issue 15: any bytes as a recording file. The reader must report an error (with an offset
//! inside the input) or read records whose payloads lie inside their frame — never panic, never
//! loop: `skip_corrupt` always moves forward.
use cexfeed::record::FileReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = FileReader::from_bytes("fuzz".into(), data.to_vec()) else {
        return;
    };
    for _ in 0..10_000 {
        match r.next_frame() {
            Ok(None) => return,
            Ok(Some(f)) => {
                for rec in f.records() {
                    match rec {
                        Ok((h, p)) => assert_eq!(h.len as usize, p.len()),
                        Err(at) => assert!(at < f.raw.len()),
                    }
                }
            }
            Err(e) => {
                assert!(e.offset as usize <= data.len());
                if r.skip_corrupt() == 0 {
                    return;
                }
            }
        }
    }
});
