//! # Lesson 09 · bzip2 in parallel: many requests, threads and processes
//!
//! **Objective.** Parallelize real library work, not a toy loop: bzip2. A book is compressed
//! and checked to come back byte for byte. Then the lecture's job: decompress it for 300
//! requests, on one core, on threads that share memory, and on a pool of worker processes that
//! receive every request and return every result as bytes through pipes (Python's
//! `ProcessPoolExecutor`). The cost of moving those bytes is measured on its own. Then the other
//! direction: a large text compressed in independent blocks on every core, as pbzip2 does, and
//! read back by a standard multi-stream decoder. Last, what damaged input does.
//!
//! **What to observe.** Decompression is pure computation (cores used ≈ 1 per worker), so both
//! threads and processes approach one core's speed per core. Rust has no global interpreter
//! lock, so threads need no copies; processes pay to ship megabytes through pipes, a cost
//! measured here beside the work. Block compression splits one job into independent ones and
//! scales the same way, at the price of a slightly larger file. A corrupt or truncated input is
//! an error with a reason, never a crash, and a bad request does not take a worker down.
//!
//! **How to run.** `cargo run -p lesson09_bzip2` (add `--quick`, `--json`, `--step`;
//! `--input book.txt.bz2` uses your own text; `--help` lists the knobs).

mod codec;

use clap::Parser;
use course::table::Table;
use course::timing::{self, Comparison, ComparisonReport, Measurement, Runs, format};
use course::{Lesson, say};
use procpool::{EncodeAs, ProcessPool, Wire};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 09: real CPU-bound library work in parallel. Compresses a book with bzip2 and \
decompresses it for hundreds of requests on one core, on threads, and on a pool of processes \
that receive and return every byte through pipes, whose cost is measured apart. Then compresses \
a large text in independent blocks on every core (as pbzip2 does) and shows what corrupt or \
truncated input does."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Size of the generated book in kB (1000 bytes) [default: 250, or 50 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    text_kb: Option<usize>,
    /// Decompression requests [default: 300 as in the lecture, or 30 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 10_000))]
    requests: Option<usize>,
    /// Threads, and worker processes in the pool [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// Size of the large text compressed in parallel blocks, in MB [default: 16, or 2 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 256))]
    large_mb: Option<usize>,
    /// Block size for parallel compression, in kB [default: 900, bzip2's largest block, or 250 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(50, 100_000))]
    block_kb: Option<usize>,
    /// bzip2 compression level, 1 (fastest, 100 kB blocks) to 9 (best, 900 kB blocks)
    #[arg(long, value_name = "COUNT", default_value_t = 9, value_parser = course::cli::count(1, 9))]
    level: usize,
    /// A bzip2 file whose contents replace the generated book (a damaged one is refused)
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
}

/// The most output the 300 requests may produce in all: past it, memory runs short.
const OUTPUT_LIMIT: u64 = 2 << 30;
/// The largest book `--input` may hold once decompressed.
const BOOK_LIMIT: u64 = 64 << 20;

/// What the worker processes of this lesson do with a request: decompress it, or say why not.
type DecompressPool = ProcessPool<Vec<u8>, Result<Vec<u8>, String>>;

