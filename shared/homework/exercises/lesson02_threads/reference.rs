//! Exercise: collect results from threads
//!
//! The reference solution.

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
    let work = &work;
    std::thread::scope(|scope| {
        // Every thread is started before the first join: they all run at once.
        let handles: Vec<_> = items.iter().map(|item| scope.spawn(move || work(item))).collect();
        // Joining in the order of the items gives the results in that order, whoever finishes
        // first: a join on a thread that has finished returns at once.
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a worker thread panicked"))
            .collect()
    })
}

/// One thread per item; the results come back through a channel as the threads finish
/// (`on_arrival` is told each one's index as it arrives), and are returned in input order.
pub fn collect_with_channel<I: Sync, R: Send>(
    items: &[I],
    work: impl Fn(&I) -> R + Sync,
    mut on_arrival: impl FnMut(usize),
) -> Vec<R> {
    let work = &work;
    let (sender, receiver) = crossbeam::channel::unbounded();
    std::thread::scope(|scope| {
        for (index, item) in items.iter().enumerate() {
            let sender = sender.clone();
            // The receiver lives until the scope ends, so the send cannot fail.
            scope.spawn(move || sender.send((index, work(item))).expect("the receiver is alive"));
        }
        // The threads hold the only senders now: when the last of them finishes, the channel
        // is closed and the loop below ends. Keeping this one would make it wait forever.
        drop(sender);
        // Received here, inside the scope, while the threads still run: results come out in
        // the order the threads finish, and each goes back to its item's place.
        let mut slots: Vec<Option<R>> = items.iter().map(|_| None).collect();
        for (index, result) in receiver.iter() {
            on_arrival(index);
            slots[index] = Some(result);
        }
        slots
            .into_iter()
            .map(|slot| slot.expect("every thread sends exactly one result"))
            .collect()
    })
}
