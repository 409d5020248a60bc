//! Section 4: what a thread costs against a process: the time to create one and wait for it
//! (in CPython too, `python/threads.py`), and the memory one keeps while it is alive.

use crate::costs;
use crate::cpython;
use crate::observe::{self, Memory};
use crate::{Params, room, threads};
use course::children;
use course::limits;
use course::table::Table;
use course::timing::{Comparison, Latencies, format};
use course::{Lesson, say};
use std::time::Duration;

/// Creates and joins `samples` workers one at a time, timing each; returns how many there were.
fn create_and_join(
    samples: usize,
    latencies: &mut Latencies,
    create: impl Fn() -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    for _ in 0..samples {
        latencies.time(&create)?;
    }
    Ok(samples)
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let samples = p.samples;
    // Everything of section 4's memory half is alive at once: as many as the machine allows.
    let (threads, thread_limit) = limits::fit(p.live, "threads", limits::room_for_threads(limits::DEFAULT_STACK))?;
    let (forked, process_limit) = limits::fit(p.live, "processes", limits::room_for_processes())?;
    // Each copy of `cat` also keeps a pipe to it open.
    let (programs, file_limit) = limits::fit(forked, "programs", limits::room_for_open_files())?;
    room::warn_fewer(
        lesson,
        p.live,
        &[
            (threads, "threads", thread_limit),
            (forked, "forked processes", process_limit.clone()),
            (programs, "copies of `cat`", file_limit.or(process_limit)),
        ],
    );
    say!(
        lesson,
        "  Create a worker that does nothing and wait for it, {samples} times each, one at a time: \
         spawn the program `true` (fork + exec), fork a copy of this process, start a thread."
    );
    // fork is only safe while single-threaded: the threads of the sections before were joined,
    // and the kernel removes a joined thread a moment after join returns. children::fork would
    // wait for that itself, but inside the first timed fork; wait here, before the clock starts.
    children::wait_until_single_threaded(Duration::from_secs(2))?;
    let (mut spawned_latencies, mut forked_latencies, mut thread_latencies) =
        (Latencies::new(), Latencies::new(), Latencies::new());
    let mut comparison =
        Comparison::new(format!("create and join {samples} workers of each kind, one at a time")).waiting();
    comparison.try_variant("spawn `true` (fork + exec)", 1, || {
        create_and_join(samples, &mut spawned_latencies, costs::spawn_and_wait)
    })?;
    comparison
        .try_variant("fork", 1, || {
            create_and_join(samples, &mut forked_latencies, costs::fork_and_wait)
        })?
        .other_algorithm();
    comparison
        .try_variant("thread", 1, || {
            create_and_join(samples, &mut thread_latencies, || {
                Ok(threads::start_and_join_a_thread()?)
            })
        })?
        .other_algorithm();
    // Each creation's latency is the figure to show; the comparison (whole loops) is recorded.
    let report = lesson.compare_quietly(comparison)?;
    // CPython's thread and multiprocessing.Process, started and joined the same way.
    cpython::run_once(lesson, p);
    let python = p.twin.as_ref().and_then(|twin| {
        let costs = cpython::start_and_join(twin, "thread").zip(cpython::start_and_join(twin, "process"));
        if costs.is_none() {
            lesson.warn(&format!(
                "{} printed no start-up times: its rows are left out",
                p.python.label()
            ));
        }
        costs.map(|(thread, process)| (thread, process, cpython::start_method(twin)))
    });
    say!(lesson, "  {}, each from start to joined:", report.workload);
    let mut rows = vec![
        ("fork + exec", &spawned_latencies),
        ("fork", &forked_latencies),
        ("thread", &thread_latencies),
    ];
    let process_row = python
        .as_ref()
        .map_or(String::new(), |(_, _, method)| format!("CPython: Process ({method})"));
    if let Some((thread, process, _)) = &python {
        rows.extend([(process_row.as_str(), process), ("CPython: thread", thread)]);
    }
    lesson.latencies("create_to_join", &rows);
    let thread_p50 = thread_latencies.quantile(0.5);
    let fork_ratio = course::timing::ratio(forked_latencies.quantile(0.5), thread_p50);
    let spawn_ratio = course::timing::ratio(spawned_latencies.quantile(0.5), thread_p50);
    lesson.checked(
        true,
        format!(
            "{} of each created and joined; median, against a thread: fork {}, spawned program {}",
            format::count(samples as u64),
            format::times(fork_ratio),
            format::times(spawn_ratio)
        ),
    );
    lesson.figure("fork_over_thread_p50", fork_ratio);
    lesson.figure("spawn_over_thread_p50", spawn_ratio);
    if let Some((thread, process, method)) = &python {
        // A forked Process is against Rust's fork; spawn and forkserver start a new interpreter.
        let (rust_process, rust_name) = if method == "fork" {
            (&forked_latencies, "fork")
        } else {
            (&spawned_latencies, "fork + exec")
        };
        let thread_ratio = course::timing::ratio(thread.quantile(0.5), thread_p50);
        let process_ratio = course::timing::ratio(process.quantile(0.5), rust_process.quantile(0.5));
        say!(
            lesson,
            "  CPython/Rust, median: a thread {}; a Process ({method}) {} against Rust's {rust_name}.",
            format::times(thread_ratio),
            format::times(process_ratio)
        );
        // By CPython row, as course::python::ratios records them.
        let over_rust: serde_json::Map<String, serde_json::Value> = [
            ("CPython: thread".to_string(), thread_ratio.into()),
            (process_row.clone(), process_ratio.into()),
        ]
        .into_iter()
        .collect();
        lesson.figure("cpython_over_rust", over_rust);
        lesson.figure("cpython_process_against", rust_name);
    }
    memory_cost(lesson, threads, forked, programs)
}

