//! # Lesson 05 · Watching cores work
//!
//! **Objective.** See with your own eyes what the lecture asks you to watch in `htop`: a busy
//! loop ("frying eggs") keeps one core busy; one busy process per core keeps them all busy. The
//! lesson draws every core's load live, from the kernel's own counters, while its workers
//! burn CPU. It also records which core each worker ran on, sample by sample: the scheduler
//! moves a lone busy process between cores, which is why "two cores showed activity" for a
//! serial job. Then the same workers pinned to one core each (affinity): no moves at all. Last,
//! twice as many workers as cores: they take turns.
//!
//! **What to observe.** One busy process is one core's worth of CPU (cores used ≈ 1), however
//! many cores flicker. One per core fills every core. Pinned workers never move. More workers
//! than cores do not add CPU: each gets a share of a core and is preempted over and over. The
//! lecture's own Python loop runs beside sections 2 and 3 on your CPython: one process, then a
//! `multiprocessing.Pool`, by the cores they used.
//!
//! **How to run.** `cargo run -p lesson05_cores` in a terminal to watch the bars move (add
//! `--quick`, `--json`; `--step` for presenter mode; `--phase-ms 10000` for the lecture's ten
//! seconds; `--no-python` or `--python PATH` for the CPython twin; `--help` lists the knobs).
//! Run `htop` beside it to compare. Nothing here is random: `--seed`, which every lesson
//! accepts, changes nothing.
//!
//! Read first: src/busy.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness that makes the cores visible lives apart: `phase.rs` (fork, pin, watch
//! and reap the workers), `live.rs` (the load drawn as it happens), `show.rs` (the whole
//! phase's chart and the workers' table), `sampler.rs` (the kernel's counters in `/proc`);
//! `cpython.rs` runs the lecture's loop on the machine's CPython (`python/fry_eggs.py`).

mod busy;
mod cpython;
mod live;
mod phase;
mod sampler;
mod sections;
mod show;

use clap::Parser;
use course::Section;
use phase::Watch;
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 05: watching cores work. Burns CPU in busy loops (the lecture's 'frying eggs'): \
one process, then one per core, then pinned one to a core, then twice as many as cores, while it \
draws every core's load live from the kernel's counters and records which core each process ran \
on and how often the scheduler moved it; the lecture's Python loop runs beside it on your CPython. \
Nothing in it is random: --seed changes nothing."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Busy processes when there is one per core [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// How long each busy phase lasts, in milliseconds [default: 3000, or 200 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(50, 60_000))]
    #[serde(skip)]
    phase_ms: Option<Duration>,
    /// Time between two readings of the counters, in milliseconds [default: 100, or 50 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(20, 2_000))]
    #[serde(skip)]
    interval: Option<Duration>,
    // `--python PATH`, `--no-python`: the lecture's loop on CPython in sections 2 and 3
    // (python/fry_eggs.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
}

/// What every section reads: the sizes, once defaults are settled.
pub struct Params {
    /// Busy processes when there is one per core (section 5 starts twice as many).
    n_workers: usize,
    /// How long each phase lasts, and how often it is sampled.
    watch: Watch,
    /// The CPython that runs the lecture's loop, if any.
    python: course::python::Python,
}

const SECTIONS: [Section<Params>; 5] = [
    Section::new("Cores at rest, and how their load is measured", s1_at_rest::run),
    Section::new("One busy process: frying eggs on one core", s2_one_busy_process::run),
    Section::new("One busy process per core", s3_one_per_core::run),
    Section::new("Pinned: one core each, no moves", s4_pinned::run),
    Section::new(
        "Twice as many busy processes as cores: taking turns",
        s5_more_than_cores::run,
    ),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(course::info!("Watching cores work"), &args.common, &args, |lesson| {
        let n_workers = args.workers.unwrap_or(lesson.machine().logical_cores);
        let phase = args
            .phase_ms
            .unwrap_or(lesson.pick(Duration::from_millis(200), Duration::from_secs(3)));
        let interval = args
            .interval
            .unwrap_or(lesson.pick(Duration::from_millis(50), Duration::from_millis(100)));
        if interval > phase {
            return Err(course::usage_error(format!(
                "--interval ({} ms) must not be longer than a phase ({} ms)",
                interval.as_millis(),
                phase.as_millis()
            )));
        }
        lesson.param("workers", n_workers);
        lesson.param("phase_ms", phase.as_millis() as u64);
        lesson.param("interval_ms", interval.as_millis() as u64);
        let mut params = Params {
            n_workers,
            watch: Watch { phase, interval },
            python: course::python::Python::find(lesson, &args.python),
        };
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
