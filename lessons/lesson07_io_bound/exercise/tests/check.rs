//! Checks for lesson 07's exercise. Run them with `cargo homework 07`.
//!
//! Each check starts the slow server in this process, on a thread of its own, and afterwards
//! asks it what it saw: how many requests, for how many different logins, how many open at
//! once. The seed decides what the server answers each login (a record, a `503`, or a hang),
//! so every expected result and every count is exact. The pool is handed a watched queue
//! (`NextLogin::watched`), which tells the checks which thread took which index, and lets one
//! check hold a worker back right after it has read the queue.
//!
//! Nothing is timed: where a check needs requests to overlap, it makes them hang until it has
//! seen what it needs. A pool that never gets there is given up on once the server has seen
//! nothing new for [`STALL`], so that a pool whose workers take turns is reported in seconds.

use lesson07_io_bound_exercise::{Access, FetchResult, NextLogin, fetch_all_with_pool};
use slowserver::{Config, Fate, FetchError, Server, Stats};
use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

/// A correct pool returns within a second or two in every check; this only turns a pool that
/// never returns into a failure.
const DEADLINE: Duration = Duration::from_secs(6);

/// A pool that has made the server see nothing new (no request, no reply) for this long, while
/// a check waits for more, is stuck: its workers wait for each other, or for a hung request.
const STALL: Duration = Duration::from_millis(1500);

/// Each request's timeout in the checks: long enough that only the logins planned to hang ever
/// time out, even on a busy machine (the others are answered within 35 ms).
const TIMEOUT: Duration = Duration::from_secs(1);

/// Whether the pool failed to return in an earlier check: it is not called again, so that a
/// pool that never returns costs one DEADLINE in all, not one per check.
static NEVER_RETURNED: AtomicBool = AtomicBool::new(false);

/// The hint for a pool whose requests waited on the server one at a time, by what the check saw
/// of its threads: several threads (a lock held across the wait) or one.
fn took_turns_hint(worker_threads: usize) -> String {
    if worker_threads >= 2 {
        format!(
            "{worker_threads} worker threads ran, yet only one fetched at a time: the rest waited for a lock it \
             held across fetch_user. Lock only to take or to store, never around the wait: \
             `done.lock().unwrap().push((i, fetch_user(..)))` locks before it fetches"
        )
    } else {
        "only one thread fetched: start n_workers threads in std::thread::scope, all before joining any, each \
         taking logins from next_login"
            .to_string()
    }
}

#[test]
#[ignore = "homework: run cargo homework 07"]
fn every_record_comes_back_in_the_order_of_the_logins() {
    let _alone = one_check_at_a_time();
    // Delays of 5 to 35 ms: the replies arrive in a different order from the requests.
    let config = Config {
        delay: Duration::from_millis(20),
        jitter: Duration::from_millis(15),
        ..Config::default()
    };
    let logins = numbered_logins(24);
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, 6, TIMEOUT, NextLogin::new()).results;
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
        (24, 24),
        "the server got {} requests for {} different logins, for 24 logins. Hint: each login is \
         taken from next_login by exactly one worker, and fetched once",
        stats.user_requests,
        stats.distinct_logins
    );

    // The edges: nothing to fetch, and more workers than logins.
    let server = Server::start(config.clone()).expect("the server starts");
    let nothing = fetch_in_time(server.addr(), &[], 4, TIMEOUT, NextLogin::new()).results;
    assert!(
        nothing.is_empty(),
        "no logins gave {} results. Hint: with an empty queue, every worker stops at once",
        nothing.len()
    );
    let few = numbered_logins(3);
    let results = fetch_in_time(server.addr(), &few, 8, TIMEOUT, NextLogin::new()).results;
    let expected: Vec<FetchResult> = few.iter().map(|login| Ok(config.record(login))).collect();
    assert!(
        results == expected,
        "3 logins with 8 workers gave [{}]. Hint: a worker that finds the queue empty stops",
        results.iter().map(describe).collect::<Vec<_>>().join(", ")
    );
    assert_eq!(
        server.stop().user_requests,
        3,
        "3 logins with 8 workers: not 3 requests. Hint: a worker that finds the queue empty stops \
         without fetching"
    );
}

