//! # Lesson 03 · Race conditions
//!
//! **Objective.** See a race condition happen on shared memory, understand exactly how an
//! update gets lost, and fix it three ways while measuring what each fix costs. Python's
//! `counter += 1` is three steps (load, add, store); when two threads interleave those steps,
//! one thread's store writes over the other's update. Here the same three steps are written
//! as an atomic `load` followed by a separate atomic `store`: well-defined Rust that races
//! exactly like the Python line (a plain `+=` on shared data would not even compile).
//!
//! **What to observe.** Threads lose a large share of their updates, and a different share on
//! every run, once they really run at the same time (a start line waits for that, and a race
//! that still lost nothing is tried again, longer). A step-by-step trace shows the moment one update is overwritten. Processes that
//! share a page of memory lose updates the same way. A `Mutex`, an atomic `fetch_add` and
//! per-thread counting are all exact, at very different costs: the fastest fix shares
//! nothing. Finally, counters that are separate but sit on one cache line still slow each
//! other down (false sharing).
//!
//! **How to run.** `cargo run -p lesson03_race` (add `--quick`, `--json`, `--step`;
//! `--help` lists the knobs). `--quiz --seed S` prints seeded questions on interleavings of
//! load / add / store instead, and `--answers` reveals their answers, computed by the model of
//! section 3 (`src/interleaving.rs`).

mod interleaving;
mod quiz;
mod shared_memory;
mod start_line;

use anyhow::{bail, ensure};
use clap::Parser;
use course::chart::{Bars, histogram};
use course::children;
use course::table::Table;
use course::timing::{self, Comparison, format};
use course::{Lesson, say};
use crossbeam::utils::CachePadded;
use nix::sys::wait::WaitStatus;
use shared_memory::{Shared, SharedMapping};
use start_line::StartLine;
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 03: race conditions on shared memory. Threads, then forked processes, add to \
one shared counter with a separate load and store and lose updates, differently on every run; a \
step-by-step trace shows how. Three fixes (a Mutex, an atomic fetch_add, per-thread counting) are \
checked exact and timed, and false sharing is measured."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads sharing the counter [default: all available cores, at least 2]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(2, 256))]
    threads: Option<usize>,
    /// Increments per thread (or process) [default: 10,000,000, or 500,000 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000_000_000))]
    increments: Option<usize>,
    /// Runs of the race in section 2, each with a tenth of the increments; every fix is checked
    /// as many times in section 5 [default: 50, or 20 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000))]
    runs: Option<usize>,
    /// Child processes sharing the counter in section 4 [default: the number of threads]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(2, 64))]
    processes: Option<usize>,
    /// Increments per thread in the step-by-step trace of section 3 (at most 3, so that every
    /// interleaving can be counted)
    #[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = course::cli::count(1, 3))]
    trace_increments: usize,
    // `--quiz` and `--answers`: questions on interleavings instead of the lesson (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("Race conditions");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let n_threads = args.threads.unwrap_or(lesson.machine().logical_cores.max(2));
        let increments = args.increments.unwrap_or(lesson.pick(500_000, 10_000_000)) as u64;
        let runs = args.runs.unwrap_or(lesson.pick(20, 50));
        let n_processes = args.processes.unwrap_or(n_threads.min(64));
        let increments_per_run = (increments / 10).max(1);
        lesson.param("threads", n_threads);
        lesson.param("increments", increments);
        lesson.param("runs", runs);
        lesson.param("increments_per_run", increments_per_run);
        lesson.param("processes", n_processes);

        lost_updates_between_threads(lesson, n_threads, increments);
        many_runs(lesson, n_threads, increments_per_run, runs);
        one_interleaving(lesson, args.trace_increments as u64)?;
        between_processes(lesson, n_processes, increments)?;
        three_fixes(lesson, n_threads, increments, increments_per_run, runs)?;
        false_sharing(lesson, n_threads, increments)
    })
}