fn main() -> ExitCode {
    let args: Args = course::parse_args();
    course::run(
        course::info!("bzip2 in parallel: many requests, threads and processes"),
        &args.common,
        &args,
        |lesson| {
            // Bad input is refused before any work: a damaged file, more output than fits.
            let book = match &args.input {
                Some(path) => read_book(path)?,
                None => {
                    let kb = args.text_kb.unwrap_or(lesson.pick(50, 250));
                    workloads::text::generate(lesson.seed(), kb * 1000).into_bytes()
                }
            };
            let n_requests = args.requests.unwrap_or(lesson.pick(30, 300));
            let n_workers = args.workers.unwrap_or(lesson.machine().logical_cores);
            let large_bytes = args.large_mb.unwrap_or(lesson.pick(2, 16)) * 1_000_000;
            let block_bytes = args.block_kb.unwrap_or(lesson.pick(250, 900)) * 1000;
            let level = args.level as u32;
            let output = book.len() as u64 * n_requests as u64;
            if output > OUTPUT_LIMIT {
                return Err(course::usage_error(format!(
                    "{n_requests} requests of a {} book would decompress to {} in all; the limit here is {} (lower --requests or --text-kb)",
                    format::bytes(book.len() as u64),
                    format::bytes(output),
                    format::bytes(OUTPUT_LIMIT)
                )));
            }
            lesson.param("book_bytes", book.len());
            lesson.param("requests", n_requests);
            lesson.param("workers", n_workers);
            lesson.param("large_bytes", large_bytes);
            lesson.param("block_bytes", block_bytes);

            let compressed = a_book_compressed(lesson, &book, args.input.as_deref(), level)?;
            let (mut pool, decompression) =
                decompressing_many_requests(lesson, &book, &compressed, n_requests, n_workers)?;
            what_moving_bytes_costs(lesson, &book, &compressed, n_requests, n_workers, &decompression)?;
            compressing_in_blocks(lesson, large_bytes, block_bytes, level, n_workers)?;
            when_the_bytes_are_wrong(lesson, &mut pool, &book, &compressed)?;
            pool.shutdown()?;
            Ok(())
        },
    )
}

/// Section 1: the book, its compression ratio, and the lossless check.
fn a_book_compressed(lesson: &Lesson, book: &[u8], input: Option<&Path>, level: u32) -> anyhow::Result<Vec<u8>> {
    lesson.section("A book, compressed and checked");
    match input {
        Some(path) => say!(lesson, "  The book: the contents of {}.", path.display()),
        None => say!(
            lesson,
            "  The book: {} of generated English-like text (seed {}); the lecture used Huckleberry Finn, about 600 kB.",
            format::bytes(book.len() as u64),
            lesson.seed()
        ),
    }
    // Each timed after one unmeasured warm-up run (the first run also pays for page faults
    // and cold caches), then the median of a few: what one request costs in section 2.
    let runs = lesson.pick(3, 5);
    let (mut compressed, compressing) = timing::repeat(1, runs, || codec::compress(book, level));
    let compressed = compressed.pop().unwrap_or_default();
    let (restored, decompressing) = timing::repeat(1, runs, || codec::decompress(&compressed, book.len()));
    let lossless = !restored.is_empty() && restored.iter().all(|restored| restored.as_deref() == Ok(book));
    let (compressing, decompressing) = (compressing.median(), decompressing.median());
    let ratio = compressed.len() as f64 / book.len() as f64;

    let mut table = Table::new(&["", ""]).left(1);
    table.row(["original".to_string(), format::bytes(book.len() as u64)]);
    table.row([
        format!("compressed (level {level})"),
        format!(
            "{} ({} of the original)",
            format::bytes(compressed.len() as u64),
            format::percent(ratio)
        ),
    ]);
    table.row([
        format!("compressing took (median of {runs})"),
        format!(
            "{} ({})",
            format::duration(compressing.wall),
            format::throughput(book.len() as u64, compressing.wall)
        ),
    ]);
    table.row([
        format!("decompressing took (median of {runs})"),
        format!(
            "{} ({} of output)",
            format::duration(decompressing.wall),
            format::throughput(book.len() as u64, decompressing.wall)
        ),
    ]);
    table.row([
        "decompressed == original".to_string(),
        if lossless { "yes, byte for byte" } else { "NO" }.to_string(),
    ]);
    lesson.table(&table);
    lesson.figure("book_bytes", book.len());
    lesson.figure("compressed_bytes", compressed.len());
    lesson.figure("compression_ratio", ratio);
    lesson.figure("lossless", lossless);
    lesson.figure("timed_runs", runs);
    lesson.figure("compress", compressing);
    lesson.figure("decompress", decompressing);
    if !lossless {
        anyhow::bail!("the book did not survive compression and decompression unchanged");
    }
    lesson.notice(&format!(
        "The book shrinks to {} of its size (the lecture's to about 27%) and comes back exactly. One decompression costs {} of pure computation: hundreds of requests make a CPU-bound job.",
        format::percent(ratio),
        format::duration(decompressing.wall)
    ));
    Ok(compressed)
}

