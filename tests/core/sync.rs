//! Book sync state machine: every transition, for each venue rule, on a virtual clock.

use cexfeed::book::{BookError, SyncConfig, SyncOutcome, SyncRequest, SyncRule, SyncedBook};
use cexfeed::event::{BookMsg, Level};
use cexfeed::types::{BookState, Px, Qty};

fn l(px: i64, qty: i64) -> Level {
    Level::new(Px::from_int(px), Qty::from_int(qty))
}

fn delta<'a>(first: u64, last: u64, bids: &'a [Level], asks: &'a [Level]) -> BookMsg<'a> {
    BookMsg {
        symbol: "BTC_USDT",
        snapshot: false,
        seq_first: first,
        seq_last: last,
        bids,
        asks,
        ts_exchange_ms: None,
    }
}

fn snap<'a>(id: u64, bids: &'a [Level], asks: &'a [Level]) -> BookMsg<'a> {
    BookMsg {
        snapshot: true,
        ..delta(id, id, bids, asks)
    }
}

fn full<'a>(first: u64, last: u64, bids: &'a [Level], asks: &'a [Level]) -> BookMsg<'a> {
    BookMsg {
        snapshot: true,
        ..delta(first, last, bids, asks)
    }
}

fn cfg(rule: SyncRule) -> SyncConfig {
    SyncConfig {
        levels_per_side: 64,
        max_buffered_deltas: 4,
        max_buffered_levels: 16,
        snapshot_retry_ns: 1_000,
        ..SyncConfig::new(rule)
    }
}

const REST_RULES: [SyncRule; 2] = [SyncRule::GateUpdate, SyncRule::Mexc];

/// Start a REST-rule book live at seq 10 with bid 100, ask 101.
fn live_at_10(rule: SyncRule) -> SyncedBook {
    let mut b = SyncedBook::new(&cfg(rule));
    assert_eq!(b.state(), BookState::Resyncing);
    assert_eq!(
        b.on_delta(&delta(9, 10, &[], &[]), 1),
        SyncOutcome::Buffered
    );
    assert_eq!(b.take_request(1), Some(SyncRequest::Snapshot));
    assert_eq!(
        b.on_snapshot(&snap(10, &[l(100, 1)], &[l(101, 1)]), 2),
        SyncOutcome::Replaced
    );
    assert_eq!(b.state(), BookState::Live);
    assert_eq!(b.seq(), 10);
    b
}

#[test]
fn in_order_deltas_apply_and_track_seq() {
    for rule in REST_RULES {
        let mut b = live_at_10(rule);
        assert_eq!(
            b.on_delta(&delta(11, 13, &[l(100, 5)], &[]), 3),
            SyncOutcome::Applied
        );
        // Empty deltas still advance local (Gate §3.3 step 5).
        assert_eq!(
            b.on_delta(&delta(14, 14, &[], &[]), 4),
            SyncOutcome::Applied
        );
        assert_eq!(b.seq(), 14);
        assert_eq!(b.book().best_bid(), Some(l(100, 5)));
        assert_eq!(b.take_request(5), None);
    }
}

#[test]
fn duplicate_and_old_deltas_are_dropped_stale() {
    for rule in REST_RULES {
        let mut b = live_at_10(rule);
        b.on_delta(&delta(11, 12, &[l(100, 2)], &[]), 3);
        assert_eq!(
            b.on_delta(&delta(11, 12, &[l(100, 9)], &[]), 4),
            SyncOutcome::DroppedStale
        );
        assert_eq!(
            b.on_delta(&delta(5, 6, &[], &[]), 4),
            SyncOutcome::DroppedStale
        );
        assert_eq!(b.book().best_bid(), Some(l(100, 2)));
        assert_eq!(b.state(), BookState::Live);
    }
}

