//! A model of threads running `counter += 1` as three separate steps (load the counter into a
//! register, add 1 to the register, store the register back), one step at a time, in the
//! order a *schedule* gives. It is what the processor does, slowed down to where it can be
//! read: the same schedule always gives the same trace, and the same seed the same schedule.
//!
//! Section 3 of the lesson prints one trace and counts the outcomes of every possible
//! interleaving; the quiz (`src/quiz.rs`) asks for the final counter after a given schedule,
//! from a given starting value ([`run_from`]), and answers from the same trace.

use std::collections::BTreeMap;
use workloads::Rng;

/// One step of `counter += 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Copy the shared counter into the thread's register.
    Load,
    /// Add 1 to the register (the shared counter is untouched).
    Add,
    /// Copy the register back into the shared counter, whatever the counter holds by now.
    Store,
}

impl Op {
    fn next(self) -> Op {
        match self {
            Op::Load => Op::Add,
            Op::Add => Op::Store,
            Op::Store => Op::Load,
        }
    }
}

/// What one step did, and the state right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The thread that took the step (0 is A, 1 is B, ...).
    pub thread: usize,
    pub op: Op,
    /// Every thread's register after the step (`None` before the thread's first load).
    pub registers: Vec<Option<u64>>,
    /// The shared counter after the step.
    pub counter: u64,
    /// For a store: the counter value it replaced.
    pub replaced: Option<u64>,
    /// For a store: how many updates by other threads it wrote over, because they were stored
    /// between this thread's load and its store. Zero for a store that was not stale.
    pub overwritten: u64,
}

/// A whole run: every step, and how it ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The counter before the first step.
    pub start: u64,
    pub n_threads: usize,
    /// Increments each thread performs.
    pub increments: u64,
    pub events: Vec<Event>,
    pub final_counter: u64,
}

impl Trace {
    /// The counter if no update were lost.
    pub fn expected(&self) -> u64 {
        self.start + self.n_threads as u64 * self.increments
    }

    pub fn lost_updates(&self) -> u64 {
        self.expected().saturating_sub(self.final_counter)
    }
}

/// A schedule that is not a complete run: it names a thread that does not exist or has
/// already finished, or it stops before every thread has finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidSchedule(pub String);

impl std::fmt::Display for InvalidSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InvalidSchedule {}

/// The name of thread `index` in traces and schedules: A, B, C, ...
pub fn thread_name(index: usize) -> char {
    (b'A' + (index % 26) as u8) as char
}

/// A schedule as letters, one per step: `AABABB...`.
pub fn schedule_text(schedule: &[usize]) -> String {
    schedule.iter().map(|&thread| thread_name(thread)).collect()
}

/// Runs `schedule`: step `i` is taken by thread `schedule[i]`. Each of `n_threads` threads
/// performs `increments` rounds of load, add, store, so a complete schedule names each thread
/// exactly `3 × increments` times.
pub fn run(n_threads: usize, increments: u64, schedule: &[usize]) -> Result<Trace, InvalidSchedule> {
    run_from(0, n_threads, increments, schedule)
}

/// [`run`], with the counter holding `start` before the first step.
pub fn run_from(start: u64, n_threads: usize, increments: u64, schedule: &[usize]) -> Result<Trace, InvalidSchedule> {
    let mut machine = Machine::new(n_threads, increments);
    machine.counter = start;
    let mut events = Vec::with_capacity(schedule.len());
    for (step, &thread) in schedule.iter().enumerate() {
        let event = machine.step(thread).ok_or_else(|| {
            InvalidSchedule(format!(
                "step {} names thread {}, which {}",
                step + 1,
                thread_name(thread),
                if thread < n_threads {
                    "has already finished"
                } else {
                    "does not exist"
                }
            ))
        })?;
        events.push(event);
    }
    if !machine.finished() {
        return Err(InvalidSchedule(format!(
            "the schedule stops after {} steps, before every thread has finished ({} needed)",
            schedule.len(),
            3 * increments * n_threads as u64
        )));
    }
    Ok(Trace {
        start,
        n_threads,
        increments,
        events,
        final_counter: machine.counter,
    })
}

/// The counter after `schedule` (the pop quiz's question).
pub fn final_counter(n_threads: usize, increments: u64, schedule: &[usize]) -> Result<u64, InvalidSchedule> {
    run(n_threads, increments, schedule).map(|trace| trace.final_counter)
}

