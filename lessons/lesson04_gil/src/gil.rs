//! The global interpreter lock: one lock that a thread must hold to run bytecode.
//!
//! It follows the two rules of `schedule.rs`. **Fairness**: a thread that wants the GIL takes
//! a ticket and the GIL goes to the tickets in order; on release the GIL belongs to the next
//! ticket at once (a forced switch: the thread that let go cannot take it back ahead of the
//! waiters), so every waiter is served after at most one turn of each thread ahead of it and
//! none can starve. **Switch interval**: the first waiter in line waits one switch interval,
//! then sets the drop request; the holder sees it between two bytecode steps and lets go.
//! A thread about to block (sleep, read a socket) lets go without being asked.
//!
//! With [`Gil::disabled`] every call does nothing: the interpreter then runs free-threaded, as
//! CPython 3.13's `--disable-gil` build does.

use crate::schedule::{Span, Tickets, should_ask_to_drop};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The lock, its queue and what it counted.
#[derive(Debug)]
pub struct Gil {
    enabled: bool,
    switch_interval: Duration,
    state: Mutex<State>,
    /// Signalled whenever the GIL changes hands.
    turn_changed: Condvar,
    /// CPython's `gil_drop_request`: set by the first waiter after a switch interval, read by
    /// the holder between steps.
    drop_request: AtomicBool,
    started: Instant,
    record_spans: bool,
}

#[derive(Debug, Default)]
struct State {
    tickets: Tickets,
    /// The thread holding the GIL now, since when.
    holder: Option<(usize, Instant)>,
    last_holder: Option<usize>,
    stats: GilStats,
    spans: Vec<Span>,
}

/// What the GIL counted over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct GilStats {
    /// Times a thread took the GIL.
    pub acquisitions: u64,
    /// Hand-overs from one thread to a different one.
    pub switches: u64,
    /// Times a waiter asked the holder to let go.
    pub drop_requests: u64,
    /// Times a holder let go because it was asked.
    pub forced_releases: u64,
    /// The most turns any thread had to wait for, when it asked (bounded waiting: never more
    /// than the number of other threads).
    pub most_turns_waited: u64,
    /// The longest any thread waited for the GIL, in seconds.
    pub longest_wait_s: f64,
}

/// One thread's turns: how often it held the GIL and how long it waited for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TurnStats {
    pub turns: u64,
    /// The most turns of other threads it waited through before one of its own.
    pub most_turns_waited: u64,
    /// Its longest wait for the GIL, in seconds.
    pub longest_wait_s: f64,
}

impl Gil {
    /// A GIL whose first waiter asks for it after `switch_interval`.
    pub fn new(switch_interval: Duration) -> Self {
        Gil {
            enabled: true,
            switch_interval,
            state: Mutex::new(State::default()),
            turn_changed: Condvar::new(),
            drop_request: AtomicBool::new(false),
            started: Instant::now(),
            record_spans: false,
        }
    }

    /// No GIL at all: threads run their steps whenever the OS runs them.
    pub fn disabled() -> Self {
        Gil {
            enabled: false,
            ..Gil::new(Duration::ZERO)
        }
    }

    /// Also keeps every turn (who held the GIL from when to when), to draw a timeline.
    pub fn recording_turns(mut self) -> Self {
        self.record_spans = true;
        self
    }

    pub fn stats(&self) -> GilStats {
        self.lock_state().stats
    }

    /// Every turn so far, when recording.
    pub fn spans(&self) -> Vec<Span> {
        self.lock_state().spans.clone()
    }

