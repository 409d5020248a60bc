//! The lesson's quiz (`--quiz --seed S`): Amdahl and Karp–Flatt numbers. A parallel fraction
//! and a number of workers, a sweep of timings, and a grown problem come from the seed; the
//! student works out the speedup, the efficiency and the ceiling, the workers a wanted speedup
//! needs (or that none can reach it), the serial fraction each timing implies and the P fitted
//! to all of them, and Gustafson's scaled speedup. Every answer is computed by the functions
//! the lesson prints from (`src/amdahl.rs`), so the quiz and the lesson can never disagree.
//!
//! The values are picked so that a calculator suffices: serial fractions whose ceilings are
//! whole numbers, timings in whole seconds, and no answer that sits on a rounding tie (a test
//! below goes through every value the seed can pick).
//!
//! The numbers come only from the `Rng` handed in, in a fixed order: changing what is drawn,
//! or in which order, changes every seed's problem, which `tests/quiz.rs` would catch.

use course::quiz::Quiz;
use lesson10_amdahl::amdahl;
use workloads::Rng;

/// Serial fractions of Q1 and Q2, in percent of a one-worker run: each ceiling `100 / s` is a
/// whole number (4×, 5×, 10×, 20×, 25×, 50×, 100×).
const SERIAL_PERCENTS: [u64; 7] = [25, 20, 10, 5, 4, 2, 1];
/// Worker counts of Q1.
const WORKER_COUNTS: [u64; 9] = [2, 4, 5, 8, 10, 16, 20, 32, 64];
/// The workers of the measured sweep of Q3 and Q4 (and 1, the baseline).
const SWEEP_WORKERS: [u64; 3] = [2, 4, 8];
/// One-worker times of Q3 and Q4 are 160 s times one of these: 160 makes every time of the
/// sweep a whole number of seconds, and these factors keep every answer clear of a rounding
/// tie (with 1, 2, 4 or 5, some serial fractions come out as 0.0625 or 0.1125).
const ONE_WORKER_MULTIPLES: [u64; 4] = [6, 9, 11, 12];
/// Seconds that each worker beyond the first adds to a run of the sweep (start-up,
/// communication): none, twice as often as each of the others.
const OVERHEAD_SECONDS: [u64; 5] = [0, 0, 1, 2, 4];
/// Serial shares of a grown run (Q5), in percent, its workers and its seconds.
const GROWN_SERIAL_PERCENTS: [u64; 6] = [1, 2, 4, 5, 10, 20];
const GROWN_WORKERS: [u64; 7] = [8, 16, 32, 64, 128, 256, 1024];
const GROWN_SECONDS: [u64; 6] = [10, 20, 30, 40, 50, 60];

/// The timings of Q3: a program with a serial fraction of `serial_twentieths / 20`, taking
/// `one_worker_s` on one worker, plus `overhead_s` for every worker beyond the first. Every
/// time is a whole number of seconds: `one_worker_s` is a multiple of 160, so its parallel part
/// (a multiple of 8 seconds) divides evenly among 2, 4 and 8 workers.
#[derive(Clone, Copy, Debug)]
struct Sweep {
    one_worker_s: u64,
    serial_twentieths: u64,
    overhead_s: u64,
}

impl Sweep {
    /// The run time on `workers`, in seconds: the serial part, the parallel part shared out,
    /// and the overhead of the added workers.
    fn seconds(&self, workers: u64) -> u64 {
        let serial = self.one_worker_s * self.serial_twentieths / 20;
        let parallel = self.one_worker_s * (20 - self.serial_twentieths) / 20;
        serial + parallel / workers + self.overhead_s * (workers - 1)
    }

    /// The measured speedup on `workers`: the one-worker time over that time.
    fn speedup(&self, workers: u64) -> f64 {
        self.one_worker_s as f64 / self.seconds(workers) as f64
    }

    /// The Karp–Flatt serial fraction the timing on `workers` implies.
    fn serial_fraction(&self, workers: u64) -> f64 {
        amdahl::karp_flatt(self.speedup(workers), workers as f64)
            .expect("every worker count of the sweep is above 1, every speedup positive")
    }

    /// `(workers, speedup)` for every point of the sweep, the baseline included.
    fn points(&self) -> Vec<(f64, f64)> {
        std::iter::once(1)
            .chain(SWEEP_WORKERS)
            .map(|workers| (workers as f64, self.speedup(workers)))
            .collect()
    }
}