/// A random complete schedule: at every step, one of the threads that still have steps to take,
/// each equally likely.
pub fn random_schedule(rng: &mut Rng, n_threads: usize, increments: u64) -> Vec<usize> {
    let mut steps_left = vec![3 * increments; n_threads];
    let mut schedule = Vec::new();
    loop {
        let runnable: Vec<usize> = (0..n_threads).filter(|&t| steps_left[t] > 0).collect();
        let Some(&thread) = rng.pick(&runnable) else {
            return schedule;
        };
        steps_left[thread] -= 1;
        schedule.push(thread);
    }
}

/// The first random schedule drawn from `seed` that loses at least one update, and how many
/// schedules were drawn to find it. With one thread, or when no schedule can lose an update,
/// the first schedule drawn.
pub fn losing_schedule(seed: u64, n_threads: usize, increments: u64) -> (Vec<usize>, usize) {
    let mut rng = Rng::new(seed);
    let first = random_schedule(&mut rng, n_threads, increments);
    if n_threads < 2 || increments == 0 {
        return (first, 1);
    }
    let mut schedule = first.clone();
    // Most schedules lose an update (18 of the 20 for two threads adding once each), so this
    // ends within a few draws; the bound only guards against an unlucky generator.
    for attempt in 1..=10_000 {
        let lost = run(n_threads, increments, &schedule).is_ok_and(|trace| trace.lost_updates() > 0);
        if lost {
            return (schedule, attempt);
        }
        schedule = random_schedule(&mut rng, n_threads, increments);
    }
    (first, 1)
}

/// Every possible interleaving of `n_threads` threads each adding `increments` times: how
/// many end with each final counter. (Two threads adding twice each have 924 interleavings.)
pub fn all_outcomes(n_threads: usize, increments: u64) -> BTreeMap<u64, u64> {
    let mut outcomes = BTreeMap::new();
    explore(&Machine::new(n_threads, increments), &mut outcomes);
    outcomes
}

/// Depth-first over every choice of the next thread, sharing the common prefixes.
fn explore(machine: &Machine, outcomes: &mut BTreeMap<u64, u64>) {
    if machine.finished() {
        *outcomes.entry(machine.counter).or_insert(0) += 1;
        return;
    }
    for thread in 0..machine.threads.len() {
        let mut next = machine.clone();
        if next.step(thread).is_some() {
            explore(&next, outcomes);
        }
    }
}

/// The shared counter and each thread's private state.
#[derive(Clone, Debug)]
struct Machine {
    counter: u64,
    threads: Vec<ThreadState>,
}

#[derive(Clone, Copy, Debug)]
struct ThreadState {
    register: Option<u64>,
    /// The counter value this thread loaded in its current round.
    loaded: u64,
    next: Op,
    rounds_left: u64,
}

impl Machine {
    fn new(n_threads: usize, increments: u64) -> Self {
        let thread = ThreadState {
            register: None,
            loaded: 0,
            next: Op::Load,
            rounds_left: increments,
        };
        Machine {
            counter: 0,
            threads: vec![thread; n_threads],
        }
    }

    fn finished(&self) -> bool {
        self.threads.iter().all(|t| t.rounds_left == 0)
    }

