//! Exercise: a parallel word count on a rayon pool
//!
//! The reference solution.

use rayon::prelude::*;

/// The words of every text, counted one after another on this thread: the lecture's
/// `sequential_word_count`, for comparison.
pub fn word_counts_sequential(texts: &[&str]) -> Vec<usize> {
    texts.iter().map(|text| workloads::seed::word_count(text)).collect()
}

/// A rayon pool of `n_threads` threads (at least 1), named `word-count-0`, `word-count-1`, ...
pub fn build_pool(n_threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n_threads.max(1))
        .thread_name(|index| format!("word-count-{index}"))
        .build()
        .expect("the operating system refused to start the pool's threads")
}

/// `count_words` on every text, on `pool`'s threads; the counts in input order (pool.map).
pub fn word_counts_on_pool(
    pool: &rayon::ThreadPool,
    texts: &[&str],
    count_words: impl Fn(&str) -> usize + Sync,
) -> Vec<usize> {
    // `install` moves the whole map into `pool`: the calling thread only waits. rayon splits
    // the slice in halves, and halves again whenever one of the pool's threads is idle and
    // steals one; each result is written into its own index's slot, so the order of the
    // input survives whatever order the pieces finish in.
    pool.install(|| texts.par_iter().map(|text| count_words(text)).collect())
}

/// The words of all texts together, each text counted with `count_words` on `pool`'s threads.
pub fn total_words_on_pool(
    pool: &rayon::ThreadPool,
    texts: &[&str],
    count_words: impl Fn(&str) -> usize + Sync,
) -> usize {
    // Each thread adds up the counts of the pieces it ran; the partial sums are then added
    // as the pieces join, so no counter is shared between threads.
    pool.install(|| texts.par_iter().map(|text| count_words(text)).sum())
}
