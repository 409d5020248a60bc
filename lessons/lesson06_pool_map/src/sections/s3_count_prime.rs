//! Section 3: the lecture's count_prime, where every worker has real work to do; then the notes'
//! own Python on smaller numbers, with Rust timed on them too (`python/pool_map.py`).

use crate::Params;
use crate::answers::{DivisorCounts, divisors_by_factoring};
use crate::cpython::{self, PerIteration};
use crate::imbalance;
use crate::pool_map::{count_prime, map_rayon, map_sequential, map_thread_pool, python_default_chunk};
use crate::pools::{measured_on, process_pool, rayon_pool, threads_refused};
use course::timing::{Comparison, ComparisonReport, VariantRow, format};
use course::{Lesson, say};
use workloads::seed::{SEED_DIVISOR_COUNTS, SEED_NUMBERS};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n, numbers) = (p.n_workers, &p.numbers.clone());
    let iterations: u64 = numbers.iter().map(|n| n.saturating_sub(3)).sum();
    say!(
        lesson,
        "  count_prime(n) counts the i in 2..n-2 dividing n: {} iterations on {}.",
        format::count(iterations),
        format::plural(numbers.len() as u64, "number")
    );
    // The process pool forks first: no thread of this process may be running then. rayon's
    // pool starts after it, and ends with this section.
    let mut pool = process_pool(n, "count_prime", count_prime)?;
    let rayon = rayon_pool(n)?;
    let chunk = python_default_chunk(numbers.len(), n);
    let mut comparison =
        Comparison::new(format!("count_prime on {} numbers", numbers.len())).repeats(0, lesson.pick(1, 3));
    let mut computed = Vec::new();
    comparison.try_variant("sequential", 1, || {
        computed = map_sequential(numbers, count_prime, n)?;
        std::io::Result::Ok(DivisorCounts(computed.clone()))
    })?;
    comparison.try_variant("rayon par_iter", n, || {
        rayon.install(|| map_rayon(numbers, count_prime, n)).map(DivisorCounts)
    })?;
    comparison
        .try_variant("thread pool", n, || {
            map_thread_pool(numbers, count_prime, n).map(DivisorCounts)
        })
        .map_err(threads_refused(n))?;
    comparison.try_variant_measured("process pool", n, || {
        measured_on(&mut pool, |pool| pool.map(numbers, chunk)).map(|(counts, m)| (DivisorCounts(counts), m))
    })?;
    drop(rayon);
    let report = lesson.compare(comparison)?;
    // Rust on CPython's smaller numbers, on the same pool, for the CPython/Rust ratios below.
    let scaled = p.cpython_numbers.clone();
    let mut beside = Comparison::new(format!("count_prime on {}, Rust and CPython", scaled.described()));
    if p.python.interpreter().is_some() {
        let chunk = python_default_chunk(scaled.numbers.len(), n);
        beside.try_variant("sequential", 1, || {
            map_sequential(&scaled.numbers, count_prime, n).map(DivisorCounts)
        })?;
        beside.try_variant_measured("process pool", n, || {
            measured_on(&mut pool, |pool| pool.map(&scaled.numbers, chunk))
                .map(|(counts, m)| (DivisorCounts(counts), m))
        })?;
    }
    pool.shutdown()?;

    // Correct before fast: the answers agreed; now check them against the truth.
    let counts: Vec<u64> = numbers.iter().map(|&n| divisors_by_factoring(n)).collect();
    let (expected, source) = if numbers[..] == SEED_NUMBERS {
        (SEED_DIVISOR_COUNTS.to_vec(), "the lecture's own answers")
    } else {
        (counts.clone(), "counting divisors by factoring each number")
    };
    let right = computed == expected && counts == expected;
    lesson.checked(right, format!("{} match {source}", DivisorCounts(computed.clone())));
    anyhow::ensure!(
        right,
        "count_prime computed {computed:?} but {source} give {expected:?}"
    );
    let process = &report.rows[3];
    say!(
        lesson,
        "  Pool workers report their own CPU (not yet charged by the kernel): {} of the {:.2} cores used.",
        format::seconds(process.median.children.as_secs_f64()),
        process.cores_used
    );
    let costs: Vec<f64> = numbers.iter().map(|&n| n.saturating_sub(3) as f64).collect();
    let model = imbalance::schedule(&costs, n, chunk);
    if model.efficiency() < 0.999 {
        say!(
            lesson,
            "  {}",
            against_the_bound(model.speedup(), &report.rows[1..], numbers.len(), n)
        );
    }
    lesson.figure("divisor_counts", &counts);
    lesson.figure("answers_checked_against", source);
    lesson.figure("iterations", iterations);
    lesson.figure("best_possible_speedup", model.speedup());
    let per_iteration = beside_cpython(lesson, p, beside)?;
    lesson.figure("cpython_per_iteration", &per_iteration);
    let per_item = report.rows[0].median_s / numbers.len() as f64;
    let here = if report.disturbed {
        " in this disturbed run (⚠ above)"
    } else {
        ""
    };
    lesson.notice(&format!(
        "With {} of work per number, the pools reach efficiency {} (rayon), {} (threads) and {} \
         (processes){here}. {}",
        format::seconds(per_item),
        efficiency(&report.rows[1]),
        efficiency(&report.rows[2]),
        efficiency(&report.rows[3]),
        threads_against_processes(&report.rows[2], &report.rows[3])
    ));
    Ok(())
}