    /// Thread `index` takes its next step; `None` if it does not exist or has finished.
    fn step(&mut self, index: usize) -> Option<Event> {
        let thread = self.threads.get_mut(index).filter(|t| t.rounds_left > 0)?;
        let op = thread.next;
        let mut overwritten = 0;
        let mut replaced = None;
        match op {
            Op::Load => {
                thread.loaded = self.counter;
                thread.register = Some(self.counter);
            }
            Op::Add => thread.register = thread.register.map(|r| r + 1),
            Op::Store => {
                // Everything other threads stored since our load is replaced by our stale value.
                overwritten = self.counter.saturating_sub(thread.loaded);
                replaced = Some(self.counter);
                self.counter = thread.register.unwrap_or(0);
                thread.rounds_left -= 1;
            }
        }
        thread.next = op.next();
        Some(Event {
            thread: index,
            op,
            registers: self.threads.iter().map(|t| t.register).collect(),
            counter: self.counter,
            replaced,
            overwritten,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: usize = 0;
    const B: usize = 1;

    #[test]
    fn one_thread_after_the_other_loses_nothing() {
        let trace = run(2, 1, &[A, A, A, B, B, B]).unwrap();
        assert_eq!(trace.final_counter, 2);
        assert_eq!(trace.lost_updates(), 0);
        assert!(trace.events.iter().all(|e| e.overwritten == 0));
    }

    #[test]
    fn both_load_before_either_stores_loses_one_update() {
        let trace = run(2, 1, &[A, B, A, B, A, B]).unwrap();
        assert_eq!(trace.final_counter, 1);
        assert_eq!(trace.lost_updates(), 1);
        let last = trace.events.last().unwrap();
        assert_eq!((last.thread, last.op, last.overwritten), (B, Op::Store, 1));
        assert_eq!(last.registers, vec![Some(1), Some(1)]);
    }

    #[test]
    fn a_stale_store_can_erase_several_updates() {
        // A loads 0 and stalls; B adds twice (counter 2); A stores 1 over it; then A again.
        let schedule = [A, B, B, B, B, B, B, A, A, A, A, A];
        let trace = run(2, 2, &schedule).unwrap();
        assert_eq!(trace.events[8].overwritten, 2);
        assert_eq!(trace.final_counter, 2);
        assert_eq!(final_counter(2, 2, &schedule), Ok(2));
    }

    #[test]
    fn a_starting_value_shifts_the_counter_but_not_the_losses() {
        let schedule = [A, B, A, B, A, B];
        let from_zero = run(2, 1, &schedule).unwrap();
        let from_forty = run_from(40, 2, 1, &schedule).unwrap();
        assert_eq!(
            (from_forty.start, from_forty.final_counter, from_forty.expected()),
            (40, 41, 42)
        );
        assert_eq!(from_forty.lost_updates(), from_zero.lost_updates());
        let last = from_forty.events.last().unwrap();
        assert_eq!((last.replaced, last.overwritten), (Some(41), 1));
    }

    #[test]
    fn incomplete_or_impossible_schedules_are_refused() {
        assert!(run(2, 1, &[A, A, A, B]).is_err());
        assert!(run(2, 1, &[A, A, A, A, B, B, B]).is_err());
        assert!(run(2, 1, &[C_DOES_NOT_EXIST]).is_err());
    }
    const C_DOES_NOT_EXIST: usize = 2;

    #[test]
    fn every_interleaving_is_counted_once() {
        // Two threads of 3 steps each: C(6, 3) = 20 interleavings; only the two that run one
        // thread entirely before the other keep both updates.
        let one = all_outcomes(2, 1);
        assert_eq!(one.values().sum::<u64>(), 20);
        assert_eq!(one.get(&2), Some(&2));
        assert_eq!(one.get(&1), Some(&18));
        // Two threads adding twice: C(12, 6) = 924, and the total can fall as low as 2.
        let two = all_outcomes(2, 2);
        assert_eq!(two.values().sum::<u64>(), 924);
        assert_eq!(two.keys().next(), Some(&2));
        assert_eq!(two.keys().last(), Some(&4));
        // The random schedules and the enumeration agree on what is possible.
        let mut rng = Rng::new(1);
        for _ in 0..200 {
            let schedule = random_schedule(&mut rng, 2, 2);
            let finished = final_counter(2, 2, &schedule).unwrap();
            assert!(two.contains_key(&finished));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_trace() {
        let (first, attempts) = losing_schedule(2016, 2, 2);
        let (again, attempts_again) = losing_schedule(2016, 2, 2);
        assert_eq!(first, again);
        assert_eq!(attempts, attempts_again);
        assert_eq!(run(2, 2, &first), run(2, 2, &again));
        assert!(run(2, 2, &first).unwrap().lost_updates() > 0);
        assert_eq!(first.len(), 12);
        assert_eq!(schedule_text(&[A, B, B]), "ABB");
        // Different seeds usually give different schedules.
        let others: std::collections::BTreeSet<Vec<usize>> =
            (0..20).map(|seed| losing_schedule(seed, 2, 2).0).collect();
        assert!(others.len() > 10);
    }

    #[test]
    fn stores_account_for_the_final_counter() {
        let mut rng = Rng::new(99);
        for _ in 0..500 {
            let schedule = random_schedule(&mut rng, 3, 2);
            let trace = run(3, 2, &schedule).unwrap();
            let stores: Vec<&Event> = trace.events.iter().filter(|e| e.op == Op::Store).collect();
            assert_eq!(stores.len() as u64, trace.expected());
            // Each store moves the counter from what it replaced to what it wrote.
            let moved: i64 = stores
                .iter()
                .map(|e| e.counter as i64 - e.replaced.unwrap() as i64)
                .sum();
            assert_eq!(moved, trace.final_counter as i64);
            // Every lost update was written over by some stale store.
            let overwritten: u64 = stores.iter().map(|e| e.overwritten).sum();
            assert!(overwritten >= trace.lost_updates());
            assert!(trace.final_counter >= 1 && trace.final_counter <= trace.expected());
        }
    }
}
