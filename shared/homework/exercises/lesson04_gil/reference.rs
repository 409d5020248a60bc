//! Exercise: make the GIL fair
//!
//! The reference solution.

use std::sync::{Condvar, Mutex, MutexGuard};

/// A GIL: one lock that a thread must hold to run a bytecode step, handed out by ticket.
#[derive(Debug)]
pub struct Gil {
    /// How many steps the holder may run while another thread waits, before it lets go.
    switch_interval: u64,
    state: Mutex<GilState>,
    /// Notified whenever `now_serving` changes: the GIL has a new owner.
    turn_changed: Condvar,
}

/// Everything about the GIL that changes, behind one mutex.
#[derive(Debug, Default)]
struct GilState {
    /// The ticket that the next thread to ask for the GIL takes.
    next_ticket: u64,
    /// The ticket whose owner holds the GIL (when it equals `next_ticket`, nobody does).
    now_serving: u64,
    /// Steps that the holder has run in its current turn while another thread was waiting.
    steps_while_others_wait: u64,
}

impl GilState {
    /// Threads in line for the GIL, the holder not included.
    fn waiting(&self) -> u64 {
        self.next_ticket.saturating_sub(self.now_serving + 1)
    }

    /// The current turn is over: the next ticket's owner holds the GIL from now on. The
    /// caller notifies `turn_changed`.
    fn next_turn(&mut self) {
        self.now_serving += 1;
        self.steps_while_others_wait = 0;
    }

    fn take_ticket(&mut self) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        ticket
    }
}

/// The GIL, held by the thread that got it from `acquire`. Dropping it lets go.
#[derive(Debug)]
pub struct Held<'a> {
    gil: &'a Gil,
}

impl Gil {
    /// A GIL whose holder lets go after `switch_interval` steps (at least 1) while others wait.
    pub fn new(switch_interval: u64) -> Self {
        Gil {
            switch_interval: switch_interval.max(1),
            state: Mutex::new(GilState::default()),
            turn_changed: Condvar::new(),
        }
    }

    /// Threads in line for the GIL right now, the holder not included.
    pub fn waiting(&self) -> u64 {
        self.state().waiting()
    }

    fn state(&self) -> MutexGuard<'_, GilState> {
        // The state is only ever changed by whole statements that cannot panic halfway, so a
        // lock poisoned by a panic elsewhere still guards consistent numbers.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes a ticket and waits until it is served: from then on, this thread holds the GIL.
    pub fn acquire(&self) -> Held<'_> {
        let mut state = self.state();
        let ticket = state.take_ticket();
        drop(self.wait_for_turn(state, ticket));
        Held { gil: self }
    }

    /// Sleeps on `turn_changed` until `ticket` is served. A `while`, not an `if`: every change
    /// of turn wakes every waiter, and all but one of them must go back to sleep.
    fn wait_for_turn<'a>(&'a self, mut state: MutexGuard<'a, GilState>, ticket: u64) -> MutexGuard<'a, GilState> {
        while state.now_serving != ticket {
            state = self
                .turn_changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        state
    }

    /// Ends the holder's turn: the GIL belongs to the next ticket from now on.
    fn release(&self) {
        self.state().next_turn();
        // The one thread whose ticket is next cannot be woken by name: wake them all, and
        // the others go back to sleep in `wait_for_turn`.
        self.turn_changed.notify_all();
    }
}

impl Held<'_> {
    /// The step boundary: call before each step. Hands the GIL over when another thread has
    /// waited through `switch_interval` of this holder's steps, and returns once this thread
    /// holds it again. Returns true when the GIL changed hands.
    pub fn before_step(&mut self) -> bool {
        let gil = self.gil;
        let mut state = gil.state();
        let mut handed_over = false;
        if state.waiting() > 0 && state.steps_while_others_wait >= gil.switch_interval {
            // A forced switch. The GIL goes to the next ticket *before* this thread queues
            // again, and both happen under one lock, so the thread that lets go cannot take it
            // back ahead of anyone already in line: every waiter gets its turn after at most
            // one turn of each thread ahead of it, and no thread starves.
            state.next_turn();
            let ticket = state.take_ticket();
            gil.turn_changed.notify_all();
            state = gil.wait_for_turn(state, ticket);
            handed_over = true;
        }
        // The step about to run counts if someone waits for it to end, in a fresh turn too.
        if state.waiting() > 0 {
            state.steps_while_others_wait += 1;
        }
        handed_over
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.gil.release();
    }
}
