//! Section 4: a flaky server. Each failure is reported with its request; the others go on.

use crate::Params;
use crate::checking::{Fetched, failure_list, timed_fetch};
use crate::cpython::{self, Variants};
use crate::fetch::users_info_pooled;
use course::python::Twin;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use slowserver::client::blocking_client;
use slowserver::{Fate, UrlTemplate};
use std::collections::BTreeMap;
use std::time::Duration;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let Some(servers) = &p.servers else {
        return outside(lesson, p);
    };
    let server = &servers.flaky;
    let config = server.config();
    say!(
        lesson,
        "  A second server, flaky: {} of the logins get `503 Service Unavailable`, {} get no answer",
        format::percent(config.error_rate),
        format::percent(config.timeout_rate)
    );
    say!(
        lesson,
        "  in time. Each client waits at most {}; the pool has {} workers.",
        format::duration(p.timeout),
        p.workers
    );
    let (agent, url, logins) = (
        blocking_client(p.timeout, &p.trust),
        UrlTemplate::local(server.addr()),
        &p.logins,
    );
    let (fetched, results, measurement) = timed_fetch(Some(server), logins, || {
        users_info_pooled(&agent, &url, logins, p.timeout, p.workers)
    })?;
    // The same pool on CPython, against the same flaky server: it must see what Rust saw.
    let request = cpython::Request {
        url: &url,
        server: Some(server),
        logins,
        workers: p.workers,
        timeout: p.timeout,
        slowest: p.delay + p.jitter,
    };
    let twin = match p.twin_left_out {
        true => None,
        false => cpython::fetch_in_cpython(lesson, &p.python, &request, Variants::Pool)?,
    };
    let python = twin
        .as_ref()
        .and_then(|twin| seen_by_cpython(lesson, p, twin, &fetched));
    let failures = failure_list(logins, &results);
    for failure in failures.iter().take(6) {
        say!(
            lesson,
            "    {}: {}",
            failure["login"].as_str().unwrap_or("?"),
            failure["message"].as_str().unwrap_or("?")
        );
    }
    if failures.len() > 6 {
        say!(lesson, "    … and {} more (all of them in --json)", failures.len() - 6);
    }
    // The server decided every login's fate from the seed: compare with what the clients saw.
    let planned = |fate: Fate| logins.iter().filter(|login| config.plan(login).fate == fate).count();
    let (records_planned, errors_planned, timeouts_planned) =
        (planned(Fate::Record), planned(Fate::Error), planned(Fate::Hang));
    let mut headers = vec!["outcome", "planned by the server", "seen by the clients"];
    if python.is_some() {
        headers.push("seen by CPython's");
    }
    let mut counts = Table::new(&headers).left(0);
    let by_cpython = python.as_ref().map(|(seen, _)| seen);
    let rows = [
        (
            "record",
            records_planned,
            fetched.records,
            by_cpython.map(|f| f.records),
        ),
        (
            "server error",
            errors_planned,
            fetched.server_errors,
            by_cpython.map(|f| f.server_errors),
        ),
        (
            "timeout",
            timeouts_planned,
            fetched.timeouts,
            by_cpython.map(|f| f.timeouts),
        ),
        (
            "other failure",
            0,
            fetched.other_failures,
            by_cpython.map(|f| f.other_failures),
        ),
    ];
    for (outcome, planned, seen, seen_by_cpython) in rows {
        if outcome == "other failure" && seen == 0 {
            continue;
        }
        let mut row = vec![outcome.to_string(), planned.to_string(), seen.to_string()];
        row.extend(seen_by_cpython.map(|n| n.to_string()));
        counts.row(row);
    }
    lesson.table(&counts);
    let counts_match = fetched.records == records_planned
        && fetched.server_errors == errors_planned
        && fetched.timeouts == timeouts_planned
        && fetched.other_failures == 0;
    let and_cpython = if python.is_some() {
        " (CPython's pool saw the very same records and failures)"
    } else {
        ""
    };
    lesson.checked(
        counts_match,
        format!("every count is the one the server planned from the seed{and_cpython}"),
    );
    if !counts_match {
        lesson.warn(&format!(
            "the clients' counts differ from the server's plan: on a machine this busy, some replies took longer \
than the {} timeout (try a larger --timeout)",
            format::duration(p.timeout)
        ));
    }
    let held = match fetched.timeouts {
        0 => String::new(),
        1 => format!(" The one timeout held one worker for {}.", format::duration(p.timeout)),
        n => format!(
            " Each of the {n} timeouts held one worker for {}.",
            format::duration(p.timeout)
        ),
    };
    let cpython_took = python.as_ref().map_or(String::new(), |(_, wall)| {
        format!(" (CPython's pool: {})", format::duration(*wall))
    });
    say!(
        lesson,
        "  All {} requests ended with a record or a reason, in {}{cpython_took}.{held}",
        logins.len(),
        format::duration(measurement.wall)
    );
    lesson.figure("requests", logins.len());
    lesson.figure("records_planned", records_planned);
    lesson.figure("records_seen", fetched.records);
    lesson.figure("errors_planned", errors_planned);
    lesson.figure("errors_seen", fetched.server_errors);
    lesson.figure("timeouts_planned", timeouts_planned);
    lesson.figure("timeouts_seen", fetched.timeouts);
    lesson.figure("other_failures", fetched.other_failures);
    lesson.figure("counts_match_plan", counts_match);
    lesson.figure("each_record_fetched_exactly_once", true);
    lesson.figure("failures", failures);
    lesson.figure("measurement", measurement);
    lesson.figure(
        "cpython",
        python.as_ref().map(
            |(seen, wall)| serde_json::json!({ "seen": seen, "same_as_rust": true, "wall_s": wall.as_secs_f64() }),
        ),
    );
    lesson.notice(
        "A failure belongs to its request: the pool reports it with the login and keeps going. A timeout is the \
one failure that costs time, so every request that waits needs one.",
    );
    Ok(())
}

