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
//! **How to run.** `cargo run -p lesson10_amdahl` (add `--quick`, `--json`, `--step`;
//! `--parallel 0.95 --workers 8` for the calculator, `--want 10` for the workers a speedup needs,
//! `--speedups 2:1.9,4:3.4` to find P from your own measurements; `--help` lists the knobs).
//! `--quiz --seed S` prints seeded questions on Amdahl and Karp–Flatt numbers instead, and
//! `--answers` reveals their answers, computed by the functions of `src/amdahl.rs`.

mod quiz;

use clap::Parser;
use course::chart::{Bars, Plot};
use course::table::Table;
use course::timing::{Comparison, ComparisonReport, format};
use course::{Lesson, say};
use lesson10_amdahl::amdahl;
use std::ops::Range;
use std::process::ExitCode;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 10: Amdahl's law. A calculator (speedup, efficiency, ceiling, workers needed), a \
job with a known serial part measured on 1..all cores and beyond against the prediction, the serial \
fraction read back from measurements (Karp-Flatt, a fit, or your own speedups), and Gustafson's \
scaled speedup."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Parallel fraction P, for the calculator and for the job measured in sections 2 to 4
    #[arg(long, value_name = "FRACTION", default_value_t = 0.9, value_parser = course::cli::fraction())]
    parallel: f64,
    /// A worker count to add to the calculator's table
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1_000_000))]
    workers: Option<usize>,
    /// A wanted speedup: the calculator says how many workers reach it, or that none can
    #[arg(long, value_name = "SPEEDUP", value_parser = parse_wanted_speedup)]
    want: Option<f64>,
    /// Your own measurements, as WORKERS:SPEEDUP pairs separated by commas (2:1.9,4:3.4), each
    /// speedup from 1 to WORKERS; the lesson reads the parallel fraction back from them
    #[arg(long, value_name = "N:SPEEDUP", value_delimiter = ',', value_parser = parse_measured_speedup)]
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

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("Amdahl's law");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let cores = lesson.machine().logical_cores;
        let max_threads = args.max_threads.unwrap_or(2 * cores);
        let items = args.items.unwrap_or(lesson.pick(20_000_000, 400_000_000)) as u64;
        lesson.param("max_threads", max_threads);
        lesson.param("items", items);

        calculator(lesson, args.parallel, args.workers, args.want);
        let sweep = measured_against_predicted(lesson, args.parallel, items, cores, max_threads)?;
        serial_fraction_from_measurements(lesson, args.parallel, &sweep, cores, &args.speedups);
        gustafson(lesson, args.parallel, items, cores)
    })
}

