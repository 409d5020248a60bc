//! The real GIL beside the simulated one (`python/gil.py`): with the machine's python3 its
//! answers equal what Rust computes for the same steps with the twin's rounds, its CPU-bound
//! threads use about one core between them (the GIL is a fact, not a timing), and each
//! simulated figure is printed over the real one; `--no-python` runs no interpreter; an
//! interpreter that prints garbage, or gives another answer, costs one line and the lesson goes
//! on with status 0.

use serde_json::Value;
use testkit::Run;
use testkit::python::{Fakes, garbage_is_one_warning, no_python_runs_no_interpreter, python3_here, warnings_about};
use testkit::report::{figures, section};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson04_gil")).args(["--quick", "--threads", "2", "--requests", "6"])
}

/// The simulation's step with `rounds` rounds, as `python/gil.py` computes it.
fn xorshift(index: u64, rounds: u64) -> u64 {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// The answer of steps `0..steps` of 50 rounds, as the lesson prints it.
fn answer(steps: u64) -> String {
    let checksum = (0..steps).map(|i| xorshift(i, 50)).fold(0u64, u64::wrapping_add);
    let steps_text = course::timing::format::plural(steps, "step");
    format!("{steps_text}, checksum {checksum:016x}")
}

/// The comparison of a section whose rows are CPython's.
fn cpython_comparison<'a>(report: &'a Value, title: &str) -> &'a Value {
    let comparisons = section(report, title)["comparisons"].as_array().unwrap();
    comparisons
        .iter()
        .find(|c| c["rows"][0]["name"].as_str().unwrap().starts_with("CPython: "))
        .unwrap_or_else(|| panic!("{title}: no CPython comparison in {comparisons:#?}"))
}

fn names(comparison: &Value) -> Vec<&str> {
    let rows = comparison["rows"].as_array().unwrap();
    rows.iter().map(|row| row["name"].as_str().unwrap()).collect()
}

#[test]
fn cpythons_threads_take_turns_and_its_answers_are_rusts() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson().args(["--json"]).json_report();
    let python = &report["params"]["python"];
    assert_eq!(python["implementation"], "CPython", "{python:#}");
    let has_gil = python["has_gil"].as_bool().unwrap();
    let steps = report["params"]["steps"].as_u64().unwrap();

    // Sections 2 and 4: CPython's threads and processes computed Rust's steps of 50 rounds.
    let threads = cpython_comparison(&report, "CPU-bound threads under the GIL");
    assert_eq!(names(threads), ["CPython: 1 thread", "CPython: 2 threads"]);
    assert_eq!(threads["answers_agree"], true);
    assert_eq!(threads["answer"], answer(steps));
    if has_gil {
        // Two CPU-bound threads under a GIL use about one core between them, however fast.
        let cores_used = threads["rows"][1]["cores_used"].as_f64().unwrap();
        assert!(cores_used <= 1.2, "{cores_used} cores used under a GIL: {threads:#}");
        let ratios = figures(&report, "CPU-bound threads under the GIL")["cpython"]
            .as_array()
            .unwrap();
        let what: Vec<&str> = ratios.iter().map(|r| r["what"].as_str().unwrap()).collect();
        assert_eq!(what, ["speedup", "cores used"]);
    }
    let processes = cpython_comparison(&report, "Processes, each with its own GIL");
    assert_eq!(names(processes), ["CPython: 1 thread", "CPython: 2 processes"]);
    assert_eq!(processes["answer"], answer(steps));

    // Section 5: eight I/O-bound tasks of two steps each.
    let io = cpython_comparison(&report, "I/O-bound threads");
    assert_eq!(names(io), ["CPython: 1 thread", "CPython: 8 threads"]);
    assert_eq!(io["answer"], answer(16));

    // Section 6: the convoy on CPython, every request answered, matched to the simulation's.
    let convoy = figures(&report, "The convoy effect");
    let latency = convoy["cpython_latency"].as_object().unwrap();
    assert_eq!(latency.len(), 5, "alone, three intervals, processes: {convoy:#}");
    for (name, summary) in latency {
        assert!(name.starts_with("CPython: "), "{name}");
        assert!(
            convoy["latency"].get(name.trim_start_matches("CPython: ")).is_some(),
            "{name}"
        );
        assert_eq!(summary["count"], 6, "{name}");
    }
    assert_eq!(
        convoy["latency"].as_object().unwrap().len(),
        6,
        "the simulation's rows as before"
    );

    // Section 7: the simulated figures over the real ones, for the summary.
    let calibration = &figures(&report, "Summary")["simulated_over_real"];
    if has_gil {
        assert_eq!(calibration["cpu_threads"].as_array().unwrap().len(), 2);
        assert_eq!(calibration["convoy"].as_array().unwrap().len(), 3, "{calibration:#}");
    }
    assert_eq!(calibration["io_threads"].as_array().unwrap().len(), 1);
    for ratio in calibration
        .as_object()
        .unwrap()
        .values()
        .flat_map(|r| r.as_array().unwrap())
    {
        let (simulated, real) = (ratio["simulated"].as_f64().unwrap(), ratio["real"].as_f64().unwrap());
        assert!(
            (ratio["ratio"].as_f64().unwrap() - simulated / real).abs() < 1e-9,
            "{ratio:#}"
        );
    }
}

