//! Exercise: fix the race three ways
//!
//! The reference solution.

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
    std::thread::scope(|scope| {
        for thread in 0..n_threads {
            let event = &event;
            scope.spawn(move || {
                for _ in 0..increments {
                    event(thread);
                    // The guard lives for this one statement: the lock is held for the load,
                    // the add and the store, and for nothing else.
                    *counter.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
                }
            });
        }
    });
    // A panic while the lock was held could only come from `+= 1`, which cannot panic here.
    *counter.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Fix 2: one indivisible read-modify-write per increment.
pub fn count_with_fetch_add(
    counter: &AtomicU64,
    n_threads: usize,
    increments: u64,
    event: impl Fn(usize) + Sync,
) -> u64 {
    std::thread::scope(|scope| {
        for thread in 0..n_threads {
            let event = &event;
            scope.spawn(move || {
                for _ in 0..increments {
                    event(thread);
                    // Relaxed is enough: `fetch_add` is indivisible whatever the ordering, only
                    // the count matters (no other memory is published through it), and the
                    // scope's join orders every increment before the load below reads the total.
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    counter.load(Ordering::Relaxed)
}

/// Fix 3: nothing shared while counting; each thread's tally is added up after the join.
pub fn count_locally_then_sum<T: Tally>(
    n_threads: usize,
    increments: u64,
    event: impl Fn(usize) + Sync,
    new_tally: impl Fn() -> T + Sync,
) -> u64 {
    std::thread::scope(|scope| {
        // Spawn every thread before joining any, so that they all count at the same time.
        let workers: Vec<_> = (0..n_threads)
            .map(|thread| {
                let (event, new_tally) = (&event, &new_tally);
                scope.spawn(move || {
                    // The tally belongs to this thread alone: the loop writes nothing that
                    // another thread can see, so there is nothing to race on or to wait for.
                    let mut tally = new_tally();
                    for _ in 0..increments {
                        event(thread);
                        tally.add_one();
                    }
                    tally.total()
                })
            })
            .collect();
        // The one moment the threads' counts meet: after each has finished, through `join`.
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .sum()
    })
}
