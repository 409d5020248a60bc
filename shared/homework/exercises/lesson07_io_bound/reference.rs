//! Exercise: fetch all records with a pool
//!
//! The reference solution.

use crate::NextLogin;
use slowserver::{FetchError, UserRecord, fetch_user};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
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
    assert!(n_workers >= 1, "a pool needs at least one worker");
    // The queue is the index of the next login nobody has taken yet. `fetch_add` reads and
    // bumps it in one indivisible step, so each index goes to exactly one worker: no login is
    // fetched twice or skipped. Relaxed is enough: the counter hands out numbers and publishes
    // no other data (the logins are only read, and each result travels back through `join`,
    // which makes everything its thread wrote visible).
    let take_next = || {
        let index = next_login.fetch_add(1, Ordering::Relaxed);
        logins.get(index).map(|login| (index, login))
    };
    let finished: Vec<Vec<(usize, FetchResult)>> = std::thread::scope(|scope| {
        // Spawn every worker before joining any: they must wait on the server together.
        // More workers than logins would only start threads that find the queue empty.
        let workers: Vec<_> = (0..n_workers.min(logins.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    // A free worker takes the next login at once: while one worker waits on a
                    // slow reply, the others keep emptying the queue. A worker ends when the
                    // queue is empty, so the scope below can join it.
                    while let Some((index, login)) = take_next() {
                        // A failure is this login's result; the worker carries on with the next.
                        // Nothing is locked here: the results stay the worker's own until join.
                        done.push((index, fetch_user(server, login, timeout)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a pool worker panicked"))
            .collect()
    });
    // Replies came back in whatever order the server answered: put each in its login's slot.
    let mut slots: Vec<Option<FetchResult>> = vec![None; logins.len()];
    for (index, result) in finished.into_iter().flatten() {
        slots[index] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("the queue hands out every index exactly once"))
        .collect()
}
