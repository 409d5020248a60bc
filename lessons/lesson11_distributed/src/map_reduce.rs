//! A word count as map/reduce, three ways: on one thread, on threads that share one memory,
//! and as a timely dataflow across processes that share nothing. Each takes the same steps:
//! **scatter** the text in shards, one per worker; **map** each worker's lines to records
//! `(word, count)`; **shuffle** every record to the worker that owns its word, `owner_of(word)`;
//! **reduce**: each owner adds up the counts of its words; **gather** the counts and the number
//! of lines in one place. All must give exactly the same `WordCount`. A thread the machine
//! refuses to start is an error, not a panic.

use std::{collections::BTreeMap, collections::HashMap, io, thread};
use timely::dataflow::operators::vec::{Map, ToStream, aggregation::Aggregate, count::Accumulate};
use timely::dataflow::operators::{Exchange, capture::Capture, capture::Extract};
use timely::worker::Worker;

/// What a word count computes: how often each word occurs, and in how many lines.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct WordCount {
    pub counts: BTreeMap<String, u64>,
    pub lines: u64,
}

impl WordCount {
    /// Every occurrence of every word.
    pub fn words(&self) -> u64 {
        self.counts.values().sum()
    }
    /// The letters of all those words: each word's length times its count.
    pub fn letters(&self) -> u64 {
        self.counts.iter().map(|(word, count)| word.len() as u64 * count).sum()
    }
}

/// The word count on one thread: map and reduce in one loop, nothing to scatter or gather.
/// Every other version must give exactly this.
pub fn count_sequential(text: &str) -> WordCount {
    let mut counts = HashMap::new();
    let mut n_lines = 0;
    for line in lines(text) {
        n_lines += 1;
        for_each_word(line, |word| bump(&mut counts, word, 1));
    }
    WordCount {
        counts: counts.into_iter().collect(),
        lines: n_lines,
    }
}

/// The same steps on `n_threads` threads in one process: a mapper per shard, then a reducer
/// per owner. The shuffle moves no bytes: a reducer reads its buckets where the mappers left them.
pub fn count_on_threads(text: &str, n_threads: usize) -> io::Result<WordCount> {
    let n_threads = n_threads.max(1);
    let shards = split_into_shards(text, n_threads); // ← scatter
    // Map with a combiner, then shuffle: each mapper counts its shard, files the counts by owner.
    let mapped = on_threads(&shards, |shard| {
        let local = count_sequential(shard); // ← map: the sequential count, on this shard only
        let mut buckets = vec![Vec::new(); n_threads];
        for (word, count) in local.counts {
            buckets[owner_of(&word, n_threads)].push((word, count));
        }
        (local.lines, buckets)
    })?;
    // Reduce: owner `o` adds up bucket `o` of every mapper, and nothing else.
    let owners: Vec<usize> = (0..n_threads).collect();
    let reduced = on_threads(&owners, |&owner| {
        let mut counts = HashMap::new();
        for (_, buckets) in &mapped {
            for (word, count) in &buckets[owner] {
                bump(&mut counts, word, *count);
            }
        }
        counts
    })?;
    // Gather: every owner's counts and every mapper's lines, in one place.
    Ok(WordCount {
        counts: reduced.into_iter().flatten().collect(),
        lines: mapped.iter().map(|(lines, _)| lines).sum(),
    })
}

/// Which records the map step hands to the shuffle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shuffle {
    /// One record `(word, 1)` per occurrence: Hadoop's plain map/reduce.
    EveryWord,
    /// A combiner: each process counts its words first, then ships one record per distinct word.
    Combined,
}

/// The word count as a timely dataflow. Every process runs this same function on its own
/// shard; records cross between processes only at the exchanges (over TCP when the receiver
/// is another process). Process 0 returns the whole answer, every other process an empty one.
pub fn count_as_dataflow(worker: &mut Worker, shard: &str, shuffle: Shuffle) -> WordCount {
    let workers = worker.peers();
    let my_lines: Vec<String> = lines(shard).map(str::to_string).collect();
    let my_line_count = my_lines.len() as u64;
    let (counts, line_counts) = worker.dataflow::<u64, _, _>(|scope| {
        let lines = my_lines.to_stream(scope);
        // Map: this process's lines to records (word, count), without talking to anyone.
        let records = match shuffle {
            Shuffle::EveryWord => lines.flat_map(|line| {
                let mut records = Vec::new();
                for_each_word(&line, |word| records.push((word.to_string(), 1)));
                records
            }),
            Shuffle::Combined => lines
                .accumulate(HashMap::new(), |counts, batch| {
                    for line in batch.drain(..) {
                        for_each_word(&line, |word| bump(counts, word, 1));
                    }
                })
                .flat_map(|counts| counts), // ← the combiner: one record per distinct word
        };
        // Shuffle and reduce: each record goes to its word's owner, which adds up the counts
        // once the dataflow says that no process can send it any more.
        let counts = records.aggregate(
            |_word, count, total: &mut u64| *total += count,
            |word, total| (word, total),
            move |word| owner_of(word, workers) as u64, // ← the shuffle: where each record goes
        );
        // Gather: every count, and each process's number of lines (a numeric reduction), to 0.
        let line_counts = vec![my_line_count].to_stream(scope).exchange(|_| 0);
        (counts.exchange(|_| 0).capture(), line_counts.capture())
    });
    // Run this process's share until every process has finished the whole dataflow.
    while worker.step_or_park(None) {}
    WordCount {
        counts: counts.extract().into_iter().flat_map(|(_, batch)| batch).collect(),
        lines: line_counts.extract().into_iter().flat_map(|(_, batch)| batch).sum(),
    }
}

