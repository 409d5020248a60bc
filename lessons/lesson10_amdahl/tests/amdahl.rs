//! Lesson 10's own checks: the calculator's known values, the parallel fraction read back from
//! synthetic measurements, what the sweep reports, and refused input. Never timings.

use lesson10_amdahl::amdahl;
use serde_json::Value;
use testkit::Run;
use testkit::report::{figures, section};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson10_amdahl"))
}

/// Runs the lesson with `--quick --json` and the given arguments; returns its report.
fn report(args: &[&str]) -> Value {
    lesson().args(["--quick", "--json"]).args(args).json_report()
}

fn close(value: &Value, expected: f64, tolerance: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() <= tolerance)
}

#[test]
fn the_formula_gives_the_known_value() {
    // The library the lesson prints from: 95% parallel on 8 workers is 5.93×, not 8×.
    assert!((amdahl::speedup(0.95, 8.0) - 5.93).abs() < 0.005);
    assert!((amdahl::ceiling(0.95) - 20.0).abs() < 1e-9);
    assert_eq!(amdahl::workers_for(0.95, 10.0), Some(19));
    assert_eq!(amdahl::workers_for(0.95, 20.0), None);
}

#[test]
fn the_calculator_reports_the_known_values() {
    let report = report(&["--parallel", "0.95", "--workers", "8", "--want", "10"]);
    let calculator = figures(&report, "Amdahl's law: the calculator");
    let eight = calculator["table"]
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["workers"] == 8))
        .unwrap_or_else(|| panic!("no row for 8 workers: {calculator:#}"));
    assert!(close(&eight["speedup"], 5.93, 0.005), "{eight}");
    assert!(close(&eight["efficiency"], 0.7407, 0.0005), "{eight}");
    assert!(close(&calculator["ceiling"], 20.0, 1e-9), "{calculator}");
    assert_eq!(calculator["workers_needed"][0]["workers"], 19, "{calculator}");
    assert_eq!(report["params"]["parallel"], 0.95);
}

