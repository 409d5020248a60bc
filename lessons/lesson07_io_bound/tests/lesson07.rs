//! lesson07_io_bound, run as a student would: answers and counts, never timings.
//!
//! - every way of fetching gets every record exactly once, and they agree;
//! - the failures are exactly the ones the server was told to make (errors and timeouts);
//! - the lesson calls fetching what it is: waiting;
//! - no server process, port or thread is left, after a run and after Ctrl-C.

use serde_json::Value;
use std::time::Duration;
use testkit::report::{figures, section};
use testkit::{Interrupt, Run, ports_named_in};

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson07_io_bound"))
}

/// Runs with `--quick --json` and the given flags; the report, after checking the run was clean.
fn report(args: &[&str]) -> Value {
    lesson().args(["--quick", "--json"]).args(args).json_report()
}

fn figure<'a>(report: &'a Value, title: &str, key: &str) -> &'a Value {
    let value = &figures(report, title)[key];
    assert!(!value.is_null(), "no figure {key} in section '{title}'");
    value
}

#[test]
fn every_way_fetches_every_record_exactly_once() {
    let report = report(&["--seed", "7", "--requests", "12"]);
    let title = "One request after another";
    assert_eq!(figure(&report, title, "requests"), 12);
    assert_eq!(figure(&report, title, "each_record_fetched_exactly_once"), true);
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true);
    let answer = comparison["answer"].as_str().unwrap();
    assert!(answer.starts_with("12 records, no failures (fingerprint "), "{answer}");
    // Sequential first, then the pools, the --workers size among them.
    let rows = comparison["rows"].as_array().unwrap();
    assert_eq!(rows[0]["name"], "sequential");
    assert!(rows.iter().any(|row| row["name"] == "pool of 8"), "{rows:?}");
    assert!(figure(&report, title, "headline")["speedup_over_sequential"].is_number());
}

#[test]
fn errors_and_timeouts_are_exactly_the_ones_the_server_planned() {
    // A timeout far above the server's delay: only the planned hangs can time out, however busy
    // the machine is.
    let report = report(&[
        "--seed",
        "11",
        "--requests",
        "40",
        "--error-rate",
        "0.2",
        "--timeout-rate",
        "0.1",
        "--delay",
        "5",
        "--timeout",
        "3000",
    ]);
    let title = "Failures";
    let number = |key: &str| figure(&report, title, key).as_u64().unwrap();
    assert_eq!(number("errors_seen"), number("errors_planned"));
    assert_eq!(number("timeouts_seen"), number("timeouts_planned"));
    assert_eq!(number("records_seen"), number("records_planned"));
    assert_eq!(number("other_failures"), 0);
    assert_eq!(
        number("records_seen") + number("errors_seen") + number("timeouts_seen"),
        40,
        "every request ends with a record or a reason"
    );
    assert!(number("errors_planned") > 0 && number("timeouts_planned") > 0);
    assert_eq!(figure(&report, title, "counts_match_plan"), true);
    // Each failure is reported with its own login.
    let failures = figure(&report, title, "failures").as_array().unwrap();
    assert_eq!(failures.len() as u64, number("errors_seen") + number("timeouts_seen"));
    assert!(
        failures
            .iter()
            .all(|f| f["login"].is_string() && f["message"].is_string())
    );
}

#[test]
fn a_server_told_to_fail_everything_fails_everything() {
    let report = report(&["--requests", "6", "--error-rate", "1", "--timeout-rate", "0"]);
    let title = "Failures";
    assert_eq!(figure(&report, title, "errors_seen"), 6);
    assert_eq!(figure(&report, title, "records_seen"), 0);
    assert_eq!(figure(&report, title, "timeouts_seen"), 0);
    // ... and a server told to fail nothing fails nothing.
    let calm = self::report(&["--requests", "6", "--error-rate", "0", "--timeout-rate", "0"]);
    assert_eq!(figure(&calm, title, "records_seen"), 6);
    assert_eq!(figure(&calm, title, "failures").as_array().map(Vec::len), Some(0));
}

