//! Section 5: what `map` promises, shown on a process pool and on rayon: the order of results,
//! laziness, how `par_iter` spreads items over its threads, and a worker that dies.

use crate::Params;
use crate::answers::divisors_by_factoring;
use crate::pool_map::{count_prime, map_rayon};
use crate::pools::{process_pool, rayon_pool};
use course::timing::{self, format};
use course::{Lesson, say};
use procpool::PoolError;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The most rayon threads listed one per line; the others share one line.
const THREADS_LISTED: usize = 6;

#[derive(serde::Serialize)]
struct LazyCalls {
    after_map: usize,
    after_take_2: usize,
    after_par_map: usize,
    after_collect: usize,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n = p.n_workers;
    let scale = lesson.pick(100_000, 1_000_000);
    // Forked before rayon's pool starts (see pools.rs).
    let mut pool = process_pool(n, "count_prime", count_prime)?;
    let rayon = rayon_pool(n)?;

    // Order: results come back in item order, whatever order they were finished in.
    let sizes = [30, 2, 15, 2, 8, 2];
    let items: Vec<u64> = sizes.iter().map(|k| k * scale).collect();
    let arrived = pool.map_in_completion_order(&items, 1)?;
    let in_order = pool.map(&items, 1)?;
    let finished: Vec<usize> = arrived.iter().map(|(index, _)| *index).collect();
    let expected: Vec<u64> = items.iter().map(|&n| divisors_by_factoring(n)).collect();
    say!(
        lesson,
        "  Order. Six numbers costing {sizes:?} units of {} iterations, on {}:",
        format::count(scale),
        format::plural(n as u64, "worker process")
    );
    say!(
        lesson,
        "    finished in the order   {finished:?}   (what imap_unordered yields)"
    );
    say!(
        lesson,
        "    map returns them as     {:?}   (item order, always)",
        (0..items.len()).collect::<Vec<_>>()
    );
    anyhow::ensure!(
        in_order == expected,
        "the pool's map returned {in_order:?}, expected {expected:?}"
    );

    // Laziness: a map does nothing until something asks for its results.
    let calls = AtomicUsize::new(0);
    // Relaxed is enough: the counter is read only after the calls that change it have returned.
    let count_call = |n: &u64| {
        calls.fetch_add(1, Ordering::Relaxed);
        n + 1
    };
    let lazy = items.iter().map(count_call);
    let after_map = calls.load(Ordering::Relaxed);
    let first_two: Vec<u64> = lazy.take(2).collect();
    let after_take_2 = calls.load(Ordering::Relaxed);
    calls.store(0, Ordering::Relaxed);
    let (after_par_map, collected) = rayon.install(|| {
        let parallel = items.par_iter().map(count_call);
        let after_par_map = calls.load(Ordering::Relaxed);
        (after_par_map, parallel.collect::<Vec<u64>>())
    });
    let after_collect = calls.load(Ordering::Relaxed);
    say!(
        lesson,
        "  Laziness. `iter().map(f)` called f {after_map} times; `.take(2).collect()` then \
         {after_take_2} times ({} results). `par_iter().map(f)` called f {after_par_map} times; \
         `.collect()` then {after_collect} ({} results). Python's map is lazy too; Pool.map is not: \
         it sends every item and waits for every result before it returns.",
        first_two.len(),
        collected.len()
    );

    // How par_iter spreads items over rayon's pool: halves, split again while threads are idle.
    let step = lesson.pick(2_000, 20_000);
    let uneven: Vec<u64> = (1..=32u64).map(|k| k * step).collect();
    let ran_on = rayon.install(|| map_rayon(&uneven, on_which_thread, n))?;
    let n_threads = rayon.current_num_threads();
    say!(
        lesson,
        "  par_iter on a pool of {}: 32 items, item k costing k units. Who ran what:",
        format::plural(n_threads as u64, "thread")
    );
    let mut pieces = pieces_per_thread(&ran_on);
    for thread in 0..n_threads {
        pieces.entry(thread).or_default();
    }
    let listed: Vec<String> = pieces
        .iter()
        .map(|(thread, runs)| describe_pieces(*thread, runs))
        .collect();
    for line in listed.iter().take(THREADS_LISTED) {
        say!(lesson, "    {line}");
    }
    if listed.len() > THREADS_LISTED {
        say!(
            lesson,
            "    … and {} more threads (--json has them all)",
            listed.len() - THREADS_LISTED
        );
    }
    say!(
        lesson,
        "    rayon halves the range, and halves again whenever a thread is idle and steals the \
         other half: chunks adapt to the load, where pool.map's are fixed; `.with_min_len(k)` \
         stops splitting below k items."
    );
    drop(rayon);

