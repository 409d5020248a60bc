//! The limits a machine puts on threads, processes, memory and open files, each counted
//! against what it really counts, so that a lesson can adapt to them or stop with one line
//! that names the limit in the way:
//!
//! - `RLIMIT_NPROC` (`ulimit -u`) against the tasks (threads included) of this process's real
//!   user; it does not bind root;
//! - a cgroup's `pids.max` (a container, a systemd slice) against the cgroup's `pids.current`,
//!   for this process's cgroup and every cgroup above it;
//! - `kernel.threads-max` and `kernel.pid_max` against every task on the machine;
//! - `RLIMIT_AS` (`ulimit -v`) against this process's address space and the thread stacks
//!   it is about to ask for;
//! - `RLIMIT_NOFILE` (`ulimit -n`) against the file descriptors open now.
//!
//! Readings the OS does not offer (no `/proc`, no cgroup v2) are left out.

use nix::sys::resource::{Resource, getrlimit};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The stack a thread gets unless asked otherwise (`std::thread`'s default, 2 MiB).
pub const DEFAULT_STACK: u64 = 2 << 20;

/// One limit on new tasks (threads or processes) and how much of it is used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskLimit {
    /// What the limit is, as a person would look it up: "the per-user process limit (ulimit -u)".
    pub name: String,
    pub limit: u64,
    /// Tasks it counts right now.
    pub used: u64,
}

impl TaskLimit {
    /// How many more tasks it lets start.
    pub fn room(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

impl std::fmt::Display for TaskLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} is {}, with {} in use", self.name, self.limit, self.used)
    }
}

/// Every limit on new tasks that applies to this process, tightest first.
pub fn task_limits() -> Vec<TaskLimit> {
    let mut limits = Vec::new();
    if let Some(limit) = user_process_limit() {
        limits.push(limit);
    }
    limits.extend(cgroup_pid_limits());
    if let Some(tasks) = tasks_on_machine() {
        for (name, path) in [
            (
                "the machine's thread limit (kernel.threads-max)",
                "/proc/sys/kernel/threads-max",
            ),
            (
                "the machine's process-id limit (kernel.pid_max)",
                "/proc/sys/kernel/pid_max",
            ),
        ] {
            if let Some(limit) = read_number(path) {
                limits.push(TaskLimit {
                    name: name.to_string(),
                    limit,
                    used: tasks,
                });
            }
        }
    }
    limits.sort_by_key(TaskLimit::room);
    limits
}

/// The tightest limit on new tasks, if any can be read.
pub fn tightest_task_limit() -> Option<TaskLimit> {
    task_limits().into_iter().next()
}

/// `RLIMIT_NPROC` against the tasks of this process's real user, unless it does not bind (no
/// limit set, or root, which the kernel exempts).
pub fn user_process_limit() -> Option<TaskLimit> {
    let (soft, _) = getrlimit(Resource::RLIMIT_NPROC).ok()?;
    let uid = nix::unistd::getuid();
    if soft == nix::libc::RLIM_INFINITY || uid.is_root() {
        return None;
    }
    Some(TaskLimit {
        name: "the per-user process limit (ulimit -u)".to_string(),
        limit: soft,
        used: tasks_of_user(uid.as_raw()).unwrap_or(0),
    })
}

/// Tasks (threads included) whose real user is `uid`, as `RLIMIT_NPROC` counts them.
pub fn tasks_of_user(uid: u32) -> Option<u64> {
    let mut tasks = 0;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let real_uid = status
            .lines()
            .find_map(|line| line.strip_prefix("Uid:"))
            .and_then(|ids| ids.split_whitespace().next())
            .and_then(|id| id.parse::<u32>().ok());
        if real_uid == Some(uid) {
            tasks += status
                .lines()
                .find_map(|line| line.strip_prefix("Threads:"))
                .and_then(|n| n.trim().parse::<u64>().ok())
                .unwrap_or(1);
        }
    }
    Some(tasks)
}

/// Every task on the machine (`/proc/loadavg`'s fourth field is running/all).
pub fn tasks_on_machine() -> Option<u64> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    loadavg.split_whitespace().nth(3)?.split_once('/')?.1.parse().ok()
}

