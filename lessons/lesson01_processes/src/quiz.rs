//! The lesson's quiz (`--quiz --seed S`): the process tree and the states after a scripted
//! sequence of fork / exit / wait / kill -9. The seed draws the PIDs, the exit statuses and the
//! order of the steps; the student plays the script by hand and predicts what each `waitpid`
//! returns, each process's state and parent at the end (running, zombie or gone; adopted by
//! init or by a subreaper), and which processes are left as zombies. Every answer is read from
//! the lesson's own process-table model (`model::ProcessTable`), the one sections 3 and 4 check
//! against the kernel, so the quiz and the lesson can never disagree.
//!
//! The numbers come only from the `Rng` handed in, in a fixed order: changing what is drawn,
//! or in which order, changes every seed's problem, which `tests/quiz.rs` would catch.

use crate::model::{Exit, INIT, ModelError, ProcessTable, State, WaitOutcome};
use course::quiz::{Question, Quiz};
use workloads::Rng;

/// The whole quiz for one seed: zombies and waits; orphans adopted by init; orphans adopted by
/// a subreaper; a PID 1 that never waits, and kill -9.
pub fn make(rng: &mut Rng) -> Quiz {
    let mut quiz = Quiz::new();
    zombies_and_waits(&mut quiz, rng);
    orphans_adopted_by_init(&mut quiz, rng);
    orphans_adopted_by_a_subreaper(&mut quiz, rng);
    a_pid_1_that_never_waits(&mut quiz, rng);
    quiz
}

/// One step of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Fork {
        parent: u32,
        child: u32,
    },
    Exit {
        pid: u32,
        code: i32,
    },
    Kill {
        pid: u32,
    },
    /// `waitpid(-1, WNOHANG)` in `parent`.
    WaitAny {
        parent: u32,
    },
    /// `waitpid(child, WNOHANG)` in `parent`.
    WaitFor {
        parent: u32,
        child: u32,
    },
}

impl Step {
    fn describe(self) -> String {
        match self {
            Step::Fork { parent, child } => format!("{parent} forks; the child is {child}"),
            Step::Exit { pid, code } => format!("{pid} calls exit({code})"),
            Step::Kill { pid } => format!("kill -9 {pid}"),
            Step::WaitAny { parent } => format!("{parent} calls waitpid(-1, WNOHANG)"),
            Step::WaitFor { parent, child } => format!("{parent} calls waitpid({child}, WNOHANG)"),
        }
    }
}

/// A PID to start from: a round number, so that the children's PIDs read easily.
fn first_pid(rng: &mut Rng) -> u32 {
    10 * rng.between(10, 99) as u32
}

fn exit_code(rng: &mut Rng) -> i32 {
    rng.between(1, 9) as i32
}

/// Q1: one parent, three children; two of them exit; waits before and after.
fn zombies_and_waits(quiz: &mut Quiz, rng: &mut Rng) {
    let root = first_pid(rng);
    let children = [root + 1, root + 2, root + 3];
    let mut exiting = children;
    rng.shuffle(&mut exiting);
    let first_code = exit_code(rng);
    let second_code = exit_code(rng);
    let waited_for = *rng.pick(&children).expect("three children");
    let mut events = vec![
        Step::Exit {
            pid: exiting[0],
            code: first_code,
        },
        Step::Exit {
            pid: exiting[1],
            code: second_code,
        },
        Step::WaitAny { parent: root },
        Step::WaitAny { parent: root },
        Step::WaitFor {
            parent: root,
            child: waited_for,
        },
    ];
    rng.shuffle(&mut events);
    let mut steps: Vec<Step> = children
        .iter()
        .map(|&child| Step::Fork { parent: root, child })
        .collect();
    steps.extend(events);
    let script = play(root, &steps, Rules::default());

    let question = quiz.question(format!(
        "Process {root}, a child of init (PID 1), runs the script below, one step at a time. The rules:"
    ));
    for line in [
        "fork makes a new running process, a child of the process that forked. exit(n) makes the",
        "process a zombie, which keeps its exit status n until its parent waits for it.",
        "waitpid(-1, WNOHANG) never sleeps: it reaps the caller's zombie child with the lowest PID",
        "(which is then gone) and returns that PID; it returns 0 when the caller has children but",
        "none has exited, and fails with ECHILD when it has no children at all. waitpid(P, WNOHANG)",
        "does the same for the child P alone (ECHILD when P is not, or no longer, the caller's child).",
    ] {
        question.line(line);
    }
    script_lines(question, &script);
    ask_everything(question, &script);
}

