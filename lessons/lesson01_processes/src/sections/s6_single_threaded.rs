//! Section 6: why the course forks only while single-threaded, checked live: with a second
//! thread alive, the lesson's fork refuses; once it is joined, fork works again.

use crate::watch::describe_status;
use crate::{Params, tracked};
use anyhow::Context;
use course::children;
use course::{Lesson, say};
use std::time::Duration;

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    say!(
        lesson,
        "  fork copies the whole memory but only the thread that called it. If another thread held a \
         lock at that moment (inside malloc, say), the child's copy of that lock stays locked forever, \
         and the child's first allocation hangs. So: fork while single-threaded, or exec at once."
    );
    let Some(before) = children::thread_count() else {
        say!(
            lesson,
            "  (this platform does not tell the number of threads: not demonstrated)"
        );
        lesson.notice("Fork only while the process has one thread.");
        return Ok(());
    };
    say!(lesson, "  Threads now: {before}.");
    let (release, released) = std::sync::mpsc::channel::<()>();
    let waiter = std::thread::Builder::new()
        .name("waiter".to_string())
        .spawn(move || {
            let _ = released.recv();
        })
        .map_err(|error| course::limits::thread_refused(0, 1, &error))?;
    let during = children::thread_count();
    // Every fork here goes through tracked::fork, which asks this same question first (and
    // gives a thread that was just joined two seconds to leave). The waiter is not leaving:
    // ask without waiting, and show the answer at once.
    let refusal = children::wait_until_single_threaded(Duration::ZERO)
        .err()
        .map(|error| error.to_string());
    match (&refusal, during) {
        (Some(message), Some(n)) => say!(lesson, "  With {n} threads, the lesson's fork refuses: \"{message}\""),
        _ => lesson.warn("fork was not refused while another thread ran"),
    }
    drop(release);
    waiter
        .join()
        .map_err(|_| anyhow::anyhow!("the waiting thread panicked"))?;
    // join returns when the thread has finished; the kernel removes it a moment later.
    children::wait_until_single_threaded(Duration::from_secs(2))?;
    let after = children::thread_count();
    let pid = tracked::fork(|| 0)?;
    let status = tracked::reap(pid).context("reap the child forked after joining")?;
    say!(
        lesson,
        "  After joining it: {} thread; fork works again ({}).",
        after.map_or("?".to_string(), |n| n.to_string()),
        describe_status(&status)
    );
    lesson.figure("threads_before", before);
    lesson.figure("threads_during", during);
    lesson.figure("fork_refused", refusal);
    lesson.figure("threads_after", after);
    lesson.notice(
        "Every fork in this course first checks that the process has one thread; a thread that was \
         joined is gone, and fork is safe again.",
    );
    Ok(())
}