/// `pids.max` against `pids.current` for this process's cgroup (v2) and each one above it.
pub fn cgroup_pid_limits() -> Vec<TaskLimit> {
    let mut limits = Vec::new();
    let Some(mut dir) = own_cgroup() else {
        return limits;
    };
    let root = Path::new("/sys/fs/cgroup");
    loop {
        if let (Some(limit), Some(used)) = (read_number(dir.join("pids.max")), read_number(dir.join("pids.current"))) {
            let name = dir.strip_prefix(root).map_or_else(
                |_| dir.display().to_string(),
                |relative| format!("/{}", relative.display()),
            );
            limits.push(TaskLimit {
                name: format!("the cgroup's task limit (pids.max of {name})"),
                limit,
                used,
            });
        }
        if dir == root || !dir.pop() || !dir.starts_with(root) {
            break;
        }
    }
    limits
}

fn own_cgroup() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|line| line.strip_prefix("0::"))?;
    Some(Path::new("/sys/fs/cgroup").join(path.trim_start_matches('/')))
}

/// The address-space limit (`ulimit -v`) and this process's address space now, in bytes;
/// `None` when there is no limit.
pub fn address_space() -> Option<(u64, u64)> {
    let (soft, _) = getrlimit(Resource::RLIMIT_AS).ok()?;
    if soft == nix::libc::RLIM_INFINITY {
        return None;
    }
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmSize:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((soft, kib * 1024))
}

/// Address space glibc reserves for each of a process's first malloc arenas: a thread that
/// allocates gets an arena of its own, up to eight per core, each reserving 64 MiB up front.
pub const MALLOC_ARENA: u64 = 64 << 20;

/// How many more threads with `stack` bytes of stack fit under the address-space limit
/// (`None`: no limit). Each thread's stack is reserved whole when it starts, and on glibc the
/// first threads that allocate memory reserve an arena each as well.
pub fn threads_that_fit_in_address_space(stack: u64) -> Option<u64> {
    let (limit, used) = address_space()?;
    let free = limit.saturating_sub(used);
    // A guard page and the thread's own bookkeeping: a margin.
    let per_thread = stack + (64 << 10);
    let arenas = if cfg!(all(target_os = "linux", target_env = "gnu")) {
        let cores = std::thread::available_parallelism().map_or(1, usize::from) as u64;
        let most = std::env::var("MALLOC_ARENA_MAX")
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(8 * cores);
        // The main thread's arena is not reserved this way; the others are.
        most.min(8 * cores).saturating_sub(1)
    } else {
        0
    };
    let with_arena = per_thread + MALLOC_ARENA;
    Some(if arenas == 0 || free <= arenas * with_arena {
        free / if arenas == 0 { per_thread } else { with_arena }
    } else {
        arenas + (free - arenas * with_arena) / per_thread
    })
}

/// How many threads of `stack` bytes may start here now, and the limit that says so: the
/// tightest of the task limits (less [`SPARE`] tasks for everything else) and the address
/// space. `None` when nothing limits them.
pub fn room_for_threads(stack: u64) -> Option<(u64, String)> {
    let tasks = tightest_task_limit().map(|limit| (limit.room().saturating_sub(SPARE), limit.to_string()));
    let memory = threads_that_fit_in_address_space(stack).map(|room| {
        let (limit, used) = address_space().unwrap_or_default();
        (
            room,
            format!(
                "the address-space limit (ulimit -v) is {}, with {} in use, and each thread reserves a {} stack",
                timing::format::bytes(limit),
                timing::format::bytes(used),
                timing::format::bytes(stack)
            ),
        )
    });
    match (tasks, memory) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    }
}

/// How many processes may start here now, and the limit that says so (`None`: nothing limits
/// them).
pub fn room_for_processes() -> Option<(u64, String)> {
    tightest_task_limit().map(|limit| (limit.room().saturating_sub(SPARE), limit.to_string()))
}

/// How many more files (pipes and sockets included) may be open at once, and the limit.
pub fn room_for_open_files() -> Option<(u64, String)> {
    let (limit, open) = open_files()?;
    Some((
        limit.saturating_sub(open).saturating_sub(SPARE),
        format!("the open-file limit (ulimit -n) is {limit}, with {open} open"),
    ))
}

/// Tasks (or files) left free for whatever else the lesson and the user run meanwhile: the
/// `room_for_` functions leave them out of the room they give.
pub const SPARE: u64 = 4;

/// What one worker of a lesson keeps alive at once: tasks (its process and threads), thread
/// stacks in this process, and open files (its pipe ends, its sockets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerWorker {
    pub tasks: u64,
    pub threads: u64,
    pub files: u64,
}

