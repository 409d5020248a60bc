//! lesson08_async, run as a student would: answers, counts and what the OS says, never timings.
//!
//! - every way (threads, event loop, poll loop, the pitfall's three) gets every record once;
//! - the event loop and the poll loop run on one thread, the other way on many;
//! - when the machine's limits cannot hold the connections asked for, the lesson says how many
//!   fit and uses those instead of failing;
//! - no server process, port or thread is left, after a run and after Ctrl-C.

use serde_json::Value;
use std::time::Duration;
use testkit::report::{figures, section};
use testkit::{Interrupt, Run, ports_named_in};

const BINARY: &str = env!("CARGO_BIN_EXE_lesson08_async");

fn report(args: &[&str]) -> Value {
    Run::new(BINARY).args(["--quick", "--json"]).args(args).json_report()
}

fn figure<'a>(report: &'a Value, title: &str, key: &str) -> &'a Value {
    let value = &figures(report, title)[key];
    assert!(!value.is_null(), "no figure {key} in section '{title}'");
    value
}

#[test]
fn every_way_gets_every_record_once_and_the_loops_use_one_thread() {
    let report = report(&["--seed", "7", "--connections", "150"]);
    assert_eq!(report["params"]["connections"], 150);

    let title = "Many clients waiting at once";
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true);
    let answer = comparison["answer"].as_str().unwrap();
    assert!(answer.starts_with("150 of 150 records (fingerprint "), "{answer}");
    let one_thread = figure(&report, title, "one_thread");
    let threads = figure(&report, title, "thread_per_connection");
    assert_eq!(one_thread["records"], 150);
    assert_eq!(threads["records"], 150);
    // The event loop is one thread, whatever the timing; the other way starts one per client.
    assert_eq!(one_thread["peak_threads"], 1);
    assert!(threads["peak_threads"].as_u64().unwrap() > 1, "{threads}");
    for variant in [one_thread, threads] {
        let held = variant["connections_held"].as_u64().unwrap();
        assert!((1..=150).contains(&held), "{variant}");
        assert!(variant["server_peak_connections"].as_u64().unwrap() <= 150, "{variant}");
    }
    assert!(figure(&report, title, "memory_ratio_one_thread_to_threads").is_number());
    if cfg!(target_os = "linux") {
        // The "reserved" column: address space, at least what is resident, and more for the
        // way with a stack per thread.
        let reserved = |variant: &Value| variant["peak_virtual_bytes"].as_u64().unwrap();
        for variant in [one_thread, threads] {
            assert!(
                reserved(variant) >= variant["peak_rss_bytes"].as_u64().unwrap(),
                "{variant}"
            );
        }
        assert!(reserved(threads) > reserved(one_thread));
        assert!(figure(&report, title, "reserved_per_thread_bytes").as_u64().unwrap() > 0);
    }

    let title = "Under the hood";
    let poll_loop = figure(&report, title, "poll_loop");
    assert_eq!(poll_loop["records"], 150);
    assert_eq!(poll_loop["peak_threads"], 1);
    assert!(figure(&report, title, "poll_calls").as_u64().unwrap() > 0);
    let trace: Vec<&str> = figure(&report, title, "demo_trace")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(trace.iter().any(|line| line.starts_with("poll →")), "{trace:?}");
    assert_eq!(
        trace.iter().filter(|line| line.contains("reply complete")).count(),
        5,
        "{trace:?}"
    );
}

#[test]
fn the_pitfall_changes_who_waits_not_the_answers() {
    let report = report(&["--seed", "3"]);
    let title = "The pitfall";
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true);
    let connections = figure(&report, title, "pitfall_connections").as_u64().unwrap();
    let answer = comparison["answer"].as_str().unwrap();
    assert!(
        answer.starts_with(&format!("{connections} of {connections} records (fingerprint ")),
        "{answer}"
    );
    // The heavy work ran in both: its answer is there.
    assert!(
        answer.contains("the heavy call computed ") && !answer.ends_with("nothing"),
        "{answer}"
    );
    let response = figure(&report, title, "response_times_of_the_others");
    for variant in ["no heavy work", "heavy work on the loop", "heavy work off the loop"] {
        assert_eq!(response[variant]["count"], connections - 1, "{response}");
    }
}

#[test]
fn too_few_file_descriptors_mean_fewer_connections_not_a_failure() {
    // Run under a hard open-file limit of 200: 1000 connections cannot fit in one process.
    let command = format!("ulimit -n 200 && exec {BINARY} --quick --json --connections 1000");
    let report = Run::new("/bin/sh").args(["-c", &command]).json_report();
    let connections = report["params"]["connections"].as_u64().unwrap();
    assert!(connections < 200, "{connections}");
    assert_eq!(report["params"]["connections_requested"], 1000);
    let warnings = report["warnings"].as_array().unwrap();
    assert!(
        warnings.iter().any(|w| w
            .as_str()
            .is_some_and(|w| w.contains("do not fit") && w.contains("open-file limit"))),
        "{warnings:?}"
    );
    let one_thread = figure(&report, "Many clients waiting at once", "one_thread");
    assert_eq!(one_thread["records"], connections);
}

