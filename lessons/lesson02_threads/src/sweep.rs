//! Section 5's sweep: the same strings made longer and longer, and the size from which a
//! thread per string keeps beating the sequential loop.

use course::timing::ComparisonReport;

/// One size of the sweep.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct SweepPoint {
    pub bytes_per_string: usize,
    /// The sequential time divided by the strings: the work one thread would be given.
    pub work_per_string_s: f64,
    pub sequential_s: f64,
    pub thread_per_string_s: f64,
    pub thread_per_string_speedup: f64,
    pub per_core_s: f64,
    pub per_core_speedup: f64,
}

impl SweepPoint {
    pub fn new(bytes_per_string: usize, n_strings: usize, report: &ComparisonReport) -> Self {
        let time = |name: &str| report.row(name).map_or((0.0, 0.0), |r| (r.median_s, r.speedup));
        let (sequential_s, _) = time("sequential");
        let (thread_per_string_s, thread_per_string_speedup) = time("thread per string");
        let (per_core_s, per_core_speedup) = time("per core");
        SweepPoint {
            bytes_per_string,
            work_per_string_s: sequential_s / n_strings.max(1) as f64,
            sequential_s,
            thread_per_string_s,
            thread_per_string_speedup,
            per_core_s,
            per_core_speedup,
        }
    }
}

/// The smallest size from which on a thread per string beat the sequential loop at every size
/// measured: a single lucky size among losing ones does not count.
pub fn first_size_that_keeps_paying(sweep: &[SweepPoint]) -> Option<SweepPoint> {
    let mut first = None;
    for point in sweep.iter().rev() {
        if point.thread_per_string_speedup > 1.0 {
            first = Some(*point);
        } else {
            break;
        }
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paying_means_paying_at_every_larger_size() {
        let point = |bytes, speedup| SweepPoint {
            bytes_per_string: bytes,
            work_per_string_s: 0.0,
            sequential_s: 0.0,
            thread_per_string_s: 0.0,
            thread_per_string_speedup: speedup,
            per_core_s: 0.0,
            per_core_speedup: 0.0,
        };
        let sweep = [
            point(10, 0.1),
            point(100, 1.2),
            point(1000, 0.9),
            point(10_000, 1.5),
            point(100_000, 1.8),
        ];
        assert_eq!(
            first_size_that_keeps_paying(&sweep).map(|p| p.bytes_per_string),
            Some(10_000)
        );
        assert!(first_size_that_keeps_paying(&sweep[..3]).is_none());
    }
}
