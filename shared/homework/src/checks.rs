//! Building an exercise and running its checks, as a student's verdict needs them: the
//! compiler's errors when it does not build, else each check's name and its message.
//!
//! The build goes through cargo; the check binary then runs directly, in this process group
//! (so that Ctrl-C reaches it too) and under a deadline (so that a check that hangs, despite
//! the deadlines inside the checks, cannot hang the runner).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long a check binary may run before the runner stops it.
pub const RUN_LIMIT: Duration = Duration::from_secs(120);

/// Most lines of one check's message shown; the rest is summarised in one line.
const MESSAGE_LINES: usize = 12;
/// Most characters of one line of a check's message shown.
const LINE_CHARS: usize = 400;
/// Most lines of compiler output shown.
const COMPILER_LINES: usize = 40;

/// One failing check: its name in words and what it said.
#[derive(Clone, Debug)]
pub struct Failure {
    pub name: String,
    pub message: Vec<String>,
}

/// What one run of an exercise's checks showed.
#[derive(Clone, Debug, Default)]
pub struct CheckRun {
    /// The exercise did not build: the compiler's words (shortened).
    pub compile_errors: Option<Vec<String>>,
    pub passed: Vec<String>,
    pub failed: Vec<Failure>,
    /// Lines the checks address to the student directly (`homework note: ...`).
    pub notes: Vec<String>,
    /// The check binary ran past [`RUN_LIMIT`] and was stopped.
    pub timed_out: bool,
    /// The check binary's own exit status was success.
    pub success: bool,
    /// How long the checks ran (the build not included).
    pub seconds: f64,
}

impl CheckRun {
    pub fn all_pass(&self) -> bool {
        self.compile_errors.is_none()
            && !self.timed_out
            && self.success
            && self.failed.is_empty()
            && !self.passed.is_empty()
    }
}

/// The cargo the runner was started by (it sets `CARGO`), else the one on the PATH.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Builds `target` (`--test check`, `--bin speed`) of `package` with `features`; returns the
/// executable, or the compiler's errors.
pub fn build(
    root: &Path,
    package: &str,
    features: &[&str],
    target: &[&str],
    tests: bool,
) -> Result<PathBuf, Vec<String>> {
    let mut command = cargo();
    command
        .current_dir(root)
        .args([if tests { "test" } else { "build" }, "--package", package])
        .args(target)
        .args(["--message-format=json-render-diagnostics", "--color", "never"]);
    if tests {
        command.arg("--no-run");
    }
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| vec![format!("cannot run cargo: {error}")])?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(compiler_errors(&stderr));
    }
    let wanted = target.get(1).copied().unwrap_or_default();
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact" && message["target"]["name"] == wanted)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| vec![format!("cargo built {package} but named no executable for {wanted}")])
}

/// The compiler's errors, without its progress lines and warnings, shortened to a screen.
fn compiler_errors(stderr: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in stderr.lines() {
        if line.starts_with("error") {
            inside = !line.starts_with("error: could not compile") && !line.starts_with("error: test failed");
        } else if line.starts_with("warning") {
            inside = false;
        }
        if inside {
            lines.push(line.to_string());
        }
    }
    if lines.is_empty() {
        lines = stderr
            .lines()
            .filter(|line| !line.trim_start().starts_with("Compiling") && !line.trim_start().starts_with("Blocking"))
            .map(str::to_string)
            .collect();
    }
    shorten(lines, COMPILER_LINES, "compiler lines")
}

/// Runs a built check binary on every homework check, one at a time, from `dir`.
pub fn run_checks(executable: &Path, dir: &Path) -> CheckRun {
    let start = Instant::now();
    let (status, output, timed_out) = run_limited(
        Command::new(executable)
            .args(["--ignored", "--test-threads=1"])
            .current_dir(dir)
            .env("RUST_BACKTRACE", "0"),
        RUN_LIMIT,
    );
    let mut run = read_test_output(&output);
    run.timed_out = timed_out;
    run.success = status;
    run.seconds = start.elapsed().as_secs_f64();
    run
}

/// Runs `command` with stdout and stderr read together; stops it at `limit`. Returns (success,
/// output, whether it was stopped).
pub fn run_limited(command: &mut Command, limit: Duration) -> (bool, String, bool) {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            return (
                false,
                format!("cannot start {:?}: {error}", command.get_program()),
                false,
            );
        }
    };
    let readers: Result<Vec<_>, _> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut pipe| {
        std::thread::Builder::new().spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    })
    .collect();
    let readers = match readers {
        Ok(readers) => readers,
        Err(error) => {
            // No thread to read its output: it is stopped, and the readers already started end
            // when its pipes close.
            let _ = child.kill();
            let _ = child.wait();
            return (
                false,
                format!(
                    "cannot watch {:?}: no thread to read its output ({error})",
                    command.get_program()
                ),
                false,
            );
        }
    };
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break false,
        }
    };
    let mut output = String::new();
    for reader in readers {
        output.push_str(&String::from_utf8_lossy(&reader.join().unwrap_or_default()));
    }
    (status, output, timed_out)
}

