//! The lesson's promises, checked on the real binary through its `--json` report: every fix is
//! exact on every run, between threads and between processes; a racy count never gains
//! updates and is exact on one thread; the step-by-step trace is a function of `--seed`.
//! Nothing here depends on timing or on whether a particular run happened to lose updates.

use serde_json::Value;
use testkit::Run;
use testkit::report::{figures, section};

fn report(args: &[&str]) -> Value {
    Run::new(env!("CARGO_BIN_EXE_lesson03_race"))
        .args(["--quick", "--json"])
        .args(args)
        .json_report()
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a whole number: {value}"))
}

#[test]
fn every_fix_is_exact_on_every_run() {
    for (threads, runs) in [("2", "30"), ("3", "20"), ("4", "20")] {
        let report = report(&["--threads", threads, "--runs", runs]);
        let fixes = figures(&report, "Three fixes");
        let runs: u64 = runs.parse().unwrap();
        assert_eq!(number(&fixes["fix_runs"]), runs);
        for fix in ["Mutex", "fetch_add", "local sum"] {
            assert_eq!(
                number(&fixes["fix_exact_runs"][fix]),
                runs,
                "{fix} with {threads} threads: {fixes:#}"
            );
        }
        // The timed comparison checked every run of every variant against one thread's count.
        let comparison = &section(&report, "Three fixes")["comparisons"][0];
        assert_eq!(comparison["answers_agree"], true);
        assert_eq!(comparison["answer"], number(&fixes["expected"]).to_string());
        let names: Vec<&str> = comparison["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| row["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["1 thread", "Mutex", "fetch_add", "local sum"]);
    }
}

#[test]
fn the_shared_mapping_fix_is_exact_across_processes() {
    for processes in ["2", "3", "5"] {
        let report = report(&["--processes", processes]);
        let figures = figures(&report, "Between processes");
        let expected = number(&figures["expected"]);
        assert_eq!(
            expected,
            processes.parse::<u64>().unwrap() * number(&report["params"]["increments"])
        );
        let fixed = figures["fixed_totals"].as_array().unwrap();
        // Three variants, each run at least twice, every one exact.
        assert!(fixed.len() >= 6, "{figures:#}");
        assert!(fixed.iter().all(|total| number(total) == expected), "{figures:#}");
        let comparison = &section(&report, "Between processes")["comparisons"][0];
        assert_eq!(comparison["answers_agree"], true);
        assert_eq!(comparison["answer"], expected.to_string());
        // The racy totals can lose updates but never gain any. Runs after the first three
        // (under --quick) are there only when those lost nothing, each twice as long.
        let increments = figures["racy_increments"].as_array().unwrap();
        let totals = figures["racy_totals"].as_array().unwrap();
        let lost = figures["racy_lost_updates"].as_array().unwrap();
        assert!((3..=7).contains(&totals.len()), "{figures:#}");
        assert_eq!(increments.len(), totals.len());
        assert_eq!(lost.len(), totals.len());
        let base = number(&report["params"]["increments"]);
        for (run, ((each, total), lost_here)) in increments.iter().zip(totals).zip(lost).enumerate() {
            let each = number(each);
            if run < 3 {
                assert_eq!(each, base);
            } else {
                assert_eq!(each, 2 * number(&increments[run - 1]), "{figures:#}");
                assert!(lost[..run].iter().all(|lost| number(lost) == 0), "{figures:#}");
            }
            let expected = processes.parse::<u64>().unwrap() * each;
            assert!(number(total) <= expected, "{figures:#}");
            assert_eq!(number(total) + number(lost_here), expected);
        }
    }
}

