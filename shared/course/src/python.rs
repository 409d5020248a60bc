//! The lessons' CPython twins: the notes' Python programs, run on the machine's CPython in the
//! same run as the Rust lesson, on the same input, their answers checked against Rust's.
//!
//! A twin is a standalone program in the lesson's `python/` folder (standard library only)
//! that prints one JSON document: the interpreter (`python`), its parameters, its answers, and
//! its `variants`, each measured by the twin itself (wall time from `perf_counter`, CPU time
//! from `process_time`, its reaped children's from `os.times`). A lesson
//!
//! 1. flattens [`PythonArgs`] into its flags (`--python PATH`, `--no-python`, `--python-timeout`);
//! 2. calls [`Python::find`] once, which prints the interpreter under the header (its version,
//!    and whether it has a GIL) and records it in the `--json` parameters;
//! 3. runs a twin with [`Python::run`]: a tracked child in a process group of its own, ended
//!    with everything it started by Ctrl-C or by its timeout;
//! 4. adds the twin's rows to a comparison with [`Python::add_rows`], only once each of their
//!    answers equals Rust's, and prints "CPython/Rust" with [`ratios`].
//!
//! Python is optional. No interpreter is one line under the header and the lesson goes on
//! without its Python rows; an interpreter that fails, prints something else, gives another
//! answer or runs past its timeout is one warning line naming it, and the lesson goes on.
//!
//! ```no_run
//! # use clap::Parser;
//! # #[derive(Parser, serde::Serialize)]
//! # struct Args { #[command(flatten)] common: course::CommonArgs,
//! #   #[command(flatten)] #[serde(skip)] python: course::python::PythonArgs }
//! # fn main() -> std::process::ExitCode {
//! let args: Args = course::parse_args();
//! course::run(course::info!("Races"), &args.common, &args, |lesson| {
//!     let python = course::python::Python::find(lesson, &args.python);
//!     let twin = course::python_twin!("race.py");
//!     if let Some(report) = python.run(lesson, twin, &["--threads", "2"], std::time::Duration::from_secs(30)) {
//!         course::say!(lesson, "  {} ran {} variants", python.label(), report.variants.len());
//!     }
//!     Ok(())
//! })
//! # }
//! ```

use crate::{Lesson, children, style};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt::Display;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use timing::{Comparison, ComparisonReport, Measurement, Runs, format};

/// `--python`, `--no-python` and `--python-timeout`, for lessons with a CPython twin. Flatten
/// it into the lesson's arguments with `#[serde(skip)]`: [`Python::find`] records what it
/// found in the `--json` parameters itself.
#[derive(clap::Args, Clone, Debug, Default, Serialize)]
pub struct PythonArgs {
    /// The CPython that runs the notes' programs beside the Rust code [default: python3 on the PATH]
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// Run no Python: the lesson shows Rust alone
    #[arg(long, conflicts_with = "python")]
    pub no_python: bool,
    /// Stop a Python program that runs longer than this, in milliseconds [default: the lesson's, which depends on its sizes]
    #[arg(long, value_name = "MS", value_parser = crate::cli::millis(100, 3_600_000))]
    pub python_timeout: Option<Duration>,
}

/// The interpreter, as it describes itself.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Interpreter {
    /// The command the lesson runs: `--python`'s path, or `python3` as found on the PATH.
    #[serde(default)]
    pub command: PathBuf,
    /// `platform.python_implementation()`: "CPython" (or "PyPy", ...).
    pub implementation: String,
    /// `platform.python_version()`, such as "3.11.7".
    pub version: String,
    /// `sys.executable`: where the program really is (behind a pyenv shim, say).
    #[serde(default)]
    pub executable: String,
    /// `sys._is_gil_enabled()`, where it exists (3.13 and later); `None` before.
    pub gil_enabled: Option<bool>,
    /// A free-threaded build (`python3.13t`), whose GIL is off unless turned on.
    #[serde(default)]
    pub free_threaded_build: bool,
    /// `sys.getswitchinterval()`: how long a thread may keep the GIL while another waits.
    #[serde(default)]
    pub switch_interval_s: f64,
}

