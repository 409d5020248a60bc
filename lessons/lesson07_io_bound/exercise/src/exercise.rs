//! Exercise: fetch all records with a pool
//!
//! Lesson 07 fetched user records over HTTP (`GET /users/{login}`, with ureq) from a slow server
//! one after another, then with a pool of worker threads, and the pool won because each request
//! spends nearly all its time waiting.
//! Now build that pool yourself. Complete `fetch_all_with_pool` so that:
//! - `n_workers` threads fetch at the same time, never more: each worker takes the next login
//!   from the shared queue `next_login` as soon as it is free, so a worker stuck on a slow login
//!   holds up no login but its own (no fixed share of the logins per worker, no waves);
//! - every login is taken by exactly one worker and requested exactly once (one `fetch_user`
//!   per login, no retries);
//! - a worker holds nothing that another needs while it waits on the server: no lock is held
//!   across a `fetch_user`;
//! - the results come back in the order of `logins`: result `i` belongs to `logins[i]`,
//!   whatever order the replies arrived in;
//! - a failure (a `503` from the server, no reply within `timeout`) is that login's result,
//!   an `Err`, and the other logins carry on;
//! - every worker has stopped when the function returns.
//!
//! The queue is handed to you: `next_login` is the index of the next login nobody has taken
//! yet, at 0. It is an `AtomicUsize` (`src/queue.rs`) with the same methods, which the checks
//! watch as your workers take logins from it.
//!
//! Check your work with `cargo homework 07`; stuck, `cargo homework hint 07` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stub below is filled in

use crate::NextLogin;
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

/// The same requests, made by `n_workers` threads (at least 1) that take logins from the shared
/// queue `next_login` (the lecture's `users_info_thr`); the results in the order of `logins`.
pub fn fetch_all_with_pool(
    server: SocketAddr,
    logins: &[String],
    n_workers: usize,
    timeout: Duration,
    next_login: &NextLogin,
) -> Vec<FetchResult> {
    todo!("start n_workers threads that take logins from next_login, and put each result in its login's place")
}
