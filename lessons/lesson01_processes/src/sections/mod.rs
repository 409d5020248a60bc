//! The lesson's sections, in the order they are shown; each shows and measures one idea.

pub mod s1_anatomy;
pub mod s2_lifecycle;
pub mod s3_states;
pub mod s4_zombies;
pub mod s5_fork_then_load;
pub mod s6_single_threaded;

use nix::unistd::Pid;

/// A PID as the model of the process table numbers it.
pub fn pid_u32(pid: Pid) -> u32 {
    pid.as_raw().max(0) as u32
}
