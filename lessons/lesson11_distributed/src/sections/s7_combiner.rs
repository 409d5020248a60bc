//! Section 7: the same job with a combiner, timed against the plain shuffle, and the records
//! it saves.

use super::{check_every_record_arrived, first_outcome, gathered_by_zero, ratio_for_humans, show_matrix};
use crate::cluster::LocalRun;
use crate::job::{Gathered, describe};
use crate::map_reduce::{Shuffle, WordCount};
use crate::{Cluster, Params};
use anyhow::anyhow;
use course::timing::{Comparison, Measurement, Runs, format};
use course::{Lesson, say};
use std::time::Duration;

/// Up to this many processes, the combiner's records are shown as a matrix, as in section 5.
const MATRIX_FOR_A_FEW: usize = 4;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  Hadoop's combiner: each process first counts its own words, then ships one record per \
         distinct word instead of one per occurrence. Same answer, far fewer records."
    );
    match p.cluster {
        Cluster::Local => on_this_machine(lesson, p),
        Cluster::Hosts { .. } => on_the_hosts(lesson, p),
    }
}

fn on_this_machine(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let processes = p.processes;
    let bytes = p.text().0.len() as u64;
    let mut comparison = Comparison::new(format!(
        "word count of {} on {processes} processes",
        format::bytes(bytes)
    ))
    .repeats(0, lesson.pick(1, 2));
    let mut runs: [Option<LocalRun>; 2] = [None, None];
    for (slot, shuffle) in [Shuffle::EveryWord, Shuffle::Combined].into_iter().enumerate() {
        let row = comparison.try_variant(describe(shuffle), processes, || {
            let run = p.run_here(processes, shuffle)?;
            let answer = gathered_by_zero(first_outcome(&run.outcomes)?)?.answer.clone();
            runs[slot] = Some(run);
            anyhow::Ok(answer)
        })?;
        if shuffle == Shuffle::Combined {
            // Less work, not more workers: no efficiency, and no ceiling from the cores.
            row.other_algorithm();
        }
    }
    lesson.compare(comparison)?;
    let gathered = |run: &Option<LocalRun>| -> anyhow::Result<Gathered> {
        let run = run
            .as_ref()
            .ok_or_else(|| anyhow!("a run of the combiner's comparison left no outcome"))?;
        Ok(gathered_by_zero(first_outcome(&run.outcomes)?)?.clone())
    };
    let (every_word, combined) = (gathered(&runs[0])?, gathered(&runs[1])?);
    let every_word_records: u64 = every_word.reports.iter().flat_map(|r| r.sent.iter()).sum();
    say!(lesson);
    let combined_records = if processes <= MATRIX_FOR_A_FEW {
        say!(lesson, "  Records shuffled with the combiner:");
        show_matrix(lesson, &combined.reports)?
    } else {
        // Many processes: every row of the matrix would say the same thing.
        let sent: Vec<u64> = combined.reports.iter().map(|r| r.sent.iter().sum()).collect();
        let (fewest, most) = (
            sent.iter().min().copied().unwrap_or(0),
            sent.iter().max().copied().unwrap_or(0),
        );
        let each = if fewest == most {
            format::count(most)
        } else {
            format!("{} to {}", format::count(fewest), format::count(most))
        };
        say!(
            lesson,
            "  With the combiner, each process sent one record per distinct word it saw to that \
             word's owner: {each} records each."
        );
        check_every_record_arrived(lesson, &combined.reports)?
    };
    say!(
        lesson,
        "  {} records instead of {}: {} times fewer.",
        format::count(combined_records),
        format::count(every_word_records),
        ratio_for_humans(every_word_records as f64 / combined_records.max(1) as f64)
    );
    lesson.figure("records_every_word", every_word_records);
    lesson.figure("records_combined", combined_records);
    lesson.figure("combined_reports", &combined.reports);
    lesson.notice(
        "Moving data is the expensive part of map/reduce; a combiner does part of the reduce before \
         the shuffle whenever the reduction can be split (a sum can, a median cannot).",
    );
    Ok(())
}

fn on_the_hosts(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let bytes = p.text().0.len() as u64;
    let outcomes = p.hosts_outcomes()?.to_vec();
    let processes = first_outcome(&outcomes)?.report.sent.len();
    // Only process 0's own time and CPU are known here, and it spends much of the job waiting
    // for the others' records: its cores used say nothing about theirs.
    let mut comparison: Comparison<WordCount> = Comparison::new(format!(
        "word count of {} on {processes} machines",
        format::bytes(bytes)
    ))
    .waiting();
    for outcome in &outcomes {
        let gathered = gathered_by_zero(outcome)?;
        // Timed inside process 0, from the start of the job to the end of its dataflow (which
        // ends last there: it waits for everyone's records).
        let measurement = Measurement {
            wall: Duration::from_secs_f64(outcome.report.dataflow_s),
            user: Duration::from_secs_f64(outcome.report.cpu_s),
            ..Default::default()
        };
        let row = comparison.add_measured(
            describe(outcome.shuffle),
            processes,
            vec![gathered.answer.clone()],
            Runs::from(measurement),
        );
        if outcome.shuffle == Shuffle::Combined {
            row.other_algorithm();
        }
    }
    lesson.compare(comparison)?;
    say!(
        lesson,
        "  (Timed on process 0, from the start of each job to the end of its dataflow, with its own \
         CPU time only; both on all {processes} processes.)"
    );
    if let Some(combined) = outcomes.get(1) {
        say!(lesson);
        show_matrix(lesson, &gathered_by_zero(combined)?.reports)?;
    }
    lesson.notice("A combiner does part of the reduce before the shuffle: far fewer records cross the network.");
    Ok(())
}
