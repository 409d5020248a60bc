//! The lesson's quiz (`--quiz --seed S`): the final counter after a given interleaving of
//! load / add / store. Starting values and schedules of two or three threads come from the
//! seed; the student traces them by hand and predicts the counter, the updates lost and which
//! store wrote over which. Every answer is read from a trace of the lesson's own model
//! (`interleaving::run_from`), the one section 3 prints, so the quiz and the lesson can never
//! disagree.
//!
//! The numbers come only from the `Rng` handed in, in a fixed order: changing what is drawn,
//! or in which order, changes every seed's problem, which `tests/quiz.rs` would catch.

use crate::interleaving::{self, Event, Op, Trace, thread_name};
use course::quiz::{Question, Quiz};
use workloads::Rng;

/// The thread counts and increments of the counting question: small enough that every
/// interleaving can be enumerated (48,620 at most).
const COUNTING_SHAPES: [(usize, u64); 4] = [(2, 1), (3, 1), (2, 2), (2, 3)];

/// The whole quiz for one seed: three traces, from two threads adding once to three threads,
/// then the count of every possible interleaving.
pub fn make(rng: &mut Rng) -> Quiz {
    let mut quiz = Quiz::new();
    let start_two_once = rng.between(0, 9);
    let two_once = interleaving::random_schedule(rng, 2, 1);
    let start_two_twice = rng.between(10, 60);
    let two_twice = interleaving::random_schedule(rng, 2, 2);
    let start_three_once = rng.between(0, 99);
    let three_once = interleaving::random_schedule(rng, 3, 1);
    let (n_threads, increments) = *rng.pick(&COUNTING_SHAPES).expect("the list is not empty");
    two_threads_adding_once(&mut quiz, &trace(start_two_once, 2, 1, &two_once));
    two_threads_adding_twice(&mut quiz, &trace(start_two_twice, 2, 2, &two_twice));
    three_threads_adding_once(&mut quiz, &trace(start_three_once, 3, 1, &three_once));
    every_interleaving(&mut quiz, n_threads, increments);
    quiz
}

/// Runs a schedule that `random_schedule` drew for the same shape, so it is always complete.
fn trace(start: u64, n_threads: usize, increments: u64, schedule: &[usize]) -> Trace {
    interleaving::run_from(start, n_threads, increments, schedule)
        .expect("a drawn schedule names every thread's steps exactly once")
}

/// Q1: the smallest race, with the model's rules stated in full.
fn two_threads_adding_once(quiz: &mut Quiz, trace: &Trace) {
    let question =
        quiz.question("Two threads, A and B, each run `counter += 1` once, in three steps: load the counter into");
    question.line("the thread's own register, add 1 to the register, store the register into the counter");
    question.line(format!(
        "(whatever the counter holds by then). The counter starts at {}; the steps run in this order:",
        trace.start
    ));
    schedule_lines(question, trace);
    question.line("A store is stale when the counter has grown since its thread's load: it writes over");
    question.line("the updates stored in between.");
    ask_final_lost_and_stale(question, trace);
}

/// Q2: two rounds each, with a look at the counter and a register on the way.
fn two_threads_adding_twice(quiz: &mut Quiz, trace: &Trace) {
    let question = quiz.question(format!(
        "The same two threads each run `counter += 1` twice (load, add, store, then again), from {}:",
        trace.start
    ));
    schedule_lines(question, trace);
    let halfway = trace.events.len() / 2;
    question.ask(
        format!("The counter after step {halfway}"),
        trace.events[halfway - 1].counter.to_string(),
        last_store_before(trace, halfway, "by then"),
    );
    let second_load_of_b = trace
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| event.thread == 1 && event.op == Op::Load)
        .map(|(index, _)| index)
        .nth(1)
        .expect("B loads once per round, and it has two rounds");
    let loaded = trace.events[second_load_of_b].registers[1].unwrap_or(0);
    question.ask(
        format!("The value B's second load reads (step {})", second_load_of_b + 1),
        loaded.to_string(),
        last_store_before(trace, second_load_of_b, "before it"),
    );
    ask_final_lost_and_stale(question, trace);
}

/// Q3: a third thread, so that one stale store can erase more than one update.
fn three_threads_adding_once(quiz: &mut Quiz, trace: &Trace) {
    let question = quiz.question(format!(
        "Three threads, A, B and C, each run `counter += 1` once, from {}:",
        trace.start
    ));
    schedule_lines(question, trace);
    ask_final_lost_and_stale(question, trace);
}

