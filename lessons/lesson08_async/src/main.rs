//! # Lesson 08 · One thread, many connections
//!
//! An event loop against a thread per connection.
//!
//! **Objective.** Serve thousands of clients that all wait on a slow server at the same time,
//! first with a thread per connection, then with one thread running an event loop (tokio's
//! current-thread runtime, asyncio's idea), and compare wall time, threads and memory. Then look
//! under the hood: a hand-written loop over non-blocking sockets and `poll` does the same on one
//! thread. Last, the pitfall of every event loop: one CPU-bound call inside it stalls every
//! connection, until the work is moved off the loop.
//!
//! **What to observe.** Both ways take about one server delay: the connections wait together.
//! The thread per connection needs as many threads as connections and far more memory: each
//! thread has a stack in the process, a kernel stack and page tables besides; the event loop
//! holds every connection on one thread in about a kilobyte each. In the pitfall, the loop's
//! heartbeat is late by the whole blocking call, and so is every reply that came meanwhile;
//! with `spawn_blocking` the loop keeps answering.
//!
//! **How to run.** `cargo run -p lesson08_async` (add `--quick`, `--json`, `--step`; `--help`
//! lists the knobs: connections, the server's delay, the blocking call's length).

mod experiment;
mod poll_loop;

use anyhow::{Context, bail};
use clap::Parser;
use course::chart::Bars;
use course::table::Table;
use course::timing::{self, Comparison, Latencies, Measurement, Runs, format};
use course::{Lesson, say};
use experiment::{
    Measured, MemoryUse, OpenConnections, Outcome, Peaks, VariantReport, measured_in_child, nanos, resources_now,
};
use serde::Serialize;
use slowserver::{Config, FetchError, ServerProcess, UserRecord, fetch_user, fetch_user_async, protocol, system};
use std::net::{SocketAddr, SocketAddrV4};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser, Serialize)]
#[command(
    about = "Lesson 08: one thread, many connections. Thousands of clients wait on a slow local server at \
once, served by a thread per connection and by one thread running an event loop (tokio), with the \
wall time, peak threads and peak memory of each. Then a hand-written poll loop shows what an event loop \
does, and one blocking call inside the loop stalls every connection until it is moved off the loop."
)]
struct Args {
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
}

/// One request's outcome: the record, or why there is none.
type FetchResult = Result<UserRecord, FetchError>;

/// Connections being opened at any one moment. The kernel queues at most `net.core.somaxconn`
/// (often 4096) finished handshakes for the server to accept; a connection beyond that is
/// dropped and retried a whole second later. Opening them in waves keeps the queue short.
const CONNECT_WAVE: usize = 256;

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(
        course::info!("One thread, many connections"),
        &args.common,
        &args,
        |lesson| {
            let mut settings = Settings::from_args(&args, lesson);
            // The servers are forked first, while this process has a single thread. (It keeps one
            // thread throughout: every experiment runs in a child process of its own.)
            let server = ServerProcess::start(&settings.server_config(settings.delay))?;
            let quicker_server = ServerProcess::start(&settings.server_config(settings.pitfall_delay))?;

            one_thread_against_a_thread_per_connection(lesson, &mut settings, &server)?;
            under_the_hood_a_poll_loop(lesson, &settings, &server, &quicker_server)?;
            the_pitfall_a_blocking_call_in_the_loop(lesson, &settings, &quicker_server)?;
            shutting_the_servers_down(lesson, [server, quicker_server])
        },
    )
}

