//! Who holds the GIL, and when: the two rules the lesson's GIL follows, and a deterministic
//! model that applies them in virtual time.
//!
//! The rules (the lock in `gil.rs` follows them in real time, [`simulate`] in virtual time):
//!
//! 1. **First come, first served.** A thread that wants the GIL takes the next [`Tickets`]
//!    number; the GIL goes to the tickets in order. When the holder lets go, the next ticket's
//!    owner has it at once (the holder cannot grab it back), so a waiting thread is overtaken
//!    by nobody and waits at most one turn per thread ahead of it: no thread starves.
//! 2. **The switch interval.** The waiter at the front of the queue asks the holder to drop the
//!    GIL ([`should_ask_to_drop`]) at the end of a whole switch interval of its waiting, counted
//!    from when it joined the line, in which the GIL did not change hands ([`Clock::Cpython`],
//!    CPython's rule, which `gil.rs` follows). The quiz plays a simpler clock that a student can
//!    follow on paper: one interval after it got to the front, or after the GIL last changed
//!    hands ([`Clock::SinceLastSwitch`]). The holder checks for that request between two
//!    bytecode steps and, if asked, lets go and queues again behind everyone. Blocking I/O (a
//!    sleep, a socket read) lets go of the GIL without being asked.
//!
//! CPython's GIL (since 3.2) uses the same switch interval and drop request; which waiter gets
//! the GIL next is left to the operating system there (in practice, the thread that asked),
//! where this lesson makes it explicit. [`simulate`] runs thread programs under these rules
//! with every step taking exactly `step_time` and hand-overs and wake-ups taking no time (so a
//! thread back from I/O never beats a woken waiter to a dropped GIL here, as it can in
//! `gil.rs` and in CPython), and the same inputs always give the same
//! [`Timeline`]: the lesson draws it next to a measured one, and a quiz can ask from it which
//! thread holds the GIL at a given moment.

use crate::interpreter::Op;
use std::time::Duration;

/// A ticket dispenser and a "now serving" sign: the fairness rule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tickets {
    next_ticket: u64,
    now_serving: u64,
}

impl Tickets {
    /// A new place in the queue.
    pub fn take(&mut self) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        ticket
    }

    /// True when the GIL belongs to `ticket`.
    pub fn is_turn_of(&self, ticket: u64) -> bool {
        self.now_serving == ticket
    }

    /// True when `ticket` is first in line behind the current turn.
    pub fn is_next(&self, ticket: u64) -> bool {
        ticket == self.now_serving + 1
    }

    /// The current turn is over: the next ticket's owner holds the GIL from now on.
    pub fn next_turn(&mut self) {
        self.now_serving += 1;
    }

    /// Tickets taken whose turn has not come yet (the current turn not included).
    #[cfg(test)]
    pub fn waiting(&self) -> u64 {
        self.next_ticket.saturating_sub(self.now_serving + 1)
    }
}

/// When the first waiter in line asks the holder to drop the GIL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// At the end of a whole switch interval of its waiting, counted from when it joined the
    /// line, in which the GIL did not change hands: CPython's rule, and `gil.rs`'s.
    Cpython,
    /// One switch interval after it got to the front of the line, or after the GIL last
    /// changed hands: the quiz's rule, simpler to play by hand.
    SinceLastSwitch,
}

/// The switch rule: does the first waiter in line, in line since `queued_at`, ask the holder to
/// drop the GIL at `now`? The GIL last went to another thread at `last_switch`, and was last
/// handed over or let go at `last_hand_over`.
pub fn should_ask_to_drop(
    clock: Clock,
    queued_at: Duration,
    (last_switch, last_hand_over): (Duration, Duration),
    now: Duration,
    switch_interval: Duration,
) -> bool {
    match clock {
        Clock::SinceLastSwitch => now >= queued_at.max(last_hand_over) + switch_interval,
        Clock::Cpython => {
            let whole = (now.saturating_sub(queued_at).as_nanos() / switch_interval.as_nanos().max(1)) as u32;
            whole > 0 && last_switch <= queued_at + switch_interval * (whole - 1)
        }
    }
}

