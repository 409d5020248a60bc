//! Runs `run_workers` in a process of its own, which has one thread (the only kind in which
//! `fork` is safe), and prints what happened, one fact per line, for `tests/check.rs` to read:
//!
//! ```text
//! parent 4242            this process, before the call
//! returned 4242 10 17    printed by every process that returns Ok from run_workers, with what it got
//! error 4242 EAGAIN      run_workers returned this error instead
//! panicked 4242          run_workers panicked
//! zombies 4250           this process's children in state Z afterwards, read from /proc
//! alive                  its children in any other state afterwards
//! skipped <why>          the limit a mode needs could not be set up here
//! ```
//!
//! Usage: `run_workers_alone codes N` (worker i sleeps a little, the later ones less, and
//! returns 10 + 7 i), `run_workers_alone signals` (four workers: exit 0, SIGKILL, exit 255,
//! SIGTERM), `run_workers_alone together N` (each worker waits, up to a deadline, until all N
//! have started; it returns 0 if they all met, 1 if not), `run_workers_alone limited N K`
//! (N workers of 200 ms each, under a process limit that lets only K of them start: as an
//! ordinary user, whom `RLIMIT_NPROC` binds; root gives up its privileges first).

use lesson01_processes_exercise::run_workers;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, kill, raise};
use nix::sys::wait::waitpid;
use nix::unistd::{Gid, Pid, Uid, geteuid, setgid, setgroups, setuid};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a worker of `together` waits for the others before it gives up.
const PATIENCE: Duration = Duration::from_secs(2);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count = |at: usize| args.get(at).and_then(|n| n.parse::<usize>().ok());
    let me = std::process::id();
    let (n_workers, work): (usize, Box<dyn Fn(usize) -> i32>) = match (args.first().map(String::as_str), count(1)) {
        (Some("codes"), Some(n)) => (n, Box::new(move |i| later_ones_end_first(n, i))),
        (Some("signals"), None) => (4, Box::new(end_by_signal_or_exit)),
        (Some("together"), Some(n)) => {
            let meeting = shared_counter();
            (n, Box::new(move |_| meet(meeting, n)))
        }
        (Some("limited"), Some(n)) => {
            let Some(room) = count(2).map(|k| k as u64) else {
                eprintln!("usage: run_workers_alone limited N K");
                return ExitCode::from(2);
            };
            if let Err(why) = allow_only_more_processes(room) {
                say(&format!("skipped {why}"));
                return ExitCode::SUCCESS;
            }
            (
                n,
                Box::new(|_| {
                    std::thread::sleep(Duration::from_millis(200));
                    0
                }),
            )
        }
        _ => {
            eprintln!("usage: run_workers_alone codes N | signals | together N | limited N K");
            return ExitCode::from(2);
        }
    };
    say(&format!("parent {me}"));
    // A panic is caught, so that what it left behind can still be looked at below.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_workers(n_workers, work)));
    let now = std::process::id();
    match outcome {
        Ok(Ok(statuses)) => {
            let listed: Vec<String> = statuses.iter().map(i32::to_string).collect();
            say(format!("returned {now} {}", listed.join(" ")).trim_end());
        }
        Ok(Err(errno)) => say(&format!("error {now} {errno:?}")),
        Err(_) => say(&format!("panicked {now}")),
    }
    if now != me {
        // A worker that returned from run_workers instead of exiting: it has said so; stop.
        return ExitCode::SUCCESS;
    }
    let (zombies, alive) = children_of(me);
    say(format!("zombies {}", pid_list(&zombies)).trim_end());
    say(format!("alive {}", pid_list(&alive)).trim_end());
    // Whatever run_workers left behind is ended and reaped here, so that a wrong answer
    // leaves nothing running after the check.
    for pid in alive {
        let _ = kill(Pid::from_raw(pid as i32), Signal::SIGKILL);
    }
    while waitpid(None::<Pid>, None).is_ok() {}
    ExitCode::SUCCESS
}

/// One line on stdout, written at once (a forked copy of this program must not inherit it
/// half-written).
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn pid_list(pids: &[u32]) -> String {
    pids.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")
}

/// Worker `i` of `n` sleeps 20 ms for each worker after it, so that the last ends first, then
/// returns 10 + 7 i.
fn later_ones_end_first(n: usize, i: usize) -> i32 {
    std::thread::sleep(Duration::from_millis(20 * (n - i) as u64));
    10 + 7 * i as i32
}

