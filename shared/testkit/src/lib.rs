//! Runs a lesson binary the way a user would and reports everything a test may want to check:
//! exit status, stdout, stderr, whether it had to be killed for running too long, and what it
//! left behind (processes still in its process group, files in its private temporary folder).
//!
//! ```ignore
//! let outcome = testkit::Run::new(env!("CARGO_BIN_EXE_lesson00_machine")).args(["--quick"]).go();
//! outcome.assert_code(0);
//! outcome.assert_clean();
//! ```
//!
//! Each run gets its own process group, so that every process the lesson starts can be found
//! (and, at the end of the test, killed) by that group, and its own `TMPDIR`, so that a
//! temporary file it forgets is noticed.

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a run is interrupted, as Ctrl-C would.
#[derive(Clone, Copy, Debug)]
pub enum Interrupt {
    /// SIGINT to the lesson's process only (`kill -INT <pid>`).
    Process,
    /// SIGINT to its whole process group, as a terminal's Ctrl-C does.
    Group,
}

/// A run of a lesson binary, configured then started with [`Run::go`].
#[derive(Debug)]
pub struct Run {
    binary: PathBuf,
    args: Vec<String>,
    timeout: Duration,
    interrupt: Option<(Duration, Interrupt)>,
    interrupt_on: Option<(String, Interrupt)>,
    envs: Vec<(String, String)>,
    current_dir: Option<PathBuf>,
}

/// What happened.
#[derive(Debug)]
pub struct Outcome {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// True when the run passed its timeout and was killed.
    pub timed_out: bool,
    /// Processes still in the lesson's process group after it exited (`pid state name`).
    pub leftovers: Vec<String>,
    /// Files the lesson left in its private temporary folder.
    pub temp_files: Vec<String>,
}

impl Run {
    pub fn new(binary: impl AsRef<Path>) -> Self {
        Run {
            binary: binary.as_ref().to_path_buf(),
            args: Vec::new(),
            timeout: Duration::from_secs(180),
            interrupt: None,
            interrupt_on: None,
            envs: Vec::new(),
            current_dir: None,
        }
    }

    pub fn args<S: AsRef<str>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Kill the run (and fail [`Outcome::assert_code`]) if it takes longer than this.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Send SIGINT after `delay`, to the process or to its whole group.
    pub fn interrupt_after(mut self, delay: Duration, how: Interrupt) -> Self {
        self.interrupt = Some((delay, how));
        self
    }

    /// Send SIGINT the moment a line of stdout contains `marker`: the interrupt follows the
    /// output, not the clock, so a busy machine makes a run slower but never a test wrong.
    pub fn interrupt_on_output(mut self, marker: &str, how: Interrupt) -> Self {
        self.interrupt_on = Some((marker.to_string(), how));
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.envs.push((key.to_string(), value.to_string()));
        self
    }

    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.current_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    pub fn go(self) -> Outcome {
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let command_line = format!("{} {}", self.binary.display(), self.args.join(" "));
        let temp_dir = std::env::temp_dir().join(format!(
            "parallel-lessons-test-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&temp_dir).expect("create a private TMPDIR for the run");

        let mut command = Command::new(&self.binary);
        command
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("TMPDIR", &temp_dir)
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE")
            .process_group(0);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        let started = Instant::now();
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {command_line}: {e}"));
        let pid = Pid::from_raw(child.id() as i32);
        // Lines arrive as the lesson prints them (Rust's stdout is line-buffered, even into a
        // pipe), so that an interrupt can follow the output.
        let (line_sender, lines) = mpsc::channel::<String>();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let stdout_reader = std::thread::spawn(move || {
            let mut line = Vec::new();
            while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
                let _ = line_sender.send(String::from_utf8_lossy(&line).into_owned());
                line.clear();
            }
        });
        let stderr_reader = read_all(child.stderr.take().expect("stderr is piped"));

        let interrupt = |how: Interrupt| {
            let _ = match how {
                Interrupt::Process => kill(pid, Signal::SIGINT),
                Interrupt::Group => killpg(pid, Signal::SIGINT),
            };
        };
        let mut at_time = self.interrupt;
        let mut on_output = self.interrupt_on;
        let mut printed = String::new();
        let mut timed_out = false;
        let status = loop {
            if let Ok(line) = lines.recv_timeout(Duration::from_millis(5)) {
                if let Some((marker, how)) = &on_output
                    && line.contains(marker.as_str())
                {
                    interrupt(*how);
                    on_output = None;
                }
                printed.push_str(&line);
            }
            if let Some(status) = child.try_wait().expect("wait for the lesson") {
                break status;
            }
            if let Some((delay, how)) = at_time
                && started.elapsed() >= delay
            {
                interrupt(how);
                at_time = None;
            }
            if started.elapsed() >= self.timeout {
                timed_out = true;
                let _ = killpg(pid, Signal::SIGKILL);
                break child.wait().expect("wait for the killed lesson");
            }
        };
        let elapsed = started.elapsed();

        // Children the lesson forgot may take a moment to die: give them a grace period, then
        // record who is still there and kill them, so that one failing test leaks nothing.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut leftovers = processes_in_group(pid);
        while !leftovers.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
            leftovers = processes_in_group(pid);
        }
        let _ = killpg(pid, Signal::SIGKILL);

        let _ = stdout_reader.join();
        printed.extend(lines.try_iter());
        let stdout = printed;
        let stderr = stderr_reader.join().unwrap_or_default();
        let temp_files = files_under(&temp_dir);
        let _ = std::fs::remove_dir_all(&temp_dir);
        Outcome {
            command: command_line,
            status,
            stdout,
            stderr,
            elapsed,
            timed_out,
            leftovers,
            temp_files,
        }
    }
}

