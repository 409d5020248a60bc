//! The real GIL beside the simulated one: runs the twin `python/gil.py` once on the machine's
//! CPython with the lesson's sizes, checks every answer it gives against what Rust computes for
//! the same steps (the twin's step is the same xorshift with fewer rounds, `rounds_per_step`,
//! about as long in CPython as the simulation's step is in Rust), and hands each section its
//! part: CPU-bound threads and processes (sections 2 and 4), I/O-bound threads (5), the convoy
//! (6). Its rows go in comparisons of their own (its checksum is not the simulation's), and
//! each simulated figure is printed over the real one (simulated/real).

use crate::Params;
use crate::programs::Answer;
use course::Lesson;
use course::python::{Python, Twin};
use course::table::Table;
use course::timing::{Comparison, ComparisonReport, Latencies, VariantRow, format};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// What the twin measured, its answers checked as they are used.
pub struct RealGil {
    /// "CPython 3.11.7".
    pub label: String,
    /// Whether its threads take turns on a GIL (not on a free-threaded build).
    pub has_gil: bool,
    twin: Twin,
    /// Rounds of xorshift in one of its steps.
    rounds: u64,
}

/// One convoy measurement of the twin, matched to the simulation's by its setup.
pub struct RealConvoy {
    pub switch_interval: Duration,
    pub cpu_neighbours: usize,
    pub in_processes: bool,
    pub latencies: Latencies,
}

/// A simulated figure over the real one.
#[derive(Clone, Debug, Serialize)]
pub struct Ratio {
    pub what: String,
    pub simulated: f64,
    pub real: f64,
    /// simulated / real.
    pub ratio: f64,
    /// The two figures as printed: "0.98× / 0.99×".
    #[serde(skip)]
    pub text: String,
}

impl Ratio {
    fn new(what: &str, simulated: f64, real: f64, text: String) -> Ratio {
        let ratio = if real > 0.0 { simulated / real } else { 0.0 };
        let what = what.to_string();
        Ratio {
            what,
            simulated,
            real,
            ratio,
            text,
        }
    }

    /// Two speedups.
    pub fn times(what: &str, simulated: f64, real: f64) -> Ratio {
        Ratio::new(
            what,
            simulated,
            real,
            format!("{} / {}", format::times(simulated), format::times(real)),
        )
    }

    /// Two counts of cores used.
    pub fn cores(what: &str, simulated: f64, real: f64) -> Ratio {
        Ratio::new(what, simulated, real, format!("{simulated:.2} / {real:.2}"))
    }

    /// Two durations.
    pub fn duration(what: &str, simulated: Duration, real: Duration) -> Ratio {
        let text = format!("{} / {}", format::duration(simulated), format::duration(real));
        Ratio::new(what, simulated.as_secs_f64(), real.as_secs_f64(), text)
    }

    /// The two speedups and the two counts of cores used of comparison rows.
    pub fn of_rows(simulated: &VariantRow, real: &VariantRow) -> Vec<Ratio> {
        vec![
            Ratio::times("speedup", simulated.speedup, real.speedup),
            Ratio::cores("cores used", simulated.cores_used, real.cores_used),
        ]
    }
}

/// The simulated/real ratios the sections found, for the summary (`None`: not measured).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Calibration {
    pub cpu_threads: Option<Vec<Ratio>>,
    pub processes: Option<Vec<Ratio>>,
    pub io_threads: Option<Vec<Ratio>>,
    pub convoy: Option<Vec<Ratio>>,
}

/// Runs the twin unless it ran already in this lesson: the first section that needs it does.
pub fn ensure_ran(lesson: &Lesson, p: &mut Params) {
    if p.real.is_none() {
        p.real = Some(run_twin(lesson, p));
    }
}

/// The twin's run: `None` without a working CPython (one line said why).
pub fn real(p: &Params) -> Option<&RealGil> {
    p.real.as_ref().and_then(Option::as_ref)
}

fn run_twin(lesson: &Lesson, p: &Params) -> Option<RealGil> {
    let interpreter = p.python.interpreter()?.clone();
    let ms = |d: Duration| d.as_millis().max(1).to_string();
    let args = [
        ("--threads", p.n_threads.to_string()),
        ("--steps", p.total_steps.to_string()),
        ("--io-tasks", p.io_tasks.to_string()),
        ("--io-wait", ms(p.io_wait)),
        ("--switch-interval", ms(p.switch_interval)),
        ("--requests", p.requests.to_string()),
        ("--seed", lesson.seed().to_string()),
        ("--runs", p.runs.to_string()),
    ];
    let args: Vec<String> = args
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect();
    // About 15 µs a step and three CPU-bound variants, the waits, and five convoys of up to
    // 100 ms a request; four times that before the twin is stopped.
    let steps = Duration::from_micros(15) * (p.total_steps as u32) * 3 * (p.runs as u32);
    let waits = p.io_wait * (p.io_tasks as u32 + 1);
    let convoy = Duration::from_millis(100) * (p.requests as u32) * 5;
    let timeout = Duration::from_secs(20) + 4 * (steps + waits + convoy);
    let twin = p.python.run(lesson, course::python_twin!("gil.py"), args, timeout)?;
    let rounds = twin.params["rounds_per_step"].as_u64().unwrap_or(0);
    Some(RealGil {
        label: interpreter.label(),
        has_gil: interpreter.has_gil(),
        twin,
        rounds,
    })
}

