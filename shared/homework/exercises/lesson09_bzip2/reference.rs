//! Exercise: compress blocks in parallel
//!
//! The reference solution.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};

/// One block as one complete bzip2 stream, at the best compression (900 kB bzip2 blocks).
pub fn compress_block(block: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    // Writing into a Vec cannot fail, and bzip2 reports no error while compressing.
    encoder.write_all(block).expect("compressing into memory cannot fail");
    encoder.finish().expect("compressing into memory cannot fail")
}

/// `input` compressed as independent streams of `block_bytes` each (at least 1), on up to
/// `n_threads` threads: a multi-stream bzip2 file, as pbzip2 writes it.
pub fn compress_in_blocks(input: &[u8], block_bytes: usize, n_threads: usize) -> Vec<u8> {
    compress_in_blocks_with(input, block_bytes, n_threads, compress_block)
}

/// The same with `compress` turning each block into its stream (the checks pass their own, to
/// see which blocks it is given and how many run at once).
pub fn compress_in_blocks_with(
    input: &[u8],
    block_bytes: usize,
    n_threads: usize,
    compress: impl Fn(&[u8]) -> Vec<u8> + Sync,
) -> Vec<u8> {
    let mut blocks: Vec<&[u8]> = input.chunks(block_bytes.max(1)).collect();
    if blocks.is_empty() {
        // An empty file is one stream holding nothing: zero streams is not bzip2 at all.
        blocks.push(&[]);
    }
    let next_block = AtomicUsize::new(0);
    let mut streams: Vec<Vec<u8>> = vec![Vec::new(); blocks.len()];
    std::thread::scope(|scope| {
        // No more threads than blocks: a thread with nothing to take would only start and stop.
        let workers: Vec<_> = (0..n_threads.clamp(1, blocks.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // Relaxed is enough: the counter only hands out distinct block numbers;
                        // the blocks are read-only and the streams travel back through `join`.
                        let index = next_block.fetch_add(1, Ordering::Relaxed);
                        let Some(block) = blocks.get(index) else {
                            return done;
                        };
                        // The crux of pbzip2: this block's stream depends on this block alone,
                        // so no thread ever waits for another while compressing.
                        done.push((index, compress(block)));
                    }
                })
            })
            .collect();
        for worker in workers {
            let done = worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            for (index, stream) in done {
                streams[index] = stream;
            }
        }
    });
    // Blocks finish in any order; the file is their streams in block order.
    streams.concat()
}
