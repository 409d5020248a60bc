//! Checks for lesson 08's exercise. Run them with `cargo homework 08`.
//!
//! Each check starts the slow server in this process, on a thread of its own, runs the fetch
//! on a tokio current-thread runtime (one thread, as in the lesson), and afterwards asks the
//! server what it saw: how many requests, for how many different logins, how many open at
//! once. The seed decides what the server answers each login (a record, a `503`, or a hang), so
//! every expected result and every count is exact. Nothing is timed: where a check needs
//! requests to overlap, it makes them hang until it has seen what it needs, and a fetch that
//! never gets there is given up on once the server has seen nothing new for [`STALL`]. One
//! check keeps the runtime's thread busy for a moment, as another task would, so that the
//! requests start late: each must still get its whole timeout.

use lesson08_async_exercise::{FetchResult, fetch_all_concurrently};
use slowserver::{Config, Fate, FetchError, Server, Stats};
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

/// A correct fetch returns within a second or two in every check; this only turns a fetch that
/// never returns into a failure.
const DEADLINE: Duration = Duration::from_secs(6);

/// A fetch that has made the server see nothing new (no request, no reply) for this long, while
/// a check waits for more, is stuck: its requests wait one after another, or its thread is held.
const STALL: Duration = Duration::from_millis(1500);

/// Each request's timeout in the checks: long enough that only the logins planned to hang ever
/// time out, even on a busy machine (the others are answered within 35 ms).
const TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the fetch failed to return in an earlier check: it is not called again, so that a
/// fetch that never returns costs one DEADLINE in all, not one per check.
static NEVER_RETURNED: AtomicBool = AtomicBool::new(false);

/// What usually keeps the runtime's only thread from the event loop.
const BLOCKED_HINT: &str = "a blocking call (fetch_user, std::thread::sleep) holds the runtime's only \
     thread, so no other task runs and no timeout can fire: await fetch_user_async instead";

#[test]
#[ignore = "homework: run cargo homework 08"]
fn every_record_comes_back_in_the_order_of_the_logins() {
    let _alone = one_check_at_a_time();
    // Delays of 5 to 35 ms: the replies arrive in a different order from the requests.
    let config = Config {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        ..Config::default()
    };
    let logins = numbered_logins(32);
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, TIMEOUT).results;
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
        (32, 32),
        "the server got {} requests for {} different logins, for 32 logins. Hint: one task per \
         login, each fetching once",
        stats.user_requests,
        stats.distinct_logins
    );

    let server = Server::start(config).expect("the server starts");
    let nothing = fetch_in_time(server.addr(), &[], TIMEOUT).results;
    assert!(
        nothing.is_empty(),
        "no logins gave {} results. Hint: with no logins there is nothing to spawn or wait for",
        nothing.len()
    );
}

#[test]
#[ignore = "homework: run cargo homework 08"]
fn each_failure_is_reported_for_its_own_login_with_its_own_timeout() {
    let _alone = one_check_at_a_time();
    // Two logins hang and four get a 503, among eighteen that get their record; the seed says
    // which logins do what, so the check picks them.
    let config = Config {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(10),
        error_rate: 0.2,
        timeout_rate: 0.1,
        seed: 7,
        ..Config::default()
    };
    let (records, errors, hangs) = (18, 4, 2);
    let logins = logins_with_fates(
        &config,
        &[(Fate::Hang, hangs), (Fate::Error, errors), (Fate::Record, records)],
    );

    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, TIMEOUT).results;
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
            Fate::Hang => result == &Err(FetchError::TimedOut { after: TIMEOUT }),
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
                Fate::Hang => format!("a timeout after {TIMEOUT:?}"),
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
        (24, 24),
        "the server got {} requests for {} different logins, for 24 logins. Hint: fetch each login \
         once; a failed login is reported, not retried",
        stats.user_requests,
        stats.distinct_logins
    );
}

