//! # Lesson 06 · `pool.map`, and when parallel loses
//!
//! **Objective.** Know what a pool's `map` costs and when it pays. The lecture's word count
//! over 300 short strings, done one after another, with a thread per string, and with pools
//! of threads and of processes: the parallel versions lose, and the lesson shows why. A sweep
//! of input sizes finds the crossover where a pool starts to win. Then the lecture's
//! `count_prime` on its four large numbers, sequentially, with rayon's `par_iter` (Rust's
//! `pool.map`), with a fixed pool of threads and with a pool of forked processes that receive
//! items and return results through pipes (Python's `multiprocessing`). Then load imbalance:
//! what happens when items do not divide evenly among workers, and what chunking does about
//! it. Last, what `map` promises: the order of results, laziness, chunks, how `par_iter` is
//! spread over a pool, and what happens when a worker dies.
//!
//! **What to observe.** A microsecond of work cannot pay for starting a thread or a process,
//! nor for handing an item over: parallel wins only when each hand-off carries enough work.
//! On the large numbers, threads and processes both approach one core's speed per core, and
//! the processes' "cores used" is counted from the CPU time the workers report. With uneven
//! items, the worker that finishes last sets the time; small chunks even the load out, at the
//! price of more hand-offs.
//!
//! **How to run.** `cargo run -p lesson06_pool_map` (add `--quick`, `--json`, `--step`;
//! `--numbers 77000000,74000000,73000000,71000000` picks the count_prime numbers; `--help`
//! lists the knobs). `--quiz --seed S` prints seeded questions on load imbalance instead, and
//! `--answers` reveals their answers, computed by the model of section 4 (`src/imbalance.rs`).

mod imbalance;
mod quiz;

use clap::Parser;
use course::chart::Plot;
use course::table::Table;
use course::timing::{self, Comparison, ComparisonReport, Measurement, Runs, format};
use course::{Lesson, say};
use procpool::{PoolError, ProcessPool};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use workloads::seed::{SEED_DIVISOR_COUNTS, SEED_LINES, SEED_NUMBERS, SEED_WORD_COUNT, count_divisors};

#[derive(Parser, serde::Serialize)]
#[command(
    about = "Lesson 06: what pool.map costs and when it pays. Counts the words of the lecture's 300 \
short strings one after another, with a thread per string and with pools of threads and processes \
(parallel loses), sweeps input sizes to find where a pool starts to win, then runs the lecture's \
count_prime on threads, rayon and a pool of forked processes, with load imbalance and chunking."
)]
struct Args {
    #[command(flatten)]
    common: course::CommonArgs,
    /// Threads, and worker processes in the pools [default: all available cores]
    #[arg(long, value_name = "COUNT", value_parser = course::cli::count(1, 64))]
    workers: Option<usize>,
    /// The numbers count_prime runs on, comma-separated, each from 3 to 2000000000
    /// [default: the lecture's 77000000,74000000,73000000,71000000, or a tenth of each with --quick]
    #[arg(long, value_name = "NUMBERS", value_delimiter = ',', num_args = 1.., value_parser = count_prime_number)]
    numbers: Vec<u64>,
    // `--quiz` and `--answers`: questions on load imbalance instead of the lesson (src/quiz.rs).
    #[command(flatten)]
    #[serde(skip)]
    quiz: course::quiz::QuizArgs,
}

/// A process pool that counts words in strings sent to it.
type WordPool = ProcessPool<String, usize>;
/// A process pool that runs the lecture's `count_prime` on numbers sent to it.
type CountPool = ProcessPool<u64, u64>;

fn main() -> std::process::ExitCode {
    let args: Args = course::parse_args();
    let info = course::info!("pool.map, and when parallel loses");
    if args.quiz.quiz {
        return course::quiz::run(info, &args.common, &args.quiz, quiz::make);
    }
    course::run(info, &args.common, &args, |lesson| {
        if args.numbers.len() > 64 {
            return Err(course::usage_error(format!(
                "{} numbers given to --numbers; at most 64",
                args.numbers.len()
            )));
        }
        let n_workers = args.workers.unwrap_or(lesson.machine().logical_cores);
        let numbers = if args.numbers.is_empty() {
            SEED_NUMBERS.map(|n| lesson.pick(n / 10, n)).to_vec()
        } else {
            args.numbers.clone()
        };
        lesson.param("workers", n_workers);
        lesson.param("numbers", &numbers);

        // Process pools fork, and fork is safe only while this process has one thread. Every
        // thread below is scoped (joined before the next fork), and rayon, whose threads never
        // end, starts only after the last pool has been forked (section 3).
        let mut word_pool = the_lectures_word_count(lesson, n_workers)?;
        overhead_against_problem_size(lesson, &mut word_pool, n_workers)?;
        word_pool.shutdown()?;
        let mut count_pool = count_prime_threads_and_processes(lesson, &numbers, n_workers)?;
        load_imbalance_and_chunking(lesson, &mut count_pool, n_workers)?;
        what_map_means(lesson, count_pool, n_workers)
    })
}

