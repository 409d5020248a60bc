//! bzip2 in parallel, real library work. First the lecture's job: many requests, each a
//! compressed book to decompress, done one after another, on threads that share this
//! process's memory, and on a pool of worker processes that receive every request and return
//! every result as bytes through pipes (Python's `ProcessPoolExecutor`). Then the other
//! direction: one large input compressed as independent blocks on every core, as pbzip2 does.
//!
//! The decompressing versions have one signature: the requests and the workers (a number of
//! threads, or a pool of processes already started), one reply per request in request order.

use crate::codec::describe;
use procpool::{PoolError, ProcessPool};
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// One request's reply: the decompressed bytes, or why they could not be decompressed.
pub type Reply = Result<Vec<u8>, String>;

/// Worker processes that decompress the requests sent to them.
pub type DecompressPool = ProcessPool<Vec<u8>, Reply>;

/// One request's work: a bzip2 stream decompressed, as Python's `bz2.decompress` does. Damaged
/// bytes (truncated, corrupt, not bzip2) are a reply saying so, never a panic.
pub fn decompress(request: &[u8]) -> Reply {
    let mut output = Vec::new();
    bzip2::read::BzDecoder::new(request)
        .read_to_end(&mut output)
        .map_err(|error| describe(&error))?;
    Ok(output)
}

/// `data` compressed as one bzip2 stream at `level` (1 to 9: blocks of level × 100 kB).
pub fn compress(data: &[u8], level: u32) -> Vec<u8> {
    let level = bzip2::Compression::try_new(level).unwrap_or(bzip2::Compression::best());
    let mut encoder = bzip2::write::BzEncoder::new(Vec::with_capacity(data.len() / 3), level);
    // Writing into a Vec cannot fail, and bzip2 reports no error while compressing.
    encoder.write_all(data).expect("compressing into memory cannot fail");
    encoder.finish().expect("compressing into memory cannot fail")
}

/// Every request, one after another on this thread.
pub fn decompress_sequential(requests: &[&[u8]], _n_workers: usize) -> io::Result<Vec<Reply>> {
    Ok(requests.iter().map(|request| decompress(request)).collect())
}

/// The same on `n_threads` threads. They share this process's memory: each request is read
/// where it lies, and each reply handed back by pointer. Rust has no global interpreter lock,
/// so the threads decompress at the same time.
pub fn decompress_on_threads(requests: &[&[u8]], n_threads: usize) -> io::Result<Vec<Reply>> {
    map_on_threads(requests, n_threads, |request| decompress(request)) // ← the only change
}

/// Forks `n_workers` worker processes that decompress what they are sent. Each is a copy of
/// this process as it is now; fork is only safe while this process has a single thread.
pub fn start_decompress_pool(n_workers: usize) -> Result<DecompressPool, PoolError> {
    ProcessPool::start(n_workers, |request: Vec<u8>| decompress(&request))
}

/// The same on a pool of worker processes, which share nothing: each request is copied into a
/// pipe, rebuilt in a worker, and its reply copied back the same way. One request per
/// message, as `ProcessPoolExecutor.map` sends them by default.
pub fn decompress_on_process_pool(requests: &[&[u8]], pool: &mut DecompressPool) -> Result<Vec<Reply>, PoolError> {
    pool.map(requests.iter().copied(), 1) // ← items in, replies out, through pipes
}

/// `input` as independent bzip2 streams of `block_bytes` each, one after another: a file that
/// any multi-stream decoder (`bzip2 -d`) reads back whole.
pub fn compress_in_blocks_sequential(
    input: &[u8],
    block_bytes: usize,
    level: u32,
    _n_threads: usize,
) -> io::Result<Vec<u8>> {
    Ok(blocks(input, block_bytes)
        .into_iter()
        .flat_map(|block| compress(block, level))
        .collect())
}

/// The same streams compressed on `n_threads` threads at once, joined in block order: pbzip2's
/// idea. A block's stream depends on that block alone, so no thread ever waits for another.
pub fn compress_in_blocks(input: &[u8], block_bytes: usize, level: u32, n_threads: usize) -> io::Result<Vec<u8>> {
    let streams = map_on_threads(&blocks(input, block_bytes), n_threads, |block| compress(block, level))?; // ← in parallel
    Ok(streams.concat())
}

