//! Section 4: the same workers, each allowed on one core only (`busy::pin_process`).

use crate::Params;
use crate::phase::run_phase;
use crate::show::show_phase;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n_workers = p.n_workers;
    say!(
        lesson,
        "  The same {n_workers} processes, each given an affinity mask of a single core \
         (sched_setaffinity, what `taskset -c N` does): the scheduler may run each only there."
    );
    lesson.reveal(
        "Your turn: how often will the scheduler move a pinned process to another core?",
        "Never: its mask allows one core, so when that core is taken, it waits there for its turn.",
    )?;
    let report = run_phase(lesson, p.watch, n_workers, true)?;
    show_phase(lesson, &report);
    let moves = report.moves_seen();
    let kernel: u64 = report
        .workers
        .iter()
        .filter_map(|worker| worker.kernel_migrations)
        .sum();
    lesson.figure("pinned", &report);
    let never = if moves == 0 && kernel == 0 {
        "Pinned workers never moved"
    } else {
        "Pinned workers moved, which a mask of one core should prevent"
    };
    lesson.notice(&format!(
        "{never} ({} seen, {} counted by the kernel). Pinning keeps a core's caches warm, but a \
         pinned worker cannot escape a core that something else is using.",
        format::plural(moves as u64, "move"),
        format::count(kernel)
    ));
    Ok(())
}
