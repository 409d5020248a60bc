//! # Lesson 04 · A GIL, simulated
//!
//! **Objective.** Understand Python's Global Interpreter Lock by building one and measuring
//! it. A tiny interpreter runs "bytecode" steps (units of CPU work) on several threads; each
//! step needs the one global lock. As in CPython, a waiting thread asks the running one to
//! let go after a switch interval (5 ms by default), and a thread that blocks on I/O lets go
//! while it waits. Then the lecture's claims become measurements: threads do not speed up
//! computing, they do speed up waiting, processes (each with its own GIL) escape it, and a
//! thread that waits for I/O pays for its CPU-bound neighbours in latency.
//!
//! **What to observe.** Under the GIL, CPU-bound threads use about one core and gain nothing;
//! without it (a free-threaded build) or in separate processes they gain about N×. Threads
//! that wait gain about k× even under the GIL. A thread answering requests next to CPU-bound
//! threads answers in about a switch interval instead of microseconds (the convoy effect), and
//! `--switch-interval` moves that latency. The interpreter itself checks that no two steps ever
//! run at once under the GIL, and that no thread waits for more turns than there are threads.
//! With the machine's CPython (`python/gil.py`), the real GIL runs beside the simulated one and
//! each simulated figure is printed over the real one.
//!
//! **How to run.** `cargo run -p lesson04_gil` (add `--quick`, `--json`, `--step`; `--help`
//! lists the knobs; `--python PATH` names the CPython that runs the real GIL, `--no-python`
//! runs none). `--quiz --seed S` prints seeded questions on who holds the GIL when instead,
//! and `--answers` reveals their answers, computed by the model that section 1 draws
//! (`src/schedule.rs`).
//!
//! Read first: src/gil.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness lives apart: `interpreter.rs` (the interpreter the GIL guards),
//! `turns.rs` (what the GIL counted), `schedule.rs` (a model that predicts who holds the GIL
//! when, also behind the quiz), `programs.rs` (the workloads and their checks), `processes.rs`
//! (worker processes and pipes), `convoy.rs` (a client, a server thread and its neighbours),
//! `cpython.rs` (the real GIL: the twin `python/gil.py` on the machine's CPython, its answers
//! checked, its figures beside the simulated ones), `room.rs` (fewer workers when the machine's
//! limits leave room for fewer).

mod convoy;
mod cpython;
mod gil;
mod interpreter;
mod processes;
mod programs;
mod quiz;
mod room;
mod schedule;
mod sections;
mod turns;

use clap::Parser;
use course::Section;
use course::timing::{ComparisonReport, Runs};
use programs::Answer;
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 04: a GIL-like global lock, simulated. A tiny interpreter whose threads must hold \
one lock to run each bytecode step shows that CPU-bound threads gain nothing under a GIL, gain \
N× without it or as processes, that threads waiting on I/O gain k× anyway, and how CPU-bound \
threads delay an I/O thread's replies (the convoy effect)."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads (and processes) sharing the CPU-bound work, and CPU-bound neighbours of the I/O
    /// thread in the convoy [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 256))]
    threads: Option<usize>,
    /// Bytecode steps of CPU-bound work, about 10 µs each [default: 60,000, or 4,000 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000_000))]
    steps: Option<usize>,
    /// I/O-bound tasks, each waiting once; as many threads (or processes) run them at once
    #[arg(long, value_name = "COUNT", default_value_t = 8, value_parser = course::cli::count(1, 256))]
    io_tasks: usize,
    /// How long each I/O-bound task waits, in milliseconds [default: 200, or 20 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 10_000))]
    #[serde(skip)]
    io_wait: Option<Duration>,
    /// How long a waiting thread waits before asking the running one to let go, in
    /// milliseconds (Python's sys.setswitchinterval)
    #[arg(long, value_name = "MS", default_value = "5", value_parser = course::cli::millis(1, 100))]
    #[serde(skip)]
    switch_interval: Duration,
    /// Requests the I/O thread answers in each convoy measurement [default: 100, or 10 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 100_000))]
    requests: Option<usize>,
    // `--python PATH`, `--no-python`: the real GIL beside the simulated one in sections 2 and 4
    // to 7 (python/gil.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
    // `--quiz` and `--answers`: questions on who holds the GIL when, instead of the lesson
    // (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// What every section reads (the sizes, once defaults are settled), and what one section
/// hands to a later one: each of those is computed by the section that needs it when the
/// section that measures it was skipped.
pub struct Params {
    n_threads: usize,
    total_steps: u64,
    io_tasks: usize,
    io_wait: Duration,
    switch_interval: Duration,
    requests: usize,
    /// Measured runs of each CPU-bound variant.
    runs: usize,
    /// The one-thread run of the CPU-bound work, measured once for sections 2 to 4.
    baseline: Option<(Vec<Answer>, Runs)>,
    /// Sections 2 to 4's comparisons, 5's and 6's results, for the summary.
    cpu_with_gil: Option<ComparisonReport>,
    cpu_without_gil: Option<ComparisonReport>,
    cpu_processes: Option<ComparisonReport>,
    io: Option<ComparisonReport>,
    convoy: Option<s6_convoy::ConvoyResults>,
    /// The CPython that runs the twin, the twin's run (made once, by the first section that
    /// needs it), and the simulated/real ratios the sections found, for the summary.
    python: course::python::Python,
    real: Option<Option<cpython::RealGil>>,
    calibration: cpython::Calibration,
}

const SECTIONS: [Section<Params>; 7] = [
    Section::new("A tiny interpreter and its GIL", s1_interpreter::run),
    Section::new("CPU-bound threads under the GIL", s2_with_gil::run),
    Section::new("The same threads without the GIL", s3_without_gil::run),
    Section::new("Processes, each with its own GIL", s4_processes::run),
    Section::new("I/O-bound threads: waiting releases the GIL", s5_io_bound::run),
    Section::new("The convoy effect: I/O next to CPU-bound threads", s6_convoy::run),
    Section::new(
        "Summary: threads with a GIL, threads without, processes",
        s7_summary::run,
    ),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("A GIL, simulated");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let python = course::python::Python::find(lesson, &args.python);
        let requested = args.threads.unwrap_or(lesson.machine().logical_cores);
        // The convoy runs the most threads at once: the neighbours, the I/O thread, this one.
        let n_threads = room::fit_workers(lesson, "--threads", requested, 2);
        let io_tasks = room::fit_workers(lesson, "--io-tasks", args.io_tasks, 1);
        let mut params = Params {
            n_threads,
            total_steps: args.steps.unwrap_or(lesson.pick(4_000, 60_000)) as u64,
            io_tasks,
            io_wait: args.io_wait.unwrap_or(lesson.pick(20, 200) * Duration::from_millis(1)),
            switch_interval: args.switch_interval,
            requests: args.requests.unwrap_or(lesson.pick(10, 100)),
            runs: lesson.pick(1, 3),
            baseline: None,
            cpu_with_gil: None,
            cpu_without_gil: None,
            cpu_processes: None,
            io: None,
            convoy: None,
            python,
            real: None,
            calibration: cpython::Calibration::default(),
        };
        lesson.param("threads", params.n_threads);
        lesson.param("steps", params.total_steps);
        lesson.param("io_tasks", params.io_tasks);
        lesson.param("io_wait_ms", params.io_wait.as_millis() as u64);
        lesson.param("switch_interval_ms", params.switch_interval.as_millis() as u64);
        lesson.param("requests", params.requests);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
