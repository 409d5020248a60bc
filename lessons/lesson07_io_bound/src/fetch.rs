//! Waiting, not computing: fetch user records one after another, then with a pool of threads.
//!
//! The lecture's `users_info` calls `urlopen` on `https://api.github.com/users/<login>` for one
//! login after another; `users_info_thr` hands the same calls to a `ThreadPoolExecutor`. Here
//! the HTTP client is `ureq` (blocking: the calling thread sleeps until the reply comes), and
//! the pool is written out: N threads take logins from one queue. Then the same pool gets work
//! that computes instead of waits (the lecture's `count_prime`, which counts divisors).
//!
//! Every way of fetching has the same signature: an HTTP client (a `ureq::Agent`, which
//! `slowserver::client::blocking_client` makes with a deadline for each step of a request),
//! where to fetch (`url` with `{login}` in it), the logins, that deadline and a number of
//! workers; it returns each login's record or the reason it has none, in login order. A thread
//! the machine refuses is an error, not a panic.

use slowserver::client::{UrlTemplate, ureq_failure};
use slowserver::protocol::{MAX_REPLY_BYTES, record_from_body};
use slowserver::{FetchError, UserRecord};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// One login's outcome: its record, or why there is none.
pub type FetchResult = Result<UserRecord, FetchError>;

/// One user's record: one GET, and the thread waits for the reply (`urlopen(url).read()`).
/// A failure (refused, timed out, an error status, a body that is not a record) is returned
/// as this request's result: the caller carries on with the other logins.
pub fn fetch_user(agent: &ureq::Agent, url: &UrlTemplate, login: &str, timeout: Duration) -> FetchResult {
    let mut response = agent
        .get(url.url(login))
        .call() // ← the wait: connect, send, then sleep in the kernel until the reply arrives
        .map_err(|error| ureq_failure(error, timeout))?;
    let status = response.status();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_REPLY_BYTES)
        .read_to_string()
        .map_err(|error| ureq_failure(error, timeout))?;
    record_from_body(status.as_u16(), status.canonical_reason().unwrap_or(""), &body)
}

/// The lecture's `users_info`: one request after another, on this thread. (`n_workers` is
/// there only so that every way has the same signature.)
pub fn users_info(
    agent: &ureq::Agent,
    url: &UrlTemplate,
    logins: &[String],
    timeout: Duration,
    _n_workers: usize,
) -> io::Result<Vec<FetchResult>> {
    Ok(logins
        .iter()
        .map(|login| fetch_user(agent, url, login, timeout))
        .collect())
}

/// The lecture's `users_info_thr`: the same requests, made by a pool of `n_workers` threads.
pub fn users_info_pooled(
    agent: &ureq::Agent,
    url: &UrlTemplate,
    logins: &[String],
    timeout: Duration,
    n_workers: usize,
) -> io::Result<Vec<FetchResult>> {
    thread_pool_map(n_workers, logins, |login| fetch_user(agent, url, login, timeout)) // ← the only change
}

