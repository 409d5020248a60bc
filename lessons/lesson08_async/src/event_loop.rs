//! One thread, many connections: a thread per connection against one thread running an event
//! loop (asyncio's idea; here tokio's current-thread runtime).
//!
//! Both ways make the same requests with the same signature: the logins, and how to fetch one
//! login's record. For threads that is a blocking call (ureq: the thread sleeps in the kernel
//! until the reply comes); for the event loop it is an `async` call (hyper's client: at each
//! `.await` the task may wait, and the thread runs another task whose socket is ready). Each
//! returns every login's result in login order. A thread the machine refuses is an error.
//!
//! Last, the pitfall of every event loop: a task that computes (or blocks) for a while holds
//! the loop's only thread, and every other connection waits until it is done.

use std::future::Future;
use std::io;
use std::thread;

/// A thread per connection: each thread makes one blocking request and sleeps until its reply.
/// The whole trick is a thread around a plain blocking call; each thread costs a stack (2 MiB
/// reserved, a few pages touched), a kernel stack and page tables.
pub fn thread_per_connection<R: Send>(logins: &[String], fetch: impl Fn(&str) -> R + Sync) -> io::Result<Vec<R>> {
    let fetch = &fetch;
    thread::scope(|scope| {
        let mut threads = Vec::with_capacity(logins.len());
        for login in logins {
            // A refused thread (a process limit, no room for its stack) ends the loop here; the
            // scope still joins the threads already running before the error comes back.
            threads.push(thread::Builder::new().spawn_scoped(scope, move || fetch(login))?);
        }
        Ok(threads
            .into_iter()
            .map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect())
    })
}

/// One thread runs an event loop: each connection is a task, a small state machine that the
/// loop resumes when its socket is ready. New: `async`, `.await`, and the runtime.
pub fn one_thread_event_loop<R, F>(logins: &[String], fetch: impl Fn(String) -> F) -> io::Result<Vec<R>>
where
    F: Future<Output = R> + Send + 'static,
    R: Send + 'static,
{
    // A current-thread runtime: the loop, its timers and every task run on this thread alone.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        // A task, not a thread: spawning puts its state machine in the loop's queue. Nothing
        // runs until this task reaches its first `.await` below and hands the thread over.
        let tasks: Vec<_> = logins.iter().map(|login| tokio::spawn(fetch(login.clone()))).collect();
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            // Tasks finish in the order their replies come; awaiting them in login order keeps
            // each result in its place. A task that panicked is passed on as an error.
            results.push(task.await.map_err(io::Error::other)?);
        }
        Ok(results)
    })
}

/// What a handler does with a reply that needs heavy work, on the loop's own thread.
// This version is problematic: while `work` runs, the loop's only thread is busy, so no other
// task moves: replies that arrive meanwhile wait in the kernel, timers fire late.
pub async fn handle_on_the_loop<T>(work: impl FnOnce() -> T) -> T {
    work()
}

/// The fix: another thread computes (`spawn_blocking`), and this task waits for it like any
/// other `.await`, so the loop goes on running the other tasks.
pub async fn handle_off_the_loop<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> io::Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(io::Error::other) // ← the only change
}

#[cfg(test)]
mod tests {
    use super::*;
    use slowserver::{AsyncClient, Config, Server, Trust, UrlTemplate};
    use std::time::Duration;

    #[test]
    fn both_ways_fetch_every_record_in_login_order() {
        let config = Config {
            delay: Duration::from_millis(20),
            jitter: Duration::from_millis(15),
            ..Config::default()
        };
        let server = Server::start(config.clone()).unwrap();
        let url = UrlTemplate::local(server.addr());
        let logins: Vec<String> = (0..40).map(|i| format!("client{i:05}")).collect();
        let agent = slowserver::client::blocking_client(Duration::from_secs(30), &Trust::WebPki);
        let threads = thread_per_connection(&logins, |login| {
            slowserver::client::fetch_blocking(&agent, &url.url(login), Duration::from_secs(30))
        })
        .unwrap();
        let client = AsyncClient::new(&Trust::WebPki).unwrap();
        let tasks = one_thread_event_loop(&logins, |login| {
            let (client, url) = (client.clone(), url.url(&login));
            async move { client.fetch(&url).await }
        })
        .unwrap();
        assert_eq!(threads, tasks);
        let expected: Vec<_> = logins.iter().map(|login| Ok(config.record(login))).collect();
        assert_eq!(tasks, expected);
        assert_eq!(server.stop().user_requests, 80);
    }

    #[test]
    fn work_off_the_loop_gives_the_same_answer() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let on = runtime.block_on(handle_on_the_loop(|| workloads::seed::count_divisors(77_000)));
        let off = runtime.block_on(handle_off_the_loop(|| workloads::seed::count_divisors(77_000)));
        assert_eq!(Some(on), off.ok());
    }
}