impl RealGil {
    /// The twin's variants of `workload` of the given kinds ("sequential", "threads",
    /// "processes") as CPython rows of a comparison of their own, once every answer equals
    /// what Rust computes for steps `0..steps` with the twin's rounds; printed, and returned.
    pub fn compare(
        &self,
        lesson: &Lesson,
        python: &Python,
        workload: &str,
        kinds: &[&str],
        steps: u64,
    ) -> anyhow::Result<Option<ComparisonReport>> {
        let expected = Answer::with_rounds(steps, self.rounds);
        let mut twin = self.twin.clone();
        twin.variants
            .retain(|v| v.workload == workload && kinds.contains(&v.kind.as_str()));
        let what = format!(
            "python/gil.py on {}: {} steps of {} rounds",
            self.label,
            format::count(steps),
            self.rounds
        );
        let mut comparison = Comparison::new(what);
        if workload == "io_bound" {
            comparison = comparison.waiting();
        }
        if python
            .add_rows(lesson, &mut comparison, &twin, workload, &expected, answer_of)
            .is_empty()
        {
            return Ok(None);
        }
        let report = lesson.compare_quietly(comparison)?;
        show_rows(lesson, &report, self.rounds);
        Ok(Some(report))
    }

    /// The twin's convoy measurements, once each served `requests` requests with the right
    /// replies; `None` (with one line saying why) otherwise.
    pub fn convoy(&self, lesson: &Lesson, requests: usize) -> Option<Vec<RealConvoy>> {
        let expected = Answer::with_rounds(requests as u64, self.rounds);
        let entries = self.twin.extra.get("convoy").and_then(Value::as_array);
        let mut found = Vec::new();
        for entry in entries.map_or(&[][..], Vec::as_slice) {
            let latencies: Vec<f64> = entry["latencies_s"]
                .as_array()
                .map_or(Vec::new(), |l| l.iter().filter_map(Value::as_f64).collect());
            let answer = answer_of(&entry["answer"]);
            if answer != Some(expected) || latencies.len() != requests {
                lesson.warn(&format!(
                    "{}, convoy '{}', answered {} requests with {} where Rust computed {expected}: \
                     its convoy is left out",
                    self.label,
                    entry["name"].as_str().unwrap_or("?"),
                    latencies.len(),
                    answer.map_or("nothing".to_string(), |a| a.to_string()),
                ));
                return None;
            }
            let mut recorded = Latencies::new();
            for seconds in latencies {
                recorded.record(Duration::try_from_secs_f64(seconds).unwrap_or_default());
            }
            found.push(RealConvoy {
                switch_interval: Duration::from_secs_f64(entry["switch_interval_s"].as_f64().unwrap_or(0.0).max(0.0)),
                cpu_neighbours: entry["cpu_neighbours"].as_u64().unwrap_or(0) as usize,
                in_processes: entry["in_processes"].as_bool().unwrap_or(false),
                latencies: recorded,
            });
        }
        Some(found)
    }
}

/// A compact table of the twin's rows (they are recorded like any comparison), the answer they
/// agree on, and which runs were disturbed.
fn show_rows(lesson: &Lesson, report: &ComparisonReport, rounds: u64) {
    let runs = report.rows.first().map_or(1, |r| r.runs);
    let repeats = if runs > 1 {
        format!(" · median of {runs} runs")
    } else {
        String::new()
    };
    lesson.say(format_args!("  {}{repeats}", report.workload));
    let mut table = Table::new(&["variant", "workers", "median", "speedup", "cores used"]);
    for row in &report.rows {
        let mark = if row.disturbed.is_some() { " ⚠" } else { "" };
        table.row([
            format!("{}{mark}", row.name),
            row.workers.to_string(),
            format::seconds(row.median_s),
            format::times(row.speedup),
            format!("{:.2}", row.cores_used),
        ]);
    }
    lesson.table(&table);
    lesson.checked(
        report.answers_agree,
        format!("the same answer as Rust's steps of {rounds} rounds: {}", report.answer),
    );
    for row in report.rows.iter().filter(|row| row.disturbed.is_some()) {
        let why = row.disturbed.as_deref().unwrap_or_default();
        lesson.say(format_args!("  ⚠ disturbed: {}: {why}", row.name));
    }
}

/// The twin's `{"steps": .., "checksum": ..}`.
fn answer_of(value: &Value) -> Option<Answer> {
    Some(Answer {
        steps: value["steps"].as_u64()?,
        checksum: value["checksum"].as_u64()?,
    })
}

/// The ratios in one line: "Simulated/real: speedup 0.98× / 0.99× = 0.99; cores used ...".
pub fn show(lesson: &Lesson, ratios: &[Ratio]) {
    let parts: Vec<String> = ratios
        .iter()
        .map(|r| format!("{} {} = {:.2}", r.what, r.text, r.ratio))
        .collect();
    lesson.say(format_args!("  Simulated/real: {}.", parts.join("; ")));
}