/// Section 2: the lecture's job, 300 requests, on one core, on threads, on processes.
fn decompressing_many_requests(
    lesson: &Lesson,
    book: &[u8],
    compressed: &[u8],
    n_requests: usize,
    n_workers: usize,
) -> anyhow::Result<(DecompressPool, ComparisonReport)> {
    lesson.section("Decompressing many requests: one core, threads, processes");
    let requests: Vec<&[u8]> = vec![compressed; n_requests];
    say!(
        lesson,
        "  {n_requests} requests, each the compressed book ({}), each decompressed to {}.",
        format::bytes(compressed.len() as u64),
        format::bytes(book.len() as u64)
    );
    say!(
        lesson,
        "  Threads share this process's memory: a request is read where it lies, a result is handed over by pointer."
    );
    say!(
        lesson,
        "  The process pool's workers share nothing: each request is copied into a pipe, and each result copied back."
    );
    let runs = lesson.pick(1, 2);
    let size_hint = book.len();
    let check = |outputs: &Vec<Result<Vec<u8>, String>>| unpacked(outputs, book);
    let mut comparison = Comparison::new(format!("bzip2 decompression of {n_requests} requests"));

    let (answers, measured, _) = measure_runs(runs, || decompress_sequential(&requests, size_hint), check);
    let (identical, _, _) = answers[0];
    comparison.add_measured("sequential", 1, answers, measured);
    let (answers, measured, _) = measure_runs(runs, || decompress_on_threads(&requests, size_hint, n_workers), check);
    comparison.add_measured(format!("{n_workers} threads"), n_workers, answers, measured);

    // The pool is started now, while the threads above have ended: fork copies only the
    // calling thread, so the workers are copies of this process as it is at this moment,
    // the book included.
    let (pool, starting) = timing::measure(|| {
        ProcessPool::start(n_workers, move |request: Vec<u8>| {
            codec::decompress(&request, size_hint)
        })
    });
    let mut pool = pool?;
    let mut answers = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..runs {
        // Chunk size 1, as ProcessPoolExecutor.map's default: one request per message.
        let (outputs, measurement) = pool.measured_map(requests.iter().copied(), 1)?;
        answers.push(check(&outputs));
        samples.push(measurement);
    }
    comparison.add_measured(format!("{n_workers} processes"), n_workers, answers, Runs { samples });
    let report = lesson.compare(comparison)?;

    if identical != n_requests {
        anyhow::bail!("only {identical} of {n_requests} requests decompressed to the book");
    }
    say!(lesson);
    say!(lesson, "  Throughput (decompressed bytes per second):");
    let total_out = book.len() as u64 * n_requests as u64;
    let mut throughput = serde_json::Map::new();
    for row in &report.rows {
        let rate = format::throughput(total_out, Duration::from_secs_f64(row.median_s));
        say!(lesson, "    {:<14} {rate}", row.name);
        throughput.insert(
            row.name.clone(),
            (total_out as f64 / row.median_s.max(1e-12) / 1e6).into(),
        );
    }
    say!(
        lesson,
        "  Starting the {n_workers} worker processes took {} (not counted above: the pool is reused).",
        format::duration(starting.wall)
    );
    let pool_row = &report.rows[2];
    say!(
        lesson,
        "  The workers are not reaped between runs, so the kernel has not charged their CPU to this process yet;"
    );
    say!(
        lesson,
        "  each worker reports its own CPU clock with its results, which is how the processes row counts {:.2} cores.",
        pool_row.cores_used
    );
    lesson.figure("requests_identical_to_book", identical);
    lesson.figure("decompressed_bytes", total_out);
    lesson.figure("throughput_mb_s", throughput);
    lesson.figure("pool_start", starting);
    let speedup = |row: usize| format::times(report.rows[row].speedup);
    lesson.notice(&format!(
        "Every request came back identical to the book in all three versions. Decompression is pure computation, so both kinds of worker can use a core each: {} with threads, {} with processes here. Without a GIL, Rust's threads need no copies; the processes copy every byte twice.",
        speedup(1),
        speedup(2)
    ));
    Ok((pool, report))
}

