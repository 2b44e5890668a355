//! The counting allocator every no-alloc test binary uses. A binary installs it with one line,
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: support::alloc::Counting = support::alloc::Counting;
//! ```
//!
//! and counts in one of three ways:
//! - **this thread** ([`count`], or [`arm`]/[`disarm`]): allocations made by the calling thread
//!   while armed. Tests in one binary run in parallel and helper threads (a loopback server)
//!   allocate freely; only the armed thread's allocations count.
//! - **marked threads** ([`mark_thread`] on the thread, [`arm_marked`] from anywhere,
//!   [`take_marked`]): a thread the test does not run itself (a feed thread) marks itself at
//!   start; its allocations count while the marked set is armed.
//! - **every thread** ([`arm_global`], [`take_global`]).
//!
//! Reallocations to at least [`watch_grows_from`] bytes on an armed thread are counted apart
//! ([`grows`]): a read buffer doubling is not a per-message allocation.
//!
//! Thread-locals are read with `try_with`: the allocator runs during thread teardown too.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Forwards to the system allocator unchanged; only counts.
pub struct Counting;

static GLOBAL_ARMED: AtomicBool = AtomicBool::new(false);
static GLOBAL_COUNT: AtomicU64 = AtomicU64::new(0);
static MARKED_ARMED: AtomicBool = AtomicBool::new(false);
static MARKED_COUNT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static MINE: Cell<u64> = const { Cell::new(0) };
    static MARKED: Cell<bool> = const { Cell::new(false) };
    static GROW_FROM: Cell<usize> = const { Cell::new(0) };
    static GROWS: Cell<u64> = const { Cell::new(0) };
}

fn thread_armed() -> bool {
    ARMED.try_with(|a| a.get()).unwrap_or(false)
}

/// Count one allocation (or a reallocation to `realloc_to` bytes) wherever it is armed.
fn note(realloc_to: Option<usize>) {
    if GLOBAL_ARMED.load(Ordering::Relaxed) {
        GLOBAL_COUNT.fetch_add(1, Ordering::Relaxed);
    }
    if MARKED_ARMED.load(Ordering::Relaxed) && MARKED.try_with(|m| m.get()).unwrap_or(false) {
        MARKED_COUNT.fetch_add(1, Ordering::Relaxed);
    }
    if thread_armed() {
        let from = GROW_FROM.try_with(|g| g.get()).unwrap_or(0);
        match realloc_to {
            Some(n) if from != 0 && n >= from => {
                let _ = GROWS.try_with(|g| g.set(g.get() + 1));
            }
            _ => {
                let _ = MINE.try_with(|m| m.set(m.get() + 1));
            }
        }
    }
}

// SAFETY: every call is forwarded to `System` with the caller's arguments unchanged; counting
// touches only atomics and const-initialised thread-locals, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        note(None);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        note(None);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        note(Some(n));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(p, l, n) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(p, l) }
    }
}

/// Allocations made by `f` on this thread.
pub fn count<R>(f: impl FnOnce() -> R) -> (u64, R) {
    arm();
    let r = f();
    (disarm(), r)
}

/// Start counting this thread's allocations from zero.
pub fn arm() {
    MINE.with(|m| m.set(0));
    GROWS.with(|g| g.set(0));
    ARMED.with(|a| a.set(true));
}

/// Stop counting this thread's allocations; how many there were since [`arm`].
pub fn disarm() -> u64 {
    ARMED.with(|a| a.set(false));
    MINE.with(|m| m.get())
}

/// On this thread, count reallocations to at least `bytes` apart, in [`grows`] (0 = off).
pub fn watch_grows_from(bytes: usize) {
    GROW_FROM.with(|g| g.set(bytes));
}

/// Reallocations at or above the [`watch_grows_from`] size since [`arm`], this thread.
pub fn grows() -> u64 {
    GROWS.with(|g| g.get())
}

/// Mark the calling thread: its allocations count while [`arm_marked`] is on.
pub fn mark_thread() {
    MARKED.with(|m| m.set(true));
}

/// Arm or disarm counting on every marked thread.
pub fn arm_marked(on: bool) {
    MARKED_ARMED.store(on, Ordering::SeqCst);
}

/// Allocations on marked threads while armed, since the last call.
pub fn take_marked() -> u64 {
    MARKED_COUNT.swap(0, Ordering::SeqCst)
}

/// Arm or disarm counting on every thread.
pub fn arm_global(on: bool) {
    GLOBAL_ARMED.store(on, Ordering::SeqCst);
}

/// Allocations on any thread while globally armed, since the last call.
pub fn take_global() -> u64 {
    GLOBAL_COUNT.swap(0, Ordering::SeqCst)
}
