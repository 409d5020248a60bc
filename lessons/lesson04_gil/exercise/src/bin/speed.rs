//! The speed verdict for lesson 04's exercise (`cargo homework 04` runs it once the checks
//! pass): threads that only compute, taking turns through your GIL and through the
//! reference's. A GIL lets one thread run at a time, so this times the cost of the hand-overs:
//! a GIL that wakes threads for nothing or hands over too often is slower. Built only with
//! `--features speed`.

use lesson04_gil_exercise as yours;
use lesson04_gil_exercise::reference;

/// One bytecode step's worth of arithmetic.
fn some_work(seed: u64) -> u64 {
    (0..200).fold(seed, |x, i| std::hint::black_box(x.rotate_left(5) ^ i))
}

/// `n_threads` threads of `steps` steps each through a GIL; returns the steps run.
macro_rules! run_through {
    ($gil:expr, $n_threads:expr, $steps:expr) => {{
        let gil = $gil;
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..$n_threads)
                .map(|thread| {
                    let gil = &gil;
                    scope.spawn(move || {
                        let mut held = gil.acquire();
                        let mut done = 0u64;
                        for step in 0..$steps {
                            held.before_step();
                            std::hint::black_box(some_work(thread as u64 * $steps + step));
                            done += 1;
                        }
                        done
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().unwrap_or(0))
                .sum::<u64>()
        })
    }};
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_threads = 4;
    let steps: u64 = if speed.quick() { 1_000 } else { 50_000 };
    let switch_interval = 20;
    // Threads that take turns by design keep about one core busy, whatever the machine does.
    speed.compare_contended(
        "Gil (acquire, before_step)",
        format!(
            "{n_threads} threads × {} steps, switch interval {switch_interval}",
            homework::speed::count(steps)
        ),
        n_threads,
        "threads woken for nothing (notify_all without need), hand-overs more often than the interval, or a busy wait",
        || run_through!(reference::Gil::new(switch_interval), n_threads, steps),
        || run_through!(yours::Gil::new(switch_interval), n_threads, steps),
    );
    std::process::exit(speed.finish());
}
