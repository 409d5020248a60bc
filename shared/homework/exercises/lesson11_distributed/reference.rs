//! Exercise: a map/reduce word count on threads and channels
//!
//! The reference solution.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;

/// Who calls `started`: mapper `w` or reducer `r`, numbered from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Mapper(usize),
    Reducer(usize),
}

/// Calls `visit` with every word of `text`, in order, as lesson 11 splits them: on
/// whitespace, with punctuation trimmed from both ends, in lower case. "River," and "river"
/// are the same word.
pub fn for_each_word(text: &str, mut visit: impl FnMut(&str)) {
    for raw in text.split_whitespace() {
        let word = raw.trim_matches(|c: char| c.is_ascii_punctuation());
        if !word.is_empty() {
            visit(&word.to_ascii_lowercase());
        }
    }
}

/// The reducer that owns `word` among `reducers`: a hash of the word (FNV-1a, the same on
/// every machine and in every run), modulo the number of reducers.
pub fn owner_of(word: &str, reducers: usize) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in word.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % reducers.max(1) as u64) as usize
}

/// The word count on this thread: the answer every map/reduce must give.
pub fn count_sequential(text: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for_each_word(text, |word| *counts.entry(word.to_string()).or_insert(0) += 1);
    counts
}

/// The whole map/reduce: scatter, map, shuffle, reduce, gather.
pub fn word_count(text: &str, n_workers: usize) -> BTreeMap<String, u64> {
    gather(map_reduce(text, n_workers, |_| {}, |_, _, _| {}))
}

/// The scatter: `n_shards` consecutive pieces of `text`, cut only next to whitespace.
pub fn split_into_shards(text: &str, n_shards: usize) -> Vec<&str> {
    let n_shards = n_shards.max(1);
    let mut shards = Vec::with_capacity(n_shards);
    let mut start = 0;
    for shard in 1..=n_shards {
        let end = if shard == n_shards {
            text.len()
        } else {
            // A cut pushed far forward by a long word may pass the next aim: never go back.
            next_cut(text, (shard * text.len() / n_shards).max(start))
        };
        shards.push(&text[start..end]);
        start = end;
    }
    shards
}

/// The first place at or after byte `position` where a cut splits no word: just before a
/// whitespace character, or the end of the text.
fn next_cut(text: &str, position: usize) -> usize {
    let mut position = position.min(text.len());
    while !text.is_char_boundary(position) {
        position += 1;
    }
    text[position..]
        .find(char::is_whitespace)
        .map_or(text.len(), |offset| position + offset)
}

/// What travels from a mapper to a reducer: a word and how often the mapper saw it.
type Record = (String, u64);

/// Map, shuffle and reduce on `n_workers` mapper and `n_workers` reducer threads: the counts
/// each reducer holds, one map per reducer.
pub fn map_reduce(
    text: &str,
    n_workers: usize,
    started: impl Fn(Role) + Sync,
    received: impl Fn(usize, &str, u64) + Sync,
) -> Vec<HashMap<String, u64>> {
    let n_workers = n_workers.max(1);
    let shards = split_into_shards(text, n_workers);
    let (started, received) = (&started, &received);
    std::thread::scope(|scope| {
        // The network: one channel per reducer, and every mapper holds a sender to each.
        let (senders, receivers): (Vec<mpsc::Sender<Record>>, Vec<mpsc::Receiver<Record>>) =
            (0..n_workers).map(|_| mpsc::channel()).unzip();
        let reducers: Vec<_> = receivers
            .into_iter()
            .enumerate()
            .map(|(reducer, receiver)| {
                scope.spawn(move || {
                    started(Role::Reducer(reducer));
                    let mut counts: HashMap<String, u64> = HashMap::new();
                    // This loop ends when the channel has no sender left: when every mapper
                    // has finished and dropped its senders. Only then are the counts final.
                    for (word, count) in receiver {
                        received(reducer, &word, count);
                        *counts.entry(word).or_insert(0) += count;
                    }
                    counts
                })
            })
            .collect();
        for (mapper, shard) in shards.into_iter().enumerate() {
            let senders = senders.clone();
            scope.spawn(move || {
                started(Role::Mapper(mapper));
                // A combiner: count the shard here first, so that one record per distinct
                // word travels instead of one per occurrence.
                let mut counts: HashMap<String, u64> = HashMap::new();
                for_each_word(shard, |word| match counts.get_mut(word) {
                    Some(count) => *count += 1,
                    None => {
                        counts.insert(word.to_string(), 1);
                    }
                });
                for (word, count) in counts {
                    let owner = owner_of(&word, senders.len());
                    // A reducer hangs up only after every sender is gone, ours included, so
                    // this send cannot fail while we hold `senders`.
                    senders[owner]
                        .send((word, count))
                        .expect("a reducer stays until every mapper is done");
                }
                // Returning drops this mapper's senders: its part of the shuffle is over.
            });
        }
        // The crux: this thread still holds the original senders. Unless they go now, no
        // reducer's loop can ever end, and joining the reducers below would wait forever.
        drop(senders);
        reducers
            .into_iter()
            .map(|reducer| reducer.join().expect("a reducer panicked"))
            .collect()
    })
}

/// The gather: every reducer's counts in one map.
pub fn gather(per_reducer: Vec<HashMap<String, u64>>) -> BTreeMap<String, u64> {
    let mut all = BTreeMap::new();
    for counts in per_reducer {
        for (word, count) in counts {
            // Each word has one owner, so this adds to nothing; adding keeps it right anyway.
            *all.entry(word).or_insert(0) += count;
        }
    }
    all
}
