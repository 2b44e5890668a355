//! Stable-toolchain fuzz smoke for the Gate.io decoder (the libFuzzer target is
//! `fuzz/fuzz_targets/gateio_decode.rs`) and the scanner ⇔ simd-json differential test.
//!
//! Invariants checked on every input:
//! * no panic, on either path;
//! * when the scanner takes a frame (`decode_scan_only` → true), the simd-json path returns
//!   `Ok` and emits exactly the same messages;
//! * when the scanner defers, it emitted nothing.
//!
//! Bounded: a few thousand cases in total (~1 s in a debug build).

use crate::support::gateio::{fixture_names, frames, Collect};
use cexfeed::exchange::gateio::GateDecoder;
use cexfeed::types::Market;
use proptest::prelude::*;

fn all_frames() -> Vec<Vec<u8>> {
    fixture_names().iter().flat_map(|n| frames(n)).collect()
}

thread_local! {
    static DECODERS: std::cell::RefCell<[GateDecoder; 2]> = std::cell::RefCell::new([
        GateDecoder::new(Market::Spot, 64),
        GateDecoder::new(Market::Futures, 64),
    ]);
}

fn check(frame: &[u8]) {
    DECODERS.with(|d| {
        for d in d.borrow_mut().iter_mut() {
            check_with(d, frame);
        }
    });
}

fn check_with(d: &mut GateDecoder, frame: &[u8]) {
    {
        let mut s = Collect::default();
        let took = d.decode_scan_only(frame, &mut s);
        let mut g = Collect::default();
        let rg = d.decode_general(frame, &mut g);
        if took {
            assert_eq!(
                rg,
                Ok(()),
                "scanner took a frame simd-json refuses: {:?}",
                String::from_utf8_lossy(frame)
            );
            assert_eq!(
                s.0,
                g.0,
                "scanner/general differ on {:?}",
                String::from_utf8_lossy(frame)
            );
        } else {
            assert!(s.0.is_empty(), "scanner emitted before deferring");
        }
        // The combined path equals the general path's result too.
        let mut c = Collect::default();
        let rc = d.decode(frame, &mut c);
        assert_eq!(rc, rg);
        if rc.is_ok() {
            assert_eq!(c.0, g.0);
        }
    }
}

#[test]
fn scanner_takes_every_hot_fixture_frame() {
    let hot = [
        ("gateio_spot_obu.json", &[1usize, 2][..]),
        ("gateio_futures_obu.json", &[1, 2]),
        ("gateio_spot_order_book_update.json", &[0, 1]),
        ("gateio_futures_order_book_update.json", &[0, 1]),
        ("gateio_futures_book_ticker.json", &[0, 1]),
        ("gateio_spot_trades.json", &[0]),
        ("gateio_futures_trades.json", &[0, 1]),
        ("gateus_spot_captured_frames.json", &[3, 4, 9]),
    ];
    for (name, idx) in hot {
        let f = frames(name);
        for &i in idx {
            let mut d = GateDecoder::new(Market::Spot, 400);
            let mut s = Collect::default();
            assert!(d.decode_scan_only(&f[i], &mut s), "{name}[{i}] deferred");
            assert_eq!(s.0.len(), 1, "{name}[{i}]");
            let mut d = GateDecoder::new(Market::Spot, 400);
            d.decode(&f[i], &mut Collect::default()).unwrap();
            let st = d.stats();
            assert_eq!((st.scanned, st.scan_deferred, st.errors), (1, 0, 0));
            check(&f[i]);
        }
    }
}

#[test]
fn scanner_defers_on_control_frames() {
    for name in [
        "gateio_spot_subscribe_error.json",
        "gateio_spot_subscribe_ack.json",
        "gateio_spot_pong.json",
    ] {
        for f in frames(name) {
            let mut d = GateDecoder::new(Market::Spot, 400);
            let mut s = Collect::default();
            assert!(!d.decode_scan_only(&f, &mut s), "{name}");
        }
    }
    // obu ack (hot channel, event subscribe) → deferred, decoded as an ack by the general path
    let f = frames("gateio_spot_obu.json");
    let mut d = GateDecoder::new(Market::Spot, 400);
    assert!(!d.decode_scan_only(&f[0], &mut Collect::default()));
}