/// Section 1: C clients waiting at once, two ways.
fn one_thread_against_a_thread_per_connection(
    lesson: &Lesson,
    settings: &mut Settings,
    server: &ServerProcess,
) -> anyhow::Result<()> {
    lesson.section("Many clients waiting at once: a thread each, or one thread");
    settings.fit_to_this_machine(lesson)?;
    let connections = settings.connections;
    say!(
        lesson,
        "  The server (child process {}, {}) answers each request after {} ± {}.",
        server.pid(),
        server.addr(),
        format::duration(settings.delay),
        format::duration(settings.delay / 10)
    );
    for line in &settings.limits_said {
        say!(lesson, "  {line}");
    }
    say!(
        lesson,
        "  {} clients each fetch one record. One after another that would take {}; together, about one delay.",
        format::count(connections as u64),
        in_hours_too(settings.delay.as_secs_f64() * connections as f64)
    );
    say!(
        lesson,
        "  Each way runs in a fresh child process, so that its threads and memory are its own."
    );
    say!(lesson);

    let logins = logins(connections);
    let addr = server.addr();
    let threads = measured_in_child(server, connections, || thread_per_connection(addr, &logins))?;
    let one_thread = measured_in_child(server, connections, || one_thread_event_loop(addr, &logins))?;
    let mut comparison = Comparison::new(format!("{} clients waiting at once", format::count(connections as u64)));
    for (name, workers, run) in [
        ("thread per connection", connections, &threads),
        ("one thread, event loop", 1, &one_thread),
    ] {
        comparison.add_measured(
            name,
            workers,
            vec![run.report.replies.clone()],
            Runs::from(run.measurement),
        );
    }
    lesson.compare(comparison)?;
    say!(
        lesson,
        "  ✓ the server was asked for each of the {} logins exactly once, each time",
        format::count(connections as u64)
    );

    say!(lesson);
    say!(
        lesson,
        "  Memory: resident pages of the process (RSS), plus two costs RSS leaves out: the page tables"
    );
    say!(
        lesson,
        "  that map those pages, and a kernel stack per thread ({} each here).",
        threads
            .report
            .start
            .kernel_stack_per_thread
            .map_or("?".to_string(), format::bytes)
    );
    let memory = resource_table(
        lesson,
        connections,
        &[
            ("thread per connection", &threads),
            ("one thread, event loop", &one_thread),
        ],
    );
    let ratio = |pick: fn(&MemoryUse) -> Option<u64>| match (pick(&memory[1]), pick(&memory[0])) {
        (Some(one), Some(many)) if many > 0 => Some(one as f64 / many as f64),
        _ => None,
    };
    let (total_ratio, resident_ratio) = (ratio(MemoryUse::total), ratio(|m| m.resident));
    if let (Some(total), Some(resident)) = (total_ratio, resident_ratio) {
        say!(
            lesson,
            "  The event loop used {} of the memory of a thread per connection ({} counting resident pages alone).",
            format::percent(total),
            format::percent(resident)
        );
    }
    say!(lesson);
    say!(lesson, "  Each client's time from connect to reply:");
    let (thread_times, loop_times) = (
        latencies_of(&threads.report.response_times_ns),
        latencies_of(&one_thread.report.response_times_ns),
    );
    lesson.latencies(
        "response_times",
        &[
            ("thread per connection", &thread_times),
            ("one thread, event loop", &loop_times),
        ],
    );

    lesson.figure("connections", connections);
    lesson.figure("thread_per_connection", variant_figures(&threads, &memory[0]));
    lesson.figure("one_thread", variant_figures(&one_thread, &memory[1]));
    lesson.figure("connections_held_one_thread", one_thread.report.connections_held);
    lesson.figure("memory_ratio_one_thread_to_threads", total_ratio);
    lesson.figure("resident_memory_ratio_one_thread_to_threads", resident_ratio);
    lesson.notice(&format!(
        "Waiting needs no thread: one thread held {} connections at once, as fast as {} threads did, in {} of their memory.",
        format::count(one_thread.report.connections_held as u64),
        format::count(threads.report.peak_threads.unwrap_or(connections) as u64),
        total_ratio.map_or("a fraction".to_string(), format::percent)
    ));
    Ok(())
}

