//! Section 7: the lecture's table, from this run's measurements. A section that was skipped
//! leaves its cells empty and is named.

use super::plural;
use crate::Params;
use crate::cpython;
use course::table::Table;
use course::timing::{ComparisonReport, VariantRow, format};
use course::{Lesson, say};
use serde_json::json;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let cell = |row: Option<&VariantRow>| {
        row.map_or("–".to_string(), |row| {
            format!("{} ({:.2} cores)", format::times(row.speedup), row.cores_used)
        })
    };
    let setup = |index: fn(&crate::s6_convoy::ConvoyResults) -> usize| {
        p.convoy.as_ref().and_then(|convoy| convoy.setups.get(index(convoy)))
    };
    let latency = |index| {
        setup(index).map_or("–".to_string(), |(_, latencies)| {
            let s = latencies.summary();
            format!("{} / {}", format::duration(s.p50), format::duration(s.p99))
        })
    };
    let mut table = Table::new(&["workload", "threads + GIL", "threads, no GIL", "processes"]);
    table.row([
        format!("CPU-bound, {}: speedup", plural(p.n_threads, "worker")),
        cell(row(&p.cpu_with_gil, 1)),
        cell(row(&p.cpu_without_gil, 1)),
        cell(row(&p.cpu_processes, 1)),
    ]);
    table.row([
        format!("I/O-bound, {}: speedup", plural(p.io_tasks, "worker")),
        cell(row(&p.io, 1)),
        cell(row(&p.io, 2)),
        cell(row(&p.io, 3)),
    ]);
    table.row([
        "reply next to CPU work: p50 / p99".to_string(),
        latency(|c| c.with_gil),
        latency(|c| c.without_gil),
        latency(|c| c.processes),
    ]);
    lesson.table(&table);
    let missing: Vec<String> = [
        (2, p.cpu_with_gil.is_none()),
        (3, p.cpu_without_gil.is_none()),
        (4, p.cpu_processes.is_none()),
        (5, p.io.is_none()),
        (6, p.convoy.is_none()),
    ]
    .into_iter()
    .filter(|(_, missing)| *missing)
    .map(|(section, _)| section.to_string())
    .collect();
    if !missing.is_empty() {
        say!(
            lesson,
            "  (– : not measured in this run; the figures come from sections {})",
            missing.join(", ")
        );
    }
    let figure =
        |row: Option<&VariantRow>| row.map(|row| json!({ "speedup": row.speedup, "cores_used": row.cores_used }));
    let latency_figure =
        |index| setup(index).map(|(setup, latencies)| json!({ "setup": setup.name, "latency": latencies.summary() }));
    lesson.figure(
        "summary",
        json!({
            "cpu_bound": {
                "threads_with_gil": figure(row(&p.cpu_with_gil, 1)),
                "threads_without_gil": figure(row(&p.cpu_without_gil, 1)),
                "processes": figure(row(&p.cpu_processes, 1)),
            },
            "io_bound": {
                "threads_with_gil": figure(row(&p.io, 1)),
                "threads_without_gil": figure(row(&p.io, 2)),
                "processes": figure(row(&p.io, 3)),
            },
            "convoy": {
                "threads_with_gil": latency_figure(|c| c.with_gil),
                "threads_without_gil": latency_figure(|c| c.without_gil),
                "processes": latency_figure(|c| c.processes),
            },
        }),
    );
    calibration(lesson, p);
    lesson.notice(
        "With a GIL, use threads for waiting and processes for computing; a runtime without a GIL \
         lets threads do both. A thread that must answer quickly suffers next to CPU-bound threads \
         under a GIL.",
    );
    Ok(())
}

/// Row `index` of a comparison, if it was measured.
fn row(report: &Option<ComparisonReport>, index: usize) -> Option<&VariantRow> {
    report.as_ref().and_then(|report| report.rows.get(index))
}

/// The simulated GIL's figures over the real GIL's, from sections 2 and 4 to 6: how close the
/// model comes to CPython on this machine.
fn calibration(lesson: &Lesson, p: &Params) {
    let c = &p.calibration;
    let label = cpython::real(p).map_or("CPython".to_string(), |real| real.label.clone());
    let groups = [
        ("CPU-bound threads", &c.cpu_threads),
        ("CPU-bound processes", &c.processes),
        ("I/O-bound threads", &c.io_threads),
        ("reply p50", &c.convoy),
    ];
    let mut table = Table::new(&["simulated / real", "simulated", label.as_str(), "ratio"]);
    for (group, ratios) in groups {
        for ratio in ratios.iter().flatten() {
            let (simulated, real) = ratio.text.split_once(" / ").unwrap_or_default();
            let what = format!("{group}: {}", ratio.what);
            table.row([
                what,
                simulated.to_string(),
                real.to_string(),
                format!("{:.2}", ratio.ratio),
            ]);
        }
    }
    if !table.is_empty() {
        say!(lesson, "");
        lesson.table(&table);
    }
    lesson.figure("simulated_over_real", c);
}
