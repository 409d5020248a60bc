//! # Lesson 07 · Waiting, not computing: thread pools for I/O
//!
//! **Objective.** Fetch user records from a slow server (a real one, on this machine) one after
//! another, then from a pool of worker threads, as the lecture does with GitHub's user API and a
//! `ThreadPoolExecutor`. Profile both the way the lecture advises, CPU time against wall time,
//! and let that tell waiting from computing. Then run the same pool on a CPU-bound job, and see
//! failures (server errors, timeouts) reported per request while the run goes on.
//!
//! **What to observe.** Fetching is waiting: the sequential run uses almost no CPU (cores used
//! near 0), and a pool of N workers is close to N× faster, until the server's limit or the
//! number of requests stops it, even on a 2-core machine. The CPU-bound job is the opposite:
//! cores used near 1 per busy worker, and no speedup beyond the number of cores. In Rust both
//! kinds of work speed up with threads: there is no GIL. A failed request costs one worker one
//! timeout; the others carry on, and every record is fetched exactly once.
//!
//! **How to run.** `cargo run -p lesson07_io_bound` (add `--quick`, `--json`, `--step`;
//! `--help` lists the knobs: requests, workers, the server's delay, limit and failure rates).

use clap::Parser;
use course::chart::{Bars, Plot};
use course::table::Table;
use course::timing::{self, Comparison, ComparisonReport, Latencies, Measurement, Runs, format};
use course::{Lesson, say};
use serde::Serialize;
use slowserver::client::Connection;
use slowserver::{Config, Fate, FetchError, ServerProcess, Stats, UserRecord, fetch_user, protocol, system};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 07: waiting is not computing. Fetches user records from a slow local server one \
after another, then from a pool of worker threads (close to N times faster with N workers), tells \
waiting from computing by CPU time against wall time, runs the same pool on a CPU-bound job, and \
reports failed requests one by one while the run goes on."
)]
struct Args {
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
}

/// One request's outcome: the record, or why there is none.
type FetchResult = Result<UserRecord, FetchError>;

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(
        course::info!("Waiting, not computing: thread pools for I/O"),
        &args.common,
        &args,
        |lesson| {
            let settings = Settings::from_args(&args, lesson)?;
            // The servers are started first, while this process has a single thread: each is a
            // forked child process, so its CPU time is not counted as ours.
            let reliable = ServerProcess::start(&settings.server_config(0.0, 0.0))?;
            let flaky = ServerProcess::start(&settings.server_config(args.error_rate, args.timeout_rate))?;
            let logins = logins(settings.requests);

            let sweep = one_after_another_then_a_pool(lesson, &settings, &reliable, &logins)?;
            cpu_time_against_wall_time(lesson, &settings, &reliable, &logins, &sweep)?;
            the_same_pool_computing(lesson, &settings)?;
            failures_reported_per_request(lesson, &settings, &flaky, &logins)?;
            shutting_the_servers_down(lesson, reliable, flaky)
        },
    )
}

