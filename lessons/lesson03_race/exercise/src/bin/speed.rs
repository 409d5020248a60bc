//! The speed verdict for lesson 03's exercise (`cargo homework 03` runs it once the checks
//! pass): each fix, yours against the reference, on every core this machine gives, with the
//! same counts. Built only with `--features speed`.

use lesson03_race_exercise as yours;
use lesson03_race_exercise::reference;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_threads = speed.cores().max(2);
    let increments: u64 = if speed.quick() { 10_000 } else { 1_000_000 };
    let workload = format!(
        "{n_threads} threads × {} increments",
        homework::speed::count(increments)
    );
    // The same small event for both: it keeps each increment a real step of the loop.
    let event = |thread: usize| {
        std::hint::black_box(thread);
    };
    // The reference's threads queue for the lock: the cores they keep busy vary by design.
    speed.compare_contended(
        "count_with_mutex",
        workload.clone(),
        n_threads,
        "a lock held for more than one increment, or threads that wait for each other",
        || reference::count_with_mutex(&Mutex::new(0), n_threads, increments, event),
        || yours::count_with_mutex(&Mutex::new(0), n_threads, increments, event),
    );
    speed.compare(
        "count_with_fetch_add",
        workload,
        n_threads,
        "a lock or a compare-and-swap loop where one fetch_add would do",
        || reference::count_with_fetch_add(&AtomicU64::new(0), n_threads, increments, event),
        || yours::count_with_fetch_add(&AtomicU64::new(0), n_threads, increments, event),
    );
    // Private tallies are so much quicker that they get 20 times the count, to be timed at all.
    let local_increments = 20 * increments;
    speed.compare(
        "count_locally_then_sum",
        format!(
            "{n_threads} threads × {} increments",
            homework::speed::count(local_increments)
        ),
        n_threads,
        "something shared touched inside the loop, or threads that run one after another",
        || reference::count_locally_then_sum(n_threads, local_increments, event, || 0u64),
        || yours::count_locally_then_sum(n_threads, local_increments, event, || 0u64),
    );
    std::process::exit(speed.finish());
}
