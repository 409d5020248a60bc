//! Section 3: the lecture's `pool.map(how_to_fry_eggs_on_my_computer, [10] * n_cpus)`: one
//! busy process per core; then the same on CPython's `multiprocessing.Pool`
//! (`python/fry_eggs.py`).

use crate::Params;
use crate::cpython;
use crate::phase::run_phase;
use crate::show::show_phase;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n_workers = p.n_workers;
    let cores = lesson.machine().logical_cores;
    say!(
        lesson,
        "  {} on {}, each spinning for {}.",
        format::plural(n_workers as u64, "child process"),
        format::plural(cores as u64, "core"),
        format::duration(p.watch.phase)
    );
    let report = run_phase(lesson, p.watch, n_workers, false)?;
    show_phase(lesson, &report);
    lesson.figure("one_per_core", &report);
    let python = cpython::fry_eggs(lesson, &p.python, p.watch, Some(n_workers));
    if let Some(python) = &python {
        cpython::show(lesson, p.watch, &report, "forked children", python);
    }
    lesson.figure("cpython", &python);
    let started = report.workers_started;
    let cores_used = report.measurement.cores_used();
    // The most these workers could use: one core each, and no more cores than the machine has.
    let could = started.min(cores) as f64;
    let how = if cores_used >= 0.9 * could {
        "every core they could use was busy, as a pool of one process per core keeps a machine"
    } else {
        "less than a core each, because other programs wanted the cores too"
    };
    lesson.notice(&format!(
        "{cores_used:.2} cores' worth of CPU for {}: {how}. Unpinned, the workers moved {} in all.",
        format::plural(started as u64, "process"),
        format::plural(report.moves_seen() as u64, "time")
    ));
    Ok(())
}
