//! Checks for lesson 11's exercise. Run them with `cargo homework 11`.
//!
//! Everything here counts; nothing is timed. The answers are compared with the sequential
//! count, word by word; each reducer's words are checked against `owner_of`; and the
//! `started` and `received` calls tell which threads ran, whether they all ran at once, and
//! which thread counted what. Every map/reduce
//! runs on a thread of its own with a deadline, so that one that never returns (reducers
//! waiting for a sender nobody dropped) fails with a hint instead of hanging.

use lesson11_distributed_exercise::{
    Role, count_sequential, gather, map_reduce, owner_of, split_into_shards, word_count,
};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::ThreadId;
use std::time::{Duration, Instant};
use testkit::Meeting;

/// How long a whole map/reduce may take before a check gives up on it (a working one takes a
/// fraction of a second on the largest text here).
const PATIENCE: Duration = Duration::from_secs(6);
/// How long threads wait for each other at a meeting point (shorter than PATIENCE, so that a
/// missed meeting is reported as such, not as a hang).
const MEETING_PATIENCE: Duration = Duration::from_secs(3);

/// Whether a map/reduce has already hung in an earlier check: none is started again, so that
/// senders kept alive cost one PATIENCE in all, not one per check.
static HUNG: AtomicBool = AtomicBool::new(false);

/// Why a map/reduce does not return, as a hint.
const HANG_HINT: &str = "a reducer's `for (word, count) in receiver` ends only once every Sender of its channel is dropped: drop the senders the spawning code keeps before joining the reducers; and do not let a mapper wait on a reducer that has not started";

/// Generated English-looking text: capitals, commas and full stops included.
fn generated_text(seed: u64, bytes: usize) -> String {
    workloads::text::generate(seed, bytes)
}

/// Runs `work` on a thread of its own and waits for it at most PATIENCE.
#[track_caller]
fn with_deadline<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    // SeqCst: a plain flag between checks that run one after another.
    if HUNG.load(Ordering::SeqCst) {
        panic!("a map/reduce did not return in an earlier check, so {what} was not started again. Hint: {HANG_HINT}");
    }
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        // If `work` panics, `sender` is dropped without sending, and `recv` hears of it.
        let _ = sender.send(work());
    });
    match receiver.recv_timeout(PATIENCE) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            HUNG.store(true, Ordering::SeqCst);
            panic!(
                "{what} did not return within {} s. Hint: {HANG_HINT}",
                PATIENCE.as_secs()
            )
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
            "{what} panicked (the lines above say why). Hint: write each function in place of its todo!(); a cut inside a multi-byte character panics when sliced, so cut only where whitespace is"
        ),
    }
}

/// `split_into_shards`, with a panic turned into a failure with a hint.
#[track_caller]
fn shards_of(text: &str, n_shards: usize) -> Vec<&str> {
    catch_unwind(AssertUnwindSafe(|| split_into_shards(text, n_shards))).unwrap_or_else(|_| {
        panic!(
            "split_into_shards({}, {n_shards}) panicked (the line above says why). Hint: write it in place of its todo!(); slice only at char boundaries (`str::is_char_boundary`), which every whitespace character starts",
            preview(text)
        )
    })
}

/// `1 worker`, `4 workers`.
fn workers(n_workers: usize) -> String {
    if n_workers == 1 {
        "1 worker".to_string()
    } else {
        format!("{n_workers} workers")
    }
}

/// The start of `text`, for messages: `"The river, the raft …"`.
fn preview(text: &str) -> String {
    let start: String = text.chars().take(20).collect();
    if start.len() < text.len() {
        format!("{start:?}…")
    } else {
        format!("{start:?}")
    }
}

/// The longest run of non-whitespace bytes in `text`.
fn longest_word(text: &str) -> usize {
    text.split_whitespace().map(str::len).max().unwrap_or(0)
}

