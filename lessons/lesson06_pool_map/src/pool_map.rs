//! `pool.map(f, items)`: `f` applied to every item by several workers, the results returned in
//! item order. The notes' two workloads: `word_count` of short strings (a microsecond of work
//! each) and `count_prime` of large numbers (seconds each).
//!
//! Every version of `map` has the same signature: the items, the function, the number of
//! workers. Each returns the results in item order, or the error of a thread or a process the
//! machine refused to start. Which one pays depends on the work each item carries against what
//! a worker costs to start and an item costs to hand over.

use procpool::{EncodeAs, ProcessPool, Wire};
use rayon::prelude::*;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

/// The notes' word count of one string: its words, split on whitespace as `str.split()` does.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The notes' `count_prime(n)`: tries every i from 2 to n-2 and counts those that divide n.
/// Despite its name it counts divisors (all but 1 and n): one division per i.
pub fn count_prime(n: u64) -> u64 {
    let mut count = 0;
    for i in 2..n.saturating_sub(1) {
        if n % i == 0 {
            count += 1;
        }
    }
    count
}

/// One item after another on this thread: the notes' `sequential_word_count`.
pub fn map_sequential<T: Copy, R>(items: &[T], f: fn(T) -> R, _n_workers: usize) -> io::Result<Vec<R>> {
    Ok(items.iter().map(|&item| f(item)).collect())
}

/// A new thread for every item, all started, then all joined: the notes'
/// `concurrent_word_count`. Starting a thread costs far more than counting a few words.
pub fn map_thread_per_item<T, R>(items: &[T], f: fn(T) -> R, _n_workers: usize) -> io::Result<Vec<R>>
where
    T: Copy + Send + Sync,
    R: Send,
{
    thread::scope(|scope| {
        let mut threads = Vec::with_capacity(items.len());
        for &item in items {
            // A thread the machine refuses is an error; the threads started so far finish
            // their item and are joined when the scope ends.
            threads.push(thread::Builder::new().spawn_scoped(scope, move || f(item))?); // ← a thread per item
        }
        Ok(threads.into_iter().map(join).collect())
    })
}

/// `n_workers` threads started for this call, each taking the next chunk of items nobody has
/// taken yet (Python's default chunk size): a thread pool's `map`.
pub fn map_thread_pool<T, R>(items: &[T], f: fn(T) -> R, n_workers: usize) -> io::Result<Vec<R>>
where
    T: Copy + Sync,
    R: Send,
{
    let chunk = python_default_chunk(items.len(), n_workers);
    map_thread_pool_chunked(items, f, n_workers, chunk)
}

/// The same, `chunk` consecutive items per hand-off: chunks of 1 even out items of unequal
/// cost, larger chunks cost fewer hand-offs.
pub fn map_thread_pool_chunked<T, R>(items: &[T], f: fn(T) -> R, n_workers: usize, chunk: usize) -> io::Result<Vec<R>>
where
    T: Copy + Sync,
    R: Send,
{
    let chunks: Vec<&[T]> = items.chunks(chunk.max(1)).collect();
    let next_chunk = AtomicUsize::new(0);
    let done = thread::scope(|scope| {
        let mut threads = Vec::with_capacity(n_workers);
        for _ in 0..n_workers.clamp(1, chunks.len().max(1)) {
            threads.push(thread::Builder::new().spawn_scoped(scope, || {
                let mut done = Vec::new();
                loop {
                    // Relaxed is enough: the counter only hands out distinct chunk numbers;
                    // the items are read-only and the results travel back through `join`.
                    let index = next_chunk.fetch_add(1, Ordering::Relaxed); // ← take the next chunk
                    let Some(items) = chunks.get(index) else {
                        return done;
                    };
                    done.push((index, items.iter().map(|&item| f(item)).collect::<Vec<R>>()));
                }
            })?);
        }
        io::Result::Ok(threads.into_iter().flat_map(join).collect::<Vec<_>>())
    })?;
    // Chunks finish in any order; the results go back in item order.
    let mut in_order: Vec<Option<Vec<R>>> = (0..chunks.len()).map(|_| None).collect();
    for (index, results) in done {
        in_order[index] = Some(results);
    }
    Ok(in_order.into_iter().flatten().flatten().collect())
}

