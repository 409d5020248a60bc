//! Section 1: the lecture's `users_info` and `users_info_thr`, timed side by side, in Rust and
//! on the machine's CPython (`python/fetch.py`).

use crate::Params;
use crate::checking::{Ended, tally, timed_fetch};
use crate::cpython::{self, Variants};
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
    let twin_runs = p.python.interpreter().is_some() && cpython::runs_against(&url);
    let how = if twin_runs { "ureq; urllib" } else { "ureq" };
    say!(
        lesson,
        "  {limit}We fetch {} one by one, then with pools of threads ({how}).",
        format::plural(requests as u64, "record")
    );
    // Against an outside server, two ways only: an API with a rate limit counts every request.
    let sizes = if server.is_some() {
        let sizes = pool_sizes(p.workers, requests).into_iter();
        sizes.filter(|&size| size <= p.largest_pool).collect()
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
    let mut rusts_answer = None;
    for (name, workers, fetch) in ways {
        let (fetched, results, measurement) =
            timed_fetch(server, &logins, || fetch(&agent, &url, &logins, p.timeout, workers))?;
        if server.is_some() {
            rusts_answer.get_or_insert(fetched.clone());
            local.add_measured(name, workers, vec![fetched], Runs::from(measurement));
        } else {
            say!(lesson, "    {name}: {}", tally(&results));
            failures.extend(failed(&logins, results));
            outside.add_measured(name, workers, vec![Ended { requests }], Runs::from(measurement));
        }
    }
    // The same fetches on CPython, against the same server; its rows join only with Rust's answer.
    let mut cpython_rows = Vec::new();
    if twin_runs {
        let request = cpython::Request {
            url: &url,
            server,
            logins: &logins,
            workers: p.workers,
            timeout: p.timeout,
            slowest: p.delay + p.jitter,
        };
        let twin = cpython::fetch_in_cpython(lesson, &p.python, &request, Variants::Both)?;
        p.twin_left_out = twin.is_none() && p.python.interpreter().is_some();
        if let Some(twin) = twin {
            cpython_rows = match &rusts_answer {
                Some(expected) => p.python.add_rows(
                    lesson,
                    &mut local,
                    &twin,
                    "fetch",
                    expected,
                    cpython::fetched_for(&logins),
                ),
                None => {
                    for variant in twin.variants_of("fetch") {
                        let said = variant.answers.first().map_or(String::new(), cpython::tally);
                        say!(lesson, "    CPython: {}: {said}", variant.name);
                    }
                    let expected = Ended { requests };
                    p.python.add_rows(
                        lesson,
                        &mut outside,
                        &twin,
                        "fetch",
                        &expected,
                        cpython::ended_for(requests),
                    )
                }
            };
            p.twin_left_out = cpython_rows.is_empty();
        }
    } else if p.python.interpreter().is_some() {
        say!(lesson, "  {}", cpython::NOT_HTTPS);
    }
    let report = if server.is_some() {
        lesson.compare(local)?
    } else {
        lesson.compare(outside)?
    };
    if !cpython_rows.is_empty() {
        let pool = format!("pool of {}", p.workers);
        let python_pool = format!("CPython: {}", cpython::pool_name(p.workers));
        let python_sequential = format!("CPython: {}", cpython::SEQUENTIAL);
        cpython::say_ratios(
            lesson,
            &report,
            &[(&python_sequential, "sequential"), (&python_pool, &pool)],
        );
    }
    if server.is_some() {
        let whose = if cpython_rows.is_empty() {
            "every variant"
        } else {
            "every variant, python/fetch.py's too,"
        };
        lesson.checked(
            true,
            format!("{whose} fetched each record exactly once (the server's count)"),
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
    // The sentence follows the measurement: a pool that did not win is not called faster.
    if headline >= 1.2 {
        lesson.notice(&format!(
            "With {} workers, {requests} fetches ran {} faster on {} cores: waiting threads overlap \
             their waits. Past the server's limit ({}) or the requests, more workers add nothing.",
            p.workers,
            format::times(headline),
            p.cores,
            p.server_limit,
        ));
    } else {
        lesson.notice(&format!(
            "With {} workers, {requests} fetches took {} the time of one after another: too few \
             requests, or replies too quick, for waiting threads to overlap much here.",
            p.workers,
            format::times(if headline > 0.0 { 1.0 / headline } else { 0.0 }),
        ));
    }
    p.sweep = Some(report);
    Ok(())
}

/// What the speedup should be: the requests go in rounds of min(workers, server limit).
fn ideal_line(lesson: &Lesson, p: &Params, report: &ComparisonReport) {
    let parts: Vec<String> = report
        .rows
        .iter()
        .filter(|row| row.name.starts_with("pool of"))
        .map(|row| format::times(Expected::new(row.workers, p.server_limit, p.logins.len()).speedup))
        .collect();
    say!(
        lesson,
        "  Ideal, in rounds of min(workers, limit {}): {}",
        p.server_limit,
        parts.join(" ")
    );
}

/// The failed requests of one run, with their logins.
fn failed(logins: &[String], results: Vec<FetchResult>) -> Vec<(String, slowserver::FetchError)> {
    logins
        .iter()
        .zip(results)
        .filter_map(|(login, result)| Some((login.clone(), result.err()?)))
        .collect()
}
