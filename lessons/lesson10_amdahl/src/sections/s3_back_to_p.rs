//! Section 3: from measured speedups back to the serial fraction: Karp–Flatt for each point
//! of section 2's sweep, a fit over all of them, and the same for speedups you measured.

use super::{clamped_note, fit_figure};
use crate::{Params, sweep};
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};
use lesson10_amdahl::amdahl;

pub fn run(lesson: &Lesson, params: &mut Params) -> anyhow::Result<()> {
    let (p, cores) = (params.p, params.cores);
    explain_karp_flatt(lesson);
    let sweep = match params.sweep.clone() {
        Some(sweep) => sweep,
        None => {
            say!(
                lesson,
                "  (Section 2 was skipped: its sweep is measured now, without its table.)"
            );
            let (_, sweep) = sweep::measure(lesson, params)?;
            params.sweep = Some(sweep.clone());
            sweep
        }
    };
    let mut table = Table::new(&["threads", "measured", "serial fraction e", "parallel 1 − e"]);
    let mut karp_flatt = Vec::new();
    for point in sweep.iter().filter(|pt| pt.threads > 1) {
        if let Some(e) = amdahl::karp_flatt(point.measured_speedup, point.threads as f64) {
            table.row([
                format!("{}{}", point.threads, if point.oversubscribed { " *" } else { "" }),
                format::times(point.measured_speedup),
                format!("{e:.3}"),
                format!("{:.3}", 1.0 - e),
            ]);
            karp_flatt.push(serde_json::json!({
                "threads": point.threads, "serial_fraction": e, "oversubscribed": point.oversubscribed,
            }));
        }
    }
    if table.is_empty() {
        say!(
            lesson,
            "  (No measurement with more than one thread: raise --max-threads to see the serial fraction.)"
        );
    } else {
        lesson.table(&table);
    }

    // The fit uses the points where N threads really had N cores.
    let points: Vec<(f64, f64)> = sweep
        .iter()
        .filter(|pt| !pt.oversubscribed)
        .map(|pt| (pt.threads as f64, pt.measured_speedup))
        .collect();
    let fit = amdahl::fit_parallel_fraction(&points);
    say!(lesson);
    match &fit {
        Some(fit) if fit.points_used == 1 => say!(
            lesson,
            "  From the one measurement on more than one core: P = {:.3} (built in: {p}{}).",
            fit.parallel_fraction,
            clamped_note(fit, "; ")
        ),
        Some(fit) => say!(
            lesson,
            "  Fitted over 1..{cores} threads: P = {:.3} (built in: {p}{}); the fitted curve is off \
             the measurements by {} on average.",
            fit.parallel_fraction,
            clamped_note(fit, "; "),
            format::percent(fit.rms_relative_error)
        ),
        None => say!(lesson, "  No fit: it needs a measurement on more than one core."),
    }
    if sweep.iter().any(|pt| pt.oversubscribed) {
        say!(
            lesson,
            "  * Past {}, e climbs: extra threads add no worker, so Karp–Flatt blames a growing \
             'serial' part.",
            format::plural(cores as u64, "core")
        );
    }
    lesson.figure("karp_flatt", &karp_flatt);
    lesson.figure("fit", fit_figure(fit));
    say!(lesson);
    if params.speedups.is_empty() {
        say!(
            lesson,
            "  Measured a program of your own? `--speedups 2:1.9,4:3.4,8:5.6` reads its parallel \
             fraction back."
        );
    } else {
        show_your_speedups(lesson, &params.speedups);
    }
    lesson.notice(
        "A speedup measured on a few cores is enough to estimate P, and with it the ceiling of adding \
         more cores; a serial fraction that grows with N points at overhead, not at the code's serial part.",
    );
    Ok(())
}

/// The calculator's reading of `--speedups` alone: the serial fraction each implies, the P
/// fitted to all of them, and what to expect on more workers.
pub fn your_speedups(lesson: &Lesson, params: &mut Params) -> anyhow::Result<()> {
    explain_karp_flatt(lesson);
    show_your_speedups(lesson, &params.speedups);
    lesson.notice(
        "A speedup measured on a few workers is enough to estimate P, and with it the ceiling of \
         adding more; a serial fraction that grows with N points at overhead, not at serial code.",
    );
    Ok(())
}

fn explain_karp_flatt(lesson: &Lesson) {
    say!(
        lesson,
        "  Karp–Flatt: the serial fraction a measured speedup S on N workers implies,"
    );
    say!(
        lesson,
        "  e = (1/S − 1/N) / (1 − 1/N). Amdahl's law holds exactly when e is the same at every N."
    );
    say!(lesson);
}

/// Your measurements, each with its serial fraction, the fitted P and what it predicts.
fn show_your_speedups(lesson: &Lesson, speedups: &[(usize, f64)]) {
    if speedups.is_empty() {
        return;
    }
    say!(lesson, "  Your measurements:");
    let mut table = Table::new(&["workers", "speedup", "serial fraction e"]);
    for &(n, speedup) in speedups {
        let e = amdahl::karp_flatt(speedup, n as f64);
        table.row([
            n.to_string(),
            format::times(speedup),
            e.map_or("(needs N > 1)".to_string(), |e| format!("{e:.3}")),
        ]);
    }
    lesson.table(&table);
    let points: Vec<(f64, f64)> = speedups.iter().map(|&(n, s)| (n as f64, s)).collect();
    let fit = amdahl::fit_parallel_fraction(&points);
    match &fit {
        Some(fit) => {
            let largest = speedups.iter().map(|&(n, _)| n).max().unwrap_or(1);
            // Two, four and eight times the most workers measured: with 2 and 4 measured,
            // 8, 16 and 32.
            let expected: Vec<String> = [2, 4, 8]
                .iter()
                .map(|factor| {
                    let n = factor * largest;
                    format!(
                        "on {} expect {}",
                        format::plural(n as u64, "worker"),
                        format::times(amdahl::speedup(fit.parallel_fraction, n as f64))
                    )
                })
                .collect();
            say!(
                lesson,
                "  Fitted P = {:.3}{}: {}; the ceiling is {}.",
                fit.parallel_fraction,
                clamped_note(fit, " ("),
                expected.join(", "),
                format::times(amdahl::ceiling(fit.parallel_fraction))
            );
        }
        None => say!(
            lesson,
            "  No fit: give at least one measurement with more than one worker."
        ),
    }
    lesson.figure("your_fit", fit_figure(fit));
}
