//! Section 2: threads on their own schedules, whose order at a tie is up to chance; then
//! threads writing as fast as they can, lines written in two pieces torn apart.

use crate::Params;
use crate::lines::summarize_lines;
use crate::threads;
use course::timing::format;
use course::{Lesson, say};
use std::collections::BTreeMap;

/// The notebook's `print_time` threads: a name, and every how many units each prints.
const SCHEDULE: [(&str, u32); 4] = [("Thread-1", 2), ("Thread-2", 4), ("Thread-3", 1), ("Thread-4", 5)];
/// Prints per thread.
const TIMES: u32 = 5;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  The notebook's print_time: four threads print {TIMES} times each, every 2, 4, 1 and 5 \
         units. Who printed, live:"
    );
    lesson.write_raw("   ");
    let printed = threads::print_on_schedules(&SCHEDULE, TIMES, p.unit, &|name: &str| {
        lesson.write_raw(&format!(" {}", name.trim_start_matches("Thread-")));
    })?;
    lesson.write_raw("\n");
    for line in schedule_chart(&printed) {
        say!(lesson, "    {line}");
    }
    // Moments when two or more threads were due at once: which goes first is up to chance.
    let mut due: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (name, at) in &printed {
        due.entry(*at).or_default().push(name);
    }
    let ties: Vec<(u32, Vec<&str>)> = due.into_iter().filter(|(_, names)| names.len() > 1).collect();
    let tie_text: Vec<String> = ties
        .iter()
        .map(|(at, names)| {
            let numbers: Vec<&str> = names.iter().map(|name| name.trim_start_matches("Thread-")).collect();
            format!("{at}: {}", numbers.join(" "))
        })
        .collect();
    say!(
        lesson,
        "  Due at the same unit, and the order they printed in this run (unit: threads): {}.",
        tie_text.join("; ")
    );
    say!(
        lesson,
        "  Each sleep ends a little late and the lateness adds up, so at a tie the thread that has \
         slept fewer times tends to go first (the notebook at 4 s: 2, 1, 3). Tends to: nothing in \
         the program decides it."
    );
    lesson.figure(
        "print_order",
        printed.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(),
    );
    lesson.figure("ties", &ties);

    say!(lesson);
    lesson.reveal(
        "The notebook printed `Thread-1: Mon Feb 13 09:59:31 2017Thread-3: Mon Feb 13 ...` on one \
         line. How?",
        "Python's print writes the text, then the newline: another thread wrote between the two.",
    )?;
    let n_threads = p.threads;
    let lines_per_thread = lesson.pick(5_000, 20_000);
    say!(
        lesson,
        "  Now {n_threads} threads write {} lines each as fast as they can, each line in two pieces \
         (\"Thread-N: \", then the number). Who wrote every {}th line, on three runs:",
        format::count(lines_per_thread as u64),
        format::count((lines_per_thread * n_threads / 64) as u64)
    );
    let mut runs = Vec::new();
    for run in 1..=3 {
        let summary = summarize_lines(&threads::write_lines_in_two_pieces(n_threads, lines_per_thread)?);
        say!(
            lesson,
            "    {run}: {}  {} switches, {} torn",
            summary.strip,
            format::count(summary.switches as u64),
            format::count(summary.torn as u64)
        );
        runs.push(summary);
    }
    if let Some(example) = runs.iter().find_map(|r| r.torn_example.clone()) {
        say!(lesson, "  A torn line, as the notebook's: \"{example}\"");
    }
    let whole = summarize_lines(&threads::write_whole_lines(n_threads, lines_per_thread)?);
    let expected_lines = n_threads * lines_per_thread;
    let all_there = runs.iter().chain([&whole]).all(|r| r.lines == expected_lines);
    lesson.checked(
        whole.torn == 0 && all_there,
        format!(
            "Holding the lock for the whole line (what Rust's println! does): {} torn lines of {}",
            whole.torn,
            format::count(whole.lines as u64)
        ),
    );
    if !all_there || whole.torn != 0 {
        anyhow::bail!("lines were lost or torn while holding the lock for the whole line");
    }
    let mut strips: Vec<&str> = runs.iter().map(|r| r.strip.as_str()).collect();
    strips.sort();
    strips.dedup();
    lesson.figure("runs", &runs);
    lesson.figure("distinct_orders", strips.len());
    lesson.figure("torn_with_line_lock", whole.torn);
    lesson.figure("lines_per_run", expected_lines);
    lesson.notice(
        "The scheduler decides who runs when: the order differs from run to run, and output written \
         in pieces tears unless each whole line is written under one lock.",
    );
    Ok(())
}

/// One row per thread of the schedule, a mark at each unit it printed (its print's number).
fn schedule_chart(printed: &[(String, u32)]) -> Vec<String> {
    let last = printed.iter().map(|(_, at)| *at).max().unwrap_or(0) as usize;
    let mut scale = String::new();
    for unit in 1..=last {
        let label = if unit == 1 || unit % 5 == 0 {
            unit.to_string()
        } else {
            String::new()
        };
        scale.push_str(&format!("{label:<2}"));
    }
    let mut lines = vec![format!("{:<10}{}", "units", scale.trim_end())];
    for (name, every) in SCHEDULE {
        let mut row = vec!["· "; last];
        let marks = ["1 ", "2 ", "3 ", "4 ", "5 "];
        for (tick, (_, at)) in printed.iter().filter(|(who, _)| who == name).enumerate() {
            if let Some(cell) = row.get_mut((*at as usize).saturating_sub(1)) {
                *cell = marks.get(tick).copied().unwrap_or("* ");
            }
        }
        lines.push(format!("{name:<10}{}  every {every}", row.concat().trim_end()));
    }
    lines
}
