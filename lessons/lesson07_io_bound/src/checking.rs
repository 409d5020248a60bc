//! Correct before fast: every way of fetching must end each login's request exactly once, with
//! its own record or a reason, and the local server must have been asked once for each login.

use crate::fetch::FetchResult;
use anyhow::Context;
use course::timing::{self, Measurement, format};
use serde::Serialize;
use slowserver::{ServerProcess, Stats, UserRecord};
use std::collections::BTreeMap;

/// What a run fetched from the local server: the answer every variant must agree on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Fetched {
    pub records: usize,
    pub server_errors: usize,
    pub timeouts: usize,
    pub other_failures: usize,
    /// A hash of every record, in login order.
    pub fingerprint: u64,
}

impl std::fmt::Display for Fetched {
    /// `64 records, no failures (fingerprint …)`, or `53 records, 9 server errors, 2 timeouts (…)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut parts = vec![format::plural(self.records as u64, "record")];
        for (count, what) in [
            (self.server_errors, "server error"),
            (self.timeouts, "timeout"),
            (self.other_failures, "other failure"),
        ] {
            if count > 0 {
                parts.push(format::plural(count as u64, what));
            }
        }
        if parts.len() == 1 {
            parts.push("no failures".to_string());
        }
        write!(f, "{} (fingerprint {:016x})", parts.join(", "), self.fingerprint)
    }
}

/// What every variant must agree on against an outside server, whose answers may change
/// between runs (a rate limit that starts halfway): each request ended once, in login order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ended {
    pub requests: usize,
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} requests, each ended once with a record or a reason",
            self.requests
        )
    }
}

/// Runs one way of fetching, timed, with the local server's counters reset before and read
/// after (no server: an outside one, which keeps no count for us); checks each login's result.
pub fn timed_fetch(
    server: Option<&ServerProcess>,
    logins: &[String],
    fetch_all: impl FnOnce() -> std::io::Result<Vec<FetchResult>>,
) -> anyhow::Result<(Fetched, Vec<FetchResult>, Measurement)> {
    if let Some(server) = server {
        server.reset_stats()?;
    }
    let (results, measurement) = timing::measure(fetch_all);
    let results = results.context("the pool could not start all its worker threads")?;
    let stats = match server {
        Some(server) => Some(server.stats()?),
        None => None,
    };
    let fetched = check_each_fetched_once(logins, &results, stats.as_ref())?;
    Ok((fetched, results, measurement))
}

/// Result `i` must be login `i`'s, and the server (when it counts) must have been asked for
/// every login exactly once (as many requests as logins, all different). Returns the tally.
pub fn check_each_fetched_once(
    logins: &[String],
    results: &[FetchResult],
    stats: Option<&Stats>,
) -> anyhow::Result<Fetched> {
    if results.len() != logins.len() {
        anyhow::bail!("{} results for {} logins", results.len(), logins.len());
    }
    let asked = logins.len() as u64;
    if let Some(stats) = stats
        && (stats.user_requests != asked || stats.distinct_logins != asked)
    {
        anyhow::bail!(
            "the server was asked {} times for {} different logins, not once for each of {asked}",
            stats.user_requests,
            stats.distinct_logins
        );
    }
    let mut fetched = Fetched::none();
    for (login, result) in logins.iter().zip(results) {
        match result {
            Ok(record) if !record.login.eq_ignore_ascii_case(login) => {
                anyhow::bail!("the record of {} came back in the place of {login}", record.login)
            }
            Ok(record) => fetched.add_record(record),
            Err(error) if error.is_server_error() => fetched.server_errors += 1,
            Err(error) if error.is_timeout() => fetched.timeouts += 1,
            Err(_) => fetched.other_failures += 1,
        }
    }
    Ok(fetched)
}

impl Fetched {
    /// Nothing fetched yet.
    pub fn none() -> Fetched {
        Fetched {
            records: 0,
            server_errors: 0,
            timeouts: 0,
            other_failures: 0,
            fingerprint: 0xcbf2_9ce4_8422_2325,
        }
    }

    /// Counts `record`, the next one in login order, into the tally and its fingerprint.
    pub fn add_record(&mut self, record: &UserRecord) {
        self.records += 1;
        let text = format!(
            "{}|{}|{}|{}|{}",
            record.login,
            record.display_name(),
            record.id,
            record.created_at,
            record.public_repos
        );
        for byte in text.bytes() {
            self.fingerprint = (self.fingerprint ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Every failed request, for the report.
pub fn failure_list(logins: &[String], results: &[FetchResult]) -> Vec<serde_json::Value> {
    logins
        .iter()
        .zip(results)
        .filter_map(|(login, result)| {
            let error = result.as_ref().err()?;
            Some(serde_json::json!({ "login": login, "error": error, "message": error.to_string() }))
        })
        .collect()
}

/// `3 records, 1 × HTTP 403`: a run's outcomes in a few words.
pub fn tally(results: &[FetchResult]) -> String {
    let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
    for error in results.iter().filter_map(|result| result.as_ref().err()) {
        *kinds.entry(error.kind()).or_default() += 1;
    }
    let records = results.iter().filter(|result| result.is_ok()).count() as u64;
    let mut parts = vec![format::plural(records, "record")];
    parts.extend(kinds.into_iter().map(|(kind, n)| format!("{n} × {kind}")));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers::logins;
    use slowserver::{Config, FetchError};

    #[test]
    fn a_record_in_the_wrong_place_is_caught() {
        let config = Config::default();
        let logins = logins(2);
        let results: Vec<FetchResult> = vec![Ok(config.record(&logins[1])), Ok(config.record(&logins[0]))];
        let stats = Stats {
            user_requests: 2,
            distinct_logins: 2,
            ..Stats::default()
        };
        assert!(check_each_fetched_once(&logins, &results, Some(&stats)).is_err());
        let in_order: Vec<FetchResult> = logins.iter().map(|l| Ok(config.record(l))).collect();
        assert_eq!(
            check_each_fetched_once(&logins, &in_order, Some(&stats))
                .unwrap()
                .records,
            2
        );
        let asked_twice = Stats {
            user_requests: 3,
            distinct_logins: 2,
            ..Stats::default()
        };
        assert!(check_each_fetched_once(&logins, &in_order, Some(&asked_twice)).is_err());
        assert!(
            check_each_fetched_once(&logins, &in_order, None).is_ok(),
            "an outside server keeps no count"
        );
    }

    #[test]
    fn failures_are_tallied_by_kind() {
        let results: Vec<FetchResult> = vec![
            Ok(Config::default().record("ada")),
            Err(FetchError::Server {
                status: 403,
                message: "rate limit exceeded".into(),
            }),
            Err(FetchError::Server {
                status: 403,
                message: "rate limit exceeded".into(),
            }),
            Err(FetchError::BadReply("not JSON".into())),
        ];
        assert_eq!(tally(&results), "1 record, 2 × HTTP 403, 1 × not a user record");
    }
}
