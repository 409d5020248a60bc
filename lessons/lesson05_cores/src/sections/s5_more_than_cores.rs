//! Section 5: more busy processes than cores: they take turns.

use crate::Params;
use crate::phase::run_phase;
use crate::show::show_phase;
use course::Lesson;
use course::timing::format;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n = 2 * p.n_workers;
    let cores = lesson.machine().logical_cores;
    // The answer as the machine allows it: at most a core each, and no more cores than it has.
    let share = (cores as f64 / n as f64).min(1.0);
    lesson.reveal(
        format_args!(
            "Your turn: {n} busy processes on {}. How many cores' worth of CPU do they use, and \
             how much of a core does each get?",
            format::plural(cores as u64, "core")
        ),
        format_args!(
            "At most {}, so about {} of a core each{}.",
            format::plural(n.min(cores) as u64, "core"),
            format::percent(share),
            if n > cores {
                ": there is not a core for each, so they take turns"
            } else {
                ""
            }
        ),
    )?;
    let report = run_phase(lesson, p.watch, n, false)?;
    show_phase(lesson, &report);
    let started = report.workers_started.max(1);
    let preempted: u64 = report
        .workers
        .iter()
        .filter_map(|worker| worker.involuntary_switches)
        .sum();
    let cores_used = report.measurement.cores_used();
    let share_each = cores_used / started as f64;
    lesson.figure("twice_as_many", &report);
    lesson.figure("share_of_a_core_each", share_each);
    // "Taking turns" only where the count says so: more processes than cores, and preemptions.
    let turns = if report.workers_started > cores && preempted > 0 {
        format!(
            ", and they were preempted {} in all to take turns. More busy processes than cores add \
             switching, not speed",
            format::plural(preempted, "time")
        )
    } else {
        let how_to_see = if report.workers_started < n {
            "the machine's limit (in the warning above) kept the others from starting"
        } else {
            "raise --workers to see them take turns"
        };
        format!(
            ". With {} on {}, each could have a core: {how_to_see}",
            format::plural(report.workers_started as u64, "process"),
            format::plural(cores as u64, "core")
        )
    };
    // Less than the cores they could fill: other programs held the rest, which the answer above
    // did not count on.
    let could = report.workers_started.min(cores);
    let held_back = if cores_used < 0.9 * could as f64 {
        format!(
            " of the {} they could fill (other programs wanted the cores too)",
            format::count(could as u64)
        )
    } else {
        String::new()
    };
    lesson.notice(&format!(
        "{cores_used:.2} cores used{held_back}: each process had about {} of a core{turns}.",
        format::percent(share_each)
    ));
    Ok(())
}
