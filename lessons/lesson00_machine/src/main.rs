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
//! **How to run.** `cargo run -p lesson00_machine` (add `--quick`, `--json`, `--step`;
//! `--help` lists the knobs).

mod probe;

use clap::Parser;
use course::chart::Bars;
use course::table::Table;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
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

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(course::info!("Computing resources"), &args.common, &args, |lesson| {
        let n_threads = args.threads.unwrap_or(lesson.machine().logical_cores);
        let io_wait = args
            .io_wait
            .unwrap_or(lesson.pick(Duration::from_millis(20), Duration::from_millis(200)));
        lesson.param("threads", n_threads);
        lesson.param("io_wait_ms", io_wait.as_millis() as u64);

        cores(lesson);
        memory_and_disk(lesson);
        gpu(lesson);
        processes_right_now(lesson);
        concurrency_and_parallelism(lesson, n_threads, args.io_tasks, io_wait)
    })
}

/// Section 1: how many things can run at the same moment.
fn cores(lesson: &Lesson) {
    lesson.section("Cores: how many things can run at the same moment");
    let cores = probe::cores();
    let known = |value: Option<String>| value.unwrap_or_else(|| "cannot be read on this platform".to_string());
    let mut table = Table::new(&["", ""]).left(1);
    table.row(["CPU model".to_string(), known(cores.model.clone())]);
    table.row([
        "clock now (MHz)".to_string(),
        known(cores.mhz_now.map(|m| format!("{m:.0}"))),
    ]);
    table.row([
        "clock max (MHz)".to_string(),
        known(cores.mhz_max.map(|m| format!("{m:.0}"))),
    ]);
    table.row(["sockets".to_string(), known(cores.sockets.map(|n| n.to_string()))]);
    table.row([
        "physical cores".to_string(),
        known(cores.physical.map(|n| n.to_string())),
    ]);
    table.row([
        "logical CPUs online".to_string(),
        known(cores.online.map(|n| n.to_string())),
    ]);
    table.row([
        "allowed by affinity".to_string(),
        known(cores.affinity.as_ref().map(|cpus| cpu_list(cpus))),
    ]);
    table.row([
        "cgroup CPU quota".to_string(),
        known(Some(
            cores.cgroup_quota.map_or("none".into(), |q| format!("{q:.2} cores")),
        )),
    ]);
    table.row(["available to this program".to_string(), cores.available.to_string()]);
    lesson.table(&table);
    if let (Some(physical), Some(online)) = (cores.physical, cores.online)
        && online > physical
    {
        say!(
            lesson,
            "  {online} logical CPUs on {physical} physical cores: each core runs {} hardware threads (SMT),",
            online / physical
        );
        say!(
            lesson,
            "  which share one core's execution units: CPU-bound work gains far less from the second."
        );
    }
    if let Some(online) = cores.online
        && cores.available < online
    {
        say!(
            lesson,
            "  This program may use {} of the {online} online CPUs (affinity or a cgroup quota).",
            cores.available
        );
    }
    lesson.figure("cores", &cores);
    lesson.notice(&format!(
        "{} is the number that matters: no CPU-bound job here can run more than {}× faster than on one core.",
        cores.available, cores.available
    ));
}

/// Section 2: room for data, in memory and on disk.
fn memory_and_disk(lesson: &Lesson) {
    lesson.section("Memory and disk: how much data fits");
    let memory = probe::memory();
    let disk = probe::disk();
    let size = |bytes: Option<u64>| bytes.map_or("cannot be read on this platform".to_string(), format::bytes);
    let mut table = Table::new(&["", ""]).left(1);
    table.row(["memory (RAM) total", &size(memory.total)]);
    table.row(["memory available now", &size(memory.available)]);
    table.row(["swap", &size(memory.swap_total)]);
    table.row([format!("disk total at {}", disk.path), size(disk.total)]);
    table.row(["disk free for you".to_string(), size(disk.available)]);
    lesson.table(&table);
    // The lecture's "biggish data" starts around 5 GB: does it fit in this machine's memory?
    const BIGGISH: u64 = 5_000_000_000;
    if let Some(available) = memory.available {
        let fits = available / BIGGISH;
        say!(
            lesson,
            "  A 5 GB dataset (where the lecture's 'biggish data' starts) fits {fits} time{} in available memory.",
            if fits == 1 { "" } else { "s" }
        );
    }
    lesson.figure("memory", &memory);
    lesson.figure("disk", &disk);
    lesson.notice("Memory decides how much data one machine can hold at once; past it, data is streamed from disk or split across machines (lesson 11).");
}

