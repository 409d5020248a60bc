//! Exercise: an async fetch
//!
//! The reference solution.

use slowserver::{FetchError, UserRecord, fetch_user_async};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::task::JoinSet;

/// One login's outcome: its record, or why there is none.
pub type FetchResult = Result<UserRecord, FetchError>;

/// Fetches every login's record one after another: each `await` waits for one reply before
/// the next request starts. Each request gives up after `timeout`.
pub async fn fetch_all_one_by_one(server: SocketAddr, logins: &[String], timeout: Duration) -> Vec<FetchResult> {
    let mut results = Vec::with_capacity(logins.len());
    for login in logins {
        results.push(fetch_with_timeout(server, login, timeout).await);
    }
    results
}

/// The same requests, all in flight at once on the runtime's thread; the results in the order
/// of `logins`.
pub async fn fetch_all_concurrently(server: SocketAddr, logins: &[String], timeout: Duration) -> Vec<FetchResult> {
    // One task per login. Spawning runs nothing yet on a current-thread runtime: the tasks
    // start when this task reaches its first `await` below and hands the thread to the loop.
    // Then each task sends its request and, at its own `await`, gives the thread back, so
    // every request is soon waiting on the server at once. Dropping the set (if this future is
    // dropped) aborts every task still running: nothing outlives the call.
    let mut tasks = JoinSet::new();
    for (index, login) in logins.iter().enumerate() {
        // A task may outlive this borrow of `logins`, as far as the compiler knows: it owns a copy.
        let login = login.clone();
        tasks.spawn(async move { (index, fetch_with_timeout(server, &login, timeout).await) });
    }
    // Tasks finish in the order the server answers; each result goes to its login's slot.
    let mut slots: Vec<Option<FetchResult>> = vec![None; logins.len()];
    while let Some(finished) = tasks.join_next().await {
        let (index, result) = finished.expect("a fetch task panicked");
        slots[index] = Some(result);
    }
    slots
        .into_iter()
        .map(|slot| slot.expect("each task reports its own login once"))
        .collect()
}

/// One request that gives up after `timeout`. The timeout is per request: a hung login fails
/// alone, while the other requests keep their own time.
async fn fetch_with_timeout(server: SocketAddr, login: &str, timeout: Duration) -> FetchResult {
    // The clock starts here, when the task first runs and makes its request: a task whose first
    // turn on the thread came late still has all its time. When the timeout fires first, the
    // request's future is dropped, closing its connection.
    match tokio::time::timeout(timeout, fetch_user_async(server, login)).await {
        Ok(result) => result,
        Err(_elapsed) => Err(FetchError::TimedOut { after: timeout }),
    }
}
