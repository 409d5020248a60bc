//! Variants of the same work, timed side by side. Correct before fast: a speedup is only
//! reported when every run of every variant computed the same answer as the first variant.

use crate::{Measurement, Runs, repeat};
use serde::Serialize;
use std::fmt::Debug;

/// Times variants of one workload. The first variant is the baseline for speedups.
///
/// ```
/// let mut comparison = timing::Comparison::new("sum of 0..1000");
/// comparison.variant("loop", 1, || { let mut s = 0u64; for i in 0..1000 { s += i } s });
/// comparison.variant("formula", 1, || 999 * 1000 / 2);
/// let report = comparison.finish().expect("both variants agree");
/// assert_eq!(report.rows.len(), 2);
/// ```
#[derive(Debug)]
pub struct Comparison<A> {
    workload: String,
    warmup: usize,
    runs: usize,
    expected: Option<(String, A)>,
    rows: Vec<(String, usize, Runs)>,
    mismatch: Option<Mismatch>,
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
    /// `None` (JSON `null`) for a variant that does not add workers to the baseline's (the same
    /// work done another way, on as many workers or fewer): there it would mean nothing.
    pub efficiency: Option<f64>,
    /// The median run in full (wall, user, system, children, cpu).
    pub median: Measurement,
}

/// The result of a comparison whose variants all agreed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonReport {
    pub workload: String,
    /// The answer every variant computed, as `Debug` prints it (shortened if long).
    pub answer: String,
    pub answers_agree: bool,
    pub rows: Vec<VariantRow>,
}

impl ComparisonReport {
    /// The row of the variant called `name`.
    pub fn row(&self, name: &str) -> Option<&VariantRow> {
        self.rows.iter().find(|row| row.name == name)
    }
}

impl<A: PartialEq + Debug> Comparison<A> {
    /// A comparison that measures each variant once, without warm-up.
    pub fn new(workload: impl Into<String>) -> Self {
        Comparison {
            workload: workload.into(),
            warmup: 0,
            runs: 1,
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

    /// Times `work` as the variant `name`, given `workers` threads or processes.
    pub fn variant(&mut self, name: impl Into<String>, workers: usize, work: impl FnMut() -> A) {
        let (answers, runs) = repeat(self.warmup, self.runs, work);
        self.add_measured(name, workers, answers, runs);
    }

    /// Adds a variant measured elsewhere (when setup must stay outside the timed part),
    /// with the answer of each measured run.
    pub fn add_measured(&mut self, name: impl Into<String>, workers: usize, answers: Vec<A>, runs: Runs) {
        let name = name.into();
        for answer in answers {
            match &self.expected {
                None => self.expected = Some((name.clone(), answer)),
                Some((baseline, expected)) => {
                    if *expected != answer && self.mismatch.is_none() {
                        self.mismatch = Some(Mismatch {
                            workload: self.workload.clone(),
                            baseline: baseline.clone(),
                            expected: short_debug(expected),
                            variant: name.clone(),
                            got: short_debug(&answer),
                        });
                    }
                }
            }
        }
        self.rows.push((name, workers.max(1), runs));
    }

    /// The report, or the first disagreement between variants.
    pub fn finish(self) -> Result<ComparisonReport, Mismatch> {
        if let Some(mismatch) = self.mismatch {
            return Err(mismatch);
        }
        let baseline_s = self
            .rows
            .first()
            .map(|(_, _, runs)| runs.median().wall.as_secs_f64())
            .unwrap_or(0.0);
        let baseline_workers = self.rows.first().map_or(1, |(_, workers, _)| *workers) as f64;
        let rows = self
            .rows
            .into_iter()
            .enumerate()
            .map(|(index, (name, workers, runs))| {
                let median = runs.median();
                let median_s = median.wall.as_secs_f64();
                let speedup = if median_s > 0.0 { baseline_s / median_s } else { 0.0 };
                VariantRow {
                    name,
                    workers,
                    runs: runs.samples.len(),
                    best_s: runs.best().wall.as_secs_f64(),
                    median_s,
                    cores_used: median.cores_used(),
                    speedup,
                    efficiency: (index == 0 || workers as f64 > baseline_workers)
                        .then(|| speedup * baseline_workers / workers as f64),
                    median,
                }
            })
            .collect();
        let answer = self
            .expected
            .as_ref()
            .map(|(_, answer)| short_debug(answer))
            .unwrap_or_default();
        Ok(ComparisonReport {
            workload: self.workload,
            answer,
            answers_agree: true,
            rows,
        })
    }
}

fn short_debug(value: &impl Debug) -> String {
    let text = format!("{value:?}");
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

    fn runs_of(ms: u64) -> Runs {
        Runs::from(Measurement {
            wall: Duration::from_millis(ms),
            user: Duration::from_millis(ms),
            ..Default::default()
        })
    }

    #[test]
    fn speedup_and_efficiency_are_against_the_first_variant() {
        let mut c = Comparison::new("work");
        c.add_measured("sequential", 1, vec![42], runs_of(400));
        c.add_measured("two threads", 2, vec![42], runs_of(200));
        c.add_measured("four threads", 4, vec![42], runs_of(160));
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
    fn efficiency_is_per_worker_added_to_the_baseline() {
        // Two ways of using the same 2 workers: the faster is not "300% efficient".
        let mut c = Comparison::new("two workers, two ways");
        c.add_measured("plain", 2, vec![1], runs_of(300));
        c.add_measured("with a combiner", 2, vec![1], runs_of(100));
        c.add_measured("on 4 workers", 4, vec![1], runs_of(150));
        let report = c.finish().unwrap();
        assert!((report.rows[1].speedup - 3.0).abs() < 1e-9);
        assert_eq!(report.rows[1].efficiency, None, "no workers added: no efficiency");
        assert!((report.rows[2].efficiency.unwrap() - 1.0).abs() < 1e-9);
        assert_eq!(report.rows[0].efficiency, Some(1.0));
    }

    #[test]
    fn different_answers_refuse_a_speedup() {
        let mut c = Comparison::new("count");
        c.add_measured("sequential", 1, vec![10], runs_of(100));
        c.add_measured("racy", 2, vec![10, 9], runs_of(50));
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
    fn long_answers_are_shortened() {
        let long = vec![7u8; 500];
        assert!(short_debug(&long).ends_with('…'));
        assert!(short_debug(&long).chars().count() <= 121);
    }
}
