//! Checks for lesson 03's exercise. Run them with `cargo homework 03`.
//!
//! Everything here counts; nothing is timed. The `event` each thread calls before an increment
//! tells the checks which threads run and whether they all run at once; the tallies handed to
//! `count_locally_then_sum` tell them which thread writes where; the shared counter handed to
//! the first two fixes, looked at from inside `event`, tells them whether each increment goes
//! into it as it happens. Where threads wait for each other, a deadline only turns a hang into
//! a failure.

use lesson03_race_exercise::{Tally, count_locally_then_sum, count_with_fetch_add, count_with_mutex};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};
use testkit::Meeting;

/// Thread counts and increments per thread of the exactness checks, and how often each runs.
const THREAD_COUNTS: [usize; 3] = [2, 4, 8];
const INCREMENTS: u64 = 100_000;
const RUNS: usize = 4;

/// How long threads wait for each other at a meeting point before a check gives up.
const PATIENCE: Duration = Duration::from_secs(10);

/// Watches `event`: how often each thread number calls it, from which thread, and whether all
/// the threads were running at once (each waits at its first event until all have arrived).
///
/// The counts are Relaxed: they are read only after the function under test has returned, and
/// it joined its threads before that, which orders everything they did before the reads.
struct EventProbe {
    calls: Vec<AtomicU64>,
    callers: Vec<OnceLock<ThreadId>>,
    one_number_on_two_threads: AtomicBool,
    out_of_range: AtomicU64,
    meeting: Meeting,
}

impl EventProbe {
    fn new(n_threads: usize, deadline: Instant) -> Self {
        EventProbe {
            calls: (0..n_threads).map(|_| AtomicU64::new(0)).collect(),
            callers: (0..n_threads).map(|_| OnceLock::new()).collect(),
            one_number_on_two_threads: AtomicBool::new(false),
            out_of_range: AtomicU64::new(0),
            meeting: Meeting::new(n_threads, deadline),
        }
    }

