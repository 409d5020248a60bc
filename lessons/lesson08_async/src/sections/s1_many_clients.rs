//! Section 1: C clients waiting at once, two ways, in Rust and on the machine's CPython
//! (`python/event_loop.py`).

use crate::Params;
use crate::clients::{loop_run, threads_run};
use crate::cpython;
use crate::experiment::{Measured, MemoryUse, Replies, measured_in_child};
use crate::memory::{Shown, in_hours_too, latencies_of, resource_table, time_table, variant_figures};
use course::timing::{Comparison, ComparisonReport, Runs, format};
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
            "  Server: {}, pid {}, {} ± {} a reply, no keep-alive.",
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
    if !p.limits_said.is_empty() {
        say!(lesson, "  Room here: {}.", p.limits_said.join(", "));
    }
    // A thread the machine refuses: fewer connections, at most twice, with a warning.
    let mut attempts = 0;
    let (threads, one_thread, logins) = loop {
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
        let one_thread = measured_in_child(server, n, || loop_run(&target, &logins))?;
        break (threads, one_thread, logins);
    };
    let connections = p.connections;
    say!(
        lesson,
        "  {} clients each fetch one record: one after another, {}; together, about one delay. Each way runs \
in a fresh child process, so that its threads and memory are its own.",
        format::count(connections as u64),
        in_hours_too(p.delay.as_secs_f64() * connections as f64)
    );
    let answer_of = |replies: &Replies| match p.slow_server() {
        Some(_) => Answer(replies.to_string()),
        None => Answer(format!("{} requests, each ended once", replies.requests)),
    };
    let answer = |run: &Measured| answer_of(&run.report.replies);
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
    // The same clients on CPython, against the same server; its rows join only with Rust's answer.
    let mut cpython_ways = Vec::new();
    if p.python.interpreter().is_some() && target.url.is_https() {
        say!(lesson, "  {}", cpython::NOT_HTTPS);
    } else if p.python.interpreter().is_some() {
        let request = cpython::Request {
            url: &target.url,
            server: p.slow_server(),
            logins: &logins,
            default_logins: p.url.is_none() && p.chosen_logins.is_none(),
            delay: p.delay,
        };
        let expected = answer(&threads);
        for way in cpython::ways_in_cpython(lesson, &p.python, &request)? {
            let replies = cpython::replies_for(&logins);
            let added = p
                .python
                .add_rows(lesson, &mut comparison, &way.twin, "connections", &expected, |v| {
                    replies(v).map(|r| answer_of(&r))
                });
            if added.is_empty() {
                break; // one line said why; the other way's would only repeat it
            }
            cpython_ways.push(way);
        }
    }
    // One table for time, threads and connections (the comparison's own would need a second).
    let report = lesson.compare_quietly(comparison)?;
    let runs = [
        ("thread per connection", &threads),
        ("one thread, event loop", &one_thread),
    ];
    let kernel_stack = threads.report.start.kernel_stack_per_thread;
    let mut shown: Vec<Shown> = runs.iter().map(|(name, run)| Shown::of(name, run)).collect();
    shown.extend(cpython_ways.iter().filter_map(|way| {
        let variant = way.variant()?;
        Some(Shown {
            name: format!("CPython: {}", variant.name),
            peak_threads: way.number("peak_threads").map(|t| t as usize),
            connections_held: way.number("connections_held").unwrap_or(0) as usize,
            server_saw: way.server_peak_connections,
            memory: way.memory(kernel_stack),
            rss_at_start: way.number("rss_at_start_bytes"),
        })
    }));
    say!(lesson, "  {}", report.workload);
    time_table(lesson, &report, &shown);
    let every = if shown.len() > 2 { "every way" } else { "both ways" };
    lesson.checked(
        report.answers_agree,
        format!("{every} computed the same answer: {}", report.answer),
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
    resource_table(lesson, connections, &shown, &runs);
    let ratio = |pick: fn(&MemoryUse) -> Option<u64>, of: &Shown, to: &Shown| match (pick(&of.memory), pick(&to.memory))
    {
        (Some(one), Some(other)) if other > 0 => Some(one as f64 / other as f64),
        _ => None,
    };
    let (total_ratio, resident_ratio) = (
        ratio(MemoryUse::total, &shown[1], &shown[0]),
        ratio(|m| m.resident, &shown[1], &shown[0]),
    );
    cpython_ratios(lesson, &report, &shown, &cpython_ways);
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
    lesson.figure("thread_per_connection", variant_figures(&threads, &shown[0].memory));
    lesson.figure("one_thread", variant_figures(&one_thread, &shown[1].memory));
    lesson.figure("connections_held_one_thread", one_thread.report.connections_held);
    lesson.figure("memory_ratio_one_thread_to_threads", total_ratio);
    lesson.figure("resident_memory_ratio_one_thread_to_threads", resident_ratio);
    let cpython: serde_json::Map<String, serde_json::Value> = cpython_ways
        .iter()
        .zip(shown.iter().skip(2))
        .filter_map(|(way, shown)| {
            let variant = way.variant()?;
            let mut figures = variant.extra.clone();
            figures.remove("outcomes");
            figures.insert("wall_s".into(), variant.median().wall.as_secs_f64().into());
            figures.insert("cores_used".into(), variant.median().cores_used().into());
            figures.insert(
                "records".into(),
                variant.answers[0]["records"].as_array().map_or(0, Vec::len).into(),
            );
            figures.insert("server_peak_connections".into(), way.server_peak_connections.into());
            figures.insert("kernel_stacks_bytes".into(), shown.memory.kernel_stacks.into());
            figures.insert("memory_total_bytes".into(), shown.memory.total().into());
            Some((variant.name.clone(), figures.into()))
        })
        .collect();
    lesson.figure("cpython", cpython);
    lesson.notice(&format!(
        "Waiting needs no thread: one thread held {} connections at once, as fast as {} threads did, in {} of \
their memory ({} counting resident pages alone).",
        format::count(one_thread.report.connections_held as u64),
        format::count(threads.report.peak_threads.unwrap_or(connections) as u64),
        total_ratio.map_or("a fraction".to_string(), format::percent),
        resident_ratio.map_or("?".to_string(), format::percent)
    ));
    Ok(())
}

