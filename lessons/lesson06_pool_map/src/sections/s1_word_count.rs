//! Section 1: the lecture's 300 strings, where every parallel version loses; the notes' pop
//! quiz, answered from what was just measured before the table shows it; the notes' own Python
//! in the same table (`python/pool_map.py`).

use crate::Params;
use crate::cpython;
use crate::pool_map::{
    map_process_pool, map_sequential, map_thread_per_item, map_thread_pool, python_default_chunk, word_count,
};
use crate::pools::{measured_on, process_pool, room_for_threads, threads_refused};
use course::timing::{self, Comparison, Measurement, Runs, format};
use course::{Lesson, say};
use std::time::Duration;
use workloads::seed::{SEED_LINES, SEED_WORD_COUNT, seed_strings};

/// Unmeasured runs before the measured ones.
const WARMUP: usize = 1;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n = p.n_workers;
    let strings = seed_strings();
    let chunk = python_default_chunk(strings.len(), n);
    say!(
        lesson,
        "  {} strings ({} lines × 100), {SEED_WORD_COUNT} words; pools of {} take {chunk} at a time.",
        strings.len(),
        SEED_LINES.len(),
        format::plural(n as u64, "worker")
    );
    let total = |counts: Vec<usize>| counts.into_iter().sum::<usize>();
    let mut comparison = Comparison::new("word count of the lecture's 300 strings").repeats(WARMUP, lesson.pick(3, 7));
    // Each variant's wall times are kept as they are measured: the quiz is answered from them
    // before the table shows them.
    let mut walls: [Vec<Duration>; 3] = Default::default();
    let [sequential, per_string, per_call] = &mut walls;
    comparison.try_variant_measured("sequential", 1, || {
        noted(sequential, timed(|| map_sequential(&strings, word_count, n).map(total)))
    })?;
    // A machine that allows fewer threads than strings: the lesson goes on without them.
    let left_out = match room_for_threads(strings.len()) {
        Err(limit) => Some(format!("it starts {} threads at once, and {limit}", strings.len())),
        Ok(()) => comparison
            .try_variant_measured("a thread per string", strings.len(), || {
                noted(
                    per_string,
                    timed(|| map_thread_per_item(&strings, word_count, n).map(total)),
                )
            })
            .err()
            .map(|error| {
                format!(
                    "a thread was refused ({error}); {}",
                    course::limits::what_limits_tasks()
                )
            }),
    };
    if let Some(why) = left_out {
        lesson.warn(&format!("a thread per string left out: {why}"));
    }
    comparison
        .try_variant("thread pool, started per call", n, || {
            map_thread_pool(&strings, word_count, n).map(total)
        })
        .map_err(threads_refused(n))?;
    comparison.try_variant_measured("process pool, started per call", n, || {
        noted(
            per_call,
            timed(|| map_process_pool(&strings, |text: String| word_count(&text), n).map(total)),
        )
    })?;
    // The same pool kept running, as the lecture's later cells do: only the hand-offs remain.
    let mut pool = process_pool(n, "word count", |text: String| word_count(&text))?;
    comparison.try_variant_measured("process pool, already running", n, || {
        measured_on(&mut pool, |pool| pool.map(strings.iter().copied(), chunk)).map(|(counts, m)| (total(counts), m))
    })?;
    // The notes' three versions on CPython, their counts checked against Rust's.
    cpython::run_once(lesson, p);
    let python_pool = format!("CPython: Pool({n}), made for the call");
    if let Some(twin) = &p.twin {
        p.python
            .add_rows(lesson, &mut comparison, twin, "word_count", &SEED_WORD_COUNT, |value| {
                value.as_u64().map(|count| count as usize)
            });
    }

    let median = |walls: &Vec<Duration>| {
        let samples = walls.iter().skip(WARMUP).map(|&wall| Measurement {
            wall,
            ..Default::default()
        });
        (walls.len() > WARMUP).then(|| {
            Runs {
                samples: samples.collect(),
            }
            .median()
            .wall
        })
    };
    lesson.reveal(
        "The notes' pop quiz: sequential, a thread per string or a process pool: fastest, slowest, why?",
        quiz_answer([
            ("sequential", median(&walls[0])),
            ("concurrent", median(&walls[1])),
            ("parallel", median(&walls[2])),
        ]),
    )?;
    let report = lesson.compare(comparison)?;
    anyhow::ensure!(
        report.answer == SEED_WORD_COUNT.to_string(),
        "the word count came to {}, not the lecture's {SEED_WORD_COUNT}",
        report.answer
    );
    say!(
        lesson,
        "  A process pool also copies each string into a pipe and each count back: {} sent per call.",
        format::bytes(pool.last_map().bytes_sent)
    );
    pool.shutdown()?;
    let pairs = [
        ("CPython: sequential", "sequential"),
        ("CPython: a thread per string", "a thread per string"),
        (python_pool.as_str(), "process pool, started per call"),
    ];
    if let [sequential, per_string, pooled] = &course::python::ratios_quietly(lesson, &report, &pairs)[..] {
        say!(
            lesson,
            "  CPython/Rust: sequential {}, thread per string {}, Pool({n}) {} (Rust: process pool).",
            format::times(sequential.ratio),
            format::times(per_string.ratio),
            format::times(pooled.ratio)
        );
    }
    lesson.figure("word_count", SEED_WORD_COUNT);
    lesson.figure("chunk_size", chunk);
    lesson.notice(
        "Every parallel version loses to the plain loop: a microsecond of work cannot pay for \
         starting threads or processes, or even for handing items over. Parallelize only when the \
         work outweighs that overhead.",
    );
    Ok(())
}

