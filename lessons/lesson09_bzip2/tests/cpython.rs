//! The lecture's requests on CPython (`python/parallel_bzip2.py`), beside Rust in section 2:
//! with the machine's python3 its books have Rust's book's length and CRC-32, for the generated
//! book and for an `--input` file; `--no-python` runs no interpreter; an interpreter that prints
//! garbage costs one line, and the lesson goes on.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use testkit::Run;
use testkit::python::{garbage_is_one_warning, no_python_runs_no_interpreter, python3_here};
use testkit::report::{figure, section};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson09_bzip2")).args(["--quick", "--workers", "2", "--requests", "8"])
}

/// Section 2's second comparison: Rust's rows and CPython's beside them.
fn decompression(report: &Value) -> &Value {
    &section(report, "Decompressing many requests")["comparisons"][1]
}

fn cpython_rows(report: &Value) -> Vec<String> {
    decompression(report)["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap().to_string())
        .filter(|name| name.starts_with("CPython: "))
        .collect()
}

/// CPython's rows joined Rust's, so that its books were Rust's book: 8 of 8 identical.
#[track_caller]
fn cpython_got_the_book_back(report: &Value) {
    assert_eq!(report["params"]["python"]["implementation"], "CPython");
    assert_eq!(
        cpython_rows(report),
        [
            "CPython: sequential",
            "CPython: ThreadPoolExecutor(2)",
            "CPython: ProcessPoolExecutor(2)"
        ]
    );
    let answer = decompression(report)["answer"].as_str().unwrap();
    assert!(answer.starts_with("8 of 8 identical to the book"), "{answer}");
    let ratios = figure(report, "cpython_over_rust").as_object().unwrap();
    assert_eq!(ratios.len(), 3, "{ratios:#?}");
}

#[test]
fn cpython_decompresses_the_same_book() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    // Another seed and size than the defaults: the twin makes the same book from them.
    let report = lesson()
        .args(["--json", "--seed", "7", "--text-kb", "20"])
        .json_report();
    cpython_got_the_book_back(&report);
}

#[test]
fn cpython_decompresses_an_input_file_too() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let text = b"Whenever I find myself growing grim about the mouth, I go to sea. ".repeat(300);
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(&text).unwrap();
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lesson09-cpython-{}.bz2", std::process::id()));
    std::fs::write(&path, encoder.finish().unwrap()).unwrap();
    let report = lesson()
        .args(["--json", "--input", path.to_str().unwrap()])
        .json_report();
    let _ = std::fs::remove_file(&path);
    cpython_got_the_book_back(&report);
}

#[test]
fn no_python_runs_no_interpreter_here() {
    no_python_runs_no_interpreter(lesson, "CPython: ");
}

#[test]
fn an_interpreter_that_prints_garbage_is_one_line() {
    let report = garbage_is_one_warning(lesson, 5);
    let comparisons = section(&report, "Decompressing many requests")["comparisons"]
        .as_array()
        .unwrap();
    assert_eq!(comparisons.len(), 1, "Rust's alone");
}
