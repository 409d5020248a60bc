//! The lesson's quiz (`--quiz --seed S`): which thread holds the GIL when, for a given switch
//! interval and workload. Programs of CPU bursts and I/O waits and a switch interval come from
//! the seed, in whole milliseconds; the student plays the GIL's rules by hand and predicts who
//! holds it at given moments, how many switches happen and when each thread finishes. Every
//! answer is read from the lesson's own model (`schedule::simulate`, the one section 1 draws
//! beside a measured timeline), so the quiz and the lesson can never disagree. The quiz plays
//! it with the simpler of its two clocks (`Clock::SinceLastSwitch`: the first in line asks one
//! interval after it got there or the GIL last changed hands), which a student can follow on
//! paper; section 1 and `gil.rs` count CPython's whole intervals (`Clock::Cpython`).
//!
//! The numbers come only from the `Rng` handed in, in a fixed order: changing what is drawn,
//! or in which order, changes every seed's problem, which `tests/quiz.rs` would catch.

use crate::interpreter::Op;
use crate::schedule::{self, Clock, Span, Timeline};
use course::quiz::{Question, Quiz};
use std::time::Duration;
use workloads::Rng;

/// Every step takes one millisecond, so that every moment of the model is a whole number.
const STEP: Duration = Duration::from_millis(1);

/// The rules of `schedule.rs`, as the student needs them to play the model by hand.
const RULES: [&str; 12] = [
    "A GIL simulated in whole milliseconds. Each thread runs a program of CPU bursts (one bytecode",
    "step per millisecond, with the GIL held) and I/O waits (without the GIL). The rules:",
    "1. At 0 ms every thread joins the line for the GIL, T0 first, then T1, ... The line is first",
    "   come, first served: a thread that lets go hands the GIL at once to the first thread in line",
    "   (and when nobody is in line, the next thread to join takes it).",
    "2. The first thread in line starts a clock when it gets there (it joins an empty line, or the",
    "   thread ahead of it gets the GIL). After one switch interval it asks the holder to let go;",
    "   the holder lets go before its next step and joins the back of the line.",
    "3. A thread about to wait for I/O lets go without being asked, and joins the line when its wait",
    "   is over; threads that wake at the same moment join in thread order, ahead of a holder that",
    "   is asked to let go at that moment. A thread lets go for good after its last step.",
    "A switch is a turn of the GIL that goes to a different thread from the turn before it.",
];

/// The whole quiz for one seed: two threads that compute, a thread that waits next to one that
/// computes (the convoy), then three threads that do both.
pub fn make(rng: &mut Rng) -> Quiz {
    let mut quiz = Quiz::new();

    let interval = rng.between(2, 4);
    let programs = vec![vec![compute(rng.between(5, 9))], vec![compute(rng.between(3, 8))]];
    let moments = [rng.next_u64(), rng.next_u64()];
    two_threads_that_compute(&mut quiz, &programs, interval, moments);

    let interval = rng.between(2, 5);
    let wait = rng.between(1, 4);
    let programs = vec![
        vec![compute(1), io(wait), compute(1), io(wait), compute(1)],
        vec![compute(rng.between(8, 14))],
    ];
    let moment = rng.next_u64();
    a_thread_that_waits_next_to_one_that_computes(&mut quiz, &programs, interval, moment);

    let interval = rng.between(2, 3);
    let programs: Vec<Vec<Op>> = (0..3)
        .map(|_| {
            let mut program = vec![compute(rng.between(1, 4))];
            if rng.chance(0.7) {
                program.push(io(rng.between(1, 5)));
                program.push(compute(rng.between(1, 4)));
            }
            program
        })
        .collect();
    let moments = [rng.next_u64(), rng.next_u64()];
    three_threads_that_do_both(&mut quiz, &programs, interval, moments);
    quiz
}

/// Q1: turns of one switch interval, with the rules stated in full.
fn two_threads_that_compute(quiz: &mut Quiz, programs: &[Vec<Op>], interval: u64, moments: [u64; 2]) {
    let timeline = simulate(programs, interval);
    let question = quiz.question(RULES[0]);
    for line in &RULES[1..] {
        question.line(*line);
    }
    question.line(format!("Switch interval {interval} ms; two threads that only compute:"));
    program_lines(question, programs);
    for moment in moments {
        ask_holder(question, &timeline, moment);
    }
    ask_switches(question, &timeline);
    for thread in 0..programs.len() {
        ask_finish(question, &timeline, thread);
    }
}

