//! Checks for lesson 07's exercise. Run them with `scripts/homework.sh 07`.
//!
//! Each check starts the slow server in this process, on a thread of its own, and afterwards
//! asks it what it saw: how many requests, for how many different logins, how many open at
//! once. The seed decides what the server answers each login (a record, a `503`, or a hang),
//! so every expected result and every count is exact. Nothing is timed: where a check needs
//! requests to overlap, it makes them hang until it has seen what it needs.

use lesson07_io_bound_exercise::{FetchResult, fetch_all_with_pool};
use slowserver::{Config, Fate, FetchError, Server, Stats};
use std::net::SocketAddr;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// A correct pool finishes every check within a few seconds; this only stops a wrong one from
/// hanging forever.
const DEADLINE: Duration = Duration::from_secs(60);

/// Long enough that only the logins planned to hang ever time out, even on a busy machine.
const GENEROUS_TIMEOUT: Duration = Duration::from_secs(2);

#[test]
#[ignore = "homework: run scripts/homework.sh 07"]
fn every_record_comes_back_in_the_order_of_the_logins() {
    // Delays of 5 to 55 ms: the replies arrive in a different order from the requests.
    let config = Config {
        delay: Duration::from_millis(30),
        jitter: Duration::from_millis(25),
        ..Config::default()
    };
    let logins = numbered_logins(48);
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, 6, GENEROUS_TIMEOUT);
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
            "result {index} should be {login}'s record, got {}. Hint: replies arrive in any order; \
             remember each login's index and put its result in that slot",
            describe(result)
        );
    }
    assert_eq!(
        (stats.user_requests, stats.distinct_logins),
        (48, 48),
        "the server got {} requests for {} different logins, for 48 logins. Hint: each login is \
         taken from the queue by exactly one worker, and fetched once",
        stats.user_requests,
        stats.distinct_logins
    );

    // The edges: nothing to fetch, and more workers than logins.
    let server = Server::start(config.clone()).expect("the server starts");
    let nothing = fetch_in_time(server.addr(), &[], 4, GENEROUS_TIMEOUT);
    assert!(
        nothing.is_empty(),
        "no logins gave {} results. Hint: with an empty queue, every worker stops at once",
        nothing.len()
    );
    let few = numbered_logins(3);
    let results = fetch_in_time(server.addr(), &few, 8, GENEROUS_TIMEOUT);
    let expected: Vec<FetchResult> = few.iter().map(|login| Ok(config.record(login))).collect();
    assert!(
        results == expected,
        "3 logins with 8 workers gave [{}]. Hint: a worker that finds the queue empty stops",
        results.iter().map(describe).collect::<Vec<_>>().join(", ")
    );
    assert_eq!(
        server.stop().user_requests,
        3,
        "3 logins with 8 workers: not 3 requests. Hint: \
         a worker that finds the queue empty stops without fetching"
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 07"]
fn each_failure_is_reported_for_its_own_login() {
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
    let results = fetch_in_time(server.addr(), &logins, 8, GENEROUS_TIMEOUT);
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
        let expected = match config.plan(login).fate {
            Fate::Record => result == &Ok(config.record(login)),
            Fate::Error => matches!(result, Err(FetchError::Server { status: 503, .. })),
            Fate::Hang => {
                result
                    == &Err(FetchError::TimedOut {
                        after: GENEROUS_TIMEOUT,
                    })
            }
        };
        assert!(
            expected,
            "result {index} ({login}) should be {}, got {}. Hint: keep each fetch_user result, Ok or \
             Err, in its login's slot, and pass the timeout to every request",
            match config.plan(login).fate {
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
#[ignore = "homework: run scripts/homework.sh 07"]
fn n_workers_wait_on_the_server_at_once_and_never_more() {
    // Every login hangs, so each request stays open until the server stops: the server's count
    // of open connections is the number of workers waiting at once, however slow this machine
    // is. Once it reaches n_workers, the watcher gives a wrong pool a moment to open more, then
    // stops the server, which fails every request still open or not yet made.
    let n_workers: u64 = 4;
    let logins = numbered_logins(12);
    let server = Server::start(Config {
        timeout_rate: 1.0,
        ..Config::default()
    })
    .expect("the server starts");
    let addr = server.addr();
    let watcher = Watcher::stop_server_when(server, Duration::from_millis(200), move |stats| {
        stats.open_connections >= n_workers
    });
    let results = fetch_in_time(addr, &logins, n_workers as usize, DEADLINE);
    let (reached, stats) = watcher.finish();
    assert!(
        reached,
        "the server never had {n_workers} requests from a pool of {n_workers} open at once (at most \
         {}). Hint: start every worker before waiting for any of them",
        stats.peak_open_connections
    );
    assert_eq!(
        stats.peak_open_connections, n_workers,
        "a pool of {n_workers} had {} requests open at once. Hint: exactly n_workers threads fetch; \
         the other logins wait in the queue, not on threads of their own",
        stats.peak_open_connections
    );
    assert_eq!(
        results.len(),
        logins.len(),
        "{} logins gave {} results when the server went away. Hint: a failure is that login's \
         result; the workers carry on with the queue",
        logins.len(),
        results.len()
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 07"]
fn a_free_worker_takes_the_next_login_from_the_shared_queue() {
    // The first login hangs until the server stops; twenty quick ones follow it. With one
    // shared queue, the second worker fetches all twenty while the first one waits. With a
    // fixed share per worker, the logins in the hung worker's share wait behind it.
    let config = Config {
        delay: Duration::from_millis(5),
        timeout_rate: 0.5,
        ..Config::default()
    };
    let candidates = numbered_logins(400);
    let plan = &config;
    let with_fate = |fate| candidates.iter().filter(move |login| plan.plan(login).fate == fate);
    let mut logins: Vec<String> = with_fate(Fate::Hang).take(1).cloned().collect();
    logins.extend(with_fate(Fate::Record).take(20).cloned());
    assert_eq!(logins.len(), 21, "the check's own logins: one hang, twenty records");

    let server = Server::start(config.clone()).expect("the server starts");
    let addr = server.addr();
    // Twenty records sent and only the hung connection still open: every reply has been written.
    let watcher = Watcher::stop_server_when(server, Duration::ZERO, |stats| {
        stats.records_sent >= 20 && stats.open_connections == 1
    });
    let results = fetch_in_time(addr, &logins, 2, DEADLINE);
    let (reached, stats) = watcher.finish();
    assert!(
        reached,
        "with 2 workers and the first login hanging, {} of the 20 other records were fetched while \
         it hung. Hint: a free worker takes the next login from one shared queue; a fixed share per \
         worker leaves logins waiting behind a slow one",
        stats.records_sent
    );
    assert_eq!(
        results.len(),
        logins.len(),
        "21 logins gave {} results. Hint: one result per login, failures included",
        results.len()
    );
    for (index, (login, result)) in logins.iter().zip(&results).enumerate().skip(1) {
        assert!(
            result == &Ok(config.record(login)),
            "result {index} should be {login}'s record, got {}. Hint: put each result in its \
             login's slot",
            describe(result)
        );
    }
    assert!(
        results[0].is_err(),
        "the hung login got {} although the server stopped before answering it. Hint: keep each \
         fetch_user result in its login's slot",
        describe(&results[0])
    );
}

#[test]
#[ignore = "homework: run scripts/homework.sh 07"]
fn no_worker_is_left_running() {
    let Some(before) = course::children::thread_count() else {
        eprintln!("this system does not tell a process's thread count: nothing to check here");
        return;
    };
    let config = Config {
        delay: Duration::from_millis(5),
        ..Config::default()
    };
    let server = Server::start(config).expect("the server starts");
    let threads_with_server = course::children::thread_count().unwrap_or(before);
    let logins = numbered_logins(16);
    let results = fetch_in_time(server.addr(), &logins, 4, GENEROUS_TIMEOUT);
    assert_eq!(
        results.len(),
        16,
        "16 logins gave {} results. Hint: one result per login",
        results.len()
    );
    // A thread that has been joined leaves the kernel's list a moment later: allow it a while.
    let settled = Instant::now() + Duration::from_secs(10);
    let mut left = course::children::thread_count().unwrap_or(0);
    while left > threads_with_server && Instant::now() < settled {
        thread::sleep(Duration::from_millis(10));
        left = course::children::thread_count().unwrap_or(0);
    }
    server.stop();
    assert!(
        left <= threads_with_server,
        "{} threads were still running 10 s after fetch_all_with_pool returned. Hint: each worker \
         stops when it finds the queue empty, and is joined before the function returns \
         (std::thread::scope joins them for you)",
        left - threads_with_server
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

/// Runs the pool on a thread of its own and waits at most `DEADLINE` for it, so that a pool
/// that never returns fails this check instead of hanging it.
fn fetch_in_time(server: SocketAddr, logins: &[String], n_workers: usize, timeout: Duration) -> Vec<FetchResult> {
    let logins = logins.to_vec();
    let (sender, receiver) = mpsc::channel();
    let runner = thread::spawn(move || {
        let _ = sender.send(fetch_all_with_pool(server, &logins, n_workers, timeout));
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(results) => {
            let _ = runner.join();
            results
        }
        // The runner panicked (a `todo!`, say): report its panic as this check's failure.
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runner sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "fetch_all_with_pool did not return within {DEADLINE:?}. Hint: a worker must stop when \
             the queue is empty, or nothing can join it"
        ),
    }
}

/// Watches the server from a thread of its own and stops it once a condition holds (or at the
/// deadline), so that requests left hanging fail and the pool can finish.
struct Watcher {
    /// Dropping it tells the watcher to stop the server at once: the check is over.
    check_running: mpsc::Sender<()>,
    thread: thread::JoinHandle<(bool, Stats)>,
}

impl Watcher {
    /// Once `ready` holds, waits `settle` (to see whether anything more arrives), then stops
    /// the server. The thread reports whether `ready` held, and the server's last figures.
    fn stop_server_when(server: Server, settle: Duration, ready: impl Fn(&Stats) -> bool + Send + 'static) -> Watcher {
        let (check_running, check_over) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + DEADLINE / 3;
            let mut reached = false;
            while Instant::now() < deadline {
                if ready(&server.stats()) {
                    reached = true;
                    let _ = check_over.recv_timeout(settle);
                    break;
                }
                if let Err(RecvTimeoutError::Disconnected) = check_over.recv_timeout(Duration::from_millis(2)) {
                    break;
                }
            }
            (reached, server.stop())
        });
        Watcher { check_running, thread }
    }

    /// Whether the condition held, and the server's figures when it stopped.
    fn finish(self) -> (bool, Stats) {
        drop(self.check_running);
        self.thread.join().expect("the watcher does not panic")
    }
}
