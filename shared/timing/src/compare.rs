//! Variants of the same work, timed side by side. Correct before fast: a speedup is only
//! reported when every run of every variant computed the same answer as the first variant.
//!
//! Figures are honest by construction:
//! - **efficiency** is given only for a variant that runs the baseline's algorithm on more
//!   workers ([`Comparison::variant`]); a different algorithm ([`Row::other_algorithm`]) gets
//!   a speedup and no efficiency;
//! - a run of CPU-bound work is called **disturbed** (on screen and in `--json`) when its
//!   speedup exceeds the cores it really used, when a one-worker run got under 0.9 of a core,
//!   or when workers meant to run in parallel used about one core between them. Work that
//!   mostly waits ([`Comparison::waiting`]) is not judged by cores.

use crate::{Measurement, Runs, measure, repeat};
use serde::Serialize;
use std::fmt::Display;

/// Times variants of one workload. The first variant is the baseline for speedups.
///
/// ```
/// let mut comparison = timing::Comparison::new("sum of 0..1000");
/// comparison.variant("loop", 1, || { let mut s = 0u64; for i in 0..1000 { s += i } s });
/// comparison.variant("formula", 1, || 999 * 1000 / 2).other_algorithm();
/// let report = comparison.finish().expect("both variants agree");
/// assert_eq!(report.rows.len(), 2);
/// assert_eq!(report.answer, "499500");
/// ```
#[derive(Debug)]
pub struct Comparison<A> {
    workload: String,
    warmup: usize,
    runs: usize,
    waiting: bool,
    expected: Option<(String, A)>,
    rows: Vec<Row>,
    mismatch: Option<Mismatch>,
}

/// A variant as it was declared and measured; its methods say what kind of variant it is.
#[derive(Debug)]
pub struct Row {
    name: String,
    workers: usize,
    runs: Runs,
    same_algorithm: bool,
    serialized: bool,
}

impl Row {
    /// This variant computes the same answer another way (a different algorithm, not just more
    /// workers): its speedup is reported, its efficiency is not, and a speedup above the cores
    /// it used is no sign of disturbance.
    pub fn other_algorithm(&mut self) -> &mut Self {
        self.same_algorithm = false;
        self
    }

    /// This variant's workers take turns by design (a global lock, one core allowed): using
    /// about one core between them is the point, not a disturbance.
    pub fn serialized(&mut self) -> &mut Self {
        self.serialized = true;
        self
    }
}

/// Two variants computed different answers, so no speedup can be reported.
#[derive(Clone, Debug, PartialEq)]
pub struct Mismatch {
    pub workload: String,
    pub baseline: String,
    pub expected: String,
    pub variant: String,
    pub got: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: '{}' computed {} but '{}' computed {}; no speedup is reported for different answers",
            self.workload, self.baseline, self.expected, self.variant, self.got
        )
    }
}

impl std::error::Error for Mismatch {}

/// One variant's figures. Times are seconds; speedup and efficiency are against the baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VariantRow {
    pub name: String,
    /// How many threads or processes the variant was given (1 for sequential).
    pub workers: usize,
    pub runs: usize,
    pub best_s: f64,
    pub median_s: f64,
    /// The median run's CPU time / wall time.
    pub cores_used: f64,
    /// Baseline median time / this variant's median time.
    pub speedup: f64,
    /// How useful the added workers were: speedup × baseline workers / workers (speedup /
    /// workers when the baseline is sequential); 1.0 means every worker was fully useful.
    /// `None` (JSON `null`) unless the variant runs the baseline's algorithm on more workers.
    pub efficiency: Option<f64>,
    /// False for a variant that computes the answer another way ([`Row::other_algorithm`]).
    pub same_algorithm: bool,
    /// Why this measurement cannot be trusted as it stands (`None` when it can): the machine
    /// was busy with something else, or the workers did not get the cores they were given.
    pub disturbed: Option<String>,
    /// The median run in full (wall, user, system, children, cpu).
    pub median: Measurement,
}

