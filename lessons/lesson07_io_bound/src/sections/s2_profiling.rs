//! Section 2: the lecture's advice, measured. CPU time far below wall time means waiting.

use crate::Params;
use crate::profile::{WHOLE_REQUEST, profile_table, request_phases};
use course::chart::Bars;
use course::timing::{self, Latencies, format};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let Some(sweep) = &p.sweep else {
        say!(
            lesson,
            "  This section profiles the runs of section 1: show section 1 first."
        );
        return Ok(());
    };
    say!(
        lesson,
        "  Profile the plain version first. CPU time far below wall time: it waits, and threads will"
    );
    say!(lesson, "  help. The two close: it computes, and only more cores help.");
    let profiles = profile_table(lesson, p.cores, &sweep.rows);
    lesson.figure("profiles", &profiles);
    let sequential = sweep.rows.first().map_or(0.0, |row| row.cores_used);
    lesson.figure("sequential_cores_used", sequential);

    // Where one request's time goes, step by step, like a profiler's breakdown: a bare HTTP/1.1
    // connection to the local server, so that each step can be timed alone.
    if let Some(servers) = &p.servers {
        let sample: Vec<String> = p.logins.iter().take(16).cloned().collect();
        let phases = request_phases(servers.reliable.addr(), &sample, p.timeout)?;
        say!(lesson);
        say!(
            lesson,
            "  One request, step by step ({} requests, one after another):",
            sample.len()
        );
        let rows: Vec<(&str, &Latencies)> = phases.iter().map(|(name, latencies)| (*name, latencies)).collect();
        lesson.latencies("request_phases", &rows);
        let whole = phases
            .iter()
            .find(|(name, _)| *name == WHOLE_REQUEST)
            .map(|(_, latencies)| latencies.summary().mean)
            .unwrap_or_default();
        let mut bars = Bars::new().width(30).max(1.0);
        let mut shares = serde_json::Map::new();
        for (name, latencies) in phases.iter().filter(|(name, _)| *name != WHOLE_REQUEST) {
            let share = timing::ratio(latencies.summary().mean, whole);
            bars.row(*name, share, format::percent(share));
            shares.insert(name.to_string(), share.into());
        }
        say!(lesson, "  share of a request's time:");
        lesson.bars(&bars);
        lesson.figure("request_phase_shares", shares);
    } else {
        say!(
            lesson,
            "  (The step-by-step profile times a bare connection to the local server: not with --url.)"
        );
    }
    let in_cpython = sweep
        .rows
        .iter()
        .find(|row| row.name == format!("CPython: {}", crate::cpython::SEQUENTIAL))
        .map_or(String::new(), |row| {
            format!(" ({} in CPython)", format::percent(row.cores_used))
        });
    lesson.notice(&format!(
        "The sequential run kept {} of a core busy{in_cpython}: it spent almost all its time waiting for \
replies, so overlapping the waits is what helps, and a thread per wait is cheap.",
        format::percent(sequential)
    ));
    Ok(())
}