/// `CPython/Rust: a thread each 1.88× the time, 0.34× the memory; asyncio ...`, on one line,
/// and the figures `cpython_over_rust` (time) and `cpython_memory_over_rust`.
fn cpython_ratios(lesson: &Lesson, report: &ComparisonReport, shown: &[Shown], ways: &[cpython::Way]) {
    let pairs: Vec<(String, &str)> = ways
        .iter()
        .filter_map(|way| {
            let name = &way.variant()?.name;
            let rust = cpython::WAYS.iter().find(|(python, _)| python == name)?.1;
            Some((format!("CPython: {name}"), rust))
        })
        .collect();
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(python, rust)| (python.as_str(), *rust)).collect();
    let times = course::python::ratios_quietly(lesson, report, &pairs);
    let way = |name: &str| shown.iter().find(|s| s.name == name);
    let total = |name: &str| way(name).and_then(|s| s.memory.total());
    let mut memory = serde_json::Map::new();
    let mut parts = Vec::new();
    for time in &times {
        let ratio = total(&time.cpython)
            .zip(total(&time.rust))
            .filter(|(_, rust)| *rust > 0)
            .map(|(python, rust)| python as f64 / rust as f64);
        memory.insert(time.cpython.clone(), ratio.into());
        let name = time.cpython.trim_start_matches("CPython: ");
        // Memory for fewer connections at once is not the same memory: say so beside it.
        let held = |name: &str| way(name).map_or(0, |s| s.connections_held);
        let fewer = match held(&time.cpython) < held(&time.rust) {
            true => format!(" (for {} held at once)", format::count(held(&time.cpython) as u64)),
            false => String::new(),
        };
        let memory = ratio.map_or("?".to_string(), format::times);
        // The first says what the figures are; the others follow its order.
        parts.push(match parts.is_empty() {
            true => format!(
                "{name} {} the time, {memory} the memory{fewer}",
                format::times(time.ratio)
            ),
            false => format!("{name} {}, {memory}{fewer}", format::times(time.ratio)),
        });
    }
    if !parts.is_empty() {
        say!(lesson, "  CPython/Rust: {}", parts.join("; "));
        lesson.figure("cpython_memory_over_rust", memory);
    }
}
