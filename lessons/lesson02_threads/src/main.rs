//! # Lesson 02 · Threads
//!
//! **Objective.** Start threads, wait for them, get their results back, and know what one
//! costs. The lecture's threading notebook, in Rust: three threads that sleep and print
//! (`print_with_delay`), threads printing on their own schedules, the results the notebook
//! "returned into the ether" and the ways Rust hands them back (`JoinHandle<T>`, scoped
//! threads, a shared `Arc<Mutex<Vec<_>>>`, a channel). Then the lecture's claim that threads
//! are "faster to create, less memory overhead" becomes numbers from this machine, and the
//! notebook's thread-per-string word count shows when a thread is worth its cost.
//!
//! **What to observe.** Waiting threads overlap: the total is the longest delay, not the sum.
//! Output from several threads interleaves differently on every run, and a line written in two
//! pieces can be torn apart. Every way of collecting results gives the same numbers, but a
//! shared list holds them in the order the threads finished. A thread is created and joined
//! tens of times faster than a process, and costs kilobytes where a process costs more. On the
//! notebook's 300 short strings one thread per string is far slower than none; it pays only
//! once each string takes tens of microseconds to count. The notebook's own Python runs beside
//! it on your CPython: the same order of prints, results lost by `join`, and its own costs.
//!
//! **How to run.** `cargo run -p lesson02_threads` (add `--quick`, `--json`, `--step` for the
//! presenter's pauses; `--no-python` or `--python PATH` for the CPython twin; `--help` lists
//! the knobs). A machine that allows fewer threads or
//! processes than a section wants gets fewer, with a warning that names the limit.
//!
//! Read first: src/threads.rs, then src/results.rs, then src/word_count.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness lives apart: `costs.rs` (workers created and kept alive to measure
//! them), `observe.rs` (what `/proc` says), `lines.rs` (reading torn lines), `sweep.rs`
//! (section 5's sizes), `room.rs` (one warning for what the machine's limits cut);
//! `cpython.rs` runs the notebook's examples on the machine's CPython (`python/threads.py`).

mod costs;
mod cpython;
mod lines;
mod observe;
mod results;
mod room;
mod sections;
mod sweep;
mod threads;
mod word_count;

use clap::Parser;
use course::Section;
use course::limits;
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 02: threads. Spawns, names and joins threads, shows their output interleave, gets \
their results back four ways, measures what a thread costs against a forked and a spawned process \
(time to create and join, memory), and finds the string size at which a thread per string pays. \
The notebook's own examples run beside it on your CPython."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// The notebook's time unit, in milliseconds: its 5, 2 and 3 second delays become 5, 2 and 3
    /// units [default: 100, or 10 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 2_000))]
    #[serde(skip)]
    unit: Option<Duration>,
    /// Threads printing at once in the interleaving demonstration
    #[arg(long, value_name = "COUNT", default_value_t = 4, value_parser = course::cli::count(2, 32))]
    threads: usize,
    /// Threads, processes and programs created and joined, each, to time creation
    /// [default: 300, or 30 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 20_000))]
    samples: Option<usize>,
    /// Threads (and processes) kept alive at once to measure what each costs in memory
    /// [default: 64, or 8 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000))]
    live: Option<usize>,
    /// Measured runs of each variant in the word-count comparisons [default: 5, or 2 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 100))]
    runs: Option<usize>,
    // `--python PATH`, `--no-python`: the notebook's examples on CPython in sections 1, 3 and 4
    // (python/threads.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
}

/// What every section reads: the sizes, once defaults are settled.
pub struct Params {
    unit: Duration,
    threads: usize,
    samples: usize,
    live: usize,
    runs: usize,
    /// The cores this process may use (what the header reports).
    cores: usize,
    /// The CPython that runs the notebook's examples, if any.
    python: course::python::Python,
    /// What it printed, once a section ran it (`cpython::twin`).
    twin: Option<course::python::Twin>,
}

const SECTIONS: [Section<Params>; 5] = [
    Section::new("Spawn and join", s1_spawn_and_join::run),
    Section::new("Interleaving", s2_interleaving::run),
    Section::new("Returning results", s3_returning_results::run),
    Section::new("What a thread costs, against a process", s4_thread_costs::run),
    Section::new("Threads for a tiny job", s5_tiny_jobs::run),
];

fn main() -> ExitCode {
    costs::since_start();
    let args: Args = course::parse_args();
    course::run(course::info!("Threads"), &args.common, &args, |lesson| {
        let python = course::python::Python::find(lesson, &args.python);
        let mut params = Params {
            unit: args
                .unit
                .unwrap_or(lesson.pick(Duration::from_millis(10), Duration::from_millis(100))),
            threads: args.threads,
            samples: args.samples.unwrap_or(lesson.pick(30, 300)),
            live: args.live.unwrap_or(lesson.pick(8, 64)),
            runs: args.runs.unwrap_or(lesson.pick(2, 5)),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            python,
            twin: None,
        };
        // Section 2's writers, all alive at once: fewer where the machine allows fewer threads.
        params.threads = lesson.at_most(
            params.threads,
            "writer threads",
            limits::room_for_threads(limits::DEFAULT_STACK),
        )?;
        lesson.param("unit_ms", params.unit.as_millis() as u64);
        lesson.param("samples", params.samples);
        lesson.param("live", params.live);
        lesson.param("runs", params.runs);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
