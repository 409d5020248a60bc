//! # Lesson 01 · Processes
//!
//! **Objective.** See a process the way the kernel sees it, on this machine, right now: its
//! identity, open files, memory map and signal handlers; its life from `fork` through `exec`
//! and `exit` to being reaped by its parent; the states it passes through (the lecture's
//! ready/executing, blocked, delayed, suspended) and the zombie it leaves when nobody waits
//! for it; and what `fork` copies and what it shares (copy-on-write), which is why the lecture
//! says "fork, then load data; not vice versa". Nothing is described that is not also read from
//! the running system (`/proc`).
//!
//! **What to observe.** A child keeps its PID through `exec` but becomes another program. The
//! kernel's state letter changes R → S → R → S → R → T → R → Z → gone as the parent drives the
//! child, and the CPU time it is charged grows only in R. Zombies hold no memory and ignore
//! `kill -9`; only their parent's `wait` removes them. After `fork` the child's memory is
//! almost all shared; writing a quarter of a buffer copies exactly that quarter, page by page,
//! and `fork` itself gets slower as the parent's memory grows.
//!
//! **How to run.** `cargo run -p lesson01_processes` (add `--quick`, `--json`, `--step`;
//! `--hold 5000` keeps each state for five seconds so that you can look with `ps` from another
//! terminal; `--help` lists the knobs).

mod link;
mod model;
mod observe;
mod quiz;
mod watch;

use anyhow::{Context, bail};
use clap::Parser;
use course::chart::Plot;
use course::children;
use course::table::Table;
use course::timing::{Latencies, format};
use course::{Lesson, say};
use model::{Exit, ProcessTable, WaitOutcome};
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::{Pid, getpid, getppid};
use serde::Serialize;
use std::ffi::CString;
use std::process::ExitCode;
use std::time::{Duration, Instant};
#[cfg(target_os = "linux")]
use watch::wait_for_parent;
use watch::{Watch, describe_status, ps_table, show_signals, wait_for_change, wait_for_state};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 01: a process, observed live. Reads this process's anatomy from /proc, follows a \
child through fork, exec, exit and wait, drives one child through every process state, makes \
zombies and reaps them, and measures copy-on-write and the cost of fork as memory grows."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// How long the watched child stays in each state, in milliseconds, so that you can look at
    /// it with `ps` from another terminal [default: 400, or 20 with --quick]
    #[arg(long, value_name = "MS", value_parser = course::cli::millis(1, 600_000))]
    #[serde(skip)]
    hold: Option<Duration>,
    /// Status that the exec'd program exits with (0-255)
    #[arg(long, value_name = "CODE", default_value_t = 7)]
    exit_code: u8,
    /// Zombies to make on purpose
    #[arg(long, value_name = "COUNT", default_value_t = 3, value_parser = course::cli::count(1, 64))]
    zombies: usize,
    /// Size of the buffer that the parent fills and the forked child shares, in MiB
    /// [default: 512, or 32 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    buffer_mib: Option<usize>,
    /// Part of the shared buffer that the child writes to
    #[arg(long, value_name = "FRACTION", default_value_t = 0.25, value_parser = course::cli::fraction())]
    write_fraction: f64,
    /// Largest memory the parent holds while fork is timed, in MiB [default: 1024, or 64 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 4096))]
    fork_mib: Option<usize>,
    /// Forks timed at each memory size [default: 20, or 5 with --quick]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 1000))]
    samples: Option<usize>,
    // `--quiz` and `--answers`: the process tree after a seeded script instead of the lesson
    // (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

fn main() -> ExitCode {
    since_start();
    let args: Args = course::parse_args();
    let info = course::info!("Processes");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        let hold = args
            .hold
            .unwrap_or(lesson.pick(Duration::from_millis(20), Duration::from_millis(400)));
        let buffer_mib = args.buffer_mib.unwrap_or(lesson.pick(32, 512));
        let fork_mib = args.fork_mib.unwrap_or(lesson.pick(64, 1024));
        let samples = args.samples.unwrap_or(lesson.pick(5, 20));
        lesson.param("hold_ms", hold.as_millis() as u64);
        lesson.param("buffer_mib", buffer_mib);
        lesson.param("fork_mib", fork_mib);
        lesson.param("samples", samples);
        // The buffer and the child's copy of what it writes, then the memory held while fork is
        // timed: refuse up front what this machine cannot hold.
        let needed_mib = (buffer_mib as f64 * (1.0 + args.write_fraction)).max(fork_mib as f64) as u64;
        if let Some(available) = observe::available_memory()
            && (needed_mib << 20) > available / 10 * 8
        {
            return Err(course::usage_error(format!(
                "--buffer-mib, --write-fraction and --fork-mib need up to {} of memory, but only {} is available",
                format::bytes(needed_mib << 20),
                format::bytes(available)
            )));
        }
        if !observe::HAS_PROC {
            lesson
                .warn("this platform has no /proc: the lesson runs every step but cannot show what the kernel reports");
        }

        anatomy(lesson);
        lifecycle(lesson, args.exit_code)?;
        states(lesson, hold)?;
        zombies(lesson, args.zombies, hold)?;
        copy_on_write(lesson, buffer_mib, args.write_fraction)?;
        fork_cost(lesson, fork_mib, samples)?;
        fork_and_threads(lesson)
    })
}