    /// Waits for the GIL as interpreter thread `thread`; it is released when the guard drops.
    pub fn acquire(&self, thread: usize) -> Held<'_> {
        let mut held = Held {
            gil: self,
            thread,
            turns: TurnStats::default(),
        };
        held.take();
        held
    }

    /// Threads waiting for the GIL right now (the holder not included).
    #[cfg(test)]
    pub fn waiting(&self) -> u64 {
        self.lock_state().tickets.waiting()
    }

    fn lock_state(&self) -> MutexGuard<'_, State> {
        // No code panics while holding this lock; if one did, the counts would still be whole.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues for the GIL and waits for this ticket's turn; returns (turns waited, time waited).
    fn take(&self, thread: usize) -> (u64, Duration) {
        let asked_at = Instant::now();
        let mut state = self.lock_state();
        let ticket = state.tickets.take();
        let turns_ahead = state.tickets.turns_before(ticket);
        // While first in line: during whose turn, and since when (a hand-over restarts the clock).
        let mut front: Option<(u64, Duration)> = None;
        while !state.tickets.is_turn_of(ticket) {
            if !state.tickets.is_next(ticket) {
                state = self.turn_changed.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // First in line: the clock runs from when we got here or from the last hand-over.
            let serving = state.tickets.now_serving();
            let front_since = match front {
                Some((turn, since)) if turn == serving => since,
                _ => {
                    let now = self.started.elapsed();
                    front = Some((serving, now));
                    now
                }
            };
            let now = self.started.elapsed();
            if should_ask_to_drop(front_since, now, self.switch_interval) {
                // Relaxed: the flag only tells the holder to come to the lock; everything
                // handed over with the GIL is ordered by the mutex in `give` and here.
                if !self.drop_request.swap(true, Ordering::Relaxed) {
                    state.stats.drop_requests += 1;
                }
                // Wait for the hand-over, but look again after another interval: a new holder
                // that was slow to wake may have cleared a request meant for the next turn.
                state = self
                    .turn_changed
                    .wait_timeout(state, self.switch_interval)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            } else {
                let left = (front_since + self.switch_interval).saturating_sub(now);
                state = self
                    .turn_changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        // Our turn. A drop request made for us has been served; one made later starts afresh.
        // Relaxed, as for every use of the flag: the mutex we hold orders the hand-over.
        self.drop_request.store(false, Ordering::Relaxed);
        let waited = asked_at.elapsed();
        let switched = state.last_holder.is_some_and(|last| last != thread);
        let stats = &mut state.stats;
        stats.acquisitions += 1;
        stats.switches += u64::from(switched);
        stats.most_turns_waited = stats.most_turns_waited.max(turns_ahead);
        stats.longest_wait_s = stats.longest_wait_s.max(waited.as_secs_f64());
        state.holder = Some((thread, Instant::now()));
        (turns_ahead, waited)
    }

    /// Ends the current turn: the next ticket's owner holds the GIL from now on.
    fn give(&self, thread: usize, forced: bool) {
        let mut state = self.lock_state();
        if let Some((holder, since)) = state.holder.take() {
            debug_assert_eq!(holder, thread, "only the holder releases the GIL");
            if self.record_spans {
                let span = Span {
                    thread,
                    start: since.duration_since(self.started),
                    end: self.started.elapsed(),
                };
                state.spans.push(span);
            }
        }
        state.last_holder = Some(thread);
        state.stats.forced_releases += u64::from(forced);
        state.tickets.next_turn();
        drop(state);
        self.turn_changed.notify_all();
    }
}

/// The GIL, held by one interpreter thread. Dropping it releases the GIL.
#[derive(Debug)]
pub struct Held<'a> {
    gil: &'a Gil,
    thread: usize,
    turns: TurnStats,
}

impl Held<'_> {
    fn take(&mut self) {
        if !self.gil.enabled {
            return;
        }
        let (turns_ahead, waited) = self.gil.take(self.thread);
        self.turns.turns += 1;
        self.turns.most_turns_waited = self.turns.most_turns_waited.max(turns_ahead);
        self.turns.longest_wait_s = self.turns.longest_wait_s.max(waited.as_secs_f64());
    }

    /// Between two steps: if a waiter asked for the GIL, let go and queue again behind it.
    /// Returns true when the GIL changed hands.
    pub fn check_drop_request(&mut self) -> bool {
        // Relaxed: a stale `false` only delays the hand-over to the next step boundary.
        if !self.gil.enabled || !self.gil.drop_request.load(Ordering::Relaxed) {
            return false;
        }
        self.gil.give(self.thread, true);
        self.take();
        true
    }

    /// Runs a blocking call with the GIL released, then takes the GIL back.
    pub fn release_around<T>(&mut self, blocking: impl FnOnce() -> T) -> T {
        if self.gil.enabled {
            self.gil.give(self.thread, false);
        }
        let result = blocking();
        self.take();
        result
    }

    /// This thread's turns so far.
    pub fn turns(&self) -> TurnStats {
        self.turns
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        if self.gil.enabled {
            self.gil.give(self.thread, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::{Interpreter, Op, checksum_of};
    use std::sync::atomic::AtomicU64;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn steps_never_overlap_under_the_gil() {
        let interpreter = Interpreter::new(Gil::new(MS));
        let reports: Vec<_> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..4)
                .map(|thread| {
                    let interpreter = &interpreter;
                    scope.spawn(move || {
                        let program = [Op::compute(thread as u64 * 300, 300)];
                        interpreter.run_thread(thread, &program)
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        assert_eq!(interpreter.overlapping_steps(), 0);
        for report in &reports {
            assert_eq!(report.steps, 300);
        }
        let checksum = reports.iter().fold(0u64, |sum, r| sum.wrapping_add(r.checksum));
        assert_eq!(checksum, checksum_of(0, 1200));
        let stats = interpreter.gil().stats();
        // Bounded waiting: nobody waited for more turns than there are other threads.
        assert!(stats.most_turns_waited <= 3, "{stats:?}");
        assert!(reports.iter().all(|r| r.turns.most_turns_waited <= 3));
    }

    #[test]
    fn a_cpu_bound_holder_cannot_starve_a_waiter() {
        // A computes until B has run one step; B needs the GIL for that. Without the drop
        // request, A would compute all its steps first.
        let interpreter = Interpreter::new(Gil::new(MS));
        let b_has_run = AtomicBool::new(false);
        let a_steps = AtomicU64::new(0);
        std::thread::scope(|scope| {
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
        std::thread::scope(|scope| {
            let held = gil.acquire(0);
            for thread in 1..=3 {
                let (gil, order) = (&gil, &order);
                scope.spawn(move || {
                    let _held = gil.acquire(thread);
                    order.lock().unwrap().push(thread);
                });
                // Let this thread queue before the next one comes.
                while gil.waiting() < thread as u64 {
                    std::thread::yield_now();
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
        std::thread::scope(|scope| {
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
    fn turns_are_recorded_when_asked() {
        let gil = Gil::new(MS).recording_turns();
        drop(gil.acquire(0));
        drop(gil.acquire(1));
        let spans = gil.spans();
        assert_eq!(spans.iter().map(|s| s.thread).collect::<Vec<_>>(), vec![0, 1]);
        assert!(spans[0].end <= spans[1].start);
    }
}
