//! Memory that a parent and the children it forks really share.
//!
//! `fork` gives a child a copy of its parent's memory (copy-on-write): a counter in an
//! ordinary variable would be counted separately in every process, and the parent would see
//! none of it. A mapping made with `mmap(MAP_SHARED | MAP_ANONYMOUS)` is the exception: the
//! same physical page appears in the parent and in every child forked after it, so a store by
//! one process is seen by all. That is how Python's `multiprocessing.Value` shares a number.

use anyhow::Context;
use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous, munmap};
use std::num::NonZeroUsize;
use std::ops::Deref;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};

/// The most children that can share one [`Shared`] (as many as `--processes` allows).
pub const MAX_PROCESSES: usize = 64;

/// What the processes share. Atomics only: all-zero bytes are a valid value for each of them,
/// and atomics may be read and written by several processes at once without undefined
/// behaviour (a race on them loses updates, but never corrupts memory).
#[repr(C)]
#[derive(Debug)]
pub struct Shared {
    /// The counter every child adds to.
    pub counter: AtomicU64,
    /// Children that have started and are waiting for `go`.
    pub ready: AtomicUsize,
    /// Set by the parent once every child is ready, so that they all start counting together.
    pub go: AtomicBool,
    /// Or the children start at a start line of their own (`start_line.rs`), which waits
    /// until all of them are seen running at once: a heartbeat per child, and the signal.
    pub beats: [AtomicU64; MAX_PROCESSES],
    pub start: AtomicU8,
}

impl Shared {
    /// Back to zero, before a new group of children.
    pub fn reset(&self) {
        self.counter.store(0, Ordering::SeqCst);
        self.ready.store(0, Ordering::SeqCst);
        self.go.store(false, Ordering::SeqCst);
        for beat in &self.beats {
            beat.store(0, Ordering::SeqCst);
        }
        self.start.store(0, Ordering::SeqCst);
    }
}

/// A [`Shared`] in its own shared anonymous mapping, unmapped when dropped.
#[derive(Debug)]
pub struct SharedMapping {
    shared: NonNull<Shared>,
}

impl SharedMapping {
    /// Maps a fresh, zero-filled shared page holding one [`Shared`].
    pub fn new() -> anyhow::Result<Self> {
        let length = NonZeroUsize::new(size_of::<Shared>()).context("the shared block has no size")?;
        // Safety: a new anonymous mapping at an address the kernel picks (no hint, no file)
        // cannot overlap any memory Rust already uses; we only read and write it through the
        // returned pointer.
        let page = unsafe {
            mmap_anonymous(
                None,
                length,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_SHARED,
            )
        }
        .context("mmap of a shared page failed")?;
        Ok(SharedMapping { shared: page.cast() })
    }
}

impl Deref for SharedMapping {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        // Safety: the pointer comes from a live mapping at least `size_of::<Shared>()` long
        // and page-aligned (so aligned for `Shared`); the kernel filled it with zeros, which is
        // a valid `Shared`; it is only accessed through atomics, so shared references from
        // any number of threads or processes are sound; and it stays mapped while `self`
        // lives, which the returned reference borrows.
        unsafe { self.shared.as_ref() }
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // Safety: the address and length are exactly those of the mapping made in `new`, and
        // no reference into it outlives `self` (every one borrows it). Forked children never
        // run this: they leave by `_exit`, and the kernel unmaps their copy.
        let _ = unsafe { munmap(self.shared.cast(), size_of::<Shared>()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mapping_starts_at_zero_and_resets() {
        let mapping = SharedMapping::new().unwrap();
        assert_eq!(mapping.counter.load(Ordering::SeqCst), 0);
        assert!(!mapping.go.load(Ordering::SeqCst));
        mapping.counter.fetch_add(5, Ordering::SeqCst);
        mapping.ready.fetch_add(1, Ordering::SeqCst);
        mapping.go.store(true, Ordering::SeqCst);
        mapping.beats[3].fetch_add(7, Ordering::SeqCst);
        mapping.start.store(1, Ordering::SeqCst);
        mapping.reset();
        assert!(mapping.beats.iter().all(|beat| beat.load(Ordering::SeqCst) == 0));
        assert_eq!(mapping.start.load(Ordering::SeqCst), 0);
        assert_eq!(mapping.counter.load(Ordering::SeqCst), 0);
        assert_eq!(mapping.ready.load(Ordering::SeqCst), 0);
        assert!(!mapping.go.load(Ordering::SeqCst));
    }
}
