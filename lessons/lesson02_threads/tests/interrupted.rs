//! A run computes what it should and leaves nothing behind, and so does one interrupted with
//! Ctrl-C: in particular while a thousand forked children, or a thousand spawned programs, are
//! alive at once, and at the start of every stage of the lesson.
//!
//! Each run is interrupted the moment it prints the line that opens a moment, alone
//! (`kill -INT`) or with its whole process group (a terminal's Ctrl-C), and must die of the
//! interrupt with its process group empty. The interrupt follows the output, not the clock, so a
//! busy machine only makes a run slower, never a test wrong. No timing is asserted.

use nix::sys::signal::{Signal, kill, killpg};
use nix::unistd::Pid;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use testkit::{Interrupt, Outcome, Run};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson02_threads");

/// Small sizes, but a thousand workers alive at once in the memory measurement.
const A_THOUSAND_ALIVE: [&str; 3] = ["--quick", "--live", "1000"];

/// A run interrupted in the middle of a moment is killed if it takes longer than this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the lesson with `args` and sends SIGINT (`how`) as soon as a line of its output
/// contains `marker`. What it left behind is recorded as `testkit::Run` records it.
fn interrupt_on_line(args: &[&str], marker: &str, how: Interrupt) -> Outcome {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let temp_dir = std::env::temp_dir().join(format!(
        "lesson02-interrupted-{}-{}",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&temp_dir).expect("create a private TMPDIR for the run");
    let started = Instant::now();
    let mut child = Command::new(LESSON)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("TMPDIR", &temp_dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .process_group(0)
        .spawn()
        .expect("start the lesson");
    let pid = Pid::from_raw(child.id() as i32);
    // Lines arrive as the lesson prints them (Rust's stdout is line-buffered even into a pipe).
    let (line_sender, lines) = mpsc::channel::<String>();
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let stdout_reader = std::thread::spawn(move || {
        let mut line = Vec::new();
        while stdout.read_until(b'\n', &mut line).is_ok_and(|n| n > 0) {
            let _ = line_sender.send(String::from_utf8_lossy(&line).into_owned());
            line.clear();
        }
    });
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });

    let mut printed = String::new();
    let mut interrupted = false;
    let mut timed_out = false;
    let status = loop {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(5)) {
            if !interrupted && line.contains(marker) {
                let _ = match how {
                    Interrupt::Process => kill(pid, Signal::SIGINT),
                    Interrupt::Group => killpg(pid, Signal::SIGINT),
                };
                interrupted = true;
            }
            printed.push_str(&line);
        }
        if let Some(status) = child.try_wait().expect("wait for the lesson") {
            break status;
        }
        if started.elapsed() > TIMEOUT {
            timed_out = true;
            let _ = killpg(pid, Signal::SIGKILL);
            break child.wait().expect("wait for the killed lesson");
        }
    };
    let elapsed = started.elapsed();
    // Children it forgot may take a moment to die: a grace period, then whoever is left is
    // recorded and killed, so that a failing test leaks nothing.
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut leftovers = testkit::processes_in_group(pid);
    while !leftovers.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        leftovers = testkit::processes_in_group(pid);
    }
    let _ = killpg(pid, Signal::SIGKILL);
    let _ = stdout_reader.join();
    printed.extend(lines.try_iter());
    let temp_files = std::fs::read_dir(&temp_dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| entry.path().display().to_string())
                .collect()
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&temp_dir);
    Outcome {
        command: format!("{LESSON} {} (SIGINT to the {how:?} at '{marker}')", args.join(" ")),
        status,
        stdout: printed,
        stderr: stderr_reader.join().unwrap_or_default(),
        elapsed,
        timed_out,
        leftovers,
        temp_files,
    }
}

/// Interrupts a run as soon as it prints `opened`; it must die of the interrupt, leaving
/// nothing, before it printed `closed`. A machine so busy that the interrupt came late gets two
/// more tries; every run must be clean.
#[track_caller]
fn interrupt_inside(opened: &str, closed: &str, how: Interrupt) {
    for _ in 0..3 {
        let outcome = interrupt_on_line(&A_THOUSAND_ALIVE, opened, how);
        outcome.assert_clean();
        assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
        assert_eq!(
            outcome.signal(),
            Some(2),
            "expected the lesson to die of SIGINT\n{}",
            outcome.describe()
        );
        if !outcome.stdout.contains(closed) {
            return;
        }
    }
    panic!("three runs in a row were interrupted after '{closed}', not before ({how:?})");
}

