//! Child processes that never outlive the lesson that started them.
//!
//! Every child a lesson forks or spawns goes through [`fork`] or [`spawn`], which record its
//! PID in a fixed table. When the lesson is interrupted (SIGINT from Ctrl-C, SIGTERM, SIGHUP),
//! a signal handler kills every recorded child with SIGKILL (which also ends a stopped child)
//! and reaps it, then lets the signal end the lesson as it would have. Interrupts are held
//! back for the moment between starting a child and recording it, so none is missed. At the end of
//! [`crate::run`], [`kill_all`] does the same for any child a lesson forgot. As a last line of
//! defence on Linux, each child asks the kernel to kill it if its parent dies
//! (`PR_SET_PDEATHSIG`), which covers even a parent killed with SIGKILL.
//!
//! A program that starts children of its own (a Python pool's workers, a shell's commands)
//! goes through [`spawn_group`]: it gets a process group of its own, and the whole group is
//! killed with it, so that none of its children is left running.

use anyhow::{Context, bail};
use nix::sys::signal::{self, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid};
use std::io::Write;
use std::sync::Once;
use std::sync::atomic::{AtomicI32, Ordering};

/// Room for this many live children at once; [`register`] refuses more.
pub const MAX_CHILDREN: usize = 4096;

// A plain array of atomics, so that the signal handler can read it without taking a lock or
// allocating (neither is allowed in a signal handler). 0 marks a free slot.
static CHILDREN: [AtomicI32; MAX_CHILDREN] = [const { AtomicI32::new(0) }; MAX_CHILDREN];
// The process that installed the handler: a forked child inherits the handler and the table,
// but must not kill its parent's other children.
static OWNER: AtomicI32 = AtomicI32::new(0);
static INSTALL: Once = Once::new();

/// Room for this many process groups at once (see [`spawn_group`]).
pub const MAX_GROUPS: usize = 64;

// The process groups started by `spawn_group`, by their leader's PID (0 marks a free slot):
// killed whole on an interrupt and by `kill_all`, as `CHILDREN` is, from a signal handler.
static GROUPS: [AtomicI32; MAX_GROUPS] = [const { AtomicI32::new(0) }; MAX_GROUPS];

/// Records `pid` as a child to kill and reap if the lesson is interrupted.
pub fn register(pid: Pid) -> anyhow::Result<()> {
    install_handler();
    for slot in &CHILDREN {
        if slot
            .compare_exchange(0, pid.as_raw(), Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return Ok(());
        }
    }
    bail!("more than {MAX_CHILDREN} live child processes at once")
}