impl Interpreter {
    /// Whether threads of this interpreter take turns on one GIL: always before 3.13; in a
    /// free-threaded build only when it was turned on.
    pub fn has_gil(&self) -> bool {
        self.gil_enabled.unwrap_or(!self.free_threaded_build)
    }

    /// "CPython 3.11.7", with "(free-threaded)" for a free-threaded build.
    pub fn label(&self) -> String {
        let build = if self.free_threaded_build {
            " (free-threaded)"
        } else {
            ""
        };
        format!("{} {}{build}", self.implementation, self.version)
    }

    /// The header's line: its label, where it is, and whether it has a GIL.
    pub fn describe(&self) -> String {
        let gil = match (self.has_gil(), self.gil_enabled) {
            (true, Some(true)) if self.free_threaded_build => "GIL turned on",
            (true, _) => "with a GIL",
            (false, _) => "no GIL: its threads run at the same time",
        };
        format!("{} ({}), {gil}", self.label(), self.command.display())
    }
}

/// What the interpreter is asked first, to say what it is.
const PROBE: &str = "import json, platform, sys, sysconfig
g = getattr(sys, '_is_gil_enabled', None)
print(json.dumps({'implementation': platform.python_implementation(), 'version': platform.python_version(), \
'executable': sys.executable, 'gil_enabled': g() if g else None, \
'free_threaded_build': bool(sysconfig.get_config_var('Py_GIL_DISABLED')), \
'switch_interval_s': sys.getswitchinterval()}))";

/// The longest the interpreter may take to say what it is.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The interpreter the lesson runs its twins on, or why there is none.
#[derive(Debug)]
pub struct Python {
    interpreter: Option<Interpreter>,
    timeout: Option<Duration>,
    /// Set once a twin failed: later twins are not tried (a hung interpreter is waited for once).
    failed: AtomicBool,
}

/// The `--json` parameter `python`: the interpreter, or why the Python rows are skipped.
#[derive(Serialize)]
struct Found<'a> {
    #[serde(flatten)]
    interpreter: Option<&'a Interpreter>,
    has_gil: Option<bool>,
    skipped: Option<&'a str>,
}

impl Python {
    /// Finds the interpreter `args` names (or `python3` on the PATH) and asks it what it is.
    /// Prints one line under the header, `python   CPython 3.11.7 (python3), with a GIL`, or
    /// why the Python rows are skipped, and records it as the `--json` parameter `python`.
    pub fn find(lesson: &Lesson, args: &PythonArgs) -> Python {
        let mut python = Python {
            interpreter: None,
            timeout: args.python_timeout,
            failed: AtomicBool::new(false),
        };
        let skipped = if args.no_python {
            Err("not run (--no-python)".to_string())
        } else {
            python.probe(args.python.as_deref())
        };
        match skipped {
            Ok(interpreter) => {
                lesson.say(format_args!("  python   {}", interpreter.describe()));
                python.interpreter = Some(interpreter);
            }
            Err(why) if why.starts_with("CPython not found") || args.no_python => {
                lesson.say(style::dim(&format!("  python   {why}")));
                lesson.param(
                    "python",
                    Found {
                        interpreter: None,
                        has_gil: None,
                        skipped: Some(&why),
                    },
                );
                return python;
            }
            Err(why) => {
                lesson.warn(&why);
                lesson.param(
                    "python",
                    Found {
                        interpreter: None,
                        has_gil: None,
                        skipped: Some(&why),
                    },
                );
                return python;
            }
        }
        let interpreter = python.interpreter.as_ref();
        lesson.param(
            "python",
            Found {
                interpreter,
                has_gil: interpreter.map(Interpreter::has_gil),
                skipped: None,
            },
        );
        python
    }

    /// The interpreter, when one was found and works.
    pub fn interpreter(&self) -> Option<&Interpreter> {
        self.interpreter
            .as_ref()
            .filter(|_| !self.failed.load(Ordering::SeqCst))
    }

