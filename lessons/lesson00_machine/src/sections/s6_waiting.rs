//! Section 6: tasks that only wait overlap on threads far beyond the number of cores, and use
//! almost none of them; then the limits this machine sets on both kinds of work.

use crate::Params;
use crate::concurrency::{run_sequential, run_threaded, waiting_task};
use crate::sections::s5_concurrency_and_parallelism::threads;
use course::limits::{DEFAULT_STACK, room_for_threads};
use course::timing::{Comparison, format};
use course::{Lesson, say};

/// What every variant computes: how many tasks finished their wait.
#[derive(Clone, Copy, PartialEq)]
struct Waited(u64);

impl std::fmt::Display for Waited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} done", format::plural(self.0, "wait"))
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_tasks, wait) = (p.io_tasks, p.io_wait);
    let n_threads = lesson.at_most(
        n_tasks,
        "threads for the waiting tasks",
        room_for_threads(DEFAULT_STACK),
    )?;
    let cores = lesson.machine().logical_cores;
    let task = |_: usize| waiting_task(wait);
    let workload = format!("waiting tasks: {n_tasks} × a {} wait", format::duration(wait));
    let mut io = Comparison::new(workload).waiting();
    io.try_variant("sequential", 1, || run_sequential(n_tasks, 1, task).map(Waited))?;
    io.try_variant(threads(n_threads), n_threads, || {
        run_threaded(n_tasks, n_threads, task).map(Waited)
    })?;
    let report = lesson.compare(io)?;
    let threaded = report.rows.last();
    let io_speedup = threaded.map_or(0.0, |row| row.speedup);
    let io_cores = threaded.map_or(0.0, |row| row.cores_used);
    lesson.figure("io_speedup_measured", io_speedup);
    // Asked only when measured: the waits overlapped beyond what the cores could compute (by
    // more than the few percent that timer noise gives a run on as many threads as cores).
    let beyond_the_cores = n_threads > cores && io_speedup > 1.05 * cores as f64;
    if beyond_the_cores {
        lesson.reveal(
            format_args!(
                "Your turn: why did {} run {} faster on {}?",
                threads(n_threads),
                format::times(io_speedup),
                format::plural(cores as u64, "core")
            ),
            format_args!("A thread that waits needs no core: the waits overlapped, using {io_cores:.2} cores in all."),
        )?;
    }

    say!(lesson);
    say!(lesson, "  The limits of this machine:");
    match &p.cpu_limit {
        Some(cpu) => say!(
            lesson,
            "    CPU-bound work: at most {cores}× (its cores); measured {} at best{}",
            format::times(cpu.best_speedup),
            if cpu.disturbed.is_some() {
                ", not representative"
            } else {
                ""
            }
        ),
        None => say!(
            lesson,
            "    CPU-bound work: at most {cores}× (its cores); section 5 measures it"
        ),
    }
    say!(
        lesson,
        "    waiting work:   not limited by cores; measured {} with {} on {}",
        format::times(io_speedup),
        threads(n_threads),
        format::plural(cores as u64, "core")
    );
    // Said as measured: whether the waits overlapped beyond the cores, and at what CPU cost.
    let cores_text = format::plural(cores as u64, "core");
    let faster = format::times(io_speedup);
    let notice = if beyond_the_cores {
        let how_far = if io_speedup >= 2.0 * cores as f64 {
            "far beyond"
        } else {
            "beyond"
        };
        format!(
            "Waiting overlaps {how_far} the {cores_text} ({faster} faster), using {io_cores:.2} cores: \
             overlapping waits needs threads, not cores."
        )
    } else if n_threads <= cores {
        format!(
            "With only {}, the waits overlap no further than the {cores_text} could ({faster} faster, \
             using {io_cores:.2} cores): raise --io-tasks to see waits overlap beyond the cores.",
            threads(n_threads)
        )
    } else {
        format!(
            "This time the waits overlapped no further than the {cores_text} ({faster} faster with {}, \
             using {io_cores:.2} cores).",
            threads(n_threads)
        )
    };
    lesson.notice(&notice);
    Ok(())
}
