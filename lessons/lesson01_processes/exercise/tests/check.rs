//! Checks for lesson 01's exercise. Run them with `cargo homework 01`.
//!
//! `fork` is safe only in a process with one thread, and this test harness has several, so no
//! check calls `run_workers` here: each starts `src/bin/run_workers_alone.rs`, which calls it
//! in a process of its own and prints what it got and which children it has afterwards (read
//! from `/proc`). Nothing is timed; a deadline only turns a hang into a failure.

use std::io::Write;
use std::time::Duration;
use testkit::{Outcome, Run};

const ALONE: &str = env!("CARGO_BIN_EXE_run_workers_alone");

/// What one run of `run_workers_alone` saw.
struct Seen {
    /// The process that called run_workers.
    parent: u32,
    /// Every process that returned from run_workers, and what it returned.
    returned: Vec<(u32, Vec<i32>)>,
    /// The error run_workers returned in the process that called it, if it did.
    error: Option<String>,
    /// Whether run_workers panicked in the process that called it.
    panicked: bool,
    /// Why the run could not set up what it needed, if so.
    skipped: Option<String>,
    zombies: Vec<u32>,
    alive: Vec<u32>,
    outcome: Outcome,
}

impl Seen {
    /// What run_workers returned in the process that called it.
    fn statuses(&self) -> &[i32] {
        self.returned
            .iter()
            .find(|(pid, _)| *pid == self.parent)
            .map(|(_, statuses)| statuses.as_slice())
            .unwrap_or_default()
    }
}

/// Runs `run_workers_alone` with `args` and reads what it printed.
fn run_and_read(args: &[&str]) -> Seen {
    let outcome = Run::new(ALONE).args(args).timeout(Duration::from_secs(30)).go();
    let numbers = |rest: &str| -> Vec<u32> { rest.split_whitespace().filter_map(|n| n.parse().ok()).collect() };
    let mut seen = Seen {
        parent: 0,
        returned: Vec::new(),
        error: None,
        panicked: false,
        skipped: None,
        zombies: Vec::new(),
        alive: Vec::new(),
        outcome,
    };
    for line in seen.outcome.stdout.lines() {
        let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "parent" => seen.parent = rest.trim().parse().unwrap_or(0),
            "returned" => {
                let mut fields = rest.split_whitespace();
                let pid = fields.next().and_then(|p| p.parse().ok()).unwrap_or(0);
                seen.returned
                    .push((pid, fields.filter_map(|n| n.parse().ok()).collect()));
            }
            "error" => {
                let mut fields = rest.split_whitespace();
                if fields.next().and_then(|p| p.parse().ok()) == Some(seen.parent) {
                    seen.error = Some(fields.collect::<Vec<_>>().join(" "));
                }
            }
            "panicked" => seen.panicked |= rest.trim().parse() == Ok(seen.parent),
            "skipped" => seen.skipped = Some(rest.to_string()),
            "zombies" => seen.zombies = numbers(rest),
            "alive" => seen.alive = numbers(rest),
            _ => {}
        }
    }
    seen
}