/// Section 1: the lecture's `users_info` and `users_info_thr`, timed side by side.
fn one_after_another_then_a_pool(
    lesson: &Lesson,
    settings: &Settings,
    server: &ServerProcess,
    logins: &[String],
) -> anyhow::Result<ComparisonReport> {
    lesson.section("One request after another, then a pool of threads");
    let requests = logins.len();
    say!(
        lesson,
        "  The server listens on {} (child process {}). It answers each `GET user <login>` after",
        server.addr(),
        server.pid()
    );
    say!(
        lesson,
        "  {} ± {}, and works on at most {} requests at once (the others queue, as a real API",
        format::duration(settings.delay),
        format::duration(settings.jitter),
        settings.server_limit
    );
    say!(
        lesson,
        "  limits each client). We fetch {requests} user records: first one after another,"
    );
    say!(
        lesson,
        "  then with pools of worker threads that take logins from one queue (ThreadPoolExecutor's model)."
    );
    say!(lesson);

    let pool_sizes = pool_sizes(settings.workers, requests);
    let mut comparison = Comparison::new(format!("fetch {requests} user records"));
    let (fetched, _, measurement) =
        timed_fetch(server, logins, || users_info(server.addr(), logins, settings.timeout))?;
    comparison.add_measured("sequential", 1, vec![fetched], Runs::from(measurement));
    for &workers in &pool_sizes {
        let (fetched, _, measurement) = timed_fetch(server, logins, || {
            users_info_pooled(server.addr(), logins, settings.timeout, workers)
        })?;
        comparison.add_measured(
            format!("pool of {workers}"),
            workers,
            vec![fetched],
            Runs::from(measurement),
        );
    }
    let report = lesson.compare(comparison)?;
    say!(
        lesson,
        "  ✓ every variant fetched each of the {requests} records exactly once (checked against the server's count)"
    );

    // What the speedup should be: the requests go in rounds of min(workers, server limit).
    say!(lesson);
    say!(
        lesson,
        "  Expected: rounds of min(workers, server limit) requests, each round one delay long."
    );
    let mut table = Table::new(&["variant", "at once", "rounds", "ideal", "measured", "limited by"]);
    let mut measured_points = Vec::new();
    let mut ideal_points = Vec::new();
    for row in &report.rows {
        let expected = Expected::new(row.workers, settings.server_limit, requests);
        table.row([
            row.name.clone(),
            expected.at_once.to_string(),
            expected.rounds.to_string(),
            format::times(expected.speedup),
            format::times(row.speedup),
            expected.limited_by.to_string(),
        ]);
        measured_points.push((row.workers as f64, row.speedup));
        ideal_points.push((row.workers as f64, expected.speedup));
    }
    lesson.table(&table);
    let mut plot = Plot::new("workers", "speedup").size(48, 12).log_x();
    plot.series("ideal", '·', ideal_points)
        .series("measured", '●', measured_points);
    say!(lesson);
    lesson.plot(&plot);

    let headline_name = format!("pool of {}", settings.workers);
    let headline = report.row(&headline_name).map_or(0.0, |row| row.speedup);
    lesson.figure("requests", requests);
    lesson.figure("pool_sizes", &pool_sizes);
    lesson.figure("each_record_fetched_exactly_once", true);
    lesson.figure(
        "headline",
        serde_json::json!({
            "workers": settings.workers,
            "requests": requests,
            "speedup_over_sequential": headline,
        }),
    );
    lesson.notice(&format!(
        "With {} workers the {requests} fetches ran {} faster on {} cores: the threads spend their time \
waiting, and waits overlap. Past the server's limit ({}) or the number of requests, more workers add nothing.",
        settings.workers,
        format::times(headline),
        lesson.machine().logical_cores,
        settings.server_limit
    ));
    Ok(report)
}

/// Section 2: the lecture's advice, measured. CPU time far below wall time means waiting.
fn cpu_time_against_wall_time(
    lesson: &Lesson,
    settings: &Settings,
    server: &ServerProcess,
    logins: &[String],
    sweep: &ComparisonReport,
) -> anyhow::Result<()> {
    lesson.section("Profiling: CPU time against wall time");
    say!(
        lesson,
        "  First profile the plain version. If its CPU time is far below its wall time, it is waiting,"
    );
    say!(
        lesson,
        "  and threads will help; if the two are close, it is computing, and only more cores help."
    );
    say!(lesson);
    let cores = lesson.machine().logical_cores;
    let profiles = profile_table(lesson, cores, &sweep.rows);

    // Where one request's time goes, step by step, like a profiler's breakdown.
    let sample: Vec<String> = logins.iter().take(16).cloned().collect();
    let phases = profile_request_phases(server.addr(), &sample, settings.timeout)?;
    say!(lesson);
    say!(
        lesson,
        "  Where the time of one request goes ({} requests, one after another):",
        sample.len()
    );
    let rows: Vec<(&str, &Latencies)> = phases.iter().map(|(name, latencies)| (*name, latencies)).collect();
    lesson.latencies("request_phases", &rows);
    let whole = phases
        .iter()
        .find(|(name, _)| *name == WHOLE_REQUEST)
        .map(|(_, latencies)| latencies.summary().mean)
        .unwrap_or_default();
    let mut bars = Bars::new().width(30).max(1.0);
    let mut shares = serde_json::Map::new();
    for (name, latencies) in phases.iter().filter(|(name, _)| *name != WHOLE_REQUEST) {
        let share = timing::ratio(latencies.summary().mean, whole);
        bars.row(*name, share, format::percent(share));
        shares.insert(name.to_string(), share.into());
    }
    say!(lesson);
    say!(lesson, "  share of a request's time:");
    lesson.bars(&bars);
    lesson.figure("profiles", &profiles);
    lesson.figure("request_phase_shares", shares);

    let sequential = sweep.rows.first().map_or(0.0, |row| row.cores_used);
    lesson.figure("sequential_cores_used", sequential);
    lesson.notice(&format!(
        "The sequential run kept {} of a core busy: almost all of its time was spent waiting for replies, \
so overlapping the waits is what helps, and a thread per concurrent wait is cheap.",
        format::percent(sequential)
    ));
    Ok(())
}