/// The whole quiz for one seed: the law forwards (Q1), backwards to a number of workers (Q2),
/// from timings back to the serial fraction (Q3) and to a fitted P (Q4), then Gustafson (Q5).
pub fn make(rng: &mut Rng) -> Quiz {
    let mut quiz = Quiz::new();
    let serial_percent = *rng.pick(&SERIAL_PERCENTS).expect("the list is not empty");
    let workers = *rng.pick(&WORKER_COUNTS).expect("the list is not empty");
    let ceiling = 100 / serial_percent;
    // A speedup that some number of workers reaches, then one at or beside the ceiling.
    let reachable = rng.between(2, ceiling - 2);
    let near_the_ceiling = rng.between(ceiling - 1, ceiling + 1);
    let sweep = Sweep {
        one_worker_s: 160 * *rng.pick(&ONE_WORKER_MULTIPLES).expect("the list is not empty"),
        serial_twentieths: rng.between(1, 6),
        overhead_s: *rng.pick(&OVERHEAD_SECONDS).expect("the list is not empty"),
    };
    let grown_serial_percent = *rng.pick(&GROWN_SERIAL_PERCENTS).expect("the list is not empty");
    let grown_workers = *rng.pick(&GROWN_WORKERS).expect("the list is not empty");
    let grown_seconds = *rng.pick(&GROWN_SECONDS).expect("the list is not empty");

    let p = parallel_fraction(serial_percent);
    speedup_efficiency_and_ceiling(&mut quiz, p, workers);
    workers_for_a_wanted_speedup(&mut quiz, p, &[reachable, near_the_ceiling]);
    serial_fraction_from_timings(&mut quiz, &sweep);
    fitted_parallel_fraction(&mut quiz, &sweep);
    gustafson(&mut quiz, grown_serial_percent, grown_workers, grown_seconds);
    quiz
}

/// `1 − s/100`, computed from whole percents so that 0.95 is the nearest double to 0.95.
fn parallel_fraction(serial_percent: u64) -> f64 {
    (100 - serial_percent) as f64 / 100.0
}

/// Q1: the law forwards.
fn speedup_efficiency_and_ceiling(quiz: &mut Quiz, p: f64, workers: u64) {
    let n = workers as f64;
    let serial = 1.0 - p;
    let question = quiz.question(format!(
        "A program spends {} of its run on one worker in serial code; the other {} can be split",
        percent_whole(serial),
        percent_whole(p)
    ));
    question.line(format!(
        "evenly among workers, so P = {}. Amdahl's law: S(N) = 1 / ((1 − P) + P / N).",
        fraction_text(p)
    ));
    question.line("Give speedups to two decimals and percentages to one.");
    let speedup = amdahl::speedup(p, n);
    question.ask(
        format!("The speedup on {workers} workers"),
        speedup_text(speedup),
        format!(
            "1 / ({} + {} / {workers}) = 1 / {}",
            fraction_text(serial),
            fraction_text(p),
            decimal_text(serial + p / n)
        ),
    );
    question.ask(
        format!("The efficiency on {workers} workers (speedup / workers)"),
        percent_text(amdahl::efficiency(p, n)),
        format!("{} / {workers}", decimal_text(speedup)),
    );
    question.ask(
        "The ceiling, the speedup that no number of workers reaches",
        speedup_text(amdahl::ceiling(p)),
        format!("1 / (1 − P) = 1 / {}", fraction_text(serial)),
    );
}