/// How many workers that each need `per` may start here now, and the limit that says so: the
/// tightest of the task limits, the address space and the open files. `None` when nothing
/// limits them.
pub fn room_for_workers(per: PerWorker) -> Option<(u64, String)> {
    let tasks = (per.tasks > 0)
        .then(|| tightest_task_limit().map(|limit| (limit.room().saturating_sub(SPARE) / per.tasks, limit.to_string())))
        .flatten();
    let threads = (per.threads > 0)
        .then(|| room_for_threads(DEFAULT_STACK).map(|(room, limit)| (room / per.threads, limit)))
        .flatten();
    let files = (per.files > 0)
        .then(|| room_for_open_files().map(|(room, limit)| (room / per.files, limit)))
        .flatten();
    [tasks, threads, files]
        .into_iter()
        .flatten()
        .min_by_key(|(room, _)| *room)
}

/// How many of `wanted` fit in `room` (from a `room_for_` function): `wanted` with no limit
/// named, or fewer with the limit that says so. An error names the limit when not even one fits.
pub fn fit(wanted: usize, what: &str, room: Option<(u64, String)>) -> anyhow::Result<(usize, Option<String>)> {
    let Some((room, limit)) = room else {
        return Ok((wanted, None));
    };
    let fits = usize::try_from(room).unwrap_or(usize::MAX);
    if fits >= wanted {
        Ok((wanted, None))
    } else if fits == 0 {
        Err(anyhow::anyhow!("no room for {what} here: {limit}"))
    } else {
        Ok((fits, Some(limit)))
    }
}

/// Under an address-space limit (`ulimit -v`), glibc reserves 64 MiB of it for each thread's
/// allocator arena, up to eight per core: a 1 GiB limit is used up by a dozen threads before
/// their stacks count. So a lesson started under such a limit runs itself again at once with
/// `MALLOC_ARENA_MAX=2` (glibc's own setting, read when a process starts), and the limit goes
/// to the threads the lesson is about. Called by [`crate::parse_args`]; does nothing elsewhere.
pub fn fit_allocator_to_address_space() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if address_space().is_some() && std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        use std::os::unix::process::CommandExt;
        let mut args = std::env::args_os();
        let (Some(arg0), Ok(exe)) = (args.next(), std::env::current_exe()) else {
            return;
        };
        // `exec` returns only when it failed: then the lesson goes on as it was started.
        let _ = std::process::Command::new(exe)
            .arg0(arg0)
            .args(args)
            .env("MALLOC_ARENA_MAX", ALLOCATOR_ARENAS.to_string())
            .exec();
    }
}

/// The allocator arenas a lesson under an address-space limit allows itself.
pub const ALLOCATOR_ARENAS: u64 = 2;

/// The open-file limit (`ulimit -n`) and the descriptors open now.
pub fn open_files() -> Option<(u64, u64)> {
    let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    let open = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    Some((soft, open))
}

/// What stands in the way when a thread or process cannot start: the tightest limit, or the
/// address space when that is what ran out.
pub fn what_limits_tasks() -> String {
    let task_limit = tightest_task_limit();
    let memory = threads_that_fit_in_address_space(DEFAULT_STACK);
    let address_space = || {
        let (limit, used) = address_space().unwrap_or_default();
        format!(
            "the address-space limit (ulimit -v) is {}, with {} in use",
            timing::format::bytes(limit),
            timing::format::bytes(used)
        )
    };
    match (task_limit, memory) {
        (_, Some(0)) => address_space(),
        // Every limit on tasks still has room, and the address space is limited: that is what
        // ran out. Besides its stack, each new thread may reserve an allocator arena (64 MiB
        // with glibc), which the count of stacks above does not see.
        (Some(limit), Some(_)) if limit.room() > 0 => format!(
            "{}; each thread reserves its stack and, with glibc, up to 64 MiB for its allocator",
            address_space()
        ),
        (None, Some(_)) => address_space(),
        (Some(limit), _) => limit.to_string(),
        (None, None) => "no limit on tasks could be read; the machine may be out of memory".to_string(),
    }
}

/// The error for a thread the machine refused: which one, why, and the limit in the way.
pub fn thread_refused(index: usize, of: usize, error: &std::io::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "could not start thread {} of {of}: {error}; {}",
        index + 1,
        what_limits_tasks()
    )
}