fn read_all(mut source: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = source.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Processes whose process group is `group`, as `pid state name` (Linux; empty elsewhere).
pub fn processes_in_group(group: Pid) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may contain spaces: parse after the last ')'.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the name: state, ppid, pgrp.
        if fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(group.as_raw()) {
            found.push(format!("{pid} {} {}", fields[0], &stat[open + 1..close]));
        }
    }
    found
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            files.push(entry.path().display().to_string());
        }
    }
    files
}

impl Outcome {
    /// The exit code, or `None` when a signal ended the process.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The signal that ended the process, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// Everything about the run, for a failure message.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\nstatus: {:?} after {:.2?}{}\nleftover processes: {:?}\nleftover temp files: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n---",
            self.command,
            self.status,
            self.elapsed,
            if self.timed_out { " (TIMED OUT, killed)" } else { "" },
            self.leftovers,
            self.temp_files,
            self.stdout,
            self.stderr
        )
    }

    /// Fails unless the run exited by itself with `code`.
    #[track_caller]
    pub fn assert_code(&self, code: i32) {
        assert!(
            !self.timed_out && self.code() == Some(code),
            "expected exit status {code}\n{}",
            self.describe()
        );
    }

    /// Fails if the run panicked, left a process in its group, or left a temporary file.
    #[track_caller]
    pub fn assert_clean(&self) {
        let panicked = self.stderr.contains("panicked") || self.stdout.contains("panicked");
        assert!(!panicked, "the lesson panicked\n{}", self.describe());
        assert!(
            self.leftovers.is_empty(),
            "the lesson left processes behind\n{}",
            self.describe()
        );
        assert!(
            self.temp_files.is_empty(),
            "the lesson left temporary files behind\n{}",
            self.describe()
        );
    }

    /// Stdout parsed as exactly one JSON document (fails with the whole output otherwise).
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document: {e}\n{}", self.describe()))
    }
}

impl Run {
    /// Runs, expects exit status 0 and nothing left behind, and returns the `--json` report
    /// (pass `--json` among the arguments).
    #[track_caller]
    pub fn json_report(self) -> serde_json::Value {
        let outcome = self.go();
        outcome.assert_code(0);
        outcome.assert_clean();
        outcome.json()
    }
}

pub mod python;

/// Reading a lesson's `--json` report (see ARCHITECTURE.md) in a test; each panics with the
/// report when what it looks for is missing.
pub mod report {
    use serde_json::Value;

