//! A model of how a pool hands out items, and what that does to the speedup: items (with a
//! cost each) → chunks → a schedule on workers → the makespan (when the last worker finishes)
//! → the speedup a perfect machine would show. Deterministic, with no timing in it, so that
//! a prediction can be printed beside a measurement, or asked as a question.
//!
//! The rule is `pool.map`'s: items are cut into chunks of `chunk` consecutive items, in order;
//! at the start every worker takes one chunk, and from then on whichever worker finishes first
//! takes the next chunk (ties go to the lower-numbered worker). One chunk per worker
//! (`chunk = ceil(items / workers)`) is a static split decided up front; a chunk of 1 is the
//! most dynamic. Hand-off costs are left out: the model shows imbalance alone.

pub use crate::pool_map::{one_chunk_per_worker, python_default_chunk};
use serde::Serialize;

/// What one worker was given, and how long it was busy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkerLoad {
    /// The items it computed, in the order it took them.
    pub items: Vec<usize>,
    /// The sum of their costs.
    pub load: f64,
}

/// Who computed what, and when the last of them finished.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Schedule {
    pub chunk: usize,
    pub chunks: usize,
    pub workers: Vec<WorkerLoad>,
    /// The sum of all costs: the time one worker alone would take.
    pub total: f64,
    /// The largest load: the time the pool takes.
    pub makespan: f64,
}

impl Schedule {
    /// Total / makespan: the speedup over one worker if hand-offs cost nothing.
    pub fn speedup(&self) -> f64 {
        if self.makespan > 0.0 {
            self.total / self.makespan
        } else {
            0.0
        }
    }

    /// Speedup / workers: the share of the workers' time spent computing rather than idle.
    pub fn efficiency(&self) -> f64 {
        self.speedup() / self.workers.len().max(1) as f64
    }
}

/// The schedule `pool.map` produces for items of the given `costs`, on `n_workers` workers,
/// `chunk` items at a time.
pub fn schedule(costs: &[f64], n_workers: usize, chunk: usize) -> Schedule {
    let n_workers = n_workers.max(1);
    let chunk = chunk.max(1);
    let mut workers = vec![
        WorkerLoad {
            items: Vec::new(),
            load: 0.0,
        };
        n_workers
    ];
    let mut chunks = 0;
    for (chunk_index, items) in costs.chunks(chunk).enumerate() {
        // The worker that becomes free first takes the chunk; at the start all are free at 0
        // and take the first chunks in worker order.
        let next = if chunk_index < n_workers {
            chunk_index
        } else {
            (0..n_workers)
                .min_by(|&a, &b| workers[a].load.total_cmp(&workers[b].load))
                .unwrap_or(0)
        };
        let first = chunk_index * chunk;
        workers[next].items.extend(first..first + items.len());
        workers[next].load += items.iter().sum::<f64>();
        chunks += 1;
    }
    let total = costs.iter().sum();
    let makespan = workers.iter().map(|worker| worker.load).fold(0.0, f64::max);
    Schedule {
        chunk,
        chunks,
        workers,
        total,
        makespan,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lecture's four numbers, as iterations of `count_prime` (range(2, n-1): n - 3 each).
    fn seed_costs() -> Vec<f64> {
        workloads::seed::SEED_NUMBERS.iter().map(|&n| (n - 3) as f64).collect()
    }

    #[test]
    fn one_worker_does_everything() {
        let s = schedule(&seed_costs(), 1, 1);
        assert_eq!(s.workers[0].items, vec![0, 1, 2, 3]);
        assert_eq!(s.makespan, s.total);
        assert_eq!(s.speedup(), 1.0);
    }

    #[test]
    fn the_lecture_numbers_on_two_workers_balance_almost_perfectly() {
        // 77 then 71 on one worker, 74 then 73 on the other: 148 vs 147 million iterations.
        let s = schedule(&seed_costs(), 2, 1);
        assert_eq!(s.workers[0].items, vec![0, 3]);
        assert_eq!(s.workers[1].items, vec![1, 2]);
        assert_eq!(s.makespan, (77_000_000 - 3 + 71_000_000 - 3) as f64);
        assert!((s.speedup() - 1.993).abs() < 0.001, "{}", s.speedup());
    }

    #[test]
    fn three_workers_wait_for_the_fourth_item() {
        // Three items at once, then the fourth goes to whoever finished first (73 million):
        // the pool takes 73 + 71 = 144 million iterations, barely better than 2 workers.
        let s = schedule(&seed_costs(), 3, 1);
        assert_eq!(s.workers[2].items, vec![2, 3]);
        assert!((s.speedup() - 2.049).abs() < 0.001, "{}", s.speedup());
        assert!((s.efficiency() - 0.683).abs() < 0.001, "{}", s.efficiency());
        // Four workers: one item each; the largest decides.
        let four = schedule(&seed_costs(), 4, 1);
        assert_eq!(four.makespan, (77_000_000 - 3) as f64);
        // A fifth worker has nothing to do.
        assert!(schedule(&seed_costs(), 5, 1).workers[4].items.is_empty());
    }

    #[test]
    fn a_static_split_of_growing_items_leaves_one_worker_idle() {
        let costs: Vec<f64> = (1..=96).map(f64::from).collect();
        let split = schedule(&costs, 2, one_chunk_per_worker(96, 2));
        assert_eq!(split.chunks, 2);
        assert_eq!(split.workers[0].load, 1176.0); // 1 + ... + 48
        assert_eq!(split.workers[1].load, 3480.0); // 49 + ... + 96
        assert!((split.speedup() - 4656.0 / 3480.0).abs() < 1e-12);
        // Chunks of one even it out almost perfectly; Python's default lies in between.
        let fine = schedule(&costs, 2, 1);
        assert!(fine.speedup() > 1.97, "{}", fine.speedup());
        let python = schedule(&costs, 2, python_default_chunk(96, 2));
        assert_eq!(python.chunk, 12);
        assert!(python.speedup() > split.speedup() && python.speedup() < fine.speedup());
    }

    #[test]
    fn every_item_is_scheduled_exactly_once() {
        let costs: Vec<f64> = (0..37).map(|i| ((i * 7919) % 13) as f64).collect();
        for workers in 1..6 {
            for chunk in [1, 2, 5, 37, 100] {
                let s = schedule(&costs, workers, chunk);
                let mut items: Vec<usize> = s.workers.iter().flat_map(|w| w.items.clone()).collect();
                items.sort();
                assert_eq!(items, (0..37).collect::<Vec<_>>());
                assert_eq!(s.chunks, 37usize.div_ceil(chunk));
                assert!(s.makespan >= s.total / workers as f64);
            }
        }
        assert_eq!(schedule(&[], 3, 1).speedup(), 0.0);
    }
}
