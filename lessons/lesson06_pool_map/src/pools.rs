//! Starting the lesson's pools so that every section can fork, and timing a map on a process
//! pool that stays alive.
//!
//! A process pool forks, and fork is only safe while this process has one thread: `fork`
//! copies only the calling thread, so a lock another thread held (inside the allocator, say)
//! would stay locked forever in the child. rayon's global pool starts threads that never end,
//! so once it ran, this process could never fork again, and a section shown again (`r`) or
//! out of order (`--section N`) would have to give up. So the lesson never starts rayon's
//! global pool: each section runs `par_iter` inside a pool of its own (`install`), forks its
//! process pools before that pool starts, and drops it when it ends; `ProcessPool::start` then
//! waits for the rayon threads to be gone before it forks again.

use anyhow::Context;
use course::limits;
use course::timing::{self, Measurement};
use procpool::{PoolError, ProcessPool, Wire};

/// A rayon pool of `n_threads` threads for one section; dropped at its end, its threads end.
pub fn rayon_pool(n_threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads)
        .thread_name(|index| format!("rayon-{index}"))
        .build()
        .map_err(|error| {
            anyhow::anyhow!(
                "rayon's pool of {n_threads} threads could not start ({error}); {}",
                limits::what_limits_tasks()
            )
        })
}

/// For `map_err` where `n` threads were asked for: a refused thread, as one line naming the
/// limit in the way.
pub fn threads_refused(n: usize) -> impl Fn(std::io::Error) -> anyhow::Error {
    move |error| anyhow::anyhow!("could not start {n} threads ({error}); {}", limits::what_limits_tasks())
}

/// Starts a process pool of `n_workers` workers running `work`, with an error that names the
/// pool when the machine refuses a process or a pipe.
pub fn process_pool<I: Wire, O: Wire>(
    n_workers: usize,
    what: &str,
    work: impl Fn(I) -> O,
) -> anyhow::Result<ProcessPool<I, O>> {
    ProcessPool::start(n_workers, work).with_context(|| format!("the {what} process pool of {n_workers} workers"))
}

/// Times `map` on a pool whose workers outlive the measurement, counting the CPU time they
/// report as children's CPU: the kernel charges a worker's CPU to this process only when it
/// is reaped, and these are reaped at the end of the section.
pub fn measured_on<I: Wire, O: Wire, A>(
    pool: &mut ProcessPool<I, O>,
    map: impl FnOnce(&mut ProcessPool<I, O>) -> Result<A, PoolError>,
) -> Result<(A, Measurement), PoolError> {
    let (result, mut measurement) = timing::measure(|| map(pool));
    measurement.children += pool.last_map().worker_cpu;
    result.map(|answer| (answer, measurement))
}

/// Room for `n` more threads here, or the limit that leaves less room, in words.
pub fn room_for_threads(n: usize) -> Result<(), String> {
    match limits::room_for_threads(limits::DEFAULT_STACK) {
        Some((room, limit)) if room < n as u64 => Err(format!("{limit}, which leaves room for {room}")),
        _ => Ok(()),
    }
}