/// Section 1: the lecture's 300 strings, where every parallel version loses.
fn the_lectures_word_count(lesson: &Lesson, n_workers: usize) -> anyhow::Result<WordPool> {
    lesson.section("The lecture's word count: 300 short strings");
    let strings = workloads::seed::seed_strings();
    say!(
        lesson,
        "  {} strings ({:?} and two more lines, 100 times each), {SEED_WORD_COUNT} words in all.",
        strings.len(),
        SEED_LINES[0]
    );
    let chunk = imbalance::python_default_chunk(strings.len(), n_workers);
    let runs = lesson.pick(3, 7);
    let mut comparison = Comparison::new("word count of the lecture's 300 strings").repeats(1, runs);
    comparison.variant("sequential", 1, || word_count_sequential(&strings));
    comparison.variant("a thread per string", strings.len(), || {
        word_count_thread_per_string(&strings)
    });
    comparison.variant("thread pool, started per call", n_workers, || {
        word_count_thread_pool(&strings, n_workers, chunk)
    });
    // The lecture's `parallel_word_count` creates `Pool(processes=4)` inside the function:
    // every call forks the workers, sends the strings, collects, and reaps the workers.
    let (answers, runs_measured) =
        repeat_fallible(1, runs, || word_count_process_pool_per_call(&strings, n_workers, chunk))?;
    comparison.add_measured("process pool, started per call", n_workers, answers, runs_measured);
    // The same pool kept running, as the lecture's later cells do: only the hand-offs remain.
    let mut pool: WordPool = ProcessPool::start(n_workers, |text: String| workloads::seed::word_count(&text))?;
    let (answers, runs_measured) = repeat_on_pool(1, runs, || {
        let (counts, measurement) = pool.measured_map(strings.iter().copied(), chunk)?;
        Ok((counts.iter().sum::<usize>(), measurement))
    })?;
    comparison.add_measured("process pool, already running", n_workers, answers, runs_measured);
    let report = lesson.compare(comparison)?;
    if report.answer != SEED_WORD_COUNT.to_string() {
        anyhow::bail!(
            "the word count came to {}, not the lecture's {SEED_WORD_COUNT}",
            report.answer
        );
    }

    let sequential = row_time(&report, 0);
    let per_string_threads = row_time(&report, 1);
    say!(lesson);
    say!(
        lesson,
        "  All 300 strings take {} one after another: the work is tiny. Starting 300 threads took {} instead,",
        format::seconds(sequential),
        format::seconds(per_string_threads)
    );
    say!(
        lesson,
        "  and a pool still pays to start (fork, pipes) or to hand every chunk to a worker and collect its result."
    );
    say!(
        lesson,
        "  A pool of processes also copies each string into a pipe, and each count back: {} sent per call.",
        format::bytes(pool.last_map().bytes_sent)
    );
    lesson.figure("word_count", SEED_WORD_COUNT);
    lesson.figure("chunk_size", chunk);
    lesson.notice(
        "Every parallel version loses to the plain loop: a microsecond of work cannot pay for starting threads or processes, or even for handing items over. Parallelize only when the work outweighs that overhead.",
    );
    Ok(pool)
}

