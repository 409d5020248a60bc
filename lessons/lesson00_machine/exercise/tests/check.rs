//! Checks for lesson 00's exercise. Run them with `cargo homework 00`.
//!
//! Nothing here is timed: the tasks tell the checks which thread runs what, and wait for each
//! other where a check needs the blocks to run at the same moment (a deadline only turns a hang
//! into a failure).

use lesson00_machine_exercise::{run_in_blocks, run_sequential};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

#[test]
#[ignore = "homework: run cargo homework 00"]
fn same_sum_as_sequential() {
    let task = |i: usize| (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for (n_tasks, n_threads) in [(10, 2), (1000, 3), (7, 7), (3, 8), (1, 1), (0, 4)] {
        assert_eq!(
            run_in_blocks(n_tasks, n_threads, task),
            run_sequential(n_tasks, task),
            "{n_tasks} tasks on {n_threads} threads gave a different sum. Hint: every task's result must be added exactly once"
        );
    }
}

/// Which thread ran which tasks.
fn who_ran_what(n_tasks: usize, n_threads: usize) -> HashMap<ThreadId, Vec<usize>> {
    let ran = Mutex::new(HashMap::<ThreadId, Vec<usize>>::new());
    run_in_blocks(n_tasks, n_threads, |i| {
        ran.lock()
            .unwrap()
            .entry(std::thread::current().id())
            .or_default()
            .push(i);
        0
    });
    ran.into_inner().unwrap()
}

#[test]
#[ignore = "homework: run cargo homework 00"]
fn every_task_runs_exactly_once() {
    let mut all: Vec<usize> = who_ran_what(503, 4).into_values().flatten().collect();
    all.sort();
    assert_eq!(
        all,
        (0..503).collect::<Vec<_>>(),
        "some tasks ran zero times or more than once. Hint: the blocks must cover 0..n_tasks without overlapping"
    );
}

#[test]
#[ignore = "homework: run cargo homework 00"]
fn each_thread_runs_one_contiguous_block_of_nearly_equal_size() {
    let blocks = who_ran_what(10, 4);
    let mut sizes: Vec<usize> = Vec::new();
    for tasks in blocks.values() {
        let mut tasks = tasks.clone();
        tasks.sort();
        let contiguous = tasks.windows(2).all(|pair| pair[1] == pair[0] + 1);
        assert!(
            contiguous,
            "one thread ran tasks {tasks:?}, which is not one block. Hint: give each thread a range start..end"
        );
        sizes.push(tasks.len());
    }
    sizes.sort();
    assert_eq!(
        sizes,
        vec![2, 2, 3, 3],
        "10 tasks on 4 threads should make blocks of 3, 3, 2, 2. Hint: the first n_tasks % n_threads blocks get one task more"
    );
}

#[test]
#[ignore = "homework: run cargo homework 00"]
fn the_threads_really_run_at_the_same_time() {
    // Each task waits (up to a deadline, so a wrong answer fails instead of hanging) until
    // all n_threads tasks are running at once. Only truly concurrent threads get there.
    let n_threads = 4;
    let running = AtomicUsize::new(0);
    let reached = AtomicUsize::new(0);
    let deadline = Instant::now() + Duration::from_secs(5);
    run_in_blocks(n_threads, n_threads, |_| {
        running.fetch_add(1, Ordering::SeqCst);
        while running.load(Ordering::SeqCst) < n_threads && Instant::now() < deadline {
            std::thread::yield_now();
        }
        if running.load(Ordering::SeqCst) >= n_threads {
            reached.fetch_add(1, Ordering::SeqCst);
        }
        0
    });
    assert_eq!(
        reached.load(Ordering::SeqCst),
        n_threads,
        "the {n_threads} blocks never ran at the same time. Hint: spawn every thread before joining any of them"
    );
}

#[test]
#[ignore = "homework: run cargo homework 00"]
fn the_block_sums_meet_without_a_race() {
    // Each block is one task that waits until every block is running, then returns a bit of its
    // own: all the threads finish at the same moment and hand their sums over together, which
    // is when a shared total updated with a separate load and store loses one. A race shows
    // only now and then, so this runs until a sum comes out wrong, or for 3 seconds (a racy
    // total loses a sum within a few hundred runs on two cores).
    let deadline = Instant::now() + Duration::from_secs(3);
    let n_threads = std::thread::available_parallelism().map_or(2, usize::from).clamp(2, 4);
    let expected: u64 = (1u64 << n_threads) - 1;
    let mut run = 0;
    while Instant::now() < deadline {
        run += 1;
        let running = AtomicUsize::new(0);
        let sum = run_in_blocks(n_threads, n_threads, |i| {
            // SeqCst: who has arrived is the whole question.
            running.fetch_add(1, Ordering::SeqCst);
            while running.load(Ordering::SeqCst) < n_threads && Instant::now() < deadline {
                std::hint::spin_loop();
            }
            1 << i
        });
        if sum != expected {
            let lost = (expected & !sum).count_ones();
            panic!(
                "{n_threads} blocks that all finished at the same moment summed to {sum:#b} instead of {expected:#b} \
                 on run {run}: {lost} block sum(s) lost. The blocks' sums were added to a shared total with a \
                 separate load and store, and two threads stored at once (a race, as in lesson 03). Hint: return \
                 each block's sum from its thread and add up what join returns; nothing shared while the threads run"
            );
        }
    }
}
