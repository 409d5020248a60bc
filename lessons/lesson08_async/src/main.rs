//! # Lesson 08 · One thread, many connections
//!
//! An event loop against a thread per connection.
//!
//! **Objective.** Serve thousands of clients that all wait on a slow HTTP server at the same
//! time, first with a thread per connection (a blocking `ureq` request on each), then with one
//! thread running an event loop (tokio's current-thread runtime, asyncio's idea, with hyper's
//! async client), and compare wall time, threads and memory. Then look under the hood: a
//! hand-written loop over non-blocking sockets and `poll` does the same on one thread. Last,
//! the pitfall of every event loop: one CPU-bound call inside it stalls every connection,
//! until the work is moved off the loop.
//!
//! **What to observe.** Both ways take about one server delay: the connections wait together.
//! The thread per connection needs as many threads as connections and far more memory: each
//! thread has a stack in the process, a kernel stack and page tables besides; the event loop
//! holds every connection on one thread in a few kilobytes each. In the pitfall, the loop's
//! heartbeat is late by the whole blocking call, and so is every reply that came meanwhile;
//! with `spawn_blocking` the loop keeps answering. The lecture's asyncio runs beside Rust on the
//! machine's CPython (`python/event_loop.py`, once it fetched the same records), one thread too.
//!
//! **How to run.** `cargo run -p lesson08_async` (add `--quick`, `--json`, `--step` for
//! presenter mode; `--help` lists the knobs). `--url 'https://api.github.com/users/{login}'`
//! runs section 1 against the lecture's own API instead (`--logins`, `--ca-cert FILE`).
//! `--python PATH` / `--no-python` choose the CPython.
//!
//! Read first: src/event_loop.rs
//!
//! Then this file (the flags and the sections in order), then `src/sections/`, one file per
//! section. Under the hood, `poll_loop.rs` is the same loop written by hand. The harness lives
//! apart: `clients.rs` (the concept's two ways, measured; the pitfall's heartbeat),
//! `experiment.rs` (each way in a child process of its own, its threads and memory),
//! `memory.rs` (the memory table), `settings.rs` (the knobs and this machine's limits),
//! `cpython.rs` (the same clients on CPython, its answers read as Rust's).

mod clients;
mod cpython;
mod event_loop;
mod experiment;
mod memory;
mod poll_loop;
mod sections;
mod settings;

use clap::Parser;
use course::Section;
use sections::*;
use serde::Serialize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub use settings::Params;

#[derive(Parser, Serialize)]
#[command(
    about = "Lesson 08: one thread, many connections. Thousands of clients wait on a slow local HTTP \
server at once, served by a thread per connection and by one thread running an event loop (tokio), with \
the wall time, peak threads and peak memory of each. Then a hand-written poll loop shows what an event \
loop does, and one blocking call inside the loop stalls every connection until it is moved off the loop. \
The lecture's asyncio runs beside it on the machine's CPython."
)]
pub struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Clients waiting at once [default: 10000, or 200 with --quick]; fewer if this machine cannot hold them
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 20_000))]
    connections: Option<usize>,
    /// The server's delay before each answer, in milliseconds [default: 3000, or 150 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(30, 30_000))]
    #[serde(skip)]
    delay: Option<Duration>,
    /// How long the blocking call in the pitfall computes, in milliseconds [default: a tenth of the delay]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 10_000))]
    #[serde(skip)]
    blocking_work: Option<Duration>,
    /// Fetch from this server in section 1 instead of the local one: an http:// or https:// URL
    /// with {login} in it, e.g. 'https://api.github.com/users/{login}'
    #[arg(long, value_name = "TEMPLATE", value_parser = slowserver::UrlTemplate::parse)]
    #[serde(skip)]
    url: Option<slowserver::UrlTemplate>,
    /// Whom to fetch, comma-separated [default: made-up logins; with --url the lecture's four]
    #[arg(long, value_name = "LOGINS", value_delimiter = ',', value_parser = login)]
    logins: Option<Vec<String>>,
    /// Trust only the certificate authorities in this PEM file for HTTPS, instead of the Web PKI's
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    // `--python PATH`, `--no-python`: the same clients on CPython in section 1
    // (python/event_loop.py).
    #[command(flatten)]
    #[serde(skip)]
    python: course::python::PythonArgs,
}

/// One of `--logins`: what a URL path can carry as it is.
fn login(text: &str) -> Result<String, String> {
    let login = text.trim();
    match slowserver::protocol::is_valid_login(login) {
        true => Ok(login.to_string()),
        false => Err(format!(
            "{login:?} is not a login: 1 to 64 letters, digits, '_', '-' or '.'"
        )),
    }
}

const SECTIONS: [Section<Params>; 4] = [
    Section::new(
        "Many clients waiting at once: a thread each, or one thread",
        s1_many_clients::run,
    ),
    Section::new("Under the hood: a readiness loop with poll", s2_poll_loop::run),
    Section::new("The pitfall: one blocking call stalls the whole loop", s3_pitfall::run),
    Section::new("Shutting the servers down", s4_shutting_down::run),
];

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(
        course::info!("One thread, many connections"),
        &args.common,
        &args,
        |lesson| {
            let mut params = Params::from_args(&args, lesson)?;
            // The servers are forked first, while this process has a single thread. (It keeps one
            // thread throughout: every experiment runs in a child process of its own.)
            if params.url.is_none() {
                let slow = slowserver::ServerProcess::start(&params.server_config(params.delay))?;
                let quicker = slowserver::ServerProcess::start(&params.server_config(params.pitfall_delay))?;
                params.servers = Some([slow, quicker]);
            }
            lesson.run_sections(&mut params, &SECTIONS)
        },
    )
}