/// Section 4's notice, after both halves: the time to create a worker and the memory it keeps.
const COST_NOTICE: &str = "Threads are faster to create and smaller to keep, as the lecture says: a \
thread shares everything, a fork copies page tables and file tables, and exec also loads a new program.";

/// What a live thread, a forked process and a spawned program cost in memory; then the notice.
fn memory_cost(lesson: &Lesson, live_threads: usize, live_forked: usize, live_programs: usize) -> anyhow::Result<()> {
    say!(lesson);
    let me = std::process::id() as i32;
    let Some(before) = observe::status_memory(me) else {
        say!(lesson, "  (memory cannot be read on this platform)");
        lesson.notice(COST_NOTICE);
        return Ok(());
    };
    if live_threads == live_forked && live_forked == live_programs {
        say!(
            lesson,
            "  Memory: {live_threads} of each kept alive at once, waiting; the cost of one is the average."
        );
    } else {
        say!(
            lesson,
            "  Memory: {live_threads} threads, {live_forked} forked processes, {live_programs} \
             programs alive at once, waiting; one costs the average."
        );
    }
    let during = costs::waiting_threads_memory(lesson, live_threads)?;
    let per = |total: u64| total / live_threads as u64;
    let thread = Memory {
        virtual_size: per(during.virtual_size.saturating_sub(before.virtual_size)),
        resident: per(during.resident.saturating_sub(before.resident)),
        // Everything a thread adds is its own: its stack and its thread-local storage.
        private: per(during.resident.saturating_sub(before.resident)),
        page_tables: per(during.page_tables.saturating_sub(before.page_tables)),
    };
    // children::fork waits (up to two seconds) for the threads just joined to leave the process.
    let (forked, forked_alive_at) = costs::forked_processes_memory(lesson, live_forked)?;
    let (spawned, spawned_alive_at) = costs::spawned_programs_memory(lesson, live_programs)?;
    // When all of them were alive at once, since the lesson started (the tests interrupt there).
    lesson.figure("forked_alive_at_s", forked_alive_at.as_secs_f64());
    lesson.figure("spawned_alive_at_s", spawned_alive_at.as_secs_f64());
    let mut table = Table::new(&["  one", "reserved", "resident", "its own", "page tables"]);
    let rows = [
        ("thread", thread),
        ("forked process", forked),
        ("spawned program `cat`", spawned),
    ];
    for (name, memory) in &rows {
        table.row([
            format!("  {name}"),
            format::bytes(memory.virtual_size),
            format::bytes(memory.resident),
            format::bytes(memory.private),
            format::bytes(memory.page_tables),
        ]);
    }
    lesson.table(&table);
    let own = |m: &Memory| m.private + m.page_tables;
    let against_thread = |m: &Memory| format::times(own(m) as f64 / own(&thread).max(1) as f64);
    say!(
        lesson,
        "  'its own' (with page tables) is what one more really takes, where 'resident' also counts \
         shared pages: a thread {}, a forked process {} ({}), a spawned program {} ({}).",
        format::bytes(own(&thread)),
        format::bytes(own(&forked)),
        against_thread(&forked),
        format::bytes(own(&spawned)),
        against_thread(&spawned)
    );
    say!(
        lesson,
        "  'reserved' is address space: a thread's stack (2 MiB in Rust), an allocator arena (64 MiB \
         with glibc). Reserving costs nothing until a page is touched."
    );
    for (key, (_, memory)) in ["memory_thread", "memory_forked", "memory_spawned"].iter().zip(&rows) {
        lesson.figure(key, memory);
    }
    lesson.notice(COST_NOTICE);
    Ok(())
}
