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
//!
//! **How to run.** `cargo run -p lesson04_gil` (add `--quick`, `--json`, `--step`;
//! `--help` lists the knobs). `--quiz --seed S` prints seeded questions on who holds the GIL
//! when instead, and `--answers` reveals their answers, computed by the model that section 1
//! draws (`src/schedule.rs`).

mod gil;
mod interpreter;
mod quiz;
mod schedule;

use anyhow::{bail, ensure};
use clap::Parser;
use course::chart::Bars;
use course::children;
use course::table::Table;
use course::timing::{self, Comparison, ComparisonReport, Latencies, format};
use course::{Lesson, say};
use gil::{Gil, GilStats};
use interpreter::{Interpreter, Op, ThreadReport};
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use schedule::Span;
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use workloads::Rng;

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
    // `--quiz` and `--answers`: questions on who holds the GIL when, instead of the lesson
    // (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("A GIL, simulated");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let n_threads = args.threads.unwrap_or(lesson.machine().logical_cores);
        let total_steps = args.steps.unwrap_or(lesson.pick(4_000, 60_000)) as u64;
        let io_wait = args
            .io_wait
            .unwrap_or(lesson.pick(Duration::from_millis(20), Duration::from_millis(200)));
        let requests = args.requests.unwrap_or(lesson.pick(10, 100));
        let switch_interval = args.switch_interval;
        lesson.param("threads", n_threads);
        lesson.param("steps", total_steps);
        lesson.param("io_wait_ms", io_wait.as_millis() as u64);
        lesson.param("switch_interval_ms", switch_interval.as_millis() as u64);
        lesson.param("requests", requests);

        how_the_gil_changes_hands(lesson, switch_interval)?;
        let cpu = cpu_bound_work(lesson, n_threads, total_steps, switch_interval)?;
        let io = io_bound_work(lesson, args.io_tasks, io_wait, switch_interval)?;
        let convoy = convoy_effect(lesson, n_threads, requests, switch_interval)?;
        summary(lesson, n_threads, args.io_tasks, &cpu, &io, &convoy);
        Ok(())
    })
}

/// Section 1: the interpreter, its GIL, and a timeline of who holds it.
fn how_the_gil_changes_hands(lesson: &Lesson, switch_interval: Duration) -> anyhow::Result<()> {
    lesson.section("A tiny interpreter and its GIL");
    for line in [
        "Each thread runs bytecode steps, and must hold the GIL (one global lock) for every step.",
        "A thread that waits for the GIL waits one switch interval, then asks the holder to let go;",
        "the holder checks between two steps and lets go. Waiters are served first come, first",
        "served, so nobody starves. A thread about to sleep or read a socket lets go on its own.",
    ] {
        say!(lesson, "  {line}");
    }
    // What one step costs here, so that the model below runs on this machine's clock.
    let mut index = 0;
    let step_times = timing::latencies(10, 200, || {
        std::hint::black_box(interpreter::bytecode(index));
        index += 1;
    });
    let step_time = step_times.summary().p50.max(Duration::from_nanos(100));
    say!(
        lesson,
        "  One bytecode step on this machine: {} of arithmetic.",
        format::duration(step_time)
    );

    // Two CPU-bound threads, each with four intervals' worth of steps, and an I/O thread that
    // computes one step between waits of one and a half intervals.
    let steps_each = ((4 * switch_interval).as_nanos() / step_time.as_nanos().max(1)).max(1) as u64;
    let wait = switch_interval * 3 / 2;
    let programs = vec![
        vec![Op::compute(0, steps_each)],
        vec![Op::compute(steps_each, steps_each)],
        vec![
            Op::compute(2 * steps_each, 1),
            Op::Sleep(wait),
            Op::compute(2 * steps_each + 1, 1),
            Op::Sleep(wait),
            Op::compute(2 * steps_each + 2, 1),
        ],
    ];
    let model = schedule::simulate(&programs, switch_interval, step_time);
    let interpreter = Interpreter::new(Gil::new(switch_interval).recording_turns());
    let run = run_on_threads(&interpreter, &programs);
    ensure!(
        run.overlapping_steps == 0,
        "the GIL let {} steps run at the same time",
        run.overlapping_steps
    );
    let measured = interpreter.gil().spans();
    let end = measured
        .iter()
        .map(|span| span.end)
        .chain([model.end()])
        .max()
        .unwrap_or_default();
    let names = ["T0 CPU", "T1 CPU", "T2 I/O"];
    say!(
        lesson,
        "  Who holds the GIL, predicted by the model (every step {}, hand-overs instant):",
        format::duration(step_time)
    );
    lesson.lines(timeline_lines(&names, &model.spans, end));
    say!(lesson, "  and measured:");
    lesson.lines(timeline_lines(&names, &measured, end));
    let stats = interpreter.gil().stats();
    say!(
        lesson,
        "  Measured: {} hand-overs ({} asked for by a waiter); the model predicts {} ({}).",
        stats.switches,
        stats.forced_releases,
        model.switches,
        model.drop_requests
    );
    // A question for the class, answered by the model.
    let moment = Duration::from_micros(Rng::new(lesson.seed()).below(model.end().as_micros().max(1) as u64));
    let holder = model
        .holder_at(moment)
        .and_then(|thread| names.get(thread))
        .map_or("nobody".to_string(), |name| name.to_string());
    say!(
        lesson,
        "  Your turn: in the model, who holds the GIL at {}? (Answer: {holder}.)",
        format::duration(moment)
    );
    lesson.figure("step_time_s", step_time.as_secs_f64());
    lesson.figure(
        "your_turn",
        serde_json::json!({ "at_s": moment.as_secs_f64(), "holder": holder }),
    );
    lesson.figure(
        "model",
        serde_json::json!({
            "switches": model.switches,
            "drop_requests": model.drop_requests,
            "end_s": model.end().as_secs_f64(),
            "turns": model.spans,
        }),
    );
    lesson.figure("gil", stats);
    lesson.figure("turns", &measured);
    lesson.figure("threads", &run.threads);
    lesson.figure("overlapping_steps", run.overlapping_steps);
    lesson.notice("One thread holds the GIL at a time. CPU-bound threads take turns of one switch interval; the I/O thread, back from each wait, waits for the end of a turn before its one step.");
    Ok(())
}