#[test]
fn gap_resyncs_and_gapping_delta_starts_new_buffer() {
    for rule in REST_RULES {
        let mut b = live_at_10(rule);
        let out = b.on_delta(&delta(13, 14, &[l(99, 1)], &[]), 3);
        assert_eq!(
            out,
            SyncOutcome::Gap {
                expected: 11,
                got: 13
            }
        );
        assert!(out.is_resync());
        assert_eq!(b.state(), BookState::Resyncing);
        assert_eq!(b.seq(), 0);
        assert_eq!(b.buffered(), 1);
        assert_eq!(b.take_request(3), Some(SyncRequest::Snapshot));
        assert_eq!(b.take_request(3), None, "handed out once");
        // Snapshot 13 bridges the buffered 13..14.
        assert_eq!(
            b.on_snapshot(&snap(13, &[l(98, 1)], &[l(101, 1)]), 4),
            SyncOutcome::Replaced
        );
        assert_eq!(b.seq(), 14);
        assert_eq!(b.book().best_bid(), Some(l(99, 1)));
    }
}

#[test]
fn out_of_order_delivery_is_a_gap_then_the_late_one_is_buffered() {
    for rule in REST_RULES {
        let mut b = live_at_10(rule);
        assert!(matches!(
            b.on_delta(&delta(12, 12, &[], &[]), 3),
            SyncOutcome::Gap {
                expected: 11,
                got: 12
            }
        ));
        // 11 arrives late: older than the buffered 12 → stale.
        assert_eq!(
            b.on_delta(&delta(11, 11, &[], &[]), 3),
            SyncOutcome::DroppedStale
        );
        assert_eq!(b.buffered(), 1);
    }
}

#[test]
fn stale_snapshot_is_fetched_again_and_buffer_kept() {
    for rule in REST_RULES {
        let mut b = SyncedBook::new(&cfg(rule));
        b.on_delta(&delta(20, 22, &[l(100, 1)], &[]), 1);
        b.on_delta(&delta(23, 23, &[], &[l(105, 1)]), 1);
        assert_eq!(b.take_request(1), Some(SyncRequest::Snapshot));
        // Snapshot 18: 18+1 < 20 → cannot bridge.
        assert_eq!(
            b.on_snapshot(&snap(18, &[l(99, 1)], &[l(106, 1)]), 2),
            SyncOutcome::SnapshotBehind {
                snapshot: 18,
                first: 20
            }
        );
        assert_eq!(b.state(), BookState::Resyncing);
        assert_eq!(b.buffered(), 2);
        assert_eq!(b.take_request(2), Some(SyncRequest::Snapshot));
        // Snapshot 21 lies inside 20..22: drop nothing, apply both.
        assert_eq!(
            b.on_snapshot(&snap(21, &[l(99, 1)], &[l(106, 1)]), 3),
            SyncOutcome::Replaced
        );
        assert_eq!(b.seq(), 23);
        assert_eq!(b.book().best_bid(), Some(l(100, 1)));
        assert_eq!(b.book().best_ask(), Some(l(105, 1)));
    }
}

#[test]
fn snapshot_drops_covered_deltas_and_bridges() {
    for rule in REST_RULES {
        let mut b = SyncedBook::new(&cfg(rule));
        b.on_delta(&delta(20, 22, &[l(90, 1)], &[]), 1);
        b.on_delta(&delta(23, 25, &[l(91, 1)], &[]), 1);
        b.on_delta(&delta(26, 26, &[l(92, 1)], &[]), 1);
        b.take_request(1);
        // 20..22 is covered (22 <= 24); 23..25 straddles 25.
        assert_eq!(
            b.on_snapshot(&snap(24, &[l(80, 1)], &[l(110, 1)]), 2),
            SyncOutcome::Replaced
        );
        assert_eq!(b.seq(), 26);
        assert_eq!(b.book().len(), (3, 1));
        assert_eq!(b.book().best_bid(), Some(l(92, 1)));
    }
}

