//! The fetches of sections 1 and 4 on the machine's CPython: runs the twin `python/fetch.py`
//! (`urlopen` one login after another, then on a `ThreadPoolExecutor`) against the same
//! server, checks the local server's count of what it was asked, and reads the twin's answers
//! as Rust's (`Fetched`, or `Ended` for an outside server), to be checked against them before
//! any ratio.

use crate::checking::{Ended, Fetched};
use crate::servers::logins;
use course::python::{Python, Twin};
use course::timing::{ComparisonReport, format};
use course::{Lesson, say};
use serde_json::Value;
use slowserver::{ServerProcess, UrlTemplate, UserRecord};
use std::collections::BTreeMap;
use std::time::Duration;

/// The twin's variants, as it names them.
pub const SEQUENTIAL: &str = "sequential";

pub fn pool_name(workers: usize) -> String {
    format!("ThreadPoolExecutor({workers})")
}

/// Which of the twin's variants to run.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Variants {
    /// One after another, then the pool (section 1).
    Both,
    /// The pool alone (section 4).
    Pool,
}

/// What the twin needs to fetch what Rust fetched.
pub struct Request<'a> {
    pub url: &'a UrlTemplate,
    /// The local server, whose count of requests is checked after the twin (`None` with `--url`).
    pub server: Option<&'a ServerProcess>,
    pub logins: &'a [String],
    pub workers: usize,
    pub timeout: Duration,
    /// The slowest reply the server was told to give (delay + jitter).
    pub slowest: Duration,
}

/// Whether the twin runs against `url`: a local server, or an outside http:// one. (Against
/// https://, urllib would trust the system's certificates where the lesson trusts the Web PKI's
/// or `--ca-cert`: the two would not be asked the same question.)
pub fn runs_against(url: &UrlTemplate) -> bool {
    !url.is_https()
}

/// The line that says why the twin does not run against an https:// server.
pub const NOT_HTTPS: &str = "CPython's rows: the twin runs against http:// servers only (its urllib would trust the \
system's certificates, not the lesson's): skipped.";

/// Runs the twin; `None` without an interpreter, or (with one warning line) when it failed or
/// the local server was not asked once for each login by each variant. An error only when the
/// local server cannot be asked for its count.
pub fn fetch_in_cpython(
    lesson: &Lesson,
    python: &Python,
    request: &Request,
    variants: Variants,
) -> anyhow::Result<Option<Twin>> {
    let Some(interpreter) = python.interpreter().cloned() else {
        return Ok(None);
    };
    let n = request.logins.len();
    let mut args = vec![
        "--url".to_string(),
        request.url.as_str().to_string(),
        "--workers".to_string(),
        request.workers.to_string(),
        "--timeout-ms".to_string(),
        request.timeout.as_millis().max(1).to_string(),
        "--variants".to_string(),
        match variants {
            Variants::Both => "sequential,pool".to_string(),
            Variants::Pool => "pool".to_string(),
        },
    ];
    // The lesson's own logins are made by the twin too; others travel on its command line.
    if request.logins == logins(n).as_slice() {
        args.extend(["--requests".to_string(), n.to_string()]);
    } else {
        args.extend(["--logins".to_string(), request.logins.join(",")]);
    }
    let runs = if variants == Variants::Both { 2 } else { 1 };
    // Each request ends within its timeout, or with its reply; then some room for a slow start.
    let each = request.timeout.max(request.slowest);
    let timeout = Duration::from_secs(20) + each.saturating_mul((runs * n).min(u32::MAX as usize) as u32);
    if let Some(server) = request.server {
        server.reset_stats()?;
    }
    let Some(twin) = python.run(lesson, course::python_twin!("fetch.py"), args, timeout) else {
        return Ok(None);
    };
    if let Some(server) = request.server {
        let stats = server.stats()?;
        let asked = (runs * n) as u64;
        if stats.user_requests != asked || stats.distinct_logins != n as u64 {
            lesson.warn(&format!(
                "{} ({}) asked the server {} times for {} different logins, not {runs} × once for each of {n}: \
its rows are left out",
                interpreter.label(),
                interpreter.command.display(),
                stats.user_requests,
                stats.distinct_logins
            ));
            return Ok(None);
        }
    }
    Ok(Some(twin))
}