/// Section 2: the same on one thread, by hand, with `poll`.
fn under_the_hood_a_poll_loop(
    lesson: &Lesson,
    settings: &Settings,
    server: &ServerProcess,
    quicker_server: &ServerProcess,
) -> anyhow::Result<()> {
    lesson.section("Under the hood: a readiness loop with poll");
    say!(
        lesson,
        "  Non-blocking sockets never make the thread wait. The loop keeps each connection's step"
    );
    say!(
        lesson,
        "  (connecting, sending, receiving), asks the kernel with one poll() call which sockets can"
    );
    say!(
        lesson,
        "  move, sleeps until one can, does that little work, and asks again. Five clients, traced"
    );
    say!(
        lesson,
        "  (against a quicker server, {} ± {}):",
        format::duration(settings.pitfall_delay),
        format::duration(settings.pitfall_delay / 10)
    );
    say!(lesson);
    let (Some(addr), Some(quicker_addr)) = (ipv4(server.addr()), ipv4(quicker_server.addr())) else {
        bail!("the servers are not on IPv4 addresses");
    };
    let few = logins(5);
    let demo = measured_in_child(quicker_server, few.len(), || poll_loop_run(quicker_addr, &few, 40))?;
    lesson.lines(&demo.report.trace);

    let connections = settings.connections;
    say!(lesson);
    say!(
        lesson,
        "  The same loop with {} clients, against the slow server:",
        format::count(connections as u64)
    );
    let all = logins(connections);
    let full = measured_in_child(server, connections, || poll_loop_run(addr, &all, 0))?;
    let unknown = || "cannot be read here".to_string();
    let mut table = Table::new(&["", ""]).left(0);
    table.row(["wall time".to_string(), format::duration(full.measurement.wall)]);
    table.row([
        "cores used".to_string(),
        format!("{:.2}", full.measurement.cores_used()),
    ]);
    table.row([
        "records fetched".to_string(),
        format::count(full.report.replies.records as u64),
    ]);
    table.row([
        "connections open at once".to_string(),
        format::count(full.report.connections_held as u64),
    ]);
    table.row(["poll() calls".to_string(), format::count(full.report.poll_calls)]);
    table.row(["sockets found ready".to_string(), format::count(full.report.events)]);
    table.row([
        "threads".to_string(),
        full.report.peak_threads.map_or_else(unknown, |t| t.to_string()),
    ]);
    table.row([
        "peak resident memory".to_string(),
        full.report.end.peak_rss.map_or_else(unknown, format::bytes),
    ]);
    lesson.table(&table);
    let memory = MemoryUse::of(&full.report);
    lesson.figure("demo_trace", &demo.report.trace);
    lesson.figure("poll_loop", variant_figures(&full, &memory));
    lesson.figure("poll_calls", full.report.poll_calls);
    lesson.figure("ready_events", full.report.events);
    lesson.notice(&format!(
        "{} poll() calls served {} connections: each call returns every socket that is ready, so the thread \
sleeps only when there is truly nothing to do. That is all an event loop is.",
        format::count(full.report.poll_calls),
        format::count(connections as u64)
    ));
    Ok(())
}

/// Section 3: one CPU-bound call inside the loop stalls every connection; moved off, it does not.
fn the_pitfall_a_blocking_call_in_the_loop(
    lesson: &Lesson,
    settings: &Settings,
    server: &ServerProcess,
) -> anyhow::Result<()> {
    lesson.section("The pitfall: one blocking call stalls the whole loop");
    let connections = settings.pitfall_connections;
    let logins = logins(connections);
    // The heavy request is the one answered first: its work starts as the other replies arrive.
    let heavy = (0..connections)
        .min_by_key(|&i| server.config().plan(&logins[i]).delay)
        .unwrap_or(0);
    let heavy_size = calibrate_heavy_work(settings.blocking_work);
    say!(
        lesson,
        "  {} clients on one event loop; the server answers after {} ± {}. The handler of the first reply",
        format::count(connections as u64),
        format::duration(settings.pitfall_delay),
        format::duration(settings.pitfall_delay / 10)
    );
    say!(
        lesson,
        "  computes for about {} (the lecture's count_prime of {}): a parse, a resize, a report, or any",
        format::duration(settings.blocking_work),
        format::count(heavy_size)
    );
    say!(
        lesson,
        "  blocking call. A heartbeat task ticks every 10 ms: its lateness is how long the loop could not run."
    );
    say!(lesson);

    let addr = server.addr();
    let mut runs = Vec::new();
    for handling in [Handling::NoHeavyWork, Handling::OnTheLoop, Handling::OffTheLoop] {
        let run = measured_in_child(server, connections, || {
            pitfall_run(addr, server.config(), &logins, heavy, heavy_size, handling)
        })?;
        runs.push((handling, run));
    }

    let mut comparison = Comparison::new("the heavy handler, on the loop or off it");
    for (handling, run) in runs.iter().filter(|(h, _)| *h != Handling::NoHeavyWork) {
        let answer = (run.report.replies.clone(), run.report.heavy_answer);
        comparison.add_measured(handling.name(), 1, vec![answer], Runs::from(run.measurement));
    }
    lesson.compare(comparison)?;

    say!(lesson);
    say!(lesson, "  The other clients' time from connect to reply:");
    let response: Vec<(&str, Latencies)> = runs
        .iter()
        .map(|(handling, run)| (handling.name(), latencies_of(&run.report.response_times_ns)))
        .collect();
    let rows: Vec<(&str, &Latencies)> = response.iter().map(|(name, l)| (*name, l)).collect();
    lesson.latencies("response_times_of_the_others", &rows);
    say!(lesson);
    say!(lesson, "  How late the 10 ms heartbeat ran:");
    let lateness: Vec<(&str, Latencies)> = runs
        .iter()
        .map(|(handling, run)| (handling.name(), latencies_of(&run.report.heartbeat_lateness_ns)))
        .collect();
    let rows: Vec<(&str, &Latencies)> = lateness.iter().map(|(name, l)| (*name, l)).collect();
    lesson.latencies("heartbeat_lateness", &rows);

    let worst_lateness = |handling: Handling| {
        lateness
            .iter()
            .find(|(name, _)| *name == handling.name())
            .map_or(Duration::ZERO, |(_, l)| l.summary().max)
    };
    let on_loop = runs
        .iter()
        .find(|(h, _)| *h == Handling::OnTheLoop)
        .map(|(_, run)| &run.report);
    let blocked_for = on_loop.map_or(Duration::ZERO, |r| Duration::from_nanos(r.blocking_call_ns));
    let delayed = on_loop.map_or(0, |r| r.replies_due_during_the_call);
    say!(lesson);
    say!(
        lesson,
        "  On the loop, the call held the loop's only thread for {}: the heartbeat was up to {} late, and",
        format::duration(blocked_for),
        format::duration(worst_lateness(Handling::OnTheLoop))
    );
    say!(
        lesson,
        "  {} of the other {} replies, due meanwhile, waited in the kernel until it ended.",
        format::count(delayed as u64),
        format::count(connections.saturating_sub(1) as u64)
    );
    say!(
        lesson,
        "  Off the loop (tokio::task::spawn_blocking: another thread computes), the heartbeat was at most {} late.",
        format::duration(worst_lateness(Handling::OffTheLoop))
    );
    lesson.figure("pitfall_connections", connections);
    lesson.figure("heavy_work_size", heavy_size);
    lesson.figure("blocking_call_s", blocked_for.as_secs_f64());
    lesson.figure(
        "heartbeat_worst_lateness_s",
        serde_json::json!({
            "no_heavy_work": worst_lateness(Handling::NoHeavyWork).as_secs_f64(),
            "on_the_loop": worst_lateness(Handling::OnTheLoop).as_secs_f64(),
            "off_the_loop": worst_lateness(Handling::OffTheLoop).as_secs_f64(),
        }),
    );
    lesson.figure("replies_delayed_by_the_call", delayed);
    lesson.notice(
        "An event loop is one thread: while one handler computes, no other connection moves. Anything that \
computes or blocks for long goes to another thread (spawn_blocking), and the loop only waits.",
    );
    Ok(())
}

