//! The lecture notebooks' own workloads, with the answers they must give.

/// The three lines the word-count notebook repeats 100 times.
pub const SEED_LINES: [&str; 3] = ["hello world", "this is another line", "this is yet another line"];

/// The notebook's input: its three lines repeated 100 times, 300 short strings in all.
pub fn seed_strings() -> Vec<&'static str> {
    SEED_LINES.iter().copied().cycle().take(3 * 100).collect()
}

/// Words in `text`, split on whitespace as Python's `str.split()` does.
pub fn word_count(text: &str) -> usize {
    text.split_whitespace().count()
}

/// The total word count of the notebook's 300 strings.
pub const SEED_WORD_COUNT: usize = 1100;

/// The numbers the notebook feeds to `count_prime`: 7.7e7, 7.4e7, 7.3e7, 7.1e7.
pub const SEED_NUMBERS: [u64; 4] = [77_000_000, 74_000_000, 73_000_000, 71_000_000];

/// What `count_prime` returns for [`SEED_NUMBERS`]: despite its name, it counts divisors.
pub const SEED_DIVISOR_COUNTS: [u64; 4] = [194, 110, 96, 96];

/// The notebook's misnamed `count_prime(n)`, iteration for iteration: it tries every `i` in
/// `2..=n-2` (Python's `range(2, n-1)`) and counts those that divide `n`. That is every
/// divisor but 1 and `n` itself; nothing here is about primes.
pub fn count_divisors(n: u64) -> u64 {
    let mut count = 0;
    for i in 2..n.saturating_sub(1) {
        if n % i == 0 {
            count += 1;
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notebook_strings_have_1100_words() {
        let strings = seed_strings();
        assert_eq!(strings.len(), 300);
        assert_eq!(strings.iter().map(|s| word_count(s)).sum::<usize>(), SEED_WORD_COUNT);
        assert_eq!(word_count("  to the   circus. idiot. "), 4);
    }

    #[test]
    fn count_divisors_matches_the_notebook_on_small_numbers() {
        assert_eq!(count_divisors(12), 4); // 2, 3, 4, 6
        assert_eq!(count_divisors(13), 0);
        assert_eq!(count_divisors(4), 1); // range(2, 3) tries only 2
        assert_eq!(count_divisors(3), 0);
        assert_eq!(count_divisors(0), 0);
        // 77,000,000 = 2^6 · 5^6 · 7 · 11 has (6+1)(6+1)(1+1)(1+1) = 196 divisors; minus 1 and n.
        assert_eq!(SEED_DIVISOR_COUNTS[0], 196 - 2);
    }
}
