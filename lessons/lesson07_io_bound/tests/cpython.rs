//! The same fetches on CPython (`python/fetch.py`, sections 1 and 4): with the machine's
//! python3 its records and failures are Rust's; `--no-python` runs no interpreter; an
//! interpreter that prints garbage, fails, hangs or answers something else costs one line, the
//! lesson still ends with status 0, and nothing is left running: no process, no port.

use serde_json::Value;
use std::time::Duration;
use testkit::python::{Fakes, processes_mentioning, python3_here, warnings_about};
use testkit::report::{figures, section};
use testkit::{Run, ports_named_in};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson07_io_bound")).args(["--quick"])
}

fn row_names(report: &Value, title: &str) -> Vec<String> {
    section(report, title)["comparisons"][0]["rows"]
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
fn cpython_fetches_the_records_and_sees_the_failures_rust_does() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    // A timeout far above the server's delay: only the planned hangs time out, in either language.
    let report = lesson()
        .args(["--json", "--seed", "11", "--requests", "24", "--delay", "5"])
        .args(["--error-rate", "0.2", "--timeout-rate", "0.1", "--timeout", "1000"])
        .json_report();
    assert_eq!(report["params"]["python"]["implementation"], "CPython");
    let title = "One request after another";
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true, "{comparison:#}");
    assert!(
        comparison["answer"]
            .as_str()
            .unwrap()
            .starts_with("24 records, no failures")
    );
    let names = row_names(&report, title);
    assert!(names.contains(&"CPython: sequential".to_string()), "{names:?}");
    assert!(
        names.contains(&"CPython: ThreadPoolExecutor(8)".to_string()),
        "{names:?}"
    );
    let ratios = &figures(&report, title)["cpython_over_rust"];
    assert_eq!(ratios.as_object().map(|r| r.len()), Some(2), "{ratios:#}");
    // Section 4: CPython's pool saw exactly what Rust's did against the flaky server.
    let failures = figures(&report, "Failures");
    let seen = &failures["cpython"]["seen"];
    assert_eq!(seen["records"], failures["records_seen"], "{failures:#}");
    assert_eq!(seen["server_errors"], failures["errors_seen"]);
    assert_eq!(seen["timeouts"], failures["timeouts_seen"]);
    assert_eq!(seen["other_failures"], 0);
    assert!(failures["errors_seen"].as_u64().unwrap() > 0 && failures["timeouts_seen"].as_u64().unwrap() > 0);
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
    let report = testkit::python::garbage_is_one_warning(lesson, 5);
    assert!(
        !row_names(&report, "One request after another")
            .iter()
            .any(|name| name.starts_with("CPython"))
    );
    assert!(figures(&report, "Failures")["cpython"].is_null());
    nothing_left(&report);
}

#[test]
fn a_broken_interpreter_is_one_line_whatever_breaks() {
    let fakes = Fakes::new();
    // Valid JSON with no records at all: the server was asked nothing.
    let nothing = r#"{"twin": "lesson07_io_bound", "python": {}, "params": {}, "answers": {}, "variants": [{"workload": "fetch", "name": "sequential", "workers": 1, "kind": "sequential", "answers": [{"requests": 16, "records": [], "failures": {"HTTP 503": 16}}], "samples": [{"wall_s": 1.0, "cpu_s": 1.0}]}]}"#;
    let cases = [
        (
            "exits-3",
            "echo 'Traceback: boom' >&2; exit 3".to_string(),
            "exited with status 3",
        ),
        ("hangs", "sleep 3456.789".to_string(), "ran past its 1.00 s timeout"),
        ("asks-nothing", format!("echo '{nothing}'"), "asked the server 0 times"),
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
        assert_eq!(report["sections"].as_array().unwrap().len(), 5, "{name}: it went on");
        assert!(figures(&report, "Failures")["cpython"].is_null(), "{name}");
        assert_eq!(processes_mentioning("3456.789"), Vec::<String>::new(), "{name}");
        assert_eq!(processes_mentioning(fake_path), Vec::<String>::new(), "{name}");
        nothing_left(&report);
    }
}

#[test]
fn ctrl_c_while_cpython_waits_leaves_no_process_and_no_port() {
    // Section 1's Rust fetches take well under a second at --quick; then CPython hangs.
    let outcome = testkit::python::an_interrupt_ends_a_hanging_python(lesson, Duration::from_secs(3));
    let ports = ports_named_in(&outcome.stdout);
    assert!(!ports.is_empty(), "{}", outcome.describe());
    for port in ports {
        assert_ne!(slowserver::system::is_listening(port), Some(true), "port {port}");
    }
}

#[test]
fn the_twin_runs_against_an_outside_http_server_and_not_an_https_one() {
    if !python3_here() {
        eprintln!("no python3 on the PATH: nothing to check");
        return;
    }
    // A port nobody listens on: every request is refused, in both languages, and counted.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/users/{{login}}");
    let report = lesson()
        .args(["--json", "--url", &url, "--logins", "ada,bob"])
        .json_report();
    let names = row_names(&report, "One request after another");
    assert!(names.contains(&"CPython: sequential".to_string()), "{names:?}");
    let https = lesson()
        .args(["--url", &url.replace("http:", "https:"), "--logins", "ada"])
        .go();
    https.assert_code(0);
    assert!(
        testkit::python::one_line(&https.stdout).contains("the twin runs against http:// servers only"),
        "{}",
        https.describe()
    );
}
