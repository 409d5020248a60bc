//! The data: a corpus stored as numbered blocks (as a distributed file system stores a big
//! file), and how the blocks are shared out among processes (the scatter of a cluster).

use serde::{Deserialize, Serialize};
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map_reduce::{WordCount, count_sequential};

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
            merged.lines += part.lines;
        }
        assert_eq!(merged, whole);
    }
}