/// Section 3: the same pool, given work that computes instead of waits.
fn the_same_pool_computing(lesson: &Lesson, settings: &Settings) -> anyhow::Result<()> {
    lesson.section("The same pool on a CPU-bound job");
    let cores = lesson.machine().logical_cores;
    let numbers = cpu_numbers(lesson.pick(1_000_000, 20_000_000), 16, settings.seed);
    say!(
        lesson,
        "  The lecture's count_prime (which counts divisors) on {} numbers near {}: pure computation.",
        numbers.len(),
        format::count(numbers[0])
    );
    let mut comparison =
        Comparison::new(format!("divisors of {} numbers", numbers.len())).repeats(0, lesson.pick(1, 3));
    comparison.variant("sequential", 1, || count_divisors_sequential(&numbers));
    let mut pool_sizes = vec![cores];
    if settings.workers != cores {
        pool_sizes.push(settings.workers);
    }
    for &workers in &pool_sizes {
        comparison.variant(format!("pool of {workers}"), workers, || {
            count_divisors_pooled(&numbers, workers)
        });
    }
    let report = lesson.compare(comparison)?;
    say!(lesson);
    let profiles = profile_table(lesson, cores, &report.rows);
    lesson.figure("profiles", &profiles);
    let best = report.rows.iter().map(|row| row.speedup).fold(0.0, f64::max);
    if cores > 1 && best < 0.75 * cores as f64 {
        say!(
            lesson,
            "  Less than {cores}×: other programs were using the cores too (load average now: {}).",
            load_average().unwrap_or_else(|| "unknown".to_string())
        );
    }
    lesson.figure("cpu_speedup_best", best);
    lesson.figure("cores", cores);
    lesson.notice(&format!(
        "Computing keeps each busy worker's core at about 1, so the speedup stops at the number of cores ({cores}); \
here {} at best. Rust threads do run in parallel (no GIL): in CPython this pool would stay near 1× (lesson 04).",
        format::times(best)
    ));
    Ok(())
}

