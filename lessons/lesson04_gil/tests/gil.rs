//! The lesson's promises, checked on the real binary through its `--json` report: under the
//! GIL no two bytecode steps ever run at once, no thread starves (each runs its whole share
//! and waits at most one turn per other thread), every variant computes the same answer, and
//! every timed variant reports its speedup and cores used. Nothing here depends on timing.

use serde_json::Value;
use testkit::Run;
use testkit::report::{figures, section};

/// The simulation alone (`--no-python`): CPython's rows are checked in `tests/cpython.rs`.
fn report(args: &[&str]) -> Value {
    Run::new(env!("CARGO_BIN_EXE_lesson04_gil"))
        .args(["--quick", "--json", "--no-python"])
        .args(args)
        .json_report()
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a whole number: {value}"))
}

#[test]
fn the_gil_never_runs_two_steps_at_once() {
    for threads in ["2", "3"] {
        let report = report(&["--threads", threads, "--switch-interval", "1"]);
        for title in [
            "A tiny interpreter",
            "CPU-bound threads under the GIL",
            "I/O-bound threads",
        ] {
            let figures = figures(&report, title);
            assert_eq!(number(&figures["overlapping_steps"]), 0, "{title}: {figures:#}");
        }
        // The convoy's GIL runs checked the same (the lesson fails otherwise); the processes
        // each had their own GIL and reported theirs back.
        let convoy = &figures(&report, "The convoy effect")["gil"];
        assert!(convoy.as_object().is_some_and(|setups| setups.len() >= 4), "{convoy:#}");
    }
}

#[test]
fn no_thread_starves_under_the_gil() {
    for threads in ["2", "4"] {
        let report = report(&["--threads", threads, "--switch-interval", "1"]);
        let n_threads: u64 = threads.parse().unwrap();
        let figures = figures(&report, "CPU-bound threads under the GIL");
        assert_eq!(figures["every_thread_finished"], true);
        let total = number(&report["params"]["steps"]);
        let per_thread = figures["threads"].as_array().unwrap();
        assert_eq!(per_thread.len() as u64, n_threads);
        let mut steps = 0;
        for thread in per_thread {
            // Each thread ran its whole share (within one step of an even split), holding the
            // GIL at least once, and never waited behind more turns than there are other threads.
            let share = number(&thread["steps"]);
            assert!(share.abs_diff(total / n_threads) <= 1, "{thread:#}");
            assert!(number(&thread["turns"]["turns"]) >= 1, "{thread:#}");
            assert!(number(&thread["turns"]["most_turns_waited"]) < n_threads, "{thread:#}");
            steps += share;
        }
        assert_eq!(steps, total);
        assert!(number(&figures["gil"]["most_turns_waited"]) < n_threads, "{figures:#}");
        // The timeline's threads all finished their programs too.
        let first = &section(&report, "A tiny interpreter")["figures"];
        for thread in first["threads"].as_array().unwrap() {
            assert!(number(&thread["turns"]["most_turns_waited"]) <= 2, "{thread:#}");
        }
    }
}

#[test]
fn every_variant_agrees_and_reports_speedup_and_cores_used() {
    let report = report(&["--seed", "3"]);
    let mut rows = 0;
    for section in report["sections"].as_array().unwrap() {
        for comparison in section["comparisons"].as_array().unwrap() {
            assert_eq!(comparison["answers_agree"], true, "{comparison:#}");
            for row in comparison["rows"].as_array().unwrap() {
                rows += 1;
                for key in ["speedup", "cores_used", "median_s", "efficiency"] {
                    assert!(row[key].is_number(), "{key} missing in {row:#}");
                }
            }
        }
    }
    // CPU-bound: three comparisons of two rows; I/O-bound: four rows.
    assert_eq!(rows, 10);
    let cpu = &section(&report, "CPU-bound threads under the GIL")["comparisons"][0];
    let steps = number(&report["params"]["steps"]);
    assert!(
        cpu["answer"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{} steps, checksum ", course::timing::format::count(steps))),
        "{cpu:#}"
    );
    let summary = &figures(&report, "Summary")["summary"];
    for workload in ["cpu_bound", "io_bound"] {
        for column in ["threads_with_gil", "threads_without_gil", "processes"] {
            let cell = &summary[workload][column];
            assert!(
                cell["speedup"].is_number() && cell["cores_used"].is_number(),
                "{summary:#}"
            );
        }
    }
    for column in ["threads_with_gil", "threads_without_gil", "processes"] {
        assert!(summary["convoy"][column]["latency"]["p50"].is_number(), "{summary:#}");
    }
}

#[test]
fn the_convoy_is_measured_for_each_switch_interval() {
    let report = report(&["--switch-interval", "10", "--requests", "4"]);
    let figures = figures(&report, "The convoy effect");
    assert_eq!(figures["switch_intervals_ms"], serde_json::json!([2, 10, 40]));
    let latency = figures["latency"].as_object().unwrap();
    // Alone, without the GIL, three intervals, and processes.
    assert_eq!(latency.len(), 6, "{figures:#}");
    for (name, summary) in latency {
        assert_eq!(number(&summary["count"]), 4, "{name}");
    }
}

#[test]
fn the_model_predicts_turns_that_never_overlap() {
    let report = report(&["--seed", "5"]);
    let figures = figures(&report, "A tiny interpreter");
    let model = &figures["model"];
    // Two CPU-bound threads of four intervals each take at least three turns between them.
    assert!(number(&model["switches"]) >= 3, "{model:#}");
    let turns = model["turns"].as_array().unwrap();
    for pair in turns.windows(2) {
        let (end, next_start) = (pair[0]["end"].as_f64().unwrap(), pair[1]["start"].as_f64().unwrap());
        assert!(end <= next_start, "{pair:#?}");
    }
    // The measured turns never overlap either: one holder at a time.
    let measured = figures["turns"].as_array().unwrap();
    assert!(!measured.is_empty());
    for pair in measured.windows(2) {
        let (end, next_start) = (pair[0]["end"].as_f64().unwrap(), pair[1]["start"].as_f64().unwrap());
        assert!(end <= next_start, "{pair:#?}");
    }
    // The question is answered by the model: one of the three threads, or nobody.
    let holder = figures["your_turn"]["holder"].as_str().unwrap();
    assert!(["T0 CPU", "T1 CPU", "T2 I/O", "nobody"].contains(&holder), "{holder}");
}
