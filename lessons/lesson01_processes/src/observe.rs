//! What the kernel says about a process, read from `/proc` (through the `procfs` crate on
//! Linux). Every reading is an `Option`: `None` where the platform has no `/proc`, or when the
//! process has gone. The lesson prints what it can and says what it cannot.

use serde::Serialize;
use std::time::Duration;

/// The figures of `/proc/<pid>/stat` the lesson watches.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub pid: i32,
    pub ppid: i32,
    /// The kernel's state letter: R, S, D, T, Z, ...
    pub state: char,
    /// The program's name (15 characters at most).
    pub comm: String,
    /// Time the process has spent running on a core so far.
    #[serde(serialize_with = "as_secs")]
    pub cpu: Duration,
    /// Time it has spent ready to run but waiting for a core (`None` where not reported).
    #[serde(serialize_with = "as_secs_if_known")]
    pub waited_for_core: Option<Duration>,
    /// Page faults served without reading the disk (a copy-on-write copy is one).
    pub minor_faults: u64,
}

/// One line of a process table, as `ps -o pid,ppid,stat,args` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct PsRow {
    pub pid: i32,
    pub ppid: i32,
    pub state: char,
    pub command: String,
}

/// `/proc/<pid>/smaps_rollup`: the whole address space's memory, summed. Bytes.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Rollup {
    /// Resident: every page in RAM that the process maps, shared or not.
    pub rss: u64,
    /// Proportional: each shared page divided by the number of processes sharing it.
    pub pss: u64,
    /// Pages also mapped by another process.
    pub shared: u64,
    /// Pages only this process maps, written since (a copy made by copy-on-write is one).
    pub private_dirty: u64,
    /// Pages only this process maps, never written (read from a file).
    pub private_clean: u64,
}

/// The parts of `/proc/<pid>/status` the lesson shows.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Status {
    pub threads: u64,
    pub uid: u32,
    pub euid: u32,
    /// Bytes; `None` for a zombie, which has no memory left.
    pub vm_size: Option<u64>,
    pub vm_rss: Option<u64>,
    /// The process's page tables, in bytes: what `fork` has to copy.
    pub vm_page_tables: Option<u64>,
    /// Signal masks: bit n-1 stands for signal n.
    pub signals_caught: u64,
    pub signals_ignored: u64,
    pub signals_blocked: u64,
}

/// A group of memory mappings of the same kind (program code, heap, stack, ...).
#[derive(Clone, Debug, Serialize)]
pub struct Region {
    pub kind: &'static str,
    pub mappings: usize,
    /// Lowest start address of the group.
    pub start: u64,
    /// Bytes mapped (virtual), resident in RAM, and resident pages also mapped by another
    /// process.
    pub size: u64,
    pub resident: u64,
    pub shared: u64,
}

/// One open file descriptor and what it points to.
#[derive(Clone, Debug, Serialize)]
pub struct OpenFile {
    pub fd: i32,
    pub target: String,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn as_secs_if_known<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

pub use os::*;

#[cfg(target_os = "linux")]
mod os {
    use super::*;
    use procfs::process::{FDTarget, MMapPath, Process};
    use std::path::PathBuf;

    pub const HAS_PROC: bool = true;

    pub fn page_size() -> u64 {
        procfs::page_size()
    }

    /// Memory that can be given to programs now without swapping (`MemAvailable`), in bytes.
    pub fn available_memory() -> Option<u64> {
        use procfs::Current;
        procfs::Meminfo::current().ok()?.mem_available
    }

    pub fn snapshot(pid: i32) -> Option<Snapshot> {
        let process = Process::new(pid).ok()?;
        let stat = process.stat().ok()?;
        // The scheduler's own accounting, in nanoseconds; the tick-based user + system time
        // of `stat` (10 ms steps) is the fallback.
        let (cpu, waited_for_core) = match process.schedstat() {
            Ok(schedstat) => (
                Duration::from_nanos(schedstat.sum_exec_runtime),
                Some(Duration::from_nanos(schedstat.run_delay)),
            ),
            Err(_) => {
                let ticks = procfs::ticks_per_second().max(1);
                let cpu_ticks = stat.utime + stat.stime;
                let cpu = Duration::from_secs(cpu_ticks / ticks)
                    + Duration::from_nanos((cpu_ticks % ticks) * 1_000_000_000 / ticks);
                (cpu, None)
            }
        };
        Some(Snapshot {
            pid,
            ppid: stat.ppid,
            state: stat.state,
            comm: stat.comm,
            cpu,
            waited_for_core,
            minor_faults: stat.minflt,
        })
    }

