//! Section 1 on the machine's CPython: runs the twin `python/event_loop.py` (asyncio on one
//! thread, then a thread per connection with `urlopen`) against the same server, one way at a
//! time so that the server's count is each way's own, and reads its answers as Rust's, to be
//! checked against them before any ratio.

use crate::experiment::{MemoryUse, Replies, record_hash};
use course::Lesson;
use course::python::{Python, Twin, TwinVariant};
use serde_json::Value;
use slowserver::{ServerProcess, UrlTemplate, UserRecord};
use std::collections::BTreeMap;
use std::time::Duration;

/// The twin's ways, as it names them, beside the Rust way each is measured against.
pub const WAYS: [(&str, &str); 2] = [
    ("a thread each", "thread per connection"),
    ("asyncio", "one thread, event loop"),
];

/// The line that says why the twin does not run against an https:// server.
pub const NOT_HTTPS: &str = "CPython's rows: the twin runs against http:// servers only (its clients would trust the \
system's certificates, not the lesson's): skipped.";

/// One of the twin's ways, run alone: what it printed, and the most connections the local
/// server saw open at once while it ran (0 for an outside server).
pub struct Way {
    pub twin: Twin,
    pub server_peak_connections: u64,
}

impl Way {
    pub fn variant(&self) -> Option<&TwinVariant> {
        self.twin.variants.first()
    }

    /// The threads, connections and memory it reported, in the lesson's terms; kernel stacks
    /// counted at `kernel_stack_per_thread` (the Rust run's measure) for each of its threads.
    pub fn memory(&self, kernel_stack_per_thread: Option<u64>) -> MemoryUse {
        let number = |key: &str| self.variant().and_then(|v| v.extra.get(key)).and_then(Value::as_u64);
        MemoryUse {
            resident: number("peak_rss_bytes"),
            page_tables: number("peak_page_tables_bytes"),
            kernel_stacks: number("peak_threads")
                .zip(kernel_stack_per_thread)
                .map(|(t, each)| t * each),
            reserved: number("peak_virtual_bytes"),
        }
    }

    pub fn number(&self, key: &str) -> Option<u64> {
        self.variant()?.extra.get(key)?.as_u64()
    }
}

/// What the twin needs to fetch what Rust fetched.
pub struct Request<'a> {
    pub url: &'a UrlTemplate,
    /// The local server, whose count is checked after each way (`None` with `--url`).
    pub server: Option<&'a ServerProcess>,
    pub logins: &'a [String],
    /// Whether `logins` are the lesson's own (client00000, ...), which the twin makes itself.
    pub default_logins: bool,
    pub delay: Duration,
}

