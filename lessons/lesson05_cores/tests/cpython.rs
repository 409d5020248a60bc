//! The lecture's busy loop on CPython (`python/fry_eggs.py`), beside Rust in sections 2 and 3:
//! with the machine's python3 it completes every call Rust's processes did; `--no-python` runs
//! no interpreter; an interpreter that prints garbage costs one line, and the lesson goes on.

use testkit::Run;
use testkit::python::{garbage_is_one_warning, no_python_runs_no_interpreter, python3_here};
use testkit::report::{figure, figures};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson05_cores")).args(["--quick", "--workers", "2", "--phase-ms", "100"])
}

#[test]
fn cpython_completes_the_calls_rust_does() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson().args(["--json"]).json_report();
    assert_eq!(report["params"]["python"]["implementation"], "CPython");
    for (title, rust, calls) in [
        ("One busy process", "one_process", 1),
        ("One busy process per core", "one_per_core", 2),
    ] {
        let cpython = &figures(&report, title)["cpython"];
        let rust_workers = figure(&report, rust)["workers"].as_array().unwrap().len() as u64;
        assert_eq!(rust_workers, calls);
        assert_eq!(cpython["calls_completed"].as_u64(), Some(calls), "{title}: {cpython:#}");
        let cores_used = cpython["cores_used"].as_f64().unwrap();
        // A process uses at most a core; a pool of two at most two (with a little slack for
        // the clocks' granularity).
        assert!(
            cores_used > 0.0 && cores_used <= calls as f64 * 1.1,
            "{title}: {cpython:#}"
        );
    }
    assert!(
        figures(&report, "One busy process per core")["cpython"]["processes_seen"]
            .as_u64()
            .is_some_and(|n| (1..=2).contains(&n))
    );
}

#[test]
fn no_python_runs_no_interpreter_here() {
    no_python_runs_no_interpreter(lesson, "fry_eggs.py");
}

#[test]
fn an_interpreter_that_prints_garbage_is_one_line() {
    let report = garbage_is_one_warning(lesson, 5);
    assert!(figures(&report, "One busy process per core")["cpython"].is_null());
}