#[test]
#[ignore = "homework: run cargo homework 11"]
fn shards_cover_the_text_once_and_never_cut_a_word() {
    let generated = generated_text(11, 20_000);
    let texts: [&str; 7] = [
        &generated,
        "",
        "one",
        "a b c",
        "   \n\t  ",
        "smörgåsbord café naïve smörgåsbord über façade jalapeño",
        "word, word.\n\nWORD? a-very-long-hyphenated-word-that-no-cut-may-split and more",
    ];
    for text in texts {
        for n_shards in [1, 2, 3, 4, 7, 16] {
            let shards = shards_of(text, n_shards);
            assert_eq!(
                shards.len(),
                n_shards,
                "split_into_shards({}, {n_shards}) made {} shards. Hint: exactly n_shards pieces, some of them empty when the text is short",
                preview(text),
                shards.len()
            );
            let joined: String = shards.concat();
            assert!(
                joined == text,
                "the {n_shards} shards of {} do not join back into the text ({} bytes instead of {}). Hint: consecutive pieces text[start..end], the next starting where the last ended, whitespace kept",
                preview(text),
                joined.len(),
                text.len()
            );
            let mut cut = 0;
            for shard in &shards[..n_shards - 1] {
                cut += shard.len();
                let before = text[..cut].chars().next_back();
                let after = text[cut..].chars().next();
                let splits_a_word =
                    matches!((before, after), (Some(b), Some(a)) if !b.is_whitespace() && !a.is_whitespace());
                assert!(
                    !splits_a_word,
                    "split_into_shards({}, {n_shards}) cuts inside a word at byte {cut}: …{:?}|{:?}…. Hint: move each cut forward to the next whitespace",
                    preview(text),
                    &text[text[..cut].char_indices().nth_back(4).map_or(0, |(i, _)| i)..cut],
                    text[cut..].chars().take(5).collect::<String>()
                );
            }
            let allowed = text.len() / n_shards + longest_word(text) + 4;
            let longest = shards.iter().map(|shard| shard.len()).max().unwrap_or(0);
            assert!(
                longest <= allowed,
                "split_into_shards of {} bytes into {n_shards} made a shard of {longest} bytes; about {} each was the aim. Hint: aim cut i at i * len / n_shards, then move it forward to the next whitespace",
                text.len(),
                text.len() / n_shards
            );
        }
    }
}

/// The map/reduce of `text` on `n_workers`, gathered, under a deadline.
fn counted(text: &str, n_workers: usize) -> BTreeMap<String, u64> {
    let text = text.to_string();
    with_deadline(&format!("word_count on {}", workers(n_workers)), move || {
        word_count(&text, n_workers)
    })
}

/// Why `got` differs from `expected`, as a hint.
fn what_went_wrong(got: &BTreeMap<String, u64>, expected: &BTreeMap<String, u64>) -> String {
    let got_words: u64 = got.values().sum();
    let expected_words: u64 = expected.values().sum();
    let example = expected
        .iter()
        .find(|(word, count)| got.get(*word) != Some(*count))
        .map(|(word, count)| format!("'{word}' × {count} came out as {:?}", got.get(word)))
        .or_else(|| {
            got.keys()
                .find(|word| !expected.contains_key(*word))
                .map(|word| format!("'{word}' is not a word of the text"))
        })
        .unwrap_or_default();
    // A word that for_each_word would never hand out: capitals, or punctuation at an end.
    let untrimmed = got.keys().find(|word| {
        word.is_empty()
            || word.bytes().any(|b| b.is_ascii_uppercase() || b.is_ascii_whitespace())
            || word.starts_with(|c: char| c.is_ascii_punctuation())
            || word.ends_with(|c: char| c.is_ascii_punctuation())
    });
    if let Some(word) = untrimmed {
        return format!(
            "'{word}' is not a word as for_each_word makes them. Hint: split every shard with for_each_word, which trims punctuation and lowers the case, not with split_whitespace"
        );
    }
    let hint = if got_words < expected_words {
        "words went missing: every shard must be mapped, every record received before a reducer returns, and a reducer adds the count it receives, not 1"
    } else if got_words > expected_words {
        "more words than the text has: shards must not overlap, each mapper maps only its own shard, and a cut inside a word makes two words of it"
    } else {
        "as many words, but not the same ones: split with for_each_word (it trims punctuation and lowers the case), and cut shards only at whitespace"
    };
    format!("{got_words} words counted instead of {expected_words} ({example}). Hint: {hint}")
}

