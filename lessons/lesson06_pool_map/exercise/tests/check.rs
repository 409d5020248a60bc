//! Checks for lesson 06's exercise. Run them with `cargo homework 06`.

use lesson06_pool_map_exercise::{build_pool, total_words_on_pool, word_counts_on_pool, word_counts_sequential};
use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use workloads::seed::{SEED_WORD_COUNT, seed_strings, word_count};

/// Generated English-looking text, cut into sentences: thousands of strings of uneven length.
fn sentences(seed: u64, bytes: usize) -> Vec<String> {
    workloads::text::generate(seed, bytes)
        .split_inclusive(['.', '?', '!'])
        .map(str::to_string)
        .collect()
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn the_pool_has_the_threads_asked_for_with_their_names() {
    for n_threads in [1, 3] {
        let pool = build_pool(n_threads);
        assert_eq!(
            pool.current_num_threads(),
            n_threads,
            "build_pool({n_threads}) made a pool of another size. Hint: ThreadPoolBuilder::new().num_threads(n_threads)"
        );
        // Every thread of the pool, once each: their names, in index order.
        let mut names: Vec<(usize, Option<String>)> =
            pool.broadcast(|context| (context.index(), std::thread::current().name().map(str::to_string)));
        names.sort();
        let names: Vec<Option<String>> = names.into_iter().map(|(_, name)| name).collect();
        let expected: Vec<Option<String>> = (0..n_threads)
            .map(|index| Some(format!("word-count-{index}")))
            .collect();
        assert_eq!(
            names, expected,
            "the threads of build_pool({n_threads}) are named {names:?}. Hint: .thread_name(|index| format!(\"word-count-{{index}}\")): rayon numbers its threads from 0, and the name uses that index as it is"
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn the_300_strings_of_the_lecture_have_1100_words() {
    let pool = build_pool(4);
    let strings = seed_strings();
    assert_eq!(
        total_words_on_pool(&pool, &strings, word_count),
        SEED_WORD_COUNT,
        "total_words_on_pool counted the lecture's 300 strings wrong. Hint: count each string with workloads::seed::word_count and add them all up"
    );
    let counts = word_counts_on_pool(&pool, &strings, word_count);
    assert_eq!(
        counts.iter().sum::<usize>(),
        SEED_WORD_COUNT,
        "word_counts_on_pool's counts of the lecture's 300 strings do not add up to 1100. Hint: one count per string, none left out or repeated"
    );
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn bigger_inputs_give_the_sequential_total() {
    let pool = build_pool(3);
    for (seed, bytes) in [(1, 200_000), (2, 2_000_000)] {
        let owned = sentences(seed, bytes);
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let expected: usize = word_counts_sequential(&texts).iter().sum();
        assert_eq!(
            total_words_on_pool(&pool, &texts, word_count),
            expected,
            "{} sentences of generated text gave a different total from the sequential count. Hint: every text must be counted exactly once",
            texts.len()
        );
    }
    assert_eq!(
        total_words_on_pool(&pool, &[], word_count),
        0,
        "no texts at all should make 0 words. Hint: a parallel sum of nothing is 0"
    );
    assert_eq!(
        word_counts_on_pool(&pool, &[], word_count),
        Vec::<usize>::new(),
        "no texts should give no counts. Hint: collect the mapped par_iter as it is"
    );
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn counts_come_back_in_input_order() {
    let pool = build_pool(4);
    // Text i has a number of words that differs from its neighbours', so a count in the
    // wrong place shows.
    let owned: Vec<String> = (0..5_000).map(|i| "word ".repeat((i * 7919) % 50)).collect();
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let counts = word_counts_on_pool(&pool, &texts, word_count);
    assert_eq!(
        counts.len(),
        texts.len(),
        "{} texts gave {} counts. Hint: one count per text",
        texts.len(),
        counts.len()
    );
    let expected = word_counts_sequential(&texts);
    let first_wrong = counts.iter().zip(&expected).position(|(got, want)| got != want);
    assert_eq!(
        first_wrong, None,
        "the counts are not in input order (the first misplaced one is for text {first_wrong:?}). Hint: collect into a Vec straight from texts.par_iter().map(...): rayon puts each result at its item's index; pushing into a shared Vec as threads finish does not"
    );
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn every_text_is_counted_once_on_the_given_pool() {
    let pool = build_pool(3);
    let owned = sentences(3, 100_000);
    let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
    let calls = AtomicUsize::new(0);
    let calls_elsewhere = AtomicUsize::new(0);
    word_counts_on_pool(&pool, &texts, |text| {
        // Relaxed is enough: the counters are read after the map has returned.
        calls.fetch_add(1, Ordering::Relaxed);
        if pool.current_thread_index().is_none() {
            calls_elsewhere.fetch_add(1, Ordering::Relaxed);
        }
        word_count(text)
    });
    assert_eq!(
        calls.load(Ordering::Relaxed),
        texts.len(),
        "count_words was called {} times for {} texts. Hint: call it exactly once per text",
        calls.load(Ordering::Relaxed),
        texts.len()
    );
    assert_eq!(
        calls_elsewhere.load(Ordering::Relaxed),
        0,
        "{} texts were counted on threads that are not the given pool's. Hint: run the par_iter inside pool.install(|| ...); outside it rayon uses its global pool",
        calls_elsewhere.load(Ordering::Relaxed)
    );
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn more_than_one_thread_of_the_pool_does_work() {
    // Until two calls have been seen running at once, each call waits for a second one (up
    // to a deadline, so a wrong answer fails instead of hanging). A map that really spreads
    // over the pool gets there at once; one that runs on a single thread never does.
    let pool = build_pool(4);
    let texts = seed_strings();
    let running = AtomicUsize::new(0);
    let two_at_once = AtomicBool::new(false);
    let threads_used = Mutex::new(BTreeSet::new());
    let deadline = Instant::now() + Duration::from_secs(5);
    word_counts_on_pool(&pool, &texts, |text| {
        threads_used.lock().unwrap().insert(pool.current_thread_index());
        running.fetch_add(1, Ordering::SeqCst);
        while !two_at_once.load(Ordering::SeqCst) && Instant::now() < deadline {
            if running.load(Ordering::SeqCst) >= 2 {
                two_at_once.store(true, Ordering::SeqCst);
            }
            std::thread::yield_now();
        }
        running.fetch_sub(1, Ordering::SeqCst);
        word_count(text)
    });
    let threads_used = threads_used.into_inner().unwrap();
    assert!(
        threads_used.len() > 1,
        "every text was counted on one thread ({threads_used:?}, by the pool's index). Hint: the texts must be split among the pool's threads: texts.par_iter() as it is, with no with_min_len or par_chunks as large as the input (texts.iter() runs on one thread even inside install)"
    );
    assert!(
        two_at_once.load(Ordering::SeqCst),
        "{} threads took part, but never two at once. Hint: a lock held while count_words runs makes the threads take turns; let each result travel back through collect",
        threads_used.len()
    );
}

#[test]
#[ignore = "homework: run cargo homework 06"]
fn the_total_is_counted_on_the_pool_too() {
    // As for the counts: every text counted on one of the pool's threads, and (each call waiting
    // for a second one, up to a deadline) more than one of them counting at once.
    let pool = build_pool(4);
    let texts = seed_strings();
    let calls = AtomicUsize::new(0);
    let calls_elsewhere = AtomicUsize::new(0);
    let running = AtomicUsize::new(0);
    let two_at_once = AtomicBool::new(false);
    let deadline = Instant::now() + Duration::from_secs(5);
    let total = total_words_on_pool(&pool, &texts, |text| {
        // Relaxed for the counters: read after the sum has returned.
        calls.fetch_add(1, Ordering::Relaxed);
        if pool.current_thread_index().is_none() {
            calls_elsewhere.fetch_add(1, Ordering::Relaxed);
            return word_count(text);
        }
        // SeqCst: who is running at the same moment is the question.
        running.fetch_add(1, Ordering::SeqCst);
        while !two_at_once.load(Ordering::SeqCst) && Instant::now() < deadline {
            if running.load(Ordering::SeqCst) >= 2 {
                two_at_once.store(true, Ordering::SeqCst);
            }
            std::thread::yield_now();
        }
        running.fetch_sub(1, Ordering::SeqCst);
        word_count(text)
    });
    let elsewhere = calls_elsewhere.load(Ordering::Relaxed);
    assert_eq!(
        elsewhere,
        0,
        "total_words_on_pool counted {elsewhere} of the {} texts on a thread that is not the pool's (the caller's, one after another). Hint: the total is work like the counts: pool.install(|| texts.par_iter().map(...).sum())",
        texts.len()
    );
    assert_eq!(
        calls.load(Ordering::Relaxed),
        texts.len(),
        "total_words_on_pool called count_words {} times for {} texts. Hint: once per text",
        calls.load(Ordering::Relaxed),
        texts.len()
    );
    assert!(
        two_at_once.load(Ordering::SeqCst),
        "total_words_on_pool counted on the pool, but never two texts at once. Hint: texts.par_iter() as it is, so that several of the pool's threads count at the same time"
    );
    assert_eq!(
        total, SEED_WORD_COUNT,
        "total_words_on_pool of the lecture's 300 strings. Hint: add up every count"
    );
}
