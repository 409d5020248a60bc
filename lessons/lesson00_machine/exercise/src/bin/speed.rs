//! The speed verdict for lesson 00's exercise (`cargo homework 00` runs it once the checks
//! pass): `run_in_blocks`, yours against the reference, on every core this machine gives, with
//! tasks that each cost the same. Built only with `--features speed`.

use lesson00_machine_exercise as yours;
use lesson00_machine_exercise::reference;

/// One task: lesson 00's kind of CPU-bound work, about the same for every i.
fn task(i: usize) -> u64 {
    (0..20_000u64).fold(i as u64, |x, k| std::hint::black_box(x.rotate_left(5) ^ k))
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_threads = speed.cores().max(2);
    let n_tasks = if speed.quick() { 64 } else { 4_000 };
    speed.compare(
        "run_in_blocks",
        format!("{} equal tasks on {n_threads} threads", homework::speed::count(n_tasks as u64)),
        n_threads,
        "blocks of unequal size, a shared total updated under a lock, or threads joined one by one before the next starts",
        || reference::run_in_blocks(n_tasks, n_threads, task),
        || yours::run_in_blocks(n_tasks, n_threads, task),
    );
    std::process::exit(speed.finish());
}