#[test]
#[ignore = "homework: run cargo homework 11"]
fn the_count_equals_the_sequential_count() {
    for (seed, bytes) in [(1, 50_000), (2, 200_000)] {
        let text = generated_text(seed, bytes);
        let expected = count_sequential(&text);
        for n_workers in [1, 2, 3, 4, 8] {
            let got = counted(&text, n_workers);
            assert!(
                got == expected,
                "word_count of {bytes} bytes of generated text on {} differs from count_sequential: {}",
                workers(n_workers),
                what_went_wrong(&got, &expected)
            );
        }
    }
}

/// Words and their counts, as the edge cases expect them.
type WordCounts = &'static [(&'static str, u64)];

#[test]
#[ignore = "homework: run cargo homework 11"]
fn edge_cases_count_right() {
    let cases: [(&str, usize, WordCounts, &str); 6] = [
        ("", 3, &[], "an empty text has no words"),
        ("  \n\t \n ", 4, &[], "whitespace alone has no words"),
        (
            "one two",
            8,
            &[("one", 1), ("two", 1)],
            "more workers than words: most shards are empty",
        ),
        (
            "The river, the RAFT! ... river?",
            2,
            &[("the", 2), ("river", 2), ("raft", 1)],
            "punctuation trimmed, case lowered",
        ),
        ("alone", 1, &[("alone", 1)], "one worker is a map/reduce too"),
        (
            "Naïve café, naïve CAFÉ; smörgåsbord.",
            3,
            &[("naïve", 2), ("café", 1), ("cafÉ", 1), ("smörgåsbord", 1)],
            "for_each_word lowers ASCII letters only: use it as it is",
        ),
    ];
    for (text, n_workers, words, case) in cases {
        let expected: BTreeMap<String, u64> = words.iter().map(|&(word, count)| (word.to_string(), count)).collect();
        assert_eq!(expected, count_sequential(text), "the check's own expectation");
        let got = counted(text, n_workers);
        assert!(
            got == expected,
            "word_count({text:?}, {n_workers}) gave {got:?}, not {expected:?} ({case}): {}",
            what_went_wrong(&got, &expected)
        );
    }
    let text = "one two".to_string();
    let per_reducer = with_deadline("map_reduce(\"one two\", 8)", move || {
        map_reduce(&text, 8, |_| {}, |_, _, _| {})
    });
    assert_eq!(
        per_reducer.len(),
        8,
        "map_reduce on 8 workers returned {} maps. Hint: one map per reducer, empty or not",
        per_reducer.len()
    );
}

#[test]
#[ignore = "homework: run cargo homework 11"]
fn every_word_is_counted_by_its_owner_alone() {
    let text = generated_text(3, 100_000);
    let expected = count_sequential(&text);
    for n_workers in [2, 3, 4, 7] {
        let owned_text = text.clone();
        let per_reducer = with_deadline(&format!("map_reduce on {n_workers} workers"), move || {
            map_reduce(&owned_text, n_workers, |_| {}, |_, _, _| {})
        });
        assert_eq!(
            per_reducer.len(),
            n_workers,
            "map_reduce on {n_workers} workers returned {} maps. Hint: one map per reducer, in reducer order",
            per_reducer.len()
        );
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (reducer, counts) in per_reducer.iter().enumerate() {
            for word in counts.keys() {
                let owner = owner_of(word, n_workers);
                assert_eq!(
                    owner, reducer,
                    "with {n_workers} workers, reducer {reducer} counted '{word}', whose owner is reducer {owner}. Hint: each mapper sends a word to reducer owner_of(word, n_workers), and map r of the result is reducer r's"
                );
                if let Some(other) = seen.insert(word, reducer) {
                    panic!(
                        "with {n_workers} workers, '{word}' was counted by reducers {other} and {reducer}. Hint: every record of a word goes to its one owner"
                    );
                }
            }
        }
        let gathered = catch_unwind(AssertUnwindSafe(|| gather(per_reducer.clone()))).unwrap_or_else(|_| {
            panic!("gather panicked (the line above says why). Hint: write it in place of its todo!(): merge the maps into one BTreeMap")
        });
        assert!(
            gathered == expected,
            "the reducers' counts on {n_workers} workers, gathered, differ from count_sequential: {}",
            what_went_wrong(&gathered, &expected)
        );
    }
}

