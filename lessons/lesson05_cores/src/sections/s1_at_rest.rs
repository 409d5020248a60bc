//! Section 1: the counters the kernel keeps, and what the machine does with no help from us.

use crate::Params;
use crate::phase::{Watch, run_phase};
use crate::sampler;
use crate::show::show_phase;
use course::timing::format;
use course::{Lesson, say};
use std::time::Duration;

/// Below this share of a core busy, a core at rest counts as idle. The counters tick 100 times
/// a second, so over a fifth of a second a single tick already reads 5%.
const NEARLY_IDLE: f64 = 0.05;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  The kernel counts, for every core, the time it spent running something and the time it \
         sat idle (/proc/stat, in clock ticks, usually 1/100 s). A core's load over an interval is \
         its busy share of it: what htop's bars show, and what the bars below show, redrawn several \
         times a second."
    );
    let Some(cores) = sampler::core_ticks() else {
        say!(
            lesson,
            "  This platform does not publish per-core counters (no /proc/stat): the lesson still runs \
             its busy processes, and `htop` or Activity Monitor beside it shows what the bars would."
        );
        lesson.figure("cores_counted", 0);
        lesson.notice("Without /proc the load has to be watched in another tool; the workers still run.");
        return Ok(());
    };
    let rest = Watch {
        phase: p.watch.phase.min(Duration::from_secs(1)),
        ..p.watch
    };
    say!(
        lesson,
        "  {} counted. For the next {}, nothing of ours runs but the watcher that reads them:",
        format::plural(cores.len() as u64, "core"),
        format::duration(rest.phase)
    );
    let report = run_phase(lesson, rest, 0, false)?;
    show_phase(lesson, &report);
    let busiest = report.core_load.iter().copied().fold(0.0, f64::max);
    lesson.figure("cores_counted", cores.len());
    lesson.figure("at_rest", &report);
    lesson.figure("busiest_at_rest", busiest);
    if busiest < NEARLY_IDLE {
        lesson.notice(&format!(
            "At rest the cores were idle this time (the busiest was {} busy), so the bars below show \
             our workers alone. On a shared machine, other programs and other people use the cores \
             too, and every bar includes them.",
            format::percent(busiest)
        ));
    } else {
        lesson.notice(&format!(
            "Even at rest the cores were not idle (the busiest was {} busy): other programs, and other \
             people on a shared machine, use them too. Every bar below includes them.",
            format::percent(busiest)
        ));
    }
    Ok(())
}