/// Worker 0 exits with 0, worker 1 dies of SIGKILL, worker 2 exits with 255, worker 3 dies of
/// SIGTERM.
fn end_by_signal_or_exit(i: usize) -> i32 {
    match i {
        1 => {
            let _ = raise(Signal::SIGKILL);
            1
        }
        2 => 255,
        3 => {
            let _ = raise(Signal::SIGTERM);
            1
        }
        _ => 0,
    }
}

/// A counter in memory that every forked copy of this process shares (a shared mapping, made
/// before any fork): the workers' meeting point.
fn shared_counter() -> &'static AtomicUsize {
    let size = std::num::NonZeroUsize::new(std::mem::size_of::<AtomicUsize>()).expect("not zero");
    // Safety: a fresh anonymous mapping, zero-filled, aligned to a page, replaces nothing; it
    // is never unmapped, so the reference below stays valid for the whole program.
    let mapping = unsafe {
        nix::sys::mman::mmap_anonymous(
            None,
            size,
            nix::sys::mman::ProtFlags::PROT_READ | nix::sys::mman::ProtFlags::PROT_WRITE,
            nix::sys::mman::MapFlags::MAP_SHARED,
        )
    }
    .expect("a shared mapping");
    // Safety: the mapping is page-aligned, zero-filled (a valid AtomicUsize of 0) and lives
    // forever; every access to it goes through the atomic.
    unsafe { &*mapping.as_ptr().cast::<AtomicUsize>() }
}

/// Arrives at the meeting point and waits until `n` workers have arrived, or until the
/// deadline: 0 if they all met, 1 if not. Arrivals are never taken back, so a worker that has
/// met the others and ended still counts for those that look later.
fn meet(meeting: &AtomicUsize, n: usize) -> i32 {
    // SeqCst: the only question is who arrived before whom, and every process must agree on it.
    meeting.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + PATIENCE;
    while meeting.load(Ordering::SeqCst) < n {
        if Instant::now() >= deadline {
            return 1;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    0
}

/// The children of `parent` from /proc: (zombies, the others).
fn children_of(parent: u32) -> (Vec<u32>, Vec<u32>) {
    let mut zombies = Vec::new();
    let mut others = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The name is in parentheses and may hold spaces: the fields after the last ')' are
        // the state, then the parent's PID.
        let Some(close) = stat.rfind(')') else { continue };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if fields.get(1).and_then(|p| p.parse::<u32>().ok()) == Some(parent) {
            if fields.first() == Some(&"Z") {
                zombies.push(pid);
            } else {
                others.push(pid);
            }
        }
    }
    zombies.sort_unstable();
    others.sort_unstable();
    (zombies, others)
}

/// Sets this process's `RLIMIT_NPROC` so that only `room` more processes of its user can start.
/// The limit counts every task of the user (threads too) and does not bind root, so root first
/// becomes the unprivileged user `nobody` (65534). Fails, saying why, where that cannot be done.
fn allow_only_more_processes(room: u64) -> Result<(), String> {
    if geteuid().is_root() {
        let nobody = 65_534;
        setgroups(&[]).map_err(|e| format!("root could not drop its groups: {e}"))?;
        setgid(Gid::from_raw(nobody)).map_err(|e| format!("root could not become group {nobody}: {e}"))?;
        setuid(Uid::from_raw(nobody)).map_err(|e| format!("root could not become user {nobody}: {e}"))?;
    }
    let uid = Uid::current().as_raw();
    let tasks = tasks_of_user(uid).ok_or("the tasks of this user cannot be counted from /proc")?;
    let (_, hard) = nix::sys::resource::getrlimit(Resource::RLIMIT_NPROC).map_err(|e| e.to_string())?;
    let limit = tasks + room;
    if limit > hard {
        return Err(format!(
            "this user runs {tasks} tasks, and its hard process limit is {hard}"
        ));
    }
    setrlimit(Resource::RLIMIT_NPROC, limit, limit).map_err(|e| format!("could not set the process limit: {e}"))
}

/// Every task (thread) on the machine whose real user is `uid`: what `RLIMIT_NPROC` counts.
fn tasks_of_user(uid: u32) -> Option<u64> {
    let mut tasks = 0;
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        if !process
            .file_name()
            .to_string_lossy()
            .bytes()
            .all(|b| b.is_ascii_digit())
        {
            continue;
        }
        for task in std::fs::read_dir(process.path().join("task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
            let real = status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().next())
                .and_then(|id| id.parse::<u32>().ok());
            tasks += u64::from(real == Some(uid));
        }
    }
    Some(tasks)
}
