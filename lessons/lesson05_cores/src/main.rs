//! # Lesson 05 · Watching cores work
//!
//! **Objective.** See with your own eyes what the lecture asks you to watch in `htop`: a busy
//! loop ("frying eggs") keeps one core busy; one busy process per core keeps them all busy. The
//! lesson draws every core's load live, from the kernel's own counters, while its workers
//! burn CPU. It also records which core each worker ran on, sample by sample: the scheduler
//! moves a lone busy process between cores, which is why "two cores showed activity" for a
//! serial job. Then the same workers pinned to one core each (affinity): no moves at all. Last,
//! twice as many workers as cores: they take turns.
//!
//! **What to observe.** One busy process is one core's worth of CPU (cores used ≈ 1), however
//! many cores flicker. One per core fills every core. Pinned workers never move. More workers
//! than cores do not add CPU: each gets a share of a core and is preempted over and over.
//!
//! **How to run.** `cargo run -p lesson05_cores` in a terminal to watch the bars move (add
//! `--quick`, `--json`, `--step`; `--phase-ms 10000` for the lecture's ten seconds; `--help`
//! lists the knobs). Run `htop` beside it to compare. Nothing here is random: `--seed`, which
//! every lesson accepts, changes nothing.

mod sampler;

use clap::Parser;
use course::chart::{Bars, bar};
use course::table::Table;
use course::timing::{self, Measurement, format};
use course::{Lesson, say};
use sampler::{CoreTicks, ProcessView};
use serde::Serialize;
use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 05: watching cores work. Burns CPU in busy loops (the lecture's 'frying eggs'): \
one process, then one per core, then pinned one to a core, then twice as many as cores, while it \
draws every core's load live from the kernel's counters and records which core each process ran \
on and how often the scheduler moved it. Nothing in it is random: --seed changes nothing."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Busy processes when there is one per core [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// How long each busy phase lasts, in milliseconds [default: 3000, or 200 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(50, 60_000))]
    #[serde(skip)]
    phase_ms: Option<Duration>,
    /// Time between two readings of the counters, in milliseconds [default: 100, or 50 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(20, 2_000))]
    #[serde(skip)]
    interval: Option<Duration>,
}

/// How to run and watch one phase.
#[derive(Clone, Copy)]
struct Watch {
    phase: Duration,
    interval: Duration,
}

fn main() -> std::process::ExitCode {
    let args: Args = course::parse_args();
    course::run(course::info!("Watching cores work"), &args.common, &args, |lesson| {
        let n_workers = args.workers.unwrap_or(lesson.machine().logical_cores);
        let phase = args
            .phase_ms
            .unwrap_or(lesson.pick(Duration::from_millis(200), Duration::from_secs(3)));
        let interval = args
            .interval
            .unwrap_or(lesson.pick(Duration::from_millis(50), Duration::from_millis(100)));
        if interval > phase {
            return Err(course::usage_error(format!(
                "--interval ({} ms) must not be longer than a phase ({} ms)",
                interval.as_millis(),
                phase.as_millis()
            )));
        }
        lesson.param("workers", n_workers);
        lesson.param("phase_ms", phase.as_millis() as u64);
        lesson.param("interval_ms", interval.as_millis() as u64);
        let watch = Watch { phase, interval };

        cores_at_rest(lesson, watch)?;
        one_busy_process(lesson, watch)?;
        one_busy_process_per_core(lesson, watch, n_workers)?;
        pinned_to_a_core_each(lesson, watch, n_workers)?;
        more_processes_than_cores(lesson, watch, n_workers)
    })
}

