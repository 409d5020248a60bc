//! How many worker processes this machine lets the lesson start at once. A local run of N
//! processes costs, all at the same time:
//!
//! - tasks: every worker runs its main thread and timely's threads (a worker, and a sender and
//!   a receiver for each other process), 2N each, 2N² in all;
//! - address space: each worker reserves a stack for each of those threads;
//! - open files: the parent holds three pipes per worker; each worker holds its three
//!   standard streams and two sockets per other process.
//!
//! The tightest limit decides; the lesson starts fewer processes and says which limit it met.

use crate::cluster::timely_threads;
use course::limits;
use course::timing::format;

/// Descriptors this process holds beyond its pipes to the workers (a few are opened for a
/// moment while each worker starts, and to read /proc).
const PARENT_SPARE_FILES: u64 = 8;
/// Descriptors a worker holds beyond its sockets (standard streams, its listener, a margin).
const WORKER_SPARE_FILES: u64 = 8;

/// Tasks a local run of `processes` workers adds to this user's, cgroup's and machine's count.
pub fn tasks_for(processes: usize) -> u64 {
    processes as u64 * (1 + timely_threads(processes))
}

/// The largest number of worker processes, up to `wanted`, that fit under every limit read
/// here, and when that is fewer than `wanted`, the limit that decided it.
pub fn processes_that_fit(wanted: usize) -> (usize, Option<String>) {
    let mut fit = wanted;
    let mut why = None;
    // Lowers `fit` until `fits` says yes; `because(n)` says why `n` processes did not fit.
    let mut lower = |fits: &dyn Fn(usize) -> bool, because: &dyn Fn(usize) -> String| {
        if fit > 0 && !fits(fit) {
            while fit > 0 && !fits(fit) {
                fit -= 1;
            }
            // The count the lesson will say did not fit: one more than fits, and at least the
            // two it needs (or the one asked for).
            why = Some(because((fit + 1).max(wanted.min(2))));
        }
    };
    let processes = |n: usize| format::plural(n as u64, "worker process");
    if let Some(limit) = limits::tightest_task_limit() {
        lower(&|n| tasks_for(n) <= limit.room(), &|n| {
            format!("{limit}, and {} would need {} tasks", processes(n), tasks_for(n))
        });
    }
    if let Some(room) = limits::threads_that_fit_in_address_space(limits::DEFAULT_STACK) {
        let (limit, used) = limits::address_space().unwrap_or_default();
        lower(&|n| timely_threads(n) <= room, &|n| {
            format!(
                "the address-space limit (ulimit -v) is {}, with {} in use, and {} would each reserve \
                 {} of thread stacks",
                format::bytes(limit),
                format::bytes(used),
                processes(n),
                format::bytes(timely_threads(n) * limits::DEFAULT_STACK)
            )
        });
    }
    if let Some((limit, open)) = limits::open_files() {
        let parent_files = |n: usize| open + 3 * n as u64 + PARENT_SPARE_FILES;
        let worker_files = |n: usize| 2 * n as u64 + WORKER_SPARE_FILES;
        lower(&|n| parent_files(n) <= limit && worker_files(n) <= limit, &|n| {
            format!(
                "the open-file limit (ulimit -n) is {limit}, with {open} open, and {} would need {} \
                 open here (three pipes each)",
                processes(n),
                parent_files(n)
            )
        });
    }
    (fit, why)
}

/// As many worker processes as wanted, or as the machine's limits allow, with a warning that
/// names the limit; an error naming it when not even two fit.
pub fn processes_to_start(lesson: &course::Lesson, wanted: usize) -> anyhow::Result<usize> {
    let (fit, limit) = processes_that_fit(wanted);
    let Some(limit) = limit else {
        return Ok(wanted);
    };
    if fit < wanted.min(2) {
        anyhow::bail!(
            "no room for {}: {limit}",
            format::plural(wanted.min(2) as u64, "worker process")
        );
    }
    lesson.warn(&format!("starting {fit} worker processes instead of {wanted}: {limit}"));
    Ok(fit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_grow_with_the_square_of_the_processes() {
        assert_eq!(tasks_for(1), 2);
        assert_eq!(tasks_for(2), 8);
        assert_eq!(tasks_for(8), 8 * 16);
    }

    #[test]
    fn no_more_than_wanted_and_a_reason_when_fewer() {
        let (fit, why) = processes_that_fit(2);
        assert!(fit <= 2);
        assert_eq!(why.is_some(), fit < 2);
    }
}
