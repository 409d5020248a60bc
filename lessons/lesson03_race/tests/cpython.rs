//! The same race on CPython (section 1, `python/race.py`): with the machine's python3 its
//! answers hang together; `--no-python` runs no interpreter; an interpreter that is missing,
//! prints garbage, fails, hangs or gives an impossible answer costs one line, the lesson still
//! ends with status 0, and nothing it started is left running.

use serde_json::Value;
use std::time::{Duration, Instant};
use testkit::Run;
use testkit::python::{Fakes, one_line, processes_mentioning, python3_here, warnings_about};
use testkit::report::figures;

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson03_race")).args(["--quick", "--increments", "40000", "--runs", "2"])
}

fn number(value: &Value) -> u64 {
    value.as_u64().unwrap_or_else(|| panic!("not a whole number: {value}"))
}

#[test]
fn cpython_counts_hang_together() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson().args(["--json", "--threads", "3"]).json_report();
    let python = &report["params"]["python"];
    assert_eq!(python["implementation"], "CPython", "{python:#}");
    assert!(python["has_gil"].is_boolean());
    let race = &figures(&report, "Lost updates")["cpython"];
    let expected = number(&race["expected"]);
    assert_eq!(number(&race["threads"]), 3);
    assert_eq!(expected, 3 * number(&race["increments"]));
    assert_eq!(
        number(&race["increments"]),
        40_000,
        "the same size as Rust, under the cap"
    );
    let variants = race["variants"].as_array().unwrap();
    let names: Vec<&str> = variants.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "counter += 1",
            "value = counter; counter = value + 1",
            "a call between the load and the store",
            "with a lock"
        ]
    );
    for variant in variants {
        // Updates are lost, never gained.
        let total = number(&variant["total"]);
        assert!(total <= expected, "{variant:#}");
        assert_eq!(total + number(&variant["lost_updates"]), expected);
        let bytecode = variant["between_load_and_store"].as_array().unwrap();
        assert!(bytecode.len() >= 3, "load, add, store at least: {variant:#}");
    }
    assert_eq!(number(&variants[3]["total"]), expected, "the lock is exact");
    // The lesson's sentence says what happened with `counter += 1`.
    let text = lesson().args(["--threads", "3"]).go();
    text.assert_code(0);
    text.assert_clean();
    let said = one_line(&text.stdout);
    assert!(said.contains("updates are lost? CPython"), "{}", text.describe());
    assert!(said.contains("with `counter += 1`"), "{}", text.describe());
    assert!(text.stdout.contains("python/race.py"), "{}", text.describe());
}

#[test]
fn no_python_runs_no_interpreter() {
    testkit::python::no_python_runs_no_interpreter(lesson, "python/race.py");
}

#[test]
fn a_missing_interpreter_is_one_line_and_the_lesson_goes_on() {
    let fakes = Fakes::new();
    let missing = fakes.dir().join("no-such-python");
    let outcome = lesson().args(["--python", missing.to_str().unwrap()]).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    let line = format!(
        "CPython not found at {}: the Python rows are skipped; --python PATH to name one",
        missing.display()
    );
    assert_eq!(
        outcome.stdout.matches("CPython not found").count(),
        1,
        "{}",
        outcome.describe()
    );
    assert!(one_line(&outcome.stdout).contains(&line), "{}", outcome.describe());
    assert!(outcome.stdout.contains("6. False sharing"), "the lesson went on");
    // And python3 missing from the PATH altogether.
    let outcome = lesson().env("PATH", fakes.dir().to_str().unwrap()).go();
    outcome.assert_code(0);
    assert!(
        one_line(&outcome.stdout).contains("CPython not found: the Python rows are skipped; --python PATH to name one"),
        "{}",
        outcome.describe()
    );
}

#[test]
fn a_broken_interpreter_is_one_warning_and_nothing_is_left_running() {
    let fakes = Fakes::new();
    // Each fake answers the version question, then misbehaves when asked to run the twin (or,
    // for the first, already at the version question).
    let garbage = r#"{"twin": "lesson03_race", "python": {}, "params": {}, "answers": {}, "variants": [{"workload": "counter", "name": "counter += 1", "workers": 2, "kind": "threads", "answers": [999999999999], "samples": [{"wall_s": 1.0, "cpu_s": 1.0}]}]}"#;
    let cases = [
        (
            "not-a-python",
            Some("echo 'Hello from a shell script'"),
            "exit 0",
            "printed \"Hello from a shell script\"",
        ),
        (
            "prints-garbage",
            None,
            "echo 'this is not JSON'",
            "printed \"this is not JSON\", not a twin's JSON",
        ),
        (
            "exits-3",
            None,
            "echo 'Traceback: boom' >&2; exit 3",
            "exited with status 3 (\"Traceback: boom\")",
        ),
        (
            "hangs",
            None,
            "sleep 1234.5678",
            "ran past its 1.00 s timeout and was stopped",
        ),
        (
            "another-answer",
            None,
            &format!("echo '{garbage}'"),
            "counted 999999999999 of",
        ),
    ];
    for (name, probe, twin, said) in cases {
        let fake = fakes.python(name, probe, twin);
        let fake_path = fake.to_str().unwrap();
        let started = Instant::now();
        let report = lesson()
            .args(["--json", "--python", fake_path, "--python-timeout", "1000"])
            .json_report();
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{name}: the timeout was not kept"
        );
        let warnings = warnings_about(&report, fake_path);
        assert_eq!(
            warnings.len(),
            1,
            "{name}: one line naming it: {:#}",
            report["warnings"]
        );
        assert!(
            warnings[0].contains(said),
            "{name}: {:?} does not say {said:?}",
            warnings[0]
        );
        assert!(
            warnings[0].ends_with("skipped") || warnings[0].ends_with("left out"),
            "{}",
            warnings[0]
        );
        assert!(
            figures(&report, "Lost updates")["cpython"].is_null(),
            "{name}: no CPython rows"
        );
        assert_eq!(
            report["sections"].as_array().unwrap().len(),
            6,
            "{name}: the lesson went on"
        );
        assert_eq!(
            processes_mentioning("1234.5678"),
            Vec::<String>::new(),
            "{name}: the hang's sleep"
        );
        assert_eq!(
            processes_mentioning(fake_path),
            Vec::<String>::new(),
            "{name}: the fake itself"
        );
    }
}

#[test]
fn an_interrupt_ends_a_python_that_hangs_and_everything_it_started() {
    // Section 1's Rust race takes well under a second; then the lesson waits for Python.
    testkit::python::an_interrupt_ends_a_hanging_python(lesson, Duration::from_secs(3));
}