/// Section 1: the counters the kernel keeps, and what the machine does with no help from us.
fn cores_at_rest(lesson: &Lesson, watch: Watch) -> anyhow::Result<()> {
    lesson.section("Cores at rest, and how their load is measured");
    say!(
        lesson,
        "  The kernel counts, for every core, the time it spent running something and the time it sat idle"
    );
    say!(
        lesson,
        "  (/proc/stat, in clock ticks, usually 1/100 s). A core's load over an interval is its busy share of it:"
    );
    say!(
        lesson,
        "  what htop's bars show, and what the bars below show, redrawn several times a second."
    );
    let Some(cores) = sampler::core_ticks() else {
        say!(
            lesson,
            "  This platform does not publish per-core counters (no /proc/stat): the lesson still runs its busy"
        );
        say!(
            lesson,
            "  processes, and `htop` or Activity Monitor beside it shows what the bars would."
        );
        lesson.figure("cores_counted", 0);
        lesson.notice("Without /proc the load has to be watched in another tool; the workers still run.");
        return Ok(());
    };
    let rest = Watch {
        phase: watch.phase.min(Duration::from_secs(1)),
        ..watch
    };
    say!(
        lesson,
        "  {} cores counted. For the next {}, nothing of ours runs but the watcher that reads them:",
        cores.len(),
        format::duration(rest.phase)
    );
    let report = run_phase(lesson, rest, 0, false)?;
    show_phase(lesson, &report);
    let busiest = report.core_load.iter().copied().fold(0.0, f64::max);
    lesson.figure("cores_counted", cores.len());
    lesson.figure("at_rest", &report);
    lesson.figure("busiest_at_rest", busiest);
    if busiest < NEARLY_IDLE {
        lesson.notice(&format!(
            "At rest the cores were idle this time (the busiest was {} busy), so the bars below show our workers alone. On a shared machine, other programs and other people use the cores too, and every bar includes them.",
            format::percent(busiest)
        ));
    } else {
        lesson.notice(&format!(
            "Even at rest the cores were not idle (the busiest was {} busy): other programs, and other people on a shared machine, use them too. Every bar below includes them.",
            format::percent(busiest)
        ));
    }
    Ok(())
}

/// Below this share of a core busy, a core at rest counts as idle. The counters tick 100 times
/// a second, so over a fifth of a second a single tick already reads 5%.
const NEARLY_IDLE: f64 = 0.05;

/// Section 2: the lecture's `how_to_fry_eggs_on_my_computer`, one process.
fn one_busy_process(lesson: &Lesson, watch: Watch) -> anyhow::Result<()> {
    lesson.section("One busy process: frying eggs on one core");
    say!(
        lesson,
        "  One child process spins in a loop for {} doing nothing useful, as the lecture's function does.",
        format::duration(watch.phase)
    );
    let report = run_phase(lesson, watch, 1, false)?;
    show_phase(lesson, &report);
    let worker = &report.workers[0];
    lesson.figure("one_process", &report);
    let moved = if worker.moves_seen > 0 {
        format!(
            "yet the scheduler moved it {} time{}, over {} cores: that is why the lecture saw two cores active for a serial job",
            format::count(worker.moves_seen as u64),
            if worker.moves_seen == 1 { "" } else { "s" },
            worker.cores_visited.len()
        )
    } else {
        "and this time the scheduler left it on one core; run it again or for longer (--phase-ms 10000): moves come and go with whatever else runs, and they are why the lecture saw two cores active for a serial job".to_string()
    };
    lesson.notice(&format!(
        "One busy process is one core's worth of CPU ({:.2} cores used), {moved}.",
        report.measurement.cores_used()
    ));
    Ok(())
}

/// Section 3: the lecture's `pool.map(how_to_fry_eggs_on_my_computer, [10] * n_cpus)`.
fn one_busy_process_per_core(lesson: &Lesson, watch: Watch, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("One busy process per core");
    say!(
        lesson,
        "  {n_workers} child processes, each spinning for {}.",
        format::duration(watch.phase)
    );
    let report = run_phase(lesson, watch, n_workers, false)?;
    show_phase(lesson, &report);
    let moves: usize = report.workers.iter().map(|worker| worker.moves_seen).sum();
    lesson.figure("one_per_core", &report);
    lesson.notice(&format!(
        "{:.2} cores' worth of CPU for {n_workers} processes: this is what a pool of one process per core does to a machine (less when other programs want the cores too). Unpinned, the workers moved {} time{} in all.",
        report.measurement.cores_used(),
        format::count(moves as u64),
        if moves == 1 { "" } else { "s" }
    ));
    Ok(())
}

/// Section 4: the same workers, each allowed on one core only.
fn pinned_to_a_core_each(lesson: &Lesson, watch: Watch, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("Pinned: one core each, no moves");
    say!(
        lesson,
        "  The same {n_workers} processes, each given an affinity mask of a single core (sched_setaffinity,"
    );
    say!(
        lesson,
        "  what `taskset -c N` does): the scheduler may run each only there."
    );
    let report = run_phase(lesson, watch, n_workers, true)?;
    show_phase(lesson, &report);
    let moves: usize = report.workers.iter().map(|worker| worker.moves_seen).sum();
    let kernel: u64 = report
        .workers
        .iter()
        .filter_map(|worker| worker.kernel_migrations)
        .sum();
    lesson.figure("pinned", &report);
    lesson.notice(&format!(
        "Pinned workers never moved ({} moves seen, {} counted by the kernel). Pinning keeps a core's caches warm, but a pinned worker cannot escape a core that something else is using.",
        format::count(moves as u64),
        format::count(kernel)
    ));
    Ok(())
}