/// Section 1: the law as a calculator.
fn calculator(lesson: &Lesson, p: f64, extra_workers: Option<usize>, wanted: Option<f64>) {
    lesson.section("Amdahl's law: the calculator");
    say!(
        lesson,
        "  S(N) = 1 / ((1 − P) + P / N)      P: parallel fraction, N: workers"
    );
    say!(
        lesson,
        "  With P = {p}, the serial part takes {} of a one-worker run and never shrinks.",
        format::percent(1.0 - p)
    );
    say!(lesson);

    let cores = lesson.machine().logical_cores;
    let mut worker_counts: Vec<usize> = vec![1, 2, 4, 8, 16, 32, 64, 128, 1024, cores];
    worker_counts.extend(extra_workers);
    worker_counts.sort_unstable();
    worker_counts.dedup();
    let mut table = Table::new(&["workers", "speedup", "efficiency", "serial share of the run"]);
    let mut rows = Vec::new();
    for &n in &worker_counts {
        let speedup = amdahl::speedup(p, n as f64);
        let efficiency = amdahl::efficiency(p, n as f64);
        // On N workers the serial part is (1 − P) of the old time out of 1 / S(N) of it.
        let serial_share = (1.0 - p) * speedup;
        let marker = if n == cores { "  ← this machine" } else { "" };
        table.row([
            format!("{n}{marker}"),
            format::times(speedup),
            format::percent(efficiency),
            format::percent(serial_share),
        ]);
        rows.push(serde_json::json!({
            "workers": n, "speedup": speedup, "efficiency": efficiency, "serial_share": serial_share,
        }));
    }
    lesson.table(&table);
    let ceiling = amdahl::ceiling(p);
    say!(lesson);
    say!(
        lesson,
        "  Ceiling 1 / (1 − P) = {}: what infinitely many workers would reach.",
        if ceiling.is_finite() {
            format::times(ceiling)
        } else {
            "none (P = 1)".to_string()
        }
    );

    // How many workers a wanted speedup needs, or that none can reach it.
    let wanted_list: Vec<f64> = match wanted {
        Some(wanted) => vec![wanted],
        None => vec![2.0, 4.0, 8.0, 16.0, 32.0],
    };
    let mut needed = Vec::new();
    for wanted in wanted_list {
        let workers = amdahl::workers_for(p, wanted);
        match workers {
            Some(n) => say!(
                lesson,
                "  To run {} faster: {} worker{} (which give {}).",
                format::times(wanted),
                format::count(n),
                if n == 1 { "" } else { "s" },
                format::times(amdahl::speedup(p, n as f64))
            ),
            None => say!(
                lesson,
                "  To run {} faster: no number of workers can; the ceiling is {}.",
                format::times(wanted),
                format::times(ceiling)
            ),
        }
        needed.push(serde_json::json!({ "wanted_speedup": wanted, "workers": workers }));
    }

    // The curves for several parallel fractions, the user's among them.
    say!(lesson);
    let mut fractions = vec![0.5, 0.75, 0.9, 0.95];
    if !fractions.iter().any(|&f| (f - p).abs() < 1e-9) {
        fractions.push(p);
    }
    let marks = ['a', 'b', 'c', 'd', '*'];
    let mut plot = Plot::new("workers N (log scale)", "speedup S(N)").size(60, 14).log_x();
    for (fraction, mark) in fractions.iter().zip(marks) {
        // Points at N = 2^(k/2), 1 to 1024: even spacing on the log axis, far enough for every
        // curve to flatten out under its ceiling.
        let points = (0..=20)
            .map(|k| {
                let n = 2f64.powf(k as f64 / 2.0);
                (n, amdahl::speedup(*fraction, n))
            })
            .collect();
        plot.series(format!("P={fraction}"), mark, points);
    }
    lesson.plot(&plot);

    lesson.figure("parallel_fraction", p);
    lesson.figure("ceiling", if ceiling.is_finite() { Some(ceiling) } else { None });
    lesson.figure("table", &rows);
    lesson.figure("workers_needed", &needed);
    lesson.notice(&format!(
        "With P = {p} the speedup can never pass {}, and each added worker brings less than the one before: efficiency falls from the start.",
        if ceiling.is_finite() { format::times(ceiling) } else { "N".to_string() }
    ));
}

/// One measured point of the sweep.
#[derive(Clone, Debug, serde::Serialize)]
struct SweepPoint {
    threads: usize,
    /// Amdahl's prediction for `threads` workers.
    predicted_speedup: f64,
    /// Amdahl's prediction for the workers that can run at once: min(threads, cores).
    predicted_on_these_cores: f64,
    measured_speedup: f64,
    /// (measured − predicted on these cores) / predicted on these cores.
    relative_error: f64,
    oversubscribed: bool,
}

