//! Section 1: the interpreter, its GIL, and a timeline of who holds it, predicted by the model
//! and measured.

use crate::Params;
use crate::gil;
use crate::interpreter::{self, Op};
use crate::programs::{Run, check_one_at_a_time};
use crate::schedule::{self, Span};
use anyhow::Context;
use course::timing::{self, format};
use course::{Lesson, say};
use std::time::Duration;
use workloads::Rng;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let switch_interval = p.switch_interval;
    say!(
        lesson,
        "  Each thread runs bytecode steps and must hold the GIL (one global lock) for every step. \
         A waiting thread asks the holder to let go after a whole switch interval in which the \
         GIL did not change hands; the holder checks between two steps and lets go. Waiters are \
         served first come, first served, so nobody starves. A thread about to sleep or read a \
         socket drops the GIL on its own."
    );
    // What one step costs here, so that the model below runs on this machine's clock.
    let mut index = 0;
    let step_times = timing::latencies(10, 200, || {
        std::hint::black_box(interpreter::bytecode(index));
        index += 1;
    });
    let step_time = step_times.summary().p50.max(Duration::from_nanos(100));

    // Two CPU-bound threads, each with four intervals' worth of steps, and an I/O thread that
    // computes one step between waits of one and a half intervals.
    let steps_each = ((4 * switch_interval).as_nanos() / step_time.as_nanos().max(1)).max(1) as u64;
    let wait = switch_interval * 3 / 2;
    let programs = vec![
        vec![Op::compute(0, steps_each)],
        vec![Op::compute(steps_each, steps_each)],
        vec![
            Op::compute(2 * steps_each, 1),
            Op::Sleep(wait),
            Op::compute(2 * steps_each + 1, 1),
            Op::Sleep(wait),
            Op::compute(2 * steps_each + 2, 1),
        ],
    ];
    let model = schedule::simulate(&programs, switch_interval, step_time, schedule::Clock::Cpython);
    let ran = gil::threads_with_gil(&programs, switch_interval).context("could not start 3 interpreter threads")?;
    let measured = ran.interpreter.gil().spans();
    let run = Run::of(ran);
    check_one_at_a_time(run.overlapping_steps)?;
    let end = measured
        .iter()
        .map(|span| span.end)
        .chain([model.end()])
        .max()
        .unwrap_or_default();
    let names = ["T0 CPU", "T1 CPU", "T2 I/O"];
    say!(
        lesson,
        "  Two CPU-bound threads ({} steps each) and an I/O thread. Who holds the GIL, predicted by \
         the model (every step {}, hand-overs instant):",
        format::count(steps_each),
        format::duration(step_time)
    );
    lesson.lines(timeline_lines(&names, &model.spans, end));
    say!(lesson, "  and measured:");
    lesson.lines(timeline_lines(&names, &measured, end));
    let stats = run.gil;
    say!(
        lesson,
        "  Hand-overs: {} measured ({} asked for by a waiter); the model predicts {} ({}).",
        stats.switches,
        stats.forced_releases,
        model.switches,
        model.drop_requests
    );
    lesson.checked(
        run.overlapping_steps == 0,
        format!(
            "{} steps run, {} of them while another thread was inside one",
            format::count(run.answer.steps),
            run.overlapping_steps
        ),
    );
    // A question for the class, answered by the model.
    let moment = Duration::from_micros(Rng::new(lesson.seed()).below(model.end().as_micros().max(1) as u64));
    let holder = model
        .holder_at(moment)
        .and_then(|thread| names.get(thread))
        .map_or("nobody".to_string(), |name| name.to_string());
    lesson.reveal(
        format!(
            "Your turn: in the model, who holds the GIL at {}?",
            format::duration(moment)
        ),
        format!("Answer: {holder}."),
    )?;
    lesson.figure("step_time_s", step_time.as_secs_f64());
    lesson.figure(
        "your_turn",
        serde_json::json!({ "at_s": moment.as_secs_f64(), "holder": holder }),
    );
    lesson.figure(
        "model",
        serde_json::json!({
            "switches": model.switches,
            "drop_requests": model.drop_requests,
            "end_s": model.end().as_secs_f64(),
            "turns": model.spans,
        }),
    );
    lesson.figure("gil", stats);
    lesson.figure("turns", &measured);
    lesson.figure("threads", &run.threads);
    lesson.figure("overlapping_steps", run.overlapping_steps);
    lesson.notice(
        "One thread holds the GIL at a time. CPU-bound threads take turns of one switch interval, \
         or two when an interval saw the GIL change hands; the I/O thread, back from each wait, waits \
         in line for the end of a turn before its one step.",
    );
    Ok(())
}

/// One lane per thread from 0 to `end`: full blocks where the thread held the GIL.
fn timeline_lines(names: &[&str], spans: &[Span], end: Duration) -> Vec<String> {
    const WIDTH: usize = 60;
    let cell = end.max(Duration::from_micros(1)) / WIDTH as u32;
    let mut lines: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(thread, name)| {
            let lane: String = (0..WIDTH)
                .map(|i| {
                    let (from, to) = (cell * i as u32, cell * (i as u32 + 1));
                    let held: Duration = spans
                        .iter()
                        .filter(|span| span.thread == thread)
                        .map(|span| span.end.min(to).saturating_sub(span.start.max(from)))
                        .sum();
                    match held.as_secs_f64() / cell.as_secs_f64() {
                        f if f >= 0.75 => '█',
                        f if f >= 0.25 => '▌',
                        f if f > 0.0 => '▏',
                        _ => ' ',
                    }
                })
                .collect();
            format!("  {name} │{lane}│")
        })
        .collect();
    let end_label = format::duration(end);
    let gap = (WIDTH + 1).saturating_sub(end_label.chars().count());
    lines.push(format!("  {:6}  0{:gap$}{end_label}", "", ""));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_fill_where_a_thread_held_the_gil() {
        let spans = [Span {
            thread: 1,
            start: Duration::ZERO,
            end: Duration::from_millis(30),
        }];
        let lines = timeline_lines(&["a", "b"], &spans, Duration::from_millis(60));
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains(&"█".repeat(30)), "{lines:?}");
        assert!(!lines[0].contains('█'));
    }
}