/// Section 3: graphics processors, which have many simple cores.
fn gpu(lesson: &Lesson) {
    lesson.section("GPU: many simple cores");
    let gpus = probe::gpus();
    match &gpus {
        None => say!(lesson, "  Whether a GPU is present cannot be read on this platform."),
        Some(gpus) if gpus.is_empty() => say!(
            lesson,
            "  No GPU found (no /proc/driver/nvidia, no display device in /sys/class/drm)."
        ),
        Some(gpus) => {
            for gpu in gpus {
                say!(lesson, "  {} (from {})", gpu.name, gpu.source);
            }
        }
    }
    // Always recorded: the list (empty when none was found), or null when it cannot be read.
    lesson.figure("gpus", &gpus);
    lesson.notice("A GPU has thousands of simple cores for data-parallel arithmetic; this course measures CPU cores, which every machine has.");
}

/// Section 4: the seed's `ps aux | wc -l` moment.
fn processes_right_now(lesson: &Lesson) {
    lesson.section("Processes and threads running right now");
    let Some(census) = probe::census() else {
        say!(
            lesson,
            "  The process table cannot be read on this platform (no /proc); try `ps aux | wc -l`."
        );
        lesson.notice("A machine runs many processes; most of them are waiting.");
        return;
    };
    say!(
        lesson,
        "  {} processes with {} threads in all (what `ps aux | wc -l` and `ps -eLf | wc -l` count).",
        census.processes,
        census.threads
    );
    let mut bars = Bars::new().width(30);
    for (letter, count) in &census.threads_by_state {
        bars.row(
            format!("{letter} {}", probe::state_name(*letter)),
            *count as f64,
            count.to_string(),
        );
    }
    lesson.bars(&bars);
    let running = census.threads_by_state.get(&'R').copied().unwrap_or(0);
    let [one, five, fifteen] = census.load_average;
    say!(
        lesson,
        "  load average (threads running or ready, averaged): {one:.2} over 1 min, {five:.2} over 5, {fifteen:.2} over 15"
    );
    lesson.figure("census", &census);
    lesson.figure("threads_running", running);
    lesson.notice(&format!(
        "Threads running when we looked: {running} of {} (one is this lesson). Almost everything is asleep, waiting for input, a timer or work.",
        census.threads
    ));
}

