//! The notes' programs on the machine's CPython: `python/pool_map.py`, run once and read by two
//! sections. Section 1 adds its word counts (sequential, a thread per string, a `Pool` made for
//! the call) to Rust's comparison; section 3 times its `count_prime`, sequential and on
//! `Pool.map`, on numbers scaled down so that CPython takes a second or two, with Rust timed on
//! the same numbers: what one iteration costs in each.

use crate::Params;
use crate::answers::DivisorCounts;
use course::Lesson;
use course::table::Table;
use course::timing::{ComparisonReport, format};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// The most count_prime iterations CPython is given: at some tens of nanoseconds each, about a
/// second in all, twice with its pool; a tenth of that with `--quick`.
const CPYTHON_ITERATIONS: u64 = 30_000_000;

/// The count_prime numbers CPython runs: the lesson's, divided by `scale` (a power of ten) until
/// their iterations fit its budget.
#[derive(Clone, Debug, Serialize)]
pub struct Scaled {
    pub numbers: Vec<u64>,
    pub scale: u64,
    pub iterations: u64,
}

impl Scaled {
    pub fn of(numbers: &[u64], quick: bool) -> Scaled {
        let budget = if quick {
            CPYTHON_ITERATIONS / 10
        } else {
            CPYTHON_ITERATIONS
        };
        let iterations = |numbers: &[u64]| numbers.iter().map(|n| n.saturating_sub(3)).sum::<u64>();
        let mut scale = 1;
        let mut scaled = numbers.to_vec();
        while iterations(&scaled) > budget && scaled.iter().any(|&n| n > 3) {
            scale *= 10;
            scaled = numbers.iter().map(|&n| (n / scale).max(3)).collect();
        }
        Scaled {
            iterations: iterations(&scaled),
            numbers: scaled,
            scale,
        }
    }

    /// "the same 4 numbers", "a tenth of each number", "1/1000 of each number".
    pub fn described(&self) -> String {
        match self.scale {
            1 => format!("the same {}", format::plural(self.numbers.len() as u64, "number")),
            10 => "a tenth of each number".to_string(),
            100 => "a hundredth of each number".to_string(),
            scale => format!("1/{scale} of each number"),
        }
    }
}

/// Runs the twin unless a section before did (its output goes to `p.twin`); nothing without a
/// working Python.
pub fn run_once(lesson: &Lesson, p: &mut Params) {
    if p.twin.is_some() || p.python.interpreter().is_none() {
        return;
    }
    let numbers: Vec<String> = p.cpython_numbers.numbers.iter().map(u64::to_string).collect();
    let args = [
        "--workers".to_string(),
        p.n_workers.to_string(),
        "--numbers".to_string(),
        numbers.join(","),
        "--runs".to_string(),
        lesson.pick(3, 7).to_string(),
    ];
    // Up to a microsecond an iteration, twice (sequential and pooled), and the word counts.
    let timeout = Duration::from_secs(60) + Duration::from_micros(2 * p.cpython_numbers.iterations);
    p.twin = p.python.run(lesson, course::python_twin!("pool_map.py"), args, timeout);
}

/// count_prime's answers as the twin printed them.
pub fn divisor_counts(value: &Value) -> Option<DivisorCounts> {
    let counts: Option<Vec<u64>> = value.as_array()?.iter().map(Value::as_u64).collect();
    counts.map(DivisorCounts)
}

/// What one count_prime iteration cost CPython and Rust, one after another on one core.
#[derive(Debug, Serialize)]
pub struct PerIteration {
    pub interpreter: String,
    pub numbers: Vec<u64>,
    pub iterations: u64,
    pub cpython_s: f64,
    pub rust_s: f64,
    /// CPython's time over Rust's: the per-item ratio.
    pub cpython_over_rust: f64,
}

/// Prints the comparison of Rust and CPython on the scaled numbers as one compact table, Rust
/// and CPython side by side (one after another, per iteration; on a pool, in all), with
/// CPython/Rust, and returns the per-iteration costs. `pairs`: CPython's sequential and pool rows, each with
/// Rust's.
pub fn show_scaled(
    lesson: &Lesson,
    report: &ComparisonReport,
    scaled: &Scaled,
    interpreter: &str,
    pairs: &[(&str, &str); 2],
) -> Option<PerIteration> {
    let ratios = course::python::ratios_quietly(lesson, report, pairs);
    let [(python, rust), (python_pool, rust_pool)] = pairs.map(|(python, rust)| (report.row(python), report.row(rust)));
    let (python, rust) = (python?, rust?);
    let per_iteration = |seconds: f64| seconds / scaled.iterations.max(1) as f64;
    let ratio = |name: &str| {
        ratios
            .iter()
            .find(|r| r.cpython == name)
            .map_or(String::new(), |r| format::times(r.ratio))
    };
    let workload = format!(
        "count_prime, {}: {} iterations",
        scaled.described(),
        format::count(scaled.iterations)
    );
    let mut table = Table::new(&[workload.as_str(), "Rust", interpreter, "CPython/Rust"]);
    // One after another, the time per iteration says it all: the whole is iterations × that.
    table.row([
        "one after another, per iteration".to_string(),
        format::seconds(per_iteration(rust.median_s)),
        format::seconds(per_iteration(python.median_s)),
        ratio(&python.name),
    ]);
    if let (Some(python_pool), Some(rust_pool)) = (python_pool, rust_pool) {
        table.row([
            format!(
                "on {} processes ({}, {}), in all",
                python_pool.workers,
                rust_pool.name,
                python_pool.name.trim_start_matches("CPython: ")
            ),
            format::seconds(rust_pool.median_s),
            format::seconds(python_pool.median_s),
            ratio(&python_pool.name),
        ]);
    }
    lesson.table(&table);
    Some(PerIteration {
        interpreter: interpreter.to_string(),
        numbers: scaled.numbers.clone(),
        iterations: scaled.iterations,
        cpython_s: per_iteration(python.median_s),
        rust_s: per_iteration(rust.median_s),
        cpython_over_rust: python.median_s / rust.median_s.max(f64::MIN_POSITIVE),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::seed::SEED_NUMBERS;

    #[test]
    fn numbers_are_scaled_by_tens_to_fit_cpythons_budget() {
        let full = Scaled::of(&SEED_NUMBERS, false);
        assert_eq!(full.scale, 10);
        assert_eq!(full.numbers, [7_700_000, 7_400_000, 7_300_000, 7_100_000]);
        assert!(full.iterations <= CPYTHON_ITERATIONS);
        let quick = Scaled::of(&SEED_NUMBERS.map(|n| n / 10), true);
        assert_eq!(quick.numbers, [770_000, 740_000, 730_000, 710_000]);
        let small = Scaled::of(&[1000, 3], false);
        assert_eq!((small.scale, small.numbers.clone()), (1, vec![1000, 3]));
        assert_eq!(small.described(), "the same 2 numbers");
    }
}
