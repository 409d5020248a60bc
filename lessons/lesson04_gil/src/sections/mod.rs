//! The lesson's sections, in the order they are shown; each measures and prints one idea.

pub mod s1_interpreter;
pub mod s2_with_gil;
pub mod s3_without_gil;
pub mod s4_processes;
pub mod s5_io_bound;
pub mod s6_convoy;
pub mod s7_summary;

use crate::Params;
use crate::gil;
use crate::programs::{self, Answer, split_steps};
use course::timing::{self, Comparison, Runs, format};

/// The one-thread run of the CPU-bound work that sections 2 to 4 compare with: measured by the
/// first of them that runs, and shown again by the others.
pub fn cpu_baseline(p: &mut Params) -> anyhow::Result<(Vec<Answer>, Runs)> {
    if let Some(baseline) = &p.baseline {
        return Ok(baseline.clone());
    }
    let one = split_steps(p.total_steps, 1);
    let (results, runs) = timing::repeat(0, p.runs, || {
        programs::run(gil::threads_with_gil, &one, p.switch_interval).map(|run| run.answer)
    });
    let answers = results.into_iter().collect::<anyhow::Result<Vec<Answer>>>()?;
    p.baseline = Some((answers.clone(), runs.clone()));
    Ok((answers, runs))
}

/// A comparison of the CPU-bound work, its one-thread baseline already in.
pub fn cpu_comparison(p: &mut Params) -> anyhow::Result<Comparison<Answer>> {
    let (answers, runs) = cpu_baseline(p)?;
    let workload = format!("{} bytecode steps", format::count(p.total_steps));
    let mut comparison = Comparison::new(workload).repeats(0, p.runs);
    comparison.add_measured("1 thread", 1, answers, runs);
    Ok(comparison)
}

/// `2 threads`, `1 process`.
pub fn plural(count: usize, noun: &str) -> String {
    format::plural(count as u64, noun)
}
