//! The knobs as they really are after defaults, checked before anything runs: contradicting
//! flags, a URL template without `{login}` or with another scheme, a login the URL cannot
//! carry, an unreadable certificate file: one line and exit status 2.

use crate::Args;
use crate::servers::{Servers, logins, pool_sizes};
use course::Lesson;
use course::python::Python;
use course::timing::ComparisonReport;
use slowserver::{Trust, UrlTemplate};
use std::time::Duration;

/// What every section reads, and what one section hands to a later one.
pub struct Params {
    pub requests: usize,
    pub workers: usize,
    /// The largest pool that fits in this machine's limits (threads, open files).
    pub largest_pool: usize,
    pub delay: Duration,
    pub jitter: Duration,
    pub server_limit: usize,
    pub error_rate: f64,
    pub timeout_rate: f64,
    pub timeout: Duration,
    pub seed: u64,
    pub cores: usize,
    /// Whom to fetch, in order.
    pub logins: Vec<String>,
    /// `--url`: an outside server instead of the local ones.
    pub url: Option<UrlTemplate>,
    pub trust: Trust,
    /// The local servers (reliable and flaky), until section 5 stops them.
    pub servers: Option<Servers>,
    /// Section 1's comparison, which section 2 profiles.
    pub sweep: Option<ComparisonReport>,
    /// Section 1's failures against an outside server, which section 4 summarises.
    pub outside_failures: Option<Vec<(String, slowserver::FetchError)>>,
    /// The CPython that runs the same fetches (`python/fetch.py`) in sections 1 and 4, if any.
    pub python: Python,
    /// Set when section 1 left the twin's rows out (another answer, another count): section 4
    /// does not ask it again, so that one broken twin costs one line.
    pub twin_left_out: bool,
}

/// `--url`: an http:// or https:// URL with `{login}` in it.
pub fn url_template(text: &str) -> Result<UrlTemplate, String> {
    UrlTemplate::parse(text)
}

/// One of `--logins`: what a URL path can carry as it is.
pub fn login(text: &str) -> Result<String, String> {
    let login = text.trim();
    if slowserver::protocol::is_valid_login(login) {
        Ok(login.to_string())
    } else {
        Err(format!(
            "{login:?} is not a login: 1 to 64 letters, digits, '_', '-' or '.'"
        ))
    }
}

impl Params {
    pub fn from_args(args: &Args, lesson: &Lesson) -> anyhow::Result<Params> {
        let delay = args
            .delay
            .unwrap_or(lesson.pick(Duration::from_millis(10), Duration::from_millis(50)));
        let jitter = args.jitter.unwrap_or(delay / 5);
        if jitter > delay {
            return Err(course::usage_error(format!(
                "--jitter ({} ms) cannot be more than --delay ({} ms)",
                jitter.as_millis(),
                delay.as_millis()
            )));
        }
        if args.error_rate + args.timeout_rate > 1.0 {
            return Err(course::usage_error(format!(
                "--error-rate ({}) and --timeout-rate ({}) add up to more than 1",
                args.error_rate, args.timeout_rate
            )));
        }
        let slowest = delay + jitter;
        let timeout = args.timeout.unwrap_or((4 * slowest).max(Duration::from_millis(250)));
        if timeout <= slowest && args.url.is_none() {
            return Err(course::usage_error(format!(
                "--timeout ({} ms) must be longer than the slowest answer, delay + jitter ({} ms)",
                timeout.as_millis(),
                slowest.as_millis()
            )));
        }
        let trust = match &args.ca_cert {
            Some(path) => Trust::from_pem_file(path).map_err(|why| course::usage_error(format!("--ca-cert {why}")))?,
            None => Trust::WebPki,
        };
        // An outside server (GitHub allows 60 requests an hour without a token) gets the
        // lecture's four logins unless told otherwise.
        let logins = match (&args.logins, &args.url, args.requests) {
            (Some(logins), _, _) => logins.clone(),
            (None, Some(_), None) => logins(4),
            (None, _, requests) => logins(requests.unwrap_or(lesson.pick(16, 64))),
        };
        // Each worker of a pool keeps a thread and a connection open: a file here, and one in
        // the server's process, which runs under the same limits.
        let largest = pool_sizes(args.workers, logins.len()).into_iter().max().unwrap_or(1);
        let per_worker = course::limits::PerWorker {
            tasks: 1,
            threads: 1,
            files: 2,
        };
        let largest_pool = lesson.at_most(
            largest,
            "workers in the largest pool",
            course::limits::room_for_workers(per_worker),
        )?;
        let params = Params {
            requests: logins.len(),
            workers: args.workers.min(largest_pool),
            largest_pool,
            delay,
            jitter,
            server_limit: args.server_limit,
            error_rate: args.error_rate,
            timeout_rate: args.timeout_rate,
            timeout,
            seed: lesson.seed(),
            cores: lesson.machine().logical_cores,
            logins,
            url: args.url.clone(),
            trust,
            servers: None,
            sweep: None,
            outside_failures: None,
            // Asked only once every flag is known to be right: it prints under the header.
            python: Python::find(lesson, &args.python),
            twin_left_out: false,
        };
        lesson.param("requests", params.requests);
        lesson.param("delay_ms", delay.as_millis() as u64);
        lesson.param("jitter_ms", jitter.as_millis() as u64);
        lesson.param("timeout_ms", timeout.as_millis() as u64);
        lesson.param("url", params.url.as_ref().map(UrlTemplate::as_str));
        lesson.param("logins", &params.logins);
        Ok(params)
    }
}
