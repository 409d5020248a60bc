//! Section 2: the CPU-bound work on one thread, then split over N threads under one GIL.

use super::{cpu_comparison, plural};
use crate::Params;
use crate::cpython::{self, Ratio};
use crate::gil;
use crate::interpreter::ThreadReport;
use crate::programs::{self, check_fair, check_one_at_a_time, split_steps};
use anyhow::Context;
use course::table::Table;
use course::timing::{VariantRow, format};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, switch_interval) = (p.n_threads, p.switch_interval);
    say!(
        lesson,
        "  {} bytecode steps of arithmetic, on one thread, then split over {} under one GIL.",
        format::count(p.total_steps),
        plural(n_threads, "thread")
    );
    let split = split_steps(p.total_steps, n_threads);
    let mut comparison = cpu_comparison(p)?;
    let mut last = None;
    let mut overlapping_steps = 0;
    // Under the GIL the threads take turns by design: about one core between them is the point.
    comparison
        .try_variant(format!("{}, GIL", plural(n_threads, "thread")), n_threads, || {
            let run = programs::run(gil::threads_with_gil, &split, switch_interval)?;
            overlapping_steps += run.overlapping_steps;
            let answer = run.answer;
            last = Some(run);
            anyhow::Ok(answer)
        })?
        .serialized();
    check_one_at_a_time(overlapping_steps)?;
    let report = lesson.compare(comparison)?;
    let last = last.context("the GIL variant did not run")?;
    say!(lesson, "  Each thread's share, from the last run:");
    lesson.table(&thread_table(&last.threads));
    check_fair(&last, &split)?;
    lesson.checked(
        true,
        format!(
            "every thread ran its whole share and waited behind at most {} ({})",
            plural(last.gil.most_turns_waited as usize, "turn"),
            plural(n_threads - 1, "other thread")
        ),
    );
    let real = real_threads(lesson, p, report.rows.last())?;
    lesson.figure("cpython", &real);
    p.calibration.cpu_threads = real;
    lesson.figure("gil", last.gil);
    lesson.figure("threads", &last.threads);
    lesson.figure("overlapping_steps", overlapping_steps);
    lesson.figure("every_thread_finished", true);
    let (speedup, cores_used) = report
        .rows
        .last()
        .map_or((0.0, 0.0), |row| (row.speedup, row.cores_used));
    lesson.notice(&format!(
        "Under the GIL the threads take turns: {} on {} with {cores_used:.2} cores used, and no \
         two steps ever ran at the same moment. Every thread got its turns; none waited for more \
         turns than there are other threads.",
        format::times(speedup),
        plural(n_threads, "thread")
    ));
    p.cpu_with_gil = Some(report);
    Ok(())
}

/// Threads listed one per row; more are summed up in one last row.
const TABLE_ROWS: usize = 8;

/// Each thread's steps, turns and longest wait.
fn thread_table(threads: &[ThreadReport]) -> Table {
    let mut table = Table::new(&["thread", "steps", "GIL turns", "most turns waited", "longest wait"]);
    for report in threads.iter().take(TABLE_ROWS) {
        table.row([
            format!("T{}", report.thread),
            format::count(report.steps),
            format::count(report.turns.turns),
            report.turns.most_turns_waited.to_string(),
            format::seconds(report.turns.longest_wait_s),
        ]);
    }
    let rest = threads.get(TABLE_ROWS..).unwrap_or_default();
    if let (Some(first), Some(last)) = (rest.first(), rest.last()) {
        table.row([
            format!("T{}–T{} (sum, most)", first.thread, last.thread),
            format::count(rest.iter().map(|r| r.steps).sum()),
            format::count(rest.iter().map(|r| r.turns.turns).sum()),
            rest.iter()
                .map(|r| r.turns.most_turns_waited)
                .max()
                .unwrap_or(0)
                .to_string(),
            format::seconds(rest.iter().map(|r| r.turns.longest_wait_s).fold(0.0, f64::max)),
        ]);
    }
    table
}

/// The same work on CPython's threads (`python/gil.py`), its answer checked, and the simulated
/// figures of `simulated` over CPython's; or, without a CPython, what CPython does in words.
fn real_threads(lesson: &Lesson, p: &mut Params, simulated: Option<&VariantRow>) -> anyhow::Result<Option<Vec<Ratio>>> {
    cpython::ensure_ran(lesson, p);
    let Some(real) = cpython::real(p) else {
        say!(
            lesson,
            "  CPython with a GIL does the same: its CPU-bound threads share about one core between \
             them, however many there are."
        );
        return Ok(None);
    };
    let Some(report) = real.compare(
        lesson,
        &p.python,
        "cpu_bound",
        &["sequential", "threads"],
        p.total_steps,
    )?
    else {
        return Ok(None);
    };
    if !real.has_gil {
        say!(
            lesson,
            "  {} has no GIL: its threads ran at the same time, as in section 3.",
            real.label
        );
        return Ok(None);
    }
    let ratios = simulated.zip(report.rows.last()).map(|(s, r)| Ratio::of_rows(s, r));
    if let Some(ratios) = &ratios {
        cpython::show(lesson, ratios);
    }
    Ok(ratios)
}
