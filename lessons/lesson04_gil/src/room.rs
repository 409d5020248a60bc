//! Room for threads: a machine may limit the threads and processes a user starts (`ulimit -u`,
//! a container's `pids.max`) or the address space their stacks take (`ulimit -v`). The lesson
//! then runs fewer workers and says which limit made it do so.

use course::Lesson;
use course::limits::{self, DEFAULT_STACK};

/// `requested` workers for `flag`, or as many as the tightest limit leaves room for, keeping
/// `extra` for the lesson's own threads; a lowered count is announced with the limit named.
pub fn fit_threads(lesson: &Lesson, flag: &str, requested: usize, extra: usize) -> usize {
    let Some((room, limit)) = limits::room_for_threads(DEFAULT_STACK) else {
        return requested;
    };
    let fits = usize::try_from(room).unwrap_or(usize::MAX).saturating_sub(extra);
    if requested <= fits {
        return requested;
    }
    let lowered = fits.max(1);
    lesson.warn(&format!("{flag} lowered from {requested} to {lowered}: {limit}"));
    lowered
}
