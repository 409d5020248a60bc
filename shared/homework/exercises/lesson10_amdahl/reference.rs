//! Exercise: fit P from a sweep
//!
//! The reference solution.

/// One point of a sweep: the speedup measured on a number of workers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measurement {
    pub workers: u32,
    pub speedup: f64,
}

/// Why a measurement or a sweep cannot be used.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SweepError {
    /// A speedup below 1 (slower than one worker), or not a number.
    BelowOne { workers: u32, speedup: f64 },
    /// A speedup above the number of workers: more than linear.
    AboveLinear { workers: u32, speedup: f64 },
    /// A measurement on one worker, which says nothing about the parallel fraction.
    OneWorker,
    /// No measurement on more than one worker.
    NothingToFit,
}

/// Amdahl's law: the speedup of `workers` workers on a job whose parallel fraction is `p`.
pub fn amdahl_speedup(p: f64, workers: f64) -> f64 {
    1.0 / ((1.0 - p) + p / workers)
}

/// A speedup from 1 to N on N workers, or why not.
fn check(measurement: Measurement) -> Result<Measurement, SweepError> {
    let Measurement { workers, speedup } = measurement;
    // NaN fails every comparison, `speedup < 1.0` included: it needs its own test.
    if speedup.is_nan() || speedup < 1.0 {
        return Err(SweepError::BelowOne { workers, speedup });
    }
    if speedup > f64::from(workers) {
        return Err(SweepError::AboveLinear { workers, speedup });
    }
    Ok(measurement)
}

/// `x = 1 − 1/N` and `y = 1/S − 1/N`: Amdahl's law says `y = e · x`.
fn line_point(measurement: Measurement) -> (f64, f64) {
    let one_over_n = 1.0 / f64::from(measurement.workers);
    (1.0 - one_over_n, 1.0 / measurement.speedup - one_over_n)
}

/// The Karp–Flatt serial fraction `e = (1/S − 1/N) / (1 − 1/N)` of one measurement.
pub fn serial_fraction(measurement: Measurement) -> Result<f64, SweepError> {
    let measurement = check(measurement)?;
    if measurement.workers <= 1 {
        return Err(SweepError::OneWorker);
    }
    let (x, y) = line_point(measurement);
    Ok(y / x)
}

/// The parallel fraction P fitted to every measurement at once, by least squares.
pub fn fit_parallel_fraction(sweep: &[Measurement]) -> Result<f64, SweepError> {
    let (mut sum_xy, mut sum_xx) = (0.0, 0.0);
    for &measurement in sweep {
        let measurement = check(measurement)?;
        if measurement.workers <= 1 {
            continue;
        }
        let (x, y) = line_point(measurement);
        sum_xy += x * y;
        sum_xx += x * x;
    }
    if sum_xx == 0.0 {
        return Err(SweepError::NothingToFit);
    }
    // Every speedup lies in 1..=N, so every y lies in 0..=x and e in 0..=1: no clamping needed.
    Ok(1.0 - sum_xy / sum_xx)
}

/// The fewest workers whose speedup reaches `wanted`, or `None` when no number can.
pub fn workers_needed(p: f64, wanted: f64) -> Option<u64> {
    if wanted <= 1.0 {
        return Some(1);
    }
    let ceiling = 1.0 / (1.0 - p); // infinite when p = 1, and 1 when p = 0
    if wanted >= ceiling * (1.0 - 1e-9) {
        return None;
    }
    let exact = p / (1.0 / wanted - (1.0 - p));
    // A whole number plus rounding error already suffices; anything else rounds up.
    let nearest = exact.round();
    let workers = if (exact - nearest).abs() <= 1e-9 * nearest {
        nearest
    } else {
        exact.ceil()
    };
    Some(workers.max(1.0) as u64)
}
