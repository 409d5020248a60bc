//! Race conditions on one shared counter, and three ways to fix them.
//!
//! Python's `counter += 1` is three steps: load the counter, add 1, store it back. Here those
//! steps are an atomic `load` followed by a separate atomic `store`: well-defined Rust with the
//! same gap between the load and the store as the Python line (a plain `+=` on shared data
//! would not compile). Whether CPython's threads ever fall into that gap depends on the
//! interpreter; `python/race.py` measures yours.
//!
//! Every counting function has the same signature: `n_threads` threads each add 1 to the
//! count `increments` times, and the function returns the final count, which should be
//! `n_threads × increments`. A thread the machine refuses to start is an error, not a panic.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

/// Adds 1 `increments` times with a separate load and store.
// This version is problematic: another worker may store between our load and our store,
// and our store then writes over its update. Each access alone is atomic, so there is no
// undefined behaviour; the read-modify-write as a whole is not.
pub fn add_racily(counter: &AtomicU64, increments: u64) {
    for _ in 0..increments {
        // Relaxed, because no ordering can make this right: the bug is the gap between the
        // two operations, and even SeqCst leaves it open.
        let value = counter.load(Ordering::Relaxed);
        // black_box keeps the compiler from fusing the load and the store into one `inc`
        // instruction. Python's `counter += 1` is separate bytecodes as well.
        let value = std::hint::black_box(value) + 1;
        counter.store(value, Ordering::Relaxed);
    }
}

/// Adds 1 `increments` times with one indivisible read-modify-write each.
pub fn add_atomically(counter: &AtomicU64, increments: u64) {
    for _ in 0..increments {
        // Relaxed is enough: only the count matters, no other memory is published through
        // it, and whoever reads the total does so after joining every worker, which orders
        // all their increments before the read.
        counter.fetch_add(1, Ordering::Relaxed); // ← the fix: load, add and store as one step
    }
}

/// Counts to `increments` in a private variable: nothing is shared.
pub fn count_privately(increments: u64) -> u64 {
    let mut count = 0u64;
    for _ in 0..increments {
        // black_box stops the compiler from replacing the loop by one addition, so that every
        // variant really performs every increment.
        count += std::hint::black_box(1);
    }
    count
}

/// One thread does every increment: nothing is shared, nothing can race.
pub fn count_sequential(n_threads: usize, increments: u64) -> io::Result<u64> {
    Ok(count_privately(n_threads as u64 * increments))
}

/// Threads share one counter and update it with a separate load and store.
// This version is problematic: it loses updates (see `add_racily`).
pub fn count_racy(n_threads: usize, increments: u64) -> io::Result<u64> {
    let counter = AtomicU64::new(0);
    on_threads(n_threads, || add_racily(&counter, increments))?;
    Ok(counter.into_inner())
}

/// Fix 1: the load, the add and the store happen with a lock held, one thread at a time.
pub fn count_with_mutex(n_threads: usize, increments: u64) -> io::Result<u64> {
    let counter = Mutex::new(0u64);
    on_threads(n_threads, || {
        for _ in 0..increments {
            // `lock()` fails only if another thread panicked while holding the lock.
            *counter.lock().unwrap() += 1; // ← Fix 1: a lock held for the load, the add and the store
        }
    })?;
    Ok(counter.into_inner().unwrap())
}

/// Fix 2: one atomic read-modify-write per increment (`lock xadd` on x86).
pub fn count_with_fetch_add(n_threads: usize, increments: u64) -> io::Result<u64> {
    let counter = AtomicU64::new(0);
    on_threads(n_threads, || add_atomically(&counter, increments))?; // ← Fix 2: the only change from count_racy
    Ok(counter.into_inner())
}

/// Fix 3: each thread counts in its own variable; the totals are added once, after joining.
pub fn count_locally_then_sum(n_threads: usize, increments: u64) -> io::Result<u64> {
    let totals = on_threads(n_threads, || count_privately(increments))?; // ← Fix 3: share nothing
    Ok(totals.into_iter().sum())
}

/// Runs `work` on `n_threads` scoped threads and returns what each one returned. A thread the
/// machine refuses is an error (the threads already started are joined first); a panic in a
/// worker is passed on.
pub fn on_threads<T: Send>(n_threads: usize, work: impl Fn() -> T + Sync) -> io::Result<Vec<T>> {
    // Every thread borrows the same closure: a shared reference to it can be handed to each.
    let work = &work;
    thread::scope(|scope| {
        let mut workers = Vec::with_capacity(n_threads);
        for _ in 0..n_threads {
            workers.push(thread::Builder::new().spawn_scoped(scope, work)?);
        }
        Ok(workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_is_exact_on_every_run() {
        for n_threads in [2, 3, 4, 8] {
            let expected = n_threads as u64 * 20_000;
            for _ in 0..25 {
                assert_eq!(count_with_mutex(n_threads, 20_000).unwrap(), expected);
                assert_eq!(count_with_fetch_add(n_threads, 20_000).unwrap(), expected);
                assert_eq!(count_locally_then_sum(n_threads, 20_000).unwrap(), expected);
                assert_eq!(count_sequential(n_threads, 20_000).unwrap(), expected);
            }
        }
    }

    #[test]
    fn the_racy_count_never_gains_and_is_exact_alone() {
        assert_eq!(count_racy(1, 100_000).unwrap(), 100_000);
        for _ in 0..5 {
            let total = count_racy(4, 50_000).unwrap();
            assert!((1..=200_000).contains(&total), "{total}");
        }
    }
}
