//! Exercise: fork workers, collect their exit statuses, leave no zombie
//!
//! The reference solution.

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

/// Forks one child per worker, each running `work(i)` and exiting with what it returns; waits
/// for all of them; returns their exit statuses in worker order, or the error of a fork that
/// failed (after waiting for the workers already started).
pub fn run_workers(n_workers: usize, work: impl Fn(usize) -> i32) -> nix::Result<Vec<i32>> {
    // Every worker is started before any is waited for: they run at the same time.
    let mut pids: Vec<Pid> = Vec::with_capacity(n_workers);
    for worker in 0..n_workers {
        // Safety: the caller runs this in a single-threaded process (the checks make sure of
        // it), so the child cannot inherit a lock that another thread held at the fork.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                let code = work(worker);
                // Leave here: returning would run the rest of the parent's program a second
                // time, in this copy of it.
                std::process::exit(code)
            }
            Ok(ForkResult::Parent { child }) => pids.push(child),
            Err(error) => {
                // The machine refused a process (EAGAIN under a process limit). The workers
                // already started are ours to wait for before giving up: no zombie, even now,
                // and the caller gets the error to report instead of a panic.
                for pid in pids {
                    let _ = wait_for(pid);
                }
                return Err(error);
            }
        }
    }
    // Waiting for each PID in turn gives the statuses in worker order, whoever ends first; each
    // waitpid reaps its child, so no zombie is left.
    Ok(pids.into_iter().map(wait_for).collect())
}

/// Waits for one child and turns how it ended into a status, as a shell does.
fn wait_for(pid: Pid) -> i32 {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return code,
            Ok(WaitStatus::Signaled(_, signal, _)) => return 128 + signal as i32,
            // Without WUNTRACED or WCONTINUED, waitpid reports nothing else; keep waiting.
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(error) => panic!("waitpid({pid}) failed: {error}"),
        }
    }
}
