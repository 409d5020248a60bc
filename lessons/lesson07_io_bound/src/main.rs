//! # Lesson 07 · Waiting, not computing: thread pools for I/O
//!
//! **Objective.** Fetch user records over HTTP from a slow server (a real one, on this machine,
//! shaped like GitHub's user API) one after another, then from a pool of worker threads, as the
//! lecture does with `urlopen` and a `ThreadPoolExecutor`. Profile both the way the lecture
//! advises, CPU time against wall time, and let that tell waiting from computing. Then run the
//! same pool on a CPU-bound job, and see failures (server errors, timeouts) reported per
//! request while the run goes on.
//!
//! **What to observe.** Fetching is waiting: the sequential run uses almost no CPU (cores used
//! near 0), and a pool of N workers is close to N× faster, until the server's limit or the
//! number of requests stops it, even on a 2-core machine. The CPU-bound job is the opposite:
//! cores used near 1 per busy worker, and no speedup beyond the number of cores. In Rust both
//! kinds of work speed up with threads: there is no GIL. A failed request costs one worker one
//! timeout; the others carry on, and every record is fetched exactly once. The lecture's own
//! program runs beside Rust on the machine's CPython (`python/fetch.py`, once it fetched the
//! same records): for waiting, its pool overlaps the waits as Rust's does, at a few times the CPU
//! time per request.
//!
//! **How to run.** `cargo run -p lesson07_io_bound` (add `--quick`, `--json`, `--step` for
//! presenter mode; `--help` lists the knobs). `--url 'https://api.github.com/users/{login}'`
//! fetches from the lecture's own API instead (`--logins a,b,c` chooses whom, `--ca-cert FILE`
//! trusts a private certificate authority). `--python PATH` / `--no-python` choose the CPython.
//!
//! Read first: src/fetch.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. The harness lives apart: `settings.rs` (the knobs, checked), `servers.rs` (the
//! local servers, the logins, the ideal speedups), `checking.rs` (every record exactly once,
//! against the server's own count), `profile.rs` (CPU time against wall time, a request step
//! by step), `cpython.rs` (the same fetches on CPython, its answers read as Rust's).

mod checking;
mod cpython;
mod fetch;
mod profile;
mod sections;
mod servers;
mod settings;

use clap::Parser;
use course::Section;
use sections::*;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use settings::Params;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 07: waiting is not computing. Fetches user records over HTTP from a slow local \
server one after another, then from a pool of worker threads (close to N times faster with N workers), \
tells waiting from computing by CPU time against wall time, runs the same pool on a CPU-bound job, and \
reports failed requests one by one while the run goes on. The lecture's urlopen and ThreadPoolExecutor \
run beside it on the machine's CPython. --url fetches from any server with GitHub's user API instead."
)]
pub struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// User records to fetch [default: 64, or 16 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000))]
    requests: Option<usize>,
    /// Worker threads in the pool for the headline comparison and the failures
    #[arg(long, value_name = "COUNT", default_value_t = 8, value_parser = course::cli::count(1, 512))]
    workers: usize,
    /// The server's usual delay before it answers, in milliseconds [default: 50, or 10 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 5_000))]
    #[serde(skip)]
    delay: Option<Duration>,
    /// How far each answer's delay may move either way, in milliseconds [default: a fifth of the delay]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(0, 5_000))]
    #[serde(skip)]
    jitter: Option<Duration>,
    /// Requests the server works on at once; the others queue, as a real API limits a client
    #[arg(long, value_name = "COUNT", default_value_t = 32, value_parser = course::cli::count(1, 10_000))]
    server_limit: usize,
    /// Fraction of logins the flaky server answers with an error (section 4)
    #[arg(long, value_name = "FRACTION", default_value_t = 0.1, value_parser = course::cli::fraction())]
    error_rate: f64,
    /// Fraction of logins the flaky server does not answer in time (section 4)
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05, value_parser = course::cli::fraction())]
    timeout_rate: f64,
    /// How long a client waits for a reply, in milliseconds [default: 250, or 4 × (delay + jitter) if longer]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 60_000))]
    #[serde(skip)]
    timeout: Option<Duration>,
    /// Fetch from this server instead of the local one: an http:// or https:// URL with {login}
    /// in it, e.g. 'https://api.github.com/users/{login}' (the lecture's API)
    #[arg(long, value_name = "TEMPLATE", value_parser = settings::url_template)]
    #[serde(skip)]
    url: Option<slowserver::UrlTemplate>,
    /// Whom to fetch, comma-separated [default: the lecture's gvanrossum, wesm, tebeka, torvalds,
    /// then user0004, user0005, ...; with --url the lecture's four alone]
    #[arg(long, value_name = "LOGINS", value_delimiter = ',', value_parser = settings::login)]
    logins: Option<Vec<String>>,
    /// Trust only the certificate authorities in this PEM file for HTTPS (for a private or
    /// test server) instead of the Web PKI's
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    // `--python PATH`, `--no-python`: the same fetches on CPython in sections 1 and 4
    // (python/fetch.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
}

const SECTIONS: [Section<Params>; 5] = [
    Section::new(
        "One request after another, then a pool of threads",
        s1_one_then_a_pool::run,
    ),
    Section::new("Profiling: CPU time against wall time", s2_profiling::run),
    Section::new("The same pool on a CPU-bound job", s3_computing::run),
    Section::new(
        "Failures: server errors and timeouts, request by request",
        s4_failures::run,
    ),
    Section::new("Shutting the servers down", s5_shutting_down::run),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(
        course::info!("Waiting, not computing: thread pools for I/O"),
        &args.common,
        &args,
        |lesson| {
            let mut params = Params::from_args(&args, lesson)?;
            // The local servers are started first, while this process has a single thread:
            // each is a forked child process, so its CPU time is not counted as ours.
            if params.url.is_none() {
                params.servers = Some(servers::Servers::start(&params)?);
            }
            lesson.run_sections(&mut params, &SECTIONS)
        },
    )
}
