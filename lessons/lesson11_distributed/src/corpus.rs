//! The data: a corpus stored as numbered blocks (as a distributed file system stores a big
//! file), how the blocks are shared out among processes, how text splits into words, and the
//! sequential word count that every distributed answer is checked against.

use course::timing::format::count;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// A corpus of `blocks` blocks of generated English-looking text, about `block_bytes` each.
/// Block `b` is generated from its own seed, so any process can produce any block by itself,
/// the same on every machine: a stand-in for a file whose blocks sit on many disks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corpus {
    pub seed: u64,
    pub blocks: usize,
    pub block_bytes: usize,
}

impl Corpus {
    /// The text of block `block`. It ends with a line break, so that no line straddles two
    /// blocks (or two processes).
    pub fn block(&self, block: usize) -> String {
        // A different, fixed seed per block: blocks do not repeat one another.
        let block_seed = self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(block as u64);
        let mut text = workloads::text::generate(block_seed, self.block_bytes);
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text
    }

    /// Blocks `range`, one after another.
    pub fn text_of(&self, range: Range<usize>) -> String {
        let mut text = String::with_capacity(range.len() * self.block_bytes);
        for block in range {
            text.push_str(&self.block(block));
        }
        text
    }

    /// The whole corpus in one string, and the byte where each block starts (and one more
    /// entry: the end), so that any run of blocks can be sliced out without a copy.
    pub fn whole(&self) -> (String, Vec<usize>) {
        let mut text = String::with_capacity(self.blocks * (self.block_bytes + 1));
        let mut block_starts = Vec::with_capacity(self.blocks + 1);
        for block in 0..self.blocks {
            block_starts.push(text.len());
            text.push_str(&self.block(block));
        }
        block_starts.push(text.len());
        (text, block_starts)
    }

    /// The blocks that process `process` of `processes` is given: consecutive ranges whose
    /// sizes differ by at most one block (the scatter).
    pub fn blocks_of(&self, process: usize, processes: usize) -> Range<usize> {
        let processes = processes.max(1);
        self.blocks * process / processes..self.blocks * (process + 1) / processes
    }
}

/// Calls `visit` with every word of `text`, in order: split on whitespace, punctuation
/// trimmed, lower case. "River," and "river" are the same word.
pub fn for_each_word(text: &str, mut visit: impl FnMut(&str)) {
    let mut lowered = String::new();
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| c.is_ascii_punctuation());
        if word.is_empty() {
            continue;
        }
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            lowered.clear();
            lowered.push_str(word);
            lowered.make_ascii_lowercase();
            visit(&lowered);
        } else {
            visit(word);
        }
    }
}

/// Adds one to `word`'s count, allocating its key only the first time it is seen.
pub fn bump(counts: &mut HashMap<String, u64>, word: &str, by: u64) {
    match counts.get_mut(word) {
        Some(count) => *count += by,
        None => {
            counts.insert(word.to_string(), by);
        }
    }
}

/// Letters, words and lines: the numeric reduction, whose parts simply add up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub lines: u64,
    pub words: u64,
    pub letters: u64,
}

impl Totals {
    pub fn add(&mut self, other: Totals) {
        self.lines += other.lines;
        self.words += other.words;
        self.letters += other.letters;
    }

    /// Letters per word.
    pub fn mean_word_length(&self) -> f64 {
        if self.words == 0 {
            0.0
        } else {
            self.letters as f64 / self.words as f64
        }
    }
}

/// The non-empty lines of `text` (a paragraph each, in generated text): the unit the map
/// step is fed with.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|line| !line.trim().is_empty())
}

/// What a word count computes: how often each word occurs, and the totals. Printed short, with
/// thousands separators (the comparison tables show it), compared in full.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordCount {
    pub counts: BTreeMap<String, u64>,
    pub totals: Totals,
}

impl std::fmt::Debug for WordCount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (top_word, top_count) = self
            .counts
            .iter()
            .max_by_key(|(word, count)| (**count, std::cmp::Reverse(*word)))
            .map_or(("-", 0), |(word, count)| (word.as_str(), *count));
        write!(
            f,
            "{} words ({} distinct, '{top_word}' × {}), {} letters in {} lines",
            count(self.totals.words),
            count(self.counts.len() as u64),
            count(top_count),
            count(self.totals.letters),
            count(self.totals.lines)
        )
    }
}

/// The word count of `text` on this thread: the answer every distributed run must match.
pub fn count_sequential(text: &str) -> WordCount {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut totals = Totals::default();
    for line in lines(text) {
        totals.lines += 1;
        for_each_word(line, |word| {
            totals.words += 1;
            totals.letters += word.len() as u64;
            bump(&mut counts, word, 1);
        });
    }
    WordCount {
        counts: counts.into_iter().collect(),
        totals,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_trimmed_and_lowered() {
        let mut words = Vec::new();
        for_each_word("The river, the RAFT! ... night?  ", |w| words.push(w.to_string()));
        assert_eq!(words, ["the", "river", "the", "raft", "night"]);
    }

    #[test]
    fn the_sequential_count_adds_up() {
        let count = count_sequential("A b a.\n\nB, c\n");
        assert_eq!(count.counts.get("a"), Some(&2));
        assert_eq!(count.counts.get("b"), Some(&2));
        assert_eq!(count.counts.get("c"), Some(&1));
        assert_eq!(
            count.totals,
            Totals {
                lines: 2,
                words: 5,
                letters: 5
            }
        );
        assert_eq!(count.counts.values().sum::<u64>(), count.totals.words);
    }

    #[test]
    fn blocks_cover_the_corpus_once() {
        let corpus = Corpus {
            seed: 7,
            blocks: 10,
            block_bytes: 2_000,
        };
        let ranges: Vec<_> = (0..3).map(|p| corpus.blocks_of(p, 3)).collect();
        assert_eq!(ranges, vec![0..3, 3..6, 6..10]);
        let joined: String = ranges.iter().map(|r| corpus.text_of(r.clone())).collect();
        let (whole, starts) = corpus.whole();
        assert_eq!(joined, whole);
        assert_eq!(starts.len(), 11);
        assert_eq!(&whole[starts[3]..starts[6]], corpus.text_of(3..6));
        assert_ne!(corpus.block(0), corpus.block(1));
        assert_eq!(corpus.block(4), corpus.block(4));
        // More processes than blocks: some get none, none is lost.
        let total: usize = (0..16).map(|p| corpus.blocks_of(p, 16).len()).sum();
        assert_eq!(total, 10);
    }

    #[test]
    fn counting_shards_and_adding_them_up_gives_the_whole_count() {
        let corpus = Corpus {
            seed: 3,
            blocks: 4,
            block_bytes: 5_000,
        };
        let whole = count_sequential(&corpus.whole().0);
        let mut merged = WordCount::default();
        for process in 0..3 {
            let part = count_sequential(&corpus.text_of(corpus.blocks_of(process, 3)));
            for (word, count) in part.counts {
                *merged.counts.entry(word).or_default() += count;
            }
            merged.totals.add(part.totals);
        }
        assert_eq!(merged, whole);
        assert!(format!("{whole:?}").contains("distinct"));
    }
}
