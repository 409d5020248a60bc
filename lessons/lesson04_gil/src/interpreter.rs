//! A tiny interpreter, the harness that puts the GIL of `gil.rs` to work. Its threads run
//! programs of two instructions: compute some "bytecode" steps (each a fixed unit of CPU work)
//! or block on I/O. Every step runs with the GIL held, and the interpreter checks, on every
//! step, that no two steps ever run at the same time.

use crate::gil::{Gil, Held};
use crate::turns::TurnStats;
use serde::Serialize;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// Rounds of arithmetic in one bytecode step: about ten microseconds of work, about as long as
/// the CPython twin's step of 50 rounds. The holder looks for a drop request between steps;
/// CPython looks far more often (between bytecodes before 3.10, at calls and backward jumps
/// since), so the simulation lets go up to one step later.
pub const ROUNDS_PER_STEP: u64 = 5_000;

/// An instruction of a thread's program.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Run `steps` bytecode steps, numbered from `first` (the numbers only seed the work, so
    /// that any split of the steps over threads or processes computes the same checksum).
    Compute { first: u64, steps: u64 },
    /// Block for a while without computing, as a `time.sleep` or a network read does.
    Sleep(Duration),
}

impl Op {
    /// `steps` bytecode steps numbered from `first`.
    pub fn compute(first: u64, steps: u64) -> Op {
        Op::Compute { first, steps }
    }
}

/// What one thread did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ThreadReport {
    pub thread: usize,
    /// Bytecode steps it ran.
    pub steps: u64,
    /// Wrapping sum of its steps' results.
    pub checksum: u64,
    /// Its turns holding the GIL, and how long it waited for them.
    pub turns: TurnStats,
}

/// The interpreter: one GIL (or none) and the checks made on every step.
pub struct Interpreter {
    gil: Gil,
    /// Threads inside a step right now.
    inside_step: AtomicUsize,
    /// Steps that started while another thread was inside one.
    overlapping_steps: AtomicU64,
}

impl Interpreter {
    pub fn new(gil: Gil) -> Self {
        Interpreter {
            gil,
            inside_step: AtomicUsize::new(0),
            overlapping_steps: AtomicU64::new(0),
        }
    }

    pub fn gil(&self) -> &Gil {
        &self.gil
    }

    /// Steps that ran at the same moment as another step. Always 0 with the GIL.
    pub fn overlapping_steps(&self) -> u64 {
        self.overlapping_steps.load(Ordering::SeqCst)
    }

    /// Runs one bytecode step with the GIL held (`held`), as `ceval.c`'s loop would.
    pub fn step(&self, held: &mut Held<'_>, index: u64) -> u64 {
        // The step boundary: the one place where a running thread gives up the GIL when a
        // waiting thread has asked for it (CPython checks its "eval breaker" between bytecodes,
        // since 3.10 at calls and backward jumps).
        held.check_drop_request();
        // Count the threads inside a step. The GIL must keep this at one; without it, another
        // thread inside at the same moment is parallelism, and it is counted. SeqCst puts every
        // entry and exit in one order that all threads agree on, so an overlap cannot hide.
        let others_inside = self.inside_step.fetch_add(1, Ordering::SeqCst);
        if others_inside > 0 {
            self.overlapping_steps.fetch_add(1, Ordering::SeqCst);
        }
        let result = bytecode(index);
        self.inside_step.fetch_sub(1, Ordering::SeqCst);
        result
    }

    /// Runs `program` as interpreter thread `thread`: takes the GIL, runs every instruction,
    /// lets go around each blocking wait, and gives the GIL back at the end.
    pub fn run_thread(&self, thread: usize, program: &[Op]) -> ThreadReport {
        let mut held = self.gil.acquire(thread);
        let mut report = ThreadReport {
            thread,
            ..ThreadReport::default()
        };
        for op in program {
            match *op {
                Op::Compute { first, steps } => {
                    for index in first..first + steps {
                        report.checksum = report.checksum.wrapping_add(self.step(&mut held, index));
                        report.steps += 1;
                    }
                }
                // Py_BEGIN_ALLOW_THREADS ... Py_END_ALLOW_THREADS around the blocking call.
                Op::Sleep(duration) => held.release_around(|| std::thread::sleep(duration)),
            }
        }
        report.turns = self.gil.record().turns_of(thread);
        report
    }