#[test]
#[ignore = "homework: run cargo homework 07"]
fn each_failure_is_reported_for_its_own_login() {
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
    let logins = logins_with_fates(&config, &[(Fate::Hang, 2), (Fate::Error, 4), (Fate::Record, 18)]);
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, 8, TIMEOUT, NextLogin::new()).results;
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
        assert!(
            expected,
            "result {index} ({login}) should be {}, got {}. Hint: keep each fetch_user result, Ok or \
             Err, in its login's slot, and pass the timeout to every request",
            match fate {
                Fate::Record => "its record".to_string(),
                Fate::Error => "the server's 503".to_string(),
                Fate::Hang => format!("a timeout after {TIMEOUT:?}"),
            },
            describe(result)
        );
    }
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
#[ignore = "homework: run cargo homework 07"]
fn each_login_is_taken_by_exactly_one_worker() {
    let _alone = one_check_at_a_time();
    // The first time a worker reads the queue with `load`, it is held right there until a
    // second worker has read it too: a take made of a separate load and store then hands both
    // the same index, every time. A take in one step (fetch_add) never stops here.
    let logins = numbered_logins(16);
    let log = Arc::new(QueueLog::default());
    let meeting = Arc::new(FirstLoads::default());
    let queue = {
        let (log, meeting) = (Arc::clone(&log), Arc::clone(&meeting));
        NextLogin::watched(move |access| {
            log.note(access);
            if let Access::Load(_) = access {
                meeting.arrive();
            }
        })
    };
    let config = Config {
        delay: Duration::from_millis(5),
        ..Config::default()
    };
    let server = Server::start(config.clone()).expect("the server starts");
    let results = fetch_in_time(server.addr(), &logins, 4, TIMEOUT, queue).results;
    let stats = server.stop();
    assert!(
        log.used(),
        "fetch_all_with_pool never used next_login, the queue it is given. Hint: the workers share \
         next_login: each takes the index of its next login from it"
    );
    if let Some((index, threads)) = log.index_loaded_by_two_threads() {
        assert_eq!(
            stats.user_requests,
            stats.distinct_logins,
            "{threads} workers read index {index} from next_login with load before any of them stored the \
             next one, so each fetched {} ({} requests for {} different logins). Hint: a separate load and \
             store leaves a gap in which another worker reads the same index; \
             next_login.fetch_add(1, Ordering::Relaxed) reads and moves the queue on in one indivisible step",
            logins.get(index).map_or("a login past the end", String::as_str),
            stats.user_requests,
            stats.distinct_logins
        );
    }
    assert_eq!(
        (stats.user_requests, stats.distinct_logins),
        (16, 16),
        "the server got {} requests for {} different logins, for 16 logins. Hint: take each index \
         with one fetch_add, so that no two workers get the same one and none is skipped",
        stats.user_requests,
        stats.distinct_logins
    );
    let expected: Vec<FetchResult> = logins.iter().map(|login| Ok(config.record(login))).collect();
    assert!(
        results == expected,
        "16 logins with 4 workers did not give every record in its login's slot. Hint: put each result \
         at the index the worker took"
    );
}

#[test]
#[ignore = "homework: run cargo homework 07"]
fn n_workers_wait_on_the_server_at_once_and_never_more() {
    let _alone = one_check_at_a_time();
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
    let log = Arc::new(QueueLog::default());
    let fetched = fetch_in_time(addr, &logins, n_workers as usize, DEADLINE, log.queue());
    let seen = watcher.finish();
    let peak = seen.stats.peak_open_connections;
    if !seen.reached && peak <= 1 {
        let extra_threads = fetched.extra_threads(seen.threads_when_stopped);
        panic!(
            "a pool of {n_workers} never had more than {peak} request open at once. Hint: {}",
            took_turns_hint(log.threads().max(extra_threads))
        );
    }
    assert!(
        seen.reached,
        "the server never had {n_workers} requests from a pool of {n_workers} open at once (at most \
         {peak}). Hint: start every worker before waiting for any of them"
    );
    assert_eq!(
        peak, n_workers,
        "a pool of {n_workers} had {peak} requests open at once. Hint: exactly n_workers threads fetch; \
         the other logins wait in the queue, not on threads of their own"
    );
    assert_eq!(
        fetched.results.len(),
        logins.len(),
        "{} logins gave {} results when the server went away. Hint: a failure is that login's \
         result; the workers carry on with the queue",
        logins.len(),
        fetched.results.len()
    );
}