/// Section 2: a job with a known serial part, measured on 1..all cores and beyond.
fn measured_against_predicted(
    lesson: &Lesson,
    p: f64,
    items: u64,
    cores: usize,
    max_threads: usize,
) -> anyhow::Result<Vec<SweepPoint>> {
    lesson.section("Measured against the prediction");
    let job = Job::with_parallel_fraction(items, p);
    say!(
        lesson,
        "  The job: {} items of arithmetic. The first {} run on one thread before any other starts",
        format::count(job.total_items()),
        format::count(job.serial.end - job.serial.start)
    );
    say!(
        lesson,
        "  (the serial part); the other {} are split evenly among N threads (the parallel part).",
        format::count(job.parallel.end - job.parallel.start)
    );
    say!(
        lesson,
        "  Built with P = {p}: every item costs the same, so P is also the share of the one-thread time."
    );
    say!(lesson);

    let thread_counts = sweep_thread_counts(cores, max_threads);
    // The median of five runs: a short burst of other work on the machine spoils one run, not the figure.
    let mut comparison = Comparison::new(format!("a job with P = {p}")).repeats(1, lesson.pick(1, 5));
    comparison.variant("1 thread", 1, || job_sequential(&job));
    for &n in thread_counts.iter().filter(|&&n| n > 1) {
        let name = if n > cores {
            format!("{n} threads (oversubscribed)")
        } else {
            format!("{n} threads")
        };
        comparison.variant(name, n, || job_parallel(&job, n));
    }
    let report = lesson.compare(comparison)?;

    let sweep = sweep_points(&report, p, cores);
    say!(lesson);
    let mut table = Table::new(&[
        "threads",
        "Amdahl S(N)",
        &format!("on {}", plural(cores, "core")),
        "measured",
        "error",
    ]);
    for point in &sweep {
        table.row([
            format!("{}{}", point.threads, if point.oversubscribed { " *" } else { "" }),
            format::times(point.predicted_speedup),
            format::times(point.predicted_on_these_cores),
            format::times(point.measured_speedup),
            signed_percent(point.relative_error),
        ]);
    }
    lesson.table(&table);
    if sweep.iter().any(|point| point.oversubscribed) {
        say!(
            lesson,
            "  * more threads than cores: the threads take turns, so the machine still has {}.",
            plural(cores, "worker")
        );
    }
    let mut plot = Plot::new("threads", "speedup").size(48, 10);
    plot.series(
        "Amdahl S(N)",
        'o',
        sweep
            .iter()
            .map(|pt| (pt.threads as f64, pt.predicted_speedup))
            .collect(),
    );
    plot.series(
        "measured",
        '*',
        sweep
            .iter()
            .map(|pt| (pt.threads as f64, pt.measured_speedup))
            .collect(),
    );
    say!(lesson);
    lesson.plot(&plot);

    let within_cores: Vec<&SweepPoint> = sweep.iter().filter(|pt| !pt.oversubscribed).collect();
    let worst = within_cores
        .iter()
        .map(|pt| pt.relative_error.abs())
        .fold(0.0, f64::max);
    say!(lesson);
    say!(
        lesson,
        "  Largest gap between measurement and prediction up to {}: {}.",
        plural(cores, "thread"),
        format::percent(worst)
    );
    if worst > 0.10 && !lesson.quick() {
        lesson.warn(&format!(
            "the measured speedup is {} off the prediction: another program is probably busy on this machine (see `uptime`)",
            format::percent(worst)
        ));
    }
    lesson.figure("job", &job);
    lesson.figure("sweep", &sweep);
    lesson.figure("max_relative_error_within_cores", worst);
    lesson.figure("within_10_percent", worst <= 0.10);
    if worst > 0.10 {
        let why = if lesson.quick() {
            "with --quick the job takes milliseconds, too short to time well, or another program was busy"
        } else {
            "another program was busy on this machine while it ran"
        };
        lesson.notice(&format!(
            "This time the measurement is off: up to the number of cores it missed Amdahl's curve by as much as {} ({why}); run the lesson again on a quiet machine. Past the cores, extra threads only take turns on the same cores.",
            format::percent(worst)
        ));
    } else {
        lesson.notice(
            "Up to the number of cores the measured speedup follows Amdahl's curve; past it, extra threads only take turns on the same cores and the speedup stops rising.",
        );
    }
    Ok(sweep)
}

