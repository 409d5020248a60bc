//! Exercise: split tasks into one block per thread
//!
//! The reference solution.

/// Runs tasks `0..n_tasks` one after another on this thread; returns the sum of their results.
pub fn run_sequential(n_tasks: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    (0..n_tasks).map(task).fold(0, u64::wrapping_add)
}

/// The same tasks on `n_threads` threads at once, each thread running one contiguous block.
pub fn run_in_blocks(n_tasks: usize, n_threads: usize, task: impl Fn(usize) -> u64 + Sync) -> u64 {
    let base = n_tasks / n_threads;
    let longer = n_tasks % n_threads; // the first `longer` blocks get one task more
    let task = &task;
    std::thread::scope(|scope| {
        let mut start = 0;
        let mut workers = Vec::with_capacity(n_threads);
        for thread in 0..n_threads {
            let size = base + usize::from(thread < longer);
            let block = start..start + size;
            start += size;
            workers.push(scope.spawn(move || block.map(task).fold(0, u64::wrapping_add)));
        }
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a task panicked"))
            .fold(0, u64::wrapping_add)
    })
}