/// Section 5: the definitions, and the limits this machine puts on them.
fn concurrency_and_parallelism(
    lesson: &Lesson,
    n_threads: usize,
    io_tasks: usize,
    io_wait: Duration,
) -> anyhow::Result<()> {
    lesson.section("Concurrency vs parallelism, measured here");
    for line in [
        "concurrency  dealing with many things at once: tasks in progress overlap, even on one core",
        "parallelism  doing many things at once: tasks run at the same instant, one per core",
        "process      a running program with its own memory, files and at least one thread",
        "thread       a path of execution inside a process, sharing its memory with the others",
        "CPU-bound    limited by computing: more cores help, up to the number of cores",
        "I/O-bound    limited by waiting (disk, network, a timer): overlapping the waits helps",
    ] {
        say!(lesson, "  {line}");
    }

    // CPU-bound: the same total work, split into tasks, on 1 thread and on n_threads threads.
    let n_tasks = 4 * n_threads;
    let iterations_per_task = lesson.pick(30_000_000, 300_000_000) / n_tasks as u64;
    let seed = lesson.seed();
    let cpu_task = |i: usize| busy_task(seed.wrapping_add(i as u64), iterations_per_task);
    say!(lesson);
    say!(
        lesson,
        "  CPU-bound: {n_tasks} tasks of {} xorshift steps each",
        format::count(iterations_per_task)
    );
    let runs = lesson.pick(1, 3);
    let mut cpu = Comparison::new("CPU-bound tasks").repeats(1, runs);
    cpu.variant("sequential", 1, || run_sequential(n_tasks, cpu_task));
    cpu.variant(threads(n_threads), n_threads, || {
        run_threaded(n_tasks, n_threads, cpu_task)
    });
    cpu.variant(threads(2 * n_threads), 2 * n_threads, || {
        run_threaded(n_tasks, 2 * n_threads, cpu_task)
    });
    let cpu = lesson.compare(cpu)?;

    // I/O-bound: tasks that only wait. One after another, then all at once.
    say!(lesson);
    say!(
        lesson,
        "  I/O-bound: {io_tasks} tasks that each wait {} (as for a network reply)",
        format::duration(io_wait)
    );
    let io_task = |_: usize| {
        std::thread::sleep(io_wait);
        1
    };
    let mut io = Comparison::new("waiting tasks");
    io.variant("sequential", 1, || run_sequential(io_tasks, io_task));
    io.variant(threads(io_tasks), io_tasks, || {
        run_threaded(io_tasks, io_tasks, io_task)
    });
    let io = lesson.compare(io)?;

    let cores = lesson.machine().logical_cores;
    let cpu_best = cpu.rows.iter().map(|row| row.speedup).fold(0.0, f64::max);
    let baseline_cores = cpu.rows.first().map_or(1.0, |row| row.cores_used);
    // The variant with a thread per core (or --threads): how many cores it really got.
    let parallel = cpu.rows.get(1).map(|row| (row.cores_used, n_threads.min(cores)));
    let disturbed = disturbed(baseline_cores, cpu_best, parallel, cores);
    let io_speedup = io.rows.last().map_or(0.0, |row| row.speedup);
    say!(lesson);
    say!(lesson, "  The limits of this machine:");
    say!(
        lesson,
        "    CPU-bound work: at most {cores}× (its cores); measured {} at best{}",
        format::times(cpu_best),
        if disturbed.is_some() {
            ", not representative:"
        } else {
            ""
        }
    );
    if let Some(why) = &disturbed {
        say!(lesson, "      {why}");
    }
    say!(
        lesson,
        "    waiting work:   not limited by cores; measured {} with {io_tasks} threads on {cores} cores",
        format::times(io_speedup)
    );
    lesson.figure("max_cpu_speedup_allowed", cores);
    lesson.figure("cpu_speedup_measured", cpu_best);
    lesson.figure("io_speedup_measured", io_speedup);
    lesson.figure("sequential_cores_used", baseline_cores);
    lesson.figure("cpu_figures_representative", disturbed.is_none());
    if disturbed.is_some() {
        lesson.notice("Other programs were using the cores, so the CPU-bound speedups above are not this machine's: run the lesson again when it is quiet. Computing gains at most one core's worth per core; waiting overlaps far beyond the core count.");
    } else {
        lesson.notice("Computing gains at most one core's worth per core, and more threads than cores add nothing; waiting overlaps far beyond the core count and uses almost no CPU.");
    }
    Ok(())
}

