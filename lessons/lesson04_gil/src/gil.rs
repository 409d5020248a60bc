//! A global interpreter lock (GIL): one lock that a thread must hold to run bytecode.
//!
//! CPython keeps its objects consistent with one lock instead of a lock per object. This file
//! builds one and uses it, in lecture order:
//!
//! 1. **The lock**, first come, first served: a thread that finds the GIL free takes it;
//!    otherwise it takes a ticket and waits in line.
//! 2. **The switch interval**: the first in line asks the holder to let go after a whole
//!    interval of its waiting in which the GIL did not change hands; between two steps the
//!    holder hands it to the first in line (CPython's forced switching) and queues again.
//! 3. **Waiting on I/O**: a thread about to block drops the GIL (`release_around`); the first in
//!    line takes it once awake, unless the thread is back from a short call first (as in CPython).
//! 4. **CPU-bound threads with and without it**, one signature, and **a process**, which has
//!    an interpreter, and so a GIL, of its own.
//!
//! Harness: the interpreter (`interpreter.rs`), the model (`schedule.rs`), counts (`turns.rs`).

use crate::interpreter::{Interpreter, Op, Ran, run_threads};
use crate::turns::Record;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The lock and its line. [`Gil::disabled`] makes every call do nothing: a free-threaded
/// interpreter, as CPython 3.13's `--disable-gil` build.
#[derive(Default)]
pub struct Gil {
    enabled: bool,
    switch_interval: Duration,
    state: Mutex<State>,
    /// Signalled whenever the GIL is let go and whenever the line moves.
    turn_changed: Condvar,
    /// CPython's `gil_drop_request`: set by the first waiter, read by the holder between steps.
    drop_request: AtomicBool,
}

/// The GIL (held or free, who held it last), and its line: a ticket dispenser, the first in line.
#[derive(Default)]
struct State {
    holder: Option<usize>,
    last_holder: Option<usize>,
    /// Handed to the first thread in line (rule 2): nobody else may take it.
    handed_over: bool,
    next_ticket: u64,
    first_in_line: u64,
    /// When the GIL last went to another thread (CPython's `switch_number` changing).
    last_switch: Option<Instant>,
    /// What the GIL counted (turns, waits, hand-overs): harness, see `turns.rs`.
    record: Record,
}

impl Gil {
    /// A GIL whose first waiter asks for it after `switch_interval`.
    pub fn new(switch_interval: Duration) -> Self {
        Gil {
            enabled: true,
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
        self.take(thread, None);
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

    /// Rule 1: takes the GIL if it is free and nobody waits (or we let it go and nobody took it
    /// since); otherwise waits in line for it, and asks for it once first in line (rule 2).
    fn take(&self, thread: usize, locked: Option<MutexGuard<'_, State>>) {
        if !self.enabled {
            return;
        }
        let asked_at = Instant::now();
        // Rule 2's clock starts now, or for a holder made to let go, once the next one took over.
        let mut clock = locked.is_none().then_some(asked_at);
        let mut state = locked.unwrap_or_else(|| self.state());
        // Turns we wait through: the one in progress, and each that starts.
        let (switches, in_progress) = (state.record.stats.switches, u64::from(state.holder.is_some()));
        let free = state.holder.is_none() && !state.handed_over;
        if !(free && (state.first_in_line == state.next_ticket || state.last_holder == Some(thread))) {
            let ticket = state.next_ticket; // take a ticket
            state.next_ticket += 1;
            while !(state.first_in_line == ticket && state.holder.is_none()) {
                let switched = state.last_switch.filter(|at| *at > asked_at);
                clock = clock.or(switched);
                if ticket != state.first_in_line || clock.is_none() {
                    state = self.turn_changed.wait(state).unwrap_or_else(|e| e.into_inner());
                    continue; // not first in line: wait for the line to move
                }
                // Rule 2: whole intervals of our clock, but not one in which the GIL changed hands.
                let (start, now, interval) = (clock.unwrap_or(asked_at), Instant::now(), self.switch_interval);
                let whole = ((now - start).as_nanos() / interval.as_nanos()) as u32;
                let quiet = whole > 0 && switched.is_none_or(|at| at <= start + interval * (whole - 1));
                let mut timeout = (start + interval * (whole + 1)).saturating_duration_since(now);
                if quiet {
                    // Ask the holder to let go (Relaxed: the GIL is handed over under the mutex).
                    if !self.drop_request.swap(true, Ordering::Relaxed) {
                        state.record.asked_to_drop();
                    }
                    timeout = self.switch_interval; // a new holder slow to wake may clear it
                }
                let woken = self.turn_changed.wait_timeout(state, timeout);
                state = woken.unwrap_or_else(|e| e.into_inner()).0;
            }
            state.first_in_line += 1; // the line moves: the next thread is first now
            state.handed_over = false;
            self.turn_changed.notify_all();
        }
        state.holder = Some(thread); // ours: a drop request made for us has been served
        self.drop_request.store(false, Ordering::Relaxed);
        let waited = state.record.stats.switches - switches + in_progress;
        state.record.took(thread, waited, asked_at.elapsed());
        if state.last_holder.is_some_and(|last| last != thread) {
            state.last_switch = Some(Instant::now());
        }
    }

    /// Ends the current turn. Asked to let go (`forced`, or a request pending), the holder
    /// hands the GIL to the first in line (rule 2); otherwise it drops it (rule 3).
    fn give(&self, thread: usize, forced: bool) -> Option<MutexGuard<'_, State>> {
        if !self.enabled {
            return None;
        }
        let mut state = self.state();
        state.record.gave(thread, forced);
        (state.holder, state.last_holder) = (None, Some(thread));
        let asked = forced || self.drop_request.load(Ordering::Relaxed);
        state.handed_over = asked && state.first_in_line < state.next_ticket; // ← a hand-over
        self.turn_changed.notify_all();
        Some(state)
    }
}

/// The GIL, held by interpreter thread `thread`. Dropping it releases the GIL.
pub struct Held<'a> {
    gil: &'a Gil,
    thread: usize,
}

impl Held<'_> {
    /// Between two steps: if a waiter asked for the GIL, hand it over and queue again behind it
    /// (Relaxed: a stale `false` only delays the hand-over to the next step boundary).
    pub fn check_drop_request(&mut self) {
        if self.gil.drop_request.load(Ordering::Relaxed) {
            let state = self.gil.give(self.thread, true);
            self.gil.take(self.thread, state); // ← in line before anyone can drop the GIL again
        }
    }

    /// Rule 3: runs a blocking call (a sleep, a socket read) with the GIL released, then takes
    /// the GIL back, as CPython's `Py_BEGIN_ALLOW_THREADS` ... `Py_END_ALLOW_THREADS`.
    pub fn release_around<T>(&mut self, blocking: impl FnOnce() -> T) -> T {
        drop(self.gil.give(self.thread, false));
        let result = blocking();
        self.gil.take(self.thread, None);
        result
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        drop(self.gil.give(self.thread, false));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::checksum_of;
    use std::sync::atomic::AtomicU64;
    use std::thread;

    const MS: Duration = Duration::from_millis(1);

    impl Gil {
        /// Threads waiting for the GIL right now (the holder not included).
        fn waiting(&self) -> u64 {
            let state = self.state();
            state.next_ticket - state.first_in_line
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