/// Q2: three generations; the middle one exits, and init adopts (and reaps) its children.
fn orphans_adopted_by_init(quiz: &mut Quiz, rng: &mut Rng) {
    let root = first_pid(rng);
    let (middle, first_grandchild, second_grandchild) = (root + 1, root + 2, root + 3);
    let middle_code = exit_code(rng);
    let first_code = exit_code(rng);
    let second_code = exit_code(rng);
    let second_exits = rng.below(2) == 0;
    let mut events = vec![
        Step::Exit {
            pid: first_grandchild,
            code: first_code,
        },
        Step::Exit {
            pid: middle,
            code: middle_code,
        },
        Step::WaitAny { parent: root },
        Step::WaitAny { parent: root },
    ];
    if second_exits {
        events.push(Step::Exit {
            pid: second_grandchild,
            code: second_code,
        });
    }
    rng.shuffle(&mut events);
    let mut steps = vec![
        Step::Fork {
            parent: root,
            child: middle,
        },
        Step::Fork {
            parent: middle,
            child: first_grandchild,
        },
        Step::Fork {
            parent: middle,
            child: second_grandchild,
        },
    ];
    steps.extend(events);
    let script = play(root, &steps, Rules::default());

    let question = quiz.question(format!(
        "Process {root} runs this script, under the rules of Q1 and one more: when a process exits,"
    ));
    for line in [
        "its children, running or zombie, are orphans: init (PID 1) adopts them. Init waits for",
        "every child it has, so it reaps a zombie the moment it has one.",
    ] {
        question.line(line);
    }
    script_lines(question, &script);
    ask_everything(question, &script);
}

/// Q3: four generations under a subreaper: orphans go to it, and it reaps them only by waiting.
fn orphans_adopted_by_a_subreaper(quiz: &mut Quiz, rng: &mut Rng) {
    let root = first_pid(rng);
    let (child, grandchild, great_grandchild) = (root + 1, root + 2, root + 3);
    let codes = [exit_code(rng), exit_code(rng), exit_code(rng)];
    let mut events = vec![
        Step::Exit {
            pid: child,
            code: codes[0],
        },
        Step::Exit {
            pid: grandchild,
            code: codes[1],
        },
        Step::Exit {
            pid: great_grandchild,
            code: codes[2],
        },
        Step::WaitAny { parent: root },
        Step::WaitAny { parent: root },
    ];
    rng.shuffle(&mut events);
    let mut steps = vec![
        Step::Fork { parent: root, child },
        Step::Fork {
            parent: child,
            child: grandchild,
        },
        Step::Fork {
            parent: grandchild,
            child: great_grandchild,
        },
    ];
    steps.extend(events);
    let script = play(
        root,
        &steps,
        Rules {
            root_is_subreaper: true,
            ..Rules::default()
        },
    );

    let question = quiz.question(format!(
        "The rules of Q2, but first {root} marks itself a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)):"
    ));
    for line in [
        "an orphan is adopted by its nearest ancestor that is a subreaper and has not exited, and",
        "by init only when there is none. A subreaper reaps only when it calls waitpid, as any parent.",
    ] {
        question.line(line);
    }
    script_lines(question, &script);
    ask_everything(question, &script);
}