/// Section 4: a flaky server. Each failure is reported with its request; the others go on.
fn failures_reported_per_request(
    lesson: &Lesson,
    settings: &Settings,
    server: &ServerProcess,
    logins: &[String],
) -> anyhow::Result<()> {
    lesson.section("Failures: server errors and timeouts, request by request");
    let config = server.config();
    say!(
        lesson,
        "  A second server, flaky: {} of the logins get `503 service unavailable`, {} get no answer",
        format::percent(config.error_rate),
        format::percent(config.timeout_rate)
    );
    say!(
        lesson,
        "  in time. Each client waits at most {}; the pool has {} workers.",
        format::duration(settings.timeout),
        settings.workers
    );
    let (fetched, results, measurement) = timed_fetch(server, logins, || {
        users_info_pooled(server.addr(), logins, settings.timeout, settings.workers)
    })?;

    say!(lesson);
    let failures: Vec<(&String, &FetchError)> = logins
        .iter()
        .zip(&results)
        .filter_map(|(login, result)| result.as_ref().err().map(|error| (login, error)))
        .collect();
    const SHOWN: usize = 10;
    let mut table = Table::new(&["request", "login", "what happened"]).left(1).left(2);
    for (login, error) in failures.iter().take(SHOWN) {
        let index = logins.iter().position(|l| l == *login).unwrap_or(0);
        table.row([format!("#{}", index + 1), login.to_string(), error.to_string()]);
    }
    if failures.is_empty() {
        say!(lesson, "  No request failed.");
    } else {
        lesson.table(&table);
        if failures.len() > SHOWN {
            say!(lesson, "  … and {} more.", failures.len() - SHOWN);
        }
    }

    // The server decided every login's fate from the seed: compare with what the clients saw.
    let planned = |fate: Fate| logins.iter().filter(|login| config.plan(login).fate == fate).count();
    let (records_planned, errors_planned, timeouts_planned) =
        (planned(Fate::Record), planned(Fate::Error), planned(Fate::Hang));
    say!(lesson);
    let mut counts = Table::new(&["outcome", "planned by the server", "seen by the clients"]).left(0);
    counts.row([
        "record".to_string(),
        records_planned.to_string(),
        fetched.records.to_string(),
    ]);
    counts.row([
        "server error".to_string(),
        errors_planned.to_string(),
        fetched.server_errors.to_string(),
    ]);
    counts.row([
        "timeout".to_string(),
        timeouts_planned.to_string(),
        fetched.timeouts.to_string(),
    ]);
    if fetched.other_failures > 0 {
        counts.row([
            "other failure".to_string(),
            "0".to_string(),
            fetched.other_failures.to_string(),
        ]);
    }
    lesson.table(&counts);
    let counts_match = fetched.records == records_planned
        && fetched.server_errors == errors_planned
        && fetched.timeouts == timeouts_planned
        && fetched.other_failures == 0;
    if !counts_match {
        lesson.warn(&format!(
            "the clients' counts differ from the server's plan: on a machine this busy, some replies took longer \
than the {} timeout (try a larger --timeout)",
            format::duration(settings.timeout)
        ));
    }
    say!(
        lesson,
        "  All {} requests ended with a record or a reason, in {}.",
        logins.len(),
        format::duration(measurement.wall)
    );
    match fetched.timeouts {
        0 => {}
        1 => say!(
            lesson,
            "  The one timeout held one worker for {} while the other workers carried on.",
            format::duration(settings.timeout)
        ),
        timeouts => say!(
            lesson,
            "  Each of the {timeouts} timeouts held one worker for {} while the other workers carried on.",
            format::duration(settings.timeout)
        ),
    }
    lesson.figure("requests", logins.len());
    lesson.figure("records_planned", records_planned);
    lesson.figure("records_seen", fetched.records);
    lesson.figure("errors_planned", errors_planned);
    lesson.figure("errors_seen", fetched.server_errors);
    lesson.figure("timeouts_planned", timeouts_planned);
    lesson.figure("timeouts_seen", fetched.timeouts);
    lesson.figure("other_failures", fetched.other_failures);
    lesson.figure("counts_match_plan", counts_match);
    lesson.figure("each_record_fetched_exactly_once", true);
    lesson.figure("failures", failure_list(logins, &results));
    lesson.figure("measurement", measurement);
    lesson.notice(
        "A failure belongs to its request: the pool reports it with the login and keeps going. A timeout is the \
one failure that costs time, so every request that waits needs one.",
    );
    Ok(())
}

/// Section 5: stop the servers and check that nothing is left.
fn shutting_the_servers_down(lesson: &Lesson, reliable: ServerProcess, flaky: ServerProcess) -> anyhow::Result<()> {
    lesson.section("Shutting the servers down");
    let mut ports_left_listening = 0;
    let mut ports = Vec::new();
    for (name, server) in [("reliable server", reliable), ("flaky server", flaky)] {
        let (port, pid) = (server.port(), server.pid());
        ports.push(port);
        server.stop()?;
        let listening = system::is_listening(port);
        if listening == Some(true) {
            ports_left_listening += 1;
        }
        say!(
            lesson,
            "  {name} (pid {pid}): SIGTERM, exited cleanly, reaped; port {port} {}",
            match listening {
                Some(true) => "STILL LISTENING",
                Some(false) => "closed",
                None => "(cannot be checked here)",
            }
        );
    }
    let threads = course::children::thread_count();
    if let Some(threads) = threads {
        say!(
            lesson,
            "  threads in this process now: {threads} (every pool joined its workers)"
        );
    }
    lesson.figure("server_ports", &ports);
    lesson.figure("ports_left_listening", ports_left_listening);
    lesson.figure("child_processes_left", course::children::live());
    lesson.figure("threads_left", threads);
    if ports_left_listening > 0 {
        anyhow::bail!("a server port is still listening after its server stopped");
    }
    lesson.notice("A pool joins its workers when its work is done, and a server closes its port when told to stop: nothing outlives the lesson.");
    Ok(())
}

