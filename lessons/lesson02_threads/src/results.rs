//! Getting a thread's result back: the notebook's threads returned their results "into the
//! ether"; Rust hands them back through a `JoinHandle`, a slot a scoped thread borrows, a
//! shared list under a lock, or a channel. Every version counts the same strings with the
//! notebook's `count_string`, one thread per string, and returns `(index, count)` pairs in the
//! order it collected them. A thread the machine refuses is an `io::Error`, as in `threads.rs`.

use std::io;
use std::panic::resume_unwind;
use std::sync::{Arc, Mutex, RwLock};
use std::thread;

/// The notebook's `count_string`: a string's length, in characters.
pub fn count_string(text: &str) -> usize {
    text.chars().count()
}

/// Results tagged with the index of their string, `(index, count)`, in the order collected.
pub type Tagged = Vec<(usize, usize)>;

/// One thread per string, each counting it and returning the count.
// This version is problematic: each thread's JoinHandle is dropped unread and its result with
// it, as the notebook's `threading.Thread` threw results "into the ether". Nothing comes back.
pub fn lose_results_into_the_ether(strings: &[String]) -> io::Result<Tagged> {
    thread::scope(|scope| {
        for text in strings {
            thread::Builder::new().spawn_scoped(scope, move || count_string(text))?;
        }
        Ok(Vec::new())
    })
}

/// Each thread owns a copy of its string and returns the count through its `JoinHandle`.
pub fn collect_with_join_handles(strings: &[String]) -> io::Result<Tagged> {
    let mut handles = Vec::new();
    for text in strings {
        // A thread that is not scoped may outlive this call: it gets its own copy of the string.
        let text = text.clone();
        handles.push(thread::Builder::new().spawn(move || count_string(&text))?); // ← keep the handle
    }
    let counts = handles
        .into_iter()
        .map(|handle| handle.join().unwrap_or_else(|panic| resume_unwind(panic)));
    Ok(counts.enumerate().collect())
}

/// Scoped threads borrow the strings (no copy) and each writes its own slot (no lock): the
/// scope ends only when every thread has, so no borrow can outlive the data.
pub fn collect_with_scoped_slots(strings: &[String]) -> io::Result<Tagged> {
    let mut counts = vec![0; strings.len()];
    thread::scope(|scope| {
        for (slot, text) in counts.iter_mut().zip(strings) {
            thread::Builder::new().spawn_scoped(scope, move || *slot = count_string(text))?;
        }
        Ok::<(), io::Error>(())
    })?;
    Ok(counts.into_iter().enumerate().collect())
}

/// The notebook's way: every thread appends `(index, count)` to one shared list under a lock.
/// The threads start counting together, so the list fills in the order they finish.
pub fn collect_with_shared_list(strings: &[String]) -> io::Result<Tagged> {
    shared_list(strings, false)
}

/// The same shared list, read before joining the threads, as the notebook did.
// This version is problematic: it holds only what the threads that happened to finish added.
pub fn read_shared_list_before_join(strings: &[String]) -> io::Result<Tagged> {
    shared_list(strings, true)
}

fn shared_list(strings: &[String], read_before_join: bool) -> io::Result<Tagged> {
    let results: Arc<Mutex<Tagged>> = Arc::new(Mutex::new(Vec::new()));
    // A start gate: this thread holds it shut (a write lock) until every thread is started,
    // and each thread waits at it (a read lock). Unlike a Barrier, it also opens when a thread
    // cannot be started, so the threads already started are never stuck.
    let gate = Arc::new(RwLock::new(()));
    let shut = gate.write().unwrap();
    let mut handles = Vec::new();
    for (i, text) in strings.iter().cloned().enumerate() {
        let (results, gate) = (Arc::clone(&results), Arc::clone(&gate));
        handles.push(thread::Builder::new().spawn(move || {
            drop(gate.read());
            let count = count_string(&text);
            results.lock().unwrap().push((i, count));
        })?);
    }
    drop(shut);
    let early = read_before_join.then(|| results.lock().unwrap().clone());
    for handle in handles {
        handle.join().unwrap_or_else(|panic| resume_unwind(panic));
    }
    Ok(early.unwrap_or_else(|| results.lock().unwrap().clone()))
}

/// Every thread sends `(index, count)` down a channel: results arrive in the order the threads
/// finish, and no list is shared.
pub fn collect_with_channel(strings: &[String]) -> io::Result<Tagged> {
    let (sender, receiver) = crossbeam::channel::unbounded();
    let gate = RwLock::new(());
    thread::scope(|scope| {
        let shut = gate.write().unwrap();
        for (i, text) in strings.iter().enumerate() {
            let (sender, gate) = (sender.clone(), &gate);
            thread::Builder::new().spawn_scoped(scope, move || {
                drop(gate.read());
                // The receiver outlives every thread, so the send cannot fail.
                let _ = sender.send((i, count_string(text)));
            })?;
        }
        drop(shut);
        Ok::<(), io::Error>(())
    })?;
    // The receiver's loop ends when every sender is gone: the threads' copies, and this one.
    drop(sender);
    Ok(receiver.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_way_of_returning_results_agrees() {
        let strings = vec!["ab".repeat(50), "c".to_string(), String::new()];
        let sorted = |mut v: Tagged| {
            v.sort();
            v
        };
        let want = vec![(0, 100), (1, 1), (2, 0)];
        assert_eq!(collect_with_join_handles(&strings).unwrap(), want);
        assert_eq!(collect_with_scoped_slots(&strings).unwrap(), want);
        assert_eq!(sorted(collect_with_shared_list(&strings).unwrap()), want);
        assert_eq!(sorted(collect_with_channel(&strings).unwrap()), want);
        assert!(lose_results_into_the_ether(&strings).unwrap().is_empty());
        assert!(read_shared_list_before_join(&strings).unwrap().len() <= 3);
    }
}
