//! The course's one way to measure time. Every lesson times its work through this crate, so
//! every figure a student sees was taken, computed and printed the same way.
//!
//! - [`measure`] runs a closure once and returns its answer with a [`Measurement`]: wall time,
//!   user and system CPU time of this process (all its threads) and of the children it reaped
//!   meanwhile, and *cores used* = CPU time / wall time.
//! - [`repeat`] warms up, then measures N runs and keeps them all ([`Runs`]: best and median).
//! - [`Latencies`] records one duration per operation into an HDR histogram (p50 / p90 / p99 / max).
//! - [`Comparison`] times variants of the same work and reports speedup and efficiency against
//!   the first variant, and refuses to do so when the variants computed different answers.
//! - [`format`] prints durations, rates and sizes in one consistent style.

pub mod format;

mod compare;
mod latency;

pub use compare::{Comparison, ComparisonReport, Mismatch, Row, VariantRow};
pub use latency::{Latencies, LatencySummary, latencies};

use serde::ser::SerializeStruct;
use std::time::{Duration, Instant};

/// What one run of some work cost: elapsed wall-clock time and the CPU time the kernel charged.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Measurement {
    /// Elapsed real time.
    pub wall: Duration,
    /// CPU time spent running this process's own code, summed over all its threads.
    pub user: Duration,
    /// CPU time the kernel spent on behalf of this process (system calls, page faults).
    pub system: Duration,
    /// User + system CPU time of child processes that were reaped (waited for) during the run.
    /// A child that is still running, or exited but was not yet waited for, is not counted.
    pub children: Duration,
}

impl Measurement {
    /// All CPU time: this process's threads plus reaped children.
    pub fn cpu(&self) -> Duration {
        self.user + self.system + self.children
    }

    /// CPU time / wall time: about 1.0 for one busy thread, N for N busy threads, near 0 for
    /// work that mostly waits (on a timer, a socket, a lock).
    pub fn cores_used(&self) -> f64 {
        ratio(self.cpu(), self.wall)
    }
}

impl serde::Serialize for Measurement {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Measurement", 6)?;
        s.serialize_field("wall_s", &self.wall.as_secs_f64())?;
        s.serialize_field("user_s", &self.user.as_secs_f64())?;
        s.serialize_field("system_s", &self.system.as_secs_f64())?;
        s.serialize_field("children_cpu_s", &self.children.as_secs_f64())?;
        s.serialize_field("cpu_s", &self.cpu().as_secs_f64())?;
        s.serialize_field("cores_used", &self.cores_used())?;
        s.end()
    }
}

/// CPU time charged so far: (this process, its reaped children).
fn cpu_times() -> (Duration, Duration, Duration) {
    use nix::sys::resource::{UsageWho, getrusage};
    let to_duration = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(t.tv_sec().max(0) as u64) + Duration::from_micros(t.tv_usec().max(0) as u64)
    };
    // getrusage cannot fail for RUSAGE_SELF / RUSAGE_CHILDREN; zero is a safe fallback anyway.
    let (user, system) = match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => (to_duration(u.user_time()), to_duration(u.system_time())),
        Err(_) => (Duration::ZERO, Duration::ZERO),
    };
    let children = match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => to_duration(u.user_time()) + to_duration(u.system_time()),
        Err(_) => Duration::ZERO,
    };
    (user, system, children)
}

/// Runs `work` once and measures it.
///
/// CPU time is the whole process's, so measure one thing at a time: anything else running in
/// this process meanwhile (a background thread) is charged to `work` too.
pub fn measure<T>(work: impl FnOnce() -> T) -> (T, Measurement) {
    let (user0, system0, children0) = cpu_times();
    let start = Instant::now();
    let answer = work();
    let wall = start.elapsed();
    let (user1, system1, children1) = cpu_times();
    let measurement = Measurement {
        wall,
        user: user1.saturating_sub(user0),
        system: system1.saturating_sub(system0),
        children: children1.saturating_sub(children0),
    };
    (answer, measurement)
}

/// Several measurements of the same work.
#[derive(Clone, Debug, Default)]
pub struct Runs {
    /// One measurement per run, in the order they ran (warm-up runs excluded).
    pub samples: Vec<Measurement>,
}

impl Runs {
    /// The fastest run: the least disturbed by everything else on the machine.
    pub fn best(&self) -> Measurement {
        self.samples.iter().copied().min_by_key(|m| m.wall).unwrap_or_default()
    }

