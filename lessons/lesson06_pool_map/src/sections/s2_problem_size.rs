//! Section 2: the same word count on ever larger inputs, to find where a pool starts to win:
//! one row per size, then the speedups drawn against size.

use crate::Params;
use crate::pool_map::{map_sequential, map_thread_pool, python_default_chunk, word_count};
use crate::pools::{measured_on, process_pool, threads_refused};
use course::chart::Plot;
use course::table::Table;
use course::timing::{Comparison, VariantRow, format};
use course::{Lesson, say};
use workloads::seed::SEED_LINES;

#[derive(serde::Serialize)]
struct SweepRow {
    strings: usize,
    chunk: usize,
    sequential_s: f64,
    thread_pool_speedup: f64,
    process_pool_speedup: f64,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let n = p.n_workers;
    let sizes: Vec<usize> = lesson.pick(vec![300, 3_000, 30_000], vec![300, 3_000, 30_000, 300_000, 3_000_000]);
    say!(
        lesson,
        "  The lecture's lines repeated to make {} to {} strings, counted one after another, on a \
         thread pool and on a process pool already running ({} each, Python's default chunks):",
        format::count(sizes[0] as u64),
        format::count(sizes[sizes.len() - 1] as u64),
        format::plural(n as u64, "worker")
    );
    let mut pool = process_pool(n, "word count", |text: String| word_count(&text))?;
    let total = |counts: Vec<usize>| counts.into_iter().sum::<usize>();
    let mut table = Table::new(&["strings", "chunk", "sequential", "thread pool", "process pool"]);
    let (mut thread_points, mut process_points, mut sweep, mut disturbed) = (vec![], vec![], vec![], vec![]);
    for &size in &sizes {
        let strings: Vec<&str> = SEED_LINES.iter().copied().cycle().take(size).collect();
        let chunk = python_default_chunk(size, n);
        let runs = if size >= 1_000_000 {
            lesson.pick(1, 3)
        } else {
            lesson.pick(3, 5)
        };
        let mut comparison = Comparison::new(format!("word count of {size} strings")).repeats(1, runs);
        comparison.try_variant("sequential", 1, || map_sequential(&strings, word_count, n).map(total))?;
        comparison
            .try_variant("thread pool", n, || map_thread_pool(&strings, word_count, n).map(total))
            .map_err(threads_refused(n))?;
        comparison.try_variant_measured("process pool", n, || {
            measured_on(&mut pool, |pool| pool.map(strings.iter().copied(), chunk))
                .map(|(counts, m)| (total(counts), m))
        })?;
        // Recorded for --json like any comparison; shown as one row of the table below.
        let report = lesson.compare_quietly(comparison)?;
        let [sequential, threads, processes] = &report.rows[..] else {
            anyhow::bail!("the sweep's comparison lost a row");
        };
        let cell = |row: &VariantRow| {
            let mark = if row.disturbed.is_some() { " ⚠" } else { "" };
            format!(
                "{} ({}){mark}",
                format::seconds(row.median_s),
                format::times(row.speedup)
            )
        };
        table.row([
            format::count(size as u64),
            format::count(chunk as u64),
            format::seconds(sequential.median_s),
            cell(threads),
            cell(processes),
        ]);
        for row in report.rows.iter().filter(|row| row.disturbed.is_some()) {
            disturbed.push(format!("{} strings, {}", format::count(size as u64), row.name));
        }
        thread_points.push((size as f64, threads.speedup));
        process_points.push((size as f64, processes.speedup));
        sweep.push(SweepRow {
            strings: size,
            chunk,
            sequential_s: sequential.median_s,
            thread_pool_speedup: threads.speedup,
            process_pool_speedup: processes.speedup,
        });
    }
    pool.shutdown()?;
    lesson.table(&table);
    if !disturbed.is_empty() {
        say!(lesson, "  ⚠ disturbed (reasons in --json): {}", disturbed.join("; "));
    }
    let mut plot = Plot::new("strings (log scale)", "speedup over sequential")
        .log_x()
        .size(56, 8);
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
    say!(lesson, "  thread pool:  {}", describe_crossover(threads_cross, &sizes));
    say!(
        lesson,
        "  process pool: {}",
        describe_crossover(processes_cross, &sizes)
    );
    lesson.figure("sweep", &sweep);
    lesson.figure("thread_pool_crossover_strings", crossover_figure(threads_cross));
    lesson.figure("process_pool_crossover_strings", crossover_figure(processes_cross));
    let threads_line = match threads_cross {
        Some(size) if size > 0.0 => format!("the thread pool won from about {} strings", about(size)),
        Some(_) => "the thread pool won at every size".to_string(),
        None => format!(
            "the thread pool did not win up to {} strings",
            format::count(sizes[sizes.len() - 1] as u64)
        ),
    };
    // The process pool copies every string through a pipe: said only when it shows.
    let processes_line = match (threads_cross, processes_cross) {
        (_, None) => {
            "The process pool never won: it also copies every string through a pipe, which \
                      costs about as much as counting its words."
        }
        (Some(threads), Some(processes)) if processes > threads => {
            "The process pool won later: it also copies every string through a pipe, which costs \
             about as much as counting its words."
        }
        _ => "The process pool, which also copies every string through a pipe, kept up here.",
    };
    lesson.notice(&format!(
        "The overhead is fixed per call and per chunk while the work grows with the input: \
         {threads_line}. {processes_line}"
    ));
    Ok(())
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
        Some(size) => format!("starts to win at about {} strings", about(size)),
        None => format!(
            "did not win at any size up to {} strings",
            format::count(sizes[sizes.len() - 1] as u64)
        ),
    }
}

/// A size read off a curve, to two significant digits: `972,698` → `970,000`.
fn about(size: f64) -> String {
    let magnitude = 10f64.powi((size.max(1.0).log10().floor() as i32 - 1).max(0));
    format::count(((size / magnitude).round() * magnitude) as u64)
}

fn crossover_figure(crossing: Option<f64>) -> serde_json::Value {
    crossing.map_or(serde_json::Value::Null, |size| serde_json::json!(size.round()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(about(972_698.0), "970,000");
        assert_eq!(about(47.0), "47");
    }
}
