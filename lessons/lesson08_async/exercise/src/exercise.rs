//! Exercise: an async fetch
//!
//! Lesson 08 held thousands of waiting connections on one thread: each connection is a task,
//! and the thread runs an event loop that polls whichever task can make progress. Here each
//! task fetches with `fetch_user_async`: one HTTP GET with hyper's async client, driven by the
//! task that awaits it (nothing else is spawned). Now write such a fetch. Complete
//! `fetch_all_concurrently` so that, on tokio's current-thread runtime:
//! - every login's request is in flight at the same time: start them all before waiting for
//!   any of them;
//! - it needs no other thread: fetch with `fetch_user_async`, never with the blocking
//!   `fetch_user`, `spawn_blocking` or `std::thread`;
//! - every login is requested exactly once, and result `i` belongs to `logins[i]`, whatever
//!   order the replies came in;
//! - each request has a timeout of its own, counted from the moment its task starts it: a
//!   request with no reply within `timeout` fails with `FetchError::TimedOut { after: timeout }`,
//!   that request alone, even when its task got its first turn on the thread late; a `503` is
//!   that login's `Err` too; the other logins carry on;
//! - a caller that gives up on the fetch (drops its future, as an outer timeout does) leaves
//!   no request behind: every task goes with it.
//!
//! Check your work with `cargo homework 08`; stuck, `cargo homework hint 08` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stub below is filled in

use slowserver::{FetchError, UserRecord, fetch_user_async};
use std::net::SocketAddr;
use std::time::Duration;

/// One login's outcome: its record, or why there is none.
pub type FetchResult = Result<UserRecord, FetchError>;

/// Fetches every login's record one after another: each `await` waits for one reply before
/// the next request starts. Each request gives up after `timeout`.
pub async fn fetch_all_one_by_one(server: SocketAddr, logins: &[String], timeout: Duration) -> Vec<FetchResult> {
    let mut results = Vec::with_capacity(logins.len());
    for login in logins {
        // When the timeout fires first, the request's future is dropped, closing its connection.
        let result = match tokio::time::timeout(timeout, fetch_user_async(server, login)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(FetchError::TimedOut { after: timeout }),
        };
        results.push(result);
    }
    results
}

/// The same requests, all in flight at once on the runtime's thread; the results in the order
/// of `logins`.
pub async fn fetch_all_concurrently(server: SocketAddr, logins: &[String], timeout: Duration) -> Vec<FetchResult> {
    todo!("spawn one task per login, each with its own timeout, and put each result in its login's place")
}
