//! Keeping many processes alive at once to measure what one costs in memory: forked copies
//! of this lesson and spawned copies of `cat`, each waiting on a pipe until it is let go.

use crate::{observe, since_start};
use anyhow::Context;
use course::children;
use course::{Lesson, say};
use nix::unistd::Pid;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// `live` forked children, each blocked reading a pipe; returns the average one's memory, and
/// when they were all alive.
pub fn forked_processes_memory(lesson: &Lesson, live: usize) -> anyhow::Result<(observe::Memory, Duration)> {
    let (release_read, release_write) = nix::unistd::pipe().context("pipe")?;
    let mut release_write = Some(release_write);
    let mut pids = Vec::new();
    let mut result = Ok(());
    for _ in 0..live {
        match children::fork(|| {
            // Close this child's copy of the write end: end of file must come when the parent
            // closes its own.
            drop(release_write.take());
            let mut byte = [0u8];
            let _ = nix::unistd::read(&release_read, &mut byte);
            0
        }) {
            Ok(pid) => pids.push(pid),
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    let alive_at = since_start();
    say!(lesson, "    {} forked processes waiting", pids.len());
    let memory = average_memory(&pids);
    // End of file on the pipe: every child's read returns, and it exits.
    drop(release_write);
    for pid in &pids {
        children::wait(*pid).context("waitpid")?;
    }
    result?;
    Ok((memory, alive_at))
}

/// `live` copies of `cat` reading from a pipe; returns the average one's memory, and when they
/// were all alive.
pub fn spawned_programs_memory(lesson: &Lesson, live: usize) -> anyhow::Result<(observe::Memory, Duration)> {
    say!(lesson, "    starting {live} copies of `cat`, each reading from a pipe");
    let mut programs = Vec::new();
    let mut result = Ok(());
    for _ in 0..live {
        match children::spawn(
            Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        ) {
            Ok(child) => programs.push(child),
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    let pids: Vec<Pid> = programs.iter().map(|c| Pid::from_raw(c.id() as i32)).collect();
    let alive_at = since_start();
    say!(lesson, "    {} copies of `cat` waiting", pids.len());
    let memory = average_memory(&pids);
    for mut program in programs {
        // Closing its input ends `cat`.
        drop(program.stdin.take());
        children::wait(Pid::from_raw(program.id() as i32)).context("waitpid")?;
    }
    result?;
    Ok((memory, alive_at))
}

/// Waits until each process is asleep (set up and waiting), then averages their memory.
fn average_memory(pids: &[Pid]) -> observe::Memory {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut total = observe::Memory::default();
    let mut counted = 0u64;
    for pid in pids {
        while observe::state(pid.as_raw()).is_some_and(|s| s != 'S') && Instant::now() < deadline {
            thread::sleep(Duration::from_micros(200));
        }
        if let Some(memory) = observe::memory_of(pid.as_raw()) {
            total.virtual_size += memory.virtual_size;
            total.resident += memory.resident;
            total.private += memory.private;
            total.page_tables += memory.page_tables;
            counted += 1;
        }
    }
    let n = counted.max(1);
    observe::Memory {
        virtual_size: total.virtual_size / n,
        resident: total.resident / n,
        private: total.private / n,
        page_tables: total.page_tables / n,
    }
}
