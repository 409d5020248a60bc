//! The speed verdict for lesson 09's exercise (`cargo homework 09` runs it once the checks
//! pass): a large generated text compressed in blocks on one thread per core, yours against
//! the reference. Built only with `--features speed`.

use lesson09_bzip2_exercise as yours;
use lesson09_bzip2_exercise::reference;

/// The file's size and a checksum of its bytes: equal files give equal answers.
fn fingerprint(file: &[u8]) -> String {
    let sum = file
        .iter()
        .fold(0u64, |sum, &byte| sum.rotate_left(5) ^ u64::from(byte));
    format!("{} bytes, checksum {sum:016x}", file.len())
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_threads = speed.cores().max(2);
    let (bytes, block_bytes) = if speed.quick() {
        (40_000, 10_000)
    } else {
        (8_000_000, 250_000)
    };
    let input = workloads::text::generate(9, bytes).into_bytes();
    speed.compare(
        "compress_in_blocks",
        format!(
            "{} bytes in blocks of {} on {n_threads} threads",
            homework::speed::count(input.len() as u64),
            homework::speed::count(block_bytes as u64)
        ),
        n_threads,
        "threads that wait for each other (waves, a fixed share, a lock held while compressing)",
        || fingerprint(&reference::compress_in_blocks(&input, block_bytes, n_threads)),
        || fingerprint(&yours::compress_in_blocks(&input, block_bytes, n_threads)),
    );
    std::process::exit(speed.finish());
}