// ----- The two ways to fetch: the lecture's `users_info` and `users_info_thr` -----

/// Every login's record, one request after another on this thread (the lecture's `users_info`).
fn users_info(server: SocketAddr, logins: &[String], timeout: Duration) -> anyhow::Result<Vec<FetchResult>> {
    sequential_map(logins, |login| fetch_user(server, login, timeout))
}

/// The same requests, made by a pool of `workers` threads (`users_info_thr`). New: the pool.
fn users_info_pooled(
    server: SocketAddr,
    logins: &[String],
    timeout: Duration,
    workers: usize,
) -> anyhow::Result<Vec<FetchResult>> {
    thread_pool_map(workers, logins, |login| fetch_user(server, login, timeout))
}

/// `[job(item) for item in items]`: one item after another, on this thread.
fn sequential_map<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> anyhow::Result<Vec<R>> {
    Ok(items.iter().map(job).collect())
}

/// `ThreadPoolExecutor(n_workers).map(job, items)`: `n_workers` threads take items from one
/// queue, each as soon as it is free, and the results come back in the items' order.
fn thread_pool_map<T: Sync, R: Send>(
    n_workers: usize,
    items: &[T],
    job: impl Fn(&T) -> R + Sync,
) -> anyhow::Result<Vec<R>> {
    // The work queue holds item numbers. It is filled and closed before the workers start:
    // each number is received by exactly one worker, so each item is done exactly once.
    let (queue_sender, queue) = crossbeam::channel::unbounded::<usize>();
    for index in 0..items.len() {
        queue_sender.send(index)?;
    }
    drop(queue_sender);
    let (result_sender, results) = crossbeam::channel::unbounded::<(usize, R)>();
    let job = &job;
    std::thread::scope(|scope| {
        let mut spawn_error = None;
        for worker in 0..n_workers {
            let (queue, result_sender) = (queue.clone(), result_sender.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("pool-worker-{worker}"))
                .spawn_scoped(scope, move || {
                    // Blocks until an item is queued; ends when the queue is empty and closed.
                    for index in queue {
                        if result_sender.send((index, job(&items[index]))).is_err() {
                            return;
                        }
                    }
                });
            if let Err(error) = spawned {
                // The workers already running still empty the queue; the pool is smaller.
                spawn_error = Some(format!("could not start pool worker {}: {error}", worker + 1));
                break;
            }
        }
        drop(result_sender);
        // Results arrive in the order workers finish; put each back in its item's place.
        let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
        let mut done_twice = 0;
        for (index, result) in results {
            if slots[index].replace(result).is_some() {
                done_twice += 1;
            }
        }
        if let Some(error) = spawn_error {
            anyhow::bail!(error);
        }
        let done: Vec<R> = slots.into_iter().flatten().collect();
        if done_twice > 0 || done.len() != items.len() {
            anyhow::bail!(
                "the pool did {} of {} items, {done_twice} of them twice",
                done.len(),
                items.len()
            );
        }
        Ok(done)
    })
}

// ----- The CPU-bound job -----

/// The divisor count of each number, one after another.
fn count_divisors_sequential(numbers: &[u64]) -> Vec<u64> {
    numbers.iter().map(|&n| workloads::seed::count_divisors(n)).collect()
}

/// The same, on a pool of `workers` threads. New: the pool.
fn count_divisors_pooled(numbers: &[u64], workers: usize) -> Vec<u64> {
    // A worker that cannot start shows as an empty answer, which the comparison refuses.
    thread_pool_map(workers, numbers, |&n| workloads::seed::count_divisors(n)).unwrap_or_default()
}

/// The load average over the last minute: threads running or waiting for a core.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

/// `count` numbers from `size` to 10% above it, from the seed.
fn cpu_numbers(size: u64, count: usize, seed: u64) -> Vec<u64> {
    let mut rng = workloads::Rng::new(seed);
    (0..count).map(|_| rng.between(size, size + size / 10)).collect()
}

// ----- Helpers: checking, profiling, settings -----

