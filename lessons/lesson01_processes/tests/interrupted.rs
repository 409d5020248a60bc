//! Ctrl-C at the hard moments of a full-size run leaves nothing behind: no stopped child, no
//! zombie, no orphan. A first, uninterrupted run says (in its `--json` report) when each moment
//! begins; later runs are interrupted in the middle of those moments, alone (`kill -INT`) and
//! with their whole process group (a terminal's Ctrl-C), and must leave their process group
//! empty. The general tests in `tests/cleanup.rs` interrupt `--quick` runs; these interrupt
//! the real thing.

use serde_json::Value;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use testkit::{Interrupt, Outcome, Run};

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

/// Interrupts a text-mode run `at` after it starts; checks it died of the interrupt and left
/// nothing behind.
#[track_caller]
fn interrupt_at(at: Duration, how: Interrupt) -> Outcome {
    let _turn = one_at_a_time();
    let outcome = lesson().interrupt_after(at, how).go();
    outcome.assert_clean();
    assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
    assert!(
        outcome.signal() == Some(2),
        "expected the lesson to die of SIGINT at {at:?} ({how:?})\n{}",
        outcome.describe()
    );
    outcome
}

/// The last line of the states table that the run printed before it was interrupted.
fn last_step_line(outcome: &Outcome) -> String {
    let table = outcome.stdout.split("3. States").nth(1).unwrap_or_default();
    table
        .lines()
        .rfind(|line| line.contains(" R ") || line.contains(" S ") || line.contains(" T ") || line.contains(" Z "))
        .unwrap_or_default()
        .to_string()
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
        let outcome = interrupt_at(at, how);
        let line = last_step_line(&outcome);
        assert!(
            line.contains("kill -STOP") && line.contains(" T "),
            "the interrupt should land while the child is stopped; last line: {line}\n{}",
            outcome.describe()
        );
    }
}

#[test]
fn ctrl_c_while_the_child_is_blocked_or_a_zombie() {
    for (action, letter) in [("reads from an empty pipe", " S "), ("exit(", " Z ")] {
        let at = step_start(action) + Duration::from_millis(HOLD_MS / 2);
        let outcome = interrupt_at(at, Interrupt::Group);
        let line = last_step_line(&outcome);
        assert!(
            line.contains(action) && line.contains(letter),
            "the interrupt should land during '{action}'; last line: {line}\n{}",
            outcome.describe()
        );
    }
}

#[test]
fn ctrl_c_while_zombies_wait_to_be_reaped() {
    let shown = section(reference(), "Zombies")["figures"]["zombies_shown_at_s"]
        .as_f64()
        .expect("zombies_shown_at_s");
    let at = Duration::from_secs_f64(shown) + Duration::from_millis(HOLD_MS / 2);
    for how in [Interrupt::Process, Interrupt::Group] {
        let outcome = interrupt_at(at, how);
        let zombies = outcome.stdout.split("4. Zombies").nth(1).unwrap_or_default();
        assert!(
            zombies.contains("<defunct>") && !zombies.contains("kill -9"),
            "the interrupt should land while the zombies are listed and not yet reaped\n{}",
            outcome.describe()
        );
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