#[test]
fn fetching_is_classified_as_waiting() {
    let report = report(&[]);
    let profiles = figure(&report, "Profiling", "profiles").as_array().unwrap();
    // Fetching only waits: the CPU time of a request is a sliver of its wall time, and a busy
    // machine only makes that sliver smaller. (The CPU-bound job is not checked here: on a
    // machine shared with other programs, computing threads wait for a core too.)
    // CPython's rows are left out: urllib spends about a millisecond of CPU on each request, so
    // at --quick's 10 ms delay its pool keeps a share of a core busy that depends on how busy
    // the machine is (tests/cpython.rs checks its answers instead).
    let rust: Vec<&Value> = profiles
        .iter()
        .filter(|p| !p["variant"].as_str().unwrap().starts_with("CPython"))
        .collect();
    assert!(!rust.is_empty());
    for profile in rust {
        assert!(profile["verdict"].as_str().unwrap().starts_with("waiting"), "{profile}");
    }
}

#[test]
fn nothing_is_left_after_a_run() {
    let report = report(&[]);
    let title = "Shutting the servers down";
    assert_eq!(figure(&report, title, "ports_left_listening"), 0);
    assert_eq!(figure(&report, title, "child_processes_left"), 0);
    assert_eq!(figure(&report, title, "threads_left"), 1);
    for port in figure(&report, title, "server_ports").as_array().unwrap() {
        let port = port.as_u64().unwrap() as u16;
        assert_ne!(
            slowserver::system::is_listening(port),
            Some(true),
            "port {port} still listens"
        );
    }
}

