//! # Lesson 10 · Amdahl's law
//!
//! **Objective.** Predict how much faster a job gets on more workers, and check the
//! prediction on this machine. Amdahl's law, `S(N) = 1 / ((1 − P) + P / N)`, says that the part
//! of a job that cannot be split (its serial fraction `1 − P`) sets a ceiling, `1 / (1 − P)`,
//! that no number of workers passes. The lesson turns the law into a calculator, measures a job
//! whose serial part we control on 1, 2, … cores and beyond, reads the serial fraction back from
//! the measurements (the Karp–Flatt metric and a fit over the sweep), and ends with Gustafson's
//! answer: when the problem grows with the machine, the speedup grows too.
//!
//! **What to observe.** The speedup curve flattens long before the ceiling; efficiency falls
//! with every worker added. The measured speedups sit on the predicted curve up to the number of
//! cores and stop rising past it. The serial fraction computed back from the measurements is the
//! one we built in. Scaled (Gustafson) speedups keep growing almost linearly.
//!
//! **How to run.** `cargo run -p lesson10_amdahl` (add `--quick`, `--json`, `--step`). With only
//! calculator flags the lesson is a calculator and measures nothing: `--parallel 0.95 --workers 8`
//! for a speedup, `--want 10` for the workers a speedup needs, `--speedups 2:1.9,4:3.4` to find P
//! from your own measurements (`--help` lists the knobs). `--quiz --seed S` prints seeded
//! questions on Amdahl and Karp–Flatt numbers instead, and `--answers` reveals their answers,
//! computed by the functions of `src/amdahl.rs`.
//!
//! Read first: src/amdahl.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness lives apart: `sweep.rs` (which thread counts are measured, and the
//! prediction beside each), `flags.rs` (the calculator's own flags, checked).

mod flags;
mod quiz;
mod sections;
mod sweep;

use clap::Parser;
use course::Section;
use sections::*;
use std::process::ExitCode;
use sweep::SweepPoint;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 10: Amdahl's law. A calculator (speedup, efficiency, ceiling, workers needed), a \
job with a known serial part measured on 1..all cores and beyond against the prediction, the serial \
fraction read back from measurements (Karp-Flatt, a fit, or your own speedups), and Gustafson's \
scaled speedup. With only calculator flags (--workers, --want, --speedups, and --parallel) it is \
the calculator alone and measures nothing."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Parallel fraction P, for the calculator and for the job measured in sections 2 to 4
    #[arg(long, value_name = "FRACTION", default_value_t = 0.9, value_parser = course::cli::fraction())]
    parallel: f64,
    /// A worker count for the calculator (section 1): its speedup, and a row in its table
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000_000))]
    workers: Option<usize>,
    /// A wanted speedup: the calculator says how many workers reach it, or that none can
    #[arg(long, value_name = "SPEEDUP", value_parser = flags::parse_wanted_speedup)]
    want: Option<f64>,
    /// Your own measurements, as WORKERS:SPEEDUP pairs separated by commas (2:1.9,4:3.4), each
    /// speedup from 1 to WORKERS; the lesson reads the parallel fraction back from them
    #[arg(long, value_name = "N:SPEEDUP", value_delimiter = ',', value_parser = flags::parse_measured_speedup)]
    speedups: Vec<(usize, f64)>,
    /// Most threads in the measured sweep [default: twice the available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1024))]
    max_threads: Option<usize>,
    /// Work items in the measured job (about 1 ns each) [default: 400,000,000, or 20,000,000 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1_000, 100_000_000_000))]
    items: Option<usize>,
    // `--quiz` and `--answers`: questions on Amdahl and Karp–Flatt numbers instead of the
    // lesson (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// What every section reads (the sizes, once defaults are settled), and section 2's sweep,
/// which section 3 reads back (and measures itself when section 2 was skipped).
pub struct Params {
    p: f64,
    extra_workers: Option<usize>,
    wanted: Option<f64>,
    speedups: Vec<(usize, f64)>,
    cores: usize,
    max_threads: usize,
    /// The most threads the machine lets the lesson start at once (`usize::MAX`: no limit).
    room: usize,
    items: u64,
    sweep: Option<Vec<SweepPoint>>,
}

const SECTIONS: [Section<Params>; 4] = [
    Section::new("Amdahl's law: the calculator", s1_calculator::run),
    Section::new("Measured against the prediction", s2_measured::run),
    Section::new("From measurements back to P: Karp–Flatt and a fit", s3_back_to_p::run),
    Section::new("Gustafson: when the problem grows with the machine", s4_gustafson::run),
];

/// With only calculator flags, the calculator alone: its section for a speedup or the workers
/// a speedup needs, and the reading of your own speedups when you give some.
const CALCULATOR: [Section<Params>; 2] = [
    Section::new("Amdahl's law: the calculator", s1_calculator::run),
    Section::new(
        "From measurements back to P: your speedups",
        s3_back_to_p::your_speedups,
    ),
];

/// True when the flags ask for the calculator and nothing that only the measurements read.
fn calculator_only(args: &Args) -> bool {
    let asks = args.workers.is_some() || args.want.is_some() || !args.speedups.is_empty();
    asks && args.max_threads.is_none() && args.items.is_none() && args.common.section.is_none()
}

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("Amdahl's law");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let cores = lesson.machine().logical_cores;
        let mut params = Params {
            p: args.parallel,
            extra_workers: args.workers,
            wanted: args.want,
            speedups: args.speedups.clone(),
            cores,
            max_threads: args.max_threads.unwrap_or(2 * cores),
            room: usize::MAX,
            items: args.items.unwrap_or(lesson.pick(20_000_000, 400_000_000)) as u64,
            sweep: None,
        };
        if calculator_only(&args) {
            // Your speedups alone are read back without the calculator's table, and the table
            // alone is shown without your speedups' section.
            let wants_table = args.workers.is_some() || args.want.is_some();
            let sections = match (wants_table, args.speedups.is_empty()) {
                (true, true) => &CALCULATOR[..1],
                (false, _) => &CALCULATOR[1..],
                (true, false) => &CALCULATOR[..],
            };
            return lesson.run_sections(&mut params, sections);
        }
        let (room, limit) = sweep::thread_room();
        if params.max_threads > room {
            let most = params.max_threads;
            lesson.warn(&format!(
                "at most {room} at once, not {most}: {limit}",
                room = course::timing::format::plural(room as u64, "thread")
            ));
            params.max_threads = room;
        }
        params.room = room;
        lesson.param("max_threads", params.max_threads);
        lesson.param("items", params.items);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
