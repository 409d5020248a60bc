//! Exercise: fix the race three ways
//!
//! `count_racy` below is lesson 03's race: `n_threads` threads each add 1 to one shared counter
//! `increments` times, with an atomic load and then a separate store, and updates get lost
//! whenever another thread stores between the two. Write three versions that are exact on every
//! run, whatever the number of threads:
//! - `count_with_mutex`: the counter is a `Mutex<u64>`; each increment locks it, adds 1 and
//!   unlocks, so that nobody can store between this thread's load and its store;
//! - `count_with_fetch_add`: the counter is an `AtomicU64`, and each increment is one
//!   indivisible `fetch_add`;
//! - `count_locally_then_sum`: no shared counter while counting. Each thread counts into a
//!   tally of its own, made by calling `new_tally()` once in that thread (with `|| 0u64` it is
//!   a plain local variable), and the tallies' totals are added up once every thread is done.
//!
//! The first two are handed their shared counter (at 0), so that the checks can look at it
//! while your threads count: every increment goes into it as it happens. Each returns the
//! counter's final value.
//!
//! In every version, all `n_threads` threads run at the same time (no thread waits for another
//! to finish before it starts), and thread `t` (numbered `0..n_threads`) calls `event(t)` just
//! before each of its increments, outside any lock, as `count_racy` does. The event is what the
//! increment counts (a request served, a word found); the checks use it to watch your threads.
//!
//! Check your work with `cargo homework 03`; stuck, `cargo homework hint 03` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where one thread keeps its own count in `count_locally_then_sum`. `u64` is the obvious one;
/// the checks hand out a tally that also notes which thread uses it.
pub trait Tally: Send {
    /// Adds 1 to this tally.
    fn add_one(&mut self);
    /// Everything added so far.
    fn total(&self) -> u64;
}

impl Tally for u64 {
    fn add_one(&mut self) {
        *self += 1;
    }

    fn total(&self) -> u64 {
        *self
    }
}

/// The race: `n_threads` threads each add 1 to the shared `counter` `increments` times, with a
/// separate load and store. Returns the counter, which often ends below
/// `n_threads × increments`.
// This version is problematic: another thread may store between our load and our store, and
// our store then writes over its update.
pub fn count_racy(counter: &AtomicU64, n_threads: usize, increments: u64, event: impl Fn(usize) + Sync) -> u64 {
    std::thread::scope(|scope| {
        for thread in 0..n_threads {
            let event = &event;
            scope.spawn(move || {
                for _ in 0..increments {
                    event(thread);
                    // Relaxed, because no ordering can make this right: the bug is the gap
                    // between the two operations, and even SeqCst leaves it open.
                    let value = counter.load(Ordering::Relaxed);
                    counter.store(value + 1, Ordering::Relaxed);
                }
            });
        }
    });
    counter.load(Ordering::Relaxed)
}

/// Fix 1: the load, the add and the store happen with a `Mutex` held.
pub fn count_with_mutex(counter: &Mutex<u64>, n_threads: usize, increments: u64, event: impl Fn(usize) + Sync) -> u64 {
    todo!("for each increment: event(thread), then lock the counter, add 1, unlock")
}

/// Fix 2: one indivisible read-modify-write per increment.
pub fn count_with_fetch_add(
    counter: &AtomicU64,
    n_threads: usize,
    increments: u64,
    event: impl Fn(usize) + Sync,
) -> u64 {
    todo!("for each increment: event(thread), then counter.fetch_add(1, ...)")
}

/// Fix 3: nothing shared while counting; each thread's tally is added up after the join.
pub fn count_locally_then_sum<T: Tally>(
    n_threads: usize,
    increments: u64,
    event: impl Fn(usize) + Sync,
    new_tally: impl Fn() -> T + Sync,
) -> u64 {
    todo!("in each thread: let mut tally = new_tally(); count into it; return tally.total(); sum after joining")
}