#[test]
fn scanner_takes_result_before_channel_pretty_printed_and_bare_numbers() {
    let frame = b"{ \"result\" : { \"u\" : 10 , \"U\" : 9, \"s\":\"BTC_USDT\",\n \"b\" : [ [ 40000.4 , 1.25e-05 ] ], \"a\":[{\"s\":3,\"p\":\"1\"}] } ,\n \"channel\" : \"spot.order_book_update\" }  \n";
    let mut d = GateDecoder::new(Market::Spot, 400);
    let mut s = Collect::default();
    assert!(d.decode_scan_only(frame, &mut s));
    match &s.0[0] {
        crate::support::gateio::Ev::Book { bids, asks, .. } => {
            assert_eq!(
                bids,
                &vec![crate::support::gateio::lv("40000.4", "0.0000125")]
            );
            assert_eq!(asks, &vec![crate::support::gateio::lv("1", "3")]);
        }
        e => panic!("{e:?}"),
    }
    check(frame);
}

/// Found by `mutated_fixtures`: `"time": 1e51541503698` is refused by simd-json (exponent
/// overflows f64) but the scanner's skip used to accept it, so the two paths disagreed.
#[test]
fn scanner_defers_on_number_simd_json_refuses_huge_exponent() {
    let f = frames("gateio_futures_trades.json");
    let text = String::from_utf8(f[0].clone()).unwrap();
    let bad = text.replace("\"time\": 1541503698", "\"time\": 1e51541503698");
    assert_ne!(bad, text);
    let mut d = GateDecoder::new(Market::Futures, 64);
    assert!(!d.decode_scan_only(bad.as_bytes(), &mut Collect::default()));
    check(bad.as_bytes());
}

#[test]
fn compact_object_levels_with_leading_zero_defer() {
    // `007` is not JSON: simd-json refuses the frame, so the scanner must not take it.
    for lvl in [
        r#"{"p":"1","s":007}"#,
        r#"{"p":"1","s":00}"#,
        r#"{"p":"01.5","s":"1"}"#,
        r#"{"p":"1","s":1.5}"#,
    ] {
        let frame = format!(
            r#"{{"channel":"futures.order_book_update","result":{{"s":"X","U":1,"u":2,"b":[{lvl}]}}}}"#
        );
        check(frame.as_bytes());
    }
    let ok = r#"{"channel":"futures.order_book_update","result":{"s":"X","U":1,"u":2,"b":[{"p":"1.5","s":0},{"p":"2","s":"3.25"},{"p":"3","s":120}]}}"#;
    let mut d = GateDecoder::new(Market::Futures, 64);
    let mut s = Collect::default();
    assert!(d.decode_scan_only(ok.as_bytes(), &mut s));
    match &s.0[0] {
        crate::support::gateio::Ev::Book { bids, .. } => assert_eq!(
            bids,
            &vec![
                crate::support::gateio::lv("1.5", "0"),
                crate::support::gateio::lv("2", "3.25"),
                crate::support::gateio::lv("3", "120")
            ]
        ),
        e => panic!("{e:?}"),
    }
    check(ok.as_bytes());
}

#[test]
fn every_fixture_frame_differential() {
    for f in all_frames() {
        check(&f);
    }
}

#[test]
fn truncations_of_every_fixture_frame() {
    for f in all_frames() {
        for cut in 0..f.len() {
            check(&f[..cut]);
        }
    }
}

fn all_frames_cached() -> &'static [Vec<u8>] {
    static ALL: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    ALL.get_or_init(all_frames)
}

fn hot_frames() -> &'static [Vec<u8>] {
    static HOT: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    HOT.get_or_init(load_hot_frames)
}

fn load_hot_frames() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for n in [
        "gateio_spot_obu.json",
        "gateio_futures_obu.json",
        "gateio_spot_order_book_update.json",
        "gateio_futures_order_book_update.json",
        "gateio_futures_book_ticker.json",
        "gateio_spot_trades.json",
        "gateio_futures_trades.json",
        "gateus_spot_captured_frames.json",
    ] {
        v.extend(frames(n));
    }
    v
}