    /// "CPython 3.11.7", or "CPython" when none was found.
    pub fn label(&self) -> String {
        self.interpreter
            .as_ref()
            .map_or("CPython".to_string(), Interpreter::label)
    }

    fn probe(&self, named: Option<&Path>) -> Result<Interpreter, String> {
        let command = match named {
            Some(path) if path.components().count() > 1 || path.is_file() => {
                if !path.is_file() {
                    return Err(format!(
                        "CPython not found at {}: the Python rows are skipped; --python PATH to name one",
                        path.display()
                    ));
                }
                path.to_path_buf()
            }
            Some(name) => on_path(name).ok_or_else(|| {
                format!(
                    "CPython not found ({} is not on the PATH): the Python rows are skipped; --python PATH to name one",
                    name.display()
                )
            })?,
            None => on_path(Path::new("python3")).ok_or_else(|| {
                "CPython not found: the Python rows are skipped; --python PATH to name one".to_string()
            })?,
        };
        let who = command.display().to_string();
        if !is_executable(&command) {
            return Err(format!("{who} is not executable: the Python rows are skipped"));
        }
        let timeout = self.timeout.map_or(PROBE_TIMEOUT, |t| t.min(PROBE_TIMEOUT));
        let output = run_tracked(Command::new(&command).args(["-c", PROBE]), timeout)
            .map_err(|problem| format!("{who} {problem}: the Python rows are skipped"))?;
        let mut interpreter: Interpreter = serde_json::from_str(output.trim()).map_err(|_| {
            format!(
                "{who} printed {} when asked its version, not what a Python prints: the Python rows are skipped",
                excerpt(&output)
            )
        })?;
        interpreter.command = command;
        Ok(interpreter)
    }

    /// Runs the twin at `script` with `args` and returns what it printed, parsed. It runs as a
    /// tracked child in a process group of its own, stopped with everything it started after
    /// `timeout` (or `--python-timeout`) or when the lesson is interrupted. `None`, with one
    /// warning line naming the interpreter, when it fails, prints something other than a twin's
    /// JSON, or runs too long; `None` silently without an interpreter or after such a failure.
    pub fn run<S: AsRef<std::ffi::OsStr>>(
        &self,
        lesson: &Lesson,
        script: &Path,
        args: impl IntoIterator<Item = S>,
        timeout: Duration,
    ) -> Option<Twin> {
        let interpreter = self.interpreter()?;
        let name = short_path(script);
        let who = format!(
            "{} ({}) running {name}",
            interpreter.label(),
            interpreter.command.display()
        );
        let result = if script.is_file() {
            let mut command = Command::new(&interpreter.command);
            command
                .arg(script)
                .args(args)
                // A pool that imports the twin again (spawn, forkserver) must not leave
                // `__pycache__` in the lesson's folder.
                .env("PYTHONDONTWRITEBYTECODE", "1");
            run_tracked(&mut command, self.timeout.unwrap_or(timeout)).and_then(|output| parse_twin(&output))
        } else {
            Err("found no such file".to_string())
        };
        match result {
            Ok(twin) => Some(twin),
            Err(problem) => {
                self.failed.store(true, Ordering::SeqCst);
                lesson.warn(&format!("{who} {problem}: the Python rows are skipped"));
                None
            }
        }
    }