#[test]
fn ctrl_c_leaves_no_server_and_no_port() {
    for (millis, how) in [
        (150, Interrupt::Group),
        (400, Interrupt::Process),
        (900, Interrupt::Group),
    ] {
        // A slower server, so that the interrupt lands while requests are in flight.
        let outcome = lesson()
            .args(["--quick", "--delay", "40"])
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

#[test]
fn contradicting_flags_are_refused_before_anything_runs() {
    for args in [
        ["--jitter", "100", "--delay", "50"],
        ["--error-rate", "0.8", "--timeout-rate", "0.5"],
        ["--timeout", "10", "--delay", "50"],
    ] {
        let outcome = lesson().args(["--quick", "--json"]).args(args).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim().lines().count(), 1, "{}", outcome.describe());
        assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
    }
}

// ----- Other servers: --url, HTTPS, and failures that are not the local server's -----

/// A tiny outside server, Python's `http.server`: `/users/<login>` answers a GitHub-shaped
/// record, except `ratelimited` (403), `notjson` (200, not JSON), `missing` (404) and `slow`
/// (no answer for 5 s). It prints its port, then serves until killed.
const PYTHON_SERVER: &str = r#"
import http.server, json, sys, time
class Users(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        login = self.path.rsplit("/", 1)[-1]
        if login == "slow":
            time.sleep(5)
        if login == "ratelimited":
            status, body = 403, b'{"message": "API rate limit exceeded"}'
        elif login == "missing":
            status, body = 404, b'{"message": "Not Found"}'
        elif login == "notjson":
            status, body = 200, b"<html>hello</html>"
        else:
            record = {"login": login, "id": len(login), "name": None, "created_at": "2011-01-25T18:44:36Z",
                      "public_repos": 3, "followers": 1}
            status, body = 200, json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Users)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// The Python server, or `None` (with a message) when python3 is not here.
struct PythonServer {
    child: std::process::Child,
    port: u16,
}

impl PythonServer {
    fn start() -> Option<PythonServer> {
        use std::io::BufRead;
        let spawned = std::process::Command::new("python3")
            .args(["-c", PYTHON_SERVER])
            .stdout(std::process::Stdio::piped())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                eprintln!("skipped: python3 cannot run here ({error})");
                return None;
            }
        };
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the Python server prints its port");
        Some(PythonServer { child, port })
    }

    fn template(&self) -> String {
        format!("http://127.0.0.1:{}/users/{{login}}", self.port)
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_outside_server_via_url_and_its_failures_counted_one_by_one() {
    let Some(server) = PythonServer::start() else { return };
    let report = report(&[
        "--url",
        &server.template(),
        "--logins",
        "gvanrossum,ratelimited,notjson,missing,slow,wesm",
        "--timeout",
        "1500",
    ]);
    assert_eq!(report["params"]["url"], server.template());
    let title = "One request after another";
    let comparison = &section(&report, title)["comparisons"][0];
    assert_eq!(comparison["answers_agree"], true);
    assert!(
        comparison["answer"]
            .as_str()
            .unwrap()
            .starts_with("6 requests, each ended once")
    );
    let names: Vec<&str> = comparison["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    let (cpython, rust): (Vec<&str>, Vec<&str>) = names.iter().partition(|name| name.starts_with("CPython"));
    assert_eq!(
        rust,
        ["sequential", "pool of 8"],
        "an outside server is asked twice, not eight times"
    );
    // The twin asks an outside http:// server the same two ways (python3 runs the server here).
    assert_eq!(cpython, ["CPython: sequential", "CPython: ThreadPoolExecutor(8)"]);
    // Each failure is counted for its own login: twice each (sequential, then the pool).
    let failures = figure(&report, "Failures", "failures").as_array().unwrap();
    let of = |login: &str| failures.iter().filter(|f| f["login"] == login).count();
    assert_eq!(
        (of("ratelimited"), of("notjson"), of("missing"), of("slow")),
        (2, 2, 2, 2),
        "{failures:?}"
    );
    assert_eq!(of("gvanrossum") + of("wesm"), 0);
    let kinds = figure(&report, "Failures", "failure_kinds");
    assert_eq!(kinds["HTTP 403"], 2);
    assert_eq!(kinds["HTTP 404"], 2);
    assert_eq!(kinds["timeout"], 2);
    assert_eq!(kinds["not a user record"], 2);
    assert_eq!(figure(&report, "Shutting", "child_processes_left"), 0);
}

#[test]
fn a_refused_connection_is_a_failed_request_not_a_crash() {
    // A port nobody listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/users/{{login}}");
    let report = report(&["--url", &url, "--logins", "ada,bob"]);
    let kinds = figure(&report, "Failures", "failure_kinds");
    assert_eq!(kinds["could not connect"], 4, "{kinds}");
}

#[test]
fn https_with_a_private_certificate_authority_via_ca_cert() {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let config = slowserver::Config {
        delay: Duration::from_millis(5),
        ..slowserver::Config::default()
    };
    let server = slowserver::Server::start_tls(
        config.clone(),
        &generated.cert.pem(),
        &generated.signing_key.serialize_pem(),
    )
    .unwrap();
    let dir = std::env::temp_dir().join(format!("lesson07-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, generated.cert.pem()).unwrap();
    let url = format!("https://localhost:{}/users/{{login}}", server.addr().port());
    let trusted = report(&[
        "--url",
        &url,
        "--logins",
        "ada,bob,carol",
        "--ca-cert",
        ca.to_str().unwrap(),
    ]);
    assert_eq!(
        figure(&trusted, "Failures", "failures").as_array().map(Vec::len),
        Some(0)
    );
    // Without the certificate, every request fails its handshake: counted, not a crash.
    let untrusted = report(&["--url", &url, "--logins", "ada,bob,carol"]);
    assert_eq!(figure(&untrusted, "Failures", "failure_kinds")["could not connect"], 6);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(server.stop().records_sent, 6);
}

#[test]
fn a_template_without_login_or_with_another_scheme_exits_2() {
    for url in [
        "https://api.github.com/users/",
        "ftp://example.com/{login}",
        "api.github.com/users/{login}",
    ] {
        let outcome = lesson().args(["--quick", "--url", url]).go();
        outcome.assert_code(2);
        outcome.assert_clean();
        assert_eq!(outcome.stderr.trim().lines().count(), 1, "{}", outcome.describe());
    }
    for args in [&["--logins", "a/b"][..], &["--ca-cert", "/nonexistent.pem"]] {
        let outcome = lesson().args(["--quick"]).args(args).go();
        outcome.assert_code(2);
        assert_eq!(outcome.stderr.trim().lines().count(), 1, "{}", outcome.describe());
    }
}
