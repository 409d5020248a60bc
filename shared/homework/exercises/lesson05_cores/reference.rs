//! Exercise: pin a thread to a core
//!
//! The reference solution.

use nix::sched::{CpuSet, sched_getaffinity, sched_getcpu, sched_setaffinity};
use nix::unistd::Pid;

/// Pid 0 names the calling thread: on Linux an affinity mask is per thread, not per process.
fn this_thread() -> Pid {
    Pid::from_raw(0)
}

/// The cores the calling thread may run on, in increasing order.
pub fn allowed_cores() -> Vec<usize> {
    let Ok(mask) = sched_getaffinity(this_thread()) else {
        return Vec::new();
    };
    (0..CpuSet::count())
        .filter(|&core| mask.is_set(core).unwrap_or(false))
        .collect()
}

/// The core the calling thread is running on now (it may move a moment later, unless pinned).
pub fn current_core() -> usize {
    // sched_getcpu cannot fail on Linux since 2.6.19; 0 is a harmless answer if it ever did.
    sched_getcpu().unwrap_or(0)
}

/// Allows the calling thread to run on `core` only.
pub fn pin_current_thread(core: usize) -> Result<(), String> {
    let mut mask = CpuSet::new();
    mask.set(core).map_err(|_| {
        format!(
            "core {core} does not exist: a mask names cores 0 to {}",
            CpuSet::count() - 1
        )
    })?;
    // When the call returns, the kernel has already moved this thread onto `core` if it was
    // running elsewhere: the next instruction runs there. A refused mask changes nothing.
    sched_setaffinity(this_thread(), &mask)
        .map_err(|error| format!("this thread cannot be pinned to core {core}: {error}"))
}

/// Runs `work` on a new thread that may run on `core` only; returns what `work` returned.
pub fn run_on_core<R: Send>(core: usize, work: impl FnOnce() -> R + Send) -> Result<R, String> {
    std::thread::scope(|scope| {
        // The new thread starts with the caller's mask and narrows its own: the caller's mask
        // is never touched, so it can go on running wherever it could before.
        let pinned = scope.spawn(move || {
            pin_current_thread(core)?;
            Ok(work())
        });
        pinned.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
