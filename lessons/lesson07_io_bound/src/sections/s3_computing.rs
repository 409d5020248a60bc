//! Section 3: the same pool, given work that computes instead of waits.

use crate::Params;
use crate::fetch::{count_divisors_pooled, count_divisors_sequential};
use crate::profile::profile_table;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use std::fmt;

/// The divisor counts every variant must agree on.
#[derive(PartialEq)]
struct Counts(Vec<u64>);

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown: Vec<String> = self.0.iter().take(6).map(u64::to_string).collect();
        let more = if self.0.len() > 6 { ", …" } else { "" };
        write!(
            f,
            "divisor counts [{}{more}] (sum {})",
            shown.join(", "),
            self.0.iter().sum::<u64>()
        )
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let cores = p.cores;
    let numbers = cpu_numbers(lesson.pick(1_000_000, 20_000_000), 16, p.seed);
    say!(
        lesson,
        "  The lecture's count_prime (which counts divisors) on {} numbers near {}: pure computation.",
        numbers.len(),
        format::count(numbers[0])
    );
    let mut comparison = Comparison::new(format!(
        "divisors of {} numbers near {}",
        numbers.len(),
        format::count(numbers[0])
    ))
    .repeats(0, lesson.pick(1, 3));
    comparison.try_variant("sequential", 1, || count_divisors_sequential(&numbers, 1).map(Counts))?;
    let mut pool_sizes = vec![cores];
    if p.workers != cores {
        pool_sizes.push(p.workers);
    }
    for &workers in &pool_sizes {
        comparison.try_variant(format!("pool of {workers}"), workers, || {
            count_divisors_pooled(&numbers, workers).map(Counts)
        })?;
    }
    let report = lesson.compare(comparison)?;
    let profiles = profile_table(lesson, cores, &report.rows);
    lesson.figure("profiles", &profiles);
    let best = report.rows.iter().map(|row| row.speedup).fold(0.0, f64::max);
    if cores > 1 && best < 0.75 * cores as f64 {
        say!(
            lesson,
            "  Less than {cores}×: other programs were using the cores too (load average now: {}).",
            load_average().unwrap_or_else(|| "unknown".to_string())
        );
    }
    lesson.figure("cpu_speedup_best", best);
    lesson.figure("cores", cores);
    lesson.notice(&format!(
        "Computing keeps each busy worker's core at about 1, so the speedup stops at the number of cores ({cores}); \
here {} at best. Rust has no GIL. A CPython with one (any but a free-threaded 3.13t with it off) runs Python code \
on one thread at a time: there this pool would stay near 1× (lesson 04 measures it).",
        format::times(best)
    ));
    Ok(())
}

/// The load average over the last minute: threads running or waiting for a core.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    text.split_whitespace().next().map(str::to_string)
}

/// `count` numbers from `size` to 10% above it, from the seed.
fn cpu_numbers(size: u64, count: usize, seed: u64) -> Vec<u64> {
    let mut rng = workloads::Rng::new(seed);
    (0..count).map(|_| rng.between(size, size + size / 10)).collect()
}