/// The result of a comparison whose variants all agreed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonReport {
    /// What was timed, with its size ("count_prime on 4 numbers").
    pub workload: String,
    /// The answer every variant computed, as `Display` prints it (shortened if long).
    pub answer: String,
    pub answers_agree: bool,
    /// True for work that mostly waits (no judgement by cores used).
    pub waiting: bool,
    /// True when any row is disturbed: its figures should not be taken at face value.
    pub disturbed: bool,
    pub rows: Vec<VariantRow>,
}

impl ComparisonReport {
    /// The row of the variant called `name`.
    pub fn row(&self, name: &str) -> Option<&VariantRow> {
        self.rows.iter().find(|row| row.name == name)
    }
}

/// Below this share of a core, a one-worker run of CPU-bound work was held back by something.
pub const ONE_WORKER_AT_LEAST: f64 = 0.9;
/// A speedup may exceed the ratio of cores used by this much before it is called disturbed
/// (clock granularity, turbo frequencies, caches warmed by the baseline).
pub const SPEEDUP_OVER_CORES_SLACK: f64 = 1.1;
/// Workers meant to run in parallel that used under this many cores between them, on a machine
/// with two cores or more, overlapped too little to show anything.
pub const PARALLEL_AT_LEAST: f64 = 1.2;
/// Below this much wall time the kernel's CPU accounting is too coarse to judge cores used.
const JUDGEABLE_S: f64 = 0.01;

impl<A: PartialEq + Display> Comparison<A> {
    /// A comparison of CPU-bound work that measures each variant once, without warm-up.
    pub fn new(workload: impl Into<String>) -> Self {
        Comparison {
            workload: workload.into(),
            warmup: 0,
            runs: 1,
            waiting: false,
            expected: None,
            rows: Vec::new(),
            mismatch: None,
        }
    }

    /// Unmeasured warm-up runs, then measured runs (the median is what speedups use).
    pub fn repeats(mut self, warmup: usize, runs: usize) -> Self {
        self.warmup = warmup;
        self.runs = runs.max(1);
        self
    }

    /// The work mostly waits (on a timer, a socket, a lock held elsewhere): cores used is
    /// reported but not used to judge whether a measurement was disturbed.
    pub fn waiting(mut self) -> Self {
        self.waiting = true;
        self
    }

    /// Times `work` as the variant `name`: the baseline's algorithm given `workers` threads or
    /// processes. Mark a different algorithm with [`Row::other_algorithm`].
    pub fn variant(&mut self, name: impl Into<String>, workers: usize, work: impl FnMut() -> A) -> &mut Row {
        let (answers, runs) = repeat(self.warmup, self.runs, work);
        self.add_measured(name, workers, answers, runs)
    }

    /// Like [`Comparison::variant`], for work that can fail (a thread or process the machine
    /// refuses, a worker that dies): the first error stops the comparison and is returned.
    pub fn try_variant<E>(
        &mut self,
        name: impl Into<String>,
        workers: usize,
        mut work: impl FnMut() -> Result<A, E>,
    ) -> Result<&mut Row, E> {
        self.try_variant_measured(name, workers, || {
            let (answer, measurement) = measure(&mut work);
            answer.map(|answer| (answer, measurement))
        })
    }

    /// A variant that measures itself (a process pool that counts its workers' CPU time, work
    /// whose setup must stay outside the timed part), warmed up and repeated like the others;
    /// the first error stops the comparison and is returned.
    pub fn try_variant_measured<E>(
        &mut self,
        name: impl Into<String>,
        workers: usize,
        mut work: impl FnMut() -> Result<(A, Measurement), E>,
    ) -> Result<&mut Row, E> {
        for _ in 0..self.warmup {
            work()?;
        }
        let mut answers = Vec::with_capacity(self.runs);
        let mut samples = Vec::with_capacity(self.runs);
        for _ in 0..self.runs {
            let (answer, measurement) = work()?;
            answers.push(answer);
            samples.push(measurement);
        }
        Ok(self.add_measured(name, workers, answers, Runs { samples }))
    }