/// `ThreadPoolExecutor(n_workers).map(job, items)`: `n_workers` threads take items from one
/// queue, each as soon as it is free, and the results come back in the items' order.
pub fn thread_pool_map<T: Sync, R: Send>(
    n_workers: usize,
    items: &[T],
    job: impl Fn(&T) -> R + Sync,
) -> io::Result<Vec<R>> {
    // The queue is the number of the next item nobody has taken. `fetch_add` hands each number
    // to exactly one worker, so each item is done exactly once. Relaxed is enough: it publishes
    // no other data (each result travels back through `join`, which orders what it wrote).
    let next_item = AtomicUsize::new(0);
    let take_next = || Some(next_item.fetch_add(1, Ordering::Relaxed)).filter(|&i| i < items.len());
    let (take_next, job) = (&take_next, &job);
    let done_by_worker = thread::scope(|scope| -> io::Result<Vec<Vec<(usize, R)>>> {
        let mut workers = Vec::with_capacity(n_workers);
        // More workers than items would only start threads that find the queue empty.
        for _ in 0..n_workers.clamp(1, items.len().max(1)) {
            let started = thread::Builder::new().spawn_scoped(scope, move || {
                let mut done = Vec::new();
                // A free worker takes the next item at once: while one waits on a slow reply,
                // the others keep emptying the queue. It ends when the queue is empty.
                while let Some(index) = take_next() {
                    done.push((index, job(&items[index])));
                }
                done
            });
            // A refused thread (a process limit, no memory for its stack) is an error; the
            // workers already running finish the queue, and the scope joins them first.
            workers.push(started?);
        }
        Ok(workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect())
    })?;
    // Results came back in the order workers finished: put each in its item's place.
    let mut slots: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    for (index, result) in done_by_worker.into_iter().flatten() {
        slots[index] = Some(result);
    }
    Ok(slots.into_iter().flatten().collect())
}

/// The same pool on work that computes: the divisors of each number, one after another.
pub fn count_divisors_sequential(numbers: &[u64], _n_workers: usize) -> io::Result<Vec<u64>> {
    Ok(numbers.iter().map(|&n| workloads::seed::count_divisors(n)).collect())
}

/// ... and on `n_workers` threads of the pool: only as fast as there are cores to compute on.
pub fn count_divisors_pooled(numbers: &[u64], n_workers: usize) -> io::Result<Vec<u64>> {
    thread_pool_map(n_workers, numbers, |&n| workloads::seed::count_divisors(n)) // ← the only change
}

#[cfg(test)]
mod tests {
    use super::*;
    use slowserver::{Config, Server};

    #[test]
    fn the_pool_does_each_item_once_in_order() {
        let items: Vec<u64> = (0..1000).collect();
        let squares = thread_pool_map(7, &items, |&x| x * x).unwrap();
        assert_eq!(squares, items.iter().map(|&x| x * x).collect::<Vec<_>>());
        // More workers than items, and no items at all.
        assert_eq!(thread_pool_map(16, &items[..3], |&x| x + 1).unwrap(), vec![1, 2, 3]);
        assert!(thread_pool_map(4, &items[..0], |&x| x).unwrap().is_empty());
    }

    #[test]
    fn sequential_and_pooled_divisor_counts_agree() {
        let numbers = [12, 13, 77_000, 1_000_003];
        assert_eq!(
            count_divisors_sequential(&numbers, 1).unwrap(),
            count_divisors_pooled(&numbers, 3).unwrap()
        );
        assert_eq!(count_divisors_sequential(&[12, 13], 1).unwrap(), vec![4, 0]);
    }

    #[test]
    fn both_ways_fetch_the_servers_records_in_login_order() {
        let config = Config {
            delay: std::time::Duration::from_millis(5),
            jitter: std::time::Duration::from_millis(4),
            error_rate: 0.2,
            ..Config::default()
        };
        let server = Server::start(config.clone()).unwrap();
        let url = UrlTemplate::local(server.addr());
        let logins: Vec<String> = (0..20).map(|i| format!("user{i:04}")).collect();
        let timeout = Duration::from_secs(30);
        let agent = slowserver::client::blocking_client(timeout, &slowserver::Trust::WebPki);
        let one_by_one = users_info(&agent, &url, &logins, timeout, 1).unwrap();
        let pooled = users_info_pooled(&agent, &url, &logins, timeout, 6).unwrap();
        assert_eq!(one_by_one, pooled);
        for (login, result) in logins.iter().zip(&pooled) {
            match config.plan(login).fate {
                slowserver::Fate::Record => assert_eq!(result, &Ok(config.record(login))),
                _ => assert!(
                    matches!(result, Err(FetchError::Server { status: 503, .. })),
                    "{result:?}"
                ),
            }
        }
        assert_eq!(server.stop().user_requests, 40);
    }
}
