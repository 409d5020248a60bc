//! Section 5: the words the course builds on, and the limit this machine sets on computing:
//! the same CPU-bound tasks on one thread, on a thread per core, and on twice as many.

use crate::Params;
use crate::concurrency::{busy_task, run_sequential, run_threaded};
use course::limits::{DEFAULT_STACK, room_for_threads};
use course::timing::{Comparison, format};
use course::{Lesson, say};

const DEFINITIONS: [&str; 6] = [
    "concurrency  dealing with many things at once: tasks in progress overlap, even on one core",
    "parallelism  doing many things at once: tasks run at the same instant, one per core",
    "process      a running program with its own memory, files and at least one thread",
    "thread       a path of execution inside a process, sharing its memory with the others",
    "CPU-bound    limited by computing: more cores help, up to the number of cores",
    "I/O-bound    limited by waiting (disk, network, a timer): overlapping the waits helps",
];

/// What this section measured of CPU-bound work, for the summary in section 6.
#[derive(Clone, Debug)]
pub struct CpuLimit {
    pub best_speedup: f64,
    /// Why the figures are not this machine's (other programs were busy), if they are not.
    pub disturbed: Option<String>,
}

#[derive(serde::Serialize)]
struct Figures {
    max_cpu_speedup_allowed: usize,
    cpu_speedup_measured: f64,
    sequential_cores_used: f64,
    cpu_figures_representative: bool,
}

/// What every variant computes: the tasks' results, folded into one number.
#[derive(Clone, Copy, PartialEq)]
struct Checksum(u64);

impl std::fmt::Display for Checksum {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "checksum {:#018x}", self.0)
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    lesson.lines(DEFINITIONS);
    say!(lesson);
    let cores = lesson.machine().logical_cores;
    // Twice as many threads as asked for, where the machine lets the lesson start them.
    let room = lesson.at_most(
        2 * p.n_threads,
        "threads for the CPU-bound tasks",
        room_for_threads(DEFAULT_STACK),
    )?;
    let n_threads = p.n_threads.min(room);
    let more = (room > n_threads).then_some(room);
    let n_tasks = 4 * p.n_threads;
    let steps = p.cpu_steps / n_tasks as u64;
    let seed = lesson.seed();
    let task = |i: usize| busy_task(seed.wrapping_add(i as u64), steps);
    // The class report finds this comparison by the start of its workload's name.
    let workload = format!("CPU-bound tasks: {n_tasks} × {} xorshift steps", format::count(steps));
    let mut cpu = Comparison::new(workload).repeats(1, p.cpu_runs);
    cpu.try_variant("sequential", 1, || run_sequential(n_tasks, 1, task).map(Checksum))?;
    cpu.try_variant(threads(n_threads), n_threads, || {
        run_threaded(n_tasks, n_threads, task).map(Checksum)
    })?;
    if let Some(more) = more {
        cpu.try_variant(threads(more), more, || run_threaded(n_tasks, more, task).map(Checksum))?;
    }
    let report = lesson.compare(cpu)?;

    // The best of the threaded variants: the sequential baseline's 1.00× is not a speedup.
    let best = report.rows.iter().skip(1).map(|row| row.speedup).fold(0.0, f64::max);
    let baseline_cores = report.rows.first().map_or(1.0, |row| row.cores_used);
    // The variant with a thread per core (or --threads): how many cores it really got.
    let parallel = report.rows.get(1).map(|row| (row.cores_used, n_threads.min(cores)));
    let disturbed = disturbed(baseline_cores, best, parallel, cores);
    lesson.figures(&Figures {
        max_cpu_speedup_allowed: cores,
        cpu_speedup_measured: best,
        sequential_cores_used: baseline_cores,
        cpu_figures_representative: disturbed.is_none(),
    });
    if let Some(why) = &disturbed {
        lesson.notice(&format!(
            "Not this machine's CPU-bound figures: {why} Run the lesson again when the machine is quiet."
        ));
    } else {
        // Asked only when measured: the extra threads gained nothing over a thread per core.
        if let (Some(per_core), Some(beyond)) = (report.rows.get(1), report.rows.get(2))
            && n_threads >= cores
            && beyond.speedup <= per_core.speedup * 1.05
        {
            lesson.reveal(
                format_args!("Your turn: why did {} not beat {}?", beyond.name, per_core.name),
                format_args!(
                    "This machine has {}, and a core computes one thing at a time: threads beyond \
                     the cores only take turns.",
                    format::plural(cores as u64, "core")
                ),
            )?;
        }
        lesson.notice(&format!(
            "Computing gains at most one core's worth per core: {} at best on {}.",
            format::times(best),
            format::plural(cores as u64, "core")
        ));
    }
    p.cpu_limit = Some(CpuLimit {
        best_speedup: best,
        disturbed,
    });
    Ok(())
}

/// How far a speedup may pass the number of cores before it counts as above the ceiling: a
/// few percent come from the clock, caches and timer granularity, not from more cores.
const CEILING_SLACK: f64 = 1.05;

/// Why the CPU-bound figures cannot be this machine's, if they cannot: a sequential run that
/// got less than 90% of a core was slowed by other programs, and so was any baseline that a
/// speedup above the number of cores was measured against; threads that got far fewer cores
/// than they could use (`parallel`: cores used, and the most they could use) shared them.
fn disturbed(baseline_cores: f64, best_speedup: f64, parallel: Option<(f64, usize)>, cores: usize) -> Option<String> {
    if best_speedup > cores as f64 * CEILING_SLACK {
        Some(format!(
            "{} is above the ceiling of {cores}×, so the one-thread run was slowed by other programs \
             (the machine was busy).",
            format::times(best_speedup)
        ))
    } else if baseline_cores < 0.9 {
        Some(format!(
            "the one-thread run got only {baseline_cores:.2} of a core, because other programs kept the \
             machine busy."
        ))
    } else if let Some((used, could)) = parallel
        && used < 0.75 * could as f64
    {
        Some(format!(
            "the threads got only {used:.2} of the {could} cores they could use, because other \
             programs kept the machine busy."
        ))
    } else {
        None
    }
}

/// A variant's name: `1 spawned thread` (not the caller's own), `2 threads`, ...
pub fn threads(n_threads: usize) -> String {
    if n_threads == 1 {
        "1 spawned thread".to_string()
    } else {
        format!("{n_threads} threads")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_figures_above_the_ceiling_or_on_a_shared_core_are_flagged() {
        assert_eq!(disturbed(0.99, 1.95, Some((1.97, 2)), 2), None);
        assert_eq!(disturbed(0.9, 1.0, Some((1.0, 1)), 1), None);
        assert_eq!(disturbed(1.0, 1.0, None, 1), None);
        assert_eq!(
            disturbed(0.99, 1.03, Some((0.99, 1)), 1),
            None,
            "within noise of one core"
        );
        let above = disturbed(0.99, 2.2, Some((2.0, 2)), 2).unwrap();
        assert!(above.contains("2.20×") && above.contains("busy"), "{above}");
        let starved = disturbed(0.6, 1.9, Some((1.9, 2)), 2).unwrap();
        assert!(starved.contains("0.60 of a core"), "{starved}");
        let shared = disturbed(1.0, 1.1, Some((1.1, 2)), 2).unwrap();
        assert!(shared.contains("1.10 of the 2 cores"), "{shared}");
    }
}