#[test]
fn snapshot_newer_than_all_buffered_goes_live_and_next_delta_must_bridge() {
    for rule in REST_RULES {
        let mut b = SyncedBook::new(&cfg(rule));
        b.on_delta(&delta(20, 22, &[l(90, 1)], &[]), 1);
        b.take_request(1);
        assert_eq!(
            b.on_snapshot(&snap(30, &[l(80, 1)], &[l(110, 1)]), 2),
            SyncOutcome::Replaced
        );
        assert_eq!(b.seq(), 30);
        assert_eq!(b.book().best_bid(), Some(l(80, 1)));
        // Straddling delta 29..31 is applied.
        assert_eq!(
            b.on_delta(&delta(29, 31, &[l(81, 1)], &[]), 3),
            SyncOutcome::Applied
        );
        // And one that skips is a gap.
        assert!(matches!(
            b.on_delta(&delta(33, 33, &[], &[]), 3),
            SyncOutcome::Gap {
                expected: 32,
                got: 33
            }
        ));
    }
}

#[test]
fn full_push_replaces_book_in_any_state_without_rest() {
    for rule in [SyncRule::GateUpdate, SyncRule::Mexc, SyncRule::GateObu] {
        let mut b = SyncedBook::new(&cfg(rule));
        assert_eq!(
            b.on_delta(&full(50, 50, &[l(100, 1)], &[l(102, 1)]), 1),
            SyncOutcome::Replaced
        );
        assert_eq!(b.state(), BookState::Live);
        assert_eq!(b.seq(), 50);
        assert_eq!(b.take_request(1), None, "no REST needed");
        b.on_delta(&delta(51, 51, &[l(99, 1)], &[]), 2);
        // A full push mid-stream replaces everything.
        assert_eq!(
            b.on_delta(&full(52, 55, &[l(97, 3)], &[l(103, 1)]), 3),
            SyncOutcome::Replaced
        );
        assert_eq!(b.book().len(), (1, 1));
        assert_eq!(b.seq(), 55);
        // An old full push is stale.
        assert_eq!(
            b.on_delta(&full(40, 40, &[l(1, 1)], &[]), 4),
            SyncOutcome::DroppedStale
        );
    }
}

#[test]
fn full_push_while_snapshot_pending_cancels_request_and_late_snapshot_is_ignored() {
    let mut b = SyncedBook::new(&cfg(SyncRule::GateUpdate));
    b.on_delta(&delta(20, 21, &[], &[]), 1);
    assert!(b.wants_snapshot());
    assert_eq!(b.take_request(1), Some(SyncRequest::Snapshot));
    assert_eq!(
        b.on_delta(&full(22, 22, &[l(100, 1)], &[l(101, 1)]), 2),
        SyncOutcome::Replaced
    );
    assert_eq!(
        b.on_snapshot(&snap(19, &[l(1, 1)], &[l(2, 1)]), 3),
        SyncOutcome::Ignored
    );
    assert_eq!(b.book().best_bid(), Some(l(100, 1)));
    assert_eq!(b.seq(), 22);
}

#[test]
fn buffer_overflow_by_count_or_levels_starts_over() {
    for rule in REST_RULES {
        let mut b = SyncedBook::new(&cfg(rule));
        for i in 0..4 {
            assert_eq!(
                b.on_delta(&delta(10 + i, 10 + i, &[l(90, 1)], &[]), 1),
                SyncOutcome::Buffered
            );
        }
        assert_eq!(b.take_request(1), Some(SyncRequest::Snapshot));
        // Fifth delta: count overflow.
        assert_eq!(
            b.on_delta(&delta(14, 14, &[l(91, 1)], &[]), 2),
            SyncOutcome::Overflow
        );
        assert_eq!(b.buffered(), 1);
        // Level overflow: 16 levels max; 15 more do not fit with the 1 buffered.
        let many: Vec<Level> = (0..16).map(|i| l(50 + i, 1)).collect();
        assert_eq!(
            b.on_delta(&delta(15, 15, &many, &[]), 3),
            SyncOutcome::Overflow
        );
        assert_eq!(b.buffered(), 1);
        // The in-flight snapshot is old: fetched again; a newer one bridges.
        assert!(matches!(
            b.on_snapshot(&snap(9, &[], &[]), 4),
            SyncOutcome::SnapshotBehind { .. }
        ));
        assert_eq!(b.take_request(4), Some(SyncRequest::Snapshot));
        assert_eq!(
            b.on_snapshot(&snap(14, &[], &[l(200, 1)]), 5),
            SyncOutcome::Replaced
        );
        assert_eq!(b.seq(), 15);
        assert_eq!(b.book().len(), (16, 1));
    }
}

