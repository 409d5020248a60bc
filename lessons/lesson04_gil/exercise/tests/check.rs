//! Checks for lesson 04's exercise. Run them with `cargo homework 04`.
//!
//! Everything here counts steps and turns; nothing is timed. Each check runs its threads under
//! a deadline that only turns a hang (a thread waiting for a turn that never comes) into a
//! failure with a hint.

use lesson04_gil_exercise::{Gil, Held};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a check may run before it counts as hung.
const PATIENCE: Duration = Duration::from_secs(10);

/// The hint for a check that hangs: the usual ways a waiter never gets its turn.
const HANG_HINT: &str = "every change of now_serving is followed by turn_changed.notify_all() (notify_one may wake a thread whose turn it is not, and the right one sleeps on); a waiter takes its ticket and waits with the state locked, so no wake-up falls between looking and waiting; a holder that hands over waits for its new ticket before it steps again";

/// Runs `scenario` on a thread of its own and returns what it returns. A panic inside is
/// reported with its message; a scenario still running after PATIENCE fails the check (its
/// threads are left waiting: they cannot be stopped from outside).
fn within_patience<T: Send + 'static>(what: &str, scenario: impl FnOnce() -> T + Send + 'static) -> T {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(scenario));
        let _ = sender.send(outcome.map_err(|panic| panic_text(panic.as_ref())));
    });
    match receiver.recv_timeout(PATIENCE) {
        Ok(Ok(value)) => value,
        Ok(Err(message)) => panic!("{what}: {message}"),
        Err(_) => panic!(
            "{what} did not finish within {} s: some thread is waiting for a turn that never comes. Hint: {HANG_HINT}",
            PATIENCE.as_secs()
        ),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_else(|| "it panicked".to_string())
}

