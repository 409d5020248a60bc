//! Checks for lesson 10's exercise. Run them with `cargo homework 10`.
//!
//! Synthetic sweeps from a known P must give that P back: exactly when the speedups are
//! exact, within a tolerance when they carry noise. A sweep with overhead tells a least-squares
//! fit from a plain mean. Bad measurements must come back as an `Err`, never as a panic.

use lesson10_amdahl_exercise::{
    Measurement, SweepError, amdahl_speedup, fit_parallel_fraction, serial_fraction, workers_needed,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use workloads::Rng;

const PARALLEL_FRACTIONS: [f64; 6] = [0.5, 0.75, 0.8, 0.9, 0.95, 0.99];

fn measured(workers: u32, speedup: f64) -> Measurement {
    Measurement { workers, speedup }
}

/// The exact speedups of a job with parallel fraction `p` on 1..=`largest` workers.
fn exact_sweep(p: f64, largest: u32) -> Vec<Measurement> {
    (1..=largest)
        .map(|workers| measured(workers, amdahl_speedup(p, f64::from(workers))))
        .collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance
}

/// Runs `call`; a panic fails the check with a hint instead of ending it with a backtrace.
#[track_caller]
fn without_panic<T>(what: &str, call: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(value) => value,
        Err(_) => panic!(
            "{what} panicked (the line above says why). Hint: write the function in place of its todo!(); once written, it answers bad input with a value (an Err, or None), never with a panic"
        ),
    }
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_serial_fraction_of_exact_measurements_is_one_minus_p() {
    for p in PARALLEL_FRACTIONS {
        for workers in [2, 3, 4, 8, 16, 64] {
            let speedup = amdahl_speedup(p, f64::from(workers));
            let result = without_panic("serial_fraction", || serial_fraction(measured(workers, speedup)));
            let Ok(e) = result else {
                panic!(
                    "serial_fraction({workers} workers, speedup {speedup}) gave {result:?}, but a speedup from 1 to N is fine. Hint: refuse only speedups below 1 or above N, and one worker"
                );
            };
            let one_over_n = 1.0 / f64::from(workers);
            let hint = if close(e, p, 1e-9) {
                "you returned P; the serial fraction is e = 1 − P"
            } else if close(e, 1.0 / speedup - one_over_n, 1e-9) {
                "you have 1/S − 1/N; divide it by (1 − 1/N)"
            } else if close(e, 1.0 - speedup / f64::from(workers), 1e-9) {
                "1 − S/N is one minus the efficiency, not the serial fraction; use e = (1/S − 1/N) / (1 − 1/N)"
            } else {
                "e = (1/S − 1/N) / (1 − 1/N), in floating point (1 / N with N an integer is 0)"
            };
            assert!(
                close(e, 1.0 - p, 1e-9),
                "serial_fraction({workers} workers, speedup {speedup:.4}) of a job with P = {p} gave {e}, not {:.4}. Hint: {hint}",
                1.0 - p
            );
        }
    }
    // The lesson's pop quiz: 1.8× on 2 workers gives e = (1/1.8 − 1/2) / (1/2) = 0.111.
    let e = without_panic("serial_fraction", || serial_fraction(measured(2, 1.8)));
    assert!(
        e.is_ok_and(|e| close(e, 1.0 / 9.0, 1e-12)),
        "serial_fraction(2 workers, 1.8×) gave {e:?}, not 0.111. Hint: e = (1/S − 1/N) / (1 − 1/N)"
    );
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_serial_fraction_refuses_what_carries_no_information_or_no_sense() {
    let cases = [
        (
            measured(1, 1.0),
            Err(SweepError::OneWorker),
            "one worker's speedup is 1 by definition and says nothing about P: Err(SweepError::OneWorker)",
        ),
        (
            measured(4, 4.5),
            Err(SweepError::AboveLinear {
                workers: 4,
                speedup: 4.5,
            }),
            "more than N times faster on N workers is not Amdahl's law: Err(SweepError::AboveLinear { .. })",
        ),
        (
            measured(4, 0.8),
            Err(SweepError::BelowOne {
                workers: 4,
                speedup: 0.8,
            }),
            "slower than one worker: Err(SweepError::BelowOne { .. })",
        ),
        (
            measured(2, 4.0),
            Err(SweepError::AboveLinear {
                workers: 2,
                speedup: 4.0,
            }),
            "4× on 2 workers is above linear",
        ),
        (
            measured(4, 4.0),
            Ok(0.0),
            "exactly N on N workers is allowed: no serial part at all, e = 0",
        ),
        (
            measured(4, 1.0),
            Ok(1.0),
            "no speedup at all is allowed: everything serial, e = 1",
        ),
    ];
    for (measurement, expected, hint) in cases {
        let got = without_panic("serial_fraction", || serial_fraction(measurement));
        let same = match (got, expected) {
            (Ok(a), Ok(b)) => close(a, b, 1e-12),
            (a, b) => a == b,
        };
        assert!(
            same,
            "serial_fraction({measurement:?}) gave {got:?}, not {expected:?}. Hint: {hint}"
        );
    }
    let got = without_panic("serial_fraction", || serial_fraction(measured(4, f64::NAN)));
    assert!(
        matches!(got, Err(SweepError::BelowOne { workers: 4, .. })),
        "serial_fraction(4 workers, NaN) gave {got:?}, not Err(SweepError::BelowOne {{ .. }}). Hint: NaN fails every comparison, `speedup < 1.0` too; test it with f64::is_nan"
    );
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_fit_gives_p_back_from_exact_sweeps() {
    for p in PARALLEL_FRACTIONS {
        for largest in [2, 4, 8, 32] {
            let sweep = exact_sweep(p, largest);
            let result = without_panic("fit_parallel_fraction", || fit_parallel_fraction(&sweep));
            let Ok(fitted) = result else {
                panic!(
                    "fit_parallel_fraction of the exact speedups of P = {p} on 1..={largest} workers gave {result:?}. Hint: skip the measurement on one worker, do not refuse it"
                );
            };
            let hint = if close(fitted, 1.0 - p, 1e-9) {
                "you returned the serial fraction e; P = 1 − e"
            } else if fitted.is_nan() {
                "NaN comes from 0 / 0: leave the one-worker measurement out of the sums (x = 0 there)"
            } else {
                "with x = 1 − 1/N and y = 1/S − 1/N, e = Σxy / Σx², and P = 1 − e"
            };
            assert!(
                close(fitted, p, 1e-9),
                "fit_parallel_fraction of the exact speedups of P = {p} on 1..={largest} workers gave {fitted}. Hint: {hint}"
            );
        }
    }
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_fit_is_least_squares_not_a_mean() {
    // A sweep with overhead: e grows with N (0.053, 0.083, 0.117), so the ways of combining
    // the measurements disagree, and only Σxy / Σx² is the least-squares fit.
    let sweep = [measured(1, 1.0), measured(2, 1.9), measured(4, 3.2), measured(8, 4.4)];
    let points: Vec<(f64, f64)> = sweep[1..]
        .iter()
        .map(|m| {
            let one_over_n = 1.0 / f64::from(m.workers);
            (1.0 - one_over_n, 1.0 / m.speedup - one_over_n)
        })
        .collect();
    let least_squares =
        1.0 - points.iter().map(|(x, y)| x * y).sum::<f64>() / points.iter().map(|(x, _)| x * x).sum::<f64>();
    let mean_of_e = 1.0 - points.iter().map(|(x, y)| y / x).sum::<f64>() / points.len() as f64;
    let result = without_panic("fit_parallel_fraction", || fit_parallel_fraction(&sweep));
    let Ok(fitted) = result else {
        panic!("fit_parallel_fraction of {sweep:?} gave {result:?}. Hint: every speedup there lies from 1 to N");
    };
    let hint = if close(fitted, mean_of_e, 1e-9) {
        "that is the mean of the measurements' e; least squares is e = Σxy / Σx², which weighs the measurements on many workers most"
    } else if close(
        fitted,
        1.0 - points.iter().map(|(x, y)| x * y).sum::<f64>() / points.len() as f64,
        1e-9,
    ) {
        "divide Σxy by Σx², not by the number of measurements"
    } else {
        "with x = 1 − 1/N and y = 1/S − 1/N for each measurement on more than one worker, e = Σxy / Σx², and P = 1 − e"
    };
    assert!(
        close(fitted, least_squares, 1e-9),
        "fit_parallel_fraction of 1.9× on 2, 3.2× on 4 and 4.4× on 8 workers gave {fitted:.6}, not {least_squares:.6}. Hint: {hint}"
    );
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_fit_gives_p_back_from_noisy_sweeps() {
    // Speedups measured on a busy machine: each off by up to 3% either way, never above N.
    let mut rng = Rng::new(10);
    for p in [0.6, 0.75, 0.9, 0.95] {
        for run in 0..20 {
            let sweep: Vec<Measurement> = (1..=16)
                .map(|workers| {
                    let exact = amdahl_speedup(p, f64::from(workers));
                    let noise = 1.0 + 0.06 * (rng.unit() - 0.5);
                    let speedup = if workers == 1 {
                        1.0
                    } else {
                        (exact * noise).clamp(1.0, f64::from(workers))
                    };
                    measured(workers, speedup)
                })
                .collect();
            let result = without_panic("fit_parallel_fraction", || fit_parallel_fraction(&sweep));
            assert!(
                result.is_ok_and(|fitted| close(fitted, p, 0.01)),
                "fit_parallel_fraction of a noisy sweep (run {run}) of P = {p} gave {result:?}, more than 0.01 off. Hint: fit every measurement on more than one worker; noise of 3% should move P very little"
            );
        }
    }
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn the_fit_skips_one_worker_and_refuses_nonsense() {
    let fit = |sweep: &[Measurement]| without_panic("fit_parallel_fraction", || fit_parallel_fraction(sweep));
    for sweep in [vec![], vec![measured(1, 1.0)], vec![measured(1, 1.0), measured(1, 1.0)]] {
        let got = fit(&sweep);
        assert_eq!(
            got,
            Err(SweepError::NothingToFit),
            "fit_parallel_fraction({sweep:?}) gave {got:?}. Hint: measurements on one worker carry no information; with nothing else left, return Err(SweepError::NothingToFit)"
        );
    }
    let alone = fit(&[measured(2, 1.8)]);
    let with_one_worker = fit(&[measured(1, 1.0), measured(2, 1.8)]);
    assert!(
        alone.is_ok() && alone == with_one_worker,
        "fit_parallel_fraction gave {alone:?} for 1.8× on 2 workers, and {with_one_worker:?} with a measurement on one worker added. Hint: skip measurements on one worker; they must change nothing"
    );
    let above = fit(&[measured(1, 1.0), measured(2, 1.9), measured(4, 4.5)]);
    assert_eq!(
        above,
        Err(SweepError::AboveLinear {
            workers: 4,
            speedup: 4.5
        }),
        "a sweep with 4.5× on 4 workers gave {above:?}. Hint: check every measurement as serial_fraction does, and return the first error"
    );
    let below = fit(&[measured(2, 0.5), measured(4, 3.0)]);
    assert_eq!(
        below,
        Err(SweepError::BelowOne {
            workers: 2,
            speedup: 0.5
        }),
        "a sweep with 0.5× on 2 workers gave {below:?}. Hint: a slowdown is refused, not fitted"
    );
    let one_too_fast = fit(&[measured(1, 1.5), measured(2, 1.8)]);
    assert_eq!(
        one_too_fast,
        Err(SweepError::AboveLinear {
            workers: 1,
            speedup: 1.5
        }),
        "a sweep with 1.5× on one worker gave {one_too_fast:?}. Hint: check each measurement first, then skip those on one worker"
    );
    for (sweep, expected) in [
        ([measured(1, 1.0), measured(4, 4.0)], 1.0),
        ([measured(1, 1.0), measured(4, 1.0)], 0.0),
    ] {
        let got = fit(&sweep);
        assert!(
            got.is_ok_and(|p| close(p, expected, 1e-12)),
            "fit_parallel_fraction({sweep:?}) gave {got:?}, not Ok({expected}). Hint: linear speedup is P = 1, no speedup is P = 0; both are allowed"
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 10"]
fn workers_needed_is_the_fewest_that_reach_the_speedup() {
    let cases: [(f64, f64, Option<u64>, &str); 11] = [
        (
            0.9,
            2.0,
            Some(3),
            "0.9 / (1/2 − 0.1) = 2.25 workers: round up, never to the nearest",
        ),
        (0.9, 5.0, Some(9), "0.9 / (1/5 − 0.1) = 9 exactly"),
        (
            0.95,
            10.0,
            Some(19),
            "0.95 / (1/10 − 0.05) is 19 exactly but comes out as 19.000000000000014; a whole number plus rounding error must not round up to 20",
        ),
        (
            0.99,
            99.0,
            Some(9801),
            "0.99 / (1/99 − 0.01) = 9801 exactly, give or take rounding",
        ),
        (1.0, 1000.0, Some(1000), "with P = 1 the speedup is N: 1000 workers"),
        (0.8, 1.0, Some(1), "a speedup of 1 needs one worker"),
        (0.8, 0.5, Some(1), "a wanted speedup below 1 needs one worker"),
        (
            0.9,
            10.0,
            None,
            "10× is the ceiling 1 / (1 − 0.9): approached, never reached. 0.9 is stored a hair above 0.9, so compare with ceiling * (1.0 - 1e-9)",
        ),
        (0.75, 4.0, None, "4× is the ceiling 1 / (1 − 0.75): never reached"),
        (0.9, 12.0, None, "12× is above the ceiling of 10×"),
        (
            0.0,
            2.0,
            None,
            "nothing parallel: no number of workers gives any speedup",
        ),
    ];
    for (p, wanted, expected, hint) in cases {
        let got = without_panic("workers_needed", || workers_needed(p, wanted));
        assert_eq!(
            got, expected,
            "workers_needed(P = {p}, {wanted}×) gave {got:?}, not {expected:?}. Hint: {hint}"
        );
    }
    // Between the exact cases: the answer reaches the speedup, and one worker fewer does not.
    for p in PARALLEL_FRACTIONS {
        let ceiling = 1.0 / (1.0 - p);
        for step in 1..20 {
            let wanted = 1.0 + (ceiling - 1.0) * f64::from(step) / 20.0 + 0.001;
            let got = without_panic("workers_needed", || workers_needed(p, wanted));
            let Some(n) = got else {
                panic!(
                    "workers_needed(P = {p}, {wanted:.3}×) gave None, but the ceiling is {ceiling:.2}×. Hint: only a speedup at or above the ceiling is out of reach"
                );
            };
            assert!(
                n >= 1 && amdahl_speedup(p, n as f64) >= wanted,
                "workers_needed(P = {p}, {wanted:.3}×) gave {n}, whose speedup is only {:.4}×. Hint: n = P / (1/wanted − (1 − P)), rounded up",
                amdahl_speedup(p, n as f64)
            );
            assert!(
                n == 1 || amdahl_speedup(p, (n - 1) as f64) < wanted,
                "workers_needed(P = {p}, {wanted:.3}×) gave {n}, but {} workers already give {:.4}×. Hint: the fewest workers: round up, not up and then one more",
                n - 1,
                amdahl_speedup(p, (n - 1) as f64)
            );
        }
    }
}
