//! Section 1: the lecture's `users_info` and `users_info_thr`, timed side by side.

use crate::Params;
use crate::checking::{Ended, tally, timed_fetch};
use crate::fetch::{FetchResult, users_info, users_info_pooled};
use crate::servers::{Expected, pool_sizes, url_of};
use course::timing::{Comparison, ComparisonReport, Runs, format};
use course::{Lesson, say};
use slowserver::UrlTemplate;
use slowserver::client::blocking_client;

/// Every way of fetching, as the concept file names it, with its signature.
type Fetching = fn(
    &ureq::Agent,
    &slowserver::UrlTemplate,
    &[String],
    std::time::Duration,
    usize,
) -> std::io::Result<Vec<FetchResult>>;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let server = p.servers.as_ref().map(|servers| &servers.reliable);
    let Some(url) = url_of(p, server) else {
        say!(
            lesson,
            "  (the local servers were stopped in section 5: run the lesson again)"
        );
        return Ok(());
    };
    let requests = p.logins.len();
    match server {
        Some(server) => say!(
            lesson,
            "  Server: {}, pid {}, replies in {} ± {},",
            UrlTemplate::local(server.addr()),
            server.pid(),
            format::duration(p.delay),
            format::duration(p.jitter),
        ),
        None => say!(
            lesson,
            "  The server: {url} (outside this machine's control: no counts of its own)."
        ),
    }
    let limit = match server {
        Some(_) => format!("at most {} at once. ", p.server_limit),
        None => String::new(),
    };
    say!(
        lesson,
        "  {limit}We fetch {requests} records with ureq: one by one, then with pools of threads."
    );
    // Against an outside server, two ways only: an API with a rate limit counts every request.
    let sizes = if server.is_some() {
        pool_sizes(p.workers, requests)
    } else {
        vec![p.workers]
    };
    let agent = blocking_client(p.timeout, &p.trust);
    let logins = p.logins.clone();
    let mut local = Comparison::new(format!("fetch {requests} user records")).waiting();
    let mut outside = Comparison::new(format!("fetch {requests} user records from {url}")).waiting();
    let mut failures = Vec::new();
    let ways = std::iter::once(("sequential".to_string(), 1, users_info as Fetching)).chain(
        sizes
            .iter()
            .map(|&n| (format!("pool of {n}"), n, users_info_pooled as Fetching)),
    );
    for (name, workers, fetch) in ways {
        let (fetched, results, measurement) =
            timed_fetch(server, &logins, || fetch(&agent, &url, &logins, p.timeout, workers))?;
        if server.is_some() {
            local.add_measured(name, workers, vec![fetched], Runs::from(measurement));
        } else {
            say!(lesson, "    {name}: {}", tally(&results));
            failures.extend(failed(&logins, results));
            outside.add_measured(name, workers, vec![Ended { requests }], Runs::from(measurement));
        }
    }
    let report = if server.is_some() {
        lesson.compare(local)?
    } else {
        lesson.compare(outside)?
    };
    if server.is_some() {
        lesson.checked(
            true,
            format!("every variant fetched each of the {requests} records exactly once (the server's count)"),
        );
        ideal_line(lesson, p, &report);
    } else {
        p.outside_failures = Some(failures);
    }
    let headline = report
        .row(&format!("pool of {}", p.workers))
        .map_or(0.0, |row| row.speedup);
    lesson.figure("requests", requests);
    lesson.figure("pool_sizes", &sizes);
    lesson.figure("each_record_fetched_exactly_once", true);
    lesson.figure(
        "headline",
        serde_json::json!({ "workers": p.workers, "requests": requests, "speedup_over_sequential": headline }),
    );
    lesson.notice(&format!(
        "With {} workers the {requests} fetches ran {} faster on {} cores: the threads spend their time \
waiting, and waits overlap. Past the server's limit or the number of requests, more workers add nothing.",
        p.workers,
        format::times(headline),
        p.cores,
    ));
    p.sweep = Some(report);
    Ok(())
}

/// What the speedup should be: the requests go in rounds of min(workers, server limit).
fn ideal_line(lesson: &Lesson, p: &Params, report: &ComparisonReport) {
    let mut parts = Vec::new();
    let mut server_bound = None;
    for row in report.rows.iter().skip(1) {
        let expected = Expected::new(row.workers, p.server_limit, p.logins.len());
        parts.push(format::times(expected.speedup));
        if expected.limited_by == "the server" && server_bound.is_none() {
            server_bound = Some(row.workers);
        }
    }
    say!(
        lesson,
        "  Ideal, in rounds of min(workers, limit {}): {}",
        p.server_limit,
        parts.join(" ")
    );
    if let Some(workers) = server_bound {
        say!(
            lesson,
            "  From {workers} workers on, the server's limit, not the pool, sets the pace."
        );
    }
}

/// The failed requests of one run, with their logins.
fn failed(logins: &[String], results: Vec<FetchResult>) -> Vec<(String, slowserver::FetchError)> {
    logins
        .iter()
        .zip(results)
        .filter_map(|(login, result)| Some((login.clone(), result.err()?)))
        .collect()
}