/// Section 4: stop the servers and check that nothing is left.
fn shutting_the_servers_down(lesson: &Lesson, servers: [ServerProcess; 2]) -> anyhow::Result<()> {
    lesson.section("Shutting the servers down");
    let mut ports_left_listening = 0;
    let mut ports = Vec::new();
    for (name, server) in ["slow server", "quicker server"].into_iter().zip(servers) {
        let (port, pid) = (server.port(), server.pid());
        ports.push(port);
        let stats = server.stop()?;
        let listening = system::is_listening(port);
        ports_left_listening += usize::from(listening == Some(true));
        say!(
            lesson,
            "  {name} (pid {pid}): SIGTERM, exited cleanly, reaped; port {port} {} (its last run: {} connections at most at once)",
            match listening {
                Some(true) => "STILL LISTENING",
                Some(false) => "closed",
                None => "(cannot be checked here)",
            },
            format::count(stats.peak_open_connections)
        );
    }
    let threads = course::children::thread_count();
    if let Some(threads) = threads {
        say!(
            lesson,
            "  threads in this process: {threads}; child processes left: {}",
            course::children::live()
        );
    }
    lesson.figure("server_ports", &ports);
    lesson.figure("ports_left_listening", ports_left_listening);
    lesson.figure("child_processes_left", course::children::live());
    lesson.figure("threads_left", threads);
    if ports_left_listening > 0 {
        bail!("a server port still listens after its server stopped");
    }
    lesson.notice("Every experiment ran in a child process that was reaped, and each server closed its port when told: nothing outlives the lesson.");
    Ok(())
}

// ----- The two ways to serve many waiting clients -----

