//! A full-size run computes what it should and leaves nothing behind, and so does one
//! interrupted with Ctrl-C at any moment: in particular while a thousand forked children, or a
//! thousand spawned programs, are alive at once. The general tests in `tests/cleanup.rs`
//! interrupt `--quick` runs; these interrupt the real thing.

use serde_json::Value;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use testkit::{Interrupt, Outcome, Run};

/// Full size, with a thousand workers alive at once in the memory measurement (so that an
/// interrupt has time to land there) and a short time unit (sections 1 and 2 only sleep).
fn lesson() -> Run {
    Run::new(env!("CARGO_BIN_EXE_lesson02_threads"))
        .args(["--live", "1000", "--unit", "5"])
        .timeout(Duration::from_secs(180))
}

/// Runs take turns: two full-size runs at once on two cores would shift each other's moments.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// The uninterrupted run's report, made once. (Call it without holding a turn.)
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

fn seconds(value: &Value) -> Duration {
    Duration::from_secs_f64(value.as_f64().unwrap_or_else(|| panic!("not a number: {value}")))
}

#[track_caller]
fn interrupt_at(at: Duration, how: Interrupt) -> Outcome {
    let _turn = one_at_a_time();
    let outcome = lesson().interrupt_after(at, how).go();
    outcome.assert_clean();
    assert!(!outcome.timed_out, "the lesson did not stop\n{}", outcome.describe());
    outcome
}

/// Interrupts runs until one is interrupted inside a window of the run: after it printed
/// `opened` and before it printed `closed`. Starts at `at`, and searches later or earlier
/// (halving its step whenever it changes direction) when a run was faster or slower than the
/// reference: the machine is shared. Every run, inside the window or not, must leave nothing
/// behind.
#[track_caller]
fn interrupt_inside(mut at: Duration, how: Interrupt, opened: &str, closed: &str) {
    let mut step = Duration::from_millis(400);
    let mut last_move_later = None;
    for _ in 0..12 {
        let outcome = interrupt_at(at, how);
        let later = match (outcome.stdout.contains(opened), outcome.stdout.contains(closed)) {
            (true, false) => {
                assert_eq!(outcome.signal(), Some(2), "{}", outcome.describe());
                return;
            }
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
fn a_full_run_gets_every_answer_right() {
    let report = reference();
    let results = figures(report, "Returning results");
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
    let interleaving = figures(report, "Interleaving");
    assert_eq!(interleaving["torn_with_line_lock"], 0);
    assert_eq!(interleaving["print_order"].as_array().map(Vec::len), Some(20));
    let spawn = figures(report, "Spawn and join");
    assert_eq!(
        spawn["finish_order"],
        serde_json::json!(["t2-delay-2", "t3-delay-3", "t1-delay-5"])
    );
    let costs = figures(report, "What a thread costs");
    let samples = report["params"]["samples"].as_u64().unwrap();
    for kind in ["fork + exec", "fork", "thread"] {
        assert_eq!(costs["create_to_join"][kind]["count"].as_u64(), Some(samples), "{kind}");
    }
    for kind in ["memory_thread", "memory_forked", "memory_spawned"] {
        assert!(costs[kind]["resident"].as_u64().unwrap_or(0) > 0, "{kind}: {costs:#}");
    }
    let sweep = figures(report, "Threads for a tiny job")["sweep"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(sweep.len(), 8, "every size of the sweep was measured");
}

#[test]
fn ctrl_c_while_a_thousand_forked_children_are_alive() {
    let at = seconds(&figures(reference(), "What a thread costs")["forked_alive_at_s"]) + Duration::from_millis(50);
    for how in [Interrupt::Process, Interrupt::Group] {
        // From the first fork to the moment they are let go: up to a thousand children alive.
        interrupt_inside(at, how, "threads started and waiting", "starting 1000 copies of `cat`");
    }
}

#[test]
fn ctrl_c_while_a_thousand_spawned_programs_are_alive() {
    let at = seconds(&figures(reference(), "What a thread costs")["spawned_alive_at_s"]) + Duration::from_millis(50);
    for how in [Interrupt::Process, Interrupt::Group] {
        // From the first spawn to the moment they are let go: up to a thousand programs alive.
        interrupt_inside(at, how, "starting 1000 copies of `cat`", "its own");
    }
}

#[test]
fn ctrl_c_at_moments_spread_over_a_whole_run() {
    let total = reference()["elapsed_s"].as_f64().expect("elapsed_s");
    for (i, fraction) in [0.05, 0.15, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9].into_iter().enumerate() {
        let how = if i % 2 == 0 {
            Interrupt::Group
        } else {
            Interrupt::Process
        };
        let outcome = interrupt_at(Duration::from_secs_f64(total * fraction), how);
        let interrupted = outcome.signal() == Some(2);
        assert!(
            interrupted || outcome.code() == Some(0),
            "unexpected end after SIGINT at {:.0}% ({how:?})\n{}",
            fraction * 100.0,
            outcome.describe()
        );
    }
}