/// Section 3: the cost of moving bytes between processes, measured without the decompression.
fn what_moving_bytes_costs(
    lesson: &Lesson,
    book: &[u8],
    compressed: &[u8],
    n_requests: usize,
    n_workers: usize,
    decompression: &ComparisonReport,
) -> anyhow::Result<()> {
    lesson.section("What the process pool pays to move bytes");
    let requests: Vec<&[u8]> = vec![compressed; n_requests];
    let results: Vec<&[u8]> = vec![book; n_requests];

    // 1. Turning requests and results into bytes and back, in this process alone.
    let runs = lesson.pick(1, 3);
    let (_, serializing) = timing::repeat(0, runs, || {
        serialize_round_trip(&requests) + serialize_round_trip(&results)
    });
    // 2. Through real pipes to real workers, with no bzip2: each worker answers each request
    //    with a copy of the book, the same bytes a decompression would return.
    let mut echo = ProcessPool::start(n_workers, |_request: Vec<u8>| book.to_vec())?;
    let (_, piping, _) = measure_runs(
        runs,
        || echo.map(requests.iter().copied(), 1),
        |outputs| outputs.as_ref().map(Vec::len).unwrap_or(0),
    );
    let moved = echo.last_map().clone();
    echo.shutdown()?;

    let pool_s = decompression.rows[2].median_s;
    let pool_time = Duration::from_secs_f64(pool_s);
    let share = |part: Duration| format::percent(timing::ratio(part, pool_time));
    let serializing = serializing.median().wall;
    let piping = piping.median().wall;
    let mut table = Table::new(&["step", "time", "share of the process pool's time"]);
    table.row([
        "encode + decode every request and result (one process)".to_string(),
        format::duration(serializing),
        share(serializing),
    ]);
    table.row([
        format!("the same bytes through {n_workers} workers' pipes, no bzip2"),
        format::duration(piping),
        share(piping),
    ]);
    table.row([
        "decompressing on the process pool (section 2)".to_string(),
        format::seconds(pool_s),
        "100%".to_string(),
    ]);
    lesson.table(&table);
    say!(
        lesson,
        "  Bytes moved per run: {} of requests to the workers, {} of results back ({} through the pipes).",
        format::bytes(moved.bytes_sent),
        format::bytes(moved.bytes_received),
        format::throughput(moved.bytes_sent + moved.bytes_received, piping)
    );
    say!(
        lesson,
        "  The threads moved none: they read the request in place and handed each result over by pointer."
    );
    lesson.figure("serialize_round_trip_s", serializing.as_secs_f64());
    lesson.figure("pipe_round_trip_s", piping.as_secs_f64());
    lesson.figure("bytes_to_workers", moved.bytes_sent);
    lesson.figure("bytes_from_workers", moved.bytes_received);
    lesson.figure("shipping_share_of_pool_time", timing::ratio(piping, pool_time));
    lesson.notice(&format!(
        "Moving the bytes took {} of the process pool's time here: each request carries milliseconds of decompression for every few hundred kB it moves. With less work per byte (lesson 06's word count) the copies cost more than the work itself.",
        format::percent(timing::ratio(piping, pool_time))
    ));
    Ok(())
}

