//! The speed verdict for lesson 06's exercise (`cargo homework 06` runs it once the checks
//! pass): the counts and the total of a large generated text, on your pool and on the
//! reference's, with one thread per core. Built only with `--features speed`.

use lesson06_pool_map_exercise as yours;
use lesson06_pool_map_exercise::reference;

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_threads = speed.cores().max(2);
    let bytes = if speed.quick() { 100_000 } else { 40_000_000 };
    let text = workloads::text::generate(6, bytes);
    let texts: Vec<&str> = text.split_inclusive(['.', '?', '!']).collect();
    let workload = format!(
        "{} sentences ({}) on {n_threads} threads",
        homework::speed::count(texts.len() as u64),
        homework::speed::count(bytes as u64) + " bytes"
    );
    let (reference_pool, your_pool) = (reference::build_pool(n_threads), yours::build_pool(n_threads));
    let count_words = workloads::seed::word_count;
    speed.compare(
        "word_counts_on_pool",
        workload.clone(),
        n_threads,
        "results pushed into a shared Vec under a lock, or the map run on one thread",
        || {
            reference::word_counts_on_pool(&reference_pool, &texts, count_words)
                .iter()
                .sum::<usize>()
        },
        || {
            yours::word_counts_on_pool(&your_pool, &texts, count_words)
                .iter()
                .sum::<usize>()
        },
    );
    speed.compare(
        "total_words_on_pool",
        workload,
        n_threads,
        "a shared counter updated under a lock, or the total counted on one thread",
        || reference::total_words_on_pool(&reference_pool, &texts, count_words),
        || yours::total_words_on_pool(&your_pool, &texts, count_words),
    );
    std::process::exit(speed.finish());
}
