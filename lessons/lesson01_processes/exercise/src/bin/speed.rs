//! The speed verdict for lesson 01's exercise (`cargo homework 01` runs it once the checks
//! pass): `run_workers`, yours against the reference, with one worker process per core, each
//! computing the same amount. This process stays single-threaded, as `fork` requires. Built
//! only with `--features speed`.

use lesson01_processes_exercise as yours;
use lesson01_processes_exercise::reference;

/// One worker's computation; its exit status says it finished (0).
fn work(rounds: u64) -> i32 {
    let x = (0..rounds).fold(1u64, |x, k| std::hint::black_box(x.rotate_left(7) ^ k));
    i32::from(x == 42)
}

/// What a run returned, as one line: the statuses, or the error.
fn shown<E: std::fmt::Debug>(result: Result<Vec<i32>, E>) -> String {
    format!("{result:?}")
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_workers = speed.cores().max(2);
    let rounds: u64 = if speed.quick() { 100_000 } else { 100_000_000 };
    speed.compare(
        "run_workers",
        format!(
            "{n_workers} worker processes × {} rounds each",
            homework::speed::count(rounds)
        ),
        n_workers,
        "workers waited for one by one before the next is forked, or a worker that sleeps or polls",
        || shown(reference::run_workers(n_workers, |_| work(rounds))),
        || shown(yours::run_workers(n_workers, |_| work(rounds))),
    );
    std::process::exit(speed.finish());
}