/// Section 2: the same word count on ever larger inputs, to find where a pool starts to win.
fn overhead_against_problem_size(lesson: &Lesson, pool: &mut WordPool, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("Overhead against problem size: where a pool starts to win");
    let sizes: Vec<usize> = lesson.pick(vec![300, 3_000, 30_000], vec![300, 3_000, 30_000, 300_000, 3_000_000]);
    say!(
        lesson,
        "  The lecture's lines repeated to make inputs from {} to {} strings; each variant counts every word.",
        format::count(sizes[0] as u64),
        format::count(sizes[sizes.len() - 1] as u64)
    );
    let mut thread_points = Vec::new();
    let mut process_points = Vec::new();
    let mut sweep = Vec::new();
    for &size in &sizes {
        let strings: Vec<&str> = SEED_LINES.iter().copied().cycle().take(size).collect();
        let chunk = imbalance::python_default_chunk(size, n_workers);
        let runs = if size >= 1_000_000 {
            lesson.pick(1, 3)
        } else {
            lesson.pick(3, 5)
        };
        say!(lesson);
        say!(
            lesson,
            "  {} strings (chunks of {}):",
            format::count(size as u64),
            format::count(chunk as u64)
        );
        let mut comparison = Comparison::new(format!("word count of {size} strings")).repeats(1, runs);
        comparison.variant("sequential", 1, || word_count_sequential(&strings));
        comparison.variant("thread pool", n_workers, || {
            word_count_thread_pool(&strings, n_workers, chunk)
        });
        let (answers, measured) = repeat_on_pool(1, runs, || {
            let (counts, measurement) = pool.measured_map(strings.iter().copied(), chunk)?;
            Ok((counts.iter().sum::<usize>(), measurement))
        })?;
        comparison.add_measured("process pool", n_workers, answers, measured);
        let report = lesson.compare(comparison)?;
        thread_points.push((size as f64, report.rows[1].speedup));
        process_points.push((size as f64, report.rows[2].speedup));
        sweep.push(serde_json::json!({
            "strings": size,
            "chunk": chunk,
            "sequential_s": report.rows[0].median_s,
            "thread_pool_speedup": report.rows[1].speedup,
            "process_pool_speedup": report.rows[2].speedup,
        }));
    }

    say!(lesson);
    let mut plot = Plot::new("strings (log scale)", "speedup over sequential")
        .log_x()
        .size(56, 12);
    plot.series(
        "break-even (1×)",
        '·',
        sizes.iter().map(|&size| (size as f64, 1.0)).collect(),
    );
    plot.series("process pool", 'o', process_points.clone());
    plot.series("thread pool", '*', thread_points.clone());
    lesson.plot(&plot);
    let threads_cross = crossover(&thread_points);
    let processes_cross = crossover(&process_points);
    say!(lesson);
    say!(lesson, "  thread pool:  {}", describe_crossover(threads_cross, &sizes));
    say!(
        lesson,
        "  process pool: {}",
        describe_crossover(processes_cross, &sizes)
    );
    lesson.figure("sweep", sweep);
    lesson.figure("thread_pool_crossover_strings", crossover_figure(threads_cross));
    lesson.figure("process_pool_crossover_strings", crossover_figure(processes_cross));
    let threads_line = match threads_cross {
        Some(size) if size > 0.0 => format!(
            "the thread pool won from about {} strings",
            format::count(size.round() as u64)
        ),
        Some(_) => "the thread pool won at every size".to_string(),
        None => "the thread pool never won here (is the machine busy? see cores used)".to_string(),
    };
    lesson.notice(&format!(
        "The overhead is fixed per call and per chunk while the work grows with the input: {threads_line}. The process pool must also copy every string through a pipe, which costs about as much as counting its words, so it wins later or never."
    ));
    Ok(())
}

/// Section 3: the lecture's count_prime, where every worker has real work to do.
fn count_prime_threads_and_processes(lesson: &Lesson, numbers: &[u64], n_workers: usize) -> anyhow::Result<CountPool> {
    lesson.section("count_prime on large numbers: rayon, threads and processes");
    let iterations: u64 = numbers.iter().map(|n| n.saturating_sub(3)).sum();
    say!(
        lesson,
        "  count_prime(n) tries every i from 2 to n-2 and counts those that divide n: despite its name it counts divisors."
    );
    say!(
        lesson,
        "  On {} numbers that is {} iterations. The lecture's Python took 26.5 s one after another and 15.3 s with",
        numbers.len(),
        format::count(iterations)
    );
    say!(
        lesson,
        "  Pool(4) on a 4-CPU machine: 1.73×, an efficiency of 0.43. Rust does an iteration in about 2 ns, Python in about 65."
    );
    // Forked now, before rayon starts its threads: after that this process could not fork.
    let mut pool: CountPool = ProcessPool::start(n_workers, count_divisors)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n_workers)
        .build_global()
        .map_err(|error| anyhow::anyhow!("rayon's pool could not start: {error}"))?;

    let runs = lesson.pick(1, 3);
    let mut comparison = Comparison::new(format!("count_prime on {} numbers", numbers.len())).repeats(0, runs);
    let mut computed = Vec::new();
    comparison.variant("sequential", 1, || {
        computed = count_prime_sequential(numbers);
        computed.clone()
    });
    comparison.variant("rayon par_iter", n_workers, || count_prime_rayon(numbers));
    comparison.variant("thread pool", n_workers, || count_prime_thread_pool(numbers, n_workers));
    let (answers, measured) = repeat_on_pool(0, runs, || pool.measured_map(numbers, 1))?;
    comparison.add_measured("process pool", n_workers, answers, measured);
    let report = lesson.compare(comparison)?;

    // Correct before fast: the answers agreed; now check them against the truth.
    let counts: Vec<u64> = numbers.iter().map(|&n| divisors_by_factoring(n)).collect();
    let (expected, source) = if numbers == SEED_NUMBERS {
        (SEED_DIVISOR_COUNTS.to_vec(), "the lecture's own answers")
    } else {
        (counts.clone(), "counting divisors by factoring each number")
    };
    if computed != expected || counts != expected {
        anyhow::bail!("count_prime computed {computed:?} but {source} give {expected:?}");
    }
    say!(lesson);
    say!(lesson, "  The answers {computed:?} match {source}.");
    let process = &report.rows[3];
    say!(
        lesson,
        "  The process pool's workers stay alive between runs, so the kernel charges their CPU to nobody yet; each worker"
    );
    say!(
        lesson,
        "  sends its own CPU clock with its results, and the {:.2} cores used above counts {} of worker CPU.",
        process.cores_used,
        format::seconds(process.median.children.as_secs_f64())
    );
    let model = imbalance::schedule(&costs(numbers), n_workers, 1);
    if model.efficiency() < 0.999 {
        let why = if numbers.len() < n_workers {
            format!("{} number(s) cannot keep {n_workers} workers busy", numbers.len())
        } else {
            format!(
                "{} numbers of unequal size do not split evenly over {n_workers} workers",
                numbers.len()
            )
        };
        say!(
            lesson,
            "  Even a perfect machine could not beat {} here: {why} (section 4).",
            format::times(model.speedup())
        );
    }
    lesson.figure("divisor_counts", &counts);
    lesson.figure("answers_checked_against", source);
    lesson.figure("iterations", iterations);
    lesson.figure("best_possible_speedup", model.speedup());
    let efficiency = |row: usize| report.rows[row].efficiency.map_or("–".to_string(), format::percent);
    lesson.notice(&format!(
        "With seconds of work per item the overhead vanishes: efficiency {} with rayon, {} with the thread pool and {} with processes, against Python's 43%. Threads and processes do equally well when items are few and large.",
        efficiency(1),
        efficiency(2),
        efficiency(3)
    ));
    Ok(pool)
}

