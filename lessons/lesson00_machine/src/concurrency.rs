//! Concurrency and parallelism, in the fewest lines that show them: tasks that compute and
//! tasks that wait, run one after another on one thread and then on several threads.
//!
//! Every runner has the same signature: it runs tasks `0..n_tasks` (a task is any
//! `Fn(usize) -> u64`), on `n_threads` threads where it uses threads, and returns the sum of
//! the tasks' results, so that every version can be checked against the others. A thread the
//! machine refuses to start is an error, not a panic.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// A CPU-bound task: `iterations` rounds of a xorshift generator. Nothing to wait for, and
/// each step depends on the last, so the compiler can neither skip nor vectorize it.
pub fn busy_task(seed: u64, iterations: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// An I/O-bound task: it only waits, as for a network reply, and computes nothing.
pub fn waiting_task(wait: Duration) -> u64 {
    thread::sleep(wait);
    1
}

/// Runs the tasks one after another on the calling thread. (`n_threads` is not used: every
/// runner takes it, so that they can stand in for each other.)
pub fn run_sequential(n_tasks: usize, _n_threads: usize, task: impl Fn(usize) -> u64 + Sync) -> io::Result<u64> {
    Ok((0..n_tasks).map(task).fold(0, u64::wrapping_add))
}

/// The same tasks on `n_threads` threads at once: each thread takes the next task nobody has
/// taken yet, until none is left.
pub fn run_threaded(n_tasks: usize, n_threads: usize, task: impl Fn(usize) -> u64 + Sync) -> io::Result<u64> {
    let next_task = AtomicUsize::new(0);
    let worker = || {
        let mut sum = 0u64;
        loop {
            // fetch_add reads the counter and adds 1 in one indivisible step, so no two threads
            // ever get the same task (a separate load and store could: lesson 03). Relaxed is
            // enough: the counter only hands out distinct task numbers, it publishes no other
            // memory, and the sums come back through `join`.
            let i = next_task.fetch_add(1, Ordering::Relaxed); // ← the only shared state
            if i >= n_tasks {
                return sum;
            }
            sum = sum.wrapping_add(task(i));
        }
    };
    // `worker` only borrows `next_task` and `task`, so every thread gets a copy of the same
    // closure; the scope guarantees the threads end before what they borrow goes away.
    thread::scope(|scope| {
        let mut workers = Vec::with_capacity(n_threads);
        for _ in 0..n_threads {
            // `Builder::spawn_scoped` returns an error where `scope.spawn` would panic; the
            // threads already started finish their tasks before the error comes back.
            workers.push(thread::Builder::new().spawn_scoped(scope, worker)?);
        }
        let sums = workers.into_iter().map(|worker| {
            // A panic in a task is passed on to the caller.
            worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        Ok(sums.fold(0, u64::wrapping_add))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_and_threaded_agree() {
        let task = |i: usize| busy_task(i as u64, 1000);
        assert_eq!(run_sequential(37, 1, task).unwrap(), run_threaded(37, 4, task).unwrap());
        assert_eq!(run_threaded(3, 8, task).unwrap(), run_sequential(3, 8, task).unwrap());
    }

    #[test]
    fn every_waiting_task_runs_once() {
        let wait = Duration::from_millis(1);
        assert_eq!(run_threaded(8, 3, |_| waiting_task(wait)).unwrap(), 8);
        assert_eq!(run_sequential(8, 3, |_| waiting_task(wait)).unwrap(), 8);
    }
}
