//! Section 5: the shuffle, records by sender and receiver, as timely counted them.

use super::{crossing, show_matrix};
use crate::Params;
use crate::job::describe;
use crate::map_reduce::Shuffle;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let gathered = p.plain()?;
    let reports = &gathered.reports;
    let processes = reports.len();
    say!(
        lesson,
        "  (Hadoop's shuffle, between map and reduce; in Spark and timely, an exchange edge of the graph.)"
    );
    say!(
        lesson,
        "  Each word has one owner, process `owner_of(word)` = hash(word) mod {processes} (FNV-1a), \
         and every record of it goes there, so that one process sees all of its occurrences."
    );
    let total: u64 = reports.iter().flat_map(|r| r.sent.iter()).sum();
    let crossed = crossing(reports);
    lesson.reveal(
        format!(
            "With {processes} processes, what share of the {} word records will cross between processes?",
            format::count(total)
        ),
        format!(
            "About (N − 1)/N = {}: here {} of {} ({}) crossed over TCP; the rest stayed home.",
            format::percent((processes as f64 - 1.0) / processes as f64),
            format::count(crossed),
            format::count(total),
            format::percent(crossed as f64 / total.max(1) as f64)
        ),
    )?;
    say!(
        lesson,
        "  Records sent ({}), by receiver, as timely's log of every message counted them:",
        describe(Shuffle::EveryWord)
    );
    show_matrix(lesson, reports)?;
    lesson.figure("records_shuffled", total);
    lesson.figure("records_between_processes", crossed);
    lesson.figure("sent", reports.iter().map(|r| r.sent.clone()).collect::<Vec<_>>());
    lesson.figure(
        "received",
        reports.iter().map(|r| r.received.clone()).collect::<Vec<_>>(),
    );
    lesson.notice(
        "With N processes, about (N − 1)/N of all records change process: the shuffle is \
         all-to-all, and it grows with the data, not with the answer.",
    );
    Ok(())
}
