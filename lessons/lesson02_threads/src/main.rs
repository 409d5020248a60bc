//! # Lesson 02 · Threads
//!
//! **Objective.** Start threads, wait for them, get their results back, and know what one
//! costs. The lecture's threading notebook, in Rust: three threads that sleep and print
//! (`print_with_delay`), threads printing on their own schedules, the results the notebook
//! "returned into the ether" and the ways Rust hands them back (`JoinHandle<T>`, scoped
//! threads, a shared `Arc<Mutex<Vec<_>>>`, a channel). Then the lecture's claim that threads
//! are "faster to create, less memory overhead" becomes numbers from this machine, and the
//! notebook's thread-per-string word count shows when a thread is worth its cost.
//!
//! **What to observe.** Waiting threads overlap: the total is the longest delay, not the sum.
//! Output from several threads interleaves differently on every run, and a line written in two
//! pieces can be torn apart. Every way of collecting results gives the same numbers, but a
//! shared list holds them in the order the threads finished. A thread is created and joined
//! tens of times faster than a process, and costs kilobytes where a process costs more. On the
//! notebook's 300 short strings one thread per string is far slower than none; it pays only
//! once each string takes tens of microseconds to count.
//!
//! **How to run.** `cargo run -p lesson02_threads` (add `--quick`, `--json`, `--step`;
//! `--help` lists the knobs).

mod costs;
mod observe;

use anyhow::{Context, bail};
use clap::Parser;
use course::chart::Plot;
use course::children;
use course::table::Table;
use course::timing::{Comparison, ComparisonReport, Latencies, format};
use course::{Lesson, say};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Barrier, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 02: threads. Spawns, names and joins threads, shows their output interleave, gets \
their results back four ways, measures what a thread costs against a forked and a spawned process \
(time to create and join, memory), and finds the string size at which a thread per string pays."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// The notebook's time unit, in milliseconds: its 5, 2 and 3 second delays become 5, 2 and 3
    /// units [default: 100, or 10 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 2_000))]
    #[serde(skip)]
    unit: Option<Duration>,
    /// Threads printing at once in the interleaving demonstration
    #[arg(long, value_name = "COUNT", default_value_t = 4, value_parser = course::cli::count(2, 32))]
    threads: usize,
    /// Threads, processes and programs created and joined, each, to time creation
    /// [default: 300, or 30 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 20_000))]
    samples: Option<usize>,
    /// Threads (and processes) kept alive at once to measure what each costs in memory
    /// [default: 64, or 8 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000))]
    live: Option<usize>,
    /// Measured runs of each variant in the word-count comparisons [default: 5, or 2 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 100))]
    runs: Option<usize>,
}

fn main() -> ExitCode {
    since_start();
    let args: Args = course::parse_args();
    course::run(course::info!("Threads"), &args.common, &args, |lesson| {
        let unit = args
            .unit
            .unwrap_or(lesson.pick(Duration::from_millis(10), Duration::from_millis(100)));
        let samples = args.samples.unwrap_or(lesson.pick(30, 300));
        let live = args.live.unwrap_or(lesson.pick(8, 64));
        let runs = args.runs.unwrap_or(lesson.pick(2, 5));
        lesson.param("unit_ms", unit.as_millis() as u64);
        lesson.param("samples", samples);
        lesson.param("live", live);
        lesson.param("runs", runs);

        spawn_and_join(lesson, unit)?;
        interleaving(lesson, unit, args.threads)?;
        returning_results(lesson)?;
        creation_cost(lesson, samples)?;
        memory_cost(lesson, live)?;
        tiny_jobs(lesson, runs)
    })
}

/// Section 1: the notebook's `print_with_delay` on three threads.
fn spawn_and_join(lesson: &Lesson, unit: Duration) -> anyhow::Result<()> {
    lesson.section("Spawn and join");
    let delays = [5, 2, 3];
    let main_thread = thread::current();
    say!(
        lesson,
        "  This is the {:?} thread, {:?}, kernel thread ID {} (the main thread's equals the PID, {}).",
        main_thread.name().unwrap_or("unnamed"),
        main_thread.id(),
        observe::kernel_thread_id().map_or("unknown".to_string(), |t| t.to_string()),
        std::process::id()
    );
    say!(
        lesson,
        "  print_with_delay sleeps, then prints. Delays 5, 2 and 3 units (one unit = {}).",
        format::duration(unit)
    );
    let mut record = ThreadedRun::default();
    let mut comparison = Comparison::new("print after 5, 2 and 3 units");
    say!(lesson);
    say!(lesson, "  One after another, on the main thread:");
    comparison.variant("one after another", 1, || {
        print_with_delays_sequential(lesson, &delays, unit)
    });
    say!(lesson);
    say!(
        lesson,
        "  Three threads, started together, then joined in the notebook's order (t1, t2, t3):"
    );
    let mut failure = None;
    comparison.variant("three threads", delays.len(), || {
        match print_with_delays_threaded(lesson, &delays, unit, &mut record) {
            Ok(messages) => messages,
            Err(error) => {
                failure = Some(error);
                Vec::new()
            }
        }
    });
    if let Some(error) = failure {
        return Err(error);
    }
    say!(lesson);
    if let Some(threads) = &record.threads_seen {
        say!(
            lesson,
            "  While they slept, this process had {} threads (as `ps -L` and htop list them):",
            threads.len()
        );
        for thread in threads {
            say!(lesson, "    kernel thread {:>7}  {}", thread.tid, thread.name);
        }
        say!(lesson);
    }
    let report = lesson.compare(comparison)?;
    lesson.figure("finish_order", &record.finish_order);
    lesson.figure("threads_seen", &record.threads_seen);
    lesson.figure("longest_delay_s", (unit * 5).as_secs_f64());
    lesson.figure("sum_of_delays_s", (unit * 10).as_secs_f64());
    if let Some(threads) = report.row("three threads") {
        lesson.figure("threaded_total_s", threads.median_s);
    }
    lesson.notice("The three waits overlap: the total is the longest delay, not the sum. Threads finish in the order of their delays; join waits in the order you ask.");
    Ok(())
}