/// Why the CPU-bound figures cannot be this machine's, if they cannot: a sequential run that
/// got less than 90% of a core was slowed by other programs, and so was any baseline that a
/// speedup above the number of cores was measured against; threads that got far fewer cores
/// than they could use (`parallel`: cores used, and the most they could use) shared them.
fn disturbed(baseline_cores: f64, best_speedup: f64, parallel: Option<(f64, usize)>, cores: usize) -> Option<String> {
    if best_speedup > cores as f64 {
        Some(format!(
            "{} is above the ceiling of {cores}×, so the one-thread run was slowed by other programs (the machine was busy).",
            format::times(best_speedup)
        ))
    } else if baseline_cores < 0.9 {
        Some(format!(
            "the one-thread run got only {baseline_cores:.2} of a core: other programs kept the machine busy."
        ))
    } else if let Some((used, could)) = parallel
        && used < 0.75 * could as f64
    {
        Some(format!(
            "the threads got only {used:.2} of the {could} cores they could use: other programs kept the machine busy."
        ))
    } else {
        None
    }
}

/// One CPU-bound task: `iterations` rounds of a xorshift generator. Nothing to wait for, and
/// each step depends on the last, so the compiler cannot skip or vectorize it.
fn busy_task(seed: u64, iterations: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..iterations {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// Runs tasks `0..n_tasks` one after another on this thread; returns the sum of their results.
fn run_sequential(n_tasks: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    (0..n_tasks).map(task).fold(0, u64::wrapping_add)
}

/// The same tasks on `n_threads` threads: each thread takes the next task nobody has taken.
fn run_threaded(n_tasks: usize, n_threads: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    let next_task = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..n_threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut sum = 0u64;
                    loop {
                        // Relaxed is enough: the counter only hands out distinct task numbers,
                        // it does not publish any other memory.
                        let i = next_task.fetch_add(1, Ordering::Relaxed);
                        if i >= n_tasks {
                            return sum;
                        }
                        sum = sum.wrapping_add(task(i));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a task panicked"))
            .fold(0, u64::wrapping_add)
    })
}

/// A variant's name: `1 spawned thread` (not the caller's own), `2 threads`, ...
fn threads(n_threads: usize) -> String {
    if n_threads == 1 {
        "1 spawned thread".to_string()
    } else {
        format!("{n_threads} threads")
    }
}

/// `[0, 1, 2, 5]` as `0-2,5`.
fn cpu_list(cpus: &[usize]) -> String {
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        while i + 1 < cpus.len() && cpus[i + 1] == cpus[i] + 1 {
            i += 1;
        }
        ranges.push(if cpus[i] == start {
            start.to_string()
        } else {
            format!("{start}-{}", cpus[i])
        });
        i += 1;
    }
    let noun = if cpus.len() == 1 { "CPU" } else { "CPUs" };
    format!("{} ({noun} {})", cpus.len(), ranges.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequential_and_threaded_agree() {
        let task = |i: usize| busy_task(i as u64, 1000);
        assert_eq!(run_sequential(37, task), run_threaded(37, 4, task));
        assert_eq!(run_threaded(3, 8, task), run_sequential(3, task));
    }

    #[test]
    fn cpu_lists_are_compact() {
        assert_eq!(cpu_list(&[0, 1, 2, 5]), "4 (CPUs 0-2,5)");
        assert_eq!(cpu_list(&[3]), "1 (CPU 3)");
        assert_eq!(cpu_list(&[0, 1]), "2 (CPUs 0-1)");
    }

    #[test]
    fn cpu_figures_above_the_ceiling_or_on_a_shared_core_are_flagged() {
        assert_eq!(disturbed(0.99, 1.95, Some((1.97, 2)), 2), None);
        assert_eq!(disturbed(0.9, 1.0, Some((1.0, 1)), 1), None);
        assert_eq!(disturbed(1.0, 1.0, None, 1), None);
        let above = disturbed(0.99, 2.2, Some((2.0, 2)), 2).unwrap();
        assert!(above.contains("2.20×") && above.contains("busy"), "{above}");
        let starved = disturbed(0.6, 1.9, Some((1.9, 2)), 2).unwrap();
        assert!(starved.contains("0.60 of a core"), "{starved}");
        let shared = disturbed(1.0, 1.1, Some((1.1, 2)), 2).unwrap();
        assert!(shared.contains("1.10 of the 2 cores"), "{shared}");
    }
}