#[test]
fn a_racy_count_is_exact_alone_and_never_gains() {
    let report = report(&["--threads", "3"]);
    let first = figures(&report, "Lost updates");
    let expected = number(&first["expected"]);
    assert_eq!(number(&first["one_thread_total"]), expected);
    assert!(number(&first["total"]) <= expected);
    assert_eq!(number(&first["total"]) + number(&first["lost_updates"]), expected);
    // Section 1 tries again, twice as long, only while no update was lost, at most five times;
    // its table is the last try.
    let tries = first["tries"].as_array().unwrap();
    assert!((1..=5).contains(&tries.len()), "{first:#}");
    let threads = number(&report["params"]["threads"]);
    let mut increments = number(&report["params"]["increments"]);
    for (i, attempt) in tries.iter().enumerate() {
        assert_eq!(number(&attempt["increments"]), increments, "{first:#}");
        assert!(attempt["started_together"].is_boolean());
        if i + 1 < tries.len() {
            assert_eq!(number(&attempt["lost_updates"]), 0, "{first:#}");
            increments *= 2;
        }
    }
    assert_eq!(number(&first["increments"]), increments);
    assert_eq!(expected, threads * increments);
    assert_eq!(tries.last().unwrap()["lost_updates"], first["lost_updates"]);
    let many = figures(&report, "Many runs");
    let per_run = number(&many["expected_per_run"]);
    let totals = many["totals"].as_array().unwrap();
    assert_eq!(totals.len() as u64, number(&report["params"]["runs"]));
    assert!(totals.iter().all(|total| number(total) <= per_run));
    let exact = totals.iter().filter(|total| number(total) == per_run).count() as u64;
    assert_eq!(number(&many["exact_runs"]), exact);
    assert!(number(&many["runs_started_together"]) <= totals.len() as u64);
    // "A lottery" only when the runs really disagreed.
    let notice = section(&report, "Many runs")["notice"].as_str().unwrap().to_string();
    assert_eq!(notice.contains("lottery"), exact < totals.len() as u64, "{notice}");
}

#[test]
fn the_trace_is_a_function_of_the_seed() {
    let first = report(&["--seed", "11"]);
    let again = report(&["--seed", "11"]);
    let trace = figures(&first, "One interleaving");
    assert_eq!(trace, figures(&again, "One interleaving"));
    // Two threads adding twice each: 12 steps, 924 interleavings, 6 of them right.
    assert_eq!(trace["schedule"].as_str().unwrap().len(), 12);
    assert_eq!(number(&trace["interleavings"]), 924);
    assert_eq!(number(&trace["interleavings_right"]), 6);
    assert_eq!(number(&trace["expected"]), 4);
    assert!(
        number(&trace["lost_updates"]) > 0,
        "the traced schedule loses an update"
    );
    assert_eq!(
        number(&trace["final_counter"]) + number(&trace["lost_updates"]),
        number(&trace["expected"])
    );
    let three = report(&["--trace-increments", "3"]);
    let trace = figures(&three, "One interleaving");
    assert_eq!(number(&trace["interleavings"]), 48_620);
    assert_eq!(number(&trace["interleavings_right"]), 20);
}

#[test]
fn every_timed_variant_reports_speedup_and_cores_used() {
    let report = report(&[]);
    let mut rows = 0;
    for section in report["sections"].as_array().unwrap() {
        for comparison in section["comparisons"].as_array().unwrap() {
            for row in comparison["rows"].as_array().unwrap() {
                rows += 1;
                for key in ["speedup", "cores_used", "median_s"] {
                    assert!(row[key].is_number(), "{key} missing in {row:#}");
                }
                // Efficiency only where the baseline's algorithm runs on more workers.
                assert_eq!(
                    row["efficiency"].is_number(),
                    row["same_algorithm"] == true,
                    "efficiency for another algorithm: {row:#}"
                );
            }
        }
    }
    // Processes (3 variants), fixes (4) and false sharing (3).
    assert_eq!(rows, 10);
    let false_sharing = figures(&report, "False sharing");
    assert!(number(&false_sharing["padded_spacing_bytes"]) >= 64);
    assert_eq!(number(&false_sharing["packed_spacing_bytes"]), 8);
}

#[test]
fn a_single_thread_or_process_is_refused() {
    for flag in ["--threads", "--processes"] {
        let outcome = Run::new(env!("CARGO_BIN_EXE_lesson03_race"))
            .args(["--quick", flag, "1"])
            .go();
        outcome.assert_code(2);
        assert!(outcome.stderr.contains("at least 2"), "{}", outcome.describe());
        assert!(outcome.stdout.is_empty());
    }
}