    /// Adds the twin's variants of `workload` to `comparison` as rows named "CPython: <variant>",
    /// measured by the twin itself: after a Rust baseline each is a different algorithm
    /// (`.other_algorithm()`); in a comparison that they start, the first is the baseline and
    /// the others run its algorithm on more workers, so that their efficiency is given and a
    /// speedup above their cores is flagged as disturbed. Threads that take turns on a GIL are
    /// `.serialized()`. Only when every
    /// answer of every one of them, read by `answer_of`, equals `expected` (Rust's): otherwise
    /// one warning line names the interpreter and the answer, and no row is added. Returns the
    /// names of the rows added.
    pub fn add_rows<A: PartialEq + Display>(
        &self,
        lesson: &Lesson,
        comparison: &mut Comparison<A>,
        twin: &Twin,
        workload: &str,
        expected: &A,
        answer_of: impl Fn(&Value) -> Option<A>,
    ) -> Vec<String> {
        let Some(interpreter) = self.interpreter() else {
            return Vec::new();
        };
        let variants: Vec<&TwinVariant> = twin.variants_of(workload).collect();
        let mut checked = Vec::with_capacity(variants.len());
        for variant in &variants {
            let mut answers = Vec::with_capacity(variant.answers.len());
            for value in &variant.answers {
                match answer_of(value) {
                    Some(answer) if answer == *expected => answers.push(answer),
                    other => {
                        let got = other.map_or_else(|| excerpt(&value.to_string()), |answer| answer.to_string());
                        lesson.warn(&format!(
                            "{} ({}), '{}', computed {got} where Rust computed {expected}: its rows are left out",
                            interpreter.label(),
                            interpreter.command.display(),
                            variant.name
                        ));
                        return Vec::new();
                    }
                }
            }
            checked.push((variant, answers));
        }
        if checked.is_empty() {
            lesson.warn(&format!(
                "{} printed no '{workload}' variant: its rows are left out",
                interpreter.label()
            ));
        }
        let mut names = Vec::with_capacity(checked.len());
        let after_rust = !comparison.is_empty();
        for (variant, answers) in checked {
            let name = format!("CPython: {}", variant.name);
            let row = comparison.add_measured(&name, variant.workers, answers, variant.runs());
            if after_rust {
                row.other_algorithm();
            }
            if variant.kind == "threads" && interpreter.has_gil() {
                row.serialized();
            }
            names.push(name);
        }
        names
    }
}

/// Prints, for each `(cpython_row, rust_row)` pair found in `report`, how many times longer
/// the CPython row took than the Rust one ("CPython/Rust"), and records them as the figure
/// `cpython_over_rust` (by CPython row). Pairs with a missing row are left out.
pub fn ratios(lesson: &Lesson, report: &ComparisonReport, pairs: &[(&str, &str)]) -> Vec<Ratio> {
    let ratios = ratios_quietly(lesson, report, pairs);
    for ratio in &ratios {
        lesson.say(format_args!(
            "  CPython/Rust: {} for '{}' against '{}'",
            format::times(ratio.ratio),
            ratio.cpython,
            ratio.rust
        ));
    }
    ratios
}

/// Like [`ratios`] (the same pairs, the same figure `cpython_over_rust`), but prints nothing:
/// for a lesson that says several ratios on one line, in its own words.
pub fn ratios_quietly(lesson: &Lesson, report: &ComparisonReport, pairs: &[(&str, &str)]) -> Vec<Ratio> {
    let mut ratios = Vec::new();
    for (cpython, rust) in pairs {
        let (Some(python_row), Some(rust_row)) = (report.row(cpython), report.row(rust)) else {
            continue;
        };
        if rust_row.median_s <= 0.0 {
            continue;
        }
        ratios.push(Ratio {
            cpython: cpython.to_string(),
            rust: rust.to_string(),
            ratio: python_row.median_s / rust_row.median_s,
        });
    }
    if !ratios.is_empty() {
        let figure: Map<String, Value> = ratios
            .iter()
            .map(|r| (r.cpython.clone(), Value::from(r.ratio)))
            .collect();
        lesson.figure("cpython_over_rust", figure);
    }
    ratios
}

/// How many times longer a CPython row took than a Rust row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ratio {
    pub cpython: String,
    pub rust: String,
    pub ratio: f64,
}

