//! Section 5: the notebook's thread-per-string word count, and the string size from which a
//! thread per string starts to pay.

use crate::Params;
use crate::sweep::{SweepPoint, first_size_that_keeps_paying};
use crate::word_count::{count_in_shares, count_per_core, count_sequential, count_thread_per_string};
use course::chart::Plot;
use course::limits;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use std::io;
use workloads::seed::{SEED_WORD_COUNT, seed_strings};

/// One thread per core, or per share when the machine allows fewer threads than there are cores.
fn per_core<S: AsRef<str> + Sync>(strings: &[S], threads: usize, cores: usize) -> io::Result<usize> {
    if threads >= cores {
        count_per_core(strings)
    } else {
        count_in_shares(strings, threads)
    }
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (cores, runs) = (p.cores, p.runs);
    let strings = seed_strings();
    // A thread per string may have every string's thread alive at once: left out when the
    // machine would refuse that many.
    let room = limits::room_for_threads(limits::DEFAULT_STACK);
    let per_string = match &room {
        Some((room, limit)) if (*room as usize) < strings.len() + 4 => {
            lesson.warn(&format!(
                "a thread per string is left out: it may need {} threads at once, and {limit}",
                strings.len()
            ));
            false
        }
        _ => true,
    };
    let per_core_threads = lesson.at_most(cores, "threads for 'per core'", room)?;
    say!(
        lesson,
        "  The notebook's {} short strings ({SEED_WORD_COUNT} words), counted three ways:",
        strings.len()
    );
    let mut comparison = Comparison::new(format!("words in the notebook's {} strings", strings.len())).repeats(1, runs);
    comparison.try_variant("sequential", 1, || count_sequential(&strings))?;
    if per_string {
        comparison.try_variant("thread per string", strings.len(), || count_thread_per_string(&strings))?;
    }
    comparison.try_variant(format!("{cores} threads, one per core"), per_core_threads, || {
        per_core(&strings, per_core_threads, cores)
    })?;
    let report = lesson.compare(comparison)?;
    if count_sequential(&strings)? != SEED_WORD_COUNT {
        anyhow::bail!("the notebook's strings do not have {SEED_WORD_COUNT} words");
    }
    if let Some(row) = report.row("thread per string").filter(|row| row.speedup > 0.0) {
        let how = if row.speedup < 1.0 {
            format!("takes {} as long as", format::times(1.0 / row.speedup))
        } else {
            format!("runs at {} the speed of", format::times(row.speedup))
        };
        say!(
            lesson,
            "  A thread per string {how} a plain loop: a thread costs far more than counting two to \
             five words."
        );
    }

    let repeats: Vec<usize> = lesson.pick(vec![1, 16, 256, 4096], vec![1, 4, 16, 64, 256, 1024, 4096, 16384]);
    say!(
        lesson,
        "  The same strings, each repeated more and more times (up to {}); speedup over the loop:",
        format::count(*repeats.last().unwrap_or(&1) as u64)
    );
    let mut sweep = Vec::new();
    for &times in &repeats {
        let big: Vec<String> = strings.iter().map(|s| vec![*s; times].join(" ")).collect();
        let expected_words = SEED_WORD_COUNT * times;
        let mut comparison = Comparison::new(format!("words, each string repeated {times} times")).repeats(1, runs);
        comparison.try_variant("sequential", 1, || count_sequential(&big))?;
        if per_string {
            comparison.try_variant("thread per string", big.len(), || count_thread_per_string(&big))?;
        }
        comparison.try_variant("per core", per_core_threads, || per_core(&big, per_core_threads, cores))?;
        // Answers are checked before any speedup exists: a mismatch ends the lesson here. Each
        // size is recorded for --json; the chart below shows the whole sweep.
        let report = lesson.compare_quietly(comparison)?;
        if count_sequential(&big)? != expected_words {
            anyhow::bail!("{times} repetitions should hold {expected_words} words");
        }
        let bytes_per_string = big.iter().map(String::len).sum::<usize>() / big.len();
        sweep.push(SweepPoint::new(bytes_per_string, big.len(), &report));
    }
    let mut plot = Plot::new("bytes per string", "speedup").log_x().size(48, 7);
    let series = |speedup: fn(&SweepPoint) -> f64| -> Vec<(f64, f64)> {
        sweep.iter().map(|p| (p.bytes_per_string as f64, speedup(p))).collect()
    };
    if per_string {
        plot.series("thread per string", '*', series(|p| p.thread_per_string_speedup));
    }
    plot.series("per core", 'o', series(|p| p.per_core_speedup));
    plot.series("break-even", '-', series(|_| 1.0));
    lesson.plot(&plot);
    let pays_from = first_size_that_keeps_paying(&sweep);
    match pays_from {
        Some(point) => lesson.checked(
            true,
            format!(
                "every size counted the same words; a thread per string pays from about {} per \
                 string, when counting one takes {}",
                format::bytes(point.bytes_per_string as u64),
                format::seconds(point.work_per_string_s)
            ),
        ),
        None if !per_string => lesson.checked(true, "every size counted the same words"),
        None if cores < 2 => lesson.checked(
            true,
            "every size counted the same words; with one core a thread per string never pays",
        ),
        None => lesson.checked(
            true,
            "every size counted the same words; a thread per string did not pay at any size here",
        ),
    }
    lesson.figure("sweep", &sweep);
    lesson.figure("pays_from_bytes_per_string", pays_from.map(|p| p.bytes_per_string));
    lesson.figure("pays_from_work_per_string_s", pays_from.map(|p| p.work_per_string_s));
    lesson.notice(
        "A thread costs tens of microseconds to create and join: it pays only for work that takes \
         longer than that. A thread per core, not per item, pays much sooner.",
    );
    Ok(())
}