/// The twin's answer as Rust's tally: its records, which must come in login order, and its
/// failures counted by kind ("HTTP 503" is a server error, "timeout" a timeout).
pub fn fetched_for(logins: &[String]) -> impl Fn(&Value) -> Option<Fetched> + '_ {
    move |value| {
        let (records, failures) = parts(value, logins.len())?;
        let mut fetched = Fetched::none();
        let mut rest = logins.iter();
        for record in &records {
            // In login order: each record's login comes later than the one before.
            rest.find(|login| login.eq_ignore_ascii_case(&record.login))?;
            fetched.add_record(record);
        }
        for (kind, count) in failures {
            match kind.as_str() {
                kind if kind.starts_with("HTTP ") => fetched.server_errors += count,
                "timeout" => fetched.timeouts += count,
                _ => fetched.other_failures += count,
            }
        }
        Some(fetched)
    }
}

/// The twin's answer against an outside server: how many requests ended.
pub fn ended_for(requests: usize) -> impl Fn(&Value) -> Option<Ended> {
    move |value| parts(value, requests).map(|_| Ended { requests })
}

/// Says the CPython/Rust ratios of `pairs` on one line (`CPython/Rust, time taken: 1.01× for
/// sequential, 1.03× for pool of 8`) and records them as the figure `cpython_over_rust`.
pub fn say_ratios(lesson: &Lesson, report: &ComparisonReport, pairs: &[(&str, &str)]) {
    let ratios = course::python::ratios_quietly(lesson, report, pairs);
    if !ratios.is_empty() {
        let parts: Vec<String> = ratios
            .iter()
            .map(|r| format!("{} for {}", format::times(r.ratio), r.rust))
            .collect();
        say!(lesson, "  CPython/Rust, time taken: {}", parts.join(", "));
    }
}

/// `3 records, 1 × HTTP 403`: a twin's outcomes in a few words, as `checking::tally` says Rust's.
pub fn tally(value: &Value) -> String {
    let records = value["records"].as_array().map_or(0, Vec::len) as u64;
    let mut parts = vec![format::plural(records, "record")];
    if let Some(failures) = value["failures"].as_object() {
        parts.extend(failures.iter().map(|(kind, n)| format!("{n} × {kind}")));
    }
    parts.join(", ")
}

/// The records and the failures by kind, when they add up to `requests`.
fn parts(value: &Value, requests: usize) -> Option<(Vec<UserRecord>, BTreeMap<String, usize>)> {
    let records: Vec<UserRecord> = serde_json::from_value(value.get("records")?.clone()).ok()?;
    let failures: BTreeMap<String, usize> = serde_json::from_value(value.get("failures")?.clone()).ok()?;
    let ended = records.len() + failures.values().sum::<usize>();
    (ended == requests && value.get("requests")?.as_u64()? == requests as u64).then_some((records, failures))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checking::check_each_fetched_once;
    use slowserver::{Config, FetchError};

    #[test]
    fn a_twins_answer_is_tallied_as_rusts() {
        let config = Config::default();
        let logins = logins(4);
        let rust = check_each_fetched_once(
            &logins,
            &[
                Ok(config.record(&logins[0])),
                Err(FetchError::Server {
                    status: 503,
                    message: "Service Unavailable".into(),
                }),
                Err(FetchError::TimedOut {
                    after: Duration::from_millis(250),
                }),
                Ok(config.record(&logins[3])),
            ],
            None,
        )
        .unwrap();
        let records = [config.record(&logins[0]), config.record(&logins[3])];
        let twin = serde_json::json!({
            "requests": 4, "records": records, "failures": {"HTTP 503": 1, "timeout": 1}
        });
        assert_eq!(fetched_for(&logins)(&twin), Some(rust));
        assert_eq!(tally(&twin), "2 records, 1 × HTTP 503, 1 × timeout");
        assert_eq!(ended_for(4)(&twin), Some(Ended { requests: 4 }));
        // Out of order, or not adding up: no answer.
        let swapped = serde_json::json!({
            "requests": 4, "records": [&records[1], &records[0]], "failures": {"HTTP 503": 2}
        });
        assert_eq!(fetched_for(&logins)(&swapped), None);
        assert_eq!(ended_for(5)(&twin), None);
        assert_eq!(fetched_for(&logins)(&serde_json::json!("garbage")), None);
    }
}
