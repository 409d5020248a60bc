//! The notes' programs on CPython (`python/pool_map.py`), beside Rust in sections 1 and 3: with
//! the machine's python3 its word counts and count_prime answers equal Rust's, and its cost per
//! iteration is recorded beside Rust's; `--no-python` runs no interpreter; an interpreter that
//! prints garbage costs one line, and the lesson goes on.

use serde_json::Value;
use testkit::Run;
use testkit::python::{garbage_is_one_warning, no_python_runs_no_interpreter, python3_here};
use testkit::report::{figures, section};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson06_pool_map")).args(["--quick", "--workers", "2"])
}

/// Every comparison of a section, by its rows' names.
fn comparisons<'a>(report: &'a Value, title: &str) -> &'a Vec<Value> {
    section(report, title)["comparisons"].as_array().unwrap()
}

fn names(comparison: &Value) -> Vec<&str> {
    comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect()
}

#[test]
fn cpython_answers_equal_rusts() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson().args(["--json", "--numbers", "700000,650000,12"]).json_report();
    assert_eq!(report["params"]["python"]["implementation"], "CPython");

    // Section 1: CPython's three word counts joined Rust's table, so each counted 1100 words.
    let word_count = &comparisons(&report, "The lecture's word count")[0];
    assert_eq!(word_count["answer"], "1100");
    let cpython: Vec<&str> = names(word_count)
        .into_iter()
        .filter(|name| name.starts_with("CPython: "))
        .collect();
    assert_eq!(
        cpython,
        [
            "CPython: sequential",
            "CPython: a thread per string",
            "CPython: Pool(2), made for the call"
        ]
    );
    let ratios = &figures(&report, "The lecture's word count")["cpython_over_rust"];
    assert_eq!(ratios.as_object().unwrap().len(), 3, "{ratios:#}");

    // Section 3: these numbers are small enough for CPython as they are; its answers are Rust's
    // and the divisor counts of factoring.
    let count_prime = figures(&report, "count_prime");
    let per_iteration = &count_prime["cpython_per_iteration"];
    assert_eq!(per_iteration["numbers"], serde_json::json!([700000, 650000, 12]));
    assert_eq!(per_iteration["numbers"], report["params"]["numbers"]);
    assert_eq!(per_iteration["iterations"], 700000 - 3 + 650000 - 3 + 12 - 3);
    for key in ["cpython_s", "rust_s", "cpython_over_rust"] {
        assert!(per_iteration[key].as_f64().unwrap() > 0.0, "{per_iteration:#}");
    }
    let beside = &comparisons(&report, "count_prime")[1];
    assert_eq!(
        beside["answer"],
        count_prime["divisor_counts"].to_string().replace(',', ", ")
    );
    assert_eq!(
        names(beside),
        [
            "sequential",
            "process pool",
            "CPython: sequential",
            "CPython: Pool(2).map"
        ]
    );
}

#[test]
fn cpython_gets_numbers_divided_by_ten_until_they_fit() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    // 40 million iterations: more than --quick gives CPython, so a tenth, then a hundredth.
    let report = lesson()
        .args(["--json", "--section", "3", "--numbers", "20000000,20000000"])
        .json_report();
    let per_iteration = &figures(&report, "count_prime")["cpython_per_iteration"];
    assert_eq!(per_iteration["numbers"], serde_json::json!([200000, 200000]));
}

#[test]
fn no_python_runs_no_interpreter_here() {
    no_python_runs_no_interpreter(lesson, "CPython: ");
}

#[test]
fn an_interpreter_that_prints_garbage_is_one_line() {
    let report = garbage_is_one_warning(lesson, 5);
    assert!(figures(&report, "count_prime")["cpython_per_iteration"].is_null());
    assert_eq!(comparisons(&report, "count_prime").len(), 1);
}
