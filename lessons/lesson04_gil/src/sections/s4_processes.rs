//! Section 4: the same work in worker processes, each an interpreter with its own GIL.

use super::{cpu_comparison, plural};
use crate::Params;
use crate::cpython::{self, Ratio};
use crate::processes::run_on_processes;
use crate::programs::split_steps;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, switch_interval) = (p.n_threads, p.switch_interval);
    say!(
        lesson,
        "  {} forked, each an interpreter with its own GIL running one share; their results come \
         back through pipes (what Python's multiprocessing does).",
        plural(n_threads, "process")
    );
    let split = split_steps(p.total_steps, n_threads);
    let mut comparison = cpu_comparison(p)?;
    let mut per_process = Vec::new();
    comparison.try_variant(plural(n_threads, "process"), n_threads, || {
        let run = run_on_processes(&split, switch_interval)?;
        per_process = run.threads;
        anyhow::Ok(run.answer)
    })?;
    let report = lesson.compare(comparison)?;
    lesson.figure("processes", &per_process);
    // The same work on CPython's processes (python/gil.py), each with its own GIL too.
    cpython::ensure_ran(lesson, p);
    let mut ratios = None;
    if let Some(real) = cpython::real(p)
        && let Some(real_report) = real.compare(
            lesson,
            &p.python,
            "cpu_bound",
            &["sequential", "processes"],
            p.total_steps,
        )?
    {
        ratios = report
            .rows
            .last()
            .zip(real_report.rows.last())
            .map(|(s, r)| Ratio::of_rows(s, r));
        if let Some(ratios) = &ratios {
            cpython::show(lesson, ratios);
        }
    }
    lesson.figure("cpython", &ratios);
    p.calibration.processes = ratios;
    lesson.notice(
        "Separate processes do not share a GIL: they compute in parallel like free threads, at the \
         price of starting processes and sending results back.",
    );
    p.cpu_processes = Some(report);
    Ok(())
}
