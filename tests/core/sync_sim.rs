//! Simulated venue + lossy link + REST on a virtual clock: whenever the synced book says it is
//! live, it must equal the venue's book at the sequence it claims — under drops, duplicates,
//! swaps, late/failed/stale snapshots and `full` pushes — and it must get live again once the
//! link is clean (bounded driver: no livelock).

use std::collections::BTreeMap;

use cexfeed::book::{SyncConfig, SyncRequest, SyncRule, SyncedBook};
use cexfeed::event::{BookMsg, Level};
use cexfeed::types::{BookState, Px, Qty};

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

#[derive(Clone, Default)]
struct VenueBook {
    bids: BTreeMap<i128, i128>,
    asks: BTreeMap<i128, i128>,
}

impl VenueBook {
    fn levels(&self) -> (Vec<Level>, Vec<Level>) {
        // REST order: best first.
        let b = self
            .bids
            .iter()
            .rev()
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .collect();
        let a = self
            .asks
            .iter()
            .map(|(p, q)| Level::new(Px(*p), Qty(*q)))
            .collect();
        (b, a)
    }
}

#[derive(Clone)]
struct Delta {
    first: u64,
    last: u64,
    full: bool,
    bids: Vec<Level>,
    asks: Vec<Level>,
}

fn msg(d: &Delta) -> BookMsg<'_> {
    BookMsg {
        symbol: "X",
        snapshot: d.full,
        seq_first: d.first,
        seq_last: d.last,
        bids: &d.bids,
        asks: &d.asks,
        ts_exchange_ms: None,
    }
}

fn assert_matches(sb: &SyncedBook, history: &BTreeMap<u64, VenueBook>, ctx: &str) {
    if sb.state() == BookState::Resyncing {
        return;
    }
    let want = history
        .get(&sb.seq())
        .unwrap_or_else(|| panic!("{ctx}: live at unknown seq {}", sb.seq()));
    let (wb, wa) = want.levels();
    let gb: Vec<Level> = sb.book().bids_worst_first().iter().rev().copied().collect();
    let ga: Vec<Level> = sb.book().asks_worst_first().iter().rev().copied().collect();
    assert_eq!(gb, wb, "{ctx}: bids at seq {}", sb.seq());
    assert_eq!(ga, wa, "{ctx}: asks at seq {}", sb.seq());
}

