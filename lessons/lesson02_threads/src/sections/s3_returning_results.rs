//! Section 3: where a thread's result goes: lost, or brought back four ways; the order each
//! way holds them in, and what a shared list holds before the threads are joined; what
//! CPython's `join` and shared list gave (`python/threads.py`).

use crate::Params;
use crate::cpython::{self, numbers};
use crate::results::{self, Tagged};
use course::table::Table;
use course::{Lesson, say};
use serde_json::Value;

/// What the notebook's code gave back on CPython.
#[derive(serde::Serialize)]
struct CPythonResults {
    interpreter: String,
    /// count_string's answers, to check against Rust's.
    lengths: Vec<usize>,
    /// What each `Thread.join()` returned (`null`: Python's None).
    returned_by_join: Vec<Value>,
    /// The shared list after the joins, and read right after the threads were started.
    shared_list: Vec<usize>,
    right_after_start: Vec<usize>,
}

/// What the twin printed for section 3, once its lengths are checked equal to Rust's (a warning
/// line names the interpreter when they are not).
fn cpython_results(lesson: &Lesson, p: &mut Params, expected: &[usize]) -> Option<CPythonResults> {
    cpython::run_once(lesson, p);
    let twin = p.twin.as_ref()?;
    let lengths = numbers(&twin.answers["lengths"]);
    if lengths.as_deref() != Some(expected) {
        lesson.warn(&format!(
            "{}, count_string gave {} where Rust gave {}: its rows are left out",
            p.python.label(),
            twin.answers["lengths"],
            list(expected)
        ));
        return None;
    }
    let shared = &twin.extra.get("shared_list")?;
    Some(CPythonResults {
        interpreter: p.python.label(),
        lengths: lengths?,
        returned_by_join: twin.extra.get("returned_by_join")?.as_array()?.clone(),
        shared_list: numbers(&shared["collected"])?,
        right_after_start: numbers(&shared["right_after_start"])?,
    })
}

/// Python values as Python prints them: `None` for null.
fn python_list(values: &[Value]) -> String {
    let shown: Vec<String> = values
        .iter()
        .map(|v| if v.is_null() { "None".to_string() } else { v.to_string() })
        .collect();
    shown.join(", ")
}

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

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
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
    let python = cpython_results(lesson, p, &expected);
    if let Some(python) = &python {
        // CPython's list.append is one step for other threads: under the GIL, or (without one)
        // under the list's own lock.
        let has_gil = p.python.interpreter().is_none_or(|i| i.has_gil());
        let append_lock = if has_gil { "the GIL" } else { "the list's own" };
        table.row([
            "  CPython: Thread.join() returns".to_string(),
            python_list(&python.returned_by_join),
            "none".to_string(),
        ]);
        table.row([
            "  CPython: a shared list, append".to_string(),
            list(&python.shared_list),
            append_lock.to_string(),
        ]);
    }
    lesson.table(&table);
    let agree = ways.iter().all(|(_, tagged, _)| in_input_order(tagged) == expected);
    let too = if python.is_some() {
        ", as did CPython's count_string"
    } else {
        ""
    };
    lesson.checked(
        agree,
        format!(
            "put back in input order by index, all four give {}{too}",
            list(&expected)
        ),
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
    let in_cpython = python.as_ref().map_or(String::new(), |python| {
        format!(" ({}'s: {} of 3)", python.interpreter, python.right_after_start.len())
    });
    say!(
        lesson,
        "  Read before joining (as the notebook did), the list held {} of 3: {}{in_cpython}.",
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
    lesson.figure("cpython", &python);
    lesson.notice(
        "A thread's result comes back through its JoinHandle, a slot it borrows, a locked list or a \
         channel; the last two hold results in finish order unless each is tagged.",
    );
    Ok(())
}