    /// The run in the middle by wall time: what a typical run costs.
    pub fn median(&self) -> Measurement {
        let mut sorted = self.samples.clone();
        sorted.sort_by_key(|m| m.wall);
        sorted
            .get(sorted.len().saturating_sub(1) / 2)
            .copied()
            .unwrap_or_default()
    }
}

impl From<Measurement> for Runs {
    fn from(measurement: Measurement) -> Self {
        Runs {
            samples: vec![measurement],
        }
    }
}

/// Runs `work` `warmup` times unmeasured (caches, page faults, thread pools warm up), then
/// `runs` times measured (at least once). Returns the answer of every measured run.
pub fn repeat<T>(warmup: usize, runs: usize, mut work: impl FnMut() -> T) -> (Vec<T>, Runs) {
    for _ in 0..warmup {
        std::hint::black_box(work());
    }
    let mut answers = Vec::with_capacity(runs.max(1));
    let mut samples = Vec::with_capacity(runs.max(1));
    for _ in 0..runs.max(1) {
        let (answer, measurement) = measure(&mut work);
        answers.push(answer);
        samples.push(measurement);
    }
    (answers, Runs { samples })
}

/// `a / b` as a plain number, 0 when `b` is zero.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        0.0
    } else {
        a.as_secs_f64() / b.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    // CPU time is per process and tests run on threads of one process: the tests that burn or
    // measure CPU take turns, so that one's spinning is not charged to another's sleep.
    static CPU: Mutex<()> = Mutex::new(());

    fn spin(duration: Duration) -> u64 {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < duration {
            n = std::hint::black_box(n + 1);
        }
        n
    }

    #[test]
    fn measure_returns_the_answer_and_a_wall_time() {
        let _turn = CPU.lock().unwrap_or_else(|e| e.into_inner());
        let (answer, m) = measure(|| {
            std::thread::sleep(Duration::from_millis(20));
            7
        });
        assert_eq!(answer, 7);
        assert!(m.wall >= Duration::from_millis(20), "{m:?}");
    }

    #[test]
    fn sleeping_uses_almost_no_cpu_and_spinning_uses_it() {
        let _turn = CPU.lock().unwrap_or_else(|e| e.into_inner());
        // Meaning, not timing: a sleeping thread is charged far less CPU than wall time,
        // a spinning one is charged some CPU. (Exact ratios depend on the machine's load.)
        let (_, sleeping) = measure(|| std::thread::sleep(Duration::from_millis(50)));
        assert!(sleeping.cpu() < sleeping.wall / 2, "{sleeping:?}");
        let (_, spinning) = measure(|| spin(Duration::from_millis(50)));
        assert!(spinning.cpu() > Duration::ZERO, "{spinning:?}");
    }

    #[test]
    fn reaped_children_are_charged_to_children() {
        let _turn = CPU.lock().unwrap_or_else(|e| e.into_inner());
        let (status, m) = measure(|| {
            std::process::Command::new("sh")
                .args(["-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"])
                .status()
        });
        assert!(status.expect("sh runs").success());
        assert!(m.children > Duration::ZERO, "{m:?}");
    }

    #[test]
    fn repeat_runs_warmup_then_measured_runs() {
        let mut calls = 0;
        let (answers, runs) = repeat(2, 3, || {
            calls += 1;
            calls
        });
        assert_eq!(calls, 5);
        assert_eq!(answers, vec![3, 4, 5]);
        assert_eq!(runs.samples.len(), 3);
        assert!(runs.best().wall <= runs.median().wall);
    }

    #[test]
    fn median_and_best_pick_by_wall_time() {
        let at = |ms| Measurement {
            wall: Duration::from_millis(ms),
            ..Default::default()
        };
        let runs = Runs {
            samples: vec![at(30), at(10), at(20), at(40)],
        };
        assert_eq!(runs.best().wall, Duration::from_millis(10));
        assert_eq!(runs.median().wall, Duration::from_millis(20));
        assert_eq!(Runs::default().median(), Measurement::default());
    }

    #[test]
    fn cores_used_is_cpu_over_wall() {
        let m = Measurement {
            wall: Duration::from_secs(2),
            user: Duration::from_secs(3),
            system: Duration::from_millis(500),
            children: Duration::from_millis(500),
        };
        assert_eq!(m.cpu(), Duration::from_secs(4));
        assert!((m.cores_used() - 2.0).abs() < 1e-9);
        assert_eq!(Measurement::default().cores_used(), 0.0);
        let json = serde_json::to_value(m).unwrap();
        assert_eq!(json["cores_used"], 2.0);
        assert_eq!(json["wall_s"], 2.0);
    }
}