/// CPython's count_prime rows beside Rust's in `beside` (Rust's timed on the same numbers), once
/// its answers equal Rust's: a compact table, and what one iteration costs in each. `None`
/// without a working Python.
fn beside_cpython(
    lesson: &Lesson,
    p: &mut Params,
    mut beside: Comparison<DivisorCounts>,
) -> anyhow::Result<Option<PerIteration>> {
    cpython::run_once(lesson, p);
    let Some(twin) = &p.twin else {
        return Ok(None);
    };
    let expected = DivisorCounts(
        p.cpython_numbers
            .numbers
            .iter()
            .map(|&n| divisors_by_factoring(n))
            .collect(),
    );
    let added = p.python.add_rows(
        lesson,
        &mut beside,
        twin,
        "count_prime",
        &expected,
        cpython::divisor_counts,
    );
    if added.len() < 2 {
        return Ok(None);
    }
    let report: ComparisonReport = lesson.compare_quietly(beside)?;
    let pairs = [(added[0].as_str(), "sequential"), (added[1].as_str(), "process pool")];
    Ok(cpython::show_scaled(
        lesson,
        &report,
        &p.cpython_numbers,
        &p.python.label(),
        &pairs,
    ))
}

fn efficiency(row: &VariantRow) -> String {
    row.efficiency.map_or("–".to_string(), format::percent)
}

/// Threads against processes, as measured.
fn threads_against_processes(threads: &VariantRow, processes: &VariantRow) -> String {
    let ratio = processes.speedup / threads.speedup.max(f64::MIN_POSITIVE);
    if (0.9..=1.1).contains(&ratio) {
        "Threads and processes do about equally well when items are few and large.".to_string()
    } else if ratio < 0.9 {
        format!(
            "The process pool reached {} of the thread pool's speedup here.",
            format::percent(ratio)
        )
    } else {
        format!(
            "The process pool beat the thread pool by {}.",
            format::percent(ratio - 1.0)
        )
    }
}

/// What the measured speedups say against the best a perfect machine could do with these
/// items on these workers (`bound`, from the model of section 4).
fn against_the_bound(bound: f64, pools: &[VariantRow], n_items: usize, n_workers: usize) -> String {
    let why = if n_items < n_workers {
        format!(
            "{} for {}",
            format::plural(n_items as u64, "number"),
            format::plural(n_workers as u64, "worker")
        )
    } else {
        format!("{n_items} unequal numbers on {n_workers} workers")
    };
    let Some(best) = pools.iter().max_by(|a, b| a.speedup.total_cmp(&b.speedup)) else {
        return String::new();
    };
    if best.speedup <= bound {
        format!(
            "No pool can beat {} with {why} (section 4); best: {}, {}.",
            format::times(bound),
            best.name,
            format::times(best.speedup)
        )
    } else {
        format!(
            "A perfect machine reaches {} with {why} (section 4). {} measured {}, {} above it, so the \
             sequential run was slower per iteration than the workers were (timings vary by a few \
             percent from run to run).",
            format::times(bound),
            best.name,
            format::times(best.speedup),
            format::percent(best.speedup / bound - 1.0)
        )
    }
}
