//! Every lesson keeps the contract: runs with `--quick`, prints its header first, and reports
//! the machine, its parameters and its figures under `--json`.

use crate::support::{binary, for_every_lesson};
use testkit::Run;

#[test]
fn every_lesson_runs_quick_and_starts_with_its_header() {
    for_every_lesson(|lesson| {
        // `--step` too: with stdin not a terminal it must never wait for Enter.
        let outcome = Run::new(binary(lesson)).args(["--quick", "--step"]).go();
        outcome.assert_code(0);
        outcome.assert_clean();
        let mut lines = outcome.stdout.lines();
        let first = lines.next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{lesson} · ")),
            "the first line is not the header\n{}",
            outcome.describe()
        );
        let header: Vec<&str> = outcome.stdout.lines().take(6).collect();
        assert!(
            header.iter().any(|l| l.trim_start().starts_with("machine"))
                && header.iter().any(|l| l.contains("profile")),
            "the header does not name the machine and the build profile\n{}",
            outcome.describe()
        );
        assert!(
            outcome.stdout.contains("\n1. "),
            "no numbered section 1\n{}",
            outcome.describe()
        );
        assert!(
            outcome.stdout.contains("→ Notice:"),
            "no 'what to notice' line\n{}",
            outcome.describe()
        );
        assert!(
            !outcome.stdout.contains('\x1b'),
            "colour codes in output that is not a terminal\n{}",
            outcome.describe()
        );
        assert!(
            outcome.stderr.trim().is_empty(),
            "unexpected stderr\n{}",
            outcome.describe()
        );
    });
}

#[test]
fn every_lesson_json_report_parses_and_carries_its_figures() {
    for_every_lesson(|lesson| {
        let outcome = Run::new(binary(lesson)).args(["--quick", "--json", "--seed", "7"]).go();
        outcome.assert_code(0);
        outcome.assert_clean();
        let report = outcome.json();
        let context = outcome.describe();
        assert_eq!(report["lesson"], *lesson, "{context}");
        assert_eq!(report["schema"], 1, "{context}");
        assert!(
            report["machine"]["logical_cores"].as_u64().unwrap_or(0) >= 1,
            "no machine.logical_cores\n{context}"
        );
        for key in ["os", "profile", "opt_level", "optimized"] {
            assert!(!report["machine"][key].is_null(), "no machine.{key}\n{context}");
        }
        assert_eq!(
            report["params"]["quick"], true,
            "params do not record --quick\n{context}"
        );
        assert_eq!(report["params"]["seed"], 7, "params do not record --seed\n{context}");
        let sections = report["sections"].as_array().cloned().unwrap_or_default();
        assert!(!sections.is_empty(), "no sections\n{context}");
        let mut figures = 0;
        for section in &sections {
            assert!(
                section["title"].is_string() && section["number"].is_u64(),
                "section without title/number\n{context}"
            );
            figures += section["figures"].as_object().map_or(0, |f| f.len());
            for comparison in section["comparisons"].as_array().into_iter().flatten() {
                figures += 1;
                assert_eq!(comparison["answers_agree"], true, "{context}");
                for row in comparison["rows"].as_array().into_iter().flatten() {
                    for key in ["speedup", "cores_used", "median_s"] {
                        assert!(row[key].is_number(), "comparison row without {key}\n{context}");
                    }
                    let efficiency = &row["efficiency"];
                    assert!(
                        efficiency.is_number() || efficiency.is_null(),
                        "comparison row without efficiency\n{context}"
                    );
                    // A figure never contradicts itself: efficiency over about 100% is only ever
                    // shown marked as disturbed, and only for the baseline's algorithm.
                    if efficiency.as_f64().is_some_and(|e| e > 1.1) {
                        assert!(
                            row["disturbed"].is_string(),
                            "efficiency {efficiency} without a disturbed flag: {row:#}\n{context}"
                        );
                    }
                    if row["same_algorithm"] == false {
                        assert!(
                            efficiency.is_null(),
                            "efficiency for another algorithm: {row:#}\n{context}"
                        );
                    }
                }
            }
        }
        assert!(figures > 0, "the report carries no figures\n{context}");

        // The class report reads what students hand in: it must accept this report, and find
        // the headline workload it charts from this lesson.
        let read = reports::read_report(report.clone());
        assert!(
            read.is_ok(),
            "the class report would refuse this report: {:?}\n{context}",
            read.err()
        );
        for headline in reports::class::HEADLINES.iter().filter(|h| h.lesson == lesson) {
            let found = sections
                .iter()
                .flat_map(|s| s["comparisons"].as_array().cloned().unwrap_or_default())
                .any(|c| c["workload"].as_str().is_some_and(headline.workload));
            assert!(
                found,
                "no comparison matches the class report's headline '{}'\n{context}",
                headline.title
            );
        }
    });
}

#[test]
fn every_lesson_explains_itself_in_help() {
    for_every_lesson(|lesson| {
        let outcome = Run::new(binary(lesson)).args(["--help"]).go();
        outcome.assert_code(0);
        let about = outcome.stdout.lines().next().unwrap_or_default();
        assert!(
            about.len() >= 60,
            "--help should open with two or three sentences on the lesson\n{}",
            outcome.describe()
        );
        for flag in ["--quick", "--step", "--json", "--seed"] {
            assert!(
                outcome.stdout.contains(flag),
                "--help does not list {flag}\n{}",
                outcome.describe()
            );
        }
    });
}