/// Tokens that stress the scanner's deferral rules when spliced into a frame.
const SPLICE: &[&[u8]] = &[
    b" ",
    b"\n",
    b"\t",
    b",",
    b":",
    b"\"",
    b"\\",
    b"{",
    b"}",
    b"[",
    b"]",
    b"-",
    b"0",
    b"1e5",
    b"e",
    b".",
    b"null",
    b"true",
    b"\xc3\xa9",
    b"\x00",
    b"\"x\":1,",
    b"\"full\":true,",
    b"\"U\":1,",
    b"\"error\":{\"code\":4},",
    b"\"event\":\"subscribe\",",
    b"1.00000000001",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_fixtures(idx in any::<prop::sample::Index>(), muts in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, any::<u8>(), any::<prop::sample::Index>()), 1..4)) {
        let hot = hot_frames();
        let mut f = hot[idx.index(hot.len())].clone();
        for (at, op, byte, tok) in muts {
            if f.is_empty() { break; }
            let i = at.index(f.len());
            match op {
                0 => f[i] = byte,
                1 => { f.remove(i); }
                2 => { let t = SPLICE[tok.index(SPLICE.len())]; f.splice(i..i, t.iter().copied()); }
                _ => { f.insert(i, b' '); }
            }
        }
        check(&f);
    }

    #[test]
    fn mutated_any_fixture(idx in any::<prop::sample::Index>(), muts in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<prop::sample::Index>()), 1..4)) {
        let all = all_frames_cached();
        let mut f = all[idx.index(all.len())].clone();
        for (at, op, tok) in muts {
            if f.is_empty() { break; }
            let i = at.index(f.len());
            let t = SPLICE[tok.index(SPLICE.len())];
            match op {
                0 => { f.splice(i..i, t.iter().copied()); }
                1 => { f.remove(i); }
                _ => { let end = (i + t.len()).min(f.len()); f.splice(i..end, t.iter().copied()); }
            }
        }
        check(&f);
    }

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&bytes);
    }

    #[test]
    fn generated_levels_agree_and_are_exact(
        levels in prop::collection::vec((0u64..900_000_000, 0u32..10, 0u64..90_000_000_000, 0u32..8, any::<bool>()), 0..30),
        obj in any::<bool>(),
        ws in any::<bool>(),
    ) {
        let sp = if ws { " \n " } else { "" };
        let mut body = String::new();
        let mut want = Vec::new();
        for (k, (p, pd, q, qd, quoted)) in levels.iter().enumerate() {
            let ptxt = decimal(*p, *pd);
            let qtxt = decimal(*q, *qd);
            let qv = if *quoted { format!("\"{qtxt}\"") } else { qtxt.clone() };
            if k > 0 { body.push(','); body.push_str(sp); }
            if obj && (p % 2 == 0) {
                // p first, compact when `sp` is empty (the scanner's object fast path)
                body.push_str(&format!("{{\"p\":{sp}\"{ptxt}\",\"s\":{qv}}}"));
            } else if obj {
                body.push_str(&format!("{{{sp}\"s\"{sp}:{sp}{qv},\"p\":\"{ptxt}\"}}"));
            } else {
                body.push_str(&format!("[{sp}\"{ptxt}\"{sp},{sp}{qv}{sp}]"));
            }
            want.push(crate::support::gateio::lv(&ptxt, &qtxt));
        }
        let frame = format!("{{\"channel\":{sp}\"futures.order_book_update\",\"result\":{{\"s\":\"BTC_USDT\",\"U\":5,\"u\":7,{sp}\"b\":[{body}],\"a\":[]}}}}");
        let mut d = GateDecoder::new(Market::Futures, 64);
        let mut s = Collect::default();
        prop_assert!(d.decode_scan_only(frame.as_bytes(), &mut s), "{}", frame);
        match &s.0[0] {
            crate::support::gateio::Ev::Book { bids, .. } => prop_assert_eq!(bids, &want),
            e => prop_assert!(false, "{:?}", e),
        }
        check(frame.as_bytes());
    }
}

/// Case count: 1500 by default (bounded run); `GATEIO_FUZZ_CASES=200000` for a long soak.
fn cases() -> u32 {
    std::env::var("GATEIO_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

/// `v / 10^d` as decimal text.
fn decimal(v: u64, d: u32) -> String {
    if d == 0 {
        return v.to_string();
    }
    let s = format!("{:0>width$}", v, width = d as usize + 1);
    let (i, f) = s.split_at(s.len() - d as usize);
    format!("{i}.{f}")
}
