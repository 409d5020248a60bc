//! Lesson 06 run as a student runs it: every version of every workload computes the same
//! answer, the lecture's count_prime answers come out, and a worker process that dies is
//! reported with the item it was working on.

use serde_json::{Value, json};
use testkit::Run;
use testkit::report::figure;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson06_pool_map");

fn report(args: &[&str]) -> Value {
    Run::new(LESSON).args(["--quick", "--json"]).args(args).json_report()
}

#[test]
fn the_lecture_numbers_give_the_lecture_answers() {
    // The lecture's own numbers: 295 million iterations, a second or so per version.
    let report = report(&["--numbers", "77000000,74000000,73000000,71000000"]);
    assert_eq!(figure(&report, "divisor_counts"), &json!([194, 110, 96, 96]));
    assert_eq!(figure(&report, "answers_checked_against"), "the lecture's own answers");
    let comparison = &report["sections"][2]["comparisons"][0];
    assert_eq!(comparison["answer"], "[194, 110, 96, 96]");
    let names: Vec<&str> = comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sequential", "rayon par_iter", "thread pool", "process pool"]);
}

#[test]
fn every_word_count_version_counts_1100_words() {
    let report = report(&["--workers", "2"]);
    assert_eq!(figure(&report, "word_count"), 1100);
    let word_count = &report["sections"][0]["comparisons"][0];
    assert_eq!(word_count["answer"], "1100");
    // Rust's five versions (CPython's rows, when there is a Python, are tests/cpython.rs's).
    let rust_rows = word_count["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| !row["name"].as_str().unwrap().starts_with("CPython: "))
        .count();
    assert_eq!(rust_rows, 5);
    // The sweep: one comparison per size, every one agreeing.
    let sweep = report["sections"][1]["comparisons"].as_array().unwrap();
    assert_eq!(sweep.len(), 3);
    assert_eq!(sweep[2]["answer"], "110000");
}

#[test]
fn a_worker_killed_mid_item_is_reported_with_its_item() {
    let report = report(&["--workers", "2"]);
    let death = figure(&report, "worker_death");
    assert_eq!(death["reported"], true);
    assert_eq!(death["item"], 1, "{death}");
    let message = death["message"].as_str().unwrap();
    assert!(message.contains("SIGKILL") && message.contains("item 1"), "{message}");
}

#[test]
fn map_keeps_item_order_and_is_lazy() {
    let report = report(&["--workers", "2"]);
    assert_eq!(figure(&report, "results_in_item_order"), true);
    let mut finished: Vec<u64> = figure(&report, "completion_order")
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    finished.sort();
    assert_eq!(finished, [0, 1, 2, 3, 4, 5]);
    let lazy = figure(&report, "lazy_calls");
    assert_eq!(lazy["after_map"], 0);
    assert_eq!(lazy["after_take_2"], 2);
    assert_eq!(lazy["after_par_map"], 0);
    assert_eq!(lazy["after_collect"], 6);
}

#[test]
fn chunking_sends_the_expected_number_of_messages() {
    let report = report(&["--workers", "2"]);
    let rows = figure(&report, "chunking").as_array().unwrap().clone();
    let chunks: Vec<(u64, u64)> = rows
        .iter()
        .map(|row| (row["chunk"].as_u64().unwrap(), row["messages"].as_u64().unwrap()))
        .collect();
    // 96 items on 2 workers: chunks of 1, Python's default (96 / (4 × 2) = 12), one per worker.
    assert_eq!(chunks, [(1, 96), (12, 8), (48, 2)]);
    // The model's prediction for the static split: (49 + ... + 96) / (1 + ... + 96).
    let static_split = rows[2]["predicted_speedup"].as_f64().unwrap();
    assert!((static_split - 4656.0 / 3480.0).abs() < 0.01, "{static_split}");
}

#[test]
fn one_worker_still_runs_the_whole_lesson() {
    let report = report(&["--workers", "1"]);
    assert_eq!(figure(&report, "worker_death")["reported"], false);
    assert_eq!(figure(&report, "word_count"), 1100);
}

#[test]
fn bad_numbers_are_refused_with_one_line() {
    let too_many = vec!["100"; 65].join(",");
    for numbers in ["2", "abc", "-7", "3000000000", too_many.as_str()] {
        let outcome = Run::new(LESSON).args(["--quick", "--numbers", numbers]).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
    }
}
