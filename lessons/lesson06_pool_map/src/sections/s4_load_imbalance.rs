//! Section 4: uneven items. The model's prediction for the lecture's four numbers (a question
//! to the room first), then chunk sizes measured on a process pool beside what the model
//! predicts for them.

use crate::Params;
use crate::answers::DivisorCounts;
use crate::imbalance::{self, Schedule};
use crate::pool_map::{count_prime, map_sequential, one_chunk_per_worker, python_default_chunk};
use crate::pools::{measured_on, process_pool};
use course::table::Table;
use course::timing::{Comparison, format};
use course::{Lesson, say};
use workloads::seed::SEED_NUMBERS;

#[derive(serde::Serialize)]
struct ModelRow {
    workers: usize,
    speedup: f64,
    efficiency: f64,
}

#[derive(serde::Serialize)]
struct ChunkRow {
    chunk: usize,
    messages: usize,
    predicted_speedup: f64,
    measured_speedup: f64,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n = p.n_workers;
    let costs = |numbers: &[u64]| -> Vec<f64> { numbers.iter().map(|&n| n.saturating_sub(3) as f64).collect() };
    let seed_costs = costs(&SEED_NUMBERS);
    say!(
        lesson,
        "  A pool is done when its last worker is. The lecture's four numbers (77, 74, 73 and 71 \
         million iterations) on 1 to 6 workers, one number at a time: a model, no timing."
    );
    let three = imbalance::schedule(&seed_costs, 3, 1);
    lesson.reveal("On 3 workers, what is the best speedup over 1?", three_workers(&three))?;
    let mut table = Table::new(&["workers", "who computes what", "makespan", "best speedup", "efficiency"]).left(1);
    let mut model_rows = Vec::new();
    for workers in 1..=6 {
        let schedule = imbalance::schedule(&seed_costs, workers, 1);
        table.row([
            workers.to_string(),
            who_computes_what(&schedule),
            format!("{}M", format::significant(schedule.makespan / 1e6)),
            format::times(schedule.speedup()),
            format::percent(schedule.efficiency()),
        ]);
        model_rows.push(ModelRow {
            workers,
            speedup: schedule.speedup(),
            efficiency: schedule.efficiency(),
        });
    }
    lesson.table(&table);

    // Measured: many items of growing size, handed out in chunks of different sizes.
    let n_items = 96;
    let step = lesson.pick(1_000, 36_000);
    let items: Vec<u64> = (1..=n_items as u64).map(|k| k * step).collect();
    say!(
        lesson,
        "  Measured: {n_items} numbers from {} to {}, so later items cost more, on a process pool of {}:",
        format::count(items[0]),
        format::count(items[n_items - 1]),
        format::plural(n as u64, "worker")
    );
    let chunks = [
        (1, "chunks of 1"),
        (python_default_chunk(n_items, n), "Python's default"),
        (one_chunk_per_worker(n_items, n), "one chunk per worker"),
    ];
    let mut pool = process_pool(n, "count_prime", count_prime)?;
    let mut comparison =
        Comparison::new(format!("count_prime on {n_items} growing numbers")).repeats(0, lesson.pick(1, 2));
    comparison.try_variant("sequential", 1, || {
        map_sequential(&items, count_prime, n).map(DivisorCounts)
    })?;
    let mut messages = Vec::new();
    for (chunk, why) in chunks {
        comparison.try_variant_measured(format!("chunk {chunk} ({why})"), n, || {
            measured_on(&mut pool, |pool| pool.map(&items, chunk)).map(|(counts, m)| (DivisorCounts(counts), m))
        })?;
        messages.push(pool.last_map().chunks);
    }
    pool.shutdown()?;
    let report = lesson.compare_quietly(comparison)?;
    let mut table = Table::new(&["", "messages", "median", "predicted speedup", "measured speedup"]).left(0);
    table.row([
        "sequential",
        "",
        format::seconds(report.rows[0].median_s).as_str(),
        "",
        "",
    ]);
    let mut chunk_rows = Vec::new();
    for ((row, (chunk, _)), messages) in report.rows.iter().skip(1).zip(chunks).zip(messages) {
        let predicted = imbalance::schedule(&costs(&items), n, chunk).speedup();
        let mark = if row.disturbed.is_some() { " ⚠" } else { "" };
        table.row([
            row.name.clone(),
            messages.to_string(),
            format::seconds(row.median_s),
            format::times(predicted),
            format!("{}{mark}", format::times(row.speedup)),
        ]);
        chunk_rows.push(ChunkRow {
            chunk,
            messages,
            predicted_speedup: predicted,
            measured_speedup: row.speedup,
        });
    }
    lesson.table(&table);
    lesson.checked(
        true,
        format!("every chunk size computed the same answer: {}", report.answer),
    );
    let disturbed: Vec<&str> = report
        .rows
        .iter()
        .filter(|row| row.disturbed.is_some())
        .map(|row| row.name.as_str())
        .collect();
    if !disturbed.is_empty() {
        say!(lesson, "  ⚠ disturbed (reasons in --json): {}", disturbed.join("; "));
    }
    lesson.figure("seed_numbers_model", &model_rows);
    lesson.figure("chunking", &chunk_rows);
    lesson.notice(
        "One chunk per worker is decided up front and leaves the worker with the light half idle; \
         small chunks let whoever is free take the next piece, at one message each. Python's \
         default, four chunks per worker, sits between the two.",
    );
    Ok(())
}

/// `77M+71M | 74M | 73M`: the numbers each worker computes, in millions of iterations.
fn who_computes_what(schedule: &Schedule) -> String {
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
    who.join(" | ")
}

/// The answer to the room's question, worked out from the schedule.
fn three_workers(schedule: &Schedule) -> String {
    let busiest = schedule
        .workers
        .iter()
        .max_by(|a, b| a.load.total_cmp(&b.load))
        .map(|worker| {
            let parts: Vec<String> = worker
                .items
                .iter()
                .map(|&i| format!("{}M", SEED_NUMBERS[i] / 1_000_000))
                .collect();
            parts.join(" + ")
        })
        .unwrap_or_default();
    format!(
        "{}: three numbers start at once, and the fourth waits for the first worker to be free, so \
         the pool ends when one worker has done {busiest} = {}M of the {}M iterations ({} efficiency).",
        format::times(schedule.speedup()),
        format::significant(schedule.makespan / 1e6),
        format::significant(schedule.total / 1e6),
        format::percent(schedule.efficiency())
    )
}
