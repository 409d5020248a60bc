//! Section 1: the race, once; again with more increments when the threads did not overlap;
//! then the same race on CPython, the notes' `counter += 1` among its variants.

use crate::Params;
use crate::cpython::{self, MOST_INCREMENTS};
use crate::racing::{RACE_TRIES, count_racy_at_start_line, why_no_update_was_lost};
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

#[derive(serde::Serialize)]
struct Try {
    increments: u64,
    lost_updates: u64,
    started_together: bool,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n_threads = p.n_threads;
    say!(
        lesson,
        "  Python's `counter += 1` is three steps: load the counter, add 1, store it back. Here \
         {n_threads} threads each do that {} times to one shared counter (an atomic load, then a \
         separate store).",
        format::count(p.increments)
    );
    let mut increments = p.increments;
    let mut tries = Vec::new();
    let mut last_why = None;
    let race = loop {
        let race = count_racy_at_start_line(n_threads, increments, p.cores)?;
        let lost_updates = n_threads as u64 * increments - race.total;
        tries.push(Try {
            increments,
            lost_updates,
            started_together: race.together,
        });
        if lost_updates > 0 || tries.len() == RACE_TRIES {
            break race;
        }
        last_why = Some(why_no_update_was_lost(race.together));
        increments *= 2;
    };
    let expected = n_threads as u64 * increments;
    let alone = count_racy_at_start_line(1, expected, p.cores)?.total;
    let lost_updates = expected - race.total;
    // The label follows from what was lost: a lost update proves the threads overlapped.
    let how = if lost_updates > 0 {
        "at once"
    } else if race.together {
        "at once, barely overlapping"
    } else {
        "taking turns"
    };
    let mut table = Table::new(&["", "counter", "lost updates"]);
    table.row(["expected".to_string(), format::count(expected), String::new()]);
    table.row([
        "1 thread, the same code".to_string(),
        format::count(alone),
        format::count(expected - alone),
    ]);
    table.row([
        format!("{n_threads} threads, {how}"),
        format::count(race.total),
        format!(
            "{} ({})",
            format::count(lost_updates),
            format::percent(lost_updates as f64 / expected as f64)
        ),
    ]);
    if tries.len() > 1 {
        // One line for every try that lost nothing, each twice as long as the one before.
        let earlier = match tries.len() - 1 {
            1 => "Try 1".to_string(),
            n => format!("Tries 1 to {n}"),
        };
        say!(
            lesson,
            "  {earlier} lost no update ({}), so each next try ran twice as long; try {}, {} \
             increments per thread:",
            last_why.unwrap_or_default(),
            tries.len(),
            format::count(increments)
        );
    }
    lesson.table(&table);
    if lost_updates > 0 {
        lesson.checked(
            false,
            format!(
                "{n_threads} threads: {} lost (1 thread: {} lost)",
                format::plural(lost_updates, "update"),
                format::count(expected - alone)
            ),
        );
    } else {
        // Exact by luck, not by construction: neither a green tick nor a red cross.
        say!(
            lesson,
            "  {} threads: no update lost this time, by luck: the code is still racy",
            n_threads
        );
    }
    lesson.figure("increments", increments);
    lesson.figure("tries", &tries);
    lesson.figure("started_together", race.together);
    lesson.figure("expected", expected);
    lesson.figure("one_thread_total", alone);
    lesson.figure("total", race.total);
    lesson.figure("lost_updates", lost_updates);
    lesson.figure("lost_fraction", lost_updates as f64 / expected as f64);
    let increments = p.increments.min(MOST_INCREMENTS);
    let python = cpython::race_in_cpython(lesson, &p.python, n_threads, increments);
    if let (Some(race), Some(interpreter)) = (&python, p.python.interpreter()) {
        cpython::show(lesson, race, interpreter)?;
    }
    lesson.figure("cpython", &python);
    if lost_updates == 0 {
        say!(
            lesson,
            "  No update was lost in {} tries: {}. Run it again, or raise --increments.",
            tries.len(),
            why_no_update_was_lost(race.together)
        );
        lesson.notice(
            "No update was lost this time because the threads did not overlap, not because the code \
             is right: whenever another thread stores between our load and our store, an update is gone.",
        );
    } else {
        lesson.notice(
            "The code is correct on one thread and wrong on several: nothing in it is wrong except \
             that another thread can store between our load and our store.",
        );
    }
    Ok(())
}