/// Q2: the law backwards, to the fewest workers for a wanted speedup.
fn workers_for_a_wanted_speedup(quiz: &mut Quiz, p: f64, wanted: &[u64]) {
    let serial = 1.0 - p;
    let question = quiz.question(format!(
        "The same program (P = {}). How many workers does a wanted speedup need? Give the fewest",
        fraction_text(p)
    ));
    question.line("whole number of workers whose speedup reaches it, or \"none can\".");
    for &speedup in wanted {
        let wanted_speedup = speedup as f64;
        let (answer, why) = match amdahl::workers_for(p, wanted_speedup) {
            Some(workers) => {
                let exact = p / (1.0 / wanted_speedup - serial);
                let rounding = if (exact - exact.round()).abs() <= 1e-9 * exact.round() {
                    "a whole number already".to_string()
                } else {
                    format!(
                        "rounded up: S({}) = {} falls short, S({workers}) = {}",
                        workers - 1,
                        fixed_decimals(amdahl::speedup(p, (workers - 1) as f64), 3),
                        fixed_decimals(amdahl::speedup(p, workers as f64), 3)
                    )
                };
                (
                    workers.to_string(),
                    format!(
                        "N = P / (1/{speedup} − (1 − P)) = {} / (1/{speedup} − {}) = {}, {rounding}",
                        fraction_text(p),
                        fraction_text(serial),
                        decimal_text(exact)
                    ),
                )
            }
            None => {
                let ceiling = amdahl::ceiling(p);
                let why = if wanted_speedup > ceiling * (1.0 + 1e-9) {
                    format!(
                        "{speedup}× is above the ceiling 1 / (1 − P) = {}",
                        speedup_text(ceiling)
                    )
                } else {
                    format!("{speedup}× is the ceiling itself, which S(N) approaches but never reaches")
                };
                ("none can".to_string(), why)
            }
        };
        question.ask(format!("For a speedup of {speedup}×"), answer, why);
    }
}

/// Q3: from timings back to the serial fraction, one measurement at a time.
fn serial_fraction_from_timings(quiz: &mut Quiz, sweep: &Sweep) {
    let question = quiz.question("You timed a program on 1, 2, 4 and 8 workers, each worker on a core of its own:");
    let columns: String = std::iter::once(1)
        .chain(SWEEP_WORKERS)
        .map(|workers| format!("{workers:>6}"))
        .collect();
    let times: String = std::iter::once(1)
        .chain(SWEEP_WORKERS)
        .map(|workers| format!("{:>6}", sweep.seconds(workers)))
        .collect();
    question.line(format!("workers   {columns}"));
    question.line(format!("time (s)  {times}"));
    question.line("The speedup is S = T(1) / T(N), to two decimals. The Karp–Flatt serial fraction is");
    question.line("e = (1/S − 1/N) / (1 − 1/N), to three decimals: take 1/S as T(N) / T(1), not from the");
    question.line("rounded speedup.");
    let one_worker_s = sweep.one_worker_s;
    for workers in SWEEP_WORKERS {
        let seconds = sweep.seconds(workers);
        let speedup = sweep.speedup(workers);
        question.ask(
            format!("The speedup on {workers} workers"),
            speedup_text(speedup),
            format!("{one_worker_s} / {seconds}"),
        );
        question.ask(
            format!("The serial fraction e on {workers} workers"),
            fixed_decimals(sweep.serial_fraction(workers), 3),
            format!("({seconds}/{one_worker_s} − 1/{workers}) / (1 − 1/{workers})"),
        );
    }
}

/// Q4: the same timings, all at once: the least-squares fit of P, and what e's trend says.
fn fitted_parallel_fraction(quiz: &mut Quiz, sweep: &Sweep) {
    let fit = amdahl::fit_parallel_fraction(&sweep.points()).expect("the sweep has points with more than one worker");
    let question =
        quiz.question("The timings of Q3, all at once: fit Amdahl's law by least squares, as section 3 of the");
    question.line("lesson does. With x = 1 − 1/N and y = 1/S − 1/N for N = 2, 4 and 8, the serial");
    question.line("fraction is e = Σxy / Σx² and P = 1 − e (the one-worker run adds nothing: x = y = 0).");
    let sum_xx: f64 = SWEEP_WORKERS.iter().map(|&n| (1.0 - 1.0 / n as f64).powi(2)).sum();
    let fitted_p = fixed_decimals(fit.parallel_fraction, 3);
    question.ask(
        "The fitted P, to three decimals",
        fitted_p.clone(),
        format!(
            "Σx² = {}, Σxy = {}, e = {}",
            decimal_text(sum_xx),
            decimal_text(fit.serial_fraction * sum_xx),
            decimal_text(fit.serial_fraction)
        ),
    );
    let rounded_p: f64 = fitted_p.parse().expect("a number just formatted");
    question.ask(
        "The ceiling that P implies (use P rounded to three decimals), to two decimals",
        speedup_text(amdahl::ceiling(rounded_p)),
        format!("1 / (1 − {fitted_p})"),
    );
    let serial_fractions: Vec<String> = SWEEP_WORKERS
        .iter()
        .map(|&workers| fixed_decimals(sweep.serial_fraction(workers), 3))
        .collect();
    let (answer, why) = if serial_fractions.windows(2).all(|pair| pair[0] == pair[1]) {
        (
            "level",
            format!(
                "e = {} at every N: the serial part explains the whole loss, as Amdahl's law assumes",
                serial_fractions[0]
            ),
        )
    } else {
        (
            "it grows",
            format!(
                "e = {}: a cost that grows with the workers (start-up, communication), not serial code",
                serial_fractions.join(", ")
            ),
        )
    };
    question.ask(
        "From 2 to 8 workers, does e stay level or grow (\"level\" or \"it grows\")",
        answer,
        why,
    );
}

