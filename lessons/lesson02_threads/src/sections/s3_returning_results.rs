//! Section 3: where a thread's result goes: lost, or brought back four ways; the order each
//! way holds them in, and what a shared list holds before the threads are joined.

use crate::Params;
use crate::results::{self, Tagged};
use course::table::Table;
use course::{Lesson, say};

/// Counts as a short list, "150000, 140000, 21" (or "nothing").
fn list(counts: &[usize]) -> String {
    if counts.is_empty() {
        return "nothing".to_string();
    }
    counts.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

fn counts(tagged: &Tagged) -> Vec<usize> {
    tagged.iter().map(|(_, n)| *n).collect()
}

fn in_input_order(tagged: &Tagged) -> Vec<usize> {
    let mut sorted = tagged.clone();
    sorted.sort();
    counts(&sorted)
}

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let strings: Vec<String> = vec![
        "here's a string".repeat(10_000),
        "here's another".repeat(10_000),
        "watch out for a third".to_string(),
    ];
    let expected: Vec<usize> = strings.iter().map(|s| results::count_string(s)).collect();
    say!(
        lesson,
        "  count_string returns a string's length; three strings of {} characters, one thread each.",
        list(&expected)
    );
    say!(
        lesson,
        "  In the notebook, threading.Thread threw the results away. Rust can too, or hand them back:"
    );
    let lost = results::lose_results_into_the_ether(&strings)?;
    let ways = [
        (
            "JoinHandle<usize>: join() returns it",
            results::collect_with_join_handles(&strings)?,
            "none",
        ),
        (
            "scoped threads, one &mut slot each",
            results::collect_with_scoped_slots(&strings)?,
            "none",
        ),
        (
            "Arc<Mutex<Vec>>: the notebook's list",
            results::collect_with_shared_list(&strings)?,
            "a Mutex",
        ),
        (
            "crossbeam channel: (index, value)",
            results::collect_with_channel(&strings)?,
            "inside the channel",
        ),
    ];
    let peeked = counts(&results::read_shared_list_before_join(&strings)?);
    let mut table = Table::new(&["  way", "collected, in that order", "lock"])
        .left(1)
        .left(2);
    table.row([
        "  dropped JoinHandles: into the ether".to_string(),
        list(&counts(&lost)),
        "none".to_string(),
    ]);
    for (way, tagged, lock) in &ways {
        table.row([format!("  {way}"), list(&counts(tagged)), lock.to_string()]);
    }
    lesson.table(&table);
    let agree = ways.iter().all(|(_, tagged, _)| in_input_order(tagged) == expected);
    lesson.checked(
        agree,
        format!("put back in input order by index, all four give {}", list(&expected)),
    );
    if !agree {
        anyhow::bail!("the four ways returned different results");
    }
    let arrived = counts(&ways[2].1);
    lesson.reveal(
        "The threads start counting together. In what order does the shared list hold the counts?",
        if arrived == expected {
            format!(
                "{}: the order the threads finished, this time the input order.",
                list(&arrived)
            )
        } else {
            format!(
                "{}: the order the threads finished, not the input order.",
                list(&arrived)
            )
        },
    )?;
    say!(
        lesson,
        "  Read before joining (as the notebook did), the list held {} of 3: {}.",
        peeked.len(),
        list(&peeked)
    );
    say!(
        lesson,
        "  Only the list and the channel need each result tagged with its index. A channel needs no \
         shared list at all: the notebook's idea of a database, one collector that is safe to share."
    );
    lesson.figure("expected", &expected);
    for (key, (_, tagged, _)) in ["join_handles", "scoped_threads", "shared_list", "channel"]
        .iter()
        .zip(&ways)
    {
        lesson.figure(key, counts(tagged));
    }
    lesson.figure("lost", counts(&lost));
    lesson.figure("peeked_before_join", &peeked);
    lesson.notice(
        "A thread's result comes back through its JoinHandle, a slot it borrows, a locked list or a \
         channel; the last two hold results in finish order unless each is tagged.",
    );
    Ok(())
}
