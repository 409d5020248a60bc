//! Exercise: fork workers, collect their exit statuses, leave no zombie
//!
//! Lesson 01 followed one child from `fork` to `exit` to its parent's `waitpid`, and made
//! zombies on purpose. Here you write the loop that every process pool starts with. Complete
//! `run_workers` so that it:
//! - forks `n_workers` children, all of them before it waits for any, so that they run at the
//!   same time;
//! - in child number `i` (counting from 0), calls `work(i)` and ends that child with the number
//!   it returns as its exit status, at once: the child must never return from `run_workers`;
//! - waits for every child, and returns their statuses in worker order (worker 0's first), not
//!   in the order they ended. A worker that a signal ended reports 128 + the signal's number,
//!   as a shell does (SIGKILL, 9, gives 137);
//! - leaves no zombie: when it returns, this process has no child left, running or exited;
//! - when a fork fails (the machine refuses another process: a per-user process limit, a
//!   container's pids limit), waits for every worker it already started, then returns the
//!   error, `Err(errno)`: no panic, and no child left behind, even then.
//!
//! Why the checks run your code in a program of its own: `fork` copies only the thread that
//! calls it, so it is safe only while the process has one thread (section 6 of the lesson).
//! The test harness runs its tests on several threads, so the checks do not call `run_workers`
//! there; they start `src/bin/run_workers_alone.rs`, a small single-threaded program that calls
//! it and reports what it saw (the statuses, its children in `/proc` afterwards). You can run
//! it yourself: `cargo run -p lesson01_processes_exercise -- codes 4`.
//!
//! `fork` is `unsafe`: say above the block, in a `// Safety:` comment, why forking is fine here
//! (clippy asks for it). Check your work with `cargo homework 01`; stuck, `cargo homework hint
//! 01` gives a hint, one step at a time.
#![allow(unused_variables)] // until the stub below is filled in

/// Forks one child per worker, each running `work(i)` and exiting with what it returns; waits
/// for all of them; returns their exit statuses in worker order, or the error of a fork that
/// failed (after waiting for the workers already started).
pub fn run_workers(n_workers: usize, work: impl Fn(usize) -> i32) -> nix::Result<Vec<i32>> {
    todo!(
        "fork n_workers children, each exiting with work(i); then waitpid each one, in order; on a failed fork, waitpid those started and return the error"
    )
}
