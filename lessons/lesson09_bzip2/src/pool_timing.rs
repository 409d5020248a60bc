//! Timing work on a process pool whose workers outlive the measurement. The kernel charges a
//! child's CPU time to its parent only when the child is reaped, and the pool's workers are
//! reaped only when the pool shuts down; so each worker reads its own CPU clock and sends it
//! with its results, and the increase during a map is counted here as children's CPU.

use course::timing::{self, Measurement};
use procpool::{PoolError, ProcessPool, Wire};

/// Times `work` on `pool`, counting the CPU time its workers report.
pub fn measured_on<I: Wire, O: Wire, A>(
    pool: &mut ProcessPool<I, O>,
    work: impl FnOnce(&mut ProcessPool<I, O>) -> Result<A, PoolError>,
) -> Result<(A, Measurement), PoolError> {
    let (result, mut measurement) = timing::measure(|| work(pool));
    measurement.children += pool.last_map().worker_cpu;
    result.map(|answer| (answer, measurement))
}
