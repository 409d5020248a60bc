//! Threads for a tiny job: the notebook's word count over many short strings, counted by one
//! loop, by a thread per string (the notebook's `concurrent_word_count`), and by one thread per
//! core. The three have one signature and must give the same total; a thread the machine
//! refuses is an `io::Error`, a worker's panic is passed on (never counted as 0 words).

use crate::threads::on_threads;
use std::io;
use std::sync::Mutex;
use std::thread;

/// Words in `text`, split on whitespace as Python's `str.split()` does.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// Every string, one after another, on this thread.
pub fn count_sequential<S: AsRef<str> + Sync>(strings: &[S]) -> io::Result<usize> {
    Ok(strings.iter().map(|text| word_count(text.as_ref())).sum())
}

/// One thread per string, each appending its count to a shared list (the notebook's way).
pub fn count_thread_per_string<S: AsRef<str> + Sync>(strings: &[S]) -> io::Result<usize> {
    let counts = Mutex::new(Vec::with_capacity(strings.len()));
    thread::scope(|scope| {
        for text in strings {
            let counts = &counts;
            thread::Builder::new().spawn_scoped(scope, move || {
                let count = word_count(text.as_ref()); // ← a thread for a few words
                counts.lock().unwrap().push(count);
            })?;
        }
        Ok::<(), io::Error>(())
    })?;
    Ok(counts.into_inner().unwrap().iter().sum())
}

/// One thread per core, each counting one contiguous share of the strings.
pub fn count_per_core<S: AsRef<str> + Sync>(strings: &[S]) -> io::Result<usize> {
    let cores = thread::available_parallelism().map_or(1, usize::from);
    count_in_shares(strings, cores)
}

/// `n_shares` threads, each counting one contiguous share of the strings with the sequential
/// loop; the shares' totals are added once every thread is joined.
pub fn count_in_shares<S: AsRef<str> + Sync>(strings: &[S], n_shares: usize) -> io::Result<usize> {
    let share = strings.len().div_ceil(n_shares.max(1)).max(1);
    let shares: Vec<&[S]> = strings.chunks(share).collect();
    let totals = on_threads(shares.len(), |i| count_sequential(shares[i]))?; // ← a thread per share
    totals.into_iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_count_agrees_on_the_notebook_strings() {
        let strings = workloads::seed::seed_strings();
        assert_eq!(count_sequential(&strings).unwrap(), 1100);
        assert_eq!(count_thread_per_string(&strings).unwrap(), 1100);
        assert_eq!(count_per_core(&strings).unwrap(), 1100);
        for shares in [1, 2, 7, 300, 1000] {
            assert_eq!(count_in_shares(&strings, shares).unwrap(), 1100, "{shares} shares");
        }
        let empty: [&str; 0] = [];
        assert_eq!(count_in_shares(&empty, 4).unwrap(), 0);
        for text in strings {
            assert_eq!(word_count(text), workloads::seed::word_count(text));
        }
    }

    #[test]
    fn a_workers_panic_is_passed_on_not_counted_as_zero() {
        let strings = ["one two", "three"];
        let result = std::panic::catch_unwind(|| {
            on_threads(2, |i| {
                assert!(i != 1, "worker 1 fails");
                word_count(strings[i])
            })
        });
        assert!(result.is_err());
    }
}
