//! Section 5: three ways to be exact, checked on many runs, then timed.

use crate::Params;
use crate::race::{count_locally_then_sum, count_racy, count_sequential, count_with_fetch_add, count_with_mutex};
use anyhow::ensure;
use course::chart::Bars;
use course::timing::{self, Comparison, format};
use course::{Lesson, say};
use std::collections::BTreeSet;

/// Every fix, as the concept file names it, with its signature.
type Counting = fn(usize, u64) -> std::io::Result<u64>;

const FIXES: [(&str, Counting); 3] = [
    ("Mutex", count_with_mutex),
    ("fetch_add", count_with_fetch_add),
    ("local sum", count_locally_then_sum),
];

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, increments, runs) = (p.n_threads, p.increments, p.runs);
    for line in [
        "Mutex       the load-add-store happens with a lock held: one thread at a time",
        "fetch_add   one indivisible read-modify-write instruction (`lock xadd` on x86)",
        "local sum   each thread counts in its own variable; the totals are added once, at the end",
    ] {
        say!(lesson, "  {line}");
    }

    // Correct before fast: every fix, as many runs as the race had in section 2.
    let expected_per_run = n_threads as u64 * p.increments_per_run;
    let mut exact_runs = serde_json::Map::new();
    for (name, fix) in FIXES {
        let totals = (0..runs)
            .map(|_| fix(n_threads, p.increments_per_run))
            .collect::<std::io::Result<BTreeSet<u64>>>()?;
        ensure!(
            totals.len() == 1 && totals.contains(&expected_per_run),
            "{name} was not exact: totals {totals:?}, expected {expected_per_run}"
        );
        exact_runs.insert(name.to_string(), runs.into());
    }
    lesson.checked(
        true,
        format!(
            "every fix exact in {runs} of {runs} runs of {n_threads} threads × {} increments",
            format::count(p.increments_per_run)
        ),
    );

    // Then what each costs: all variants must compute n_threads × increments.
    let total_increments = n_threads as u64 * increments;
    let mut comparison = Comparison::new(format!(
        "{n_threads} threads × {} increments",
        format::count(increments)
    ))
    .repeats(1, lesson.pick(2, 3));
    comparison.try_variant("1 thread", 1, || count_sequential(n_threads, increments))?;
    // A lock lets one thread in at a time: taking turns is what it does.
    comparison
        .try_variant("Mutex", n_threads, || count_with_mutex(n_threads, increments))?
        .other_algorithm()
        .serialized();
    comparison
        .try_variant("fetch_add", n_threads, || count_with_fetch_add(n_threads, increments))?
        .other_algorithm();
    // The 1-thread count, split between threads: the same algorithm on more workers.
    comparison.try_variant("local sum", n_threads, || count_locally_then_sum(n_threads, increments))?;
    let report = lesson.compare(comparison)?;

    // The racy version for reference: it disagrees by definition, so it stays out of the
    // comparison and is only timed.
    let (racy_total, racy) = timing::measure(|| count_racy(n_threads, increments));
    let racy_total = racy_total?;
    say!(lesson, "  Time per increment:");
    let mut per_increment = serde_json::Map::new();
    let mut bars = Bars::new().width(30);
    for row in &report.rows {
        let seconds = row.median_s / total_increments as f64;
        bars.row(&row.name, seconds, format::seconds(seconds));
        per_increment.insert(row.name.clone(), seconds.into());
    }
    let racy_seconds = racy.wall.as_secs_f64() / total_increments as f64;
    bars.row(
        "racy (wrong)",
        racy_seconds,
        format!(
            "{}, lost {}",
            format::seconds(racy_seconds),
            format::plural(total_increments - racy_total, "update")
        ),
    );
    lesson.bars(&bars);
    lesson.figure("fix_runs", runs);
    lesson.figure("fix_exact_runs", exact_runs);
    lesson.figure("expected", total_increments);
    lesson.figure("seconds_per_increment", per_increment);
    lesson.figure(
        "racy",
        serde_json::json!({
            "total": racy_total,
            "lost_updates": total_increments - racy_total,
            "seconds_per_increment": racy_seconds,
            "measurement": racy,
        }),
    );
    lesson.notice(
        "All three fixes are exact, at very different prices: threads queueing for a lock or for one \
         cache line run slower than one thread alone. The fastest fix does not share at all.",
    );
    Ok(())
}