/// `work`, timed.
fn timed<A, E>(work: impl FnOnce() -> Result<A, E>) -> Result<(A, Measurement), E> {
    let (answer, measurement) = timing::measure(work);
    answer.map(|answer| (answer, measurement))
}

/// Passes a measured run on, keeping its wall time in `walls`.
fn noted<A, E>(walls: &mut Vec<Duration>, run: Result<(A, Measurement), E>) -> Result<(A, Measurement), E> {
    if let Ok((_, measurement)) = &run {
        walls.push(measurement.wall);
    }
    run
}

/// The quiz's answer from the median times of the three versions it names (`None`: not run).
fn quiz_answer(times: [(&str, Option<Duration>); 3]) -> String {
    let mut ran: Vec<(&str, Duration)> = times.iter().filter_map(|&(name, time)| Some((name, time?))).collect();
    ran.sort_by_key(|&(_, time)| time);
    let measured: Vec<String> = ran
        .iter()
        .map(|(name, time)| format!("{name} {}", format::duration(*time)))
        .collect();
    let (Some(fastest), Some(slowest)) = (ran.first(), ran.last()) else {
        return "Nothing was measured.".to_string();
    };
    let why = if fastest.0 == "sequential" {
        "counting takes microseconds, starting workers far longer."
    } else {
        "here the work outweighed what it cost to start the workers and hand the strings over."
    };
    format!(
        "Measured: {}. {} is fastest, {} slowest: {why}",
        measured.join(", "),
        capitalized(fastest.0),
        slowest.0
    )
}

fn capitalized(word: &str) -> String {
    let mut letters = word.chars();
    letters
        .next()
        .map(|first| first.to_uppercase().chain(letters).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quiz_is_answered_from_the_times() {
        let ms = Duration::from_millis;
        let answer = quiz_answer([
            ("sequential", Some(ms(1))),
            ("concurrent", Some(ms(30))),
            ("parallel", Some(ms(9))),
        ]);
        assert!(answer.contains("Sequential is fastest, concurrent slowest"), "{answer}");
        let answer = quiz_answer([
            ("sequential", Some(ms(5))),
            ("concurrent", None),
            ("parallel", Some(ms(2))),
        ]);
        assert!(answer.contains("Parallel is fastest, sequential slowest"), "{answer}");
    }
}
