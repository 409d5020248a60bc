//! A run computes what it should and leaves nothing behind, and so does one interrupted with
//! Ctrl-C: in particular while a thousand forked children, or a thousand spawned programs, are
//! alive at once, and at the start of every stage of the lesson.
//!
//! Each run is interrupted the moment it prints the line that opens a moment, alone
//! (`kill -INT`) or with its whole process group (a terminal's Ctrl-C), and must die of the
//! interrupt with its process group empty. The interrupt follows the output, not the clock, so a
//! busy machine only makes a run slower, never a test wrong. No timing is asserted.

use std::time::Duration;
use testkit::report::figures;
use testkit::{Interrupt, Run};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson02_threads");

/// Small sizes, but a thousand workers alive at once in the memory measurement.
const A_THOUSAND_ALIVE: [&str; 3] = ["--quick", "--live", "1000"];

/// A run interrupted in the middle of a moment is killed if it takes longer than this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Interrupts a run as soon as it prints `opened`; it must die of the interrupt, leaving
/// nothing, before it printed `closed`. A machine so busy that the interrupt came late gets two
/// more tries; every run must be clean.
#[track_caller]
fn interrupt_inside(opened: &str, closed: &str, how: Interrupt) {
    testkit::interrupt_between(
        || Run::new(LESSON).args(A_THOUSAND_ALIVE).timeout(TIMEOUT),
        opened,
        closed,
        how,
    );
}

#[test]
fn a_whole_run_gets_every_answer_right() {
    let report = Run::new(LESSON).args(["--quick", "--json"]).json_report();
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
        let outcome = Run::new(LESSON)
            .args(["--quick"])
            .interrupt_on_output(stage, how)
            .timeout(TIMEOUT)
            .go();
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