/// Section 1: the race, once; again with more increments when the threads did not overlap.
fn lost_updates_between_threads(lesson: &Lesson, n_threads: usize, increments: u64) {
    lesson.section("Lost updates: threads sharing one counter");
    say!(
        lesson,
        "  Python's `counter += 1` is three steps: load the counter, add 1, store it back. Here {n_threads}"
    );
    say!(
        lesson,
        "  threads each do that {} times to one shared counter (an atomic load, then a separate store).",
        format::count(increments)
    );
    let cores = lesson.machine().logical_cores;
    let mut increments = increments;
    let mut tries = Vec::new();
    let mut last_why = None;
    let race = loop {
        let race = count_racy(n_threads, increments, cores);
        let lost_updates = n_threads as u64 * increments - race.total;
        tries.push(serde_json::json!({
            "increments": increments,
            "lost_updates": lost_updates,
            "started_together": race.together,
        }));
        if lost_updates > 0 || tries.len() == RACE_TRIES {
            break race;
        }
        let why = why_no_update_was_lost(race.together);
        if last_why == Some(why) {
            say!(
                lesson,
                "  Try {}, {} each: none lost either. Again, twice as long.",
                tries.len(),
                format::count(increments)
            );
        } else {
            say!(
                lesson,
                "  Try {}, {} each: no update lost; {why}. Again, twice as long.",
                tries.len(),
                format::count(increments)
            );
        }
        last_why = Some(why);
        increments *= 2;
    };
    let expected = n_threads as u64 * increments;
    let alone = count_racy(1, expected, cores).total;
    let together = race.total;
    let lost_updates = expected - together;
    let mut table = Table::new(&["", "counter", "lost updates"]);
    table.row(["expected".to_string(), format::count(expected), String::new()]);
    table.row([
        "1 thread, the same code".to_string(),
        format::count(alone),
        format::count(expected - alone),
    ]);
    table.row([
        if race.together {
            format!("{n_threads} threads at once")
        } else {
            format!("{n_threads} threads, taking turns")
        },
        format::count(together),
        format!(
            "{} ({})",
            format::count(lost_updates),
            format::percent(lost_updates as f64 / expected as f64)
        ),
    ]);
    if tries.len() > 1 {
        say!(
            lesson,
            "  Try {}, {} increments per thread:",
            tries.len(),
            format::count(increments)
        );
    }
    lesson.table(&table);
    lesson.figure("increments", increments);
    lesson.figure("tries", &tries);
    lesson.figure("started_together", race.together);
    lesson.figure("expected", expected);
    lesson.figure("one_thread_total", alone);
    lesson.figure("total", together);
    lesson.figure("lost_updates", lost_updates);
    lesson.figure("lost_fraction", lost_updates as f64 / expected as f64);
    if lost_updates == 0 {
        say!(
            lesson,
            "  No update was lost in {} tries: {}. Run it again, or raise --increments.",
            tries.len(),
            why_no_update_was_lost(race.together)
        );
        lesson.notice("No update was lost this time because the threads did not overlap, not because the code is right: whenever another thread stores between our load and our store, an update is gone.");
    } else {
        lesson.notice("The code is correct on one thread and wrong on several: nothing in it is wrong except that another thread can store between our load and our store.");
    }
}

/// Tries of section 1 before it gives up showing the race, each twice as long as the one
/// before: a race only shows when the workers overlap, and longer races overlap more.
/// Section 4 adds as many longer runs, less the first, after its runs.
const RACE_TRIES: usize = 5;

/// Why a racy count came out exact, from whether its workers were seen running at once.
fn why_no_update_was_lost(together: bool) -> &'static str {
    if together {
        "the threads hardly overlapped"
    } else {
        "the threads took turns on the cores instead of running at once"
    }
}

