//! Checks for lesson 05's exercise. Run them with `cargo homework 05`. They ask the
//! kernel itself (`/proc/thread-self/status`) what each thread's mask is, and pin only threads
//! they start, so a wrong answer cannot pin the test runner.

use lesson05_cores_exercise::{allowed_cores, current_core, pin_current_thread, run_on_core};
use nix::sched::{CpuSet, sched_getcpu, sched_setaffinity};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// The kernel's own list of the cores the calling thread may run on (`0-3,6`, expanded).
fn mask_from_proc() -> Vec<usize> {
    let status = std::fs::read_to_string("/proc/thread-self/status").expect("Linux has /proc/thread-self/status");
    let list = status
        .lines()
        .find_map(|line| line.strip_prefix("Cpus_allowed_list:"))
        .expect("the status has Cpus_allowed_list")
        .trim();
    let mut cores = Vec::new();
    for range in list.split(',').filter(|range| !range.is_empty()) {
        let (first, last) = range.split_once('-').unwrap_or((range, range));
        cores.extend(first.parse::<usize>().unwrap()..=last.parse::<usize>().unwrap());
    }
    cores
}

/// On a new thread (so that a wrong answer cannot change the mask of the test's own thread).
fn on_a_new_thread<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|scope| {
        scope
            .spawn(work)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The message a panic carried, when it is text.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| text.to_string()))
        .unwrap_or_default()
}

/// At most eight of the allowed cores: enough to see pinning work, quick on a big machine.
fn some_allowed_cores() -> Vec<usize> {
    let cores = mask_from_proc();
    let step = cores.len().div_ceil(8).max(1);
    cores.into_iter().step_by(step).collect()
}

#[test]
#[ignore = "homework: run cargo homework 05"]
fn allowed_cores_lists_the_mask_of_the_calling_thread() {
    assert_eq!(
        allowed_cores(),
        mask_from_proc(),
        "allowed_cores() differs from the kernel's Cpus_allowed_list. Hint: sched_getaffinity(Pid::from_raw(0)), then keep every core from 0 to CpuSet::count() that is_set"
    );
}

