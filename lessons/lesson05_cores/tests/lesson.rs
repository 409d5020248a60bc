//! Lesson 05 run as a student runs it: every phase starts the workers it says, the kernel's
//! counters are read for every core, and pinned workers never change core.

use serde_json::Value;
use testkit::Run;
use testkit::report::figure;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson05_cores");

fn workers(phase: &Value) -> &Vec<Value> {
    phase["workers"].as_array().expect("a phase lists its workers")
}

#[test]
fn every_phase_runs_the_workers_it_announces() {
    let report = Run::new(LESSON)
        .args(["--quick", "--json", "--workers", "2"])
        .json_report();
    assert!(workers(figure(&report, "at_rest")).is_empty());
    assert_eq!(workers(figure(&report, "one_process")).len(), 1);
    assert_eq!(workers(figure(&report, "one_per_core")).len(), 2);
    assert_eq!(workers(figure(&report, "pinned")).len(), 2);
    assert_eq!(workers(figure(&report, "twice_as_many")).len(), 4);
    if cfg!(target_os = "linux") {
        let cores = figure(&report, "cores_counted").as_u64().unwrap();
        assert!(cores >= 1);
        let phase = figure(&report, "one_per_core");
        assert_eq!(phase["core_load"].as_array().unwrap().len() as u64, cores);
        assert!(phase["samples"].as_u64().unwrap() >= 1);
        for load in phase["core_load"].as_array().unwrap() {
            let load = load.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&load), "{load}");
        }
    }
}

#[test]
#[cfg(target_os = "linux")]
fn pinned_workers_never_change_core() {
    let report = Run::new(LESSON)
        .args([
            "--quick",
            "--json",
            "--workers",
            "2",
            "--phase-ms",
            "300",
            "--interval",
            "20",
        ])
        .json_report();
    for worker in workers(figure(&report, "pinned")) {
        let pinned_to = worker["pinned_to"].as_u64().expect("each worker is pinned");
        assert_eq!(worker["moves_seen"], 0, "{worker}");
        for core in worker["timeline"].as_array().unwrap().iter().filter_map(Value::as_u64) {
            assert_eq!(core, pinned_to, "{worker}");
        }
    }
    // Unpinned workers are free to run anywhere: nothing records a pin for them.
    for worker in workers(figure(&report, "one_per_core")) {
        assert!(worker["pinned_to"].is_null());
    }
}

#[test]
fn plain_output_is_periodic_lines_not_redrawing() {
    let outcome = Run::new(LESSON).args(["--quick", "--workers", "1"]).go();
    outcome.assert_code(0);
    assert!(!outcome.stdout.contains('\x1b'), "{}", outcome.describe());
    if cfg!(target_os = "linux") {
        assert!(outcome.stdout.contains("cpu0 "), "{}", outcome.describe());
    }
}

#[test]
fn every_worker_on_a_core_is_labelled_as_a_worker() {
    // Four workers on however many cores: wherever several share a core, each keeps its `w`.
    let outcome = Run::new(LESSON).args(["--quick", "--workers", "2"]).go();
    outcome.assert_code(0);
    for line in outcome.stdout.lines().filter(|line| line.contains(" [w")) {
        for marks in line.split('[').skip(1) {
            let marks = marks.split(']').next().unwrap();
            for label in marks.split(", ") {
                assert!(
                    label.starts_with('w') && label[1..].parse::<usize>().is_ok(),
                    "{label:?} in {line:?}"
                );
            }
        }
    }
}

#[test]
#[cfg(target_os = "linux")]
fn the_notice_at_rest_says_what_was_measured() {
    let report = Run::new(LESSON).args(["--quick", "--json"]).json_report();
    let busiest = figure(&report, "busiest_at_rest").as_f64().unwrap();
    let load = figure(&report, "at_rest")["core_load"].as_array().unwrap().clone();
    let highest = load.iter().filter_map(Value::as_f64).fold(0.0, f64::max);
    assert_eq!(busiest, highest);
    let notice = testkit::report::section(&report, "Cores at rest")["notice"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(notice.contains("were idle"), busiest < 0.05, "{notice}");
    assert_eq!(notice.contains("not idle"), busiest >= 0.05, "{notice}");
}

#[test]
fn an_interval_longer_than_a_phase_is_refused() {
    let outcome = Run::new(LESSON)
        .args(["--quick", "--phase-ms", "100", "--interval", "500"])
        .go();
    outcome.assert_code(2);
    outcome.assert_clean();
    assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
    assert!(outcome.stderr.contains("--interval"), "{}", outcome.describe());
}
