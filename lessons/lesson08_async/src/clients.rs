//! The concept's two ways, and the hand-written poll loop, run as experiments: each client's
//! time, the connections open at once, and the threads and memory at their peak, so that the
//! lesson can show what each way costs. Also the pitfall: a heartbeat that measures the loop,
//! and a blocking call that is timed.

use crate::event_loop::{handle_off_the_loop, handle_on_the_loop, one_thread_event_loop, thread_per_connection};
use crate::experiment::{OpenConnections, Outcome, Peaks, VariantReport, nanos, resources_now};
use crate::poll_loop;
use anyhow::Context;
use course::timing::{self, Measurement};
use slowserver::client::{blocking_client, fetch_blocking};
use slowserver::{AsyncClient, Config, FetchError, Trust, UrlTemplate};
use std::net::SocketAddrV4;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a client waits for its reply before giving up.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);

/// Connections being opened at any one moment. The kernel queues at most `net.core.somaxconn`
/// (often 4096) finished handshakes for the server to accept; a connection beyond that is
/// dropped and retried a whole second later. Opening them in waves keeps the queue short.
pub const CONNECT_WAVE: usize = 256;

/// Where the clients fetch from, and which certificates HTTPS trusts.
#[derive(Clone)]
pub struct Target {
    pub url: UrlTemplate,
    pub trust: Trust,
}

/// The thread per connection, measured: a blocking ureq request on each thread.
pub fn threads_run(target: &Target, logins: &[String]) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let agent = blocking_client(CLIENT_TIMEOUT, &target.trust);
    let (open, peaks, started, finished) = (
        OpenConnections::default(),
        Peaks::default(),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let outcomes = thread_per_connection(logins, |login| {
        // A client's time counts from its thread's start; starting threads is the loop's cost.
        let since = Instant::now();
        started.fetch_add(1, Ordering::Relaxed);
        open.opened();
        let result = fetch_blocking(&agent, &target.url.url(login), CLIENT_TIMEOUT);
        open.closed();
        // The first replies come while every thread still waits: that is the peak to sample.
        // Relaxed: a counter for the report; `join` hands the results over.
        if finished.fetch_add(1, Ordering::Relaxed) % 32 == 0 {
            peaks.sample();
        }
        Outcome::of(login, result, since.elapsed())
    });
    match outcomes {
        Ok(outcomes) => Ok(VariantReport::new(outcomes, open.most_at_once(), &peaks, start)),
        Err(error) => {
            // The threads already started were joined: report how many, for the lesson to adapt.
            let mut report = VariantReport::new(Vec::new(), open.most_at_once(), &peaks, start);
            report.refused = Some((started.load(Ordering::Relaxed), error.to_string()));
            Ok(report)
        }
    }
}

/// The event loop, measured: every client a task on one thread, with hyper's async client.
pub fn loop_run(target: &Target, logins: &[String]) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let client = AsyncClient::new(&target.trust).map_err(anyhow::Error::msg)?;
    let open = Arc::new(OpenConnections::default());
    let peaks = Arc::new(Peaks::default());
    let finished = Arc::new(AtomicUsize::new(0));
    let wave = Arc::new(tokio::sync::Semaphore::new(CONNECT_WAVE));
    let outcomes = one_thread_event_loop(logins, |login| {
        let (client, url) = (client.clone(), target.url.url(&login));
        let (open, peaks, finished, wave) = (
            Arc::clone(&open),
            Arc::clone(&peaks),
            Arc::clone(&finished),
            Arc::clone(&wave),
        );
        async move {
            let since = Instant::now();
            // A wave's permit to connect, held until the handshake is done.
            let gate = async {
                let permit = wave.acquire_owned().await;
                open.opened();
                permit
            };
            let result = client.fetch_gated(&url, gate).await;
            open.closed();
            if finished.fetch_add(1, Ordering::Relaxed) % 32 == 0 {
                peaks.sample();
            }
            Outcome::of(&login, result, since.elapsed())
        }
    })?;
    Ok(VariantReport::new(outcomes, open.most_at_once(), &peaks, start))
}

