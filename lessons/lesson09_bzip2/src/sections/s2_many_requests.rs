//! Section 2: the lecture's job, hundreds of requests, on one core, on threads, on processes;
//! the lecture's own Python beside them (`python/parallel_bzip2.py`).

use crate::Params;
use crate::answers::Unpacked;
use crate::cpython;
use crate::parallel_bzip2::{
    Reply, decompress_on_process_pool, decompress_on_threads, decompress_sequential, start_decompress_pool,
};
use crate::pool_timing::measured_on;
use course::timing::{self, Comparison, Measurement, format};
use course::{Lesson, say};
use std::time::Duration;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (book, n, n_requests) = (&p.book[..], p.n_workers, p.n_requests);
    let requests: Vec<&[u8]> = vec![&p.compressed; n_requests];
    say!(
        lesson,
        "  {n_requests} requests of {}, each decompressing to the {} book; threads read them in place.",
        format::bytes(p.compressed.len() as u64),
        format::bytes(book.len() as u64)
    );
    // The pool forks first, while this process has one thread; its workers are copies of this
    // process as it is at this moment, the book included.
    let (pool, starting) = timing::measure(|| start_decompress_pool(n));
    let mut pool = pool?;
    // Each version's output is summed up outside its timed part: comparing hundreds of
    // megabytes with the book is not the work being timed.
    let summed = |(replies, measurement): (Vec<Reply>, Measurement)| (Unpacked::of(&replies, book), measurement);
    let mut comparison =
        Comparison::new(format!("bzip2 decompression of {n_requests} requests")).repeats(0, lesson.pick(1, 2));
    let mut sequential = None;
    comparison.try_variant_measured("sequential", 1, || {
        let (unpacked, measurement) = timed(|| decompress_sequential(&requests, n)).map(summed)?;
        sequential = Some(unpacked);
        std::io::Result::Ok((unpacked, measurement))
    })?;
    comparison.try_variant_measured(format!("{n} threads"), n, || {
        timed(|| decompress_on_threads(&requests, n)).map(summed)
    })?;
    comparison.try_variant_measured(format!("{n} processes"), n, || {
        measured_on(&mut pool, |pool| decompress_on_process_pool(&requests, pool)).map(summed)
    })?;
    pool.shutdown()?;
    let report = lesson.compare(comparison)?;
    let identical = sequential.map_or(0, |unpacked| unpacked.identical);
    anyhow::ensure!(
        identical == n_requests,
        "only {identical} of {n_requests} requests decompressed to the book"
    );

    let total_out = book.len() as u64 * n_requests as u64;
    let mut throughput = serde_json::Map::new();
    let mut rates = Vec::new();
    for row in &report.rows {
        let rate = format::throughput(total_out, Duration::from_secs_f64(row.median_s));
        rates.push(format!("{} {rate}", row.name));
        throughput.insert(
            row.name.clone(),
            (total_out as f64 / row.median_s.max(1e-12) / 1e6).into(),
        );
    }
    say!(lesson, "  Decompressed bytes per second: {}.", rates.join(", "));
    let pool_row = &report.rows[2];
    say!(
        lesson,
        "  Starting {}: {}, not counted (the pool is reused); each reports its own CPU.",
        format::plural(n as u64, "worker process"),
        format::duration(starting.wall)
    );
    // The lecture's Python on the same book and requests, its books checked against Rust's.
    let cpython_threads = match (cpython::decompress_in_cpython(lesson, p), &sequential) {
        (Some(twin), Some(expected)) => cpython::beside_rust(lesson, &p.python, &twin, &report, expected, book)?,
        _ => None,
    };
    p.pool_time = Some(pool_row.median.wall);
    lesson.figure("requests_identical_to_book", identical);
    lesson.figure("decompressed_bytes", total_out);
    lesson.figure("throughput_mb_s", throughput);
    lesson.figure("pool_start", starting);
    let speedup = |row: usize| format::times(report.rows[row].speedup);
    let here = if report.disturbed {
        "in this disturbed run (⚠ above)"
    } else {
        "here"
    };
    // CPython's bz2 lets go of the GIL while it decompresses: its threads can share the work.
    let threads_in_cpython = match cpython_threads {
        Some(speedup) if speedup >= 1.2 => format!(
            " CPython's threads too: {} over its loop (bz2 lets go of the GIL).",
            format::times(speedup)
        ),
        Some(speedup) => format!(" CPython's threads: {} over its loop.", format::times(speedup)),
        None => " Threads need no copies; the processes copy every byte twice.".to_string(),
    };
    lesson.notice(&format!(
        "Decompression is pure computation, so both kinds of worker can use a core each: {} with \
         threads, {} with processes {here}.{threads_in_cpython}",
        speedup(1),
        speedup(2)
    ));
    Ok(())
}

/// `work`, timed.
fn timed<A, E>(work: impl FnOnce() -> Result<A, E>) -> Result<(A, Measurement), E> {
    let (answer, measurement) = timing::measure(work);
    answer.map(|answer| (answer, measurement))
}