/// Runs the twin once for each way, with the server's count reset before each. A way that
/// fails, held fewer connections than asked (the open-file limit, the same for every way), or
/// asked the local server anything but once for each login is one warning line, and the ways
/// after it are not run (one broken twin, one line); a way whose threads were refused is one
/// warning line, and the next way (one thread) still runs. An error only when the local server
/// cannot be asked for its count.
pub fn ways_in_cpython(lesson: &Lesson, python: &Python, request: &Request) -> anyhow::Result<Vec<Way>> {
    let Some(interpreter) = python.interpreter().cloned() else {
        return Ok(Vec::new());
    };
    let who = format!("{} ({})", interpreter.label(), interpreter.command.display());
    let n = request.logins.len();
    // Starting ten thousand threads takes CPython a second or two, its event loop about as long
    // for the connections; then one delay; a generous margin for a busy machine.
    let timeout = Duration::from_secs(60) + 4 * request.delay + Duration::from_millis(5) * n.min(1 << 20) as u32;
    let mut ways = Vec::new();
    for (name, _) in WAYS {
        let mut args = vec![
            "--url".to_string(),
            request.url.as_str().to_string(),
            "--ways".to_string(),
            name.to_string(),
        ];
        if request.default_logins {
            args.extend(["--connections".to_string(), n.to_string()]);
        } else {
            args.extend(["--logins".to_string(), request.logins.join(",")]);
        }
        if let Some(server) = request.server {
            server.reset_stats()?;
        }
        let Some(twin) = python.run(lesson, course::python_twin!("event_loop.py"), args, timeout) else {
            break;
        };
        let held = twin.params["connections"].as_u64().unwrap_or(0);
        if held != n as u64 {
            let why = twin.params["limited_by"].as_str().unwrap_or("its limits");
            lesson.warn(&format!(
                "{who}, '{name}', could hold {held} of the {n} connections here ({why}): its row is left out"
            ));
            break;
        }
        if let Some(refused) = twin
            .variants
            .first()
            .and_then(|v| v.extra.get("refused"))
            .filter(|r| !r.is_null())
        {
            lesson.warn(&format!(
                "{who}, '{name}': thread {} of {n} was refused ({}): its row is left out",
                refused["started"].as_u64().unwrap_or(0) + 1,
                refused["error"].as_str().unwrap_or("no reason given")
            ));
            continue;
        }
        let mut server_peak_connections = 0;
        if let Some(server) = request.server {
            let stats = server.stats()?;
            if stats.user_requests != n as u64 || stats.distinct_logins != n as u64 {
                lesson.warn(&format!(
                    "{who}, '{name}', asked the server {} times for {} different logins, not once for each of {n}: \
its row is left out",
                    stats.user_requests, stats.distinct_logins
                ));
                break;
            }
            server_peak_connections = stats.peak_open_connections;
        }
        ways.push(Way {
            twin,
            server_peak_connections,
        });
    }
    Ok(ways)
}

/// The twin's answer as Rust's tally: its records, which must come in login order, and its
/// failed requests.
pub fn replies_for(logins: &[String]) -> impl Fn(&Value) -> Option<Replies> + '_ {
    move |value| {
        let records: Vec<UserRecord> = serde_json::from_value(value.get("records")?.clone()).ok()?;
        let failures: BTreeMap<String, usize> = serde_json::from_value(value.get("failures")?.clone()).ok()?;
        let failed: usize = failures.values().sum();
        let requests = value.get("requests")?.as_u64()? as usize;
        if requests != logins.len() || records.len() + failed != requests {
            return None;
        }
        let mut rest = logins.iter();
        let mut replies = Replies {
            requests,
            records: records.len(),
            failures: failed,
            fingerprint: 0,
        };
        for record in &records {
            // In login order: each record's login comes later than the one before.
            rest.find(|login| login.eq_ignore_ascii_case(&record.login))?;
            replies.fingerprint = replies.fingerprint.wrapping_add(record_hash(record));
        }
        Some(replies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::{Outcome, Peaks, Resources, VariantReport};
    use slowserver::{Config, FetchError};

    #[test]
    fn a_twins_answer_is_tallied_as_rusts() {
        let config = Config::default();
        let logins: Vec<String> = (0..3).map(|i| format!("client{i:05}")).collect();
        let outcomes = vec![
            Outcome::of(&logins[0], Ok(config.record(&logins[0])), Duration::ZERO),
            Outcome::of(&logins[1], Err(FetchError::Io("reset".into())), Duration::ZERO),
            Outcome::of(&logins[2], Ok(config.record(&logins[2])), Duration::ZERO),
        ];
        let rust = VariantReport::new(outcomes, 3, &Peaks::default(), Resources::default()).replies;
        let records = [config.record(&logins[0]), config.record(&logins[2])];
        let twin = serde_json::json!({
            "requests": 3, "records": records, "failures": {"connection failed": 1}
        });
        assert_eq!(replies_for(&logins)(&twin), Some(rust));
        let swapped = serde_json::json!({
            "requests": 3, "records": [&records[1], &records[0]], "failures": {"timeout": 1}
        });
        assert_eq!(replies_for(&logins)(&swapped), None, "out of login order");
        let short = serde_json::json!({ "requests": 3, "records": records, "failures": {} });
        assert_eq!(replies_for(&logins)(&short), None, "does not add up");
    }
}
