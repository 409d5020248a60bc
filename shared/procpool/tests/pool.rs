//! The process pool, tested with real forked workers.
//!
//! This file has its own `main` (`harness = false` in Cargo.toml): the standard test harness
//! runs each test on a thread of its own, and a pool refuses to fork while the process has
//! more than one thread. Here every check runs in turn on the main thread. An alarm kills the
//! whole run if anything hangs, which is itself one of the things under test.

use course::children;
use procpool::{PoolError, ProcessPool};
use std::time::Duration;

/// Each check, by name. A failing check panics; the panic is caught and reported, and the
/// run fails at the end with the names of every failing check.
const CHECKS: &[(&str, fn())] = &[
    ("map returns results in item order", map_returns_results_in_item_order),
    (
        "every chunk size gives the same results",
        every_chunk_size_gives_the_same_results,
    ),
    (
        "completion order holds every item once",
        completion_order_holds_every_item_once,
    ),
    (
        "strings and large byte vectors cross the pipes",
        strings_and_large_vectors_cross,
    ),
    ("an empty map does nothing", an_empty_map_does_nothing),
    (
        "a worker that exits is reported with its item",
        a_worker_that_exits_is_reported_with_its_item,
    ),
    (
        "a worker killed mid-item is reported with its item",
        a_worker_killed_mid_item_is_reported,
    ),
    (
        "a panicking worker is reported, not hung on",
        a_panicking_worker_is_reported,
    ),
    (
        "pools do not hold each other's pipes open",
        pools_do_not_hold_each_others_pipes,
    ),
    ("the workers' CPU time is counted", the_workers_cpu_time_is_counted),
    (
        "a pool refuses to fork beside other threads",
        a_pool_refuses_to_fork_beside_other_threads,
    ),
];

fn main() {
    // If a check hangs, SIGALRM ends the process and the test fails instead of hanging.
    nix::unistd::alarm::set(120);
    // The panics below are expected and reported by name; keep their messages short.
    std::panic::set_hook(Box::new(|info| eprintln!("    {info}")));
    let mut failed = Vec::new();
    for (name, check) in CHECKS {
        let outcome = std::panic::catch_unwind(check);
        let leftover = children::live();
        let ok = outcome.is_ok() && leftover == 0;
        eprintln!("{} {name}", if ok { "ok  " } else { "FAIL" });
        if leftover > 0 {
            eprintln!("    {leftover} child process(es) left behind");
            children::kill_all();
        }
        if !ok {
            failed.push(*name);
        }
    }
    if failed.is_empty() {
        eprintln!("{} checks passed", CHECKS.len());
    } else {
        eprintln!("{} of {} checks failed: {failed:?}", failed.len(), CHECKS.len());
        std::process::exit(1);
    }
}

fn square(n: u64) -> u64 {
    n * n
}

fn map_returns_results_in_item_order() {
    let mut pool = ProcessPool::start(3, square).unwrap();
    assert_eq!(pool.n_workers(), 3);
    let results = pool.map(0..100u64, 1).unwrap();
    assert_eq!(results, (0..100u64).map(square).collect::<Vec<_>>());
    let report = pool.last_map().clone();
    assert_eq!(report.items, 100);
    assert_eq!(report.chunks, 100);
    assert_eq!(report.items_per_worker.iter().sum::<usize>(), 100);
    // The same pool serves a second map.
    assert_eq!(pool.map([7u64, 8], 5).unwrap(), vec![49, 64]);
    pool.shutdown().unwrap();
}

fn every_chunk_size_gives_the_same_results() {
    let mut pool = ProcessPool::start(2, |n: u64| workloads::seed::count_divisors(n)).unwrap();
    let items: Vec<u64> = (1000..1300).collect();
    let expected: Vec<u64> = items.iter().map(|&n| workloads::seed::count_divisors(n)).collect();
    for chunk in [1, 2, 7, 64, 299, 300, 10_000] {
        assert_eq!(pool.map(&items, chunk).unwrap(), expected, "chunk size {chunk}");
        assert_eq!(
            pool.last_map().chunks,
            items.len().div_ceil(chunk),
            "chunk size {chunk}"
        );
    }
    pool.shutdown().unwrap();
}

fn completion_order_holds_every_item_once() {
    let mut pool = ProcessPool::start(2, |millis: u64| {
        std::thread::sleep(Duration::from_millis(millis));
        millis
    })
    .unwrap();
    // The first item is slow: the second worker finishes the rest before it comes back.
    let items = [60u64, 1, 1, 1, 1];
    let arrived = pool.map_in_completion_order(items, 1).unwrap();
    let mut indices: Vec<usize> = arrived.iter().map(|(index, _)| *index).collect();
    assert_eq!(arrived.last().map(|(index, _)| *index), Some(0), "{arrived:?}");
    indices.sort();
    assert_eq!(indices, vec![0, 1, 2, 3, 4]);
    for (index, value) in arrived {
        assert_eq!(value, items[index]);
    }
    pool.shutdown().unwrap();
}

fn strings_and_large_vectors_cross() {
    let mut words = ProcessPool::start(2, |text: String| text.split_whitespace().count()).unwrap();
    let lines = workloads::seed::seed_strings();
    let counts = words.map(lines.iter().copied(), 16).unwrap();
    assert_eq!(counts.iter().sum::<usize>(), workloads::seed::SEED_WORD_COUNT);
    words.shutdown().unwrap();

    // Items and results far larger than a pipe's buffer, in large chunks, in both directions.
    let mut reverse = ProcessPool::start(2, |mut bytes: Vec<u8>| {
        bytes.reverse();
        bytes
    })
    .unwrap();
    let items: Vec<Vec<u8>> = (0..24u8).map(|i| vec![i; 300_000 + i as usize]).collect();
    let results = reverse.map(items.iter().map(Vec::as_slice), 5).unwrap();
    for (item, result) in items.iter().zip(&results) {
        let mut expected = item.clone();
        expected.reverse();
        assert_eq!(result, &expected);
    }
    assert!(reverse.last_map().bytes_sent > 24 * 300_000);
    reverse.shutdown().unwrap();
}

