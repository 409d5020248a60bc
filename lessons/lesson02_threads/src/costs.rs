//! Section 4's measurements: creating a worker that does nothing (a thread, from
//! `threads.rs`; a forked process; a spawned program) and waiting for it; and keeping many of
//! each alive at once to measure what one costs in memory: threads held at a gate, forked
//! copies of this lesson and spawned copies of `cat`, each waiting until it is let go.

use crate::observe;
use anyhow::Context;
use course::children;
use course::{Lesson, say};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use std::process::{Command, Stdio};
use std::sync::RwLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Time since the lesson started (the first call, at the top of `main`, starts the clock).
pub fn since_start() -> Duration {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    STARTED.get_or_init(Instant::now).elapsed()
}

/// fork + exec of `true` (as `std::process::Command` does it), then waitpid.
pub fn spawn_and_wait() -> anyhow::Result<()> {
    let child = children::spawn(
        Command::new("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )?;
    let pid = Pid::from_raw(child.id() as i32);
    match children::wait(pid).context("waitpid")? {
        WaitStatus::Exited(_, 0) => Ok(()),
        status => anyhow::bail!("`true` ended with {status:?}"),
    }
}

/// fork of this process; the child exits at once; then waitpid.
pub fn fork_and_wait() -> anyhow::Result<()> {
    let pid = children::fork(|| 0)?;
    match children::wait(pid).context("waitpid")? {
        WaitStatus::Exited(_, 0) => Ok(()),
        status => anyhow::bail!("a forked child ended with {status:?}"),
    }
}

/// `live` threads alive at once, each waiting at a gate; returns this process's memory while
/// they wait. A thread the machine refuses is an error (the ones started are let go first).
pub fn waiting_threads_memory(lesson: &Lesson, live: usize) -> anyhow::Result<observe::Memory> {
    let me = std::process::id() as i32;
    // Each thread counts itself in, then waits at a gate (a read lock) that this thread holds
    // shut (the write lock) until it has measured; dropping the write lock lets all go. The
    // threads allocate nothing: a thread that does gets an arena of the allocator (64 MiB of
    // address space with glibc), which would blur the figures and, under an address-space
    // limit, leave no room for the stacks.
    let gate = RwLock::new(());
    let started = AtomicUsize::new(0);
    thread::scope(|scope| {
        let shut = gate.write().unwrap_or_else(|e| e.into_inner());
        for index in 0..live {
            let (gate, started) = (&gate, &started);
            let spawned = thread::Builder::new().spawn_scoped(scope, move || {
                started.fetch_add(1, Ordering::SeqCst);
                drop(gate.read());
            });
            if let Err(error) = spawned {
                // The threads already started are let go and joined when the scope ends.
                drop(shut);
                return Err(course::limits::thread_refused(index, live, &error));
            }
        }
        while started.load(Ordering::SeqCst) < live {
            thread::sleep(Duration::from_micros(100));
        }
        say!(lesson, "    {live} threads started and waiting");
        let during = observe::status_memory(me).unwrap_or_default();
        drop(shut);
        Ok(during)
    })
}

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
