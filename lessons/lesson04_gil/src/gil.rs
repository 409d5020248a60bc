//! A global interpreter lock (GIL): one lock that a thread must hold to run bytecode.
//!
//! CPython keeps its objects consistent with one lock instead of a lock per object. This file
//! builds one and uses it, in lecture order:
//!
//! 1. **The lock**, first come, first served: a thread that wants it takes a ticket, and a
//!    thread that lets go hands it straight to the next ticket, so no thread starves.
//! 2. **The switch interval**: the first waiter in line waits one interval, then asks the
//!    holder to drop the GIL; the holder looks between two bytecode steps and lets go.
//! 3. **Waiting on I/O**: a thread about to block drops the GIL on its own (`release_around`).
//! 4. **CPU-bound threads with and without it**, one signature, and **a process**, which has
//!    an interpreter, and so a GIL, of its own.
//!
//! The interpreter that runs the steps (`interpreter.rs`), the model that predicts who holds
//! the GIL when (`schedule.rs`) and the bookkeeping of turns (`turns.rs`) are harness.

use crate::interpreter::{Interpreter, Op, ThreadReport};
use crate::turns::Record;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

/// The lock and its line. [`Gil::disabled`] makes every call do nothing: a free-threaded
/// interpreter, as CPython 3.13's `--disable-gil` build.
#[derive(Default)]
pub struct Gil {
    enabled: bool,
    switch_interval: Duration,
    state: Mutex<State>,
    /// Signalled whenever the GIL changes hands.
    turn_changed: Condvar,
    /// CPython's `gil_drop_request`: set by the first waiter, read by the holder between steps.
    drop_request: AtomicBool,
}

/// Rule 1, first come, first served: a ticket dispenser and a "now serving" sign.
#[derive(Default)]
struct State {
    next_ticket: u64,
    now_serving: u64,
    last_hand_over: Option<Instant>,
    /// What the GIL counted (turns, waits, hand-overs): harness, see `turns.rs`.
    record: Record,
}

impl Gil {
    /// A GIL whose first waiter asks for it after `switch_interval`.
    pub fn new(switch_interval: Duration) -> Self {
        let enabled = true;
        Gil {
            enabled,
            switch_interval,
            ..Gil::default()
        }
    }

    /// No GIL at all: threads run their steps whenever the OS runs them.
    pub fn disabled() -> Self {
        Gil::default()
    }

    /// Waits for the GIL as interpreter thread `thread`; it is released when the guard drops.
    pub fn acquire(&self, thread: usize) -> Held<'_> {
        self.take(thread);
        Held { gil: self, thread }
    }

    /// A copy of what the GIL counted so far.
    pub fn record(&self) -> Record {
        self.state().record.clone()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock; if one did, the counts would still be whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a ticket and waits for its turn (rule 1); first in line, asks after an interval.
    fn take(&self, thread: usize) {
        if !self.enabled {
            return;
        }
        let asked_at = Instant::now();
        let mut state = self.state();
        let ticket = state.next_ticket; // take a ticket
        state.next_ticket += 1;
        let turns_ahead = ticket - state.now_serving;
        while state.now_serving != ticket {
            if ticket != state.now_serving + 1 {
                state = self.turn_changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue; // not first in line: wait for the next hand-over
            }
            // Rule 2: first in line since we got here, or since the last hand-over.
            let since = state.last_hand_over.map_or(asked_at, |at| at.max(asked_at));
            let mut timeout = (since + self.switch_interval).saturating_duration_since(Instant::now());
            if timeout.is_zero() {
                // A whole interval: ask the holder to let go. Relaxed: the flag only calls the
                // holder to the lock; what is handed over with the GIL is ordered by the mutex.
                if !self.drop_request.swap(true, Ordering::Relaxed) {
                    state.record.asked_to_drop();
                }
                // Look again after an interval: a new holder slow to wake may clear the request.
                timeout = self.switch_interval;
            }
            let woken = self.turn_changed.wait_timeout(state, timeout);
            state = woken.unwrap_or_else(|e| e.into_inner()).0;
        }
        // Our turn. A drop request made for us has been served; one made later starts afresh.
        self.drop_request.store(false, Ordering::Relaxed);
        state.record.took(thread, turns_ahead, asked_at.elapsed());
    }

    /// Ends the current turn: the next ticket's owner holds the GIL from now on.
    fn give(&self, thread: usize, forced: bool) {
        if !self.enabled {
            return;
        }
        let mut state = self.state();
        state.record.gave(thread, forced);
        state.now_serving += 1; // ← a hand-over, not an unlock: a waiter cannot be overtaken
        state.last_hand_over = Some(Instant::now());
        drop(state);
        self.turn_changed.notify_all();
    }
}

