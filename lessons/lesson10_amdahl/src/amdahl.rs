//! Amdahl's law and what it leads to, in lecture order: the law (how much faster a fixed job
//! gets on `n` workers), its inverses (the workers a wanted speedup needs; the serial fraction a
//! measured speedup implies, alone or fitted over many), Gustafson's law for a job that grows
//! with the machine, and the job the lesson measures: a serial part, then a parallel part,
//! sequential and parallel with one signature.
//!
//! Notation: `p` is the *parallel fraction*, the share of a run on one worker that can be
//! spread over several (0..=1); `1 - p` is the serial fraction; `n` is the number of workers.

use std::io;
use std::ops::Range;
use std::thread;

/// Amdahl's law: how many times faster `n` workers finish a fixed job whose parallel fraction
/// is `p`: `S(n) = 1 / ((1 - p) + p / n)`. The serial part takes as long as ever.
///
/// ```
/// let s = lesson10_amdahl::amdahl::speedup(0.95, 8.0);
/// assert!((s - 5.93).abs() < 0.005);
/// ```
pub fn speedup(p: f64, n: f64) -> f64 {
    1.0 / ((1.0 - p) + p / n)
}

/// Speedup per worker: 1.0 means every worker was fully used.
pub fn efficiency(p: f64, n: f64) -> f64 {
    speedup(p, n) / n
}

/// The most any number of workers can gain: `1 / (1 - p)`, approached but never reached.
/// Infinite when everything is parallel (`p = 1`).
pub fn ceiling(p: f64) -> f64 {
    if p >= 1.0 { f64::INFINITY } else { 1.0 / (1.0 - p) }
}

/// The fewest workers whose speedup reaches `wanted`, or `None` when none can (`wanted` at or
/// above the ceiling): `wanted = S(n)` solved for `n`, `n = p / (1 / wanted - (1 - p))`.
pub fn workers_for(p: f64, wanted: f64) -> Option<u64> {
    if wanted <= 1.0 {
        return Some(1);
    }
    // Within a billionth of the ceiling counts as the ceiling: 0.9 is stored a hair above 0.9,
    // and a speedup of 10 would otherwise "need" some 3·10¹⁶ workers instead of none.
    if p <= 0.0 || wanted >= ceiling(p) * (1.0 - 1e-9) {
        return None;
    }
    let exact = p / (1.0 / wanted - (1.0 - p));
    if !exact.is_finite() || exact > u64::MAX as f64 / 2.0 {
        return None;
    }
    // Rounding can put `exact` a hair above a whole number that already suffices: P = 0.95 and
    // a speedup of 10 give 19.000000000000014 for exactly 19.
    let nearest = exact.round();
    let workers = if (exact - nearest).abs() <= 1e-9 * nearest {
        nearest
    } else {
        exact.ceil()
    };
    Some(workers.max(1.0) as u64)
}

/// The Karp–Flatt metric: the serial fraction `e` that a measured `speedup` on `n > 1` workers
/// implies, `e = (1/S - 1/n) / (1 - 1/n)`. For a program that obeys Amdahl's law it is `1 - p`
/// at every `n`; when it grows with `n`, overhead (start-up, communication, imbalance, too few
/// cores) is eating the speedup. `None` for `n <= 1` or a speedup that is not positive.
pub fn karp_flatt(speedup: f64, n: f64) -> Option<f64> {
    if n <= 1.0 || speedup.is_nan() || speedup <= 0.0 || !speedup.is_finite() {
        return None;
    }
    Some((1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n))
}

/// The parallel fraction fitted to several measurements `(n, speedup)` at once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    /// The fitted parallel fraction, within 0..=1, and `1 - parallel_fraction`.
    pub parallel_fraction: f64,
    pub serial_fraction: f64,
    /// Root mean square of (predicted − measured) / measured over the points used.
    pub rms_relative_error: f64,
    /// How many points had `n > 1` (one worker carries no information on `p`).
    pub points_used: usize,
    /// True when the best fit fell outside 0..=1 (speedups above `n`, or slowdowns no serial
    /// fraction explains) and was clamped.
    pub clamped: bool,
}