#[test]
#[ignore = "homework: run cargo homework 08"]
fn every_request_waits_at_the_same_time_on_one_thread() {
    let _alone = one_check_at_a_time();
    // Every login hangs, so each request stays open until the server stops: once the server
    // has all of them open at once, the watcher counts this process's threads, then stops the
    // server, which fails every request and lets the fetch finish. A heartbeat task on the
    // same runtime tells whether the thread was free for other tasks meanwhile.
    const LOGINS: u64 = 64;
    let logins = numbered_logins(LOGINS as usize);
    let server = Server::start(Config {
        timeout_rate: 1.0,
        ..Config::default()
    })
    .expect("the server starts");
    let addr = server.addr();
    let heartbeat = Heartbeat::new();
    let beats = heartbeat.clone();
    let watcher = Watcher::stop_server_when(server, move |stats| stats.open_connections >= LOGINS, beats);
    // Each request's own timeout is far away: only the server stopping ends these requests.
    let fetched = fetch_in_time_with(addr, &logins, DEADLINE, Some(heartbeat));
    let seen = watcher.finish();
    let peak = seen.stats.peak_open_connections;
    if !seen.reached && seen.thread_held_for.is_some_and(|held| held >= STALL / 2) {
        panic!(
            "at most {peak} of the {LOGINS} requests were waiting on the server at once, and the runtime's \
             thread ran no other task for {:.1} s meanwhile. Hint: {BLOCKED_HINT}",
            seen.thread_held_for.unwrap_or_default().as_secs_f64()
        );
    }
    assert!(
        seen.reached,
        "at most {peak} of the {LOGINS} requests were waiting on the server at once. Hint: start every \
         request before awaiting any (a task per login, spawned into a JoinSet); an await in a loop \
         fetches one at a time"
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
#[ignore = "homework: run cargo homework 08"]
fn a_request_started_late_still_gets_its_whole_timeout() {
    let _alone = one_check_at_a_time();
    // Right after fetch_all_concurrently has had its first turn on the thread (in which it
    // spawns its tasks), the check keeps the thread busy for HELD, longer than the timeout, as
    // a task computing would: a spawned task makes its request only after that. Each request is
    // answered 30 ms after it is made, well within its own timeout; a timeout that started
    // before its request (one around the whole batch) has run out by then. A request already
    // under way before the thread was held (one made in the first turn itself) may time out.
    const HELD: Duration = Duration::from_millis(1200);
    let config = Config {
        delay: Duration::from_millis(30),
        ..Config::default()
    };
    let logins = numbered_logins(16);
    let server = Arc::new(Server::start(config.clone()).expect("the server starts"));
    let (addr, watched) = (server.addr(), Arc::clone(&server));
    let late = logins.clone();
    let (results, made_early) = in_time(DEADLINE, NEVER_RETURNED_HINT, move || {
        on_one_thread(async move {
            let mut fetch = pin!(fetch_all_concurrently(addr, &late, TIMEOUT));
            let mut made_early = None;
            let results = std::future::poll_fn(|context| {
                let poll = fetch.as_mut().poll(context);
                if made_early.is_none() {
                    // The thread is ours alone now: no task of the runtime runs meanwhile.
                    thread::sleep(HELD);
                    made_early = Some(watched.stats().connections_accepted);
                }
                poll
            })
            .await;
            (results, made_early.unwrap_or_default())
        })
    });
    let stats = Arc::try_unwrap(server).map(Server::stop).unwrap_or_default();
    assert_eq!(
        results.len(),
        logins.len(),
        "{} logins gave {} results. Hint: one result per login",
        logins.len(),
        results.len()
    );
    let timed_out = results
        .iter()
        .filter(|result| result.as_ref().is_err_and(FetchError::is_timeout));
    let timed_out_late = (timed_out.count() as u64).saturating_sub(made_early);
    assert_eq!(
        timed_out_late, 0,
        "{timed_out_late} requests timed out, though each was answered 30 ms after it was made, with \
         {TIMEOUT:?} of its own: the thread was busy for {HELD:?} after your function's first turn, so \
         they were made late. Hint: start each timeout inside its task, around that task's \
         fetch_user_async; one around the whole batch counts the wait for a turn"
    );
    for (index, (login, result)) in logins.iter().zip(&results).enumerate() {
        assert!(
            result == &Ok(config.record(login)) || (made_early > 0 && result.is_err()),
            "result {index} should be {login}'s record, got {}. Hint: put each result in its login's slot",
            describe(result)
        );
    }
    // A request given up before it was sent may or may not have reached the server.
    assert!(
        stats.user_requests == 16 || (made_early > 0 && stats.user_requests < 16),
        "the server got {} requests for 16 logins. Hint: one task per login, each fetching once",
        stats.user_requests
    );
}

#[test]
#[ignore = "homework: run cargo homework 08"]
fn a_fetch_that_is_given_up_leaves_no_request_behind() {
    let _alone = one_check_at_a_time();
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
    let blocked = format!(
        "the fetch was given up after 200 ms, yet the runtime did not finish. Hint: {BLOCKED_HINT}; \
         and a runtime waits for its spawn_blocking threads when it shuts down"
    );
    let tasks_left = in_time(Duration::from_secs(2), &blocked, move || {
        on_one_thread(async move {
            // Each request's own timeout is far away: only giving up can end these requests.
            let fetch = fetch_all_concurrently(addr, &logins, Duration::from_secs(30));
            let _given_up = tokio::time::timeout(Duration::from_millis(200), fetch).await;
            // An aborted task leaves at its next turn on the loop: give the loop a moment.
            let metrics = tokio::runtime::Handle::current().metrics();
            let settled = Instant::now() + Duration::from_secs(1);
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

/// Checks count this process's threads and the server's connections: run one at a time, even
/// under `cargo test` (which runs tests side by side), as the runner does.
fn one_check_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    // A check that failed (panicked) still leaves the others a working lock.
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `user0000`, `user0001`, ...: logins the server knows.
fn numbered_logins(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("user{i:04}")).collect()
}

/// Logins whose fates under `config` are the ones asked for, in that order: `(fate, how many)`.
fn logins_with_fates(config: &Config, wanted: &[(Fate, usize)]) -> Vec<String> {
    let candidates = numbered_logins(1000);
    let mut logins = Vec::new();
    for &(fate, count) in wanted {
        let found: Vec<String> = candidates
            .iter()
            .filter(|login| config.plan(login).fate == fate && !logins.contains(*login))
            .take(count)
            .cloned()
            .collect();
        assert_eq!(found.len(), count, "the check's own logins: {count} with {fate:?}");
        logins.extend(found);
    }
    logins
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

const NEVER_RETURNED_HINT: &str = "fetch_all_concurrently did not return. Hint: give every request a \
     timeout, and await every task you spawned";

/// Runs the fetch on a thread of its own with a current-thread runtime, and waits at most
/// `DEADLINE` for it.
fn fetch_in_time(server: SocketAddr, logins: &[String], timeout: Duration) -> Fetched {
    fetch_in_time_with(server, logins, timeout, None)
}

/// The same, with a heartbeat task beside the fetch on the runtime, if given.
fn fetch_in_time_with(
    server: SocketAddr,
    logins: &[String],
    timeout: Duration,
    heartbeat: Option<Heartbeat>,
) -> Fetched {
    // SeqCst: a plain flag between checks that run one after another.
    if NEVER_RETURNED.load(Ordering::SeqCst) {
        panic!("{NEVER_RETURNED_HINT} (seen in an earlier check, so this one does not call it again)");
    }
    let logins = logins.to_vec();
    let fetched = finished_within(DEADLINE, move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime starts");
        let threads_before = course::children::thread_count();
        if let Some(heartbeat) = heartbeat {
            runtime.spawn(heartbeat.beat());
        }
        let results = runtime.block_on(fetch_all_concurrently(server, &logins, timeout));
        Fetched {
            results,
            threads_before,
        }
    });
    fetched.unwrap_or_else(|| {
        NEVER_RETURNED.store(true, Ordering::SeqCst);
        panic!("after {DEADLINE:?}: {NEVER_RETURNED_HINT}")
    })
}

/// Runs `work` on a thread of its own and waits at most `deadline` for it, so that a fetch
/// that never returns fails its check (saying `why_late`) instead of hanging it.
fn in_time<R: Send + 'static>(deadline: Duration, why_late: &str, work: impl FnOnce() -> R + Send + 'static) -> R {
    finished_within(deadline, work).unwrap_or_else(|| panic!("after {deadline:?}: {why_late}"))
}

/// What `work`, run on a thread of its own, returned within `deadline`; None if it had not
/// returned by then. A panic in `work` is this check's failure.
fn finished_within<R: Send + 'static>(deadline: Duration, work: impl FnOnce() -> R + Send + 'static) -> Option<R> {
    let (sender, receiver) = mpsc::channel();
    let runner = thread::spawn(move || {
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(deadline) {
        Ok(result) => {
            let _ = runner.join();
            Some(result)
        }
        // The runner panicked (a `todo!`, say): report its panic as this check's failure.
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runner sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => None,
    }
}

/// A task that notes the time every 5 ms while the runtime's thread is free to run it.
#[derive(Clone)]
struct Heartbeat {
    start: Instant,
    /// Milliseconds from `start` to the last beat. Relaxed: a lone figure, read for a message.
    last_ms: Arc<AtomicU64>,
}

impl Heartbeat {
    fn new() -> Self {
        Heartbeat {
            start: Instant::now(),
            last_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    async fn beat(self) {
        loop {
            self.last_ms
                .store(self.start.elapsed().as_millis() as u64, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// How long since the last beat.
    fn silent_for(&self) -> Duration {
        let last = Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// What the watcher saw.
struct Seen {
    /// Whether the condition held before the fetch stalled.
    reached: bool,
    /// This process's threads at that moment.
    threads_when_reached: Option<usize>,
    /// How long the runtime's thread had run no other task when the watcher gave up, if it did.
    thread_held_for: Option<Duration>,
    /// The server's figures when it stopped.
    stats: Stats,
}

/// Watches the server from a thread of its own and stops it once a condition holds, or once
/// the server has seen nothing new for [`STALL`], so that requests left hanging fail and the
/// fetch can finish.
struct Watcher {
    /// Dropping it tells the watcher to stop the server at once: the check is over.
    check_running: mpsc::Sender<()>,
    thread: thread::JoinHandle<Seen>,
}

impl Watcher {
    fn stop_server_when(
        server: Server,
        ready: impl Fn(&Stats) -> bool + Send + 'static,
        heartbeat: Heartbeat,
    ) -> Watcher {
        let (check_running, check_over) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + DEADLINE;
            let (mut last, mut last_change) = (server.stats(), Instant::now());
            let (mut reached, mut threads_when_reached, mut thread_held_for) = (false, None, None);
            loop {
                let stats = server.stats();
                if ready(&stats) {
                    reached = true;
                    threads_when_reached = course::children::thread_count();
                    break;
                }
                if stats != last {
                    (last, last_change) = (stats, Instant::now());
                }
                if last_change.elapsed() >= STALL || Instant::now() >= deadline {
                    thread_held_for = Some(heartbeat.silent_for());
                    break;
                }
                if let Err(RecvTimeoutError::Disconnected) = check_over.recv_timeout(Duration::from_millis(2)) {
                    break;
                }
            }
            Seen {
                reached,
                threads_when_reached,
                thread_held_for,
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