/// Section 3: from measured speedups back to the serial fraction.
fn serial_fraction_from_measurements(
    lesson: &Lesson,
    p: f64,
    sweep: &[SweepPoint],
    cores: usize,
    user_speedups: &[(usize, f64)],
) {
    lesson.section("From measurements back to P: Karp–Flatt and a fit");
    say!(
        lesson,
        "  Karp–Flatt: the serial fraction a measured speedup S on N workers implies,"
    );
    say!(
        lesson,
        "  e = (1/S − 1/N) / (1 − 1/N). Amdahl's law holds exactly when e is the same at every N."
    );
    say!(lesson);

    let mut table = Table::new(&["threads", "measured", "serial fraction e", "parallel 1 − e"]);
    let mut karp_flatt = Vec::new();
    for point in sweep.iter().filter(|pt| pt.threads > 1) {
        if let Some(e) = amdahl::karp_flatt(point.measured_speedup, point.threads as f64) {
            table.row([
                format!("{}{}", point.threads, if point.oversubscribed { " *" } else { "" }),
                format::times(point.measured_speedup),
                format!("{e:.3}"),
                format!("{:.3}", 1.0 - e),
            ]);
            karp_flatt.push(serde_json::json!({
                "threads": point.threads, "serial_fraction": e, "oversubscribed": point.oversubscribed,
            }));
        }
    }
    if table.is_empty() {
        say!(
            lesson,
            "  (No measurement with more than one thread: raise --max-threads to see the serial fraction.)"
        );
    } else {
        lesson.table(&table);
    }

    // The fit uses the points where N threads really had N cores.
    let points: Vec<(f64, f64)> = sweep
        .iter()
        .filter(|pt| !pt.oversubscribed)
        .map(|pt| (pt.threads as f64, pt.measured_speedup))
        .collect();
    let fit = amdahl::fit_parallel_fraction(&points);
    say!(lesson);
    match &fit {
        Some(fit) if fit.points_used == 1 => say!(
            lesson,
            "  From the one measurement on more than one core: P = {:.3} (built in: {p}{}).",
            fit.parallel_fraction,
            clamped_note(fit, "; ")
        ),
        Some(fit) => say!(
            lesson,
            "  Fitted over 1..{cores} threads: P = {:.3} (built in: {p}{}); the fitted curve is off the measurements by {} on average.",
            fit.parallel_fraction,
            clamped_note(fit, "; "),
            format::percent(fit.rms_relative_error)
        ),
        None => say!(lesson, "  No fit: it needs a measurement on more than one core."),
    }
    if sweep.iter().any(|pt| pt.oversubscribed) {
        say!(
            lesson,
            "  Past {}, e climbs: extra threads add no worker, so Karp–Flatt blames a growing 'serial' part.",
            plural(cores, "core")
        );
    }
    lesson.figure("karp_flatt", &karp_flatt);
    lesson.figure("fit", fit);

    // The user's own measurements, if any.
    say!(lesson);
    if user_speedups.is_empty() {
        say!(
            lesson,
            "  Measured a program of your own? `--speedups 2:1.9,4:3.4,8:5.6` reads its parallel fraction back."
        );
    } else {
        say!(lesson, "  Your measurements:");
        let mut table = Table::new(&["workers", "speedup", "serial fraction e"]);
        for &(n, speedup) in user_speedups {
            let e = amdahl::karp_flatt(speedup, n as f64);
            table.row([
                n.to_string(),
                format::times(speedup),
                e.map_or("(needs N > 1)".to_string(), |e| format!("{e:.3}")),
            ]);
        }
        lesson.table(&table);
        let points: Vec<(f64, f64)> = user_speedups.iter().map(|&(n, s)| (n as f64, s)).collect();
        let user_fit = amdahl::fit_parallel_fraction(&points);
        match &user_fit {
            Some(fit) => {
                let largest = user_speedups.iter().map(|&(n, _)| n).max().unwrap_or(1);
                // Two, four and eight times the most workers measured: with 2 and 4 measured,
                // 8, 16 and 32.
                let expected: Vec<String> = [2, 4, 8]
                    .iter()
                    .map(|factor| {
                        let n = factor * largest;
                        format!(
                            "on {} expect {}",
                            plural(n, "worker"),
                            format::times(amdahl::speedup(fit.parallel_fraction, n as f64))
                        )
                    })
                    .collect();
                say!(
                    lesson,
                    "  Fitted P = {:.3}{}: {}; the ceiling is {}.",
                    fit.parallel_fraction,
                    clamped_note(fit, " ("),
                    expected.join(", "),
                    format::times(amdahl::ceiling(fit.parallel_fraction))
                );
            }
            None => say!(
                lesson,
                "  No fit: give at least one measurement with more than one worker."
            ),
        }
        lesson.figure("your_fit", user_fit);
    }
    lesson.notice(
        "A speedup measured on a few cores is enough to estimate P, and with it the ceiling of adding more cores; a serial fraction that grows with N points at overhead, not at the code's serial part.",
    );
}

