//! Checks for lesson 02's exercise. Run them with `cargo homework 02`.
//!
//! Nothing here is timed. `work` tells the checks which thread runs which item, and waits where
//! a check needs threads to be alive together: at a meeting point (every item's thread must be
//! there at once), or behind the next item (item i finishes only after item i + 1 has, so that
//! the threads end in reverse order). A deadline only turns a hang into a failure.

use lesson02_threads_exercise::{collect_with_channel, collect_with_join_handles};
use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// How long a thread waits for others before a check gives up on them.
const PATIENCE: Duration = Duration::from_secs(2);

/// How long a whole call may take before the check calls it a hang (every call here takes a
/// few milliseconds when it works).
const HANG: Duration = Duration::from_secs(4);

/// Whether a way has already hung in an earlier check: it is not called again, so that a kept
/// Sender costs one HANG in all, not one per check.
static HUNG: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

/// The two ways under test, by name, for messages.
#[derive(Clone, Copy, Debug)]
enum Way {
    JoinHandles,
    Channel,
}

impl Way {
    fn name(self) -> &'static str {
        match self {
            Way::JoinHandles => "collect_with_join_handles",
            Way::Channel => "collect_with_channel",
        }
    }
}

/// Runs `call` on a thread of its own and gives it [`HANG`] to return; a panic or a hang
/// becomes a failure with a hint.
#[track_caller]
fn finishes<R: Send + 'static>(way: Way, call: impl FnOnce() -> R + Send + 'static) -> R {
    // SeqCst: a plain flag between checks that run one after another.
    if HUNG[way as usize].load(Ordering::SeqCst) {
        panic!(
            "{} did not return in an earlier check, so this check does not call it again. Hint: {}",
            way.name(),
            hang_hint(way)
        );
    }
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(std::panic::catch_unwind(AssertUnwindSafe(call)));
    });
    match result.recv_timeout(HANG) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let hint = if message.contains("not yet implemented") {
                "replace the todo!() in src/exercise.rs"
            } else {
                "read the message: a thread panicked, or an expect or unwrap failed"
            };
            panic!("{} panicked: {message}. Hint: {hint}", way.name())
        }
        Err(_) => {
            HUNG[way as usize].store(true, Ordering::SeqCst);
            panic!(
                "{} did not return within {HANG:?}. Hint: {}",
                way.name(),
                hang_hint(way)
            )
        }
    }
}

/// What usually keeps a way from returning.
fn hang_hint(way: Way) -> &'static str {
    match way {
        Way::Channel => {
            "receiver.iter() ends only when every Sender has been dropped, the one you created included: drop \
             it after giving each thread its clone"
        }
        Way::JoinHandles => "join each handle once; a thread that waits for a result of its own never ends",
    }
}

/// Calls one of the two ways on `items`; for the channel, also returns the indices in the
/// order `on_arrival` was told them, and calls `also_on_arrival` with each.
fn collect(
    way: Way,
    items: Vec<u64>,
    work: impl Fn(&u64) -> u64 + Send + Sync + 'static,
    also_on_arrival: impl Fn(usize) + Send + 'static,
) -> (Vec<u64>, Vec<usize>) {
    finishes(way, move || match way {
        Way::JoinHandles => (collect_with_join_handles(&items, work), Vec::new()),
        Way::Channel => {
            let mut arrived = Vec::new();
            let results = collect_with_channel(&items, work, |index| {
                also_on_arrival(index);
                arrived.push(index);
            });
            (results, arrived)
        }
    })
}

/// Each item's result: distinct for distinct items, so that a lost or doubled result shows.
fn square_plus_one(x: &u64) -> u64 {
    x * x + 1
}

