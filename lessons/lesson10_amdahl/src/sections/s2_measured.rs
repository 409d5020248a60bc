//! Section 2: a job with a known serial part, measured on 1..all cores and beyond, in one
//! compact table beside Amdahl's prediction, and a chart of both.

use crate::{Params, sweep};
use course::chart::Plot;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use lesson10_amdahl::amdahl::Job;

pub fn run(lesson: &Lesson, params: &mut Params) -> anyhow::Result<()> {
    let (p, cores) = (params.p, params.cores);
    let job = Job::with_parallel_fraction(params.items, p);
    let count = |range: &std::ops::Range<u64>| format::count(range.end - range.start);
    say!(
        lesson,
        "  The job: {} items of arithmetic. The first {} run on one thread before any other starts \
         (the serial part); the other {} are split evenly among N threads (the parallel part). \
         Every item costs the same, so P = {p} is also the share of the one-thread time.",
        format::count(params.items),
        count(&job.serial),
        count(&job.parallel)
    );
    let (report, sweep) = sweep::measure(lesson, params)?;
    let runs = report.rows.first().map_or(1, |row| row.runs);
    say!(
        lesson,
        "  {}{}",
        report.workload,
        if runs > 1 {
            format!(" · median of {runs} runs")
        } else {
            String::new()
        }
    );
    let on_cores = format!("on {}", format::plural(cores as u64, "core"));
    let mut table = Table::new(&[
        "threads",
        "median",
        "cores used",
        "measured",
        "Amdahl S(N)",
        &on_cores,
        "error",
    ]);
    for (row, point) in report.rows.iter().zip(&sweep) {
        let marks = format!(
            "{}{}",
            if point.oversubscribed { " *" } else { "" },
            if row.disturbed.is_some() { " ⚠" } else { "" }
        );
        table.row([
            format!("{}{marks}", point.threads),
            format::seconds(row.median_s),
            format!("{:.2}", row.cores_used),
            format::times(point.measured_speedup),
            format::times(point.predicted_speedup),
            format::times(point.predicted_on_these_cores),
            format::signed_percent(point.relative_error),
        ]);
    }
    lesson.table(&table);
    lesson.checked(
        report.answers_agree,
        format!("every thread count computed the same answer: {}", report.answer),
    );
    if sweep.iter().any(|point| point.oversubscribed) {
        say!(
            lesson,
            "  * more threads than cores: the threads take turns, so the machine still has {}.",
            format::plural(cores as u64, "worker")
        );
    }
    let disturbed = report.rows.iter().find(|row| row.disturbed.is_some());
    if let Some(row) = disturbed {
        let why = row.disturbed.as_deref().unwrap_or_default();
        say!(lesson, "  ⚠ disturbed: {}: {why}", row.name);
    }
    // The chart takes what is left of a projected screen (30 lines), 4 to 8 rows of it.
    let warns = worst_error(&sweep) > 0.10 && !lesson.quick();
    let other_lines = 12 + report.rows.len() + 2 * usize::from(warns) + 2 * usize::from(disturbed.is_some());
    let mut plot = Plot::new("threads", "speedup").size(48, 25usize.saturating_sub(other_lines).clamp(4, 8));
    let series = |value: fn(&sweep::SweepPoint) -> f64| sweep.iter().map(|pt| (pt.threads as f64, value(pt))).collect();
    plot.series("Amdahl S(N)", 'o', series(|pt| pt.predicted_speedup));
    plot.series("measured", '*', series(|pt| pt.measured_speedup));
    lesson.plot(&plot);

    let worst = worst_error(&sweep);
    if warns {
        lesson.warn(&format!(
            "the measured speedup is {} off the prediction: another program is probably busy on this machine (see `uptime`)",
            format::percent(worst)
        ));
    }
    lesson.figure(
        "job",
        serde_json::json!({ "serial": job.serial, "parallel": job.parallel }),
    );
    lesson.figure("sweep", &sweep);
    lesson.figure("max_relative_error_within_cores", worst);
    lesson.figure("within_10_percent", worst <= 0.10);
    let up_to = format::plural(cores as u64, "thread");
    if worst > 0.10 {
        let why = if lesson.quick() {
            "with --quick the job takes milliseconds, too short to time well, or another program was busy"
        } else {
            "another program was busy on this machine while it ran"
        };
        lesson.notice(&format!(
            "This time the measurement is off: up to {up_to} it missed Amdahl's curve by as much as {} \
             ({why}); run the lesson again on a quiet machine. Past the cores, extra threads only \
             take turns on the same cores.",
            format::percent(worst)
        ));
    } else {
        lesson.notice(&format!(
            "Up to {up_to} the measured speedup follows Amdahl's curve (within {}); past the cores, \
             extra threads only take turns on the same cores and the speedup stops rising.",
            format::percent(worst)
        ));
    }
    params.sweep = Some(sweep);
    Ok(())
}

/// The largest gap between measurement and prediction where every thread had a core.
fn worst_error(sweep: &[sweep::SweepPoint]) -> f64 {
    sweep
        .iter()
        .filter(|pt| !pt.oversubscribed)
        .map(|pt| pt.relative_error.abs())
        .fold(0.0, f64::max)
}