/// Least-squares fit of Amdahl's law to measured `(n, speedup)` pairs. Rewritten as
/// `1/S - 1/n = e · (1 - 1/n)` the law is a line through the origin in `x = 1 - 1/n`,
/// `y = 1/S - 1/n`, so the best serial fraction is `e = Σxy / Σx²`. `None` without `n > 1`.
pub fn fit_parallel_fraction(points: &[(f64, f64)]) -> Option<Fit> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(n, s)| n > 1.0 && s.is_finite() && s > 0.0)
        .collect();
    if usable.is_empty() {
        return None;
    }
    let xy: f64 = usable.iter().map(|&(n, s)| (1.0 - 1.0 / n) * (1.0 / s - 1.0 / n)).sum();
    let xx: f64 = usable.iter().map(|&(n, _)| (1.0 - 1.0 / n).powi(2)).sum();
    let serial_fraction = (xy / xx).clamp(0.0, 1.0);
    let parallel_fraction = 1.0 - serial_fraction;
    let squares: f64 = usable
        .iter()
        .map(|&(n, s)| ((speedup(parallel_fraction, n) - s) / s).powi(2))
        .sum();
    Some(Fit {
        parallel_fraction,
        serial_fraction,
        rms_relative_error: (squares / usable.len() as f64).sqrt(),
        points_used: usable.len(),
        clamped: xy / xx != serial_fraction,
    })
}

/// Gustafson's law: the *scaled* speedup when each of the `n` workers gets as much parallel
/// work as one worker had, the serial part staying the same: `S = (1 - p) + p · n`, no ceiling.
pub fn scaled_speedup(p: f64, n: f64) -> f64 {
    (1.0 - p) + p * n
}

/// The measured job: equal items, the `serial` ones on one thread, the `parallel` ones shared
/// out. Its answer is the wrapping sum of [`item`] over every index, whoever computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    pub serial: Range<u64>,
    pub parallel: Range<u64>,
}

impl Job {
    /// `items` items of which a fraction `1 − p` (rounded) is serial.
    pub fn with_parallel_fraction(items: u64, p: f64) -> Job {
        let serial_items = ((1.0 - p) * items as f64).round() as u64;
        Job {
            serial: 0..serial_items,
            parallel: serial_items..items,
        }
    }

    /// Gustafson's scaled job: the same serial part, `factor` times the parallel items.
    pub fn scaled(&self, factor: u64) -> Job {
        let parallel_items = (self.parallel.end - self.parallel.start) * factor;
        Job {
            serial: self.serial.clone(),
            parallel: self.parallel.start..self.parallel.start + parallel_items,
        }
    }
}

/// The whole job on the calling thread: the serial part, then the parallel part.
pub fn job_sequential(job: &Job, _n_threads: usize) -> io::Result<u64> {
    Ok(sum_items(job.serial.clone()).wrapping_add(sum_items(job.parallel.clone())))
}

/// The same job on `n_threads`: the serial part alone, then the parallel part cut into
/// `n_threads` ranges run at once. A thread the machine refuses is an error.
pub fn job_parallel(job: &Job, n_threads: usize) -> io::Result<u64> {
    let serial = sum_items(job.serial.clone()); // no other thread exists yet: truly serial
    let parallel = thread::scope(|scope| {
        let mut workers = Vec::with_capacity(n_threads);
        for range in split_evenly(job.parallel.clone(), n_threads) {
            workers.push(thread::Builder::new().spawn_scoped(scope, move || sum_items(range))?); // ← the change
        }
        // The threads share nothing while they work; each hands back one number at the end.
        let sums = workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
        io::Result::Ok(sums.fold(0u64, u64::wrapping_add))
    })?;
    Ok(serial.wrapping_add(parallel))
}

/// `range` cut into `parts` consecutive ranges whose lengths differ by at most one.
pub fn split_evenly(range: Range<u64>, parts: usize) -> Vec<Range<u64>> {
    let (parts, length) = (parts.max(1) as u64, range.end - range.start);
    (0..parts)
        .map(|i| range.start + length * i / parts..range.start + length * (i + 1) / parts)
        .collect()
}

/// The wrapping sum of [`item`] over `range`.
pub fn sum_items(range: Range<u64>) -> u64 {
    range.map(item).fold(0, u64::wrapping_add)
}