    // A worker dies in the middle of an item, as the kernel's out-of-memory killer would do it.
    let death = if n >= 2 {
        kill_a_worker(lesson, &mut pool, scale)?
    } else {
        say!(
            lesson,
            "  (With one worker there is no second one to kill while the first reports: skipped.)"
        );
        serde_json::json!({ "reported": false, "item": null })
    };
    say!(
        lesson,
        "    Python's multiprocessing.Pool.map would wait forever here; concurrent.futures raises BrokenProcessPool."
    );
    drop(pool);

    lesson.figure("completion_order", &finished);
    lesson.figure("results_in_item_order", true);
    lesson.figure(
        "lazy_calls",
        LazyCalls {
            after_map,
            after_take_2,
            after_par_map,
            after_collect,
        },
    );
    lesson.figure(
        "rayon_pieces",
        pieces
            .iter()
            .map(|(thread, runs)| (thread.to_string(), runs.len()))
            .collect::<BTreeMap<_, _>>(),
    );
    lesson.figure("worker_death", death);
    lesson.notice(
        "map keeps item order, whatever order the work finished in; it runs nothing until its \
         results are asked for (Pool.map asks at once); chunks decide how work is shared; and one \
         dead worker fails the whole map, which a good pool reports instead of hanging.",
    );
    Ok(())
}

/// count_prime on `n`, reporting the rayon thread that computed it instead of the answer.
fn on_which_thread(n: u64) -> usize {
    std::hint::black_box(count_prime(n));
    rayon::current_thread_index().unwrap_or(0)
}

/// Kills worker 1 while it computes a huge item; returns what the pool reported.
fn kill_a_worker(
    lesson: &Lesson,
    pool: &mut procpool::ProcessPool<u64, u64>,
    scale: u64,
) -> anyhow::Result<serde_json::Value> {
    let doomed: Vec<u64> = vec![scale / 10, 3_000 * scale, 10 * scale, 10 * scale];
    let victim = pool.worker_pids()[1];
    let mut killed = false;
    let (outcome, took) = timing::measure(|| {
        pool.map_with(&doomed, 1, |_, _| {
            if !killed {
                // The small item 0 is back; worker 1 has had time to start the huge item 1.
                std::thread::sleep(std::time::Duration::from_millis(50));
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), nix::sys::signal::Signal::SIGKILL);
                killed = true;
            }
        })
    });
    let Err(error @ PoolError::WorkerDied { item, .. }) = &outcome else {
        anyhow::bail!("killing a worker was not reported as a dead worker: {outcome:?}");
    };
    say!(
        lesson,
        "  A worker killed mid-item (SIGKILL, as the out-of-memory killer sends):"
    );
    say!(lesson, "    {error}");
    say!(
        lesson,
        "    reported after {}, the other workers stopped and reaped; item 1 alone would have taken seconds.",
        format::duration(took.wall)
    );
    Ok(serde_json::json!({ "reported": true, "item": item, "message": error.to_string() }))
}

/// `rayon thread 1: items 0–7, 16–19 (2 pieces)`.
fn describe_pieces(thread: usize, runs: &[(usize, usize)]) -> String {
    if runs.is_empty() {
        return format!("rayon thread {thread}: nothing (it was not awake in time to steal any)");
    }
    let text: Vec<String> = runs
        .iter()
        .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") })
        .collect();
    format!(
        "rayon thread {thread}: items {} ({})",
        text.join(", "),
        format::plural(runs.len() as u64, "piece")
    )
}

/// For each rayon thread, the runs of consecutive items it computed: `(first, last)` each.
fn pieces_per_thread(ran_on: &[usize]) -> BTreeMap<usize, Vec<(usize, usize)>> {
    let mut pieces: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for (index, &thread) in ran_on.iter().enumerate() {
        let runs = pieces.entry(thread).or_default();
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == index => *last = index,
            _ => runs.push((index, index)),
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_runs_of_consecutive_items() {
        let pieces = pieces_per_thread(&[0, 0, 1, 1, 0, 2]);
        assert_eq!(pieces[&0], vec![(0, 1), (4, 4)]);
        assert_eq!(pieces[&1], vec![(2, 3)]);
        assert_eq!(pieces[&2], vec![(5, 5)]);
        assert_eq!(
            describe_pieces(0, &pieces[&0]),
            "rayon thread 0: items 0–1, 4 (2 pieces)"
        );
    }
}
