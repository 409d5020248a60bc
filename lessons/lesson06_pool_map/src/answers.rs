//! What the lesson checks its answers against, and how it prints them.

use workloads::seed::count_divisors;

/// The number of divisors of `n` other than 1 and `n`, from its prime factors: what
/// count_prime returns, computed in microseconds instead of seconds, to check it.
pub fn divisors_by_factoring(n: u64) -> u64 {
    if n < 4 {
        return count_divisors(n);
    }
    let (mut rest, mut divisors, mut factor) = (n, 1u64, 2u64);
    while factor * factor <= rest {
        let mut exponent = 0;
        while rest % factor == 0 {
            rest /= factor;
            exponent += 1;
        }
        divisors *= exponent + 1;
        factor += if factor == 2 { 1 } else { 2 };
    }
    if rest > 1 {
        divisors *= 2;
    }
    divisors - 2
}

/// count_prime's answers for many numbers: compared in full, printed in full when they are
/// few (`[194, 110, 96, 96]`) and summed when they are many.
#[derive(Clone, PartialEq)]
pub struct DivisorCounts(pub Vec<u64>);

impl std::fmt::Display for DivisorCounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.len() <= 8 {
            write!(f, "{:?}", self.0)
        } else {
            let total: u64 = self.0.iter().sum();
            write!(f, "{} divisor counts, {total} in all", self.0.len())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::seed::{SEED_DIVISOR_COUNTS, SEED_NUMBERS};

    #[test]
    fn factoring_agrees_with_count_prime() {
        for n in 3..3000 {
            assert_eq!(divisors_by_factoring(n), count_divisors(n), "n = {n}");
        }
        let counts: Vec<u64> = SEED_NUMBERS.iter().map(|&n| divisors_by_factoring(n)).collect();
        assert_eq!(counts, SEED_DIVISOR_COUNTS);
    }

    #[test]
    fn few_counts_are_listed_and_many_summed() {
        assert_eq!(DivisorCounts(vec![194, 110, 96, 96]).to_string(), "[194, 110, 96, 96]");
        assert_eq!(DivisorCounts(vec![1; 96]).to_string(), "96 divisor counts, 96 in all");
    }
}
