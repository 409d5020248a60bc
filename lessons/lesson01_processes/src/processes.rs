//! A process's life, in the system calls it is made of (through nix): `fork` copies the
//! process, `exec` replaces the copy's program, `exit` ends it with a status, and the parent's
//! `waitpid` collects that status and frees the PID. Until it is collected, a child that has
//! exited is a zombie. After `fork` the two processes share every page until one of them
//! writes it (copy-on-write), which is why the lecture says "fork, then load data".
//!
//! `fork` is only safe while the process has one thread: the child gets a copy of all the
//! memory but of the calling thread alone, so a lock another thread held at that moment
//! (inside the memory allocator, say) stays locked in the child forever. The lesson's
//! `tracked.rs` checks that before it calls `fork_child`, and records each child so that
//! Ctrl-C can kill and reap it.

use nix::errno::Errno;
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, execv, fork};
use std::collections::TryReserveError;
use std::ffi::CString;

// 1. fork: one process becomes two.

/// Forks: the child runs `child` and exits with the number it returns; the parent gets the
/// child's PID. Both processes return from `fork`, which tells them apart by what it returns.
pub fn fork_child(child: impl FnOnce() -> i32) -> nix::Result<Pid> {
    // Safety: the caller makes sure that this process has one thread (see above). The child
    // leaves through `exit_now` and never returns into the parent's code.
    match unsafe { fork() }? {
        ForkResult::Child => exit_now(child()),
        ForkResult::Parent { child } => Ok(child),
    }
}

// 2. exec: the child becomes another program, and keeps its PID.

/// Replaces this process's program by `sh -c "exit CODE"`. It returns only when exec failed:
/// on success, the code that called it is gone.
pub fn exec_shell_exiting_with(code: u8) -> Errno {
    // A number never holds a NUL byte, so the script is always a valid C string.
    let script = CString::new(format!("exit {code}")).unwrap_or_default();
    match execv(c"/bin/sh", &[c"sh", c"-c", script.as_c_str()]) {
        Err(error) => error,
        Ok(never) => match never {},
    }
}

// 3. exit: the process ends, and leaves a status for its parent.

/// Ends this process at once with `code`. A forked child ends this way (`_exit`): a plain
/// `exit` would run the parent's exit-time clean-up, such as flushing its buffers, again.
pub fn exit_now(code: i32) -> ! {
    // Safety: `_exit` ends the process at once and touches no Rust state; it is always allowed.
    unsafe { nix::libc::_exit(code) }
}

// 4. wait: the parent collects the status, and the PID is free again.

/// Waits until child `pid` has ended, then reaps it: the kernel forgets it and its PID is
/// free. Until then, a child that has ended is a zombie: no memory, no open files, only its
/// PID and its exit status, kept for this call. `kill -9` cannot remove it; this call does.
pub fn reap(pid: Pid) -> nix::Result<WaitStatus> {
    loop {
        match waitpid(pid, None) {
            // A signal arrived while waiting (and was handled): wait again.
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

// 5. Copy-on-write: fork, then load data.

/// "Loads data": `size` bytes with every page written, so that all of it is in memory, each
/// page holding a value that depends on its place. Fails, rather than aborting the program,
/// when the machine refuses the memory.
pub fn load_data(size: usize, page: usize) -> Result<Vec<u8>, TryReserveError> {
    let mut data = Vec::new();
    data.try_reserve_exact(size)?;
    data.resize(size, 0);
    for (i, chunk) in data.chunks_mut(page.max(1)).enumerate() {
        chunk.fill((i % 251) as u8 + 1);
    }
    Ok(data)
}

/// Reads every byte. After fork, reading a page that parent and child share copies nothing.
pub fn checksum(data: &[u8]) -> u64 {
    data.iter().map(|&byte| u64::from(byte)).sum()
}

/// Writes the first `bytes` bytes. After fork, the first write to a shared page copies that
/// page for the writer alone: the writer's private memory grows by what it wrote, one page
/// (and one page fault) at a time.
pub fn write_part(data: &mut [u8], bytes: usize) {
    let end = bytes.min(data.len());
    data[..end].fill(0xEE);
    std::hint::black_box(&data);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_data_sums_predictably_and_writes_change_it() {
        let mut data = load_data(3 * 4096, 4096).unwrap();
        assert_eq!(checksum(&data), 4096 * (1 + 2 + 3));
        write_part(&mut data, 4096);
        assert_eq!(checksum(&data), 4096 * (0xEE + 2 + 3));
        write_part(&mut data, 1 << 20);
        assert_eq!(checksum(&data), 3 * 4096 * 0xEE);
        assert!(load_data(0, 4096).unwrap().is_empty());
        assert!(load_data(usize::MAX / 2, 4096).is_err());
    }
}