    /// The section whose title starts with `title_start`.
    #[track_caller]
    pub fn section<'a>(report: &'a Value, title_start: &str) -> &'a Value {
        report["sections"]
            .as_array()
            .and_then(|sections| {
                sections
                    .iter()
                    .find(|s| s["title"].as_str().is_some_and(|t| t.starts_with(title_start)))
            })
            .unwrap_or_else(|| panic!("no section '{title_start}…' in {report:#}"))
    }

    /// The `figures` of the section whose title starts with `title_start`.
    #[track_caller]
    pub fn figures<'a>(report: &'a Value, title_start: &str) -> &'a Value {
        &section(report, title_start)["figures"]
    }

    /// The figure `key`, from whichever section recorded it.
    #[track_caller]
    pub fn figure<'a>(report: &'a Value, key: &str) -> &'a Value {
        report["sections"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|section| section["figures"].get(key))
            .unwrap_or_else(|| panic!("no figure '{key}' in {report:#}"))
    }
}

/// TCP ports listening on this machine right now (Linux: `/proc/net/tcp` and `tcp6`, state
/// 0A; empty elsewhere): to check that a lesson's servers are gone.
pub fn listening_ports() -> Vec<u16> {
    let mut ports = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.get(3) == Some(&"0A")
                && let Some(port) = fields.get(1).and_then(|local| local.rsplit(':').next())
                && let Ok(port) = u16::from_str_radix(port, 16)
            {
                ports.push(port);
            }
        }
    }
    ports
}

/// The ports in the `127.0.0.1:PORT` addresses a lesson printed.
pub fn ports_named_in(text: &str) -> Vec<u16> {
    text.split("127.0.0.1:")
        .skip(1)
        .filter_map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_searched_by_section_and_figure() {
        let report = serde_json::json!({ "sections": [
            { "title": "One thing", "figures": { "a": 1 } },
            { "title": "Two things", "figures": { "b": 2 } },
        ]});
        assert_eq!(report::figures(&report, "Two")["b"], 2);
        assert_eq!(report::figure(&report, "a"), 1);
        assert_eq!(report::section(&report, "One")["title"], "One thing");
    }

    #[test]
    fn ports_are_read_from_printed_addresses() {
        assert_eq!(
            ports_named_in("listening on 127.0.0.1:4321, and 127.0.0.1:80."),
            vec![4321, 80]
        );
        assert!(ports_named_in("no address").is_empty());
    }
}

/// A meeting point for checking that threads really run at the same time: `expected` parties
/// each arrive once and wait until all have arrived, or until the deadline passes, which is
/// what happens when they never run at the same time. A deadline turns a wrong answer into a
/// failed check instead of a hang; it never measures speed.
#[derive(Debug)]
pub struct Meeting {
    expected: usize,
    arrived: std::sync::atomic::AtomicUsize,
    deadline: Instant,
    missed: std::sync::atomic::AtomicBool,
}

impl Meeting {
    pub fn new(expected: usize, deadline: Instant) -> Self {
        Meeting {
            expected,
            arrived: std::sync::atomic::AtomicUsize::new(0),
            deadline,
            missed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    // SeqCst throughout: the meeting is about who has arrived before whom, the one question
    // where every thread must agree on a single order.
    pub fn arrive_and_wait(&self) {
        self.arrived.fetch_add(1, Ordering::SeqCst);
        while self.arrived.load(Ordering::SeqCst) < self.expected {
            if Instant::now() >= self.deadline {
                self.missed.store(true, Ordering::SeqCst);
                return;
            }
            std::thread::yield_now();
        }
    }

    /// True when all parties were waiting here at the same moment.
    pub fn everyone_met(&self) -> bool {
        !self.missed.load(Ordering::SeqCst) && self.arrived.load(Ordering::SeqCst) >= self.expected
    }

    /// How many parties arrived.
    pub fn arrived(&self) -> usize {
        self.arrived.load(Ordering::SeqCst)
    }
}

/// Interrupts a run (from `run`) the moment it prints `opened`: it must die of SIGINT,
/// leaving nothing, before it printed `closed`. A machine so busy that the interrupt lands
/// late gets two more tries; every run must be clean.
#[track_caller]
pub fn interrupt_between(run: impl Fn() -> Run, opened: &str, closed: &str, how: Interrupt) {
    for _ in 0..3 {
        let outcome = run().interrupt_on_output(opened, how).go();
        outcome.assert_clean();
        assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
        assert_eq!(
            outcome.signal(),
            Some(2),
            "expected the lesson to die of SIGINT at '{opened}' ({how:?})\n{}",
            outcome.describe()
        );
        if !outcome.stdout.contains(closed) {
            return;
        }
    }
    panic!("three runs in a row were interrupted after '{closed}', not before ({how:?})");
}