/// What a run fetched: the answer every variant must agree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct Fetched {
    records: usize,
    server_errors: usize,
    timeouts: usize,
    other_failures: usize,
    /// A hash of every record, in login order.
    fingerprint: u64,
}

/// Runs one way of fetching, timed, with the server's counters reset before and read after;
/// checks that every login was fetched exactly once.
fn timed_fetch(
    server: &ServerProcess,
    logins: &[String],
    fetch_all: impl FnOnce() -> anyhow::Result<Vec<FetchResult>>,
) -> anyhow::Result<(Fetched, Vec<FetchResult>, Measurement)> {
    server.reset_stats()?;
    let (results, measurement) = timing::measure(fetch_all);
    let results = results?;
    let stats = server.stats()?;
    let fetched = check_each_fetched_once(logins, &results, &stats)?;
    Ok((fetched, results, measurement))
}

/// Result `i` must be login `i`'s, and the server must have been asked for every login exactly
/// once (as many requests as logins, all different). Returns the tally.
fn check_each_fetched_once(logins: &[String], results: &[FetchResult], stats: &Stats) -> anyhow::Result<Fetched> {
    if results.len() != logins.len() {
        anyhow::bail!("{} results for {} logins", results.len(), logins.len());
    }
    let asked = logins.len() as u64;
    if stats.user_requests != asked || stats.distinct_logins != asked {
        anyhow::bail!(
            "the server was asked {} times for {} different logins, not once for each of {asked}",
            stats.user_requests,
            stats.distinct_logins
        );
    }
    let mut fetched = Fetched {
        records: 0,
        server_errors: 0,
        timeouts: 0,
        other_failures: 0,
        fingerprint: 0xcbf2_9ce4_8422_2325,
    };
    for (login, result) in logins.iter().zip(results) {
        match result {
            Ok(record) if record.login != *login => {
                anyhow::bail!("the record of {} came back in the place of {login}", record.login)
            }
            Ok(record) => {
                fetched.records += 1;
                let text = format!(
                    "{}|{}|{}|{}|{}",
                    record.login, record.name, record.id, record.joined, record.public_repos
                );
                for byte in text.bytes() {
                    fetched.fingerprint = (fetched.fingerprint ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
                }
            }
            Err(error) if error.is_server_error() => fetched.server_errors += 1,
            Err(error) if error.is_timeout() => fetched.timeouts += 1,
            Err(_) => fetched.other_failures += 1,
        }
    }
    Ok(fetched)
}

/// Every failed request, for the report.
fn failure_list(logins: &[String], results: &[FetchResult]) -> Vec<serde_json::Value> {
    logins
        .iter()
        .zip(results)
        .filter_map(|(login, result)| {
            let error = result.as_ref().err()?;
            Some(serde_json::json!({ "login": login, "error": error, "message": error.to_string() }))
        })
        .collect()
}

/// One row of a CPU-time profile.
#[derive(Debug, Serialize)]
struct Profile {
    variant: String,
    wall_s: f64,
    cpu_s: f64,
    cores_used: f64,
    verdict: &'static str,
}

/// Prints wall time, CPU time and cores used of each run, and what they say it was doing.
fn profile_table(lesson: &Lesson, cores: usize, rows: &[timing::VariantRow]) -> Vec<Profile> {
    let mut table = Table::new(&["variant", "wall", "CPU time", "cores used", "what it was doing"]).left(4);
    let mut profiles = Vec::new();
    for row in rows {
        let verdict = classify(row.cores_used, row.workers.min(cores));
        table.row([
            row.name.clone(),
            format::seconds(row.median.wall.as_secs_f64()),
            format::duration(row.median.cpu()),
            format!("{:.2}", row.cores_used),
            verdict.to_string(),
        ]);
        profiles.push(Profile {
            variant: row.name.clone(),
            wall_s: row.median.wall.as_secs_f64(),
            cpu_s: row.median.cpu().as_secs_f64(),
            cores_used: row.cores_used,
            verdict,
        });
    }
    lesson.table(&table);
    profiles
}

/// What a run was doing, from its cores used (CPU time / wall time) and how many of its
/// workers could run at the same moment: near 0 per worker is waiting, near 1 is computing.
/// (On a machine busy with other programs, computing threads get less than a core each, so a
/// run that kept at least most of a core busy counts as computing too.)
fn classify(cores_used: f64, busy_at_most: usize) -> &'static str {
    let per_worker = cores_used / busy_at_most.max(1) as f64;
    if per_worker < 0.25 && cores_used < 0.5 {
        "waiting: more threads help"
    } else if per_worker > 0.7 || cores_used > 0.75 {
        "computing: only more cores help"
    } else {
        "some of each"
    }
}