/// Section 4: uneven items, the model's prediction, and chunk sizes measured.
fn load_imbalance_and_chunking(lesson: &Lesson, pool: &mut CountPool, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("Load imbalance, and what chunking does");
    say!(
        lesson,
        "  A pool is done when its last worker is. The lecture's four numbers, on more and more workers (a model, no timing):"
    );
    let seed_costs = costs(&SEED_NUMBERS);
    let mut table = Table::new(&["workers", "who computes what", "makespan", "best speedup", "efficiency"]).left(1);
    let mut model_rows = Vec::new();
    for workers in 1..=6 {
        let schedule = imbalance::schedule(&seed_costs, workers, 1);
        let who: Vec<String> = schedule
            .workers
            .iter()
            .map(|worker| {
                let numbers: Vec<String> = worker
                    .items
                    .iter()
                    .map(|&i| format!("{}M", SEED_NUMBERS[i] / 1_000_000))
                    .collect();
                if numbers.is_empty() {
                    "-".to_string()
                } else {
                    numbers.join("+")
                }
            })
            .collect();
        table.row([
            workers.to_string(),
            who.join(" | "),
            format!("{}M", format::significant(schedule.makespan / 1e6)),
            format::times(schedule.speedup()),
            format::percent(schedule.efficiency()),
        ]);
        model_rows.push(serde_json::json!({
            "workers": workers, "speedup": schedule.speedup(), "efficiency": schedule.efficiency(),
        }));
    }
    lesson.table(&table);
    say!(
        lesson,
        "  Three workers are barely faster than two: the fourth number waits for the first worker to be free."
    );

    // Measured: many items of growing size, handed out in chunks of different sizes.
    let n_items = 96;
    let step = lesson.pick(1_000, 36_000);
    let items: Vec<u64> = (1..=n_items as u64).map(|k| k * step).collect();
    let item_costs = costs(&items);
    say!(lesson);
    say!(
        lesson,
        "  Measured: {n_items} numbers growing from {} to {}, so later items cost more, on the process pool:",
        format::count(items[0]),
        format::count(items[n_items - 1])
    );
    let chunks = [
        (1, "chunks of 1".to_string()),
        (
            imbalance::python_default_chunk(n_items, n_workers),
            "Python's default".to_string(),
        ),
        (
            imbalance::one_chunk_per_worker(n_items, n_workers),
            "one chunk per worker".to_string(),
        ),
    ];
    let runs = lesson.pick(1, 2);
    let mut comparison = Comparison::new(format!("count_prime on {n_items} growing numbers")).repeats(0, runs);
    comparison.variant("sequential", 1, || Counts(count_prime_sequential(&items)));
    let mut predictions = Vec::new();
    for (chunk, why) in &chunks {
        let (answers, measured) = repeat_on_pool(0, runs, || {
            pool.measured_map(&items, *chunk)
                .map(|(counts, measurement)| (Counts(counts), measurement))
        })?;
        comparison.add_measured(format!("chunk {chunk} ({why})"), n_workers, answers, measured);
        predictions.push((
            *chunk,
            imbalance::schedule(&item_costs, n_workers, *chunk),
            pool.last_map().chunks,
        ));
    }
    let report = lesson.compare(comparison)?;
    say!(lesson);
    let mut table = Table::new(&["chunk size", "messages", "predicted speedup", "measured speedup"]);
    let mut chunk_rows = Vec::new();
    for (row, (chunk, schedule, messages)) in report.rows.iter().skip(1).zip(&predictions) {
        table.row([
            chunk.to_string(),
            messages.to_string(),
            format::times(schedule.speedup()),
            format::times(row.speedup),
        ]);
        chunk_rows.push(serde_json::json!({
            "chunk": chunk, "messages": messages, "predicted_speedup": schedule.speedup(), "measured_speedup": row.speedup,
        }));
    }
    lesson.table(&table);
    lesson.figure("seed_numbers_model", model_rows);
    lesson.figure("chunking", chunk_rows);
    lesson.notice(
        "One chunk per worker is decided up front and leaves the worker with the light half idle; small chunks let whoever is free take the next piece, at one message each. Python's default, four chunks per worker, sits between the two.",
    );
    Ok(())
}