/// Stops tracking `pid` (it was reaped).
pub fn forget(pid: Pid) {
    for slot in &CHILDREN {
        if slot
            .compare_exchange(pid.as_raw(), 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

/// How many recorded children have not been reaped yet.
pub fn live() -> usize {
    CHILDREN.iter().filter(|slot| slot.load(Ordering::SeqCst) > 0).count()
}

/// `waitpid` on one child; once it has exited or been killed, it is no longer tracked.
pub fn wait(pid: Pid) -> nix::Result<WaitStatus> {
    let status = waitpid(pid, None)?;
    if matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..)) {
        forget(pid);
    }
    Ok(status)
}

/// Kills (SIGKILL) and reaps every child still recorded, and every process in a group started
/// by [`spawn_group`]. Safe to call when there are none.
pub fn kill_all() {
    use nix::sys::wait::WaitPidFlag;
    kill_groups();
    for slot in &CHILDREN {
        let raw = slot.swap(0, Ordering::SeqCst);
        if raw > 0 {
            let pid = Pid::from_raw(raw);
            // Only a child that is still ours is killed: one reaped elsewhere (by
            // `std::process::Child::wait`, say) may have had its PID reused by a stranger.
            if let Ok(WaitStatus::StillAlive) = waitpid(pid, Some(WaitPidFlag::WNOHANG)) {
                let _ = signal::kill(pid, Signal::SIGKILL);
                let _ = waitpid(pid, None);
            }
        }
    }
}

/// Kills every process in the groups started by [`spawn_group`] and stops tracking them. Makes
/// only async-signal-safe calls, so the interrupt handler uses it too.
fn kill_groups() {
    for slot in &GROUPS {
        let leader = slot.swap(0, Ordering::SeqCst);
        if leader > 0 {
            let _ = signal::killpg(Pid::from_raw(leader), Signal::SIGKILL);
        }
    }
}

/// Spawns a program as [`spawn`] does, in a process group of its own that it leads: when it
/// is interrupted, or stopped with [`kill_group`], or left running at the end of the lesson,
/// every process in the group is killed with it, its own children included. (The group does
/// not get the terminal's Ctrl-C itself: the lesson's handler kills it.) Reap the program
/// with [`wait`] or its `Child`, then call [`kill_group`] to end any process it left behind.
pub fn spawn_group(command: &mut std::process::Command) -> anyhow::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    // A member of the group whose parent dies (a pool's worker left by a pool that failed)
    // comes to this process instead of to init, which in some containers never reaps it:
    // `reap_group` reaps it here.
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
    // No interrupt between starting the program and recording its group.
    let deferred = DeferInterrupts::new()?;
    let child = spawn(command)?;
    let leader = child.id() as i32;
    let recorded = GROUPS.iter().any(|slot| {
        slot.compare_exchange(0, leader, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    });
    drop(deferred);
    if !recorded {
        let _ = signal::killpg(Pid::from_raw(leader), Signal::SIGKILL);
        let _ = wait(Pid::from_raw(leader));
        bail!("more than {MAX_GROUPS} process groups at once");
    }
    Ok(child)
}

/// Kills (SIGKILL) every process in the group that `leader` leads (see [`spawn_group`]) and
/// stops tracking the group. The leader itself is still to be reaped if it had not exited.
pub fn kill_group(leader: Pid) {
    for slot in &GROUPS {
        if slot
            .compare_exchange(leader.as_raw(), 0, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            let _ = signal::killpg(leader, Signal::SIGKILL);
        }
    }
}

/// After [`kill_group`] and the leader reaped: waits up to two seconds for the rest of the
/// group to be gone, reaping every member that came to this process when its parent died (see
/// [`spawn_group`]), so that none is left a zombie.
pub fn reap_group(leader: Pid) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let group = Pid::from_raw(-leader.as_raw());
    loop {
        match waitpid(group, Some(nix::sys::wait::WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => {
                let gone = signal::killpg(leader, None) == Err(nix::errno::Errno::ESRCH);
                if gone || std::time::Instant::now() >= deadline {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            Ok(_) => {} // one reaped: look again at once
        }
    }
}

/// The number of threads in this process, where the OS tells (`/proc/self/status`).
pub fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

/// Fails unless this process has exactly one thread. After `fork`, only the calling thread
/// exists in the child: a lock another thread held (inside the allocator, say) stays locked
/// forever there. So the course forks only while single-threaded. A thread that was just
/// joined can still be counted for a moment while the kernel tears it down, so this waits up
/// to two seconds for the count to drop. Where the thread count can't be read (no `/proc`), it
/// trusts the caller.
pub fn ensure_single_threaded() -> anyhow::Result<()> {
    wait_until_single_threaded(std::time::Duration::from_secs(2))
}

/// Waits up to `within` for this process to have one thread, then fails with a message that
/// says why (threads that never end, such as rayon's global pool, keep it from ever forking).
pub fn wait_until_single_threaded(within: std::time::Duration) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    loop {
        match thread_count() {
            Some(1) | None => return Ok(()),
            Some(n) if start.elapsed() >= within => bail!(
                "refusing to fork: this process still has {n} threads, and fork is only safe while \
                 single-threaded (start processes before any thread pool, rayon's included)"
            ),
            Some(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
        }
    }
}

/// Forks a child that runs `child` and exits with the status it returns (101 if it panics).
/// The child is tracked until [`wait`] reaps it. Fails unless the process is single-threaded.
pub fn fork(child: impl FnOnce() -> i32) -> anyhow::Result<Pid> {
    ensure_single_threaded()?;
    install_handler();
    // An interrupt between `fork` returning and `register` would find the new child not yet
    // recorded: hold interrupts back until it is (a signal that arrives meanwhile is delivered
    // the moment the guard is dropped, and the clean-up then sees the child).
    let deferred = DeferInterrupts::new()?;
    // Anything buffered would otherwise be printed twice: once by each process.
    let _ = std::io::stdout().flush();
    let parent = nix::unistd::getpid();
    // Safety: the process is single-threaded (checked just above), so the child cannot inherit
    // a lock held by another thread. The child runs ordinary Rust code and leaves by `_exit`,
    // never returning into the parent's stack frames.
    let forked = unsafe { nix::unistd::fork() };
    match forked.map_err(|error| crate::limits::process_refused("a child process (fork)", &error))? {
        ForkResult::Child => {
            become_child(parent);
            // The child starts with the parent's mask; it lets interrupts through again.
            drop(deferred);
            let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
            let _ = std::io::stdout().flush();
            let _ = std::io::stderr().flush();
            exit_now(code)
        }
        ForkResult::Parent { child } => {
            let registered = register(child);
            drop(deferred);
            registered.map(|()| child)
        }
    }
}

/// Spawns a program (fork + exec, as `std::process::Command` does) and tracks it.
/// Spawn from the main thread: on Linux the child is killed when the thread that spawned it
/// ends.
pub fn spawn(command: &mut std::process::Command) -> anyhow::Result<std::process::Child> {
    install_handler();
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // Safety: the closure runs in the child between fork and exec, where only
        // async-signal-safe calls are allowed; sigprocmask and prctl are, and nothing is
        // allocated (the empty set lives on the stack).
        unsafe {
            command.pre_exec(|| {
                // The program starts with no signal blocked. The mask survives exec, and this
                // thread holds interrupts back while it starts the child (below): left so, a
                // program could not be ended with SIGTERM (a Python pool's `terminate` would
                // wait forever for workers that inherited the mask).
                signal::sigprocmask(signal::SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)
            });
        }
    }
    // As in `fork`: no interrupt between starting the child and recording it.
    let deferred = DeferInterrupts::new()?;
    let child = command.spawn().map_err(|error| {
        let program = format!("{:?}", command.get_program());
        if error.kind() == std::io::ErrorKind::NotFound {
            anyhow::anyhow!("could not start {program}: {error}")
        } else {
            crate::limits::process_refused(&program, &error)
        }
    })?;
    let registered = register(Pid::from_raw(child.id() as i32));
    drop(deferred);
    registered.map(|()| child)
}

/// The signals whose arrival kills and reaps the recorded children: Ctrl-C, `kill`, a closed
/// terminal.
fn interrupt_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        set.add(signal);
    }
    set
}

