//! Checks for lesson 09's exercise. Run them with `cargo homework 09`.
//!
//! No check prints the data it compares: a wrong file is described by its sizes and the first
//! place it differs, so that a message fits on a screen.

use lesson09_bzip2_exercise::{compress_block, compress_in_blocks, compress_in_blocks_with};
use std::io::Read;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Every stream of a multi-stream file, decoded one after another (what `bzip2 -d` does).
fn read_all_streams(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut output = Vec::new();
    bzip2::read::MultiBzDecoder::new(compressed)
        .read_to_end(&mut output)
        .map_err(|error| error.to_string())?;
    Ok(output)
}

/// Only the first stream, as a decoder that knows nothing of multi-stream files reads it.
fn read_first_stream(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut output = Vec::new();
    bzip2::read::BzDecoder::new(compressed)
        .read_to_end(&mut output)
        .map_err(|error| error.to_string())?;
    Ok(output)
}

/// What a decoder gave back against what it should have, in one line: never the bytes themselves.
fn described(got: &Result<Vec<u8>, String>, expected: &[u8]) -> String {
    match got {
        Err(error) => format!("the decoder said '{error}'"),
        Ok(bytes) if bytes.len() != expected.len() => {
            format!("{} bytes came back instead of {}", bytes.len(), expected.len())
        }
        Ok(bytes) => {
            let at = bytes.iter().zip(expected).position(|(a, b)| a != b).unwrap_or(0);
            format!("as many bytes came back, but they differ from byte {at} on (blocks out of order?)")
        }
    }
}

/// Exactly `bytes` bytes of generated text.
fn text(seed: u64, bytes: usize) -> Vec<u8> {
    let mut text = workloads::text::generate(seed, bytes + 1_000).into_bytes();
    text.truncate(bytes);
    assert_eq!(text.len(), bytes, "the generated text is too short");
    text
}