/// Section 2: threads on their own schedules; the order of their output is not fixed.
fn interleaving(lesson: &Lesson, unit: Duration, n_threads: usize) -> anyhow::Result<()> {
    lesson.section("Interleaving");
    let schedule = [("Thread-1", 2), ("Thread-2", 4), ("Thread-3", 1), ("Thread-4", 5)];
    say!(
        lesson,
        "  The notebook's print_time: four threads print 5 times each, every 2, 4, 1 and 5 units:"
    );
    let start = Instant::now();
    let printed: Mutex<Vec<(&str, u32)>> = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for (name, every) in schedule {
            let printed = &printed;
            scope.spawn(move || {
                for tick in 1..=5 {
                    thread::sleep(unit * every);
                    // One lock for the print and the record, so that both have the same order.
                    let mut printed = printed.lock().unwrap_or_else(|e| e.into_inner());
                    say!(lesson, "    {name}: {}", format::duration(start.elapsed()));
                    printed.push((name, every * tick));
                }
            });
        }
    });
    let printed = printed.into_inner().unwrap_or_else(|e| e.into_inner());
    // Moments when two or more threads were due at once: which goes first is up to chance.
    let mut due: BTreeMap<u32, Vec<&str>> = BTreeMap::new();
    for (name, at) in &printed {
        due.entry(*at).or_default().push(name);
    }
    let ties: Vec<(u32, Vec<&str>)> = due.into_iter().filter(|(_, names)| names.len() > 1).collect();
    say!(
        lesson,
        "  Due at the same moment, and the order they printed in, this run:"
    );
    for (at, names) in &ties {
        say!(lesson, "    at {at:>2} units: {}", names.join(", "));
    }
    for line in [
        "Every sleep ends a little late and the lateness adds up, so at a tie the thread that has slept",
        "fewer times tends to go first: the notebook's own output at 4 s has Thread-2, Thread-1, Thread-3.",
        "Tends to: a busy machine can change it, and nothing in the program decides it.",
    ] {
        say!(lesson, "  {line}");
    }
    lesson.figure("print_order", printed.iter().map(|(name, _)| *name).collect::<Vec<_>>());
    lesson.figure("ties", &ties);

    let lines_per_thread = lesson.pick(5_000, 20_000);
    say!(lesson);
    say!(
        lesson,
        "  Now {n_threads} threads write {} lines each as fast as they can, each line in two pieces",
        format::count(lines_per_thread as u64)
    );
    say!(
        lesson,
        "  (\"Thread-N: \", then the number), as Python's print writes the text and then the newline."
    );
    say!(
        lesson,
        "  Which thread wrote, every {}th line, on three runs:",
        lines_per_thread * n_threads / 64
    );
    let mut runs = Vec::new();
    for run in 1..=3 {
        let text = write_lines(n_threads, lines_per_thread, false);
        let summary = summarize_lines(&text);
        say!(
            lesson,
            "    run {run}: {}  {} switches, {} torn lines",
            summary.strip,
            format::count(summary.switches as u64),
            format::count(summary.torn as u64)
        );
        runs.push(summary);
    }
    if let Some(example) = runs.iter().find_map(|r| r.torn_example.clone()) {
        say!(
            lesson,
            "  A torn line, as the notebook printed `Thread-1: ...Thread-3: ...`: {example:?}"
        );
    }
    let whole = summarize_lines(&write_lines(n_threads, lines_per_thread, true));
    say!(
        lesson,
        "  Holding the lock for the whole line (what Rust's println! does): {} torn lines of {}.",
        whole.torn,
        format::count(whole.lines as u64)
    );
    let expected_lines = n_threads * lines_per_thread;
    if runs.iter().chain([&whole]).any(|r| r.lines != expected_lines) || whole.torn != 0 {
        bail!("lines were lost or torn while holding the lock for the whole line");
    }
    let distinct = {
        let mut strips: Vec<&str> = runs.iter().map(|r| r.strip.as_str()).collect();
        strips.sort();
        strips.dedup();
        strips.len()
    };
    lesson.figure("runs", &runs);
    lesson.figure("distinct_orders", distinct);
    lesson.figure("torn_with_line_lock", whole.torn);
    lesson.figure("lines_per_run", expected_lines);
    lesson.notice("The scheduler decides who runs when: the order differs from run to run, and output written in pieces tears unless each whole line is written under one lock.");
    Ok(())
}

