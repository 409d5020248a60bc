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
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
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
        let stdout_reader = read_all(child.stdout.take().expect("stdout is piped"));
        let stderr_reader = read_all(child.stderr.take().expect("stderr is piped"));

        let mut interrupt = self.interrupt;
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the lesson") {
                break status;
            }
            if let Some((delay, how)) = interrupt
                && started.elapsed() >= delay
            {
                let _ = match how {
                    Interrupt::Process => kill(pid, Signal::SIGINT),
                    Interrupt::Group => killpg(pid, Signal::SIGINT),
                };
                interrupt = None;
            }
            if started.elapsed() >= self.timeout {
                timed_out = true;
                let _ = killpg(pid, Signal::SIGKILL);
                break child.wait().expect("wait for the killed lesson");
            }
            std::thread::sleep(Duration::from_millis(5));
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

        let stdout = stdout_reader.join().unwrap_or_default();
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