/// Holds interrupts (SIGINT, SIGTERM, SIGHUP) back while it lives; dropping it restores the
/// signal mask it found, and an interrupt that arrived meanwhile is delivered then. For a
/// moment when a child is in nobody's list (between starting and recording it, or while it
/// changes parents). Children forked meanwhile start with interrupts held back too.
#[derive(Debug)]
pub struct DeferInterrupts {
    previous: SigSet,
}

impl DeferInterrupts {
    pub fn new() -> anyhow::Result<Self> {
        let mut previous = SigSet::empty();
        signal::pthread_sigmask(
            signal::SigmaskHow::SIG_BLOCK,
            Some(&interrupt_signals()),
            Some(&mut previous),
        )
        .context("could not hold interrupts back")?;
        Ok(DeferInterrupts { previous })
    }
}

impl Drop for DeferInterrupts {
    fn drop(&mut self) {
        let _ = signal::pthread_sigmask(signal::SigmaskHow::SIG_SETMASK, Some(&self.previous), None);
    }
}

/// In a freshly forked child: default signal handling, and die with the parent.
fn become_child(parent: Pid) {
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // Safety: restoring the default disposition installs no Rust code as a handler.
        let _ = unsafe { signal::sigaction(signal, &default) };
    }
    for slot in &CHILDREN {
        slot.store(0, Ordering::SeqCst);
    }
    #[cfg(target_os = "linux")]
    {
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
        // The parent may have died before the line above: then nobody would ever send it.
        if nix::unistd::getppid() != parent {
            exit_now(1);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = parent;
}

/// Ends a forked child at once, without running the parent's exit-time clean-up a second time.
pub fn exit_now(code: i32) -> ! {
    // Safety: `_exit` ends the process immediately; it touches no Rust state and is always
    // allowed, also in a forked child.
    unsafe { nix::libc::_exit(code) }
}

/// Installs the interrupt handler now (it is otherwise installed with the first child), so
/// that a lesson interrupted with Ctrl-C says so on stderr before it dies of the signal.
pub fn watch_interrupts() {
    install_handler();
}

fn install_handler() {
    INSTALL.call_once(|| {
        OWNER.store(nix::unistd::getpid().as_raw(), Ordering::SeqCst);
        let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
        for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
            // Safety: `on_signal` only makes async-signal-safe calls (kill, waitpid,
            // sigaction, raise) and touches nothing but atomics.
            let _ = unsafe { signal::sigaction(signal, &action) };
        }
    });
}

