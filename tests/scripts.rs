//! `scripts/run-lessons.sh`: runs lessons in order, ends with a summary, fails when a lesson does,
//! and prints the instructor's plan. `scripts/homework.sh`: a verdict on a student's exercise.

use crate::support::{all_lessons, binary, root};
use crate::tidy::speaker_minutes;
use std::time::Duration;
use testkit::Run;

fn run_lessons(args: &[&str]) -> testkit::Outcome {
    // Build first, so that the script's own build finds nothing to do.
    binary("lesson00_machine");
    Run::new(root().join("scripts/run-lessons.sh"))
        .args(args)
        .current_dir(root())
        .timeout(Duration::from_secs(600))
        .go()
}

#[test]
fn run_lessons_runs_the_selected_lesson_and_prints_a_summary() {
    let outcome = run_lessons(&["--quick", "--only", "00"]);
    outcome.assert_code(0);
    outcome.assert_clean();
    assert!(
        outcome.stdout.contains("lesson00_machine · "),
        "the lesson did not run\n{}",
        outcome.describe()
    );
    let summary = outcome.stdout.split("Summary").nth(1).unwrap_or_default();
    assert!(
        summary.contains("lesson00_machine") && summary.contains(" 0 "),
        "no summary row\n{}",
        outcome.describe()
    );
}

#[test]
fn run_lessons_reports_a_failing_lesson_and_exits_non_zero() {
    // Arguments after `--` go to every lesson: a bad flag makes lesson00 fail with status 2.
    let outcome = run_lessons(&["--only", "00", "--", "--bogus"]);
    assert_eq!(outcome.code(), Some(1), "{}", outcome.describe());
    let summary = outcome.stdout.split("Summary").nth(1).unwrap_or_default();
    assert!(
        summary.contains("lesson00_machine") && summary.contains("FAILED"),
        "{}",
        outcome.describe()
    );
}

#[test]
fn run_lessons_saves_json_reports() {
    let dir = std::env::temp_dir().join(format!("run-lessons-json-{}", std::process::id()));
    let outcome = run_lessons(&["--quick", "--only", "00", "--json", dir.to_str().unwrap()]);
    outcome.assert_code(0);
    let text = std::fs::read_to_string(dir.join("lesson00_machine.json"));
    let _ = std::fs::remove_dir_all(&dir);
    let report: serde_json::Value = serde_json::from_str(&text.expect("the report was saved")).expect("it parses");
    assert_eq!(report["lesson"], "lesson00_machine");
}

#[test]
fn run_lessons_refuses_bad_options() {
    for args in [&["--only", "99"][..], &["--from"], &["--frobnicate"]] {
        let outcome = run_lessons(args);
        assert_eq!(outcome.code(), Some(2), "{}", outcome.describe());
        assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
    }
}

#[test]
fn run_lessons_plan_adds_up() {
    let outcome = Run::new(root().join("scripts/run-lessons.sh"))
        .args(["--plan"])
        .current_dir(root())
        .go();
    outcome.assert_code(0);
    // The plan covers the whole course, whatever LESSONS narrows the other tests to.
    let mut expected_total = 0;
    for lesson in all_lessons() {
        let readme =
            std::fs::read_to_string(root().join("lessons").join(&lesson).join("README.md")).unwrap_or_default();
        let minutes = speaker_minutes(&readme).unwrap_or(0);
        expected_total += minutes;
        let row = outcome
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("{lesson} ")))
            .unwrap_or_default();
        let fields: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            fields.get(1).copied(),
            Some(minutes.to_string().as_str()),
            "{lesson}'s minutes\n{}",
            outcome.describe()
        );
        let running = format!("{}:{:02}", expected_total / 60, expected_total % 60);
        assert_eq!(
            fields.get(2).copied(),
            Some(running.as_str()),
            "{lesson}'s running total\n{}",
            outcome.describe()
        );
    }
    let in_all = format!("In all: {} h {:02} min", expected_total / 60, expected_total % 60);
    assert!(
        outcome.stdout.contains(&in_all),
        "expected '{in_all}'\n{}",
        outcome.describe()
    );
}

#[test]
fn homework_gives_a_verdict_with_hints_on_the_untouched_stub() {
    let homework = root().join("scripts/homework.sh");
    let outcome = Run::new(&homework)
        .args(["00"])
        .current_dir(root())
        .timeout(Duration::from_secs(600))
        .go();
    assert_eq!(
        outcome.code(),
        Some(1),
        "the untouched stub must not pass\n{}",
        outcome.describe()
    );
    assert!(outcome.stdout.contains("✗ not yet"), "{}", outcome.describe());
    assert!(
        outcome.stdout.contains("not yet implemented"),
        "the stub's message is shown\n{}",
        outcome.describe()
    );
    let refused = Run::new(&homework).args(["99"]).current_dir(root()).go();
    assert_eq!(refused.code(), Some(2), "{}", refused.describe());
    assert_eq!(refused.stderr.trim_end().lines().count(), 1, "{}", refused.describe());
}
