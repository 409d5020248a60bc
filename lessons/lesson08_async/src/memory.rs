//! What each way cost: connections, threads and memory side by side, and the figures of each
//! for `--json`.

use crate::experiment::{Measured, MemoryUse};
use course::table::Table;
use course::timing::{ComparisonReport, Latencies, format};
use course::{Lesson, say};
use std::net::{SocketAddr, SocketAddrV4};
use std::time::Duration;

/// One way as the tables show it: Rust's, measured in a child process, or CPython's, as the
/// twin measured it.
pub struct Shown {
    pub name: String,
    pub peak_threads: Option<usize>,
    pub connections_held: usize,
    pub server_saw: u64,
    pub memory: MemoryUse,
    pub rss_at_start: Option<u64>,
}

impl Shown {
    pub fn of(name: &str, run: &Measured) -> Shown {
        Shown {
            name: name.to_string(),
            peak_threads: run.report.peak_threads,
            connections_held: run.report.connections_held,
            server_saw: run.server_peak_connections,
            memory: MemoryUse::of(&run.report),
            rss_at_start: run.report.start.rss,
        }
    }
}

/// Time, threads and connections of each way, side by side (the comparison's figures).
pub fn time_table(lesson: &Lesson, report: &ComparisonReport, ways: &[Shown]) {
    let mut table = Table::new(&[
        "variant",
        "wall",
        "speedup",
        "cores used",
        "peak threads",
        "held at once",
        "server saw",
    ]);
    for way in ways {
        let Some(row) = report.row(&way.name) else { continue };
        let disturbed = if row.disturbed.is_some() { " ⚠" } else { "" };
        table.row([
            format!("{}{disturbed}", way.name),
            format::seconds(row.median_s),
            format::times(row.speedup),
            format!("{:.2}", row.cores_used),
            way.peak_threads.map_or("?".to_string(), |t| format::count(t as u64)),
            format::count(way.connections_held as u64),
            format::count(way.server_saw),
        ]);
    }
    lesson.table(&table);
}

/// The memory of each way, side by side, and what 'reserved' means (one more thread's share
/// from Rust's `runs`, the thread per connection first).
pub fn resource_table(lesson: &Lesson, connections: usize, ways: &[Shown], runs: &[(&str, &Measured)]) {
    let unknown = || "?".to_string();
    let bytes = |value: Option<u64>| value.map_or_else(unknown, format::bytes);
    let mut table = Table::new(&[
        "variant",
        "reserved",
        "resident",
        "page tables",
        "kernel stacks",
        "total",
        "per connection",
    ]);
    for way in ways {
        let used = &way.memory;
        let per_connection = used
            .total()
            .zip(way.rss_at_start)
            .map(|(total, start)| total.saturating_sub(start) / connections.max(1) as u64);
        table.row([
            way.name.clone(),
            bytes(used.reserved),
            bytes(used.resident),
            bytes(used.page_tables),
            bytes(used.kernel_stacks),
            bytes(used.total()),
            bytes(per_connection),
        ]);
    }
    lesson.table(&table);
    let each = reserved_per_thread(runs);
    say!(
        lesson,
        "  'reserved' is address space (VmPeak), not memory: only the pages a thread's stack touches are \
resident{}.",
        each.map_or(String::new(), |each| format!(
            ". Here {} more per Rust thread: its stack and its share of malloc's arenas",
            format::bytes(each)
        ))
    );
    if let Some(each) = each {
        lesson.figure("reserved_per_thread_bytes", each);
    }
}

/// The address space one more thread reserves: the difference in `reserved` between the
/// first way and the last over the difference in their threads (when the first has more).
pub fn reserved_per_thread(runs: &[(&str, &Measured)]) -> Option<u64> {
    let (first, last) = (&runs.first()?.1.report, &runs.last()?.1.report);
    let threads = first.peak_threads?.checked_sub(last.peak_threads?)?;
    let reserved = first.end.peak_virtual?.checked_sub(last.end.peak_virtual?)?;
    (threads > 0).then(|| reserved / threads as u64)
}

/// The figures of one way, for `--json`.
pub fn variant_figures(run: &Measured, memory: &MemoryUse) -> serde_json::Value {
    let report = &run.report;
    serde_json::json!({
        "wall_s": run.measurement.wall.as_secs_f64(),
        "cores_used": run.measurement.cores_used(),
        "records": report.replies.records,
        "connections_held": report.connections_held,
        "server_peak_connections": run.server_peak_connections,
        "peak_threads": report.peak_threads,
        "rss_at_start_bytes": report.start.rss,
        "peak_rss_bytes": memory.resident,
        "peak_page_tables_bytes": memory.page_tables,
        "kernel_stacks_bytes": memory.kernel_stacks,
        "memory_total_bytes": memory.total(),
        "peak_virtual_bytes": report.end.peak_virtual,
    })
}

/// `30000 s (8.3 hours)`: a long time, in a unit a person feels.
pub fn in_hours_too(seconds: f64) -> String {
    if seconds >= 3600.0 {
        format!("{} ({:.1} hours)", format::seconds(seconds), seconds / 3600.0)
    } else {
        format::seconds(seconds)
    }
}

pub fn latencies_of(nanos: &[u64]) -> Latencies {
    let mut latencies = Latencies::new();
    for &ns in nanos {
        latencies.record(Duration::from_nanos(ns));
    }
    latencies
}

pub fn ipv4(addr: SocketAddr) -> Option<SocketAddrV4> {
    match addr {
        SocketAddr::V4(v4) => Some(v4),
        SocketAddr::V6(_) => None,
    }
}