/// Q2: the convoy. A thread that computes one step between waits queues behind a thread that
/// computes, every time it comes back from I/O.
fn a_thread_that_waits_next_to_one_that_computes(quiz: &mut Quiz, programs: &[Vec<Op>], interval: u64, moment: u64) {
    let timeline = simulate(programs, interval);
    let question = quiz.question(format!(
        "The rules of Q1, switch interval {interval} ms. T0 waits for I/O between short bursts; T1 computes:"
    ));
    program_lines(question, programs);
    let alone: u64 = programs[0].iter().map(milliseconds_of).sum();
    ask_holder(question, &timeline, moment);
    let turns: Vec<&Span> = timeline.spans.iter().filter(|span| span.thread == 0).collect();
    let Op::Sleep(first_wait) = programs[0][1] else {
        unreachable!("T0's second instruction is its first wait")
    };
    if let [first, second, ..] = turns[..] {
        let back = first.end + first_wait;
        question.ask(
            "How long T0, back from its first wait, waits for the GIL",
            format!("{} ms", millis(second.start - back)),
            format!(
                "back at {} ms, it gets the GIL at {} ms",
                millis(back),
                millis(second.start)
            ),
        );
    }
    ask_finish(question, &timeline, 0);
    question.ask(
        "How much later T0 finishes than it would alone",
        format!("{} ms", millis(timeline.finished_at[0]).saturating_sub(alone)),
        format!(
            "alone, its {alone} ms of steps and waits end at {alone} ms; here at {} ms",
            millis(timeline.finished_at[0])
        ),
    );
    ask_switches(question, &timeline);
    ask_finish(question, &timeline, 1);
}

/// Q3: three threads that compute and wait.
fn three_threads_that_do_both(quiz: &mut Quiz, programs: &[Vec<Op>], interval: u64, moments: [u64; 2]) {
    let timeline = simulate(programs, interval);
    let question = quiz.question(format!(
        "The rules of Q1, switch interval {interval} ms, three threads:"
    ));
    program_lines(question, programs);
    for moment in moments {
        ask_holder(question, &timeline, moment);
    }
    ask_switches(question, &timeline);
    let asked = turns_cut_short(programs, &timeline);
    question.ask(
        "How many times a holder is asked to let go (a thread about to wait or finished is not asked)",
        timeline.drop_requests.to_string(),
        if asked.is_empty() {
            "every turn ends with a wait or a last step".to_string()
        } else {
            format!("the turns cut short: {}", turn_list(&asked))
        },
    );
    for thread in 0..programs.len() {
        ask_finish(question, &timeline, thread);
    }
}

fn simulate(programs: &[Vec<Op>], interval: u64) -> Timeline {
    // The quiz's clock, simpler to play by hand than CPython's (see `schedule::Clock`).
    schedule::simulate(programs, Duration::from_millis(interval), STEP, Clock::SinceLastSwitch)
}

/// A CPU burst of `milliseconds` steps. The step numbers only seed the interpreter's work,
/// which the model never runs.
fn compute(milliseconds: u64) -> Op {
    Op::compute(0, milliseconds)
}

fn io(milliseconds: u64) -> Op {
    Op::Sleep(Duration::from_millis(milliseconds))
}

fn milliseconds_of(op: &Op) -> u64 {
    match op {
        Op::Compute { steps, .. } => *steps,
        Op::Sleep(wait) => millis(*wait),
    }
}

fn millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

/// One line per thread: `T1  compute 1 ms, I/O 3 ms, compute 1 ms`.
fn program_lines(question: &mut Question, programs: &[Vec<Op>]) {
    for (thread, program) in programs.iter().enumerate() {
        let parts: Vec<String> = program
            .iter()
            .map(|op| match op {
                Op::Compute { steps, .. } => format!("compute {steps} ms"),
                Op::Sleep(wait) => format!("I/O {} ms", millis(*wait)),
            })
            .collect();
        question.line(format!("T{thread}  {}", parts.join(", ")));
    }
}

/// Who holds the GIL half a millisecond into a millisecond drawn from `draw`, so that the
/// moment never falls on a hand-over.
fn ask_holder(question: &mut Question, timeline: &Timeline, draw: u64) {
    let end = millis(timeline.end()).max(1);
    let whole = draw % end;
    let moment = Duration::from_micros(whole * 1000 + 500);
    let holder = timeline.holder_at(moment);
    let turn = timeline
        .spans
        .iter()
        .find(|span| span.start <= moment && moment < span.end);
    let (answer, why) = match (holder, turn) {
        (Some(thread), Some(span)) => (
            format!("T{thread}"),
            format!("its turn runs from {} to {} ms", millis(span.start), millis(span.end)),
        ),
        _ => {
            let before = timeline.spans.iter().rev().find(|span| span.end <= moment);
            let after = timeline.spans.iter().find(|span| span.start > moment);
            let from = before.map_or(0, |span| millis(span.end));
            let to = after.map_or(end, |span| millis(span.start));
            (
                "nobody".to_string(),
                format!("every thread left is waiting for I/O from {from} to {to} ms"),
            )
        }
    };
    question.ask(format!("Who holds the GIL at {whole}.5 ms"), answer, why);
}

