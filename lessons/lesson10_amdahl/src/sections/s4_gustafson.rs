//! Section 4: Gustafson's law, the job grows with the machine: both laws side by side, and
//! the scaled job measured on 1 thread and on N, in one table.

use crate::{Params, sweep};
use anyhow::Context;
use course::chart::Bars;
use course::table::Table;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use lesson10_amdahl::amdahl::{self, Job, job_parallel, job_sequential};
use std::collections::BTreeMap;

/// Worker counts the laws are tabled for (the measured ones join them).
const TABLED: [usize; 6] = [2, 4, 8, 16, 64, 1024];

pub fn run(lesson: &Lesson, params: &mut Params) -> anyhow::Result<()> {
    let p = params.p;
    say!(
        lesson,
        "  Amdahl keeps the job fixed. Usually we buy more cores to solve bigger problems: give each \
         of N workers as much parallel work as one had, keep the serial part, and compare with the \
         time one worker would need for that bigger job. Scaled speedup: S = (1 − P) + P · N."
    );
    let laws: Vec<serde_json::Value> = TABLED
        .iter()
        .map(|&n| {
            let (fixed, scaled) = (amdahl::speedup(p, n as f64), amdahl::scaled_speedup(p, n as f64));
            serde_json::json!({ "workers": n, "amdahl": fixed, "gustafson": scaled })
        })
        .collect();
    lesson.figure("laws", &laws);

    // Measured: the scaled job on N threads against the same scaled job on one thread.
    let base = Job::with_parallel_fraction(params.items / 2, p);
    let items = |range: &std::ops::Range<u64>| range.end - range.start;
    let counts: Vec<usize> = sweep::scaled_thread_counts(params.cores)
        .into_iter()
        .filter(|&n| n <= params.room)
        .collect();
    if counts.is_empty() && params.cores < 2 {
        say!(lesson, "  (One core only: a scaled job cannot be measured here.)");
    } else if counts.is_empty() {
        say!(
            lesson,
            "  (No room for a second thread here: the scaled job is not measured.)"
        );
    } else {
        say!(
            lesson,
            "  Measured: a base job of {} items (half of section 2's), {} serial and {} parallel; the \
             job scaled for N workers keeps its serial items and has N × {} parallel ones. One thread \
             and N threads each run the scaled job.",
            format::count(items(&base.serial) + items(&base.parallel)),
            format::count(items(&base.serial)),
            format::count(items(&base.parallel)),
            format::count(items(&base.parallel))
        );
    }
    let mut measured = Vec::new();
    let mut measured_by_workers = BTreeMap::new();
    let mut disturbed = None;
    for &n in &counts {
        let job = base.scaled(n as u64);
        let workload = format!(
            "the job scaled for {n} workers: {} items",
            format::count(items(&job.serial) + items(&job.parallel))
        );
        let mut comparison = Comparison::new(workload).repeats(0, lesson.pick(1, 3));
        comparison.try_variant("1 thread", 1, || job_sequential(&job, 1))?;
        match comparison.try_variant(format!("{n} threads"), n, || job_parallel(&job, n)) {
            Ok(row) => sweep::mark_serial_by_design(row, amdahl::scaled_speedup(p, n as f64)),
            Err(error) if sweep::refused(&error) => {
                lesson.warn(&sweep::stopped_at(n, &error));
                break;
            }
            Err(error) => return Err(error).with_context(|| format!("could not start {n} threads")),
        }
        let report = lesson.compare_quietly(comparison)?;
        let last = report.rows.last();
        let measured_speedup = last.map_or(0.0, |row| row.speedup);
        if let Some(why) = last.and_then(|row| row.disturbed.clone()) {
            disturbed.get_or_insert((n, why));
        }
        let predicted = amdahl::scaled_speedup(p, n as f64);
        measured_by_workers.insert(n, (measured_speedup, last.is_some_and(|row| row.disturbed.is_some())));
        measured.push(serde_json::json!({
            "workers": n,
            "predicted_scaled_speedup": predicted,
            "measured_scaled_speedup": measured_speedup,
            "relative_error": (measured_speedup - predicted) / predicted,
            "amdahl_for_the_fixed_job": amdahl::speedup(p, n as f64),
        }));
    }

    let mut table = Table::new(&[
        "workers",
        "Amdahl (fixed job)",
        "Gustafson (scaled job)",
        "measured (scaled)",
    ]);
    let mut workers: Vec<usize> = TABLED.iter().copied().chain(counts.iter().copied()).collect();
    workers.sort_unstable();
    workers.dedup();
    for n in workers {
        let measured = measured_by_workers
            .get(&n)
            .map_or("–".to_string(), |&(speedup, disturbed)| {
                format!("{}{}", format::times(speedup), if disturbed { " ⚠" } else { "" })
            });
        table.row([
            n.to_string(),
            format::times(amdahl::speedup(p, n as f64)),
            format::times(amdahl::scaled_speedup(p, n as f64)),
            measured,
        ]);
    }
    lesson.table(&table);
    if !measured.is_empty() {
        lesson.checked(
            true,
            "every scaled job: 1 thread and N threads computed the same answer",
        );
    }
    if let Some((n, why)) = disturbed {
        say!(lesson, "  ⚠ disturbed: {n} threads: {why}");
    }
    // A chart of prediction against measurement while it stays short.
    if (1..=3).contains(&measured_by_workers.len()) {
        say!(
            lesson,
            "  Scaled speedup, Gustafson's prediction against the measurement:"
        );
        let mut bars = Bars::new().width(30);
        for (&n, &(speedup, _)) in &measured_by_workers {
            let predicted = amdahl::scaled_speedup(p, n as f64);
            bars.row(format!("{n} workers, predicted"), predicted, format::times(predicted));
            bars.row(format!("{n} workers, measured"), speedup, format::times(speedup));
        }
        lesson.bars(&bars);
    }
    lesson.figure("measured", &measured);
    lesson.notice(
        "Both laws are right: a fixed job is capped by its serial part (Amdahl), but a job that grows \
         with the machine keeps the serial part small in proportion, and the speedup grows almost with \
         N (Gustafson).",
    );
    Ok(())
}