/// The hand-written loop of section 2, as an experiment.
pub fn poll_loop_run(server: SocketAddrV4, logins: &[String], trace_lines: usize) -> anyhow::Result<VariantReport> {
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
pub enum Handling {
    /// No heavy work at all: the reference.
    NoHeavyWork,
    /// Computes right there, on the loop's only thread (`handle_on_the_loop`).
    OnTheLoop,
    /// Hands the work to another thread (`handle_off_the_loop`) and awaits it.
    OffTheLoop,
}

impl Handling {
    pub fn name(self) -> &'static str {
        match self {
            Handling::NoHeavyWork => "no heavy work",
            Handling::OnTheLoop => "heavy work on the loop",
            Handling::OffTheLoop => "heavy work off the loop",
        }
    }
}

/// Every login fetched on one event loop; the reply of login `heavy` is followed by
/// `count_divisors(heavy_size)`, handled as `handling` says. A heartbeat measures the loop.
pub fn pitfall_run(
    url: &UrlTemplate,
    config: &Config,
    logins: &[String],
    heavy: usize,
    heavy_size: u64,
    handling: Handling,
) -> anyhow::Result<VariantReport> {
    let start = resources_now();
    let runtime = slowserver::current_thread_runtime()?;
    let client = AsyncClient::new(&Trust::WebPki).map_err(anyhow::Error::msg)?;
    let blocking_call = Arc::new(BlockingCall::default());
    let (outcomes, heavy_answer, lateness, due_times) = runtime.block_on(async {
        let done = Arc::new(AtomicBool::new(false));
        let heartbeat = tokio::spawn(heartbeat(Arc::clone(&done)));
        let tasks: Vec<_> = logins
            .iter()
            .enumerate()
            .map(|(i, login)| {
                let (login, url, client, blocking_call) = (
                    login.clone(),
                    url.url(login),
                    client.clone(),
                    Arc::clone(&blocking_call),
                );
                let planned_delay = config.plan(&login).delay;
                tokio::spawn(async move {
                    let started = Instant::now();
                    // When the server means to answer: the reply waits in the kernel from then on.
                    let due = started + planned_delay;
                    let result = client.fetch(&url).await;
                    let work = move || workloads::seed::count_divisors(heavy_size);
                    let answer = match (i == heavy, handling) {
                        (false, _) | (true, Handling::NoHeavyWork) => None,
                        (true, Handling::OnTheLoop) => Some(handle_on_the_loop(|| blocking_call.run(work)).await),
                        (true, Handling::OffTheLoop) => handle_off_the_loop(work).await.ok(),
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
    // Relaxed: a flag that only stops the loop; the results travel through the task's join.
    while !done.load(Ordering::Relaxed) {
        let due = ticks.tick().await;
        lateness.push(nanos(due.elapsed()));
    }
    lateness
}

/// A blocking call on the loop: when it started and ended, and how long it took.
#[derive(Debug, Default)]
pub struct BlockingCall(std::sync::Mutex<Option<(Instant, Instant, Measurement)>>);

impl BlockingCall {
    /// Runs `work`, timed, and remembers when.
    pub fn run<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let (answer, measurement) = timing::measure(work);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((started, Instant::now(), measurement));
        answer
    }

    pub fn nanos(&self) -> u64 {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map_or(0, |(_, _, measurement)| nanos(measurement.wall))
    }

    /// How many of these instants fall while the call ran.
    pub fn count_inside(&self, instants: &[Instant]) -> usize {
        match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((start, end, _)) => instants.iter().filter(|&&t| start <= t && t < end).count(),
            None => 0,
        }
    }
}

/// The size of `count_divisors` that computes for about `target` here, from the best of three
/// timed runs of a known size.
pub fn calibrate_heavy_work(target: Duration) -> u64 {
    const PROBE: u64 = 4_000_000;
    let (_, runs) = timing::repeat(0, 3, || workloads::seed::count_divisors(std::hint::black_box(PROBE)));
    let size = PROBE as f64 * timing::ratio(target, runs.best().wall);
    (size as u64).clamp(1_000, 100_000_000_000)
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