/// `input` cut into blocks of `block_bytes`. An empty input is one empty block: a file of zero
/// streams would not be bzip2 at all.
fn blocks(input: &[u8], block_bytes: usize) -> Vec<&[u8]> {
    let blocks: Vec<&[u8]> = input.chunks(block_bytes.max(1)).collect();
    if blocks.is_empty() { vec![input] } else { blocks }
}

/// `work` on every item on `n_threads` scoped threads, each taking the next item nobody has
/// taken yet; the results come back in item order. A thread the machine refuses is an error
/// (the threads already started finish first).
pub fn map_on_threads<T: Sync, R: Send>(
    items: &[T],
    n_threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> io::Result<Vec<R>> {
    let next_item = AtomicUsize::new(0);
    let (next_item, work) = (&next_item, &work);
    let done = thread::scope(|scope| {
        let mut threads = Vec::with_capacity(n_threads);
        for _ in 0..n_threads.clamp(1, items.len().max(1)) {
            threads.push(thread::Builder::new().spawn_scoped(scope, move || {
                let mut done = Vec::new();
                loop {
                    // Relaxed is enough: the counter only hands out distinct item numbers; the
                    // items are read-only and the results travel back through `join`.
                    let index = next_item.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(index) else {
                        return done;
                    };
                    done.push((index, work(item)));
                }
            })?);
        }
        io::Result::Ok(
            threads
                .into_iter()
                .flat_map(|thread| thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect::<Vec<_>>(),
        )
    })?;
    // Items finish in any order; the results go back in item order.
    let mut results: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    for (index, result) in done {
        results[index] = Some(result);
    }
    Ok(results.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_and_sequential_decompress_the_same() {
        let book = workloads::text::generate(5, 30_000).into_bytes();
        let compressed = compress(&book, 9);
        let requests = vec![compressed.as_slice(); 9];
        let sequential = decompress_sequential(&requests, 1).unwrap();
        assert!(sequential.iter().all(|reply| reply.as_deref() == Ok(&book[..])));
        for threads in [1, 2, 5, 20] {
            assert_eq!(decompress_on_threads(&requests, threads).unwrap(), sequential);
        }
    }

    #[test]
    fn parallel_blocks_are_the_sequential_blocks_and_decode_to_the_input() {
        let input = workloads::text::generate(6, 700_000).into_bytes();
        let in_order = compress_in_blocks_sequential(&input, 100_000, 9, 1).unwrap();
        for threads in [1, 3, 8] {
            assert_eq!(compress_in_blocks(&input, 100_000, 9, threads).unwrap(), in_order);
        }
        let decoded = crate::codec::decompress_all_streams(&in_order, 1 << 30).unwrap();
        assert_eq!(decoded, input);
        // Only the first 100 kB come back from a decoder that reads one stream.
        assert_eq!(decompress(&in_order).unwrap(), &input[..100_000]);
        let empty = compress_in_blocks(&[], 100_000, 9, 2).unwrap();
        assert_eq!(empty, compress(&[], 9), "an empty input is one empty stream");
    }

    #[test]
    fn map_on_threads_keeps_item_order() {
        let items: Vec<u64> = (0..100).collect();
        assert_eq!(
            map_on_threads(&items, 7, |n| n * 2).unwrap(),
            (0..100).map(|n| n * 2).collect::<Vec<_>>()
        );
        assert!(map_on_threads(&[] as &[u64], 4, |n| *n).unwrap().is_empty());
    }

    #[test]
    fn damaged_requests_are_replies_naming_the_damage() {
        let text = workloads::text::generate(4, 50_000);
        let compressed = compress(text.as_bytes(), 9);
        assert_eq!(decompress(&compressed).unwrap(), text.as_bytes());
        let cut = decompress(&compressed[..compressed.len() / 2]).unwrap_err();
        assert!(cut.contains("truncated"), "{cut}");
        assert!(decompress(text.as_bytes()).unwrap_err().contains("not bzip2"));
        assert!(decompress(&[]).unwrap_err().contains("truncated"));
    }
}