/// Section 4: Gustafson, the job grows with the machine.
fn gustafson(lesson: &Lesson, p: f64, items: u64, cores: usize) -> anyhow::Result<()> {
    lesson.section("Gustafson: when the problem grows with the machine");
    say!(
        lesson,
        "  Amdahl keeps the job fixed. Usually we buy more cores to solve bigger problems: give each"
    );
    say!(
        lesson,
        "  of N workers as much parallel work as one had, keep the serial part, and compare with the"
    );
    say!(
        lesson,
        "  time one worker would need for that bigger job. Scaled speedup: S = (1 − P) + P · N."
    );
    say!(lesson);
    let mut table = Table::new(&["workers", "Amdahl (fixed job)", "Gustafson (scaled job)"]);
    let mut rows = Vec::new();
    for n in [2usize, 4, 8, 16, 64, 1024] {
        let fixed = amdahl::speedup(p, n as f64);
        let scaled = amdahl::scaled_speedup(p, n as f64);
        table.row([n.to_string(), format::times(fixed), format::times(scaled)]);
        rows.push(serde_json::json!({ "workers": n, "amdahl": fixed, "gustafson": scaled }));
    }
    lesson.table(&table);
    lesson.figure("laws", &rows);

    // Measured: the scaled job on N threads against the same scaled job on one thread.
    let base = Job::with_parallel_fraction(items / 2, p);
    let base_serial = base.serial.end - base.serial.start;
    let base_parallel = base.parallel.end - base.parallel.start;
    let counts = scaled_thread_counts(cores);
    if !counts.is_empty() {
        say!(lesson);
        say!(
            lesson,
            "  Measured: a base job of {} items (half of section 2's, so that the scaled jobs stay short),",
            format::count(base.total_items())
        );
        say!(
            lesson,
            "  {} serial and {} parallel (P = {p}). Scaled for N workers, it keeps its serial items and",
            format::count(base_serial),
            format::count(base_parallel)
        );
        say!(
            lesson,
            "  gets N times its parallel items; one thread and N threads each run the scaled job."
        );
    }
    let mut measured = Vec::new();
    let mut bars = Bars::new().width(30);
    for n in counts {
        let job = base.scaled(n as u64);
        say!(lesson);
        say!(
            lesson,
            "  The job scaled for {n} workers: the base job's {} serial items, and {n} × {} = {} parallel items.",
            format::count(job.serial.end - job.serial.start),
            format::count(base_parallel),
            format::count(job.parallel.end - job.parallel.start)
        );
        let mut comparison = Comparison::new(format!("the job scaled for {n} workers")).repeats(0, lesson.pick(1, 3));
        comparison.variant("1 thread", 1, || job_sequential(&job));
        comparison.variant(format!("{n} threads"), n, || job_parallel(&job, n));
        let report = lesson.compare(comparison)?;
        let measured_speedup = report.rows.last().map_or(0.0, |row| row.speedup);
        let predicted = amdahl::scaled_speedup(p, n as f64);
        bars.row(format!("{n} workers, predicted"), predicted, format::times(predicted));
        bars.row(
            format!("{n} workers, measured"),
            measured_speedup,
            format::times(measured_speedup),
        );
        measured.push(serde_json::json!({
            "workers": n,
            "predicted_scaled_speedup": predicted,
            "measured_scaled_speedup": measured_speedup,
            "relative_error": (measured_speedup - predicted) / predicted,
            "amdahl_for_the_fixed_job": amdahl::speedup(p, n as f64),
        }));
    }
    if measured.is_empty() {
        say!(lesson);
        say!(lesson, "  (One core only: a scaled job cannot be measured here.)");
    } else {
        say!(lesson);
        say!(
            lesson,
            "  Scaled speedup, Gustafson's prediction against the measurement:"
        );
        lesson.bars(&bars);
    }
    lesson.figure("measured", &measured);
    lesson.notice(
        "Both laws are right: a fixed job is capped by its serial part (Amdahl), but a job that grows with the machine keeps the serial part small in proportion, and the speedup grows almost with N (Gustafson).",
    );
    Ok(())
}

