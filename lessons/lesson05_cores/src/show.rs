//! How a phase is shown once it is over: each core's load over the whole phase, each worker's
//! path from core to core, and the CPU the phase used.

use crate::phase::PhaseReport;
use course::chart::Bars;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

/// Up to this many cores, each gets a bar of its own; beyond, one mark per core.
pub const CORES_AS_BARS: usize = 8;
/// Workers listed one per row; the rest are counted (every one is in `--json`).
const WORKER_ROWS: usize = 8;
/// The longest timeline on screen, in samples (a long phase shows every other sample, or fewer).
const TIMELINE_WIDTH: usize = 30;

pub fn show_phase(lesson: &Lesson, report: &PhaseReport) {
    say!(lesson);
    if report.core_load.len() > CORES_AS_BARS {
        say!(
            lesson,
            "  Load over the whole phase, one mark per core (▁ idle … █ busy):"
        );
        lesson.lines(load_marks(&report.core_load).iter().map(|line| line.trim_start()));
    } else if !report.core_load.is_empty() {
        say!(lesson, "  Load over the whole phase:");
        let mut bars = Bars::new().width(40).max(1.0);
        for (core, share) in report.core_load.iter().enumerate() {
            bars.row(
                format!("cpu{core}"),
                *share,
                format!("{} busy", format::percent(*share)),
            );
        }
        lesson.bars(&bars);
    }
    if !report.workers.is_empty() {
        let known = |value: Option<u64>| value.map_or("?".to_string(), format::count);
        let longest = report
            .workers
            .iter()
            .map(|worker| worker.timeline.len())
            .max()
            .unwrap_or(0);
        let timeline_header = match timeline_step(longest) {
            1 => "core at each sample".to_string(),
            step => format!("core, every {step} samples"),
        };
        let mut table = Table::new(&[
            "worker",
            "pinned",
            &timeline_header,
            "moves",
            "by kernel",
            "preempted",
            "CPU so far",
        ])
        .left(2);
        for (index, worker) in report.workers.iter().enumerate().take(WORKER_ROWS) {
            table.row([
                format!("w{}", index + 1),
                worker.pinned_to.map_or("any".to_string(), |core| format!("cpu{core}")),
                timeline_text(&worker.timeline),
                format::count(worker.moves_seen as u64),
                known(worker.kernel_migrations),
                known(worker.involuntary_switches),
                format::seconds(worker.cpu_s),
            ]);
        }
        lesson.table(&table);
        if report.workers.len() > WORKER_ROWS {
            say!(
                lesson,
                "  … and {} (every one of them in --json)",
                format::plural((report.workers.len() - WORKER_ROWS) as u64, "more worker")
            );
        }
    }
    say!(
        lesson,
        "  {} samples; wall {}, CPU {} (workers and watcher): {:.2} cores used.",
        report.samples,
        format::duration(report.measurement.wall),
        format::duration(report.measurement.cpu()),
        report.measurement.cores_used()
    );
}

/// One mark per core, by load (`▁` idle … `█` busy), a space after every eighth.
pub fn marks(load: &[f64]) -> String {
    const MARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut text = String::new();
    for (core, share) in load.iter().enumerate() {
        if core > 0 && core % 8 == 0 {
            text.push(' ');
        }
        text.push(MARKS[(share.clamp(0.0, 1.0) * 7.0).round() as usize]);
    }
    text
}

/// [`marks`] in lines of 32 cores, each named by its first and last core.
pub fn load_marks(load: &[f64]) -> Vec<String> {
    (0..load.len())
        .step_by(32)
        .map(|first| {
            let last = (first + 32).min(load.len());
            let cores = format!("cpu{first}-{}", last - 1);
            format!("  {cores:<10}{}", marks(&load[first..last]))
        })
        .collect()
}

/// The cores of a timeline as one character each (`0`–`9`, then letters; `·` unknown), at
/// most [`TIMELINE_WIDTH`] characters (every other sample, or fewer, for long phases).
fn timeline_text(timeline: &[Option<usize>]) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    timeline
        .iter()
        .step_by(timeline_step(timeline.len()))
        .map(|core| match core {
            Some(core) if *core < DIGITS.len() => DIGITS[*core] as char,
            Some(_) => '+',
            None => '·',
        })
        .collect()
}

/// Every how many samples a timeline of `samples` shows one, to fit [`TIMELINE_WIDTH`].
fn timeline_step(samples: usize) -> usize {
    samples.div_ceil(TIMELINE_WIDTH).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timelines_are_one_character_per_sample() {
        assert_eq!(timeline_text(&[Some(0), Some(1), None, Some(11)]), "01·b");
        let long: Vec<Option<usize>> = (0..150).map(|i| Some(i % 2)).collect();
        assert!(timeline_text(&long).chars().count() <= TIMELINE_WIDTH);
        assert_eq!((timeline_step(29), timeline_step(30), timeline_step(31)), (1, 1, 2));
    }

    #[test]
    fn many_cores_are_one_mark_each() {
        assert_eq!(marks(&[0.0, 1.0, 0.5]), "▁█▅");
        let load = vec![1.0; 40];
        let lines = load_marks(&load);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("  cpu0-31") && lines[1].starts_with("  cpu32-39"));
        assert_eq!(marks(&load[..9]), "████████ █");
    }
}
