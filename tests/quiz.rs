//! Every lesson with a quiz (its `--help` offers `--quiz`) keeps the quiz contract. A seed is
//! forever: each quiz lesson fixes a few seeds' questions and answers word for word in
//! `lessons/<lesson>/tests/quiz_expected/seed-<N>.txt` and `seed-<N>-answers.txt`. If a fixed
//! seed's text changes, problems that students and instructors already hold have changed:
//! change the code back rather than the expected files.

use crate::support::{binary, for_every_lesson, root};
use std::path::PathBuf;
use testkit::Run;

/// Whether the lesson offers a quiz.
fn has_quiz(lesson: &str) -> bool {
    Run::new(binary(lesson)).args(["--help"]).go().stdout.contains("--quiz")
}

fn quiz(lesson: &str, args: &[&str]) -> String {
    let outcome = Run::new(binary(lesson)).args(args).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    outcome.stdout
}

/// A line that asks something: `    a) ...`.
fn is_ask(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 6 && line.starts_with("    ") && bytes[4].is_ascii_lowercase() && bytes[5] == b')'
}

/// The seeds a lesson fixes, from its expected files.
fn fixed_seeds(lesson: &str) -> (PathBuf, Vec<String>) {
    let dir = root().join("lessons").join(lesson).join("tests/quiz_expected");
    let mut seeds: Vec<String> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let seed = name.strip_prefix("seed-")?.strip_suffix(".txt")?;
            (!seed.ends_with("-answers")).then(|| seed.to_string())
        })
        .collect();
    seeds.sort();
    (dir, seeds)
}

#[track_caller]
fn assert_same_text(expected: &str, got: &str, what: &str) {
    if expected != got {
        let line = expected
            .lines()
            .zip(got.lines())
            .position(|(a, b)| a != b)
            .map_or_else(|| "the number of lines".to_string(), |i| format!("line {}", i + 1));
        panic!("{what} changed ({line} differs first)\n--- expected\n{expected}\n--- got\n{got}");
    }
}

#[test]
fn every_quiz_gives_the_same_problems_forever() {
    for_every_lesson(|lesson| {
        if !has_quiz(lesson) {
            return;
        }
        let (dir, seeds) = fixed_seeds(lesson);
        assert!(
            seeds.len() >= 2,
            "{lesson}: fix at least two seeds in {}",
            dir.display()
        );
        for seed in seeds {
            for (suffix, extra) in [("", None), ("-answers", Some("--answers"))] {
                let path = dir.join(format!("seed-{seed}{suffix}.txt"));
                let expected = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{lesson}: cannot read {}: {e}", path.display()));
                let mut args = vec!["--quiz", "--seed", seed.as_str()];
                args.extend(extra);
                assert_same_text(
                    &expected,
                    &quiz(lesson, &args),
                    &format!("{lesson}'s quiz for seed {seed}{suffix}"),
                );
            }
        }
        assert_eq!(
            quiz(lesson, &["--quiz"]),
            quiz(lesson, &["--quiz", "--seed", "2016"]),
            "{lesson}: default seed"
        );
    });
}

#[test]
fn every_quiz_hides_its_answers_until_asked() {
    for_every_lesson(|lesson| {
        if !has_quiz(lesson) {
            return;
        }
        for seed in ["1", "7", "99", "123456789"] {
            let questions = quiz(lesson, &["--quiz", "--seed", seed]);
            let answers = quiz(lesson, &["--quiz", "--seed", seed, "--answers"]);
            let hidden: Vec<&str> = questions.lines().filter(|line| is_ask(line)).collect();
            let shown: Vec<&str> = answers.lines().filter(|line| is_ask(line)).collect();
            assert!(
                hidden.len() >= 4,
                "{lesson}, seed {seed}: too few questions\n{questions}"
            );
            assert_eq!(
                hidden.len(),
                shown.len(),
                "{lesson}, seed {seed}: the same asks both ways"
            );
            for line in &hidden {
                assert!(
                    line.ends_with(": ?"),
                    "{lesson}, seed {seed}: an answer shows without --answers: {line}"
                );
            }
            for line in &shown {
                assert!(
                    !line.ends_with('?'),
                    "{lesson}, seed {seed}: no answer after --answers: {line}"
                );
            }
            assert!(
                questions.contains(&format!("--quiz --seed {seed} --answers")),
                "{lesson}: the questions say how to see the answers\n{questions}"
            );
            // The set-up is the same both ways (after the two heading lines): only asks differ,
            // so no answer leaks into a question.
            let setup = |text: &str| -> Vec<String> {
                text.lines()
                    .skip(2)
                    .filter(|line| !is_ask(line))
                    .map(str::to_string)
                    .collect()
            };
            assert_eq!(
                setup(&questions),
                setup(&answers),
                "{lesson}, seed {seed}: the set-up differs"
            );
        }

        let json = |args: &[&str]| -> serde_json::Value {
            serde_json::from_str(&quiz(lesson, args)).unwrap_or_else(|e| panic!("{lesson}: not one JSON document: {e}"))
        };
        let questions = json(&["--quiz", "--seed", "7", "--json"]);
        assert_eq!(questions["lesson"], *lesson);
        assert_eq!(questions["quiz"]["seed"], 7);
        let asks = &questions["quiz"]["questions"][0]["asks"];
        assert!(
            asks[0]["prompt"].is_string() && asks[0].get("answer").is_none(),
            "{lesson}: {asks}"
        );
        let answers = json(&["--quiz", "--seed", "7", "--json", "--answers"]);
        assert!(
            answers["quiz"]["questions"][0]["asks"][0]["answer"].is_string(),
            "{lesson}: {answers}"
        );
    });
}

#[test]
fn every_quiz_refuses_answers_without_a_quiz() {
    for_every_lesson(|lesson| {
        if !has_quiz(lesson) {
            return;
        }
        let outcome = Run::new(binary(lesson)).args(["--answers"]).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
        assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
        assert!(
            outcome.stderr.contains("--quiz"),
            "the message names --quiz\n{}",
            outcome.describe()
        );
    });
}

#[test]
fn the_course_has_the_quizzes_it_promises() {
    // Lessons 01, 03, 04, 06 and 10 carry a quiz; more may join.
    for lesson in crate::support::lessons() {
        if ["01", "03", "04", "06", "10"]
            .iter()
            .any(|n| lesson.starts_with(&format!("lesson{n}_")))
        {
            assert!(has_quiz(&lesson), "{lesson} should offer --quiz");
        }
    }
}
