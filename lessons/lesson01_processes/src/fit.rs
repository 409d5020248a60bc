//! Sizes the machine can give: memory (what is available, and an address-space limit) and
//! children (a per-user process limit, a container's pids limit), read up front from the OS
//! and `course::limits`. Sizes asked for on the command line that do not fit are refused,
//! naming the limit; defaults are made smaller, with a warning that names it.

use crate::{Params, observe};
use course::Lesson;
use course::timing::format;

/// Fits `p` to the machine; `sizes_asked` when `--buffer-mib` or `--fork-mib` was given.
pub fn to_the_machine(lesson: &Lesson, sizes_asked: bool, p: &mut Params) -> anyhow::Result<()> {
    // Physical memory: the buffer and the child's copy of what it writes, then what fork holds.
    let needed_mib = (p.buffer_mib as f64 * (1.0 + p.write_fraction)).max(p.fork_mib as f64) as u64;
    if let Some(available) = observe::available_memory()
        && (needed_mib << 20) > available / 10 * 8
    {
        return Err(course::usage_error(format!(
            "--buffer-mib, --write-fraction and --fork-mib need up to {} of memory, but only {} is available",
            format::bytes(needed_mib << 20),
            format::bytes(available)
        )));
    }
    // Address space (ulimit -v): the buffer, or the memory held while fork is timed, with room
    // to spare for the lesson itself.
    if let Some((limit, used)) = course::limits::address_space() {
        let room_mib = (limit.saturating_sub(used) >> 20).saturating_sub(64) as usize;
        let what = format!(
            "the address-space limit (ulimit -v) is {}, with {} in use",
            format::bytes(limit),
            format::bytes(used)
        );
        if p.buffer_mib.max(p.fork_mib) > room_mib {
            if sizes_asked || room_mib < 16 {
                return Err(course::usage_error(format!(
                    "--buffer-mib and --fork-mib may be at most {room_mib} here: {what}"
                )));
            }
            let (buffer, fork) = (p.buffer_mib, p.fork_mib);
            while p.buffer_mib > room_mib {
                p.buffer_mib /= 2;
            }
            while p.fork_mib > room_mib {
                p.fork_mib /= 2;
            }
            lesson.warn(&format!(
                "a {} MiB buffer and fork timed with up to {} MiB held, instead of {buffer} and {fork}: {what}",
                p.buffer_mib, p.fork_mib
            ));
        }
    }
    // Processes: the zombies are alive at once (section 4); two children at most otherwise.
    if let Some(limit) = course::limits::tightest_task_limit() {
        let room = limit.room() as usize;
        if room < 2 {
            anyhow::bail!("no room for the lesson's children here: {limit}");
        }
        if p.zombies > room {
            lesson.warn(&format!("{room} zombies instead of {}: {limit}", p.zombies));
            p.zombies = room;
        }
    }
    Ok(())
}
