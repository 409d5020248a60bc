//! The race of section 1 on the machine's CPython: runs the twin `python/race.py` (the
//! notes' `counter += 1` on threads, the load and store written out, a call between them,
//! and a lock) and says what this interpreter did, and why, from what it measured.

use course::python::{Interpreter, Python};
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use serde::Serialize;
use std::time::Duration;

/// The most increments per thread CPython is given: it takes about 50 times as long as Rust
/// for each, and a million is enough to show whether its threads lose updates.
pub const MOST_INCREMENTS: u64 = 1_000_000;

/// The twin's variants, by the names it gives them, in the order it runs them.
const PLUS_EQUALS: &str = "counter += 1";
const CALL_BETWEEN: &str = "a call between the load and the store";
const WITH_LOCK: &str = "with a lock";

/// What CPython did with the race.
#[derive(Clone, Debug, Serialize)]
pub struct CPythonRace {
    pub interpreter: String,
    pub version: String,
    pub has_gil: bool,
    pub threads: usize,
    pub increments: u64,
    pub expected: u64,
    pub variants: Vec<Outcome>,
}

/// One of the twin's variants: its counter and what it lost.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub name: String,
    pub total: u64,
    pub lost_updates: u64,
    /// The bytecode from the load of the counter to its store, as this interpreter compiled it.
    pub between_load_and_store: Vec<String>,
    pub wall_s: f64,
}

impl CPythonRace {
    fn outcome(&self, name: &str) -> Option<&Outcome> {
        self.variants.iter().find(|v| v.name == name)
    }
}

/// Runs the twin with `n_threads` threads × `increments` each. `None` when there is no
/// Python, or when it failed or gave an impossible answer (a warning line says which).
pub fn race_in_cpython(lesson: &Lesson, python: &Python, n_threads: usize, increments: u64) -> Option<CPythonRace> {
    let interpreter = python.interpreter()?.clone();
    let args = [
        "--threads".to_string(),
        n_threads.to_string(),
        "--increments".to_string(),
        increments.to_string(),
    ];
    // About half a microsecond per increment here; far more before the twin is stopped.
    let timeout = Duration::from_secs(20) + Duration::from_micros(20) * (n_threads as u32) * (increments as u32);
    let twin = python.run(lesson, course::python_twin!("race.py"), args, timeout)?;
    let expected = n_threads as u64 * increments;
    let mut variants = Vec::new();
    for variant in twin.variants_of("counter") {
        let total = variant.answers.first().and_then(serde_json::Value::as_u64);
        // An update can be lost, never gained; with a lock, none is lost.
        let possible = total.is_some_and(|t| t <= expected && (variant.name != WITH_LOCK || t == expected));
        let Some(total) = total.filter(|_| possible) else {
            lesson.warn(&format!(
                "{} ({}), '{}', counted {} of {expected}: its rows are left out",
                interpreter.label(),
                interpreter.command.display(),
                variant.name,
                variant.answers.first().map_or("nothing".to_string(), |v| v.to_string())
            ));
            return None;
        };
        let between_load_and_store = variant
            .extra
            .get("between_load_and_store")
            .and_then(|steps| serde_json::from_value(steps.clone()).ok())
            .unwrap_or_default();
        variants.push(Outcome {
            name: variant.name.clone(),
            total,
            lost_updates: expected - total,
            between_load_and_store,
            wall_s: variant.median().wall.as_secs_f64(),
        });
    }
    if let Some(missing) = [PLUS_EQUALS, CALL_BETWEEN, WITH_LOCK]
        .into_iter()
        .find(|name| !variants.iter().any(|v| v.name == *name))
    {
        lesson.warn(&format!(
            "{} ({}) printed no '{missing}' variant: its rows are left out",
            interpreter.label(),
            interpreter.command.display()
        ));
        return None;
    }
    Some(CPythonRace {
        interpreter: interpreter.label(),
        version: interpreter.version.clone(),
        has_gil: interpreter.has_gil(),
        threads: n_threads,
        increments,
        expected,
        variants,
    })
}