/// Reads libtest's output: which checks passed, and each failing check's message.
pub fn read_test_output(output: &str) -> CheckRun {
    let mut run = CheckRun::default();
    let mut current: Option<Failure> = None;
    let mut messages: Vec<Failure> = Vec::new();
    for line in output.lines() {
        if let Some(note) = line.strip_prefix("homework note: ") {
            run.notes.push(note.to_string());
            continue;
        }
        if let Some(name) = line.strip_prefix("test ").and_then(|rest| rest.strip_suffix(" ... ok")) {
            run.passed.push(words(name));
        }
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            messages.extend(current.take());
            current = Some(Failure {
                name: words(name),
                message: Vec::new(),
            });
            continue;
        }
        if line == "failures:" || line.starts_with("test result:") {
            messages.extend(current.take());
            continue;
        }
        if let Some(failure) = current.as_mut() {
            let noise = line.contains("panicked at") || line.starts_with("note: run with") || line.trim().is_empty();
            if !noise {
                failure.message.push(line.to_string());
            }
        }
    }
    messages.extend(current.take());
    // A check that failed without a message still counts (the list of failures names it).
    let mut failed_names: Vec<String> = Vec::new();
    let mut in_list = false;
    for line in output.lines() {
        if line == "failures:" {
            in_list = true;
            continue;
        }
        if in_list {
            if let Some(name) = line.strip_prefix("    ") {
                failed_names.push(words(name));
            } else if !line.is_empty() {
                in_list = false;
            }
        }
    }
    for failure in &mut messages {
        failure.message = shorten(std::mem::take(&mut failure.message), MESSAGE_LINES, "more lines");
    }
    for name in failed_names {
        if !messages.iter().any(|failure| failure.name == name) {
            messages.push(Failure {
                name,
                message: Vec::new(),
            });
        }
    }
    run.failed = messages;
    run
}

/// `the_threads_really_run_at_the_same_time` (or a path to it) as words.
fn words(name: &str) -> String {
    name.rsplit("::").next().unwrap_or(name).replace('_', " ")
}

/// At most `most` lines of at most LINE_CHARS characters each, and one line saying what was cut.
fn shorten(lines: Vec<String>, most: usize, what: &str) -> Vec<String> {
    let total = lines.len();
    let mut shown: Vec<String> = lines
        .into_iter()
        .take(most)
        .map(|line| {
            if line.chars().count() > LINE_CHARS {
                let cut: String = line.chars().take(LINE_CHARS).collect();
                format!("{cut} … (line cut)")
            } else {
                line
            }
        })
        .collect();
    if total > most {
        shown.push(format!("… ({} {what} not shown)", total - most));
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "\nrunning 3 tests\ntest a_check_that_passes ... ok\ntest the_sum_is_exact ... FAILED\ntest hangs ... FAILED\n\nfailures:\n\n---- the_sum_is_exact stdout ----\n\nthread 'the_sum_is_exact' panicked at tests/check.rs:10:5:\nthe sum was 3, not 4. Hint: add every block\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\n\nfailures:\n    hangs\n    the_sum_is_exact\n\ntest result: FAILED. 1 passed; 2 failed; 0 ignored\nhomework note: skipped, no second core\n";

    #[test]
    fn failures_come_with_their_messages_and_names_in_words() {
        let run = read_test_output(OUTPUT);
        assert_eq!(run.passed, ["a check that passes"]);
        assert_eq!(run.failed.len(), 2, "{:?}", run.failed);
        assert_eq!(run.failed[0].name, "the sum is exact");
        assert_eq!(run.failed[0].message, ["the sum was 3, not 4. Hint: add every block"]);
        assert_eq!(run.failed[1].name, "hangs");
        assert_eq!(run.notes, ["skipped, no second core"]);
    }

    #[test]
    fn a_long_message_is_cut_to_a_screen() {
        let long: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let output = format!("---- big stdout ----\n{long}\nfailures:\n    big\n");
        let run = read_test_output(&output);
        assert_eq!(run.failed[0].message.len(), MESSAGE_LINES + 1);
        assert!(
            run.failed[0]
                .message
                .last()
                .unwrap()
                .contains("88 more lines not shown")
        );
        let wide = format!("---- wide stdout ----\n{}\n", "7, ".repeat(10_000));
        let run = read_test_output(&wide);
        assert!(run.failed[0].message[0].chars().count() < LINE_CHARS + 20);
    }
}