/// What a twin printed.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Twin {
    /// The lesson it is the twin of, such as "lesson03_race".
    pub twin: String,
    /// The interpreter, as the twin saw it (as [`Interpreter`], without the command).
    pub python: Value,
    /// The sizes it ran.
    pub params: Value,
    /// Its answers, to check against Rust's.
    pub answers: Value,
    /// What it timed.
    pub variants: Vec<TwinVariant>,
    /// Everything else it reported (a summary, latencies, costs).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Twin {
    /// The variants of one workload, in the order the twin ran them.
    pub fn variants_of<'a>(&'a self, workload: &'a str) -> impl Iterator<Item = &'a TwinVariant> + 'a {
        self.variants.iter().filter(move |v| v.workload == workload)
    }

    /// The variant `name` of `workload`.
    pub fn variant(&self, workload: &str, name: &str) -> Option<&TwinVariant> {
        self.variants.iter().find(|v| v.workload == workload && v.name == name)
    }
}

/// One variant a twin timed: its answer and measurement for each run.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct TwinVariant {
    /// Which of the twin's workloads it is ("counter", "count_prime", ...).
    pub workload: String,
    pub name: String,
    /// Threads or processes it was given (1 for sequential).
    pub workers: usize,
    /// "sequential", "threads" or "processes".
    pub kind: String,
    /// The answer of each run.
    pub answers: Vec<Value>,
    /// The measurement of each run.
    pub samples: Vec<Sample>,
    /// Anything else the twin said about it.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TwinVariant {
    /// The runs as the course measures them ([`Comparison::add_measured`] takes them).
    pub fn runs(&self) -> Runs {
        Runs {
            samples: self.samples.iter().map(Sample::measurement).collect(),
        }
    }

    /// The median run.
    pub fn median(&self) -> Measurement {
        self.runs().median()
    }
}

/// One run as the twin measured it: `time.perf_counter()` for wall time, `time.process_time()`
/// for the CPU time of all its threads, `os.times()` for that of the children it reaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
pub struct Sample {
    pub wall_s: f64,
    pub cpu_s: f64,
    #[serde(default)]
    pub children_cpu_s: f64,
}

impl Sample {
    /// As a [`Measurement`]: the twin's CPU time is all counted as user time (`process_time`
    /// does not tell user from system).
    pub fn measurement(&self) -> Measurement {
        let seconds = |s: f64| Duration::try_from_secs_f64(s).unwrap_or_default();
        Measurement {
            wall: seconds(self.wall_s),
            user: seconds(self.cpu_s),
            system: Duration::ZERO,
            children: seconds(self.children_cpu_s),
        }
    }

    fn is_valid(&self) -> bool {
        [self.wall_s, self.cpu_s, self.children_cpu_s]
            .iter()
            .all(|s| s.is_finite() && *s >= 0.0)
    }
}

/// A twin's output, parsed and checked for shape; an error says what is wrong in a few words.
pub fn parse_twin(output: &str) -> Result<Twin, String> {
    let not_json = || format!("printed {}, not a twin's JSON", excerpt(output));
    let twin: Twin = serde_json::from_str(output.trim()).map_err(|_| not_json())?;
    let broken = twin
        .variants
        .iter()
        .any(|v| v.samples.is_empty() || v.answers.len() != v.samples.len() || !v.samples.iter().all(Sample::is_valid));
    if broken {
        return Err(format!(
            "printed variants without a measurement for each answer ({})",
            excerpt(output)
        ));
    }
    Ok(twin)
}

/// The CRC-32 of `bytes` (zlib's, as Python's `zlib.crc32` computes it): how a twin reports
/// bytes it produced, to be checked against Rust's.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The path of a twin in the calling lesson's `python/` folder:
/// `course::python_twin!("race.py")` is `lessons/lesson03_race/python/race.py`.
#[macro_export]
macro_rules! python_twin {
    ($file:expr) => {
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/python/", $file))
    };
}

/// The first `program` on the PATH that is a file, as a shell finds it.
fn on_path(program: &Path) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file() && is_executable(candidate))
}

/// Whether `path` is a file that someone may execute.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `python/race.py` for `/…/lessons/lesson03_race/python/race.py`.
fn short_path(script: &Path) -> String {
    let parts: Vec<_> = script.components().rev().take(2).collect();
    parts
        .iter()
        .rev()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// Up to 40 characters of `text` on one line, quoted; "nothing" when empty.
fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.is_empty() {
        return "nothing".to_string();
    }
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = one_line.chars().take(40).collect();
    let more = if one_line.chars().count() > 40 { "…" } else { "" };
    format!("\"{short}{more}\"")
}