/// Q5: Gustafson, the problem grows with the machine.
fn gustafson(quiz: &mut Quiz, serial_percent: u64, workers: u64, seconds: u64) {
    let p = parallel_fraction(serial_percent);
    let serial = 1.0 - p;
    let n = workers as f64;
    let question = quiz.question(format!(
        "A simulation runs on {workers} workers in {seconds} s: {} of that time is serial (one worker sets up,",
        percent_whole(serial)
    ));
    question.line(format!(
        "the others wait), and for the other {} all {workers} workers compute. The problem was grown with",
        percent_whole(p)
    ));
    question.line("the machine: each worker has as much parallel work as one worker had before.");
    let scaled = amdahl::scaled_speedup(p, n);
    question.ask(
        "How long one worker would take on this grown problem, in seconds (one decimal)",
        format!("{:.1}", seconds as f64 * scaled),
        format!(
            "{} × {seconds} s serial + {workers} × {} × {seconds} s of parallel work",
            fraction_text(serial),
            fraction_text(p)
        ),
    );
    question.ask(
        "Gustafson's scaled speedup (two decimals)",
        speedup_text(scaled),
        format!(
            "(1 − P) + P · N = {} + {} × {workers}",
            fraction_text(serial),
            fraction_text(p)
        ),
    );
    question.ask(
        format!("Amdahl's speedup on {workers} workers for the problem before it grew ({seconds} s on one worker), two decimals"),
        speedup_text(amdahl::speedup(p, n)),
        format!(
            "1 / ({} + {} / {workers}), under the ceiling {}",
            fraction_text(serial),
            fraction_text(p),
            speedup_text(amdahl::ceiling(p))
        ),
    );
}

/// `0.95`, `0.8`: a fraction with as many decimals as it needs (at most two here).
fn fraction_text(value: f64) -> String {
    decimal_text(value)
}

