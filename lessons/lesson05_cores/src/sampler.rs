//! What the kernel counts about cores and processes, read from `/proc` (through `procfs`):
//! how much time each core spent busy or idle, and for a process, the core it last ran on,
//! how often the scheduler moved it, how often it was made to wait, and its CPU time.
//! Elsewhere than Linux every reading is `None`, and the lesson says what cannot be shown.

use serde::Serialize;
use std::time::Duration;

/// One core's time counters since boot, in clock ticks (usually 100 per second).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CoreTicks {
    /// Running anything: user code, the kernel, interrupts, or another virtual machine (steal).
    pub busy: u64,
    /// Everything, idle included.
    pub total: u64,
}

/// The fraction of time each core was busy between two readings of the counters.
pub fn load_between(before: &[CoreTicks], after: &[CoreTicks]) -> Vec<f64> {
    before
        .iter()
        .zip(after)
        .map(|(before, after)| {
            let total = after.total.saturating_sub(before.total);
            let busy = after.busy.saturating_sub(before.busy);
            if total == 0 {
                0.0
            } else {
                (busy as f64 / total as f64).clamp(0.0, 1.0)
            }
        })
        .collect()
}

/// What the kernel says about one process right now.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProcessView {
    /// The core it is running on, or last ran on.
    pub processor: Option<usize>,
    /// How many times the scheduler has moved it to another core since it started.
    pub kernel_migrations: Option<u64>,
    /// Times it had to give up its core while it still wanted to run (preempted).
    pub involuntary_switches: Option<u64>,
    /// Its CPU time so far (user + system).
    pub cpu: Option<Duration>,
}

#[cfg(target_os = "linux")]
mod os {
    use super::*;
    use procfs::CurrentSI;

    pub fn core_ticks() -> Option<Vec<CoreTicks>> {
        let stats = procfs::KernelStats::current().ok()?;
        // The kernel lists the online CPUs in order, as cpu0, cpu1, ...
        let cores = stats
            .cpu_time
            .iter()
            .map(|cpu| {
                let idle = cpu.idle + cpu.iowait.unwrap_or(0);
                let total = cpu.user
                    + cpu.nice
                    + cpu.system
                    + cpu.idle
                    + cpu.iowait.unwrap_or(0)
                    + cpu.irq.unwrap_or(0)
                    + cpu.softirq.unwrap_or(0)
                    + cpu.steal.unwrap_or(0);
                CoreTicks {
                    busy: total.saturating_sub(idle),
                    total,
                }
            })
            .collect::<Vec<_>>();
        (!cores.is_empty()).then_some(cores)
    }

    pub fn process(pid: i32) -> ProcessView {
        let Ok(process) = procfs::process::Process::new(pid) else {
            return ProcessView::default();
        };
        let stat = process.stat().ok();
        let ticks = procfs::ticks_per_second().max(1);
        ProcessView {
            processor: stat
                .as_ref()
                .and_then(|stat| stat.processor)
                .and_then(|cpu| usize::try_from(cpu).ok()),
            kernel_migrations: kernel_migrations(pid),
            involuntary_switches: process
                .status()
                .ok()
                .and_then(|status| status.nonvoluntary_ctxt_switches),
            cpu: stat.map(|stat| Duration::from_secs_f64((stat.utime + stat.stime) as f64 / ticks as f64)),
        }
    }

    /// `se.nr_migrations` from `/proc/<pid>/sched`, the scheduler's own count (present when
    /// the kernel was built with scheduler debugging, as most distributions' kernels are).
    fn kernel_migrations(pid: i32) -> Option<u64> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/sched")).ok()?;
        text.lines()
            .find(|line| line.starts_with("se.nr_migrations"))
            .and_then(|line| line.split(':').nth(1))
            .and_then(|value| value.trim().parse().ok())
    }
}

#[cfg(not(target_os = "linux"))]
mod os {
    use super::*;

    pub fn core_ticks() -> Option<Vec<CoreTicks>> {
        None
    }

    pub fn process(_pid: i32) -> ProcessView {
        ProcessView::default()
    }
}

/// Every core's counters now, or `None` where the OS does not publish them.
pub fn core_ticks() -> Option<Vec<CoreTicks>> {
    os::core_ticks()
}

/// What the kernel says about process `pid` now (empty where it cannot be read).
pub fn process(pid: i32) -> ProcessView {
    os::process(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_is_the_busy_share_of_the_interval() {
        let before = [CoreTicks { busy: 100, total: 1000 }, CoreTicks { busy: 0, total: 0 }];
        let after = [CoreTicks { busy: 150, total: 1100 }, CoreTicks { busy: 0, total: 0 }];
        assert_eq!(load_between(&before, &after), vec![0.5, 0.0]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_can_be_seen() {
        let cores = core_ticks().expect("/proc/stat is readable");
        assert!(!cores.is_empty());
        assert!(cores.iter().all(|core| core.busy <= core.total));
        let me = process(std::process::id() as i32);
        assert!(me.processor.is_some());
        assert!(me.cpu.is_some());
    }
}
