//! How a word count is shown: one short line with thousands separators, the same for every
//! version, so that the comparisons print it beside their check and a failed test stays short.

use crate::map_reduce::WordCount;
use course::timing::format::count;
use std::fmt;

impl fmt::Display for WordCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} words ({} distinct), {} letters",
            count(self.words()),
            count(self.counts.len() as u64),
            count(self.letters())
        )
    }
}

/// A failed `assert_eq!` shows the short form, the lines, and the most frequent word: the full
/// map of counts would fill a screen.
impl fmt::Debug for WordCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let top = self
            .counts
            .iter()
            .max_by_key(|(word, count)| (**count, std::cmp::Reverse(*word)));
        match top {
            Some((word, n)) => write!(f, "{self} in {} lines, '{word}' × {}", count(self.lines), count(*n)),
            None => write!(f, "{self} in {} lines", count(self.lines)),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::map_reduce::count_sequential;

    #[test]
    fn an_answer_reads_in_one_short_line() {
        let answer = count_sequential("The river, the raft.\nA river.\n");
        assert_eq!(answer.to_string(), "6 words (4 distinct), 21 letters");
        assert_eq!(
            format!("{answer:?}"),
            "6 words (4 distinct), 21 letters in 2 lines, 'river' × 2"
        );
    }
}