/// The worker that owns `word` among `workers`: a fixed hash (FNV-1a), so that every process
/// on every machine sends the word to the same place.
pub fn owner_of(word: &str, workers: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in word.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % workers.max(1) as u64) as usize
}

/// The non-empty lines of `text`: the records the map step reads.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|line| !line.trim().is_empty())
}

/// Calls `visit` with every word of `text`, in order: split on whitespace, punctuation
/// trimmed, lower case. "River," and "river" are the same word.
pub fn for_each_word(text: &str, mut visit: impl FnMut(&str)) {
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| c.is_ascii_punctuation());
        if word.bytes().any(|b| b.is_ascii_uppercase()) {
            visit(&word.to_ascii_lowercase());
        } else if !word.is_empty() {
            visit(word);
        }
    }
}

/// Adds `by` to `word`'s count, allocating its key only the first time the word is seen.
fn bump(counts: &mut HashMap<String, u64>, word: &str, by: u64) {
    match counts.get_mut(word) {
        Some(count) => *count += by,
        None => {
            counts.insert(word.to_string(), by);
        }
    }
}

/// The scatter on one machine: `n` consecutive shards of about equal size, each cut just
/// after a line break, so that no line is split between two workers.
pub fn split_into_shards(text: &str, n: usize) -> Vec<&str> {
    let mut shards = Vec::with_capacity(n);
    let mut start = 0;
    for shard in 1..=n {
        let aim = (shard * text.len() / n).max(start);
        let next_line = text.as_bytes()[aim..].iter().position(|&b| b == b'\n');
        let end = next_line.map_or(text.len(), |at| aim + at + 1);
        shards.push(&text[start..if shard == n { text.len() } else { end }]);
        start = end.min(text.len());
    }
    shards
}

/// Runs `work` on a scoped thread per item: a thread refused is an error, a panic passed on.
fn on_threads<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync) -> io::Result<Vec<T>> {
    let work = &work;
    thread::scope(|scope| {
        let mut workers = Vec::with_capacity(items.len());
        for item in items {
            workers.push(thread::Builder::new().spawn_scoped(scope, move || work(item))?);
        }
        Ok(workers
            .into_iter()
            .map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::Corpus;

    fn corpus_text(seed: u64, blocks: usize, block_bytes: usize) -> String {
        Corpus {
            seed,
            blocks,
            block_bytes,
        }
        .whole()
        .0
    }

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
        assert_eq!((count.lines, count.words(), count.letters()), (2, 5, 5));
    }

    #[test]
    fn owners_are_spread_and_stable() {
        assert_eq!(owner_of("river", 1), 0);
        let owners: Vec<usize> = ["the", "and", "of", "river", "raft", "night"]
            .iter()
            .map(|w| owner_of(w, 2))
            .collect();
        assert!(owners.contains(&0) && owners.contains(&1), "{owners:?}");
        // FNV-1a of "a" is 0xaf63dc4c8601ec8c: pinned, so that every machine agrees.
        assert_eq!(owner_of("a", 1 << 20), (0xaf63_dc4c_8601_ec8c_u64 % (1 << 20)) as usize);
    }

    #[test]
    fn shards_cover_the_text_once_and_split_no_line() {
        let text = corpus_text(1, 3, 3_000);
        for n in [1, 2, 3, 7, 500] {
            let shards = split_into_shards(&text, n);
            assert_eq!(shards.len(), n);
            assert_eq!(shards.concat(), text);
            for shard in &shards[..n - 1] {
                assert!(shard.is_empty() || shard.ends_with('\n'), "{n} shards");
            }
        }
        assert_eq!(split_into_shards("", 3), ["", "", ""]);
        assert_eq!(split_into_shards("no line break", 2), ["no line break", ""]);
    }

    #[test]
    fn threads_count_exactly_like_one_thread() {
        for (seed, n_threads) in [(11, 1), (12, 2), (13, 3), (14, 8)] {
            let text = corpus_text(seed, 3, 10_000);
            assert_eq!(count_on_threads(&text, n_threads).unwrap(), count_sequential(&text));
        }
        assert_eq!(count_on_threads("", 4).unwrap(), WordCount::default());
        assert_eq!(
            count_on_threads("one line\n", 4).unwrap(),
            count_sequential("one line\n")
        );
    }

    #[test]
    fn one_dataflow_worker_counts_like_one_thread() {
        let text = corpus_text(11, 3, 20_000);
        let expected = count_sequential(&text);
        for shuffle in [Shuffle::EveryWord, Shuffle::Combined] {
            let shard = text.clone();
            let answer = timely::execute_directly(move |worker| count_as_dataflow(worker, &shard, shuffle));
            assert_eq!(answer, expected, "{shuffle:?}");
        }
    }

    #[test]
    fn several_dataflow_workers_agree_with_one_thread() {
        // Three worker threads of one process: the exchanges really route records between them.
        let corpus = Corpus {
            seed: 5,
            blocks: 6,
            block_bytes: 10_000,
        };
        let expected = count_sequential(&corpus.whole().0);
        for shuffle in [Shuffle::EveryWord, Shuffle::Combined] {
            let guards = timely::execute(timely::Config::process(3), move |worker| {
                let shard = corpus.text_of(corpus.blocks_of(worker.index(), worker.peers()));
                count_as_dataflow(worker, &shard, shuffle)
            })
            .expect("timely starts");
            let answers: Vec<WordCount> = guards.join().into_iter().map(|r| r.expect("worker ran")).collect();
            assert_eq!(answers[0], expected, "{shuffle:?}");
            assert_eq!(answers[1], WordCount::default(), "only worker 0 gathers");
        }
    }
}
