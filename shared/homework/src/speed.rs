//! The speed verdict's measuring half, for an exercise's `src/bin/speed.rs`.
//!
//! Each timed function runs the reference's version, then the student's, on the same input in
//! the same process, through [`timing::Comparison`]: every run's answer must equal the
//! reference's before any ratio is given. The result is one JSON document on stdout, which
//! `cargo homework` turns into a table and a plain sentence. Nothing here can fail the
//! homework: the verdict is advice.
//!
//! ```no_run
//! let mut speed = homework::speed::Speed::from_args();
//! let n = if speed.quick() { 1_000 } else { 1_000_000 };
//! speed.compare(
//!     "sum",
//!     format!("the sum of 0..{n}"),
//!     1,
//!     "a slower loop",
//!     || (0..n as u64).sum::<u64>(),
//!     || (0..n as u64).fold(0, |a, b| a + b),
//! );
//! std::process::exit(speed.finish());
//! ```

use serde::{Deserialize, Serialize};

use std::fmt::Display;
use std::io::Write;
/// `1,000,000` and `4 threads`, for workload strings.
pub use timing::format::{count, plural};

/// One timed function: the reference's row first, then the student's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timed {
    /// The function's name in the exercise (`count_with_mutex`).
    pub function: String,
    /// What was timed, with its size.
    pub workload: String,
    /// Threads or processes each version was asked to use.
    pub workers: usize,
    /// What usually makes a student's version slower than the reference here.
    pub when_slower: String,
    /// Reference median time, seconds.
    pub reference_s: f64,
    /// Student's median time, seconds.
    pub yours_s: f64,
    /// Reference time / student's time: above 1, the student's version is faster.
    pub ratio: f64,
    pub reference_cores: f64,
    pub yours_cores: f64,
    /// Why the measurement cannot be taken at face value (a busy machine), if so.
    pub disturbed: Option<String>,
    /// The answers differed (no ratio is given then).
    pub mismatch: Option<String>,
    /// The reference's workers wait for each other by design (a lock, a GIL): its times vary
    /// more from run to run, so the verdict allows a wider margin.
    #[serde(default)]
    pub contended: bool,
    /// The work mostly waits (on a server, a timer): the cores kept busy say nothing, and the
    /// verdict speaks of requests waiting together or one after another.
    #[serde(default)]
    pub waiting: bool,
}

/// The whole document a speed check prints.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Report {
    /// Cores this process may use.
    pub cores: usize,
    pub timed: Vec<Timed>,
    /// Why some functions were not timed.
    pub notes: Vec<String>,
}

/// Collects the comparisons of one speed check.
#[derive(Debug)]
pub struct Speed {
    quick: bool,
    report: Report,
}

impl Speed {
    /// `--quick` on the command line picks small sizes (the course's CI uses it).
    pub fn from_args() -> Self {
        Speed {
            quick: std::env::args().any(|arg| arg == "--quick"),
            report: Report {
                cores: cores(),
                ..Report::default()
            },
        }
    }

    pub fn quick(&self) -> bool {
        self.quick
    }

    /// Cores this process may use: the worker count a speed check gives both versions.
    pub fn cores(&self) -> usize {
        self.report.cores
    }

    /// Times `reference` and `yours` (a warm-up each, then five runs each, alternating; the
    /// median is kept), after
    /// checking that every run of both gave the same answer. The reference is expected to keep
    /// its workers' cores busy: when it does not, the machine was busy with something else,
    /// and the verdict says so instead of judging.
    pub fn compare<A: PartialEq + Display>(
        &mut self,
        function: &str,
        workload: String,
        workers: usize,
        when_slower: &str,
        reference: impl FnMut() -> A,
        yours: impl FnMut() -> A,
    ) {
        self.time(function, workload, workers, when_slower, Kind::Busy, reference, yours);
    }

    /// Like [`Speed::compare`], for a reference whose workers wait for each other by design (a
    /// lock per increment): the cores it keeps busy say nothing about the machine.
    pub fn compare_contended<A: PartialEq + Display>(
        &mut self,
        function: &str,
        workload: String,
        workers: usize,
        when_slower: &str,
        reference: impl FnMut() -> A,
        yours: impl FnMut() -> A,
    ) {
        self.time(
            function,
            workload,
            workers,
            when_slower,
            Kind::Contended,
            reference,
            yours,
        );
    }

