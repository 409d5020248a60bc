//! Section 4: the lecture's `ps aux | wc -l` moment: how many processes and threads exist,
//! and how few of them are running.

use crate::Params;
use crate::resources;
use course::chart::Bars;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let Some(census) = resources::census() else {
        say!(
            lesson,
            "  The process table cannot be read on this platform (no /proc); try `ps aux | wc -l`."
        );
        lesson.notice("A machine runs many processes; most of them are waiting.");
        return Ok(());
    };
    let running = census.threads_by_state.get(&'R').copied().unwrap_or(0);
    lesson.reveal(
        "Your turn: how many processes is this machine running? How many threads are running right now?",
        format_args!(
            "{} with {} in all (what `ps aux | wc -l` and `ps -eLf | wc -l` count); {} running.",
            format::plural(census.processes as u64, "process"),
            format::plural(census.threads as u64, "thread"),
            format::count(running as u64)
        ),
    )?;
    let mut bars = Bars::new().width(30);
    for (letter, count) in &census.threads_by_state {
        bars.row(
            format!("{letter} {}", state_name(*letter)),
            *count as f64,
            count.to_string(),
        );
    }
    lesson.bars(&bars);
    let [one, five, fifteen] = census.load_average;
    say!(
        lesson,
        "  load average (threads running or ready, averaged): {one:.2} over 1 min, {five:.2} over 5, \
         {fifteen:.2} over 15"
    );
    lesson.figure("census", &census);
    lesson.figure("threads_running", running);
    // Said only when the census shows it: on a loaded machine many threads are ready to run.
    let asleep = if running * 10 <= census.threads {
        "Almost everything is asleep, waiting for input, a timer or work."
    } else {
        "That is many: this machine is busy, and the lesson's timings will vary with it."
    };
    lesson.notice(&format!(
        "Threads running when we looked: {running} of {} (one is this lesson). {asleep}",
        census.threads
    ));
    Ok(())
}

/// The meaning of a kernel state letter, in the lecture's words.
fn state_name(letter: char) -> &'static str {
    match letter {
        'R' => "running or ready",
        'S' => "sleeping (waiting for an event)",
        'D' => "waiting on disk (uninterruptible)",
        'I' => "idle kernel thread",
        'T' | 't' => "stopped",
        'Z' => "zombie (exited, not reaped)",
        _ => "other",
    }
}
