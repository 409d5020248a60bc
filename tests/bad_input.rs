//! Bad input gets one clear line on stderr and exit status 2: never a panic, a backtrace or a
//! page of usage. The count and fraction flags are found in each lesson's `--help` by their
//! value names (`<COUNT>`, `<FRACTION>`, `<MS>`), so new flags are tested without a list.

use crate::support::{binary, for_every_lesson};
use testkit::Run;

/// Flags in `--help` whose value is shown as `<value_name>`.
fn flags_taking(help: &str, value_name: &str) -> Vec<String> {
    let mut flags = Vec::new();
    for line in help.lines() {
        let words: Vec<&str> = line.split_whitespace().map(|w| w.trim_end_matches(',')).collect();
        for pair in words.windows(2) {
            if pair[0].starts_with("--") && pair[1] == format!("<{value_name}>") {
                flags.push(pair[0].to_string());
            }
        }
    }
    flags
}

#[track_caller]
fn assert_refused(lesson: &str, args: &[&str]) {
    let outcome = Run::new(binary(lesson)).args(args).go();
    outcome.assert_code(2);
    outcome.assert_clean();
    let stderr = outcome.stderr.trim_end();
    assert_eq!(
        stderr.lines().count(),
        1,
        "expected exactly one line on stderr\n{}",
        outcome.describe()
    );
    assert!(
        stderr.contains(lesson),
        "the message should name the program\n{}",
        outcome.describe()
    );
    assert!(
        outcome.stdout.is_empty(),
        "nothing should run on bad input\n{}",
        outcome.describe()
    );
}

#[test]
fn every_lesson_refuses_unknown_flags_and_non_numbers() {
    for_every_lesson(|lesson| {
        assert_refused(lesson, &["--bogus"]);
        assert_refused(lesson, &["--quick", "extra-argument"]);
        assert_refused(lesson, &["--seed", "not-a-number"]);
        assert_refused(lesson, &["--seed=-1"]);
    });
}

#[test]
fn every_lesson_refuses_zero_negative_and_huge_counts() {
    for_every_lesson(|lesson| {
        let help = Run::new(binary(lesson)).args(["--help"]).go().stdout;
        for flag in flags_taking(&help, "COUNT") {
            for value in ["0", "-1", "abc", "1.5", "99999999999999"] {
                assert_refused(lesson, &["--quick", &format!("{flag}={value}")]);
            }
        }
        for flag in flags_taking(&help, "FRACTION") {
            for value in ["-0.1", "1.5", "abc"] {
                assert_refused(lesson, &["--quick", &format!("{flag}={value}")]);
            }
        }
        for flag in flags_taking(&help, "MS") {
            for value in ["-5", "abc", "99999999999999"] {
                assert_refused(lesson, &["--quick", &format!("{flag}={value}")]);
            }
        }
    });
}

#[test]
fn flags_are_found_in_help_text() {
    let help = "      --threads <COUNT>     Threads\n  -p, --parallel <FRACTION>  P\n      --json  JSON";
    assert_eq!(flags_taking(help, "COUNT"), vec!["--threads"]);
    assert_eq!(flags_taking(help, "FRACTION"), vec!["--parallel"]);
}