/// One thread holding the GIL from `start` to `end` (measured from the start of the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    pub thread: usize,
    #[serde(serialize_with = "as_seconds")]
    pub start: Duration,
    #[serde(serialize_with = "as_seconds")]
    pub end: Duration,
}

fn as_seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// Who held the GIL when, as [`simulate`] predicts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// Every turn, in order.
    pub spans: Vec<Span>,
    /// When each thread finished its program.
    pub finished_at: Vec<Duration>,
    /// Hand-overs from one thread to a different one.
    pub switches: u64,
    /// Times a waiter asked the holder to drop the GIL.
    pub drop_requests: u64,
}

impl Timeline {
    /// The thread holding the GIL at `time` (`None` while nobody does).
    pub fn holder_at(&self, time: Duration) -> Option<usize> {
        self.spans
            .iter()
            .find(|span| span.start <= time && time < span.end)
            .map(|span| span.thread)
    }

    /// When the last thread finished.
    pub fn end(&self) -> Duration {
        self.finished_at.iter().copied().max().unwrap_or_default()
    }
}

/// Runs `programs` (one per thread, all starting at time zero and asking for the GIL in
/// thread order) under the two rules, each bytecode step taking `step_time`, the first waiter
/// asking for the GIL by `clock`.
pub fn simulate(programs: &[Vec<Op>], switch_interval: Duration, step_time: Duration, clock: Clock) -> Timeline {
    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Status {
        /// Queued for the GIL with this ticket, since this time.
        Waiting {
            ticket: u64,
            since: Duration,
        },
        Holding,
        Sleeping {
            until: Duration,
        },
        Done,
    }
    let n_threads = programs.len();
    let mut tickets = Tickets::default();
    let mut status: Vec<Status> = Vec::with_capacity(n_threads);
    for _ in programs {
        status.push(Status::Waiting {
            ticket: tickets.take(),
            since: Duration::ZERO,
        });
    }
    // Where each thread is in its program: the op, and how many steps of it are left.
    let mut op_index = vec![0usize; n_threads];
    let mut steps_left: Vec<Option<u64>> = vec![None; n_threads];
    let mut timeline = Timeline {
        finished_at: vec![Duration::ZERO; n_threads],
        ..Timeline::default()
    };
    let mut now = Duration::ZERO;
    let mut holder: Option<(usize, Duration)> = None;
    let mut last_holder: Option<usize> = None;
    let mut last_hand_over = Duration::ZERO;
    let mut last_switch = Duration::ZERO;
    let mut drop_request = false;

    let release = |thread: usize,
                   since: Duration,
                   now: Duration,
                   tickets: &mut Tickets,
                   timeline: &mut Timeline,
                   last_hand_over: &mut Duration| {
        // A thread that gives the GIL up as soon as it gets it (to sleep) held it for no time.
        if now > since {
            timeline.spans.push(Span {
                thread,
                start: since,
                end: now,
            });
        }
        tickets.next_turn();
        *last_hand_over = now;
    };

    loop {
        // Sleepers whose wait is over queue for the GIL, earliest first (then by thread).
        let mut woken: Vec<(Duration, usize)> = status
            .iter()
            .enumerate()
            .filter_map(|(thread, s)| match s {
                Status::Sleeping { until } if *until <= now => Some((*until, thread)),
                _ => None,
            })
            .collect();
        woken.sort();
        for (until, thread) in woken {
            status[thread] = Status::Waiting {
                ticket: tickets.take(),
                since: until,
            };
        }

        // A free GIL goes to the ticket whose turn it is.
        if holder.is_none()
            && let Some(thread) = status
                .iter()
                .position(|s| matches!(s, Status::Waiting { ticket, .. } if tickets.is_turn_of(*ticket)))
        {
            status[thread] = Status::Holding;
            holder = Some((thread, now));
            drop_request = false;
            if last_holder.is_some_and(|last| last != thread) {
                timeline.switches += 1;
                last_switch = now;
            }
            last_holder = Some(thread);
        }

        let Some((thread, since)) = holder else {
            // Nobody can run: jump to the next wake-up, or stop when everyone is done.
            let next_wake = status
                .iter()
                .filter_map(|s| match s {
                    Status::Sleeping { until } => Some(*until),
                    _ => None,
                })
                .min();
            match next_wake {
                Some(until) => {
                    now = now.max(until);
                    continue;
                }
                None => break,
            }
        };

        // The holder is at a step boundary. A compute op with no steps left is skipped.
        while let Some(Op::Compute { steps: 0, .. }) = programs[thread].get(op_index[thread]) {
            op_index[thread] += 1;
        }
        match programs[thread].get(op_index[thread]) {
            None => {
                release(thread, since, now, &mut tickets, &mut timeline, &mut last_hand_over);
                holder = None;
                status[thread] = Status::Done;
                timeline.finished_at[thread] = now;
            }
            Some(Op::Sleep(duration)) => {
                // Blocking I/O: the GIL is given up without being asked.
                release(thread, since, now, &mut tickets, &mut timeline, &mut last_hand_over);
                holder = None;
                status[thread] = Status::Sleeping { until: now + *duration };
                op_index[thread] += 1;
            }
            Some(Op::Compute { steps, .. }) => {
                // Before the next step: has the first waiter waited a whole switch interval?
                if let Some(Status::Waiting { since: queued_at, .. }) = status
                    .iter()
                    .find(|s| matches!(s, Status::Waiting { ticket, .. } if tickets.is_next(*ticket)))
                {
                    let changes = (last_switch, last_hand_over);
                    if !drop_request && should_ask_to_drop(clock, *queued_at, changes, now, switch_interval) {
                        drop_request = true;
                        timeline.drop_requests += 1;
                    }
                }
                if drop_request {
                    release(thread, since, now, &mut tickets, &mut timeline, &mut last_hand_over);
                    holder = None;
                    status[thread] = Status::Waiting {
                        ticket: tickets.take(),
                        since: now,
                    };
                    continue;
                }
                now += step_time;
                let left = steps_left[thread].unwrap_or(*steps) - 1;
                if left == 0 {
                    steps_left[thread] = None;
                    op_index[thread] += 1;
                } else {
                    steps_left[thread] = Some(left);
                }
            }
        }
    }
    timeline
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn cpu(steps: u64) -> Op {
        Op::compute(0, steps)
    }

    #[test]
    fn tickets_serve_in_order() {
        let mut tickets = Tickets::default();
        let (a, b, c) = (tickets.take(), tickets.take(), tickets.take());
        assert!(tickets.is_turn_of(a) && tickets.is_next(b) && !tickets.is_next(c));
        assert_eq!(tickets.waiting(), 2);
        tickets.next_turn();
        assert!(tickets.is_turn_of(b) && tickets.is_next(c));
    }

    #[test]
    fn two_cpu_threads_take_turns_of_one_switch_interval() {
        // 1 ms steps, 5 ms interval, 20 steps each: turns of 5 ms, alternating.
        let timeline = simulate(&[vec![cpu(20)], vec![cpu(20)]], 5 * MS, MS, Clock::SinceLastSwitch);
        let turns: Vec<(usize, u64, u64)> = timeline
            .spans
            .iter()
            .map(|s| (s.thread, s.start.as_millis() as u64, s.end.as_millis() as u64))
            .collect();
        assert_eq!(
            turns,
            vec![
                (0, 0, 5),
                (1, 5, 10),
                (0, 10, 15),
                (1, 15, 20),
                (0, 20, 25),
                (1, 25, 30),
                (0, 30, 35),
                (1, 35, 40),
            ]
        );
        assert_eq!(timeline.switches, 7);
        assert_eq!(timeline.finished_at, vec![35 * MS, 40 * MS]);
        assert_eq!(timeline.holder_at(12 * MS), Some(0));
        assert_eq!(timeline.holder_at(17 * MS), Some(1));
        assert_eq!(timeline.holder_at(41 * MS), None);
        assert_eq!(timeline.end(), 40 * MS);
    }

    #[test]
    fn a_thread_back_from_io_waits_one_interval_behind_a_cpu_thread() {
        // T1 sleeps 2 ms, then needs one step; T0 computes for 30 ms.
        let programs = [vec![cpu(30)], vec![Op::Sleep(2 * MS), cpu(1)]];
        let timeline = simulate(&programs, 5 * MS, MS, Clock::SinceLastSwitch);
        // T0 holds from 0 with T1 queued behind it. T1 asks after 5 ms, gets the GIL at 5 and
        // gives it up at once to sleep; it wakes at 7, queues behind T0 again, asks at 12 and
        // runs its step from 12 to 13. T0's 30 steps end at 31.
        assert_eq!(timeline.holder_at(Duration::from_micros(12_500)), Some(1));
        assert_eq!(timeline.holder_at(Duration::from_micros(6_000)), Some(0));
        assert_eq!(timeline.finished_at, vec![31 * MS, 13 * MS]);
        assert_eq!(timeline.drop_requests, 2);
    }

    #[test]
    fn cpythons_clock_does_not_count_an_interval_in_which_the_gil_changed_hands() {
        // T2 joins the line at 0 ms behind T1; T0 goes to sleep at 1 ms and T1 takes the GIL.
        // CPython's clock counts T2's intervals from 0 ms: 0–2 saw that switch, 2–4 did not,
        // so T2 asks at 4. The quiz's clock starts again at the switch: T2 asks at 3.
        let programs = [vec![cpu(1), Op::Sleep(MS), cpu(1)], vec![cpu(6)], vec![cpu(6)]];
        let cpython = simulate(&programs, 2 * MS, MS, Clock::Cpython);
        assert_eq!(cpython.holder_at(Duration::from_micros(3_500)), Some(1));
        assert_eq!(cpython.holder_at(Duration::from_micros(4_500)), Some(2));
        let quiz = simulate(&programs, 2 * MS, MS, Clock::SinceLastSwitch);
        assert_eq!(quiz.holder_at(Duration::from_micros(3_500)), Some(2));
    }

    #[test]
    fn waiters_are_served_first_come_first_served() {
        // Three CPU threads: the GIL goes round in ticket order, 0, 1, 2, 0, 1, 2, ...
        let timeline = simulate(
            &[vec![cpu(12)], vec![cpu(12)], vec![cpu(12)]],
            4 * MS,
            MS,
            Clock::SinceLastSwitch,
        );
        let order: Vec<usize> = timeline.spans.iter().map(|s| s.thread).collect();
        assert_eq!(order, vec![0, 1, 2, 0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn sleeping_threads_overlap_their_waits() {
        // Eight threads that only wait 100 ms: all done after 100 ms, not 800.
        let programs: Vec<Vec<Op>> = (0..8).map(|_| vec![Op::Sleep(100 * MS)]).collect();
        let timeline = simulate(&programs, 5 * MS, MS, Clock::SinceLastSwitch);
        assert_eq!(timeline.end(), 100 * MS);
    }

    #[test]
    fn the_same_inputs_give_the_same_timeline() {
        let programs = [
            vec![cpu(7), Op::Sleep(3 * MS), cpu(9)],
            vec![Op::Sleep(MS), cpu(11)],
            vec![cpu(2), Op::Sleep(6 * MS), cpu(4)],
        ];
        let first = simulate(&programs, 2 * MS, Duration::from_micros(700), Clock::SinceLastSwitch);
        assert_eq!(
            first,
            simulate(&programs, 2 * MS, Duration::from_micros(700), Clock::SinceLastSwitch)
        );
        // Every step runs exactly once, inside some turn, and turns never overlap.
        let held: Duration = first.spans.iter().map(|s| s.end - s.start).sum();
        assert_eq!(held, Duration::from_micros(700) * (7 + 9 + 11 + 2 + 4));
        for pair in first.spans.windows(2) {
            assert!(pair[0].end <= pair[1].start, "{pair:?}");
        }
    }
}
