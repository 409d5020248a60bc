//! A model of the kernel's process table: what `fork`, `exit`, `wait`, SIGSTOP, SIGCONT and
//! SIGKILL do to each process's state and to who its parent is.
//!
//! It is deterministic and knows nothing about the real system, so the lesson uses it to
//! *predict* what the kernel will report and then checks the prediction against `/proc`, and a
//! quiz can give a scripted sequence of operations and ask for the resulting tree and states.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The process every orphan is given to when no closer ancestor volunteers.
pub const INIT: u32 = 1;

/// What a process is doing, in the lecture's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum State {
    /// Ready or executing: on a core, or runnable and waiting for one.
    Running,
    /// Blocked: waiting for an event, such as input on a pipe.
    Blocked,
    /// Delayed: waiting for a timer to expire.
    Delayed,
    /// Suspended: stopped by a signal (SIGSTOP) until SIGCONT.
    Suspended,
    /// Exited (or killed), but its parent has not collected the exit status yet.
    Zombie,
}

impl State {
    /// The letter `ps` and `/proc/<pid>/stat` show for this state.
    pub fn letter(self) -> char {
        match self {
            State::Running => 'R',
            // The kernel uses one letter, S ("interruptible sleep"), for both kinds of waiting;
            // only where it sleeps (`/proc/<pid>/wchan`) tells them apart.
            State::Blocked | State::Delayed => 'S',
            State::Suspended => 'T',
            State::Zombie => 'Z',
        }
    }

    pub fn lecture_name(self) -> &'static str {
        match self {
            State::Running => "ready/executing",
            State::Blocked => "blocked",
            State::Delayed => "delayed",
            State::Suspended => "suspended",
            State::Zombie => "zombie",
        }
    }
}

/// The lecture's name for a state letter the kernel reports.
pub fn lecture_name_of(letter: char) -> &'static str {
    match letter {
        'R' => "ready/executing",
        'S' => "blocked or delayed (waiting)",
        'D' => "blocked (uninterruptible, usually disk)",
        'T' => "suspended (stopped)",
        't' => "suspended (stopped by a debugger)",
        'Z' => "zombie (exited, not reaped)",
        'X' => "dead (being removed)",
        'I' => "idle kernel thread",
        _ => "other",
    }
}

/// How a process ended, as its parent's `wait` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Exit {
    /// It called `exit(code)`.
    Code(i32),
    /// A signal ended it (9 for SIGKILL).
    Killed(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exited with status {code}"),
            Exit::Killed(signal) => write!(f, "killed by signal {signal}"),
        }
    }
}

/// One entry of the model's process table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Process {
    pub pid: u32,
    pub parent: u32,
    pub state: State,
    /// How it ended, once it is a zombie.
    pub exit: Option<Exit>,
}

/// What `wait` in a parent finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum WaitOutcome {
    /// A zombie child was reaped: its entry is gone and its exit status returned.
    Reaped { pid: u32, exit: Exit },
    /// Children exist but none has exited: a blocking `wait` would sleep until one does.
    WouldBlock,
    /// No such child (`ECHILD`).
    NoChild,
}

/// An operation the model refuses, as the kernel would.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelError {
    NoSuchProcess(u32),
    PidInUse(u32),
    /// The operation needs a live process, and this one has exited.
    Exited(u32),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelError::NoSuchProcess(pid) => write!(f, "no process {pid}"),
            ModelError::PidInUse(pid) => write!(f, "pid {pid} is already in use"),
            ModelError::Exited(pid) => write!(f, "process {pid} has already exited"),
        }
    }
}

impl std::error::Error for ModelError {}

/// The process table. PIDs are given by the caller (the real ones, or a quiz's invented ones).
#[derive(Clone, Debug)]
pub struct ProcessTable {
    processes: BTreeMap<u32, Process>,
    subreapers: BTreeSet<u32>,
    init_reaps: bool,
}

impl ProcessTable {
    /// A table holding only `init` (PID 1). `init_reaps`: whether PID 1 reaps the zombies it
    /// adopts at once, as a proper init does. (Some containers run a PID 1 that never does.)
    pub fn new(init_reaps: bool) -> Self {
        let mut processes = BTreeMap::new();
        processes.insert(
            INIT,
            Process {
                pid: INIT,
                parent: 0,
                state: State::Running,
                exit: None,
            },
        );
        ProcessTable {
            processes,
            subreapers: BTreeSet::new(),
            init_reaps,
        }
    }