/// Section 1: what the kernel keeps for a process (the lecture's "components of a process").
fn anatomy(lesson: &Lesson) {
    lesson.section("Anatomy of this process");
    let me = getpid().as_raw();
    say!(lesson, "  PID {me}, parent PID {}", getppid());
    match observe::ancestry(me) {
        Some(chain) => {
            let names: Vec<String> = chain
                .iter()
                .map(|row| format!("{} ({})", short_name(row), row.pid))
                .collect();
            say!(lesson, "  ancestry: {}", names.join(" ← "));
            lesson.figure("ancestry", &chain);
        }
        None => say!(lesson, "  ancestry: cannot be read on this platform (no /proc)"),
    }
    let status = observe::status(me);
    if let Some(status) = &status {
        say!(
            lesson,
            "  owner: user {} (effective {}); threads of execution: {}",
            status.uid,
            status.euid,
            status.threads
        );
    }
    say!(
        lesson,
        "  error status: errno, kept per thread for the last failed system call; the exit status is what"
    );
    say!(lesson, "  the process leaves its parent when it ends (section 2).");

    say!(lesson);
    say!(
        lesson,
        "  File descriptors: small numbers that stand for open files, pipes, terminals"
    );
    match observe::open_files() {
        Some(files) => {
            let mut table = Table::new(&["  fd", "", "points to"]).left(1).left(2);
            for file in &files {
                let role = match file.fd {
                    0 => "standard input",
                    1 => "standard output",
                    2 => "standard error",
                    _ if file.target.starts_with("/proc/") => "opened to read /proc for this table",
                    // The lesson has opened nothing else yet: the rest came from whoever started it.
                    _ => "inherited from the parent",
                };
                table.row([format!("  {}", file.fd), role.to_string(), file.target.clone()]);
            }
            lesson.table(&table);
            lesson.figure("open_files", &files);
        }
        None => say!(lesson, "  (cannot be listed on this platform)"),
    }

    say!(lesson);
    say!(
        lesson,
        "  Memory map (/proc/self/smaps), grouped by what each part holds, low addresses first"
    );
    match observe::regions() {
        Some(regions) => {
            let mut table = Table::new(&["  region", "maps", "from address", "mapped", "resident", "shared"]);
            for region in &regions {
                table.row([
                    format!("  {}", region.kind),
                    region.mappings.to_string(),
                    format!("{:#014x}", region.start),
                    format::bytes(region.size),
                    format::bytes(region.resident),
                    format::bytes(region.shared),
                ]);
            }
            lesson.table(&table);
            say!(
                lesson,
                "  'shared': resident pages that other processes map too. The libraries' code is one copy"
            );
            say!(
                lesson,
                "  in RAM for the whole machine; data, heap and stack are this process's own."
            );
            lesson.figure("memory_regions", &regions);
        }
        None => say!(lesson, "  (cannot be read on this platform)"),
    }

    say!(lesson);
    if let Some(status) = &status {
        show_signals(lesson, status);
        lesson.figure("threads", status.threads);
    }
    lesson.notice("A process is an ID and a parent, an owner, open files, an address space (code, data, bss, heap, stack, libraries), signal dispositions, and at least one thread running in it.");
}

