//! Exercise: a parallel word count on a rayon pool
//!
//! Lesson 06 counted the words of the lecture's 300 strings one after another, with a thread
//! per string, and with pools; rayon's `par_iter` is Rust's `pool.map`. Now write the pool
//! version yourself, on a pool you build, so that you control how many threads it has.
//! Complete the three functions below so that:
//! - `build_pool(n_threads)` returns a rayon pool of exactly `n_threads` threads, named
//!   `word-count-0`, `word-count-1`, ... (names show up in `top -H` and in panics);
//! - `word_counts_on_pool` calls `count_words` exactly once per text, every call on one of
//!   `pool`'s threads (not rayon's global pool, not threads of your own), with more than one
//!   of those threads taking part, and returns the counts in input order: result `i` is the
//!   count of `texts[i]`, whichever thread finished first;
//! - `total_words_on_pool` adds up the words of every text, each counted with `count_words`
//!   on one of `pool`'s threads, more than one of them taking part: 1100 for the lecture's 300
//!   strings with `workloads::seed::word_count`, and always the same total as
//!   `word_counts_sequential`.
//!
//! Check your work with `cargo homework 06`; stuck, `cargo homework hint 06` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

/// The words of every text, counted one after another on this thread: the lecture's
/// `sequential_word_count`, for comparison.
pub fn word_counts_sequential(texts: &[&str]) -> Vec<usize> {
    texts.iter().map(|text| workloads::seed::word_count(text)).collect()
}

/// A rayon pool of `n_threads` threads (at least 1), named `word-count-0`, `word-count-1`, ...
pub fn build_pool(n_threads: usize) -> rayon::ThreadPool {
    todo!("build a pool with rayon::ThreadPoolBuilder: n_threads threads, named word-count-<index>")
}

/// `count_words` on every text, on `pool`'s threads; the counts in input order (pool.map).
pub fn word_counts_on_pool(
    pool: &rayon::ThreadPool,
    texts: &[&str],
    count_words: impl Fn(&str) -> usize + Sync,
) -> Vec<usize> {
    todo!("inside pool.install, map count_words over texts.par_iter() and collect")
}

/// The words of all texts together, each text counted with `count_words` on `pool`'s threads.
pub fn total_words_on_pool(
    pool: &rayon::ThreadPool,
    texts: &[&str],
    count_words: impl Fn(&str) -> usize + Sync,
) -> usize {
    todo!("inside pool.install, map count_words over texts.par_iter() and sum")
}
