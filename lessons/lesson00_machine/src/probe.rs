//! What the operating system tells about this machine. On Linux most of it comes from `/proc`
//! (through the `procfs` crate) and `/sys`; elsewhere each reading is `None` and the lesson
//! says what cannot be shown.

use serde::Serialize;
use std::collections::BTreeMap;

/// Everything about CPU cores that limits how many workers can run at the same moment.
#[derive(Debug, Default, Serialize)]
pub struct Cores {
    /// `std::thread::available_parallelism()`: what a Rust program should size its pools by.
    pub available: usize,
    /// Logical CPUs the kernel has online (hardware threads, counting SMT siblings).
    pub online: Option<usize>,
    /// The CPUs this process may be scheduled on (`sched_getaffinity`), e.g. after `taskset`.
    pub affinity: Option<Vec<usize>>,
    /// A cgroup CPU quota in cores (`docker --cpus=1.5` gives 1.5); `None` when unlimited.
    pub cgroup_quota: Option<f64>,
    /// Distinct physical cores, and sockets (packages) holding them.
    pub physical: Option<usize>,
    pub sockets: Option<usize>,
    pub model: Option<String>,
    /// The clock now (as the kernel last saw it) and the highest it may boost to, in MHz.
    pub mhz_now: Option<f64>,
    pub mhz_max: Option<f64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Memory {
    pub total: Option<u64>,
    pub available: Option<u64>,
    pub swap_total: Option<u64>,
}

#[derive(Debug, Default, Serialize)]
pub struct Disk {
    pub path: String,
    pub total: Option<u64>,
    /// Free space an unprivileged user can use.
    pub available: Option<u64>,
}

#[derive(Debug, Serialize)]
pub struct Gpu {
    pub name: String,
    /// Where the OS told us about it.
    pub source: String,
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

pub fn cores() -> Cores {
    let mut cores = Cores {
        available: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        ..Cores::default()
    };
    os::fill_cores(&mut cores);
    cores
}

pub fn memory() -> Memory {
    os::memory()
}

#[allow(
    clippy::unnecessary_cast,
    reason = "statvfs's integer types differ between platforms"
)]
pub fn disk() -> Disk {
    let path = std::env::current_dir()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| ".".to_string());
    match nix::sys::statvfs::statvfs(path.as_str()) {
        Ok(stats) => {
            let block = stats.fragment_size() as u64;
            Disk {
                path,
                total: Some(stats.blocks() as u64 * block),
                available: Some(stats.blocks_available() as u64 * block),
            }
        }
        Err(_) => Disk {
            path,
            ..Disk::default()
        },
    }
}

pub fn gpus() -> Option<Vec<Gpu>> {
    os::gpus()
}

pub fn census() -> Option<Census> {
    os::census()
}

/// The meaning of a kernel state letter, in the lecture's words.
pub fn state_name(letter: char) -> &'static str {
    match letter {
        'R' => "running or ready",
        'S' => "sleeping (waiting for an event)",
        'D' => "waiting on disk (uninterruptible)",
        'I' => "idle kernel thread",
        'T' | 't' => "stopped",
        'Z' => "zombie (exited, not reaped)",
        _ => "other",
    }
}

#[cfg(target_os = "linux")]
mod os {
    use super::*;
    use procfs::Current;
    use std::collections::BTreeSet;
    use std::fs;