/// Section 5: what `map` promises, shown on rayon and the process pool.
fn what_map_means(lesson: &Lesson, mut pool: CountPool, n_workers: usize) -> anyhow::Result<()> {
    lesson.section("What map means: order, laziness, chunks, and a worker that dies");
    let scale = lesson.pick(100_000, 1_000_000);

    // Order: results come back in item order, whatever order they were finished in.
    let sizes = [30, 2, 15, 2, 8, 2];
    let items: Vec<u64> = sizes.iter().map(|k| k * scale).collect();
    let arrived = pool.map_in_completion_order(&items, 1)?;
    let in_order = pool.map(&items, 1)?;
    let finished: Vec<usize> = arrived.iter().map(|(index, _)| *index).collect();
    let in_order_expected: Vec<u64> = items.iter().map(|&n| divisors_by_factoring(n)).collect();
    say!(
        lesson,
        "  Order. Six numbers costing {sizes:?} units of {} iterations, on {n_workers} worker processes:",
        format::count(scale)
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
    if in_order != in_order_expected {
        anyhow::bail!("the pool's map returned {in_order:?}, expected {in_order_expected:?}");
    }

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
    let after_two = calls.load(Ordering::Relaxed);
    calls.store(0, Ordering::Relaxed);
    let parallel = items.par_iter().map(count_call);
    let after_par_map = calls.load(Ordering::Relaxed);
    let collected: Vec<u64> = parallel.collect();
    let after_collect = calls.load(Ordering::Relaxed);
    say!(lesson);
    say!(
        lesson,
        "  Laziness. `iter().map(f)` called f {after_map} times; `.take(2).collect()` then {after_two} times ({} results).",
        first_two.len()
    );
    say!(
        lesson,
        "    `par_iter().map(f)` called f {after_par_map} times; `.collect()` then {after_collect} ({} results). Python's map is lazy too;",
        collected.len()
    );
    say!(
        lesson,
        "    Pool.map is not: it sends every item and waits for every result before it returns."
    );

    // How par_iter spreads items over rayon's pool: halves, split again while threads are idle.
    let step = lesson.pick(2_000, 20_000);
    let uneven: Vec<u64> = (1..=32u64).map(|k| k * step).collect();
    let ran_on: Vec<usize> = uneven
        .par_iter()
        .map(|&n| {
            std::hint::black_box(count_divisors(n));
            rayon::current_thread_index().unwrap_or(0)
        })
        .collect();
    say!(lesson);
    say!(
        lesson,
        "  par_iter on a pool of {} threads: 32 items, item k costing k units. Who ran what:",
        rayon::current_num_threads()
    );
    let mut pieces = pieces_per_thread(&ran_on);
    for thread in 0..rayon::current_num_threads() {
        pieces.entry(thread).or_default();
    }
    for (thread, runs) in &pieces {
        let text: Vec<String> = runs
            .iter()
            .map(|(a, b)| if a == b { a.to_string() } else { format!("{a}–{b}") })
            .collect();
        if runs.is_empty() {
            say!(
                lesson,
                "    rayon thread {thread}: nothing (it was not awake in time to steal any)"
            );
        } else {
            say!(
                lesson,
                "    rayon thread {thread}: items {} ({} piece{})",
                text.join(", "),
                runs.len(),
                if runs.len() == 1 { "" } else { "s" }
            );
        }
    }
    say!(
        lesson,
        "    rayon halves the range, and halves again whenever a thread is idle and steals the other half:"
    );
    say!(
        lesson,
        "    chunks adapt to the load, where pool.map's are fixed; `.with_min_len(k)` stops splitting below k items."
    );

    // A worker dies in the middle of an item, as the kernel's out-of-memory killer would do it.
    say!(lesson);
    if n_workers >= 2 {
        let doomed: Vec<u64> = vec![scale / 10, 3_000 * scale, 10 * scale, 10 * scale];
        let victim = pool.worker_pids()[1];
        let mut killed = false;
        let (outcome, took) = timing::measure(|| {
            pool.map_with(&doomed, 1, |_, _| {
                if !killed {
                    // The small item 0 is back; worker 1 has had time to start the huge item 1.
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    let _ =
                        nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), nix::sys::signal::Signal::SIGKILL);
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
        lesson.figure(
            "worker_death",
            serde_json::json!({ "reported": true, "item": item, "message": error.to_string() }),
        );
    } else {
        say!(
            lesson,
            "  (With one worker there is no second one to kill while the first reports: skipped.)"
        );
        lesson.figure("worker_death", serde_json::json!({ "reported": false, "item": null }));
    }
    say!(
        lesson,
        "    Python's multiprocessing.Pool.map would wait forever here; concurrent.futures raises BrokenProcessPool."
    );
    drop(pool);

    lesson.figure("completion_order", &finished);
    lesson.figure("results_in_item_order", true);
    lesson.figure("lazy_calls", serde_json::json!({
        "after_map": after_map, "after_take_2": after_two, "after_par_map": after_par_map, "after_collect": after_collect,
    }));
    lesson.figure(
        "rayon_pieces",
        pieces
            .iter()
            .map(|(thread, runs)| (thread.to_string(), runs.len()))
            .collect::<std::collections::BTreeMap<_, _>>(),
    );
    lesson.notice(
        "map keeps item order, whatever order the work finished in; it runs nothing until its results are asked for (Pool.map asks at once); chunks decide how work is shared; and one dead worker fails the whole map, which a good pool reports instead of hanging.",
    );
    Ok(())
}

/// Counts words string by string on this thread: the lecture's `sequential_word_count`.
fn word_count_sequential(strings: &[&str]) -> usize {
    strings.iter().map(|text| workloads::seed::word_count(text)).sum()
}

/// A new thread for every string, all started then all joined: `concurrent_word_count`.
fn word_count_thread_per_string(strings: &[&str]) -> usize {
    std::thread::scope(|scope| {
        let threads: Vec<_> = strings
            .iter()
            .map(|text| scope.spawn(move || workloads::seed::word_count(text)))
            .collect();
        threads.into_iter().map(join).sum()
    })
}

/// `n_threads` threads started for this call, taking `chunk` strings at a time; each thread
/// adds up its own counts, and the threads' totals are added at the end.
fn word_count_thread_pool(strings: &[&str], n_threads: usize, chunk: usize) -> usize {
    let chunk = chunk.max(1);
    let next_chunk = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n_threads.clamp(1, strings.len().div_ceil(chunk).max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut words = 0;
                    // Relaxed is enough: the counter only hands out distinct chunk numbers, and
                    // each thread's total travels back through `join`.
                    while let Some(texts) = strings.chunks(chunk).nth(next_chunk.fetch_add(1, Ordering::Relaxed)) {
                        words += texts
                            .iter()
                            .map(|text| workloads::seed::word_count(text))
                            .sum::<usize>();
                    }
                    words
                })
            })
            .collect();
        threads.into_iter().map(join).sum()
    })
}

