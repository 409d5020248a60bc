//! The notebook's examples on CPython (`python/threads.py`), beside Rust in sections 1, 3 and
//! 4: with the machine's python3 its answers equal Rust's; `--no-python` runs no interpreter;
//! an interpreter that prints garbage costs one line, and the lesson still ends with status 0.

use serde_json::Value;
use testkit::Run;
use testkit::python::{garbage_is_one_warning, no_python_runs_no_interpreter, python3_here};
use testkit::report::{figures, section};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson02_threads")).args(["--quick", "--live", "4"])
}

/// The names of the rows of a section's first comparison.
fn row_names(report: &Value, title: &str) -> Vec<String> {
    section(report, title)["comparisons"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap().to_string())
        .collect()
}

fn sorted(value: &Value) -> Vec<u64> {
    let mut numbers: Vec<u64> = value.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).collect();
    numbers.sort();
    numbers
}

#[test]
fn cpython_answers_equal_rusts() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson().args(["--json"]).json_report();
    let python = &report["params"]["python"];
    assert_eq!(python["implementation"], "CPython", "{python:#}");
    assert!(python["has_gil"].is_boolean());

    // Section 1: the CPython rows join the comparison only with Rust's three messages.
    let names = row_names(&report, "Spawn and join");
    assert_eq!(
        names,
        [
            "one after another",
            "three threads",
            "CPython: one after another",
            "CPython: three threads"
        ]
    );
    let spawn = figures(&report, "Spawn and join");
    assert_eq!(sorted(&spawn["cpython"]["finish_order"]), [2, 3, 5]);
    assert_eq!(spawn["cpython_over_rust"].as_object().unwrap().len(), 2);

    // Section 3: count_string's lengths are Rust's; join gave None; the list collected them all.
    let results = figures(&report, "Returning results");
    let cpython = &results["cpython"];
    assert_eq!(cpython["lengths"], results["expected"]);
    assert_eq!(cpython["lengths"], serde_json::json!([150000, 140000, 21]));
    assert_eq!(cpython["returned_by_join"], serde_json::json!([null, null, null]));
    assert_eq!(sorted(&cpython["shared_list"]), [21, 140000, 150000]);

    // Section 4: CPython's thread and process in the latency table, with their ratios.
    let costs = figures(&report, "What a thread costs");
    let latencies = costs["create_to_join"].as_object().unwrap();
    let cpython_rows: Vec<&String> = latencies.keys().filter(|k| k.starts_with("CPython: ")).collect();
    assert_eq!(cpython_rows.len(), 2, "{latencies:#?}");
    let ratios = costs["cpython_over_rust"].as_object().unwrap();
    assert!(ratios.contains_key("CPython: thread"), "{ratios:#?}");
    assert!(ratios.values().all(|r| r.as_f64().unwrap() > 0.0));
}

#[test]
fn no_python_runs_no_interpreter_here() {
    no_python_runs_no_interpreter(lesson, "CPython: ");
}

#[test]
fn an_interpreter_that_prints_garbage_is_one_line() {
    let report = garbage_is_one_warning(lesson, 5);
    for title in ["Spawn and join", "Returning results"] {
        assert!(figures(&report, title).get("cpython").is_none_or(Value::is_null));
    }
    assert!(
        !row_names(&report, "Spawn and join")
            .iter()
            .any(|n| n.starts_with("CPython"))
    );
}