/// What the CPU-bound comparisons found.
struct CpuResults {
    with_gil: ComparisonReport,
    without_gil: ComparisonReport,
    processes: ComparisonReport,
}

/// Sections 2 to 4: the same CPU-bound work on threads with and without the GIL, and on
/// processes that each have their own.
fn cpu_bound_work(
    lesson: &Lesson,
    n_threads: usize,
    total_steps: u64,
    switch_interval: Duration,
) -> anyhow::Result<CpuResults> {
    lesson.section("CPU-bound threads under the GIL");
    say!(
        lesson,
        "  {} bytecode steps of arithmetic, on one thread, then split over {}.",
        format::count(total_steps),
        plural(n_threads, "thread")
    );
    let runs = lesson.pick(1, 3);
    let one = split_steps(total_steps, 1);
    let split = split_steps(total_steps, n_threads);
    // The one-thread baseline is measured once and shown in each of the three comparisons.
    let (baseline_answers, baseline) = timing::repeat(0, runs, || {
        run_on_threads(&Interpreter::new(Gil::new(switch_interval)), &one).answer
    });

    let mut comparison = Comparison::new(format!("{} steps", format::count(total_steps)));
    comparison.add_measured("1 thread", 1, baseline_answers.clone(), baseline.clone());
    let mut last = None;
    let mut overlapping_steps = 0;
    comparison.variant(format!("{}, GIL", plural(n_threads, "thread")), n_threads, || {
        let run = run_on_threads(&Interpreter::new(Gil::new(switch_interval)), &split);
        overlapping_steps += run.overlapping_steps;
        let answer = run.answer;
        last = Some(run);
        answer
    });
    ensure!(
        overlapping_steps == 0,
        "the GIL let {overlapping_steps} steps run at the same time"
    );
    let with_gil = lesson.compare(comparison)?;
    let Some(last) = last else {
        bail!("the GIL variant did not run");
    };
    say!(lesson);
    say!(lesson, "  Each thread's share, from the last run:");
    lesson.table(&thread_table(&last.threads));
    check_fair(&last, &split)?;
    say!(
        lesson,
        "  For reference, real CPython 3.11: two CPU-bound threads use 0.97 cores."
    );
    lesson.figure("gil", last.gil);
    lesson.figure("threads", &last.threads);
    lesson.figure("overlapping_steps", overlapping_steps);
    lesson.figure("every_thread_finished", true);
    lesson.notice("Under the GIL the threads take turns: no speedup, about one core used, and the interpreter counted 0 steps running at the same moment. Every thread got its turns; none waited for more turns than there are other threads.");

    lesson.section("The same threads without the GIL");
    say!(
        lesson,
        "  The same interpreter with the lock switched off, as in CPython's free-threaded build."
    );
    let mut comparison = Comparison::new(format!("{} steps", format::count(total_steps)));
    comparison.add_measured("1 thread", 1, baseline_answers.clone(), baseline.clone());
    let mut overlapping_steps = 0;
    comparison.variant(format!("{}, no GIL", plural(n_threads, "thread")), n_threads, || {
        let run = run_on_threads(&Interpreter::new(Gil::disabled()), &split);
        overlapping_steps += run.overlapping_steps;
        run.answer
    });
    let without_gil = lesson.compare(comparison)?;
    say!(
        lesson,
        "  Steps that ran while another thread was inside one: {}.",
        format::count(overlapping_steps)
    );
    lesson.figure("overlapping_steps", overlapping_steps);
    lesson.notice("Without the lock the same threads run at the same time: the speedup approaches the number of threads (up to the number of cores), and so do the cores used.");

    lesson.section("Processes, each with its own GIL");
    say!(
        lesson,
        "  {} forked processes, each an interpreter with its own GIL, each running one share;",
        n_threads
    );
    say!(
        lesson,
        "  their results come back through pipes (what Python's multiprocessing does)."
    );
    let mut comparison = Comparison::new(format!("{} steps", format::count(total_steps)));
    comparison.add_measured("1 thread", 1, baseline_answers, baseline);
    let mut failure = None;
    let mut per_process = Vec::new();
    comparison.variant(plural(n_threads, "process"), n_threads, || {
        match run_on_processes(&split, switch_interval) {
            Ok(run) => {
                let answer = run.answer;
                per_process = run.threads;
                answer
            }
            Err(error) => {
                failure.get_or_insert(error);
                Answer::default()
            }
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    let processes = lesson.compare(comparison)?;
    lesson.figure("processes", &per_process);
    lesson.notice("Separate processes do not share a GIL: they compute in parallel like free threads, at the price of starting processes and sending results back.");
    Ok(CpuResults {
        with_gil,
        without_gil,
        processes,
    })
}

/// Section 5: tasks that mostly wait.
fn io_bound_work(
    lesson: &Lesson,
    io_tasks: usize,
    io_wait: Duration,
    switch_interval: Duration,
) -> anyhow::Result<ComparisonReport> {
    lesson.section("I/O-bound threads: waiting releases the GIL");
    say!(
        lesson,
        "  {} tasks, each one step, a wait of {} (as for a network reply), one more step.",
        io_tasks,
        format::duration(io_wait)
    );
    let one = io_programs(io_tasks, 1, io_wait);
    let spread = io_programs(io_tasks, io_tasks, io_wait);
    let mut comparison = Comparison::new(format!("{io_tasks} waiting tasks"));
    let mut overlapping_steps = 0;
    comparison.variant("1 thread", 1, || {
        run_on_threads(&Interpreter::new(Gil::new(switch_interval)), &one).answer
    });
    let mut gil_stats = GilStats::default();
    comparison.variant(format!("{}, GIL", plural(io_tasks, "thread")), io_tasks, || {
        let interpreter = Interpreter::new(Gil::new(switch_interval));
        let run = run_on_threads(&interpreter, &spread);
        overlapping_steps += run.overlapping_steps;
        gil_stats = run.gil;
        run.answer
    });
    comparison.variant(format!("{}, no GIL", plural(io_tasks, "thread")), io_tasks, || {
        run_on_threads(&Interpreter::new(Gil::disabled()), &spread).answer
    });
    let mut failure = None;
    comparison.variant(plural(io_tasks, "process"), io_tasks, || {
        run_on_processes(&spread, switch_interval)
            .map(|run| run.answer)
            .unwrap_or_else(|error| {
                failure.get_or_insert(error);
                Answer::default()
            })
    });
    if let Some(error) = failure {
        return Err(error);
    }
    ensure!(
        overlapping_steps == 0,
        "the GIL let {overlapping_steps} steps run at the same time"
    );
    let report = lesson.compare(comparison)?;
    say!(
        lesson,
        "  For reference, real CPython 3.11: eight threads sleeping 0.2 s each finish 7.9× faster than one after another."
    );
    lesson.figure("gil", gil_stats);
    lesson.figure("overlapping_steps", overlapping_steps);
    lesson.notice("A waiting thread holds no GIL, so waits overlap: k threads finish about k× faster under the GIL too, using almost no CPU. Threads are the right tool for waiting.");
    Ok(report)
}

/// One convoy measurement: who runs next to the I/O thread, and how.
#[derive(Clone, Debug)]
struct ConvoySetup {
    name: String,
    /// None: no GIL.
    switch_interval: Option<Duration>,
    cpu_neighbours: usize,
    /// The CPU-bound neighbours run in their own processes instead of as threads.
    in_processes: bool,
}

/// The latencies measured for each setup, in order, and where the summary's three are.
struct ConvoyResults {
    setups: Vec<(ConvoySetup, Latencies)>,
    /// CPU-bound threads under the GIL at the chosen switch interval.
    with_gil: usize,
    without_gil: usize,
    processes: usize,
}

/// Section 6: how CPU-bound threads delay a thread that answers requests.
fn convoy_effect(
    lesson: &Lesson,
    n_neighbours: usize,
    requests: usize,
    switch_interval: Duration,
) -> anyhow::Result<ConvoyResults> {
    lesson.section("The convoy effect: I/O next to CPU-bound threads");
    say!(
        lesson,
        "  A client sends {} requests over a socket, one every 1–3 ms; an interpreter thread blocks",
        requests
    );
    say!(
        lesson,
        "  reading them (GIL released), then needs the GIL for one step to answer. Its neighbours:"
    );
    let neighbours = plural(n_neighbours, "CPU-bound thread");
    let mut intervals: Vec<Duration> = [
        (switch_interval / 5).max(Duration::from_millis(1)),
        switch_interval,
        (switch_interval * 4).min(Duration::from_millis(400)),
    ]
    .into_iter()
    .collect();
    intervals.dedup();
    let mut setups = vec![
        ConvoySetup {
            name: format!("alone, GIL {}", format::duration(switch_interval)),
            switch_interval: Some(switch_interval),
            cpu_neighbours: 0,
            in_processes: false,
        },
        ConvoySetup {
            name: format!("{neighbours}, no GIL"),
            switch_interval: None,
            cpu_neighbours: n_neighbours,
            in_processes: false,
        },
    ];
    let mut with_gil = 0;
    for interval in &intervals {
        if *interval == switch_interval {
            with_gil = setups.len();
        }
        setups.push(ConvoySetup {
            name: format!("{neighbours}, GIL {}", format::duration(*interval)),
            switch_interval: Some(*interval),
            cpu_neighbours: n_neighbours,
            in_processes: false,
        });
    }
    let processes = setups.len();
    setups.push(ConvoySetup {
        name: format!("{}, own GILs", plural(n_neighbours, "CPU-bound process")),
        switch_interval: Some(switch_interval),
        cpu_neighbours: n_neighbours,
        in_processes: true,
    });

    let mut results = Vec::new();
    let mut gil_stats = serde_json::Map::new();
    for setup in setups {
        let run = measure_convoy(&setup, requests, lesson.seed())?;
        ensure!(
            setup.switch_interval.is_none() || run.overlapping_steps == 0,
            "the GIL let {} steps run at the same time",
            run.overlapping_steps
        );
        gil_stats.insert(setup.name.clone(), serde_json::to_value(run.gil)?);
        results.push((setup, run.latencies));
    }
    let rows: Vec<(&str, &Latencies)> = results
        .iter()
        .map(|(setup, latencies)| (setup.name.as_str(), latencies))
        .collect();
    lesson.latencies("latency", &rows);
    say!(lesson);
    say!(lesson, "  Median reply time:");
    let mut bars = Bars::new().width(30);
    for (setup, latencies) in &results {
        let p50 = latencies.summary().p50;
        bars.row(&setup.name, p50.as_secs_f64(), format::duration(p50));
    }
    lesson.bars(&bars);
    lesson.figure("gil", gil_stats);
    lesson.figure(
        "switch_intervals_ms",
        intervals.iter().map(|i| i.as_millis() as u64).collect::<Vec<_>>(),
    );
    lesson.notice("Back from its read, the I/O thread queues behind the CPU-bound threads and waits about a switch interval for each one ahead of it: replies slow from microseconds to milliseconds, in step with --switch-interval. Without the GIL, or with the computing in other processes, the reply is quick again.");
    Ok(ConvoyResults {
        setups: results,
        with_gil,
        without_gil: 1,
        processes,
    })
}

/// Section 7: the lecture's table, from this machine's measurements.
fn summary(
    lesson: &Lesson,
    n_threads: usize,
    io_tasks: usize,
    cpu: &CpuResults,
    io: &ComparisonReport,
    convoy: &ConvoyResults,
) {
    lesson.section("Summary: threads with a GIL, threads without, processes");
    let cell = |row: Option<&timing::VariantRow>| {
        row.map_or("–".to_string(), |row| {
            format!("{} ({:.2} cores)", format::times(row.speedup), row.cores_used)
        })
    };
    let latency = |index: usize| {
        convoy.setups.get(index).map_or("–".to_string(), |(_, latencies)| {
            let s = latencies.summary();
            format!("{} / {}", format::duration(s.p50), format::duration(s.p99))
        })
    };
    let mut table = Table::new(&["workload", "threads + GIL", "threads, no GIL", "processes"]);
    table.row([
        format!("CPU-bound, {n_threads} workers: speedup"),
        cell(cpu.with_gil.rows.get(1)),
        cell(cpu.without_gil.rows.get(1)),
        cell(cpu.processes.rows.get(1)),
    ]);
    table.row([
        format!("I/O-bound, {io_tasks} workers: speedup"),
        cell(io.rows.get(1)),
        cell(io.rows.get(2)),
        cell(io.rows.get(3)),
    ]);
    table.row([
        "reply next to CPU work: p50 / p99".to_string(),
        latency(convoy.with_gil),
        latency(convoy.without_gil),
        latency(convoy.processes),
    ]);
    lesson.table(&table);
    let figure = |row: Option<&timing::VariantRow>| {
        row.map(|row| serde_json::json!({ "speedup": row.speedup, "cores_used": row.cores_used }))
    };
    let latency_figure = |index: usize| {
        convoy
            .setups
            .get(index)
            .map(|(setup, latencies)| serde_json::json!({ "setup": setup.name, "latency": latencies.summary() }))
    };
    lesson.figure(
        "summary",
        serde_json::json!({
            "cpu_bound": {
                "threads_with_gil": figure(cpu.with_gil.rows.get(1)),
                "threads_without_gil": figure(cpu.without_gil.rows.get(1)),
                "processes": figure(cpu.processes.rows.get(1)),
            },
            "io_bound": {
                "threads_with_gil": figure(io.rows.get(1)),
                "threads_without_gil": figure(io.rows.get(2)),
                "processes": figure(io.rows.get(3)),
            },
            "convoy": {
                "threads_with_gil": latency_figure(convoy.with_gil),
                "threads_without_gil": latency_figure(convoy.without_gil),
                "processes": latency_figure(convoy.processes),
            },
        }),
    );
    lesson.notice("With a GIL, use threads for waiting and processes for computing; a runtime without a GIL lets threads do both. A thread that must answer quickly suffers next to CPU-bound threads under a GIL.");
}

// ---------------------------------------------------------------------------------------------
// Workloads and how they are run.

/// What every variant of a workload must compute: how many steps, and their checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
struct Answer {
    steps: u64,
    checksum: u64,
}

impl Answer {
    fn of(threads: &[ThreadReport]) -> Self {
        threads.iter().fold(Answer::default(), |sum, thread| Answer {
            steps: sum.steps + thread.steps,
            checksum: sum.checksum.wrapping_add(thread.checksum),
        })
    }
}

/// One run of a workload: the answer, each worker's report, and what the GIL counted.
#[derive(Clone, Debug)]
struct Run {
    answer: Answer,
    threads: Vec<ThreadReport>,
    gil: GilStats,
    overlapping_steps: u64,
}

/// Steps `0..total_steps` in `n_workers` contiguous shares, one program each.
fn split_steps(total_steps: u64, n_workers: usize) -> Vec<Vec<Op>> {
    let n = n_workers as u64;
    (0..n)
        .map(|worker| {
            let first = total_steps * worker / n;
            let end = total_steps * (worker + 1) / n;
            vec![Op::compute(first, end - first)]
        })
        .collect()
}

/// `n_tasks` waiting tasks (a step, a wait, a step), dealt round-robin to `n_workers` programs.
fn io_programs(n_tasks: usize, n_workers: usize, wait: Duration) -> Vec<Vec<Op>> {
    let mut programs = vec![Vec::new(); n_workers];
    for task in 0..n_tasks as u64 {
        programs[task as usize % n_workers].extend([
            Op::compute(2 * task, 1),
            Op::Sleep(wait),
            Op::compute(2 * task + 1, 1),
        ]);
    }
    programs
}

/// Runs each program on its own thread of `interpreter` (thread `i` runs `programs[i]`).
fn run_on_threads(interpreter: &Interpreter, programs: &[Vec<Op>]) -> Run {
    let threads: Vec<ThreadReport> = std::thread::scope(|scope| {
        let workers: Vec<_> = programs
            .iter()
            .enumerate()
            .map(|(thread, program)| scope.spawn(move || interpreter.run_thread(thread, program)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    });
    Run {
        answer: Answer::of(&threads),
        threads,
        gil: interpreter.gil().stats(),
        overlapping_steps: interpreter.overlapping_steps(),
    }
}

/// Runs each program in its own forked process, an interpreter with its own GIL; each sends
/// back (steps, checksum, overlapping steps) through a pipe.
fn run_on_processes(programs: &[Vec<Op>], switch_interval: Duration) -> anyhow::Result<Run> {
    // `children::fork` refuses to fork while another thread is alive, and gives the threads of
    // the variant before (joined, but perhaps not yet gone) a moment to leave.
    let mut workers = Vec::with_capacity(programs.len());
    for program in programs {
        let (from_child, to_parent) = nix::unistd::pipe()?;
        let to_parent = File::from(to_parent);
        let pid = children::fork(|| {
            let interpreter = Interpreter::new(Gil::new(switch_interval));
            let report = interpreter.run_thread(0, program);
            let mut message = Vec::with_capacity(24);
            for number in [report.steps, report.checksum, interpreter.overlapping_steps()] {
                message.extend_from_slice(&number.to_le_bytes());
            }
            match (&to_parent).write_all(&message) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        })?;
        // Only the child writes: closing our copy lets a read see the end if the child dies.
        drop(to_parent);
        workers.push((pid, File::from(from_child)));
    }
    let mut threads = Vec::with_capacity(workers.len());
    let mut overlapping_steps = 0;
    for (index, (pid, mut from_child)) in workers.into_iter().enumerate() {
        let mut message = [0u8; 24];
        let read = from_child.read_exact(&mut message);
        let status = children::wait(pid)?;
        if !matches!(status, WaitStatus::Exited(_, 0)) || read.is_err() {
            bail!("worker process {index} failed: {status:?}");
        }
        let number = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&message[8 * i..8 * i + 8]);
            u64::from_le_bytes(bytes)
        };
        overlapping_steps += number(2);
        threads.push(ThreadReport {
            thread: index,
            steps: number(0),
            checksum: number(1),
            ..ThreadReport::default()
        });
    }
    Ok(Run {
        answer: Answer::of(&threads),
        threads,
        gil: GilStats::default(),
        overlapping_steps,
    })
}

/// What one convoy measurement found.
struct ConvoyRun {
    latencies: Latencies,
    gil: GilStats,
    overlapping_steps: u64,
}

/// Measures the I/O thread's reply times with `setup`'s neighbours running.
fn measure_convoy(setup: &ConvoySetup, requests: usize, seed: u64) -> anyhow::Result<ConvoyRun> {
    // Neighbours in processes are forked first, while this process has a single thread; they
    // compute until they are killed (and reaped) when `neighbour_processes` drops.
    let mut neighbour_processes = Neighbours(Vec::new());
    if setup.in_processes {
        let switch_interval = setup.switch_interval.unwrap_or(Duration::from_millis(5));
        for _ in 0..setup.cpu_neighbours {
            neighbour_processes.0.push(children::fork(|| {
                let interpreter = Interpreter::new(Gil::new(switch_interval));
                let never = AtomicBool::new(false);
                interpreter.run_until(0, &never);
                0
            })?);
        }
    }
    let gil = setup.switch_interval.map_or_else(Gil::disabled, Gil::new);
    let interpreter = Interpreter::new(gil);
    let in_threads = if setup.in_processes { 0 } else { setup.cpu_neighbours };
    let (client, server) = UnixStream::pair()?;
    let stop = AtomicBool::new(false);
    let mut gaps = Rng::new(seed);
    let gaps: Vec<Duration> = (0..requests)
        .map(|_| Duration::from_micros(gaps.between(1_000, 3_000)))
        .collect();
    let latencies = std::thread::scope(|scope| -> anyhow::Result<Latencies> {
        let (interpreter, stop) = (&interpreter, &stop);
        for thread in 0..in_threads {
            scope.spawn(move || interpreter.run_until(thread, stop));
        }
        let server = scope.spawn(move || serve(interpreter, in_threads, server, requests));
        let client_result = ask(client, &gaps);
        // Relaxed: the neighbours only need to see the flag eventually; nothing else is
        // published through it (the scope's joins order everything else).
        stop.store(true, Ordering::Relaxed);
        let served = server.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        let latencies = client_result?;
        served?;
        Ok(latencies)
    })?;
    drop(neighbour_processes);
    Ok(ConvoyRun {
        latencies,
        gil: interpreter.gil().stats(),
        overlapping_steps: interpreter.overlapping_steps(),
    })
}

/// The client, outside the interpreter (a remote peer): after each gap, sends a request and
/// times how long the reply takes. Dropping the socket at the end (or on an error) ends the
/// server's wait.
fn ask(mut client: UnixStream, gaps: &[Duration]) -> anyhow::Result<Latencies> {
    let mut latencies = Latencies::new();
    let mut reply = [0u8; 8];
    for (index, gap) in gaps.iter().enumerate() {
        std::thread::sleep(*gap);
        latencies.time(|| -> std::io::Result<()> {
            client.write_all(&(index as u64).to_le_bytes())?;
            client.read_exact(&mut reply)
        })?;
    }
    Ok(latencies)
}

/// The server, an interpreter thread: blocks reading each request with the GIL released,
/// takes the GIL back to handle it (one step), and replies.
fn serve(interpreter: &Interpreter, thread: usize, mut socket: UnixStream, requests: usize) -> std::io::Result<()> {
    let mut held = interpreter.gil().acquire(thread);
    let mut request = [0u8; 8];
    for _ in 0..requests {
        held.release_around(|| socket.read_exact(&mut request))?;
        let reply = interpreter.step(&mut held, u64::from_le_bytes(request));
        held.release_around(|| socket.write_all(&reply.to_le_bytes()))?;
    }
    Ok(())
}

/// Child processes that compute until they are killed; killed and reaped when dropped.
struct Neighbours(Vec<Pid>);

impl Drop for Neighbours {
    fn drop(&mut self) {
        for pid in self.0.drain(..) {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = children::wait(pid);
        }
    }
}

/// Fails unless every thread ran its whole share and nobody waited for more turns than there
/// are other threads (first come, first served keeps that bound; a starving thread breaks it).
fn check_fair(run: &Run, programs: &[Vec<Op>]) -> anyhow::Result<()> {
    for (report, program) in run.threads.iter().zip(programs) {
        let share: u64 = program
            .iter()
            .map(|op| match op {
                Op::Compute { steps, .. } => *steps,
                Op::Sleep(_) => 0,
            })
            .sum();
        ensure!(
            report.steps == share,
            "thread {} ran {} of its {share} steps",
            report.thread,
            report.steps
        );
    }
    let other_threads = run.threads.len().saturating_sub(1) as u64;
    ensure!(
        run.gil.most_turns_waited <= other_threads,
        "a thread waited {} turns for the GIL with only {other_threads} other threads",
        run.gil.most_turns_waited
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Printing.

/// `1 thread`, `2 threads`, `3 processes`.
fn plural(count: usize, noun: &str) -> String {
    match (count, noun.ends_with('s')) {
        (1, _) => format!("1 {noun}"),
        (_, true) => format!("{count} {noun}es"),
        (_, false) => format!("{count} {noun}s"),
    }
}

/// Each thread's steps, turns and longest wait.
fn thread_table(threads: &[ThreadReport]) -> Table {
    let mut table = Table::new(&["thread", "steps", "GIL turns", "most turns waited", "longest wait"]);
    for report in threads {
        table.row([
            format!("T{}", report.thread),
            format::count(report.steps),
            format::count(report.turns.turns),
            report.turns.most_turns_waited.to_string(),
            format::seconds(report.turns.longest_wait_s),
        ]);
    }
    table
}

/// One lane per thread from 0 to `end`: full blocks where the thread held the GIL.
fn timeline_lines(names: &[&str], spans: &[Span], end: Duration) -> Vec<String> {
    const WIDTH: usize = 60;
    let cell = end.max(Duration::from_micros(1)) / WIDTH as u32;
    let mut lines: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(thread, name)| {
            let lane: String = (0..WIDTH)
                .map(|i| {
                    let (from, to) = (cell * i as u32, cell * (i as u32 + 1));
                    let held: Duration = spans
                        .iter()
                        .filter(|span| span.thread == thread)
                        .map(|span| span.end.min(to).saturating_sub(span.start.max(from)))
                        .sum();
                    match held.as_secs_f64() / cell.as_secs_f64() {
                        f if f >= 0.75 => '█',
                        f if f >= 0.25 => '▌',
                        f if f > 0.0 => '▏',
                        _ => ' ',
                    }
                })
                .collect();
            format!("  {name} │{lane}│")
        })
        .collect();
    let end_label = format::duration(end);
    let gap = (WIDTH + 1).saturating_sub(end_label.chars().count());
    lines.push(format!("  {:6}  0{:gap$}{end_label}", "", ""));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_step_once() {
        for (total, workers) in [(10, 3), (7, 7), (100, 1), (5, 8)] {
            let programs = split_steps(total, workers);
            assert_eq!(programs.len(), workers);
            let mut next = 0;
            for program in &programs {
                let Op::Compute { first, steps } = program[0] else {
                    panic!("a share is computing")
                };
                assert_eq!(first, next);
                next += steps;
            }
            assert_eq!(next, total);
        }
    }

    #[test]
    fn threads_with_and_without_the_gil_agree() {
        let programs = split_steps(600, 3);
        let with_gil = run_on_threads(&Interpreter::new(Gil::new(Duration::from_millis(1))), &programs);
        let without = run_on_threads(&Interpreter::new(Gil::disabled()), &programs);
        let one = run_on_threads(
            &Interpreter::new(Gil::new(Duration::from_millis(1))),
            &split_steps(600, 1),
        );
        assert_eq!(with_gil.answer, without.answer);
        assert_eq!(with_gil.answer, one.answer);
        assert_eq!(
            with_gil.answer,
            Answer {
                steps: 600,
                checksum: interpreter::checksum_of(0, 600)
            }
        );
        assert_eq!(with_gil.overlapping_steps, 0);
        check_fair(&with_gil, &programs).unwrap();
    }

    #[test]
    fn io_tasks_are_dealt_out_whole() {
        let programs = io_programs(5, 2, Duration::from_millis(1));
        assert_eq!(programs[0].len(), 9);
        assert_eq!(programs[1].len(), 6);
        let run = run_on_threads(&Interpreter::new(Gil::new(Duration::from_millis(1))), &programs);
        assert_eq!(run.answer.steps, 10);
        assert_eq!(run.answer.checksum, interpreter::checksum_of(0, 10));
    }

    #[test]
    fn the_convoy_is_measured_with_and_without_the_gil() {
        for switch_interval in [Some(Duration::from_millis(1)), None] {
            let setup = ConvoySetup {
                name: "test".to_string(),
                switch_interval,
                cpu_neighbours: 2,
                in_processes: false,
            };
            let run = measure_convoy(&setup, 5, 1).unwrap();
            assert_eq!(run.latencies.count(), 5);
            if switch_interval.is_some() {
                assert_eq!(run.overlapping_steps, 0);
                assert!(run.gil.most_turns_waited <= 2);
            }
        }
    }

    #[test]
    fn words_and_lanes() {
        assert_eq!(plural(1, "thread"), "1 thread");
        assert_eq!(plural(3, "thread"), "3 threads");
        assert_eq!(plural(2, "process"), "2 processes");
        let spans = [Span {
            thread: 1,
            start: Duration::ZERO,
            end: Duration::from_millis(30),
        }];
        let lines = timeline_lines(&["a", "b"], &spans, Duration::from_millis(60));
        assert_eq!(lines.len(), 3);
        assert!(lines[1].contains(&"█".repeat(30)), "{lines:?}");
        assert!(!lines[0].contains('█'));
    }
}
