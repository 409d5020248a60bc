//! Exercise: fetch all records with a pool
//!
//! Lesson 07 fetched user records over HTTP (`GET /users/{login}`, with ureq) from a slow server
//! one after another, then with a pool of worker threads, and the pool won because each request
//! spends nearly all its time waiting.
//! Now build that pool yourself. Complete `fetch_all_with_pool` so that:
//! - `n_workers` threads fetch at the same time, never more: each worker takes the next login
//!   from one shared queue as soon as it is free, so a worker stuck on a slow login holds up no
//!   login but its own (no fixed share of the logins per worker);
//! - every login is requested exactly once (one `fetch_user` per login, no retries);
//! - the results come back in the order of `logins`: result `i` belongs to `logins[i]`,
//!   whatever order the replies arrived in;
//! - a failure (a `503` from the server, no reply within `timeout`) is that login's result,
//!   an `Err`, and the other logins carry on;
//! - every worker has stopped when the function returns.
//!
//! Hints: `std::thread::scope` lets the workers borrow `logins`, and joins every one of them
//! before it returns. The shared queue can be as small as an `AtomicUsize` holding the next
//! index to take: `fetch_add(1, ...)` hands each index to exactly one worker, and a worker
//! whose index is past the end stops. Collect `(index, result)` pairs (each worker can return
//! its own from the thread, or send them over a `std::sync::mpsc` channel), then put each
//! result in its index's slot.
#![allow(unused_variables)] // until the stub below is filled in

use slowserver::{FetchError, UserRecord, fetch_user};
use std::net::SocketAddr;
use std::time::Duration;

/// One login's outcome: its record, or why there is none.
pub type FetchResult = Result<UserRecord, FetchError>;

/// Fetches every login's record one after another, on this thread (the lecture's
/// `users_info`). Each `fetch_user` is one HTTP GET with ureq, as in lesson 07's
/// `src/fetch.rs`: the thread waits for the reply, and gives up after `timeout`.
pub fn fetch_all_sequentially(server: SocketAddr, logins: &[String], timeout: Duration) -> Vec<FetchResult> {
    logins.iter().map(|login| fetch_user(server, login, timeout)).collect()
}

/// The same requests, made by `n_workers` threads (at least 1) that take logins from one
/// shared queue (the lecture's `users_info_thr`); the results in the order of `logins`.
pub fn fetch_all_with_pool(
    server: SocketAddr,
    logins: &[String],
    n_workers: usize,
    timeout: Duration,
) -> Vec<FetchResult> {
    todo!("start n_workers threads that take logins from one shared queue, and put each result in its login's place")
}
