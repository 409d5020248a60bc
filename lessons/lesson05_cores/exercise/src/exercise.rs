//! Exercise: pin a thread to a core
//!
//! Lesson 05 pinned whole worker processes to one core each, as `taskset -c N` does. On Linux
//! an affinity mask really belongs to each thread: `sched_setaffinity` with pid 0 changes the
//! mask of the calling thread only, and a new thread starts with the mask of the thread that
//! created it. Complete the four functions below so that:
//! - `allowed_cores` returns the cores the calling thread may run on (its affinity mask), in
//!   increasing order: the `Cpus_allowed_list` of `/proc/thread-self/status`;
//! - `current_core` returns the core the calling thread is running on at this moment;
//! - `pin_current_thread(core)` leaves the calling thread allowed on `core` alone, or returns
//!   an `Err` whose message names the core when that cannot be (a core that does not exist or
//!   is outside the process's cpuset), with the thread's mask left as it was, and no panic;
//! - `run_on_core(core, work)` runs `work` on a new thread pinned to `core` and returns its
//!   result; the calling thread's own mask is the same afterwards as before. If the new thread
//!   cannot be pinned, `work` does not run and the error comes back.
//!
//! `nix::sched` has what you need. Check your work with `cargo homework 05`; stuck, `cargo
//! homework hint 05` gives a hint, one step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

/// The cores the calling thread may run on, in increasing order.
pub fn allowed_cores() -> Vec<usize> {
    todo!("read this thread's mask with sched_getaffinity(Pid::from_raw(0)) and list the cores set in it")
}

/// The core the calling thread is running on now (it may move a moment later, unless pinned).
pub fn current_core() -> usize {
    todo!("ask the kernel with nix::sched::sched_getcpu()")
}

/// Allows the calling thread to run on `core` only.
pub fn pin_current_thread(core: usize) -> Result<(), String> {
    todo!("make a CpuSet holding only `core` and give it to sched_setaffinity(Pid::from_raw(0), ...)")
}

/// Runs `work` on a new thread that may run on `core` only; returns what `work` returned.
pub fn run_on_core<R: Send>(core: usize, work: impl FnOnce() -> R + Send) -> Result<R, String> {
    todo!("spawn a scoped thread that pins itself to `core`, then runs `work`")
}
