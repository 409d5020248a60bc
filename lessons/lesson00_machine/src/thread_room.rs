//! How many threads the machine lets this lesson start. A per-user process limit
//! (`ulimit -u`), a container's task limit or an address-space limit (`ulimit -v`) may leave
//! room for fewer threads than a measurement asks for: the lesson then measures with as many
//! as fit and says which limit was in the way, rather than failing halfway through.

use course::Lesson;
use course::limits::{DEFAULT_STACK, room_for_threads};

/// `wanted` threads, or as many as fit now, with a warning naming the limit; an error when
/// not even one fits. `what` names the measurement in the warning.
pub fn threads_that_fit(lesson: &Lesson, wanted: usize, what: &str) -> anyhow::Result<usize> {
    let Some((room, limit)) = room_for_threads(DEFAULT_STACK) else {
        return Ok(wanted);
    };
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    if room >= wanted {
        return Ok(wanted);
    }
    anyhow::ensure!(room > 0, "no room for a single thread for {what}: {limit}");
    lesson.warn(&format!("{what} on {room} threads instead of {wanted}: {limit}"));
    Ok(room)
}
