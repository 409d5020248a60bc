//! Exercise: collect results from threads
//!
//! The lecture's notebook started one thread per string and its results went "into the
//! ether": `threading.Thread` throws away what the function returns. `lose_results_into_the_ether`
//! below does the same in Rust. Bring the results back, two ways, each with one thread per item,
//! every thread started before any result is collected, so that they all run at the same time:
//! - `collect_with_join_handles`: keep each thread's handle; `join` gives back what the thread
//!   returned. Return the results in input order (item 0's first).
//! - `collect_with_channel`: each thread sends its result down a crossbeam channel, and this
//!   thread receives them in the order the threads finish. Call `on_arrival(index)` the moment
//!   the result of item `index` comes out of the channel, while the other threads are still
//!   working (a progress bar would redraw there; the checks hold some threads back until they
//!   see an earlier result arrive). Then return the results in input order, as above: tag each
//!   result with its item's index on the way in, and put it back in its place on the way out.
//!
//! In both, `work` runs exactly once per item, on a thread of its own (never on the calling
//! thread), and no result is lost or counted twice.
//!
//! Check your work with `cargo homework 02`; stuck, `cargo homework hint 02` gives a hint, one
//! step at a time.
#![allow(unused_variables)] // until the stubs below are filled in

/// The notebook's version: one thread per item, and every result thrown away.
// This version is problematic: `work`'s results go nowhere; the caller can't get them back.
pub fn lose_results_into_the_ether<I: Sync>(items: &[I], work: impl Fn(&I) -> usize + Sync) {
    let work = &work;
    std::thread::scope(|scope| {
        for item in items {
            scope.spawn(move || work(item));
        }
    });
}

/// One thread per item; the results come back through the threads' `JoinHandle`s, in input
/// order.
pub fn collect_with_join_handles<I: Sync, R: Send>(items: &[I], work: impl Fn(&I) -> R + Sync) -> Vec<R> {
    todo!("spawn one scoped thread per item, keep the handles, then join each one in order")
}

/// One thread per item; the results come back through a channel as the threads finish
/// (`on_arrival` is told each one's index as it arrives), and are returned in input order.
pub fn collect_with_channel<I: Sync, R: Send>(
    items: &[I],
    work: impl Fn(&I) -> R + Sync,
    on_arrival: impl FnMut(usize),
) -> Vec<R> {
    todo!("each thread sends (index, result); receive them as they come, call on_arrival, put each in its place")
}
