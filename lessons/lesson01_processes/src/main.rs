//! # Lesson 01 · Processes
//!
//! **Objective.** See a process the way the kernel sees it, on this machine, right now: its
//! identity, open files, memory map and signal handlers; its life from `fork` through `exec`
//! and `exit` to being reaped by its parent; the states it passes through (the lecture's
//! ready/executing, blocked, delayed, suspended) and the zombie it leaves when nobody waits
//! for it; and what `fork` copies and what it shares (copy-on-write), which is why the lecture
//! says "fork, then load data; not vice versa". Nothing is described that is not also read from
//! the running system (`/proc`).
//!
//! **What to observe.** A child keeps its PID through `exec` but becomes another program. The
//! kernel's state letter changes R → S → R → S → R → T → R → Z → gone as the parent drives the
//! child, and the CPU time it is charged grows only in R. Zombies hold no memory and ignore
//! `kill -9`; only their parent's `wait` removes them. After `fork` the child's memory is
//! almost all shared; writing a quarter of a buffer copies exactly that quarter, page by page,
//! and `fork` itself gets slower as the parent's memory grows.
//!
//! **How to run.** `cargo run -p lesson01_processes` (add `--quick`, `--json`, `--step` for the
//! presenter's pauses; `--hold 5000` keeps each state for five seconds so that you can look
//! with `ps` from another terminal; `--help` lists the knobs).
//!
//! Read first: src/processes.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness lives apart: `tracked.rs` (the concept's fork and wait, with every
//! child recorded so that Ctrl-C reaps it), `child_programs.rs` and `link.rs` (what the
//! children run, and the pipes that drive them), `observe.rs` (what `/proc` says), `watch.rs`
//! (following a child's state), `model.rs` (the lecture's process table, also behind the quiz),
//! `fit.rs` (sizes fitted to the machine's memory and process limits).

mod child_programs;
mod fit;
mod link;
mod model;
mod observe;
mod processes;
mod quiz;
mod sections;
mod tracked;
mod watch;

use clap::Parser;
use course::Section;
use sections::*;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 01: a process, observed live. Reads this process's anatomy from /proc, follows a \
child through fork, exec, exit and wait, drives one child through every process state, makes \
zombies and reaps them, and measures copy-on-write and the cost of fork as memory grows."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// How long the watched child stays in each state, in milliseconds, so that you can look at
    /// it with `ps` from another terminal [default: 400, or 20 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 600_000))]
    #[serde(skip)]
    hold: Option<Duration>,
    /// Status that the exec'd program exits with (0-255)
    #[arg(long, value_name = "CODE", default_value_t = 7)]
    exit_code: u8,
    /// Zombies to make on purpose
    #[arg(long, value_name = "COUNT", default_value_t = 3, value_parser = course::cli::count(1, 64))]
    zombies: usize,
    /// Size of the buffer that the parent fills and the forked child shares, in MiB
    /// [default: 512, or 32 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    buffer_mib: Option<usize>,
    /// Part of the shared buffer that the child writes to
    #[arg(long, value_name = "FRACTION", default_value_t = 0.25, value_parser = course::cli::fraction())]
    write_fraction: f64,
    /// Largest memory the parent holds while fork is timed, in MiB [default: 1024, or 64 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    fork_mib: Option<usize>,
    /// Forks timed at each memory size [default: 20, or 5 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1000))]
    samples: Option<usize>,
    // `--quiz` and `--answers`: the process tree after a seeded script instead of the lesson
    // (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// What every section reads: the sizes, once defaults are settled and fitted to the machine.
pub struct Params {
    hold: Duration,
    exit_code: u8,
    zombies: usize,
    buffer_mib: usize,
    write_fraction: f64,
    fork_mib: usize,
    samples: usize,
}

const SECTIONS: [Section<Params>; 6] = [
    Section::new("Anatomy of this process", s1_anatomy::run),
    Section::new(
        "Lifecycle: fork → exec → exit → reaped by the parent",
        s2_lifecycle::run,
    ),
    Section::new("States: one child, watched from its parent", s3_states::run),
    Section::new("Zombies: exited, not yet reaped", s4_zombies::run),
    Section::new("Fork, then load data; not vice versa", s5_fork_then_load::run),
    Section::new("Fork only while single-threaded", s6_single_threaded::run),
];

fn main() -> ExitCode {
    watch::since_start();
    let args: Args = course::parse_args();
    let info = course::info!("Processes");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let mut params = Params {
            hold: args
                .hold
                .unwrap_or(lesson.pick(Duration::from_millis(20), Duration::from_millis(400))),
            exit_code: args.exit_code,
            zombies: args.zombies,
            buffer_mib: args.buffer_mib.unwrap_or(lesson.pick(32, 512)),
            write_fraction: args.write_fraction,
            fork_mib: args.fork_mib.unwrap_or(lesson.pick(64, 1024)),
            samples: args.samples.unwrap_or(lesson.pick(5, 20)),
        };
        let sizes_asked = args.buffer_mib.is_some() || args.fork_mib.is_some();
        fit::to_the_machine(lesson, sizes_asked, &mut params)?;
        lesson.param("hold_ms", params.hold.as_millis() as u64);
        lesson.param("zombies", params.zombies);
        lesson.param("buffer_mib", params.buffer_mib);
        lesson.param("fork_mib", params.fork_mib);
        lesson.param("samples", params.samples);
        if !observe::HAS_PROC {
            lesson
                .warn("this platform has no /proc: the lesson runs every step but cannot show what the kernel reports");
        }
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
