//! # Lesson 09 · bzip2 in parallel: many requests, threads and processes
//!
//! **Objective.** Parallelize real library work, not a toy loop: bzip2. A book is compressed
//! and checked to come back byte for byte. Then the lecture's job: decompress it for 300
//! requests, on one core, on threads that share memory, and on a pool of worker processes that
//! receive every request and return every result as bytes through pipes (Python's
//! `ProcessPoolExecutor`). The cost of moving those bytes is measured on its own. Then the other
//! direction: a large text compressed in independent blocks on every core, as pbzip2 does, and
//! read back by a standard multi-stream decoder. Last, what damaged input does.
//!
//! **What to observe.** Decompression is pure computation (cores used ≈ 1 per worker), so both
//! threads and processes approach one core's speed per core. Rust has no global interpreter
//! lock, so threads need no copies; processes pay to ship megabytes through pipes, a cost
//! measured here beside the work. Block compression splits one job into independent ones and
//! scales the same way, at the price of a slightly larger file. A corrupt or truncated input is
//! an error with a reason, never a crash, and a bad request does not take a worker down. The
//! lecture's own Python runs beside section 2 on your CPython, on the same book and requests:
//! sequential, `ThreadPoolExecutor`, `ProcessPoolExecutor`.
//!
//! **How to run.** `cargo run -p lesson09_bzip2` (add `--quick`, `--json`, `--step` for
//! presenter mode; `--input book.txt.bz2` uses your own text; `--no-python` or `--python
//! PATH` for the CPython twin; `--help` lists the knobs).
//!
//! Read first: src/parallel_bzip2.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. Apart from them: `codec.rs` (multi-stream files, damage described in words,
//! fingerprints), `book.rs` (the book, and `--input`), `answers.rs` (what each version
//! computed, in one line), `pool_timing.rs` (the CPU time of pool workers that outlive a
//! measurement); `cpython.rs` runs the lecture's requests on the machine's CPython
//! (`python/parallel_bzip2.py`).

mod answers;
mod book;
mod codec;
mod cpython;
mod parallel_bzip2;
mod pool_timing;
mod sections;

use clap::Parser;
use course::Section;
use course::limits;
use sections::*;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 09: real CPU-bound library work in parallel. Compresses a book with bzip2 and \
decompresses it for hundreds of requests on one core, on threads, and on a pool of processes \
that receive and return every byte through pipes, whose cost is measured apart. Then compresses \
a large text in independent blocks on every core (as pbzip2 does) and shows what corrupt or \
truncated input does. The lecture's Python runs beside it on your CPython."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Size of the generated book in kB (1000 bytes) [default: 250, or 50 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    text_kb: Option<usize>,
    /// Decompression requests [default: 300 as in the lecture, or 30 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000))]
    requests: Option<usize>,
    /// Threads, and worker processes in the pool [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// Size of the large text compressed in parallel blocks, in MB [default: 16, or 2 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 256))]
    large_mb: Option<usize>,
    /// Block size for parallel compression, in kB [default: 900, bzip2's largest block, or 250 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(50, 100_000))]
    block_kb: Option<usize>,
    /// bzip2 compression level, 1 (fastest, 100 kB blocks) to 9 (best, 900 kB blocks)
    #[arg(long, value_name = "COUNT", default_value_t = 9, value_parser = course::cli::count(1, 9))]
    level: usize,
    /// A bzip2 file whose contents replace the generated book (a damaged one is refused)
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
    // `--python PATH`, `--no-python`: the lecture's requests on CPython in section 2
    // (python/parallel_bzip2.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
}

/// What every section reads, once defaults are settled, and what one hands to a later one.
pub struct Params {
    /// The book, and where it came from (`None`: generated from the seed).
    book: Vec<u8>,
    input: Option<PathBuf>,
    /// The generated book's size in kB and its seed, for CPython to make the same one.
    text_kb: Option<usize>,
    seed: u64,
    /// The CPython that decompresses the same requests in section 2, if any.
    python: course::python::Python,
    /// The book compressed once at `level`: what every request carries.
    compressed: Vec<u8>,
    n_requests: usize,
    n_workers: usize,
    large_bytes: usize,
    block_bytes: usize,
    level: u32,
    /// The process pool's median time on the requests, measured in section 2; section 3
    /// measures it itself when section 2 was skipped.
    pool_time: Option<Duration>,
}

const SECTIONS: [Section<Params>; 5] = [
    Section::new("A book, compressed and checked", s1_book::run),
    Section::new(
        "Decompressing many requests: one core, threads, processes",
        s2_many_requests::run,
    ),
    Section::new("What the process pool pays to move bytes", s3_moving_bytes::run),
    Section::new(
        "The other direction: compressing in parallel blocks, as pbzip2 does",
        s4_blocks::run,
    ),
    Section::new("When the bytes are wrong: corrupt and truncated input", s5_damage::run),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("bzip2 in parallel: many requests, threads and processes");
    course::run(info, &args.common, &args, |lesson| {
        // Bad input is refused before any work: a damaged file, more output than fits.
        let text_kb = args
            .input
            .is_none()
            .then(|| args.text_kb.unwrap_or(lesson.pick(50, 250)));
        let book = match (&args.input, text_kb) {
            (Some(path), _) => book::read_book(path)?,
            (None, kb) => workloads::text::generate(lesson.seed(), kb.unwrap_or_default() * 1000).into_bytes(),
        };
        let n_requests = args.requests.unwrap_or(lesson.pick(30, 300));
        book::check_output(book.len(), n_requests)?;
        let level = args.level as u32;
        let mut params = Params {
            compressed: parallel_bzip2::compress(&book, level),
            book,
            input: args.input.clone(),
            text_kb,
            seed: lesson.seed(),
            python: course::python::Python::find(lesson, &args.python),
            n_requests,
            // Per worker a section keeps a worker process and a thread alive at once (two tasks,
            // one thread stack here) and two pipe ends open.
            n_workers: lesson.at_most(
                args.workers.unwrap_or(lesson.machine().logical_cores),
                "workers",
                limits::room_for_workers(limits::PerWorker {
                    tasks: 2,
                    threads: 1,
                    files: 2,
                }),
            )?,
            large_bytes: args.large_mb.unwrap_or(lesson.pick(2, 16)) * 1_000_000,
            block_bytes: args.block_kb.unwrap_or(lesson.pick(250, 900)) * 1000,
            level,
            pool_time: None,
        };
        lesson.param("book_bytes", params.book.len());
        lesson.param("requests", params.n_requests);
        lesson.param("workers", params.n_workers);
        lesson.param("large_bytes", params.large_bytes);
        lesson.param("block_bytes", params.block_bytes);
        lesson.run_sections(&mut params, &SECTIONS)
    })
}
