//! Section 3: one child driven through every state, and what the kernel reports at each step,
//! against what the lecture's model of the process table predicts.

use super::pid_u32;
use crate::child_programs::{BLOCK, DELAY, EXIT, RESUME, WATCHED_EXIT_CODE, watched_child};
use crate::model::{Exit, ProcessTable, WaitOutcome};
use crate::watch::{Watch, describe_status, wait_for_change};
use crate::{Params, link, tracked};
use anyhow::{Context, bail};
use course::timing::format;
use course::{Lesson, say};
use nix::sys::signal::{self, Signal};
use nix::sys::wait::{WaitPidFlag, WaitStatus};
use nix::unistd::{getpid, getppid};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let hold = p.hold;
    let me = getpid();
    let mut model = ProcessTable::new(true);
    model.add(pid_u32(me), pid_u32(getppid()))?;
    say!(
        lesson,
        "  The parent drives the child and reads /proc/<pid>/stat after each step; each state is held \
         {}. 'ran' and 'waited': the child's time on a core and waiting for one, so far.",
        format::duration(hold)
    );
    say!(
        lesson,
        "  (Run with --hold 10000 and type `ps -o pid,stat,wchan:20,time,cmd --ppid {me}` elsewhere.)"
    );
    let mut watch = Watch::new(lesson, hold);
    let (pid, link) = link::fork_linked(|end| watched_child(&end, hold))?;
    watch.pid = pid;
    let child = pid_u32(pid);
    model.fork(pid_u32(me), child)?;
    watch.header();

    watch.step("forked: computes in a loop", model.get(child), true);
    lesson.reveal(
        "Next the child reads from a pipe that holds nothing yet. Which letter will ps show?",
        "S: asleep until data arrives (the lecture's 'blocked'); a read never spins.",
    )?;
    link.send(BLOCK)?;
    model.block(child)?;
    watch.step("reads from an empty pipe", model.get(child), true);
    link.send(RESUME)?;
    model.wake(child)?;
    watch.step("data arrived: computes again", model.get(child), true);
    link.send(DELAY)?;
    model.delay(child)?;
    watch.step(&format!("sleep({})", format::duration(hold)), model.get(child), false);
    model.wake(child)?;
    watch.step("timer expired: computes again", model.get(child), true);

    signal::kill(pid, Signal::SIGSTOP).context("SIGSTOP")?;
    model.stop(child)?;
    // WUNTRACED: the parent also hears about a child that stopped, not only one that ended.
    let stopped = wait_for_change(pid, WaitPidFlag::WUNTRACED)?;
    watch.step(
        &format!("kill -STOP (waitpid: {})", in_a_word(&stopped)),
        model.get(child),
        true,
    );
    signal::kill(pid, Signal::SIGCONT).context("SIGCONT")?;
    model.cont(child)?;
    let continued = wait_for_change(pid, WaitPidFlag::WCONTINUED)?;
    watch.step(
        &format!("kill -CONT (waitpid: {})", in_a_word(&continued)),
        model.get(child),
        true,
    );

    link.send(EXIT)?;
    model.exit(child, WATCHED_EXIT_CODE)?;
    watch.step(
        &format!("exit({WATCHED_EXIT_CODE}); parent not waiting yet"),
        model.get(child),
        true,
    );
    let status = tracked::reap(pid)?;
    let outcome = model.wait_for(pid_u32(me), child)?;
    watch.step(
        &format!("waitpid → {}", describe_status(&status)),
        model.get(child),
        false,
    );
    let expected = WaitOutcome::Reaped {
        pid: child,
        exit: Exit::Code(WATCHED_EXIT_CODE),
    };
    if outcome != expected || status != WaitStatus::Exited(pid, WATCHED_EXIT_CODE) {
        bail!("the watched child ended unexpectedly: {}", describe_status(&status));
    }
    for line in [
        "R  ready/executing: on a core ('ran' grows) or ready and waiting for one ('waited' grows).",
        "S  blocked or delayed: asleep until something happens; 'waits in' says what (a pipe, a timer).",
        "T  suspended: stopped by SIGSTOP (or Ctrl-Z) until SIGCONT; 'ran' stands still.",
        "Z  zombie: exited; only its exit status is left, kept for the parent's waitpid.",
    ] {
        say!(lesson, "  {line}");
    }
    let agreed = watch.rows.iter().filter(|row| row.as_predicted).count();
    lesson.checked(
        agreed == watch.rows.len(),
        format!(
            "The kernel agreed with the lecture's model at {agreed} of {} steps.",
            watch.rows.len()
        ),
    );
    lesson.figure("steps", &watch.rows);
    lesson.figure("steps_as_predicted", agreed);
    lesson.notice(
        "The letter follows what the parent does to the child; the time it ran grows only while the \
         letter is R. S hides two of the lecture's states: where it sleeps tells blocked from delayed.",
    );
    Ok(())
}

/// What waitpid reported, in a word where one will do (the table's column is narrow).
fn in_a_word(status: &WaitStatus) -> String {
    match status {
        WaitStatus::Stopped(..) => "stopped".to_string(),
        WaitStatus::Continued(_) => "continued".to_string(),
        other => describe_status(other),
    }
}