extern "C" fn on_signal(number: nix::libc::c_int) {
    if nix::unistd::getpid().as_raw() == OWNER.load(Ordering::SeqCst) {
        let had_children = live() > 0 || GROUPS.iter().any(|slot| slot.load(Ordering::SeqCst) > 0);
        kill_all();
        // A plain `write` of fixed text: the only kind of printing allowed in a handler.
        let message: &[u8] = if had_children {
            b"\ninterrupted: every child process was stopped and reaped; nothing is left running\n"
        } else {
            b"\ninterrupted\n"
        };
        let _ = nix::unistd::write(std::io::stderr(), message);
    }
    // Now die of the same signal, as if no handler had been installed: the shell sees an
    // interrupted program, not one that exited normally.
    if let Ok(signal) = Signal::try_from(number) {
        let default = SigAction::new(SigHandler::SigDfl, SaFlags::empty(), SigSet::empty());
        // Safety: restoring the default disposition is async-signal-safe.
        let _ = unsafe { signal::sigaction(signal, &default) };
        let _ = signal::raise(signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_forget_and_live_count() {
        let before = live();
        let fake = Pid::from_raw(i32::MAX - 7);
        register(fake).unwrap();
        assert_eq!(live(), before + 1);
        forget(fake);
        assert_eq!(live(), before);
    }

    #[test]
    fn spawned_children_are_tracked_until_waited() {
        let mut child = spawn(std::process::Command::new("true").stdout(std::process::Stdio::null())).unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        assert!(CHILDREN.iter().any(|slot| slot.load(Ordering::SeqCst) == pid.as_raw()));
        let status = wait(pid).unwrap();
        assert_eq!(status, WaitStatus::Exited(pid, 0));
        assert!(!CHILDREN.iter().any(|slot| slot.load(Ordering::SeqCst) == pid.as_raw()));
        // std's Child handle no longer has anything to reap; that is fine.
        let _ = child.try_wait();
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_spawned_program_starts_with_no_signal_blocked() {
        // grep does not touch its signal mask: what it reads is what it was started with.
        let child = spawn(
            std::process::Command::new("grep")
                .args(["SigBlk", "/proc/self/status"])
                .stdout(std::process::Stdio::piped()),
        )
        .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        let output = child.wait_with_output().unwrap();
        forget(pid);
        let line = String::from_utf8_lossy(&output.stdout).to_string();
        assert_eq!(line.split_whitespace().nth(1), Some("0000000000000000"), "{line}");
    }

    #[test]
    fn a_group_is_killed_whole_with_its_leaders_children() {
        // A shell that starts a long sleep of its own and waits for it.
        let mut child = spawn_group(
            std::process::Command::new("sh")
                .args(["-c", "sleep 30 & echo $!; wait"])
                .stdout(std::process::Stdio::piped()),
        )
        .unwrap();
        let leader = Pid::from_raw(child.id() as i32);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let sleeper = Pid::from_raw(line.trim().parse().unwrap());
        assert_eq!(
            nix::unistd::getpgid(Some(sleeper)).unwrap(),
            leader,
            "the sleep is in the group"
        );
        kill_group(leader);
        assert!(matches!(wait(leader).unwrap(), WaitStatus::Signaled(..)));
        let _ = child.try_wait(); // already reaped above
        // The sleep was the shell's child: once killed, init reaps it; give it a moment.
        let gone = (0..200).any(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            std::fs::read_to_string(format!("/proc/{sleeper}/stat")).map_or(true, |stat| {
                stat.rsplit(')')
                    .next()
                    .is_some_and(|rest| rest.trim_start().starts_with('Z'))
            })
        });
        assert!(gone, "the shell's own child was killed with it");
        assert!(!GROUPS.iter().any(|slot| slot.load(Ordering::SeqCst) == leader.as_raw()));
    }

    #[test]
    fn a_member_its_leader_left_behind_is_reaped_here_not_left_a_zombie() {
        // A shell that starts a long sleep and exits without waiting for it: the sleep's
        // parent is gone, so it comes to this process (a subreaper since spawn_group).
        let mut child = spawn_group(
            std::process::Command::new("sh")
                .args(["-c", "sleep 31 & echo $!"])
                .stdout(std::process::Stdio::piped()),
        )
        .unwrap();
        let leader = Pid::from_raw(child.id() as i32);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        let sleeper: i32 = line.trim().parse().unwrap();
        assert!(matches!(wait(leader).unwrap(), WaitStatus::Exited(_, 0)));
        let _ = child.try_wait(); // already reaped above
        kill_group(leader);
        reap_group(leader);
        assert!(
            !std::path::Path::new(&format!("/proc/{sleeper}")).exists(),
            "the sleep was killed and reaped: no zombie left"
        );
    }
}
