//! What the runner knows about each exercise beyond its files: three hints, revealed one at a
//! time by `cargo homework hint NN` (the idea, then where, then nearly the code), and two lines
//! on what the reference solution does differently, shown with its path once the checks pass.
//! An exercise missing here still runs; it just has no stepped hints.

/// One exercise's hints and notes.
pub struct About {
    /// The lesson's folder, `lesson03_race`.
    pub lesson: &'static str,
    /// The idea; where in the code; nearly the code.
    pub hints: [&'static str; 3],
    /// What the reference does differently, in two lines.
    pub differs: [&'static str; 2],
}

/// The names of the three hint levels.
pub const LEVELS: [&str; 3] = ["the idea", "where", "nearly the code"];

pub fn about(lesson: &str) -> Option<&'static About> {
    EXERCISES.iter().find(|about| about.lesson == lesson)
}

const EXERCISES: &[About] = &[
    About {
        lesson: "lesson00_machine",
        hints: [
            "Decide every thread's block before starting any thread, then let each thread add up its own block \
             and hand its sum back: nothing is shared while the threads run, so nothing can race.",
            "In run_in_blocks: base = n_tasks / n_threads, and the first n_tasks % n_threads blocks get one task \
             more. Spawn all threads inside one std::thread::scope, keep the handles, join them after the loop.",
            "let mut start = 0; for t in 0..n_threads { let size = base + usize::from(t < longer); let block = \
             start..start + size; start += size; handles.push(scope.spawn(move || block.map(task).fold(0, \
             u64::wrapping_add))); } then fold what each handle.join() returns.",
        ],
        differs: [
            "Each thread returns its block's sum and the sums meet only through join: no shared total, no lock.",
            "Block sizes come from one division and its remainder; the ranges are fixed before any thread starts.",
        ],
    },
    About {
        lesson: "lesson01_processes",
        hints: [
            "A pool starts every worker, then waits for each one; a child never comes back into the caller's code; \
             and a fork that fails is an error to return once the workers already started have been waited for.",
            "In run_workers: one loop that forks and keeps each child's Pid in a Vec; in the Child arm, \
             std::process::exit(work(i)); in the Err arm, waitpid every Pid kept so far and return Err(errno). \
             A second loop waits for the Pids in order.",
            "match unsafe { fork() } { Ok(ForkResult::Child) => std::process::exit(work(i)), \
             Ok(ForkResult::Parent { child }) => pids.push(child), Err(errno) => { for pid in pids { wait_for(pid); } \
             return Err(errno) } } — and wait_for turns WaitStatus::Exited(_, code) into code and \
             WaitStatus::Signaled(_, signal, _) into 128 + signal as i32.",
        ],
        differs: [
            "On a failed fork it reaps every worker already started, then returns the errno: no panic, no zombie.",
            "It waits for each Pid in worker order with waitpid(pid, None), retrying on EINTR.",
        ],
    },
    About {
        lesson: "lesson02_threads",
        hints: [
            "Start every thread first, collect afterwards. A JoinHandle gives back what its thread returned; a \
             channel's receiver keeps waiting while any Sender is alive, yours included.",
            "In collect_with_join_handles: collect the handles from scope.spawn into a Vec, then join them in that \
             order. In collect_with_channel: clone the sender into each thread, drop the original, and receive \
             inside the scope.",
            "let (sender, receiver) = unbounded(); for (i, item) in items.iter().enumerate() { let sender = \
             sender.clone(); scope.spawn(move || sender.send((i, work(item)))); } drop(sender); for (i, result) in \
             receiver.iter() { on_arrival(i); slots[i] = Some(result); }",
        ],
        differs: [
            "The channel version drops its own Sender right after spawning, so receiver.iter() ends with the last thread.",
            "Results go back to their item's slot (index sent with the result), whatever order they arrive in.",
        ],
    },
    About {
        lesson: "lesson03_race",
        hints: [
            "The race is the gap between a load and its store. A lock closes the gap by letting one thread at a \
             time through it; fetch_add has no gap at all; private tallies have nothing shared to race on.",
            "Only the line that touches the counter changes from count_racy. In count_with_mutex and \
             count_with_fetch_add, every single increment must reach the shared counter at once (the checks \
             look at it while your threads run); in count_locally_then_sum, nothing shared is touched in the loop.",
            "Mutex: event(thread); *counter.lock().unwrap() += 1; — fetch_add: event(thread); \
             counter.fetch_add(1, Ordering::Relaxed); — local: let mut tally = new_tally(); for .. { event(thread); \
             tally.add_one(); } tally.total() returned from the thread, summed over the joins.",
        ],
        differs: [
            "The Mutex guard lives for one statement, so the lock is held for the increment and nothing else.",
            "fetch_add uses Relaxed: only the count matters, and the scope's join orders every increment before the read.",
        ],
    },
    About {
        lesson: "lesson04_gil",
        hints: [
            "A ticket line: take a number, wait until it is served. The holder counts only the steps it runs while \
             someone waits, and after switch_interval of them it serves the next ticket and queues again.",
            "acquire: take a ticket and wait (in a while loop) on turn_changed. release: now_serving += 1, reset \
             the count, notify_all. before_step: hand over first if someone waits and the count is reached, then \
             count the step only if someone waits.",
            "while state.now_serving != ticket { state = self.turn_changed.wait(state).unwrap(); } — in before_step: \
             if state.waiting() > 0 && state.steps_while_others_wait >= interval { next turn; take a ticket; \
             notify_all; wait for it } if state.waiting() > 0 { state.steps_while_others_wait += 1 }",
        ],
        differs: [
            "It hands the GIL on and queues again under one lock, so the thread that lets go cannot jump the line.",
            "It waits in a while loop and wakes everyone with notify_all: only the next ticket's owner goes on.",
        ],
    },
    About {
        lesson: "lesson05_cores",
        hints: [
            "On Linux an affinity mask belongs to a thread: pid 0 names the calling thread. Where a thread may run \
             (its mask) and where it runs right now (sched_getcpu) are two different questions.",
            "allowed_cores reads sched_getaffinity(Pid::from_raw(0)); current_core asks sched_getcpu(); \
             pin_current_thread builds a CpuSet of one core; run_on_core pins inside the new thread.",
            "let mut set = CpuSet::new(); set.set(core).map_err(|e| format!(\"core {core}: {e}\"))?; \
             sched_setaffinity(Pid::from_raw(0), &set).map_err(...)?; — and run_on_core: scope.spawn(move || { \
             pin_current_thread(core)?; Ok(work()) }).join()",
        ],
        differs: [
            "current_core is sched_getcpu(): the core the thread is on now, not the first one it may use.",
            "A refused core comes back as an Err naming it, before the mask changes; the caller is never pinned.",
        ],
    },
    About {
        lesson: "lesson06_pool_map",
        hints: [
            "A pool you build is used only inside pool.install; inside it, par_iter splits the texts among the \
             pool's threads, and collect keeps the input order by itself.",
            "build_pool: ThreadPoolBuilder with num_threads and thread_name (indices start at 0). The other two: \
             pool.install(|| texts.par_iter()...), one with .collect(), the other with .sum().",
            "pool.install(|| texts.par_iter().map(|text| count_words(text)).collect()) and \
             pool.install(|| texts.par_iter().map(|text| count_words(text)).sum())",
        ],
        differs: [
            "Both maps run inside pool.install, so every count happens on the pool's threads, the total too.",
            "No shared Vec and no lock: collect puts each count at its text's index, sum adds partial sums.",
        ],
    },
    About {
        lesson: "lesson07_io_bound",
        hints: [
            "A request is nearly all waiting, so n workers wait on the server together: each free worker takes \
             the next index from the shared queue in one indivisible step, and holds nothing another worker needs \
             while it waits. A slow login then holds up nobody.",
            "In fetch_all_with_pool: n_workers threads inside std::thread::scope, spawned before any join. Each \
             loops: take an index with next_login.fetch_add(1, Relaxed), stop past the end, fetch_user, keep \
             (index, result) in a Vec of its own, returned from the thread.",
            "let take = || { let i = next_login.fetch_add(1, Ordering::Relaxed); logins.get(i).map(|login| (i, \
             login)) }; — each worker: let mut done = Vec::new(); while let Some((i, login)) = take() { \
             done.push((i, fetch_user(server, login, timeout))); } done — after the joins: slots[i] = \
             Some(result) for every pair, then slots.into_iter().map(Option::unwrap).collect().",
        ],
        differs: [
            "Its workers take indices with one fetch_add each, so no two take the same login and none waits behind another.",
            "No lock at all: each worker's results stay its own until join, then go to their logins' slots.",
        ],
    },
    About {
        lesson: "lesson08_async",
        hints: [
            "On one thread, waiting is free: one task per login, all spawned before any is awaited, each awaiting \
             its own request with its own timeout. The runtime polls whichever is ready; dropping a JoinSet \
             aborts whatever is still running.",
            "In fetch_all_concurrently: a JoinSet; for each (index, login), spawn a task that owns a clone of the \
             login and returns (index, result). The timeout goes inside the task, around fetch_user_async. \
             Then join_next until it gives None.",
            "tasks.spawn(async move { let result = match tokio::time::timeout(timeout, fetch_user_async(server, \
             &login)).await { Ok(result) => result, Err(_) => Err(FetchError::TimedOut { after: timeout }) }; \
             (index, result) }); — and while let Some(done) = tasks.join_next().await { let (i, r) = \
             done.unwrap(); slots[i] = Some(r); }",
        ],
        differs: [
            "Each task starts its own timeout when it makes its request, so a task that got the thread late keeps all its time.",
            "The tasks live in a JoinSet owned by the fetch: a caller that drops the fetch aborts every request.",
        ],
    },
    About {
        lesson: "lesson09_bzip2",
        hints: [
            "Blocks are independent, so a few threads can share them out as they go: whoever is free takes the \
             next block nobody has taken. A slow block then holds up nobody.",
            "In compress_in_blocks_with: input.chunks(block_bytes) (one empty block for an empty input), a shared \
             AtomicUsize as the queue, min(n_threads, blocks) scoped threads, each returning (index, stream) pairs.",
            "loop { let i = next.fetch_add(1, Relaxed); let Some(block) = blocks.get(i) else { return done }; \
             done.push((i, compress(block))); } — then put each stream in streams[i] after the joins and \
             streams.concat().",
        ],
        differs: [
            "Its threads take blocks from one shared counter (fetch_add), so none waits behind a slow block.",
            "Streams travel back through join with their index and are joined in block order at the end.",
        ],
    },
    About {
        lesson: "lesson10_amdahl",
        hints: [
            "Amdahl's law written as a straight line through the origin: y = e · x with x = 1 − 1/N and \
             y = 1/S − 1/N. Refuse what the law cannot produce before computing anything.",
            "serial_fraction: check speedup (NaN, below 1, above N) first, then one worker. fit_parallel_fraction: \
             check every measurement, skip N = 1, Σxy / Σx². workers_needed: solve for n and round up carefully.",
            "let n = p / (1.0 / wanted - (1.0 - p)); let whole = n.round(); if (n - whole).abs() < 1e-9 { whole } \
             else { n.ceil() } — after returning Some(1) for wanted <= 1 and None at or above the ceiling.",
        ],
        differs: [
            "It validates each measurement in one helper that serial_fraction and the fit share.",
            "workers_needed snaps an answer within 1e-9 of a whole number to it before rounding up.",
        ],
    },
    About {
        lesson: "lesson11_distributed",
        hints: [
            "Each stage on its own threads: mappers split and send, reducers receive and add, and a reducer knows \
             it is done only when every Sender of its channel is gone.",
            "split_into_shards: aim each cut, move it forward to whitespace. map_reduce: one channel per reducer, \
             reducers spawned first, each mapper gets clones of all senders, drop the originals, join the reducers.",
            "for (w, shard) in shards { let senders = senders.clone(); scope.spawn(move || { started(Mapper(w)); \
             for_each_word(shard, |word| senders[owner_of(word, n)].send((word.into(), 1)).unwrap()); }); } \
             drop(senders); — a reducer: started(Reducer(r)); for (word, count) in receiver { received(r, &word, \
             count); *counts.entry(word).or_insert(0) += count }",
        ],
        differs: [
            "Its mappers count their shard first (a combiner), so one record per distinct word travels.",
            "It drops the spawning thread's senders before joining the reducers, so their loops can end.",
        ],
    },
];
