//! The speed verdict for lesson 02's exercise (`cargo homework 02` runs it once the checks
//! pass): both ways of collecting results, yours against the reference, on items that each
//! cost the same, one thread per item. Built only with `--features speed`.

use lesson02_threads_exercise as yours;
use lesson02_threads_exercise::reference;

/// One item's work: a computation of a few milliseconds.
fn work(item: &u64) -> u64 {
    (0..2_000_000u64).fold(*item, |x, k| std::hint::black_box(x.rotate_left(3) ^ k))
}

/// The results, summed: equal lists give equal answers.
fn total(results: Vec<u64>) -> u64 {
    results.into_iter().fold(0, u64::wrapping_add)
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_items: u64 = if speed.quick() { 4 } else { 64 };
    let items: Vec<u64> = (0..n_items).collect();
    let workload = format!("{n_items} items of equal work, one thread each");
    let workers = speed.cores();
    speed.compare(
        "collect_with_join_handles",
        workload.clone(),
        workers,
        "threads joined before the next one is spawned",
        || total(reference::collect_with_join_handles(&items, work)),
        || total(yours::collect_with_join_handles(&items, work)),
    );
    speed.compare(
        "collect_with_channel",
        workload,
        workers,
        "results received only after every thread was joined, or threads spawned one after another",
        || total(reference::collect_with_channel(&items, work, |_| {})),
        || total(yours::collect_with_channel(&items, work, |_| {})),
    );
    std::process::exit(speed.finish());
}
