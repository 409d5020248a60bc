//! The server as a program of its own (`cargo run -p slowserver`): it prints its URL first,
//! answers `curl` and Python's `urllib` with a record, and leaves no port and no process when
//! Ctrl-C stops it. A tool that is not on this machine is skipped with a message.

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_slowserver");

/// Starts the server with `args`; returns it and the URL it printed on its first line.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BINARY)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.trim().to_string();
    assert!(url.starts_with("http://127.0.0.1:"), "first line: {first:?}");
    (child, url)
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':').next().unwrap().parse().unwrap()
}

/// Ctrl-C; the exit status, within a minute.
fn interrupt(mut child: Child) -> std::process::ExitStatus {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server did not stop within a minute of Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs a tool; `None` when it is not installed.
fn tool(program: &str, args: &[&str]) -> Option<std::process::Output> {
    match Command::new(program).args(args).output() {
        Ok(output) => Some(output),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: {program} is not installed here");
            None
        }
        Err(error) => panic!("{program}: {error}"),
    }
}

#[test]
fn curl_and_urllib_read_a_record_and_ctrl_c_leaves_nothing() {
    let (child, url) = start(&["--delay-ms", "5", "--seed", "7"]);
    let port = port_of(&url);
    let expected = slowserver::Config {
        seed: 7,
        ..slowserver::Config::default()
    }
    .record("gvanrossum");
    if let Some(output) = tool("curl", &["-sS", "--max-time", "30", &format!("{url}/users/gvanrossum")]) {
        assert!(output.status.success(), "{output:?}");
        let record: slowserver::UserRecord = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(record, expected);
        let missing = tool(
            "curl",
            &["-s", "-o", "/dev/null", "-w", "%{http_code}", &format!("{url}/nowhere")],
        )
        .unwrap();
        assert_eq!(String::from_utf8_lossy(&missing.stdout), "404");
    }
    let python = "import json, sys, urllib.request\n\
                  with urllib.request.urlopen(sys.argv[1], timeout=30) as reply:\n    \
                  record = json.load(reply)\n\
                  print(record['login'], record['public_repos'])";
    if let Some(output) = tool("python3", &["-c", python, &format!("{url}/users/gvanrossum")]) {
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout).trim(),
            format!("gvanrossum {}", expected.public_repos)
        );
    }
    let stats = slowserver::client::stats(format!("127.0.0.1:{port}").parse().unwrap()).unwrap();
    assert!(stats.user_requests <= 2 && stats.distinct_logins <= 1, "{stats:?}");

    let status = interrupt(child);
    assert_eq!(status.code(), Some(0), "{status:?}");
    if let Some(listening) = slowserver::system::is_listening(port) {
        assert!(!listening, "port {port} still listens after Ctrl-C");
    }
}

#[test]
fn ctrl_c_while_requests_wait_still_stops_at_once() {
    let (child, url) = start(&["--timeout-rate", "1"]);
    let addr = format!("127.0.0.1:{}", port_of(&url)).parse().unwrap();
    let waiting: Vec<_> = (0..5)
        .map(|i| std::thread::spawn(move || slowserver::fetch_user(addr, &format!("u{i}"), Duration::from_secs(120))))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while slowserver::client::stats(addr).map_or(0, |s| s.user_requests) < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(interrupt(child).code(), Some(0));
    for client in waiting {
        assert!(
            client.join().unwrap().is_err(),
            "a hung request ends when the server stops"
        );
    }
}

#[test]
fn bad_flags_exit_2() {
    for args in [
        &["--error-rate", "2"][..],
        &["--delay-ms", "10", "--jitter-ms", "20"],
        &["--nonsense"],
    ] {
        let output = Command::new(BINARY).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty());
    }
}