fn check_same_results_as_a_loop(way: Way) {
    for n_items in [0, 1, 5, 64] {
        let items: Vec<u64> = (0..n_items).map(|i| 3 * i + 1).collect();
        let expected: Vec<u64> = items.iter().map(square_plus_one).collect();
        // A little work per item, so that results keep arriving for a while.
        let work = |x: &u64| {
            std::thread::sleep(Duration::from_millis(2));
            square_plus_one(x)
        };
        let (got, arrived) = collect(way, items, work, |_| {});
        assert_eq!(
            got.len(),
            expected.len(),
            "{}: {n_items} items gave {} results. Hint: one result per item, each collected once: {}",
            way.name(),
            got.len(),
            match way {
                Way::JoinHandles => "join every handle, once",
                Way::Channel =>
                    "receive until the channel closes (for (index, result) in receiver.iter()), not with try_iter, \
                     which stops as soon as nothing is waiting",
            }
        );
        let (mut sorted_got, mut sorted_expected) = (got.clone(), expected.clone());
        sorted_got.sort_unstable();
        sorted_expected.sort_unstable();
        assert_eq!(
            sorted_got,
            sorted_expected,
            "{}: some results are missing and others doubled. Hint: each thread computes work(item) for its own \
             item; each result is collected once",
            way.name()
        );
        assert_eq!(
            got,
            expected,
            "{}: the right results, in the wrong order. Hint: return them in the order of the items: {}",
            way.name(),
            match way {
                Way::JoinHandles => "join the handles in the order you spawned them",
                Way::Channel => "send (index, result), and put each result at its index",
            }
        );
        if let Way::Channel = way {
            let mut sorted_arrivals = arrived.clone();
            sorted_arrivals.sort_unstable();
            assert_eq!(
                sorted_arrivals,
                (0..n_items as usize).collect::<Vec<_>>(),
                "collect_with_channel told on_arrival {arrived:?} for {n_items} items. Hint: call on_arrival(index) \
                 once for each result that comes out of the channel"
            );
        }
    }
}

#[test]
#[ignore = "homework: run cargo homework 02"]
fn join_handles_give_the_same_results_as_a_loop() {
    check_same_results_as_a_loop(Way::JoinHandles);
}

#[test]
#[ignore = "homework: run cargo homework 02"]
fn the_channel_gives_the_same_results_as_a_loop() {
    check_same_results_as_a_loop(Way::Channel);
}

#[test]
#[ignore = "homework: run cargo homework 02"]
fn every_item_runs_once_on_a_thread_of_its_own_all_at_the_same_time() {
    let n_items = 6;
    for way in [Way::JoinHandles, Way::Channel] {
        // Each call records its item and thread, then waits (up to the deadline) until every
        // item is being worked on at once. SeqCst: who arrived before whom is the question.
        let calls: Arc<Mutex<Vec<(u64, ThreadId)>>> = Arc::default();
        let arrived = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + PATIENCE;
        let work = {
            let (calls, arrived) = (Arc::clone(&calls), Arc::clone(&arrived));
            move |item: &u64| {
                calls.lock().unwrap().push((*item, std::thread::current().id()));
                arrived.fetch_add(1, Ordering::SeqCst);
                while arrived.load(Ordering::SeqCst) < n_items && Instant::now() < deadline {
                    std::thread::yield_now();
                }
                u64::from(arrived.load(Ordering::SeqCst) >= n_items)
            }
        };
        let caller: Arc<Mutex<Option<ThreadId>>> = Arc::default();
        let items: Vec<u64> = (0..n_items as u64).collect();
        let (met, _) = {
            let caller = Arc::clone(&caller);
            finishes(way, move || {
                *caller.lock().unwrap() = Some(std::thread::current().id());
                match way {
                    Way::JoinHandles => (collect_with_join_handles(&items, work), Vec::<usize>::new()),
                    Way::Channel => (collect_with_channel(&items, work, |_| {}), Vec::new()),
                }
            })
        };
        let calls = calls.lock().unwrap().clone();
        let caller = caller.lock().unwrap().expect("the call started");
        let mut items_called: Vec<u64> = calls.iter().map(|(item, _)| *item).collect();
        items_called.sort_unstable();
        assert_eq!(
            items_called,
            (0..n_items as u64).collect::<Vec<_>>(),
            "{}: work was called for items {items_called:?}. Hint: call work once for each item, on its own thread",
            way.name()
        );
        assert!(
            calls.iter().all(|(_, thread)| *thread != caller),
            "{}: work ran on the calling thread. Hint: every item's work runs in a thread you spawn for it",
            way.name()
        );
        let threads: HashSet<ThreadId> = calls.iter().map(|(_, thread)| *thread).collect();
        assert_eq!(
            threads.len(),
            n_items,
            "{}: {n_items} items ran on {} threads. Hint: one thread per item",
            way.name(),
            threads.len()
        );
        assert!(
            met.iter().all(|&on_time| on_time == 1),
            "{}: the {n_items} threads never ran all at the same time. Hint: spawn every thread before you \
             join any of them or wait for any result",
            way.name()
        );
    }
}

