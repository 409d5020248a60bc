//! How many threads or processes this machine lets the lesson start at once, read up front
//! from `course::limits`, so that a lesson under a per-user process limit, a container's pids
//! limit or an address-space limit starts fewer (and says so) instead of failing halfway.

use course::Lesson;
use course::limits;

/// Tasks left free for whatever else the lesson and the user run meanwhile.
const SPARE: u64 = 4;

/// How many threads with the default stack may start at once here, and the limit that says
/// so; `None` when nothing limits them.
pub fn for_threads() -> Option<(u64, String)> {
    limits::room_for_threads(limits::DEFAULT_STACK)
}

/// How many processes may start at once here, and the limit that says so.
pub fn for_processes() -> Option<(u64, String)> {
    limits::tightest_task_limit().map(|limit| (limit.room(), limit.to_string()))
}

/// Under an address-space limit (`ulimit -v`), glibc would reserve 64 MiB of it for each new
/// thread's allocator arena, up to 8 arenas per core: a few threads would use up a 1 GiB limit
/// before their stacks do. There, all threads share one arena (as `MALLOC_ARENA_MAX=1` would
/// make them), and a warning says so. Call before any thread starts.
pub fn share_one_allocator_arena(lesson: &Lesson) {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if let Some((limit, _)) = limits::address_space() {
        // Safety: mallopt changes a setting of glibc's allocator and nothing else; it is called
        // while the lesson has a single thread, before any other allocates.
        let set = unsafe { nix::libc::mallopt(nix::libc::M_ARENA_MAX, 1) } == 1;
        if set {
            lesson.warn(&format!(
                "under the address-space limit (ulimit -v) of {}, all threads share one allocator \
                 arena, so that the limit goes to their stacks",
                course::timing::format::bytes(limit)
            ));
        }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let _ = lesson;
}

/// How many more files (pipes included) may be open at once here, and the limit that says so.
pub fn for_open_files() -> Option<(u64, String)> {
    let (limit, open) = limits::open_files()?;
    Some((
        limit.saturating_sub(open),
        format!("the open-file limit (ulimit -n) is {limit}, with {open} open"),
    ))
}

/// How many of `wanted` fit, given `room`: `wanted`, or fewer with the limit that says so.
/// Fails when not even one fits.
pub fn fit(wanted: usize, what: &str, room: Option<(u64, String)>) -> anyhow::Result<(usize, Option<String>)> {
    let Some((room, limit)) = room else {
        return Ok((wanted, None));
    };
    let fit = room.saturating_sub(SPARE) as usize;
    if fit >= wanted {
        return Ok((wanted, None));
    }
    if fit == 0 {
        anyhow::bail!("no room for {what} here: {limit}");
    }
    Ok((fit, Some(limit)))
}

/// One warning per limit that made the lesson start fewer of something than `wanted`: each
/// entry is how many will start, what they are, and the limit in the way (if any).
pub fn warn_fewer(lesson: &Lesson, wanted: usize, fits: &[(usize, &str, Option<String>)]) {
    let mut limits: Vec<&String> = fits.iter().filter_map(|(_, _, limit)| limit.as_ref()).collect();
    limits.dedup();
    for limit in limits {
        let fewer: Vec<String> = fits
            .iter()
            .filter(|(_, _, l)| l.as_ref() == Some(limit))
            .map(|(n, what, _)| format!("{n} {what}"))
            .collect();
        lesson.warn(&format!(
            "{} alive at once instead of {wanted}: {limit}",
            fewer.join(" and ")
        ));
    }
}

/// `wanted`, or fewer when `room` says fewer fit: then a warning names the limit.
pub fn at_most(lesson: &Lesson, wanted: usize, what: &str, room: Option<(u64, String)>) -> anyhow::Result<usize> {
    let (fit, limit) = fit(wanted, what, room)?;
    if let Some(limit) = limit {
        lesson.warn(&format!("{fit} {what} instead of {wanted}: {limit}"));
    }
    Ok(fit)
}
