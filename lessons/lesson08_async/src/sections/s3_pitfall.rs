//! Section 3: one CPU-bound call inside the loop stalls every connection; moved off, it does not.

use crate::Params;
use crate::clients::{Handling, calibrate_heavy_work, pitfall_run};
use crate::experiment::measured_in_child;
use crate::memory::latencies_of;
use course::table::Table;
use course::timing::{Comparison, Latencies, Runs, format};
use course::{Lesson, say};
use slowserver::UrlTemplate;
use std::time::Duration;

/// What both handlings must agree on: every record, and the heavy call's answer.
#[derive(PartialEq)]
struct Answer(crate::experiment::Replies, Option<u64>);

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.1 {
            Some(answer) => write!(f, "{}; the heavy call computed {answer}", self.0),
            None => write!(f, "{}; the heavy call computed nothing", self.0),
        }
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    p.fit_to_this_machine(lesson)?;
    let Some(server) = p.quicker_server() else {
        say!(
            lesson,
            "  The pitfall is timed against the quicker local server: not with --url,"
        );
        say!(lesson, "  nor after section 4 stopped it.");
        return Ok(());
    };
    let connections = p.pitfall_connections;
    let logins = p.logins(connections);
    // The heavy request is the one answered first: its work starts as the other replies arrive.
    let heavy = (0..connections)
        .min_by_key(|&i| server.config().plan(&logins[i]).delay)
        .unwrap_or(0);
    let heavy_size = calibrate_heavy_work(p.blocking_work);
    say!(
        lesson,
        "  {} clients on one event loop; the server answers after {} ± {}. The handler of the first reply \
computes for about {} (the lecture's count_prime of {}): a parse, a resize, a report, or any blocking \
call. A heartbeat task ticks every 10 ms: its lateness is how long the loop could not run.",
        format::count(connections as u64),
        format::duration(p.pitfall_delay),
        format::duration(p.pitfall_delay / 10),
        format::duration(p.blocking_work),
        format::count(heavy_size)
    );
    let url = UrlTemplate::local(server.addr());
    let mut runs = Vec::new();
    for handling in [Handling::NoHeavyWork, Handling::OnTheLoop, Handling::OffTheLoop] {
        let run = measured_in_child(Some(server), connections, || {
            pitfall_run(&url, server.config(), &logins, heavy, heavy_size, handling)
        })?;
        runs.push((handling, run));
    }

    let mut comparison = Comparison::new(format!(
        "{} clients, the heavy handler on the loop or off it",
        format::count(connections as u64)
    ))
    .waiting();
    for (handling, run) in runs.iter().filter(|(h, _)| *h != Handling::NoHeavyWork) {
        let answer = Answer(run.report.replies.clone(), run.report.heavy_answer);
        comparison.add_measured(handling.name(), 1, vec![answer], Runs::from(run.measurement));
    }
    // The table alone: speedup bars would only repeat it.
    let report = lesson.compare_quietly(comparison)?;
    say!(lesson, "  {}", report.workload);
    let mut table = Table::new(&["variant", "wall", "speedup", "cores used"]);
    for row in &report.rows {
        table.row([
            row.name.clone(),
            format::seconds(row.median_s),
            format::times(row.speedup),
            format!("{:.2}", row.cores_used),
        ]);
    }
    lesson.table(&table);
    lesson.checked(
        report.answers_agree,
        format!("both computed the same answer: {}", report.answer),
    );

    say!(lesson, "  The other clients' time from connect to reply:");
    let response: Vec<(&str, Latencies)> = runs
        .iter()
        .map(|(handling, run)| (handling.name(), latencies_of(&run.report.response_times_ns)))
        .collect();
    let rows: Vec<(&str, &Latencies)> = response.iter().map(|(name, l)| (*name, l)).collect();
    lesson.latencies("response_times_of_the_others", &rows);
    say!(lesson, "  How late the 10 ms heartbeat ran:");
    let lateness: Vec<(&str, Latencies)> = runs
        .iter()
        .map(|(handling, run)| (handling.name(), latencies_of(&run.report.heartbeat_lateness_ns)))
        .collect();
    let rows: Vec<(&str, &Latencies)> = lateness.iter().map(|(name, l)| (*name, l)).collect();
    lesson.latencies("heartbeat_lateness", &rows);

    let worst_lateness = |handling: Handling| {
        lateness
            .iter()
            .find(|(name, _)| *name == handling.name())
            .map_or(Duration::ZERO, |(_, l)| l.summary().max)
    };
    let on_loop = runs
        .iter()
        .find(|(h, _)| *h == Handling::OnTheLoop)
        .map(|(_, run)| &run.report);
    let blocked_for = on_loop.map_or(Duration::ZERO, |r| Duration::from_nanos(r.blocking_call_ns));
    let delayed = on_loop.map_or(0, |r| r.replies_due_during_the_call);
    say!(
        lesson,
        "  On the loop, the call held the loop's only thread for {}: the heartbeat was up to {} late, and {} \
of the other {} replies, due meanwhile, waited in the kernel until it ended. Off the loop \
(tokio::task::spawn_blocking: another thread computes), the heartbeat was at most {} late.",
        format::duration(blocked_for),
        format::duration(worst_lateness(Handling::OnTheLoop)),
        format::count(delayed as u64),
        format::count(connections.saturating_sub(1) as u64),
        format::duration(worst_lateness(Handling::OffTheLoop))
    );
    lesson.figure("pitfall_connections", connections);
    lesson.figure("heavy_work_size", heavy_size);
    lesson.figure("blocking_call_s", blocked_for.as_secs_f64());
    lesson.figure(
        "heartbeat_worst_lateness_s",
        serde_json::json!({
            "no_heavy_work": worst_lateness(Handling::NoHeavyWork).as_secs_f64(),
            "on_the_loop": worst_lateness(Handling::OnTheLoop).as_secs_f64(),
            "off_the_loop": worst_lateness(Handling::OffTheLoop).as_secs_f64(),
        }),
    );
    lesson.figure("replies_delayed_by_the_call", delayed);
    lesson.notice(
        "An event loop is one thread: while one handler computes, no other connection moves. Anything that \
computes or blocks for long goes to another thread (spawn_blocking), and the loop only waits.",
    );
    Ok(())
}