/// A thread per connection: each thread makes one blocking request and sleeps in the kernel
/// until the reply comes. The whole trick is `thread::spawn` around a plain blocking call.
fn thread_per_connection(server: SocketAddr, logins: &[String]) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let logins: Arc<[String]> = logins.into();
    let open = Arc::new(OpenConnections::default());
    let finished = Arc::new(AtomicUsize::new(0));
    let peaks = Peaks::default();
    let mut threads = Vec::with_capacity(logins.len());
    for i in 0..logins.len() {
        let (mine, open, finished) = (Arc::clone(&logins), Arc::clone(&open), Arc::clone(&finished));
        // A client's time counts from here, before its thread exists, as a task's counts from
        // its spawn: starting a thread is part of the cost.
        let started = Instant::now();
        let spawned = std::thread::Builder::new().spawn(move || {
            open.opened();
            let result = fetch_user(server, &mine[i], CLIENT_TIMEOUT);
            open.closed();
            // Relaxed: only a progress count for the watcher below; `join` hands over the result.
            finished.fetch_add(1, Ordering::Relaxed);
            Outcome::of(&mine[i], result, started.elapsed())
        });
        match spawned {
            Ok(thread) => threads.push(thread),
            Err(error) => bail!(
                "could start only {i} of {} client threads ({error}): the machine ran out of room for threads; \
try --connections {}",
                logins.len(),
                i / 2
            ),
        }
        if i % 256 == 0 {
            peaks.sample();
        }
    }
    // While the clients wait, look at the threads and memory now and then.
    while finished.load(Ordering::Relaxed) < logins.len() {
        peaks.sample();
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut outcomes = Vec::with_capacity(threads.len());
    for thread in threads {
        outcomes.push(thread.join().map_err(|_| anyhow::anyhow!("a client thread panicked"))?);
    }
    Ok(VariantReport::new(outcomes, open.most_at_once(), &peaks, start))
}

/// One thread runs an event loop: each connection is a task, a small state machine that the
/// loop resumes when its socket is ready. New: `async`, `.await`, and the runtime.
fn one_thread_event_loop(server: SocketAddr, logins: &[String]) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let logins: Arc<[String]> = logins.into();
    let open = Arc::new(OpenConnections::default());
    let peaks = Arc::new(Peaks::default());
    let wave = Arc::new(tokio::sync::Semaphore::new(CONNECT_WAVE));
    // A current-thread runtime: the loop, the timers and every task run on this thread alone.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcomes = runtime.block_on(async {
        let watcher = {
            let peaks = Arc::clone(&peaks);
            tokio::spawn(async move {
                loop {
                    peaks.sample();
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            })
        };
        let tasks: Vec<_> = (0..logins.len())
            .map(|i| {
                let (mine, open, wave) = (Arc::clone(&logins), Arc::clone(&open), Arc::clone(&wave));
                // A task, not a thread: spawning puts its state machine in the loop's queue.
                tokio::spawn(async move {
                    let started = Instant::now();
                    let result = fetch_on_the_loop(server, &mine[i], &open, &wave).await;
                    Outcome::of(&mine[i], result, started.elapsed())
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for task in tasks {
            outcomes.push(task.await.context("a client task failed")?);
        }
        watcher.abort();
        anyhow::Ok(outcomes)
    })?;
    drop(runtime);
    Ok(VariantReport::new(outcomes, open.most_at_once(), &peaks, start))
}

/// One client on the loop: at every `.await` this task may wait, and the thread moves on to
/// another task whose socket is ready.
async fn fetch_on_the_loop(
    server: SocketAddr,
    login: &str,
    open: &OpenConnections,
    wave: &tokio::sync::Semaphore,
) -> FetchResult {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let connecting = wave.acquire().await.map_err(|e| FetchError::Connect(e.to_string()))?;
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| FetchError::Connect(e.to_string()))?;
    open.opened();
    let outcome = async {
        let mut stream = socket
            .connect(server)
            .await
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        drop(connecting);
        stream
            .write_all(protocol::user_request(login).as_bytes())
            .await
            .map_err(|e| FetchError::Io(e.to_string()))?;
        // No buffer until the reply comes: a waiting connection costs as little as possible.
        let mut reply = Vec::new();
        stream
            .read_to_end(&mut reply)
            .await
            .map_err(|e| FetchError::Io(e.to_string()))?;
        protocol::parse_reply(&String::from_utf8_lossy(&reply))
    }
    .await;
    open.closed();
    outcome
}

/// The hand-written loop of section 2, as an experiment.
fn poll_loop_run(server: SocketAddrV4, logins: &[String], trace_lines: usize) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let run = poll_loop::fetch_all_with_poll(server, logins, CONNECT_WAVE, trace_lines)?;
    let outcomes = logins
        .iter()
        .zip(run.results)
        .zip(run.response_times)
        .map(|((login, result), time)| {
            let result = result.unwrap_or_else(|| Err(FetchError::Io("never finished".to_string())));
            Outcome::of(login, result, time)
        })
        .collect();
    let peaks = Peaks::default();
    peaks.sample();
    let mut report = VariantReport::new(outcomes, run.most_open, &peaks, start);
    report.poll_calls = run.poll_calls;
    report.events = run.events;
    report.trace = run.trace;
    Ok(report)
}

// ----- The pitfall -----

