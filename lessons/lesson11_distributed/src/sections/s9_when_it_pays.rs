//! Section 9: when distribution pays, with this machine's figures from section 8.

use super::show_phases;
use crate::Params;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    if p.timed.is_none() {
        say!(
            lesson,
            "  (Section 8 was skipped: timing its variants now, without printing them.)"
        );
        p.timed = Some(super::s8_time::measure(lesson, p, false)?);
    }
    let bytes = p.text().0.len() as u64;
    let Some(timed) = p.timed.as_ref() else {
        anyhow::bail!("section 8's timings are missing");
    };
    let (sequential_s, distributed_s) = (timed.sequential_s, timed.distributed_s);
    let run = &timed.last_run;
    // The verdict on this run is what section 8 measured; the estimate below only extrapolates.
    let processes_won = timed.distributed_speedup > 1.0;
    let n = p.processes;
    // Start-up and exit cost the same for any size; scatter and counting grow with the data.
    // Both are read from the same timed runs, so the estimate agrees with the verdict.
    let fixed_s = (run.start.wall + run.reap.wall).as_secs_f64().min(distributed_s);
    say!(
        lesson,
        "  Where the time of section 8's last run of {n} processes went:"
    );
    show_phases(lesson, run);
    say!(
        lesson,
        "  Here: {} counted in {} on one core, in {} by {n} processes, {} of which only to start and \
         stop them.",
        format::bytes(bytes),
        format::seconds(sequential_s),
        format::seconds(distributed_s),
        format::seconds(fixed_s)
    );
    let per_byte_sequential = sequential_s / bytes.max(1) as f64;
    let per_byte_distributed = (distributed_s - fixed_s) / bytes.max(1) as f64;
    let break_even =
        (per_byte_sequential > per_byte_distributed).then(|| fixed_s / (per_byte_sequential - per_byte_distributed));
    match break_even {
        Some(break_even) => say!(
            lesson,
            "  From these figures, {n} processes {} one core from about {} of text.",
            if processes_won { "beat" } else { "would beat" },
            format::bytes(break_even as u64)
        ),
        None => say!(
            lesson,
            "  Per byte, the processes (scatter through pipes, count, serialize) are no faster here \
             than one core: on this machine they never catch up."
        ),
    }
    let sequential_rate = if sequential_s > 0.0 {
        bytes as f64 / sequential_s
    } else {
        0.0
    };
    let available = memory_available();
    if let Some(available) = available {
        say!(
            lesson,
            "  This machine has {} of memory available: a corpus up to about that size fits, and one \
             core counts it in about {} at the rate above.",
            format::bytes(available),
            format::seconds(available as f64 / sequential_rate.max(1.0))
        );
    }
    say!(lesson);
    // "This run" goes on the row that section 8's measurement puts it in.
    let (small, fits) = if processes_won {
        ("", " (this run)")
    } else {
        (" (this run)", "")
    };
    let threads = if processes_won && timed.threads_speedup > timed.distributed_speedup {
        "threads on all its cores: here they beat the processes"
    } else {
        "threads on all its cores (lessons 02–06), no copies"
    };
    let mut table = Table::new(&["situation", "what to use"]).left(1);
    table.row([
        format!("small data{small}").as_str(),
        "one process: start-up and copies cost more than the work",
    ]);
    table.row([format!("fits one machine's memory{fits}").as_str(), threads]);
    table.row([
        "more than one machine's memory or disk",
        "many machines, each mapping the blocks it stores",
    ]);
    table.row([
        "more work than one machine's cores",
        "many machines, if the work per byte outweighs shipping it",
    ]);
    lesson.table(&table);
    lesson.figure("sequential_bytes_per_s", sequential_rate);
    lesson.figure("fixed_cost_s", fixed_s);
    lesson.figure("break_even_bytes", break_even);
    lesson.figure("processes_won", processes_won);
    lesson.figure("memory_available_bytes", available);
    lesson.notice(
        "Distribution is what you do when one machine is not enough (the lecture's 'more data than \
         fits in a single computer'); below that, it only adds start-up, copies and a network to \
         the same work.",
    );
    Ok(())
}

/// Memory the kernel says is available for new work (Linux), in bytes.
fn memory_available() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