#[test]
fn nothing_is_left_after_a_run() {
    let report = report(&[]);
    let title = "Shutting the servers down";
    assert_eq!(figure(&report, title, "ports_left_listening"), 0);
    assert_eq!(figure(&report, title, "child_processes_left"), 0);
    assert_eq!(figure(&report, title, "threads_left"), 1);
    let ports = figure(&report, title, "server_ports").as_array().unwrap();
    assert_eq!(ports.len(), 2);
    for port in ports {
        let port = port.as_u64().unwrap() as u16;
        assert_ne!(
            slowserver::system::is_listening(port),
            Some(true),
            "port {port} still listens"
        );
    }
}

#[test]
fn ctrl_c_leaves_no_server_no_client_and_no_port() {
    for (millis, how) in [
        (100, Interrupt::Group),
        (350, Interrupt::Process),
        (700, Interrupt::Group),
        (1200, Interrupt::Process),
    ] {
        let outcome = Run::new(BINARY)
            .args(["--quick"])
            .interrupt_after(Duration::from_millis(millis), how)
            .timeout(Duration::from_secs(60))
            .go();
        outcome.assert_clean();
        assert!(!outcome.timed_out, "{}", outcome.describe());
        for port in ports_named_in(&outcome.stdout) {
            assert_ne!(
                slowserver::system::is_listening(port),
                Some(true),
                "port {port} still listens after Ctrl-C\n{}",
                outcome.describe()
            );
        }
    }
}

// ----- Other servers: --url, HTTPS, bad templates -----

/// Python's `http.server` answering `/users/<login>` with a GitHub-shaped record, except
/// `ratelimited` (403). It prints its port, then serves until killed.
const PYTHON_SERVER: &str = r#"
import http.server, json
class Users(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        login = self.path.rsplit("/", 1)[-1]
        if login == "ratelimited":
            status, body = 403, b'{"message": "API rate limit exceeded"}'
        else:
            record = {"login": login, "id": 7, "name": None, "created_at": "2011-01-25T18:44:36Z", "public_repos": 3}
            status, body = 200, json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Users)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

#[test]
fn both_ways_run_against_an_outside_server_via_url() {
    use std::io::BufRead;
    let spawned = std::process::Command::new("python3")
        .args(["-c", PYTHON_SERVER])
        .stdout(std::process::Stdio::piped())
        .spawn();
    let mut python = match spawned {
        Ok(child) => child,
        Err(error) => {
            eprintln!("skipped: python3 cannot run here ({error})");
            return;
        }
    };
    let mut line = String::new();
    std::io::BufReader::new(python.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!("http://127.0.0.1:{}/users/{{login}}", line.trim());
    let report = report(&["--url", &url, "--logins", "gvanrossum,wesm,ratelimited,torvalds"]);
    let _ = python.kill();
    let _ = python.wait();
    let title = "Many clients waiting at once";
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answer"], "4 requests, each ended once");
    for way in ["one_thread", "thread_per_connection"] {
        assert_eq!(
            figure(&report, title, way)["records"],
            3,
            "the 403 is one failed request"
        );
    }
    assert_eq!(figure(&report, title, "one_thread")["peak_threads"], 1);
    // The twin asks an outside http:// server too (python3 runs the server here), one row a way.
    let names: Vec<&str> = comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|row| row["name"].as_str())
        .collect();
    assert!(names.contains(&"CPython: asyncio"), "{names:?}");
    assert_eq!(figure(&report, "Shutting", "child_processes_left"), 0);
}

#[test]
fn https_with_a_certificate_made_in_the_test_via_ca_cert() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let server = slowserver::Server::start_tls(
        slowserver::Config {
            delay: Duration::from_millis(20),
            ..slowserver::Config::default()
        },
        &generated.cert.pem(),
        &generated.signing_key.serialize_pem(),
    )
    .unwrap();
    let ca = std::env::temp_dir().join(format!("lesson08-ca-{}.pem", std::process::id()));
    std::fs::write(&ca, generated.cert.pem()).unwrap();
    let url = format!("https://localhost:{}/users/{{login}}", server.addr().port());
    let report = report(&["--url", &url, "--connections", "20", "--ca-cert", ca.to_str().unwrap()]);
    std::fs::remove_file(&ca).unwrap();
    let title = "Many clients waiting at once";
    for way in ["one_thread", "thread_per_connection"] {
        assert_eq!(figure(&report, title, way)["records"], 20, "{way}");
    }
    assert_eq!(server.stop().records_sent, 40);
}

#[test]
fn a_template_without_login_or_with_another_scheme_exits_2() {
    for url in [
        "https://api.github.com/users/",
        "ftp://example.com/{login}",
        "example.com/{login}",
    ] {
        let outcome = Run::new(BINARY).args(["--quick", "--url", url]).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim().lines().count(), 1, "{}", outcome.describe());
    }
}