    /// Adds a variant measured elsewhere, with the answer of each measured run.
    pub fn add_measured(&mut self, name: impl Into<String>, workers: usize, answers: Vec<A>, runs: Runs) -> &mut Row {
        let name = name.into();
        for answer in answers {
            match &self.expected {
                None => self.expected = Some((name.clone(), answer)),
                Some((baseline, expected)) => {
                    if *expected != answer && self.mismatch.is_none() {
                        self.mismatch = Some(Mismatch {
                            workload: self.workload.clone(),
                            baseline: baseline.clone(),
                            expected: short(expected),
                            variant: name.clone(),
                            got: short(&answer),
                        });
                    }
                }
            }
        }
        self.rows.push(Row {
            name,
            workers: workers.max(1),
            runs,
            same_algorithm: true,
            serialized: false,
        });
        self.rows.last_mut().expect("a row was just pushed")
    }

    /// True until the first variant (the baseline) is added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The report, or the first disagreement between variants.
    pub fn finish(self) -> Result<ComparisonReport, Mismatch> {
        if let Some(mismatch) = self.mismatch {
            return Err(mismatch);
        }
        let cores_here = std::thread::available_parallelism().map_or(1, usize::from);
        let baseline = self.rows.first().map(|row| row.runs.median());
        let baseline_s = baseline.map_or(0.0, |m| m.wall.as_secs_f64());
        let baseline_cores = baseline.map_or(0.0, |m| m.cores_used());
        let baseline_workers = self.rows.first().map_or(1, |row| row.workers) as f64;
        let waiting = self.waiting;
        let rows: Vec<VariantRow> = self
            .rows
            .into_iter()
            .enumerate()
            .map(|(index, row)| {
                let median = row.runs.median();
                let median_s = median.wall.as_secs_f64();
                let speedup = if median_s > 0.0 { baseline_s / median_s } else { 0.0 };
                let adds_workers = row.same_algorithm && (index == 0 || row.workers as f64 > baseline_workers);
                let cores_used = median.cores_used();
                let efficiency = adds_workers.then(|| speedup * baseline_workers / row.workers as f64);
                let disturbed = if let Some(efficiency) = efficiency
                    && efficiency > SPEEDUP_OVER_CORES_SLACK
                {
                    // More than every added worker's worth: the baseline was held back.
                    Some(format!(
                        "efficiency {:.0}% is more than the workers can give: the baseline was slowed by something else",
                        efficiency * 100.0
                    ))
                } else if waiting || median_s < JUDGEABLE_S || baseline_s < JUDGEABLE_S {
                    None
                } else {
                    judge(&Judged {
                        workers: row.workers,
                        cores_used,
                        speedup,
                        baseline_cores,
                        is_baseline: index == 0,
                        same_algorithm: row.same_algorithm,
                        serialized: row.serialized,
                        cores_here,
                    })
                };
                VariantRow {
                    name: row.name,
                    workers: row.workers,
                    runs: row.runs.samples.len(),
                    best_s: row.runs.best().wall.as_secs_f64(),
                    median_s,
                    cores_used,
                    speedup,
                    efficiency,
                    same_algorithm: row.same_algorithm,
                    disturbed,
                    median,
                }
            })
            .collect();
        let answer = self
            .expected
            .as_ref()
            .map(|(_, answer)| short(answer))
            .unwrap_or_default();
        Ok(ComparisonReport {
            workload: self.workload,
            answer,
            answers_agree: true,
            waiting,
            disturbed: rows.iter().any(|row| row.disturbed.is_some()),
            rows,
        })
    }
}

struct Judged {
    workers: usize,
    cores_used: f64,
    speedup: f64,
    baseline_cores: f64,
    is_baseline: bool,
    same_algorithm: bool,
    serialized: bool,
    cores_here: usize,
}

