//! The same clients on CPython (`python/event_loop.py`, section 1): with the machine's python3
//! its asyncio and its thread per connection fetch Rust's records, asyncio on one thread;
//! `--no-python` runs no interpreter; an interpreter that prints garbage, fails, hangs or
//! answers something else costs one line, the lesson still ends with status 0, and nothing is
//! left running: no process, no port.

use serde_json::Value;
use std::time::Duration;
use testkit::python::{Fakes, processes_mentioning, python3_here, warnings_about};
use testkit::report::{figures, section};
use testkit::{Run, ports_named_in};

const TITLE: &str = "Many clients waiting at once";

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson08_async")).args(["--quick"])
}

fn row_names(report: &Value) -> Vec<String> {
    section(report, TITLE)["comparisons"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap().to_string())
        .collect()
}

/// No server port named in the report still listens, and no child process is left.
fn nothing_left(report: &Value) {
    let shutting = figures(report, "Shutting");
    assert_eq!(shutting["child_processes_left"], 0, "{shutting:#}");
    for port in shutting["server_ports"].as_array().unwrap() {
        let port = port.as_u64().unwrap() as u16;
        assert_ne!(slowserver::system::is_listening(port), Some(true), "port {port}");
    }
}

#[test]
fn cpython_fetches_rusts_records_and_its_event_loop_is_one_thread() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    let report = lesson()
        .args(["--json", "--seed", "5", "--connections", "120"])
        .json_report();
    let comparison = &section(&report, TITLE)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true, "{comparison:#}");
    assert!(
        comparison["answer"]
            .as_str()
            .unwrap()
            .starts_with("120 of 120 records (fingerprint ")
    );
    let names = row_names(&report);
    assert_eq!(
        names,
        [
            "thread per connection",
            "one thread, event loop",
            "CPython: a thread each",
            "CPython: asyncio"
        ]
    );
    let cpython = &figures(&report, TITLE)["cpython"];
    let asyncio = &cpython["asyncio"];
    let threads = &cpython["a thread each"];
    assert_eq!(asyncio["records"], 120, "{cpython:#}");
    assert_eq!(threads["records"], 120, "{cpython:#}");
    // asyncio runs every connection on the one thread; the other way starts a thread for each.
    assert_eq!(asyncio["peak_threads"], 1, "{asyncio:#}");
    assert!(threads["peak_threads"].as_u64().unwrap() > 1, "{threads:#}");
    for way in [asyncio, threads] {
        let held = way["connections_held"].as_u64().unwrap();
        assert!((1..=120).contains(&held), "{way:#}");
        assert!(way["peak_rss_bytes"].as_u64().unwrap() > 0, "{way:#}");
    }
    let ratios = &figures(&report, TITLE)["cpython_over_rust"];
    assert_eq!(ratios.as_object().map(|r| r.len()), Some(2), "{ratios:#}");
    assert!(
        warnings_about(&report, "CPython").is_empty(),
        "{:#}",
        report["warnings"]
    );
    nothing_left(&report);
}

#[test]
fn no_python_runs_no_interpreter() {
    testkit::python::no_python_runs_no_interpreter(lesson, "CPython: ");
}

#[test]
fn an_interpreter_printing_garbage_is_one_line_and_nothing_is_left() {
    let report = testkit::python::garbage_is_one_warning(lesson, 4);
    assert!(!row_names(&report).iter().any(|name| name.starts_with("CPython")));
    nothing_left(&report);
}

#[test]
fn a_broken_interpreter_is_one_line_whatever_breaks() {
    let fakes = Fakes::new();
    // Valid JSON that held none of the connections asked for.
    let nothing = r#"{"twin": "lesson08_async", "python": {}, "params": {"connections": 0, "limited_by": "nothing"}, "answers": {}, "variants": [{"workload": "connections", "name": "asyncio", "workers": 1, "kind": "event loop", "answers": [{"requests": 0, "records": [], "failures": {}}], "samples": [{"wall_s": 1.0, "cpu_s": 1.0}]}]}"#;
    let cases = [
        (
            "exits-3",
            "echo 'Traceback: boom' >&2; exit 3".to_string(),
            "exited with status 3",
        ),
        ("hangs", "sleep 3456.789".to_string(), "ran past its 1.00 s timeout"),
        (
            "holds-nothing",
            format!("echo '{nothing}'"),
            "could hold 0 of the 200 connections",
        ),
    ];
    for (name, twin, said) in cases {
        let fake = fakes.python(name, None, &twin);
        let fake_path = fake.to_str().unwrap();
        let report = lesson()
            .args(["--json", "--python", fake_path, "--python-timeout", "1000"])
            .json_report();
        let warnings = warnings_about(&report, fake_path);
        assert_eq!(warnings.len(), 1, "{name}: {:#}", report["warnings"]);
        assert!(warnings[0].contains(said), "{name}: {}", warnings[0]);
        assert_eq!(report["sections"].as_array().unwrap().len(), 4, "{name}: it went on");
        assert!(!row_names(&report).iter().any(|n| n.starts_with("CPython")), "{name}");
        assert_eq!(processes_mentioning("3456.789"), Vec::<String>::new(), "{name}");
        assert_eq!(processes_mentioning(fake_path), Vec::<String>::new(), "{name}");
        nothing_left(&report);
    }
}

#[test]
fn ctrl_c_while_cpython_waits_leaves_no_process_and_no_port() {
    // Section 1's Rust clients take well under a second at --quick; then CPython hangs.
    let outcome = testkit::python::an_interrupt_ends_a_hanging_python(lesson, Duration::from_secs(3));
    let ports = ports_named_in(&outcome.stdout);
    assert!(!ports.is_empty(), "{}", outcome.describe());
    for port in ports {
        assert_ne!(slowserver::system::is_listening(port), Some(true), "port {port}");
    }
}

#[test]
fn fewer_open_files_mean_fewer_connections_for_cpython_too() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    // The lesson fits its connections to the open-file limit; the twin, under the same limit,
    // holds as many, and its answers still equal Rust's.
    let binary = env!("CARGO_BIN_EXE_lesson08_async");
    let command = format!("ulimit -n 120 && exec {binary} --quick --json --connections 1000");
    let report = Run::new("/bin/sh").args(["-c", &command]).json_report();
    let connections = report["params"]["connections"].as_u64().unwrap();
    assert!(connections < 120, "{connections}");
    let comparison = &section(&report, TITLE)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true, "{comparison:#}");
    let names = row_names(&report);
    assert!(
        names.contains(&"CPython: asyncio".to_string()),
        "{names:?} {:#}",
        report["warnings"]
    );
    assert_eq!(figures(&report, TITLE)["cpython"]["asyncio"]["records"], connections);
}