/// Asks the room what CPython's `counter += 1` loses, reveals what it did and why, then shows
/// every variant's counter and what the others say.
pub fn show(lesson: &Lesson, race: &CPythonRace, interpreter: &Interpreter) -> anyhow::Result<()> {
    let mut sentences = why(race, interpreter).into_iter();
    say!(lesson);
    lesson.reveal(
        format!(
            "Your turn: {}, {} × {} `counter += 1`: how many updates are lost?",
            race.interpreter,
            format::plural(race.threads as u64, "thread"),
            format::count(race.increments)
        ),
        sentences.next().unwrap_or_default(),
    )?;
    let mut table = Table::new(&["python/race.py", "counter", "lost updates"]);
    for outcome in &race.variants {
        table.row([
            outcome.name.clone(),
            format::count(outcome.total),
            lost(outcome, race.expected),
        ]);
    }
    lesson.table(&table);
    for sentence in sentences {
        say!(lesson, "  {sentence}");
    }
    Ok(())
}

fn lost(outcome: &Outcome, expected: u64) -> String {
    if outcome.lost_updates == 0 {
        "0".to_string()
    } else {
        format!(
            "{} ({})",
            format::count(outcome.lost_updates),
            format::percent(outcome.lost_updates as f64 / expected as f64)
        )
    }
}

/// Whether this CPython hands the GIL over only at certain points (a call, a backward jump),
/// as CPython does since 3.10, rather than between almost any two bytecodes.
fn switches_only_at_calls_and_jumps(version: &str) -> bool {
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
    let (major, minor) = (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0));
    (major, minor) >= (3, 10)
}

/// What happened, and why, in a few sentences derived from the measurement.
fn why(race: &CPythonRace, interpreter: &Interpreter) -> Vec<String> {
    let (Some(plain), Some(call), Some(locked)) = (
        race.outcome(PLUS_EQUALS),
        race.outcome(CALL_BETWEEN),
        race.outcome(WITH_LOCK),
    ) else {
        return Vec::new();
    };
    let load = plain.between_load_and_store.first().map_or("the load", String::as_str);
    let store = plain.between_load_and_store.last().map_or("the store", String::as_str);
    let name = &race.interpreter;
    let lost_plain = format::plural(plain.lost_updates, "update");
    let first = match (race.has_gil, switches_only_at_calls_and_jumps(&interpreter.version)) {
        (true, true) if plain.lost_updates == 0 => format!(
            "{name} lost no update with `counter += 1`: with a GIL, CPython 3.10 and later lets another thread in only at a call or a loop's backward jump, and there is none between `{load}` and `{store}`."
        ),
        (true, true) => format!(
            "{name} lost {lost_plain} with `counter += 1`: another thread got in between `{load}` and `{store}`, which CPython 3.10 and later with a GIL rarely allows."
        ),
        (true, false) if plain.lost_updates > 0 => format!(
            "{name} lost {lost_plain} with `counter += 1`: before 3.10, CPython can hand the GIL to another thread between almost any two bytecodes, `{load}` and `{store}` included."
        ),
        (true, false) => format!(
            "{name} lost no update with `counter += 1` this time, though before 3.10 CPython can hand the GIL over between almost any two bytecodes, `{load}` and `{store}` included: run it again."
        ),
        (false, _) if plain.lost_updates > 0 => format!(
            "{name} lost {lost_plain} with `counter += 1`: without a GIL its threads run at the same moment, and another thread's store lands between our load and our store."
        ),
        (false, _) => format!(
            "{name} lost no update with `counter += 1` this time, though without a GIL its threads run at the same moment: run it again."
        ),
    };
    let mut sentences = vec![first];
    let lock = if locked.lost_updates == 0 {
        "With a lock around the three steps: exact.".to_string()
    } else {
        format!(
            "With a lock, {} were lost: the lock failed.",
            lost(locked, race.expected)
        )
    };
    sentences.push(if call.lost_updates > 0 {
        format!(
            "With a call between the load and the store, {} were lost: at the call the other thread may run (up to a switch interval, {}) and our store then writes over what it added. {lock}",
            lost(call, race.expected),
            format::duration(Duration::try_from_secs_f64(interpreter.switch_interval_s).unwrap_or_default())
        )
    } else {
        format!("With a call between the load and the store, none was lost this time: no hand-over fell inside the gap (raise --increments). {lock}")
    });
    sentences
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_3_10_switch_only_at_calls_and_jumps() {
        assert!(!switches_only_at_calls_and_jumps("3.8.18"));
        assert!(!switches_only_at_calls_and_jumps("3.9.0"));
        assert!(switches_only_at_calls_and_jumps("3.10.13"));
        assert!(switches_only_at_calls_and_jumps("3.13.0"));
        assert!(switches_only_at_calls_and_jumps("4.0"));
    }
}