/// With `--url`: no flaky server to plan failures; the outside server's own, from section 1.
fn outside(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let Some(failures) = &p.outside_failures else {
        say!(
            lesson,
            "  This section summarises the failures of section 1: show section 1 first."
        );
        return Ok(());
    };
    say!(
        lesson,
        "  An outside server fails on its own terms: a rate limit (GitHub's 403), a login it does not"
    );
    say!(
        lesson,
        "  know (404), no answer in time, a body that is not a user record. Each is one failed request."
    );
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for (_, error) in failures {
        *kinds.entry(error.kind()).or_default() += 1;
    }
    for (login, error) in failures.iter().take(6) {
        say!(lesson, "    {login}: {error}");
    }
    let summary: Vec<String> = kinds.iter().map(|(kind, n)| format!("{n} × {kind}")).collect();
    say!(
        lesson,
        "  Failed requests in section 1, all ways together: {}",
        if summary.is_empty() {
            "none".to_string()
        } else {
            summary.join(", ")
        }
    );
    let list: Vec<serde_json::Value> = failures
        .iter()
        .map(|(login, error)| serde_json::json!({ "login": login, "error": error, "message": error.to_string() }))
        .collect();
    lesson.figure("failures", list);
    lesson.figure("failure_kinds", &kinds);
    lesson.notice("A failure belongs to its request: whatever the server says, the run goes on and counts it.");
    Ok(())
}

/// What CPython's pool saw, and how long it took, when it saw what Rust's saw (the same
/// records, the same failures); otherwise one warning line, and `None`.
fn seen_by_cpython(lesson: &Lesson, p: &Params, twin: &Twin, rusts: &Fetched) -> Option<(Fetched, Duration)> {
    let interpreter = p.python.interpreter()?;
    let pool = twin.variant("fetch", &cpython::pool_name(p.workers))?;
    let seen = pool.answers.first().and_then(cpython::fetched_for(&p.logins));
    match seen {
        Some(seen) if seen == *rusts => Some((seen, pool.median().wall)),
        other => {
            let got = other.map_or("no tally".to_string(), |seen| seen.to_string());
            lesson.warn(&format!(
                "{} ({}), '{}', saw {got} where Rust saw {rusts}: its column is left out",
                interpreter.label(),
                interpreter.command.display(),
                pool.name
            ));
            None
        }
    }
}