    /// Adds a running process that already exists (this lesson, under its real parent). A
    /// parent the table does not know is recorded as is.
    pub fn add(&mut self, pid: u32, parent: u32) -> Result<(), ModelError> {
        if self.processes.contains_key(&pid) {
            return Err(ModelError::PidInUse(pid));
        }
        self.processes.insert(
            pid,
            Process {
                pid,
                parent,
                state: State::Running,
                exit: None,
            },
        );
        Ok(())
    }

    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.processes.get(&pid)
    }

    /// The state letter `ps` would show, or `None` once the process is gone.
    pub fn letter(&self, pid: u32) -> Option<char> {
        self.get(pid).map(|p| p.state.letter())
    }

    pub fn children(&self, parent: u32) -> Vec<&Process> {
        self.processes.values().filter(|p| p.parent == parent).collect()
    }

    /// Marks `pid` as a child subreaper (`prctl(PR_SET_CHILD_SUBREAPER)`): orphans among its
    /// descendants are given to it rather than to PID 1.
    pub fn set_subreaper(&mut self, pid: u32, on: bool) -> Result<(), ModelError> {
        self.live(pid)?;
        if on {
            self.subreapers.insert(pid);
        } else {
            self.subreapers.remove(&pid);
        }
        Ok(())
    }

    /// `parent` forks: `child` starts running, as a copy of its parent.
    pub fn fork(&mut self, parent: u32, child: u32) -> Result<(), ModelError> {
        self.live(parent)?;
        if self.processes.contains_key(&child) {
            return Err(ModelError::PidInUse(child));
        }
        self.processes.insert(
            child,
            Process {
                pid: child,
                parent,
                state: State::Running,
                exit: None,
            },
        );
        Ok(())
    }

    /// `pid` calls `exit(code)`.
    pub fn exit(&mut self, pid: u32, code: i32) -> Result<(), ModelError> {
        self.live(pid)?;
        self.end(pid, Exit::Code(code));
        Ok(())
    }

    /// SIGKILL to `pid`. Returns false when there was nothing to kill: a zombie is already
    /// dead, and the signal changes nothing (only its parent's `wait` removes it).
    pub fn kill(&mut self, pid: u32) -> Result<bool, ModelError> {
        let process = self.get(pid).ok_or(ModelError::NoSuchProcess(pid))?;
        if process.state == State::Zombie {
            return Ok(false);
        }
        // SIGKILL cannot be caught or ignored, and it ends a stopped process too.
        self.end(pid, Exit::Killed(9));
        Ok(true)
    }

    /// SIGSTOP: a live process is suspended wherever it was.
    pub fn stop(&mut self, pid: u32) -> Result<(), ModelError> {
        self.set_live_state(pid, State::Suspended)
    }

    /// SIGCONT: a suspended process runs again (a waiting one would wait again; the model
    /// keeps it simple and says it runs).
    pub fn cont(&mut self, pid: u32) -> Result<(), ModelError> {
        self.set_live_state(pid, State::Running)
    }

    /// The process starts waiting for an event (a read from an empty pipe).
    pub fn block(&mut self, pid: u32) -> Result<(), ModelError> {
        self.set_live_state(pid, State::Blocked)
    }

    /// The process starts waiting for a timer (`sleep`).
    pub fn delay(&mut self, pid: u32) -> Result<(), ModelError> {
        self.set_live_state(pid, State::Delayed)
    }

    /// The event or timer it waited for arrived.
    pub fn wake(&mut self, pid: u32) -> Result<(), ModelError> {
        self.set_live_state(pid, State::Running)
    }

    /// `waitpid(-1)` in `parent`: reaps its zombie child with the lowest PID, if any.
    pub fn wait(&mut self, parent: u32) -> Result<WaitOutcome, ModelError> {
        self.live(parent)?;
        let children = self.children(parent);
        if children.is_empty() {
            return Ok(WaitOutcome::NoChild);
        }
        match children.iter().find(|p| p.state == State::Zombie) {
            Some(zombie) => {
                let pid = zombie.pid;
                Ok(self.reap(pid))
            }
            None => Ok(WaitOutcome::WouldBlock),
        }
    }

    /// `waitpid(child)` in `parent`.
    pub fn wait_for(&mut self, parent: u32, child: u32) -> Result<WaitOutcome, ModelError> {
        self.live(parent)?;
        match self.get(child) {
            Some(p) if p.parent == parent && p.state == State::Zombie => Ok(self.reap(child)),
            Some(p) if p.parent == parent => Ok(WaitOutcome::WouldBlock),
            _ => Ok(WaitOutcome::NoChild),
        }
    }

    /// The table as an indented tree from PID 1: `pid state (exit)` per line (for the tests'
    /// messages: the lesson shows the model's letters beside the kernel's instead).
    #[cfg(test)]
    pub fn tree(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let roots: Vec<u32> = self
            .processes
            .values()
            .filter(|p| !self.processes.contains_key(&p.parent))
            .map(|p| p.pid)
            .collect();
        for root in roots {
            self.draw(root, 0, &mut lines);
        }
        lines
    }

    #[cfg(test)]
    fn draw(&self, pid: u32, depth: usize, lines: &mut Vec<String>) {
        if let Some(p) = self.get(pid) {
            let exit = p.exit.map(|e| format!(" ({e})")).unwrap_or_default();
            let indent = if depth == 0 {
                String::new()
            } else {
                format!("{}└─ ", "   ".repeat(depth - 1))
            };
            lines.push(format!("{indent}{pid} {}{exit}", p.state.letter()));
            for child in self.children(pid) {
                self.draw(child.pid, depth + 1, lines);
            }
        }
    }

    fn live(&self, pid: u32) -> Result<&Process, ModelError> {
        match self.get(pid) {
            None => Err(ModelError::NoSuchProcess(pid)),
            Some(p) if p.state == State::Zombie => Err(ModelError::Exited(pid)),
            Some(p) => Ok(p),
        }
    }

    fn set_live_state(&mut self, pid: u32, state: State) -> Result<(), ModelError> {
        self.live(pid)?;
        if let Some(p) = self.processes.get_mut(&pid) {
            p.state = state;
        }
        Ok(())
    }

    /// The process ends: it becomes a zombie holding its exit status, and its children are
    /// given to the nearest subreaper among its ancestors, or to PID 1.
    fn end(&mut self, pid: u32, exit: Exit) {
        if let Some(p) = self.processes.get_mut(&pid) {
            p.state = State::Zombie;
            p.exit = Some(exit);
        }
        self.subreapers.remove(&pid);
        let adopter = self.adopter_for(pid);
        let orphans: Vec<u32> = self.children(pid).iter().map(|p| p.pid).collect();
        for orphan in orphans {
            if let Some(p) = self.processes.get_mut(&orphan) {
                p.parent = adopter;
            }
        }
        if self.init_reaps {
            // A proper init waits for every child it has, as soon as it has one to wait for.
            let to_reap: Vec<u32> = self
                .children(INIT)
                .iter()
                .filter(|p| p.state == State::Zombie)
                .map(|p| p.pid)
                .collect();
            for zombie in to_reap {
                self.reap(zombie);
            }
        }
    }

    fn adopter_for(&self, pid: u32) -> u32 {
        let mut ancestor = self.get(pid).map_or(INIT, |p| p.parent);
        // Walk up: the first live subreaper wins (a chain can't be longer than the table).
        for _ in 0..self.processes.len() {
            if ancestor == INIT || ancestor == 0 {
                break;
            }
            if self.subreapers.contains(&ancestor) {
                return ancestor;
            }
            ancestor = self.get(ancestor).map_or(INIT, |p| p.parent);
        }
        INIT
    }

    fn reap(&mut self, pid: u32) -> WaitOutcome {
        match self.processes.remove(&pid) {
            Some(Process { exit: Some(exit), .. }) => WaitOutcome::Reaped { pid, exit },
            Some(_) | None => WaitOutcome::NoChild,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_fork_exit_wait() {
        let mut table = ProcessTable::new(true);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        assert_eq!(table.letter(101), Some('R'));
        assert_eq!(table.wait(100).unwrap(), WaitOutcome::WouldBlock);
        table.exit(101, 7).unwrap();
        assert_eq!(table.letter(101), Some('Z'));
        assert_eq!(
            table.wait(100).unwrap(),
            WaitOutcome::Reaped {
                pid: 101,
                exit: Exit::Code(7)
            }
        );
        assert_eq!(table.letter(101), None);
        assert_eq!(table.wait(100).unwrap(), WaitOutcome::NoChild);
    }

    #[test]
    fn states_follow_signals_and_waits() {
        let mut table = ProcessTable::new(true);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        let mut letters = Vec::new();
        table.block(101).unwrap();
        letters.push(table.get(101).unwrap().state);
        table.wake(101).unwrap();
        table.delay(101).unwrap();
        letters.push(table.get(101).unwrap().state);
        table.stop(101).unwrap();
        letters.push(table.get(101).unwrap().state);
        table.cont(101).unwrap();
        letters.push(table.get(101).unwrap().state);
        let letters: String = letters.iter().map(|s| s.letter()).collect();
        assert_eq!(letters, "SSTR");
        assert_eq!(State::Blocked.lecture_name(), "blocked");
        assert_eq!(State::Delayed.lecture_name(), "delayed");
    }

    #[test]
    fn a_zombie_cannot_be_killed_only_reaped() {
        let mut table = ProcessTable::new(true);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        table.exit(101, 0).unwrap();
        assert_eq!(table.kill(101), Ok(false));
        assert_eq!(table.letter(101), Some('Z'));
        assert_eq!(table.stop(101), Err(ModelError::Exited(101)));
        // A stopped process is ended by SIGKILL.
        table.fork(100, 102).unwrap();
        table.stop(102).unwrap();
        assert_eq!(table.kill(102), Ok(true));
        assert_eq!(table.get(102).unwrap().exit, Some(Exit::Killed(9)));
    }

    #[test]
    fn orphans_go_to_init_or_to_the_nearest_subreaper() {
        // A proper init reaps the zombie it adopts at once.
        let mut table = ProcessTable::new(true);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        table.fork(101, 102).unwrap();
        table.exit(102, 0).unwrap();
        assert_eq!(table.get(102).unwrap().parent, 101);
        table.exit(101, 0).unwrap();
        assert_eq!(table.letter(102), None, "{:?}", table.tree());

        // An init that never waits keeps it forever.
        let mut table = ProcessTable::new(false);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        table.fork(101, 102).unwrap();
        table.exit(102, 0).unwrap();
        table.exit(101, 0).unwrap();
        assert_eq!(table.get(102).unwrap().parent, INIT);
        assert_eq!(table.letter(102), Some('Z'));

        // A subreaper grandparent adopts it, and can reap it.
        let mut table = ProcessTable::new(false);
        table.add(100, INIT).unwrap();
        table.set_subreaper(100, true).unwrap();
        table.fork(100, 101).unwrap();
        table.fork(101, 102).unwrap();
        table.exit(102, 3).unwrap();
        table.exit(101, 0).unwrap();
        assert_eq!(table.get(102).unwrap().parent, 100);
        assert_eq!(
            table.wait_for(100, 101).unwrap(),
            WaitOutcome::Reaped {
                pid: 101,
                exit: Exit::Code(0)
            }
        );
        assert_eq!(
            table.wait_for(100, 102).unwrap(),
            WaitOutcome::Reaped {
                pid: 102,
                exit: Exit::Code(3)
            }
        );
        assert!(table.children(100).is_empty());
    }

    #[test]
    fn errors_name_the_problem() {
        let mut table = ProcessTable::new(true);
        assert_eq!(table.fork(5, 6), Err(ModelError::NoSuchProcess(5)));
        table.add(5, INIT).unwrap();
        assert_eq!(table.fork(5, 5), Err(ModelError::PidInUse(5)));
        assert_eq!(ModelError::Exited(9).to_string(), "process 9 has already exited");
    }

    #[test]
    fn tree_draws_parents_above_children() {
        let mut table = ProcessTable::new(true);
        table.add(100, INIT).unwrap();
        table.fork(100, 101).unwrap();
        table.exit(101, 7).unwrap();
        assert_eq!(
            table.tree(),
            vec!["1 R", "└─ 100 R", "   └─ 101 Z (exited with status 7)"]
        );
    }

    #[test]
    fn letters_map_to_the_lecture() {
        assert_eq!(lecture_name_of('T'), "suspended (stopped)");
        assert_eq!(lecture_name_of('R'), "ready/executing");
        assert!(lecture_name_of('Z').starts_with("zombie"));
    }
}