    /// Where in the kernel a sleeping process waits (`hrtimer_nanosleep`, `pipe_read`, ...).
    pub fn wait_channel(pid: i32) -> Option<String> {
        let wchan = Process::new(pid).ok()?.wchan().ok()?;
        let wchan = wchan.trim();
        (!wchan.is_empty() && wchan != "0").then(|| wchan.to_string())
    }

    pub fn rollup(pid: i32) -> Option<Rollup> {
        let rollup = Process::new(pid).ok()?.smaps_rollup().ok()?;
        let map = &rollup.memory_map_rollup.0.first()?.extension.map;
        let get = |key: &str| map.get(key).copied().unwrap_or(0);
        Some(Rollup {
            rss: get("Rss"),
            pss: get("Pss"),
            shared: get("Shared_Clean") + get("Shared_Dirty"),
            private_dirty: get("Private_Dirty"),
            private_clean: get("Private_Clean"),
        })
    }

    pub fn status(pid: i32) -> Option<Status> {
        let status = Process::new(pid).ok()?.status().ok()?;
        let kib = |value: Option<u64>| value.map(|v| v * 1024);
        Some(Status {
            threads: status.threads,
            uid: status.ruid,
            euid: status.euid,
            vm_size: kib(status.vmsize),
            vm_rss: kib(status.vmrss),
            vm_page_tables: kib(status.vmpte),
            signals_caught: status.sigcgt,
            signals_ignored: status.sigign,
            signals_blocked: status.sigblk,
        })
    }

    pub fn ps_row(pid: i32) -> Option<PsRow> {
        let process = Process::new(pid).ok()?;
        let stat = process.stat().ok()?;
        let arguments = process.cmdline().unwrap_or_default();
        Some(PsRow {
            pid,
            ppid: stat.ppid,
            state: stat.state,
            command: ps_command(&arguments, &stat.comm, stat.state),
        })
    }

    /// Every process whose parent is `parent`.
    pub fn children_of(parent: i32) -> Option<Vec<PsRow>> {
        Some(every_process()?.into_iter().filter(|row| row.ppid == parent).collect())
    }

    /// Every zombie on the machine.
    pub fn zombies() -> Option<Vec<PsRow>> {
        Some(every_process()?.into_iter().filter(|row| row.state == 'Z').collect())
    }

    fn every_process() -> Option<Vec<PsRow>> {
        let all = procfs::process::all_processes().ok()?;
        // A process may exit while we look: skip whatever has vanished.
        Some(all.flatten().filter_map(|p| ps_row(p.pid())).collect())
    }

    /// This process, its parent, its parent's parent, ... up to PID 1.
    pub fn ancestry(pid: i32) -> Option<Vec<PsRow>> {
        let mut chain = Vec::new();
        let mut next = pid;
        while next > 0 && chain.len() < 64 {
            let row = ps_row(next)?;
            next = row.ppid;
            chain.push(row);
        }
        Some(chain)
    }

    pub fn comm(pid: i32) -> Option<String> {
        Some(Process::new(pid).ok()?.stat().ok()?.comm)
    }

    pub fn open_files() -> Option<Vec<OpenFile>> {
        let me = Process::myself().ok()?;
        let mut files: Vec<OpenFile> = me
            .fd()
            .ok()?
            .flatten()
            .map(|info| OpenFile {
                fd: info.fd,
                target: match info.target {
                    FDTarget::Path(path) => path.display().to_string(),
                    FDTarget::Socket(inode) => format!("socket:[{inode}]"),
                    FDTarget::Net(inode) => format!("net:[{inode}]"),
                    FDTarget::Pipe(inode) => format!("pipe:[{inode}]"),
                    FDTarget::AnonInode(kind) => format!("anon_inode:{kind}"),
                    FDTarget::MemFD(name) => format!("memfd:{name}"),
                    FDTarget::Other(kind, inode) => format!("{kind}:[{inode}]"),
                    FDTarget::Unknown(kind, data) => format!("{kind}:{data}"),
                },
            })
            .collect();
        files.sort_by_key(|f| f.fd);
        Some(files)
    }