/// (input, block size, threads): one block, blocks that divide the input exactly, a last
/// block that is shorter, more threads than blocks, one thread, and last an empty input.
fn cases() -> Vec<(Vec<u8>, usize, usize)> {
    vec![
        (text(1, 5_000), 10_000, 3),
        (text(2, 100_000), 25_000, 2),
        (text(3, 100_001), 7_000, 3),
        (text(4, 30_000), 1_000, 8),
        (text(5, 20_000), 20_000, 1),
        (Vec::new(), 10_000, 2),
    ]
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn a_multi_stream_decoder_reads_back_the_exact_input() {
    for (input, block_bytes, n_threads) in cases() {
        let compressed = compress_in_blocks(&input, block_bytes, n_threads);
        let read_back = read_all_streams(&compressed);
        assert!(
            read_back.as_deref() == Ok(&input[..]),
            "{} bytes in blocks of {block_bytes} on {n_threads} threads did not come back: {}. Hint: join every block's stream, in block order; an empty input needs one stream of the empty block",
            input.len(),
            match &read_back {
                Ok(bytes) if bytes.len() == input.len() => "as many bytes came back, in another order".to_string(),
                Ok(bytes) => format!("{} bytes came back instead", bytes.len()),
                Err(error) => format!("the decoder said '{error}'"),
            }
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn every_block_is_a_complete_stream_of_its_own_in_block_order() {
    for (input, block_bytes, n_threads) in cases() {
        let compressed = compress_in_blocks(&input, block_bytes, n_threads);
        if input.is_empty() {
            assert!(
                compressed == compress_block(&[]),
                "an empty input gave {} bytes, not the {} bytes of one stream of the empty block. Hint: when input.chunks(block_bytes) yields nothing, compress &[] once",
                compressed.len(),
                compress_block(&[]).len()
            );
            continue;
        }
        // bzip2 compresses deterministically: the same block always makes the same stream, so
        // the file must be exactly the blocks' own streams, one after another.
        let blocks: Vec<&[u8]> = input.chunks(block_bytes).collect();
        let mut offset = 0;
        for (index, block) in blocks.iter().enumerate() {
            let stream = compress_block(block);
            let found = compressed.get(offset..offset + stream.len());
            assert!(
                found == Some(&stream[..]),
                "with {} bytes in blocks of {block_bytes}, stream {index} of {} is not block {index} compressed on its own. Hint: call compress once per block of input.chunks(block_bytes), and join the streams in block order",
                input.len(),
                blocks.len()
            );
            offset += stream.len();
        }
        assert_eq!(
            offset,
            compressed.len(),
            "with {} bytes in blocks of {block_bytes}, the file has {} bytes after the last block's stream. Hint: the file is the streams and nothing else",
            input.len(),
            compressed.len() - offset.min(compressed.len())
        );
        let first = read_first_stream(&compressed);
        assert!(
            first.as_deref() == Ok(blocks[0]),
            "a decoder that stops after the first stream should read exactly the first block ({} bytes), not {}. Hint: each block is compressed alone, with nothing of the others in its stream",
            blocks[0].len(),
            described(&first, blocks[0])
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn compress_is_called_once_per_block_on_that_block_alone() {
    for (input, block_bytes, n_threads) in cases() {
        // Where each call's block starts in the input, and how long it is.
        let calls = Mutex::new(Vec::new());
        compress_in_blocks_with(&input, block_bytes, n_threads, |block| {
            let start = (block.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
            calls.lock().unwrap().push((start, block.len()));
            compress_block(block)
        });
        let mut calls = calls.into_inner().unwrap();
        calls.sort();
        let expected: Vec<(usize, usize)> = if input.is_empty() {
            vec![(0, 0)]
        } else {
            (0..input.len())
                .step_by(block_bytes)
                .map(|start| (start, block_bytes.min(input.len() - start)))
                .collect()
        };
        if input.is_empty() {
            assert_eq!(
                calls.len(),
                1,
                "an empty input called compress {} times. Hint: an empty input is one empty block: compress(&[]) once",
                calls.len()
            );
            continue;
        }
        assert_eq!(
            calls,
            expected,
            "{} bytes in blocks of {block_bytes}: compress was given other pieces (start, length) than the blocks, each once. Hint: compress each slice of input.chunks(block_bytes) exactly once, where it lies in the input",
            input.len()
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn several_blocks_are_compressed_at_the_same_time() {
    // Until two blocks have been seen compressing at once, each call waits for a second one
    // (up to a deadline, so a wrong answer fails instead of hanging).
    let input = text(6, 64_000);
    let running = AtomicUsize::new(0);
    let two_at_once = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs(5);
    let compressed = compress_in_blocks_with(&input, 4_000, 4, |block| {
        running.fetch_add(1, Ordering::SeqCst);
        while !two_at_once.load(Ordering::SeqCst) && Instant::now() < deadline {
            if running.load(Ordering::SeqCst) >= 2 {
                two_at_once.store(true, Ordering::SeqCst);
            }
            std::thread::yield_now();
        }
        running.fetch_sub(1, Ordering::SeqCst);
        compress_block(block)
    });
    assert!(
        two_at_once.load(Ordering::SeqCst),
        "16 blocks on 4 threads were compressed one at a time. Hint: spawn every thread before joining any, and compress outside any lock"
    );
    let read_back = read_all_streams(&compressed);
    assert!(
        read_back.as_deref() == Ok(&input[..]),
        "the blocks were compressed at once but the file does not read back: {}. Hint: put each stream in its block's slot before joining them, so that the file keeps block order whatever order they finish in",
        described(&read_back, &input)
    );
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn never_more_threads_at_once_than_asked_for() {
    // Each call stays busy for a moment, or until it sees more calls running than allowed:
    // a thread per block shows at once, a pool of n_threads never does.
    let input = text(7, 24_000);
    let n_threads = 3;
    let running = AtomicUsize::new(0);
    let most_at_once = AtomicUsize::new(0);
    compress_in_blocks_with(&input, 2_000, n_threads, |block| {
        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
        most_at_once.fetch_max(now, Ordering::SeqCst);
        let until = Instant::now() + Duration::from_millis(30);
        while running.load(Ordering::SeqCst) <= n_threads && Instant::now() < until {
            std::thread::yield_now();
        }
        most_at_once.fetch_max(running.load(Ordering::SeqCst), Ordering::SeqCst);
        running.fetch_sub(1, Ordering::SeqCst);
        compress_block(block)
    });
    let most = most_at_once.load(Ordering::SeqCst);
    assert!(
        most <= n_threads,
        "12 blocks with n_threads = {n_threads} had {most} compressing at once. Hint: start n_threads threads that each take the next block, not a thread per block"
    );
    assert!(
        most >= 2,
        "12 blocks with n_threads = {n_threads} never had two compressing at once. Hint: the threads must run at the same time"
    );
}

#[test]
#[ignore = "homework: run cargo homework 09"]
fn a_slow_block_holds_up_no_other_block() {
    // Block 0 is slow: it finishes only once every other block has been compressed (or at a
    // deadline). With one shared queue, the other threads take blocks 1, 2, 3, ... meanwhile and
    // block 0 ends in time. Waves of n_threads blocks, or a fixed share per thread, leave
    // blocks waiting behind block 0, and it waits in vain.
    let input = text(8, 24_000);
    let (block_bytes, n_threads) = (2_000, 3);
    let n_blocks = input.len().div_ceil(block_bytes);
    let others_done = AtomicUsize::new(0);
    let waited_in_vain = AtomicBool::new(false);
    let done_when_it_gave_up = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(2);
    let compressed = compress_in_blocks_with(&input, block_bytes, n_threads, |block| {
        if block.as_ptr() == input.as_ptr() {
            // SeqCst: the count of finished blocks is the whole message.
            while others_done.load(Ordering::SeqCst) < n_blocks - 1 {
                if Instant::now() >= deadline {
                    done_when_it_gave_up.store(others_done.load(Ordering::SeqCst), Ordering::SeqCst);
                    waited_in_vain.store(true, Ordering::SeqCst);
                    break;
                }
                std::thread::yield_now();
            }
            compress_block(block)
        } else {
            let stream = compress_block(block);
            others_done.fetch_add(1, Ordering::SeqCst);
            stream
        }
    });
    assert!(
        !waited_in_vain.load(Ordering::SeqCst),
        "{n_blocks} blocks on {n_threads} threads, block 0 slow: only {} of the other {} were compressed in the 2 s it waited for them; the rest waited behind it. Hint: one shared queue (an AtomicUsize, fetch_add(1)) from which a thread that is free takes the next block nobody has taken; not waves of {n_threads} blocks joined together, nor a share of blocks fixed in advance for each thread",
        done_when_it_gave_up.load(Ordering::SeqCst),
        n_blocks - 1
    );
    let read_back = read_all_streams(&compressed);
    assert!(
        read_back.as_deref() == Ok(&input[..]),
        "with a slow block 0 the file does not read back: {}. Hint: join the streams in block order",
        described(&read_back, &input)
    );
}