/// The most of a program's stdout kept (a twin prints a few kB) and of its stderr (the end).
const STDOUT_LIMIT: usize = 8 << 20;
const STDERR_KEPT: usize = 4096;

/// Runs `command` in a process group of its own with stdin closed, and returns its stdout
/// once it exited with status 0. A problem is described in a few words ("exited with status
/// 3 (…its last line on stderr…)", "ran past its 2 s timeout and was stopped"). Whatever the
/// outcome, nothing it started is left running.
fn run_tracked(command: &mut Command, timeout: Duration) -> Result<String, String> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = children::spawn_group(command).map_err(|error| format!("could not be started ({error:#})"))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let (sender, outputs) = mpsc::channel();
    for (which, pipe) in [
        (0, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (1, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        let sender = sender.clone();
        let reader = std::thread::Builder::new().spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = pipe {
                let mut buffer = [0u8; 8192];
                while let Ok(n) = pipe.read(&mut buffer) {
                    if n == 0 {
                        break;
                    }
                    kept.extend_from_slice(&buffer[..n]);
                    if which == 0 && kept.len() > STDOUT_LIMIT {
                        kept.truncate(STDOUT_LIMIT);
                    } else if which == 1 && kept.len() > 2 * STDERR_KEPT {
                        kept.drain(..kept.len() - STDERR_KEPT);
                    }
                }
            }
            let _ = sender.send((which, String::from_utf8_lossy(&kept).into_owned()));
        });
        if let Err(error) = reader {
            // No thread to read its output: it is stopped (a reader already started sees its
            // pipe close and ends).
            children::kill_group(pid);
            let _ = child.wait();
            children::forget(pid);
            children::reap_group(pid);
            let limit = error
                .raw_os_error()
                .and_then(crate::limits::explain_errno)
                .map_or(String::new(), |limit| format!(": {limit}"));
            return Err(format!(
                "could not be watched: no thread to read its output ({error}){limit}"
            ));
        }
    }
    drop(sender);
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => break None,
        }
    };
    // Everything in the group goes: the program itself if it is still running, and whatever
    // it started (a pool's workers, a shell's commands).
    children::kill_group(pid);
    if status.is_none() {
        let _ = child.wait();
    }
    children::forget(pid);
    children::reap_group(pid);
    let (mut stdout, mut stderr) = (String::new(), String::new());
    let deadline = Instant::now() + Duration::from_secs(2);
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match outputs.recv_timeout(left) {
            Ok((0, text)) => stdout = text,
            Ok((_, text)) => stderr = text,
            Err(_) => break,
        }
    }
    let Some(status) = status else {
        return Err(format!(
            "ran past its {} timeout and was stopped",
            format::duration(timeout)
        ));
    };
    if status.success() {
        return Ok(stdout);
    }
    let last_line = stderr.lines().rev().find(|line| !line.trim().is_empty()).map(str::trim);
    let said = last_line.map_or(String::new(), |line| format!(" ({})", excerpt(line)));
    Err(
        match (status.code(), std::os::unix::process::ExitStatusExt::signal(&status)) {
            (Some(code), _) => format!("exited with status {code}{said}"),
            (None, Some(signal)) => format!("was killed by signal {signal}{said}"),
            _ => format!("failed{said}"),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_zlibs() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn a_twin_report_is_parsed_and_its_shape_checked() {
        let good = r#"{"twin": "t", "python": {}, "params": {}, "answers": {"n": 3}, "extra": 1,
            "variants": [{"workload": "w", "name": "seq", "workers": 1, "kind": "sequential",
            "answers": [3, 3], "samples": [{"wall_s": 0.5, "cpu_s": 0.5}, {"wall_s": 0.4, "cpu_s": 0.4}]}]}"#;
        let twin = parse_twin(good).unwrap();
        assert_eq!(twin.extra["extra"], 1);
        let variant = twin.variant("w", "seq").unwrap();
        assert_eq!(variant.median().wall, Duration::from_millis(400));
        assert!(parse_twin("garbage").unwrap_err().contains("\"garbage\""));
        assert!(parse_twin("").unwrap_err().contains("nothing"));
        let negative = good.replace("0.4, \"cpu_s\"", "-0.4, \"cpu_s\"");
        assert!(parse_twin(&negative).is_err());
        let uneven = good.replace("[3, 3]", "[3]");
        assert!(parse_twin(&uneven).is_err());
    }

    #[test]
    fn excerpts_are_short_and_on_one_line() {
        assert_eq!(excerpt("  a\nb  "), "\"a b\"");
        assert!(excerpt(&"x".repeat(100)).ends_with("…\""));
    }

    #[test]
    fn the_gil_is_read_from_what_the_interpreter_says() {
        let mut interpreter = Interpreter {
            command: PathBuf::from("python3"),
            implementation: "CPython".into(),
            version: "3.11.7".into(),
            executable: String::new(),
            gil_enabled: None,
            free_threaded_build: false,
            switch_interval_s: 0.005,
        };
        assert!(interpreter.has_gil());
        assert_eq!(interpreter.describe(), "CPython 3.11.7 (python3), with a GIL");
        interpreter.free_threaded_build = true;
        interpreter.gil_enabled = Some(false);
        assert!(!interpreter.has_gil());
        assert!(interpreter.describe().contains("(free-threaded)"));
        assert!(interpreter.describe().contains("no GIL"));
    }

    fn quiet_lesson() -> Lesson {
        let common = crate::CommonArgs {
            json: true,
            ..Default::default()
        };
        Lesson::new(crate::info!("Test"), &common, &())
    }

    fn python_3_11() -> Python {
        Python {
            interpreter: Some(Interpreter {
                command: PathBuf::from("python3"),
                implementation: "CPython".into(),
                version: "3.11.7".into(),
                executable: String::new(),
                gil_enabled: None,
                free_threaded_build: false,
                switch_interval_s: 0.005,
            }),
            timeout: None,
            failed: AtomicBool::new(false),
        }
    }

    fn twin_counting(answer: u64) -> Twin {
        parse_twin(&format!(
            r#"{{"twin": "t", "python": {{}}, "params": {{}}, "answers": {{}}, "variants": [
            {{"workload": "count", "name": "sequential", "workers": 1, "kind": "sequential",
              "answers": [{answer}], "samples": [{{"wall_s": 2.0, "cpu_s": 2.0}}]}},
            {{"workload": "count", "name": "2 threads", "workers": 2, "kind": "threads",
              "answers": [{answer}], "samples": [{{"wall_s": 2.0, "cpu_s": 2.0}}]}},
            {{"workload": "other", "name": "x", "workers": 1, "kind": "sequential",
              "answers": [0], "samples": [{{"wall_s": 1.0, "cpu_s": 1.0}}]}}]}}"#
        ))
        .unwrap()
    }

    fn rust_comparison() -> Comparison<u64> {
        let mut comparison = Comparison::new("count to 42");
        comparison.add_measured(
            "sequential",
            1,
            vec![42],
            Runs::from(Measurement {
                wall: Duration::from_millis(100),
                user: Duration::from_millis(100),
                ..Default::default()
            }),
        );
        comparison
    }

    #[test]
    fn cpython_rows_that_start_a_comparison_are_judged_against_their_own_baseline() {
        let lesson = quiet_lesson();
        let python = python_3_11();
        // Two threads on a GIL, 1.5× faster than one thread while using one core: impossible
        // unless the one-thread run was slowed by something else.
        let twin = parse_twin(
            r#"{"twin": "t", "python": {}, "params": {}, "answers": {}, "variants": [
            {"workload": "count", "name": "1 thread", "workers": 1, "kind": "sequential",
              "answers": [42], "samples": [{"wall_s": 1.5, "cpu_s": 1.5}]},
            {"workload": "count", "name": "2 threads", "workers": 2, "kind": "threads",
              "answers": [42], "samples": [{"wall_s": 1.0, "cpu_s": 1.0}]},
            {"workload": "count", "name": "2 processes", "workers": 2, "kind": "processes",
              "answers": [42], "samples": [{"wall_s": 0.75, "cpu_s": 0.0, "children_cpu_s": 1.5}]}]}"#,
        )
        .unwrap();
        let mut comparison = Comparison::new("count to 42 in CPython");
        let added = python.add_rows(&lesson, &mut comparison, &twin, "count", &42, Value::as_u64);
        assert_eq!(added.len(), 3);
        let report = comparison.finish().unwrap();
        let threads = report.row("CPython: 2 threads").unwrap();
        assert_eq!(threads.efficiency.map(|e| (e * 100.0).round()), Some(75.0));
        assert!(
            threads
                .disturbed
                .as_deref()
                .is_some_and(|why| why.contains("its cores allow")),
            "{threads:?}"
        );
        let processes = report.row("CPython: 2 processes").unwrap();
        assert_eq!(processes.efficiency.map(|e| (e * 100.0).round()), Some(100.0));
        assert_eq!(processes.disturbed, None, "{processes:?}");
    }

    #[test]
    fn cpython_rows_join_a_comparison_only_with_rusts_answer() {
        let lesson = quiet_lesson();
        let python = python_3_11();
        let mut comparison = rust_comparison();
        let added = python.add_rows(
            &lesson,
            &mut comparison,
            &twin_counting(42),
            "count",
            &42,
            Value::as_u64,
        );
        assert_eq!(added, ["CPython: sequential", "CPython: 2 threads"]);
        let report = comparison.finish().unwrap();
        let threads = report.row("CPython: 2 threads").unwrap();
        assert_eq!(threads.efficiency, None, "another algorithm than Rust's");
        assert_eq!(
            threads.disturbed, None,
            "threads taking turns on a GIL are not disturbed"
        );
        assert!((threads.median.wall.as_secs_f64() - 2.0).abs() < 1e-9);
        let found = ratios(
            &lesson,
            &report,
            &[("CPython: sequential", "sequential"), ("missing", "sequential")],
        );
        assert_eq!(found.len(), 1);
        assert!((found[0].ratio - 20.0).abs() < 1e-9);

        // Another answer: one warning, no row.
        let mut comparison = rust_comparison();
        let added = python.add_rows(
            &lesson,
            &mut comparison,
            &twin_counting(41),
            "count",
            &42,
            Value::as_u64,
        );
        assert!(added.is_empty());
        assert_eq!(comparison.finish().unwrap().rows.len(), 1);
        let warnings = lesson.report_json()["warnings"].clone();
        let about: Vec<&str> = warnings
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .filter(|w| w.contains("computed 41 where Rust computed 42"))
            .collect();
        assert_eq!(about.len(), 1, "{warnings:#}");
    }

    #[test]
    fn a_program_that_runs_too_long_is_stopped_with_its_children() {
        let started = Instant::now();
        let problem = run_tracked(
            Command::new("sh").args(["-c", "sleep 30.0417 & sleep 30.0417"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(problem.contains("timeout"), "{problem}");
        assert!(started.elapsed() < Duration::from_secs(10));
        // Both sleeps were in the shell's group, and went with it.
        let sleeping = || {
            std::fs::read_dir("/proc").into_iter().flatten().flatten().any(|entry| {
                std::fs::read(entry.path().join("cmdline"))
                    .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains("30.0417"))
            })
        };
        let gone = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(20));
            !sleeping()
        });
        assert!(gone, "a sleep of the stopped shell is still running");
        let problem = run_tracked(
            Command::new("sh").args(["-c", "echo oops >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert_eq!(problem, "exited with status 3 (\"oops\")");
        assert_eq!(
            run_tracked(Command::new("sh").args(["-c", "echo hi"]), Duration::from_secs(10)).unwrap(),
            "hi\n"
        );
    }
}