/// What the handler of the first reply does with its heavy work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Handling {
    /// No heavy work at all: the reference.
    NoHeavyWork,
    /// Computes right there, on the loop's only thread. This version is problematic.
    OnTheLoop,
    /// Hands the work to another thread (`spawn_blocking`) and awaits it.
    OffTheLoop,
}

impl Handling {
    fn name(self) -> &'static str {
        match self {
            Handling::NoHeavyWork => "no heavy work",
            Handling::OnTheLoop => "heavy work on the loop",
            Handling::OffTheLoop => "heavy work off the loop",
        }
    }
}

/// Every login fetched on one event loop; the reply of login `heavy` is followed by
/// `count_divisors(heavy_size)`, handled as `handling` says. A heartbeat measures the loop.
fn pitfall_run(
    server: SocketAddr,
    config: &Config,
    logins: &[String],
    heavy: usize,
    heavy_size: u64,
    handling: Handling,
) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let blocking_call = Arc::new(BlockingCall::default());
    let (outcomes, heavy_answer, lateness, due_times) = runtime.block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(Arc::clone(&done)));
        let tasks: Vec<_> = logins
            .iter()
            .enumerate()
            .map(|(i, login)| {
                let (login, blocking_call) = (login.clone(), Arc::clone(&blocking_call));
                let planned_delay = config.plan(&login).delay;
                tokio::spawn(async move {
                    let started = Instant::now();
                    // When the server means to answer: the reply waits in the kernel from then on.
                    let due = started + planned_delay;
                    let result = fetch_user_async(server, &login).await;
                    let answer = if i != heavy {
                        None
                    } else {
                        match handling {
                            Handling::NoHeavyWork => None,
                            Handling::OnTheLoop => {
                                // The loop's only thread computes here: no other task can run.
                                Some(blocking_call.run(|| workloads::seed::count_divisors(heavy_size)))
                            }
                            Handling::OffTheLoop => {
                                // Another thread computes; this task waits like any other.
                                let work =
                                    tokio::task::spawn_blocking(move || workloads::seed::count_divisors(heavy_size));
                                work.await.ok()
                            }
                        }
                    };
                    (Outcome::of(&login, result, started.elapsed()), answer, due)
                })
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        let mut heavy_answer = None;
        let mut due_times = Vec::with_capacity(tasks.len());
        for (i, task) in tasks.into_iter().enumerate() {
            let (outcome, answer, due) = task.await.context("a client task failed")?;
            if i == heavy {
                heavy_answer = answer;
                // The heavy client's own time includes its work: it is kept out of the others'.
                outcomes.push(Outcome {
                    response_ns: None,
                    ..outcome
                });
                continue;
            }
            outcomes.push(outcome);
            due_times.push(due);
        }
        done.store(true, Ordering::Relaxed);
        let lateness = heartbeat.await.context("the heartbeat failed")?;
        anyhow::Ok((outcomes, heavy_answer, lateness, due_times))
    })?;
    drop(runtime);
    let mut report = VariantReport::new(outcomes, 0, &Peaks::default(), start);
    report.heavy_answer = heavy_answer;
    report.heartbeat_lateness_ns = lateness;
    report.blocking_call_ns = blocking_call.nanos();
    report.replies_due_during_the_call = blocking_call.count_inside(&due_times);
    Ok(report)
}

/// Ticks every 10 ms until `done`; returns how late each tick ran, in nanoseconds.
async fn heartbeat(done: Arc<AtomicBool>) -> Vec<u64> {
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut lateness = Vec::new();
    while !done.load(Ordering::Relaxed) {
        let due = ticks.tick().await;
        lateness.push(nanos(due.elapsed()));
    }
    lateness
}

/// A blocking call on the loop: when it started and ended, and how long it took.
#[derive(Debug, Default)]
struct BlockingCall(std::sync::Mutex<Option<(Instant, Instant, Measurement)>>);

impl BlockingCall {
    /// Runs `work`, timed, and remembers when.
    fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let (answer, measurement) = timing::measure(work);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, Instant::now(), measurement));
        answer
    }

    fn nanos(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(0, |(_, _, measurement)| nanos(measurement.wall))
    }

    /// How many of these instants fall while the call ran.
    fn count_inside(&self, instants: &[Instant]) -> usize {
        match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((start, end, _)) => instants.iter().filter(|&&t| start <= t && t < end).count(),
            None => 0,
        }
    }
}