const WHOLE_REQUEST: &str = "whole request";

/// Fetches `logins` one after another, timing each step of each request.
fn profile_request_phases(
    server: SocketAddr,
    logins: &[String],
    timeout: Duration,
) -> anyhow::Result<Vec<(&'static str, Latencies)>> {
    let (mut connect, mut send, mut wait, mut parse, mut whole) = (
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
    );
    for login in logins {
        whole.time(|| -> anyhow::Result<()> {
            let mut connection = connect.time(|| Connection::open(server, timeout))?;
            send.time(|| connection.send_request(login))?;
            let reply = wait.time(|| connection.receive_reply())?;
            parse.time(|| protocol::parse_reply(&reply))?;
            Ok(())
        })?;
    }
    Ok(vec![
        ("connect", connect),
        ("send the request", send),
        ("wait for the reply", wait),
        ("parse the record", parse),
        (WHOLE_REQUEST, whole),
    ])
}

/// The pool sizes to try: powers of two up to twice the requests (at most 128), and the
/// `--workers` size.
fn pool_sizes(workers: usize, requests: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=7).map(|power| 1 << power).filter(|&n| n <= 2 * requests).collect();
    if !sizes.contains(&workers) {
        sizes.push(workers);
        sizes.sort_unstable();
    }
    sizes
}

/// The speedup to expect from `workers` threads when the server works on at most `limit`
/// requests at once: the requests go in rounds, each about one delay long.
struct Expected {
    at_once: usize,
    rounds: usize,
    speedup: f64,
    limited_by: &'static str,
}

impl Expected {
    fn new(workers: usize, limit: usize, requests: usize) -> Self {
        let at_once = workers.min(limit).min(requests).max(1);
        let rounds = requests.div_ceil(at_once);
        let limited_by = if at_once == requests {
            "the requests"
        } else if limit < workers {
            "the server"
        } else if workers == 1 {
            "one at a time"
        } else {
            "the workers"
        };
        Expected {
            at_once,
            rounds,
            speedup: requests as f64 / rounds as f64,
            limited_by,
        }
    }
}

/// The lecture's four GitHub users, then made-up logins: `count` in all.
fn logins(count: usize) -> Vec<String> {
    const LECTURE: [&str; 4] = ["gvanrossum", "wesm", "tebeka", "torvalds"];
    (0..count)
        .map(|i| {
            LECTURE
                .get(i)
                .map_or_else(|| format!("user{i:04}"), |login| login.to_string())
        })
        .collect()
}

/// The knobs as they really are after defaults, checked.
struct Settings {
    requests: usize,
    workers: usize,
    delay: Duration,
    jitter: Duration,
    server_limit: usize,
    timeout: Duration,
    seed: u64,
}

impl Settings {
    fn from_args(args: &Args, lesson: &Lesson) -> anyhow::Result<Settings> {
        let delay = args
            .delay
            .unwrap_or(lesson.pick(Duration::from_millis(10), Duration::from_millis(50)));
        let jitter = args.jitter.unwrap_or(delay / 5);
        if jitter > delay {
            return Err(course::usage_error(format!(
                "--jitter ({} ms) cannot be more than --delay ({} ms)",
                jitter.as_millis(),
                delay.as_millis()
            )));
        }
        if args.error_rate + args.timeout_rate > 1.0 {
            return Err(course::usage_error(format!(
                "--error-rate ({}) and --timeout-rate ({}) add up to more than 1",
                args.error_rate, args.timeout_rate
            )));
        }
        let slowest = delay + jitter;
        let timeout = args.timeout.unwrap_or((4 * slowest).max(Duration::from_millis(250)));
        if timeout <= slowest {
            return Err(course::usage_error(format!(
                "--timeout ({} ms) must be longer than the slowest answer, delay + jitter ({} ms)",
                timeout.as_millis(),
                slowest.as_millis()
            )));
        }
        let settings = Settings {
            requests: args.requests.unwrap_or(lesson.pick(16, 64)),
            workers: args.workers,
            delay,
            jitter,
            server_limit: args.server_limit,
            timeout,
            seed: lesson.seed(),
        };
        lesson.param("requests", settings.requests);
        lesson.param("delay_ms", delay.as_millis() as u64);
        lesson.param("jitter_ms", jitter.as_millis() as u64);
        lesson.param("timeout_ms", timeout.as_millis() as u64);
        Ok(settings)
    }