/// Section 5: more busy processes than cores.
fn more_processes_than_cores(lesson: &Lesson, watch: Watch, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("Twice as many busy processes as cores: taking turns");
    let n = 2 * n_workers;
    say!(
        lesson,
        "  {n} processes on {} cores: there is not a core for each.",
        lesson.machine().logical_cores
    );
    let report = run_phase(lesson, watch, n, false)?;
    show_phase(lesson, &report);
    let preempted: u64 = report
        .workers
        .iter()
        .filter_map(|worker| worker.involuntary_switches)
        .sum();
    let share_each = report.measurement.cores_used() / n as f64;
    lesson.figure("twice_as_many", &report);
    lesson.figure("share_of_a_core_each", share_each);
    lesson.notice(&format!(
        "{:.2} cores used, no more than one process per core gets: each process had about {} of a core, and they were preempted {} times in all to take turns. More busy processes than cores add switching, not speed.",
        report.measurement.cores_used(),
        format::percent(share_each),
        format::count(preempted)
    ));
    Ok(())
}

/// What one phase showed.
#[derive(Debug, Serialize)]
struct PhaseReport {
    workers_started: usize,
    pinned: bool,
    samples: usize,
    /// Each core's busy share over the whole phase.
    core_load: Vec<f64>,
    workers: Vec<WorkerReport>,
    /// Wall time, CPU time (the workers' counted when they were reaped), cores used.
    measurement: Measurement,
}

/// One worker's phase, as the kernel saw it.
#[derive(Debug, Serialize)]
struct WorkerReport {
    pid: i32,
    pinned_to: Option<usize>,
    /// The core it was on at each sample (None where it could not be read).
    timeline: Vec<Option<usize>>,
    cores_visited: Vec<usize>,
    /// Changes of core between consecutive samples: a lower bound on the real moves.
    moves_seen: usize,
    /// The scheduler's own count of moves during the phase, where the kernel publishes it.
    kernel_migrations: Option<u64>,
    /// Times it was preempted during the phase while it still wanted to run.
    involuntary_switches: Option<u64>,
    cpu_s: f64,
}

/// Forks `n_workers` busy processes (pinned one to a core each with `pin`), watches the cores
/// and the workers until the phase ends, reaps them, and reports.
fn run_phase(lesson: &Lesson, watch: Watch, n_workers: usize, pin: bool) -> anyhow::Result<PhaseReport> {
    let allowed = allowed_cpus();
    let (watched, measurement) = timing::measure(|| start_and_watch(lesson, watch, n_workers, pin.then_some(&allowed)));
    let watched = watched?;
    let workers = watched
        .pids
        .iter()
        .enumerate()
        .map(|(index, &pid)| {
            let seen: Vec<&ProcessView> = watched.samples.iter().map(|sample| &sample[index]).collect();
            let timeline: Vec<Option<usize>> = seen.iter().map(|view| view.processor).collect();
            let known: Vec<usize> = timeline.iter().flatten().copied().collect();
            let growth = |read: fn(&ProcessView) -> Option<u64>| {
                let values: Vec<u64> = seen.iter().filter_map(|view| read(view)).collect();
                Some(values.last()?.saturating_sub(*values.first()?))
            };
            WorkerReport {
                pid,
                pinned_to: pin.then(|| allowed[index % allowed.len()]),
                cores_visited: known.iter().copied().collect::<BTreeSet<_>>().into_iter().collect(),
                moves_seen: known.windows(2).filter(|pair| pair[0] != pair[1]).count(),
                kernel_migrations: growth(|view| view.kernel_migrations),
                involuntary_switches: growth(|view| view.involuntary_switches),
                cpu_s: seen
                    .iter()
                    .filter_map(|view| view.cpu)
                    .max()
                    .unwrap_or_default()
                    .as_secs_f64(),
                timeline,
            }
        })
        .collect();
    Ok(PhaseReport {
        workers_started: n_workers,
        pinned: pin,
        samples: watched.samples.len(),
        core_load: sampler::load_between(&watched.first_ticks, &watched.last_ticks),
        workers,
        measurement,
    })
}

/// What watching one phase collected.
struct Watched {
    pids: Vec<i32>,
    /// Every sample: one view per worker, in worker order.
    samples: Vec<Vec<ProcessView>>,
    first_ticks: Vec<CoreTicks>,
    last_ticks: Vec<CoreTicks>,
}

