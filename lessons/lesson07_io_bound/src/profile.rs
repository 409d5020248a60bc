//! Profiling the way the lecture advises: CPU time against wall time, and one request step by
//! step (a bare HTTP/1.1 connection, so that each step can be timed on its own).

use course::Lesson;
use course::table::Table;
use course::timing::{Latencies, VariantRow, format};
use serde::Serialize;
use slowserver::client::Connection;
use slowserver::protocol;
use std::net::SocketAddr;
use std::time::Duration;

/// One row of a CPU-time profile.
#[derive(Debug, Serialize)]
pub struct Profile {
    pub variant: String,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub cores_used: f64,
    pub verdict: &'static str,
}

/// Prints wall time, CPU time and cores used of each run, and what they say it was doing.
pub fn profile_table(lesson: &Lesson, cores: usize, rows: &[VariantRow]) -> Vec<Profile> {
    let mut table = Table::new(&["variant", "wall", "CPU time", "cores used", "what it was doing"]).left(4);
    let mut profiles = Vec::new();
    for row in rows {
        let verdict = classify(row.cores_used, row.workers.min(cores));
        table.row([
            row.name.clone(),
            format::seconds(row.median.wall.as_secs_f64()),
            format::duration(row.median.cpu()),
            format!("{:.2}", row.cores_used),
            verdict.to_string(),
        ]);
        profiles.push(Profile {
            variant: row.name.clone(),
            wall_s: row.median.wall.as_secs_f64(),
            cpu_s: row.median.cpu().as_secs_f64(),
            cores_used: row.cores_used,
            verdict,
        });
    }
    lesson.table(&table);
    profiles
}

/// What a run was doing, from its cores used (CPU time / wall time) and how many of its
/// workers could run at the same moment: near 0 per worker is waiting, near 1 is computing.
/// (On a machine busy with other programs, computing threads get less than a core each, so a
/// run that kept at least most of a core busy counts as computing too.)
pub fn classify(cores_used: f64, busy_at_most: usize) -> &'static str {
    let per_worker = cores_used / busy_at_most.max(1) as f64;
    if per_worker < 0.25 && cores_used < 0.5 {
        "waiting: more threads help"
    } else if per_worker > 0.7 || cores_used > 0.75 {
        "computing: only more cores help"
    } else {
        "some of each"
    }
}

pub const WHOLE_REQUEST: &str = "whole request";

/// Fetches `logins` one after another, timing each step of each request.
pub fn request_phases(
    server: SocketAddr,
    logins: &[String],
    timeout: Duration,
) -> anyhow::Result<Vec<(&'static str, Latencies)>> {
    let (mut connect, mut send, mut wait, mut parse, mut whole) = (
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
        Latencies::new(),
    );
    for login in logins {
        whole.time(|| -> anyhow::Result<()> {
            let mut connection = connect.time(|| Connection::open(server, timeout))?;
            send.time(|| connection.send_request(login))?;
            let reply = wait.time(|| connection.receive_reply())?;
            parse.time(|| protocol::parse_reply(&reply))?;
            Ok(())
        })?;
    }
    Ok(vec![
        ("connect", connect),
        ("send the request", send),
        ("wait for the reply", wait),
        ("parse the record", parse),
        (WHOLE_REQUEST, whole),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_and_computing_are_told_apart() {
        assert_eq!(classify(0.01, 1), "waiting: more threads help");
        assert_eq!(classify(0.05, 2), "waiting: more threads help");
        assert_eq!(classify(0.98, 1), "computing: only more cores help");
        assert_eq!(classify(1.9, 2), "computing: only more cores help");
    }
}