    fn server_config(&self, error_rate: f64, timeout_rate: f64) -> Config {
        Config {
            delay: self.delay,
            jitter: self.jitter,
            error_rate,
            timeout_rate,
            max_in_flight: Some(self.server_limit),
            seed: self.seed,
            ..Config::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_does_each_item_once_in_order() {
        let items: Vec<u64> = (0..1000).collect();
        let squares = thread_pool_map(7, &items, |&x| x * x).unwrap();
        assert_eq!(squares, sequential_map(&items, |&x| x * x).unwrap());
        // More workers than items, and no items at all.
        assert_eq!(thread_pool_map(16, &items[..3], |&x| x + 1).unwrap(), vec![1, 2, 3]);
        assert!(thread_pool_map(4, &items[..0], |&x| x).unwrap().is_empty());
    }

    #[test]
    fn sequential_and_pooled_divisor_counts_agree() {
        let numbers = cpu_numbers(10_000, 9, 1);
        assert_eq!(count_divisors_sequential(&numbers), count_divisors_pooled(&numbers, 3));
        assert_eq!(count_divisors_sequential(&[12, 13]), vec![4, 0]);
    }

    #[test]
    fn expected_speedup_counts_rounds() {
        let e = Expected::new(8, 32, 64);
        assert_eq!((e.at_once, e.rounds, e.speedup), (8, 8, 8.0));
        let server_bound = Expected::new(64, 32, 64);
        assert_eq!((server_bound.rounds, server_bound.limited_by), (2, "the server"));
        let request_bound = Expected::new(128, 200, 64);
        assert_eq!(
            (request_bound.speedup, request_bound.limited_by),
            (64.0, "the requests")
        );
        assert_eq!(Expected::new(1, 32, 10).speedup, 1.0);
    }

    #[test]
    fn waiting_and_computing_are_told_apart() {
        assert_eq!(classify(0.01, 1), "waiting: more threads help");
        assert_eq!(classify(0.05, 2), "waiting: more threads help");
        assert_eq!(classify(0.98, 1), "computing: only more cores help");
        assert_eq!(classify(1.9, 2), "computing: only more cores help");
    }

    #[test]
    fn pool_sizes_include_the_workers_flag() {
        assert_eq!(pool_sizes(8, 64), vec![2, 4, 8, 16, 32, 64, 128]);
        assert_eq!(pool_sizes(8, 16), vec![2, 4, 8, 16, 32]);
        assert_eq!(pool_sizes(6, 4), vec![2, 4, 6, 8]);
        assert_eq!(pool_sizes(1, 1), vec![1, 2]);
    }

    #[test]
    fn logins_start_with_the_lecture_users() {
        assert_eq!(logins(2), vec!["gvanrossum", "wesm"]);
        assert_eq!(logins(6)[5], "user0005");
    }

    #[test]
    fn a_record_in_the_wrong_place_is_caught() {
        let config = Config::default();
        let logins = logins(2);
        let results: Vec<FetchResult> = vec![Ok(config.record(&logins[1])), Ok(config.record(&logins[0]))];
        let stats = Stats {
            user_requests: 2,
            distinct_logins: 2,
            ..Stats::default()
        };
        assert!(check_each_fetched_once(&logins, &results, &stats).is_err());
        let in_order: Vec<FetchResult> = logins.iter().map(|l| Ok(config.record(l))).collect();
        assert_eq!(check_each_fetched_once(&logins, &in_order, &stats).unwrap().records, 2);
        let asked_twice = Stats {
            user_requests: 3,
            distinct_logins: 2,
            ..Stats::default()
        };
        assert!(check_each_fetched_once(&logins, &in_order, &asked_twice).is_err());
    }
}
