//! Section 4: zombies on purpose, as the process table shows them; `kill -9` on one; reaping;
//! and a parent that exits instead of waiting, whose child is adopted and reaped by another.

use super::pid_u32;
use crate::child_programs::EXIT;
use crate::model::{ProcessTable, WaitOutcome};
use crate::watch::{describe_status, since_start, wait_for_state};
use crate::{Params, link, observe, tracked};
use anyhow::{Context, bail};
use course::children;
use course::table::Table;
use course::{Lesson, say};
use nix::sys::signal::{self, Signal};
use nix::unistd::{Pid, getpid, getppid};
use std::time::Duration;

/// Zombies already on the machine listed by name; past these, only counted.
const EXISTING_SHOWN: usize = 2;

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_zombies, hold) = (p.zombies, p.hold);
    let me = getpid();
    if let Some(existing) = observe::zombies() {
        say!(
            lesson,
            "  Zombies on this machine before we start: {} (ps -eo pid,ppid,stat,comm | grep Z)",
            existing.len()
        );
        for zombie in existing.iter().take(EXISTING_SHOWN) {
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
        let pid = tracked::fork(move || code)?;
        model.fork(pid_u32(me), pid_u32(pid))?;
        model.exit(pid_u32(pid), code)?;
        pids.push(pid);
    }
    for &pid in &pids {
        wait_for_state(pid, Some('Z'), Duration::from_secs(5));
    }
    say!(
        lesson,
        "  {n_zombies} children have exited; this lesson has not called waitpid. The process table, \
         and the state the lecture's model predicts:"
    );
    let listed = process_table(lesson, me, &model);
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
    lesson.reveal(
        format!("We send kill -9 to zombie {victim}. Will it go away?"),
        "No: it has already exited, and a signal has nothing left to end.",
    )?;
    signal::kill(victim, Signal::SIGKILL).context("kill -9")?;
    if model.kill(pid_u32(victim))? {
        bail!("the model thinks SIGKILL ended a zombie");
    }
    std::thread::sleep(Duration::from_millis(20));
    let after_kill = observe::snapshot(victim.as_raw()).map(|s| s.state);
    match after_kill {
        Some(letter) => say!(
            lesson,
            "  kill -9 {victim}: its state is still {letter}: a signal cannot end it again."
        ),
        None => say!(lesson, "  kill -9 {victim}: sent (the state cannot be read here)."),
    }
    // Reap in the order the model's waitpid(-1) would: the lowest PID first.
    while let WaitOutcome::Reaped { pid, exit } = model.wait(pid_u32(me))? {
        let status = tracked::reap(Pid::from_raw(pid as i32))?;
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
    adoption(lesson)?;
    say!(
        lesson,
        "  The notebook needed `ps ux | grep ipykernel | ... | xargs kill -9` because each \
         `Pool(processes=4)` it never closed left four workers that nobody would wait for. The cure \
         is a parent that reaps (`with Pool(...)`) or exits; this lesson reaps every child, also on \
         Ctrl-C."
    );
    lesson.notice(
        "A zombie is an exit status waiting for its parent's waitpid; kill -9 cannot remove it. A \
         parent that waits, or that exits and lets its children be adopted, leaves none.",
    );
    Ok(())
}

/// This process and its children, as `ps -o pid,ppid,stat,args` lists them, beside the state
/// the model predicts for each; returns the rows.
fn process_table(lesson: &Lesson, me: Pid, model: &ProcessTable) -> Vec<observe::PsRow> {
    let mut rows: Vec<observe::PsRow> = observe::ps_row(me.as_raw()).into_iter().collect();
    rows.extend(observe::children_of(me.as_raw()).unwrap_or_default());
    if rows.is_empty() {
        say!(
            lesson,
            "  (the process table cannot be read on this platform; try `ps -o pid,ppid,stat,args`)"
        );
        return rows;
    }
    let mut table = Table::new(&["    PID", "PPID", "STAT", "model", "COMMAND"]).left(4);
    for row in &rows {
        let predicted = model
            .letter(row.pid.max(0) as u32)
            .map_or("-".to_string(), String::from);
        table.row([
            format!("    {}", row.pid),
            row.ppid.to_string(),
            row.state.to_string(),
            predicted,
            row.command.chars().take(56).collect(),
        ]);
    }
    lesson.table(&table);
    rows
}

/// A parent that exits without waiting: its zombie child is adopted and reaped by another.
#[cfg(target_os = "linux")]
fn adoption(lesson: &Lesson) -> anyhow::Result<()> {
    let init = observe::comm(1).unwrap_or_else(|| "init".to_string());
    say!(
        lesson,
        "  A parent that exits instead of waiting: M forks G, G exits, M exits. Orphans go to the \
         nearest 'child subreaper', else to PID 1 (here `{init}`); this lesson is one meanwhile."
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
    let result = adoption_steps(lesson, &mut middle, &mut grandchild);
    // Whatever happened, nothing is left for PID 1: M is killed and reaped, which hands G to us
    // (it has exited, or dies with M), and G is reaped.
    if let Some(middle) = middle {
        let _ = signal::kill(middle, Signal::SIGKILL);
        let _ = tracked::reap(middle);
    }
    if let Some(grandchild) = grandchild {
        let _ = children::register(grandchild);
        let _ = tracked::reap(grandchild);
    }
    let _ = nix::sys::prctl::set_child_subreaper(false);
    drop(held);
    result
}

#[cfg(target_os = "linux")]
fn adoption_steps(lesson: &Lesson, middle: &mut Option<Pid>, grandchild: &mut Option<Pid>) -> anyhow::Result<()> {
    let me = getpid();
    let mut model = ProcessTable::new(true);
    model.add(pid_u32(me), pid_u32(getppid()))?;
    model.set_subreaper(pid_u32(me), true)?;
    let (m, link) = link::fork_linked(|end| {
        // M's own child G is recorded in M's copy of the table, which only M would use.
        match tracked::fork(|| 0) {
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
    let status = tracked::reap(m)?;
    *middle = None;
    model.wait_for(pid_u32(me), pid_u32(m))?;
    say!(
        lesson,
        "    M {m} exited without waiting; we reaped it: {}",
        describe_status(&status)
    );
    let predicted_parent = model.get(pid_u32(g)).map(|p| p.parent);
    let adopted = crate::watch::wait_for_parent(g, me, Duration::from_secs(5));
    say!(
        lesson,
        "    G {g}: {}  (adopted by this lesson, {me})",
        describe(&adopted)
    );
    // G is our child now: recorded like any other until it is reaped.
    children::register(g)?;
    let status = tracked::reap(g)?;
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
