//! The live view of a phase: every `interval`, read the cores' counters and where each worker
//! is, and draw each core's load over the last quarter second. On a terminal the drawing is
//! redrawn in place (and erased when the phase ends, for the whole phase's chart); printed to
//! a file or a pipe, it is a plain line now and then.

use crate::sampler::{self, CoreTicks, ProcessView};
use crate::show;
use course::chart::bar;
use course::timing::format;
use course::{Lesson, say};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Up to this many cores, a plain line gives each core its figure and its workers; beyond, one
/// mark per core keeps the line under 100 columns.
const CORES_IN_WORDS: usize = 4;

/// Samples the cores and the workers every `interval` until the phase is over, drawing the
/// load as it goes; returns every sample, one view per worker.
pub fn watch_until_done(lesson: &Lesson, watch: crate::phase::Watch, pids: &[Pid]) -> Vec<Vec<ProcessView>> {
    let started = Instant::now();
    // The load shown is over the last quarter second: the counters tick only 100 times a
    // second, so a shorter window would flicker between 0% and 100%.
    let window = Duration::from_millis(250).max(watch.interval);
    let plain_every = watch.phase.min(Duration::from_secs(1)).max(watch.interval) / 2;
    let mut history: VecDeque<(Instant, Vec<CoreTicks>)> = VecDeque::new();
    history.extend(sampler::core_ticks().map(|ticks| (started, ticks)));
    let mut samples = Vec::new();
    let mut drawn_lines = 0;
    let mut last_plain = started;
    while started.elapsed() + watch.interval <= watch.phase {
        std::thread::sleep(watch.interval);
        let now = Instant::now();
        let views: Vec<ProcessView> = pids.iter().map(|pid| sampler::process(pid.as_raw())).collect();
        let Some(ticks) = sampler::core_ticks() else {
            samples.push(views);
            continue;
        };
        while history.len() > 1 && now.duration_since(history[1].0) >= window {
            history.pop_front();
        }
        let load = history
            .front()
            .map(|(_, before)| sampler::load_between(before, &ticks))
            .unwrap_or_default();
        history.push_back((now, ticks));
        let on_core = |core: usize| -> Vec<usize> {
            let here = views
                .iter()
                .enumerate()
                .filter(|(_, view)| view.processor == Some(core));
            here.map(|(index, _)| index + 1).collect()
        };
        let elapsed = format::duration(started.elapsed());
        if lesson.is_live_terminal() {
            let mut lines: Vec<String> = if load.len() > show::CORES_AS_BARS {
                show::load_marks(&load)
            } else {
                (0..load.len())
                    .map(|core| {
                        let workers = on_core(core);
                        let marks = match workers.len() {
                            0 => String::new(),
                            1 => format!("  ← worker {}", workers[0]),
                            _ => format!("  ← workers {}", join_numbers(&workers)),
                        };
                        let share = load[core];
                        format!(
                            "  cpu{core:<3}│{}│ {:>4}{marks}",
                            bar(share, 1.0, 40),
                            format::percent(share)
                        )
                    })
                    .collect()
            };
            lines.push(format!("  {elapsed} of {}", format::duration(watch.phase)));
            let mut text = String::new();
            if drawn_lines > 0 {
                text.push_str(&format!("\x1b[{drawn_lines}A"));
            }
            for line in &lines {
                text.push_str("\x1b[2K");
                text.push_str(line);
                text.push('\n');
            }
            lesson.write_raw(&text);
            drawn_lines = lines.len();
        } else if now.duration_since(last_plain) >= plain_every {
            last_plain = now;
            let cores = if load.len() > CORES_IN_WORDS {
                format!("cpu0-{}  {}", load.len() - 1, show::marks(&load))
            } else {
                let cores: Vec<String> = (0..load.len())
                    .map(|core| {
                        let workers = on_core(core);
                        let marks = if workers.is_empty() {
                            String::new()
                        } else {
                            format!(" [{}]", worker_labels(&workers))
                        };
                        format!("cpu{core} {:>4}{marks}", format::percent(load[core]))
                    })
                    .collect();
                cores.join("   ")
            };
            say!(lesson, "  {elapsed:>7}  {cores}");
        }
        samples.push(views);
    }
    if drawn_lines > 0 {
        // Erase the live drawing: the chart of the whole phase takes its place.
        lesson.write_raw(&format!("\x1b[{drawn_lines}A\x1b[J"));
    }
    samples
}

/// `[1, 3]` as `1, 3`; past six, the first three and how many more (a live line must not wrap).
fn join_numbers(numbers: &[usize]) -> String {
    let numbers: Vec<String> = numbers.iter().map(usize::to_string).collect();
    if numbers.len() > 6 {
        format!("{} and {} more", numbers[..3].join(", "), numbers.len() - 3)
    } else {
        numbers.join(", ")
    }
}

/// Workers `[1, 3]` as `w1, w3`; past six on one core, the first three and how many more.
fn worker_labels(workers: &[usize]) -> String {
    let labels: Vec<String> = workers.iter().map(|worker| format!("w{worker}")).collect();
    if labels.len() > 6 {
        format!("{} and {} more", labels[..3].join(", "), labels.len() - 3)
    } else {
        labels.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_are_labelled_one_by_one() {
        assert_eq!(join_numbers(&[1, 3]), "1, 3");
        assert_eq!(worker_labels(&[1, 2]), "w1, w2");
        assert_eq!(worker_labels(&[3]), "w3");
        assert_eq!(worker_labels(&[1, 2, 3, 4, 5, 6, 7, 8]), "w1, w2, w3 and 5 more");
    }
}
