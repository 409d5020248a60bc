//! Section 6: how CPU-bound threads delay a thread that answers requests (the convoy effect),
//! at three switch intervals, without the GIL, and with the computing in other processes.

use super::plural;
use crate::Params;
use crate::convoy::{ConvoySetup, measure_convoy};
use crate::cpython::{self, Ratio};
use crate::programs::check_one_at_a_time;
use course::Lesson;
use course::chart::Bars;
use course::table::Table;
use course::timing::{Latencies, format};
use std::time::Duration;

/// The latencies measured for each setup, in order, and where the summary's three are.
pub struct ConvoyResults {
    pub setups: Vec<(ConvoySetup, Latencies)>,
    /// CPU-bound threads under the GIL at the chosen switch interval.
    pub with_gil: usize,
    pub without_gil: usize,
    pub processes: usize,
}

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (n_neighbours, switch_interval) = (p.n_threads, p.switch_interval);
    lesson.say(format_args!(
        "  A client sends {} over a socket, one every 1–3 ms; an interpreter thread blocks reading \
         them (GIL released), then needs the GIL for one step to answer. Its neighbours:",
        plural(p.requests, "request")
    ));
    let neighbours = plural(n_neighbours, "CPU-bound thread");
    let mut intervals: Vec<Duration> = vec![
        (switch_interval / 5).max(Duration::from_millis(1)),
        switch_interval,
        (switch_interval * 4).min(Duration::from_millis(400)),
    ];
    intervals.dedup();
    let mut setups = vec![
        ConvoySetup {
            name: format!("alone, GIL {}", format::duration(switch_interval)),
            switch_interval: Some(switch_interval),
            cpu_neighbours: 0,
            in_processes: false,
        },
        ConvoySetup {
            name: format!("{neighbours}, no GIL"),
            switch_interval: None,
            cpu_neighbours: n_neighbours,
            in_processes: false,
        },
    ];
    let mut with_gil = 0;
    for interval in &intervals {
        if *interval == switch_interval {
            with_gil = setups.len();
        }
        setups.push(ConvoySetup {
            name: format!("{neighbours}, GIL {}", format::duration(*interval)),
            switch_interval: Some(*interval),
            cpu_neighbours: n_neighbours,
            in_processes: false,
        });
    }
    let processes = setups.len();
    setups.push(ConvoySetup {
        name: format!("{}, own GILs", plural(n_neighbours, "CPU-bound process")),
        switch_interval: Some(switch_interval),
        cpu_neighbours: n_neighbours,
        in_processes: true,
    });

    let mut results = Vec::new();
    let mut gil_stats = serde_json::Map::new();
    for setup in setups {
        let run = measure_convoy(&setup, p.requests, lesson.seed())?;
        if setup.switch_interval.is_some() {
            check_one_at_a_time(run.overlapping_steps)?;
        }
        gil_stats.insert(setup.name.clone(), serde_json::to_value(run.gil)?);
        results.push((setup, run.latencies));
    }
    // The same client, server and neighbours on CPython (python/gil.py), named as here.
    cpython::ensure_ran(lesson, p);
    let real = cpython::real(p).and_then(|real| real.convoy(lesson, p.requests));
    let real: Vec<(String, Latencies)> = real
        .into_iter()
        .flatten()
        .filter_map(|r| {
            let same = results.iter().find(|(setup, _)| {
                setup.cpu_neighbours == r.cpu_neighbours
                    && setup.in_processes == r.in_processes
                    && (r.in_processes || setup.switch_interval == Some(r.switch_interval))
            })?;
            Some((format!("CPython: {}", same.0.name), r.latencies))
        })
        .collect();
    let mut table = Table::new(&["", "count", "p50", "p90", "p99", "max"]);
    let mut simulated = serde_json::Map::new();
    let mut cpython_latency = serde_json::Map::new();
    for (name, latencies) in results
        .iter()
        .map(|(setup, l)| (&setup.name, l))
        .chain(real.iter().map(|(n, l)| (n, l)))
    {
        let s = latencies.summary();
        let cells = [s.p50, s.p90, s.p99, s.max].map(format::duration);
        table.row([name.clone(), format::count(s.count)].into_iter().chain(cells));
        let figures = if name.starts_with("CPython: ") {
            &mut cpython_latency
        } else {
            &mut simulated
        };
        figures.insert(name.clone(), serde_json::to_value(s)?);
    }
    lesson.table(&table);
    lesson.figure("latency", simulated);
    lesson.say("");
    let mut bars = Bars::new().width(if real.is_empty() { 30 } else { 20 });
    let p50 = |latencies: &Latencies| latencies.summary().p50;
    let mut ratios = Vec::new();
    if real.is_empty() {
        lesson.say("  Median reply time:");
        for (setup, latencies) in &results {
            bars.row(
                &setup.name,
                p50(latencies).as_secs_f64(),
                format::duration(p50(latencies)),
            );
        }
    } else {
        lesson.say("  Median reply time next to the CPU-bound threads, simulated and real:");
        for (setup, latencies) in results.iter().filter(|(s, _)| s.cpu_neighbours > 0 && !s.in_processes) {
            let Some((name, real)) = real
                .iter()
                .find(|(name, _)| *name == format!("CPython: {}", setup.name))
            else {
                continue;
            };
            let interval = setup
                .switch_interval
                .map_or("no GIL".to_string(), |i| format!("GIL {}", format::duration(i)));
            let ratio = Ratio::duration(&interval, p50(latencies), p50(real));
            bars.row(&setup.name, ratio.simulated, format::duration(p50(latencies)));
            bars.row(
                name,
                ratio.real,
                format!("{} (simulated/real {:.2})", format::duration(p50(real)), ratio.ratio),
            );
            ratios.push(ratio);
        }
    }
    lesson.bars(&bars);
    lesson.figure("cpython_latency", cpython_latency);
    lesson.figure("cpython", (!ratios.is_empty()).then_some(&ratios));
    // CPython's median at the chosen interval, for the closing sentence.
    let at = format!("GIL {}", format::duration(switch_interval));
    let real_p50 = ratios.iter().find(|r| r.what == at).map(|r| r.real);
    p.calibration.convoy = (!ratios.is_empty()).then_some(ratios);
    lesson.figure("gil", gil_stats);
    lesson.figure(
        "switch_intervals_ms",
        intervals.iter().map(|i| i.as_millis() as u64).collect::<Vec<_>>(),
    );
    let p50 = |index: usize| results.get(index).map_or(Duration::ZERO, |(_, l)| l.summary().p50);
    let intervals_of = |seconds: f64| seconds / switch_interval.as_secs_f64();
    let real = real_p50.map_or(String::new(), |s| {
        format!(" (CPython: {}, {:.1})", format::seconds(s), intervals_of(s))
    });
    lesson.notice(&format!(
        "Back from its read, the I/O thread waits in line behind the CPU-bound threads for whole \
         switch intervals: {} alone, {} next to {neighbours} under a {} GIL, {:.1} intervals{real}, \
         in step with --switch-interval. Without the GIL ({}), or with the computing in other \
         processes ({}), the reply is quick again.",
        format::duration(p50(0)),
        format::duration(p50(with_gil)),
        format::duration(switch_interval),
        intervals_of(p50(with_gil).as_secs_f64()),
        format::duration(p50(1)),
        format::duration(p50(processes)),
    ));
    p.convoy = Some(ConvoyResults {
        setups: results,
        with_gil,
        without_gil: 1,
        processes,
    });
    Ok(())
}
