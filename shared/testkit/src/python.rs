//! Tests of a lesson's CPython twin (`course::python`): fake interpreters in a folder the test
//! makes and removes, and the checks every such lesson shares: `--no-python` runs no
//! interpreter, and an interpreter that prints garbage costs one warning line, the lesson goes
//! on to its end with status 0, and nothing it started is left running.
//!
//! ```ignore
//! use testkit::python::{Fakes, python3_here};
//! let lesson = || testkit::Run::new(env!("CARGO_BIN_EXE_lesson06_pool_map")).args(["--quick"]);
//! testkit::python::no_python_runs_no_interpreter(lesson, "CPython: ");
//! testkit::python::garbage_is_one_warning(lesson, 5);
//! testkit::python::an_interrupt_ends_a_hanging_python(lesson, std::time::Duration::from_secs(3));
//! ```

use crate::{Interrupt, Outcome, Run};
use serde_json::Value;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// What a fake interpreter answers when asked what it is: CPython 3.12 with a GIL.
pub const FAKE_VERSION: &str = r#"{"implementation": "CPython", "version": "3.12.0", "executable": "fake", "gil_enabled": null, "free_threaded_build": false, "switch_interval_s": 0.005}"#;

/// A folder of fake interpreters, removed when dropped.
pub struct Fakes(PathBuf);

impl Fakes {
    pub fn new() -> Fakes {
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "parallel-lessons-fake-python-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir).expect("create a folder for fake interpreters");
        Fakes(dir)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.0
    }

    /// A shell script called `name` that answers the version question as CPython 3.12 would
    /// (or runs `probe` instead), then runs `twin` where the twin would run.
    pub fn python(&self, name: &str, probe: Option<&str>, twin: &str) -> PathBuf {
        let probe = probe.map_or(format!("echo '{FAKE_VERSION}'"), str::to_string);
        let path = self.0.join(name);
        let script = format!("#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then\n{probe}\nexit 0\nfi\n{twin}\n");
        std::fs::write(&path, script).expect("write a fake interpreter");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("make it executable");
        path
    }

    /// The PATH with this folder first, so that a fake called `python3` is the one found.
    pub fn path_first(&self) -> String {
        format!("{}:{}", self.0.display(), std::env::var("PATH").unwrap_or_default())
    }
}

impl Default for Fakes {
    fn default() -> Self {
        Fakes::new()
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Whether python3 is on this machine's PATH.
pub fn python3_here() -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("python3").is_file()))
}

/// Processes whose command line contains `text` (Linux's /proc), after a grace period of two
/// seconds for those being killed.
pub fn processes_mentioning(text: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
                let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                if cmdline.contains(text) {
                    found.push(format!("{} {cmdline}", entry.file_name().to_string_lossy()));
                }
            }
        }
        if found.is_empty() || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Text with every run of white space made one space: lines wrapped for the screen, unwrapped.
pub fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The warnings of a `--json` report that mention `text`.
pub fn warnings_about(report: &Value, text: &str) -> Vec<String> {
    report["warnings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|w| w.contains(text))
        .map(str::to_string)
        .collect()
}

/// `--no-python` asks no interpreter anything (a fake `python3` first on the PATH would leave a
/// mark), says so under the header and prints nothing of the twin's (`twins_mark`, text that
/// only its rows print, such as "CPython: "); the same run without the flag does ask it, so the
/// check could have failed; and `--no-python` with `--python` is refused with status 2.
#[track_caller]
pub fn no_python_runs_no_interpreter(lesson: impl Fn() -> Run, twins_mark: &str) {
    let fakes = Fakes::new();
    let marker = fakes.dir().join("was-run");
    fakes.python("python3", Some(&format!("touch {}", marker.display())), "exit 0");
    let path = fakes.path_first();
    let outcome = lesson().args(["--no-python"]).env("PATH", &path).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    assert!(
        outcome.stdout.contains("python   not run (--no-python)"),
        "{}",
        outcome.describe()
    );
    assert!(!outcome.stdout.contains(twins_mark), "{}", outcome.describe());
    assert!(!marker.exists(), "--no-python ran the interpreter");
    let outcome = lesson().env("PATH", &path).go();
    outcome.assert_code(0);
    assert!(
        marker.exists(),
        "python3 on the PATH was not asked\n{}",
        outcome.describe()
    );
    let outcome = lesson().args(["--no-python", "--python", "/usr/bin/python3"]).go();
    outcome.assert_code(2);
}

/// An interpreter that answers the version question, then prints garbage where the twin's JSON
/// belongs: exactly one warning names it and what it printed, the lesson runs all `sections`
/// and ends with status 0, and neither the fake nor anything it started is left running. The
/// lesson is run with `--json` added.
#[track_caller]
pub fn garbage_is_one_warning(lesson: impl Fn() -> Run, sections: usize) -> Value {
    let fakes = Fakes::new();
    let fake = fakes.python("prints-garbage", None, "echo 'this is not JSON'");
    let fake_path = fake.to_str().expect("a path in UTF-8");
    let report = lesson().args(["--json", "--python", fake_path]).json_report();
    let warnings = warnings_about(&report, fake_path);
    assert_eq!(warnings.len(), 1, "one line naming it: {:#}", report["warnings"]);
    assert!(
        warnings[0].contains("printed \"this is not JSON\", not a twin's JSON"),
        "{}",
        warnings[0]
    );
    assert!(warnings[0].ends_with("skipped"), "{}", warnings[0]);
    assert_eq!(
        report["sections"].as_array().map_or(0, Vec::len),
        sections,
        "the lesson went on: {:#}",
        report["sections"]
    );
    assert_eq!(report["params"]["python"]["implementation"], "CPython");
    assert_eq!(processes_mentioning(fake_path), Vec::<String>::new());
    report
}

/// Ctrl-C (SIGINT to the lesson alone) `after` the start, while the lesson waits for an
/// interpreter that hangs with a child of its own: the lesson dies of the interrupt, says that
/// every child process was stopped, and leaves nothing running, neither the fake nor its child.
/// Choose `after` past the Rust part of section 1 at `--quick`, well before its end with the
/// twin. The outcome, for what a lesson checks besides (its ports closed).
#[track_caller]
pub fn an_interrupt_ends_a_hanging_python(lesson: impl Fn() -> Run, after: Duration) -> Outcome {
    let fakes = Fakes::new();
    let fake = fakes.python("hangs-long", None, "sleep 2345.678 & sleep 2345.678");
    let fake_path = fake.to_str().expect("a path in UTF-8");
    let outcome = lesson()
        .args(["--python", fake_path])
        .interrupt_after(after, Interrupt::Process)
        .timeout(Duration::from_secs(60))
        .go();
    assert!(!outcome.timed_out, "{}", outcome.describe());
    assert_eq!(
        outcome.signal(),
        Some(2),
        "it died of the interrupt\n{}",
        outcome.describe()
    );
    outcome.assert_clean();
    assert!(
        outcome.stderr.contains("every child process was stopped"),
        "{}",
        outcome.describe()
    );
    assert_eq!(processes_mentioning("2345.678"), Vec::<String>::new());
    assert_eq!(processes_mentioning(fake_path), Vec::<String>::new());
    outcome
}