/// Q4: a container whose PID 1 never waits; kill -9 on a running process and on a zombie.
fn a_pid_1_that_never_waits(quiz: &mut Quiz, rng: &mut Rng) {
    let root = first_pid(rng);
    let (middle, first_grandchild, second_grandchild) = (root + 1, root + 2, root + 3);
    let grandchild_code = exit_code(rng);
    let middle_code = exit_code(rng);
    let middle_is_killed = rng.below(2) == 0;
    let middle_ends = if middle_is_killed {
        Step::Kill { pid: middle }
    } else {
        Step::Exit {
            pid: middle,
            code: middle_code,
        }
    };
    let mut events = vec![
        Step::Exit {
            pid: first_grandchild,
            code: grandchild_code,
        },
        middle_ends,
        Step::WaitAny { parent: root },
    ];
    rng.shuffle(&mut events);
    // kill -9 on the grandchild comes at some moment after it exited.
    let exited_at = events
        .iter()
        .position(|step| matches!(step, Step::Exit { pid, .. } if *pid == first_grandchild))
        .expect("the grandchild exits");
    let kill_at = rng.between(exited_at as u64 + 1, events.len() as u64) as usize;
    events.insert(kill_at, Step::Kill { pid: first_grandchild });
    let mut steps = vec![
        Step::Fork {
            parent: root,
            child: middle,
        },
        Step::Fork {
            parent: middle,
            child: first_grandchild,
        },
        Step::Fork {
            parent: middle,
            child: second_grandchild,
        },
    ];
    steps.extend(events);
    let script = play(
        root,
        &steps,
        Rules {
            init_reaps: false,
            ..Rules::default()
        },
    );

    let question = quiz.question(format!(
        "In a container whose PID 1 is a program that never calls waitpid, {root} runs this script."
    ));
    for line in [
        "The rules of Q2, except that PID 1 still adopts orphans but never reaps them. kill -9 P ends a",
        "running process as exit would (its status: killed by signal 9); a zombie is already dead,",
        "and kill -9 changes nothing for it.",
    ] {
        question.line(line);
    }
    script_lines(question, &script);
    ask_everything(question, &script);
}

/// How the kernel of a question behaves.
#[derive(Clone, Copy, Debug)]
struct Rules {
    /// PID 1 reaps every zombie it adopts at once (a real init does).
    init_reaps: bool,
    /// The script's first process is a child subreaper.
    root_is_subreaper: bool,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            init_reaps: true,
            root_is_subreaper: false,
        }
    }
}

/// What happened at one step, read from the model.
#[derive(Clone, Debug)]
struct Played {
    step: Step,
    /// What a waitpid returned.
    wait: Option<WaitOutcome>,
    /// What kill -9 did: true when it ended a running process.
    killed: Option<bool>,
    /// The waiting process's children just before a waitpid: (pid, zombie?).
    children_before: Vec<(u32, bool)>,
    /// Who the target of `waitpid(P)` belonged to just before, if it still existed.
    target_parent_before: Option<u32>,
}

/// One process's life in the script, as the model played it.
#[derive(Clone, Debug, Default)]
struct Life {
    pid: u32,
    forked: Option<(usize, u32)>,
    ended: Option<(usize, Exit)>,
    /// (step, new parent, old parent: the process whose end orphaned it).
    adopted: Vec<(usize, u32, u32)>,
    /// (step, reaper, by a waitpid?).
    reaped: Option<(usize, u32, bool)>,
    /// At the end: its state and parent, or None when it is gone.
    at_end: Option<(State, u32)>,
}

/// A script played on the model: every step's outcome and every process's life.
#[derive(Clone, Debug)]
struct Script {
    rules: Rules,
    played: Vec<Played>,
    lives: Vec<Life>,
}

/// Plays `steps` on a fresh process table holding init and `root` (a child of init).
fn play(root: u32, steps: &[Step], rules: Rules) -> Script {
    try_play(root, steps, rules).expect("every drawn script is one the model accepts")
}

