//! The quiz (`--quiz --seed S`): a seed is forever. A few seeds' questions and answers are
//! fixed word for word in `tests/quiz_expected/`; if one of these tests fails, a change has
//! altered problems that students and instructors already hold. Change the code back rather
//! than the expected files.

use testkit::Run;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson01_processes");

/// The seeds fixed word for word: one chosen at random, and the default seed.
const FIXED_SEEDS: [u64; 2] = [7, 2016];

fn quiz(args: &[&str]) -> String {
    let outcome = Run::new(LESSON).args(args).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    outcome.stdout
}

fn expected(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/quiz_expected")
        .join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
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
fn fixed_seeds_print_the_same_questions_forever() {
    for seed in FIXED_SEEDS {
        let seed_text = seed.to_string();
        assert_same_text(
            &expected(&format!("seed-{seed}.txt")),
            &quiz(&["--quiz", "--seed", &seed_text]),
            &format!("the quiz for seed {seed}"),
        );
    }
}

#[test]
fn fixed_seeds_print_the_same_answers_forever() {
    for seed in FIXED_SEEDS {
        let seed_text = seed.to_string();
        assert_same_text(
            &expected(&format!("seed-{seed}-answers.txt")),
            &quiz(&["--quiz", "--seed", &seed_text, "--answers"]),
            &format!("the answers for seed {seed}"),
        );
    }
}

#[test]
fn the_default_seed_is_2016() {
    assert_eq!(quiz(&["--quiz"]), quiz(&["--quiz", "--seed", "2016"]));
}

/// A line that asks something: `    a) ...`.
fn is_ask(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 6 && line.starts_with("    ") && bytes[4].is_ascii_lowercase() && bytes[5] == b')'
}

#[test]
fn answers_are_shown_only_with_answers() {
    for seed in ["1", "7", "99", "123456789"] {
        let questions = quiz(&["--quiz", "--seed", seed]);
        let answers = quiz(&["--quiz", "--seed", seed, "--answers"]);
        let hidden: Vec<&str> = questions.lines().filter(|line| is_ask(line)).collect();
        let shown: Vec<&str> = answers.lines().filter(|line| is_ask(line)).collect();
        assert!(hidden.len() >= 12, "seed {seed}: too few questions\n{questions}");
        assert_eq!(hidden.len(), shown.len(), "seed {seed}: the same questions both ways");
        for line in &hidden {
            assert!(
                line.ends_with(": ?"),
                "seed {seed}: an answer shows without --answers: {line}"
            );
        }
        for line in &shown {
            assert!(!line.ends_with('?'), "seed {seed}: no answer after --answers: {line}");
        }
        // Nothing the answers say (an answer's reason tells each process's story: who reaped
        // it, who adopted it, at which step) appears among the questions.
        for word in [
            "is reaped",
            "reaped by",
            "at step",
            " ended",
            "not waited",
            "still running",
            "zombie, parent",
        ] {
            assert!(
                !questions.contains(word),
                "seed {seed}: '{word}' shows without --answers\n{questions}"
            );
        }
        assert!(
            questions.contains(&format!("--quiz --seed {seed} --answers")),
            "the questions say how to see the answers\n{questions}"
        );
        // The set-up is the same both ways (after the two lines of heading): only the asks differ.
        let setup = |text: &str| -> Vec<String> {
            text.lines()
                .skip(2)
                .filter(|line| !is_ask(line))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(setup(&questions), setup(&answers), "seed {seed}");
    }
}

#[test]
fn answers_without_quiz_are_refused() {
    let outcome = Run::new(LESSON).args(["--answers"]).go();
    outcome.assert_code(2);
    outcome.assert_clean();
    assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
    assert_eq!(outcome.stderr.trim_end().lines().count(), 1, "{}", outcome.describe());
}

#[test]
fn the_quiz_as_json_hides_answers_until_asked() {
    let questions: serde_json::Value =
        serde_json::from_str(&quiz(&["--quiz", "--seed", "7", "--json"])).expect("one JSON document");
    assert_eq!(questions["lesson"], "lesson01_processes");
    assert_eq!(questions["quiz"]["seed"], 7);
    let asks = &questions["quiz"]["questions"][0]["asks"];
    assert!(
        asks[0]["prompt"].is_string() && asks[0].get("answer").is_none(),
        "{asks}"
    );
    let answers: serde_json::Value =
        serde_json::from_str(&quiz(&["--quiz", "--seed", "7", "--json", "--answers"])).expect("one JSON document");
    // Seed 7, question 1: 670 forks 671, 672 and 673; 672 and 673 exit; 670 waits for 671
    // (still running), then twice for any child: the lowest zombie PID first.
    let first = &answers["quiz"]["questions"][0]["asks"];
    assert_eq!(first[0]["answer"], "0");
    assert_eq!(first[1]["answer"], "672; 672 is reaped (exited with status 7)");
    assert_eq!(first[2]["answer"], "673; 673 is reaped (exited with status 8)");
    assert_eq!(first[6]["answer"], "none");
}