#[test]
fn gap_inside_buffer_restarts_buffer() {
    for rule in REST_RULES {
        let mut b = SyncedBook::new(&cfg(rule));
        b.on_delta(&delta(10, 10, &[], &[]), 1);
        assert_eq!(
            b.on_delta(&delta(12, 12, &[], &[]), 1),
            SyncOutcome::Gap {
                expected: 11,
                got: 12
            }
        );
        assert_eq!(b.buffered(), 1);
        // Snapshot 10 cannot bridge 12 any more.
        b.take_request(1);
        assert!(matches!(
            b.on_snapshot(&snap(10, &[], &[]), 2),
            SyncOutcome::SnapshotBehind {
                snapshot: 10,
                first: 12
            }
        ));
    }
}

#[test]
fn crossed_delta_clears_book_and_resyncs() {
    for rule in REST_RULES {
        let mut b = live_at_10(rule);
        let out = b.on_delta(&delta(11, 11, &[l(102, 1)], &[]), 3);
        assert_eq!(
            out,
            SyncOutcome::Book(BookError::Crossed {
                bid: Px::from_int(102),
                ask: Px::from_int(101)
            })
        );
        assert!(out.is_resync());
        assert_eq!(b.state(), BookState::Resyncing);
        assert!(b.book().is_empty() && b.book().is_valid());
        assert_eq!(b.take_request(3), Some(SyncRequest::Snapshot));
    }
    // Crossed snapshot and crossed bridged delta.
    let mut b = SyncedBook::new(&cfg(SyncRule::Mexc));
    b.on_delta(&delta(5, 5, &[l(120, 1)], &[]), 1);
    b.take_request(1);
    assert!(matches!(
        b.on_snapshot(&snap(4, &[l(100, 1)], &[l(101, 1)]), 2),
        SyncOutcome::Book(BookError::Crossed { .. })
    ));
    assert_eq!(b.state(), BookState::Resyncing);
    assert_eq!(b.take_request(2), Some(SyncRequest::Snapshot));
    assert!(matches!(
        b.on_snapshot(&snap(4, &[l(102, 1)], &[l(101, 1)]), 2),
        SyncOutcome::Ignored | SyncOutcome::Book(_)
    ));
}

#[test]
fn snapshot_failure_retries_after_delay() {
    let mut b = SyncedBook::new(&cfg(SyncRule::Mexc));
    b.on_delta(&delta(1, 1, &[], &[]), 100);
    assert_eq!(b.take_request(100), Some(SyncRequest::Snapshot));
    assert!(b.request_in_flight());
    b.on_snapshot_failed(200);
    assert!(b.wants_snapshot());
    assert_eq!(b.take_request(1_199), None, "retry delay 1000 ns");
    assert_eq!(b.take_request(1_200), Some(SyncRequest::Snapshot));
}

#[test]
fn stale_marks_and_next_update_revives() {
    let mut b = live_at_10(SyncRule::GateUpdate);
    assert!(b.mark_stale(5));
    assert!(!b.mark_stale(6));
    assert_eq!(b.state(), BookState::Stale);
    b.on_delta(&delta(11, 11, &[], &[]), 7);
    assert_eq!(b.state(), BookState::Live);
    assert_eq!(b.last_input_ns(), 7);
    // Stale does not apply to a resyncing book.
    let mut r = SyncedBook::new(&cfg(SyncRule::GateUpdate));
    assert!(!r.mark_stale(1));
    assert_eq!(r.state(), BookState::Resyncing);
}