/// rayon's `par_iter`, Rust's `pool.map`, on the rayon pool it runs in: rayon splits the items
/// in halves, and halves again whenever a thread is idle and steals the other half.
pub fn map_rayon<T, R>(items: &[T], f: fn(T) -> R, _n_workers: usize) -> io::Result<Vec<R>>
where
    T: Copy + Sync,
    R: Send,
{
    Ok(items.par_iter().map(|&item| f(item)).collect()) // ← the only change from map_sequential
}

/// A pool of `n_workers` processes forked for this call, as the notes' `parallel_word_count`
/// starts `Pool(processes=4)` inside: every item is copied through a pipe to a worker, which
/// owns its copy (a `String` for a `&str`, so `f` takes the owned item); each result comes back
/// the same way, and the workers are reaped at the end.
pub fn map_process_pool<T, I, R>(items: &[T], f: fn(I) -> R, n_workers: usize) -> io::Result<Vec<R>>
where
    T: Copy + EncodeAs<I>,
    I: Wire,
    R: Wire,
{
    let mut pool = ProcessPool::start(n_workers, f).map_err(io::Error::other)?; // ← fork the workers
    let chunk = python_default_chunk(items.len(), n_workers);
    let results = pool.map(items.iter().copied(), chunk).map_err(io::Error::other)?;
    pool.shutdown().map_err(io::Error::other)?;
    Ok(results)
}

/// The chunk size Python's `Pool.map` picks when given none: about four chunks per worker.
pub fn python_default_chunk(n_items: usize, n_workers: usize) -> usize {
    n_items.div_ceil(4 * n_workers.max(1)).max(1)
}

/// One chunk per worker: a split decided up front. When items differ in cost, the worker with
/// the light ones sits idle while the last one finishes (load imbalance).
pub fn one_chunk_per_worker(n_items: usize, n_workers: usize) -> usize {
    n_items.div_ceil(n_workers.max(1)).max(1)
}

/// Joins a scoped thread; a panic inside it continues in this thread.
fn join<T>(thread: thread::ScopedJoinHandle<'_, T>) -> T {
    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::seed::{SEED_WORD_COUNT, count_divisors, seed_strings};

    /// The signature every version of map shares (the process pool's takes its items owned).
    type Map<T, R> = fn(&[T], fn(T) -> R, usize) -> io::Result<Vec<R>>;

    /// Every version of map, by name, for one kind of item.
    fn maps<T: Copy + Send + Sync, R: Send>() -> [(&'static str, Map<T, R>); 4] {
        [
            ("sequential", map_sequential),
            ("a thread per item", map_thread_per_item),
            ("thread pool", map_thread_pool),
            ("rayon", map_rayon),
        ]
    }

    #[test]
    fn every_version_counts_the_lecture_strings_alike() {
        let strings = seed_strings();
        for (name, map) in maps::<&str, usize>() {
            for workers in [1, 2, 3, 8] {
                let counts = map(&strings, word_count, workers).unwrap();
                assert_eq!(counts.iter().sum::<usize>(), SEED_WORD_COUNT, "{name} on {workers}");
            }
        }
    }

    #[test]
    fn every_version_keeps_item_order() {
        let numbers = [7_700, 7_400, 12, 97, 7_300, 7_100, 360];
        let expected: Vec<u64> = numbers.iter().map(|&n| count_divisors(n)).collect();
        for (name, map) in maps::<u64, u64>() {
            assert_eq!(map(&numbers, count_prime, 3).unwrap(), expected, "{name}");
        }
        for chunk in [1, 2, 5, 100] {
            assert_eq!(
                map_thread_pool_chunked(&numbers, count_prime, 2, chunk).unwrap(),
                expected
            );
        }
        assert!(map_thread_pool(&[] as &[u64], count_prime, 4).unwrap().is_empty());
    }

    #[test]
    fn count_prime_is_the_notes_function() {
        for n in 0..2000 {
            assert_eq!(count_prime(n), count_divisors(n), "n = {n}");
        }
        assert_eq!(word_count("  to the   circus. idiot. "), 4);
    }

    #[test]
    fn default_chunks_follow_python() {
        assert_eq!(python_default_chunk(300, 4), 19);
        assert_eq!(python_default_chunk(4, 4), 1);
        assert_eq!(python_default_chunk(0, 2), 1);
        assert_eq!(one_chunk_per_worker(10, 3), 4);
    }
}