/// The error for a process the machine refused to fork or spawn: the limit named is the one
/// that matches the refusal (tasks, memory or open files).
pub fn process_refused(what: &str, error: &(dyn std::error::Error + 'static)) -> anyhow::Error {
    let limit = errno_of(error)
        .and_then(explain_errno)
        .unwrap_or_else(what_limits_tasks);
    anyhow::anyhow!("could not start {what}: {error}; {limit}")
}

/// The OS error number behind `error`, when it is an `io::Error` or a `nix` one.
fn errno_of(error: &(dyn std::error::Error + 'static)) -> Option<i32> {
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        io.raw_os_error()
    } else {
        error.downcast_ref::<nix::errno::Errno>().map(|errno| *errno as i32)
    }
}

/// When `error` (or anything it was caused by) is the machine refusing a resource, the limit in
/// the way, in a few words: a thread or process refused (`EAGAIN`), memory or address space
/// refused (`ENOMEM`), too many open files (`EMFILE`, `ENFILE`). `None` for any other error.
pub fn explain(error: &anyhow::Error) -> Option<String> {
    explain_errno(error.chain().find_map(errno_of)?)
}

/// The limit behind an OS error number, for the refusals [`explain`] knows.
pub fn explain_errno(errno: i32) -> Option<String> {
    match errno {
        nix::libc::EAGAIN => Some(what_limits_tasks()),
        nix::libc::ENOMEM => Some(match address_space() {
            Some((limit, used)) => format!(
                "the address-space limit (ulimit -v) is {}, with {} in use",
                timing::format::bytes(limit),
                timing::format::bytes(used)
            ),
            None => "the machine is out of memory".to_string(),
        }),
        nix::libc::EMFILE | nix::libc::ENFILE => Some(match open_files() {
            Some((limit, open)) => format!("the open-file limit (ulimit -n) is {limit}, with {open} open"),
            None => "too many open files".to_string(),
        }),
        _ => None,
    }
}

fn read_number(path: impl AsRef<Path>) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_users_tasks_include_this_process() {
        if let Some(tasks) = tasks_of_user(nix::unistd::getuid().as_raw()) {
            assert!(tasks >= 1);
        }
    }

    #[test]
    fn limits_are_sorted_tightest_first() {
        let limits = task_limits();
        for pair in limits.windows(2) {
            assert!(pair[0].room() <= pair[1].room());
        }
        if std::path::Path::new("/proc/sys/kernel/threads-max").exists() {
            assert!(limits.iter().any(|l| l.name.contains("threads-max")));
        }
    }

    #[test]
    fn refusals_are_explained_and_other_errors_are_not() {
        let refused = anyhow::Error::new(std::io::Error::from_raw_os_error(nix::libc::EMFILE)).context("accept");
        assert!(explain(&refused).unwrap().contains("open-file limit"));
        let again = anyhow::Error::new(nix::errno::Errno::EAGAIN);
        assert!(explain(&again).is_some());
        assert_eq!(explain(&anyhow::anyhow!("a corrupt file")), None);
    }

    #[test]
    fn fitting_names_the_limit() {
        assert_eq!(fit(8, "threads", None).unwrap(), (8, None));
        let room = || Some((6, "the per-user process limit (ulimit -u) is 30".to_string()));
        let (fits, limit) = fit(8, "threads", room()).unwrap();
        assert_eq!(fits, 6);
        assert!(limit.unwrap().contains("ulimit -u"));
        assert_eq!(fit(6, "threads", room()).unwrap(), (6, None));
        let none = fit(8, "threads", Some((0, "a limit".to_string()))).unwrap_err();
        assert_eq!(none.to_string(), "no room for threads here: a limit");
    }

    #[test]
    fn a_worker_that_needs_more_fits_fewer_times() {
        let one = room_for_workers(PerWorker {
            tasks: 1,
            threads: 0,
            files: 0,
        });
        let three = room_for_workers(PerWorker {
            tasks: 3,
            threads: 0,
            files: 0,
        });
        if let (Some((one, _)), Some((three, _))) = (one, three) {
            assert!(three <= one / 3 + 1, "{one} {three}");
        }
        assert_eq!(room_for_workers(PerWorker::default()), None);
    }

    #[test]
    fn a_refused_thread_names_a_limit() {
        let error = std::io::Error::from_raw_os_error(nix::libc::EAGAIN);
        let message = thread_refused(36, 200, &error).to_string();
        assert!(message.starts_with("could not start thread 37 of 200"), "{message}");
        assert!(message.contains("limit") || message.contains("memory"), "{message}");
    }
}
