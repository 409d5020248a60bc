//! Frying eggs: keeping cores busy on purpose, and telling the scheduler where.
//!
//! The lecture's `how_to_fry_eggs_on_my_computer` spins in a loop that computes nothing anyone
//! needs, so that `htop` shows what one busy process does to a machine. The lesson runs it in
//! child processes: one, then one per core (the lecture's `pool.map(fry_eggs, [10] * n_cpus)`),
//! then one per core pinned to its core, then twice as many as there are cores. Each child is
//! an ordinary `fork` whose child side calls `fry_eggs` (the harness in `phase.rs` forks,
//! watches and reaps them).
//!
//! Pinning is an affinity mask: the set of cores the scheduler may run a process on. A process
//! starts with its parent's mask (every core, unless `taskset` or a container narrowed it);
//! `sched_setaffinity` narrows it to one core, as `taskset -c CORE -p PID` does.

use std::io;
use std::time::{Duration, Instant};

/// The lecture's `how_to_fry_eggs_on_my_computer`: keeps one core busy for `duration`.
pub fn fry_eggs(duration: Duration) {
    let start = Instant::now();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    while start.elapsed() < duration {
        // Ten thousand xorshift steps (some microseconds) between looks at the clock: work the
        // compiler cannot skip, and no system call that would let the core rest.
        for _ in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
        }
        std::hint::black_box(state);
    }
}

/// The cores this process may run on (its affinity mask), in increasing order: one busy
/// process for each of them keeps every one busy.
pub fn allowed_cores() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity};
        let this_process = nix::unistd::Pid::from_raw(0);
        if let Ok(mask) = sched_getaffinity(this_process) {
            let cores: Vec<usize> = (0..CpuSet::count())
                .filter(|&core| mask.is_set(core).unwrap_or(false))
                .collect();
            if !cores.is_empty() {
                return cores;
            }
        }
    }
    // Elsewhere: as many cores as the standard library says this program may use.
    (0..std::thread::available_parallelism().map_or(1, usize::from)).collect()
}

/// The core that worker `index` of a pinned pool gets: the allowed cores in turn, one worker
/// each, starting again from the first when there are more workers than cores.
pub fn core_for(index: usize, allowed: &[usize]) -> usize {
    allowed[index % allowed.len()]
}

/// Allows process `pid` to run on `core` only, as `taskset -c CORE -p PID` does. The kernel
/// moves it there at once if it is running elsewhere, and never moves it again.
pub fn pin_process(pid: nix::unistd::Pid, core: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_setaffinity};
        let mut mask = CpuSet::new();
        mask.set(core)?; // ← a mask of one core: the scheduler may run `pid` there only
        sched_setaffinity(pid, &mask)?;
        Ok(())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (pid, core);
        Err(io::Error::new(io::ErrorKind::Unsupported, "pinning needs Linux"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frying_eggs_takes_as_long_as_asked() {
        let start = Instant::now();
        fry_eggs(Duration::from_millis(20));
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn this_process_may_run_somewhere() {
        assert!(!allowed_cores().is_empty());
    }

    #[test]
    fn pinned_workers_take_the_allowed_cores_in_turn() {
        let allowed = [0, 2, 5];
        let cores: Vec<usize> = (0..5).map(|index| core_for(index, &allowed)).collect();
        assert_eq!(cores, [0, 2, 5, 0, 2]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_core_outside_the_mask_is_an_error_not_a_panic() {
        let me = nix::unistd::Pid::from_raw(0);
        assert!(pin_process(me, 1 << 20).is_err());
    }
}
