//! Starting children so that Ctrl-C never misses one.
//!
//! `course::children` records each child just after `fork` returns in the parent, and its
//! Ctrl-C handler kills and reaps every recorded child. A Ctrl-C that landed between the two
//! would find the new child unrecorded: the child would die with its parent (it asks the kernel
//! for that) but be left for PID 1 to reap, which some machines never do. So the parent holds
//! Ctrl-C (and SIGTERM, SIGHUP) back for those few microseconds: a signal that arrives
//! meanwhile is delivered as soon as the child is recorded, and the usual clean-up runs.

use anyhow::Context;
use course::children;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, pthread_sigmask};
use nix::unistd::Pid;
use std::process::{Child, Command};

/// `course::children::fork`, with interrupts held back until the child is recorded.
pub fn fork(child: impl FnOnce() -> i32) -> anyhow::Result<Pid> {
    let _deferred = DeferInterrupts::new()?;
    children::fork(|| {
        // The child starts with its parent's signal mask: it lets interrupts through again.
        let _ = interrupt_signals().thread_unblock();
        child()
    })
}

/// `course::children::spawn`, with interrupts held back until the child is recorded. (The
/// standard library clears the signal mask in the child before it execs the program.)
pub fn spawn(command: &mut Command) -> anyhow::Result<Child> {
    let _deferred = DeferInterrupts::new()?;
    children::spawn(command)
}

/// The signals `course::children` cleans up on: Ctrl-C, `kill`, a closed terminal.
pub fn interrupt_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Holds interrupts back while it lives; dropping it restores the signal mask it found, and a
/// signal that arrived meanwhile is delivered then.
pub struct DeferInterrupts {
    previous: SigSet,
}

impl DeferInterrupts {
    pub fn new() -> anyhow::Result<Self> {
        let mut previous = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&interrupt_signals()), Some(&mut previous))
            .context("block signals")?;
        Ok(DeferInterrupts { previous })
    }
}

impl Drop for DeferInterrupts {
    fn drop(&mut self) {
        let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}