/// One item of work, about a nanosecond: SplitMix64's mixing of the item's index. Every item
/// costs the same and none depends on another, so a range can be split anywhere.
pub fn item(index: u64) -> u64 {
    let mut z = index.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance * b.abs().max(1.0)
    }

    #[test]
    fn known_values() {
        // The classic example: 95% parallel on 8 workers is not 8× but about 5.93×.
        assert!(close(speedup(0.95, 8.0), 5.925_925_9, 1e-6));
        assert_eq!(format!("{:.2}", speedup(0.95, 8.0)), "5.93");
        assert!(close(efficiency(0.95, 8.0), 0.740_740_7, 1e-6));
        assert!(close(ceiling(0.95), 20.0, 1e-12));
        assert!(close(speedup(0.5, 2.0), 4.0 / 3.0, 1e-12));
        assert_eq!(speedup(0.0, 64.0), 1.0);
        assert_eq!(speedup(1.0, 64.0), 64.0);
        assert_eq!(ceiling(1.0), f64::INFINITY);
        assert!(close(scaled_speedup(0.95, 8.0), 7.65, 1e-12));
    }

    #[test]
    fn workers_for_a_wanted_speedup() {
        // 1/10 = 0.05 + 0.95/n  →  n = 19 exactly.
        assert_eq!(workers_for(0.95, 10.0), Some(19));
        assert_eq!(workers_for(0.95, 5.93), Some(9)); // 8 gives 5.926, just short
        assert_eq!(workers_for(0.95, 5.9), Some(8));
        assert_eq!(workers_for(0.95, 20.0), None); // the ceiling itself is never reached
        assert_eq!(workers_for(0.95, 25.0), None);
        assert_eq!(workers_for(0.95, 1.0), Some(1));
        assert_eq!(workers_for(0.0, 1.5), None);
        assert_eq!(workers_for(1.0, 1000.0), Some(1000));
    }

    #[test]
    fn a_speedup_equal_to_the_ceiling_is_out_of_reach_whatever_the_rounding_of_p() {
        // Each of these P is stored a hair off its decimal value; each wanted speedup is its
        // ceiling, which no number of workers reaches.
        for (p, ceiling) in [
            (0.9, 10.0),
            (0.8, 5.0),
            (0.75, 4.0),
            (0.6, 2.5),
            (0.95, 20.0),
            (0.99, 100.0),
        ] {
            assert_eq!(workers_for(p, ceiling), None, "P = {p}, speedup {ceiling}");
        }
        // Just below the ceiling: many workers, but a number.
        assert_eq!(workers_for(0.9, 9.0), Some(81));
        assert_eq!(workers_for(0.9, 9.99), Some(8991));
        assert_eq!(workers_for(0.99, 99.0), Some(9801));
        assert_eq!(workers_for(0.8, 4.0), Some(16));
    }

    #[test]
    fn karp_flatt_recovers_the_serial_fraction() {
        for n in [2.0, 3.0, 8.0, 100.0] {
            let e = karp_flatt(speedup(0.9, n), n).unwrap();
            assert!(close(e, 0.1, 1e-9), "n = {n}: {e}");
        }
        assert_eq!(karp_flatt(1.0, 1.0), None);
        assert_eq!(karp_flatt(0.0, 4.0), None);
        assert!(close(karp_flatt(4.0, 4.0).unwrap(), 0.0, 1e-12));
    }

    #[test]
    fn the_fit_recovers_p_from_exact_synthetic_data() {
        let points: Vec<(f64, f64)> = [1.0, 2.0, 4.0, 8.0, 16.0]
            .iter()
            .map(|&n| (n, speedup(0.8, n)))
            .collect();
        let fit = fit_parallel_fraction(&points).unwrap();
        assert!(close(fit.parallel_fraction, 0.8, 1e-9), "{fit:?}");
        assert!(fit.rms_relative_error < 1e-9);
        assert_eq!(fit.points_used, 4);
        assert!(!fit.clamped);
    }

    #[test]
    fn the_fit_recovers_p_from_noisy_synthetic_data() {
        // ±3% multiplicative noise, alternating, as a noisy machine would give.
        let points: Vec<(f64, f64)> = (1..=8)
            .map(|n| {
                let noise = if n % 2 == 0 { 1.03 } else { 0.97 };
                (n as f64, speedup(0.9, n as f64) * noise)
            })
            .collect();
        let fit = fit_parallel_fraction(&points).unwrap();
        assert!((fit.parallel_fraction - 0.9).abs() < 0.01, "{fit:?}");
        assert!(fit.rms_relative_error < 0.05);
    }

    #[test]
    fn the_fit_needs_more_than_one_worker_and_clamps_nonsense() {
        assert_eq!(fit_parallel_fraction(&[(1.0, 1.0)]), None);
        assert_eq!(fit_parallel_fraction(&[]), None);
        // Slower on 4 workers than on 1: no parallel fraction explains it; the fit says 0.
        let fit = fit_parallel_fraction(&[(4.0, 0.5)]).unwrap();
        assert_eq!(fit.parallel_fraction, 0.0);
        assert!(fit.clamped);
    }

    #[test]
    fn every_split_computes_the_same_answer() {
        let job = Job::with_parallel_fraction(100_003, 0.9);
        let expected = job_sequential(&job, 1).unwrap();
        assert_eq!(expected, sum_items(0..100_003));
        for n in [1, 2, 3, 4, 7, 16] {
            assert_eq!(job_parallel(&job, n).unwrap(), expected, "{n} threads");
        }
        let scaled = job.scaled(3);
        assert_eq!(job_parallel(&scaled, 3).unwrap(), job_sequential(&scaled, 3).unwrap());
    }

    #[test]
    fn jobs_have_the_serial_share_they_were_built_with() {
        let job = Job::with_parallel_fraction(1000, 0.9);
        assert_eq!(job.serial, 0..100);
        assert_eq!(job.parallel, 100..1000);
        assert_eq!(Job::with_parallel_fraction(1000, 1.0).serial, 0..0);
        assert_eq!(Job::with_parallel_fraction(1000, 0.0).parallel, 1000..1000);
        let scaled = job.scaled(4);
        assert_eq!(scaled.serial, 0..100);
        assert_eq!(scaled.parallel.end - scaled.parallel.start, 3600);
    }

    #[test]
    fn splits_are_even_and_cover_the_range() {
        let parts = split_evenly(10..20, 3);
        assert_eq!(parts, vec![10..13, 13..16, 16..20]);
        let lengths: Vec<u64> = split_evenly(0..1_000_001, 7).iter().map(|r| r.end - r.start).collect();
        assert!(lengths.iter().max().unwrap() - lengths.iter().min().unwrap() <= 1);
        assert_eq!(lengths.iter().sum::<u64>(), 1_000_001);
    }

    proptest! {
        #[test]
        fn one_worker_is_no_speedup(p in 0.0..=1.0f64) {
            prop_assert!(close(speedup(p, 1.0), 1.0, 1e-12));
        }

        #[test]
        fn more_workers_never_hurt(p in 0.0..=1.0f64, n in 1u32..10_000) {
            let (a, b) = (speedup(p, n as f64), speedup(p, n as f64 + 1.0));
            prop_assert!(b >= a * (1.0 - 1e-12), "S({n}) = {a}, S({}) = {b}", n + 1);
            if p > 1e-9 {
                prop_assert!(b > a, "S grows strictly when p > 0: S({n}) = {a}, S({}) = {b}", n + 1);
            }
        }

        #[test]
        fn never_more_than_linear(p in 0.0..=1.0f64, n in 1u32..100_000) {
            let n = n as f64;
            prop_assert!(speedup(p, n) <= n * (1.0 + 1e-12));
            prop_assert!(efficiency(p, n) <= 1.0 + 1e-12);
        }

        #[test]
        fn always_below_the_ceiling(p in 0.0..0.999_999f64, n in 2u32..1_000_000) {
            prop_assert!(speedup(p, n as f64) < ceiling(p));
        }

        #[test]
        fn workers_for_is_the_smallest_that_suffices(p in 0.05..0.999f64, fraction_of_room in 0.01..0.99f64) {
            // A wanted speedup somewhere between 1 and the ceiling.
            let wanted = 1.0 + fraction_of_room * (ceiling(p) - 1.0);
            let n = workers_for(p, wanted).expect("below the ceiling, some n suffices");
            prop_assert!(speedup(p, n as f64) >= wanted * (1.0 - 1e-9));
            if n > 1 {
                prop_assert!(speedup(p, (n - 1) as f64) < wanted);
            }
        }

        #[test]
        fn karp_flatt_inverts_amdahl(p in 0.0..=1.0f64, n in 2u32..10_000) {
            let e = karp_flatt(speedup(p, n as f64), n as f64).unwrap();
            prop_assert!((e - (1.0 - p)).abs() < 1e-6, "p = {p}, n = {n}, e = {e}");
        }

        #[test]
        fn the_fit_inverts_amdahl(p in 0.0..=1.0f64, largest in 2u32..64) {
            let points: Vec<(f64, f64)> = (1..=largest).map(|n| (n as f64, speedup(p, n as f64))).collect();
            let fit = fit_parallel_fraction(&points).unwrap();
            prop_assert!((fit.parallel_fraction - p).abs() < 1e-6, "p = {p}: {fit:?}");
        }

        #[test]
        fn scaled_speedup_is_at_least_amdahls(p in 0.0..=1.0f64, n in 1u32..10_000) {
            let n = n as f64;
            prop_assert!(scaled_speedup(p, n) >= speedup(p, n) * (1.0 - 1e-12));
            prop_assert!(scaled_speedup(p, n) <= n * (1.0 + 1e-12));
        }
    }
}
