//! The lecture's busy loop on the machine's CPython (`python/fry_eggs.py`): one process in
//! section 2, a `multiprocessing.Pool` with one process per core in section 3, each shown
//! beside the Rust processes of the same section by the cores they used.

use crate::phase::{PhaseReport, Watch};
use course::python::Python;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use serde::Serialize;
use serde_json::Value;
use std::time::Duration;

/// What every call of the lecture's function returns.
const COMPLETED: &str = "One process completed";

/// What CPython's busy loop used.
#[derive(Debug, Serialize)]
pub struct CPythonBusy {
    pub interpreter: String,
    /// "python/fry_eggs.py", or "Pool(2).map".
    pub how: String,
    /// The calls of the lecture's function that returned "One process completed".
    pub calls_completed: usize,
    /// Different worker processes that ran them (a Pool only).
    pub processes_seen: Option<usize>,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub cores_used: f64,
}

/// Runs the busy loop on CPython for a phase: in one process (`pool: None`), or once in each
/// process of a `Pool(n)` (`pool: Some(n)`). `None` without a working Python, or when it did not
/// complete every call (one warning line says so).
pub fn fry_eggs(lesson: &Lesson, python: &Python, watch: Watch, pool: Option<usize>) -> Option<CPythonBusy> {
    let interpreter = python.interpreter()?.label();
    let mut args = vec!["--phase-ms".to_string(), watch.phase.as_millis().to_string()];
    match pool {
        Some(n) => args.extend([
            "--only".to_string(),
            "pool".to_string(),
            "--workers".to_string(),
            n.to_string(),
        ]),
        None => args.extend(["--only".to_string(), "one".to_string()]),
    }
    let timeout = Duration::from_secs(30) + watch.phase * 2;
    let twin = python.run(lesson, course::python_twin!("fry_eggs.py"), args, timeout)?;
    let calls = pool.unwrap_or(1);
    let (answers, how) = match pool {
        Some(n) => (twin.answers.get("pool").cloned(), format!("Pool({n}).map")),
        None => (
            twin.answers.get("one_process").map(|a| Value::Array(vec![a.clone()])),
            "python/fry_eggs.py".to_string(),
        ),
    };
    let completed = answers.as_ref().and_then(Value::as_array).map_or(0, |answers| {
        answers.iter().filter(|a| a.as_str() == Some(COMPLETED)).count()
    });
    let summary = |key: &str| {
        twin.extra
            .get("summary")
            .and_then(|s| s.get(key))
            .and_then(Value::as_f64)
    };
    let variant = twin.variants.first();
    let measured = match pool {
        Some(_) => summary("pool_map_wall_s")
            .zip(summary("pool_workers_cpu_s"))
            .zip(summary("pool_cores_used")),
        None => variant.map(|v| {
            let m = v.median();
            ((m.wall.as_secs_f64(), m.cpu().as_secs_f64()), m.cores_used())
        }),
    };
    let Some(((wall_s, cpu_s), cores_used)) = measured.filter(|_| completed == calls) else {
        lesson.warn(&format!(
            "{interpreter} completed {completed} of the {calls} busy loops it was given: its row is left out"
        ));
        return None;
    };
    Some(CPythonBusy {
        interpreter,
        how,
        calls_completed: completed,
        processes_seen: summary("pool_processes_seen").map(|n| n as usize),
        wall_s,
        cpu_s,
        cores_used,
    })
}

/// Rust's processes of a phase and CPython's beside them: how many, wall, CPU, cores used.
pub fn show(lesson: &Lesson, watch: Watch, rust: &PhaseReport, rust_name: &str, cpython: &CPythonBusy) {
    let mut table = Table::new(&[
        &format!("each busy for {}", format::duration(watch.phase)),
        "processes",
        "wall",
        "CPU",
        "cores used",
    ]);
    table.row([
        format!("Rust: {rust_name}"),
        rust.workers_started.to_string(),
        format::duration(rust.measurement.wall),
        format::duration(rust.measurement.cpu()),
        format!("{:.2}", rust.measurement.cores_used()),
    ]);
    table.row([
        format!("{}: {}", cpython.interpreter, cpython.how),
        cpython.processes_seen.unwrap_or(1).to_string(),
        format::seconds(cpython.wall_s),
        format::seconds(cpython.cpu_s),
        format!("{:.2}", cpython.cores_used),
    ]);
    say!(lesson);
    lesson.table(&table);
}