/// Section 2: the race, many times.
fn many_runs(lesson: &Lesson, n_threads: usize, increments: u64, runs: usize) {
    lesson.section("Many runs, many answers");
    let expected = n_threads as u64 * increments;
    say!(
        lesson,
        "  The same race {runs} times, {n_threads} threads × {} increments (expected {} every time):",
        format::count(increments),
        format::count(expected)
    );
    let cores = lesson.machine().logical_cores;
    let races: Vec<Race> = (0..runs).map(|_| count_racy(n_threads, increments, cores)).collect();
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
        "  {} different total{} in {runs} runs, from {} to {}; {exact_runs} of {runs} runs were right.",
        distinct.len(),
        if distinct.len() == 1 { "" } else { "s" },
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
        lesson.notice("Every run was right, and the code is still wrong: a race shows only when the threads happen to overlap, so a test that passed, even many times, proves nothing.");
    } else {
        lesson.notice("A race is not a wrong answer but a lottery: the result depends on how the threads happened to interleave, so a test that passed once proves nothing.");
    }
}

/// Section 3: how exactly one update disappears.
fn one_interleaving(lesson: &Lesson, increments: u64) -> anyhow::Result<()> {
    lesson.section("One interleaving, step by step");
    let n_threads = 2;
    let (schedule, draws) = interleaving::losing_schedule(lesson.seed(), n_threads, increments);
    let trace = interleaving::run(n_threads, increments, &schedule)?;
    say!(
        lesson,
        "  Threads A and B each add 1, {increments} time(s), as load / add / store. The order of the steps"
    );
    say!(
        lesson,
        "  is schedule {} (drawn from --seed {}):",
        interleaving::schedule_text(&schedule),
        lesson.seed()
    );
    let mut table = Table::new(&["step", "thread", "does", "A's register", "B's register", "counter", ""])
        .left(1)
        .left(2)
        .left(6);
    let register = |value: Option<u64>| value.map_or("·".to_string(), |v| v.to_string());
    for (step, event) in trace.events.iter().enumerate() {
        let name = interleaving::thread_name(event.thread);
        let own = event.registers[event.thread].unwrap_or(0);
        let does = match event.op {
            interleaving::Op::Load => format!("load counter → {own}"),
            interleaving::Op::Add => format!("add 1 → {own}"),
            interleaving::Op::Store => format!("store {own}"),
        };
        let note = if event.overwritten > 0 {
            format!(
                "← stale: writes over {} update{}, lost",
                event.overwritten,
                if event.overwritten == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        };
        table.row([
            (step + 1).to_string(),
            name.to_string(),
            does,
            register(event.registers[0]),
            register(event.registers[1]),
            event.counter.to_string(),
            note,
        ]);
    }
    lesson.table(&table);
    say!(
        lesson,
        "  Final counter {}, expected {}: {} update(s) lost.",
        trace.final_counter,
        trace.expected(),
        trace.lost_updates()
    );

    let outcomes = interleaving::all_outcomes(n_threads, increments);
    let interleavings: u64 = outcomes.values().sum();
    say!(lesson);
    say!(
        lesson,
        "  Every one of the {} possible interleavings, by final counter:",
        format::count(interleavings)
    );
    let mut bars = Bars::new().width(30);
    for (final_counter, count) in &outcomes {
        bars.row(
            format!("counter {final_counter}"),
            *count as f64,
            format!(
                "{} ({})",
                format::count(*count),
                format::percent(*count as f64 / interleavings as f64)
            ),
        );
    }
    lesson.bars(&bars);
    // A schedule for the class to work through by hand before the answer is shown.
    let mut rng = workloads::Rng::new(lesson.seed().wrapping_add(1));
    let your_turn = interleaving::random_schedule(&mut rng, n_threads, increments);
    let your_turn_answer = interleaving::final_counter(n_threads, increments, &your_turn)?;
    say!(lesson);
    say!(
        lesson,
        "  Your turn: after schedule {}, what does the counter hold?",
        interleaving::schedule_text(&your_turn)
    );
    say!(lesson, "  (Answer: {your_turn_answer}.)");
    lesson.figure(
        "your_turn",
        serde_json::json!({
            "schedule": interleaving::schedule_text(&your_turn),
            "final_counter": your_turn_answer,
        }),
    );

    let right = outcomes.get(&trace.expected()).copied().unwrap_or(0);
    lesson.figure("schedule", interleaving::schedule_text(&schedule));
    lesson.figure("schedules_drawn", draws);
    lesson.figure("final_counter", trace.final_counter);
    lesson.figure("expected", trace.expected());
    lesson.figure("lost_updates", trace.lost_updates());
    lesson.figure("interleavings", interleavings);
    lesson.figure("interleavings_right", right);
    lesson.figure(
        "interleavings_by_final_counter",
        outcomes
            .iter()
            .map(|(counter, count)| (counter.to_string(), *count))
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    lesson.notice(&format!(
        "An update is lost when a thread stores a value it loaded before the other thread's store. Only {right} of the {interleavings} interleavings are right: those where no two load–store windows overlap.",
    ));
    Ok(())
}

/// Section 4: the same race between processes, over a shared mapping; then the same fix.
fn between_processes(lesson: &Lesson, n_processes: usize, increments: u64) -> anyhow::Result<()> {
    lesson.section("Between processes: a counter in shared memory");
    say!(
        lesson,
        "  After fork, parent and child have separate copies of ordinary memory. A page mapped with"
    );
    say!(
        lesson,
        "  MAP_SHARED is the exception: {n_processes} forked children each add {} to one counter there.",
        format::count(increments)
    );
    let mapping = SharedMapping::new()?;
    let expected = n_processes as u64 * increments;

    let racy_runs = lesson.pick(3, 5);
    let cores = lesson.machine().logical_cores;
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
        let race = count_in_children(&mapping, n_processes, longer, add_racily, Start::Together { cores })?;
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
    say!(lesson);
    say!(
        lesson,
        "  Fixed: fetch_add on the shared counter, and counting privately with one fetch_add at the end."
    );
    let mut fixed_totals: Vec<u64> = Vec::new();
    let mut failure: Option<anyhow::Error> = None;
    let mut counted = |result: anyhow::Result<Race>| match result {
        Ok(Race { total, .. }) => {
            fixed_totals.push(total);
            total
        }
        Err(error) => {
            failure.get_or_insert(error);
            0
        }
    };
    let mut comparison = Comparison::new(format!(
        "{n_processes} processes × {} increments on a shared counter",
        format::count(increments)
    ))
    .repeats(0, lesson.pick(2, 3));
    comparison.variant("1 process, fetch_add", 1, || {
        counted(count_in_children(&mapping, 1, expected, add_atomically, Start::Arrived))
    });
    comparison.variant(format!("{n_processes} processes, fetch_add"), n_processes, || {
        counted(count_in_children(
            &mapping,
            n_processes,
            increments,
            add_atomically,
            Start::Arrived,
        ))
    });
    comparison.variant(format!("{n_processes} processes, private count"), n_processes, || {
        counted(count_in_children(
            &mapping,
            n_processes,
            increments,
            |counter, increments| {
                // One shared write per process instead of one per increment.
                counter.fetch_add(count_privately(increments), Ordering::SeqCst);
            },
            Start::Arrived,
        ))
    });
    if let Some(error) = failure {
        return Err(error);
    }
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
    lesson.notice("Shared memory between processes races exactly like memory shared by threads, and takes the same fixes; the answers are checked exact before any speedup is shown.");
    Ok(())
}

/// Section 5: three ways to be exact, timed.
fn three_fixes(
    lesson: &Lesson,
    n_threads: usize,
    increments: u64,
    increments_per_run: u64,
    runs: usize,
) -> anyhow::Result<()> {
    lesson.section("Three fixes, and what each costs");
    for line in [
        "Mutex       the load-add-store happens with a lock held: one thread at a time",
        "fetch_add   one indivisible read-modify-write instruction (`lock xadd` on x86)",
        "local sum   each thread counts in its own variable; the totals are added once, at the end",
    ] {
        say!(lesson, "  {line}");
    }
    let fixes: [(&str, Counting); 3] = [
        ("Mutex", count_with_mutex),
        ("fetch_add", count_with_fetch_add),
        ("local sum", count_locally_then_sum),
    ];

    // Correct before fast: every fix, as many runs as the race had in section 2.
    let expected_per_run = n_threads as u64 * increments_per_run;
    let mut exact = Table::new(&["fix", "runs", "exact", "totals seen"]);
    let mut exact_runs = serde_json::Map::new();
    for (name, fix) in fixes {
        let totals: BTreeSet<u64> = (0..runs).map(|_| fix(n_threads, increments_per_run)).collect();
        let exact_count = if totals.len() == 1 && totals.contains(&expected_per_run) {
            runs
        } else {
            0
        };
        ensure!(
            exact_count == runs,
            "{name} was not exact: totals {totals:?}, expected {expected_per_run}"
        );
        let seen: Vec<String> = totals.iter().map(|&total| format::count(total)).collect();
        exact.row([
            name.to_string(),
            runs.to_string(),
            exact_count.to_string(),
            seen.join(", "),
        ]);
        exact_runs.insert(name.to_string(), exact_count.into());
    }
    say!(lesson);
    say!(
        lesson,
        "  Each fix, {runs} runs of {n_threads} threads × {} increments:",
        format::count(increments_per_run)
    );
    lesson.table(&exact);

    // Then what each costs: all variants must compute n_threads × increments.
    say!(lesson);
    let total_increments = n_threads as u64 * increments;
    let mut comparison = Comparison::new(format!(
        "{n_threads} threads × {} increments",
        format::count(increments)
    ))
    .repeats(1, lesson.pick(2, 3));
    comparison.variant("1 thread", 1, || count_sequential(n_threads, increments));
    for (name, fix) in fixes {
        comparison.variant(name, n_threads, || fix(n_threads, increments));
    }
    let report = lesson.compare(comparison)?;

    // The racy version for reference: it disagrees by definition, so it stays out of the
    // comparison and is only timed, started behind a barrier like the fixes.
    let (racy_total, racy) = timing::measure(|| count_racy_behind_barrier(n_threads, increments));
    say!(lesson);
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
            "{}, lost {} updates",
            format::seconds(racy_seconds),
            format::count(total_increments - racy_total)
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
    lesson.notice("All three fixes are exact, at very different prices: threads queueing for a lock or for one cache line run slower than one thread alone. The fastest fix does not share at all.");
    Ok(())
}

/// Section 6: per-thread counters that share a cache line.
fn false_sharing(lesson: &Lesson, n_threads: usize, increments: u64) -> anyhow::Result<()> {
    lesson.section("False sharing: separate counters, one cache line");
    let packed_spacing = size_of::<u64>();
    let padded_spacing = size_of::<CachePadded<u64>>();
    say!(
        lesson,
        "  Each thread adds 1 to its own counter in memory, {} times. No data is shared, but",
        format::count(increments)
    );
    say!(
        lesson,
        "  packed counters are {packed_spacing} bytes apart, so several share one 64-byte cache line, and the"
    );
    say!(
        lesson,
        "  cores pass that line back and forth on every write. Padded counters are {padded_spacing} bytes apart."
    );
    let mut comparison = Comparison::new(format!(
        "{n_threads} counters × {} increments",
        format::count(increments)
    ))
    .repeats(1, lesson.pick(2, 3));
    comparison.variant("1 thread", 1, || count_in_one_slot(n_threads, increments));
    comparison.variant(format!("{n_threads} threads, packed"), n_threads, || {
        count_in_packed_slots(n_threads, increments)
    });
    comparison.variant(format!("{n_threads} threads, padded"), n_threads, || {
        count_in_padded_slots(n_threads, increments)
    });
    let report = lesson.compare(comparison)?;
    let (Some(packed), Some(padded)) = (report.rows.get(1), report.rows.get(2)) else {
        bail!("the false-sharing comparison lost a row");
    };
    let slowdown = timing::ratio(packed.median.wall, padded.median.wall);
    say!(
        lesson,
        "  Packed counters took {} as long as padded ones for the same work.",
        format::times(slowdown)
    );
    lesson.figure("packed_spacing_bytes", packed_spacing);
    lesson.figure("padded_spacing_bytes", padded_spacing);
    lesson.figure("packed_slowdown", slowdown);
    lesson.notice("Same answer, different speed: the hardware shares memory by cache line, not by variable. Keep data that different threads write often at least a cache line apart.");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One worker's share of the counting, used by threads and by processes alike.

/// Adds 1 `increments` times with a separate load and store.
// This version is problematic: another worker may store between our load and our store,
// and our store then writes over its update. Each access alone is atomic, so there is no
// undefined behaviour; the read-modify-write as a whole is not.
fn add_racily(counter: &AtomicU64, increments: u64) {
    for _ in 0..increments {
        // Relaxed, because no ordering can make this right: the bug is the gap between the
        // two operations, and even SeqCst leaves it open.
        let value = counter.load(Ordering::Relaxed);
        // black_box keeps the compiler from fusing the load and the store into one `inc`
        // instruction, which a core that is interrupted cannot be caught halfway through.
        // Python's `counter += 1` is separate bytecodes as well.
        let value = std::hint::black_box(value) + 1;
        counter.store(value, Ordering::Relaxed);
    }
}

/// Adds 1 `increments` times with one indivisible read-modify-write each.
fn add_atomically(counter: &AtomicU64, increments: u64) {
    for _ in 0..increments {
        // Relaxed is enough: only the count matters, no other memory is published through
        // it, and whoever reads the total does so after joining (or reaping) every worker,
        // which orders all their increments before the read.
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Counts to `increments` in a private variable: nothing is shared.
fn count_privately(increments: u64) -> u64 {
    let mut count = 0u64;
    for _ in 0..increments {
        // black_box stops the compiler from replacing the loop by a single addition, so that
        // every variant really performs every increment.
        count += std::hint::black_box(1);
    }
    count
}

// ---------------------------------------------------------------------------------------------
// Threads.

/// Every counting function: (threads, increments per thread) → the final count.
type Counting = fn(usize, u64) -> u64;

/// One thread does every increment: nothing is shared, nothing can race.
fn count_sequential(n_threads: usize, increments: u64) -> u64 {
    count_privately(n_threads as u64 * increments)
}

/// The outcome of a racy count.
#[derive(Clone, Copy, Debug)]
struct Race {
    /// The final counter.
    total: u64,
    /// Whether every worker was seen running at the same moment before they started counting.
    together: bool,
}

/// Threads share one counter and update it with a separate load and store, starting at a
/// start line that waits until all of them run at once (`start_line.rs`), on a machine with
/// `cores` cores.
// This version is problematic: it loses updates (see `add_racily`).
fn count_racy(n_threads: usize, increments: u64, cores: usize) -> Race {
    let counter = AtomicU64::new(0);
    let beats: Vec<AtomicU64> = (0..n_threads).map(|_| AtomicU64::new(0)).collect();
    let state = AtomicU8::new(0);
    let line = StartLine::new(&beats, &state, cores);
    std::thread::scope(|scope| {
        for me in 0..n_threads {
            let (line, counter) = (&line, &counter);
            scope.spawn(move || {
                line.wait(me);
                add_racily(counter, increments);
            });
        }
    });
    Race {
        total: counter.into_inner(),
        together: line.together(),
    }
}

/// The same race, started behind a barrier like the fixes, to be timed beside them.
// This version is problematic: it loses updates (see `add_racily`).
fn count_racy_behind_barrier(n_threads: usize, increments: u64) -> u64 {
    let counter = AtomicU64::new(0);
    on_threads((0..n_threads).collect(), |_| add_racily(&counter, increments));
    counter.into_inner()
}

/// Threads share one counter behind a Mutex: the load-add-store happens under the lock.
fn count_with_mutex(n_threads: usize, increments: u64) -> u64 {
    let counter = Mutex::new(0u64);
    on_threads((0..n_threads).collect(), |_| {
        for _ in 0..increments {
            // A thread that panicked while holding the lock cannot have left a half-done
            // increment (there is nothing to panic in `+= 1`), so a poisoned lock is still fine.
            *counter.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
    });
    counter.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Threads share one atomic counter and add with fetch_add, one instruction per increment.
fn count_with_fetch_add(n_threads: usize, increments: u64) -> u64 {
    let counter = AtomicU64::new(0);
    on_threads((0..n_threads).collect(), |_| add_atomically(&counter, increments));
    counter.into_inner()
}

/// Threads share nothing while counting: each returns its own count, summed after joining.
fn count_locally_then_sum(n_threads: usize, increments: u64) -> u64 {
    on_threads((0..n_threads).collect(), |_| count_privately(increments))
        .into_iter()
        .sum()
}

// False sharing: every thread writes its own slot in memory; only the layout differs.

/// One thread adds every increment to one slot in memory.
fn count_in_one_slot(n_threads: usize, increments: u64) -> u64 {
    let mut slot = 0u64;
    add_in_memory(&mut slot, n_threads as u64 * increments);
    slot
}

/// Each thread adds to its own slot; the slots are packed side by side (8 bytes apart).
fn count_in_packed_slots(n_threads: usize, increments: u64) -> u64 {
    let mut slots = vec![0u64; n_threads];
    on_threads(slots.iter_mut().collect(), |slot| add_in_memory(slot, increments));
    slots.iter().sum()
}

/// The same, with each slot padded to its own cache line (crossbeam's CachePadded).
fn count_in_padded_slots(n_threads: usize, increments: u64) -> u64 {
    let mut slots: Vec<CachePadded<u64>> = (0..n_threads).map(|_| CachePadded::new(0)).collect(); // New!
    on_threads(slots.iter_mut().map(|slot| &mut **slot).collect(), |slot| {
        add_in_memory(slot, increments)
    });
    slots.iter().map(|slot| **slot).sum()
}

/// Adds 1 to `*slot` `increments` times, each time loading from and storing to memory.
fn add_in_memory(slot: &mut u64, increments: u64) {
    for _ in 0..increments {
        // black_box hides where `slot` points, so every addition goes to memory (as
        // `counts[i] += 1` does in Python or C) instead of staying in a register.
        *std::hint::black_box(&mut *slot) += 1;
    }
}

/// Runs `work(input)` on one scoped thread per input, all released together by a barrier
/// once the last one has started (for timed work: the start line of `count_racy` waits
/// longer, and its waiting would be timed). Returns the results in input order.
fn on_threads<I: Send, T: Send>(inputs: Vec<I>, work: impl Fn(I) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(inputs.len());
    std::thread::scope(|scope| {
        let workers: Vec<_> = inputs
            .into_iter()
            .map(|input| {
                let (start, work) = (&start, &work);
                scope.spawn(move || {
                    start.wait();
                    work(input)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Processes.

/// How a group of child processes starts counting.
#[derive(Clone, Copy, Debug)]
enum Start {
    /// As soon as the last one is ready: for the timed fixes, so that no waiting is timed.
    Arrived,
    /// Once all of them are seen running at once, on a machine with `cores` cores (see
    /// `start_line.rs`): for the race, which shows only when the children overlap.
    Together { cores: usize },
}

/// Forks `n_processes` children that each run `update(counter, increments)` on the shared
/// counter, all starting together; reaps them and returns the counter.
fn count_in_children(
    mapping: &SharedMapping,
    n_processes: usize,
    increments: u64,
    update: fn(&AtomicU64, u64),
    start: Start,
) -> anyhow::Result<Race> {
    let shared: &Shared = mapping;
    ensure!(
        n_processes <= shared_memory::MAX_PROCESSES,
        "at most {} processes can share the counter",
        shared_memory::MAX_PROCESSES
    );
    shared.reset();
    let beats = &shared.beats[..n_processes];
    let line = match start {
        Start::Together { cores } => Some(StartLine::new(beats, &shared.start, cores)),
        Start::Arrived => None,
    };
    // `children::fork` refuses to fork while another thread is alive, and gives the threads of
    // the sections before (joined, but perhaps not yet gone) a moment to leave.
    let mut pids = Vec::with_capacity(n_processes);
    for me in 0..n_processes {
        let line = line.as_ref();
        let pid = children::fork(|| {
            if let Some(line) = line {
                line.wait(me);
            } else {
                shared.ready.fetch_add(1, Ordering::SeqCst);
                while !shared.go.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
            }
            update(&shared.counter, increments);
            0
        })?;
        pids.push(pid);
    }
    if line.is_none() {
        // Start them together, so that they overlap as threads did.
        let deadline = Instant::now() + Duration::from_secs(30);
        while shared.ready.load(Ordering::SeqCst) < n_processes {
            ensure!(Instant::now() < deadline, "the child processes did not start");
            std::thread::yield_now();
        }
        shared.go.store(true, Ordering::SeqCst);
    }
    for pid in pids {
        match children::wait(pid)? {
            WaitStatus::Exited(_, 0) => {}
            status => bail!("a child process ended unexpectedly: {status:?}"),
        }
    }
    Ok(Race {
        total: shared.counter.load(Ordering::SeqCst),
        together: line.is_some_and(|line| line.together()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fix_is_exact_on_every_run() {
        for n_threads in [2, 3, 4, 8] {
            let expected = n_threads as u64 * 20_000;
            for _ in 0..25 {
                assert_eq!(count_with_mutex(n_threads, 20_000), expected);
                assert_eq!(count_with_fetch_add(n_threads, 20_000), expected);
                assert_eq!(count_locally_then_sum(n_threads, 20_000), expected);
                assert_eq!(count_sequential(n_threads, 20_000), expected);
            }
        }
    }

    #[test]
    fn separate_slots_are_exact_packed_or_padded() {
        for n_threads in [2, 5] {
            let expected = n_threads as u64 * 10_000;
            assert_eq!(count_in_one_slot(n_threads, 10_000), expected);
            assert_eq!(count_in_packed_slots(n_threads, 10_000), expected);
            assert_eq!(count_in_padded_slots(n_threads, 10_000), expected);
        }
        assert!(size_of::<CachePadded<u64>>() >= 64);
    }

    #[test]
    fn the_racy_count_never_gains_and_is_exact_alone() {
        assert_eq!(count_racy(1, 100_000, 1).total, 100_000);
        assert_eq!(count_racy_behind_barrier(1, 100_000), 100_000);
        for cores in [1, 2, 8] {
            for _ in 0..5 {
                let total = count_racy(4, 50_000, cores).total;
                assert!((1..=200_000).contains(&total), "{total}");
                let total = count_racy_behind_barrier(4, 50_000);
                assert!((1..=200_000).contains(&total), "{total}");
            }
        }
    }

    #[test]
    fn threads_start_together_and_results_keep_their_order() {
        let results = on_threads((0..6).collect(), |i: usize| i * 10);
        assert_eq!(results, vec![0, 10, 20, 30, 40, 50]);
    }
}
