//! Section 2: the lecture's `how_to_fry_eggs_on_my_computer`, in one process; then the same
//! loop in one CPython process (`python/fry_eggs.py`).

use crate::Params;
use crate::cpython;
use crate::phase::run_phase;
use crate::show::show_phase;
use course::timing::format;
use course::{Lesson, say};

/// A lone busy process that got less than this share of a core was held back by other programs.
const ONE_CORE_AT_LEAST: f64 = 0.9;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let phase = format::duration(p.watch.phase);
    lesson.reveal(
        format_args!(
            "Your turn: one process spins in a loop for {phase}. How many cores' worth of CPU will \
             it use, and on which core?"
        ),
        "At most one core's worth: a process with one thread runs on one core at a time. Which \
         core is the scheduler's choice, and it may change its mind.",
    )?;
    say!(
        lesson,
        "  One child process spins in a loop for {phase} doing nothing useful, as the lecture's \
         function does."
    );
    let report = run_phase(lesson, p.watch, 1, false)?;
    show_phase(lesson, &report);
    lesson.figure("one_process", &report);
    let python = cpython::fry_eggs(lesson, &p.python, p.watch, None);
    if let Some(python) = &python {
        cpython::show(lesson, p.watch, &report, "a forked child", python);
    }
    lesson.figure("cpython", &python);
    let cores_used = report.measurement.cores_used();
    let got = if cores_used >= ONE_CORE_AT_LEAST {
        format!("One busy process is one core's worth of CPU ({cores_used:.2} cores used)")
    } else {
        format!(
            "One busy process is at most one core's worth of CPU; it got only {cores_used:.2} here, \
             because other programs wanted the cores too"
        )
    };
    let moved = match report.workers.first() {
        Some(worker) if worker.moves_seen > 0 => format!(
            "; the scheduler moved it {}, over {}: that is why the lecture saw two cores active for \
             a serial job",
            format::plural(worker.moves_seen as u64, "time"),
            format::plural(worker.cores_visited.len() as u64, "core")
        ),
        Some(_) => "; this time the scheduler left it on one core (moves come and go with whatever \
                    else runs: try --phase-ms 10000)"
            .to_string(),
        None => String::new(),
    };
    lesson.notice(&format!("{got}{moved}."));
    Ok(())
}
