//! The lesson's quiz (`--quiz --seed S`): speedup with load imbalance. Item costs, a number of
//! workers and a chunk size come from the seed; the student works out who computes what, when
//! the pool finishes, and the speedup and efficiency that follow. Every answer is computed by
//! the lesson's own model (`imbalance::schedule`), the one section 4 prints beside its
//! measurements, so the quiz and the lesson can never disagree.
//!
//! The numbers come only from the `Rng` handed in, in a fixed order: changing what is drawn,
//! or in which order, changes every seed's problem, which `tests/quiz.rs` would catch.

use crate::imbalance::{self, Schedule};
use course::quiz::Quiz;
use workloads::Rng;

/// The whole quiz for one seed: four questions on the same theme, from dynamic to static
/// hand-out, then the ceiling that the largest item sets.
pub fn make(rng: &mut Rng) -> Quiz {
    let mut quiz = Quiz::new();
    let n_items = rng.between(5, 7) as usize;
    let n_workers = rng.between(2, 4) as usize;
    let costs: Vec<f64> = (0..n_items).map(|_| rng.between(1, 9) as f64).collect();
    chunks_of_one(&mut quiz, &costs, n_workers);
    one_chunk_per_worker(&mut quiz, &costs, n_workers);
    let n_growing = rng.between(16, 30) as usize;
    let n_workers_growing = rng.between(2, 3) as usize;
    python_default_on_growing_items(&mut quiz, n_growing, n_workers_growing);
    as_many_workers_as_you_like(&mut quiz, &costs);
    quiz
}

/// Q1: chunks of one item, handed to whichever worker is free first.
fn chunks_of_one(quiz: &mut Quiz, costs: &[f64], n_workers: usize) {
    let schedule = imbalance::schedule(costs, n_workers, 1);
    let question = quiz.question(format!(
        "pool.map over {} items on {n_workers} workers, in chunks of 1 item. Each item's cost, in seconds:",
        costs.len()
    ));
    question.line(item_row(costs.len()));
    question.line(cost_row(costs));
    question.line("The rule: at the start worker 1 takes the first chunk, worker 2 the second, and so on;");
    question.line("then whichever worker is free first takes the next chunk (on a tie, the lower-numbered");
    question.line("worker). Handing a chunk over costs nothing here: only the imbalance counts.");
    for (index, worker) in schedule.workers.iter().enumerate() {
        question.ask(
            format!("The items worker {} computes", index + 1),
            item_list(&worker.items),
            format!("busy {}", sum_text(&worker.items, costs)),
        );
    }
    ask_makespan_speedup_efficiency(question, &schedule);
}

/// Q2: the same items split up front, one chunk per worker (a static schedule).
fn one_chunk_per_worker(quiz: &mut Quiz, costs: &[f64], n_workers: usize) {
    let chunk = imbalance::one_chunk_per_worker(costs.len(), n_workers);
    let schedule = imbalance::schedule(costs, n_workers, chunk);
    let question = quiz.question(format!(
        "The same {} items on the same {n_workers} workers, split up front into one chunk per worker:",
        costs.len()
    ));
    question.line("the chunk size is the number of items divided by the workers, rounded up.");
    question.ask(
        "The chunk size",
        chunk.to_string(),
        format!("{} items / {n_workers} workers, rounded up", costs.len()),
    );
    let idle = schedule.workers.iter().filter(|worker| worker.items.is_empty()).count();
    question.ask(
        "Workers left with nothing to do",
        idle.to_string(),
        format!(
            "{} chunk{} for {n_workers} workers",
            schedule.chunks,
            if schedule.chunks == 1 { "" } else { "s" }
        ),
    );
    ask_makespan_speedup_efficiency(question, &schedule);
    let dynamic = imbalance::schedule(costs, n_workers, 1);
    let (answer, verb) = match schedule.makespan.total_cmp(&dynamic.makespan) {
        std::cmp::Ordering::Less => ("yes", "finishes before"),
        std::cmp::Ordering::Equal => ("no, as fast", "finishes with"),
        std::cmp::Ordering::Greater => ("no, slower", "finishes after"),
    };
    question.ask(
        "Faster than the chunks of 1 of Q1",
        answer,
        format!(
            "at {} s it {verb} Q1's {} s",
            seconds(schedule.makespan),
            seconds(dynamic.makespan)
        ),
    );
}

/// Q3: many items of growing cost with Python's default chunk size.
fn python_default_on_growing_items(quiz: &mut Quiz, n_items: usize, n_workers: usize) {
    let costs: Vec<f64> = (1..=n_items).map(|cost| cost as f64).collect();
    let chunk = imbalance::python_default_chunk(n_items, n_workers);
    let schedule = imbalance::schedule(&costs, n_workers, chunk);
    let question = quiz.question(format!(
        "{n_items} items whose costs grow: item 1 takes 1 s, item 2 takes 2 s, ..., item {n_items} takes {n_items} s."
    ));
    question.line(format!(
        "pool.map on {n_workers} workers with Python's default chunk size: the items divided by four times"
    ));
    question.line("the workers, rounded up. Chunks are handed out by the rule of Q1.");
    question.ask(
        "The chunk size",
        chunk.to_string(),
        format!("{n_items} / (4 × {n_workers}), rounded up"),
    );
    question.ask(
        "The number of chunks (hand-offs to a worker)",
        schedule.chunks.to_string(),
        format!("{n_items} items / {chunk} per chunk, rounded up"),
    );
    ask_makespan_speedup_efficiency(question, &schedule);
}

