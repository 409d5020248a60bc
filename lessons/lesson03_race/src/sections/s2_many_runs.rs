//! Section 2: the race, many times: a different answer on almost every run.

use crate::Params;
use crate::racing::{Race, count_racy_at_start_line, why_no_update_was_lost};
use course::chart::histogram;
use course::timing::format;
use course::{Lesson, say};
use std::collections::BTreeSet;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, increments, runs) = (p.n_threads, p.increments_per_run, p.runs);
    let expected = n_threads as u64 * increments;
    say!(
        lesson,
        "  The same race {runs} times, {n_threads} threads × {} increments (expected {} every time):",
        format::count(increments),
        format::count(expected)
    );
    let races = (0..runs)
        .map(|_| count_racy_at_start_line(n_threads, increments, p.cores))
        .collect::<anyhow::Result<Vec<Race>>>()?;
    let totals: Vec<u64> = races.iter().map(|race| race.total).collect();
    let together = races.iter().filter(|race| race.together).count();
    let values: Vec<f64> = totals.iter().map(|&total| total as f64).collect();
    lesson.bars(&histogram(&values, 10, |v| format::count(v.round() as u64)));
    let distinct: BTreeSet<u64> = totals.iter().copied().collect();
    let exact_runs = totals.iter().filter(|&&total| total == expected).count();
    let lowest = totals.iter().copied().min().unwrap_or(0);
    let highest = totals.iter().copied().max().unwrap_or(0);
    say!(
        lesson,
        "  {} in {runs} runs, from {} to {}; {exact_runs} of {runs} runs were right.",
        format::plural(distinct.len() as u64, "different total"),
        format::count(lowest),
        format::count(highest)
    );
    lesson.figure("expected_per_run", expected);
    lesson.figure("totals", &totals);
    lesson.figure("distinct_totals", distinct.len());
    lesson.figure("exact_runs", exact_runs);
    lesson.figure("lowest_total", lowest);
    lesson.figure("highest_total", highest);
    lesson.figure("runs_started_together", together);
    if exact_runs == runs {
        say!(
            lesson,
            "  Every run was right this time: {}. Run it again, or raise --increments.",
            why_no_update_was_lost(together == runs)
        );
        lesson.notice(
            "Every run was right, and the code is still wrong: a race shows only when the threads \
             happen to overlap, so a test that passed, even many times, proves nothing.",
        );
    } else {
        lesson.notice(
            "A race is not a wrong answer but a lottery: the result depends on how the threads \
             happened to interleave, so a test that passed once proves nothing.",
        );
    }
    Ok(())
}