fn try_play(root: u32, steps: &[Step], rules: Rules) -> Result<Script, ModelError> {
    let mut table = ProcessTable::new(rules.init_reaps);
    table.add(root, INIT)?;
    if rules.root_is_subreaper {
        table.set_subreaper(root, true)?;
    }
    let mut lives: Vec<Life> = Vec::new();
    let mut played = Vec::new();
    for (index, &step) in steps.iter().enumerate() {
        let number = index + 1;
        let before: Vec<Option<(State, u32)>> = lives.iter().map(|life| snapshot(&table, life.pid)).collect();
        let mut outcome = Played {
            step,
            wait: None,
            killed: None,
            children_before: Vec::new(),
            target_parent_before: None,
        };
        match step {
            Step::Fork { parent, child } => {
                table.fork(parent, child)?;
                lives.push(Life {
                    pid: child,
                    forked: Some((number, parent)),
                    ..Life::default()
                });
            }
            Step::Exit { pid, code } => table.exit(pid, code)?,
            Step::Kill { pid } => outcome.killed = Some(table.kill(pid)?),
            Step::WaitAny { parent } => {
                outcome.children_before = children_of(&table, parent);
                outcome.wait = Some(table.wait(parent)?);
            }
            Step::WaitFor { parent, child } => {
                outcome.children_before = children_of(&table, parent);
                outcome.target_parent_before = table.get(child).map(|p| p.parent);
                outcome.wait = Some(table.wait_for(parent, child)?);
            }
        }
        // What changed for each process: an end, an adoption, a reaping.
        for (life, was) in lives.iter_mut().zip(before) {
            let now = snapshot(&table, life.pid);
            if let (Some((state, _)), Some((State::Zombie, _))) = (was, now)
                && state != State::Zombie
            {
                life.ended = table.get(life.pid).and_then(|p| p.exit).map(|exit| (number, exit));
            }
            if let (Some((_, old_parent)), Some((_, new_parent))) = (was, now)
                && old_parent != new_parent
            {
                life.adopted.push((number, new_parent, old_parent));
            }
            if let (Some((state, old_parent)), None) = (was, now) {
                let by_wait = matches!(outcome.wait, Some(WaitOutcome::Reaped { pid, .. }) if pid == life.pid);
                let reaper = match step {
                    Step::WaitAny { parent } | Step::WaitFor { parent, .. } if by_wait => parent,
                    // Reaped in the same step in which it ended or was orphaned: init did it.
                    _ => INIT,
                };
                if state != State::Zombie {
                    // It ended and was reaped in the same step (its parent was init).
                    life.ended = Some((number, exit_of(step)));
                }
                if !by_wait && old_parent != INIT {
                    // Orphaned as a zombie, adopted by init and reaped by it within the step.
                    life.adopted.push((number, INIT, old_parent));
                }
                life.reaped = Some((number, reaper, by_wait));
            }
        }
        played.push(outcome);
    }
    for life in &mut lives {
        life.at_end = snapshot(&table, life.pid);
    }
    Ok(Script { rules, played, lives })
}

fn snapshot(table: &ProcessTable, pid: u32) -> Option<(State, u32)> {
    table.get(pid).map(|p| (p.state, p.parent))
}

fn children_of(table: &ProcessTable, parent: u32) -> Vec<(u32, bool)> {
    table
        .children(parent)
        .iter()
        .map(|p| (p.pid, p.state == State::Zombie))
        .collect()
}

/// How a step that ended a process ended it.
fn exit_of(step: Step) -> Exit {
    match step {
        Step::Exit { code, .. } => Exit::Code(code),
        _ => Exit::Killed(9),
    }
}

fn script_lines(question: &mut Question, script: &Script) {
    for (index, played) in script.played.iter().enumerate() {
        question.line(format!("{:>3}. {}", index + 1, played.step.describe()));
    }
}

/// The asks of every question: each waitpid and kill -9 in step order, each process at the
/// end, then the zombies left.
fn ask_everything(question: &mut Question, script: &Script) {
    for (index, played) in script.played.iter().enumerate() {
        let number = index + 1;
        match (played.step, played.wait, played.killed) {
            (Step::WaitAny { parent }, Some(outcome), _) => {
                let (answer, why) = wait_any_answer(parent, outcome, &played.children_before);
                question.ask(format!("What the waitpid of step {number} returns"), answer, why);
            }
            (Step::WaitFor { parent, child }, Some(outcome), _) => {
                let (answer, why) = wait_for_answer(script, number, parent, child, outcome, played);
                question.ask(format!("What the waitpid of step {number} returns"), answer, why);
            }
            (Step::Kill { pid }, _, Some(killed)) => {
                let (answer, why) = if killed {
                    (
                        format!("it ends {pid}, which becomes a zombie (killed by signal 9)"),
                        format!("{pid} was running; SIGKILL cannot be caught"),
                    )
                } else {
                    (
                        "nothing".to_string(),
                        format!("{pid} is a zombie: it is already dead, only a waitpid can remove it"),
                    )
                };
                question.ask(format!("What the kill -9 of step {number} does"), answer, why);
            }
            _ => {}
        }
    }
    for life in &script.lives {
        let (answer, why) = life_answer(script, life);
        question.ask(
            format!(
                "Process {} at the end (running, zombie or gone) and its parent",
                life.pid
            ),
            answer,
            why,
        );
    }
    let zombies: Vec<u32> = script
        .lives
        .iter()
        .filter(|life| matches!(life.at_end, Some((State::Zombie, _))))
        .map(|life| life.pid)
        .collect();
    let (answer, why) = if zombies.is_empty() {
        (
            "none".to_string(),
            "every process that ended has been reaped".to_string(),
        )
    } else {
        let parents: Vec<u32> = script
            .lives
            .iter()
            .filter_map(|life| match life.at_end {
                Some((State::Zombie, parent)) => Some(parent),
                _ => None,
            })
            .collect();
        let waits_never = !script.rules.init_reaps && parents.contains(&INIT);
        (
            list(&zombies),
            match (
                waits_never && parents.iter().all(|&parent| parent == INIT),
                zombies.len(),
            ) {
                (true, 1) => "it has ended, and PID 1, its parent now, never waits".to_string(),
                (true, _) => "they have ended, and PID 1, their parent now, never waits".to_string(),
                (false, 1) => "it has ended, and its parent has not waited for it since".to_string(),
                (false, _) => "each has ended, and its parent has not waited for it since".to_string(),
            },
        )
    };
    question.ask("The zombies left at the end", answer, why);
}

