//! Section 2: the lecture's lifecycle, fork → exec → exit → reaped by the parent, each phase
//! timestamped by the process it happens in.

use crate::watch::show_signals;
use crate::{Params, link, observe, processes, tracked};
use anyhow::bail;
use course::children;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use nix::sys::wait::WaitStatus;
use nix::unistd::{getpid, getppid};
use std::time::{Duration, Instant};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let exit_code = p.exit_code;
    say!(
        lesson,
        "  This process has {} thread: fork is safe now (every fork here checks; section 6 shows why).",
        children::thread_count().map_or("an unknown number of".to_string(), |n| n.to_string())
    );
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
    let pid = tracked::fork(|| {
        let report = report_write.take();
        let born = start.elapsed();
        let (child, parent) = (getpid(), getppid());
        let program = observe::comm(child.as_raw()).unwrap_or_else(|| "this lesson".to_string());
        let truncated = match &executable {
            Some(full) if full != &program && full.starts_with(&program) => {
                format!(" (the kernel cuts `{full}` to 15 characters)")
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
        // On success this does not return: this program is gone, replaced by /bin/sh.
        let error = processes::exec_shell_exiting_with(exit_code);
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
    let status = tracked::reap(pid)?;
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
    let now_runs = program_after
        .as_ref()
        .map(|program| format!(": {pid} now runs `{program}`"))
        .unwrap_or_default();
    say!(
        lesson,
        "  {:>9}  parent {me}: the pipe closed, so exec succeeded{now_runs}",
        format::duration(exec_done)
    );
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
    let mut phases = vec![
        (Duration::ZERO, "parent", "fork() called".to_string()),
        (born, "child", "first instruction in the child".to_string()),
        (fork_returned, "parent", "fork() returned".to_string()),
        (exec_called, "child", "execv() called".to_string()),
        (exec_done, "parent", "exec done: the program is sh".to_string()),
        (reaped, "parent", format!("waitpid returned: exit status {code}")),
    ];
    phases.sort_by_key(|(at, ..)| *at);
    for (at, who, what) in &phases {
        timeline.row([format!("  {}", format::duration(*at)), who.to_string(), what.clone()]);
    }
    say!(
        lesson,
        "  The same phases in time order (the two processes' lines above may interleave):"
    );
    lesson.table(&timeline);
    lesson.figure(
        "timeline",
        phases
            .iter()
            .map(|(at, who, what)| serde_json::json!({ "at_s": at.as_secs_f64(), "process": who, "phase": what }))
            .collect::<Vec<_>>(),
    );
    lesson.figure("exit_status", code);
    lesson.figure("program_after_exec", &program_after);
    lesson.reveal(
        format!("After exec, is {pid} still the same process?"),
        format!("The same PID, the same parent ({me}): one process, running another program."),
    )?;
    if let Some(status) = observe::status(me.as_raw()) {
        say!(
            lesson,
            "  The first fork also installed the lesson's clean-up handler (Ctrl-C kills and reaps every child):"
        );
        show_signals(lesson, &status);
    }
    lesson.notice(
        "fork makes a copy with a new PID; exec keeps that PID and replaces the program; exit leaves \
         a status; the parent's waitpid collects it and frees the PID.",
    );
    Ok(())
}