/// Section 3: where a thread's result goes, four ways.
fn returning_results(lesson: &Lesson) -> anyhow::Result<()> {
    lesson.section("Returning results");
    let strings: Vec<String> = vec![
        "here's a string".repeat(10_000),
        "here's another".repeat(10_000),
        "watch out for a third".to_string(),
    ];
    let expected: Vec<usize> = strings.iter().map(|s| count_string(s)).collect();
    say!(
        lesson,
        "  count_string returns a string's length. Three strings: {} characters.",
        expected
            .iter()
            .map(|n| format::count(*n as u64))
            .collect::<Vec<_>>()
            .join(", ")
    );
    say!(
        lesson,
        "  In the notebook, threading.Thread threw the return values away. A JoinHandle that is dropped"
    );
    say!(lesson, "  does the same in Rust. Four ways to get them back:");

    let by_handles = results_by_join_handles(&strings)?;
    let by_scope = results_by_scoped_threads(&strings);
    let (by_shared_list, peeked) = results_by_shared_list(&strings)?;
    let by_channel = results_by_channel(&strings)?;

    let mut table = Table::new(&["  way", "as collected", "in input order", "lock"])
        .left(1)
        .left(3);
    let in_order = |mut tagged: Vec<(usize, usize)>| {
        tagged.sort();
        tagged.into_iter().map(|(_, n)| n).collect::<Vec<_>>()
    };
    let rows = [
        ("JoinHandle<usize>: join() returns it", by_handles.clone(), "none"),
        ("scoped threads, one &mut slot each", by_scope.clone(), "none"),
        (
            "Arc<Mutex<Vec>>: the notebook's list",
            by_shared_list.clone(),
            "a Mutex",
        ),
        (
            "crossbeam channel: (index, value)",
            by_channel.clone(),
            "inside the channel",
        ),
    ];
    let mut agree = true;
    for (way, tagged, lock) in &rows {
        let collected: Vec<usize> = tagged.iter().map(|(_, n)| *n).collect();
        let ordered = in_order(tagged.clone());
        agree &= ordered == expected;
        table.row([
            format!("  {way}"),
            format!("{collected:?}"),
            format!("{ordered:?}"),
            lock.to_string(),
        ]);
    }
    lesson.table(&table);
    if !agree {
        bail!("the four ways returned different results");
    }
    say!(lesson, "  ✓ all four give {expected:?}");
    let arrived: Vec<usize> = by_shared_list.iter().map(|(_, n)| *n).collect();
    if arrived == expected {
        say!(
            lesson,
            "  The shared list holds results in the order the threads finished: this time, the input order."
        );
    } else {
        say!(
            lesson,
            "  The shared list holds results in the order the threads finished, {arrived:?}: not the input order."
        );
    }
    say!(
        lesson,
        "  Looked at before joining (as the notebook did), it held {} of 3 results: {peeked:?}.",
        peeked.len()
    );
    say!(
        lesson,
        "  (In the last two, the threads started counting together, so the short string's result can come"
    );
    say!(
        lesson,
        "  first.) Only those two need each result tagged with its index. A channel needs no shared list"
    );
    say!(
        lesson,
        "  at all: the notebook's idea of a database, one collector that is safe to share."
    );
    lesson.figure("expected", &expected);
    for (key, (_, tagged, _)) in ["join_handles", "scoped_threads", "shared_list", "channel"]
        .iter()
        .zip(&rows)
    {
        lesson.figure(key, tagged.iter().map(|(_, n)| *n).collect::<Vec<_>>());
    }
    lesson.figure("peeked_before_join", &peeked);
    lesson.notice("A thread's result comes back through its JoinHandle, a slot it borrows, a locked list or a channel; the last two hold results in finish order unless each is tagged.");
    Ok(())
}

/// Section 4a: how long it takes to create a worker and wait for it to finish (the notice comes
/// after 4b).
fn creation_cost(lesson: &Lesson, samples: usize) -> anyhow::Result<()> {
    lesson.section("What a thread costs, against a process");
    say!(
        lesson,
        "  Create a worker that does nothing, wait for it, {samples} times, one at a time, three ways:"
    );
    say!(
        lesson,
        "  spawn the program `true` (fork + exec), fork a copy of this process, start a thread."
    );
    // fork is only safe while single-threaded: every thread of the earlier sections was joined,
    // and the kernel removes a joined thread a moment after join returns. children::fork would
    // wait for that itself, but inside the first timed fork; wait here, before the clock starts.
    children::wait_until_single_threaded(Duration::from_secs(2))?;
    let mut spawned = Latencies::new();
    let mut forked = Latencies::new();
    let mut threads = Latencies::new();
    let mut comparison = Comparison::new(format!("create and join {samples} workers, one at a time"));
    let mut failure = None;
    comparison.variant("spawn `true` (fork + exec)", 1, || {
        create_and_join(samples, &mut spawned, spawn_and_wait).unwrap_or_else(|e| {
            failure = Some(e);
            0
        })
    });
    comparison.variant("fork", 1, || {
        create_and_join(samples, &mut forked, fork_and_wait).unwrap_or_else(|e| {
            failure = Some(e);
            0
        })
    });
    comparison.variant("thread", 1, || {
        create_and_join(samples, &mut threads, thread_and_join).unwrap_or_else(|e| {
            failure = Some(e);
            0
        })
    });
    if let Some(error) = failure {
        return Err(error);
    }
    lesson.compare(comparison)?;
    say!(lesson);
    say!(lesson, "  Each creation, from start to joined:");
    lesson.latencies(
        "create_to_join",
        &[("fork + exec", &spawned), ("fork", &forked), ("thread", &threads)],
    );
    let thread_p50 = threads.quantile(0.5);
    let fork_ratio = course::timing::ratio(forked.quantile(0.5), thread_p50);
    let spawn_ratio = course::timing::ratio(spawned.quantile(0.5), thread_p50);
    say!(
        lesson,
        "  At the median, a forked process takes {} as long as a thread to create and join; a spawned program {}.",
        format::times(fork_ratio),
        format::times(spawn_ratio)
    );
    lesson.figure("fork_over_thread_p50", fork_ratio);
    lesson.figure("spawn_over_thread_p50", spawn_ratio);
    Ok(())
}

