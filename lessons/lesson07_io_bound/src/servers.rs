//! The local servers, whom to fetch, and what speedup to expect from a pool.

use crate::Params;
use slowserver::{Config, ServerProcess, UrlTemplate};

/// Two slow servers, each a child process: a reliable one (sections 1 and 2) and a flaky one
/// that fails some logins on purpose (section 4).
pub struct Servers {
    pub reliable: ServerProcess,
    pub flaky: ServerProcess,
}

impl Servers {
    /// Forks both servers; call while this process has one thread.
    pub fn start(params: &Params) -> anyhow::Result<Servers> {
        Ok(Servers {
            reliable: ServerProcess::start(&config(params, 0.0, 0.0))?,
            flaky: ServerProcess::start(&config(params, params.error_rate, params.timeout_rate))?,
        })
    }
}

/// A server with the lesson's delay, jitter, limit and seed, and these failure rates.
pub fn config(params: &Params, error_rate: f64, timeout_rate: f64) -> Config {
    Config {
        delay: params.delay,
        jitter: params.jitter,
        error_rate,
        timeout_rate,
        max_in_flight: Some(params.server_limit),
        seed: params.seed,
        ..Config::default()
    }
}

/// Where section 1 fetches from: the outside server of `--url`, or the reliable local one.
pub fn url_of(params: &Params, server: Option<&ServerProcess>) -> Option<UrlTemplate> {
    params
        .url
        .clone()
        .or_else(|| server.map(|server| UrlTemplate::local(server.addr())))
}

/// The lecture's four GitHub users, then made-up logins: `count` in all.
pub fn logins(count: usize) -> Vec<String> {
    const LECTURE: [&str; 4] = ["gvanrossum", "wesm", "tebeka", "torvalds"];
    (0..count)
        .map(|i| {
            LECTURE
                .get(i)
                .map_or_else(|| format!("user{i:04}"), |login| login.to_string())
        })
        .collect()
}

/// The pool sizes to try: powers of two up to the requests (at most 128; a larger pool would
/// only start threads that find the queue empty), and the `--workers` size.
pub fn pool_sizes(workers: usize, requests: usize) -> Vec<usize> {
    let mut sizes: Vec<usize> = (1..=7).map(|power| 1 << power).filter(|&n| n <= requests).collect();
    if !sizes.contains(&workers) {
        sizes.push(workers);
        sizes.sort_unstable();
    }
    sizes
}

/// The speedup to expect from `workers` threads when the server works on at most `limit`
/// requests at once: the requests go in rounds, each about one delay long.
pub struct Expected {
    #[cfg_attr(not(test), allow(dead_code))] // shown in the README's worked example
    pub rounds: usize,
    pub speedup: f64,
    #[cfg_attr(not(test), allow(dead_code))] // what the README's worked example names
    pub limited_by: &'static str,
}

impl Expected {
    pub fn new(workers: usize, limit: usize, requests: usize) -> Self {
        let at_once = workers.min(limit).min(requests).max(1);
        let rounds = requests.div_ceil(at_once);
        let limited_by = if at_once == requests {
            "the requests"
        } else if limit < workers {
            "the server"
        } else if workers == 1 {
            "one at a time"
        } else {
            "the workers"
        };
        Expected {
            rounds,
            speedup: requests as f64 / rounds as f64,
            limited_by,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_speedup_counts_rounds() {
        let e = Expected::new(8, 32, 64);
        assert_eq!((e.rounds, e.speedup), (8, 8.0));
        let server_bound = Expected::new(64, 32, 64);
        assert_eq!((server_bound.rounds, server_bound.limited_by), (2, "the server"));
        let request_bound = Expected::new(128, 200, 64);
        assert_eq!(
            (request_bound.speedup, request_bound.limited_by),
            (64.0, "the requests")
        );
        assert_eq!(Expected::new(1, 32, 10).speedup, 1.0);
    }

    #[test]
    fn pool_sizes_include_the_workers_flag() {
        assert_eq!(pool_sizes(8, 64), vec![2, 4, 8, 16, 32, 64]);
        assert_eq!(pool_sizes(8, 16), vec![2, 4, 8, 16]);
        assert_eq!(pool_sizes(6, 4), vec![2, 4, 6]);
        assert_eq!(pool_sizes(1, 1), vec![1]);
    }

    #[test]
    fn logins_start_with_the_lecture_users() {
        assert_eq!(logins(2), vec!["gvanrossum", "wesm"]);
        assert_eq!(logins(6)[5], "user0005");
    }
}