/// Why a CPU-bound measurement is disturbed, or `None` when its figures hang together.
fn judge(row: &Judged) -> Option<String> {
    if row.workers == 1 && row.cores_used < ONE_WORKER_AT_LEAST {
        return Some(format!(
            "one worker got only {:.2} of a core: something else was running",
            row.cores_used
        ));
    }
    if !row.is_baseline && row.same_algorithm && row.baseline_cores > 0.0 {
        let ceiling = row.cores_used / row.baseline_cores;
        if row.speedup > ceiling * SPEEDUP_OVER_CORES_SLACK + 0.05 {
            return Some(format!(
                "speedup {:.2}× is more than the {:.2}× its cores allow ({:.2} cores against the baseline's {:.2})",
                row.speedup, ceiling, row.cores_used, row.baseline_cores
            ));
        }
    }
    if row.workers >= 2 && row.cores_here >= 2 && !row.serialized && row.cores_used < PARALLEL_AT_LEAST {
        return Some(format!(
            "{} workers used {:.2} cores between them: they hardly ran at the same time",
            row.workers, row.cores_used
        ));
    }
    None
}

/// `Display`, shortened to one readable line.
fn short(value: &impl Display) -> String {
    let text = value.to_string();
    const LIMIT: usize = 120;
    if text.chars().count() <= LIMIT {
        text
    } else {
        let head: String = text.chars().take(LIMIT).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runs_of(ms: u64, cpu_ms: u64) -> Runs {
        Runs::from(Measurement {
            wall: Duration::from_millis(ms),
            user: Duration::from_millis(cpu_ms),
            ..Default::default()
        })
    }

    #[test]
    fn speedup_and_efficiency_are_against_the_first_variant() {
        let mut c = Comparison::new("work");
        c.add_measured("sequential", 1, vec![42], runs_of(400, 400));
        c.add_measured("two threads", 2, vec![42], runs_of(200, 400));
        c.add_measured("four threads", 4, vec![42], runs_of(160, 640));
        let report = c.finish().unwrap();
        assert_eq!(report.answer, "42");
        assert!(report.answers_agree);
        let two = report.row("two threads").unwrap();
        assert!((two.speedup - 2.0).abs() < 1e-9);
        assert!((two.efficiency.unwrap() - 1.0).abs() < 1e-9);
        let four = report.row("four threads").unwrap();
        assert!((four.speedup - 2.5).abs() < 1e-9);
        assert!((four.efficiency.unwrap() - 0.625).abs() < 1e-9);
        assert!((report.rows[0].speedup - 1.0).abs() < 1e-9);
    }

    #[test]
    fn efficiency_only_for_the_baselines_algorithm_on_more_workers() {
        let mut c = Comparison::new("count to 1000");
        c.add_measured("a lock per increment", 1, vec![1000], runs_of(700, 700));
        c.add_measured("private counts", 2, vec![1000], runs_of(100, 200))
            .other_algorithm();
        c.add_measured("a lock per increment, 2 threads", 2, vec![1000], runs_of(350, 700));
        let report = c.finish().unwrap();
        assert!((report.rows[1].speedup - 7.0).abs() < 1e-9);
        assert_eq!(report.rows[1].efficiency, None, "another algorithm: no efficiency");
        assert_eq!(report.rows[1].disturbed, None, "another algorithm may beat its cores");
        assert!(!report.rows[1].same_algorithm);
        assert!((report.rows[2].efficiency.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(report.rows[0].efficiency, Some(1.0));
    }

    #[test]
    fn disturbed_runs_are_named() {
        let mut c = Comparison::new("cpu work");
        c.add_measured("sequential", 1, vec![1], runs_of(400, 400));
        c.add_measured("2 threads, more than their cores", 2, vec![1], runs_of(100, 220));
        c.add_measured("2 threads on one core", 2, vec![1], runs_of(400, 410));
        c.add_measured("2 threads taking turns", 2, vec![1], runs_of(400, 400))
            .serialized();
        c.add_measured("1 thread, starved", 1, vec![1], runs_of(400, 300));
        let report = c.finish().unwrap();
        assert!(report.disturbed);
        assert_eq!(report.rows[0].disturbed, None);
        assert!(report.rows[1].disturbed.as_deref().unwrap().contains("more than"));
        if std::thread::available_parallelism().map_or(1, usize::from) >= 2 {
            assert!(report.rows[2].disturbed.as_deref().unwrap().contains("hardly ran"));
        }
        assert_eq!(report.rows[3].disturbed, None, "serialized by design");
        assert!(report.rows[4].disturbed.as_deref().unwrap().contains("of a core"));
    }

    #[test]
    fn efficiency_above_one_is_always_disturbed() {
        let mut c = Comparison::new("short work");
        c.add_measured("sequential", 1, vec![1], runs_of(4, 4));
        c.add_measured("2 threads", 2, vec![1], runs_of(1, 2));
        let report = c.finish().unwrap();
        assert!(report.rows[1].efficiency.unwrap() > 1.9);
        assert!(report.rows[1].disturbed.as_deref().unwrap().contains("efficiency"));
    }

    #[test]
    fn waiting_work_is_not_judged_by_cores() {
        let mut c = Comparison::new("sleep").waiting();
        c.add_measured("one after another", 1, vec![1], runs_of(400, 1));
        c.add_measured("8 threads", 8, vec![1], runs_of(50, 2));
        let report = c.finish().unwrap();
        assert!(!report.disturbed);
        assert!(report.waiting);
    }

    #[test]
    fn different_answers_refuse_a_speedup() {
        let mut c = Comparison::new("count");
        c.add_measured("sequential", 1, vec![10], runs_of(100, 100));
        c.add_measured("racy", 2, vec![10, 9], runs_of(50, 100));
        let mismatch = c.finish().unwrap_err();
        assert_eq!(mismatch.variant, "racy");
        assert_eq!(mismatch.expected, "10");
        assert_eq!(mismatch.got, "9");
        assert!(mismatch.to_string().contains("no speedup"));
    }

    #[test]
    fn variant_runs_the_work_with_repeats() {
        let mut calls = 0;
        let mut c = Comparison::new("calls").repeats(1, 3);
        c.variant("only", 1, || {
            calls += 1;
            "same"
        });
        let report = c.finish().unwrap();
        assert_eq!(calls, 4);
        assert_eq!(report.rows[0].runs, 3);
    }

    #[test]
    fn the_first_error_stops_a_fallible_variant() {
        let mut c = Comparison::new("fallible").repeats(1, 3);
        let mut calls = 0;
        let error = c
            .try_variant("fails on the third call", 2, || {
                calls += 1;
                if calls == 3 { Err("no more threads") } else { Ok(7) }
            })
            .unwrap_err();
        assert_eq!(error, "no more threads");
        assert_eq!(calls, 3, "nothing runs after the first error");
    }

    #[test]
    fn a_self_measured_variant_is_warmed_up_and_repeated() {
        let mut c = Comparison::new("pool").repeats(2, 3);
        let mut calls = 0;
        c.try_variant_measured("measures itself", 2, || {
            calls += 1;
            Ok::<_, ()>((
                5,
                Measurement {
                    wall: Duration::from_millis(10 * calls),
                    ..Default::default()
                },
            ))
        })
        .unwrap();
        let report = c.finish().unwrap();
        assert_eq!(calls, 5);
        assert_eq!(report.rows[0].runs, 3);
        assert!(
            (report.rows[0].median_s - 0.04).abs() < 1e-9,
            "warm-up runs are not kept"
        );
    }

    #[test]
    fn long_answers_are_shortened() {
        let long = "7".repeat(500);
        assert!(short(&long).ends_with('…'));
        assert!(short(&long).chars().count() <= 121);
    }
}
