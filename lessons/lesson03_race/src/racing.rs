//! Making the race visible: the racy count of `race.rs`, its threads started from a start
//! line (`start_line.rs`) that waits until all of them run at once, because a race shows only
//! when the threads really overlap.

use crate::race::add_racily;
use crate::start_line::StartLine;
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::thread;

/// Tries of section 1 before it gives up showing the race, each twice as long as the one
/// before: a race only shows when the workers overlap, and longer races overlap more.
pub const RACE_TRIES: usize = 5;

/// The outcome of a racy count.
#[derive(Clone, Copy, Debug)]
pub struct Race {
    /// The final counter.
    pub total: u64,
    /// Whether every worker was seen running at the same moment before they started counting.
    pub together: bool,
}

/// `race::count_racy`, with the threads held at a start line until all of them run at once
/// on a machine with `cores` cores.
// This version is problematic: it loses updates (see `race::add_racily`).
pub fn count_racy_at_start_line(n_threads: usize, increments: u64, cores: usize) -> anyhow::Result<Race> {
    let counter = AtomicU64::new(0);
    let beats: Vec<AtomicU64> = (0..n_threads).map(|_| AtomicU64::new(0)).collect();
    let state = AtomicU8::new(0);
    let line = StartLine::new(&beats, &state, cores);
    thread::scope(|scope| {
        for me in 0..n_threads {
            let (line, counter) = (&line, &counter);
            let started = thread::Builder::new().spawn_scoped(scope, move || {
                line.wait(me);
                add_racily(counter, increments);
            });
            if let Err(refused) = started {
                // The threads already at the line would wait for this one forever.
                line.abandon();
                let which = format!("could not start racing thread {} of {n_threads}", me + 1);
                return Err(anyhow::Error::new(refused).context(which));
            }
        }
        anyhow::Ok(())
    })?;
    Ok(Race {
        total: counter.into_inner(),
        together: line.together(),
    })
}

/// Why a racy count came out exact, from whether its workers were seen running at once.
pub fn why_no_update_was_lost(together: bool) -> &'static str {
    if together {
        "the threads hardly overlapped"
    } else {
        "the threads took turns on the cores instead of running at once"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_at_an_abandoned_line_go() {
        let beats: Vec<AtomicU64> = (0..2).map(|_| AtomicU64::new(0)).collect();
        let state = AtomicU8::new(0);
        let line = StartLine::new(&beats, &state, 2);
        thread::scope(|scope| {
            // Worker 1 never comes: without `abandon` worker 0 would wait forever.
            let waiting = scope.spawn(|| line.wait(0));
            line.abandon();
            waiting.join().unwrap();
        });
        assert!(!line.together());
    }

    #[test]
    fn the_racy_count_never_gains_and_is_exact_alone() {
        assert_eq!(count_racy_at_start_line(1, 100_000, 1).unwrap().total, 100_000);
        for cores in [1, 2, 8] {
            for _ in 0..5 {
                let total = count_racy_at_start_line(4, 50_000, cores).unwrap().total;
                assert!((1..=200_000).contains(&total), "{total}");
            }
        }
    }
}
