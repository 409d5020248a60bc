//! Checks for lesson 08's exercise. Run them with `scripts/homework.sh 08`.
//!
//! Each check starts the slow server in this process, on a thread of its own, runs the fetch
//! on a tokio current-thread runtime (one thread, as in the lesson), and afterwards asks the
//! server what it saw: how many requests, for how many different logins, how many open at
//! once. The seed decides what the server answers each login (a record, a `503`, or a hang), so
//! every expected result and every count is exact. Nothing is timed: where a check needs
//! requests to overlap, it makes them hang until it has seen what it needs.

use lesson08_async_exercise::{FetchResult, fetch_all_concurrently};
use slowserver::{Config, Fate, FetchError, Server, Stats};
use std::net::SocketAddr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// A correct fetch finishes every check within a few seconds; this only stops a wrong one from
/// hanging forever.
const DEADLINE: Duration = Duration::from_secs(60);

/// Long enough that only the logins planned to hang ever time out, even on a busy machine.
const GENEROUS_TIMEOUT: Duration = Duration::from_secs(2);

#[test]
#[ignore = "homework: run scripts/homework.sh 08"]
fn every_record_comes_back_in_the_order_of_the_logins() {
    // Delays of 5 to 55 ms: the replies arrive in a different order from the requests.
    let config = Config {
        delay: Duration::from_millis(30),
        jitter: Duration::from_millis(25),
        ..Config::default()
    };
    let logins = numbered_logins(64);
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, GENEROUS_TIMEOUT).results;
    let stats = server.stop();
    assert_eq!(
        results.len(),
        logins.len(),
        "{} logins gave {} results. Hint: return one result per login, failures included",
        logins.len(),
        results.len()
    );
    for (index, (login, result)) in logins.iter().zip(&results).enumerate() {
        assert!(
            result == &Ok(config.record(login)),
            "result {index} should be {login}'s record, got {}. Hint: tasks finish in the order the \
             server answers; give each task its login's index and put its result in that slot",
            describe(result)
        );
    }
    assert_eq!(
        (stats.user_requests, stats.distinct_logins),
        (64, 64),
        "the server got {} requests for {} different logins, for 64 logins. Hint: one task per \
         login, each fetching once",
        stats.user_requests,
        stats.distinct_logins
    );

    let server = Server::start(config).expect("the server starts");
    let nothing = fetch_in_time(server.addr(), &[], GENEROUS_TIMEOUT).results;
    assert!(
        nothing.is_empty(),
        "no logins gave {} results. Hint: with no logins there is nothing to spawn or wait for",
        nothing.len()
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 08"]
fn each_failure_is_reported_for_its_own_login_with_its_own_timeout() {
    // About one login in five gets a 503 and one in ten hangs; the seed says exactly which.
    let config = Config {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        error_rate: 0.2,
        timeout_rate: 0.1,
        seed: 7,
        ..Config::default()
    };
    let logins = numbered_logins(40);
    let planned = |fate| logins.iter().filter(|login| config.plan(login).fate == fate).count();
    let (records, errors, hangs) = (planned(Fate::Record), planned(Fate::Error), planned(Fate::Hang));
    assert!(
        errors > 0 && hangs > 0,
        "the check's own plan has every kind of failure"
    );

    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, GENEROUS_TIMEOUT).results;
    let stats = server.stop();
    assert_eq!(
        results.len(),
        logins.len(),
        "{} logins gave {} results. Hint: a failure is that login's result; do not stop at the \
         first one",
        logins.len(),
        results.len()
    );
    for (index, (login, result)) in logins.iter().zip(&results).enumerate() {
        let fate = config.plan(login).fate;
        let expected = match fate {
            Fate::Record => result == &Ok(config.record(login)),
            Fate::Error => matches!(result, Err(FetchError::Server { status: 503, .. })),
            Fate::Hang => {
                result
                    == &Err(FetchError::TimedOut {
                        after: GENEROUS_TIMEOUT,
                    })
            }
        };
        let hint = match (fate, result) {
            (_, Ok(record)) if &record.login != login => {
                "tasks finish in the order the server answers; put each result in its login's slot"
            }
            (Fate::Hang, _) => {
                "put tokio::time::timeout around each request, and turn its Elapsed into \
                 FetchError::TimedOut { after: timeout }"
            }
            (_, Err(FetchError::TimedOut { .. })) => {
                "each request gets a timeout of its own: one around the whole fetch fails them all"
            }
            _ => "keep each request's result, Ok or Err, in its login's slot",
        };
        assert!(
            expected,
            "result {index} ({login}) should be {}, got {}. Hint: {hint}",
            match fate {
                Fate::Record => "its record".to_string(),
                Fate::Error => "the server's 503".to_string(),
                Fate::Hang => format!("a timeout after {GENEROUS_TIMEOUT:?}"),
            },
            describe(result)
        );
    }
    let seen = |wanted: fn(&FetchResult) -> bool| results.iter().filter(|result| wanted(result)).count();
    assert_eq!(
        (
            seen(Result::is_ok),
            seen(|result| result.as_ref().is_err_and(FetchError::is_server_error)),
            seen(|result| result.as_ref().is_err_and(FetchError::is_timeout)),
        ),
        (records, errors, hangs),
        "(records, server errors, timeouts) differ from the server's plan. Hint: every login ends \
         with exactly one result"
    );
    assert_eq!(
        (stats.user_requests, stats.distinct_logins),
        (40, 40),
        "the server got {} requests for {} different logins, for 40 logins. Hint: fetch each login \
         once; a failed login is reported, not retried",
        stats.user_requests,
        stats.distinct_logins
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 08"]
fn every_request_waits_at_the_same_time_on_one_thread() {
    // Every login hangs, so each request stays open until the server stops: once the server
    // has all of them open at once, the watcher counts this process's threads, then stops the
    // server, which fails every request and lets the fetch finish.
    const LOGINS: u64 = 64;
    let logins = numbered_logins(LOGINS as usize);
    let server = Server::start(Config {
        timeout_rate: 1.0,
        ..Config::default()
    })
    .expect("the server starts");
    let addr = server.addr();
    let watcher = Watcher::stop_server_when(server, |stats| stats.open_connections >= LOGINS);
    let fetched = fetch_in_time(addr, &logins, DEADLINE);
    let seen = watcher.finish();
    assert!(
        seen.reached,
        "at most {} of the {LOGINS} requests were waiting on the server at once. Hint: start every \
         request before awaiting any (a task per login); an await in a loop fetches one at a time, \
         and a blocking fetch_user stalls the only thread",
        seen.stats.peak_open_connections
    );
    if let (Some(before), Some(during)) = (fetched.threads_before, seen.threads_when_reached) {
        assert!(
            during <= before,
            "{} more threads ran while the requests waited. Hint: waiting needs no thread; use \
             fetch_user_async in tasks on the runtime, not fetch_user, spawn_blocking or \
             std::thread",
            during - before
        );
    }
    assert_eq!(
        fetched.results.len(),
        logins.len(),
        "{} logins gave {} results when the server went away. Hint: a failure is that login's result",
        logins.len(),
        fetched.results.len()
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 08"]
fn a_fetch_that_is_given_up_leaves_no_request_behind() {
    // Every login hangs. The caller gives up on the whole fetch after a moment: it drops the
    // future, as an outer timeout or `select!` does. Each request's task must go with it: a
    // task left running would keep its connection and its memory, with nobody to collect it.
    let logins = numbered_logins(16);
    let server = Server::start(Config {
        timeout_rate: 1.0,
        ..Config::default()
    })
    .expect("the server starts");
    let addr = server.addr();
    let blocked = "the fetch was given up after 200 ms, yet the runtime did not finish. Hint: a \
         blocking call (fetch_user, std::thread::sleep) holds the only thread, so not even a timeout \
         can fire; and a runtime waits for its spawn_blocking threads when it shuts down";
    let tasks_left = in_time(Duration::from_secs(20), blocked, move || {
        on_one_thread(async move {
            // Each request's own timeout is far away: only giving up can end these requests.
            let fetch = fetch_all_concurrently(addr, &logins, Duration::from_secs(30));
            let _given_up = tokio::time::timeout(Duration::from_millis(200), fetch).await;
            // An aborted task leaves at its next turn on the loop: give the loop a while.
            let metrics = tokio::runtime::Handle::current().metrics();
            let settled = Instant::now() + Duration::from_secs(5);
            while metrics.num_alive_tasks() > 0 && Instant::now() < settled {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            metrics.num_alive_tasks()
        })
    });
    server.stop();
    assert_eq!(
        tasks_left, 0,
        "{tasks_left} tasks kept running after the fetch was dropped. Hint: spawn into a JoinSet, \
         which aborts its tasks when it is dropped (a tokio::spawn handle that is dropped lets its \
         task run on)"
    );
}

// ----- What the checks share -----

/// `user0000`, `user0001`, ...: logins the server knows.
fn numbered_logins(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("user{i:04}")).collect()
}

/// A result in a few words, for a failure message.
fn describe(result: &FetchResult) -> String {
    match result {
        Ok(record) => format!("the record of {}", record.login),
        Err(error) => format!("an error ({error})"),
    }
}

/// Runs `future` to its end on a tokio current-thread runtime: one thread, an event loop.
fn on_one_thread<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(future)
}

/// What a fetch returned, and the process's thread count just before it started.
struct Fetched {
    results: Vec<FetchResult>,
    threads_before: Option<usize>,
}

/// Runs the fetch on a thread of its own with a current-thread runtime, and waits at most
/// `DEADLINE` for it.
fn fetch_in_time(server: SocketAddr, logins: &[String], timeout: Duration) -> Fetched {
    let logins = logins.to_vec();
    let never_returned = "fetch_all_concurrently did not return. Hint: give every request a timeout, \
         and await every task you spawned";
    in_time(DEADLINE, never_returned, move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime starts");
        let threads_before = course::children::thread_count();
        let results = runtime.block_on(fetch_all_concurrently(server, &logins, timeout));
        Fetched {
            results,
            threads_before,
        }
    })
}

/// Runs `work` on a thread of its own and waits at most `deadline` for it, so that a fetch
/// that never returns fails its check (saying `why_late`) instead of hanging it.
fn in_time<R: Send + 'static>(deadline: Duration, why_late: &str, work: impl FnOnce() -> R + Send + 'static) -> R {
    let (sender, receiver) = mpsc::channel();
    let runner = thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(deadline) {
        Ok(result) => {
            let _ = runner.join();
            result
        }
        // The runner panicked (a `todo!`, say): report its panic as this check's failure.
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runner sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => panic!("after {deadline:?}: {why_late}"),
    }
}

/// What the watcher saw.
struct Seen {
    /// Whether the condition held before the deadline.
    reached: bool,
    /// This process's threads at that moment.
    threads_when_reached: Option<usize>,
    /// The server's figures when it stopped.
    stats: Stats,
}

/// Watches the server from a thread of its own and stops it once a condition holds (or at the
/// deadline), so that requests left hanging fail and the fetch can finish.
struct Watcher {
    /// Dropping it tells the watcher to stop the server at once: the check is over.
    check_running: mpsc::Sender<()>,
    thread: thread::JoinHandle<Seen>,
}

impl Watcher {
    fn stop_server_when(server: Server, ready: impl Fn(&Stats) -> bool + Send + 'static) -> Watcher {
        let (check_running, check_over) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + DEADLINE / 3;
            let (mut reached, mut threads_when_reached) = (false, None);
            while Instant::now() < deadline {
                if ready(&server.stats()) {
                    reached = true;
                    threads_when_reached = course::children::thread_count();
                    break;
                }
                if let Err(RecvTimeoutError::Disconnected) = check_over.recv_timeout(Duration::from_millis(2)) {
                    break;
                }
            }
            Seen {
                reached,
                threads_when_reached,
                stats: server.stop(),
            }
        });
        Watcher { check_running, thread }
    }

    fn finish(self) -> Seen {
        drop(self.check_running);
        self.thread.join().expect("the watcher does not panic")
    }
}
