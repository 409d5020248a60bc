//! Section 5: tasks that mostly wait, on one thread, on k threads with and without the GIL,
//! and on k processes.

use super::plural;
use crate::Params;
use crate::cpython::{self, Ratio};
use crate::gil;
use crate::processes::run_on_processes;
use crate::programs::{self, check_one_at_a_time, io_programs};
use crate::turns::GilStats;
use course::timing::{Comparison, format};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (io_tasks, switch_interval) = (p.io_tasks, p.switch_interval);
    say!(
        lesson,
        "  {}, each one step, a wait of {} (as for a network reply), one more step.",
        plural(io_tasks, "task"),
        format::duration(p.io_wait)
    );
    let one = io_programs(io_tasks, 1, p.io_wait);
    let spread = io_programs(io_tasks, io_tasks, p.io_wait);
    let workload = format!(
        "{} waiting {} each",
        plural(io_tasks, "task"),
        format::duration(p.io_wait)
    );
    // The work waits: cores used is shown, not used to judge the runs.
    let mut comparison = Comparison::new(workload).waiting();
    let mut overlapping_steps = 0;
    let mut gil_stats = GilStats::default();
    comparison.try_variant("1 thread", 1, || {
        programs::run(gil::threads_with_gil, &one, switch_interval).map(|run| run.answer)
    })?;
    comparison.try_variant(format!("{}, GIL", plural(io_tasks, "thread")), io_tasks, || {
        let run = programs::run(gil::threads_with_gil, &spread, switch_interval)?;
        overlapping_steps += run.overlapping_steps;
        gil_stats = run.gil;
        anyhow::Ok(run.answer)
    })?;
    comparison.try_variant(format!("{}, no GIL", plural(io_tasks, "thread")), io_tasks, || {
        programs::run(gil::threads_without_gil, &spread, switch_interval).map(|run| run.answer)
    })?;
    comparison.try_variant(plural(io_tasks, "process"), io_tasks, || {
        run_on_processes(&spread, switch_interval).map(|run| run.answer)
    })?;
    check_one_at_a_time(overlapping_steps)?;
    let report = lesson.compare(comparison)?;
    // The same tasks on CPython's threads (python/gil.py): `time.sleep` lets go of its GIL.
    cpython::ensure_ran(lesson, p);
    let mut ratios = None;
    if let Some(real) = cpython::real(p) {
        let steps = 2 * io_tasks as u64;
        if let Some(real_report) = real.compare(lesson, &p.python, "io_bound", &["sequential", "threads"], steps)? {
            let speedups = report.rows.get(1).zip(real_report.rows.last());
            ratios = speedups.map(|(s, r)| vec![Ratio::times("speedup", s.speedup, r.speedup)]);
        }
        if let Some(ratios) = &ratios {
            cpython::show(lesson, ratios);
        }
    } else {
        say!(
            lesson,
            "  CPython's `time.sleep` and socket reads let go of its GIL the same way, so waiting \
             Python threads overlap their waits too."
        );
    }
    lesson.figure("cpython", &ratios);
    p.calibration.io_threads = ratios;
    lesson.figure("gil", gil_stats);
    lesson.figure("overlapping_steps", overlapping_steps);
    let (speedup, cores_used) = report
        .rows
        .get(1)
        .map_or((0.0, 0.0), |row| (row.speedup, row.cores_used));
    lesson.notice(&format!(
        "A waiting thread holds no GIL, so waits overlap: {} under the GIL gained {} using {:.2} \
         cores. Threads are the right tool for waiting.",
        plural(io_tasks, "thread"),
        format::times(speedup),
        cores_used
    ));
    p.io = Some(report);
    Ok(())
}
