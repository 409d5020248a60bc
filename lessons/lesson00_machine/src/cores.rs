//! The cores of a machine: how many things can run at the same moment, and what lowers that
//! number for one program (an affinity mask, a container's CPU quota). Read the way any
//! program can read them: the standard library first, then the kernel's files under `/proc`
//! and `/sys` (through the `procfs` crate).
//!
//! Every reading the operating system does not offer is `None`. On Linux almost nothing is
//! missing; elsewhere, most of it is.

use serde::Serialize;
use std::collections::BTreeSet;
use std::fs;

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
    /// Distinct physical cores.
    pub physical: Option<usize>,
    /// Sockets (packages): the chips holding the physical cores.
    pub sockets: Option<usize>,
    pub model: Option<String>,
    /// The clock now (as the kernel last saw it, averaged over the CPUs) and the highest it
    /// may boost to, in MHz.
    pub mhz_now: Option<f64>,
    pub mhz_max: Option<f64>,
}

/// How many things can run at the same moment, and what lowers it for this program.
pub fn cores() -> Cores {
    let mut cores = Cores {
        // The standard library already takes the affinity mask and a cgroup quota into account.
        available: std::thread::available_parallelism().map_or(1, usize::from),
        ..Cores::default()
    };
    #[cfg(target_os = "linux")]
    {
        use procfs::Current;
        if let Ok(info) = procfs::CpuInfo::current() {
            cores.online = Some(info.num_cores());
            cores.model = info
                .model_name(0)
                .map(|m| m.split_whitespace().collect::<Vec<_>>().join(" "));
            let mhz: Vec<f64> = (0..info.num_cores())
                .filter_map(|cpu| info.get_field(cpu, "cpu MHz")?.trim().parse().ok())
                .collect();
            cores.mhz_now = (!mhz.is_empty()).then(|| mhz.iter().sum::<f64>() / mhz.len() as f64);
        }
        cores.mhz_max = number("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq").map(|khz| khz / 1000.0);
        let me = nix::unistd::Pid::from_raw(0); // pid 0: the calling process
        cores.affinity = nix::sched::sched_getaffinity(me).ok().map(|set| {
            (0..nix::sched::CpuSet::count())
                .filter(|&cpu| set.is_set(cpu).unwrap_or(false))
                .collect()
        });
        cores.cgroup_quota = cgroup_quota();
        // Physical cores: distinct (package, core) pairs among the CPUs in /sys.
        let mut physical = BTreeSet::new();
        for cpu in 0..cores.online.unwrap_or(0) {
            let topology = format!("/sys/devices/system/cpu/cpu{cpu}/topology");
            let package = number(&format!("{topology}/physical_package_id"));
            if let (Some(package), Some(core)) = (package, number(&format!("{topology}/core_id"))) {
                physical.insert((package as i64, core as i64));
            }
        }
        if !physical.is_empty() {
            cores.physical = Some(physical.len());
            let sockets: BTreeSet<i64> = physical.iter().map(|&(package, _)| package).collect();
            cores.sockets = Some(sockets.len());
        }
    }
    cores
}

/// The CPU quota of this process's cgroup, in cores, or `None` when there is none.
pub fn cgroup_quota() -> Option<f64> {
    let membership = fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (hierarchy, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        if hierarchy == "0" && controllers.is_empty() {
            // cgroup v2: cpu.max holds "QUOTA PERIOD", or "max PERIOD" for no quota.
            let limit = fs::read_to_string(format!("/sys/fs/cgroup{path}/cpu.max")).ok();
            if let Some(quota) = limit.as_deref().and_then(parse_cpu_max) {
                return Some(quota);
            }
        } else if controllers.split(',').any(|c| c == "cpu") {
            // cgroup v1: quota and period in microseconds; a quota of -1 means none.
            let mut base = format!("/sys/fs/cgroup/{controllers}{path}");
            if fs::metadata(&base).is_err() {
                base = format!("/sys/fs/cgroup/cpu{path}");
            }
            let quota = number(&format!("{base}/cpu.cfs_quota_us"))?;
            let period = number(&format!("{base}/cpu.cfs_period_us"))?;
            if quota > 0.0 && period > 0.0 {
                return Some(quota / period);
            }
        }
    }
    None
}

/// cgroup v2's `cpu.max` ("150000 100000" is 1.5 cores; "max 100000" is no quota).
pub fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut fields = text.split_whitespace();
    let quota: f64 = fields.next()?.parse().ok()?; // "max" does not parse: no quota
    let period: f64 = fields.next()?.parse().ok()?;
    (period > 0.0).then(|| quota / period)
}

/// A number in a file of `/sys` or `/proc`.
fn number(path: &str) -> Option<f64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_max_quota() {
        assert_eq!(parse_cpu_max("150000 100000\n"), Some(1.5));
        assert_eq!(parse_cpu_max("max 100000\n"), None);
    }

    #[test]
    fn this_program_may_use_a_core() {
        let cores = cores();
        assert!(cores.available >= 1);
        if cfg!(target_os = "linux") {
            assert!(cores.online.is_some_and(|online| online >= 1));
        }
    }
}