/// Section 2: the lecture's lifecycle, each phase timestamped by the process it happens in.
fn lifecycle(lesson: &Lesson, exit_code: u8) -> anyhow::Result<()> {
    lesson.section("Lifecycle: fork → exec → exit → reaped by the parent");
    say!(
        lesson,
        "  This process has {} thread: fork is safe now (every fork here checks; section 6 shows why).",
        children::thread_count().map_or("an unknown number of".to_string(), |n| n.to_string())
    );
    let script = CString::new(format!("exit {exit_code}"))?;
    let argv = [c"sh", c"-c", script.as_c_str()];
    // A close-on-exec pipe: the child writes its timestamps into it, and a successful exec
    // closes it. The parent's read ends exactly when exec has replaced the child's program.
    // (`std::process::Command` uses the same trick to learn whether exec worked.)
    let (report_read, report_write) = link::pipe_closed_on_exec()?;
    let mut report_write = Some(report_write);
    // The kernel keeps a process's name (comm) to 15 characters: `lesson01_processes` shows as
    // `lesson01_proces` in /proc and in ps. The executable's own name, to say so beside it.
    let executable = std::env::current_exe()
        .ok()
        .and_then(|path| path.file_name().map(|name| name.to_string_lossy().into_owned()));
    let me = getpid();
    let start = Instant::now();
    say!(
        lesson,
        "  {:>9}  parent {me}: fork()",
        format::duration(start.elapsed())
    );
    let pid = children::fork(|| {
        let report = report_write.take();
        let born = start.elapsed();
        let (child, parent) = (getpid(), getppid());
        let program = observe::comm(child.as_raw()).unwrap_or_else(|| "this lesson".to_string());
        let truncated = match &executable {
            Some(full) if full != &program && full.starts_with(&program) => {
                format!(" (the kernel cuts a process's name, `{full}`, to 15 characters)")
            }
            _ => String::new(),
        };
        say!(
            lesson,
            "  {:>9}  child  {child}: I am new, my parent is {parent}; I run a copy of `{program}`{truncated}",
            format::duration(born)
        );
        let exec_at = start.elapsed();
        say!(
            lesson,
            "  {:>9}  child  {child}: execv(\"/bin/sh\", [\"sh\", \"-c\", \"exit {exit_code}\"])",
            format::duration(exec_at)
        );
        let line = format!("{} {} {program}\n", born.as_nanos(), exec_at.as_nanos());
        if let Some(report) = &report {
            let _ = nix::unistd::write(report, line.as_bytes());
        }
        // On success execv does not return: this program is gone, replaced by /bin/sh.
        let error = match nix::unistd::execv(c"/bin/sh", &argv) {
            Err(error) => error,
            Ok(never) => match never {},
        };
        if let Some(report) = &report {
            let _ = nix::unistd::write(report, format!("exec failed: {error}\n").as_bytes());
        }
        127
    })?;
    drop(report_write);
    let fork_returned = start.elapsed();
    let mut report = Vec::new();
    let mut chunk = [0u8; 256];
    loop {
        match link::read_within(&report_read, &mut chunk, Duration::from_secs(10))? {
            0 => break, // end of file: exec closed the child's copy
            n => report.extend_from_slice(&chunk[..n]),
        }
    }
    let exec_done = start.elapsed();
    let program_after = observe::comm(pid.as_raw());
    let status = children::wait(pid).context("waitpid")?;
    let reaped = start.elapsed();

    let report = String::from_utf8_lossy(&report).into_owned();
    if report.contains("exec failed") {
        bail!("the child could not exec /bin/sh: {}", report.trim());
    }
    let mut fields = report.split_whitespace();
    let mut nanos = || {
        fields
            .next()
            .and_then(|n| n.parse::<u64>().ok())
            .map(Duration::from_nanos)
    };
    let (born, exec_called) = (nanos().unwrap_or_default(), nanos().unwrap_or_default());
    say!(
        lesson,
        "  {:>9}  parent {me}: fork() returned {pid}, the child's PID",
        format::duration(fork_returned)
    );
    match &program_after {
        Some(program) => say!(
            lesson,
            "  {:>9}  parent {me}: the pipe closed, so exec succeeded: {pid} now runs `{program}`",
            format::duration(exec_done)
        ),
        None => say!(
            lesson,
            "  {:>9}  parent {me}: the pipe closed, so exec succeeded",
            format::duration(exec_done)
        ),
    }
    let code = match status {
        WaitStatus::Exited(_, code) => code,
        other => bail!("the child did not exit normally: {other:?}"),
    };
    say!(
        lesson,
        "  {:>9}  parent {me}: waitpid({pid}) → exited with status {code}; reaped, its PID is free again",
        format::duration(reaped)
    );
    if code != i32::from(exit_code) {
        bail!("sh exited with {code}, not the {exit_code} it was told to");
    }

    let mut timeline = Table::new(&["  time", "process", "phase"]).left(1).left(2);
    let phases = [
        (Duration::ZERO, "parent", "fork() called".to_string()),
        (born, "child", "first instruction in the child".to_string()),
        (fork_returned, "parent", "fork() returned".to_string()),
        (exec_called, "child", "execv() called".to_string()),
        (exec_done, "parent", "exec done: the program is sh".to_string()),
        (reaped, "parent", format!("waitpid returned: exit status {code}")),
    ];
    let mut sorted = phases.to_vec();
    sorted.sort_by_key(|(at, ..)| *at);
    for (at, who, what) in &sorted {
        timeline.row([format!("  {}", format::duration(*at)), who.to_string(), what.clone()]);
    }
    say!(lesson);
    say!(
        lesson,
        "  The same phases in time order (the two processes' lines above may interleave):"
    );
    lesson.table(&timeline);
    lesson.figure(
        "timeline",
        sorted
            .iter()
            .map(|(at, who, what)| serde_json::json!({ "at_s": at.as_secs_f64(), "process": who, "phase": what }))
            .collect::<Vec<_>>(),
    );
    lesson.figure("exit_status", code);
    lesson.figure("program_after_exec", &program_after);
    if let Some(status) = observe::status(me.as_raw()) {
        say!(lesson);
        say!(
            lesson,
            "  The first fork also installed this lesson's clean-up handler (it kills and reaps every child on Ctrl-C):"
        );
        show_signals(lesson, &status);
    }
    lesson.notice("fork makes a copy with a new PID; exec keeps that PID and replaces the program; exit leaves a status; the parent's waitpid collects it and frees the PID.");
    Ok(())
}

/// Commands to the watched child of section 3.
const BLOCK: u8 = b'b';
const RESUME: u8 = b'r';
const DELAY: u8 = b'd';
const EXIT: u8 = b'x';
const WATCHED_EXIT_CODE: i32 = 3;

