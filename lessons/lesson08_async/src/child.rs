//! Each experiment runs in a child process of its own, so that the threads and the peak memory
//! it reports are its own. A fresh fork starts from this small, single-threaded process; the
//! kernel then tracks the child's peak resident memory (`VmHWM` in `/proc/self/status`), which
//! no later experiment can disturb. The child sends its report back through a pipe, as JSON.

use anyhow::{Context, bail};
use course::timing::{self, Measurement};
use nix::sys::wait::WaitStatus;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

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