#[test]
#[ignore = "homework: run cargo homework 07"]
fn a_free_worker_takes_the_next_login_from_the_shared_queue() {
    let _alone = one_check_at_a_time();
    // The first login hangs until the server stops; twenty quick ones follow it. With one
    // shared queue, the second worker fetches all twenty while the first one waits. With a
    // fixed share per worker, or waves of n_workers logins, the logins behind the hung one wait.
    let config = Config {
        delay: Duration::from_millis(5),
        timeout_rate: 0.5,
        ..Config::default()
    };
    let logins = logins_with_fates(&config, &[(Fate::Hang, 1), (Fate::Record, 20)]);
    let server = Server::start(config.clone()).expect("the server starts");
    let addr = server.addr();
    // Twenty records sent and only the hung connection still open: every reply has been written.
    let watcher = Watcher::stop_server_when(server, Duration::ZERO, |stats| {
        stats.records_sent >= 20 && stats.open_connections == 1
    });
    let log = Arc::new(QueueLog::default());
    let fetched = fetch_in_time(addr, &logins, 2, DEADLINE, log.queue());
    let seen = watcher.finish();
    let records = seen.stats.records_sent.min(20);
    if !seen.reached && seen.stats.peak_open_connections <= 1 {
        let extra_threads = fetched.extra_threads(seen.threads_when_stopped);
        panic!(
            "with 2 workers and the first login hanging, {records} of the 20 other records were fetched \
             while it hung: no other request was made meanwhile. Hint: {}",
            took_turns_hint(log.threads().max(extra_threads))
        );
    }
    assert!(
        seen.reached,
        "with 2 workers and the first login hanging, {records} of the 20 other records were fetched while \
         it hung. Hint: a free worker takes the next login from the shared queue at once; a fixed share \
         per worker, or waves of n_workers logins joined before the next wave, leave logins waiting \
         behind a slow one"
    );
    let results = fetched.results;
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
#[ignore = "homework: run cargo homework 07"]
fn no_worker_is_left_running() {
    let _alone = one_check_at_a_time();
    let Some(before) = course::children::thread_count() else {
        // Written past the test harness's capture, so that the runner can show it.
        let _ = writeln!(
            std::io::stderr(),
            "homework note: this system does not tell a process's thread count, so no check here sees \
             workers left running"
        );
        return;
    };
    let config = Config {
        delay: Duration::from_millis(5),
        ..Config::default()
    };
    let server = Server::start(config).expect("the server starts");
    let threads_with_server = course::children::thread_count().unwrap_or(before);
    let logins = numbered_logins(16);
    let results = fetch_in_time(server.addr(), &logins, 4, TIMEOUT, NextLogin::new()).results;
    assert_eq!(
        results.len(),
        16,
        "16 logins gave {} results. Hint: one result per login",
        results.len()
    );
    // A thread that has been joined leaves the kernel's list a moment later: allow it a while.
    let settled = Instant::now() + Duration::from_secs(5);
    let mut left = course::children::thread_count().unwrap_or(0);
    while left > threads_with_server && Instant::now() < settled {
        thread::sleep(Duration::from_millis(10));
        left = course::children::thread_count().unwrap_or(0);
    }
    server.stop();
    assert!(
        left <= threads_with_server,
        "{} threads were still running 5 s after fetch_all_with_pool returned. Hint: each worker \
         stops when it finds the queue empty, and is joined before the function returns \
         (std::thread::scope joins them for you)",
        left - threads_with_server
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

/// What the pool returned, and this process's thread count just before it started.
struct Fetched {
    results: Vec<FetchResult>,
    threads_before: Option<usize>,
}

impl Fetched {
    /// How many more threads ran at `during` than before the pool started: its workers.
    fn extra_threads(&self, during: Option<usize>) -> usize {
        match (self.threads_before, during) {
            (Some(before), Some(during)) => during.saturating_sub(before),
            _ => 0,
        }
    }
}

/// Runs the pool on a thread of its own and waits at most `DEADLINE` for it, so that a pool
/// that never returns fails this check instead of hanging it (and is not called again).
fn fetch_in_time(
    server: SocketAddr,
    logins: &[String],
    n_workers: usize,
    timeout: Duration,
    queue: NextLogin,
) -> Fetched {
    let never_returned = "fetch_all_with_pool did not return. Hint: a worker must stop when it takes an \
                          index past the end of the logins, or nothing can join it";
    // SeqCst: a plain flag between checks that run one after another.
    if NEVER_RETURNED.load(Ordering::SeqCst) {
        panic!("{never_returned} (seen in an earlier check, so this one does not call it again)");
    }
    let logins = logins.to_vec();
    let (sender, receiver) = mpsc::channel();
    let runner = thread::spawn(move || {
        let threads_before = course::children::thread_count();
        let results = fetch_all_with_pool(server, &logins, n_workers, timeout, &queue);
        let _ = sender.send(Fetched {
            results,
            threads_before,
        });
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(fetched) => {
            let _ = runner.join();
            fetched
        }
        // The runner panicked (a `todo!`, say): report its panic as this check's failure.
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the runner sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => {
            NEVER_RETURNED.store(true, Ordering::SeqCst);
            panic!("after {DEADLINE:?}: {never_returned}")
        }
    }
}

/// Every use of a watched queue, with the thread that made it.
#[derive(Default)]
struct QueueLog {
    uses: Mutex<Vec<(ThreadId, Access)>>,
}

impl QueueLog {
    fn note(&self, access: Access) {
        self.uses.lock().unwrap().push((thread::current().id(), access));
    }

    /// A queue that notes each use here.
    fn queue(self: &Arc<Self>) -> NextLogin {
        let log = Arc::clone(self);
        NextLogin::watched(move |access| log.note(access))
    }

    fn used(&self) -> bool {
        !self.uses.lock().unwrap().is_empty()
    }

    /// How many different threads used the queue.
    fn threads(&self) -> usize {
        let uses = self.uses.lock().unwrap();
        let mut threads: Vec<ThreadId> = uses.iter().map(|(thread, _)| *thread).collect();
        threads.sort_by_key(|thread| format!("{thread:?}"));
        threads.dedup();
        threads.len()
    }

    /// The first index that two threads or more read with `load`, and how many threads did.
    fn index_loaded_by_two_threads(&self) -> Option<(usize, usize)> {
        let uses = self.uses.lock().unwrap();
        let mut readers: Vec<(usize, Vec<ThreadId>)> = Vec::new();
        for (thread, access) in uses.iter() {
            if let Access::Load(index) = access {
                match readers.iter_mut().find(|(read, _)| read == index) {
                    Some((_, threads)) if !threads.contains(thread) => threads.push(*thread),
                    Some(_) => {}
                    None => readers.push((*index, vec![*thread])),
                }
            }
        }
        readers
            .iter()
            .find(|(_, threads)| threads.len() >= 2)
            .map(|(index, threads)| (*index, threads.len()))
    }
}

/// The first `load` of the queue waits (at most 2 s) until a second `load` has been made, once.
#[derive(Default)]
struct FirstLoads {
    /// (loads arrived, whether the meeting is over).
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl FirstLoads {
    fn arrive(&self) {
        let mut state = self.state.lock().unwrap();
        if state.1 {
            return;
        }
        state.0 += 1;
        if state.0 >= 2 {
            state.1 = true;
            self.changed.notify_all();
            return;
        }
        let (mut state, _) = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(2), |state| !state.1)
            .unwrap();
        // Nobody came (a pool whose loads are behind a lock): no one waits here again.
        state.1 = true;
    }
}

/// What the watcher saw.
struct Seen {
    /// Whether the condition held before the pool stalled.
    reached: bool,
    /// This process's threads when the watcher stopped the server.
    threads_when_stopped: Option<usize>,
    /// The server's figures when it stopped.
    stats: Stats,
}

/// Watches the server from a thread of its own and stops it once a condition holds, or once
/// the server has seen nothing new for [`STALL`], so that requests left hanging fail and the
/// pool can finish.
struct Watcher {
    /// Dropping it tells the watcher to stop the server at once: the check is over.
    check_running: mpsc::Sender<()>,
    thread: thread::JoinHandle<Seen>,
}

impl Watcher {
    /// Once `ready` holds, waits `settle` (to see whether anything more arrives), then stops
    /// the server.
    fn stop_server_when(server: Server, settle: Duration, ready: impl Fn(&Stats) -> bool + Send + 'static) -> Watcher {
        let (check_running, check_over) = mpsc::channel::<()>();
        let thread = thread::spawn(move || {
            let deadline = Instant::now() + DEADLINE;
            let (mut last, mut last_change) = (server.stats(), Instant::now());
            let mut reached = false;
            while Instant::now() < deadline && last_change.elapsed() < STALL {
                let stats = server.stats();
                if ready(&stats) {
                    reached = true;
                    let _ = check_over.recv_timeout(settle);
                    break;
                }
                if stats != last {
                    (last, last_change) = (stats, Instant::now());
                }
                if let Err(RecvTimeoutError::Disconnected) = check_over.recv_timeout(Duration::from_millis(2)) {
                    break;
                }
            }
            let threads_when_stopped = course::children::thread_count();
            Seen {
                reached,
                threads_when_stopped,
                stats: server.stop(),
            }
        });
        Watcher { check_running, thread }
    }

    /// What the watcher saw, once it has stopped the server.
    fn finish(self) -> Seen {
        drop(self.check_running);
        self.thread.join().expect("the watcher does not panic")
    }
}