/// `n_workers` processes forked for this call, fed the strings through pipes, then reaped:
/// the lecture's `Pool(processes=4)` inside `parallel_word_count`.
fn word_count_process_pool_per_call(strings: &[&str], n_workers: usize, chunk: usize) -> anyhow::Result<usize> {
    let mut pool: WordPool = ProcessPool::start(n_workers, |text: String| workloads::seed::word_count(&text))?;
    let counts = pool.map(strings.iter().copied(), chunk)?;
    pool.shutdown()?;
    Ok(counts.into_iter().sum())
}

/// count_prime on every number, one after another on this thread.
fn count_prime_sequential(numbers: &[u64]) -> Vec<u64> {
    numbers.iter().map(|&n| count_divisors(n)).collect()
}

/// The same with rayon's `par_iter`: Rust's `pool.map` over rayon's global pool of threads.
fn count_prime_rayon(numbers: &[u64]) -> Vec<u64> {
    numbers.par_iter().map(|&n| count_divisors(n)).collect()
}

/// The same on `n_threads` threads, each taking the next number nobody has taken.
fn count_prime_thread_pool(numbers: &[u64], n_threads: usize) -> Vec<u64> {
    map_on_thread_pool(numbers, n_threads, 1, |&n| count_divisors(n))
}

/// `work` on every item, on `n_threads` scoped threads that take `chunk` consecutive items at
/// a time from a shared counter; results in item order.
fn map_on_thread_pool<T: Sync, R: Send>(
    items: &[T],
    n_threads: usize,
    chunk: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let chunk = chunk.max(1);
    let next_chunk = AtomicUsize::new(0);
    let n_chunks = items.len().div_ceil(chunk);
    let mut results: Vec<Option<R>> = std::iter::repeat_with(|| None).take(items.len()).collect();
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n_threads.clamp(1, n_chunks.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // Relaxed is enough: the counter only hands out distinct chunk numbers;
                        // the items are read-only and results travel back through `join`.
                        let taken = next_chunk.fetch_add(1, Ordering::Relaxed);
                        if taken >= n_chunks {
                            return done;
                        }
                        let first = taken * chunk;
                        for (index, item) in items.iter().enumerate().skip(first).take(chunk) {
                            done.push((index, work(item)));
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            for (index, result) in join(thread) {
                results[index] = Some(result);
            }
        }
    });
    results.into_iter().flatten().collect()
}

