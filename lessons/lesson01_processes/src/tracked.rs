//! The concept's `fork_child` and `reap` (`processes.rs`), with the course's bookkeeping around
//! them, as `course::children::fork` and `wait` keep it: fork only while single-threaded;
//! interrupts held back from the fork until the child is recorded; every child recorded until
//! it is reaped, so that Ctrl-C (or an error) kills and reaps it; in the child, the default
//! handling of Ctrl-C and death with its parent; a refused fork named with the limit in the way.

use crate::processes;
use anyhow::Context;
use course::children;
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, SigmaskHow, Signal};
use nix::sys::wait::WaitStatus;
use nix::unistd::{Pid, getpid, getppid};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Forks a child that runs `child` and exits with what it returns (101 if it panics), through
/// `processes::fork_child`; the child is recorded until [`reap`] reaps it.
pub fn fork(child: impl FnOnce() -> i32) -> anyhow::Result<Pid> {
    children::ensure_single_threaded()?;
    children::watch_interrupts();
    let mask = SigSet::thread_get_mask().context("read the signal mask")?;
    // An interrupt between the fork and the record would find the child unrecorded: hold it
    // back until the child is recorded (it is delivered then, and the clean-up sees the child).
    let held = children::DeferInterrupts::new()?;
    // Anything buffered would otherwise be printed twice: once by each process.
    let _ = std::io::stdout().flush();
    let parent = getpid();
    let forked = processes::fork_child(move || {
        become_child(parent, &mask);
        let code = catch_unwind(AssertUnwindSafe(child)).unwrap_or(101);
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        code
    });
    let pid = forked.map_err(|error| course::limits::process_refused("a child process (fork)", &error))?;
    let recorded = children::register(pid);
    drop(held);
    recorded.map(|()| pid)
}

/// Reaps child `pid` (`processes::reap`); once it has ended it is no longer recorded.
pub fn reap(pid: Pid) -> anyhow::Result<WaitStatus> {
    let status = processes::reap(pid).with_context(|| format!("waitpid({pid})"))?;
    if matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
        children::forget(pid);
    }
    Ok(status)
}

/// In a freshly forked child: Ctrl-C, `kill` and a closed terminal end it as they end any
/// program (not through the lesson's clean-up handler), it dies with its parent, and
/// interrupts reach it again.
fn become_child(parent: Pid, mask: &SigSet) {
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // Safety: restoring the default disposition installs no Rust code as a handler.
        let _ = unsafe { signal::sigaction(signal, &default) };
    }
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
        // The parent may have died before the line above: then nobody would ever send it.
        if getppid() != parent {
            processes::exit_now(1);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (parent, getppid);
    let _ = signal::pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(mask), None);
}
