//! Per-operation latencies in an HDR histogram: record millions of durations in a few KiB and
//! still read off p99 to three significant digits.

use hdrhistogram::Histogram;
use serde::Serialize;
use std::time::{Duration, Instant};

/// A latency distribution, in nanoseconds, to three significant digits.
#[derive(Clone, Debug)]
pub struct Latencies {
    histogram: Histogram<u64>,
}

impl Default for Latencies {
    fn default() -> Self {
        Self::new()
    }
}

/// The figures a lesson prints and reports for one distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Number of operations recorded.
    pub count: u64,
    #[serde(serialize_with = "as_secs")]
    pub min: Duration,
    #[serde(serialize_with = "as_secs")]
    pub p50: Duration,
    #[serde(serialize_with = "as_secs")]
    pub p90: Duration,
    #[serde(serialize_with = "as_secs")]
    pub p99: Duration,
    #[serde(serialize_with = "as_secs")]
    pub max: Duration,
    #[serde(serialize_with = "as_secs")]
    pub mean: Duration,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl Latencies {
    /// An empty distribution that grows to hold any duration.
    pub fn new() -> Self {
        // Three significant digits; auto-resizing, so no upper bound needs guessing.
        let histogram = Histogram::new(3).expect("3 significant figures is a valid precision");
        Latencies { histogram }
    }

    /// Records one operation's duration (durations past the histogram's range are clamped).
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        // The histogram grows to fit; only a value beyond any range it can grow to is clamped.
        if self.histogram.record(nanos).is_err() {
            self.histogram.saturating_record(nanos);
        }
    }

    /// Runs `operation` and records how long it took.
    pub fn time<T>(&mut self, operation: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let answer = operation();
        self.record(start.elapsed());
        answer
    }

    /// Adds every sample of `other` (for example, one histogram per thread, merged at the end).
    pub fn merge(&mut self, other: &Latencies) {
        // Both histograms auto-resize, so adding cannot run out of range.
        let _ = self.histogram.add(&other.histogram);
    }

    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// The latency below which `quantile` (0.0..=1.0) of the operations fall.
    pub fn quantile(&self, quantile: f64) -> Duration {
        Duration::from_nanos(self.histogram.value_at_quantile(quantile.clamp(0.0, 1.0)))
    }

    pub fn summary(&self) -> LatencySummary {
        if self.histogram.is_empty() {
            return LatencySummary::default();
        }
        LatencySummary {
            count: self.histogram.len(),
            min: Duration::from_nanos(self.histogram.min()),
            p50: self.quantile(0.50),
            p90: self.quantile(0.90),
            p99: self.quantile(0.99),
            max: Duration::from_nanos(self.histogram.max()),
            mean: Duration::from_nanos(self.histogram.mean().round() as u64),
        }
    }
}

/// Warms up, then runs `operation` `count` times and records each run's latency.
pub fn latencies(warmup: usize, count: usize, mut operation: impl FnMut()) -> Latencies {
    for _ in 0..warmup {
        operation();
    }
    let mut latencies = Latencies::new();
    for _ in 0..count {
        latencies.time(&mut operation);
    }
    latencies
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_recorded_values() {
        let mut l = Latencies::new();
        for micros in 1..=100 {
            l.record(Duration::from_micros(micros));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        let close = |d: Duration, micros: u64| {
            let want = micros as f64 * 1000.0;
            (d.as_nanos() as f64 - want).abs() <= want * 0.001 + 1.0
        };
        assert!(close(s.min, 1), "{s:?}");
        assert!(close(s.p50, 50), "{s:?}");
        assert!(close(s.p90, 90), "{s:?}");
        assert!(close(s.p99, 99), "{s:?}");
        assert!(close(s.max, 100), "{s:?}");
    }

    #[test]
    fn merge_adds_samples_and_empty_summary_is_zero() {
        let mut a = Latencies::new();
        a.record(Duration::from_millis(1));
        let mut b = Latencies::new();
        b.record(Duration::from_millis(3));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(Latencies::new().summary(), LatencySummary::default());
    }

    #[test]
    fn latencies_runs_the_operation_warmup_plus_count_times() {
        let mut calls = 0;
        let l = latencies(3, 10, || calls += 1);
        assert_eq!(calls, 13);
        assert_eq!(l.count(), 10);
    }

    #[test]
    fn huge_durations_are_clamped_not_lost() {
        let mut l = Latencies::new();
        l.record(Duration::from_secs(u64::MAX));
        assert_eq!(l.count(), 1);
    }
}
