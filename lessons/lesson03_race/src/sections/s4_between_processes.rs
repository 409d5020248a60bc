//! Section 4: the same race between processes, over a shared mapping; then the same fixes.

use crate::Params;
use crate::processes::{Start, count_in_children};
use crate::race::{add_atomically, add_racily, count_privately};
use crate::racing::{RACE_TRIES, Race};
use crate::shared_memory::SharedMapping;
use anyhow::ensure;
use course::table::Table;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use std::sync::atomic::{AtomicU64, Ordering};

/// One process's share of the private count: count alone, then one shared write at the end.
fn add_privately_then_once(counter: &AtomicU64, increments: u64) {
    counter.fetch_add(count_privately(increments), Ordering::Relaxed);
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_processes, increments) = (p.n_processes, p.increments);
    say!(
        lesson,
        "  After fork, parent and child have separate copies of ordinary memory. A page mapped with \
         MAP_SHARED is the exception: {n_processes} forked children each add {} to one counter there.",
        format::count(increments)
    );
    let mapping = SharedMapping::new()?;
    let expected = n_processes as u64 * increments;

    let racy_runs = lesson.pick(3, 5);
    // (increments per child, outcome) of every racy run; when none of the first runs lost an
    // update, more runs follow, each twice as long, as section 1's tries do.
    let mut racy: Vec<(u64, Race)> = Vec::new();
    let mut longer = increments;
    while racy.len() < racy_runs
        || (racy.len() < racy_runs + RACE_TRIES - 1
            && racy.iter().all(|(each, race)| race.total == n_processes as u64 * each))
    {
        if racy.len() >= racy_runs {
            longer *= 2;
        }
        let start = Start::Together { cores: p.cores };
        let race = count_in_children(&mapping, n_processes, longer, add_racily, start)?;
        racy.push((longer, race));
    }
    let lost = |(each, race): &(u64, Race)| n_processes as u64 * each - race.total;
    let mut table = Table::new(&["run", "each child", "counter", "expected", "lost updates"]);
    for (run, outcome) in racy.iter().enumerate() {
        table.row([
            (run + 1).to_string(),
            format::count(outcome.0),
            format::count(outcome.1.total),
            format::count(n_processes as u64 * outcome.0),
            format::count(lost(outcome)),
        ]);
    }
    lesson.table(&table);
    let together = racy.iter().filter(|(_, race)| race.together).count();
    let why = if together == racy.len() {
        "the children hardly overlapped"
    } else {
        "the children took turns on the cores instead of running at once"
    };
    if racy.iter().all(|outcome| lost(outcome) == 0) {
        say!(
            lesson,
            "  No update was lost this time: {why}. Run it again, or raise --increments."
        );
    } else if racy.len() > racy_runs {
        say!(
            lesson,
            "  Runs 1 to {racy_runs} lost nothing ({why}), so the runs after them are longer."
        );
    }

    // The fix across processes: one indivisible read-modify-write per increment, or one per
    // process after counting privately. Every run is checked against the expected total.
    say!(
        lesson,
        "  Fixed: fetch_add on the shared counter, and counting privately with one fetch_add at the end."
    );
    let mut fixed_totals: Vec<u64> = Vec::new();
    let mut count = |n: usize, each: u64, update: fn(&AtomicU64, u64)| {
        let total = count_in_children(&mapping, n, each, update, Start::Arrived)?.total;
        fixed_totals.push(total);
        anyhow::Ok(total)
    };
    let mut comparison = Comparison::new(format!(
        "{n_processes} processes × {} increments on a shared counter",
        format::count(increments)
    ))
    .repeats(0, lesson.pick(2, 3));
    comparison.try_variant("1 process, fetch_add", 1, || count(1, expected, add_atomically))?;
    comparison.try_variant(format!("{n_processes} processes, fetch_add"), n_processes, || {
        count(n_processes, increments, add_atomically)
    })?;
    comparison
        .try_variant(format!("{n_processes} processes, private count"), n_processes, || {
            count(n_processes, increments, add_privately_then_once)
        })?
        .other_algorithm();
    ensure!(
        fixed_totals.iter().all(|&total| total == expected),
        "a fixed count across processes lost updates: {fixed_totals:?}, expected {expected}"
    );
    lesson.compare(comparison)?;
    // Every child is reaped: unmap the shared page.
    drop(mapping);

    lesson.figure("expected", expected);
    lesson.figure(
        "racy_increments",
        racy.iter().map(|(each, _)| *each).collect::<Vec<_>>(),
    );
    lesson.figure(
        "racy_totals",
        racy.iter().map(|(_, race)| race.total).collect::<Vec<_>>(),
    );
    lesson.figure("racy_lost_updates", racy.iter().map(lost).collect::<Vec<_>>());
    lesson.figure("racy_runs_started_together", together);
    lesson.figure("fixed_totals", &fixed_totals);
    lesson.figure("fixed_exact", true);
    lesson.notice(
        "Shared memory between processes races exactly like memory shared by threads, and takes the \
         same fixes; the answers are checked exact before any speedup is shown.",
    );
    Ok(())
}