/// A number with at most six decimals, trailing zeros dropped: `0.16875`, `12.666667`, `19`.
fn decimal_text(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// Exactly `digits` decimals: `0.150`.
fn fixed_decimals(value: f64, digits: usize) -> String {
    format!("{value:.digits$}")
}

/// Two decimals and a times sign: `5.93×`. Formatted here, not by the shared `format` module,
/// so that a change of display elsewhere cannot change a seed's answers.
fn speedup_text(value: f64) -> String {
    format!("{value:.2}×")
}

/// A percentage to one decimal: `74.1%`.
fn percent_text(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// A whole percentage: `5%`.
fn percent_whole(fraction: f64) -> String {
    format!("{:.0}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// True when `value`, shown with `digits` decimals, is not within a hair of a rounding tie,
    /// so that a hand calculation rounding half up gets the same digits as the code.
    fn clear_of_a_tie(value: f64, digits: i32) -> bool {
        let scaled = value * 10f64.powi(digits);
        (scaled.fract().abs() - 0.5).abs() > 1e-6
    }

    #[test]
    fn every_seed_makes_a_complete_quiz_and_the_same_one_every_time() {
        course::quiz::assert_well_formed(make, 0..500, 5, 1);
    }

    #[test]
    fn no_answer_of_the_law_sits_on_a_rounding_tie() {
        for serial_percent in SERIAL_PERCENTS {
            let p = parallel_fraction(serial_percent);
            let ceiling = amdahl::ceiling(p);
            assert!(clear_of_a_tie(ceiling, 2), "ceiling of P = {p}");
            assert!(
                (ceiling - (100 / serial_percent) as f64).abs() < 1e-9,
                "a whole ceiling"
            );
            for workers in WORKER_COUNTS {
                let n = workers as f64;
                assert!(clear_of_a_tie(amdahl::speedup(p, n), 2), "S({workers}), P = {p}");
                assert!(
                    clear_of_a_tie(amdahl::efficiency(p, n) * 100.0, 1),
                    "E({workers}), P = {p}"
                );
            }
        }
        for serial_percent in GROWN_SERIAL_PERCENTS {
            let p = parallel_fraction(serial_percent);
            for workers in GROWN_WORKERS {
                let n = workers as f64;
                assert!(clear_of_a_tie(amdahl::scaled_speedup(p, n), 2));
                assert!(clear_of_a_tie(amdahl::speedup(p, n), 2), "S({workers}), P = {p}");
                for seconds in GROWN_SECONDS {
                    assert!(clear_of_a_tie(seconds as f64 * amdahl::scaled_speedup(p, n), 1));
                }
            }
        }
    }

    #[test]
    fn wanted_speedups_are_reachable_or_at_the_ceiling() {
        for serial_percent in SERIAL_PERCENTS {
            let p = parallel_fraction(serial_percent);
            let ceiling = 100 / serial_percent;
            for wanted in 2..=ceiling - 2 {
                assert!(amdahl::workers_for(p, wanted as f64).is_some(), "P = {p}, {wanted}×");
            }
            assert!(amdahl::workers_for(p, (ceiling - 1) as f64).is_some());
            assert_eq!(amdahl::workers_for(p, ceiling as f64), None, "P = {p}");
            assert_eq!(amdahl::workers_for(p, (ceiling + 1) as f64), None, "P = {p}");
        }
    }

    #[test]
    fn no_answer_from_the_timings_sits_on_a_rounding_tie() {
        for multiple in ONE_WORKER_MULTIPLES {
            for serial_twentieths in 1..=6 {
                for overhead_s in OVERHEAD_SECONDS {
                    let sweep = Sweep {
                        one_worker_s: 160 * multiple,
                        serial_twentieths,
                        overhead_s,
                    };
                    for workers in SWEEP_WORKERS {
                        assert!(clear_of_a_tie(sweep.speedup(workers), 2), "{sweep:?} on {workers}");
                        assert!(
                            clear_of_a_tie(sweep.serial_fraction(workers), 3),
                            "{sweep:?} on {workers}"
                        );
                    }
                    let fit = amdahl::fit_parallel_fraction(&sweep.points()).unwrap();
                    assert!(clear_of_a_tie(fit.parallel_fraction, 3), "{sweep:?}: {fit:?}");
                    let rounded: f64 = fixed_decimals(fit.parallel_fraction, 3).parse().unwrap();
                    assert!(clear_of_a_tie(amdahl::ceiling(rounded), 2), "{sweep:?}");
                }
            }
        }
    }

    #[test]
    fn timings_without_overhead_give_the_serial_fraction_built_in() {
        let sweep = Sweep {
            one_worker_s: 960,
            serial_twentieths: 3,
            overhead_s: 0,
        };
        assert_eq!(
            SWEEP_WORKERS.map(|workers| sweep.seconds(workers)),
            [144 + 408, 144 + 204, 144 + 102]
        );
        for workers in SWEEP_WORKERS {
            assert_eq!(fixed_decimals(sweep.serial_fraction(workers), 3), "0.150");
        }
        let fit = amdahl::fit_parallel_fraction(&sweep.points()).unwrap();
        assert_eq!(fixed_decimals(fit.parallel_fraction, 3), "0.850");
    }

    #[test]
    fn numbers_are_shown_as_the_answers_expect() {
        assert_eq!(decimal_text(0.16875), "0.16875");
        assert_eq!(decimal_text(19.000000000000014), "19");
        assert_eq!(decimal_text(12.666_666_666), "12.666667");
        assert_eq!(fraction_text(1.0 - 0.95), "0.05");
        assert_eq!(speedup_text(5.925_925), "5.93×");
        assert_eq!(percent_text(0.740_740), "74.1%");
        assert_eq!(percent_whole(0.05000000000000004), "5%");
        assert_eq!(fixed_decimals(0.15, 3), "0.150");
    }
}
