//! An experiment is one way of serving the clients, run in a child process of its own so that
//! the threads and the memory it reports are its own. A fresh fork starts from this small,
//! single-threaded process; the kernel then tracks the child's peak resident memory (`VmHWM` in
//! `/proc/self/status`), which no later experiment can disturb. The child sends its report back
//! through a pipe, as JSON, and the lesson checks it against the server's own count.

use anyhow::{Context, bail};
use course::timing::{self, Measurement};
use nix::sys::wait::WaitStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use slowserver::{FetchError, ServerProcess, UserRecord};
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// Forks a child that runs `experiment` and sends back its result; measures the child from
/// fork to exit (wall time, and its CPU time once it is reaped).
pub fn run_in_child<T: Serialize + DeserializeOwned>(
    experiment: impl FnOnce() -> anyhow::Result<T>,
) -> anyhow::Result<(T, Measurement)> {
    let (read_end, write_end) = nix::unistd::pipe().context("could not create a pipe")?;
    let (bytes, measurement) = timing::measure(|| -> anyhow::Result<Vec<u8>> {
        // The closure owns the write end: in this process it is closed when `fork` returns,
        // so the read below ends when the child closes its copy (by exiting).
        let pid = course::children::fork(move || {
            let pipe = std::fs::File::from(write_end);
            let report = match experiment() {
                Ok(value) => serde_json::json!({ "ok": value }),
                Err(error) => serde_json::json!({ "error": format!("{error:#}") }),
            };
            i32::from(serde_json::to_writer(pipe, &report).is_err())
        })?;
        let mut bytes = Vec::new();
        let read = std::fs::File::from(read_end).read_to_end(&mut bytes);
        let status = course::children::wait(pid).context("could not reap the experiment's process")?;
        read.context("could not read the experiment's report")?;
        if !matches!(status, WaitStatus::Exited(_, 0)) {
            bail!("the experiment's process ended with {status:?}");
        }
        Ok(bytes)
    });
    let mut report: serde_json::Value =
        serde_json::from_slice(&bytes?).context("the experiment's report did not parse")?;
    if let Some(error) = report.get("error").and_then(|e| e.as_str()) {
        bail!("{error}");
    }
    let value = serde_json::from_value(report["ok"].take()).context("the experiment's report did not parse")?;
    Ok((value, measurement))
}

/// What the OS says about this process's threads and memory (Linux only; `None` elsewhere).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resources {
    pub threads: Option<usize>,
    /// Resident memory now, in bytes (`VmRSS`): pages of this process really in RAM.
    pub rss: Option<u64>,
    /// The most resident memory so far (`VmHWM`, the high-water mark).
    pub peak_rss: Option<u64>,
    /// The most address space reserved so far (`VmPeak`): thread stacks count here in full.
    pub peak_virtual: Option<u64>,
    /// This process's page tables (`VmPTE`): kernel memory that maps its pages, not in RSS.
    pub page_tables: Option<u64>,
    /// The kernel stack of one thread: every thread has one (16 KiB on x86-64), and it is in
    /// no process's RSS. Measured as all kernel stacks on the machine (`KernelStack` in
    /// `/proc/meminfo`) over all its threads (`/proc/loadavg`).
    pub kernel_stack_per_thread: Option<u64>,
}

pub fn resources_now() -> Resources {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kernel_stacks = kib_field(&meminfo, "KernelStack:").map(|kib| kib * 1024);
    // /proc/loadavg: "0.10 0.20 0.30 2/345 6789": runnable/all threads in its fourth field.
    let machine_threads: Option<u64> = std::fs::read_to_string("/proc/loadavg").ok().and_then(|text| {
        let field = text.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()?;
        Some(field)
    });
    Resources {
        threads: kib_field(&status, "Threads:").map(|n| n as usize),
        rss: kib_field(&status, "VmRSS:").map(|kib| kib * 1024),
        peak_rss: kib_field(&status, "VmHWM:").map(|kib| kib * 1024),
        peak_virtual: kib_field(&status, "VmPeak:").map(|kib| kib * 1024),
        page_tables: kib_field(&status, "VmPTE:").map(|kib| kib * 1024),
        kernel_stack_per_thread: match (kernel_stacks, machine_threads) {
            (Some(bytes), Some(threads)) if threads > 0 => Some(bytes / threads),
            _ => None,
        },
    }
}