/// Section 4's notice, after both halves: the time to create a worker and the memory it keeps.
const COST_NOTICE: &str = "Threads are faster to create and smaller to keep, as the lecture says: a thread shares everything, a fork copies page tables and file tables, and exec also loads a new program.";

/// Section 4b: what a live thread, a forked process and a spawned program cost in memory; then
/// the section's notice.
fn memory_cost(lesson: &Lesson, live: usize) -> anyhow::Result<()> {
    say!(lesson);
    say!(
        lesson,
        "  Memory: {live} of each kept alive at once, waiting; the cost of one is the average."
    );
    let me = std::process::id() as i32;
    let Some(before) = observe::status_memory(me) else {
        say!(lesson, "  (memory cannot be read on this platform)");
        lesson.notice(COST_NOTICE);
        return Ok(());
    };
    // Threads: each says it has started, then waits at a gate (a read lock) that this thread
    // holds shut (the write lock) until it has measured; dropping the write lock lets all go.
    let gate = RwLock::new(());
    let (started, started_here) = std::sync::mpsc::channel::<()>();
    let during = thread::scope(|scope| -> anyhow::Result<observe::Memory> {
        let shut = gate.write().unwrap_or_else(|e| e.into_inner());
        for _ in 0..live {
            let (gate, started) = (&gate, started.clone());
            let spawned = thread::Builder::new().spawn_scoped(scope, move || {
                let _ = started.send(());
                drop(gate.read());
            });
            if let Err(error) = spawned {
                // The threads already started are let go and joined when the scope ends.
                drop(shut);
                return Err(error).context(format!("could not start {live} threads at once"));
            }
        }
        for _ in 0..live {
            started_here.recv().context("a thread ended before it started")?;
        }
        say!(lesson, "    {live} threads started and waiting");
        let during = observe::status_memory(me).unwrap_or_default();
        drop(shut);
        Ok(during)
    })?;
    let per = |total: u64| total / live as u64;
    let thread = observe::Memory {
        virtual_size: per(during.virtual_size.saturating_sub(before.virtual_size)),
        resident: per(during.resident.saturating_sub(before.resident)),
        // Everything a thread adds is its own: its stack and its thread-local storage.
        private: per(during.resident.saturating_sub(before.resident)),
        page_tables: per(during.page_tables.saturating_sub(before.page_tables)),
    };
    // children::fork waits (up to two seconds) for the threads just joined to leave the process.
    let (forked, forked_alive_at) = costs::forked_processes_memory(lesson, live)?;
    let (spawned, spawned_alive_at) = costs::spawned_programs_memory(lesson, live)?;
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
    let own = |m: &observe::Memory| m.private + m.page_tables;
    say!(
        lesson,
        "  'reserved' is address space; 'resident' counts pages shared with others; 'its own' is what one"
    );
    say!(
        lesson,
        "  more really takes. Its own memory plus page tables: a thread {}, a forked process {} ({}),",
        format::bytes(own(&thread)),
        format::bytes(own(&forked)),
        format::times(own(&forked) as f64 / own(&thread).max(1) as f64)
    );
    say!(
        lesson,
        "  a spawned program {} ({}). Each also has a 16 KiB kernel stack and bookkeeping, not shown.",
        format::bytes(own(&spawned)),
        format::times(own(&spawned) as f64 / own(&thread).max(1) as f64)
    );
    say!(
        lesson,
        "  A thread reserves its stack (2 MiB by default in Rust) and, once it allocates, an arena of the"
    );
    say!(
        lesson,
        "  memory allocator (glibc reserves 64 MiB of address space for each, up to 8 per core). Reserving"
    );
    say!(
        lesson,
        "  costs nothing until a page is touched: 'resident' and 'its own' are what count."
    );
    for (key, (_, memory)) in ["memory_thread", "memory_forked", "memory_spawned"].iter().zip(&rows) {
        lesson.figure(key, memory);
    }
    lesson.notice(COST_NOTICE);
    Ok(())
}

