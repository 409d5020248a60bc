//! What the GIL of `gil.rs` counted: every turn (who held it from when to when), hand-overs,
//! drop requests, and how long and behind how many turns each thread waited. The lock reports
//! each turn here; the sections read it to check the lock's promises (one holder at a time,
//! nobody waits for more turns than there are other threads) and to draw its timeline.

use crate::gil::Gil;
use crate::schedule::Span;
use serde::Serialize;
use std::time::{Duration, Instant};

/// What the GIL counted over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct GilStats {
    /// Times a thread took the GIL.
    pub acquisitions: u64,
    /// Hand-overs from one thread to a different one.
    pub switches: u64,
    /// Times a waiter asked the holder to let go.
    pub drop_requests: u64,
    /// Times a holder let go because it was asked.
    pub forced_releases: u64,
    /// The most turns any thread had to wait for, when it asked (bounded waiting: never more
    /// than the number of other threads).
    pub most_turns_waited: u64,
    /// The longest any thread waited for the GIL, in seconds.
    pub longest_wait_s: f64,
}

/// One thread's turns: how often it held the GIL and how long it waited for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct TurnStats {
    pub turns: u64,
    /// The most turns of other threads it waited through before one of its own.
    pub most_turns_waited: u64,
    /// Its longest wait for the GIL, in seconds.
    pub longest_wait_s: f64,
}

/// The GIL's bookkeeping, kept under the GIL's own mutex.
#[derive(Clone, Debug)]
pub struct Record {
    started: Instant,
    /// The thread holding the GIL now, since when.
    holder: Option<(usize, Instant)>,
    last_holder: Option<usize>,
    pub stats: GilStats,
    /// Each thread's turns, by interpreter thread number.
    pub threads: Vec<TurnStats>,
    /// Every turn, in order.
    pub spans: Vec<Span>,
}

impl Default for Record {
    fn default() -> Self {
        Record::new()
    }
}

impl Record {
    pub fn new() -> Self {
        Record {
            started: Instant::now(),
            holder: None,
            last_holder: None,
            stats: GilStats::default(),
            threads: Vec::new(),
            spans: Vec::new(),
        }
    }

    /// A waiter asked the holder to let go.
    pub fn asked_to_drop(&mut self) {
        self.stats.drop_requests += 1;
    }

    /// `thread` took the GIL after waiting `waited` behind `turns_ahead` turns.
    pub fn took(&mut self, thread: usize, turns_ahead: u64, waited: Duration) {
        let stats = &mut self.stats;
        stats.acquisitions += 1;
        stats.switches += u64::from(self.last_holder.is_some_and(|last| last != thread));
        stats.most_turns_waited = stats.most_turns_waited.max(turns_ahead);
        stats.longest_wait_s = stats.longest_wait_s.max(waited.as_secs_f64());
        if self.threads.len() <= thread {
            self.threads.resize(thread + 1, TurnStats::default());
        }
        let turns = &mut self.threads[thread];
        turns.turns += 1;
        turns.most_turns_waited = turns.most_turns_waited.max(turns_ahead);
        turns.longest_wait_s = turns.longest_wait_s.max(waited.as_secs_f64());
        self.holder = Some((thread, Instant::now()));
    }

    /// `thread` let go of the GIL, asked to (`forced`) or on its own.
    pub fn gave(&mut self, thread: usize, forced: bool) {
        if let Some((holder, since)) = self.holder.take() {
            debug_assert_eq!(holder, thread, "only the holder releases the GIL");
            self.spans.push(Span {
                thread,
                start: since.duration_since(self.started),
                end: self.started.elapsed(),
            });
        }
        self.last_holder = Some(thread);
        self.stats.forced_releases += u64::from(forced);
    }

    /// The turns of interpreter thread `thread` (none if it never took the GIL).
    pub fn turns_of(&self, thread: usize) -> TurnStats {
        self.threads.get(thread).copied().unwrap_or_default()
    }
}

impl Gil {
    /// What the GIL counted so far.
    pub fn stats(&self) -> GilStats {
        self.record().stats
    }

    /// Every turn so far: who held the GIL from when to when.
    pub fn spans(&self) -> Vec<Span> {
        self.record().spans
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_switches_and_spans_are_counted() {
        let mut record = Record::new();
        record.took(0, 0, Duration::ZERO);
        record.gave(0, false);
        record.took(1, 1, Duration::from_millis(3));
        record.gave(1, true);
        record.took(1, 0, Duration::ZERO);
        record.gave(1, false);
        assert_eq!(record.stats.acquisitions, 3);
        assert_eq!(record.stats.switches, 1);
        assert_eq!(record.stats.forced_releases, 1);
        assert_eq!(record.stats.most_turns_waited, 1);
        assert_eq!(record.turns_of(1).turns, 2);
        assert_eq!(record.turns_of(7), TurnStats::default());
        let order: Vec<usize> = record.spans.iter().map(|s| s.thread).collect();
        assert_eq!(order, [0, 1, 1]);
        assert!(record.spans.windows(2).all(|pair| pair[0].end <= pair[1].start));
    }
}
