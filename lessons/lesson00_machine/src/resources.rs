//! The rest of a machine's resources: memory and disk (how much data fits), GPUs (many simple
//! cores), and the processes and threads running right now. Read from the kernel's files under
//! `/proc` and `/sys` (through the `procfs` crate), and `statvfs` for the disk.
//!
//! Every reading the operating system does not offer is `None`. On Linux almost nothing is
//! missing; elsewhere, most of it is.

use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;

/// Memory, in bytes: what one machine can hold at once.
#[derive(Debug, Default, Serialize)]
pub struct Memory {
    pub total: Option<u64>,
    pub available: Option<u64>,
    pub swap_total: Option<u64>,
}

/// Memory in bytes, from `/proc/meminfo`.
pub fn memory() -> Memory {
    #[cfg(target_os = "linux")]
    if let Ok(info) = <procfs::Meminfo as procfs::Current>::current() {
        return Memory {
            total: Some(info.mem_total),
            available: info.mem_available,
            swap_total: Some(info.swap_total),
        };
    }
    Memory::default()
}

/// The file system a program works in, in bytes.
#[derive(Debug, Default, Serialize)]
pub struct Disk {
    pub path: String,
    pub total: Option<u64>,
    /// Free space an unprivileged user can use.
    pub available: Option<u64>,
}

/// The size of the file system holding the current directory, and its free space.
#[allow(
    clippy::unnecessary_cast,
    reason = "statvfs's integer types differ between platforms"
)]
pub fn disk() -> Disk {
    let path = std::env::current_dir().map_or_else(|_| ".".to_string(), |p| p.display().to_string());
    let Ok(stats) = nix::sys::statvfs::statvfs(path.as_str()) else {
        return Disk {
            path,
            ..Disk::default()
        };
    };
    let block = stats.fragment_size() as u64;
    Disk {
        path,
        total: Some(stats.blocks() as u64 * block),
        available: Some(stats.blocks_available() as u64 * block),
    }
}

/// A graphics processor, by name.
#[derive(Debug, Serialize)]
pub struct Gpu {
    pub name: String,
    /// Where the OS told us about it.
    pub source: String,
}

/// The GPUs the kernel drives (empty when none), or `None` where that cannot be read.
pub fn gpus() -> Option<Vec<Gpu>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let gpu = |name: String, source: &str| Gpu {
        name,
        source: source.to_string(),
    };
    let mut gpus = Vec::new();
    // NVIDIA's driver lists each GPU with a "Model:" line.
    for entry in fs::read_dir("/proc/driver/nvidia/gpus").into_iter().flatten().flatten() {
        let info = fs::read_to_string(entry.path().join("information")).unwrap_or_default();
        let model = info.lines().find_map(|l| l.strip_prefix("Model:")).map(str::trim);
        gpus.push(gpu(model.unwrap_or("NVIDIA GPU").to_string(), "/proc/driver/nvidia"));
    }
    // Any other display device the kernel drives, by PCI vendor.
    for entry in fs::read_dir("/sys/class/drm").into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.starts_with("card") || name.contains('-') {
            continue; // a connector (card0-HDMI-A-1), not a device
        }
        let vendor = fs::read_to_string(entry.path().join("device/vendor")).unwrap_or_default();
        let vendor = match vendor.trim() {
            "0x10de" if !gpus.is_empty() => continue, // already listed above
            "0x10de" => "NVIDIA",
            "0x1002" => "AMD",
            "0x8086" => "Intel",
            "0x1af4" | "0x1234" | "0x15ad" => "virtual display adapter",
            _ => "unknown vendor",
        };
        gpus.push(gpu(format!("{vendor} ({name})"), "/sys/class/drm"));
    }
    Some(gpus)
}

/// How many processes and threads exist right now, and what they are doing.
#[derive(Debug, Default, Serialize)]
pub struct Census {
    pub processes: usize,
    pub threads: usize,
    /// Threads by the kernel's state letter (R running, S sleeping, D disk wait, I idle, ...).
    pub threads_by_state: BTreeMap<char, usize>,
    /// Load average over 1, 5 and 15 minutes: the average number of threads running or
    /// ready to run (on Linux also those in uninterruptible disk wait).
    pub load_average: [f32; 3],
}

/// What `ps aux | wc -l` and `ps -eLf | wc -l` count: every process and thread in `/proc`.
#[cfg(target_os = "linux")]
pub fn census() -> Option<Census> {
    use procfs::Current;
    let mut census = Census::default();
    for process in procfs::process::all_processes().into_iter().flatten().flatten() {
        // A process may exit while we look: skip whatever has vanished.
        let Ok(tasks) = process.tasks() else { continue };
        let states: Vec<char> = tasks
            .flatten()
            .filter_map(|task| Some(task.stat().ok()?.state))
            .collect();
        for state in &states {
            *census.threads_by_state.entry(*state).or_default() += 1;
        }
        census.threads += states.len();
        census.processes += usize::from(!states.is_empty());
    }
    let load = procfs::LoadAverage::current().ok()?;
    census.load_average = [load.one, load.five, load.fifteen];
    (census.processes > 0).then_some(census)
}

#[cfg(not(target_os = "linux"))]
pub fn census() -> Option<Census> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_processes_can_be_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(memory().total.is_some());
            assert!(census().is_some_and(|census| census.threads >= census.processes));
        }
        assert!(!disk().path.is_empty());
    }
}
