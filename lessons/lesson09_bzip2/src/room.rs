//! How many workers this machine lets the lesson start at once, read up front from
//! `course::limits`: under a per-user process limit, a container's task limit, an address-space
//! limit or few open files the lesson starts fewer and says which limit was in the way, rather
//! than failing halfway through.

use course::{Lesson, limits};

/// Tasks left free for whatever else the user runs meanwhile.
const SPARE_TASKS: u64 = 4;

/// `wanted` workers, or as many as fit, with a warning naming the limit; an error when not even
/// one fits. Per worker, a section has at most a worker process and a thread alive at once (two
/// tasks, one thread stack here) and two pipe ends open (two more while the worker starts).
pub fn workers_that_fit(lesson: &Lesson, wanted: usize) -> anyhow::Result<usize> {
    let tasks =
        limits::tightest_task_limit().map(|limit| (limit.room().saturating_sub(SPARE_TASKS) / 2, limit.to_string()));
    let memory = limits::room_for_threads(limits::DEFAULT_STACK);
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
                course::timing::format::plural(room, "worker")
            ));
            Ok(room as usize)
        }
        _ => Ok(wanted),
    }
}