/// Q4: no number of workers beats the largest item.
fn as_many_workers_as_you_like(quiz: &mut Quiz, costs: &[f64]) {
    let total: f64 = costs.iter().sum();
    let largest = costs.iter().copied().fold(0.0, f64::max);
    // The fewest workers whose pool finishes when the largest item does: from there on, more
    // workers only wait. Always found, since with one worker per item the largest item alone
    // sets the makespan.
    let fewest = (1..=costs.len())
        .find(|&workers| imbalance::schedule(costs, workers, 1).makespan == largest)
        .unwrap_or(costs.len());
    let best = imbalance::schedule(costs, costs.len(), 1);
    let question = quiz.question(format!(
        "The items of Q1, in chunks of 1, on as many workers as you like ({}).",
        cost_list(costs)
    ));
    question.ask(
        "The best speedup any number of workers reaches",
        speedup_text(best.speedup()),
        format!(
            "total {} s / the largest item {} s, which one worker must compute alone",
            seconds(total),
            seconds(largest)
        ),
    );
    question.ask(
        "The fewest workers that reach it",
        fewest.to_string(),
        if fewest == 1 {
            "one item holds all the work".to_string()
        } else {
            format!(
                "with {} workers the pool finishes at {} s; with {fewest}, at {} s",
                fewest - 1,
                seconds(imbalance::schedule(costs, fewest - 1, 1).makespan),
                seconds(largest)
            )
        },
    );
}

/// The three figures every question ends with, each explained from the one before.
fn ask_makespan_speedup_efficiency(question: &mut course::quiz::Question, schedule: &Schedule) {
    let slowest = schedule
        .workers
        .iter()
        .position(|worker| worker.load == schedule.makespan)
        .unwrap_or(0);
    question.ask(
        "When the pool finishes (the makespan), in seconds",
        seconds(schedule.makespan),
        format!("worker {} is busy longest", slowest + 1),
    );
    question.ask(
        "The speedup over one worker",
        speedup_text(schedule.speedup()),
        format!(
            "all the work, {} s, / the makespan, {} s",
            seconds(schedule.total),
            seconds(schedule.makespan)
        ),
    );
    question.ask(
        "The efficiency (speedup / workers)",
        percent_text(schedule.efficiency()),
        format!(
            "all the work, {} s, / ({} workers × {} s)",
            seconds(schedule.total),
            schedule.workers.len(),
            seconds(schedule.makespan)
        ),
    );
}

/// Item `index` as a letter: A, B, C, ...
fn item_name(index: usize) -> char {
    char::from(b'A' + (index % 26) as u8)
}

fn item_row(n_items: usize) -> String {
    let names: String = (0..n_items).map(|index| format!("{:>3}", item_name(index))).collect();
    format!("item{names}")
}

fn cost_row(costs: &[f64]) -> String {
    let values: String = costs.iter().map(|&cost| format!("{:>3}", seconds(cost))).collect();
    format!("cost{values}")
}

/// `A 6, B 2, C 9`: the items and their costs on one line.
fn cost_list(costs: &[f64]) -> String {
    let items: Vec<String> = costs
        .iter()
        .enumerate()
        .map(|(index, &cost)| format!("{} {}", item_name(index), seconds(cost)))
        .collect();
    items.join(", ")
}

/// `A, D`, or `none`.
fn item_list(items: &[usize]) -> String {
    if items.is_empty() {
        return "none".to_string();
    }
    let names: Vec<String> = items.iter().map(|&index| item_name(index).to_string()).collect();
    names.join(", ")
}

/// `6 + 4 = 10 s`, `9 s`, or `0 s`.
fn sum_text(items: &[usize], costs: &[f64]) -> String {
    let total: f64 = items.iter().map(|&index| costs[index]).sum();
    if items.len() < 2 {
        return format!("{} s", seconds(total));
    }
    let parts: Vec<String> = items.iter().map(|&index| seconds(costs[index])).collect();
    format!("{} = {} s", parts.join(" + "), seconds(total))
}

/// Whole seconds: every cost in the quiz is a whole number, and so is every sum of them.
fn seconds(value: f64) -> String {
    format!("{value:.0}")
}

/// Two decimals and a times sign: `2.69×`. Formatted here, not by the shared
/// `format` module, so that a change of display elsewhere cannot change a seed's answers.
fn speedup_text(value: f64) -> String {
    format!("{value:.2}×")
}

/// A whole percentage: `90%`.
fn percent_text(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_makes_a_complete_quiz_and_the_same_one_every_time() {
        course::quiz::assert_well_formed(make, 0..200, 4, 1);
    }

    #[test]
    fn numbers_are_shown_as_the_answers_expect() {
        assert_eq!(item_row(3), "item  A  B  C");
        assert_eq!(cost_row(&[6.0, 2.0, 9.0]), "cost  6  2  9");
        assert_eq!(cost_list(&[6.0, 2.0]), "A 6, B 2");
        assert_eq!(item_list(&[0, 3]), "A, D");
        assert_eq!(item_list(&[]), "none");
        assert_eq!(sum_text(&[0, 1], &[6.0, 4.0]), "6 + 4 = 10 s");
        assert_eq!(sum_text(&[2], &[1.0, 1.0, 9.0]), "9 s");
        assert_eq!(speedup_text(35.0 / 13.0), "2.69×");
        assert_eq!(percent_text(0.8974), "90%");
    }
}