fn ask_switches(question: &mut Question, timeline: &Timeline) {
    let turns: Vec<&Span> = timeline.spans.iter().collect();
    question.ask(
        "The number of switches",
        timeline.switches.to_string(),
        format!("the turns: {}", turn_list(&turns)),
    );
}

fn ask_finish(question: &mut Question, timeline: &Timeline, thread: usize) {
    let finished = millis(timeline.finished_at[thread]);
    let last_turn = timeline
        .spans
        .iter()
        .rev()
        .find(|span| span.thread == thread)
        .map_or(0, |span| millis(span.start));
    question.ask(
        format!("When T{thread} finishes"),
        format!("{finished} ms"),
        format!("its last turn runs from {last_turn} to {finished} ms"),
    );
}

/// The turns that ended with steps of a burst still to run: the holder was asked to let go.
/// Read from the timeline, by following each thread's program through its turns.
fn turns_cut_short<'a>(programs: &[Vec<Op>], timeline: &'a Timeline) -> Vec<&'a Span> {
    let mut steps_done = vec![0u64; programs.len()];
    let mut cut_short = Vec::new();
    for span in &timeline.spans {
        steps_done[span.thread] += millis(span.end - span.start);
        // The thread's bursts end after these many steps in all.
        let mut burst_ends = programs[span.thread].iter().scan(0, |steps, op| {
            if let Op::Compute { steps: burst, .. } = op {
                *steps += burst;
            }
            Some(*steps)
        });
        if !burst_ends.any(|end| end == steps_done[span.thread]) {
            cut_short.push(span);
        }
    }
    cut_short
}

/// `T0 0–3, T1 3–6, T0 6–8 ms`.
fn turn_list(turns: &[&Span]) -> String {
    let parts: Vec<String> = turns
        .iter()
        .map(|span| format!("T{} {}–{}", span.thread, millis(span.start), millis(span.end)))
        .collect();
    format!("{} ms", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_makes_a_complete_quiz_and_the_same_one_every_time() {
        course::quiz::assert_well_formed(make, 0..300, 3, 5);
    }

    #[test]
    fn turns_cut_short_are_the_model_s_drop_requests() {
        let mut rng = Rng::new(11);
        for _ in 0..500 {
            let programs: Vec<Vec<Op>> = (0..rng.between(2, 4))
                .map(|_| {
                    vec![
                        compute(rng.between(1, 6)),
                        io(rng.between(1, 5)),
                        compute(rng.between(1, 6)),
                    ]
                })
                .collect();
            let timeline = simulate(&programs, rng.between(1, 4));
            assert_eq!(
                turns_cut_short(&programs, &timeline).len() as u64,
                timeline.drop_requests,
                "{programs:?}"
            );
        }
    }

    #[test]
    fn the_quiz_s_programs_have_no_empty_turns() {
        // Programs start and end with a burst and never wait twice in a row, so every turn
        // runs at least one step and the switches can be read off the list of turns.
        for seed in 0..300 {
            let quiz = make(&mut Rng::new(seed));
            let setup = quiz.questions.iter().flat_map(|q| q.setup.iter());
            for line in setup.filter(|line| line.starts_with('T') && line.contains("  ")) {
                let program = line.split_once("  ").unwrap().1;
                assert!(program.starts_with("compute") && !program.contains("I/O 0"), "{line}");
                assert!(program.rsplit(", ").next().unwrap().starts_with("compute"), "{line}");
            }
        }
    }

    #[test]
    fn two_threads_of_eight_and_five_steps_take_turns_of_three() {
        // T0 0–3, T1 3–6, T0 6–9, T1 9–11, T0 11–13.
        let timeline = simulate(&[vec![compute(8)], vec![compute(5)]], 3);
        let turns: Vec<&Span> = timeline.spans.iter().collect();
        assert_eq!(turn_list(&turns), "T0 0–3, T1 3–6, T0 6–9, T1 9–11, T0 11–13 ms");
        assert_eq!(timeline.switches, 4);
        let mut quiz = Quiz::new();
        let question = quiz.question("x");
        ask_holder(question, &timeline, 4);
        ask_holder(question, &timeline, 13 + 9);
        assert_eq!(question.asks[0].prompt, "Who holds the GIL at 4.5 ms");
        assert_eq!(question.asks[0].answer, "T1");
        assert_eq!(question.asks[1].prompt, "Who holds the GIL at 9.5 ms");
        assert_eq!(question.asks[1].why, "its turn runs from 9 to 11 ms");
    }

    #[test]
    fn nobody_holds_the_gil_while_everyone_waits() {
        let timeline = simulate(&[vec![compute(2), io(4), compute(1)]], 5);
        let mut quiz = Quiz::new();
        let question = quiz.question("x");
        ask_holder(question, &timeline, 3);
        assert_eq!(question.asks[0].answer, "nobody");
        assert_eq!(
            question.asks[0].why,
            "every thread left is waiting for I/O from 2 to 6 ms"
        );
    }
}
