//! The child-process plumbing of section 4: fork the children, start them together, reap
//! them, read the counter they shared through a `MAP_SHARED` page (`shared_memory.rs`). What
//! each child runs is the concept's own `add_racily` / `add_atomically` (`race.rs`).

use crate::racing::Race;
use crate::shared_memory::{self, Shared, SharedMapping};
use crate::start_line::StartLine;
use anyhow::{bail, ensure};
use course::children;
use nix::sys::wait::WaitStatus;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How a group of child processes starts counting.
#[derive(Clone, Copy, Debug)]
pub enum Start {
    /// As soon as the last one is ready: for the timed fixes, so that no waiting is timed.
    Arrived,
    /// Once all of them are seen running at once, on a machine with `cores` cores (see
    /// `start_line.rs`): for the race, which shows only when the children overlap.
    Together { cores: usize },
}

/// Forks `n_processes` children that each run `update(counter, increments)` on the shared
/// counter, all starting together; reaps them and returns the counter.
pub fn count_in_children(
    mapping: &SharedMapping,
    n_processes: usize,
    increments: u64,
    update: fn(&AtomicU64, u64),
    start: Start,
) -> anyhow::Result<Race> {
    let shared: &Shared = mapping;
    ensure!(
        n_processes <= shared_memory::MAX_PROCESSES,
        "at most {} processes can share the counter",
        shared_memory::MAX_PROCESSES
    );
    shared.reset();
    let beats = &shared.beats[..n_processes];
    let line = match start {
        Start::Together { cores } => Some(StartLine::new(beats, &shared.start, cores)),
        Start::Arrived => None,
    };
    // `children::fork` refuses to fork while another thread is alive, and gives the threads of
    // the sections before (joined, but perhaps not yet gone) a moment to leave. A fork the
    // machine refuses ends the count: the children already forked are reaped by `course::run`.
    let mut pids = Vec::with_capacity(n_processes);
    for me in 0..n_processes {
        let line = line.as_ref();
        let pid = children::fork(|| {
            if let Some(line) = line {
                line.wait(me);
            } else {
                shared.ready.fetch_add(1, Ordering::SeqCst);
                while !shared.go.load(Ordering::SeqCst) {
                    std::thread::yield_now();
                }
            }
            update(&shared.counter, increments);
            0
        })?;
        pids.push(pid);
    }
    if line.is_none() {
        // Start them together, so that they overlap as threads did.
        let deadline = Instant::now() + Duration::from_secs(30);
        while shared.ready.load(Ordering::SeqCst) < n_processes {
            ensure!(Instant::now() < deadline, "the child processes did not start");
            std::thread::yield_now();
        }
        shared.go.store(true, Ordering::SeqCst);
    }
    for pid in pids {
        match children::wait(pid)? {
            WaitStatus::Exited(_, 0) => {}
            status => bail!("a child process ended unexpectedly: {status:?}"),
        }
    }
    Ok(Race {
        total: shared.counter.load(Ordering::SeqCst),
        together: line.is_some_and(|line| line.together()),
    })
}