/// Joins a scoped thread, passing its panic on with the original message.
fn join<T>(worker: std::thread::ScopedJoinHandle<'_, T>) -> T {
    worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Waits until `gil.waiting()` reaches `count`; false if it never does before `deadline`.
fn until_waiting(gil: &Gil, count: u64, deadline: Instant) -> bool {
    while gil.waiting() < count {
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

/// One bytecode step's worth of arithmetic.
fn some_work(seed: u64) -> u64 {
    (0..100).fold(seed, |x, i| std::hint::black_box(x.rotate_left(5) ^ i))
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn a_lone_thread_keeps_the_gil_and_can_take_it_again() {
    let (handed_over, waiting) = within_patience("a lone thread taking the GIL three times", || {
        let gil = Gil::new(2);
        let mut handed_over = 0;
        let mut waiting = 0;
        for _ in 0..3 {
            let mut held = gil.acquire();
            for _ in 0..50 {
                handed_over += u64::from(held.before_step());
                waiting = waiting.max(gil.waiting());
            }
        }
        (handed_over, waiting)
    });
    assert_eq!(
        waiting, 0,
        "a thread alone saw {waiting} threads waiting. Hint: waiting() counts the tickets taken after the holder's: each acquire takes exactly one"
    );
    assert_eq!(
        handed_over, 0,
        "a thread alone handed the GIL over {handed_over} times. Hint: with nobody waiting, before_step returns false and counts nothing"
    );
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn two_holders_never_overlap() {
    const THREADS: u64 = 4;
    const STEPS: u64 = 2_000;
    let (all_queued, overlaps, counted) = within_patience("4 threads taking turns", || {
        let gil = Gil::new(3);
        let inside = AtomicU64::new(0);
        let overlaps = AtomicU64::new(0);
        let counter = AtomicU64::new(0);
        // The workers all queue behind this holder first, so that they contend from their
        // first step to their last.
        let holder = gil.acquire();
        let all_queued = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..THREADS)
                .map(|thread| {
                    let (gil, inside, overlaps, counter) = (&gil, &inside, &overlaps, &counter);
                    scope.spawn(move || {
                        let mut held = gil.acquire();
                        for step in 0..STEPS {
                            held.before_step();
                            // SeqCst: every entry and exit in one order that all threads agree
                            // on, so that two threads inside at once cannot go unnoticed.
                            if inside.fetch_add(1, Ordering::SeqCst) > 0 {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            // Lesson 03's racy increment, Relaxed on purpose: only the GIL's own
                            // lock orders one holder's store before the next holder's load. A GIL
                            // that lets two threads in loses updates here.
                            let value = counter.load(Ordering::Relaxed);
                            std::hint::black_box(some_work(thread * STEPS + step));
                            counter.store(value + 1, Ordering::Relaxed);
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            let all_queued = until_waiting(&gil, THREADS, Instant::now() + PATIENCE / 2);
            drop(holder);
            workers.into_iter().for_each(join);
            all_queued
        });
        (all_queued, overlaps.into_inner(), counter.into_inner())
    });
    assert!(
        all_queued,
        "4 threads called acquire while another held the GIL, but waiting() never showed them all in line. Hint: acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert_eq!(
        overlaps, 0,
        "{overlaps} steps started while another thread was inside one: two threads held the GIL at once. Hint: wait in a while loop until now_serving equals your ticket; an if lets every thread that notify_all wakes go on"
    );
    assert_eq!(
        counted,
        THREADS * STEPS,
        "a counter that only holders of the GIL touch lost {} updates. Hint: every change to the tickets happens with `state` locked",
        THREADS * STEPS - counted
    );
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn a_cpu_bound_holder_cannot_starve_a_waiter() {
    const SWITCH_INTERVAL: u64 = 5;
    const CAP: u64 = 100_000;
    let (queued, steps_while_waiting) = within_patience("a waiter next to a thread that only computes", || {
        let gil = Gil::new(SWITCH_INTERVAL);
        let a_steps = AtomicU64::new(0);
        let a_steps_when_b_got_in = AtomicU64::new(u64::MAX);
        let b_got_in = AtomicBool::new(false);
        let mut held: Held<'_> = gil.acquire();
        let queued = std::thread::scope(|scope| {
            let b = scope.spawn(|| {
                let _held = gil.acquire();
                // SeqCst for all three: A reads them in its loop, and the order of these two
                // stores against A's count is the whole question.
                a_steps_when_b_got_in.store(a_steps.load(Ordering::SeqCst), Ordering::SeqCst);
                b_got_in.store(true, Ordering::SeqCst);
            });
            // A counts only once B is in line, and computes (up to a cap) until B has had a turn.
            let queued = until_waiting(&gil, 1, Instant::now() + PATIENCE / 2);
            while !b_got_in.load(Ordering::SeqCst) && a_steps.load(Ordering::SeqCst) < CAP {
                held.before_step();
                std::hint::black_box(some_work(a_steps.load(Ordering::SeqCst)));
                a_steps.fetch_add(1, Ordering::SeqCst);
            }
            drop(held);
            join(b);
            queued
        });
        (queued, a_steps_when_b_got_in.into_inner())
    });
    assert!(
        queued,
        "B called acquire while A held the GIL, but waiting() never showed it in line. Hint: acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert!(
        steps_while_waiting <= SWITCH_INTERVAL,
        "A, computing, ran {steps_while_waiting} steps while B waited (switch interval: {SWITCH_INTERVAL} steps). Hint: in before_step, count each step the holder runs while someone waits; once switch_interval have run, hand the GIL to the next ticket (now_serving += 1) before queueing again"
    );
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn waiting_threads_get_turns_in_arrival_order() {
    const WAITERS: u64 = 6;
    let (all_queued, order, overlapped) = within_patience("six threads queueing behind a holder", || {
        let gil = Gil::new(1_000);
        let order = Mutex::new(Vec::new());
        let inside = AtomicU64::new(0);
        let overlapped = AtomicBool::new(false);
        let holder = gil.acquire();
        let all_queued = std::thread::scope(|scope| {
            let mut waiters = Vec::new();
            let deadline = Instant::now() + PATIENCE / 2;
            let mut all_queued = true;
            for waiter in 1..=WAITERS {
                let (gil, order, inside, overlapped) = (&gil, &order, &inside, &overlapped);
                waiters.push(scope.spawn(move || {
                    let _held = gil.acquire();
                    // SeqCst: two holders at once must not go unnoticed.
                    if inside.fetch_add(1, Ordering::SeqCst) > 0 {
                        overlapped.store(true, Ordering::SeqCst);
                    }
                    order.lock().unwrap().push(waiter);
                    std::thread::yield_now();
                    inside.fetch_sub(1, Ordering::SeqCst);
                }));
                // The next one comes only once this one is in line.
                all_queued &= until_waiting(gil, waiter, deadline);
            }
            drop(holder);
            waiters.into_iter().for_each(join);
            all_queued
        });
        (all_queued, order.into_inner().unwrap(), overlapped.into_inner())
    });
    assert!(
        all_queued,
        "the waiters did not show up in line one by one (waiting() stayed behind). Hint: each acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert!(
        !overlapped,
        "two of the waiters held the GIL at once when it was handed on (they came in in the order {order:?}). Hint: wait in a while loop until now_serving equals your ticket; an if lets every thread that notify_all wakes go on"
    );
    assert_eq!(
        order,
        (1..=WAITERS).collect::<Vec<_>>(),
        "threads that queued in the order 1 to {WAITERS} got the GIL in the order {order:?}. Hint: give the GIL to the tickets in order (now_serving += 1), not to whichever thread wakes up first"
    );
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn cpu_bound_threads_take_turns_of_one_switch_interval_in_order() {
    const SWITCH_INTERVAL: u64 = 4;
    const STEPS: u64 = 5 * SWITCH_INTERVAL;
    let (all_queued, log, overlapped) = within_patience("three threads that only compute", || {
        let gil = Gil::new(SWITCH_INTERVAL);
        let log = Mutex::new(Vec::new());
        let inside = AtomicU64::new(0);
        let overlapped = AtomicBool::new(false);
        // Each step notes who ran it; the GIL is held, so the log is in the order of the steps.
        let run = |held: &mut Held<'_>, thread: usize| {
            for step in 0..STEPS {
                held.before_step();
                // SeqCst: two holders at once must not go unnoticed.
                if inside.fetch_add(1, Ordering::SeqCst) > 0 {
                    overlapped.store(true, Ordering::SeqCst);
                }
                std::hint::black_box(some_work(step));
                log.lock().unwrap().push(thread);
                inside.fetch_sub(1, Ordering::SeqCst);
            }
        };
        let mut first = gil.acquire();
        let all_queued = std::thread::scope(|scope| {
            let deadline = Instant::now() + PATIENCE / 2;
            let (gil, run) = (&gil, &run);
            let mut others = Vec::new();
            let mut all_queued = true;
            for thread in 1..=2 {
                others.push(scope.spawn(move || run(&mut gil.acquire(), thread)));
                all_queued &= until_waiting(gil, thread as u64, deadline);
            }
            // Thread 0 holds the GIL with threads 1 and 2 in line behind it, in that order.
            run(&mut first, 0);
            drop(first);
            others.into_iter().for_each(join);
            all_queued
        });
        (all_queued, log.into_inner().unwrap(), overlapped.into_inner())
    });
    assert!(
        all_queued,
        "threads 1 and 2 did not show up in line. Hint: each acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert!(
        !overlapped,
        "two of the three computing threads held the GIL at once. Hint: wait in a while loop until now_serving equals your ticket; an if lets every thread that notify_all wakes go on"
    );
    let turns = turns_of(&log);
    let expected: Vec<(usize, u64)> = (0..5)
        .flat_map(|_| (0..3).map(|thread| (thread, SWITCH_INTERVAL)))
        .collect();
    let shown = turn_text(&turns);
    assert_eq!(
        log.len() as u64,
        3 * STEPS,
        "three threads of {STEPS} steps ran {} steps in all. Hint: before_step must return to a thread that holds the GIL again",
        log.len()
    );
    if let Some(&(thread, steps)) = turns.iter().find(|(_, steps)| *steps < SWITCH_INTERVAL) {
        panic!(
            "thread {thread} had a turn of only {} while others waited (switch interval {SWITCH_INTERVAL}); the turns were {shown}. Hint: hand over only once switch_interval steps were counted, and start a fresh count with every new turn; and wait for a turn in a while loop (an if lets a thread go on out of turn)",
            plural(steps, "step")
        );
    }
    if let Some(&(thread, steps)) = turns.iter().find(|(_, steps)| *steps > SWITCH_INTERVAL) {
        panic!(
            "thread {thread} ran {steps} steps in one turn while others waited (switch interval {SWITCH_INTERVAL}); the turns were {shown}. Hint: count each step run while someone waits, and hand over at the boundary after switch_interval of them; and wait for a turn in a while loop (an if lets a thread go on out of turn)"
        );
    }
    assert_eq!(
        turns, expected,
        "the turns went {shown}, not round and round in the order 0, 1, 2. Hint: a thread that lets go takes a new ticket, behind every thread already in line"
    );
}

/// Consecutive steps of one thread, as (thread, steps).
fn turns_of(log: &[usize]) -> Vec<(usize, u64)> {
    let mut turns: Vec<(usize, u64)> = Vec::new();
    for &thread in log {
        match turns.last_mut() {
            Some((last, steps)) if *last == thread => *steps += 1,
            _ => turns.push((thread, 1)),
        }
    }
    turns
}

/// `0×4, 1×4, 2×4, ...`: the first 20 turns.
fn turn_text(turns: &[(usize, u64)]) -> String {
    let parts: Vec<String> = turns
        .iter()
        .take(20)
        .map(|(thread, steps)| format!("{thread}×{steps}"))
        .collect();
    let more = if turns.len() > 20 {
        format!(", ... ({} turns in all)", turns.len())
    } else {
        String::new()
    };
    format!("{}{more}", parts.join(", "))
}

/// `1 step`, `3 steps`.
fn plural(count: u64, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn steps_run_alone_do_not_count_toward_the_switch() {
    // A computes 50 steps alone, then B queues: A still owes B's wait a whole switch interval of
    // steps, no fewer (steps run while nobody waited count for nothing) and no more.
    const SWITCH_INTERVAL: u64 = 5;
    const ALONE: u64 = 50;
    const CAP: u64 = 100_000;
    let (queued, steps_while_waiting) = within_patience("a holder that computed alone, then a waiter", || {
        let gil = Gil::new(SWITCH_INTERVAL);
        let b_got_in = AtomicBool::new(false);
        let mut held: Held<'_> = gil.acquire();
        for step in 0..ALONE {
            held.before_step();
            std::hint::black_box(some_work(step));
        }
        let a_steps = AtomicU64::new(0);
        let a_steps_when_b_got_in = AtomicU64::new(u64::MAX);
        let queued = std::thread::scope(|scope| {
            let b = scope.spawn(|| {
                let _held = gil.acquire();
                // SeqCst: the order of these stores against A's count is the whole question.
                a_steps_when_b_got_in.store(a_steps.load(Ordering::SeqCst), Ordering::SeqCst);
                b_got_in.store(true, Ordering::SeqCst);
            });
            let queued = until_waiting(&gil, 1, Instant::now() + PATIENCE / 2);
            while !b_got_in.load(Ordering::SeqCst) && a_steps.load(Ordering::SeqCst) < CAP {
                held.before_step();
                std::hint::black_box(some_work(a_steps.load(Ordering::SeqCst)));
                a_steps.fetch_add(1, Ordering::SeqCst);
            }
            drop(held);
            join(b);
            queued
        });
        (queued, a_steps_when_b_got_in.into_inner())
    });
    assert!(
        queued,
        "B called acquire while A held the GIL, but waiting() never showed it in line. Hint: acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert_eq!(
        steps_while_waiting,
        SWITCH_INTERVAL,
        "A computed {ALONE} steps alone, then ran {steps_while_waiting} while B waited, not the switch interval's {SWITCH_INTERVAL}. Hint: {}",
        if steps_while_waiting < SWITCH_INTERVAL {
            "steps run while nobody waits count for nothing: in before_step, count the step only if state.waiting() > 0"
        } else {
            "count each step run while someone waits, and hand over at the boundary after switch_interval of them"
        }
    );
}

#[test]
#[ignore = "homework: run cargo homework 04"]
fn a_thread_woken_out_of_turn_waits_again() {
    // W1 and W2 queue behind H. When H lets go, notify_all wakes both; only W1's ticket is
    // served, so W2 must go back to sleep until W1 lets go. W1 holds the GIL for a moment to
    // give W2 every chance to come in out of turn.
    let (queued, w2_came_in_while_w1_held) = within_patience("two waiters woken at once", || {
        let gil = Gil::new(1_000);
        let w2_in = AtomicBool::new(false);
        let holder = gil.acquire();
        std::thread::scope(|scope| {
            let deadline = Instant::now() + PATIENCE / 2;
            let w1 = scope.spawn(|| {
                let _held = gil.acquire();
                let until = Instant::now() + Duration::from_millis(300);
                // SeqCst: W2's flag is the whole message.
                while !w2_in.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::yield_now();
                }
                w2_in.load(Ordering::SeqCst)
            });
            let mut queued = until_waiting(&gil, 1, deadline);
            let w2 = scope.spawn(|| {
                let _held = gil.acquire();
                w2_in.store(true, Ordering::SeqCst);
            });
            queued &= until_waiting(&gil, 2, deadline);
            drop(holder);
            let w2_came_in_while_w1_held = join(w1);
            join(w2);
            (queued, w2_came_in_while_w1_held)
        })
    });
    assert!(
        queued,
        "two threads called acquire behind the holder, but waiting() never showed them both in line. Hint: each acquire takes a ticket (next_ticket += 1) before it waits"
    );
    assert!(
        !w2_came_in_while_w1_held,
        "when the holder let go, the second thread in line came in while the first one held the GIL: two holders at once. Hint: notify_all wakes every waiter, and waking means only that something changed: wait in a `while state.now_serving != ticket` loop, not an `if`, so that all but the ticket's owner sleep again"
    );
}