fn simulate(rule: SyncRule, seed: u64, steps: u64) -> (u64, u64) {
    let mut rng = Rng(seed);
    let mut sb = SyncedBook::new(&SyncConfig {
        levels_per_side: 4096,
        max_buffered_deltas: 32,
        max_buffered_levels: 512,
        snapshot_retry_ns: 5,
        ..SyncConfig::new(rule)
    });
    let mut venue = VenueBook::default();
    let mut seq = 1000u64;
    let mut history = BTreeMap::new();
    history.insert(seq, venue.clone());
    // In-flight network messages and a pending REST answer (due step, snapshot or failure).
    let mut wire: Vec<Delta> = Vec::new();
    let mut rest: Option<(u64, Option<(u64, VenueBook)>)> = None;
    let mut resub_due: Option<u64> = None;
    let mut live_checks = 0u64;
    let mut resyncs = 0u64;
    let clean_from = steps * 3 / 4;
    // obu: the subscription starts with a full push.
    if rule == SyncRule::GateObu {
        resub_due = Some(0);
    }
    for now in 0..steps {
        let lossy = now < clean_from;
        // Venue produces one aggregated delta per step.
        let first = seq + 1;
        let last = first + rng.below(3);
        let mut d = Delta {
            first,
            last,
            full: false,
            bids: vec![],
            asks: vec![],
        };
        for _ in 0..rng.below(6) {
            let bid = rng.chance(50);
            let dist = 1 + rng.below(40) as i128;
            let qty = if rng.chance(30) {
                0
            } else {
                1 + rng.below(50) as i128
            };
            if bid {
                d.bids.push(Level::new(Px(1000 - dist), Qty(qty)));
                if qty == 0 {
                    venue.bids.remove(&(1000 - dist));
                } else {
                    venue.bids.insert(1000 - dist, qty);
                }
            } else {
                d.asks.push(Level::new(Px(1000 + dist), Qty(qty)));
                if qty == 0 {
                    venue.asks.remove(&(1000 + dist));
                } else {
                    venue.asks.insert(1000 + dist, qty);
                }
            }
        }
        seq = last;
        history.insert(seq, venue.clone());
        // Gate sends an occasional full push; obu sends one after a resubscribe.
        if rule == SyncRule::GateUpdate && rng.chance(2) {
            let (b, a) = venue.levels();
            d = Delta {
                first,
                last,
                full: true,
                bids: b,
                asks: a,
            };
        }
        let mut protect = false;
        if resub_due.is_some_and(|t| t <= now) {
            protect = true;
            let (b, a) = venue.levels();
            d = Delta {
                first,
                last,
                full: true,
                bids: b,
                asks: a,
            };
            resub_due = None;
        }
        // Lossy link: drop, duplicate, or hold back to swap with the next one.
        if lossy && !protect && rng.chance(3) {
            // dropped (the venue skipped sequence numbers, as far as we can tell)
        } else if lossy && rng.chance(3) {
            wire.push(d.clone());
            wire.push(d);
        } else {
            wire.push(d);
        }
        if lossy && wire.len() >= 2 && rng.chance(3) {
            let n = wire.len();
            wire.swap(n - 1, n - 2);
        }
        if !(lossy && rng.chance(10) && wire.len() < 4) {
            for d in wire.drain(..) {
                let out = sb.on_delta(&msg(&d), now);
                resyncs += out.is_resync() as u64;
                assert_matches(&sb, &history, &format!("seed {seed} step {now} delta"));
            }
        }
        // REST answers.
        if let Some((due, _)) = rest {
            if due <= now {
                let (_, ans) = rest.take().unwrap();
                match ans {
                    Some((id, book)) => {
                        let (b, a) = book.levels();
                        let m = BookMsg {
                            symbol: "X",
                            snapshot: true,
                            seq_first: id,
                            seq_last: id,
                            bids: &b,
                            asks: &a,
                            ts_exchange_ms: None,
                        };
                        let out = sb.on_snapshot(&m, now);
                        resyncs += out.is_resync() as u64;
                        assert_matches(&sb, &history, &format!("seed {seed} step {now} snap"));
                    }
                    None => sb.on_snapshot_failed(now),
                }
            }
        }
        match sb.take_request(now) {
            Some(SyncRequest::Snapshot) => {
                assert!(rule.uses_rest());
                assert!(rest.is_none(), "one request at a time");
                let delay = 1 + rng.below(8);
                // The venue answers with its book at the time it serves the request, sometimes
                // an older cached one (stale snapshot), sometimes fails.
                let ans = if lossy && rng.chance(10) {
                    None
                } else {
                    let lag = if lossy && rng.chance(20) {
                        rng.below(30)
                    } else {
                        0
                    };
                    let id = seq.saturating_sub(lag).max(1000);
                    let id = *history.range(..=id).next_back().unwrap().0;
                    Some((id, history[&id].clone()))
                };
                rest = Some((now + delay, ans));
            }
            Some(SyncRequest::Resubscribe) => {
                assert_eq!(rule, SyncRule::GateObu);
                resub_due = Some(now + 1 + rng.below(5));
            }
            None => {}
        }
        if sb.state() != BookState::Resyncing {
            live_checks += 1;
        }
    }
    assert_eq!(
        sb.state(),
        BookState::Live,
        "seed {seed}: not live after a clean quarter"
    );
    assert_eq!(sb.seq(), seq);
    assert_matches(&sb, &history, "end");
    (live_checks, resyncs)
}

#[test]
fn live_book_always_equals_venue_book_under_a_lossy_link() {
    for rule in [SyncRule::GateUpdate, SyncRule::Mexc, SyncRule::GateObu] {
        let mut total_live = 0;
        let mut total_resyncs = 0;
        for seed in 1..=8u64 {
            let (live, resyncs) = simulate(rule, seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), 1500);
            total_live += live;
            total_resyncs += resyncs;
        }
        // The run exercised both states.
        assert!(total_live > 1000, "{rule:?}: live {total_live}");
        assert!(total_resyncs > 20, "{rule:?}: resyncs {total_resyncs}");
    }
}