/// Section 4: pbzip2's idea, one large input compressed as independent blocks on every core.
fn compressing_in_blocks(
    lesson: &Lesson,
    large_bytes: usize,
    block_bytes: usize,
    level: u32,
    n_threads: usize,
) -> anyhow::Result<()> {
    lesson.section("The other direction: compressing in parallel blocks, as pbzip2 does");
    let large = workloads::text::generate(lesson.seed().wrapping_add(1), large_bytes).into_bytes();
    let n_blocks = large.len().div_ceil(block_bytes);
    say!(
        lesson,
        "  {} of text cut into {n_blocks} blocks of {}: each block becomes a complete bzip2 stream,",
        format::bytes(large.len() as u64),
        format::bytes(block_bytes as u64)
    );
    say!(
        lesson,
        "  and the streams are written one after another: a multi-stream file that `bzip2 -d` reads whole."
    );
    let expected = (large.len() as u64, codec::fingerprint(&large));
    // The answer of every version: what a standard multi-stream decoder reads back from it.
    let read_back = |compressed: &Vec<u8>| {
        codec::decompress_all_streams(compressed, large.len() as u64 + 1)
            .map(|bytes| (bytes.len() as u64, codec::fingerprint(&bytes)))
    };
    let mut comparison = Comparison::new(format!("bzip2 compression of {}", format::bytes(large.len() as u64)));
    let (answers, measured, one_stream) = measure_runs(1, || codec::compress(&large, level), read_back);
    comparison.add_measured("one stream", 1, answers, measured);
    let (answers, measured, blocks_in_order) =
        measure_runs(1, || compress_blocks_sequential(&large, block_bytes, level), read_back);
    comparison.add_measured("blocks, 1 thread", 1, answers, measured);
    let (answers, measured, blocks_in_parallel) = measure_runs(
        1,
        || compress_blocks_parallel(&large, block_bytes, level, n_threads),
        read_back,
    );
    comparison.add_measured(format!("blocks, {n_threads} threads"), n_threads, answers, measured);
    let report = lesson.compare(comparison)?;
    let (one_stream, blocks_in_order, blocks_in_parallel) = (
        one_stream.unwrap_or_default(),
        blocks_in_order.unwrap_or_default(),
        blocks_in_parallel.unwrap_or_default(),
    );

    let decoded = read_back(&blocks_in_parallel);
    let round_trip = decoded.as_ref().is_ok_and(|answer| *answer == expected);
    let identical = blocks_in_parallel == blocks_in_order;
    let first_stream_only = codec::decompress_first_stream(&blocks_in_parallel).map_or(0, |bytes| bytes.len());
    say!(lesson);
    say!(
        lesson,
        "  The parallel file decodes to the input with a multi-stream decoder: {}; it is byte for byte the file the 1-thread block version wrote: {}.",
        if round_trip { "yes" } else { "NO" },
        if identical { "yes" } else { "NO" }
    );
    say!(
        lesson,
        "  Size: {} as one stream, {} as {n_blocks} streams ({} larger: each stream has its own header and checksum).",
        format::bytes(one_stream.len() as u64),
        format::bytes(blocks_in_parallel.len() as u64),
        format::percent(blocks_in_parallel.len() as f64 / one_stream.len().max(1) as f64 - 1.0)
    );
    say!(
        lesson,
        "  A decoder that stops after the first stream reads only {} of it: read such files with a multi-stream decoder.",
        format::bytes(first_stream_only as u64)
    );
    lesson.figure("blocks", n_blocks);
    lesson.figure("multi_stream_round_trip", round_trip);
    lesson.figure("parallel_identical_to_sequential_blocks", identical);
    lesson.figure("one_stream_bytes", one_stream.len());
    lesson.figure("blocks_bytes", blocks_in_parallel.len());
    lesson.figure("first_stream_only_bytes", first_stream_only);
    if !round_trip || !identical {
        anyhow::bail!("the block-compressed file does not decode back to its input");
    }
    let speedup = report.rows.last().map_or(0.0, |row| row.speedup);
    lesson.notice(&format!(
        "Independent blocks turn one long job into {n_blocks} small ones that any core can take: {} here, for a file a little larger. bzip2 already works in blocks, so little compression is lost.",
        format::times(speedup)
    ));
    Ok(())
}

