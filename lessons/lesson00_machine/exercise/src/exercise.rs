//! Exercise: split tasks into one block per thread
//!
//! Lesson 00 ran its tasks on all cores by letting each thread take the next task nobody had
//! taken yet (a shared counter). The other classic way is a *static* split, decided before
//! any thread starts: thread 0 gets tasks `0..k`, thread 1 gets `k..2k`, and so on.
//! Complete `run_in_blocks` so that:
//! - every task `0..n_tasks` runs exactly once, on one of `n_threads` threads running at the
//!   same time;
//! - each thread runs one contiguous block of tasks, and block sizes differ by at most one
//!   (10 tasks on 4 threads: 3, 3, 2, 2);
//! - it returns the same sum as `run_sequential` (add with `wrapping_add`, in any order).
//!
//! Check your work with `cargo homework 00`; stuck, `cargo homework hint 00` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stub below is filled in

/// Runs tasks `0..n_tasks` one after another on this thread; returns the sum of their results.
pub fn run_sequential(n_tasks: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    (0..n_tasks).map(task).fold(0, u64::wrapping_add)
}

/// The same tasks on `n_threads` threads at once, each thread running one contiguous block.
pub fn run_in_blocks(n_tasks: usize, n_threads: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    todo!("split the tasks into n_threads blocks and run each block on its own thread")
}
