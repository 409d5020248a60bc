//! False sharing: every thread writes its own counter, no data is shared, and yet counters
//! that sit on one cache line slow each other down, because the cores pass the line back and
//! forth on every write. One thread counting alone first, then threads with a counter each:
//! packed side by side, or padded apart. The packed and the padded versions differ only in
//! where the counters live.

use crossbeam::utils::CachePadded;
use std::io;
use std::thread;

/// Adds 1 to `*slot` `increments` times, each time loading from and storing to memory.
pub fn add_in_memory(slot: &mut u64, increments: u64) {
    for _ in 0..increments {
        // black_box hides where `slot` points (`&mut *slot` lends it out again for the
        // moment), so every addition goes to memory (as `counts[i] += 1` does in Python or C)
        // instead of staying in a register.
        *std::hint::black_box(&mut *slot) += 1;
    }
}

/// One thread adds every increment to one slot in memory.
pub fn count_in_one_slot(n_threads: usize, increments: u64) -> io::Result<u64> {
    let mut slot = 0u64;
    add_in_memory(&mut slot, n_threads as u64 * increments);
    Ok(slot)
}

/// Each thread adds to its own slot; the slots are packed side by side, 8 bytes apart, so
/// several share one 64-byte cache line.
pub fn count_in_packed_slots(n_threads: usize, increments: u64) -> io::Result<u64> {
    let mut slots = vec![0u64; n_threads];
    add_in_each_slot(slots.iter_mut().collect(), increments)?;
    Ok(slots.iter().sum())
}

/// The same, with each slot padded to a cache line of its own.
pub fn count_in_padded_slots(n_threads: usize, increments: u64) -> io::Result<u64> {
    let mut slots: Vec<CachePadded<u64>> = (0..n_threads).map(|_| CachePadded::new(0)).collect(); // ← padded apart
    // `&mut **slot`: the u64 inside each padded slot, so the threads run the same code as above.
    add_in_each_slot(slots.iter_mut().map(|slot| &mut **slot).collect(), increments)?;
    Ok(slots.iter().map(|slot| **slot).sum())
}

/// One thread per slot, each adding `increments` to its own.
fn add_in_each_slot(slots: Vec<&mut u64>, increments: u64) -> io::Result<()> {
    // The scope joins every thread before it returns (and passes on a thread's panic).
    thread::scope(|scope| {
        for slot in slots {
            thread::Builder::new().spawn_scoped(scope, move || add_in_memory(slot, increments))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_slots_are_exact_packed_or_padded() {
        for n_threads in [2, 5] {
            let expected = n_threads as u64 * 10_000;
            assert_eq!(count_in_one_slot(n_threads, 10_000).unwrap(), expected);
            assert_eq!(count_in_packed_slots(n_threads, 10_000).unwrap(), expected);
            assert_eq!(count_in_padded_slots(n_threads, 10_000).unwrap(), expected);
        }
        assert!(size_of::<CachePadded<u64>>() >= 64);
    }
}
