//! Ctrl-C at the hard moments of a full-size run leaves nothing behind: no stopped child, no
//! zombie, no orphan. A first, uninterrupted run says (in its `--json` report) when each moment
//! begins; later runs are interrupted in the middle of those moments, alone (`kill -INT`) and
//! with their whole process group (a terminal's Ctrl-C), and must leave their process group
//! empty. The general tests in `tests/cleanup.rs` interrupt `--quick` runs; these interrupt
//! the real thing.

use serde_json::Value;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use testkit::{Interrupt, Run};

/// Each state is held this long, so that an interrupt aimed at its middle lands inside it even
/// on a busy machine.
const HOLD_MS: u64 = 1000;

fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson01_processes"))
        .args(["--hold", &HOLD_MS.to_string()])
        .timeout(Duration::from_secs(120))
}

/// Runs take turns: two full-size runs at once on two cores would shift each other's moments.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The uninterrupted full-size run's report, made once. (Call it without holding a turn.)
fn reference() -> &'static Value {
    static REPORT: OnceLock<Value> = OnceLock::new();
    REPORT.get_or_init(|| {
        let _turn = one_at_a_time();
        let outcome = lesson().args(["--json"]).go();
        outcome.assert_code(0);
        outcome.assert_clean();
        outcome.json()
    })
}

fn section<'a>(report: &'a Value, title_start: &str) -> &'a Value {
    report["sections"]
        .as_array()
        .and_then(|sections| {
            sections
                .iter()
                .find(|s| s["title"].as_str().is_some_and(|t| t.starts_with(title_start)))
        })
        .unwrap_or_else(|| panic!("no section '{title_start}' in {report:#}"))
}

/// When the watched child entered the state whose step action starts with `action`.
fn step_start(action: &str) -> Duration {
    let steps = &section(reference(), "States")["figures"]["steps"];
    let step = steps
        .as_array()
        .and_then(|steps| {
            steps
                .iter()
                .find(|s| s["action"].as_str().is_some_and(|a| a.starts_with(action)))
        })
        .unwrap_or_else(|| panic!("no step '{action}' in {steps:#}"));
    Duration::from_secs_f64(step["since_start_s"].as_f64().expect("since_start_s"))
}

/// Interrupts runs until one is interrupted inside a window of the run: after it printed
/// `opened` and before it printed `closed`. Starts at `at`, and searches later or earlier
/// (halving its step whenever it changes direction) when a run was faster or slower than the
/// reference: the machine is shared. Every run, inside the window or not, must die of the
/// interrupt and leave nothing behind.
#[track_caller]
fn interrupt_inside(mut at: Duration, how: Interrupt, opened: &str, closed: &str) {
    let mut step = Duration::from_millis(HOLD_MS / 2);
    let mut last_move_later = None;
    for _ in 0..12 {
        let outcome = {
            let _turn = one_at_a_time();
            lesson().interrupt_after(at, how).go()
        };
        outcome.assert_clean();
        assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
        assert_eq!(
            outcome.signal(),
            Some(2),
            "expected the lesson to die of SIGINT at {at:?} ({how:?})\n{}",
            outcome.describe()
        );
        let later = match (outcome.stdout.contains(opened), outcome.stdout.contains(closed)) {
            (true, false) => return,
            (false, _) => true,
            (true, true) => false,
        };
        if last_move_later.is_some_and(|previous| previous != later) {
            step /= 2;
        }
        last_move_later = Some(later);
        at = if later { at + step } else { at.saturating_sub(step) };
    }
    panic!("no run was interrupted between '{opened}' and '{closed}' ({how:?})");
}

#[test]
fn a_full_run_reaps_every_child_and_the_kernel_agrees_with_the_model() {
    let report = reference();
    let states = section(report, "States");
    assert_eq!(states["figures"]["steps_as_predicted"], 9, "{states:#}");
    let zombies = section(report, "Zombies");
    assert_eq!(zombies["figures"]["children_left"], 0, "{zombies:#}");
    assert_eq!(zombies["figures"]["state_after_kill_9"], "Z", "{zombies:#}");
    assert_eq!(zombies["figures"]["adoption"]["reaped"], true, "{zombies:#}");
    let cow = section(report, "Fork, then load");
    let predicted = cow["figures"]["predicted_copy_bytes"].as_f64().unwrap();
    let measured = cow["figures"]["measured_copy_bytes"].as_f64().unwrap();
    // The copy is the written part, give or take a few pages of the child's own stack and globals.
    assert!(
        (measured - predicted).abs() < 1024.0 * 1024.0,
        "copy-on-write copied {measured} bytes for {predicted} written\n{cow:#}"
    );
}

#[test]
fn ctrl_c_while_the_child_is_stopped() {
    let at = step_start("kill -STOP") + Duration::from_millis(HOLD_MS / 2);
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside(at, how, "kill -STOP", "kill -CONT");
    }
}

#[test]
fn ctrl_c_while_the_child_is_blocked_or_a_zombie() {
    for (opened, closed) in [("reads from an empty pipe", "data arrived"), ("exit(3)", "waitpid →")] {
        let at = step_start(opened) + Duration::from_millis(HOLD_MS / 2);
        interrupt_inside(at, Interrupt::Group, opened, closed);
    }
}

#[test]
fn ctrl_c_while_zombies_wait_to_be_reaped() {
    let shown = section(reference(), "Zombies")["figures"]["zombies_shown_at_s"]
        .as_f64()
        .expect("zombies_shown_at_s");
    let at = Duration::from_secs_f64(shown) + Duration::from_millis(HOLD_MS / 2);
    for how in [Interrupt::Process, Interrupt::Group] {
        interrupt_inside(at, how, "<defunct>: no memory", "kill -9");
    }
}

#[test]
fn ctrl_c_at_moments_spread_over_a_whole_run() {
    // With states held 1 ms, the whole full-size run takes a few seconds: interrupt it at
    // moments spread over all of it (lifecycle and exec, states, zombies, adoption,
    // copy-on-write with a large shared buffer, fork timed over and over with a gigabyte held).
    let quick_states = || {
        Run::new(env!("CARGO_BIN_EXE_lesson01_processes"))
            .args(["--hold", "1"])
            .timeout(Duration::from_secs(120))
    };
    let total = {
        let _turn = one_at_a_time();
        let outcome = quick_states().go();
        outcome.assert_code(0);
        outcome.assert_clean();
        outcome.elapsed.as_secs_f64()
    };
    let moments = [0.01, 0.03, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95].map(|fraction| total * fraction);
    for (i, seconds) in moments.into_iter().enumerate() {
        let how = if i % 2 == 0 {
            Interrupt::Group
        } else {
            Interrupt::Process
        };
        let _turn = one_at_a_time();
        let outcome = quick_states()
            .interrupt_after(Duration::from_secs_f64(seconds), how)
            .go();
        outcome.assert_clean();
        assert!(
            !outcome.timed_out,
            "the lesson did not stop at {seconds:.2} s\n{}",
            outcome.describe()
        );
        let interrupted = outcome.signal() == Some(2);
        assert!(
            interrupted || outcome.code() == Some(0),
            "unexpected end after SIGINT at {seconds:.2} s ({how:?})\n{}",
            outcome.describe()
        );
    }
}
