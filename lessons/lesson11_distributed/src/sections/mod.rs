//! The lesson's sections, in the order they are shown; each measures and prints one step.
//! Below them, what several sections share: the state the sections fill in one after the
//! other (computed on the spot when the section that fills it was skipped), and the tables
//! and bars more than one section prints.

pub mod s1_data;
pub mod s2_plan;
pub mod s3_joining;
pub mod s3_processes;
pub mod s4_scatter_map;
pub mod s5_shuffle;
pub mod s6_reduce_gather;
pub mod s7_combiner;
pub mod s8_time;
pub mod s9_when_it_pays;

use crate::cluster::{self, LocalRun};
use crate::corpus::Corpus;
use crate::job::{Gathered, Job, JobOutcome, ProcessReport};
use crate::map_reduce::{Shuffle, WordCount, count_sequential};
use crate::{Cluster, Params};
use anyhow::{anyhow, bail};
use course::chart::Bars;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use std::time::Duration;

impl Params {
    /// The sizes; nothing measured yet.
    pub fn new(corpus: Corpus, connect_timeout: Duration, cluster: Cluster, processes: usize) -> Params {
        Params {
            corpus,
            connect_timeout,
            cluster,
            processes,
            text: None,
            sequential: None,
            plain_run: None,
            hosts_outcomes: None,
            timed: None,
        }
    }

    /// The whole corpus, generated once, and the byte where each block starts.
    pub fn text(&mut self) -> (&str, &[usize]) {
        let corpus = self.corpus;
        let (text, starts) = self.text.get_or_insert_with(|| corpus.whole());
        (text, starts)
    }

    /// The sequential count of the whole corpus (section 1's answer).
    pub fn sequential(&mut self) -> WordCount {
        if self.sequential.is_none() {
            self.sequential = Some(count_sequential(self.text().0));
        }
        self.sequential.clone().unwrap_or_default()
    }

    /// Starts `processes` workers here, runs `shuffle` once, and reaps them.
    pub fn run_here(&mut self, processes: usize, shuffle: Shuffle) -> anyhow::Result<LocalRun> {
        let (corpus, timeout) = (self.corpus, self.connect_timeout);
        let (text, starts) = self.text();
        cluster::run_local(&corpus, text, starts, processes, &[Job(shuffle)], timeout)
    }

    /// The plain job (every word shuffled), gathered on process 0: run by section 3, here or
    /// on the hosts; run now if section 3 was skipped.
    pub fn plain(&mut self) -> anyhow::Result<Gathered> {
        if let Cluster::Hosts { .. } = self.cluster {
            return Ok(gathered_by_zero(first_outcome(self.hosts_outcomes()?)?)?.clone());
        }
        if self.plain_run.is_none() {
            self.plain_run = Some(self.run_here(self.processes, Shuffle::EveryWord)?);
        }
        let run = self.plain_run.as_ref().ok_or_else(|| anyhow!("no plain run"))?;
        Ok(gathered_by_zero(first_outcome(&run.outcomes)?)?.clone())
    }

    /// Every job's outcome on this process of a hosts-file cluster (section 3 runs them).
    pub fn hosts_outcomes(&mut self) -> anyhow::Result<&[JobOutcome]> {
        if self.hosts_outcomes.is_none() {
            self.hosts_outcomes = Some(s3_joining::join(self)?);
        }
        Ok(self.hosts_outcomes.as_deref().unwrap_or_default())
    }
}

pub fn first_outcome(outcomes: &[JobOutcome]) -> anyhow::Result<&JobOutcome> {
    outcomes.first().ok_or_else(|| anyhow!("the run returned no outcome"))
}

pub fn gathered_by_zero(outcome: &JobOutcome) -> anyhow::Result<&Gathered> {
    outcome
        .gathered
        .as_ref()
        .ok_or_else(|| anyhow!("process 0 gathered nothing"))
}

/// The processes and the addresses they listened on.
pub fn show_processes(lesson: &Lesson, reports: &[ProcessReport]) {
    let mut table = Table::new(&["process", "pid", "listened on"]).left(2);
    for report in reports {
        table.row([
            report.process.to_string(),
            report.pid.to_string(),
            report.address.clone(),
        ]);
    }
    lesson.table(&table);
    let addresses: Vec<&str> = reports.iter().map(|r| r.address.as_str()).collect();
    lesson.figure("addresses", &addresses);
    lesson.figure("pids", reports.iter().map(|r| r.pid).collect::<Vec<_>>());
}

/// The phases of a local run, as bars.
pub fn show_phases(lesson: &Lesson, run: &LocalRun) {
    let steps = [
        ("start the processes", run.start.wall),
        ("scatter the blocks", run.scatter.wall),
        ("connect, count, gather", run.run.wall),
        ("wait for the exits", run.reap.wall),
    ];
    let mut bars = Bars::new().width(30);
    for (name, wall) in steps {
        bars.row(name, wall.as_secs_f64(), format::duration(wall));
    }
    lesson.bars(&bars);
    lesson.figure("phases_s", phases(run));
}

/// The phases of a local run, in seconds, as the report records them.
pub fn phases(run: &LocalRun) -> serde_json::Value {
    serde_json::json!({
        "start": run.start.wall.as_secs_f64(),
        "scatter": run.scatter.wall.as_secs_f64(),
        "run": run.run.wall.as_secs_f64(),
        "reap": run.reap.wall.as_secs_f64(),
    })
}