fn figures<'a>(report: &'a Value, title_start: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .and_then(|sections| {
            sections
                .iter()
                .find(|s| s["title"].as_str().is_some_and(|t| t.starts_with(title_start)))
        })
        .map(|section| &section["figures"])
        .unwrap_or_else(|| panic!("no section '{title_start}' in {report:#}"))
}

#[test]
fn a_whole_run_gets_every_answer_right() {
    let outcome = Run::new(LESSON).args(["--quick", "--json"]).go();
    outcome.assert_code(0);
    outcome.assert_clean();
    let report = outcome.json();
    let results = figures(&report, "Returning results");
    let expected = serde_json::json!([150000, 140000, 21]);
    assert_eq!(results["expected"], expected);
    for way in ["join_handles", "scoped_threads"] {
        assert_eq!(results[way], expected, "{way} keeps the input order");
    }
    for way in ["shared_list", "channel"] {
        let mut got: Vec<u64> = results[way]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, vec![21, 140000, 150000], "{way}");
    }
    let interleaving = figures(&report, "Interleaving");
    assert_eq!(interleaving["torn_with_line_lock"], 0);
    assert_eq!(interleaving["print_order"].as_array().map(Vec::len), Some(20));
    let spawn = figures(&report, "Spawn and join");
    assert_eq!(
        spawn["finish_order"],
        serde_json::json!(["t2-delay-2", "t3-delay-3", "t1-delay-5"])
    );
    let costs = figures(&report, "What a thread costs");
    let samples = report["params"]["samples"].as_u64().unwrap();
    for kind in ["fork + exec", "fork", "thread"] {
        assert_eq!(costs["create_to_join"][kind]["count"].as_u64(), Some(samples), "{kind}");
    }
    for kind in ["memory_thread", "memory_forked", "memory_spawned"] {
        assert!(costs[kind]["resident"].as_u64().unwrap_or(0) > 0, "{kind}: {costs:#}");
    }
    // The sweep: every size measured, and each one's comparison in the report, answers agreeing.
    let tiny = report["sections"]
        .as_array()
        .and_then(|sections| sections.last())
        .expect("a last section");
    let sweep = tiny["figures"]["sweep"].as_array().cloned().unwrap_or_default();
    assert_eq!(sweep.len(), 4, "every size of the --quick sweep was measured");
    let comparisons = tiny["comparisons"].as_array().cloned().unwrap_or_default();
    assert_eq!(comparisons.len(), 1 + sweep.len(), "{tiny:#}");
    for (comparison, words) in comparisons.iter().zip([1100, 1100, 17_600, 281_600, 4_505_600]) {
        assert_eq!(comparison["answers_agree"], true, "{comparison:#}");
        assert_eq!(comparison["answer"], words.to_string(), "{comparison:#}");
    }
}

#[test]
fn ctrl_c_while_a_thousand_forked_children_are_alive() {
    // The line is printed once all of them are forked, before they are let go.
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside("forked processes waiting", "starting 1000 copies of `cat`", how);
    }
}

#[test]
fn ctrl_c_while_a_thousand_programs_are_spawned_or_alive() {
    // While they are being started, one by one; then once all of them wait on their pipes.
    interrupt_inside(
        "starting 1000 copies of `cat`",
        "copies of `cat` waiting",
        Interrupt::Group,
    );
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside("copies of `cat` waiting", "its own", how);
    }
}

#[test]
fn ctrl_c_at_every_stage_of_a_run() {
    let stages = [
        // Three named threads asleep.
        "Three threads, started together",
        // Four threads printing on their schedules, then many writing as fast as they can.
        "2. Interleaving",
        // Threads counting long strings.
        "3. Returning results",
        // Programs spawned, processes forked and threads started, one after another.
        "4. What a thread costs",
        // Threads waiting at a gate; then the forks begin.
        "threads started and waiting",
        // A thread per string, and the sweep of sizes.
        "5. Threads for a tiny job",
        "each repeated more and more times",
    ];
    for (i, stage) in stages.into_iter().enumerate() {
        let how = if i % 2 == 0 {
            Interrupt::Group
        } else {
            Interrupt::Process
        };
        let outcome = interrupt_on_line(&["--quick"], stage, how);
        outcome.assert_clean();
        assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
        assert_eq!(
            outcome.signal(),
            Some(2),
            "expected the lesson to die of SIGINT at '{stage}' ({how:?})\n{}",
            outcome.describe()
        );
    }
}