/// Section 3: one child driven through every state, and what the kernel reports at each step.
fn states(lesson: &Lesson, hold: Duration) -> anyhow::Result<()> {
    lesson.section("States: one child, watched from its parent");
    let me = getpid();
    let mut model = ProcessTable::new(true);
    model.add(pid_u32(me), pid_u32(getppid()))?;
    say!(
        lesson,
        "  The parent drives the child and reads /proc/<pid>/stat after each step; each state is held {}.",
        format::duration(hold)
    );
    say!(
        lesson,
        "  'ran' and 'waited' are the child's totals on a core and waiting for one as each step begins."
    );
    say!(
        lesson,
        "  (Run with --hold 10000 and type `ps -o pid,stat,wchan:20,time,cmd --ppid {me}` in another terminal.)"
    );
    let mut watch = Watch::new(lesson, hold);
    let (pid, link) = link::fork_linked(|end| watched_child(&end, hold))?;
    watch.pid = pid;
    model.fork(pid_u32(me), pid_u32(pid))?;
    watch.header();

    watch.step("forked: computes in a loop", model.get(pid_u32(pid)), true);
    link.send(BLOCK)?;
    model.block(pid_u32(pid))?;
    watch.step("reads from an empty pipe", model.get(pid_u32(pid)), true);
    link.send(RESUME)?;
    model.wake(pid_u32(pid))?;
    watch.step("data arrived: computes again", model.get(pid_u32(pid)), true);
    link.send(DELAY)?;
    model.delay(pid_u32(pid))?;
    watch.step(
        &format!("sleep({})", format::duration(hold)),
        model.get(pid_u32(pid)),
        false,
    );
    model.wake(pid_u32(pid))?;
    watch.step("timer expired: computes again", model.get(pid_u32(pid)), true);

    signal::kill(pid, Signal::SIGSTOP).context("SIGSTOP")?;
    model.stop(pid_u32(pid))?;
    // WUNTRACED: the parent also hears about a child that stopped, not only one that ended.
    let stopped = wait_for_change(pid, WaitPidFlag::WUNTRACED)?;
    watch.step(
        &format!("kill -STOP (waitpid: {})", describe_status(&stopped)),
        model.get(pid_u32(pid)),
        true,
    );
    signal::kill(pid, Signal::SIGCONT).context("SIGCONT")?;
    model.cont(pid_u32(pid))?;
    let continued = wait_for_change(pid, WaitPidFlag::WCONTINUED)?;
    watch.step(
        &format!("kill -CONT (waitpid: {})", describe_status(&continued)),
        model.get(pid_u32(pid)),
        true,
    );

    link.send(EXIT)?;
    model.exit(pid_u32(pid), WATCHED_EXIT_CODE)?;
    watch.step(
        &format!("exit({WATCHED_EXIT_CODE}); parent not waiting yet"),
        model.get(pid_u32(pid)),
        true,
    );
    let status = children::wait(pid).context("waitpid")?;
    let outcome = model.wait_for(pid_u32(me), pid_u32(pid))?;
    watch.step(
        &format!("waitpid → {}", describe_status(&status)),
        model.get(pid_u32(pid)),
        false,
    );
    if !matches!(
        outcome,
        WaitOutcome::Reaped {
            exit: Exit::Code(WATCHED_EXIT_CODE),
            ..
        }
    ) || status != WaitStatus::Exited(pid, WATCHED_EXIT_CODE)
    {
        bail!("the watched child ended unexpectedly: {status:?}");
    }

    say!(lesson);
    for line in [
        "R  ready/executing: on a core ('ran' grows) or ready and waiting for one ('waited' grows).",
        "S  blocked or delayed: asleep until something happens; 'waits in' tells which (a pipe or a timer).",
        "T  suspended: stopped by SIGSTOP (or Ctrl-Z) until SIGCONT; 'ran' stands still.",
        "Z  zombie: exited; only its exit status is left, kept for the parent's waitpid.",
    ] {
        say!(lesson, "  {line}");
    }
    let agreed = watch.rows.iter().filter(|row| row.as_predicted).count();
    say!(
        lesson,
        "  The kernel agreed with the lecture's model at {agreed} of {} steps.",
        watch.rows.len()
    );
    lesson.figure("steps", &watch.rows);
    lesson.figure("steps_as_predicted", agreed);
    lesson.notice("The letter follows what the parent does to the child; the time it ran grows only while the letter is R. S hides two of the lecture's states: where it sleeps tells blocked from delayed.");
    Ok(())
}

/// Section 4: zombies on purpose, as `ps` shows them; `kill -9` on one; reaping; adoption.
fn zombies(lesson: &Lesson, n_zombies: usize, hold: Duration) -> anyhow::Result<()> {
    lesson.section("Zombies: exited, not yet reaped");
    let me = getpid();
    if let Some(existing) = observe::zombies() {
        say!(
            lesson,
            "  Zombies on this machine before we start: {} (ps -eo pid,ppid,stat,comm | grep Z)",
            existing.len()
        );
        for zombie in existing.iter().take(5) {
            let parent = observe::comm(zombie.ppid).unwrap_or_else(|| "?".to_string());
            say!(
                lesson,
                "    {} {}, whose parent {} ({parent}) has not waited for it",
                zombie.pid,
                zombie.command,
                zombie.ppid
            );
        }
        lesson.figure("zombies_before", &existing);
    }
    let mut model = ProcessTable::new(true);
    model.add(pid_u32(me), pid_u32(getppid()))?;
    let mut pids = Vec::new();
    for i in 0..n_zombies {
        let code = 10 + i as i32;
        // Each child exits at once; the parent does not wait (yet).
        let pid = children::fork(move || code)?;
        model.fork(pid_u32(me), pid_u32(pid))?;
        model.exit(pid_u32(pid), code)?;
        pids.push(pid);
    }
    for &pid in &pids {
        wait_for_state(pid, Some('Z'), Duration::from_secs(5));
    }
    say!(
        lesson,
        "  {n_zombies} children have exited; this lesson has not called waitpid. The lecture's model predicts:"
    );
    for line in model.tree().iter().skip(1) {
        say!(lesson, "    {line}");
    }
    say!(lesson, "  and the process table says:");
    let listed = ps_table(lesson, me);
    let as_predicted = pids
        .iter()
        .filter(|pid| observe::snapshot(pid.as_raw()).map(|s| s.state) == model.letter(pid_u32(**pid)))
        .count();
    say!(
        lesson,
        "  <defunct>: no memory, no open files, no command line; only a PID and an exit status are left."
    );
    lesson.figure("zombies_shown_at_s", since_start().as_secs_f64());
    std::thread::sleep(hold);

    let victim = pids[0];
    signal::kill(victim, Signal::SIGKILL).context("kill -9")?;
    let killed = model.kill(pid_u32(victim))?;
    std::thread::sleep(Duration::from_millis(20));
    let after_kill = observe::snapshot(victim.as_raw()).map(|s| s.state);
    match after_kill {
        Some(letter) => say!(
            lesson,
            "  kill -9 {victim}: its state is still {letter}. It is already dead; a signal cannot end it again."
        ),
        None => say!(lesson, "  kill -9 {victim}: sent (the state cannot be read here)."),
    }
    if killed {
        bail!("the model thinks SIGKILL ended a zombie");
    }

    // Reap in the order the model's waitpid(-1) would: the lowest PID first.
    while let WaitOutcome::Reaped { pid, exit } = model.wait(pid_u32(me))? {
        let pid = Pid::from_raw(pid as i32);
        let status = children::wait(pid).context("waitpid")?;
        say!(
            lesson,
            "  waitpid({pid}) → {}  (predicted: {exit})",
            describe_status(&status)
        );
    }
    let left = observe::children_of(me.as_raw());
    match &left {
        Some(left) if left.is_empty() => say!(lesson, "  Children of this lesson now: none. Reaped means gone."),
        Some(left) => say!(lesson, "  Children of this lesson now: {}", left.len()),
        None => say!(lesson, "  (the process table cannot be read here)"),
    }
    lesson.figure("zombies_listed", &listed);
    lesson.figure("zombies_as_predicted", as_predicted);
    lesson.figure("state_after_kill_9", after_kill.map(String::from));
    lesson.figure("children_left", left.map(|l| l.len()));

    say!(lesson);
    adoption(lesson)?;

    say!(lesson);
    for line in [
        "Why the notebook needed `ps ux | grep ipykernel | ... | xargs kill -9`: each `Pool(processes=4)`",
        "it created and never closed left four worker processes idling after the cell ended, and closed",
        "notebooks left whole kernels running. Nobody was going to wait for them. (Its true zombies would",
        "have ignored the kill -9, as above: only the parent's wait, or the parent's exit, removes one.)",
        "Prevention: a parent that reaps (pool.close() and pool.join(), or `with Pool(...)`), or one that",
        "exits so that its children are adopted and reaped. This lesson records every child it starts and",
        "reaps it, also when you press Ctrl-C.",
    ] {
        say!(lesson, "  {line}");
    }
    lesson.notice("A zombie is an exit status waiting for its parent's waitpid; kill -9 cannot remove it. A parent that waits, or that exits and lets its children be adopted, leaves none.");
    Ok(())
}