    /// Like [`Speed::compare`], for work that mostly waits (requests to a slow server): the
    /// cores kept busy are reported but judge nothing, and the verdict speaks of waits that
    /// overlap, or do not.
    pub fn compare_waiting<A: PartialEq + Display>(
        &mut self,
        function: &str,
        workload: String,
        workers: usize,
        when_slower: &str,
        reference: impl FnMut() -> A,
        yours: impl FnMut() -> A,
    ) {
        self.time(
            function,
            workload,
            workers,
            when_slower,
            Kind::Waiting,
            reference,
            yours,
        );
    }

    #[allow(clippy::too_many_arguments)] // the public doors above name them all
    fn time<A: PartialEq + Display>(
        &mut self,
        function: &str,
        workload: String,
        workers: usize,
        when_slower: &str,
        kind: Kind,
        reference: impl FnMut() -> A,
        yours: impl FnMut() -> A,
    ) {
        let reference_keeps_cores_busy = kind == Kind::Busy;
        let runs = if self.quick { 1 } else { 5 };
        let (mut reference, mut yours) = (reference, yours);
        // One warm-up each, then the two alternate run by run, so that a machine that gets
        // busier or quieter meanwhile weighs on both alike.
        std::hint::black_box(reference());
        std::hint::black_box(yours());
        let (mut reference_runs, mut your_runs) = (timing::Runs::default(), timing::Runs::default());
        let (mut reference_answers, mut your_answers) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            let (answer, measurement) = timing::measure(&mut reference);
            reference_answers.push(answer);
            reference_runs.samples.push(measurement);
            let (answer, measurement) = timing::measure(&mut yours);
            your_answers.push(answer);
            your_runs.samples.push(measurement);
        }
        let mut comparison = timing::Comparison::new(workload.clone());
        if kind == Kind::Waiting {
            comparison = comparison.waiting();
        }
        // Both rows are marked serialized: workers that end up taking turns are what the verdict
        // is looking for, not a disturbance to hide; the sentence judges the cores used itself.
        comparison
            .add_measured("reference", workers, reference_answers, reference_runs)
            .serialized();
        comparison
            .add_measured("yours", workers, your_answers, your_runs)
            .other_algorithm()
            .serialized();
        let mut timed = Timed {
            function: function.to_string(),
            workload,
            workers,
            when_slower: when_slower.to_string(),
            reference_s: 0.0,
            yours_s: 0.0,
            ratio: 0.0,
            reference_cores: 0.0,
            yours_cores: 0.0,
            disturbed: None,
            mismatch: None,
            contended: kind == Kind::Contended,
            waiting: kind == Kind::Waiting,
        };
        match comparison.finish() {
            Ok(report) => {
                if let (Some(reference), Some(yours)) = (report.row("reference"), report.row("yours")) {
                    timed.reference_s = reference.median_s;
                    timed.yours_s = yours.median_s;
                    timed.ratio = yours.speedup;
                    timed.reference_cores = reference.cores_used;
                    timed.yours_cores = yours.cores_used;
                    timed.disturbed = reference.disturbed.clone().or_else(|| yours.disturbed.clone());
                    let busy_enough = 0.75 * workers.min(self.report.cores) as f64;
                    if reference_keeps_cores_busy && reference.median_s >= 0.01 && reference.cores_used < busy_enough {
                        timed.disturbed.get_or_insert(format!(
                            "the reference kept only {:.1} cores busy with {}: something else was running",
                            reference.cores_used,
                            plural(workers as u64, "worker")
                        ));
                    }
                }
            }
            Err(mismatch) => timed.mismatch = Some(mismatch.to_string()),
        }
        self.report.timed.push(timed);
    }

    /// Says why something is not timed.
    pub fn note(&mut self, text: impl Into<String>) {
        self.report.notes.push(text.into());
    }

    /// Prints the JSON document; returns the exit status (0).
    pub fn finish(self) -> i32 {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", serde_json::to_string(&self.report).unwrap_or_default());
        0
    }
}

/// What the reference's workers do, which decides how its cores busy are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// They compute: fewer cores busy than workers means a busy machine.
    Busy,
    /// They take turns by design (a lock, a GIL).
    Contended,
    /// They wait (on a server): they keep no core busy.
    Waiting,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