#[test]
#[ignore = "homework: run cargo homework 05"]
fn a_pinned_thread_runs_on_its_core_and_nowhere_else() {
    for core in some_allowed_cores() {
        let (mask, kernel_mask, seen) = on_a_new_thread(|| {
            let pinned = pin_current_thread(core);
            assert!(
                pinned.is_ok(),
                "pinning to core {core}, which this process may use, failed: {pinned:?}. Hint: a CpuSet with only `core` set, given to sched_setaffinity"
            );
            // Hand the core back to the scheduler again and again: an unpinned thread would
            // sooner or later be put somewhere else.
            let mut seen = BTreeSet::new();
            for _ in 0..2_000 {
                seen.insert(current_core());
                std::thread::yield_now();
            }
            (allowed_cores(), mask_from_proc(), seen)
        });
        assert_eq!(
            kernel_mask,
            vec![core],
            "after pin_current_thread({core}) the kernel says the thread may run on {kernel_mask:?}. Hint: pid 0 means the calling thread; the mask must hold `core` alone"
        );
        assert_eq!(
            mask,
            vec![core],
            "after pinning to core {core}, allowed_cores() says {mask:?}, but the kernel says [{core}]. Hint: allowed_cores reads this thread's own mask, sched_getaffinity(Pid::from_raw(0)), each time it is called: no list remembered from before"
        );
        assert_eq!(
            seen,
            BTreeSet::from([core]),
            "a thread pinned to core {core} reported running on cores {seen:?}. Hint: current_core() asks the kernel with sched_getcpu()"
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 05"]
fn run_on_core_pins_the_new_thread_and_not_the_caller() {
    for core in some_allowed_cores() {
        let (before, after, result) = on_a_new_thread(|| {
            let before = mask_from_proc();
            let caller = std::thread::current().id();
            let result = run_on_core(core, || {
                (std::thread::current().id() != caller, mask_from_proc(), current_core())
            });
            (before, mask_from_proc(), result)
        });
        let Ok((on_another_thread, mask, ran_on)) = result else {
            panic!(
                "run_on_core({core}, ...) failed on a core this process may use: {result:?}. Hint: pin inside the new thread, then run work there"
            );
        };
        assert!(
            on_another_thread,
            "run_on_core ran `work` on the calling thread. Hint: spawn a new thread (std::thread::scope) and run work on it"
        );
        assert_eq!(
            mask,
            vec![core],
            "work given to run_on_core({core}, ...) ran on a thread allowed on cores {mask:?}. Hint: pin the new thread before it calls work"
        );
        assert_eq!(
            ran_on, core,
            "work given to run_on_core({core}, ...) found current_core() = {ran_on}. Hint: current_core() asks the kernel with sched_getcpu()"
        );
        assert_eq!(
            after, before,
            "run_on_core({core}, ...) changed the caller's own mask. Hint: a new thread inherits its creator's mask, so pin inside the new thread, never before spawning it"
        );
    }
}

#[test]
#[ignore = "homework: run cargo homework 05"]
fn a_core_that_cannot_be_used_is_an_error_naming_it() {
    let allowed = mask_from_proc();
    // A core number no mask can hold, and one the mask can name but this process may not use.
    let mut refused = vec![1_000_000];
    if let Some(outside) = (0..nix::sched::CpuSet::count()).find(|core| !allowed.contains(core)) {
        refused.push(outside);
    }
    for core in refused {
        let (outcome, mask_after) = on_a_new_thread(|| {
            let outcome = std::panic::catch_unwind(|| pin_current_thread(core));
            (outcome, mask_from_proc())
        });
        let result = match outcome {
            Ok(result) => result,
            // A stub still to be written says so itself.
            Err(panic) if panic_text(&*panic).contains("not yet implemented") => std::panic::resume_unwind(panic),
            Err(_) => {
                panic!("pin_current_thread({core}) panicked. Hint: turn every failure into an Err, e.g. with map_err")
            }
        };
        let Err(message) = result else {
            panic!(
                "pin_current_thread({core}) succeeded, but this process may not run there. Hint: return the error of CpuSet::set or sched_setaffinity"
            );
        };
        assert!(
            message.contains(&core.to_string()),
            "the error for core {core} does not name it: '{message}'. Hint: format!(\"... core {{core}} ...\")"
        );
        assert_eq!(
            mask_after, allowed,
            "a refused pin to core {core} changed the thread's mask. Hint: check the core before changing anything"
        );
        let work_ran = AtomicBool::new(false);
        // Relaxed is enough: the flag is read after the threads that could set it are joined.
        let outcome = on_a_new_thread(|| run_on_core(core, || work_ran.store(true, Ordering::Relaxed)));
        assert!(
            outcome.is_err() && !work_ran.load(Ordering::Relaxed),
            "run_on_core({core}, ...) should return the pinning error without running work. Hint: `pin_current_thread(core)?` in the new thread, before work"
        );
    }
}

/// Limits the calling thread to `cores`, with nix directly (not through the exercise).
fn allow_only(cores: &[usize]) {
    let mut set = CpuSet::new();
    for &core in cores {
        set.set(core).expect("an allowed core fits in a CpuSet");
    }
    sched_setaffinity(Pid::from_raw(0), &set).expect("a thread may narrow its own mask to allowed cores");
}

#[test]
#[ignore = "homework: run cargo homework 05"]
fn current_core_is_where_the_thread_runs_not_the_first_it_may_use() {
    let allowed = mask_from_proc();
    let (Some(&first), Some(&last)) = (allowed.first(), allowed.last()) else {
        return;
    };
    if first == last {
        // Written past the test harness's capture, so that the runner can show it.
        let _ = writeln!(
            std::io::stderr(),
            "homework note: current_core was not checked against a second core: this process may use one core only"
        );
        return;
    }
    // A thread moved onto the last allowed core, then allowed on the first one too: it stays
    // where it is, so the core it runs on is not the first one its mask names.
    let wrong = on_a_new_thread(|| {
        allow_only(&[last]);
        allow_only(&[first, last]);
        let mut wrong = None;
        for _ in 0..200 {
            let before = sched_getcpu().unwrap_or(usize::MAX);
            let answer = current_core();
            let after = sched_getcpu().unwrap_or(usize::MAX);
            if before == after && answer != before {
                wrong = Some((answer, before));
                break;
            }
        }
        wrong
    });
    if let Some((answer, really)) = wrong {
        panic!(
            "current_core() said {answer} while the thread was running on core {really} (the kernel said so just \
             before and just after), with cores {first} and {last} allowed. Hint: current_core is where the thread \
             runs now, sched_getcpu(), not a core of its mask such as the first it may use"
        );
    }
}