#[test]
fn no_python_runs_none() {
    no_python_runs_no_interpreter(lesson, "CPython: ");
}

#[test]
fn garbage_costs_one_line_and_the_lesson_goes_on() {
    let report = garbage_is_one_warning(lesson, 7);
    assert!(figures(&report, "CPU-bound threads under the GIL")["cpython"].is_null());
    assert!(figures(&report, "Summary")["simulated_over_real"]["convoy"].is_null());
    // The text shows the same one line, and ends with status 0.
    let fakes = Fakes::new();
    let fake = fakes.python("prints-garbage", None, "echo 'this is not JSON'");
    let outcome = lesson().args(["--python", fake.to_str().unwrap()]).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    assert_eq!(
        outcome.stdout.matches("this is not JSON").count(),
        1,
        "{}",
        outcome.describe()
    );
    assert!(outcome.stdout.contains("7. Summary"), "{}", outcome.describe());
}

#[test]
fn another_answer_leaves_cpythons_rows_out() {
    // A twin whose threads computed something else: one line says so, and no CPython row or
    // ratio is shown for that workload.
    let fakes = Fakes::new();
    let variant = |name: &str, kind: &str, checksum: u64| {
        format!(
            r#"{{"workload": "cpu_bound", "name": "{name}", "workers": 2, "kind": "{kind}",
            "answers": [{{"steps": 4000, "checksum": {checksum}}}], "samples": [{{"wall_s": 1.0, "cpu_s": 1.0}}]}}"#
        )
    };
    let twin = format!(
        r#"{{"twin": "lesson04_gil", "python": {{}}, "params": {{"rounds_per_step": 50}}, "answers": {{}},
        "variants": [{}, {}], "convoy": []}}"#,
        variant("1 thread", "sequential", 1),
        variant("2 threads", "threads", 1)
    );
    let fake = fakes.python("another-answer", None, &format!("cat <<'EOF'\n{twin}\nEOF"));
    let fake_path = fake.to_str().unwrap();
    let report = lesson().args(["--json", "--python", fake_path]).json_report();
    let warnings = warnings_about(&report, "'1 thread', computed 4,000 steps, checksum 0000000000000001");
    assert_eq!(
        warnings.len(),
        2,
        "sections 2 and 4 each say so: {:#}",
        report["warnings"]
    );
    assert!(figures(&report, "CPU-bound threads under the GIL")["cpython"].is_null());
    assert_eq!(report["sections"].as_array().unwrap().len(), 7);
}