/// The size of `count_divisors` that computes for about `target` here, from the best of three
/// timed runs of a known size.
fn calibrate_heavy_work(target: Duration) -> u64 {
    const PROBE: u64 = 4_000_000;
    let (_, runs) = timing::repeat(0, 3, || workloads::seed::count_divisors(std::hint::black_box(PROBE)));
    let size = PROBE as f64 * timing::ratio(target, runs.best().wall);
    (size as u64).clamp(1_000, 100_000_000_000)
}

// ----- Helpers: running, checking, reporting -----

/// How long a blocking client waits for its reply before giving up.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Connections, threads and memory of each way, side by side; returns the memory of each.
fn resource_table(lesson: &Lesson, connections: usize, runs: &[(&str, &Measured)]) -> Vec<MemoryUse> {
    let unknown = || "?".to_string();
    let bytes = |value: Option<u64>| value.map_or_else(unknown, format::bytes);
    let mut table = Table::new(&[
        "variant",
        "held at once",
        "server saw",
        "peak threads",
        "reserved",
        "resident",
        "page tables",
        "kernel stacks",
        "total",
        "per connection",
    ]);
    let mut bars = Bars::new().width(30);
    let mut memory = Vec::new();
    for (name, run) in runs {
        let report = &run.report;
        let used = MemoryUse::of(report);
        let per_connection = used
            .total()
            .zip(report.start.rss)
            .map(|(total, start)| total.saturating_sub(start) / connections.max(1) as u64);
        table.row([
            name.to_string(),
            format::count(report.connections_held as u64),
            format::count(run.server_peak_connections),
            report.peak_threads.map_or_else(unknown, |t| format::count(t as u64)),
            bytes(used.reserved),
            bytes(used.resident),
            bytes(used.page_tables),
            bytes(used.kernel_stacks),
            bytes(used.total()),
            bytes(per_connection),
        ]);
        if let Some(total) = used.total() {
            bars.row(*name, total as f64, format::bytes(total));
        }
        memory.push(used);
    }
    lesson.table(&table);
    say!(
        lesson,
        "  'reserved' is address space (VmPeak), not memory: a thread's stack is reserved in full when it"
    );
    say!(
        lesson,
        "  starts, but only the pages it touches become resident, so it is in no total."
    );
    if let Some(each) = reserved_per_thread(runs) {
        say!(
            lesson,
            "  Here: {} more per thread, on average: its stack, and its share of the allocator's 64 MiB arenas.",
            format::bytes(each)
        );
        lesson.figure("reserved_per_thread_bytes", each);
    }
    say!(lesson);
    say!(lesson, "  memory in all:");
    lesson.bars(&bars);
    memory
}

/// The address space one more thread reserves: the difference in `reserved` between the
/// first way and the last over the difference in their threads (when the first has more).
fn reserved_per_thread(runs: &[(&str, &Measured)]) -> Option<u64> {
    let (first, last) = (&runs.first()?.1.report, &runs.last()?.1.report);
    let threads = first.peak_threads?.checked_sub(last.peak_threads?)?;
    let reserved = first.end.peak_virtual?.checked_sub(last.end.peak_virtual?)?;
    (threads > 0).then(|| reserved / threads as u64)
}

/// The figures of one way, for `--json`.
fn variant_figures(run: &Measured, memory: &MemoryUse) -> serde_json::Value {
    let report = &run.report;
    serde_json::json!({
        "wall_s": run.measurement.wall.as_secs_f64(),
        "cores_used": run.measurement.cores_used(),
        "records": report.replies.records,
        "connections_held": report.connections_held,
        "server_peak_connections": run.server_peak_connections,
        "peak_threads": report.peak_threads,
        "rss_at_start_bytes": report.start.rss,
        "peak_rss_bytes": memory.resident,
        "peak_page_tables_bytes": memory.page_tables,
        "kernel_stacks_bytes": memory.kernel_stacks,
        "memory_total_bytes": memory.total(),
        "peak_virtual_bytes": report.end.peak_virtual,
    })
}

/// `30000 s (8.3 hours)`: a long time, in a unit a person feels.
fn in_hours_too(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{} ({:.1} hours)", format::seconds(seconds), seconds / 3600.0)
    } else {
        format::seconds(seconds)
    }
}

fn latencies_of(nanos: &[u64]) -> Latencies {
    let mut latencies = Latencies::new();
    for &ns in nanos {
        latencies.record(Duration::from_nanos(ns));
    }
    latencies
}

fn ipv4(addr: SocketAddr) -> Option<SocketAddrV4> {
    match addr {
        SocketAddr::V4(v4) => Some(v4),
        SocketAddr::V6(_) => None,
    }
}

/// `count` made-up logins.
fn logins(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("client{i:05}")).collect()
}