#[test]
fn the_calculator_alone_measures_nothing() {
    // The speaker notes' command, at full size: the header and the calculator, no measurement.
    let outcome = lesson().args(["--parallel", "0.95", "--workers", "8"]).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    let text = &outcome.stdout;
    assert!(text.contains("S(8) = 5.93×"), "{}", outcome.describe());
    assert!(
        text.contains("\n1. Amdahl's law: the calculator"),
        "{}",
        outcome.describe()
    );
    for measured in [
        "\n2. ",
        "Measured against the prediction",
        "Karp–Flatt",
        "Gustafson",
        "median",
    ] {
        assert!(
            !text.contains(measured),
            "'{measured}' in the calculator\n{}",
            outcome.describe()
        );
    }
    let report = lesson()
        .args(["--json", "--parallel", "0.95", "--workers", "8", "--want", "10"])
        .json_report();
    let sections = report["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 1, "{report:#}");
    assert!(sections[0]["comparisons"].as_array().unwrap().is_empty(), "{report:#}");
    assert_eq!(sections[0]["figures"]["workers_needed"][0]["workers"], 19);
}

#[test]
fn your_speedups_alone_are_read_back_without_measuring() {
    let report = lesson().args(["--json", "--speedups", "2:1.8,4:3.0"]).json_report();
    let sections = report["sections"].as_array().unwrap();
    assert_eq!(sections.len(), 1, "{report:#}");
    let fit = &figures(&report, "From measurements back to P")["your_fit"];
    assert!(close(&fit["parallel_fraction"], 0.889, 0.001), "{fit}");
}

#[test]
fn a_measurement_flag_runs_the_whole_lesson() {
    let report = report(&["--workers", "8", "--items", "100000"]);
    assert_eq!(report["sections"].as_array().unwrap().len(), 4, "{report:#}");
}

#[test]
fn a_speedup_above_the_ceiling_needs_more_than_any_number_of_workers() {
    let report = report(&["--parallel", "0.95", "--want", "25"]);
    let calculator = figures(&report, "Amdahl's law: the calculator");
    assert!(calculator["workers_needed"][0]["workers"].is_null(), "{calculator}");
}

#[test]
fn a_speedup_equal_to_the_ceiling_is_out_of_reach() {
    // 0.9 is stored a hair above 0.9: the answer must still be "none", and it must come at once.
    let report = report(&["--parallel", "0.9", "--want", "10"]);
    let calculator = figures(&report, "Amdahl's law: the calculator");
    assert!(calculator["workers_needed"][0]["workers"].is_null(), "{calculator}");
}

#[test]
fn your_own_speedups_give_p_back() {
    // Synthetic measurements of a program with P = 0.8: S(2) = 1.667, S(4) = 2.5, S(8) = 3.333.
    let report = report(&["--speedups", "1:1.0,2:1.6667,4:2.5,8:3.3333"]);
    let fit = &figures(&report, "From measurements back to P")["your_fit"];
    assert!(close(&fit["parallel_fraction"], 0.8, 0.001), "{fit}");
    assert_eq!(fit["points_used"], 3, "{fit}");
    assert_eq!(fit["clamped"], false, "{fit}");
}

#[test]
fn noisy_synthetic_speedups_still_give_p_back() {
    // ±4% noise around P = 0.9 (S(2) = 1.818, S(3) = 2.5, S(4) = 3.077, S(6) = 4.0).
    let report = report(&["--speedups", "2:1.89,3:2.40,4:3.20,6:3.84"]);
    let fit = &figures(&report, "From measurements back to P")["your_fit"];
    assert!(close(&fit["parallel_fraction"], 0.9, 0.015), "{fit}");
}

#[test]
fn the_sweep_reports_each_thread_count_beside_its_prediction() {
    let report = report(&["--parallel", "0.8"]);
    let cores = report["machine"]["logical_cores"].as_u64().unwrap() as usize;
    let measured = figures(&report, "Measured against the prediction");
    let sweep = measured["sweep"].as_array().expect("a sweep");
    let threads: Vec<usize> = sweep.iter().map(|p| p["threads"].as_u64().unwrap() as usize).collect();
    assert_eq!(threads[0], 1);
    assert!(threads.contains(&cores), "{threads:?}");
    assert!(
        threads.iter().any(|&n| n > cores),
        "no oversubscribed point: {threads:?}"
    );
    for point in sweep {
        let n = point["threads"].as_f64().unwrap();
        // The prediction is Amdahl's, computed for P = 0.8.
        assert!(
            close(&point["predicted_speedup"], amdahl::speedup(0.8, n), 1e-9),
            "{point}"
        );
        assert!(point["relative_error"].is_number(), "{point}");
        assert_eq!(point["oversubscribed"], n as usize > cores, "{point}");
    }
    assert!(measured["max_relative_error_within_cores"].is_number());
    // The notice says what this run measured: on Amdahl's curve, or off it (a busy machine).
    let notice = section(&report, "Measured against the prediction")["notice"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    if measured["within_10_percent"] == true {
        assert!(notice.contains("follows Amdahl's curve"), "{notice}");
    } else {
        assert!(notice.contains("the measurement is off"), "{notice}");
    }
    // The job really has the serial part it was built with.
    let job = &measured["job"];
    let serial = job["serial"]["end"].as_u64().unwrap() - job["serial"]["start"].as_u64().unwrap();
    let total = job["parallel"]["end"].as_u64().unwrap();
    assert!((serial as f64 / total as f64 - 0.2).abs() < 1e-6, "{job}");
    // Every comparison checked its answers before reporting a speedup.
    for section in report["sections"].as_array().unwrap() {
        for comparison in section["comparisons"].as_array().unwrap() {
            assert_eq!(comparison["answers_agree"], true);
        }
    }
    let fit = &figures(&report, "From measurements back to P")["fit"];
    if cores > 1 {
        let p = fit["parallel_fraction"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&p), "{fit}");
    }
}

#[test]
fn gustafson_predicts_the_scaled_speedup() {
    let report = report(&["--parallel", "0.9"]);
    let gustafson = figures(&report, "Gustafson");
    for row in gustafson["laws"].as_array().unwrap() {
        let n = row["workers"].as_f64().unwrap();
        assert!(close(&row["gustafson"], 0.1 + 0.9 * n, 1e-9), "{row}");
        assert!(row["gustafson"].as_f64() >= row["amdahl"].as_f64(), "{row}");
    }
}

#[test]
fn impossible_measurements_are_refused_with_one_line() {
    for bad in [
        &["--speedups", "2:3.0"][..],
        &["--speedups", "0:1"],
        &["--speedups", "4"],
        &["--speedups", "4:abc"],
        &["--speedups", "2:-1"],
        &["--speedups", "2:1.5,3:4"],
        &["--speedups", "2:0.5"],
        &["--speedups", "4:3,1:0.9"],
        &["--want", "0.5"],
        &["--want", "lots"],
        &["--parallel", "1.01"],
        &["--workers", "0"],
    ] {
        let outcome = lesson().args(["--quick"]).args(bad).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
        assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
    }
}