#[test]
fn reset_forgets_everything_and_requests_on_first_delta() {
    let mut b = live_at_10(SyncRule::Mexc);
    b.reset(10);
    assert_eq!(b.state(), BookState::Resyncing);
    assert!(b.book().is_empty());
    assert_eq!(
        b.take_request(10),
        None,
        "no snapshot before the stream restarts"
    );
    b.on_delta(&delta(100, 101, &[], &[]), 11);
    assert_eq!(b.take_request(11), Some(SyncRequest::Snapshot));
}

#[test]
fn bad_seq_range_is_dropped() {
    let mut b = live_at_10(SyncRule::GateUpdate);
    assert_eq!(b.on_delta(&delta(12, 11, &[], &[]), 3), SyncOutcome::BadSeq);
    assert_eq!(b.seq(), 10);
}

#[test]
fn obu_first_push_must_be_full_and_gap_resubscribes() {
    let mut b = SyncedBook::new(&cfg(SyncRule::GateObu));
    assert_eq!(
        b.on_delta(&delta(5, 5, &[l(100, 1)], &[]), 1),
        SyncOutcome::DroppedNotFull
    );
    assert_eq!(b.take_request(1), None);
    assert_eq!(
        b.on_delta(&full(6, 6, &[l(100, 1)], &[l(101, 1)]), 2),
        SyncOutcome::Replaced
    );
    assert_eq!(
        b.on_delta(&delta(7, 7, &[l(100, 2)], &[]), 3),
        SyncOutcome::Applied
    );
    assert_eq!(
        b.on_delta(&delta(9, 9, &[], &[]), 4),
        SyncOutcome::Gap {
            expected: 8,
            got: 9
        }
    );
    assert_eq!(b.take_request(4), Some(SyncRequest::Resubscribe));
    assert_eq!(b.buffered(), 0, "obu never buffers");
    assert_eq!(
        b.on_snapshot(&snap(9, &[], &[]), 5),
        SyncOutcome::Ignored,
        "no REST for obu"
    );
    assert_eq!(
        b.on_delta(&delta(10, 10, &[], &[]), 5),
        SyncOutcome::DroppedNotFull
    );
    // Resubscribe failed: ask again after the delay.
    b.on_request_failed(6);
    assert_eq!(b.take_request(6), None);
    assert_eq!(b.take_request(1_006), Some(SyncRequest::Resubscribe));
    assert_eq!(
        b.on_delta(&full(20, 20, &[l(100, 1)], &[l(101, 1)]), 7),
        SyncOutcome::Replaced
    );
    assert!(!b.request_in_flight());
    assert_eq!(b.state(), BookState::Live);
}

#[test]
fn mexc_versions_straddle_rule_matches_doc_example() {
    // §1.6: buffer pushes, snapshot lastUpdateId, drop toVersion <= id, first remaining must
    // straddle id+1, then fromVersion == prev toVersion + 1.
    let mut b = SyncedBook::new(&cfg(SyncRule::Mexc));
    b.on_delta(&delta(1000, 1003, &[l(10, 1)], &[]), 1);
    b.on_delta(&delta(1004, 1004, &[l(11, 1)], &[]), 1);
    b.on_delta(&delta(1005, 1009, &[l(12, 1)], &[]), 1);
    b.take_request(1);
    assert_eq!(
        b.on_snapshot(&snap(1006, &[l(9, 1)], &[l(20, 1)]), 2),
        SyncOutcome::Replaced
    );
    // Only 1005..1009 was applied on top of the snapshot.
    assert_eq!(b.book().len(), (2, 1));
    assert_eq!(b.seq(), 1009);
    assert_eq!(
        b.on_delta(&delta(1010, 1012, &[], &[]), 3),
        SyncOutcome::Applied
    );
}

#[test]
fn idle_check_marks_stale_after_threshold() {
    let mut b = live_at_10(SyncRule::Mexc);
    assert!(!b.check_idle(2 + 100, 100));
    assert!(b.check_idle(2 + 101, 100));
    assert_eq!(b.state(), BookState::Stale);
}

