//! Section 8: the sequential count against one worker process, N worker processes and N
//! threads, each distributed run timed whole (start-up to exit), answers checked.

use crate::Params;
use crate::cluster::LocalRun;
use crate::map_reduce::{Shuffle, count_on_threads, count_sequential};
use anyhow::anyhow;
use course::timing::{Comparison, format};
use course::{Lesson, say};

/// What section 8 measured, for section 9.
pub struct Timed {
    pub sequential_s: f64,
    pub distributed_s: f64,
    /// The N processes' speedup over the sequential count: above 1, they won.
    pub distributed_speedup: f64,
    /// N threads in this one process, for the same count.
    pub threads_speedup: f64,
    /// The last run of the N processes, phase by phase.
    pub last_run: LocalRun,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  Each distributed run (with section 7's combiner, unlike section 4) starts its processes, \
         scatters the blocks, connects, counts and gathers, as a real job does. The sequential \
         count only counts; the threads (`count_on_threads`) share the corpus in memory."
    );
    let timed = measure(lesson, p, true)?;
    lesson.figure("distributed_speedup", timed.distributed_speedup);
    lesson.figure("phases_s", super::phases(&timed.last_run));
    let size = format::bytes(p.text().0.len() as u64);
    let (processes, threads) = (
        format::plural(p.processes as u64, "process"),
        format::plural(p.processes as u64, "thread"),
    );
    let (distributed, threaded) = (timed.distributed_speedup, timed.threads_speedup);
    let threads_did = match (distributed > 1.0, format::times(threaded)) {
        (true, times) if threaded > distributed => {
            format!("{threads} in one process won by more ({times}): no start-up, no copies")
        }
        (true, times) => format!("{threads} in one process did no better ({times})"),
        (false, times) if threaded > 1.0 => {
            format!("{threads} in one process did win ({times}): no start-up, no copies")
        }
        (false, times) => format!("{threads} in one process lost too ({times}): too little work to share"),
    };
    lesson.notice(&if distributed > 1.0 {
        format!(
            "With {size} of text the {processes} win ({}) despite start-up and copies; {threads_did}.",
            format::times(distributed)
        )
    } else {
        format!(
            "With {size} of text one core beats the {processes} ({}): start-up, copies and serialized \
             records outweigh the extra cores; {threads_did}.",
            format::times(distributed)
        )
    });
    p.timed = Some(timed);
    Ok(())
}

/// Times the sequential count, one worker process, N worker processes and N threads, and
/// prints the comparison (or only records it, for a section 9 shown without section 8).
pub fn measure(lesson: &Lesson, p: &mut Params, show: bool) -> anyhow::Result<Timed> {
    let n = p.processes;
    let bytes = p.text().0.len() as u64;
    let mut comparison = Comparison::new(format!(
        "word count of {} ({} blocks)",
        format::bytes(bytes),
        p.corpus.blocks
    ))
    .repeats(0, lesson.pick(1, 2));
    comparison.variant("sequential, in this process", 1, || count_sequential(p.text().0));
    let mut last_run = None;
    let mut worker_counts = vec![1, n];
    worker_counts.dedup();
    for workers in worker_counts {
        comparison.try_variant(processes_name(workers), workers, || {
            let run = p.run_here(workers, Shuffle::Combined)?;
            let answer = super::gathered_by_zero(super::first_outcome(&run.outcomes)?)?
                .answer
                .clone();
            last_run = Some(run);
            anyhow::Ok(answer)
        })?;
    }
    comparison.try_variant(threads_name(n), n, || count_on_threads(p.text().0, n))?;
    let report = if show {
        lesson.compare(comparison)?
    } else {
        lesson.compare_quietly(comparison)?
    };
    Ok(Timed {
        sequential_s: report.rows.first().map_or(0.0, |row| row.median_s),
        distributed_s: report.row(&processes_name(n)).map_or(0.0, |row| row.median_s),
        distributed_speedup: report.row(&processes_name(n)).map_or(0.0, |row| row.speedup),
        threads_speedup: report.row(&threads_name(n)).map_or(0.0, |row| row.speedup),
        last_run: last_run.ok_or_else(|| anyhow!("the distributed run left no outcome"))?,
    })
}

fn processes_name(workers: usize) -> String {
    if workers == 1 {
        "1 worker process".to_string()
    } else {
        format!("{workers} worker processes")
    }
}

fn threads_name(threads: usize) -> String {
    format!("{}, one process", format::plural(threads as u64, "thread"))
}
