//! Section 2: the lecture's job, hundreds of requests, on one core, on threads, on processes.

use crate::Params;
use crate::answers::Unpacked;
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
        "  {n_requests} requests, each the compressed book ({}), each decompressed to {}. Threads \
         read each request where it lies and hand results over by pointer; the pool's worker \
         processes share nothing: each request is copied into a pipe, each result copied back.",
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
        "  Starting the {} took {} (not counted above: the pool is reused). They are not reaped \
         between runs, so the kernel has not charged their CPU to this process yet: each reports \
         its own CPU clock with its results, which is how the processes row counts {:.2} cores.",
        format::plural(n as u64, "worker process"),
        format::duration(starting.wall),
        pool_row.cores_used
    );
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
    lesson.notice(&format!(
        "Every request came back identical to the book in all three versions. Decompression is \
         pure computation, so both kinds of worker can use a core each: {} with threads, {} with \
         processes {here}. Without a GIL, Rust's threads need no copies; the processes copy every \
         byte twice.",
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