/// Q4: not one schedule but all of them, counted by the model.
fn every_interleaving(quiz: &mut Quiz, n_threads: usize, increments: u64) {
    let outcomes = interleaving::all_outcomes(n_threads, increments);
    let interleavings: u64 = outcomes.values().sum();
    let right_total = n_threads as u64 * increments;
    let right = outcomes.get(&right_total).copied().unwrap_or(0);
    let smallest = outcomes.keys().next().copied().unwrap_or(0);
    let steps_each = 3 * increments;
    let all_steps = steps_each * n_threads as u64;
    let names = thread_names(n_threads);
    let question = quiz.question(format!(
        "{}, each run `counter += 1` {}, from 0 ({} steps each). Count every possible",
        names,
        times(increments),
        steps_each
    ));
    question.line("interleaving of their steps (each thread's own steps stay in order).");
    question.ask(
        "How many interleavings there are",
        interleavings.to_string(),
        format!(
            "{all_steps}! / ({}) = {interleavings}: the ways to share out {all_steps} steps, {steps_each} to each thread",
            repeated_factorial(steps_each, n_threads)
        ),
    );
    let windows = n_threads as u64 * increments;
    question.ask(
        format!("How many of them end at {right_total}, with no update lost"),
        right.to_string(),
        if increments == 1 {
            format!("those where no two load–store windows overlap: the {windows}! = {right} orders of whole windows")
        } else {
            format!(
                "those where no two load–store windows overlap: {windows}! / ({}) = {right} orders of whole windows",
                repeated_factorial(increments, n_threads)
            )
        },
    );
    question.ask(
        "The smallest final counter any of them gives",
        smallest.to_string(),
        if increments == 1 {
            "every thread loads 0 before any of them stores, so every store writes 1".to_string()
        } else {
            format!(
                "A loads 0 and stalls while B does {} of its {increments} rounds; A stores 1 over them; B loads 1 and stalls while A finishes; B stores 2",
                increments - 1
            )
        },
    );
}

/// The schedule as one row per thread, each step in its own column: the overlapping
/// load–store windows are visible at a glance.
fn schedule_lines(question: &mut Question, trace: &Trace) {
    let column = |text: String| format!("{text:<6}");
    let header: String = (1..=trace.events.len()).map(|step| column(step.to_string())).collect();
    question.line(format!("{}{header}", column("step".to_string())));
    for thread in 0..trace.n_threads {
        let row: String = trace
            .events
            .iter()
            .map(|event| {
                column(if event.thread == thread {
                    op_name(event.op).to_string()
                } else {
                    String::new()
                })
            })
            .collect();
        question.line(format!("{}{row}", column(thread_name(thread).to_string())));
    }
}

/// The three asks every trace ends with.
fn ask_final_lost_and_stale(question: &mut Question, trace: &Trace) {
    let last_store = trace
        .events
        .iter()
        .rposition(|event| event.op == Op::Store)
        .expect("every complete schedule stores");
    question.ask(
        "The final counter",
        trace.final_counter.to_string(),
        format!(
            "the last store, {}'s at step {}, writes {}",
            thread_name(trace.events[last_store].thread),
            last_store + 1,
            trace.final_counter
        ),
    );
    question.ask(
        "Updates lost",
        trace.lost_updates().to_string(),
        format!(
            "{} + {} = {} expected; the counter ends at {}",
            trace.start,
            plural(trace.expected() - trace.start, "increment"),
            trace.expected(),
            trace.final_counter
        ),
    );
    let stale: Vec<usize> = trace
        .events
        .iter()
        .enumerate()
        .filter(|(_, event)| event.op == Op::Store && event.overwritten > 0)
        .map(|(index, _)| index)
        .collect();
    let (answer, why) = if stale.is_empty() {
        (
            "none".to_string(),
            "every store finds the counter where its thread loaded it".to_string(),
        )
    } else {
        let answers: Vec<String> = stale
            .iter()
            .map(|&index| {
                let over = previous_store(&trace.events, index).expect("a stale store follows another store");
                format!(
                    "step {} ({}) over step {} ({})",
                    index + 1,
                    thread_name(trace.events[index].thread),
                    over + 1,
                    thread_name(trace.events[over].thread)
                )
            })
            .collect();
        let reasons: Vec<String> = stale.iter().map(|&index| stale_reason(trace, index)).collect();
        (answers.join("; "), reasons.join("; "))
    };
    question.ask(
        "Which stores are stale, and which store each one writes over",
        answer,
        why,
    );
}

