//! The notebook's threading examples on the machine's CPython: `python/threads.py`, run once
//! with the lesson's unit and samples, read by three sections: section 1 puts its
//! `print_with_delay` rows beside Rust's, section 3 shows what its `join` returned and what its
//! shared list collected, section 4 adds its thread and process start-up times to Rust's.

use crate::Params;
use course::Lesson;
use course::python::{Twin, TwinVariant};
use course::timing::Latencies;
use serde_json::Value;
use std::time::Duration;

/// Runs the twin unless a section before did (its output goes to `p.twin`); nothing without a
/// working Python.
pub fn run_once(lesson: &Lesson, p: &mut Params) {
    if p.twin.is_none() {
        let mut args = vec![
            "--unit".to_string(),
            p.unit.as_millis().to_string(),
            "--samples".to_string(),
            p.samples.to_string(),
        ];
        // --quick gives the twin's start-up timings 0.3 s each instead of 3 s.
        if lesson.quick() {
            args.push("--quick".to_string());
        }
        // Two rounds of print_with_delay (10 units each at most), then at most two budgets of 3 s.
        let timeout = Duration::from_secs(40) + p.unit * 20;
        p.twin = p.python.run(lesson, course::python_twin!("threads.py"), args, timeout);
    }
}

/// A list of strings in the twin's JSON.
pub fn strings(value: &Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_string))
        .collect()
}

/// A list of whole numbers in the twin's JSON.
pub fn numbers(value: &Value) -> Option<Vec<usize>> {
    value
        .as_array()?
        .iter()
        .map(|v| v.as_u64().map(|n| n as usize))
        .collect()
}

/// The delays of "hello with delay N" messages, in the order given: `[2, 3, 5]`.
pub fn delays_of(messages: &[String]) -> Vec<u32> {
    messages
        .iter()
        .filter_map(|m| m.rsplit(['-', ' ']).next()?.parse().ok())
        .collect()
}

/// The order the twin's threads printed in.
pub fn printed_order(variant: &TwinVariant) -> Option<Vec<String>> {
    strings(variant.extra.get("printed")?)
}

/// What starting a thread or a process and joining it took in CPython, each time: `which` is
/// "thread" or "process". `None` when the twin timed none.
pub fn start_and_join(twin: &Twin, which: &str) -> Option<Latencies> {
    let times = twin
        .extra
        .get("start_and_join")?
        .get(which)?
        .get("times_s")?
        .as_array()?;
    let mut latencies = Latencies::new();
    for time in times {
        let seconds = time.as_f64().filter(|s| s.is_finite() && *s >= 0.0)?;
        latencies.record(Duration::from_secs_f64(seconds));
    }
    (latencies.count() > 0).then_some(latencies)
}

/// How this CPython starts a `multiprocessing.Process`: "fork", "spawn" or "forkserver".
pub fn start_method(twin: &Twin) -> String {
    twin.python
        .get("start_method")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_are_read_from_messages_and_thread_names() {
        let messages = ["hello with delay 2".to_string(), "hello with delay 15".to_string()];
        assert_eq!(delays_of(&messages), [2, 15]);
        assert_eq!(delays_of(&["t2-delay-2".to_string()]), [2]);
    }
}