/// Work for the order checks: item i waits (up to the deadline) until `released[i + 1]` is
/// set, then sets its own `done` flag; returns 1000 × i + 1 when it was released in time, and
/// 1000 × i when it gave up waiting.
fn held_back_by_the_next_item(
    released: Arc<Vec<AtomicBool>>,
    done: Arc<Vec<AtomicBool>>,
    deadline: Instant,
) -> impl Fn(&u64) -> u64 + Send + Sync + 'static {
    move |&item: &u64| {
        let i = item as usize;
        let mut on_time = true;
        if let Some(next) = released.get(i + 1) {
            // SeqCst: the flag is the whole message between the threads.
            while !next.load(Ordering::SeqCst) {
                if Instant::now() >= deadline {
                    on_time = false;
                    break;
                }
                std::thread::yield_now();
            }
        }
        done[i].store(true, Ordering::SeqCst);
        1000 * item + u64::from(on_time)
    }
}

fn flags(n: usize) -> Arc<Vec<AtomicBool>> {
    Arc::new((0..n).map(|_| AtomicBool::new(false)).collect())
}

#[test]
#[ignore = "homework: run cargo homework 02"]
fn join_handles_return_results_in_input_order_whoever_finishes_first() {
    // Item i finishes only after item i + 1 has: the last item ends first.
    let n_items = 5;
    let done = flags(n_items);
    let work = held_back_by_the_next_item(Arc::clone(&done), Arc::clone(&done), Instant::now() + PATIENCE);
    let (got, _) = collect(Way::JoinHandles, (0..n_items as u64).collect(), work, |_| {});
    let items: Vec<u64> = got.iter().map(|result| result / 1000).collect();
    assert_eq!(
        items,
        (0..n_items as u64).collect::<Vec<_>>(),
        "collect_with_join_handles returned the results of items {items:?}, with the last item ending first. Hint: \
         join the handles in the order of the items, and keep each result where its item was"
    );
    assert!(
        got.iter().all(|result| result % 1000 == 1),
        "collect_with_join_handles: some threads waited in vain for the next item's thread (results {got:?}; \
         ...000 = gave up). Hint: spawn every thread before you join the first"
    );
}

#[test]
#[ignore = "homework: run cargo homework 02"]
fn the_channel_hands_over_each_result_as_it_arrives_and_returns_them_in_input_order() {
    // Item i finishes only after the result of item i + 1 has come out of the channel (told to
    // on_arrival): possible only if results are received while the threads still run.
    let n_items = 5;
    let (arrived, done) = (flags(n_items), flags(n_items));
    let work = held_back_by_the_next_item(Arc::clone(&arrived), done, Instant::now() + PATIENCE);
    let on_arrival = {
        let arrived = Arc::clone(&arrived);
        move |index: usize| {
            if let Some(flag) = arrived.get(index) {
                flag.store(true, Ordering::SeqCst);
            }
        }
    };
    let (got, arrival_order) = collect(Way::Channel, (0..n_items as u64).collect(), work, on_arrival);
    let expected_arrivals: Vec<usize> = (0..n_items).rev().collect();
    assert!(
        got.iter().all(|result| result % 1000 == 1) && arrival_order == expected_arrivals,
        "collect_with_channel told on_arrival {arrival_order:?}, where each thread waits for the next item's result \
         to arrive first (expected {expected_arrivals:?}; results {got:?}, ...000 = gave up waiting). Hint: receive \
         while the threads run (inside the scope, right after spawning them), and call on_arrival(index) the \
         moment each result comes out of the channel"
    );
    let items: Vec<u64> = got.iter().map(|result| result / 1000).collect();
    assert_eq!(
        items,
        (0..n_items as u64).collect::<Vec<_>>(),
        "collect_with_channel returned the results of items {items:?}: the order they arrived in. Hint: send \
         (index, result) from each thread, and put each result at its index before returning"
    );
}
