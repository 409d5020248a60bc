//! The programs the sections give the interpreter, what every way of running them must
//! compute, and the checks made on a run: the harness around `gil.rs`'s versions.

use crate::interpreter::{Op, Ran, ThreadReport, xorshift};
use crate::turns::GilStats;
use anyhow::{Context, ensure};
use std::time::Duration;

/// What every variant of a workload must compute: how many steps, and their checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub steps: u64,
    pub checksum: u64,
}

impl Answer {
    /// What steps `0..steps` compute with `rounds` rounds each: the CPython twin's answer.
    pub fn with_rounds(steps: u64, rounds: u64) -> Self {
        let checksum = (0..steps)
            .map(|index| xorshift(index, rounds))
            .fold(0, u64::wrapping_add);
        Answer { steps, checksum }
    }

    pub fn of(threads: &[ThreadReport]) -> Self {
        threads.iter().fold(Answer::default(), |sum, thread| Answer {
            steps: sum.steps + thread.steps,
            checksum: sum.checksum.wrapping_add(thread.checksum),
        })
    }
}

impl std::fmt::Display for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let steps = course::timing::format::plural(self.steps, "step");
        write!(f, "{steps}, checksum {:016x}", self.checksum)
    }
}

/// One run of a workload: the answer, each worker's report, and what the GIL counted.
#[derive(Clone, Debug)]
pub struct Run {
    pub answer: Answer,
    pub threads: Vec<ThreadReport>,
    pub gil: GilStats,
    pub overlapping_steps: u64,
}

impl Run {
    pub fn of(ran: Ran) -> Run {
        Run {
            answer: Answer::of(&ran.threads),
            gil: ran.interpreter.gil().stats(),
            overlapping_steps: ran.interpreter.overlapping_steps(),
            threads: ran.threads,
        }
    }
}

/// One of `gil.rs`'s versions: `threads_with_gil` or `threads_without_gil`.
pub type Version = fn(&[Vec<Op>], Duration) -> std::io::Result<Ran>;

/// Runs `programs` with `version`; a thread the machine refuses ends the lesson with the limit
/// named (by `course::run`).
pub fn run(version: Version, programs: &[Vec<Op>], switch_interval: Duration) -> anyhow::Result<Run> {
    let ran = version(programs, switch_interval)
        .with_context(|| format!("could not start {} interpreter threads", programs.len()))?;
    Ok(Run::of(ran))
}

/// Steps `0..total_steps` in `n_workers` contiguous shares, one program each.
pub fn split_steps(total_steps: u64, n_workers: usize) -> Vec<Vec<Op>> {
    let n = n_workers as u64;
    (0..n)
        .map(|worker| {
            let first = total_steps * worker / n;
            let end = total_steps * (worker + 1) / n;
            vec![Op::compute(first, end - first)]
        })
        .collect()
}

/// `n_tasks` waiting tasks (a step, a wait, a step), dealt round-robin to `n_workers` programs.
pub fn io_programs(n_tasks: usize, n_workers: usize, wait: Duration) -> Vec<Vec<Op>> {
    let mut programs = vec![Vec::new(); n_workers];
    for task in 0..n_tasks as u64 {
        programs[task as usize % n_workers].extend([
            Op::compute(2 * task, 1),
            Op::Sleep(wait),
            Op::compute(2 * task + 1, 1),
        ]);
    }
    programs
}

/// Fails unless every thread ran its whole share and nobody waited for more turns than there
/// are other threads (first come, first served keeps that bound; a starving thread breaks it).
pub fn check_fair(run: &Run, programs: &[Vec<Op>]) -> anyhow::Result<()> {
    for (report, program) in run.threads.iter().zip(programs) {
        let share: u64 = program
            .iter()
            .map(|op| match op {
                Op::Compute { steps, .. } => *steps,
                Op::Sleep(_) => 0,
            })
            .sum();
        ensure!(
            report.steps == share,
            "thread {} ran {} of its {share} steps",
            report.thread,
            report.steps
        );
    }
    let other_threads = run.threads.len().saturating_sub(1) as u64;
    ensure!(
        run.gil.most_turns_waited <= other_threads,
        "a thread waited {} turns for the GIL with only {other_threads} other threads",
        run.gil.most_turns_waited
    );
    Ok(())
}

/// Fails when the GIL let two steps run at the same moment (it never should).
pub fn check_one_at_a_time(overlapping_steps: u64) -> anyhow::Result<()> {
    ensure!(
        overlapping_steps == 0,
        "the GIL let {overlapping_steps} steps run at the same time"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gil;
    use crate::interpreter::checksum_of;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn shares_cover_every_step_once() {
        for (total, workers) in [(10, 3), (7, 7), (100, 1), (5, 8)] {
            let programs = split_steps(total, workers);
            assert_eq!(programs.len(), workers);
            let mut next = 0;
            for program in &programs {
                let Op::Compute { first, steps } = program[0] else {
                    panic!("a share is computing")
                };
                assert_eq!(first, next);
                next += steps;
            }
            assert_eq!(next, total);
        }
    }

    #[test]
    fn threads_with_and_without_the_gil_agree() {
        let programs = split_steps(600, 3);
        let with_gil = run(gil::threads_with_gil, &programs, MS).unwrap();
        let without = run(gil::threads_without_gil, &programs, MS).unwrap();
        let one = run(gil::threads_with_gil, &split_steps(600, 1), MS).unwrap();
        assert_eq!(with_gil.answer, without.answer);
        assert_eq!(with_gil.answer, one.answer);
        let expected = Answer {
            steps: 600,
            checksum: checksum_of(0, 600),
        };
        assert_eq!(with_gil.answer, expected);
        assert_eq!(with_gil.overlapping_steps, 0);
        check_fair(&with_gil, &programs).unwrap();
        assert!(expected.to_string().starts_with("600 steps, checksum "), "{expected}");
    }

    #[test]
    fn the_twins_answer_is_the_simulations_with_its_rounds() {
        use crate::interpreter::ROUNDS_PER_STEP;
        let simulated = run(gil::threads_with_gil, &split_steps(40, 2), MS).unwrap();
        assert_eq!(simulated.answer, Answer::with_rounds(40, ROUNDS_PER_STEP));
        // The twin's first three steps of 50 rounds, as `python3 python/gil.py` computes them
        // (`run_steps((0, 3))`).
        let twin = Answer::with_rounds(3, 50);
        assert_eq!((twin.steps, twin.checksum), (3, 6_578_435_608_463_628_887));
    }

    #[test]
    fn io_tasks_are_dealt_out_whole() {
        let programs = io_programs(5, 2, MS);
        assert_eq!(programs[0].len(), 9);
        assert_eq!(programs[1].len(), 6);
        let run = run(gil::threads_with_gil, &programs, MS).unwrap();
        assert_eq!(run.answer.steps, 10);
        assert_eq!(run.answer.checksum, checksum_of(0, 10));
    }
}
