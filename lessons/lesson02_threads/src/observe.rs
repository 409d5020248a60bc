//! What the kernel says about this process's threads and about child processes' memory, read
//! from `/proc` on Linux (through the `procfs` crate). Elsewhere every reading is `None` and
//! the lesson says what it cannot show.

use serde::Serialize;

/// Memory figures of one process, in bytes.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Memory {
    /// Address space reserved (virtual): mapped, whether or not it is in RAM.
    pub virtual_size: u64,
    /// Resident: pages in RAM that the process maps, shared or not.
    pub resident: u64,
    /// Resident pages that only this process maps: what it really costs the machine.
    pub private: u64,
    /// The page tables that map its address space (kernel memory, charged to it).
    pub page_tables: u64,
}

/// One thread of this process, as `ps -L` and `htop` list it.
#[derive(Clone, Debug, Serialize)]
pub struct ThreadEntry {
    /// The kernel's thread ID (the main thread's equals the process ID).
    pub tid: i32,
    /// Its name (the kernel keeps 15 characters).
    pub name: String,
}

pub use os::*;

#[cfg(target_os = "linux")]
mod os {
    use super::*;
    use procfs::process::Process;

    /// Virtual size, resident size and page tables of a process (`private` is 0: only
    /// [`memory_of`] reads it, which is slower).
    pub fn status_memory(pid: i32) -> Option<Memory> {
        let status = Process::new(pid).ok()?.status().ok()?;
        Some(Memory {
            virtual_size: status.vmsize? * 1024,
            resident: status.vmrss? * 1024,
            private: 0,
            page_tables: status.vmpte.unwrap_or(0) * 1024,
        })
    }

    /// All four figures of a process, private memory from `/proc/<pid>/smaps_rollup`.
    pub fn memory_of(pid: i32) -> Option<Memory> {
        let mut memory = status_memory(pid)?;
        let rollup = Process::new(pid).ok()?.smaps_rollup().ok()?;
        let map = &rollup.memory_map_rollup.0.first()?.extension.map;
        let get = |key: &str| map.get(key).copied().unwrap_or(0);
        memory.private = get("Private_Clean") + get("Private_Dirty");
        Some(memory)
    }

    /// The kernel's state letter for a process (R, S, Z, ...).
    pub fn state(pid: i32) -> Option<char> {
        Some(Process::new(pid).ok()?.stat().ok()?.state)
    }

    pub fn threads_of_this_process() -> Option<Vec<ThreadEntry>> {
        let me = Process::myself().ok()?;
        let mut threads: Vec<ThreadEntry> = me
            .tasks()
            .ok()?
            .flatten()
            .filter_map(|task| {
                let stat = task.stat().ok()?;
                Some(ThreadEntry {
                    tid: task.tid,
                    name: stat.comm,
                })
            })
            .collect();
        threads.sort_by_key(|t| t.tid);
        Some(threads)
    }

    /// This thread's kernel ID.
    pub fn kernel_thread_id() -> Option<i32> {
        Some(nix::unistd::gettid().as_raw())
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use super::*;

    pub fn status_memory(_: i32) -> Option<Memory> {
        None
    }

    pub fn memory_of(_: i32) -> Option<Memory> {
        None
    }

    pub fn state(_: i32) -> Option<char> {
        None
    }

    pub fn threads_of_this_process() -> Option<Vec<ThreadEntry>> {
        None
    }

    pub fn kernel_thread_id() -> Option<i32> {
        None
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn this_process_can_be_read() {
        let me = std::process::id() as i32;
        let memory = memory_of(me).expect("own memory");
        assert!(memory.resident > 0 && memory.virtual_size >= memory.resident);
        assert!(memory.private > 0);
        let threads = threads_of_this_process().expect("own threads");
        assert!(threads.iter().any(|t| Some(t.tid) == kernel_thread_id()));
        // The main thread (whose state /proc/<pid>/stat shows) waits for the test threads.
        assert!(matches!(state(me), Some('R' | 'S')));
    }
}