/// The processes one matrix of records shows at most; past that, one row per process.
const MATRIX_AT_MOST: usize = 8;

/// Prints the records sent from each process to each, checks that every record sent was
/// received, and returns the total.
pub fn show_matrix(lesson: &Lesson, reports: &[ProcessReport]) -> anyhow::Result<u64> {
    // The first that fits a projector: full headers and counts, then shorter headers, then the
    // counts in thousands and millions; past a few processes, one row per process.
    let candidates = [
        (true, format::count as fn(u64) -> String),
        (false, format::count),
        (false, short_count),
    ];
    let table = candidates
        .into_iter()
        .filter(|_| reports.len() <= MATRIX_AT_MOST)
        .map(|(long, show)| matrix(reports, long, show))
        .find(|table| table.lines().iter().all(|line| line.chars().count() <= 96))
        .unwrap_or_else(|| per_process(reports));
    lesson.table(&table);
    check_every_record_arrived(lesson, reports)
}

/// Checks that every record a process sent was received by the process it was sent to, as
/// each receiver counted it by sender; returns the records sent in all.
pub fn check_every_record_arrived(lesson: &Lesson, reports: &[ProcessReport]) -> anyhow::Result<u64> {
    for from in reports {
        for to in reports {
            let sent = from.sent.get(to.process).copied().unwrap_or(0);
            let received = to.received.get(from.process).copied().unwrap_or(0);
            if sent != received {
                let what = format!(
                    "process {} sent {sent} records to process {} but it received {received}",
                    from.process, to.process
                );
                lesson.checked(false, &what);
                bail!(what);
            }
        }
    }
    lesson.checked(
        true,
        "every record sent was received: each receiver counted, by sender, exactly what was sent to it",
    );
    Ok(reports.iter().flat_map(|r| r.sent.iter()).sum())
}

fn matrix(reports: &[ProcessReport], long_headers: bool, show: fn(u64) -> String) -> Table {
    let mut headers = vec!["from \\ to".to_string()];
    headers.extend(reports.iter().map(|r| {
        if long_headers {
            format!("process {}", r.process)
        } else {
            r.process.to_string()
        }
    }));
    headers.push("sent".to_string());
    let mut table = Table::new(&headers);
    for report in reports {
        let mut row = vec![format!("process {}", report.process)];
        row.extend(report.sent.iter().map(|n| show(*n)));
        row.push(show(report.sent.iter().sum()));
        table.row(row);
    }
    let mut received_row = vec!["received".to_string()];
    received_row.extend(reports.iter().map(|r| show(r.received.iter().sum())));
    table.row(received_row);
    table
}

/// More processes than a matrix can show: what each sent and received, and how much of it
/// crossed to or from another process.
fn per_process(reports: &[ProcessReport]) -> Table {
    let mut table = Table::new(&["process", "sent", "to others", "received", "from others"]);
    for report in reports {
        let others = |counts: &[u64]| -> u64 {
            let own = counts.get(report.process).copied().unwrap_or(0);
            counts.iter().sum::<u64>() - own
        };
        table.row([
            report.process.to_string(),
            format::count(report.sent.iter().sum()),
            format::count(others(&report.sent)),
            format::count(report.received.iter().sum()),
            format::count(others(&report.received)),
        ]);
    }
    table
}

/// A count in at most about five characters: `9,999`, `12.3k`, `2.63M`.
pub fn short_count(count: u64) -> String {
    match count {
        0..10_000 => format::count(count),
        10_000..1_000_000 => format!("{}k", format::significant(count as f64 / 1e3)),
        _ => format!("{}M", format::significant(count as f64 / 1e6)),
    }
}

/// Records in a shuffle that crossed between processes (the rest stayed where they were).
pub fn crossing(reports: &[ProcessReport]) -> u64 {
    reports
        .iter()
        .map(|r| {
            let own = r.sent.get(r.process).copied().unwrap_or(0);
            r.sent.iter().sum::<u64>() - own
        })
        .sum()
}

/// `3..6` as `3–5`, `4..5` as `4`, an empty range as `none`.
pub fn block_range(blocks: &std::ops::Range<usize>) -> String {
    match blocks.len() {
        0 => "none".to_string(),
        1 => blocks.start.to_string(),
        _ => format!("{}–{}", blocks.start, blocks.end - 1),
    }
}

/// A large ratio as a whole number with separators (`30,004`), a small one with three
/// significant digits (`5.04`).
pub fn ratio_for_humans(ratio: f64) -> String {
    if ratio >= 1000.0 {
        format::count(ratio.round() as u64)
    } else {
        format::significant(ratio)
    }
}

/// Prints lines of text, each indented like the rest of the section.
pub fn say_lines(lesson: &Lesson, lines: &[&str]) {
    for line in lines {
        say!(lesson, "  {line}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_ranges_read_well() {
        assert_eq!(block_range(&(3..6)), "3–5");
        assert_eq!(block_range(&(4..5)), "4");
        assert_eq!(block_range(&(2..2)), "none");
    }

    #[test]
    fn ratios_and_counts_read_well() {
        assert_eq!(ratio_for_humans(30_004.2), "30,004");
        assert_eq!(ratio_for_humans(5.04), "5.04");
        assert_eq!(ratio_for_humans(123.4), "123");
        assert_eq!(short_count(9_999), "9,999");
        assert_eq!(short_count(12_345), "12.3k");
        assert_eq!(short_count(2_632_000), "2.63M");
    }
}
