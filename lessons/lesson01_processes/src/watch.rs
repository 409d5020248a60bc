//! Watching a child from its parent: polling `/proc` until the kernel reports a state,
//! `waitpid` for stops and continues, and printing what was seen as it happens.

use crate::model::{self, State};
use crate::observe;
use anyhow::{Context, bail};
use course::children;
use course::timing::format;
use course::{Lesson, say};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use serde::Serialize;
use std::time::{Duration, Instant};

/// Time since the lesson started (the first call, at the top of `main`, starts the clock).
pub fn since_start() -> Duration {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    STARTED.get_or_init(Instant::now).elapsed()
}

/// The columns of section 3's table: time, the child, state, lecture's name, waits in, ran,
/// waited; 100 columns in all.
fn row(cells: [&str; 7]) -> String {
    let [time, action, state, lecture, waits, ran, waited] = cells;
    format!("  {time:>7}  {action:<33} {state:<5} {lecture:<15} {waits:<17} {ran:>7} {waited:>7}")
}

/// One observed step of section 3.
#[derive(Debug, Serialize)]
pub struct StepRow {
    at_s: f64,
    action: String,
    expected: Option<char>,
    observed: Option<char>,
    lecture_name: String,
    waits_in: Option<String>,
    cpu_s: Option<f64>,
    waited_for_core_s: Option<f64>,
    pub as_predicted: bool,
    /// When the step began, since the lesson started.
    since_start_s: f64,
}

/// Prints section 3's steps as they happen, so that a class can watch them live.
pub struct Watch<'a> {
    lesson: &'a Lesson,
    pub pid: Pid,
    hold: Duration,
    born: Instant,
    pub rows: Vec<StepRow>,
}

impl<'a> Watch<'a> {
    pub fn new(lesson: &'a Lesson, hold: Duration) -> Self {
        Watch {
            lesson,
            pid: Pid::from_raw(0),
            hold,
            born: Instant::now(),
            rows: Vec::new(),
        }
    }

    pub fn header(&mut self) {
        self.born = Instant::now();
        let header = row([
            "time",
            "the child",
            "state",
            "lecture's name",
            "waits in",
            "ran",
            "waited",
        ]);
        self.lesson.say(header.trim_end());
    }

    /// Waits until the kernel shows the state the model predicts (at most a few seconds), holds
    /// it when `hold` is set, then prints what the kernel says.
    pub fn step(&mut self, action: &str, predicted: Option<&model::Process>, hold: bool) {
        let expected = predicted.map(|p| p.state);
        let within = Duration::from_secs(3) + 2 * self.hold;
        let seen = wait_for_state(self.pid, expected.map(State::letter), within);
        let at = self.born.elapsed();
        let observed = seen.as_ref().map(|s| s.state);
        let as_predicted = observed == expected.map(State::letter);
        let lecture_name = match (expected, observed) {
            (Some(state), Some(letter)) if letter == state.letter() => state.lecture_name().to_string(),
            (_, Some(letter)) => model::lecture_name_of(letter).to_string(),
            (None, None) => "gone (reaped)".to_string(),
            (Some(_), None) => "cannot be read".to_string(),
        };
        let waits_in = match observed {
            Some('R') | None => None,
            Some(_) => observe::wait_channel(self.pid.as_raw()),
        };
        let cpu = seen.as_ref().map(|s| s.cpu);
        // The letter; where the kernel disagrees with the model, what the model expected.
        let (letter_text, lecture_text) = match (observed, expected) {
            (Some(letter), Some(state)) if letter != state.letter() => {
                (letter.to_string(), format!("≠ expected {}", state.letter()))
            }
            (Some(letter), _) => (letter.to_string(), lecture_name.clone()),
            (None, _) => ("-".to_string(), lecture_name.clone()),
        };
        let waited = seen.as_ref().and_then(|s| s.waited_for_core);
        let line = row([
            &format::duration(at),
            action,
            &letter_text,
            &lecture_text,
            waits_in.as_deref().unwrap_or("-"),
            &cpu.map_or("-".to_string(), format::duration),
            &waited.map_or("-".to_string(), format::duration),
        ]);
        self.lesson.say(line);
        self.rows.push(StepRow {
            at_s: at.as_secs_f64(),
            action: action.to_string(),
            expected: expected.map(State::letter),
            observed,
            lecture_name,
            waits_in,
            cpu_s: cpu.map(|c| c.as_secs_f64()),
            waited_for_core_s: waited.map(|w| w.as_secs_f64()),
            as_predicted,
            since_start_s: since_start().as_secs_f64(),
        });
        // The line is out before the hold, so that the class can look at the child meanwhile.
        if hold {
            std::thread::sleep(self.hold);
        }
    }
}

/// Polls `/proc/<pid>/stat` until the state letter is `letter` (or, for `None`, until the
/// process is gone), for at most `within`. Returns the last snapshot seen.
pub fn wait_for_state(pid: Pid, letter: Option<char>, within: Duration) -> Option<observe::Snapshot> {
    if !observe::HAS_PROC {
        return None;
    }
    let deadline = Instant::now() + within;
    loop {
        let snapshot = observe::snapshot(pid.as_raw());
        let reached = match (&snapshot, letter) {
            (Some(s), Some(wanted)) => s.state == wanted,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if reached || Instant::now() >= deadline {
            return snapshot;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Polls until `pid`'s parent is `parent`, for at most `within`.
#[cfg(target_os = "linux")]
pub fn wait_for_parent(pid: Pid, parent: Pid, within: Duration) -> Option<observe::Snapshot> {
    let deadline = Instant::now() + within;
    loop {
        let snapshot = observe::snapshot(pid.as_raw());
        let reached = snapshot.as_ref().is_none_or(|s| s.ppid == parent.as_raw());
        if reached || Instant::now() >= deadline {
            return snapshot;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// `waitpid` for a stop or a continue (not a reap): `flag` is WUNTRACED or WCONTINUED.
pub fn wait_for_change(pid: Pid, flag: WaitPidFlag) -> anyhow::Result<WaitStatus> {
    let status = waitpid(pid, Some(flag)).context("waitpid")?;
    if matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
        // It ended instead (killed from outside): it is reaped, so no longer to be cleaned up.
        children::forget(pid);
        bail!("the watched child ended unexpectedly: {status:?}");
    }
    Ok(status)
}

pub fn describe_status(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Exited(_, code) => format!("exited with status {code}"),
        WaitStatus::Signaled(_, signal, _) => format!("killed by {signal}"),
        WaitStatus::Stopped(_, signal) => format!("stopped by {signal}"),
        WaitStatus::Continued(_) => "continued".to_string(),
        other => format!("{other:?}"),
    }
}

/// The signals this process catches, ignores and blocks, on one line; recorded for `--json`.
pub fn show_signals(lesson: &Lesson, status: &observe::Status) {
    let list = |mask: u64| {
        let names = observe::signal_names(mask);
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(" ")
        }
    };
    say!(
        lesson,
        "  Signals caught: {}; ignored: {}; blocked: {}.",
        list(status.signals_caught),
        list(status.signals_ignored),
        list(status.signals_blocked)
    );
    lesson.figure("signals_caught", observe::signal_names(status.signals_caught));
    lesson.figure("signals_ignored", observe::signal_names(status.signals_ignored));
}
