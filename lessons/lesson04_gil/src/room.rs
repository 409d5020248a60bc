//! Room for workers: a machine may limit the threads and processes a user starts (`ulimit -u`,
//! a container's `pids.max`), the address space their stacks take (`ulimit -v`), or the files
//! a process opens (`ulimit -n`; each worker process is read through a pipe). The lesson then
//! runs fewer workers and says which limit made it do so.

use course::Lesson;
use course::limits::{self, DEFAULT_STACK};

/// `requested` workers for `flag`, or as many as the tightest limit leaves room for, keeping
/// `extra` threads for the lesson's own; a lowered count is announced with the limit named.
pub fn fit_workers(lesson: &Lesson, flag: &str, requested: usize, extra: usize) -> usize {
    let mut fits = requested;
    let mut why = String::new();
    if let Some((room, limit)) = limits::room_for_threads(DEFAULT_STACK) {
        let room = usize::try_from(room).unwrap_or(usize::MAX).saturating_sub(extra);
        if room < fits {
            (fits, why) = (room, limit);
        }
    }
    // Each worker process is read through a pipe while the others run: one descriptor each,
    // and a few for the one being forked and for the convoy's socket.
    if let Some((limit, open)) = limits::open_files() {
        let room = usize::try_from(limit.saturating_sub(open))
            .unwrap_or(usize::MAX)
            .saturating_sub(4);
        if room < fits {
            fits = room;
            why = format!(
                "the open-file limit (ulimit -n) is {limit}, with {open} open, and each worker process is read through a pipe"
            );
        }
    }
    if requested <= fits {
        return requested;
    }
    let lowered = fits.max(1);
    lesson.warn(&format!("{flag} lowered from {requested} to {lowered}: {why}"));
    lowered
}
