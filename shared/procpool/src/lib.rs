//! A pool of worker processes, forked up front, that maps a function over items the way
//! Python's `multiprocessing.Pool.map` does: every item is turned into bytes, sent through a
//! pipe to a worker process, rebuilt there, computed, and its result comes back the same way.
//!
//! - [`ProcessPool::start`] forks the workers (with [`course::children::fork`], so they are
//!   killed and reaped if the program is interrupted) while the process has one thread.
//! - [`ProcessPool::map`] hands out items in chunks and returns the results in item order;
//!   [`ProcessPool::map_in_completion_order`] returns them as they arrive;
//!   [`ProcessPool::measured_map`] times a map and counts the workers' CPU time.
//! - A worker that dies (killed, crashed, exited) is reported with the item it was working on
//!   ([`PoolError::WorkerDied`]); the other workers are stopped and nothing hangs.
//! - [`ProcessPool::shutdown`] (or dropping the pool) ends and reaps every worker.
//! - [`Wire`] is the byte format: numbers, strings, byte vectors and what is built from them.
//!
//! Results are sent back in batches (a chunk's results together, up to 64 KiB at a time), so
//! small results cost few system calls; the item a worker is computing is recorded in a small
//! shared mapping, so that a death is reported precisely even in the middle of a chunk.

mod pool;
mod wire;

pub use pool::{MAX_WORKERS, MapReport, PoolError, ProcessPool};
pub use wire::{EncodeAs, Wire, WireError};
