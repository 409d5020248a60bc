//! Ctrl-C at the risky moments leaves nothing behind: no stopped child, no zombie, no orphan.
//!
//! Each run is interrupted the moment it prints the line that opens a moment (the child has
//! just been stopped, zombies wait to be reaped, ...), alone (`kill -INT`) or with its whole
//! process group (a terminal's Ctrl-C), and must die of the interrupt with its process group
//! empty. The interrupt follows the output, not the clock, so a busy machine only makes a run
//! slower, never a test wrong; the states are held long enough (`--hold`) that it lands inside
//! the moment, which each test checks from the output: the line that closes the moment was
//! never printed. No timing is asserted.

use std::time::Duration;
use testkit::report::section;
use testkit::{Interrupt, Run};

const LESSON: &str = env!("CARGO_BIN_EXE_lesson01_processes");

/// How long the watched child stays in each state in the targeted runs: the time an interrupt
/// has to arrive once the line that opens the state is out.
const HOLD_MS: &str = "200";

/// A run interrupted in the middle of a moment is killed if it takes longer than this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// Interrupts a run with its states held [`HOLD_MS`] as soon as it prints `opened`, and checks
/// that the interrupt landed before it printed `closed` and that it died of it, leaving nothing.
/// A machine so busy that the interrupt came late gets two more tries; every run must be clean.
#[track_caller]
fn interrupt_inside(opened: &str, closed: &str, how: Interrupt) {
    testkit::interrupt_between(
        || Run::new(LESSON).args(["--quick", "--hold", HOLD_MS]).timeout(TIMEOUT),
        opened,
        closed,
        how,
    );
}

#[test]
fn a_whole_run_reaps_every_child_and_the_kernel_agrees_with_the_model() {
    let report = Run::new(LESSON).args(["--quick", "--json"]).json_report();
    let states = section(&report, "States");
    assert_eq!(states["figures"]["steps_as_predicted"], 9, "{states:#}");
    let zombies = section(&report, "Zombies");
    assert_eq!(zombies["figures"]["children_left"], 0, "{zombies:#}");
    assert_eq!(zombies["figures"]["zombies_as_predicted"], 3, "{zombies:#}");
    assert_eq!(zombies["figures"]["state_after_kill_9"], "Z", "{zombies:#}");
    assert_eq!(zombies["figures"]["adoption"]["reaped"], true, "{zombies:#}");
    let cow = section(&report, "Fork, then load");
    let predicted = cow["figures"]["predicted_copy_bytes"].as_f64().unwrap();
    let measured = cow["figures"]["measured_copy_bytes"].as_f64().unwrap();
    // The copy is the written part, give or take a few pages of the child's own stack and globals.
    assert!(
        (measured - predicted).abs() < 1024.0 * 1024.0,
        "copy-on-write copied {measured} bytes for {predicted} written\n{cow:#}"
    );
    let threads = section(&report, "Fork only while single-threaded");
    assert_eq!(threads["figures"]["threads_during"], 2, "{threads:#}");
    assert!(threads["figures"]["fork_refused"].is_string(), "{threads:#}");
    assert_eq!(threads["figures"]["threads_after"], 1, "{threads:#}");
}

#[test]
fn ctrl_c_while_the_child_is_stopped() {
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside("kill -STOP", "kill -CONT", how);
    }
}

#[test]
fn ctrl_c_while_the_child_is_blocked_or_a_zombie() {
    interrupt_inside("reads from an empty pipe", "data arrived", Interrupt::Group);
    interrupt_inside("exit(3)", "waitpid →", Interrupt::Process);
}

#[test]
fn ctrl_c_while_zombies_wait_to_be_reaped() {
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside("<defunct>: no memory", "kill -9", how);
    }
}

#[test]
fn ctrl_c_at_every_stage_of_a_larger_run() {
    // Larger memory than --quick (a shared buffer and fork timed with more held), states held
    // 1 ms: one run per stage, interrupted as the stage begins, alternately alone and with the
    // whole process group.
    let args = ["--quick", "--hold", "1", "--buffer-mib", "128", "--fork-mib", "256"];
    let stages = [
        // Forking the child that will exec, and the exec itself.
        "2. Lifecycle",
        "execv(\"/bin/sh\"",
        // The watched child, busy.
        "3. States",
        // Zombies being made.
        "4. Zombies",
        // M and G alive, G a zombie of M: the interrupt is held back until both are reaped.
        "(its parent M is",
        // The buffer being filled and shared with a child.
        "5. Fork, then load",
        // fork timed over and over with memory held.
        "fork's own cost",
        // A second thread alive.
        "6. Fork only",
    ];
    for (i, stage) in stages.into_iter().enumerate() {
        let how = if i % 2 == 0 {
            Interrupt::Group
        } else {
            Interrupt::Process
        };
        // A short last stage can end the whole run before the signal lands: that run must be
        // clean too, and the stage gets two more tries to be caught in the act.
        let mut interrupted = false;
        for _ in 0..3 {
            let outcome = Run::new(LESSON)
                .args(args)
                .interrupt_on_output(stage, how)
                .timeout(TIMEOUT)
                .go();
            outcome.assert_clean();
            assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
            if outcome.signal() == Some(2) {
                interrupted = true;
                break;
            }
            assert!(
                outcome.code() == Some(0) && outcome.stdout.contains("End of lesson01_processes"),
                "expected the lesson to die of SIGINT at '{stage}' ({how:?}), or to have finished first\n{}",
                outcome.describe()
            );
        }
        assert!(
            interrupted,
            "three runs in a row finished before the interrupt at '{stage}' ({how:?}) landed"
        );
    }
}
