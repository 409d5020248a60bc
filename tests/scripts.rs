//! `scripts/run-lessons.sh`: runs lessons in order, ends with a summary, fails when a lesson does,
//! and prints the instructor's plan. `scripts/homework.sh` (the homework runner, `cargo
//! homework`): a verdict on a student's exercise, hints one level at a time, a reset that keeps
//! the student's version, and a list that answers from saved progress without checking again.
//! The runner's progress goes to a temporary folder here (`HOMEWORK_STATE`), and the tests
//! that change files do so in a copy of one exercise (`HOMEWORK_ROOT`), never in the course.

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

/// A folder of its own under the system's temporary folder, emptied first.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("homework-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// The homework runner through scripts/homework.sh, its progress kept in `state`.
fn homework(args: &[&str], state: &std::path::Path) -> Run {
    Run::new(root().join("scripts/homework.sh"))
        .args(args)
        .current_dir(root())
        .env("HOMEWORK_STATE", state.to_str().expect("a UTF-8 path"))
        .timeout(Duration::from_secs(600))
}

#[test]
fn homework_gives_a_verdict_with_hints_on_the_untouched_stub() {
    let state = scratch("verdict");
    let outcome = homework(&["00"], &state).go();
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
    assert!(
        !outcome.stdout.contains("reference"),
        "the reference is named only once the checks pass\n{}",
        outcome.describe()
    );
    assert!(
        outcome.stdout.contains("cargo homework hint 00"),
        "{}",
        outcome.describe()
    );
    let saved = std::fs::read_to_string(state.join("progress.json")).expect("the verdict was saved");
    let saved: serde_json::Value = serde_json::from_str(&saved).expect("progress is JSON");
    assert_eq!(saved["exercises"]["lesson00_machine"]["passed"], false, "{saved}");
    for args in [&["99"][..], &["watch"], &["3x"], &["--frobnicate"]] {
        let refused = homework(args, &state).go();
        assert_eq!(refused.code(), Some(2), "{}", refused.describe());
        assert_eq!(refused.stderr.trim_end().lines().count(), 1, "{}", refused.describe());
    }
    let _ = std::fs::remove_dir_all(&state);
}

/// A copy of lesson 03's exercise files (and the stub the runner keeps) under `dir`: enough
/// for the verbs that read and write files without building anything.
fn copy_of_lesson03(dir: &std::path::Path) -> std::path::PathBuf {
    for path in [
        "lessons/lesson03_race/exercise/Cargo.toml",
        "lessons/lesson03_race/exercise/src/exercise.rs",
        "lessons/lesson03_race/exercise/tests/check.rs",
        "shared/homework/exercises/lesson03_race/stub.rs",
    ] {
        let to = dir.join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root().join(path), &to).unwrap_or_else(|e| panic!("copying {path}: {e}"));
    }
    dir.join("lessons/lesson03_race/exercise/src/exercise.rs")
}

#[test]
fn homework_hints_come_one_level_at_a_time() {
    let state = scratch("hints");
    let shown: Vec<String> = (0..4)
        .map(|_| {
            let outcome = homework(&["hint", "03"], &state).go();
            outcome.assert_code(0);
            outcome.stdout
        })
        .collect();
    for (level, text) in shown.iter().enumerate().take(3) {
        let levels = text.matches("Hint ").count();
        assert_eq!(levels, level + 1, "call {} shows {levels} hints:\n{text}", level + 1);
    }
    assert!(
        shown[0].contains("Hint 1 of 3, the idea") && !shown[0].contains("Hint 2"),
        "{}",
        shown[0]
    );
    assert!(shown[2].contains("Hint 3 of 3, nearly the code"), "{}", shown[2]);
    assert!(shown[3].contains("That was the last hint"), "{}", shown[3]);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn homework_reset_restores_the_stub_and_keeps_the_students_version() {
    let (course, state) = (scratch("reset-course"), scratch("reset-state"));
    let file = copy_of_lesson03(&course);
    let stub = std::fs::read_to_string(&file).unwrap();
    let mine = stub.replace("todo!(", "unimplemented!(");
    std::fs::write(&file, &mine).unwrap();
    let outcome = homework(&["reset", "03"], &state)
        .env("HOMEWORK_ROOT", course.to_str().unwrap())
        .go();
    outcome.assert_code(0);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), stub, "{}", outcome.describe());
    let backups: Vec<_> = std::fs::read_dir(state.join("backups"))
        .expect("a backups folder")
        .flatten()
        .collect();
    assert_eq!(backups.len(), 1, "{}", outcome.describe());
    let name = backups[0].file_name().to_string_lossy().into_owned();
    assert!(
        name.starts_with("lesson03_race-") && outcome.stdout.contains(&name),
        "{}",
        outcome.describe()
    );
    assert_eq!(std::fs::read_to_string(backups[0].path()).unwrap(), mine);
    // A second reset has nothing to keep.
    let again = homework(&["reset", "03"], &state)
        .env("HOMEWORK_ROOT", course.to_str().unwrap())
        .go();
    again.assert_code(0);
    assert!(
        again.stdout.contains("already the untouched stub"),
        "{}",
        again.describe()
    );
    let _ = std::fs::remove_dir_all(&course);
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn homework_list_answers_from_saved_progress_without_checking_again() {
    let (course, state) = (scratch("list-course"), scratch("list-state"));
    let file = copy_of_lesson03(&course);
    let run_list = || {
        homework(&["list", "--json"], &state)
            .env("HOMEWORK_ROOT", course.to_str().unwrap())
            .timeout(Duration::from_secs(60))
            .go()
    };
    let status = |outcome: &testkit::Outcome| {
        outcome.assert_code(0);
        let listed = outcome.json();
        assert_eq!(
            listed["exercises"][0]["exercise"],
            "lesson03_race",
            "{}",
            outcome.describe()
        );
        (
            listed["exercises"][0]["status"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            listed["exercises"][0]["checked_now"].as_bool(),
        )
    };
    assert_eq!(status(&run_list()), ("not started".to_string(), Some(false)));
    // A changed file that progress says passed (as a check would have saved it) is listed as
    // done at once: nothing is built or run in this copy, which could not be built.
    std::fs::write(&file, "//! Exercise: fix the race three ways\n// mine\n").unwrap();
    let hash = {
        let outcome = homework(&["hint", "03"], &state)
            .env("HOMEWORK_ROOT", course.to_str().unwrap())
            .go();
        outcome.assert_code(0);
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(state.join("progress.json")).unwrap()).unwrap();
        assert_eq!(saved["exercises"]["lesson03_race"]["hints_shown"], 1, "{saved}");
        saved
    };
    let mut saved = hash;
    let entry = &mut saved["exercises"]["lesson03_race"];
    entry["passed"] = true.into();
    entry["compiles"] = true.into();
    entry["hash"] = homework_hash(&course).into();
    std::fs::write(state.join("progress.json"), saved.to_string()).unwrap();
    assert_eq!(status(&run_list()), ("done".to_string(), Some(false)));
    let _ = std::fs::remove_dir_all(&course);
    let _ = std::fs::remove_dir_all(&state);
}

/// The hash the runner keeps for lesson 03 in `course`: FNV-1a over the student's file and
/// the checks, each followed by 0xff (see shared/homework/src/progress.rs).
fn homework_hash(course: &std::path::Path) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for path in ["src/exercise.rs", "tests/check.rs"] {
        let bytes = std::fs::read(course.join("lessons/lesson03_race/exercise").join(path)).unwrap();
        for byte in bytes.into_iter().chain([0xff]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}