/// A parent that exits without waiting: its zombie child is adopted and reaped by another.
#[cfg(target_os = "linux")]
fn adoption(lesson: &Lesson) -> anyhow::Result<()> {
    let me = getpid();
    let init = observe::comm(1).unwrap_or_else(|| "init".to_string());
    say!(
        lesson,
        "  A parent that exits instead of waiting: a child M forks a grandchild G, which exits; M exits too."
    );
    say!(
        lesson,
        "  Orphans go to the nearest ancestor marked 'child subreaper', else to PID 1 (here `{init}`). So that"
    );
    say!(
        lesson,
        "  we can watch the adoption and reap G ourselves, this lesson marks itself a subreaper meanwhile."
    );
    // For the few milliseconds of this demonstration, Ctrl-C is held back: while G changes
    // parents it is in nobody's list of children to clean up, and an interrupted lesson could
    // leave it to a PID 1 that may never reap it. A signal that arrives meanwhile stays pending
    // and is delivered when the mask is restored below, once M and G are both reaped. (M and G
    // start with this mask too, so they cannot die of a terminal's Ctrl-C halfway either.)
    let held = children::DeferInterrupts::new()?;
    nix::sys::prctl::set_child_subreaper(true).context("prctl(PR_SET_CHILD_SUBREAPER)")?;
    let mut middle: Option<Pid> = None;
    let mut grandchild: Option<Pid> = None;
    let result = adoption_steps(lesson, me, &mut middle, &mut grandchild);
    // Whatever happened, nothing is left for PID 1: M is killed and reaped, which hands G to us
    // (it has exited, or dies with M), and G is reaped.
    if let Some(middle) = middle {
        let _ = signal::kill(middle, Signal::SIGKILL);
        let _ = children::wait(middle);
    }
    if let Some(grandchild) = grandchild {
        let _ = children::register(grandchild);
        let _ = children::wait(grandchild);
    }
    let _ = nix::sys::prctl::set_child_subreaper(false);
    drop(held);
    result
}

