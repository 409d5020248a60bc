//! Exercise: a map/reduce word count on threads and channels
//!
//! Lesson 11 counted words on several processes that talk over TCP: the text was scattered
//! among them, each mapped its part to words, every word went to the one process that owns
//! it (the shuffle), the owners counted (reduce), and process 0 gathered the counts. Build the
//! same steps inside one process, with threads for the processes and channels for the
//! network. Complete:
//! - `split_into_shards` (the scatter): cut `text` into exactly `n_shards` pieces, in order,
//!   that joined give back `text` byte for byte. Cut only next to whitespace, so that no word
//!   is split between two shards, and keep the pieces about equal: aim cut `i` at
//!   `i * text.len() / n_shards` and move it forward to the next whitespace (or the end).
//!   Some shards may be empty (more shards than words, or an empty text);
//! - `map_reduce` (map, shuffle, reduce): `n_workers` mapper threads and `n_workers` reducer
//!   threads, all running at the same time. Mapper `w` takes shard `w` of
//!   `split_into_shards(text, n_workers)`, splits it into words with `for_each_word`, and sends
//!   each word through a channel to reducer `owner_of(word, n_workers)`: as `(word, 1)` per
//!   occurrence, or, counting its shard first (a combiner, as section 7 of the lesson does),
//!   as `(word, count)` once per distinct word. Reducer `r` adds up everything it receives.
//!   Return the reducers' counts, one map per reducer, in reducer order;
//! - `gather`: the reducers' maps merged into one, the whole word count.
//!
//! Every thread calls `started` once, on its own thread, before anything else: mapper `w`
//! with `Role::Mapper(w)`, reducer `r` with `Role::Reducer(r)`. (A thread may also map and
//! then reduce, as each process of the lesson does; it then calls `started` once per role.)
//! And reducer `r` calls `received(r, word, count)` for each record it takes from its channel,
//! on its own thread, before adding it up. The checks use both to watch your threads.
//!
//! Check your work with `cargo homework 11`; stuck, `cargo homework hint 11` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

use std::collections::{BTreeMap, HashMap};

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
    todo!(
        "aim cut i at i * len / n_shards, move it forward to the next whitespace; n_shards pieces that join back into text"
    )
}

/// Map, shuffle and reduce on `n_workers` mapper and `n_workers` reducer threads: the counts
/// each reducer holds, one map per reducer.
pub fn map_reduce(
    text: &str,
    n_workers: usize,
    started: impl Fn(Role) + Sync,
    received: impl Fn(usize, &str, u64) + Sync,
) -> Vec<HashMap<String, u64>> {
    todo!(
        "one channel per reducer; mappers send (word, count) to owner_of(word, n_workers); reducers call received and add up; drop the spare senders; collect each reducer's map"
    )
}

/// The gather: every reducer's counts in one map.
pub fn gather(per_reducer: Vec<HashMap<String, u64>>) -> BTreeMap<String, u64> {
    todo!("merge the reducers' maps into one BTreeMap")
}
