//! Two pipes between the lesson and a child it forks: commands go down, replies come up, one
//! byte or one line at a time. Forked processes share no memory after `fork` (each has its own
//! copy), so a pipe is how they talk.

use anyhow::{Context, bail};
use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::Pid;
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

/// The lesson's ends: it writes commands and reads replies.
#[derive(Debug)]
pub struct ParentEnd {
    commands: OwnedFd,
    replies: OwnedFd,
}

/// The child's ends: it reads commands and writes replies.
#[derive(Debug)]
pub struct ChildEnd {
    commands: OwnedFd,
    replies: OwnedFd,
}

/// Forks a child (through `tracked.rs`, which records it until it is reaped) that runs `body`
/// with its ends of the two pipes; returns its PID and the parent's ends.
pub fn fork_linked(body: impl FnOnce(ChildEnd) -> i32) -> anyhow::Result<(Pid, ParentEnd)> {
    let (commands_read, commands_write) = pipe_closed_on_exec()?;
    let (replies_read, replies_write) = pipe_closed_on_exec()?;
    let mut parent_end = Some(ParentEnd {
        commands: commands_write,
        replies: replies_read,
    });
    let mut child_end = Some(ChildEnd {
        commands: commands_read,
        replies: replies_write,
    });
    let pid = crate::tracked::fork(|| {
        // The child closes its copy of the parent's ends: otherwise it would hold the write end
        // of its own command pipe open, and never see end-of-file when the parent goes away.
        drop(parent_end.take());
        match child_end.take() {
            Some(end) => body(end),
            None => 1,
        }
    })?;
    // And the parent closes its copy of the child's ends, for the same reason.
    drop(child_end);
    let parent_end = parent_end.context("the parent's ends of the pipes")?;
    Ok((pid, parent_end))
}

impl ParentEnd {
    pub fn send(&self, command: u8) -> anyhow::Result<()> {
        write_all(&self.commands, &[command]).context("the child is not listening")
    }

    /// The next reply byte; fails after `timeout` or when the child has closed its end.
    pub fn receive(&self, timeout: Duration) -> anyhow::Result<u8> {
        let mut byte = [0u8];
        match read_within(&self.replies, &mut byte, timeout)? {
            0 => bail!("the child closed its pipe"),
            _ => Ok(byte[0]),
        }
    }

    /// The next reply line (without its newline).
    pub fn receive_line(&self, timeout: Duration) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        let mut line = Vec::new();
        loop {
            let byte = self.receive(deadline.saturating_duration_since(Instant::now()))?;
            if byte == b'\n' {
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            line.push(byte);
        }
    }
}

impl ChildEnd {
    /// Waits for the next command. `None` when the parent has gone (end of file).
    pub fn next_command(&self) -> Option<u8> {
        let mut byte = [0u8];
        loop {
            match nix::unistd::read(&self.commands, &mut byte) {
                Ok(1) => return Some(byte[0]),
                Err(Errno::EINTR) => continue,
                _ => return None,
            }
        }
    }

    /// A command if one is waiting, without waiting: `Some(None)` when the parent has gone.
    pub fn try_command(&self) -> Option<Option<u8>> {
        let mut fds = [PollFd::new(self.commands.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(self.next_command()),
        }
    }

    pub fn reply(&self, byte: u8) {
        let _ = write_all(&self.replies, &[byte]);
    }

    pub fn reply_line(&self, line: &str) {
        let _ = write_all(&self.replies, format!("{line}\n").as_bytes());
    }
}

/// A pipe whose two ends close by themselves when a process calls exec: a program that a child
/// execs does not inherit them. (Linux's `pipe2(O_CLOEXEC)` does it in one call; this works on
/// every Unix, and the lesson is single-threaded, so no other thread can exec in between.)
pub fn pipe_closed_on_exec() -> anyhow::Result<(OwnedFd, OwnedFd)> {
    let (read_end, write_end) = nix::unistd::pipe().context("pipe")?;
    for end in [&read_end, &write_end] {
        fcntl(end, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).context("fcntl(FD_CLOEXEC)")?;
    }
    Ok((read_end, write_end))
}

fn write_all(fd: &OwnedFd, mut bytes: &[u8]) -> nix::Result<()> {
    while !bytes.is_empty() {
        match nix::unistd::write(fd, bytes) {
            Ok(written) => bytes = &bytes[written..],
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Reads what is there within `timeout`: the number of bytes, 0 at end of file.
pub fn read_within(fd: &OwnedFd, buffer: &mut [u8], timeout: Duration) -> anyhow::Result<usize> {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let wait = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, wait) {
            Ok(0) => bail!("no reply from the child within {timeout:?}"),
            Ok(_) => match nix::unistd::read(fd, buffer) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => continue,
                Err(error) => return Err(error).context("read from the child"),
            },
            Err(Errno::EINTR) => continue,
            Err(error) => return Err(error).context("poll"),
        }
    }
}
