//! A start line for a race: the workers wait until all of them are running at once.
//!
//! A race shows only when the workers really overlap. A `std::sync::Barrier` lets them go as
//! soon as the last one *arrives*, but at that moment the others are asleep: they take a while
//! to wake up, or they sit in the queue of the same core as the last one, waiting for it to
//! finish. A race that lasts a fraction of a millisecond is then over before the second worker
//! starts, and no update is lost. Here a waiting worker never sleeps: it spins and counts its
//! heartbeat, and the workers go once every one of them has been seen counting at the same
//! time as the others, that is, each running on a core of its own. When that cannot happen
//! (more workers than cores, or other programs holding the cores), they go after a few
//! milliseconds anyway, and the line says so.
//!
//! The workers may be threads or forked processes: everything the line needs is atomics, which
//! can live in a `MAP_SHARED` page as well as on a thread's stack.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Not yet: the workers are still waiting.
const WAITING: u8 = 0;
/// Every worker was seen running at the same moment as the others.
const TOGETHER: u8 = 1;
/// Every worker had arrived, but they were not seen running at once.
const ARRIVED: u8 = 2;

/// How often a waiting worker looks at the others' heartbeats.
const LOOK_EVERY: Duration = Duration::from_micros(5);
/// Looks in a row in which every other worker's heartbeat moved: then all of them are running.
const LOOKS_IN_A_ROW: u32 = 3;
/// How long the workers wait to be seen running together once all have arrived.
const PATIENCE: Duration = Duration::from_millis(5);

/// The state of one start line: a heartbeat per worker and the signal to go. All zero is a
/// fresh line, so it can live in a zero-filled shared mapping.
#[derive(Debug)]
pub struct StartLine<'a> {
    beats: &'a [AtomicU64],
    state: &'a AtomicU8,
    /// Whether the workers can all run at once at all (no more of them than cores).
    fit: bool,
}

impl<'a> StartLine<'a> {
    /// A line for `beats.len()` workers on a machine with `cores` cores; `beats` and `state`
    /// must be zero and shared by every worker.
    pub fn new(beats: &'a [AtomicU64], state: &'a AtomicU8, cores: usize) -> Self {
        StartLine {
            beats,
            state,
            fit: beats.len() <= cores,
        }
    }

    /// Waits at the line as worker `me` (0-based) and returns when the workers may go.
    pub fn wait(&self, me: usize) {
        let beat = &self.beats[me];
        beat.fetch_add(1, Ordering::SeqCst);
        if self.beats.len() == 1 {
            // Alone: nobody to wait for.
            self.go(TOGETHER);
        }
        let mut seen: Vec<u64> = self.beats.iter().map(|b| b.load(Ordering::SeqCst)).collect();
        let mut looks_in_a_row = 0;
        let mut all_arrived_at: Option<Instant> = None;
        let mut next_look = Instant::now();
        let mut spins: u32 = 0;
        while self.state.load(Ordering::SeqCst) == WAITING {
            beat.fetch_add(1, Ordering::Relaxed);
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) {
                std::hint::spin_loop();
                continue;
            }
            if !self.fit {
                // Spinning workers would keep the late ones off the cores.
                std::thread::yield_now();
            }
            let now = Instant::now();
            if now < next_look {
                continue;
            }
            next_look = now + LOOK_EVERY;
            // Did every other worker count since the last look? Then it is running right now.
            let mut all_moved = true;
            let mut all_arrived = true;
            for (worker, (other, last)) in self.beats.iter().zip(seen.iter_mut()).enumerate() {
                let value = other.load(Ordering::Relaxed);
                all_arrived &= value > 0;
                all_moved &= worker == me || value != *last;
                *last = value;
            }
            looks_in_a_row = if all_moved { looks_in_a_row + 1 } else { 0 };
            if !all_arrived {
                continue;
            }
            let since = *all_arrived_at.get_or_insert(now);
            if self.fit && looks_in_a_row >= LOOKS_IN_A_ROW {
                self.go(TOGETHER);
            } else if !self.fit || now.duration_since(since) >= PATIENCE {
                self.go(ARRIVED);
            }
        }
    }

    /// Whether the workers went having all been seen running at once (after [`StartLine::wait`]).
    pub fn together(&self) -> bool {
        self.state.load(Ordering::SeqCst) == TOGETHER
    }

    /// Lets the workers waiting at the line go at once: for when one of them will never come
    /// (the machine refused to start it), so that those already waiting do not wait forever.
    pub fn abandon(&self) {
        self.go(ARRIVED);
    }

    fn go(&self, how: u8) {
        // The first worker to decide wins; the others see its decision.
        let _ = self
            .state
            .compare_exchange(WAITING, how, Ordering::SeqCst, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_for(workers: usize, cores: usize) -> bool {
        let beats: Vec<AtomicU64> = (0..workers).map(|_| AtomicU64::new(0)).collect();
        let state = AtomicU8::new(0);
        let line = StartLine::new(&beats, &state, cores);
        std::thread::scope(|scope| {
            for me in 0..workers {
                let line = &line;
                scope.spawn(move || line.wait(me));
            }
        });
        assert_ne!(state.load(Ordering::SeqCst), WAITING);
        line.together()
    }

    #[test]
    fn every_worker_gets_past_the_line() {
        // Whether they were seen together depends on the machine; that they all go does not.
        line_for(1, 1);
        line_for(2, 2);
        line_for(3, 64);
    }

    #[test]
    fn more_workers_than_cores_go_once_all_have_arrived() {
        assert!(!line_for(4, 1));
    }

    #[test]
    fn one_worker_is_always_together_with_itself() {
        assert!(line_for(1, 8));
    }
}
