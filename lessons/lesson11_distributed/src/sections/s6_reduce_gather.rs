//! Section 6: the reduce on each owner, the gather on process 0, and the check against the
//! count on one core.

use crate::Params;
use anyhow::bail;
use course::chart::Bars;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let gathered = p.plain()?;
    let sequential = p.sequential();
    say!(lesson, "  (Hadoop's reduce, then ipyparallel's gather.)");
    say!(
        lesson,
        "  Each process added up the counts of the words it owns, once the dataflow told it that no \
         more records could arrive, then sent one record per word to process 0 (the gather):"
    );
    let mut bars = Bars::new().width(24);
    for report in &gathered.reports {
        bars.row(
            format!("process {}", report.process),
            report.words_owned as f64,
            format!("{} distinct words", format::count(report.words_owned)),
        );
    }
    lesson.bars(&bars);
    let answer = &gathered.answer;
    say!(lesson);
    say!(
        lesson,
        "  gathered on process 0:  {answer} in {} lines",
        format::count(answer.lines)
    );
    say!(
        lesson,
        "  sequential count:       {sequential} in {} lines",
        format::count(sequential.lines)
    );
    let taking_part = gathered
        .reports
        .iter()
        .filter(|r| r.words_mapped.unwrap_or(0) > 0 && r.received.iter().sum::<u64>() > 0)
        .count();
    let equal = *answer == sequential;
    lesson.checked(
        equal,
        format!(
            "{} counts for all {} words and the same number of lines; {taking_part} processes took part",
            if equal { "the same" } else { "different" },
            sequential.counts.len()
        ),
    );
    if !equal {
        bail!("the distributed count differs from the sequential one: {answer:?} against {sequential:?}");
    }
    lesson.figure("answers_equal", true);
    lesson.figure("processes_taking_part", taking_part);
    lesson.figure("distributed_words", answer.words());
    lesson.figure("distributed_distinct_words", answer.counts.len());
    lesson.figure("distributed_letters", answer.letters());
    let words = answer.words();
    lesson.figure(
        "top_words",
        answer
            .counts
            .iter()
            .filter(|(_, count)| **count * 50 >= words)
            .collect::<Vec<_>>(),
    );
    lesson.notice(
        "Correct before fast: the distributed answer is compared with the sequential one, word by \
         word; a record lost or counted twice in the shuffle would show here.",
    );
    Ok(())
}