    fn event(&self, thread: usize) {
        let Some(calls) = self.calls.get(thread) else {
            self.out_of_range.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let me = std::thread::current().id();
        if *self.callers[thread].get_or_init(|| me) != me {
            self.one_number_on_two_threads.store(true, Ordering::Relaxed);
        }
        // The first call of each thread number waits for the others. fetch_add is indivisible
        // whatever the ordering, so exactly one call sees 0; the meeting does its own ordering.
        if calls.fetch_add(1, Ordering::Relaxed) == 0 {
            self.meeting.arrive_and_wait();
        }
    }

    /// The threads that called `event`, one per thread number.
    fn distinct_callers(&self) -> usize {
        let callers: HashSet<ThreadId> = self.callers.iter().filter_map(|caller| caller.get().copied()).collect();
        callers.len()
    }
}

/// One of the three fixes, with the tallies of the third fixed to plain `u64`s.
type Fix = fn(usize, u64, &(dyn Fn(usize) + Sync)) -> u64;

fn with_mutex(n_threads: usize, increments: u64, event: &(dyn Fn(usize) + Sync)) -> u64 {
    count_with_mutex(&Mutex::new(0), n_threads, increments, event)
}

fn with_fetch_add(n_threads: usize, increments: u64, event: &(dyn Fn(usize) + Sync)) -> u64 {
    count_with_fetch_add(&AtomicU64::new(0), n_threads, increments, event)
}

fn locally_then_sum(n_threads: usize, increments: u64, event: &(dyn Fn(usize) + Sync)) -> u64 {
    count_locally_then_sum(n_threads, increments, event, || 0u64)
}

/// Runs `fix` RUNS times for every thread count, the threads of each run starting together (at
/// their first event) so that they overlap as much as they can; every total must be exact.
fn assert_exact_on_every_run(name: &str, fix: Fix, hint: &str) {
    let deadline = Instant::now() + PATIENCE;
    for n_threads in THREAD_COUNTS {
        let expected = n_threads as u64 * INCREMENTS;
        for run in 1..=RUNS {
            let probe = EventProbe::new(n_threads, deadline);
            let total = fix(n_threads, INCREMENTS, &|thread| probe.event(thread));
            assert_eq!(
                total, expected,
                "{name}: {n_threads} threads × {INCREMENTS} increments gave {total} on run {run}, not {expected}. Hint: {hint}"
            );
        }
    }
    let probe = EventProbe::new(1, deadline);
    assert_eq!(
        fix(1, 0, &|thread| probe.event(thread)),
        0,
        "{name}: no increments at all should count 0. Hint: start the count at 0"
    );
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn the_mutex_version_is_exact_on_every_run() {
    assert_exact_on_every_run(
        "count_with_mutex",
        with_mutex,
        "lock once per increment and do the load, the add and the store under that one lock (`*counter.lock().unwrap() += 1`); reading under one lock and writing under another leaves the race open",
    );
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn the_fetch_add_version_is_exact_on_every_run() {
    assert_exact_on_every_run(
        "count_with_fetch_add",
        with_fetch_add,
        "a separate load and store races whatever Ordering they use; `counter.fetch_add(1, Ordering::Relaxed)` reads, adds and writes as one indivisible step",
    );
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn the_local_version_is_exact_on_every_run() {
    assert_exact_on_every_run(
        "count_locally_then_sum",
        locally_then_sum,
        "each thread returns its tally's total from its closure; add up what every `join` returns, once all threads are spawned",
    );
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn every_version_runs_its_threads_at_the_same_time() {
    let fixes: [(&str, Fix); 3] = [
        ("count_with_mutex", with_mutex),
        ("count_with_fetch_add", with_fetch_add),
        ("count_locally_then_sum", locally_then_sum),
    ];
    let increments = 1_000;
    for (name, fix) in fixes {
        for n_threads in THREAD_COUNTS {
            let probe = EventProbe::new(n_threads, Instant::now() + PATIENCE);
            // The totals are the exactness checks' business; this one watches the threads.
            fix(n_threads, increments, &|thread| probe.event(thread));
            // Relaxed reads: the function has returned, and it joined its threads before that.
            let out_of_range = probe.out_of_range.load(Ordering::Relaxed);
            assert_eq!(
                out_of_range, 0,
                "{name} with {n_threads} threads called event with a thread number outside 0..{n_threads} ({out_of_range} times). Hint: number the threads 0, 1, ..., n_threads - 1 and pass each its own number"
            );
            let calls: Vec<u64> = probe.calls.iter().map(|calls| calls.load(Ordering::Relaxed)).collect();
            assert!(
                calls.iter().all(|&count| count == increments),
                "{name} with {n_threads} threads × {increments} increments: the events per thread number were {calls:?}. Hint: thread t calls event(t) once before each of its own increments"
            );
            assert!(
                !probe.one_number_on_two_threads.load(Ordering::Relaxed),
                "{name} with {n_threads} threads: one thread number's events came from two different threads. Hint: each spawned thread runs the whole loop of its own number"
            );
            assert_eq!(
                probe.distinct_callers(),
                n_threads,
                "{name} ran {n_threads} thread numbers on {} threads. Hint: spawn one thread per number",
                probe.distinct_callers()
            );
            assert!(
                probe.meeting.everyone_met(),
                "{name}: the {n_threads} threads never ran at the same time (each waited at its first event for the others, in vain). Hint: spawn every thread before joining any; and call event(t) outside the lock, holding the lock only for the increment itself"
            );
        }
    }
}

/// What the tallies handed to `count_locally_then_sum` saw. Its counts are Relaxed: written by
/// the function's threads, read only after it has returned (and so joined them).
struct TallyLog {
    created: AtomicUsize,
    added: AtomicU64,
    written_by_two_threads: AtomicBool,
    meeting: Meeting,
}

/// A tally that notes the thread writing it: the first `add_one` makes that thread its owner
/// (and waits until every tally has had its first add, so that tallies locked behind one shared
/// lock show up as never written at the same time); an add from any other thread is flagged.
struct WatchedTally<'a> {
    log: &'a TallyLog,
    owner: Option<ThreadId>,
    count: u64,
}

impl Tally for WatchedTally<'_> {
    fn add_one(&mut self) {
        let me = std::thread::current().id();
        match self.owner {
            None => {
                self.owner = Some(me);
                self.log.meeting.arrive_and_wait();
            }
            // Relaxed: read after the function under test has joined every thread.
            Some(owner) if owner != me => self.log.written_by_two_threads.store(true, Ordering::Relaxed),
            Some(_) => {}
        }
        self.count += 1;
    }

    fn total(&self) -> u64 {
        self.count
    }
}

impl Drop for WatchedTally<'_> {
    fn drop(&mut self) {
        // Relaxed: read after the function under test has returned (its threads joined).
        self.log.added.fetch_add(self.count, Ordering::Relaxed);
    }
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn the_local_version_counts_in_tallies_of_its_own() {
    let increments = 20_000;
    for n_threads in THREAD_COUNTS {
        let expected = n_threads as u64 * increments;
        let log = TallyLog {
            created: AtomicUsize::new(0),
            added: AtomicU64::new(0),
            written_by_two_threads: AtomicBool::new(false),
            meeting: Meeting::new(n_threads, Instant::now() + PATIENCE),
        };
        let total = count_locally_then_sum(
            n_threads,
            increments,
            |_| {},
            || {
                log.created.fetch_add(1, Ordering::Relaxed);
                WatchedTally {
                    log: &log,
                    owner: None,
                    count: 0,
                }
            },
        );
        let created = log.created.load(Ordering::Relaxed);
        assert_eq!(
            created, n_threads,
            "count_locally_then_sum with {n_threads} threads called new_tally() {created} times. Hint: call new_tally() once in each thread, before its loop"
        );
        let added = log.added.load(Ordering::Relaxed);
        assert_eq!(
            added, expected,
            "count_locally_then_sum with {n_threads} threads × {increments} increments added {added} to the tallies. Hint: count every increment with tally.add_one(), not in a shared counter (that would be fix 2 again)"
        );
        assert!(
            !log.written_by_two_threads.load(Ordering::Relaxed),
            "count_locally_then_sum: one tally was written by two threads, so the threads share it. Hint: each thread makes its own tally with new_tally() and is the only one to touch it"
        );
        assert!(
            log.meeting.everyone_met(),
            "count_locally_then_sum: the {n_threads} tallies were never written at the same time: they sit behind one shared lock, or the threads take turns. Hint: no Mutex around the tallies; each thread owns its tally outright (a local variable in its closure) and returns its total"
        );
        assert_eq!(
            total, expected,
            "count_locally_then_sum returned {total}, but its tallies counted {expected}. Hint: return the sum of tally.total() over all threads, after joining them"
        );
    }
}

/// What the shared counter held when a thread was about to make one of its increments, when
/// that was less than the thread's own earlier increments: (thread, increment, counter).
type Behind = Mutex<Option<(usize, u64, u64)>>;

/// Called from `event(thread)`: this thread's `made`-th call, so it has made `made - 1`
/// increments, and the shared counter (read by `read`, None when it cannot be read now) must
/// already hold at least that many.
fn note_if_behind(behind: &Behind, thread: usize, made: u64, read: impl FnOnce() -> Option<u64>) {
    if let Some(value) = read()
        && value < made - 1
    {
        behind.lock().unwrap().get_or_insert((thread, made, value));
    }
}

#[test]
#[ignore = "homework: run cargo homework 03"]
fn every_increment_goes_into_the_shared_counter_as_it_happens() {
    let (n_threads, increments) = (4, 20_000);
    let hint = "each increment must reach the shared counter at once (lock, add 1, unlock; or one \
                fetch_add); a thread that counts privately and adds its total at the end is fix 3, \
                count_locally_then_sum, not this one";
    // The mutex version: the counter is read with try_lock, so that a thread that holds the lock
    // while calling event (which another check forbids) cannot deadlock this one.
    let counter = Mutex::new(0u64);
    let calls: Vec<AtomicU64> = (0..n_threads).map(|_| AtomicU64::new(0)).collect();
    let behind: Behind = Mutex::new(None);
    count_with_mutex(&counter, n_threads, increments, |thread| {
        let Some(calls) = calls.get(thread) else { return };
        // Relaxed: each thread counts its own calls; read back only by itself.
        let made = calls.fetch_add(1, Ordering::Relaxed) + 1;
        if made > 1 && made % 64 == 2 {
            note_if_behind(&behind, thread, made, || counter.try_lock().ok().map(|value| *value));
        }
    });
    if let Some((thread, made, value)) = *behind.lock().unwrap() {
        panic!(
            "count_with_mutex: when thread {thread} was about to make increment {made}, the shared counter held \
             {value}, not even its own {} earlier increments. Hint: {hint}",
            made - 1
        );
    }
    // The fetch_add version: a thread always sees its own earlier writes to one atomic.
    let counter = AtomicU64::new(0);
    let calls: Vec<AtomicU64> = (0..n_threads).map(|_| AtomicU64::new(0)).collect();
    let behind: Behind = Mutex::new(None);
    count_with_fetch_add(&counter, n_threads, increments, |thread| {
        let Some(calls) = calls.get(thread) else { return };
        let made = calls.fetch_add(1, Ordering::Relaxed) + 1;
        if made > 1 {
            note_if_behind(&behind, thread, made, || Some(counter.load(Ordering::Relaxed)));
        }
    });
    if let Some((thread, made, value)) = *behind.lock().unwrap() {
        panic!(
            "count_with_fetch_add: when thread {thread} was about to make increment {made}, the shared counter \
             held {value}, not even its own {} earlier increments. Hint: {hint}",
            made - 1
        );
    }
}