fn wait_any_answer(parent: u32, outcome: WaitOutcome, children: &[(u32, bool)]) -> (String, String) {
    match outcome {
        WaitOutcome::Reaped { pid, exit } => {
            let zombies: Vec<u32> = children
                .iter()
                .filter(|(_, zombie)| *zombie)
                .map(|(pid, _)| *pid)
                .collect();
            let why = if zombies.len() == 1 {
                format!("{pid} is the only zombie among {parent}'s children")
            } else {
                format!(
                    "{parent}'s zombie children are {}: the lowest PID goes first",
                    list(&zombies)
                )
            };
            (format!("{pid}; {pid} is reaped ({exit})"), why)
        }
        WaitOutcome::WouldBlock => {
            let running: Vec<u32> = children.iter().map(|(pid, _)| *pid).collect();
            let why = match running.len() {
                1 => format!("its only child, {}, is still running", running[0]),
                2 => format!("its children {} are both still running", list(&running)),
                _ => format!("its children {} are all still running", list(&running)),
            };
            ("0".to_string(), why)
        }
        WaitOutcome::NoChild => ("ECHILD".to_string(), format!("{parent} has no children left")),
    }
}

fn wait_for_answer(
    script: &Script,
    number: usize,
    parent: u32,
    child: u32,
    outcome: WaitOutcome,
    played: &Played,
) -> (String, String) {
    match outcome {
        WaitOutcome::Reaped { pid, exit } => (
            format!("{pid}; {pid} is reaped ({exit})"),
            format!("{child} is a zombie child of {parent}"),
        ),
        WaitOutcome::WouldBlock => (
            "0".to_string(),
            format!("{child} is {parent}'s child and still running"),
        ),
        WaitOutcome::NoChild => {
            let why = match played.target_parent_before {
                Some(other) => format!("{child}'s parent is {other} now"),
                None => match script
                    .lives
                    .iter()
                    .find(|life| life.pid == child)
                    .and_then(|l| l.reaped)
                {
                    Some((step, reaper, _)) if step < number => {
                        format!("{child} is gone: {reaper} reaped it at step {step}")
                    }
                    _ => format!("{child} does not exist"),
                },
            };
            ("ECHILD".to_string(), why)
        }
    }
}

/// A process at the end of the script, and its story.
fn life_answer(script: &Script, life: &Life) -> (String, String) {
    let mut story = Vec::new();
    if let Some((step, parent)) = life.forked {
        story.push(format!("forked by {parent} at step {step}"));
    }
    let mut events: Vec<(usize, String)> = Vec::new();
    if let Some((step, exit)) = life.ended {
        events.push((step, format!("{exit} at step {step}")));
    }
    for &(step, new_parent, orphaned_by) in &life.adopted {
        let adopter = if new_parent == INIT {
            "init".to_string()
        } else {
            new_parent.to_string()
        };
        events.push((
            step,
            format!("adopted by {adopter} at step {step} when {orphaned_by} ended"),
        ));
    }
    if let Some((step, reaper, by_wait)) = life.reaped {
        if by_wait {
            events.push((step, format!("reaped by {reaper}'s waitpid at step {step}")));
        } else {
            events.push((step, "reaped by init at once".to_string()));
        }
    }
    // Stable: at one step, the end comes before the adoption, and the adoption before the reaping.
    events.sort_by_key(|(step, _)| *step);
    story.extend(events.into_iter().map(|(_, text)| text));
    match life.at_end {
        None => {
            let reaper = life.reaped.map_or(INIT, |(_, reaper, _)| reaper);
            (format!("gone, reaped by {reaper}"), story.join("; "))
        }
        Some((State::Zombie, parent)) => {
            let waits = if parent == INIT && !script.rules.init_reaps {
                "PID 1 never waits".to_string()
            } else {
                format!("{parent} has not waited for it since")
            };
            story.push(waits);
            (format!("zombie, parent {parent}"), story.join("; "))
        }
        Some((_, parent)) => {
            if life.ended.is_none() && life.adopted.is_empty() {
                story.push("it never exits".to_string());
            }
            (format!("running, parent {parent}"), story.join("; "))
        }
    }
}

