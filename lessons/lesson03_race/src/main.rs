//! # Lesson 03 · Race conditions
//!
//! **Objective.** See a race condition happen on shared memory, understand exactly how an
//! update gets lost, and fix it three ways while measuring what each fix costs.
//!
//! **What to observe.** Threads lose a large share of their updates, and a different share on
//! every run, once they really run at the same time. The same race on CPython loses updates or
//! not depending on where the interpreter lets threads change places, which the lesson says. A
//! step-by-step trace shows the moment one update is overwritten. Processes that share a page of memory lose updates the same way. A
//! `Mutex`, an atomic `fetch_add` and per-thread counting are all exact, at very different
//! costs: the fastest fix shares nothing. Counters that are separate but sit on one cache line
//! still slow each other down (false sharing).
//!
//! **How to run.** `cargo run -p lesson03_race` (add `--quick`, `--json`, `--step`; `--help`
//! lists the knobs). `--quiz --seed S` prints seeded questions on interleavings instead, and
//! `--answers` reveals them.
//!
//! Read first: src/race.rs, then src/false_sharing.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. What makes the race visible lives apart: `racing.rs` and `start_line.rs` (threads
//! that start together), `processes.rs` and `shared_memory.rs` (children sharing a page),
//! `interleaving.rs` (the step-by-step model, also behind the quiz); `cpython.rs` runs the same
//! race on the machine's CPython (`python/race.py`).

mod cpython;
mod false_sharing;
mod interleaving;
mod processes;
mod quiz;
mod race;
mod racing;
mod sections;
mod shared_memory;
mod start_line;

use clap::Parser;
use course::Section;
use sections::*;
use std::process::ExitCode;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 03: race conditions on shared memory. Threads, then forked processes, add to \
one shared counter with a separate load and store and lose updates, differently on every run; a \
step-by-step trace shows how; the same race runs on your CPython beside it. Three fixes (a Mutex, \
an atomic fetch_add, per-thread counting) are checked exact and timed, and false sharing is measured."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads sharing the counter [default: all available cores, at least 2]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(2, 256))]
    threads: Option<usize>,
    /// Increments per thread (or process; CPython in section 1 gets at most 1,000,000) [default:
    /// 10,000,000, or 500,000 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000_000_000))]
    increments: Option<usize>,
    /// Runs of the race in section 2, each with a tenth of the increments; every fix is checked
    /// as many times in section 5 [default: 50, or 20 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000))]
    runs: Option<usize>,
    /// Child processes sharing the counter in section 4 [default: the number of threads]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(2, 64))]
    processes: Option<usize>,
    /// Increments per thread in the step-by-step trace of section 3 (at most 3, so that every
    /// interleaving can be counted)
    #[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = course::cli::count(1, 3))]
    trace_increments: usize,
    // `--python PATH`, `--no-python`: the same race on CPython in section 1 (python/race.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
    // `--quiz` and `--answers`: questions on interleavings instead of the lesson (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// What every section reads: the sizes, once defaults are settled.
pub struct Params {
    n_threads: usize,
    increments: u64,
    runs: usize,
    increments_per_run: u64,
    n_processes: usize,
    trace_increments: u64,
    cores: usize,
    /// The CPython that runs the same race in section 1, if any.
    python: course::python::Python,
}

const SECTIONS: [Section<Params>; 6] = [
    Section::new("Lost updates: threads sharing one counter", s1_lost_updates::run),
    Section::new("Many runs, many answers", s2_many_runs::run),
    Section::new("One interleaving, step by step", s3_one_interleaving::run),
    Section::new(
        "Between processes: a counter in shared memory",
        s4_between_processes::run,
    ),
    Section::new("Three fixes, and what each costs", s5_three_fixes::run),
    Section::new(
        "False sharing: separate counters, one cache line",
        s6_false_sharing::run,
    ),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("Race conditions");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let cores = lesson.machine().logical_cores;
        let python = course::python::Python::find(lesson, &args.python);
        let n_threads = args.threads.unwrap_or(cores.max(2));
        let increments = args.increments.unwrap_or(lesson.pick(500_000, 10_000_000)) as u64;
        let mut params = Params {
            n_threads,
            increments,
            runs: args.runs.unwrap_or(lesson.pick(20, 50)),
            increments_per_run: (increments / 10).max(1),
            n_processes: args.processes.unwrap_or(n_threads.min(64)),
            trace_increments: args.trace_increments as u64,
            cores,
            python,
        };
        lesson.param("threads", params.n_threads);
        lesson.param("increments", params.increments);
        lesson.param("runs", params.runs);
        lesson.param("increments_per_run", params.increments_per_run);
        lesson.param("processes", params.n_processes);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