/// Forks the busy processes, pins them when given the cores to pin to, watches them until the
/// phase ends, and reaps them.
fn start_and_watch(
    lesson: &Lesson,
    watch: Watch,
    n_workers: usize,
    pin_to_cores: Option<&Vec<usize>>,
) -> anyhow::Result<Watched> {
    let started = Instant::now();
    let first_ticks = sampler::core_ticks().unwrap_or_default();
    let mut pids = Vec::with_capacity(n_workers);
    for _ in 0..n_workers {
        let duration = watch.phase;
        pids.push(course::children::fork(move || fry_eggs(duration))?);
    }
    if let Some(cores) = pin_to_cores {
        for (index, pid) in pids.iter().enumerate() {
            pin_to(*pid, cores[index % cores.len()])?;
        }
    }
    let samples = watch_until_done(lesson, watch, &pids);
    if pids.is_empty() {
        // No worker to wait for: sit out the rest of the phase, so that the counters cover
        // all of the time the lesson announced, not just up to the last sample.
        std::thread::sleep(watch.phase.saturating_sub(started.elapsed()));
    }
    let last_ticks = sampler::core_ticks().unwrap_or_default();
    for pid in &pids {
        let status = course::children::wait(*pid)?;
        if !matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)) {
            anyhow::bail!("a busy process ended badly: {status:?}");
        }
    }
    Ok(Watched {
        pids: pids.iter().map(|pid| pid.as_raw()).collect(),
        samples,
        first_ticks,
        last_ticks,
    })
}

/// Samples the cores and the workers every `interval` until the phase is over, drawing the
/// load live on a terminal (or a plain line now and then when printing to a file or pipe).
fn watch_until_done(lesson: &Lesson, watch: Watch, pids: &[nix::unistd::Pid]) -> Vec<Vec<ProcessView>> {
    let started = Instant::now();
    // The load shown is over the last quarter second: the counters tick only 100 times a
    // second, so a shorter window would flicker between 0% and 100%.
    let window = Duration::from_millis(250).max(watch.interval);
    let plain_every = watch.phase.min(Duration::from_secs(1)).max(watch.interval) / 2;
    let mut history: VecDeque<(Instant, Vec<CoreTicks>)> = VecDeque::new();
    history.extend(sampler::core_ticks().map(|ticks| (started, ticks)));
    let mut samples = Vec::new();
    let mut drawn_lines = 0;
    let mut last_plain = started;
    while started.elapsed() + watch.interval <= watch.phase {
        std::thread::sleep(watch.interval);
        let now = Instant::now();
        let views: Vec<ProcessView> = pids.iter().map(|pid| sampler::process(pid.as_raw())).collect();
        let Some(ticks) = sampler::core_ticks() else {
            samples.push(views);
            continue;
        };
        while history.len() > 1 && now.duration_since(history[1].0) >= window {
            history.pop_front();
        }
        let load = history
            .front()
            .map(|(_, before)| sampler::load_between(before, &ticks))
            .unwrap_or_default();
        history.push_back((now, ticks));
        let on_core = |core: usize| -> Vec<usize> {
            views
                .iter()
                .enumerate()
                .filter(|(_, view)| view.processor == Some(core))
                .map(|(index, _)| index + 1)
                .collect()
        };
        if lesson.is_live_terminal() {
            let mut lines: Vec<String> = load
                .iter()
                .enumerate()
                .map(|(core, share)| {
                    let workers = on_core(core);
                    let marks = if workers.is_empty() {
                        String::new()
                    } else {
                        let label = if workers.len() == 1 { "worker" } else { "workers" };
                        format!("  ← {label} {}", join_numbers(&workers))
                    };
                    format!(
                        "  cpu{core:<3}│{}│ {:>4}{marks}",
                        bar(*share, 1.0, 40),
                        format::percent(*share)
                    )
                })
                .collect();
            lines.push(format!(
                "  {} of {}",
                format::duration(started.elapsed()),
                format::duration(watch.phase)
            ));
            let mut text = String::new();
            if drawn_lines > 0 {
                text.push_str(&format!("\x1b[{drawn_lines}A"));
            }
            for line in &lines {
                text.push_str("\x1b[2K");
                text.push_str(line);
                text.push('\n');
            }
            lesson.write_raw(&text);
            drawn_lines = lines.len();
        } else if now.duration_since(last_plain) >= plain_every {
            last_plain = now;
            let cores: Vec<String> = load
                .iter()
                .enumerate()
                .map(|(core, share)| {
                    let workers = on_core(core);
                    let marks = if workers.is_empty() {
                        String::new()
                    } else {
                        format!(" [{}]", worker_labels(&workers))
                    };
                    format!("cpu{core} {:>4}{marks}", format::percent(*share))
                })
                .collect();
            say!(
                lesson,
                "  {:>7}  {}",
                format::duration(started.elapsed()),
                cores.join("   ")
            );
        }
        samples.push(views);
    }
    samples
}