/// Issue 12, defect 6: an implausible sequence (an `obu` `full` with `u = 2^64-1`, a live
/// delta jumping past `MAX_SEQ_JUMP`, a REST snapshot id above `MAX_SEQ`) used to be accepted
/// and freeze a `Live` book (every later delta `<= local`, dropped as stale). Now each is a
/// resync with a request, and the stream can start the book again.
#[test]
fn implausible_sequence_jump_resyncs_instead_of_freezing_a_live_book() {
    use cexfeed::book::{MAX_SEQ, MAX_SEQ_JUMP};
    let (b, a) = ([l(100, 1)], [l(101, 1)]);
    // Live at seq 10: REST rules through a snapshot, obu through its first full push.
    let live_at_10 = |rule| match rule {
        SyncRule::GateObu => {
            let mut sb = SyncedBook::new(&cfg(rule));
            assert_eq!(sb.on_delta(&full(10, 10, &b, &a), 1), SyncOutcome::Replaced);
            sb
        }
        _ => live_at_10(rule),
    };
    // obu: full with u = 2^64-1 on a live book, and on a resyncing one.
    let mut sb = live_at_10(SyncRule::GateObu);
    let out = sb.on_delta(&full(u64::MAX, u64::MAX, &b, &a), 1);
    assert_eq!(
        out,
        SyncOutcome::Implausible {
            local: 10,
            got: u64::MAX
        }
    );
    assert!(out.is_resync());
    assert_eq!(sb.state(), BookState::Resyncing);
    assert_eq!(sb.take_request(2), Some(SyncRequest::Resubscribe));
    assert!(matches!(
        sb.on_delta(&full(u64::MAX, u64::MAX, &b, &a), 3),
        SyncOutcome::Implausible { .. }
    ));
    assert_eq!(sb.state(), BookState::Resyncing);
    // The resubscription's full push starts it again, and deltas continue.
    assert_eq!(sb.on_delta(&full(20, 20, &b, &a), 4), SyncOutcome::Replaced);
    assert_eq!(sb.on_delta(&delta(21, 22, &b, &a), 5), SyncOutcome::Applied);
    assert_eq!((sb.state(), sb.seq()), (BookState::Live, 22));
    // A live full or delta jumping further than MAX_SEQ_JUMP.
    for rule in [SyncRule::GateObu, SyncRule::GateUpdate, SyncRule::Mexc] {
        let mut sb = live_at_10(rule);
        let far = 10 + MAX_SEQ_JUMP + 1;
        assert!(matches!(
            sb.on_delta(&delta(11, far, &b, &a), 1),
            SyncOutcome::Implausible { .. }
        ));
        assert_eq!(sb.state(), BookState::Resyncing, "{rule:?}");
        let mut sb = live_at_10(rule);
        assert!(matches!(
            sb.on_delta(&full(far, far, &b, &a), 1),
            SyncOutcome::Implausible { .. }
        ));
        // Within the bound, still accepted.
        let mut sb = live_at_10(rule);
        assert_eq!(
            sb.on_delta(&delta(11, 10 + MAX_SEQ_JUMP, &b, &a), 1),
            SyncOutcome::Applied
        );
    }
    // A REST snapshot id above MAX_SEQ: refused, a new snapshot is asked for.
    let mut sb = SyncedBook::new(&cfg(SyncRule::Mexc));
    assert_eq!(sb.on_delta(&delta(5, 6, &b, &a), 1), SyncOutcome::Buffered);
    assert_eq!(sb.take_request(1), Some(SyncRequest::Snapshot));
    assert!(matches!(
        sb.on_snapshot(&snap(MAX_SEQ + 1, &b, &a), 2),
        SyncOutcome::Implausible { .. }
    ));
    assert_eq!(sb.state(), BookState::Resyncing);
    assert_eq!(sb.take_request(3), Some(SyncRequest::Snapshot));
}
