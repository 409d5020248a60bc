//! Threads, the notebook's way in Rust: start them, name them, wait for them, and watch their
//! output interleave. (Getting their results back is `results.rs`.)
//!
//! Every thread here is started with `thread::Builder`, whose `spawn` returns an `io::Error`
//! when the machine refuses a thread (a per-user process limit, no memory for its stack) where
//! `thread::spawn` would panic. A thread that panics passes its panic on to whoever joins it.

use std::io;
use std::panic::resume_unwind;
use std::sync::Mutex;
use std::thread;
use std::time::Duration;

/// Where a thread prints: the lesson passes a function that puts the line on screen.
pub type Print<'a> = dyn Fn(&str) + Sync + 'a;

/// The notebook's `print_with_delay`: sleeps `delay` units, then prints a message and returns it.
pub fn print_with_delay(delay: u32, unit: Duration, print: &Print<'_>) -> String {
    thread::sleep(unit * delay);
    let message = format!("hello with delay {delay}");
    print(&message);
    message
}

/// One call per delay, one after another on this thread: each waits for the one before.
pub fn one_after_another(delays: &[u32], unit: Duration, print: &Print<'_>) -> io::Result<Vec<String>> {
    Ok(delays
        .iter()
        .map(|&delay| print_with_delay(delay, unit, print))
        .collect())
}

/// The same calls, each on a thread of its own, named after it: the waits overlap. The threads
/// are joined in the order they were started, whatever order they finish in.
pub fn on_named_threads(delays: &[u32], unit: Duration, print: &Print<'_>) -> io::Result<Vec<String>> {
    thread::scope(|scope| {
        let mut threads = Vec::new();
        for (i, &delay) in delays.iter().enumerate() {
            let name = format!("t{}-delay-{delay}", i + 1);
            let builder = thread::Builder::new().name(name.clone());
            let thread = builder.spawn_scoped(scope, move || print_with_delay(delay, unit, print))?; // ← a thread per call
            threads.push((name, thread));
        }
        let mut messages = Vec::new();
        for (name, thread) in threads {
            // join returns at once for a thread that has finished, and waits for one that has not.
            messages.push(thread.join().unwrap_or_else(|panic| resume_unwind(panic)));
            print(&format!("main joined {name}"));
        }
        Ok(messages)
    })
}

/// The notebook's `print_time`: each thread of `schedule` (a name, and every how many units it
/// prints) prints `times` times on its own schedule. Returns who printed when (in units), in
/// the order they printed.
pub fn print_on_schedules(
    schedule: &[(&str, u32)],
    times: u32,
    unit: Duration,
    print: &Print<'_>,
) -> io::Result<Vec<(String, u32)>> {
    let printed = Mutex::new(Vec::new());
    thread::scope(|scope| {
        for &(name, every) in schedule {
            let printed = &printed;
            thread::Builder::new()
                .name(name.to_string())
                .spawn_scoped(scope, move || {
                    for tick in 1..=times {
                        thread::sleep(unit * every);
                        // One lock for the print and the record, so that both have the same order.
                        // (A lock is poisoned only by a thread that panicked: that panic is passed on.)
                        let mut printed = printed.lock().unwrap();
                        print(name);
                        printed.push((name.to_string(), every * tick));
                    }
                })?;
        }
        Ok::<(), io::Error>(())
    })?;
    Ok(printed.into_inner().unwrap())
}

/// `n_threads` threads each write `lines` numbered lines into one text, every line in two
/// pieces, "Thread-N: " and then the number: Python's `print` writes the text, then the newline.
// This version is problematic: another thread's piece can land between our two and tear the line.
pub fn write_lines_in_two_pieces(n_threads: usize, lines: usize) -> io::Result<String> {
    let text = Mutex::new(String::new());
    on_threads(n_threads, |t| {
        for i in 0..lines {
            text.lock().unwrap().push_str(&format!("Thread-{}: ", t + 1));
            // Another thread may take the lock here.
            text.lock().unwrap().push_str(&format!("{i}\n"));
        }
    })?;
    Ok(text.into_inner().unwrap())
}

/// The same lines, each written whole while holding the lock once, as Rust's `println!` does.
pub fn write_whole_lines(n_threads: usize, lines: usize) -> io::Result<String> {
    let text = Mutex::new(String::new());
    on_threads(n_threads, |t| {
        for i in 0..lines {
            let mut text = text.lock().unwrap(); // ← Fix: one lock for the whole line
            text.push_str(&format!("Thread-{}: ", t + 1));
            text.push_str(&format!("{i}\n"));
        }
    })?;
    Ok(text.into_inner().unwrap())
}

/// Starts a thread that does nothing and waits for it: the least a thread costs.
pub fn start_and_join_a_thread() -> io::Result<()> {
    let handle = thread::Builder::new().spawn(|| {})?;
    handle.join().unwrap_or_else(|panic| resume_unwind(panic));
    Ok(())
}

/// Runs `work(0)`, ..., `work(n - 1)` on scoped threads and returns their results in order. A
/// thread the machine refuses is an error (the threads already started are joined first).
pub fn on_threads<T: Send>(n: usize, work: impl Fn(usize) -> T + Sync) -> io::Result<Vec<T>> {
    let work = &work;
    thread::scope(|scope| {
        let mut handles = Vec::with_capacity(n);
        for i in 0..n {
            handles.push(thread::Builder::new().spawn_scoped(scope, move || work(i))?);
        }
        Ok(handles
            .into_iter()
            .map(|handle| handle.join().unwrap_or_else(|panic| resume_unwind(panic)))
            .collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_return_what_the_loop_returns_in_the_same_order() {
        let quiet: &Print<'_> = &|_| {};
        let unit = Duration::from_millis(1);
        let expected = one_after_another(&[3, 1, 2], unit, quiet).unwrap();
        assert_eq!(
            expected,
            ["hello with delay 3", "hello with delay 1", "hello with delay 2"]
        );
        assert_eq!(on_named_threads(&[3, 1, 2], unit, quiet).unwrap(), expected);
    }

    #[test]
    fn every_scheduled_print_happens_once() {
        let printed = print_on_schedules(&[("a", 1), ("b", 2)], 3, Duration::from_millis(1), &|_| {}).unwrap();
        assert_eq!(printed.len(), 6);
        assert_eq!(printed.iter().filter(|(name, _)| name == "b").count(), 3);
    }

    #[test]
    fn whole_lines_never_tear_and_every_line_is_written() {
        let text = write_whole_lines(4, 500).unwrap();
        assert_eq!(text.lines().count(), 2000);
        assert!(!text.contains(": Thread-"));
        let pieces = write_lines_in_two_pieces(4, 500).unwrap();
        assert_eq!(pieces.matches("Thread-").count(), 2000);
        start_and_join_a_thread().unwrap();
    }
}