/// Section 5: damaged input, in this process and through the pool.
fn when_the_bytes_are_wrong(
    lesson: &Lesson,
    pool: &mut DecompressPool,
    book: &[u8],
    compressed: &[u8],
) -> anyhow::Result<()> {
    lesson.section("When the bytes are wrong: corrupt and truncated input");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("intact", compressed.to_vec()),
        (
            "truncated to half its length",
            codec::truncated(compressed, compressed.len() / 2),
        ),
        ("4 bytes flipped in the middle", codec::corrupted(compressed)),
        ("plain text, not bzip2", book[..book.len().min(1000)].to_vec()),
        ("empty", Vec::new()),
    ];
    let through_pool = pool.map(cases.iter().map(|(_, bytes)| bytes.as_slice()), 1)?;
    let mut table = Table::new(&["request", "size", "outcome (the same in this process and in a worker)"]).left(2);
    let mut outcomes = serde_json::Map::new();
    for ((name, bytes), from_worker) in cases.iter().zip(&through_pool) {
        let here = codec::decompress(bytes, book.len());
        let outcome = match (&here, from_worker) {
            (Ok(output), Ok(_)) if output == book => "decompressed, identical to the book".to_string(),
            (Ok(_), Ok(_)) => "decompressed, but not to the book".to_string(),
            (Err(why), Err(_)) => format!("error: {why}"),
            _ => "the worker and this process disagree".to_string(),
        };
        let agree = match (&here, from_worker) {
            (Ok(a), Ok(b)) => a == b,
            (Err(a), Err(b)) => a == b,
            _ => false,
        };
        if !agree {
            anyhow::bail!("'{name}': a worker process and this process decompressed it differently");
        }
        table.row([name.to_string(), format::bytes(bytes.len() as u64), outcome.clone()]);
        outcomes.insert(name.to_string(), outcome.into());
    }
    lesson.table(&table);
    say!(
        lesson,
        "  All {} requests were answered, and the pool's {} workers are still alive: a bad request is an error value sent back, not a crash.",
        cases.len(),
        pool.n_workers()
    );
    say!(
        lesson,
        "  A damaged file given with --input FILE is refused the same way: one line naming the problem, exit status 2."
    );
    lesson.figure("damaged_input_outcomes", outcomes);
    lesson.figure(
        "damaged_requests_rejected",
        through_pool.iter().filter(|result| result.is_err()).count(),
    );
    lesson.notice(
        "bzip2 checks every block with a CRC and every stream with an end marker, so damage is detected, not decompressed into garbage. Handle it as a value: one bad request must not bring down a pool.",
    );
    Ok(())
}

/// Decompresses every request one after another on this thread.
fn decompress_sequential(requests: &[&[u8]], size_hint: usize) -> Vec<Result<Vec<u8>, String>> {
    requests
        .iter()
        .map(|request| codec::decompress(request, size_hint))
        .collect()
}

/// The same, on `n_threads` threads that share the requests and hand back results by pointer.
fn decompress_on_threads(requests: &[&[u8]], size_hint: usize, n_threads: usize) -> Vec<Result<Vec<u8>, String>> {
    map_on_threads(requests, n_threads, |request| codec::decompress(request, size_hint))
}

/// Compresses `input` as independent bzip2 streams of `block_bytes` each, one after another.
fn compress_blocks_sequential(input: &[u8], block_bytes: usize, level: u32) -> Vec<u8> {
    input
        .chunks(block_bytes)
        .flat_map(|block| codec::compress(block, level))
        .collect()
}

/// The same streams, compressed on `n_threads` threads at once and joined in order (pbzip2).
fn compress_blocks_parallel(input: &[u8], block_bytes: usize, level: u32, n_threads: usize) -> Vec<u8> {
    let blocks: Vec<&[u8]> = input.chunks(block_bytes).collect();
    map_on_threads(&blocks, n_threads, |block| codec::compress(block, level)).concat()
}

/// `work` on every item on `n_threads` scoped threads, each taking the next item nobody has
/// taken yet; the results come back in item order.
fn map_on_threads<T: Sync, R: Send>(items: &[T], n_threads: usize, work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let next_item = AtomicUsize::new(0);
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n_threads.clamp(1, items.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // Relaxed is enough: the counter only hands out distinct item numbers;
                        // the items are read-only and the results travel back through `join`.
                        let index = next_item.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(index) else {
                            return done;
                        };
                        done.push((index, work(item)));
                    }
                })
            })
            .collect();
        for thread in threads {
            let done = thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (index, result) in done {
                results[index] = Some(result);
            }
        }
    });
    results.into_iter().flatten().collect()
}

/// Encodes every item as a process pool would send it, decodes it back; returns bytes handled.
fn serialize_round_trip(items: &[&[u8]]) -> usize {
    let mut message = Vec::new();
    let mut handled = 0;
    for item in items {
        message.clear();
        EncodeAs::<Vec<u8>>::encode_as(item, &mut message);
        let rebuilt = Vec::<u8>::decode(&mut &message[..]).map_or(0, |bytes| bytes.len());
        handled += std::hint::black_box(rebuilt);
    }
    handled
}

