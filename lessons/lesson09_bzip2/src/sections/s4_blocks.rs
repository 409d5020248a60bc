//! Section 4: pbzip2's idea, one large input compressed as independent blocks on every core.

use crate::Params;
use crate::answers::ReadBack;
use crate::codec;
use crate::parallel_bzip2::{compress, compress_in_blocks, compress_in_blocks_sequential};
use course::timing::{self, Comparison, format};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n, block_bytes, level) = (p.n_workers, p.block_bytes, p.level);
    let large = workloads::text::generate(lesson.seed().wrapping_add(1), p.large_bytes).into_bytes();
    let n_blocks = large.len().div_ceil(block_bytes);
    say!(
        lesson,
        "  {} of text cut into {n_blocks} blocks of {}: each block becomes a complete bzip2 stream, \
         and the streams are written one after another: a multi-stream file that `bzip2 -d` reads \
         whole.",
        format::bytes(large.len() as u64),
        format::bytes(block_bytes as u64)
    );
    let expected = ReadBack(Ok((large.len() as u64, codec::fingerprint(&large))));
    // The answer of every version: what a standard multi-stream decoder reads back from its
    // file, worked out after the timed part. The last file of each version is kept.
    let limit = large.len() as u64 + 1;
    let mut files: [Vec<u8>; 3] = Default::default();
    let [one_stream, blocks_in_order, blocks_in_parallel] = &mut files;
    let mut comparison = Comparison::new(format!("bzip2 compression of {}", format::bytes(large.len() as u64)));
    comparison.try_variant_measured("one stream", 1, || {
        let (file, measurement) = timing::measure(|| compress(&large, level));
        *one_stream = file;
        std::io::Result::Ok((ReadBack::of(one_stream, limit), measurement))
    })?;
    comparison.try_variant_measured("blocks, 1 thread", 1, || {
        let (file, measurement) = timing::measure(|| compress_in_blocks_sequential(&large, block_bytes, level, 1));
        *blocks_in_order = file?;
        std::io::Result::Ok((ReadBack::of(blocks_in_order, limit), measurement))
    })?;
    comparison.try_variant_measured(format!("blocks, {n} threads"), n, || {
        let (file, measurement) = timing::measure(|| compress_in_blocks(&large, block_bytes, level, n));
        *blocks_in_parallel = file?;
        std::io::Result::Ok((ReadBack::of(blocks_in_parallel, limit), measurement))
    })?;
    let report = lesson.compare(comparison)?;
    let [one_stream, blocks_in_order, blocks_in_parallel] = &files;

    let round_trip = ReadBack::of(blocks_in_parallel, limit) == expected;
    let identical = blocks_in_parallel == blocks_in_order;
    let first_stream_only = codec::decompress_first_stream(blocks_in_parallel).map_or(0, |bytes| bytes.len());
    lesson.checked(
        round_trip && identical,
        format!(
            "the parallel file decodes to the input: {}; it is byte for byte the 1-thread block file: {}",
            if round_trip { "yes" } else { "NO" },
            if identical { "yes" } else { "NO" }
        ),
    );
    say!(
        lesson,
        "  Size: {} as one stream, {} as {n_blocks} streams ({} larger: each stream has its own \
         header and checksum). A decoder that stops after the first stream reads only {} of it: \
         read such files with a multi-stream decoder.",
        format::bytes(one_stream.len() as u64),
        format::bytes(blocks_in_parallel.len() as u64),
        format::percent(blocks_in_parallel.len() as f64 / one_stream.len().max(1) as f64 - 1.0),
        format::bytes(first_stream_only as u64)
    );
    lesson.figure("blocks", n_blocks);
    lesson.figure("multi_stream_round_trip", round_trip);
    lesson.figure("parallel_identical_to_sequential_blocks", identical);
    lesson.figure("one_stream_bytes", one_stream.len());
    lesson.figure("blocks_bytes", blocks_in_parallel.len());
    lesson.figure("first_stream_only_bytes", first_stream_only);
    anyhow::ensure!(
        round_trip && identical,
        "the block-compressed file does not decode back to its input"
    );
    let speedup = report.rows.last().map_or(0.0, |row| row.speedup);
    let here = if report.disturbed {
        "in this disturbed run (⚠ above)"
    } else {
        "here"
    };
    lesson.notice(&format!(
        "Independent blocks turn one long job into {n_blocks} small ones that any core can take: \
         {} {here}, for a file {} larger. bzip2 already works in blocks, so little compression is \
         lost.",
        format::times(speedup),
        format::percent(blocks_in_parallel.len() as f64 / one_stream.len().max(1) as f64 - 1.0)
    ));
    Ok(())
}
