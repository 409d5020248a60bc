//! Exercise: fit P from a sweep
//!
//! Lesson 10 timed a job on 1, 2, 4, … workers and read its parallel fraction P back from the
//! speedups. Do the same for any sweep of measurements: each is a number of workers N and the
//! speedup S measured on them (the time on one worker divided by the time on N). Complete:
//! - `serial_fraction`: the Karp–Flatt serial fraction of one measurement,
//!   `e = (1/S − 1/N) / (1 − 1/N)`. A program that obeys Amdahl's law gives `e = 1 − P` at
//!   every N;
//! - `fit_parallel_fraction`: the P that fits the whole sweep best, by least squares. Amdahl's
//!   law is a straight line through the origin once written `1/S − 1/N = e · (1 − 1/N)`: with
//!   `x = 1 − 1/N` and `y = 1/S − 1/N` for each measurement, the best e is `Σxy / Σx²`, and
//!   P = 1 − e. This weighs the measurements on many workers most, which a plain mean of
//!   their e would not;
//! - `workers_needed`: the fewest whole workers whose speedup `amdahl_speedup(p, n)` reaches a
//!   wanted speedup, or `None` when no number of workers can.
//!
//! What to refuse, with an `Err` and never a panic (the measurements may come from a file):
//! - a speedup below 1, or not a number at all (NaN): `SweepError::BelowOne`;
//! - a speedup above the number of workers, which Amdahl's law never gives:
//!   `SweepError::AboveLinear`. Exactly N on N workers is fine (no serial part at all);
//! - `serial_fraction` of a measurement on one worker: its speedup is 1 by definition and says
//!   nothing about P, so `SweepError::OneWorker` (check the speedup first, then the workers);
//! - `fit_parallel_fraction` checks every measurement as above, then skips those on one worker;
//!   when none is left, `SweepError::NothingToFit`.
//!
//! And in `workers_needed`: a wanted speedup of 1 or less needs 1 worker. The ceiling
//! `1 / (1 − P)` is approached but never reached, so a wanted speedup at or above it gets
//! `None`. P is a binary fraction near the decimal one it was written as (0.9 is stored a
//! hair above 0.9): treat a wanted speedup within a billionth of the ceiling
//! (`wanted >= ceiling * (1.0 - 1e-9)`) as the ceiling itself.
//!
//! Check your work with `cargo homework 10`; stuck, `cargo homework hint 10` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

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

/// The Karp–Flatt serial fraction `e = (1/S − 1/N) / (1 − 1/N)` of one measurement.
pub fn serial_fraction(measurement: Measurement) -> Result<f64, SweepError> {
    todo!("check the speedup (1 to N), refuse one worker, then apply the Karp–Flatt formula")
}

/// The parallel fraction P fitted to every measurement at once, by least squares.
pub fn fit_parallel_fraction(sweep: &[Measurement]) -> Result<f64, SweepError> {
    todo!("check every measurement, skip one worker, e = Σxy / Σx² with x = 1 − 1/N, y = 1/S − 1/N; P = 1 − e")
}

/// The fewest workers whose speedup reaches `wanted`, or `None` when no number can.
pub fn workers_needed(p: f64, wanted: f64) -> Option<u64> {
    todo!("n = P / (1/wanted − (1 − P)), rounded up; None at or above the ceiling 1 / (1 − P)")
}