/// Runs `work` `runs` times, each measured; keeps only `summarize`'s answer of each run (so
/// that hundreds of megabytes of output do not pile up) and the last run's output.
fn measure_runs<T, A>(
    runs: usize,
    mut work: impl FnMut() -> T,
    summarize: impl Fn(&T) -> A,
) -> (Vec<A>, Runs, Option<T>) {
    let mut answers = Vec::new();
    let mut samples: Vec<Measurement> = Vec::new();
    let mut last = None;
    for _ in 0..runs.max(1) {
        let (output, measurement) = timing::measure(&mut work);
        answers.push(summarize(&output));
        samples.push(measurement);
        last = Some(output);
    }
    (answers, Runs { samples }, last)
}

/// What a version of the 300 requests computed: (requests identical to the book, bytes out,
/// errors). Every version must give the same, with every request identical.
fn unpacked(outputs: &[Result<Vec<u8>, String>], book: &[u8]) -> (usize, u64, usize) {
    let identical = outputs.iter().filter(|output| output.as_deref() == Ok(book)).count();
    let bytes = outputs.iter().flatten().map(|output| output.len() as u64).sum();
    let errors = outputs.iter().filter(|output| output.is_err()).count();
    (identical, bytes, errors)
}

/// The book from a bzip2 file given with `--input`, or a one-line reason why it cannot be used.
fn read_book(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = path.display();
    let refuse = |why: String| course::usage_error(format!("{name}: {why}"));
    let metadata = std::fs::metadata(path).map_err(|error| refuse(format!("cannot read it ({error})")))?;
    if !metadata.is_file() {
        return Err(refuse("not a file".to_string()));
    }
    if metadata.len() > BOOK_LIMIT {
        return Err(refuse(format!(
            "{} is more than this lesson's {} limit",
            format::bytes(metadata.len()),
            format::bytes(BOOK_LIMIT)
        )));
    }
    let bytes = std::fs::read(path).map_err(|error| refuse(format!("cannot read it ({error})")))?;
    let book = codec::decompress_all_streams(&bytes, BOOK_LIMIT)
        .map_err(|why| refuse(format!("not a usable bzip2 file: {why}")))?;
    if book.is_empty() {
        return Err(refuse(
            "it decompresses to nothing: there is no book to work with".to_string(),
        ));
    }
    Ok(book)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_sequential_decompress_the_same() {
        let book = workloads::text::generate(5, 30_000).into_bytes();
        let compressed = codec::compress(&book, 9);
        let requests = vec![compressed.as_slice(); 9];
        let sequential = decompress_sequential(&requests, book.len());
        assert_eq!(unpacked(&sequential, &book), (9, 9 * book.len() as u64, 0));
        for threads in [1, 2, 5, 20] {
            assert_eq!(decompress_on_threads(&requests, book.len(), threads), sequential);
        }
    }

    #[test]
    fn parallel_blocks_are_the_sequential_blocks_and_decode_to_the_input() {
        let input = workloads::text::generate(6, 700_000).into_bytes();
        let in_order = compress_blocks_sequential(&input, 100_000, 9);
        for threads in [1, 3, 8] {
            assert_eq!(compress_blocks_parallel(&input, 100_000, 9, threads), in_order);
        }
        let decoded = codec::decompress_all_streams(&in_order, 1 << 30).unwrap();
        assert_eq!(decoded, input);
        // Only the first 100 kB come back from a decoder that reads one stream.
        assert_eq!(codec::decompress_first_stream(&in_order).unwrap(), &input[..100_000]);
    }

    #[test]
    fn map_on_threads_keeps_item_order() {
        let items: Vec<u64> = (0..100).collect();
        assert_eq!(
            map_on_threads(&items, 7, |n| n * 2),
            (0..100).map(|n| n * 2).collect::<Vec<_>>()
        );
        assert!(map_on_threads(&[] as &[u64], 4, |n| *n).is_empty());
    }

    #[test]
    fn serializing_handles_every_byte() {
        let a = vec![1u8; 1000];
        let b = vec![2u8; 10];
        assert_eq!(serialize_round_trip(&[&a, &b]), 1010);
    }
}