/// The number after `name` on its line (a count, or kibibytes).
fn kib_field(text: &str, name: &str) -> Option<u64> {
    let line = text.lines().find(|line| line.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// The most threads and page tables seen by [`Peaks::sample`]. The kernel keeps a high-water
/// mark only of resident memory, so these are sampled while an experiment runs.
#[derive(Debug, Default)]
pub struct Peaks {
    threads: AtomicU64,
    page_tables: AtomicU64,
}

impl Peaks {
    pub fn sample(&self) {
        let now = resources_now();
        // Relaxed: maxima of independent readings; nothing else is published through them.
        if let Some(threads) = now.threads {
            self.threads.fetch_max(threads as u64, Ordering::Relaxed);
        }
        if let Some(page_tables) = now.page_tables {
            self.page_tables.fetch_max(page_tables, Ordering::Relaxed);
        }
    }

    pub fn threads(&self) -> Option<usize> {
        nonzero(&self.threads).map(|t| t as usize)
    }

    pub fn page_tables(&self) -> Option<u64> {
        nonzero(&self.page_tables)
    }
}

fn nonzero(value: &AtomicU64) -> Option<u64> {
    match value.load(Ordering::Relaxed) {
        0 => None,
        value => Some(value),
    }
}

/// Connections open right now, and the most open at once.
#[derive(Debug, Default)]
pub struct OpenConnections {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl OpenConnections {
    pub fn opened(&self) {
        // Relaxed: counters for a report; no other memory is handed over through them.
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.most.fetch_max(now, Ordering::Relaxed);
    }

    pub fn closed(&self) {
        self.now.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn most_at_once(&self) -> usize {
        self.most.load(Ordering::Relaxed)
    }
}

// ----- What an experiment reports -----

/// One client's outcome, checked by the client itself: small, so that keeping ten thousand of
/// them costs both ways the same little memory.
#[derive(Debug, Serialize, Deserialize)]
pub struct Outcome {
    /// A hash of the record, if it came back and is this login's.
    pub record_hash: Option<u64>,
    pub failure: Option<String>,
    /// From connect to complete reply (`None`: not counted among the response times).
    pub response_ns: Option<u64>,
}

impl Outcome {
    pub fn of(login: &str, result: Result<UserRecord, FetchError>, time: Duration) -> Outcome {
        let (record_hash, failure) = match result {
            Ok(record) if record.login.eq_ignore_ascii_case(login) => (Some(record_hash(&record)), None),
            Ok(record) => (None, Some(format!("{login}: the record of {} came back", record.login))),
            Err(error) => (None, Some(format!("{login}: {error}"))),
        };
        Outcome {
            record_hash,
            failure,
            response_ns: Some(nanos(time)),
        }
    }
}

/// What every way of fetching must agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replies {
    pub requests: usize,
    pub records: usize,
    pub failures: usize,
    /// A hash of every record, whatever order they came in.
    pub fingerprint: u64,
}

impl std::fmt::Display for Replies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let failed = match self.failures {
            0 => String::new(),
            n => format!(", {n} failed"),
        };
        write!(
            f,
            "{} of {} records{failed} (fingerprint {:016x})",
            self.records, self.requests, self.fingerprint
        )
    }
}

/// What an experiment reports from its child process.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct VariantReport {
    pub replies: Replies,
    /// The first failure, if any, to say what went wrong.
    pub failure_example: Option<String>,
    /// The most client sockets open at the same moment.
    pub connections_held: usize,
    pub peak_threads: Option<usize>,
    pub peak_page_tables: Option<u64>,
    pub start: Resources,
    pub end: Resources,
    pub response_times_ns: Vec<u64>,
    pub heartbeat_lateness_ns: Vec<u64>,
    pub heavy_answer: Option<u64>,
    pub blocking_call_ns: u64,
    pub replies_due_during_the_call: usize,
    pub poll_calls: u64,
    pub events: u64,
    pub trace: Vec<String>,
    /// The machine refused a thread: how many had started, and its error.
    pub refused: Option<(usize, String)>,
}

impl VariantReport {
    /// Tallies the outcomes and reads the memory figures.
    pub fn new(outcomes: Vec<Outcome>, connections_held: usize, peaks: &Peaks, start: Resources) -> Self {
        peaks.sample();
        let mut report = VariantReport {
            connections_held,
            peak_threads: peaks.threads(),
            peak_page_tables: peaks.page_tables(),
            start,
            end: resources_now(),
            ..VariantReport::default()
        };
        report.replies.requests = outcomes.len();
        for outcome in outcomes {
            report.response_times_ns.extend(outcome.response_ns);
            match (outcome.record_hash, outcome.failure) {
                (Some(hash), _) => {
                    report.replies.records += 1;
                    report.replies.fingerprint = report.replies.fingerprint.wrapping_add(hash);
                }
                (None, failure) => {
                    report.replies.failures += 1;
                    report.failure_example = report.failure_example.or(failure);
                }
            }
        }
        report
    }
}

/// Memory that one way used, in bytes: what RSS shows, and what it leaves out.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct MemoryUse {
    /// The process's peak resident memory (`VmHWM`).
    pub resident: Option<u64>,
    /// Its page tables at their largest (`VmPTE`, sampled).
    pub page_tables: Option<u64>,
    /// The kernel stacks of its threads at their most (one per thread).
    pub kernel_stacks: Option<u64>,
    /// The most address space it reserved (`VmPeak`): every thread's stack counts in full,
    /// touched or not. Not memory in use, so not in the total.
    pub reserved: Option<u64>,
}