/// Joins a scoped thread; a panic inside it continues in this thread.
fn join<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// The number of divisors of `n` other than 1 and `n`, from its prime factors: what
/// count_prime returns, computed in microseconds instead of seconds, to check it.
fn divisors_by_factoring(n: u64) -> u64 {
    if n < 4 {
        return count_divisors(n);
    }
    let (mut rest, mut divisors, mut factor) = (n, 1u64, 2u64);
    while factor * factor <= rest {
        let mut exponent = 0;
        while rest % factor == 0 {
            rest /= factor;
            exponent += 1;
        }
        divisors *= exponent + 1;
        factor += if factor == 2 { 1 } else { 2 };
    }
    if rest > 1 {
        divisors *= 2;
    }
    divisors - 2
}

/// count_prime's cost for each number: its iterations, `range(2, n-1)`.
fn costs(numbers: &[u64]) -> Vec<f64> {
    numbers.iter().map(|&n| n.saturating_sub(3) as f64).collect()
}

/// Where a speedup curve crosses 1, by interpolating in log(size) between the last size where
/// parallel lost and the first where it won for good. `Some(0.0)` if it never lost; `None`
/// if it never won.
fn crossover(points: &[(f64, f64)]) -> Option<f64> {
    let last_loss = points.iter().rposition(|&(_, speedup)| speedup <= 1.0);
    match last_loss {
        None => Some(0.0),
        Some(index) if index + 1 == points.len() => None,
        Some(index) => {
            let ((x0, s0), (x1, s1)) = (points[index], points[index + 1]);
            let fraction = (1.0 - s0) / (s1 - s0);
            Some(10f64.powf(x0.log10() + fraction * (x1.log10() - x0.log10())))
        }
    }
}

fn describe_crossover(crossing: Option<f64>, sizes: &[usize]) -> String {
    match crossing {
        Some(0.0) => format!(
            "already faster at the smallest size, {} strings",
            format::count(sizes[0] as u64)
        ),
        Some(size) => format!("starts to win at about {} strings", format::count(size.round() as u64)),
        None => format!(
            "did not win at any size up to {} strings",
            format::count(sizes[sizes.len() - 1] as u64)
        ),
    }
}

fn crossover_figure(crossing: Option<f64>) -> serde_json::Value {
    crossing.map_or(serde_json::Value::Null, |size| serde_json::json!(size.round()))
}

/// For each rayon thread, the runs of consecutive items it computed: `(first, last)` each.
fn pieces_per_thread(ran_on: &[usize]) -> std::collections::BTreeMap<usize, Vec<(usize, usize)>> {
    let mut pieces: std::collections::BTreeMap<usize, Vec<(usize, usize)>> = Default::default();
    for (index, &thread) in ran_on.iter().enumerate() {
        let runs = pieces.entry(thread).or_default();
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == index => *last = index,
            _ => runs.push((index, index)),
        }
    }
    pieces
}

/// count_prime's answers for many numbers: compared in full, printed in short.
#[derive(PartialEq)]
struct Counts(Vec<u64>);

impl std::fmt::Debug for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} divisor counts, {} in all",
            self.0.len(),
            self.0.iter().sum::<u64>()
        )
    }
}

/// The median time of a comparison's row, in seconds.
fn row_time(report: &ComparisonReport, row: usize) -> f64 {
    report.rows.get(row).map_or(0.0, |row| row.median_s)
}