/// Why the store at `index` is stale: what its thread loaded, what it finds, what it writes.
fn stale_reason(trace: &Trace, index: usize) -> String {
    let event = &trace.events[index];
    let load = trace.events[..index]
        .iter()
        .rposition(|earlier| earlier.thread == event.thread && earlier.op == Op::Load)
        .expect("a thread loads before it stores");
    let loaded = trace.events[load].registers[event.thread].unwrap_or(0);
    let found = event.replaced.unwrap_or(0);
    format!(
        "{} loaded {loaded} at step {}, finds {found} and writes {}, erasing {}",
        thread_name(event.thread),
        load + 1,
        event.counter,
        plural(event.overwritten, "update")
    )
}

/// The index of the last store before `index`, if any.
fn previous_store(events: &[Event], index: usize) -> Option<usize> {
    events[..index].iter().rposition(|event| event.op == Op::Store)
}

/// Where the counter's value at the end of `steps` steps came from; `when` says which moment
/// ("by then", "before it").
fn last_store_before(trace: &Trace, steps: usize, when: &str) -> String {
    match previous_store(&trace.events, steps) {
        Some(index) => format!(
            "{}'s store at step {} is the last one {when}, and wrote {}",
            thread_name(trace.events[index].thread),
            index + 1,
            trace.events[index].counter
        ),
        None => format!("nothing is stored {when}: the counter still holds {}", trace.start),
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Load => "load",
        Op::Add => "add",
        Op::Store => "store",
    }
}

/// `Two threads, A and B`, `Three threads, A, B and C`.
fn thread_names(n_threads: usize) -> String {
    let count = match n_threads {
        2 => "Two",
        3 => "Three",
        _ => "Several",
    };
    let names: Vec<String> = (0..n_threads).map(|thread| thread_name(thread).to_string()).collect();
    let (last, first) = names.split_last().expect("at least one thread");
    format!("{count} threads, {} and {last}", first.join(", "))
}

/// `once`, `twice`, `3 times`.
fn times(count: u64) -> String {
    match count {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        _ => format!("{count} times"),
    }
}

/// `1 update`, `2 updates`.
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `3! × 3!` for (3, 2): the denominator of a multinomial coefficient.
fn repeated_factorial(of: u64, count: usize) -> String {
    vec![format!("{of}!"); count].join(" × ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn factorial(n: u64) -> u64 {
        (1..=n).product()
    }

    #[test]
    fn every_seed_makes_a_complete_quiz_and_the_same_one_every_time() {
        course::quiz::assert_well_formed(make, 0..200, 4, 3);
    }

    #[test]
    fn the_counting_formulas_agree_with_the_enumeration() {
        for (n_threads, increments) in COUNTING_SHAPES {
            let outcomes = interleaving::all_outcomes(n_threads, increments);
            let steps = 3 * increments;
            let all = factorial(steps * n_threads as u64) / factorial(steps).pow(n_threads as u32);
            assert_eq!(outcomes.values().sum::<u64>(), all);
            let windows = factorial(increments * n_threads as u64) / factorial(increments).pow(n_threads as u32);
            assert_eq!(outcomes.get(&(n_threads as u64 * increments)), Some(&windows));
            let smallest = if increments == 1 { 1 } else { 2 };
            assert_eq!(outcomes.keys().next(), Some(&smallest));
        }
    }

    #[test]
    fn a_schedule_is_drawn_one_column_per_step() {
        let trace = interleaving::run_from(5, 2, 1, &[0, 1, 1, 0, 1, 0]).unwrap();
        let mut quiz = Quiz::new();
        let question = quiz.question("x");
        schedule_lines(question, &trace);
        assert_eq!(question.setup[1].trim_end(), "step  1     2     3     4     5     6");
        assert_eq!(
            question.setup[2].trim_end(),
            "A     load              add         store"
        );
        assert_eq!(question.setup[3].trim_end(), "B           load  add         store");
        ask_final_lost_and_stale(question, &trace);
        let asks: Vec<(&str, &str)> = question
            .asks
            .iter()
            .map(|ask| (ask.answer.as_str(), ask.why.as_str()))
            .collect();
        assert_eq!(asks[0].0, "6");
        assert_eq!(asks[1], ("1", "5 + 2 increments = 7 expected; the counter ends at 6"));
        assert_eq!(
            asks[2],
            (
                "step 6 (A) over step 5 (B)",
                "A loaded 5 at step 1, finds 6 and writes 6, erasing 1 update"
            )
        );
    }

    #[test]
    fn names_and_numbers_read_as_sentences() {
        assert_eq!(thread_names(2), "Two threads, A and B");
        assert_eq!(thread_names(3), "Three threads, A, B and C");
        assert_eq!(times(1), "once");
        assert_eq!(times(3), "3 times");
        assert_eq!(plural(1, "update"), "1 update");
        assert_eq!(repeated_factorial(6, 2), "6! × 6!");
    }
}