/// The GIL, held by interpreter thread `thread`. Dropping it releases the GIL.
pub struct Held<'a> {
    gil: &'a Gil,
    thread: usize,
}

impl Held<'_> {
    /// Between two steps: if a waiter asked for the GIL, let go and queue again behind it.
    pub fn check_drop_request(&mut self) {
        // Relaxed: a stale `false` only delays the hand-over to the next step boundary.
        if self.gil.drop_request.load(Ordering::Relaxed) {
            self.gil.give(self.thread, true);
            self.gil.take(self.thread);
        }
    }

    /// Rule 3: runs a blocking call (a sleep, a socket read) with the GIL released, then takes
    /// the GIL back, as CPython's `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`.
    pub fn release_around<T>(&mut self, blocking: impl FnOnce() -> T) -> T {
        self.gil.give(self.thread, false);
        let result = blocking();
        self.gil.take(self.thread);
        result
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.gil.give(self.thread, false);
    }
}

/// CPU-bound threads under one GIL: thread `i` runs `programs[i]`; they take turns.
pub fn threads_with_gil(programs: &[Vec<Op>], switch_interval: Duration) -> io::Result<Ran> {
    run_threads(Interpreter::new(Gil::new(switch_interval)), programs)
}

/// The same threads on an interpreter without a GIL: they run at the same time.
pub fn threads_without_gil(programs: &[Vec<Op>], _switch_interval: Duration) -> io::Result<Ran> {
    run_threads(Interpreter::new(Gil::disabled()), programs) // ← the only change: no GIL
}

/// What each worker process runs: an interpreter of its own, and so a GIL of its own, which
/// no other process waits for. (`processes.rs` forks the processes and collects the answers.)
pub fn in_own_process(program: &[Op], switch_interval: Duration) -> Ran {
    let interpreter = Interpreter::new(Gil::new(switch_interval)); // ← a GIL per process
    let threads = vec![interpreter.run_thread(0, program)];
    Ran { threads, interpreter }
}

/// An interpreter after its threads ran: each thread's report, and the interpreter's counts.
pub struct Ran {
    pub threads: Vec<ThreadReport>,
    pub interpreter: Interpreter,
}

