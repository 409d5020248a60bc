//! The limits that decide how many connections and threads fit, and a check that nothing is
//! left listening. Readings that the OS does not offer (no `/proc`) are `None`.

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use serde::Serialize;

/// The open-file limit of this process: every socket is a file descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct OpenFileLimit {
    /// The soft limit before [`raise_open_file_limit`] (what the shell's `ulimit -n` says).
    pub before: u64,
    /// The soft limit now: what this process may really open.
    pub now: u64,
    /// The hard limit: the most an unprivileged process may raise its soft limit to.
    pub hard: u64,
}

impl OpenFileLimit {
    pub fn was_raised(&self) -> bool {
        self.now > self.before
    }
}

/// Raises this process's soft open-file limit to its hard limit (children inherit it).
pub fn raise_open_file_limit() -> nix::Result<OpenFileLimit> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    // An "unlimited" hard limit is still capped by the kernel's per-process maximum.
    let ceiling = if hard == nix::libc::RLIM_INFINITY {
        read_number("/proc/sys/fs/nr_open").unwrap_or(1 << 20)
    } else {
        hard
    };
    if soft < ceiling {
        // Some systems refuse more than a fixed maximum (macOS: 10,240) whatever the hard
        // limit says: then the soft limit stays as it was, and the caller sees so.
        let _ = setrlimit(Resource::RLIMIT_NOFILE, ceiling, hard);
    }
    let (now, _) = getrlimit(Resource::RLIMIT_NOFILE)?;
    Ok(OpenFileLimit {
        before: soft,
        now,
        hard: ceiling,
    })
}

/// File descriptors open in this process right now.
pub fn open_files_now() -> Option<usize> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count())
}

/// How many more threads (tasks, to the kernel) may start here, and what limits it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskRoom {
    /// Tasks that count against the limit now: this user's own for a per-user limit, the
    /// cgroup's for `pids.max`, the machine's for `kernel.threads-max`.
    pub tasks_now: u64,
    /// The tightest limit on tasks.
    pub limit: u64,
    /// Which limit that is.
    pub limited_by: String,
}

impl TaskRoom {
    /// Threads that may still start, keeping `spare` for everybody else.
    pub fn free(&self, spare: u64) -> u64 {
        self.limit.saturating_sub(self.tasks_now).saturating_sub(spare)
    }

    /// What to leave for others: a tenth of the limit, between 8 and 1,000 tasks.
    pub fn margin(&self) -> u64 {
        (self.limit / 10).clamp(8, 1000)
    }
}

/// The room for more threads here: the tightest of the limits `course::limits` reads (the
/// per-user process limit against this user's tasks, a cgroup's `pids.max` against the
/// cgroup's, `kernel.threads-max` against the machine's), each counting what it counts.
pub fn task_room() -> Option<TaskRoom> {
    let limit = course::limits::tightest_task_limit()?;
    Some(TaskRoom {
        tasks_now: limit.used,
        limit: limit.limit,
        limited_by: limit.name,
    })
}

/// Whether some socket on this machine listens on TCP port `port` (IPv4 or IPv6), from
/// `/proc/net/tcp` and `/proc/net/tcp6`.
pub fn is_listening(port: u16) -> Option<bool> {
    let mut readable = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        readable = true;
        if listening_ports(&text).contains(&port) {
            return Some(true);
        }
    }
    readable.then_some(false)
}

/// The ports in LISTEN state (`0A`) in the text of `/proc/net/tcp`.
fn listening_ports(table: &str) -> Vec<u16> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st ...; local_address is HEXIP:HEXPORT.
            let (_, port) = fields.get(1)?.rsplit_once(':')?;
            (*fields.get(3)? == "0A").then(|| u16::from_str_radix(port, 16).ok())?
        })
        .collect()
}

fn read_number(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_ports_are_read_from_the_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue\n   \
0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1 1\n   \
1: 0100007F:A1B2 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000 0 2 1\n";
        assert_eq!(listening_ports(table), vec![0x1F90]);
    }

    #[test]
    fn a_listening_socket_is_seen_and_then_gone() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        if is_listening(port).is_none() {
            return; // no /proc here: nothing to check
        }
        assert_eq!(is_listening(port), Some(true));
        drop(listener);
        assert_eq!(is_listening(port), Some(false));
    }

    #[test]
    fn limits_are_read() {
        let limit = raise_open_file_limit().unwrap();
        assert!(limit.now >= limit.before && limit.now <= limit.hard);
        if let Some(room) = task_room() {
            assert!(room.tasks_now > 0 && room.limit > 0);
        }
    }
}
