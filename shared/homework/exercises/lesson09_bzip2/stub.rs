//! Exercise: compress blocks in parallel
//!
//! Lesson 09 compressed a large text the way pbzip2 does: cut into blocks, each block
//! compressed as a complete bzip2 stream of its own, the streams written one after another.
//! A block never refers to another, so the blocks can be compressed on different cores at the
//! same time, and any multi-stream decoder (`bzip2 -d`, `bzip2::read::MultiBzDecoder`) reads
//! the file back whole. Complete `compress_in_blocks_with` so that:
//! - the input is cut into blocks of `block_bytes` consecutive bytes (the last block may be
//!   shorter), and `compress` is called exactly once per block, on that block alone;
//! - the streams are joined in block order, so that a multi-stream decoder gives back exactly
//!   the input, and a decoder that stops after the first stream gives back the first block;
//! - an empty input still makes a valid file: one stream of the empty block (what `bzip2`
//!   writes for an empty file), not zero bytes, which no decoder accepts;
//! - several blocks are compressed at the same time, on up to `n_threads` threads, never more
//!   threads at once than that however many blocks there are;
//! - the threads share the blocks out as they go, from one queue: a thread that has finished a
//!   block takes the next one nobody has taken yet, so that a slow block holds up no other.
//!   (Waves, `n_threads` blocks at a time each joined before the next, and a fixed share of
//!   blocks decided in advance for each thread both make the other blocks wait behind a slow
//!   one.)
//!
//! Check your work with `cargo homework 09`; stuck, `cargo homework hint 09` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stub below is filled in

use std::io::Write;

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
    todo!("cut input into blocks, compress them on up to n_threads threads, and join the streams in block order")
}
