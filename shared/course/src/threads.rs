//! Running the same work on N threads, with one policy for failure: a thread the machine
//! refuses to start is an error that names the limit in the way (the threads already started
//! finish first), and a worker's panic is passed on to the caller. For harness code, where
//! starting threads is not what the lesson teaches; where it is, the concept file writes the
//! `thread::Builder` out itself.

use crate::limits;
use std::thread;

/// Runs `work(0)`, ..., `work(n - 1)` on `n` scoped threads named `{name}-{index}` and returns
/// their results in index order.
pub fn run_on_threads<T: Send>(n: usize, name: &str, work: impl Fn(usize) -> T + Sync) -> anyhow::Result<Vec<T>> {
    let work = &work;
    thread::scope(|scope| {
        let mut handles = Vec::with_capacity(n);
        for index in 0..n {
            let started = thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn_scoped(scope, move || work(index));
            match started {
                Ok(handle) => handles.push(handle),
                Err(error) => return Err(limits::thread_refused(index, n, &error)),
            }
        }
        let mut results = Vec::with_capacity(n);
        for handle in handles {
            match handle.join() {
                Ok(result) => results.push(result),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(results)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_index_order_from_named_threads() {
        let names = run_on_threads(4, "worker", |i| (i, thread::current().name().map(str::to_string))).unwrap();
        for (i, (index, name)) in names.into_iter().enumerate() {
            assert_eq!(index, i);
            assert_eq!(name.as_deref(), Some(format!("worker-{i}").as_str()));
        }
    }

    #[test]
    fn a_workers_panic_reaches_the_caller() {
        let result = std::panic::catch_unwind(|| {
            run_on_threads(2, "panicky", |i| {
                assert!(i != 1, "worker 1 fails");
                i
            })
        });
        assert!(result.is_err());
    }
}