    /// This process's memory map, mapping by mapping, grouped by what each holds.
    pub fn regions() -> Option<Vec<Region>> {
        let me = Process::myself().ok()?;
        let exe: Option<PathBuf> = me.exe().ok();
        let maps = me.smaps().ok()?;
        let mut regions: Vec<Region> = Vec::new();
        let mut previous_was_program = false;
        let mut previous_end = 0;
        for map in maps {
            let (start, end) = map.address;
            let perms = map.perms;
            let executable = perms.contains(procfs::process::MMPermissions::EXECUTE);
            let writable = perms.contains(procfs::process::MMPermissions::WRITE);
            let is_program = matches!(&map.pathname, MMapPath::Path(p) if Some(p) == exe.as_ref());
            let kind = match &map.pathname {
                _ if is_program && executable => "program code (text)",
                _ if is_program && writable => "program data (initialized globals)",
                _ if is_program => "program constants (read-only)",
                // The zeroed globals that do not fit in the data's last page get an anonymous
                // mapping right after the program's own.
                MMapPath::Anonymous if previous_was_program && start == previous_end => "bss (zeroed globals)",
                MMapPath::Heap => "heap (small allocations)",
                MMapPath::Stack => "stack (main thread)",
                MMapPath::TStack(_) => "thread stacks",
                MMapPath::Path(_) if executable => "shared libraries: code",
                MMapPath::Path(_) => "shared libraries: data",
                MMapPath::Anonymous => "anonymous (large allocations, stacks)",
                _ => "kernel-provided (vdso, vvar)",
            };
            previous_was_program = is_program;
            previous_end = end;
            let get = |key: &str| map.extension.map.get(key).copied().unwrap_or(0);
            let size = end.saturating_sub(start);
            let resident = get("Rss");
            let shared = get("Shared_Clean") + get("Shared_Dirty");
            match regions.iter_mut().find(|r| r.kind == kind) {
                Some(region) => {
                    region.mappings += 1;
                    region.start = region.start.min(start);
                    region.size += size;
                    region.resident += resident;
                    region.shared += shared;
                }
                None => regions.push(Region {
                    kind,
                    mappings: 1,
                    start,
                    size,
                    resident,
                    shared,
                }),
            }
        }
        regions.sort_by_key(|r| r.start);
        Some(regions)
    }

    fn ps_command(arguments: &[String], comm: &str, state: char) -> String {
        if state == 'Z' {
            // A zombie has no memory left, so no command line: ps shows its name.
            format!("[{comm}] <defunct>")
        } else if arguments.is_empty() {
            format!("[{comm}]")
        } else {
            arguments.join(" ")
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use super::*;

    pub const HAS_PROC: bool = false;

    pub fn page_size() -> u64 {
        4096
    }

    pub fn available_memory() -> Option<u64> {
        None
    }

    pub fn snapshot(_: i32) -> Option<Snapshot> {
        None
    }

    pub fn wait_channel(_: i32) -> Option<String> {
        None
    }

    pub fn rollup(_: i32) -> Option<Rollup> {
        None
    }

    pub fn status(_: i32) -> Option<Status> {
        None
    }

    pub fn ps_row(_: i32) -> Option<PsRow> {
        None
    }

    pub fn children_of(_: i32) -> Option<Vec<PsRow>> {
        None
    }

    pub fn zombies() -> Option<Vec<PsRow>> {
        None
    }

    pub fn ancestry(_: i32) -> Option<Vec<PsRow>> {
        None
    }

    pub fn comm(_: i32) -> Option<String> {
        None
    }

    pub fn open_files() -> Option<Vec<OpenFile>> {
        None
    }

    pub fn regions() -> Option<Vec<Region>> {
        None
    }
}

/// Names of the signals set in a `/proc` signal mask (bit n-1 for signal n).
pub fn signal_names(mask: u64) -> Vec<String> {
    let mut names = Vec::new();
    for number in 1..=64 {
        if mask & (1u64 << (number - 1)) != 0 {
            names.push(match nix::sys::signal::Signal::try_from(number) {
                Ok(signal) => signal.as_str().to_string(),
                Err(_) => format!("signal {number}"),
            });
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_masks_decode_to_names() {
        // SIGINT is 2 (bit 1), SIGPIPE is 13 (bit 12).
        assert_eq!(signal_names((1 << 1) | (1 << 12)), vec!["SIGINT", "SIGPIPE"]);
        assert!(signal_names(0).is_empty());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id() as i32;
        let own = snapshot(me).expect("own stat");
        assert_eq!(own.pid, me);
        // The main thread (whose state /proc/<pid>/stat shows) waits for the test threads.
        assert!(matches!(own.state, 'R' | 'S'));
        assert!(status(me).unwrap().threads >= 1);
        assert!(rollup(me).unwrap().rss > 0);
        let regions = regions().unwrap();
        assert!(regions.iter().any(|r| r.kind == "program code (text)"), "{regions:?}");
        assert!(regions.iter().any(|r| r.kind == "stack (main thread)"), "{regions:?}");
        assert!(open_files().unwrap().iter().any(|f| f.fd == 0));
        let chain = ancestry(me).unwrap();
        assert_eq!(chain[0].pid, me);
        assert!(snapshot(i32::MAX).is_none());
    }
}
