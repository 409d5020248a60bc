//! Section 1: C clients waiting at once, two ways.

use crate::Params;
use crate::clients::{loop_run, threads_run};
use crate::experiment::{Measured, MemoryUse, measured_in_child};
use crate::memory::{in_hours_too, latencies_of, resource_table, time_table, variant_figures};
use course::timing::{Comparison, Runs, format};
use course::{Lesson, say};

/// What both ways must agree on: every record, or (from an outside server, whose answers may
/// change between runs) every request ended once.
#[derive(PartialEq)]
struct Answer(String);

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    p.fit_to_this_machine(lesson)?;
    let Some(target) = p.target() else {
        say!(
            lesson,
            "  (the servers were stopped in section 4: run the lesson again)"
        );
        return Ok(());
    };
    match p.slow_server() {
        Some(server) => say!(
            lesson,
            "  Server: {} (pid {}), {} ± {} a reply, one connection a request.",
            target.url,
            server.pid(),
            format::duration(p.delay),
            format::duration(p.delay / 10)
        ),
        None => say!(
            lesson,
            "  The server: {} (outside; it keeps no count for us).",
            target.url
        ),
    }
    for line in &p.limits_said {
        say!(lesson, "  {line}");
    }
    // A thread the machine refuses: fewer connections, at most twice, with a warning.
    let mut attempts = 0;
    let (threads, one_thread) = loop {
        let (n, logins) = (p.connections, p.logins(p.connections));
        let server = p.slow_server();
        let threads = measured_in_child(server, n, || threads_run(&target, &logins))?;
        if let Some((started, error)) = &threads.report.refused {
            let why = format!(
                "thread {} of {n} was refused: {error}; {}",
                started + 1,
                course::limits::what_limits_tasks()
            );
            anyhow::ensure!(
                attempts < 2 && *started > 1,
                "could start only {started} of {n} client threads: {why}"
            );
            attempts += 1;
            p.fewer(lesson, started / 2, &why);
            continue;
        }
        break (threads, measured_in_child(server, n, || loop_run(&target, &logins))?);
    };
    let connections = p.connections;
    say!(
        lesson,
        "  {} clients each fetch one record: one after another, {}; together, about one delay. Each way runs \
in a fresh child process, so that its threads and memory are its own.",
        format::count(connections as u64),
        in_hours_too(p.delay.as_secs_f64() * connections as f64)
    );
    let answer = |run: &Measured| match p.slow_server() {
        Some(_) => Answer(run.report.replies.to_string()),
        None => Answer(format!("{} requests, each ended once", run.report.replies.requests)),
    };
    let mut comparison =
        Comparison::new(format!("{} clients waiting at once", format::count(connections as u64))).waiting();
    comparison.add_measured(
        "thread per connection",
        connections,
        vec![answer(&threads)],
        Runs::from(threads.measurement),
    );
    comparison
        .add_measured(
            "one thread, event loop",
            1,
            vec![answer(&one_thread)],
            Runs::from(one_thread.measurement),
        )
        .other_algorithm();
    // One table for time, threads and connections (the comparison's own would need a second).
    let report = lesson.compare_quietly(comparison)?;
    let runs = [
        ("thread per connection", &threads),
        ("one thread, event loop", &one_thread),
    ];
    say!(lesson, "  {}", report.workload);
    time_table(lesson, &report, &runs);
    lesson.checked(
        report.answers_agree,
        format!("both ways computed the same answer: {}", report.answer),
    );
    match p.slow_server() {
        Some(_) => lesson.checked(
            true,
            format!(
                "the server was asked for each of the {} logins exactly once, each time",
                format::count(connections as u64)
            ),
        ),
        None => {
            for (name, run) in [
                ("thread per connection", &threads),
                ("one thread, event loop", &one_thread),
            ] {
                let example = run
                    .report
                    .failure_example
                    .as_deref()
                    .map(|e| format!(", e.g. {e}"))
                    .unwrap_or_default();
                say!(
                    lesson,
                    "  {name}: {} records, {} failed{example}",
                    run.report.replies.records,
                    run.report.replies.failures
                );
            }
        }
    }
    say!(
        lesson,
        "  Memory: RSS, and what RSS leaves out: page tables, kernel stacks ({} a thread).",
        threads
            .report
            .start
            .kernel_stack_per_thread
            .map_or("?".to_string(), format::bytes)
    );
    let memory = resource_table(lesson, connections, &runs);
    let ratio = |pick: fn(&MemoryUse) -> Option<u64>| match (pick(&memory[1]), pick(&memory[0])) {
        (Some(one), Some(many)) if many > 0 => Some(one as f64 / many as f64),
        _ => None,
    };
    let (total_ratio, resident_ratio) = (ratio(MemoryUse::total), ratio(|m| m.resident));
    if let (Some(total), Some(resident)) = (total_ratio, resident_ratio) {
        say!(
            lesson,
            "  The event loop used {} of the memory of a thread per connection ({} counting resident pages alone).",
            format::percent(total),
            format::percent(resident)
        );
    }
    let (thread_times, loop_times) = (
        latencies_of(&threads.report.response_times_ns),
        latencies_of(&one_thread.report.response_times_ns),
    );
    say!(lesson, "  Each client's time from connect to reply:");
    lesson.latencies(
        "response_times",
        &[
            ("thread per connection", &thread_times),
            ("one thread, event loop", &loop_times),
        ],
    );
    lesson.figure("connections", connections);
    lesson.figure("thread_per_connection", variant_figures(&threads, &memory[0]));
    lesson.figure("one_thread", variant_figures(&one_thread, &memory[1]));
    lesson.figure("connections_held_one_thread", one_thread.report.connections_held);
    lesson.figure("memory_ratio_one_thread_to_threads", total_ratio);
    lesson.figure("resident_memory_ratio_one_thread_to_threads", resident_ratio);
    lesson.notice(&format!(
        "Waiting needs no thread: one thread held {} connections at once, as fast as {} threads did, in {} of their memory.",
        format::count(one_thread.report.connections_held as u64),
        format::count(threads.report.peak_threads.unwrap_or(connections) as u64),
        total_ratio.map_or("a fraction".to_string(), format::percent)
    ));
    Ok(())
}
