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
use course::timing::{self, Measurement};
use course::{Lesson, limits};
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
                limit_on_threads(n_threads)
            )
        })
}

/// For `map_err` where `n` threads were asked for: a refused thread, as one line naming the
/// limit in the way.
pub fn threads_refused(n: usize) -> impl Fn(std::io::Error) -> anyhow::Error {
    move |error| anyhow::anyhow!("could not start {n} threads ({error}); {}", limit_on_threads(n))
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

/// Tasks left free for whatever else the user runs meanwhile.
const SPARE_TASKS: u64 = 4;

/// The address space glibc's allocator reserves for an arena of its own, which it gives a new
/// thread that allocates, up to eight arenas per core.
const ARENA: u64 = 64 << 20;

/// `wanted` workers, or as many as this machine's limits let every section start at once, with
/// a warning naming the limit; an error when not even one fits. Per worker a section starts at
/// most a worker process, a rayon thread and a thread of its own pool (three tasks, two thread
/// stacks here) and keeps two pipe ends open (two more while the worker starts).
pub fn workers_that_fit(lesson: &Lesson, wanted: usize) -> anyhow::Result<usize> {
    let tasks =
        limits::tightest_task_limit().map(|limit| (limit.room().saturating_sub(SPARE_TASKS) / 3, limit.to_string()));
    let memory = threads_in_address_space().map(|(room, limit)| (room / 2, limit));
    let files = limits::open_files().map(|(limit, open)| {
        (
            limit.saturating_sub(open + 2) / 2,
            format!("the open-file limit (ulimit -n) is {limit}, with {open} open"),
        )
    });
    let tightest = [tasks, memory, files]
        .into_iter()
        .flatten()
        .min_by_key(|(room, _)| *room);
    match tightest {
        Some((room, limit)) if room < wanted as u64 => {
            anyhow::ensure!(room > 0, "no room for a single worker here: {limit}");
            lesson.warn(&format!(
                "{} instead of {wanted}: {limit}",
                timing::format::plural(room, "worker")
            ));
            Ok(room as usize)
        }
        _ => Ok(wanted),
    }
}

/// Room for `n` more threads here, or the limit that leaves less room, in words.
pub fn room_for_threads(n: usize) -> Result<(), String> {
    let tasks = limits::tightest_task_limit().map(|limit| (limit.room(), limit.to_string()));
    let tightest = [tasks, threads_in_address_space()]
        .into_iter()
        .flatten()
        .min_by_key(|(room, _)| *room);
    match tightest {
        Some((room, limit)) if room < n as u64 => Err(format!("{limit}, which leaves room for {room}")),
        _ => Ok(()),
    }
}

/// How many more threads fit under the address-space limit (`ulimit -v`), each with its stack
/// and, for the first eight per core, an allocator arena; `None` when there is no limit.
fn threads_in_address_space() -> Option<(u64, String)> {
    let (limit, used) = limits::address_space()?;
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
    let needs = |n: u64| n * (limits::DEFAULT_STACK + (64 << 10)) + n.min(8 * cores) * ARENA;
    let free = limit.saturating_sub(used);
    let room = (0..).take_while(|&n| needs(n) <= free).last().unwrap_or(0);
    Some((room, address_space_limit(limit, used)))
}

fn address_space_limit(limit: u64, used: u64) -> String {
    format!(
        "the address-space limit (ulimit -v) is {}, with {} in use, and each thread reserves a \
         stack of {} and often a malloc arena of {}",
        timing::format::bytes(limit),
        timing::format::bytes(used),
        timing::format::bytes(limits::DEFAULT_STACK),
        timing::format::bytes(ARENA)
    )
}

/// The limit that most likely refused a thread when `n` were asked for: a task limit with less
/// room than that, else the address space, else whatever limits tasks here.
pub fn limit_on_threads(n: usize) -> String {
    if let Some(limit) = limits::tightest_task_limit().filter(|limit| limit.room() < n as u64) {
        return limit.to_string();
    }
    match limits::address_space() {
        Some((limit, used)) => address_space_limit(limit, used),
        None => limits::what_limits_tasks(),
    }
}