/// A job of `serial.len() + parallel.len()` equal items: the serial items run on one thread,
/// the parallel items are shared out among the threads. Its answer is the wrapping sum of
/// [`item`] over every index, whoever computes it.
#[derive(Clone, Debug, serde::Serialize)]
struct Job {
    serial: Range<u64>,
    parallel: Range<u64>,
}

impl Job {
    /// `items` items of which a fraction `1 − p` (rounded) is serial.
    fn with_parallel_fraction(items: u64, p: f64) -> Job {
        let serial_items = ((1.0 - p) * items as f64).round() as u64;
        Job {
            serial: 0..serial_items,
            parallel: serial_items..items,
        }
    }

    /// The same serial part, with `factor` times the parallel items (Gustafson's scaled job).
    fn scaled(&self, factor: u64) -> Job {
        let parallel_items = (self.parallel.end - self.parallel.start) * factor;
        Job {
            serial: self.serial.clone(),
            parallel: self.parallel.start..self.parallel.start + parallel_items,
        }
    }

    fn total_items(&self) -> u64 {
        self.parallel.end
    }
}

/// The whole job on the calling thread: the serial part, then the parallel part.
fn job_sequential(job: &Job) -> u64 {
    sum_items(job.serial.clone()).wrapping_add(sum_items(job.parallel.clone()))
}

/// The same job on `n_threads`: the serial part on one thread while nothing else runs, then
/// the parallel part cut into `n_threads` ranges that differ by at most one item.
fn job_parallel(job: &Job, n_threads: usize) -> u64 {
    // The serial part really is serial: no other thread exists yet while it runs.
    let serial = sum_items(job.serial.clone());
    let parallel = std::thread::scope(|scope| {
        let workers: Vec<_> = split_evenly(job.parallel.clone(), n_threads)
            .into_iter()
            .map(|range| scope.spawn(move || sum_items(range)))
            .collect();
        // The threads share nothing while they work; each hands back one number at the end.
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker thread panicked"))
            .fold(0u64, u64::wrapping_add)
    });
    serial.wrapping_add(parallel)
}

/// `range` cut into `parts` consecutive ranges whose lengths differ by at most one.
fn split_evenly(range: Range<u64>, parts: usize) -> Vec<Range<u64>> {
    let parts = parts.max(1) as u64;
    let length = range.end - range.start;
    (0..parts)
        .map(|i| range.start + length * i / parts..range.start + length * (i + 1) / parts)
        .collect()
}

/// The wrapping sum of [`item`] over `range`.
fn sum_items(range: Range<u64>) -> u64 {
    range.map(item).fold(0, u64::wrapping_add)
}

