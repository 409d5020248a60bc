//! The formulas of parallel speedup, with nothing else in the way: Amdahl's law, its inverse
//! (how many workers a wanted speedup needs), the Karp–Flatt serial fraction, a least-squares
//! fit of the parallel fraction over many measurements, and Gustafson's scaled speedup.
//!
//! Plain functions of plain numbers, free of the lesson's printing and timing, so that a quiz
//! or another lesson can use them as they are.
//!
//! Notation: `p` is the *parallel fraction*, the share of a run on one worker that can be
//! spread over several (0..=1); `1 - p` is the serial fraction; `n` is the number of workers.

/// Amdahl's law: how many times faster `n` workers finish a fixed job whose parallel fraction
/// is `p`: `S(n) = 1 / ((1 - p) + p / n)`. The serial part takes as long as ever; only the
/// parallel part shrinks.
///
/// ```
/// let s = lesson10_amdahl::amdahl::speedup(0.95, 8.0);
/// assert!((s - 5.93).abs() < 0.005);
/// ```
pub fn speedup(p: f64, n: f64) -> f64 {
    1.0 / ((1.0 - p) + p / n)
}

/// Speedup per worker: 1.0 means every worker was fully used, 0.5 that half their time was
/// wasted waiting for the serial part.
pub fn efficiency(p: f64, n: f64) -> f64 {
    speedup(p, n) / n
}

/// The most any number of workers can gain: `1 / (1 - p)`, which `S(n)` approaches but never
/// reaches. Infinite when everything is parallel (`p = 1`).
pub fn ceiling(p: f64) -> f64 {
    if p >= 1.0 { f64::INFINITY } else { 1.0 / (1.0 - p) }
}

/// The fewest workers whose speedup reaches `wanted`, or `None` when no number of workers can
/// (`wanted` at or above the ceiling). Solves `wanted = S(n)` for `n`:
/// `n = p / (1 / wanted - (1 - p))`, rounded up to a whole worker.
///
/// A wanted speedup within a billionth of the ceiling counts as the ceiling. `p` is a binary
/// fraction close to the decimal one it was written as (0.9 is stored a hair above 0.9), so the
/// exact ceiling of "P = 0.9" lies a hair above 10, and taken literally a speedup of 10 would
/// "need" some 3·10¹⁶ workers instead of being out of reach.
pub fn workers_for(p: f64, wanted: f64) -> Option<u64> {
    if wanted <= 1.0 {
        return Some(1);
    }
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
/// implies, `e = (1/S - 1/n) / (1 - 1/n)`. For a program that obeys Amdahl's law exactly this
/// is `1 - p` at every `n`; when it grows with `n`, something else (start-up, communication,
/// imbalance, too few cores) is eating the speedup. `None` for `n <= 1` (no information) or a
/// speedup that is not a positive number.
pub fn karp_flatt(speedup: f64, n: f64) -> Option<f64> {
    if n <= 1.0 || speedup.is_nan() || speedup <= 0.0 || !speedup.is_finite() {
        return None;
    }
    Some((1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n))
}

/// The parallel fraction fitted to several measurements `(n, speedup)` at once.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Fit {
    /// The fitted parallel fraction, within 0..=1.
    pub parallel_fraction: f64,
    /// `1 - parallel_fraction`.
    pub serial_fraction: f64,
    /// Root mean square of (predicted − measured) / measured over the points used.
    pub rms_relative_error: f64,
    /// How many points had `n > 1` (points with one worker carry no information on `p`).
    pub points_used: usize,
    /// True when the best unconstrained fit fell outside 0..=1 (speedups above `n`, or
    /// slowdowns so bad that even a serial program would not explain them) and was clamped.
    pub clamped: bool,
}

/// Least-squares fit of Amdahl's law to measured `(n, speedup)` pairs.
///
/// Amdahl's law is linear in the serial fraction `e` once rewritten as
/// `1/S - 1/n = e · (1 - 1/n)`, so with `x = 1 - 1/n` and `y = 1/S - 1/n` the best `e` is a
/// line through the origin: `e = Σxy / Σx²`. Each point's Karp–Flatt value is `y / x`; the fit
/// weighs points with many workers (large `x`) the most. `None` when no point has `n > 1`.
pub fn fit_parallel_fraction(points: &[(f64, f64)]) -> Option<Fit> {
    let usable: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|&(n, s)| n > 1.0 && s.is_finite() && s > 0.0)
        .collect();
    if usable.is_empty() {
        return None;
    }
    let (mut sum_xy, mut sum_xx) = (0.0, 0.0);
    for &(n, s) in &usable {
        let x = 1.0 - 1.0 / n;
        let y = 1.0 / s - 1.0 / n;
        sum_xy += x * y;
        sum_xx += x * x;
    }
    let unconstrained = sum_xy / sum_xx;
    let serial_fraction = unconstrained.clamp(0.0, 1.0);
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
        clamped: unconstrained != serial_fraction,
    })
}

/// Gustafson's law: the *scaled* speedup when the job grows with the machine, so that each of
/// the `n` workers gets as much parallel work as one worker had: `S = (1 - p) + p · n`.
/// Here `p` is the parallel fraction of the time of the run on `n` workers (for a job whose
/// serial part stays fixed while each worker's share stays the same, that equals the parallel
/// fraction of the original job on one worker). It grows without a ceiling.
pub fn scaled_speedup(p: f64, n: f64) -> f64 {
    (1.0 - p) + p * n
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
