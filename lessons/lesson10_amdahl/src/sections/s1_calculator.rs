//! Section 1: the law as a calculator: a table of speedups, the ceiling, the workers a wanted
//! speedup needs, and the curves for several parallel fractions. Nothing is measured.

use crate::Params;
use course::chart::Plot;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use lesson10_amdahl::amdahl;

pub fn run(lesson: &Lesson, params: &mut Params) -> anyhow::Result<()> {
    let p = params.p;
    say!(
        lesson,
        "  S(N) = 1 / ((1 − P) + P / N)      P: parallel fraction, N: workers"
    );
    say!(
        lesson,
        "  With P = {p}, the serial part takes {} of a one-worker run and never shrinks.",
        format::percent(1.0 - p)
    );
    // The room's question first, when the presenter asks about one number of workers.
    if let Some(n) = params.extra_workers {
        let speedup = amdahl::speedup(p, n as f64);
        lesson.reveal(
            format!(
                "P = {p} on {}: how many times faster?",
                format::plural(n as u64, "worker")
            ),
            format!(
                "S({n}) = {}, efficiency {}: not {n}×.",
                format::times(speedup),
                format::percent(amdahl::efficiency(p, n as f64))
            ),
        )?;
    }
    say!(lesson);

    let cores = params.cores;
    let mut worker_counts: Vec<usize> = vec![1, 2, 4, 8, 16, 64, 1024, cores];
    worker_counts.extend(params.extra_workers);
    worker_counts.sort_unstable();
    worker_counts.dedup();
    let mut table = Table::new(&["workers", "speedup", "efficiency", "serial share of the run"]);
    let mut rows = Vec::new();
    for &n in &worker_counts {
        let speedup = amdahl::speedup(p, n as f64);
        let efficiency = amdahl::efficiency(p, n as f64);
        // On N workers the serial part is (1 − P) of the old time out of 1 / S(N) of it.
        let serial_share = (1.0 - p) * speedup;
        let marker = if n == cores { "  ← this machine" } else { "" };
        table.row([
            format!("{n}{marker}"),
            format::times(speedup),
            format::percent(efficiency),
            format::percent(serial_share),
        ]);
        rows.push(serde_json::json!({
            "workers": n, "speedup": speedup, "efficiency": efficiency, "serial_share": serial_share,
        }));
    }
    lesson.table(&table);
    let ceiling = amdahl::ceiling(p);
    let ceiling_text = if ceiling.is_finite() {
        format::times(ceiling)
    } else {
        "none (P = 1)".to_string()
    };
    say!(
        lesson,
        "  Ceiling 1 / (1 − P) = {ceiling_text}: what infinitely many workers would reach."
    );

    // How many workers a wanted speedup needs, or that none can reach it.
    let needs = |wanted: f64| match amdahl::workers_for(p, wanted) {
        Some(n) => format!(
            "{} (which give {})",
            format::plural(n, "worker"),
            format::times(amdahl::speedup(p, n as f64))
        ),
        None => format!("no number of workers can; the ceiling is {ceiling_text}"),
    };
    let wanted_list = match params.wanted {
        Some(wanted) => {
            let question = format!("To run {} faster, how many workers?", format::times(wanted));
            lesson.reveal(question, needs(wanted))?;
            vec![wanted]
        }
        None => {
            let needed: Vec<String> = [2.0, 4.0, 8.0, 16.0, 32.0]
                .iter()
                .map(|&wanted| {
                    let workers = amdahl::workers_for(p, wanted).map_or("none".to_string(), format::count);
                    format!("{} → {workers}", format::times(wanted))
                })
                .collect();
            say!(lesson, "  Workers needed for a speedup of {}.", needed.join(" · "));
            vec![2.0, 4.0, 8.0, 16.0, 32.0]
        }
    };
    let needed: Vec<serde_json::Value> = wanted_list
        .iter()
        .map(|&wanted| serde_json::json!({ "wanted_speedup": wanted, "workers": amdahl::workers_for(p, wanted) }))
        .collect();

    // The curves for several parallel fractions, the user's among them.
    let mut fractions = vec![0.5, 0.75, 0.9, 0.95];
    if !fractions.iter().any(|&f| (f - p).abs() < 1e-9) {
        fractions.push(p);
    }
    let marks = ['a', 'b', 'c', 'd', '*'];
    let mut plot = Plot::new("workers N (log scale)", "speedup S(N)").size(60, 6).log_x();
    for (fraction, mark) in fractions.iter().zip(marks) {
        // Points at N = 2^(k/2), 1 to 1024: even spacing on the log axis, far enough for every
        // curve to flatten out under its ceiling.
        let points = (0..=20)
            .map(|k| {
                let n = 2f64.powf(k as f64 / 2.0);
                (n, amdahl::speedup(*fraction, n))
            })
            .collect();
        plot.series(format!("P={fraction}"), mark, points);
    }
    lesson.plot(&plot);

    lesson.figure("parallel_fraction", p);
    lesson.figure("ceiling", if ceiling.is_finite() { Some(ceiling) } else { None });
    lesson.figure("table", &rows);
    lesson.figure("workers_needed", &needed);
    lesson.notice(&format!(
        "With P = {p} the speedup can never pass {}, and each added worker brings less than the one \
         before: efficiency falls from the start.",
        if ceiling.is_finite() {
            format::times(ceiling)
        } else {
            "N".to_string()
        }
    ));
    Ok(())
}