#[cfg(target_os = "linux")]
fn adoption_steps(
    lesson: &Lesson,
    me: Pid,
    middle: &mut Option<Pid>,
    grandchild: &mut Option<Pid>,
) -> anyhow::Result<()> {
    let mut model = ProcessTable::new(true);
    model.add(pid_u32(me), pid_u32(getppid()))?;
    model.set_subreaper(pid_u32(me), true)?;
    let (m, link) = link::fork_linked(|end| {
        // M's own child G is recorded in M's copy of the table, which only M would use.
        match children::fork(|| 0) {
            Ok(g) => {
                end.reply_line(&g.to_string());
                // Wait for the word to exit, and exit without ever waiting for G.
                let _ = end.next_command();
                0
            }
            Err(_) => 1,
        }
    })?;
    *middle = Some(m);
    let g: i32 = link
        .receive_line(Duration::from_secs(5))?
        .trim()
        .parse()
        .context("the grandchild's PID")?;
    let g = Pid::from_raw(g);
    *grandchild = Some(g);
    model.fork(pid_u32(me), pid_u32(m))?;
    model.fork(pid_u32(m), pid_u32(g))?;
    model.exit(pid_u32(g), 0)?;
    let before = wait_for_state(g, Some('Z'), Duration::from_secs(5));
    let describe = |snapshot: &Option<observe::Snapshot>| match snapshot {
        Some(s) => format!("state {}, parent {}", s.state, s.ppid),
        None => "cannot be read here".to_string(),
    };
    say!(lesson, "    G {g}: {}  (its parent M is {m})", describe(&before));
    link.send(EXIT)?;
    model.exit(pid_u32(m), 0)?;
    let status = children::wait(m).context("waitpid")?;
    *middle = None;
    model.wait_for(pid_u32(me), pid_u32(m))?;
    say!(
        lesson,
        "    M {m} exited without waiting; we reaped it: {}",
        describe_status(&status)
    );
    let predicted_parent = model.get(pid_u32(g)).map(|p| p.parent);
    let adopted = wait_for_parent(g, me, Duration::from_secs(5));
    say!(
        lesson,
        "    G {g}: {}  (adopted by this lesson, {me})",
        describe(&adopted)
    );
    // G is our child now: tracked like any other until it is reaped.
    children::register(g)?;
    let status = children::wait(g).context("waitpid")?;
    *grandchild = None;
    let outcome = model.wait_for(pid_u32(me), pid_u32(g))?;
    let gone = observe::snapshot(g.as_raw()).is_none();
    say!(
        lesson,
        "    we reaped G: {}; /proc/{g} {}",
        describe_status(&status),
        if gone { "no longer exists" } else { "is still there" }
    );
    lesson.figure(
        "adoption",
        serde_json::json!({
            "grandchild_parent_before": before.as_ref().map(|s| s.ppid),
            "grandchild_parent_after": adopted.as_ref().map(|s| s.ppid),
            "grandchild_state_after": adopted.as_ref().map(|s| s.state.to_string()),
            "reaped": matches!(outcome, WaitOutcome::Reaped { .. }) && gone,
            "predicted_parent_after": predicted_parent,
        }),
    );
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn adoption(lesson: &Lesson) -> anyhow::Result<()> {
    say!(
        lesson,
        "  Adoption of orphans by a subreaper needs Linux's prctl: not shown on this platform."
    );
    Ok(())
}

/// Commands to the copy-on-write child.
const READ: u8 = b'r';
const WRITE: u8 = b'w';
const READY: u8 = b'!';

/// Section 5, first half: what fork shares (the pages) until they are written; the notice comes
/// at the end of the second half, [`fork_cost`].
fn copy_on_write(lesson: &Lesson, buffer_mib: usize, write_fraction: f64) -> anyhow::Result<()> {
    lesson.section("Fork, then load data; not vice versa");
    let page = observe::page_size() as usize;
    let size = buffer_mib << 20;
    let written = ((size as f64 * write_fraction) as usize) / page * page;
    lesson.param("write_fraction", write_fraction);
    say!(
        lesson,
        "  The parent fills a {} buffer, then forks. The child reads all of it, then writes {} of it ({}).",
        format::bytes(size as u64),
        format::percent(write_fraction),
        format::bytes(written as u64)
    );
    let mut buffer = filled_buffer(size, page);
    let parent_sum = checksum(&buffer);
    let me = getpid();
    let (pid, link) = link::fork_linked(|end| copy_on_write_child(&end, &mut buffer, written))?;
    let timeout = Duration::from_secs(60);
    if link.receive(timeout)? != READY {
        bail!("the copy-on-write child did not start");
    }
    let mut rows = vec![memory_moment("just forked", pid, me)];
    link.send(READ)?;
    let child_sum: u64 = link
        .receive_line(timeout)?
        .trim()
        .parse()
        .context("the child's checksum")?;
    rows.push(memory_moment("child read every byte", pid, me));
    link.send(WRITE)?;
    link.receive(timeout)?;
    rows.push(memory_moment(
        &format!("child wrote {}", format::bytes(written as u64)),
        pid,
        me,
    ));
    link.send(EXIT)?;
    let status = children::wait(pid).context("waitpid")?;
    drop(buffer);
    if child_sum != parent_sum {
        bail!("the child read a checksum of {child_sum}, the parent wrote {parent_sum}");
    }
    if status != WaitStatus::Exited(pid, 0) {
        bail!("the copy-on-write child ended with {status:?}");
    }
    if rows.iter().any(|row| row.child.is_none()) {
        say!(
            lesson,
            "  (memory figures cannot be read on this platform; the child's checksum agreed: {child_sum})"
        );
    } else {
        let mut table = Table::new(&[
            "  moment",
            "child RSS",
            "child shared",
            "child private",
            "child page faults",
            "parent private",
            "both, counted once",
        ]);
        for row in &rows {
            let (child, parent) = (row.child.unwrap_or_default(), row.parent.unwrap_or_default());
            table.row([
                format!("  {}", row.moment),
                format::bytes(child.rss),
                format::bytes(child.shared),
                format::bytes(child.private_dirty),
                format::count(row.child_faults.unwrap_or(0)),
                format::bytes(parent.private_dirty),
                format::bytes(child.pss + parent.pss),
            ]);
        }
        lesson.table(&table);
        let first = rows[0].child.unwrap_or_default();
        let last = rows[2].child.unwrap_or_default();
        let copied = last.private_dirty.saturating_sub(first.private_dirty);
        let faults = rows[2]
            .child_faults
            .unwrap_or(0)
            .saturating_sub(rows[1].child_faults.unwrap_or(0));
        say!(
            lesson,
            "  The child's checksum equals the parent's ({child_sum}): it sees the same data, without a copy."
        );
        say!(
            lesson,
            "  'parent private' grew too: the pages the child copied are no longer shared, so the originals"
        );
        say!(
            lesson,
            "  are now the parent's alone. 'Both, counted once' (PSS) grew by the copy, not by the buffer."
        );
        say!(
            lesson,
            "  Writing {} made {} private to the child ({} page faults, one per {} page copied).",
            format::bytes(written as u64),
            format::bytes(copied),
            format::count(faults),
            format::bytes(page as u64)
        );
        lesson.figure("predicted_copy_bytes", written);
        lesson.figure("measured_copy_bytes", copied);
        lesson.figure("copy_faults", faults);
    }
    lesson.figure("moments", &rows);
    lesson.figure("checksum", child_sum);
    say!(lesson);
    for line in [
        "Copy-on-write: after fork both processes map the same pages, read-only; the first write to a page",
        "by either one copies that page alone. Reading copies nothing. In Rust or C, data loaded before fork",
        "is shared for free as long as nobody writes it. In CPython every object carries a reference count",
        "that changes whenever the object is used, so a worker that only *reads* Python objects writes to",
        "their pages and copies them: each forked worker slowly grows a copy of the data. Hence the tip:",
        "fork the workers first, then let each load only the data it needs.",
    ] {
        say!(lesson, "  {line}");
    }
    Ok(())
}

/// Section 5, second half: the cost of fork itself as the parent's memory grows, and the
/// section's notice.
fn fork_cost(lesson: &Lesson, fork_mib: usize, samples: usize) -> anyhow::Result<()> {
    say!(lesson);
    say!(
        lesson,
        "  fork's own cost: the kernel copies the parent's page tables (not its pages). Timed {samples} times"
    );
    say!(
        lesson,
        "  per size, with the parent holding more and more written memory:"
    );
    let page = observe::page_size() as usize;
    let mut sizes = vec![0, fork_mib / 16, fork_mib / 4, fork_mib];
    sizes.dedup();
    let me = getpid();
    let mut measured = Vec::new();
    for &mib in &sizes {
        let ballast = filled_buffer(mib << 20, page);
        let page_tables = observe::status(me.as_raw()).and_then(|s| s.vm_page_tables);
        let mut fork_returns = Latencies::new();
        let mut fork_to_reaped = Latencies::new();
        for _ in 0..samples {
            fork_to_reaped.time(|| -> anyhow::Result<()> {
                let pid = fork_returns.time(|| children::fork(|| 0))?;
                children::wait(pid).context("waitpid")?;
                Ok(())
            })?;
        }
        std::hint::black_box(&ballast);
        drop(ballast);
        let label = match page_tables {
            Some(bytes) => format!(
                "{} held (page tables {})",
                format::bytes((mib as u64) << 20),
                format::bytes(bytes)
            ),
            None => format!("{} held", format::bytes((mib as u64) << 20)),
        };
        measured.push((label, mib, page_tables, fork_returns, fork_to_reaped));
    }
    let rows: Vec<(&str, &Latencies)> = measured
        .iter()
        .map(|(label, _, _, returns, _)| (label.as_str(), returns))
        .collect();
    say!(lesson, "  fork() returning in the parent:");
    lesson.latencies("fork_returns", &rows);
    let reaped_rows: Vec<(&str, &Latencies)> = measured
        .iter()
        .map(|(label, _, _, _, reaped)| (label.as_str(), reaped))
        .collect();
    say!(lesson, "  fork → the child exits → reaped by waitpid:");
    lesson.latencies("fork_to_reaped", &reaped_rows);
    let mut plot = Plot::new("MiB held by the parent", "ms (median)").size(48, 10);
    plot.series(
        "fork() returns",
        '*',
        measured
            .iter()
            .map(|(_, mib, _, returns, _)| (*mib as f64, returns.quantile(0.5).as_secs_f64() * 1e3))
            .collect(),
    );
    plot.series(
        "fork → reaped",
        'o',
        measured
            .iter()
            .map(|(_, mib, _, _, reaped)| (*mib as f64, reaped.quantile(0.5).as_secs_f64() * 1e3))
            .collect(),
    );
    lesson.plot(&plot);
    if let (Some(smallest), Some(largest)) = (measured.first(), measured.last()) {
        let growth = course::timing::ratio(largest.3.quantile(0.5), smallest.3.quantile(0.5));
        say!(
            lesson,
            "  With {} held, fork takes {} as long as with {} held.",
            format::bytes((largest.1 as u64) << 20),
            format::times(growth),
            format::bytes((smallest.1 as u64) << 20)
        );
        lesson.figure("fork_growth", growth);
    }
    lesson.figure(
        "page_tables",
        measured
            .iter()
            .map(|(_, mib, tables, ..)| serde_json::json!({ "held_mib": mib, "page_table_bytes": tables }))
            .collect::<Vec<_>>(),
    );
    say!(
        lesson,
        "  A pool forked after loading pays this for every worker, and each worker's own exit tears down"
    );
    say!(lesson, "  the copied tables again.");
    lesson.notice("After fork, memory is shared until written: the child's private memory grew by exactly what it wrote, one page fault per page. fork itself copies page tables, not pages, and costs more the more memory the parent holds: fork first, then load.");
    Ok(())
}

/// Section 6: why the course forks only while single-threaded, checked live.
fn fork_and_threads(lesson: &Lesson) -> anyhow::Result<()> {
    lesson.section("Fork only while single-threaded");
    for line in [
        "fork copies the whole memory but only the thread that called it. If another thread held a lock",
        "at that moment (inside malloc, say), the child's copy of that lock stays locked forever, and the",
        "child's first allocation hangs. So: fork while single-threaded, or exec at once after forking.",
    ] {
        say!(lesson, "  {line}");
    }
    let Some(before) = children::thread_count() else {
        say!(
            lesson,
            "  (this platform does not tell the number of threads: not demonstrated)"
        );
        lesson.notice("Fork only while the process has one thread.");
        return Ok(());
    };
    say!(lesson, "  Threads now: {before}.");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let waiter = std::thread::Builder::new()
        .name("waiter".to_string())
        .spawn(move || {
            let _ = released.recv();
        })
        .context("start a thread")?;
    let during = children::thread_count();
    // Every fork here goes through children::fork, which asks this same question first (and
    // gives a thread that was just joined two seconds to leave). The waiter is not leaving:
    // ask without waiting, and show the answer at once.
    let refusal = children::wait_until_single_threaded(Duration::ZERO)
        .err()
        .map(|error| error.to_string());
    match (&refusal, during) {
        (Some(message), Some(n)) => say!(lesson, "  With {n} threads, children::fork refuses: \"{message}\""),
        _ => lesson.warn("fork was not refused while another thread ran"),
    }
    drop(release);
    waiter
        .join()
        .map_err(|_| anyhow::anyhow!("the waiting thread panicked"))?;
    // join returns when the thread has finished; the kernel removes it a moment later.
    children::wait_until_single_threaded(Duration::from_secs(2))?;
    let after = children::thread_count();
    let pid = children::fork(|| 0)?;
    let status = children::wait(pid).context("waitpid")?;
    say!(
        lesson,
        "  After joining it: {} thread; fork works again ({}).",
        after.map_or("?".to_string(), |n| n.to_string()),
        describe_status(&status)
    );
    lesson.figure("threads_before", before);
    lesson.figure("threads_during", during);
    lesson.figure("fork_refused", refusal);
    lesson.figure("threads_after", after);
    lesson.notice("Every fork in this course first checks that the process has one thread; a thread that was joined is gone, and fork is safe again.");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The children's programs.

/// The watched child of section 3: computes until told otherwise, then blocks on the pipe,
/// sleeps on a timer or exits, as the parent commands.
fn watched_child(end: &link::ChildEnd, delay: Duration) -> i32 {
    let mut x = 0x9E37_79B9_7F4A_7C15_u64;
    loop {
        // Executing: compute, and look at the pipe between rounds without waiting on it.
        let command = loop {
            x = busy_round(x);
            if let Some(command) = end.try_command() {
                break command;
            }
        };
        match command {
            // Blocked: read() on an empty pipe puts the process to sleep until data arrives.
            Some(BLOCK) => {
                if end.next_command().is_none() {
                    return 1;
                }
            }
            // Delayed: asleep on a timer.
            Some(DELAY) => std::thread::sleep(delay),
            Some(EXIT) => {
                std::hint::black_box(x);
                return WATCHED_EXIT_CODE;
            }
            // The parent has gone (end of file) or sent nonsense.
            _ => return 1,
        }
    }
}

/// About a millisecond of arithmetic that the compiler cannot skip.
fn busy_round(mut x: u64) -> u64 {
    for _ in 0..200_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// The copy-on-write child of section 5: reads its (shared) buffer, then writes part of it.
fn copy_on_write_child(end: &link::ChildEnd, buffer: &mut [u8], written: usize) -> i32 {
    end.reply(READY);
    loop {
        match end.next_command() {
            Some(READ) => end.reply_line(&checksum(buffer).to_string()),
            Some(WRITE) => {
                buffer[..written].fill(0xEE);
                std::hint::black_box(&buffer);
                end.reply(READY);
            }
            Some(EXIT) => return 0,
            _ => return 1,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Buffers, memory readings and small conversions.

/// Memory of the child and of the parent at one moment of section 5.
#[derive(Debug, Serialize)]
struct MemoryMoment {
    moment: String,
    child: Option<observe::Rollup>,
    parent: Option<observe::Rollup>,
    child_faults: Option<u64>,
}

fn memory_moment(moment: &str, child: Pid, parent: Pid) -> MemoryMoment {
    MemoryMoment {
        moment: moment.to_string(),
        child: observe::rollup(child.as_raw()),
        parent: observe::rollup(parent.as_raw()),
        child_faults: observe::snapshot(child.as_raw()).map(|s| s.minor_faults),
    }
}

/// A buffer of `size` bytes with every page written (so all of it is resident), each page
/// holding a value that depends on its position.
fn filled_buffer(size: usize, page: usize) -> Vec<u8> {
    let mut buffer = vec![0u8; size];
    for (i, chunk) in buffer.chunks_mut(page.max(1)).enumerate() {
        chunk.fill((i % 251) as u8 + 1);
    }
    buffer
}

fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// Time since the lesson started (the first call starts the clock).
fn since_start() -> Duration {
    static STARTED: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    STARTED.get_or_init(Instant::now).elapsed()
}

fn pid_u32(pid: Pid) -> u32 {
    pid.as_raw().max(0) as u32
}

/// The program's name from a process table row: the file name of its first argument.
fn short_name(row: &observe::PsRow) -> String {
    let first = row.command.split_whitespace().next().unwrap_or(&row.command);
    first.rsplit('/').next().unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_buffers_sum_predictably() {
        let buffer = filled_buffer(3 * 4096, 4096);
        assert_eq!(checksum(&buffer), 4096 * (1 + 2 + 3));
        assert!(filled_buffer(0, 4096).is_empty());
    }

    #[test]
    fn names_come_from_the_first_argument() {
        let row = observe::PsRow {
            pid: 1,
            ppid: 0,
            state: 'S',
            command: "/usr/bin/cargo run -p x".to_string(),
        };
        assert_eq!(short_name(&row), "cargo");
    }
}