/// Like `timing::repeat`, for work that can fail: warm-up runs, then measured runs; the first
/// error stops it.
fn repeat_fallible<A>(
    warmup: usize,
    runs: usize,
    mut work: impl FnMut() -> anyhow::Result<A>,
) -> anyhow::Result<(Vec<A>, Runs)> {
    for _ in 0..warmup {
        work()?;
    }
    let mut answers = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..runs.max(1) {
        let (answer, measurement) = timing::measure(&mut work);
        answers.push(answer?);
        samples.push(measurement);
    }
    Ok((answers, Runs { samples }))
}

/// Warm-up runs, then measured runs of a map on a running process pool, each measured by the
/// pool itself so that the workers' CPU time is counted.
fn repeat_on_pool<A>(
    warmup: usize,
    runs: usize,
    mut map: impl FnMut() -> Result<(A, Measurement), PoolError>,
) -> Result<(Vec<A>, Runs), PoolError> {
    for _ in 0..warmup {
        map()?;
    }
    let mut answers = Vec::new();
    let mut samples = Vec::new();
    for _ in 0..runs.max(1) {
        let (answer, measurement) = map()?;
        answers.push(answer);
        samples.push(measurement);
    }
    Ok((answers, Runs { samples }))
}

/// `--numbers` values: count_prime needs n ≥ 3, and 2 billion iterations already take seconds.
fn count_prime_number(text: &str) -> Result<u64, String> {
    let number: i128 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a whole number"))?;
    if !(3..=2_000_000_000).contains(&number) {
        return Err(format!(
            "{number} is out of range: from 3 to 2000000000 (larger would take minutes)"
        ));
    }
    Ok(number as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factoring_agrees_with_count_prime() {
        for n in 3..3000 {
            assert_eq!(divisors_by_factoring(n), count_divisors(n), "n = {n}");
        }
        let counts: Vec<u64> = SEED_NUMBERS.iter().map(|&n| divisors_by_factoring(n)).collect();
        assert_eq!(counts, SEED_DIVISOR_COUNTS);
    }

    #[test]
    fn every_word_count_version_counts_the_lecture_strings_alike() {
        let strings = workloads::seed::seed_strings();
        assert_eq!(word_count_sequential(&strings), SEED_WORD_COUNT);
        assert_eq!(word_count_thread_per_string(&strings), SEED_WORD_COUNT);
        for (threads, chunk) in [(1, 1), (2, 19), (3, 7), (8, 300), (4, 1000)] {
            assert_eq!(word_count_thread_pool(&strings, threads, chunk), SEED_WORD_COUNT);
        }
    }

    #[test]
    fn count_prime_versions_agree_on_small_numbers() {
        let numbers = [7_700, 7_400, 7_300, 7_100, 12, 97];
        let expected = count_prime_sequential(&numbers);
        assert_eq!(count_prime_rayon(&numbers), expected);
        assert_eq!(count_prime_thread_pool(&numbers, 3), expected);
        assert_eq!(map_on_thread_pool(&numbers, 2, 4, |&n| count_divisors(n)), expected);
    }

    #[test]
    fn crossovers_are_found_between_sizes() {
        let never = [(300.0, 0.1), (3000.0, 0.5)];
        assert_eq!(crossover(&never), None);
        let always = [(300.0, 1.5), (3000.0, 1.9)];
        assert_eq!(crossover(&always), Some(0.0));
        // Speedup 0.5 at 1,000 and 1.5 at 100,000: crosses 1 halfway in log scale, at 10,000.
        let crossing = crossover(&[(1_000.0, 0.5), (100_000.0, 1.5)]).unwrap();
        assert!((crossing - 10_000.0).abs() < 1e-6, "{crossing}");
        // A dip below 1 after a win counts: the crossover is after the last loss.
        let wobbly = crossover(&[(10.0, 1.2), (100.0, 0.9), (1000.0, 1.1)]).unwrap();
        assert!(wobbly > 100.0 && wobbly < 1000.0);
    }

    #[test]
    fn pieces_are_runs_of_consecutive_items() {
        let pieces = pieces_per_thread(&[0, 0, 1, 1, 0, 2]);
        assert_eq!(pieces[&0], vec![(0, 1), (4, 4)]);
        assert_eq!(pieces[&1], vec![(2, 3)]);
        assert_eq!(pieces[&2], vec![(5, 5)]);
    }

    #[test]
    fn numbers_out_of_range_are_refused() {
        assert_eq!(count_prime_number("77000000"), Ok(77_000_000));
        assert!(count_prime_number("2").is_err());
        assert!(count_prime_number("-5").is_err());
        assert!(count_prime_number("abc").is_err());
        assert!(count_prime_number("99999999999999999999999").is_err());
    }
}