/// One item of work, about a nanosecond: SplitMix64's mixing function of the item's index.
/// Every item costs the same and none depends on another, so a range of items can be split
/// anywhere without changing the answer or the cost per item.
fn item(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Thread counts for the sweep: every count up to the cores (powers of two and the core
/// count on big machines), then beyond the cores: one more, and doubling up to `max_threads`.
fn sweep_thread_counts(cores: usize, max_threads: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = if cores <= 8 {
        (1..=cores).collect()
    } else {
        let mut powers: Vec<usize> = std::iter::successors(Some(1usize), |n| Some(n * 2))
            .take_while(|&n| n < cores)
            .collect();
        powers.push(cores);
        powers
    };
    counts.push(cores + 1);
    counts.extend(std::iter::successors(Some(2 * cores), |n| Some(n * 2)).take_while(|&n| n <= max_threads));
    counts.retain(|&n| n <= max_threads);
    counts.sort_unstable();
    counts.dedup();
    counts
}

/// Worker counts for the scaled (Gustafson) measurement: 2, 4, … up to the cores, and the
/// cores themselves; none on a single core.
fn scaled_thread_counts(cores: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = std::iter::successors(Some(2usize), |n| Some(n * 2))
        .take_while(|&n| n < cores)
        .collect();
    if cores >= 2 {
        counts.push(cores);
    }
    counts
}

/// The sweep's rows, with Amdahl's prediction beside each measured speedup.
fn sweep_points(report: &ComparisonReport, p: f64, cores: usize) -> Vec<SweepPoint> {
    report
        .rows
        .iter()
        .map(|row| {
            let threads = row.workers;
            let predicted_on_these_cores = amdahl::speedup(p, threads.min(cores) as f64);
            SweepPoint {
                threads,
                predicted_speedup: amdahl::speedup(p, threads as f64),
                predicted_on_these_cores,
                measured_speedup: row.speedup,
                relative_error: (row.speedup - predicted_on_these_cores) / predicted_on_these_cores,
                oversubscribed: threads > cores,
            }
        })
        .collect()
}

/// What to add after a fitted P that had to be clamped into 0..1, after `lead` (`"; "` inside
/// parentheses already open, `" ("` to open them); nothing when it was not clamped.
fn clamped_note(fit: &amdahl::Fit, lead: &str) -> String {
    if !fit.clamped {
        return String::new();
    }
    let note = "clamped to 0..1: no parallel fraction fits these measurements well";
    if lead.ends_with('(') {
        format!("{lead}{note})")
    } else {
        format!("{lead}{note}")
    }
}

/// `1 core`, `2 cores`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

/// `+3.1%` / `−0.4%`.
fn signed_percent(fraction: f64) -> String {
    let sign = if fraction < 0.0 { "−" } else { "+" };
    format!("{sign}{}", format::percent(fraction.abs()))
}

/// `--want`: a speedup of at least 1.
fn parse_wanted_speedup(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| "not a number".to_string())?;
    if !value.is_finite() || value < 1.0 {
        return Err("a wanted speedup is at least 1".to_string());
    }
    Ok(value)
}

/// `--speedups`: one `WORKERS:SPEEDUP` pair, where the speedup is from 1 to the number of
/// workers: Amdahl's law never gives less than one worker's speed, nor more than linear.
fn parse_measured_speedup(text: &str) -> Result<(usize, f64), String> {
    let (workers, speedup) = text
        .split_once(':')
        .ok_or_else(|| "expected WORKERS:SPEEDUP, like 4:3.4".to_string())?;
    let workers: usize = workers
        .trim()
        .parse()
        .map_err(|_| format!("'{workers}' is not a whole number of workers"))?;
    if !(1..=1_000_000).contains(&workers) {
        return Err("the number of workers must be from 1 to 1000000".to_string());
    }
    let speedup: f64 = speedup
        .trim()
        .parse()
        .map_err(|_| format!("'{speedup}' is not a number"))?;
    if !speedup.is_finite() || speedup <= 0.0 {
        return Err("a speedup is a positive number".to_string());
    }
    if speedup < 1.0 {
        return Err(format!(
            "a speedup of {speedup} on {} is below 1, slower than one worker: Amdahl's law allows from 1 to N on N workers",
            plural(workers, "worker")
        ));
    }
    if speedup > workers as f64 {
        return Err(format!(
            "a speedup of {speedup} on {} is above {workers}: Amdahl's law allows at most N on N workers",
            plural(workers, "worker")
        ));
    }
    Ok((workers, speedup))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_split_computes_the_same_answer() {
        let job = Job::with_parallel_fraction(100_003, 0.9);
        let expected = job_sequential(&job);
        assert_eq!(expected, sum_items(0..100_003));
        for n in [1, 2, 3, 4, 7, 16] {
            assert_eq!(job_parallel(&job, n), expected, "{n} threads");
        }
        let scaled = job.scaled(3);
        assert_eq!(job_parallel(&scaled, 3), job_sequential(&scaled));
    }

    #[test]
    fn jobs_have_the_serial_share_they_were_built_with() {
        let job = Job::with_parallel_fraction(1000, 0.9);
        assert_eq!(job.serial, 0..100);
        assert_eq!(job.parallel, 100..1000);
        assert_eq!(Job::with_parallel_fraction(1000, 1.0).serial, 0..0);
        assert_eq!(Job::with_parallel_fraction(1000, 0.0).parallel, 1000..1000);
        let scaled = job.scaled(4);
        assert_eq!(scaled.serial, 0..100);
        assert_eq!(scaled.parallel.end - scaled.parallel.start, 3600);
    }

    #[test]
    fn splits_are_even_and_cover_the_range() {
        let parts = split_evenly(10..20, 3);
        assert_eq!(parts, vec![10..13, 13..16, 16..20]);
        let lengths: Vec<u64> = split_evenly(0..1_000_001, 7).iter().map(|r| r.end - r.start).collect();
        assert!(lengths.iter().max().unwrap() - lengths.iter().min().unwrap() <= 1);
        assert_eq!(lengths.iter().sum::<u64>(), 1_000_001);
    }

    #[test]
    fn the_sweep_goes_beyond_the_cores() {
        assert_eq!(sweep_thread_counts(2, 4), vec![1, 2, 3, 4]);
        assert_eq!(sweep_thread_counts(4, 8), vec![1, 2, 3, 4, 5, 8]);
        assert_eq!(sweep_thread_counts(16, 32), vec![1, 2, 4, 8, 16, 17, 32]);
        assert_eq!(sweep_thread_counts(2, 1), vec![1]);
        assert_eq!(sweep_thread_counts(1, 2), vec![1, 2]);
        assert_eq!(scaled_thread_counts(2), vec![2]);
        assert_eq!(scaled_thread_counts(8), vec![2, 4, 8]);
        assert!(scaled_thread_counts(1).is_empty());
    }

    #[test]
    fn a_clamped_fit_says_so() {
        let mut fit = amdahl::fit_parallel_fraction(&[(2.0, 0.8)]).unwrap();
        assert!(fit.clamped);
        assert_eq!(fit.parallel_fraction, 0.0);
        assert!(clamped_note(&fit, "; ").starts_with("; clamped to 0..1"));
        assert!(clamped_note(&fit, " (").ends_with("well)"));
        fit.clamped = false;
        assert_eq!(clamped_note(&fit, "; "), "");
    }

    #[test]
    fn measured_speedups_are_checked() {
        assert_eq!(parse_measured_speedup("4:3.4"), Ok((4, 3.4)));
        assert_eq!(parse_measured_speedup(" 2 : 2 "), Ok((2, 2.0)));
        assert!(parse_measured_speedup("2:2.5").unwrap_err().contains("above 2"));
        assert!(parse_measured_speedup("1:1.5").unwrap_err().contains("on 1 worker is"));
        assert!(parse_measured_speedup("2:0.5").unwrap_err().contains("below 1"));
        assert_eq!(parse_measured_speedup("1:1"), Ok((1, 1.0)));
        assert!(parse_measured_speedup("0:1").is_err());
        assert!(parse_measured_speedup("4").is_err());
        assert!(parse_measured_speedup("4:-1").is_err());
        assert!(parse_measured_speedup("x:1").is_err());
        assert!(parse_measured_speedup("4:NaN").is_err());
        assert!(parse_wanted_speedup("0.5").is_err());
        assert!(parse_wanted_speedup("inf").is_err());
        assert_eq!(parse_wanted_speedup("10"), Ok(10.0));
    }
}
