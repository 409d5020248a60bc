//! The speed verdict in words: a small table (yours against the reference, the ratio, the cores
//! each kept busy) and, per function, one plain sentence computed from those figures.
//! Advice only: nothing here fails the homework.

use homework::speed::{Report, Timed};
use timing::format;

/// Within this factor either way, two versions are "about as fast".
const ABOUT_THE_SAME: f64 = 1.2;
/// The same where the workers wait for each other by design (a lock, a GIL), or on a server,
/// whose times vary far more from run to run.
const ABOUT_THE_SAME_CONTENDED: f64 = 1.5;

/// The verdict's lines.
pub fn lines(report: &Report) -> Vec<String> {
    let mut lines = vec![format!(
        "Speed (advice only, never a failure): yours against the reference, same run, {} here",
        format::plural(report.cores as u64, "core")
    )];
    if !report.timed.is_empty() {
        lines.push(format!(
            "  {:<24} {:>10} {:>10} {:>7}  {}",
            "function", "yours", "reference", "ratio", "cores busy (yours / ref)"
        ));
    }
    for timed in &report.timed {
        if let Some(mismatch) = &timed.mismatch {
            lines.push(format!("  {:<24} not timed: {mismatch}", timed.function));
            continue;
        }
        lines.push(format!(
            "  {:<24} {:>10} {:>10} {:>7}  {:.1} / {:.1}",
            timed.function,
            format::seconds(timed.yours_s),
            format::seconds(timed.reference_s),
            format::times(timed.ratio),
            timed.yours_cores,
            timed.reference_cores
        ));
    }
    for timed in &report.timed {
        if timed.mismatch.is_none() {
            lines.push(format!("  → {}: {}", timed.function, sentence(timed)));
        }
    }
    let mut workloads: Vec<String> = Vec::new();
    for timed in &report.timed {
        let text = format!("{}: {}", timed.function, timed.workload);
        if !workloads.iter().any(|seen| seen.ends_with(&timed.workload)) {
            workloads.push(text);
        }
    }
    if workloads.len() == 1 {
        let only = &report.timed[0].workload;
        lines.push(format!("  (each timed on {only}; ratio = reference time / your time)"));
    } else if !workloads.is_empty() {
        lines.push(format!(
            "  (timed on {}; ratio = reference time / your time)",
            workloads.join("; ")
        ));
    }
    for note in &report.notes {
        lines.push(format!("  {note}"));
    }
    lines
}

/// One sentence on one function, derived from the figures beside it.
pub fn sentence(timed: &Timed) -> String {
    let ratio = format::times(timed.ratio);
    let cores = |c: f64| format!("{c:.1}");
    if let Some(why) = &timed.disturbed {
        return format!("not a fair race this time ({why}); check again when the machine is quieter");
    }
    let band = if timed.contended || timed.waiting {
        ABOUT_THE_SAME_CONTENDED
    } else {
        ABOUT_THE_SAME
    };
    if timed.ratio >= band {
        let fewer = !timed.waiting && timed.yours_cores < timed.reference_cores * 0.75;
        return if fewer {
            format!(
                "yours is faster ({ratio} the reference) while keeping fewer cores busy ({} against {}): \
                 the reference's threads pay for sharing that yours avoids here",
                cores(timed.yours_cores),
                cores(timed.reference_cores)
            )
        } else {
            format!("yours is faster than the reference: {ratio} its speed")
        };
    }
    if timed.ratio > 1.0 / band {
        return format!("about as fast as the reference ({ratio})");
    }
    if timed.waiting {
        // Waiting keeps no core busy, so the cores say nothing: the time is the waits.
        return format!(
            "yours is {ratio} the reference: its waits overlap less, so more of them happen one after \
             another ({})",
            timed.when_slower
        );
    }
    let parallel_reference = timed.reference_cores >= 1.3;
    if parallel_reference && timed.yours_cores < timed.reference_cores * 0.7 {
        format!(
            "yours is {ratio} the reference and kept {} cores busy where it kept {}: your workers take \
             turns or wait ({})",
            cores(timed.yours_cores),
            cores(timed.reference_cores),
            timed.when_slower
        )
    } else {
        format!(
            "yours is {ratio} the reference with as many cores busy, so it does more work for the same \
             answer ({})",
            timed.when_slower
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timed(ratio: f64, yours_cores: f64, reference_cores: f64) -> Timed {
        Timed {
            function: "count_with_mutex".into(),
            workload: "2 threads × 1,000 increments".into(),
            workers: 2,
            when_slower: "a lock held for the whole loop".into(),
            reference_s: 0.1,
            yours_s: 0.1 / ratio,
            ratio,
            reference_cores,
            yours_cores,
            disturbed: None,
            mismatch: None,
            contended: false,
            waiting: false,
        }
    }

    #[test]
    fn the_sentence_follows_the_figures() {
        assert!(sentence(&timed(1.05, 2.0, 2.0)).starts_with("about as fast"));
        let turns = sentence(&timed(0.4, 1.0, 2.0));
        assert!(turns.contains("take turns") && turns.contains("0.400×"), "{turns}");
        let more_work = sentence(&timed(0.3, 1.9, 2.0));
        assert!(more_work.contains("more work"), "{more_work}");
        let faster = sentence(&timed(2.5, 1.0, 1.9));
        assert!(faster.contains("faster") && faster.contains("fewer cores"), "{faster}");
        let mut busy = timed(0.4, 1.0, 2.0);
        busy.disturbed = Some("the machine was busy".into());
        assert!(sentence(&busy).starts_with("not a fair race"));
        let mut waits = timed(0.15, 0.05, 0.1);
        waits.waiting = true;
        let waits = sentence(&waits);
        assert!(waits.contains("one after") && waits.contains("0.150×"), "{waits}");
    }
}