/// Runs `programs[i]` on thread `i` of `interpreter`. A thread the machine refuses is an
/// error (the threads already started finish first); a thread's panic is passed on.
pub fn run_threads(interpreter: Interpreter, programs: &[Vec<Op>]) -> io::Result<Ran> {
    let threads = thread::scope(|scope| {
        let mut workers = Vec::with_capacity(programs.len());
        for (thread, program) in programs.iter().enumerate() {
            let interpreter = &interpreter;
            workers.push(thread::Builder::new().spawn_scoped(scope, move || interpreter.run_thread(thread, program))?);
        }
        let joined = workers.into_iter().map(|worker| worker.join());
        let reports = joined.map(|report| report.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        io::Result::Ok(reports.collect())
    })?;
    Ok(Ran { threads, interpreter })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::checksum_of;
    use std::sync::atomic::AtomicU64;

    const MS: Duration = Duration::from_millis(1);

    impl Gil {
        /// Threads waiting for the GIL right now (the holder not included).
        fn waiting(&self) -> u64 {
            let state = self.state();
            state.next_ticket.saturating_sub(state.now_serving + 1)
        }
    }

    fn shares(n_threads: u64, steps: u64) -> Vec<Vec<Op>> {
        (0..n_threads).map(|i| vec![Op::compute(i * steps, steps)]).collect()
    }

    #[test]
    fn steps_never_overlap_under_the_gil() {
        let ran = threads_with_gil(&shares(4, 300), MS).unwrap();
        assert_eq!(ran.interpreter.overlapping_steps(), 0);
        assert!(ran.threads.iter().all(|report| report.steps == 300));
        let checksum = ran.threads.iter().fold(0u64, |sum, r| sum.wrapping_add(r.checksum));
        assert_eq!(checksum, checksum_of(0, 1200));
        // Bounded waiting: nobody waited for more turns than there are other threads.
        let stats = ran.interpreter.gil().stats();
        assert!(stats.most_turns_waited <= 3, "{stats:?}");
        assert!(ran.threads.iter().all(|r| r.turns.most_turns_waited <= 3));
    }

    #[test]
    fn every_version_computes_the_same_answer() {
        let sum = |ran: &Ran| ran.threads.iter().fold(0u64, |sum, r| sum.wrapping_add(r.checksum));
        let with_gil = threads_with_gil(&shares(3, 200), MS).unwrap();
        let without = threads_without_gil(&shares(3, 200), MS).unwrap();
        let alone = in_own_process(&[Op::compute(0, 600)], MS);
        assert_eq!(sum(&with_gil), checksum_of(0, 600));
        assert_eq!(sum(&without), checksum_of(0, 600));
        assert_eq!(sum(&alone), checksum_of(0, 600));
        assert_eq!(
            without.interpreter.gil().stats().acquisitions,
            0,
            "no GIL, nothing taken"
        );
    }

    #[test]
    fn a_cpu_bound_holder_cannot_starve_a_waiter() {
        // A computes until B has run one step; B needs the GIL for that. Without the drop
        // request, A would compute all its steps first.
        let interpreter = Interpreter::new(Gil::new(MS));
        let b_has_run = AtomicBool::new(false);
        let a_steps = AtomicU64::new(0);
        thread::scope(|scope| {
            let mut held = interpreter.gil().acquire(0);
            scope.spawn(|| {
                let mut held = interpreter.gil().acquire(1);
                interpreter.step(&mut held, 0);
                b_has_run.store(true, Ordering::SeqCst);
            });
            let mut index = 0;
            while !b_has_run.load(Ordering::SeqCst) && index < 1_000_000 {
                interpreter.step(&mut held, index);
                index += 1;
            }
            a_steps.store(index, Ordering::SeqCst);
        });
        assert!(b_has_run.load(Ordering::SeqCst));
        assert!(a_steps.load(Ordering::SeqCst) < 1_000_000);
        let stats = interpreter.gil().stats();
        assert!(stats.drop_requests >= 1 && stats.forced_releases >= 1, "{stats:?}");
    }

    #[test]
    fn waiters_are_served_in_the_order_they_came() {
        let gil = Gil::new(Duration::from_secs(60));
        let order = Mutex::new(Vec::new());
        thread::scope(|scope| {
            let held = gil.acquire(0);
            for thread in 1..=3 {
                let (gil, order) = (&gil, &order);
                scope.spawn(move || {
                    let _held = gil.acquire(thread);
                    order.lock().unwrap().push(thread);
                });
                // Let this thread queue before the next one comes.
                while gil.waiting() < thread as u64 {
                    thread::yield_now();
                }
            }
            drop(held);
        });
        assert_eq!(*order.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!(gil.stats().most_turns_waited, 3);
    }

    #[test]
    fn blocking_releases_the_gil() {
        let gil = Gil::new(Duration::from_secs(60));
        let other_ran = AtomicBool::new(false);
        thread::scope(|scope| {
            let mut held = gil.acquire(0);
            held.release_around(|| {
                // With the GIL released, another thread can take it and finish.
                scope
                    .spawn(|| {
                        let _held = gil.acquire(1);
                        other_ran.store(true, Ordering::SeqCst);
                    })
                    .join()
                    .unwrap();
            });
            assert!(other_ran.load(Ordering::SeqCst));
        });
        assert_eq!(gil.stats().acquisitions, 3);
        assert_eq!(gil.stats().drop_requests, 0);
    }

    #[test]
    fn turns_are_recorded() {
        let gil = Gil::new(MS);
        drop(gil.acquire(0));
        drop(gil.acquire(1));
        let spans = gil.spans();
        assert_eq!(spans.iter().map(|s| s.thread).collect::<Vec<_>>(), vec![0, 1]);
        assert!(spans[0].end <= spans[1].start);
    }
}