/// Runs `run_workers_alone` with `args`; fails (with what went wrong and a hint) unless
/// run_workers returned its statuses in the process that called it.
#[track_caller]
fn run_alone(args: &[&str]) -> Seen {
    let seen = run_and_read(args);
    let command = format!("cargo run -p lesson01_processes_exercise -- {}", args.join(" "));
    if seen.outcome.timed_out {
        panic!(
            "`{command}` did not finish within 30 s. Hint: waitpid waits for a child to end: does every \
             child end, by calling std::process::exit right after work(i)?"
        );
    }
    if !seen.returned.iter().any(|(pid, _)| *pid == seen.parent) {
        let stderr: Vec<&str> = seen
            .outcome
            .stderr
            .lines()
            .filter(|line| !line.starts_with("note:"))
            .collect();
        let hint = if let Some(errno) = &seen.error {
            format!("run_workers returned Err({errno}) although every fork should succeed here")
        } else if seen.outcome.stderr.contains("not yet implemented") {
            "replace the todo!() in src/exercise.rs with your loop".to_string()
        } else if let Some(signal) = seen.outcome.signal() {
            format!(
                "the process that called run_workers died of signal {signal}, which only a worker should \
                 meet: call work(i) in the child, after the fork, never in the parent"
            )
        } else {
            "read the message above, and run that command to see it yourself".to_string()
        };
        panic!(
            "run_workers did not return in the process that called it (`{command}`, {}):\n{}\nHint: {hint}",
            seen.outcome.status,
            stderr.join("\n")
        );
    }
    seen
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn statuses_come_back_in_worker_order() {
    for (n, expected) in [(5, vec![10, 17, 24, 31, 38]), (1, vec![10]), (0, vec![])] {
        let seen = run_alone(&["codes", &n.to_string()]);
        let got = seen.statuses();
        assert_eq!(
            got.len(),
            n,
            "{n} workers gave {} statuses: {got:?}. Hint: fork one child per worker, and waitpid each of them once",
            got.len()
        );
        let mut sorted = got.to_vec();
        sorted.sort_unstable();
        assert_eq!(
            sorted, expected,
            "worker i returns 10 + 7 i, but the statuses were {got:?}. Hint: a child's status is the code in \
             WaitStatus::Exited(pid, code); the child must exit with what work(i) returned"
        );
        assert_eq!(
            got,
            expected.as_slice(),
            "the statuses are right but not in worker order (here the later workers end first). Hint: \
             keep the PIDs in a Vec as you fork, then waitpid(pid, None) for each one in that order, rather \
             than waitpid(-1) for whichever ends first"
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn a_worker_ended_by_a_signal_reports_128_plus_its_number() {
    let seen = run_alone(&["signals"]);
    assert_eq!(
        seen.statuses(),
        [0, 137, 255, 143],
        "workers 1 and 3 die of SIGKILL (9) and SIGTERM (15); 0 and 2 exit with 0 and 255. Hint: \
         WaitStatus::Signaled(pid, signal, _) means the child did not exit: report 128 + signal as i32"
    );
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn the_workers_run_at_the_same_time() {
    // Each worker waits, up to a deadline, until all four have started: only workers that are
    // alive at the same time can all meet (each then returns 0; one that waited in vain, 1).
    let seen = run_alone(&["together", "4"]);
    assert_eq!(
        seen.statuses(),
        [0, 0, 0, 0],
        "the 4 workers never ran at the same time (1 = a worker that waited for the others in vain). \
         Hint: fork every worker before you waitpid any of them, and call work(i) in the child, after the fork"
    );
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn no_zombie_and_no_child_is_left() {
    for args in [["codes", "3"].as_slice(), ["signals"].as_slice()] {
        let seen = run_alone(args);
        assert!(
            seen.zombies.is_empty(),
            "after run_workers returned, /proc shows its children {:?} in state Z: zombies. Hint: every \
             child needs a waitpid; a child that has exited stays a zombie until its parent waits for it",
            seen.zombies
        );
        assert!(
            seen.alive.is_empty(),
            "after run_workers returned, its children {:?} were still running. Hint: wait for every worker \
             to end (waitpid(pid, None) blocks until it has) before returning",
            seen.alive
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn each_child_ends_without_returning() {
    let seen = run_alone(&["codes", "3"]);
    let strays: Vec<u32> = seen
        .returned
        .iter()
        .map(|(pid, _)| *pid)
        .filter(|&pid| pid != seen.parent)
        .collect();
    assert!(
        strays.is_empty(),
        "besides the parent {}, processes {strays:?} returned from run_workers and ran the caller's code a \
         second time. Hint: in the child, call std::process::exit(work(i)): a forked child is a copy of the \
         whole program, and returning takes it back into the caller",
        seen.parent
    );
}

#[test]
#[ignore = "homework: run cargo homework 01"]
fn a_refused_fork_reaps_the_workers_already_started_and_returns_the_error() {
    // Six workers of 200 ms each under a process limit with room for three: the fourth fork
    // fails with EAGAIN, as it does on a shared server or in a container.
    let seen = run_and_read(&["limited", "6", "3"]);
    if let Some(why) = &seen.skipped {
        // Written past the test harness's capture, so that the runner can show it.
        let _ = writeln!(
            std::io::stderr(),
            "homework note: the check of a refused fork was skipped here: {why}"
        );
        return;
    }
    let left = |seen: &Seen| format!("zombies {:?}, still running {:?}", seen.zombies, seen.alive);
    assert!(
        !seen.panicked,
        "under a process limit with room for 3 workers, run_workers panicked when the 4th fork failed, and \
         left {}. Hint: a fork that fails (Err(errno), here EAGAIN) is not a bug to panic on: waitpid every \
         worker already started, then return Err(errno)",
        left(&seen)
    );
    let Some(errno) = &seen.error else {
        panic!(
            "under a process limit with room for 3 of 6 workers, run_workers did not return the error of the \
             fork that failed ({}). Hint: when fork returns Err(errno), wait for the workers already started and \
             return Err(errno); the caller must learn that not every worker ran",
            match seen.statuses() {
                [] if seen.returned.is_empty() => format!("{}", seen.outcome.status),
                statuses => format!("it returned Ok({statuses:?})"),
            }
        );
    };
    assert!(
        seen.zombies.is_empty() && seen.alive.is_empty(),
        "run_workers returned Err({errno}) when the 4th fork failed, but left {}. Hint: before returning the \
         error, waitpid every worker already started: each is still running, or a zombie until waited for",
        left(&seen)
    );
}