/// Section 5: the notebook's thread-per-string word count, and when it starts to pay.
fn tiny_jobs(lesson: &Lesson, runs: usize) -> anyhow::Result<()> {
    lesson.section("Threads for a tiny job");
    let cores = cores();
    let strings = workloads::seed::seed_strings();
    say!(
        lesson,
        "  The notebook's 300 short strings ({} words), counted three ways:",
        workloads::seed::SEED_WORD_COUNT
    );
    let mut comparison = Comparison::new("words in the notebook's 300 strings").repeats(1, runs);
    comparison.variant("sequential", 1, || word_count_sequential(&strings));
    comparison.variant("thread per string", strings.len(), || {
        word_count_thread_per_string(&strings)
    });
    comparison.variant(format!("{cores} threads, one per core"), cores, || {
        word_count_per_core(&strings)
    });
    let report = lesson.compare(comparison)?;
    if word_count_sequential(&strings) != workloads::seed::SEED_WORD_COUNT {
        bail!("the notebook's strings do not have 1100 words");
    }
    let per_string_threads = report.row("thread per string").map_or(0.0, |r| r.speedup);
    say!(
        lesson,
        "  A thread per string is {} the speed of a plain loop: each thread costs far more than counting",
        format::times(per_string_threads)
    );
    say!(lesson, "  two to five words.");

    say!(lesson);
    say!(
        lesson,
        "  The same 300 strings, each repeated more and more times. Speedup over the sequential loop:"
    );
    let repeats: Vec<usize> = lesson.pick(vec![1, 16, 256, 4096], vec![1, 4, 16, 64, 256, 1024, 4096, 16384]);
    let mut sweep = Vec::new();
    for &times in &repeats {
        let big: Vec<String> = strings.iter().map(|s| vec![*s; times].join(" ")).collect();
        let expected_words = workloads::seed::SEED_WORD_COUNT * times;
        let mut comparison = Comparison::new(format!("words, each string repeated {times} times")).repeats(1, runs);
        comparison.variant("sequential", 1, || word_count_sequential(&big));
        comparison.variant("thread per string", big.len(), || word_count_thread_per_string(&big));
        comparison.variant("per core", cores, || word_count_per_core(&big));
        // Answers are checked before any speedup exists: a mismatch ends the lesson here. Each
        // size is recorded for --json; the table and the chart below show the whole sweep.
        let report = lesson.compare_quietly(comparison)?;
        if word_count_sequential(&big) != expected_words {
            bail!("{times} repetitions should hold {expected_words} words");
        }
        let bytes_per_string = big.iter().map(String::len).sum::<usize>() / big.len();
        sweep.push(SweepPoint::new(bytes_per_string, &report));
    }
    let mut table = Table::new(&[
        "  bytes per string",
        "counting one",
        "sequential",
        "thread per string",
        "per core",
    ]);
    for point in &sweep {
        table.row([
            format!("  {}", format::count(point.bytes_per_string as u64)),
            format::seconds(point.work_per_string_s),
            format::seconds(point.sequential_s),
            format!(
                "{} ({})",
                format::seconds(point.thread_per_string_s),
                format::times(point.thread_per_string_speedup)
            ),
            format!(
                "{} ({})",
                format::seconds(point.per_core_s),
                format::times(point.per_core_speedup)
            ),
        ]);
    }
    lesson.table(&table);
    say!(lesson, "  ✓ every variant counted the same words at every size");
    let mut plot = Plot::new("bytes per string", "speedup over sequential")
        .log_x()
        .size(48, 10);
    plot.series(
        "thread per string",
        '*',
        sweep
            .iter()
            .map(|p| (p.bytes_per_string as f64, p.thread_per_string_speedup))
            .collect(),
    );
    plot.series(
        "per core",
        'o',
        sweep
            .iter()
            .map(|p| (p.bytes_per_string as f64, p.per_core_speedup))
            .collect(),
    );
    plot.series(
        "break-even",
        '-',
        sweep.iter().map(|p| (p.bytes_per_string as f64, 1.0)).collect(),
    );
    lesson.plot(&plot);
    let pays_from = first_size_that_keeps_paying(&sweep);
    match pays_from {
        Some(point) => say!(
            lesson,
            "  A thread per string pays from about {} per string on, when counting one takes {}.",
            format::bytes(point.bytes_per_string as u64),
            format::seconds(point.work_per_string_s)
        ),
        None if cores < 2 => say!(
            lesson,
            "  With one core, a thread per string never pays: nothing can run in parallel."
        ),
        None => say!(lesson, "  A thread per string did not pay at any size measured here."),
    }
    lesson.figure("sweep", &sweep);
    lesson.figure("pays_from_bytes_per_string", pays_from.map(|p| p.bytes_per_string));
    lesson.figure("pays_from_work_per_string_s", pays_from.map(|p| p.work_per_string_s));
    lesson.notice("A thread costs tens of microseconds to create and join: it pays only for work that takes longer than that. A thread per core, not per item, pays much sooner.");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Section 1.

/// What the threaded run of section 1 saw.
#[derive(Debug, Default)]
struct ThreadedRun {
    finish_order: Vec<String>,
    threads_seen: Option<Vec<observe::ThreadEntry>>,
}

/// Sleeps `delay` units, then prints (the notebook's `print_with_delay`); returns the message.
fn print_with_delay(lesson: &Lesson, start: Instant, delay: u32, unit: Duration) -> String {
    thread::sleep(unit * delay);
    let message = format!("hello with delay {delay}");
    let name = thread::current().name().unwrap_or("unnamed").to_string();
    say!(
        lesson,
        "    {:>9}  {message}   ({name})",
        format::duration(start.elapsed())
    );
    message
}

/// The three calls one after another: each waits for the one before.
fn print_with_delays_sequential(lesson: &Lesson, delays: &[u32], unit: Duration) -> Vec<String> {
    let start = Instant::now();
    let mut messages: Vec<String> = delays
        .iter()
        .map(|&d| print_with_delay(lesson, start, d, unit))
        .collect();
    messages.sort();
    messages
}

/// The same calls on one named thread each: the waits overlap.
fn print_with_delays_threaded(
    lesson: &Lesson,
    delays: &[u32],
    unit: Duration,
    record: &mut ThreadedRun,
) -> anyhow::Result<Vec<String>> {
    let start = Instant::now();
    let finish_order = Mutex::new(Vec::new());
    let mut messages = thread::scope(|scope| -> anyhow::Result<Vec<String>> {
        let mut handles = Vec::new();
        for (i, &delay) in delays.iter().enumerate() {
            let name = format!("t{}-delay-{delay}", i + 1);
            let finish_order = &finish_order;
            let handle = thread::Builder::new()
                .name(name.clone())
                .spawn_scoped(scope, move || {
                    let me = thread::current();
                    say!(
                        lesson,
                        "    {:>9}  {} is running: {:?}, kernel thread ID {}",
                        format::duration(start.elapsed()),
                        me.name().unwrap_or("unnamed"),
                        me.id(),
                        observe::kernel_thread_id().map_or("unknown".to_string(), |t| t.to_string())
                    );
                    let message = print_with_delay(lesson, start, delay, unit);
                    finish_order
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(me.name().unwrap_or("unnamed").to_string());
                    message
                })
                .context("start a thread")?;
            say!(
                lesson,
                "    {:>9}  main started {name}",
                format::duration(start.elapsed())
            );
            handles.push((name, handle));
        }
        // While they sleep: the process's threads, as the kernel lists them.
        thread::sleep(unit / 2);
        record.threads_seen = observe::threads_of_this_process();
        let mut messages = Vec::new();
        for (name, handle) in handles {
            let message = handle.join().map_err(|_| anyhow::anyhow!("{name} panicked"))?;
            say!(
                lesson,
                "    {:>9}  main joined {name}",
                format::duration(start.elapsed())
            );
            messages.push(message);
        }
        Ok(messages)
    })?;
    record.finish_order = finish_order.into_inner().unwrap_or_else(|e| e.into_inner());
    messages.sort();
    Ok(messages)
}

// ---------------------------------------------------------------------------------------------
// Section 2.

/// `n_threads` threads each write `lines_per_thread` lines into one shared text. With
/// `whole_lines`, each line is written under one lock; otherwise its two pieces are written
/// under two, and another thread's piece can land between them.
fn write_lines(n_threads: usize, lines_per_thread: usize, whole_lines: bool) -> String {
    let text = Mutex::new(String::with_capacity(n_threads * lines_per_thread * 16));
    thread::scope(|scope| {
        for t in 1..=n_threads {
            let text = &text;
            scope.spawn(move || {
                for i in 0..lines_per_thread {
                    let head = format!("Thread-{t}: ");
                    let tail = format!("{i}\n");
                    if whole_lines {
                        let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
                        text.push_str(&head);
                        text.push_str(&tail);
                    } else {
                        text.lock().unwrap_or_else(|e| e.into_inner()).push_str(&head);
                        // Another thread may take the lock here.
                        text.lock().unwrap_or_else(|e| e.into_inner()).push_str(&tail);
                    }
                }
            });
        }
    });
    text.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// What one run of [`write_lines`] produced.
#[derive(Debug, serde::Serialize)]
struct LinesSummary {
    /// Lines written (counted by their "Thread-N: " pieces).
    lines: usize,
    /// Lines whose two pieces were separated by another thread's.
    torn: usize,
    /// How often the writer changed from one line to the next.
    switches: usize,
    /// The writer of 64 lines spread evenly over the run, one digit each.
    strip: String,
    torn_example: Option<String>,
}

fn summarize_lines(text: &str) -> LinesSummary {
    // The writers in order, from the heads: "Thread-N: " marks the start of every line.
    let writers: Vec<usize> = text
        .split("Thread-")
        .skip(1)
        .filter_map(|piece| piece.split(':').next()?.parse().ok())
        .collect();
    let whole = |line: &str| {
        line.strip_prefix("Thread-")
            .and_then(|rest| rest.split_once(": "))
            .is_some_and(|(t, i)| t.parse::<usize>().is_ok() && i.parse::<usize>().is_ok())
    };
    // A line is torn when another thread's line starts right after its head.
    let torn = text.matches(": Thread-").count();
    let strip: String = (0..64)
        .filter_map(|k| writers.get(k * writers.len() / 64))
        .map(|w| char::from_digit((*w % 36) as u32, 36).unwrap_or('?'))
        .collect();
    LinesSummary {
        lines: writers.len(),
        torn,
        switches: writers.windows(2).filter(|w| w[0] != w[1]).count(),
        strip,
        torn_example: text.lines().find(|line| !whole(line)).map(|line| line.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Section 3.

/// Results tagged with the index of their input: `(index, result)`, in the order collected.
type Tagged = Vec<(usize, usize)>;

/// The notebook's `count_string`.
fn count_string(text: &str) -> usize {
    text.chars().count()
}

/// Each thread owns its string (moved in) and returns its count through its `JoinHandle`.
fn results_by_join_handles(strings: &[String]) -> anyhow::Result<Tagged> {
    let handles: Vec<thread::JoinHandle<usize>> = strings
        .iter()
        .cloned()
        .map(|owned| thread::spawn(move || count_string(&owned)))
        .collect();
    handles
        .into_iter()
        .enumerate()
        .map(|(i, handle)| {
            let count = handle.join().map_err(|_| anyhow::anyhow!("a thread panicked"))?;
            Ok((i, count))
        })
        .collect()
}

/// Scoped threads borrow the strings (no copy) and each writes its own slot (no lock): the
/// scope ends only when every thread has, so the borrows cannot outlive the data.
fn results_by_scoped_threads(strings: &[String]) -> Tagged {
    let mut counts = vec![0; strings.len()];
    thread::scope(|scope| {
        for (slot, text) in counts.iter_mut().zip(strings) {
            scope.spawn(move || *slot = count_string(text));
        }
    });
    counts.into_iter().enumerate().collect()
}

/// The notebook's way: every thread appends to one shared list, under a lock. The threads
/// start counting together (at a barrier, with this thread), so the list fills in the order
/// they finish. Also returns what the list held just after they started, before any join.
fn results_by_shared_list(strings: &[String]) -> anyhow::Result<(Tagged, Vec<usize>)> {
    let results: Arc<Mutex<Tagged>> = Arc::new(Mutex::new(Vec::new()));
    let start_together = Arc::new(Barrier::new(strings.len() + 1));
    let handles: Vec<thread::JoinHandle<()>> = strings
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, owned)| {
            let results = Arc::clone(&results);
            let start_together = Arc::clone(&start_together);
            thread::spawn(move || {
                start_together.wait();
                let count = count_string(&owned);
                results.lock().unwrap_or_else(|e| e.into_inner()).push((i, count));
            })
        })
        .collect();
    start_together.wait();
    let peeked: Vec<usize> = results
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, n)| *n)
        .collect();
    for handle in handles {
        handle.join().map_err(|_| anyhow::anyhow!("a thread panicked"))?;
    }
    let results = results.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Ok((results, peeked))
}

/// Every thread sends `(index, count)` down a channel; the receiver gets them in finish order.
fn results_by_channel(strings: &[String]) -> anyhow::Result<Tagged> {
    let (sender, receiver) = crossbeam::channel::unbounded();
    let start_together = Barrier::new(strings.len());
    thread::scope(|scope| {
        for (i, text) in strings.iter().enumerate() {
            let sender = sender.clone();
            let start_together = &start_together;
            scope.spawn(move || {
                start_together.wait();
                // The receiver outlives the scope, so the send cannot fail.
                let _ = sender.send((i, count_string(text)));
            });
        }
    });
    // Every sender must be gone for the receiver's iteration to end.
    drop(sender);
    let results: Tagged = receiver.iter().collect();
    if results.len() != strings.len() {
        bail!(
            "{} results came through the channel for {} strings",
            results.len(),
            strings.len()
        );
    }
    Ok(results)
}

// ---------------------------------------------------------------------------------------------
// Section 4.

/// Creates and joins `samples` workers one at a time, recording each one's latency; returns
/// how many reported success.
fn create_and_join(
    samples: usize,
    latencies: &mut Latencies,
    create: fn() -> anyhow::Result<bool>,
) -> anyhow::Result<usize> {
    let mut succeeded = 0;
    for _ in 0..samples {
        if latencies.time(create)? {
            succeeded += 1;
        }
    }
    Ok(succeeded)
}

/// fork + exec of `/bin/true` (as `std::process::Command` does it), then waitpid.
fn spawn_and_wait() -> anyhow::Result<bool> {
    let child = children::spawn(
        Command::new("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    let status = children::wait(Pid::from_raw(child.id() as i32)).context("waitpid")?;
    Ok(status == nix::sys::wait::WaitStatus::Exited(Pid::from_raw(child.id() as i32), 0))
}

/// fork of this process; the child exits at once; then waitpid.
fn fork_and_wait() -> anyhow::Result<bool> {
    let pid = children::fork(|| 0)?;
    let status = children::wait(pid).context("waitpid")?;
    Ok(status == nix::sys::wait::WaitStatus::Exited(pid, 0))
}

/// A thread that returns at once, then join.
fn thread_and_join() -> anyhow::Result<bool> {
    let handle = thread::spawn(|| 0);
    let result = handle.join().map_err(|_| anyhow::anyhow!("a thread panicked"))?;
    Ok(result == 0)
}

/// Time since the lesson started (the first call starts the clock).
fn since_start() -> Duration {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    STARTED.get_or_init(Instant::now).elapsed()
}

// ---------------------------------------------------------------------------------------------
// Section 5.

/// Counts the words of every string, one after another, on this thread.
fn word_count_sequential<S: AsRef<str> + Sync>(strings: &[S]) -> usize {
    strings.iter().map(|s| workloads::seed::word_count(s.as_ref())).sum()
}

/// The same, one thread per string, results appended to a shared list (the notebook's
/// `concurrent_word_count`).
fn word_count_thread_per_string<S: AsRef<str> + Sync>(strings: &[S]) -> usize {
    let results = Mutex::new(Vec::with_capacity(strings.len()));
    thread::scope(|scope| {
        for text in strings {
            let results = &results;
            scope.spawn(move || {
                let count = workloads::seed::word_count(text.as_ref());
                results.lock().unwrap_or_else(|e| e.into_inner()).push(count);
            });
        }
    });
    results.into_inner().unwrap_or_else(|e| e.into_inner()).iter().sum()
}

/// The same, one thread per core, each counting one contiguous share of the strings.
fn word_count_per_core<S: AsRef<str> + Sync>(strings: &[S]) -> usize {
    word_count_in_shares(strings, cores())
}

/// Counts the words in `n_shares` contiguous shares of the strings, one thread per share.
fn word_count_in_shares<S: AsRef<str> + Sync>(strings: &[S], n_shares: usize) -> usize {
    let share = strings.len().div_ceil(n_shares.max(1)).max(1);
    thread::scope(|scope| {
        let handles: Vec<_> = strings
            .chunks(share)
            .map(|chunk| scope.spawn(move || word_count_sequential(chunk)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    })
}

/// The cores this process may use (what the header reports).
fn cores() -> usize {
    thread::available_parallelism().map(usize::from).unwrap_or(1)
}

/// One size of section 5's sweep.
#[derive(Clone, Copy, Debug, serde::Serialize)]
struct SweepPoint {
    bytes_per_string: usize,
    /// The sequential time divided by the 300 strings: the work one thread would be given.
    work_per_string_s: f64,
    sequential_s: f64,
    thread_per_string_s: f64,
    thread_per_string_speedup: f64,
    per_core_s: f64,
    per_core_speedup: f64,
}

impl SweepPoint {
    fn new(bytes_per_string: usize, report: &ComparisonReport) -> Self {
        let time = |name: &str| report.row(name).map_or((0.0, 0.0), |r| (r.median_s, r.speedup));
        let (sequential_s, _) = time("sequential");
        let (thread_per_string_s, thread_per_string_speedup) = time("thread per string");
        let (per_core_s, per_core_speedup) = time("per core");
        SweepPoint {
            bytes_per_string,
            work_per_string_s: sequential_s / 300.0,
            sequential_s,
            thread_per_string_s,
            thread_per_string_speedup,
            per_core_s,
            per_core_speedup,
        }
    }
}

/// The smallest size from which on a thread per string beat the sequential loop at every size
/// measured: a single lucky size among losing ones does not count.
fn first_size_that_keeps_paying(sweep: &[SweepPoint]) -> Option<SweepPoint> {
    let mut first = None;
    for point in sweep.iter().rev() {
        if point.thread_per_string_speedup > 1.0 {
            first = Some(*point);
        } else {
            break;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_count_agrees_on_the_notebook_strings() {
        let strings = workloads::seed::seed_strings();
        assert_eq!(word_count_sequential(&strings), 1100);
        assert_eq!(word_count_thread_per_string(&strings), 1100);
        assert_eq!(word_count_per_core(&strings), 1100);
        for shares in [1, 2, 7, 300, 1000] {
            assert_eq!(word_count_in_shares(&strings, shares), 1100, "{shares} shares");
        }
        let empty: [&str; 0] = [];
        assert_eq!(word_count_in_shares(&empty, 4), 0);
    }

    #[test]
    fn every_way_of_returning_results_agrees() {
        let strings = vec!["ab".repeat(50), "c".to_string(), String::new()];
        let sorted = |mut v: Vec<(usize, usize)>| {
            v.sort();
            v
        };
        let want = vec![(0, 100), (1, 1), (2, 0)];
        assert_eq!(sorted(results_by_join_handles(&strings).unwrap()), want);
        assert_eq!(sorted(results_by_scoped_threads(&strings)), want);
        assert_eq!(sorted(results_by_shared_list(&strings).unwrap().0), want);
        assert_eq!(sorted(results_by_channel(&strings).unwrap()), want);
    }

    #[test]
    fn whole_lines_never_tear_and_every_line_is_counted() {
        let text = write_lines(4, 500, true);
        let summary = summarize_lines(&text);
        assert_eq!(summary.lines, 2000);
        assert_eq!(summary.torn, 0);
        assert_eq!(summary.strip.chars().count(), 64);
        let torn = summarize_lines("Thread-1: Thread-2: 7\n3\nThread-1: 4\n");
        assert_eq!(torn.lines, 3);
        assert_eq!(torn.torn, 1);
        assert_eq!(torn.torn_example.as_deref(), Some("Thread-1: Thread-2: 7"));
    }

    #[test]
    fn paying_means_paying_at_every_larger_size() {
        let point = |bytes, speedup| SweepPoint {
            bytes_per_string: bytes,
            work_per_string_s: 0.0,
            sequential_s: 0.0,
            thread_per_string_s: 0.0,
            thread_per_string_speedup: speedup,
            per_core_s: 0.0,
            per_core_speedup: 0.0,
        };
        let sweep = [
            point(10, 0.1),
            point(100, 1.2),
            point(1000, 0.9),
            point(10_000, 1.5),
            point(100_000, 1.8),
        ];
        assert_eq!(
            first_size_that_keeps_paying(&sweep).map(|p| p.bytes_per_string),
            Some(10_000)
        );
        assert!(first_size_that_keeps_paying(&sweep[..3]).is_none());
    }
}
