//! # Lesson 00 · Computing resources
//!
//! **Objective.** Know the machine that every later figure in this course is measured on:
//! its cores (and whatever lowers how many this program may use), clock, memory, disk and GPU,
//! and how many processes and threads it is running right now. Then define the words the
//! course builds on (concurrency, parallelism, process, thread, CPU-bound, I/O-bound) and
//! measure the limit this machine sets: how much faster can work get on all its cores?
//!
//! **What to observe.** The number of cores is the ceiling of any CPU-bound speedup, and the
//! measured speedup comes close to it. Most of the hundreds of threads on the machine are
//! asleep. Waiting tasks overlap far beyond the number of cores, using almost no CPU.
//!
//! **How to run.** `cargo run -p lesson00_machine` (add `--quick`, `--json`; `--step` for
//! presenter mode; `--help` lists the knobs).
//!
//! Read first: src/cores.rs, then src/resources.rs, then src/concurrency.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section.

mod concurrency;
mod cores;
mod resources;
mod sections;

use clap::Parser;
use course::Section;
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 00: the machine every figure in this course is measured on. Shows its cores, \
clock, memory, disk, GPU and the processes running right now, then measures the most that \
parallel work can gain here: CPU-bound work on all cores, and waiting work on many threads."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads for the CPU-bound measurement [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1024))]
    threads: Option<usize>,
    /// Waiting (I/O-bound) tasks to overlap
    #[arg(long, value_name = "COUNT", default_value_t = 8, value_parser = course::cli::count(1, 1024))]
    io_tasks: usize,
    /// How long each waiting task waits, in milliseconds [default: 200, or 20 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 10_000))]
    #[serde(skip)]
    io_wait: Option<Duration>,
}

/// What every section reads: the sizes, once defaults are settled, and what section 5 hands
/// to section 6.
pub struct Params {
    /// Threads for the CPU-bound tasks (section 5 also tries twice as many).
    n_threads: usize,
    /// CPU-bound work in all, in xorshift steps, split into tasks.
    cpu_steps: u64,
    /// Measured runs of each CPU-bound variant (the median counts).
    cpu_runs: usize,
    io_tasks: usize,
    io_wait: Duration,
    /// The CPU-bound limit measured by section 5, for section 6's summary (`None` until then).
    cpu_limit: Option<s5_concurrency_and_parallelism::CpuLimit>,
}

const SECTIONS: [Section<Params>; 6] = [
    Section::new("Cores: how many things can run at the same moment", s1_cores::run),
    Section::new("Memory and disk: how much data fits", s2_memory_and_disk::run),
    Section::new("GPU: many simple cores", s3_gpu::run),
    Section::new("Processes and threads running right now", s4_processes::run),
    Section::new(
        "Concurrency vs parallelism, measured here",
        s5_concurrency_and_parallelism::run,
    ),
    Section::new("Waiting work: overlapping beyond the cores", s6_waiting::run),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(course::info!("Computing resources"), &args.common, &args, |lesson| {
        let n_threads = args.threads.unwrap_or(lesson.machine().logical_cores);
        let io_wait = args
            .io_wait
            .unwrap_or(lesson.pick(Duration::from_millis(20), Duration::from_millis(200)));
        lesson.param("threads", n_threads);
        lesson.param("io_wait_ms", io_wait.as_millis() as u64);
        let mut params = Params {
            n_threads,
            cpu_steps: lesson.pick(30_000_000, 300_000_000),
            cpu_runs: lesson.pick(1, 3),
            io_tasks: args.io_tasks,
            io_wait,
            cpu_limit: None,
        };
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
