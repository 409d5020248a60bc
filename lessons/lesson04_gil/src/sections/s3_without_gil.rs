//! Section 3: the same threads on an interpreter without a GIL.

use super::{cpu_comparison, plural};
use crate::Params;
use crate::gil;
use crate::programs::{self, split_steps};
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, switch_interval) = (p.n_threads, p.switch_interval);
    say!(
        lesson,
        "  The same interpreter with the lock switched off, as in CPython's free-threaded build."
    );
    let split = split_steps(p.total_steps, n_threads);
    let mut comparison = cpu_comparison(p)?;
    let mut overlapping_steps = 0;
    comparison.try_variant(format!("{}, no GIL", plural(n_threads, "thread")), n_threads, || {
        let run = programs::run(gil::threads_without_gil, &split, switch_interval)?;
        overlapping_steps += run.overlapping_steps;
        anyhow::Ok(run.answer)
    })?;
    let report = lesson.compare(comparison)?;
    say!(
        lesson,
        "  Steps that ran while another thread was inside one: {} of {} ({}).",
        format::count(overlapping_steps),
        format::count(p.total_steps * p.runs as u64),
        if p.runs == 1 {
            "one run".to_string()
        } else {
            format!("{} runs", p.runs)
        }
    );
    lesson.figure("overlapping_steps", overlapping_steps);
    let cores = lesson.machine().logical_cores;
    let row = report.rows.last();
    let (speedup, cores_used) = row.map_or((0.0, 0.0), |row| (row.speedup, row.cores_used));
    let at_once = n_threads.min(cores);
    let notice = if at_once < 2 {
        format!(
            "Without the lock the threads may run at the same time, but this machine gives them {} \
             at once: {} here. On more cores the speedup approaches the number of threads.",
            plural(at_once, "core"),
            format::times(speedup)
        )
    } else if row.is_some_and(|row| row.disturbed.is_none()) && speedup >= 1.0 + 0.5 * (at_once - 1) as f64 {
        format!(
            "Without the lock the same threads run at the same time: {} with {cores_used:.2} cores \
             used; both approach the number of threads, up to the number of cores ({at_once} here).",
            format::times(speedup)
        )
    } else {
        let busy = if row.is_some_and(|row| row.disturbed.is_some()) {
            " (another program was busy, see ⚠)"
        } else {
            ""
        };
        format!(
            "Without the lock the threads can run at the same time, yet this run gained only {} \
             with {cores_used:.2} cores used{busy}. On a quiet machine both approach {at_once}.",
            format::times(speedup)
        )
    };
    lesson.notice(&notice);
    p.cpu_without_gil = Some(report);
    Ok(())
}