/// The knobs as they really are after defaults and this machine's limits.
struct Settings {
    requested: usize,
    connections: usize,
    pitfall_connections: usize,
    /// The slow server's delay (sections 1 and 2).
    delay: Duration,
    /// The quicker server's delay (the trace of section 2, and section 3).
    pitfall_delay: Duration,
    blocking_work: Duration,
    seed: u64,
    /// What was found about the limits, in sentences.
    limits_said: Vec<String>,
}

impl Settings {
    fn from_args(args: &Args, lesson: &Lesson) -> Settings {
        let delay = args
            .delay
            .unwrap_or(lesson.pick(Duration::from_millis(150), Duration::from_millis(3000)));
        let requested = args.connections.unwrap_or(lesson.pick(200, 10_000));
        Settings {
            requested,
            connections: requested,
            pitfall_connections: requested.min(lesson.pick(100, 1000)),
            delay,
            pitfall_delay: delay / 3,
            blocking_work: args.blocking_work.unwrap_or(delay / 10),
            seed: lesson.seed(),
            limits_said: Vec::new(),
        }
    }

    /// A server that answers every request after `delay` ± 10%.
    fn server_config(&self, delay: Duration) -> Config {
        Config {
            delay,
            jitter: delay / 10,
            seed: self.seed,
            // Failures belong to lesson 07: here every client gets its record.
            ..Config::default()
        }
    }

    /// Raises the open-file limit and counts the room for threads; fewer connections if
    /// this machine cannot hold the ones asked for, and says so.
    fn fit_to_this_machine(&mut self, lesson: &Lesson) -> anyhow::Result<()> {
        // Besides its sockets, each process keeps a few dozen files open (output, pipes, the
        // runtime's own).
        const OTHER_FILES: u64 = 64;
        // Threads left for everybody else on the machine.
        const SPARE_TASKS: u64 = 1000;
        let mut fits = self.requested as u64;
        let mut why = None;
        match system::raise_open_file_limit() {
            Ok(limit) => {
                self.limits_said.push(if limit.was_raised() {
                    format!(
                        "Open files: every connection is a file descriptor; raised this process's limit from {} to {} (the hard limit).",
                        format::count(limit.before),
                        format::count(limit.now)
                    )
                } else {
                    format!(
                        "Open files: every connection is a file descriptor; the limit is {} (hard limit {}), nothing to raise.",
                        format::count(limit.now),
                        format::count(limit.hard)
                    )
                });
                let fd_room = limit.now.saturating_sub(OTHER_FILES);
                if fd_room < fits {
                    fits = fd_room;
                    why = Some(format!("the open-file limit of {}", format::count(limit.now)));
                }
                lesson.figure("open_file_limit", limit);
            }
            Err(error) => self
                .limits_said
                .push(format!("Open files: the limit cannot be read here ({error}).")),
        }
        if let Some(room) = system::task_room() {
            let free = room.free(SPARE_TASKS);
            self.limits_said.push(format!(
                "Threads: {} tasks run on this machine now and {} allows {}: room for {} more client threads.",
                format::count(room.tasks_now),
                room.limited_by,
                format::count(room.limit),
                format::count(free)
            ));
            if free < fits {
                fits = free;
                why = Some(format!("{} ({})", room.limited_by, format::count(room.limit)));
            }
            lesson.figure("task_room", &room);
        }
        if fits == 0 {
            bail!("no room for even one more connection on this machine");
        }
        if let Some(why) = why.filter(|_| fits < self.requested as u64) {
            self.connections = fits as usize;
            self.pitfall_connections = self.pitfall_connections.min(self.connections);
            lesson.warn(&format!(
                "{} connections do not fit here ({why}): using {} instead",
                format::count(self.requested as u64),
                format::count(fits)
            ));
        }
        lesson.param("connections_requested", self.requested);
        lesson.param("connections", self.connections);
        lesson.param("pitfall_connections", self.pitfall_connections);
        lesson.param("delay_ms", self.delay.as_millis() as u64);
        lesson.param("pitfall_delay_ms", self.pitfall_delay.as_millis() as u64);
        lesson.param("blocking_work_ms", self.blocking_work.as_millis() as u64);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_call_counts_what_fell_due_while_it_ran() {
        let call = BlockingCall::default();
        let before = Instant::now();
        assert_eq!(call.count_inside(&[before]), 0, "no call yet");
        let inside = call.run(|| {
            std::thread::sleep(Duration::from_millis(2));
            Instant::now()
        });
        let after = Instant::now();
        assert_eq!(call.count_inside(&[before, inside, after]), 1);
        assert!(call.nanos() >= 2_000_000);
    }
}