    pub fn fill_cores(cores: &mut Cores) {
        if let Ok(info) = procfs::CpuInfo::current() {
            cores.online = Some(info.num_cores());
            cores.model = info
                .model_name(0)
                .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "));
            let mhz: Vec<f64> = (0..info.num_cores())
                .filter_map(|cpu| info.get_field(cpu, "cpu MHz")?.trim().parse().ok())
                .collect();
            if !mhz.is_empty() {
                cores.mhz_now = Some(mhz.iter().sum::<f64>() / mhz.len() as f64);
            }
        }
        cores.mhz_max = read_number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").map(|khz| khz / 1000.0);
        cores.affinity = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0))
            .ok()
            .map(|set| {
                (0..nix::sched::CpuSet::count())
                    .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                    .collect()
            });
        cores.cgroup_quota = cgroup_quota();
        // Physical cores: distinct (package, core) pairs among the CPUs in /sys.
        let mut physical = BTreeSet::new();
        let mut sockets = BTreeSet::new();
        for cpu in 0..cores.online.unwrap_or(0) {
            let base = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
            let package = read_number(&format!("{base}/physical_package_id"));
            let core = read_number(&format!("{base}/core_id"));
            if let (Some(package), Some(core)) = (package, core) {
                physical.insert((package as i64, core as i64));
                sockets.insert(package as i64);
            }
        }
        if !physical.is_empty() {
            cores.physical = Some(physical.len());
            cores.sockets = Some(sockets.len());
        }
    }

    fn read_number(path: &str) -> Option<f64> {
        fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// The CPU quota of this process's cgroup, in cores, or `None` when there is none.
    fn cgroup_quota() -> Option<f64> {
        let membership = fs::read_to_string("/proc/self/cgroup").ok()?;
        for line in membership.lines() {
            let mut fields = line.splitn(3, ':');
            let (hierarchy, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
            if hierarchy == "0" && controllers.is_empty() {
                // cgroup v2: cpu.max holds "QUOTA PERIOD" or "max PERIOD".
                let limit = fs::read_to_string(format!("/sys/fs/cgroup{path}/cpu.max")).ok();
                if let Some(quota) = limit.as_deref().and_then(parse_cpu_max) {
                    return Some(quota);
                }
            } else if controllers.split(',').any(|c| c == "cpu") {
                // cgroup v1: quota and period in microseconds; a quota of -1 means none.
                let base = format!("/sys/fs/cgroup/{controllers}{path}");
                let base = if fs::metadata(&base).is_ok() {
                    base
                } else {
                    format!("/sys/fs/cgroup/cpu{path}")
                };
                let quota = read_number(&format!("{base}/cpu.cfs_quota_us"))?;
                let period = read_number(&format!("{base}/cpu.cfs_period_us"))?;
                if quota > 0.0 && period > 0.0 {
                    return Some(quota / period);
                }
            }
        }
        None
    }

    pub fn parse_cpu_max(text: &str) -> Option<f64> {
        let mut fields = text.split_whitespace();
        let quota: f64 = fields.next()?.parse().ok()?; // "max" does not parse: no quota
        let period: f64 = fields.next()?.parse().ok()?;
        (period > 0.0).then(|| quota / period)
    }

    pub fn memory() -> Memory {
        match procfs::Meminfo::current() {
            Ok(info) => Memory {
                total: Some(info.mem_total),
                available: info.mem_available,
                swap_total: Some(info.swap_total),
            },
            Err(_) => Memory::default(),
        }
    }

    pub fn gpus() -> Option<Vec<Gpu>> {
        let mut gpus = Vec::new();
        // NVIDIA's driver lists each GPU with a "Model:" line.
        if let Ok(entries) = fs::read_dir("/proc/driver/nvidia/gpus") {
            for entry in entries.flatten() {
                let info = fs::read_to_string(entry.path().join("information")).unwrap_or_default();
                let model = info
                    .lines()
                    .find_map(|l| l.strip_prefix("Model:"))
                    .map(|m| m.trim().to_string());
                gpus.push(Gpu {
                    name: model.unwrap_or_else(|| "NVIDIA GPU".into()),
                    source: "/proc/driver/nvidia".into(),
                });
            }
        }
        // Any other display device the kernel drives, by PCI vendor.
        if let Ok(entries) = fs::read_dir("/sys/class/drm") {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().to_string();
                if !name.starts_with("card") || name.contains('-') {
                    continue;
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
                gpus.push(Gpu {
                    name: format!("{vendor} ({name})"),
                    source: "/sys/class/drm".into(),
                });
            }
        }
        Some(gpus)
    }

    pub fn census() -> Option<Census> {
        let mut census = Census::default();
        for process in procfs::process::all_processes().into_iter().flatten().flatten() {
            // A process may exit while we look: skip whatever has vanished.
            let Ok(tasks) = process.tasks() else { continue };
            let mut seen_a_task = false;
            for task in tasks.flatten() {
                if let Ok(stat) = task.stat() {
                    *census.threads_by_state.entry(stat.state).or_default() += 1;
                    census.threads += 1;
                    seen_a_task = true;
                }
            }
            if seen_a_task {
                census.processes += 1;
            }
        }
        let load = procfs::LoadAverage::current().ok()?;
        census.load_average = [load.one, load.five, load.fifteen];
        (census.processes > 0).then_some(census)
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn cpu_max_quota() {
            assert_eq!(super::parse_cpu_max("150000 100000\n"), Some(1.5));
            assert_eq!(super::parse_cpu_max("max 100000\n"), None);
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use super::*;

    pub fn fill_cores(_: &mut Cores) {}

    pub fn memory() -> Memory {
        Memory::default()
    }

    pub fn gpus() -> Option<Vec<Gpu>> {
        None
    }

    pub fn census() -> Option<Census> {
        None
    }
}
