//! One phase of the lesson: fork the busy processes (`busy::fry_eggs` in each child), pin them
//! when asked (`busy::pin_process`), watch the cores and the workers until the phase ends
//! (`live.rs`), reap the workers, and report what the kernel saw.
//!
//! A machine that refuses a process partway (a per-user process limit, a container's task
//! limit) does not end the lesson: the phase goes on with the workers already started, and a
//! warning names the limit. Refused the first worker, the phase stops with that one line.

use crate::busy;
use crate::live;
use crate::sampler::{self, CoreTicks, ProcessView};
use course::Lesson;
use course::children;
use course::timing::{self, Measurement};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long a phase lasts and how often it is sampled.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    pub phase: Duration,
    pub interval: Duration,
}

/// What one phase showed.
#[derive(Debug, Serialize)]
pub struct PhaseReport {
    pub workers_started: usize,
    pub pinned: bool,
    pub samples: usize,
    /// Each core's busy share over the whole phase.
    pub core_load: Vec<f64>,
    pub workers: Vec<WorkerReport>,
    /// Wall time, CPU time (the workers' counted when they were reaped), cores used.
    pub measurement: Measurement,
}

impl PhaseReport {
    /// Changes of core seen in all the workers' timelines.
    pub fn moves_seen(&self) -> usize {
        self.workers.iter().map(|worker| worker.moves_seen).sum()
    }
}

/// One worker's phase, as the kernel saw it.
#[derive(Debug, Serialize)]
pub struct WorkerReport {
    pub pid: i32,
    pub pinned_to: Option<usize>,
    /// The core it was on at each sample (None where it could not be read).
    pub timeline: Vec<Option<usize>>,
    pub cores_visited: Vec<usize>,
    /// Changes of core between consecutive samples: a lower bound on the real moves.
    pub moves_seen: usize,
    /// The scheduler's own count of moves during the phase, where the kernel publishes it.
    pub kernel_migrations: Option<u64>,
    /// Times it was preempted during the phase while it still wanted to run.
    pub involuntary_switches: Option<u64>,
    pub cpu_s: f64,
}

/// Runs one phase with `n_workers` busy processes (pinned one to a core each with `pin`).
pub fn run_phase(lesson: &Lesson, watch: Watch, n_workers: usize, pin: bool) -> anyhow::Result<PhaseReport> {
    let allowed = busy::allowed_cores();
    let (watched, measurement) = timing::measure(|| start_and_watch(lesson, watch, n_workers, pin.then_some(&allowed)));
    let watched = watched?;
    let workers = watched
        .pids
        .iter()
        .enumerate()
        .map(|(index, &pid)| {
            let seen: Vec<&ProcessView> = watched.samples.iter().map(|sample| &sample[index]).collect();
            let timeline: Vec<Option<usize>> = seen.iter().map(|view| view.processor).collect();
            let known: Vec<usize> = timeline.iter().flatten().copied().collect();
            let growth = |read: fn(&ProcessView) -> Option<u64>| {
                let values: Vec<u64> = seen.iter().filter_map(|view| read(view)).collect();
                Some(values.last()?.saturating_sub(*values.first()?))
            };
            WorkerReport {
                pid,
                pinned_to: pin.then(|| busy::core_for(index, &allowed)),
                cores_visited: known.iter().copied().collect::<BTreeSet<_>>().into_iter().collect(),
                moves_seen: known.windows(2).filter(|pair| pair[0] != pair[1]).count(),
                kernel_migrations: growth(|view| view.kernel_migrations),
                involuntary_switches: growth(|view| view.involuntary_switches),
                cpu_s: seen
                    .iter()
                    .filter_map(|view| view.cpu)
                    .max()
                    .unwrap_or_default()
                    .as_secs_f64(),
                timeline,
            }
        })
        .collect::<Vec<_>>();
    Ok(PhaseReport {
        workers_started: workers.len(),
        pinned: pin,
        samples: watched.samples.len(),
        core_load: sampler::load_between(&watched.first_ticks, &watched.last_ticks),
        workers,
        measurement,
    })
}

/// What watching one phase collected.
struct Watched {
    pids: Vec<i32>,
    /// Every sample: one view per worker, in worker order.
    samples: Vec<Vec<ProcessView>>,
    first_ticks: Vec<CoreTicks>,
    last_ticks: Vec<CoreTicks>,
}

/// Forks the busy processes, pins them when given the cores to pin to, watches them until the
/// phase ends, and reaps them.
fn start_and_watch(
    lesson: &Lesson,
    watch: Watch,
    n_workers: usize,
    pin_to_cores: Option<&Vec<usize>>,
) -> anyhow::Result<Watched> {
    let started = Instant::now();
    let first_ticks = sampler::core_ticks().unwrap_or_default();
    let pids = start_workers(lesson, n_workers, watch.phase)?;
    if let Some(cores) = pin_to_cores {
        for (index, pid) in pids.iter().enumerate() {
            let core = busy::core_for(index, cores);
            busy::pin_process(*pid, core)
                .map_err(|error| anyhow::anyhow!("could not pin a busy process to cpu{core}: {error}"))?;
        }
    }
    let samples = live::watch_until_done(lesson, watch, &pids);
    if pids.is_empty() {
        // No worker to wait for: sit out the rest of the phase, so that the counters cover
        // all of the time the lesson announced, not just up to the last sample.
        std::thread::sleep(watch.phase.saturating_sub(started.elapsed()));
    }
    let last_ticks = sampler::core_ticks().unwrap_or_default();
    for pid in &pids {
        let status = children::wait(*pid)?;
        anyhow::ensure!(
            matches!(status, WaitStatus::Exited(_, 0)),
            "a busy process ended badly: {status:?}"
        );
    }
    Ok(Watched {
        pids: pids.iter().map(|pid| pid.as_raw()).collect(),
        samples,
        first_ticks,
        last_ticks,
    })
}

/// Forks `n_workers` children that each fry eggs for `duration`. When the machine refuses one
/// after the first, the phase goes on with those already started and says which limit was in
/// the way (`children::fork` names it); a refused first worker is an error.
fn start_workers(lesson: &Lesson, n_workers: usize, duration: Duration) -> anyhow::Result<Vec<Pid>> {
    let mut pids = Vec::with_capacity(n_workers);
    for _ in 0..n_workers {
        // The child fries eggs, then exits with status 0 (which `start_and_watch` checks).
        let fry_then_exit = move || {
            busy::fry_eggs(duration);
            0
        };
        match children::fork(fry_then_exit) {
            Ok(pid) => pids.push(pid),
            Err(error) if !pids.is_empty() => {
                lesson.warn(&format!(
                    "this phase runs {} of the {n_workers} busy processes it asked for: {error:#}",
                    pids.len()
                ));
                break;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(pids)
}