/// `301`, `301 and 302`, `301, 302 and 303`.
fn list(pids: &[u32]) -> String {
    let names: Vec<String> = pids.iter().map(u32::to_string).collect();
    match names.split_last() {
        None => "none".to_string(),
        Some((last, [])) => last.clone(),
        Some((last, first)) => format!("{} and {last}", first.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_makes_a_complete_quiz_and_the_same_one_every_time() {
        course::quiz::assert_well_formed(make, 0..500, 4, 5);
    }

    #[test]
    fn a_zombie_adopted_by_init_is_reaped_at_once_and_its_story_says_so() {
        let steps = [
            Step::Fork {
                parent: 100,
                child: 101,
            },
            Step::Fork {
                parent: 101,
                child: 102,
            },
            Step::Exit { pid: 102, code: 4 },
            Step::Exit { pid: 101, code: 2 },
            Step::WaitAny { parent: 100 },
            Step::WaitAny { parent: 100 },
        ];
        let script = play(100, &steps, Rules::default());
        let grandchild = &script.lives[1];
        assert_eq!(grandchild.at_end, None);
        assert_eq!(
            life_answer(&script, grandchild),
            (
                "gone, reaped by 1".to_string(),
                "forked by 101 at step 2; exited with status 4 at step 3; adopted by init at step 4 when 101 \
                 ended; reaped by init at once"
                    .to_string()
            )
        );
        let mut quiz = Quiz::new();
        let question = quiz.question("x");
        ask_everything(question, &script);
        let answers: Vec<&str> = question.asks.iter().map(|ask| ask.answer.as_str()).collect();
        assert_eq!(
            answers,
            [
                "101; 101 is reaped (exited with status 2)",
                "ECHILD",
                "gone, reaped by 100",
                "gone, reaped by 1",
                "none"
            ]
        );
    }

    #[test]
    fn a_subreaper_adopts_and_reaps_only_when_it_waits() {
        let steps = [
            Step::Fork {
                parent: 100,
                child: 101,
            },
            Step::Fork {
                parent: 101,
                child: 102,
            },
            Step::Exit { pid: 101, code: 1 },
            Step::Exit { pid: 102, code: 2 },
            Step::WaitAny { parent: 100 },
        ];
        let rules = Rules {
            root_is_subreaper: true,
            ..Rules::default()
        };
        let script = play(100, &steps, rules);
        assert_eq!(script.lives[1].at_end, Some((State::Zombie, 100)));
        assert_eq!(script.lives[1].adopted, vec![(3, 100, 101)]);
        assert_eq!(
            script.played[4].wait,
            Some(WaitOutcome::Reaped {
                pid: 101,
                exit: Exit::Code(1)
            })
        );
    }

    #[test]
    fn kill_ends_the_living_and_leaves_a_zombie_alone() {
        let steps = [
            Step::Fork {
                parent: 100,
                child: 101,
            },
            Step::Fork {
                parent: 101,
                child: 102,
            },
            Step::Exit { pid: 102, code: 3 },
            Step::Kill { pid: 102 },
            Step::Kill { pid: 101 },
        ];
        let rules = Rules {
            init_reaps: false,
            ..Rules::default()
        };
        let script = play(100, &steps, rules);
        assert_eq!(script.played[3].killed, Some(false));
        assert_eq!(script.played[4].killed, Some(true));
        assert_eq!(script.lives[0].at_end, Some((State::Zombie, 100)));
        assert_eq!(script.lives[1].at_end, Some((State::Zombie, INIT)));
        assert_eq!(life_answer(&script, &script.lives[1]).0, "zombie, parent 1");
    }

    #[test]
    fn lists_read_as_sentences() {
        assert_eq!(list(&[]), "none");
        assert_eq!(list(&[301]), "301");
        assert_eq!(list(&[301, 302]), "301 and 302");
        assert_eq!(list(&[301, 302, 303]), "301, 302 and 303");
    }
}