/// Watches `started`: which thread took each role, how often, and whether all the mappers
/// (and, apart, all the reducers) were running at once: each waits at its `started` until the
/// others of its kind have arrived.
struct Probe {
    n_workers: usize,
    calls: Mutex<HashMap<Role, Vec<ThreadId>>>,
    out_of_range: Mutex<Vec<Role>>,
    mappers: Meeting,
    reducers: Meeting,
}

impl Probe {
    fn new(n_workers: usize) -> Self {
        let deadline = Instant::now() + MEETING_PATIENCE;
        Probe {
            n_workers,
            calls: Mutex::new(HashMap::new()),
            out_of_range: Mutex::new(Vec::new()),
            mappers: Meeting::new(n_workers, deadline),
            reducers: Meeting::new(n_workers, deadline),
        }
    }

    fn started(&self, role: Role) {
        let (Role::Mapper(index) | Role::Reducer(index)) = role;
        if index >= self.n_workers {
            self.out_of_range.lock().unwrap().push(role);
            return;
        }
        let first = {
            let mut calls = self.calls.lock().unwrap();
            let threads = calls.entry(role).or_default();
            threads.push(std::thread::current().id());
            threads.len() == 1
        };
        // Outside the lock: the others must be able to arrive while this one waits.
        if first {
            match role {
                Role::Mapper(_) => self.mappers.arrive_and_wait(),
                Role::Reducer(_) => self.reducers.arrive_and_wait(),
            }
        }
    }
}

/// `Role::Mapper` or `Role::Reducer`, to be given a number.
type RoleNumbered = fn(usize) -> Role;

#[test]
#[ignore = "homework: run cargo homework 11"]
fn the_mappers_and_the_reducers_run_at_the_same_time() {
    let text = Arc::new(generated_text(4, 30_000));
    let expected = count_sequential(&text);
    for n_workers in [2, 4, 8] {
        let probe = Arc::new(Probe::new(n_workers));
        let (watched, shared_text) = (Arc::clone(&probe), Arc::clone(&text));
        let per_reducer = with_deadline(&format!("map_reduce on {n_workers} workers"), move || {
            map_reduce(&shared_text, n_workers, |role| watched.started(role), |_, _, _| {})
        });
        let out_of_range = probe.out_of_range.lock().unwrap().clone();
        assert!(
            out_of_range.is_empty(),
            "with {n_workers} workers, started was called with {out_of_range:?}. Hint: number the mappers and the reducers 0 to n_workers - 1"
        );
        let calls = probe.calls.lock().unwrap().clone();
        let kinds: [(&str, RoleNumbered); 2] = [("mapper", Role::Mapper), ("reducer", Role::Reducer)];
        for (kind, role) in kinds {
            let mut threads = HashSet::new();
            for index in 0..n_workers {
                let callers = calls.get(&role(index)).cloned().unwrap_or_default();
                assert_eq!(
                    callers.len(),
                    1,
                    "with {n_workers} workers, started({:?}) was called {} times. Hint: each thread calls started once for each role it takes, first thing",
                    role(index),
                    callers.len()
                );
                threads.insert(callers[0]);
            }
            assert!(
                threads.len() == n_workers,
                "with {n_workers} workers, the {n_workers} {kind}s ran on {} thread(s). Hint: spawn one thread per {kind}, and call started from inside it",
                threads.len()
            );
        }
        assert!(
            probe.mappers.everyone_met(),
            "with {n_workers} workers, the mappers never ran all at the same time (each waited in started for the others, in vain). Hint: spawn every mapper before joining any"
        );
        assert!(
            probe.reducers.everyone_met(),
            "with {n_workers} workers, the reducers never ran all at the same time (each waited in started for the others, in vain). Hint: spawn every reducer before joining any; a reducer that runs on the calling thread, one after another, is not in parallel"
        );
        let gathered = gather(per_reducer);
        assert!(
            gathered == expected,
            "the count on {n_workers} watched workers differs from count_sequential: {}",
            what_went_wrong(&gathered, &expected)
        );
    }
}