impl MemoryUse {
    pub fn of(report: &VariantReport) -> MemoryUse {
        MemoryUse {
            resident: report.end.peak_rss,
            page_tables: report.peak_page_tables.max(report.end.page_tables),
            kernel_stacks: match (report.peak_threads, report.start.kernel_stack_per_thread) {
                (Some(threads), Some(each)) => Some(threads as u64 * each),
                _ => None,
            },
            reserved: report.end.peak_virtual,
        }
    }

    pub fn total(&self) -> Option<u64> {
        Some(self.resident? + self.page_tables? + self.kernel_stacks?)
    }
}

pub fn record_hash(record: &UserRecord) -> u64 {
    let text = format!(
        "{}|{}|{}|{}|{}",
        record.login,
        record.display_name(),
        record.id,
        record.created_at,
        record.public_repos
    );
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

/// An experiment's report with its measurement, checked against the server's count.
pub struct Measured {
    pub report: VariantReport,
    pub measurement: Measurement,
    pub server_peak_connections: u64,
}

/// Runs `experiment` in a child process with the local server's counters reset before; checks
/// that every client got its record and that the server was asked for `logins` different
/// logins, once each. Without a local server (`--url`), failures are the outside server's and
/// are counted, not refused. A report whose threads were refused comes back unchecked: the
/// caller adapts.
pub fn measured_in_child(
    server: Option<&ServerProcess>,
    logins: usize,
    experiment: impl FnOnce() -> anyhow::Result<VariantReport>,
) -> anyhow::Result<Measured> {
    if let Some(server) = server {
        server.reset_stats()?;
    }
    let (report, measurement) = run_in_child(experiment)?;
    let Some(server) = server else {
        return Ok(Measured {
            report,
            measurement,
            server_peak_connections: 0,
        });
    };
    let stats = server.stats()?;
    if report.refused.is_some() {
        return Ok(Measured {
            report,
            measurement,
            server_peak_connections: stats.peak_open_connections,
        });
    }
    if let Some(example) = &report.failure_example {
        bail!(
            "{} of {logins} requests failed, for example {example}",
            report.replies.failures
        );
    }
    if stats.user_requests != logins as u64 || stats.distinct_logins != logins as u64 {
        bail!(
            "the server was asked {} times for {} different logins, not once for each of {logins}",
            stats.user_requests,
            stats.distinct_logins
        );
    }
    Ok(Measured {
        report,
        measurement,
        server_peak_connections: stats.peak_open_connections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use slowserver::Config;

    fn logins(count: usize) -> Vec<String> {
        (0..count).map(|i| format!("client{i:05}")).collect()
    }

    #[test]
    fn outcomes_are_checked_and_tallied() {
        let config = Config::default();
        let logins = logins(3);
        let outcomes = vec![
            Outcome::of(&logins[0], Ok(config.record(&logins[0])), Duration::from_millis(1)),
            Outcome::of(
                &logins[1],
                Err(FetchError::Io("reset".into())),
                Duration::from_millis(2),
            ),
            Outcome::of(&logins[2], Ok(config.record(&logins[0])), Duration::from_millis(3)),
        ];
        let report = VariantReport::new(outcomes, 3, &Peaks::default(), Resources::default());
        assert_eq!(report.replies.requests, 3);
        assert_eq!(report.replies.records, 1);
        assert_eq!(report.replies.failures, 2, "a record for another login is a failure");
        assert!(report.failure_example.is_some());
        assert_eq!(report.response_times_ns, vec![1_000_000, 2_000_000, 3_000_000]);
    }

    #[test]
    fn the_fingerprint_ignores_order() {
        let config = Config::default();
        let logins = logins(4);
        let outcome = |login: &String| Outcome::of(login, Ok(config.record(login)), Duration::ZERO);
        let none = || (Peaks::default(), Resources::default());
        let (peaks, start) = none();
        let forward = VariantReport::new(logins.iter().map(outcome).collect(), 0, &peaks, start);
        let backward = VariantReport::new(logins.iter().rev().map(outcome).collect(), 0, &peaks, start);
        assert_eq!(forward.replies, backward.replies);
    }

    #[test]
    fn memory_in_all_needs_every_part() {
        let known = MemoryUse {
            resident: Some(10),
            page_tables: Some(2),
            kernel_stacks: Some(0),
            reserved: Some(1 << 30),
        };
        // Reserved address space is not memory in use: it is in no total.
        assert_eq!(known.total(), Some(12));
        assert_eq!(MemoryUse::default().total(), None);
    }

    #[test]
    fn resources_are_read_on_linux() {
        let now = resources_now();
        if std::path::Path::new("/proc/self/status").exists() {
            assert!(now.threads.unwrap_or(0) >= 1);
            assert!(now.rss.unwrap_or(0) > 0 && now.peak_rss >= now.rss);
        }
    }
}
