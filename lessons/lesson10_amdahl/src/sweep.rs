//! The measured sweep: which thread counts run the job of `amdahl.rs` (up to the cores, and
//! beyond them), each timed against the one-thread run with the answer checked, and Amdahl's
//! prediction beside each measured speedup. Also how many threads the machine lets the lesson
//! start (`ulimit -u`, a container's `pids.max`, `ulimit -v`).

use crate::Params;
use anyhow::Context;
use course::Lesson;
use course::limits::{self, DEFAULT_STACK};
use course::timing::{Comparison, ComparisonReport, format};
use lesson10_amdahl::amdahl::{self, Job, job_parallel, job_sequential};

/// One measured point of the sweep.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SweepPoint {
    pub threads: usize,
    /// Amdahl's prediction for `threads` workers.
    pub predicted_speedup: f64,
    /// Amdahl's prediction for the workers that can run at once: min(threads, cores).
    pub predicted_on_these_cores: f64,
    pub measured_speedup: f64,
    /// (measured − predicted on these cores) / predicted on these cores.
    pub relative_error: f64,
    pub oversubscribed: bool,
}

/// Thread counts for the sweep: up to the cores (every count on up to 4 cores, powers of two
/// and the core count above), then beyond them: one more on up to 8 cores, and doubling up to
/// `max_threads`.
pub fn thread_counts(cores: usize, max_threads: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = if cores <= 4 {
        (1..=cores).collect()
    } else {
        std::iter::successors(Some(1usize), |n| Some(n * 2))
            .take_while(|&n| n < cores)
            .chain([cores])
            .collect()
    };
    if cores <= 8 {
        counts.push(cores + 1);
    }
    counts.extend(std::iter::successors(Some(2 * cores), |n| Some(n * 2)).take_while(|&n| n <= max_threads));
    counts.retain(|&n| n <= max_threads);
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// Worker counts for the scaled (Gustafson) measurement: 2, 4, … up to the cores, and the
/// cores themselves; none on a single core.
pub fn scaled_thread_counts(cores: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = std::iter::successors(Some(2usize), |n| Some(n * 2))
        .take_while(|&n| n < cores)
        .collect();
    if cores >= 2 {
        counts.push(cores);
    }
    counts
}

/// Times the job of section 2 on every count of the sweep; records the comparison without
/// printing it (the section prints one compact table) and returns it with the prediction
/// beside each point.
pub fn measure(lesson: &Lesson, p: &Params) -> anyhow::Result<(ComparisonReport, Vec<SweepPoint>)> {
    let job = Job::with_parallel_fraction(p.items, p.p);
    let workload = format!("a job with P = {} of {} items", p.p, format::count(p.items));
    // The median of five runs: a short burst of other work spoils one run, not the figure.
    let mut comparison = Comparison::new(workload).repeats(1, lesson.pick(1, 5));
    comparison.try_variant("1 thread", 1, || job_sequential(&job, 1))?;
    for n in thread_counts(p.cores, p.max_threads).into_iter().filter(|&n| n > 1) {
        let name = if n > p.cores {
            format!("{n} threads (oversubscribed)")
        } else {
            format!("{n} threads")
        };
        match comparison.try_variant(name, n, || job_parallel(&job, n)) {
            Ok(row) => mark_serial_by_design(row, amdahl::speedup(p.p, n.min(p.cores) as f64)),
            Err(error) if refused(&error) => {
                lesson.warn(&stopped_at(n, &error));
                break;
            }
            Err(error) => return Err(error).with_context(|| format!("could not start {n} threads")),
        }
    }
    let report = lesson.compare_quietly(comparison)?;
    let points = points(&report, p.p, p.cores);
    Ok((report, points))
}

/// Workers of a job whose serial part keeps them, by design, near one core between them (the
/// law predicts fewer than 1.5 cores' worth): that alone is no sign of a disturbed run.
pub fn mark_serial_by_design(row: &mut course::timing::Row, predicted_cores: f64) {
    if predicted_cores < 1.5 {
        row.serialized();
    }
}

/// The sweep's rows, with Amdahl's prediction beside each measured speedup.
pub fn points(report: &ComparisonReport, p: f64, cores: usize) -> Vec<SweepPoint> {
    report
        .rows
        .iter()
        .map(|row| {
            let threads = row.workers;
            let predicted_on_these_cores = amdahl::speedup(p, threads.min(cores) as f64);
            SweepPoint {
                threads,
                predicted_speedup: amdahl::speedup(p, threads as f64),
                predicted_on_these_cores,
                measured_speedup: row.speedup,
                relative_error: (row.speedup - predicted_on_these_cores) / predicted_on_these_cores,
                oversubscribed: threads > cores,
            }
        })
        .collect()
}

/// True when the machine refused a thread (`EAGAIN`: a limit on tasks, or no address space
/// left for its stack; `ENOMEM`).
pub fn refused(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{OutOfMemory, WouldBlock};
    matches!(error.kind(), WouldBlock | OutOfMemory)
}

/// The warning for a measurement that stops at `n` threads because the machine refused one.
pub fn stopped_at(n: usize, error: &std::io::Error) -> String {
    format!(
        "stopped before {n} threads: a thread was refused ({error}); {}",
        limits::what_limits_tasks()
    )
}

/// The most threads the lesson may start at once, and the limit that says so: what the
/// tightest limit of the machine leaves room for, keeping two for the lesson's own thread and
/// a margin; `usize::MAX` when nothing limits them.
pub fn thread_room() -> (usize, String) {
    match limits::room_for_threads(DEFAULT_STACK) {
        Some((room, limit)) => (
            usize::try_from(room).unwrap_or(usize::MAX).saturating_sub(2).max(1),
            limit,
        ),
        None => (usize::MAX, String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_goes_beyond_the_cores() {
        assert_eq!(thread_counts(2, 4), vec![1, 2, 3, 4]);
        assert_eq!(thread_counts(4, 8), vec![1, 2, 3, 4, 5, 8]);
        assert_eq!(thread_counts(8, 16), vec![1, 2, 4, 8, 9, 16]);
        assert_eq!(thread_counts(16, 32), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(thread_counts(12, 24), vec![1, 2, 4, 8, 12, 24]);
        assert_eq!(thread_counts(2, 1), vec![1]);
        assert_eq!(thread_counts(1, 2), vec![1, 2]);
        assert_eq!(scaled_thread_counts(2), vec![2]);
        assert_eq!(scaled_thread_counts(8), vec![2, 4, 8]);
        assert!(scaled_thread_counts(1).is_empty());
    }
}
