//! Section 1: the notebook's `print_with_delay`, one call after another and then on three named
//! threads; the threads as the kernel lists them while they sleep; the notebook's own Python
//! beside them (`python/threads.py`).

use crate::Params;
use crate::cpython;
use crate::observe::{self, ThreadEntry};
use crate::threads::{self, Print};
use course::timing::{Comparison, format};
use course::{Lesson, say};
use std::sync::Mutex;
use std::thread;
use std::time::Instant;

/// The messages a run printed, in the order its calls were made (the comparison's answer).
#[derive(Clone, PartialEq)]
struct Messages(Vec<String>);

impl std::fmt::Display for Messages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // "hello with delay 5, 2, 3": the common words once.
        let prefix = "hello with delay ";
        match self
            .0
            .iter()
            .map(|m| m.strip_prefix(prefix))
            .collect::<Option<Vec<_>>>()
        {
            Some(delays) if !delays.is_empty() => write!(f, "{prefix}{}", delays.join(", ")),
            _ => write!(f, "{}", self.0.join(", ")),
        }
    }
}

/// What the threaded run was seen doing.
#[derive(Default)]
struct Seen {
    finish_order: Vec<String>,
    threads_seen: Option<Vec<ThreadEntry>>,
    /// "main joined t1-delay-5" and the others, shown on one line once all are joined.
    joined: Vec<(String, String)>,
}

/// What CPython's threads did, beside Rust's.
#[derive(serde::Serialize)]
struct CPythonPrints {
    interpreter: String,
    /// The delays in the order its threads printed them, and Rust's.
    finish_order: Vec<u32>,
    rust_finish_order: Vec<u32>,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (unit, delays) = (p.unit, [5, 2, 3]);
    let me = thread::current();
    let tid = observe::kernel_thread_id().map_or("unknown".to_string(), |t| t.to_string());
    say!(
        lesson,
        "  This thread: {:?}, {:?}, kernel thread ID {tid}, which is the PID ({}).",
        me.name().unwrap_or("unnamed"),
        me.id(),
        std::process::id()
    );
    say!(
        lesson,
        "  print_with_delay sleeps, then prints. Delays 5, 2 and 3 units of {}, one after another:",
        format::duration(unit)
    );
    let seen = Mutex::new(Seen::default());
    let start = Mutex::new(Instant::now());
    let restart = || *start.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
    let print = |message: &str| {
        let at = format::duration(start.lock().unwrap_or_else(|e| e.into_inner()).elapsed());
        let name = thread::current().name().unwrap_or("unnamed").to_string();
        if let Some(joined) = message.strip_prefix("main joined ") {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            seen.joined.push((at, joined.to_string()));
            return;
        }
        if message.starts_with("hello") {
            say!(lesson, "    {at:>9}  {message}   ({name})");
        } else {
            say!(lesson, "    {at:>9}  {message}");
        }
        if name != "main" {
            let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            // The first thread to wake: the other two still sleep, and all three are named.
            if seen.threads_seen.is_none() {
                seen.threads_seen = observe::threads_of_this_process();
            }
            seen.finish_order.push(name);
        }
    };
    let mut comparison = Comparison::new(format!(
        "print_with_delay after 5, 2 and 3 units of {}",
        format::duration(unit)
    ))
    .waiting();
    comparison.try_variant("one after another", 1, || {
        restart();
        threads::one_after_another(&delays, unit, &print as &Print<'_>).map(Messages)
    })?;
    lesson.reveal(
        "Three threads sleep 5, 2 and 3 units at once. How long do the three take together?",
        format!(
            "The longest delay, 5 units ({}), not the sum: the threads wait at the same time.",
            format::duration(unit * 5)
        ),
    )?;
    say!(
        lesson,
        "  Three threads, started together, then joined in the notebook's order (t1, t2, t3):"
    );
    comparison.try_variant("three threads", delays.len(), || {
        restart();
        threads::on_named_threads(&delays, unit, &print as &Print<'_>).map(Messages)
    })?;
    let seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some((at, _)) = seen.joined.last() {
        let names: Vec<&str> = seen.joined.iter().map(|(_, name)| name.as_str()).collect();
        say!(lesson, "    {at:>9}  main joined {}", names.join(", "));
    }
    if let Some(threads) = &seen.threads_seen {
        let list: Vec<String> = threads.iter().map(|t| format!("{} {}", t.tid, t.name)).collect();
        say!(
            lesson,
            "  While they slept, this process had {} (as `ps -L` lists them): {}.",
            format::plural(threads.len() as u64, "thread"),
            list.join(", ")
        );
    }
    let expected = Messages(delays.iter().map(|d| format!("hello with delay {d}")).collect());
    cpython::run_once(lesson, p);
    if let Some(twin) = &p.twin {
        // CPython reports the messages sorted: the same messages are the same answer.
        let sorted = |messages: &[String]| {
            let mut sorted = messages.to_vec();
            sorted.sort();
            sorted
        };
        p.python
            .add_rows(lesson, &mut comparison, twin, "print_with_delay", &expected, |value| {
                let got = cpython::strings(value)?;
                Some(if sorted(&got) == sorted(&expected.0) {
                    expected.clone()
                } else {
                    Messages(got)
                })
            });
    }
    let report = lesson.compare(comparison)?;
    let rust_finish_order = cpython::delays_of(&seen.finish_order);
    let pairs = [
        ("CPython: one after another", "one after another"),
        ("CPython: three threads", "three threads"),
    ];
    let ratios = course::python::ratios_quietly(lesson, &report, &pairs);
    let threads = p
        .twin
        .as_ref()
        .and_then(|twin| twin.variant("print_with_delay", "three threads"));
    if let (Some(printed), [alone, threaded]) = (threads.and_then(cpython::printed_order), &ratios[..]) {
        let prints = CPythonPrints {
            interpreter: p.python.label(),
            finish_order: cpython::delays_of(&printed),
            rust_finish_order,
        };
        let list = |delays: &[u32]| delays.iter().map(u32::to_string).collect::<Vec<_>>().join(", ");
        let same = if prints.finish_order == prints.rust_finish_order {
            "as Rust's did".to_string()
        } else {
            format!("Rust's {}", list(&prints.rust_finish_order))
        };
        say!(
            lesson,
            "  {}'s threads printed {}, {same}; CPython/Rust: {} and {}.",
            prints.interpreter,
            list(&prints.finish_order),
            format::times(alone.ratio),
            format::times(threaded.ratio)
        );
        lesson.figure("cpython", &prints);
    }
    lesson.figure("finish_order", &seen.finish_order);
    lesson.figure("threads_seen", &seen.threads_seen);
    lesson.figure("longest_delay_s", (unit * 5).as_secs_f64());
    lesson.figure("sum_of_delays_s", (unit * 10).as_secs_f64());
    if let Some(threads) = report.row("three threads") {
        lesson.figure("threaded_total_s", threads.median_s);
    }
    lesson.notice(
        "The three waits overlap: the total is the longest delay, not the sum. Threads finish in the \
         order of their delays; join waits in the order you ask.",
    );
    Ok(())
}