/// Prints what a phase showed: each core's load over the phase, and each worker's path.
fn show_phase(lesson: &Lesson, report: &PhaseReport) {
    say!(lesson);
    let mut bars = Bars::new().width(40).max(1.0);
    for (core, share) in report.core_load.iter().enumerate() {
        bars.row(
            format!("cpu{core}"),
            *share,
            format!("{} busy", format::percent(*share)),
        );
    }
    if !report.core_load.is_empty() {
        say!(lesson, "  Load over the whole phase:");
        lesson.bars(&bars);
    }
    if !report.workers.is_empty() {
        let known = |value: Option<u64>| value.map_or("?".to_string(), format::count);
        let mut table = Table::new(&[
            "worker",
            "pinned to",
            "core at each sample",
            "cores",
            "moves seen",
            "kernel's count",
            "preempted",
            "CPU at last sample",
        ])
        .left(2);
        for (index, worker) in report.workers.iter().enumerate() {
            table.row([
                (index + 1).to_string(),
                worker.pinned_to.map_or("any".to_string(), |core| format!("cpu{core}")),
                timeline_text(&worker.timeline),
                worker.cores_visited.len().to_string(),
                format::count(worker.moves_seen as u64),
                known(worker.kernel_migrations),
                known(worker.involuntary_switches),
                format::seconds(worker.cpu_s),
            ]);
        }
        lesson.table(&table);
    }
    say!(
        lesson,
        "  {} samples; wall {}, CPU {} (the workers' and the watcher's, counted when the workers were reaped): {:.2} cores used.",
        report.samples,
        format::duration(report.measurement.wall),
        format::duration(report.measurement.cpu()),
        report.measurement.cores_used()
    );
}

/// The lecture's `how_to_fry_eggs_on_my_computer`: keeps a core busy for `duration`, then
/// exits. Returns the process's exit status.
fn fry_eggs(duration: Duration) -> i32 {
    let start = Instant::now();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while start.elapsed() < duration {
        for _ in 0..10_000 {
            // A xorshift step: work the compiler cannot skip.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        std::hint::black_box(state);
    }
    0
}

/// The CPUs this process may run on (its affinity mask), in order.
fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity};
        if let Ok(set) = sched_getaffinity(nix::unistd::Pid::from_raw(0)) {
            let cpus: Vec<usize> = (0..CpuSet::count())
                .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                .collect();
            if !cpus.is_empty() {
                return cpus;
            }
        }
    }
    (0..std::thread::available_parallelism().map(usize::from).unwrap_or(1)).collect()
}

/// Allows process `pid` to run on `cpu` only.
fn pin_to(pid: nix::unistd::Pid, cpu: usize) -> anyhow::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_setaffinity};
        let mut set = CpuSet::new();
        set.set(cpu)?;
        sched_setaffinity(pid, &set).map_err(|error| anyhow::anyhow!("could not pin a process to cpu{cpu}: {error}"))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, cpu);
        anyhow::bail!("pinning a process to a core is not available on this platform")
    }
}

/// `[1, 3]` as `1, 3`.
fn join_numbers(numbers: &[usize]) -> String {
    numbers.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")
}

/// Workers `[1, 3]` as `w1, w3`.
fn worker_labels(workers: &[usize]) -> String {
    workers
        .iter()
        .map(|worker| format!("w{worker}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cores of a timeline as one character each (`0`–`9`, then letters; `·` unknown), at
/// most 60 characters (every other sample, or fewer, for long phases).
fn timeline_text(timeline: &[Option<usize>]) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let step = timeline.len().div_ceil(60).max(1);
    timeline
        .iter()
        .step_by(step)
        .map(|core| match core {
            Some(core) if *core < DIGITS.len() => DIGITS[*core] as char,
            Some(_) => '+',
            None => '·',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_are_one_character_per_sample() {
        assert_eq!(timeline_text(&[Some(0), Some(1), None, Some(11)]), "01·b");
        let long: Vec<Option<usize>> = (0..150).map(|i| Some(i % 2)).collect();
        assert!(timeline_text(&long).len() <= 60);
        assert_eq!(join_numbers(&[1, 3]), "1, 3");
        assert_eq!(worker_labels(&[1, 2]), "w1, w2");
        assert_eq!(worker_labels(&[3]), "w3");
    }

    #[test]
    fn frying_eggs_takes_as_long_as_asked() {
        let start = Instant::now();
        assert_eq!(fry_eggs(Duration::from_millis(20)), 0);
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn this_process_may_run_somewhere() {
        assert!(!allowed_cpus().is_empty());
    }
}
