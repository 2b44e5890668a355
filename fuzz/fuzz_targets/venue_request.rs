//! The loopback venue's HTTP and WebSocket-upgrade request handling fed raw client bytes: one
//! venue for the whole run, one connection per input (the bytes, then a half-close, then the
//! answer read). A panic on any venue thread aborts the run (libfuzzer-sys' panic hook); every
//! 64 inputs a well-formed REST request must still be answered 200, so an input that wedges or
//! kills the venue is found too.
#![no_main]

use cexfeed_venue::{Venue, VenueConfig, VenueHandle};
use libfuzzer_sys::fuzz_target;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

fn venue() -> &'static VenueHandle {
    static V: OnceLock<VenueHandle> = OnceLock::new();
    V.get_or_init(|| {
        Venue::start(VenueConfig {
            tls: false,
            ..VenueConfig::default()
        })
        .expect("venue starts")
    })
}

fn exchange(bytes: &[u8]) -> Vec<u8> {
    let mut answer = Vec::new();
    let Ok(mut c) = TcpStream::connect(venue().addr()) else {
        return answer;
    };
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = c.write_all(bytes);
    let _ = c.shutdown(Shutdown::Write);
    let _ = c.take(1 << 20).read_to_end(&mut answer);
    answer
}

fuzz_target!(|data: &[u8]| {
    exchange(data);
    static N: AtomicU64 = AtomicU64::new(0);
    if N.fetch_add(1, Ordering::Relaxed) % 64 == 0 {
        let ok = exchange(b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(
            ok.starts_with(b"HTTP/1.1 200"),
            "venue stopped answering: {:?}",
            String::from_utf8_lossy(&ok)
        );
    }
});
