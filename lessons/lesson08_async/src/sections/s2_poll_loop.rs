//! Section 2: the same on one thread, by hand, with `poll`.

use crate::Params;
use crate::clients::poll_loop_run;
use crate::experiment::{MemoryUse, measured_in_child};
use crate::memory::{ipv4, variant_figures};
use anyhow::bail;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    p.fit_to_this_machine(lesson)?;
    let (Some(server), Some(quicker_server)) = (p.slow_server(), p.quicker_server()) else {
        say!(
            lesson,
            "  The hand-written loop speaks plain HTTP to the local servers: not with --url,"
        );
        say!(lesson, "  nor after section 4 stopped them.");
        return Ok(());
    };
    say!(
        lesson,
        "  Non-blocking sockets never make the thread wait. The loop keeps each connection's step \
(connecting, sending, receiving), asks the kernel with one poll() call which sockets can move, sleeps \
until one can, does that little work, and asks again. Five clients, traced (against a quicker server, \
{} ± {}):",
        format::duration(p.pitfall_delay),
        format::duration(p.pitfall_delay / 10)
    );
    let (Some(addr), Some(quicker_addr)) = (ipv4(server.addr()), ipv4(quicker_server.addr())) else {
        bail!("the servers are not on IPv4 addresses");
    };
    let few = p.logins(5);
    let demo = measured_in_child(Some(quicker_server), few.len(), || {
        poll_loop_run(quicker_addr, &few, 40)
    })?;
    lesson.lines(shortened(condensed(&demo.report.trace), TRACE_LINES));

    let connections = p.connections;
    say!(lesson);
    say!(
        lesson,
        "  The same loop with {} clients, against the slow server:",
        format::count(connections as u64)
    );
    let all = p.logins(connections);
    let full = measured_in_child(Some(server), connections, || poll_loop_run(addr, &all, 0))?;
    let unknown = || "?".to_string();
    say!(
        lesson,
        "  wall {} · cores used {:.2} · {} records · {} connections open at once · {} poll() calls · {} sockets \
found ready · {} · peak resident memory {}",
        format::duration(full.measurement.wall),
        full.measurement.cores_used(),
        format::count(full.report.replies.records as u64),
        format::count(full.report.connections_held as u64),
        format::count(full.report.poll_calls),
        format::count(full.report.events),
        full.report
            .peak_threads
            .map_or_else(unknown, |t| format::plural(t as u64, "thread")),
        full.report.end.peak_rss.map_or_else(unknown, format::bytes)
    );
    let memory = MemoryUse::of(&full.report);
    lesson.figure("demo_trace", &demo.report.trace);
    lesson.figure("poll_loop", variant_figures(&full, &memory));
    lesson.figure("poll_calls", full.report.poll_calls);
    lesson.figure("ready_events", full.report.events);
    lesson.notice(&format!(
        "{} poll() calls served {} connections: each call returns every socket that is ready, so the thread \
sleeps only when there is truly nothing to do. That is all an event loop is.",
        format::count(full.report.poll_calls),
        format::count(connections as u64)
    ));
    Ok(())
}

/// The most lines of the trace shown: with the rest of the section, a screen.
const TRACE_LINES: usize = 17;

/// At most `most` lines: the first ones, a line that says how many are left out, and the last
/// one (partial reads can make a trace longer than a screen).
fn shortened(mut lines: Vec<String>, most: usize) -> Vec<String> {
    if lines.len() <= most || most < 3 {
        return lines;
    }
    let last = lines.pop().unwrap_or_default();
    let left_out = lines.len() - (most - 2);
    lines.truncate(most - 2);
    lines.push(format!(
        "… {left_out} more steps of the same kind (every one in --json)"
    ));
    lines.push(last);
    lines
}

/// The trace as shown: the connects started in one go, on one line (`--json` keeps every line).
fn condensed(trace: &[String]) -> Vec<String> {
    let mut shown: Vec<String> = Vec::new();
    let mut first_connect: Option<(String, String)> = None;
    for line in trace {
        if let Some((number, rest)) = line.strip_prefix('#').and_then(|l| l.split_once(' '))
            && rest.starts_with("connect to")
        {
            match &first_connect {
                Some((first, what)) if what == rest => {
                    shown.pop();
                    shown.push(format!("#{first}–#{number} {rest}"));
                }
                _ => {
                    first_connect = Some((number.to_string(), rest.to_string()));
                    shown.push(line.clone());
                }
            }
            continue;
        }
        first_connect = None;
        shown.push(line.clone());
    }
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn connects_started_together_share_a_line() {
        let trace: Vec<String> = [
            "#1 connect to x started",
            "#2 connect to x started",
            "#3 connect to x started",
            "poll → 3",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(super::condensed(&trace), ["#1–#3 connect to x started", "poll → 3"]);
    }

    #[test]
    fn a_long_trace_keeps_its_first_lines_and_its_last() {
        let trace: Vec<String> = (1..=30).map(|i| format!("line {i}")).collect();
        let shown = super::shortened(trace.clone(), 19);
        assert_eq!(shown.len(), 19);
        assert_eq!(shown[16], "line 17");
        assert_eq!(shown[17], "… 12 more steps of the same kind (every one in --json)");
        assert_eq!(shown[18], "line 30");
        assert_eq!(super::shortened(trace[..19].to_vec(), 19).len(), 19);
    }
}
