//! The child-process plumbing of sections 4 to 6: fork one worker process per program, each
//! running `gil::in_own_process` (an interpreter and a GIL of its own), and read the answers
//! back through pipes, as Python's `multiprocessing` does; or fork CPU-bound neighbours that
//! compute until they are killed.

use crate::gil;
use crate::interpreter::{Interpreter, Op, ThreadReport};
use crate::programs::{Answer, Run};
use crate::turns::GilStats;
use anyhow::bail;
use course::children;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use std::fs::File;
use std::io::{Read, Write};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

/// Runs each program in its own forked process; each sends back (steps, checksum, overlapping
/// steps) through a pipe. A fork the machine refuses ends the run with the limit named; the
/// children already forked are reaped by `course::run`.
pub fn run_on_processes(programs: &[Vec<Op>], switch_interval: Duration) -> anyhow::Result<Run> {
    // `children::fork` refuses to fork while another thread is alive, and gives the threads of
    // the variant before (joined, but perhaps not yet gone) a moment to leave.
    let mut workers = Vec::with_capacity(programs.len());
    for program in programs {
        let (from_child, to_parent) = nix::unistd::pipe()?;
        let to_parent = File::from(to_parent);
        let pid = children::fork(|| {
            let ran = gil::in_own_process(program, switch_interval);
            let report = ran.threads.first().copied().unwrap_or_default();
            let mut message = Vec::with_capacity(24);
            for number in [report.steps, report.checksum, ran.interpreter.overlapping_steps()] {
                message.extend_from_slice(&number.to_le_bytes());
            }
            match (&to_parent).write_all(&message) {
                Ok(()) => 0,
                Err(_) => 1,
            }
        })?;
        // Only the child writes: closing our copy lets a read see the end if the child dies.
        drop(to_parent);
        workers.push((pid, File::from(from_child)));
    }
    let mut threads = Vec::with_capacity(workers.len());
    let mut overlapping_steps = 0;
    for (index, (pid, mut from_child)) in workers.into_iter().enumerate() {
        let mut message = [0u8; 24];
        let read = from_child.read_exact(&mut message);
        let status = children::wait(pid)?;
        if !matches!(status, WaitStatus::Exited(_, 0)) || read.is_err() {
            bail!("worker process {index} failed: {status:?}");
        }
        let number = |i: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&message[8 * i..8 * i + 8]);
            u64::from_le_bytes(bytes)
        };
        overlapping_steps += number(2);
        threads.push(ThreadReport {
            thread: index,
            steps: number(0),
            checksum: number(1),
            ..ThreadReport::default()
        });
    }
    Ok(Run {
        answer: Answer::of(&threads),
        threads,
        gil: GilStats::default(),
        overlapping_steps,
    })
}

/// Child processes that compute until they are killed; killed and reaped when dropped.
pub struct Neighbours(Vec<Pid>);

impl Neighbours {
    /// Forks `count` processes, each an interpreter with its own GIL computing forever. Fork
    /// them while this process has a single thread.
    pub fn fork(count: usize, switch_interval: Duration) -> anyhow::Result<Neighbours> {
        let mut neighbours = Neighbours(Vec::with_capacity(count));
        for _ in 0..count {
            neighbours.0.push(children::fork(|| {
                let interpreter = Interpreter::new(gil::Gil::new(switch_interval));
                interpreter.run_until(0, &AtomicBool::new(false));
                0
            })?);
        }
        Ok(neighbours)
    }
}

impl Drop for Neighbours {
    fn drop(&mut self) {
        for pid in self.0.drain(..) {
            let _ = kill(pid, Signal::SIGKILL);
            let _ = children::wait(pid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interpreter::checksum_of;
    use crate::programs::split_steps;

    #[test]
    fn processes_compute_the_same_answer() {
        // Forking needs a single-threaded process: the test harness's own threads may be
        // alive, in which case `children::fork` refuses, and there is nothing to check here.
        match run_on_processes(&split_steps(300, 3), Duration::from_millis(1)) {
            Ok(run) => {
                assert_eq!(run.answer.steps, 300);
                assert_eq!(run.answer.checksum, checksum_of(0, 300));
                assert_eq!(run.overlapping_steps, 0);
            }
            Err(error) => assert!(error.to_string().contains("refusing to fork"), "{error:#}"),
        }
    }
}
