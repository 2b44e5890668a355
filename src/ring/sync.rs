//! The rings' synchronisation primitives: `std`'s, or loom's when built with `--cfg loom`
//! (crossbeam's shim pattern), so `tests/loom_ring.rs` model-checks the very code that ships.
//! `tools/loom.sh` runs it.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

/// An `UnsafeCell` whose accesses loom can see. Under `std` every method compiles to the raw
/// pointer access; under loom each access is registered, so two threads touching a slot
/// without a happens-before edge fail the model.
pub(crate) struct Cell<T> {
    #[cfg(not(loom))]
    inner: std::cell::UnsafeCell<T>,
    #[cfg(loom)]
    inner: loom::cell::UnsafeCell<T>,
}

impl<T> Cell<T> {
    pub(crate) fn new(v: T) -> Self {
        Self {
            #[cfg(not(loom))]
            inner: std::cell::UnsafeCell::new(v),
            #[cfg(loom)]
            inner: loom::cell::UnsafeCell::new(v),
        }
    }

    /// A mutable reference to the contents.
    ///
    /// # Safety
    /// The caller has exclusive access to the cell for the reference's lifetime.
    #[cfg(not(loom))]
    #[inline(always)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut(&self) -> &mut T {
        // SAFETY: exclusivity is the caller's contract.
        unsafe { &mut *self.inner.get() }
    }

    /// A shared reference to the contents.
    ///
    /// # Safety
    /// No thread writes the cell for the reference's lifetime.
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) unsafe fn get_ref(&self) -> &T {
        // SAFETY: the absence of writers is the caller's contract.
        unsafe { &*self.inner.get() }
    }

    /// Loom: as above, and the write access is recorded at this point (the reference itself is
    /// not tracked after it is handed out).
    #[cfg(loom)]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut(&self) -> &mut T {
        // SAFETY: exclusivity is the caller's contract.
        self.inner.with_mut(|p| unsafe { &mut *p })
    }

    /// Loom: as above, and the read access is recorded at this point.
    #[cfg(loom)]
    pub(crate) unsafe fn get_ref(&self) -> &T {
        // SAFETY: the absence of writers is the caller's contract.
        self.inner.with(|p| unsafe { &*p })
    }
}
