//! Exercise: make the GIL fair
//!
//! Lesson 04's GIL is passed on so that no thread can starve. Here is a smaller GIL for you to
//! finish, with its switch interval counted in bytecode steps instead of milliseconds (so the
//! checks can count instead of time). A thread calls `acquire` to get the GIL, calls
//! `before_step` on what it got before each bytecode step, and lets go by dropping it.
//! Complete the three functions that `todo!` so that:
//! - one thread at a time holds the GIL;
//! - first come, first served: a thread that calls `acquire` takes the next ticket
//!   (`next_ticket`), and the GIL goes to the tickets in order (`now_serving`). When the holder
//!   lets go, the GIL belongs to the next ticket at once: the thread that let go cannot grab it
//!   back ahead of the threads in line;
//! - the switch interval: `before_step` counts the steps the holder runs while another thread
//!   is waiting (`steps_while_others_wait`: at each step boundary, the step about to run counts
//!   if someone is waiting). At the first boundary after `switch_interval` counted steps, the
//!   holder hands the GIL to the next ticket, joins the back of the line with a new ticket, and
//!   waits for its turn before it returns; the step it then runs is the first of its new turn.
//!   With nobody waiting, the holder keeps the GIL as long as it likes.
//!
//! Lock `state` for every look at the tickets. Check your work with `cargo homework 04`;
//! stuck, `cargo homework hint 04` gives a hint, one step at a time.
#![allow(unused_variables, dead_code)] // until the stubs below are filled in

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
        todo!("take the next ticket, then wait on turn_changed while now_serving is not your ticket")
    }

    /// Ends the holder's turn: the GIL belongs to the next ticket from now on.
    fn release(&self) {
        todo!("move now_serving on to the next ticket, start a fresh step count, and notify_all")
    }
}

impl Held<'_> {
    /// The step boundary: call before each step. Hands the GIL over when another thread has
    /// waited through `switch_interval` of this holder's steps, and returns once this thread
    /// holds it again. Returns true when the GIL changed hands.
    pub fn before_step(&mut self) -> bool {
        todo!(
            "if someone waits and switch_interval steps are counted: hand over, take a new ticket, wait for it; then, if someone waits, count the step about to run"
        )
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.gil.release();
    }
}