/// Which thread called `received` for each reducer, and what it received.
#[derive(Default)]
struct Receipts {
    /// Reducer number → the threads that called received for it, and the words and counts.
    by_reducer: HashMap<usize, (HashSet<ThreadId>, HashMap<String, u64>)>,
    /// Reducer number → the thread that called started(Role::Reducer(r)).
    reducer_threads: HashMap<usize, ThreadId>,
}

#[test]
#[ignore = "homework: run cargo homework 11"]
fn each_reducer_counts_what_it_receives_on_its_own_thread() {
    let text = Arc::new(generated_text(5, 50_000));
    let expected = count_sequential(&text);
    let n_workers = 4;
    let receipts: Arc<Mutex<Receipts>> = Arc::default();
    let (watched, shared_text) = (Arc::clone(&receipts), Arc::clone(&text));
    let started_by = Arc::clone(&receipts);
    let caller = with_deadline("map_reduce on 4 workers, watched", move || {
        map_reduce(
            &shared_text,
            n_workers,
            |role| {
                if let Role::Reducer(r) = role {
                    started_by
                        .lock()
                        .unwrap()
                        .reducer_threads
                        .insert(r, std::thread::current().id());
                }
            },
            |reducer, word, count| {
                let mut receipts = watched.lock().unwrap();
                let (threads, words) = receipts.by_reducer.entry(reducer).or_default();
                threads.insert(std::thread::current().id());
                *words.entry(word.to_string()).or_insert(0) += count;
            },
        );
        std::thread::current().id()
    });
    let receipts = receipts.lock().unwrap();
    let received_words: u64 = receipts.by_reducer.values().flat_map(|(_, words)| words.values()).sum();
    let expected_words: u64 = expected.values().sum();
    assert!(
        received_words == expected_words,
        "the reducers were told of {received_words} words through received(r, word, count), but the text has \
         {expected_words}. Hint: each reducer calls received for every record it takes from its channel; the \
         counting is the reducers' work, on their threads, not a count made on the calling thread and handed \
         out afterwards"
    );
    for (reducer, (threads, words)) in &receipts.by_reducer {
        let own = receipts.reducer_threads.get(reducer);
        assert!(
            threads.len() == 1 && own.is_some_and(|own| threads.contains(own)) && !threads.contains(&caller),
            "the records of reducer {reducer} were received on {} thread(s){}{}. Hint: reducer r runs on a thread of \
             its own: it calls started(Role::Reducer(r)), then receives from its channel and calls received there",
            threads.len(),
            if threads.contains(&caller) {
                ", the calling thread among them"
            } else {
                ""
            },
            if own.is_some_and(|own| threads.contains(own)) {
                ""
            } else {
                ", not on the thread that started as that reducer"
            }
        );
        if let Some(word) = words.keys().find(|word| owner_of(word, n_workers) != *reducer) {
            panic!(
                "reducer {reducer} received '{word}', whose owner is reducer {}. Hint: a mapper sends each word to \
                 owner_of(word, n_workers)",
                owner_of(word, n_workers)
            );
        }
    }
}
