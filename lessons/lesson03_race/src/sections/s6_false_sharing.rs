//! Section 6: per-thread counters that share a cache line (the concept in `false_sharing.rs`).

use crate::Params;
use crate::false_sharing::{count_in_one_slot, count_in_packed_slots, count_in_padded_slots};
use anyhow::bail;
use course::timing::{self, Comparison, format};
use course::{Lesson, say};
use crossbeam::utils::CachePadded;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_threads, increments) = (p.n_threads, p.increments);
    let packed_spacing = size_of::<u64>();
    let padded_spacing = size_of::<CachePadded<u64>>();
    say!(
        lesson,
        "  Each thread adds 1 to its own counter in memory, {} times. No data is shared, but \
         packed counters are {packed_spacing} bytes apart, so several share one 64-byte cache line, \
         and the cores pass that line back and forth on every write. Padded counters are \
         {padded_spacing} bytes apart.",
        format::count(increments)
    );
    let mut comparison = Comparison::new(format!(
        "{n_threads} counters × {} increments",
        format::count(increments)
    ))
    .repeats(1, lesson.pick(2, 3));
    comparison.try_variant("1 thread", 1, || count_in_one_slot(n_threads, increments))?;
    comparison.try_variant(format!("{n_threads} threads, packed"), n_threads, || {
        count_in_packed_slots(n_threads, increments)
    })?;
    comparison.try_variant(format!("{n_threads} threads, padded"), n_threads, || {
        count_in_padded_slots(n_threads, increments)
    })?;
    let report = lesson.compare(comparison)?;
    let (Some(packed), Some(padded)) = (report.rows.get(1), report.rows.get(2)) else {
        bail!("the false-sharing comparison lost a row");
    };
    let slowdown = timing::ratio(packed.median.wall, padded.median.wall);
    say!(
        lesson,
        "  Packed counters took {} as long as padded ones for the same work.",
        format::times(slowdown)
    );
    lesson.figure("packed_spacing_bytes", packed_spacing);
    lesson.figure("padded_spacing_bytes", padded_spacing);
    lesson.figure("packed_slowdown", slowdown);
    if slowdown >= 1.2 {
        lesson.notice(
            "Same answer, different speed: the hardware shares memory by cache line, not by variable. \
             Keep data that different threads write often at least a cache line apart.",
        );
    } else {
        lesson.notice(
            "Here packed counters cost about as much as padded ones: the threads did not write the \
             line at the same time often enough (few cores, or a busy machine). On most multi-core \
             machines the packed ones are several times slower.",
        );
    }
    Ok(())
}
