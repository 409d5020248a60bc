//! # Lesson 06 · `pool.map`, and when parallel loses
//!
//! **Objective.** Know what a pool's `map` costs and when it pays. The lecture's word count
//! over 300 short strings, done one after another, with a thread per string, and with pools
//! of threads and of processes: the parallel versions lose, and the lesson shows why. A sweep
//! of input sizes finds the crossover where a pool starts to win. Then the lecture's
//! `count_prime` on its four large numbers, sequentially, with rayon's `par_iter` (Rust's
//! `pool.map`), with a fixed pool of threads and with a pool of forked processes that receive
//! items and return results through pipes (Python's `multiprocessing`). Then load imbalance:
//! what happens when items do not divide evenly among workers, and what chunking does about
//! it. Last, what `map` promises: the order of results, laziness, chunks, how `par_iter` is
//! spread over a pool, and what happens when a worker dies.
//!
//! **What to observe.** A microsecond of work cannot pay for starting a thread or a process,
//! nor for handing an item over: parallel wins only when each hand-off carries enough work.
//! On the large numbers, threads and processes both approach one core's speed per core, and
//! the processes' "cores used" is counted from the CPU time the workers report. With uneven
//! items, the worker that finishes last sets the time; small chunks even the load out, at the
//! price of more hand-offs. The notes' own Python runs beside sections 1 and 3 on your CPython:
//! its word counts in the same table, its `count_prime` on smaller numbers with Rust timed on
//! them too, and what one iteration costs in each.
//!
//! **How to run.** `cargo run -p lesson06_pool_map` (add `--quick`, `--json`, `--step` for
//! presenter mode; `--numbers 77000000,74000000,73000000,71000000` picks the count_prime
//! numbers; `--no-python` or `--python PATH` for the CPython twin; `--help` lists the knobs).
//! `--quiz --seed S` prints seeded questions on load imbalance instead, and `--answers`
//! reveals their answers, computed by the model of section 4 (`src/imbalance.rs`).
//!
//! Read first: src/pool_map.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. Apart from them: `pools.rs` (rayon pools that end with their section, so that the
//! next one may fork; timing a map on a process pool that stays alive), `answers.rs`
//! (count_prime's answers checked by factoring) and `imbalance.rs` (the model of section 4,
//! also behind the quiz); `cpython.rs` runs the notes' programs on the machine's CPython
//! (`python/pool_map.py`).

mod answers;
mod cpython;
mod imbalance;
mod pool_map;
mod pools;
mod quiz;
mod sections;

use clap::Parser;
use course::Section;
use course::limits;
use sections::*;
use std::process::ExitCode;
use workloads::seed::SEED_NUMBERS;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 06: what pool.map costs and when it pays. Counts the words of the lecture's 300 \
short strings one after another, with a thread per string and with pools of threads and processes \
(parallel loses), sweeps input sizes to find where a pool starts to win, then runs the lecture's \
count_prime on threads, rayon and a pool of forked processes, with load imbalance and chunking. \
The notes' own Python runs beside it on your CPython."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads, and worker processes in the pools [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// The numbers count_prime runs on, comma-separated, each from 3 to 2000000000
    /// [default: the lecture's 77000000,74000000,73000000,71000000, or a tenth of each with --quick]
    #[arg(long, value_name = "NUMBERS", value_delimiter = ',', num_args = 1.., value_parser = count_prime_number)]
    numbers: Vec<u64>,
    // `--python PATH`, `--no-python`: the notes' programs on CPython in sections 1 and 3
    // (python/pool_map.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
    // `--quiz` and `--answers`: questions on load imbalance instead of the lesson (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// What every section reads: the sizes, once defaults are settled. Sections hand nothing to
/// each other: each starts the pools it needs and ends them (see `pools.rs`).
pub struct Params {
    n_workers: usize,
    numbers: Vec<u64>,
    /// The CPython that runs the notes' programs, if any; what it printed, once a section ran
    /// it (`cpython::run_once`); the count_prime numbers it runs, scaled to take a second or two.
    python: course::python::Python,
    twin: Option<course::python::Twin>,
    cpython_numbers: cpython::Scaled,
}

const SECTIONS: [Section<Params>; 5] = [
    Section::new("The lecture's word count: 300 short strings", s1_word_count::run),
    Section::new(
        "Overhead against problem size: where a pool starts to win",
        s2_problem_size::run,
    ),
    Section::new(
        "count_prime on large numbers: rayon, threads and processes",
        s3_count_prime::run,
    ),
    Section::new("Load imbalance, and what chunking does", s4_load_imbalance::run),
    Section::new(
        "What map means: order, laziness, chunks, and a worker that dies",
        s5_what_map_means::run,
    ),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("pool.map, and when parallel loses");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        if args.numbers.len() > 64 {
            return Err(course::usage_error(format!(
                "{} numbers given to --numbers; at most 64",
                args.numbers.len()
            )));
        }
        let numbers = if args.numbers.is_empty() {
            SEED_NUMBERS.map(|n| lesson.pick(n / 10, n)).to_vec()
        } else {
            args.numbers.clone()
        };
        let mut params = Params {
            // Per worker a section keeps a worker process, a rayon thread and a thread of its own
            // pool alive at once (three tasks, two thread stacks here) and two pipe ends open.
            n_workers: lesson.at_most(
                args.workers.unwrap_or(lesson.machine().logical_cores),
                "workers",
                limits::room_for_workers(limits::PerWorker {
                    tasks: 3,
                    threads: 2,
                    files: 2,
                }),
            )?,
            cpython_numbers: cpython::Scaled::of(&numbers, lesson.quick()),
            numbers,
            python: course::python::Python::find(lesson, &args.python),
            twin: None,
        };
        lesson.param("workers", params.n_workers);
        lesson.param("numbers", &params.numbers);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}

/// `--numbers` values: count_prime needs n ≥ 3, and 2 billion iterations already take seconds.
fn count_prime_number(text: &str) -> Result<u64, String> {
    let number: i128 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if !(3..=2_000_000_000).contains(&number) {
        return Err(format!(
            "{number} is out of range: from 3 to 2000000000 (larger would take minutes)"
        ));
    }
    Ok(number as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert_eq!(count_prime_number("77000000"), Ok(77_000_000));
        assert!(count_prime_number("2").is_err());
        assert!(count_prime_number("-5").is_err());
        assert!(count_prime_number("abc").is_err());
        assert!(count_prime_number("99999999999999999999999").is_err());
    }
}