    /// Runs steps as interpreter thread `thread` until `stop` is set: a CPU-bound neighbour.
    pub fn run_until(&self, thread: usize, stop: &AtomicBool) -> ThreadReport {
        let mut held = self.gil.acquire(thread);
        let mut report = ThreadReport {
            thread,
            ..ThreadReport::default()
        };
        // Relaxed: the flag carries no data, and a step or two more after it is set is fine.
        while !stop.load(Ordering::Relaxed) {
            report.checksum = report.checksum.wrapping_add(self.step(&mut held, report.steps));
            report.steps += 1;
        }
        report.turns = self.gil.record().turns_of(thread);
        report
    }
}

/// An interpreter after its threads ran: each thread's report, and the interpreter's counts.
pub struct Ran {
    pub threads: Vec<ThreadReport>,
    pub interpreter: Interpreter,
}

/// Runs `programs[i]` on thread `i` of `interpreter`. A thread the machine refuses is an
/// error (the threads already started finish first); a thread's panic is passed on.
pub fn run_threads(interpreter: Interpreter, programs: &[Vec<Op>]) -> io::Result<Ran> {
    let threads = thread::scope(|scope| {
        let mut workers = Vec::with_capacity(programs.len());
        for (thread, program) in programs.iter().enumerate() {
            let interpreter = &interpreter;
            workers.push(thread::Builder::new().spawn_scoped(scope, move || interpreter.run_thread(thread, program))?);
        }
        let joined = workers.into_iter().map(|worker| worker.join());
        let reports = joined.map(|report| report.unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        io::Result::Ok(reports.collect())
    })?;
    Ok(Ran { threads, interpreter })
}

/// One bytecode step's work: `ROUNDS_PER_STEP` rounds of a xorshift generator seeded by
/// `index`. Each round depends on the last, so the compiler can neither skip nor vectorize it.
pub fn bytecode(index: u64) -> u64 {
    xorshift(index, ROUNDS_PER_STEP)
}

/// `rounds` rounds of the step's xorshift generator seeded by `index`: the CPython twin's step
/// is the same with fewer rounds (about as long in CPython as 5,000 are in Rust).
pub fn xorshift(index: u64, rounds: u64) -> u64 {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

/// The checksum of steps `first..first + steps`, computed directly, to check the others by.
#[cfg(test)]
pub fn checksum_of(first: u64, steps: u64) -> u64 {
    (first..first + steps).map(bytecode).fold(0, u64::wrapping_add)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_computes_its_steps_and_checksum() {
        let interpreter = Interpreter::new(Gil::new(Duration::from_millis(5)));
        let program = [
            Op::compute(0, 10),
            Op::Sleep(Duration::from_millis(1)),
            Op::compute(10, 5),
        ];
        let report = interpreter.run_thread(0, &program);
        assert_eq!(report.steps, 15);
        assert_eq!(report.checksum, checksum_of(0, 15));
        assert_eq!(interpreter.overlapping_steps(), 0);
        // It took the GIL at the start and again after its sleep.
        assert_eq!(report.turns.turns, 2);
    }

    #[test]
    fn without_the_gil_steps_do_overlap() {
        // Two threads without a GIL, each waiting until the other is inside a step too: a
        // check that the overlap counter can see what the GIL must prevent.
        let interpreter = Interpreter::new(Gil::disabled());
        let both_inside = AtomicBool::new(false);
        std::thread::scope(|scope| {
            for thread in 0..2 {
                let (interpreter, both_inside) = (&interpreter, &both_inside);
                scope.spawn(move || {
                    let mut held = interpreter.gil().acquire(thread);
                    let mut index = 0;
                    while !both_inside.load(Ordering::SeqCst) && index < 2_000_000 {
                        interpreter.step(&mut held, index);
                        if interpreter.overlapping_steps() > 0 {
                            both_inside.store(true, Ordering::SeqCst);
                        }
                        index += 1;
                    }
                });
            }
        });
        assert!(interpreter.overlapping_steps() > 0);
    }
}