fn an_empty_map_does_nothing() {
    let mut pool = ProcessPool::start(2, square).unwrap();
    assert_eq!(pool.map(Vec::<u64>::new(), 4).unwrap(), Vec::<u64>::new());
    assert_eq!(pool.last_map().chunks, 0);
    pool.shutdown().unwrap();
}

fn a_worker_that_exits_is_reported_with_its_item() {
    let mut pool = ProcessPool::start(2, |n: u64| {
        if n == 13 {
            children::exit_now(3);
        }
        n
    })
    .unwrap();
    let error = pool.map(0..40u64, 4).unwrap_err();
    match &error {
        PoolError::WorkerDied { item, how, .. } => {
            assert_eq!(*item, Some(13), "{error}");
            assert!(how.contains("status 3"), "{error}");
        }
        other => panic!("expected a dead worker, got {other}"),
    }
    assert!(error.to_string().contains("item 13"), "{error}");
    // The pool is broken: it says so instead of hanging or computing half an answer.
    assert!(matches!(pool.map([1u64], 1), Err(PoolError::Broken(_))));
    assert_eq!(children::live(), 0, "every worker was reaped");
    assert!(pool.shutdown().is_err());
}

fn a_worker_killed_mid_item_is_reported() {
    let mut pool = ProcessPool::start(2, |millis: u64| {
        std::thread::sleep(Duration::from_millis(millis));
        millis
    })
    .unwrap();
    let pids = pool.worker_pids();
    // Item 0 returns quickly; item 1 sleeps for a minute in worker 1, which is then killed,
    // as the kernel's out-of-memory killer would do.
    let mut killed = false;
    let started = std::time::Instant::now();
    let outcome = pool.map_with([1u64, 60_000, 1, 1, 1], 1, |_, _| {
        if !killed {
            std::thread::sleep(Duration::from_millis(50));
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pids[1]), nix::sys::signal::Signal::SIGKILL);
            killed = true;
        }
    });
    match outcome {
        Err(PoolError::WorkerDied { worker, item, how, .. }) => {
            assert_eq!(worker, 1);
            assert_eq!(item, Some(1));
            assert!(how.contains("SIGKILL"), "{how}");
        }
        other => panic!("expected worker 1 to be reported dead, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the pool waited for the dead worker's item"
    );
    drop(pool);
}

fn a_panicking_worker_is_reported() {
    let mut pool = ProcessPool::start(2, |n: u64| {
        // Silence the child's panic message: this panic is expected.
        std::panic::set_hook(Box::new(|_| {}));
        assert!(n != 5, "item five is poison");
        n
    })
    .unwrap();
    match pool.map(0..10u64, 3) {
        Err(PoolError::WorkerDied { item, how, .. }) => {
            assert_eq!(item, Some(5));
            assert!(
                how.contains("101"),
                "a panic ends a forked child with status 101: {how}"
            );
        }
        other => panic!("expected a dead worker, got {other:?}"),
    }
}

fn pools_do_not_hold_each_others_pipes() {
    // Pool `first` is forked before pool `second`; were `second`'s workers to keep `first`'s
    // pipe ends open, the death below would never reach end-of-file and the map would hang.
    let mut first = ProcessPool::start(2, |n: u64| {
        if n == 3 {
            children::exit_now(9);
        }
        n
    })
    .unwrap();
    let mut second = ProcessPool::start(2, square).unwrap();
    assert!(matches!(
        first.map(0..8u64, 1),
        Err(PoolError::WorkerDied { item: Some(3), .. })
    ));
    assert_eq!(second.map([3u64], 1).unwrap(), vec![9]);
    second.shutdown().unwrap();
    drop(first);
}

fn the_workers_cpu_time_is_counted() {
    let mut pool = ProcessPool::start(2, |n: u64| workloads::seed::count_divisors(n)).unwrap();
    let (results, measurement) = pool
        .measured_map([3_000_000u64, 3_000_001, 3_000_002, 3_000_003], 1)
        .unwrap();
    assert_eq!(results.len(), 4);
    // The parent only waited; the computing happened in the workers and is charged to them.
    assert!(measurement.children > Duration::ZERO, "{measurement:?}");
    assert_eq!(pool.last_map().worker_cpu, measurement.children);
    assert!(
        measurement.children > measurement.user + measurement.system,
        "{measurement:?}"
    );
    pool.shutdown().unwrap();
}

fn a_pool_refuses_to_fork_beside_other_threads() {
    let (stop, wait) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || wait.recv());
    let refused = ProcessPool::start(2, square);
    stop.send(()).unwrap();
    let _ = thread.join();
    match refused {
        Err(PoolError::Start(why)) => assert!(why.contains("thread"), "{why}"),
        Err(other) => panic!("unexpected error {other}"),
        Ok(_) => panic!("a pool forked beside another thread"),
    }
    // Once the thread has ended, a pool starts again.
    let mut pool = ProcessPool::start(1, square).unwrap();
    assert_eq!(pool.map([4u64], 1).unwrap(), vec![16]);
    pool.shutdown().unwrap();
}
