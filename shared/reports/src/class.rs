//! A class's results: the reports that students ran on their own machines, grouped by machine,
//! with the course's headline workloads picked out of them, and the Markdown that shows them.
//!
//! A machine is its `machine` block (cores, OS, CPU, build) within one student's folder: two
//! students with identical laptops stay two series, and a student who ran on one core and on
//! two cores shows both. Every result carries the machine's flags: one core (no parallel
//! speedup can show) and an unoptimized build (timings are not representative).

use crate::svg::{self, Chart};
use crate::{Machine, Report, median};
use std::collections::BTreeSet;
use std::fmt::Write as _;

/// A workload that the class report charts, where a lesson measures it.
#[derive(Debug)]
pub struct Headline {
    /// Names its chart file: `class-report-<slug>.svg`.
    pub slug: &'static str,
    pub lesson: &'static str,
    pub title: &'static str,
    /// Its column in the overview of best speedups.
    pub short: &'static str,
    /// What the chart shows when things go as the lesson says, in a sentence or two.
    pub look_for: &'static str,
    pub shape: Shape,
    /// Whether a comparison's workload, as the lesson names it (sizes included), is this one.
    pub workload: fn(&str) -> bool,
}

/// How a headline comparison's rows become points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Every row is the same work on more workers: one line per machine.
    Sweep,
    /// The first row is the sequential baseline; each other row is a way of going parallel,
    /// drawn with its own marker.
    Variants,
}

/// The headline workloads, in course order.
pub const HEADLINES: &[Headline] = &[
    Headline {
        slug: "cpu-bound-tasks",
        lesson: "lesson00_machine",
        title: "CPU-bound tasks on more and more threads",
        short: "CPU-bound tasks",
        look_for: "Speedup follows the ideal line up to the machine's cores, then stops: threads \
                   beyond the cores add nothing to computing.",
        shape: Shape::Sweep,
        workload: cpu_bound_tasks,
    },
    Headline {
        slug: "gil",
        lesson: "lesson04_gil",
        title: "A simulated GIL: CPU-bound threads with it, without it, and processes",
        short: "GIL, threads and processes",
        look_for: "Threads under the GIL stay at 1× or below on every machine; without the GIL, \
                   or as processes with a GIL each, the same work scales with the cores.",
        shape: Shape::Variants,
        workload: interpreter_steps,
    },
    Headline {
        slug: "count-prime",
        lesson: "lesson06_pool_map",
        title: "count_prime on large numbers: rayon, a thread pool and a process pool",
        short: "count_prime pools",
        look_for: "Every pool approaches its workers' count, as far as a few numbers of unequal \
                   size allow; the process pool pays a little for starting and talking to its \
                   workers.",
        shape: Shape::Variants,
        workload: count_prime_on_large_numbers,
    },
    Headline {
        slug: "bzip2-decompression",
        lesson: "lesson09_bzip2",
        title: "bzip2 decompression of many requests: threads and processes",
        short: "bzip2 decompression",
        look_for: "Real library work, CPU-bound: threads come close to the ideal line; processes \
                   a little below, for moving the bytes to and from the workers.",
        shape: Shape::Variants,
        workload: bzip2_decompression,
    },
    Headline {
        slug: "amdahl",
        lesson: "lesson10_amdahl",
        title: "Amdahl's law: a job with a serial part, on more and more threads",
        short: "Amdahl's job",
        look_for: "The serial part bends every line away from the ideal long before the cores \
                   run out; past the cores, more threads add nothing.",
        shape: Shape::Sweep,
        workload: amdahl_job,
    },
];

fn cpu_bound_tasks(workload: &str) -> bool {
    // "CPU-bound tasks: 4 × 2,000,000 xorshift steps"; reports before sizes were named said only
    // "CPU-bound tasks".
    workload == "CPU-bound tasks" || workload.starts_with("CPU-bound tasks: ")
}

fn interpreter_steps(workload: &str) -> bool {
    workload.ends_with(" steps")
}

fn count_prime_on_large_numbers(workload: &str) -> bool {
    workload.starts_with("count_prime on ") && !workload.contains("growing")
}

fn bzip2_decompression(workload: &str) -> bool {
    workload.starts_with("bzip2 decompression")
}

fn amdahl_job(workload: &str) -> bool {
    workload.starts_with("a job with P")
}

/// Why a result cannot show what the lesson measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flag {
    /// One logical core: no parallel speedup can show.
    OneCore,
    /// Built without optimizations: the timings are not representative.
    Unoptimized,
}

impl Flag {
    pub fn name(self) -> &'static str {
        match self {
            Flag::OneCore => "one core",
            Flag::Unoptimized => "unoptimized",
        }
    }

    pub fn explanation(self) -> &'static str {
        match self {
            Flag::OneCore => {
                "only one core was available to the lessons, so no parallel speedup can show: \
                 workers take turns on it"
            }
            Flag::Unoptimized => {
                "built without optimizations (opt-level 0), so the timings are not \
                 representative: unoptimized code spends its time in other places than the \
                 lessons measure"
            }
        }
    }

    /// `⚠ one core`, as results are marked.
    pub fn mark(self) -> String {
        format!("⚠ {}", self.name())
    }
}

/// One machine of the class, with what it sent.
#[derive(Clone, Debug)]
pub struct ClassMachine {
    /// How the report names it: the student's folder, or the machine's shape for loose files.
    pub label: String,
    /// The folder under the class folder that its reports came from (none for loose files).
    pub folder: Option<String>,
    pub machine: Machine,
    pub reports: usize,
    pub lessons: BTreeSet<String>,
    /// Whether it sent reports run with `--quick` (small sizes), and without (a report whose
    /// parameters do not say counts as neither).
    pub quick: bool,
    pub full: bool,
    /// Reports it ran while other programs kept its cores busy (their figures are disturbed).
    pub busy_reports: usize,
}

impl ClassMachine {
    pub fn flags(&self) -> Vec<Flag> {
        machine_flags(&self.machine)
    }

    /// `quick`, `full` or `quick and full`: the sizes its lessons ran at.
    pub fn sizes(&self) -> &'static str {
        match (self.quick, self.full) {
            (true, true) => "quick and full",
            (true, false) => "quick",
            (false, true) => "full",
            (false, false) => "unknown",
        }
    }
}

/// The flags every result measured on `machine` carries.
pub fn machine_flags(machine: &Machine) -> Vec<Flag> {
    let mut flags = Vec::new();
    if machine.logical_cores <= 1 {
        flags.push(Flag::OneCore);
    }
    if !machine.optimized {
        flags.push(Flag::Unoptimized);
    }
    flags
}

/// A headline result of one machine: one variant at one number of workers, with the medians
/// over the reports that measured it.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Index into [`Class::machines`].
    pub machine: usize,
    /// The way of going parallel (`thread pool`, `threads, GIL`); empty in a sweep.
    pub variant: String,
    pub workers: usize,
    pub speedup: f64,
    pub efficiency: f64,
    pub cores_used: f64,
    /// How many reports measured it (a report that measured it twice counts once).
    pub reports: usize,
    /// Why its figures cannot be taken at face value (empty when they can). A point is
    /// disturbed only when every report that measured it was: disturbed runs are left out of
    /// the median when an undisturbed one exists.
    pub disturbed: Vec<String>,
}

impl Point {
    pub fn is_disturbed(&self) -> bool {
        !self.disturbed.is_empty()
    }
}

/// One variant's figures from one report, and why they might be disturbed.
#[derive(Clone, Debug)]
struct Sample {
    report: usize,
    speedup: f64,
    efficiency: f64,
    cores_used: f64,
    disturbed: Option<String>,
}

/// Why a row of a report cannot be taken at face value: the lesson said so, the machine was
/// busy as the lesson started, or (for reports from before the lessons judged it) its figures
/// contradict each other.
pub fn disturbance(report: &Report, row: &crate::Row) -> Option<String> {
    if let Some(reason) = &row.disturbed {
        return Some(reason.clone());
    }
    if let Some(busy) = report.machine.busy_at_start
        && busy > crate::BUSY
    {
        return Some(format!(
            "busy machine: {:.0}% of its cores were busy with other programs",
            busy * 100.0
        ));
    }
    let same_algorithm = row.same_algorithm.unwrap_or(true);
    if same_algorithm && row.efficiency.is_finite() && row.efficiency > 1.1 {
        return Some(format!(
            "efficiency {:.0}%: more than its workers can give",
            row.efficiency * 100.0
        ));
    }
    if row.workers == 1 && row.cores_used.is_finite() && row.cores_used < 0.9 && row.median_s >= 0.01 {
        return Some(format!("one worker got {:.2} of a core", row.cores_used));
    }
    if same_algorithm && row.workers > 1 && row.cores_used.is_finite() && row.speedup > row.cores_used * 1.1 + 0.05 {
        return Some(format!(
            "speedup {:.2}× above the {:.2} cores it used",
            row.speedup, row.cores_used
        ));
    }
    None
}

/// Everything the class measured of one headline workload.
#[derive(Debug)]
pub struct HeadlineResults {
    pub headline: &'static Headline,
    /// The workloads as the lessons named them (sizes differ between quick and full runs).
    pub workloads: Vec<String>,
    /// In machine order, then variant order, then workers.
    pub points: Vec<Point>,
    /// The variants in the order they first appear.
    pub variants: Vec<String>,
    /// For the Amdahl job: the parallel fractions it ran with (its chart draws the law for each).
    pub parallel_fractions: Vec<f64>,
}

impl HeadlineResults {
    /// The machines with at least one point, in class order.
    pub fn machines(&self) -> Vec<usize> {
        let mut machines: Vec<usize> = self.points.iter().map(|point| point.machine).collect();
        machines.dedup();
        machines
    }
}

/// The class: its machines and its headline results.
#[derive(Debug)]
pub struct Class {
    pub machines: Vec<ClassMachine>,
    pub headlines: Vec<HeadlineResults>,
    pub reports: usize,
    /// Every prediction in every report, with the lesson it was made in.
    pub predictions: Vec<ClassPrediction>,
}

/// One student's prediction of a comparison's speedup, and what their machine measured.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassPrediction {
    pub lesson: String,
    pub machine: usize,
    pub workload: String,
    pub variant: String,
    pub predicted: f64,
    pub measured: f64,
}

/// A report and the student's folder it came from (none for a loose file).
#[derive(Clone, Debug)]
pub struct Entry {
    pub folder: Option<String>,
    pub report: Report,
}

/// Groups the reports by machine and gathers every headline workload's results.
pub fn gather(entries: &[Entry]) -> Class {
    let mut machines: Vec<ClassMachine> = Vec::new();
    let mut machine_of_entry = Vec::with_capacity(entries.len());
    for entry in entries {
        let found = machines
            .iter()
            .position(|known| known.folder == entry.folder && known.machine == entry.report.machine);
        let index = found.unwrap_or_else(|| {
            machines.push(ClassMachine {
                label: String::new(),
                folder: entry.folder.clone(),
                machine: entry.report.machine.clone(),
                reports: 0,
                lessons: BTreeSet::new(),
                quick: false,
                full: false,
                busy_reports: 0,
            });
            machines.len() - 1
        });
        let machine = &mut machines[index];
        machine.reports += 1;
        if entry
            .report
            .machine
            .busy_at_start
            .is_some_and(|busy| busy > crate::BUSY)
        {
            machine.busy_reports += 1;
        }
        machine.lessons.insert(entry.report.lesson.clone());
        match entry.report.params.get("quick").and_then(|quick| quick.as_bool()) {
            Some(true) => machine.quick = true,
            Some(false) => machine.full = true,
            None => {}
        }
        machine_of_entry.push(index);
    }
    label_machines(&mut machines);

    let headlines = HEADLINES
        .iter()
        .map(|headline| headline_results(headline, entries, &machine_of_entry))
        .collect();
    let predictions = entries
        .iter()
        .zip(&machine_of_entry)
        .flat_map(|(entry, &machine)| {
            entry.report.sections.iter().flat_map(move |section| {
                section.predictions.iter().filter_map(move |prediction| {
                    let usable = prediction.predicted_speedup.is_finite()
                        && prediction.predicted_speedup > 0.0
                        && prediction.measured_speedup.is_finite()
                        && prediction.measured_speedup > 0.0;
                    usable.then(|| ClassPrediction {
                        lesson: entry.report.lesson.clone(),
                        machine,
                        // Sizes differ between machines: the workload's own words, not its numbers.
                        workload: prediction.workload.clone(),
                        variant: variant_kind(&prediction.variant),
                        predicted: prediction.predicted_speedup,
                        measured: prediction.measured_speedup,
                    })
                })
            })
        })
        .collect();
    Class {
        machines,
        headlines,
        reports: entries.len(),
        predictions,
    }
}

fn headline_results(headline: &'static Headline, entries: &[Entry], machine_of_entry: &[usize]) -> HeadlineResults {
    type Key = (usize, String, usize);
    let mut keys: Vec<Key> = Vec::new();
    let mut samples: Vec<Vec<Sample>> = Vec::new();
    let mut workloads: Vec<String> = Vec::new();
    let mut variants: Vec<String> = Vec::new();
    for (report_index, (entry, &machine)) in entries.iter().zip(machine_of_entry).enumerate() {
        if entry.report.lesson != headline.lesson {
            continue;
        }
        let comparisons = entry
            .report
            .sections
            .iter()
            .flat_map(|section| &section.comparisons)
            .filter(|comparison| comparison.answers_agree && (headline.workload)(&comparison.workload));
        for comparison in comparisons {
            if !workloads.contains(&comparison.workload) {
                workloads.push(comparison.workload.clone());
            }
            let rows = match headline.shape {
                Shape::Sweep => &comparison.rows[..],
                Shape::Variants => comparison.rows.get(1..).unwrap_or_default(),
            };
            for row in rows {
                if !row.speedup.is_finite() || row.speedup < 0.0 || row.workers == 0 {
                    continue;
                }
                let variant = match headline.shape {
                    Shape::Sweep => String::new(),
                    Shape::Variants => variant_kind(&row.name),
                };
                if !variants.contains(&variant) {
                    variants.push(variant.clone());
                }
                let key = (machine, variant, row.workers);
                let index = keys.iter().position(|known| *known == key).unwrap_or_else(|| {
                    keys.push(key);
                    samples.push(Vec::new());
                    keys.len() - 1
                });
                samples[index].push(Sample {
                    report: report_index,
                    speedup: row.speedup,
                    efficiency: row.efficiency,
                    cores_used: row.cores_used,
                    disturbed: disturbance(&entry.report, row),
                });
            }
        }
    }
    let mut points: Vec<Point> = keys
        .into_iter()
        .zip(samples)
        .map(|((machine, variant, workers), samples)| {
            let undisturbed: Vec<&Sample> = samples.iter().filter(|sample| sample.disturbed.is_none()).collect();
            let kept: Vec<&Sample> = if undisturbed.is_empty() {
                samples.iter().collect()
            } else {
                undisturbed
            };
            let of = |figure: fn(&Sample) -> f64| median(kept.iter().map(|sample| figure(sample)).collect());
            let mut disturbed: Vec<String> = kept.iter().filter_map(|sample| sample.disturbed.clone()).collect();
            disturbed.dedup();
            let mut reports: Vec<usize> = kept.iter().map(|sample| sample.report).collect();
            reports.sort_unstable();
            reports.dedup();
            Point {
                machine,
                variant,
                workers,
                speedup: of(|sample| sample.speedup),
                efficiency: of(|sample| sample.efficiency),
                cores_used: of(|sample| sample.cores_used),
                reports: reports.len(),
                disturbed,
            }
        })
        .collect();
    let variant_order = |variant: &str| variants.iter().position(|known| known == variant);
    points.sort_by_key(|point| (point.machine, variant_order(&point.variant), point.workers));
    let parallel_fractions = if headline.slug == "amdahl" {
        amdahl_fractions(entries)
    } else {
        Vec::new()
    };
    HeadlineResults {
        headline,
        workloads,
        points,
        variants,
        parallel_fractions,
    }
}

/// The parallel fractions P of the Amdahl jobs the class ran (`--parallel`, or the workload's
/// name "a job with P = 0.9"), so that the chart can draw the law's prediction for each.
fn amdahl_fractions(entries: &[Entry]) -> Vec<f64> {
    let mut fractions: Vec<f64> = Vec::new();
    for entry in entries.iter().filter(|entry| entry.report.lesson == "lesson10_amdahl") {
        let from_params = entry.report.params.get("parallel").and_then(|p| p.as_f64());
        let from_workload = entry
            .report
            .sections
            .iter()
            .flat_map(|section| &section.comparisons)
            .find_map(|comparison| comparison.workload.strip_prefix("a job with P = "))
            .and_then(|p| p.split_whitespace().next())
            .and_then(|p| p.parse::<f64>().ok());
        if let Some(p) = from_params.or(from_workload)
            && (0.0..=1.0).contains(&p)
            && !fractions.iter().any(|known| (known - p).abs() < 1e-9)
        {
            fractions.push(p);
        }
    }
    fractions.sort_by(f64::total_cmp);
    fractions
}

/// The way of going parallel that a variant's name describes, without its count, so that the
/// same variant matches across machines: `2 threads, GIL` and `1 thread, GIL` are both
/// `threads, GIL`; `4 processes` is `processes`; `thread pool` stays `thread pool`.
pub fn variant_kind(name: &str) -> String {
    let Some((count, rest)) = name.trim().split_once(' ') else {
        return name.trim().to_string();
    };
    if count.parse::<usize>().is_err() {
        return name.trim().to_string();
    }
    let rest = rest.trim_start();
    let end = rest.find([' ', ',', '(']).unwrap_or(rest.len());
    let (word, tail) = rest.split_at(end);
    let word = match word {
        "thread" => "threads",
        "process" => "processes",
        "worker" => "workers",
        other => other,
    };
    format!("{word}{tail}")
}

/// `1 core`, `8 cores`.
pub fn cores(count: usize) -> String {
    if count == 1 {
        "1 core".to_string()
    } else {
        format!("{count} cores")
    }
}

/// Labels: the folder's name when it holds one machine; the folder and the machine's shape when
/// it holds several; the shape alone for loose files. A label already taken gets `#2`, `#3`.
fn label_machines(machines: &mut [ClassMachine]) {
    let shape = |machine: &Machine| {
        let mut shape = cores(machine.logical_cores);
        if !machine.optimized {
            shape.push_str(", unoptimized");
        }
        shape
    };
    let mut labels: Vec<String> = Vec::with_capacity(machines.len());
    for (index, machine) in machines.iter().enumerate() {
        let in_folder = machines.iter().filter(|other| other.folder == machine.folder).count();
        let base = match &machine.folder {
            Some(folder) if in_folder == 1 => folder.clone(),
            Some(folder) => format!("{folder} ({})", shape(&machine.machine)),
            None => {
                let cpu = machine
                    .machine
                    .cpu_model
                    .clone()
                    .unwrap_or_else(|| machine.machine.arch.clone());
                format!("{} · {cpu}", shape(&machine.machine))
            }
        };
        let mut label = base.clone();
        let mut number = 1;
        while labels.contains(&label) {
            number += 1;
            label = format!("{base} #{number}");
        }
        debug_assert_eq!(labels.len(), index);
        labels.push(label);
    }
    for (machine, label) in machines.iter_mut().zip(labels) {
        machine.label = label;
    }
}

/// Past this many machines a chart shows groups of machines (by core count) instead of one
/// series per machine: thirty lines in ten colours cannot be told apart.
pub const GROUP_ABOVE: usize = 10;

/// Machines that a chart or table summarises together: the same number of cores and the same
/// flags (an unoptimized build is not mixed with optimized ones).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    pub cores: usize,
    pub flags: Vec<Flag>,
    /// Indexes into [`Class::machines`].
    pub machines: Vec<usize>,
}

impl Group {
    pub fn label(&self) -> String {
        let mut label = format!(
            "{} ({})",
            cores(self.cores),
            plural(self.machines.len(), "machine", "machines")
        );
        if !self.flags.is_empty() {
            let _ = write!(label, " {}", marks(&self.flags));
        }
        label
    }
}

/// The groups of the machines that measured `results`, fewest cores first.
pub fn groups(class: &Class, results: &HeadlineResults) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for index in results.machines() {
        let machine = &class.machines[index];
        let (cores, flags) = (machine.machine.logical_cores, machine.flags());
        match groups
            .iter_mut()
            .find(|group| group.cores == cores && group.flags == flags)
        {
            Some(group) => group.machines.push(index),
            None => groups.push(Group {
                cores,
                flags,
                machines: vec![index],
            }),
        }
    }
    groups.sort_by_key(|group| (!group.flags.is_empty(), group.cores));
    groups
}

/// A group's summary at one variant and number of workers: the median of its machines'
/// undisturbed speedups, their range, and how many machines that is.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupPoint {
    pub variant: String,
    pub workers: usize,
    pub median: f64,
    pub low: f64,
    pub high: f64,
    pub cores_used: f64,
    pub machines: usize,
    /// Machines whose only measurement here was disturbed (left out of the figures).
    pub disturbed: usize,
}

/// Each group's points, in variant then worker order.
pub fn group_points(results: &HeadlineResults, group: &Group) -> Vec<GroupPoint> {
    let mut keys: Vec<(String, usize)> = Vec::new();
    for point in results
        .points
        .iter()
        .filter(|point| group.machines.contains(&point.machine))
    {
        let key = (point.variant.clone(), point.workers);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    let variant_order = |variant: &str| results.variants.iter().position(|known| known == variant);
    keys.sort_by_key(|(variant, workers)| (variant_order(variant), *workers));
    keys.into_iter()
        .filter_map(|(variant, workers)| {
            let here: Vec<&Point> = results
                .points
                .iter()
                .filter(|point| {
                    group.machines.contains(&point.machine) && point.variant == variant && point.workers == workers
                })
                .collect();
            let good: Vec<&&Point> = here.iter().filter(|point| !point.is_disturbed()).collect();
            if good.is_empty() {
                return None;
            }
            let speedups: Vec<f64> = good.iter().map(|point| point.speedup).collect();
            Some(GroupPoint {
                median: median(speedups.clone()),
                low: speedups.iter().copied().fold(f64::INFINITY, f64::min),
                high: speedups.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                cores_used: median(good.iter().map(|point| point.cores_used).collect()),
                machines: good.len(),
                disturbed: here.len() - good.len(),
                variant,
                workers,
            })
        })
        .collect()
}

/// The chart of one headline: speedup against workers, one series per machine (or, past
/// [`GROUP_ABOVE`] machines, per group of machines with the same cores: the median and the
/// range), the ideal line, each core count's ceiling, and the law's prediction for Amdahl's job.
pub fn chart(class: &Class, results: &HeadlineResults) -> Chart {
    let headline = results.headline;
    let markers: Vec<String> = match headline.shape {
        Shape::Sweep => Vec::new(),
        Shape::Variants => results.variants.clone(),
    };
    let marker_of = |variant: &str| markers.iter().position(|known| known == variant).unwrap_or(0);
    let grouped = results.machines().len() > GROUP_ABOVE;
    let series: Vec<svg::Series> = if grouped {
        groups(class, results)
            .into_iter()
            .map(|group| {
                let label = group.label();
                let points = group_points(results, &group)
                    .into_iter()
                    .map(|point| {
                        let mut tip = format!("{label}: ");
                        if !point.variant.is_empty() {
                            let _ = write!(tip, "{}, ", point.variant);
                        }
                        let _ = write!(
                            tip,
                            "{}: median speedup {:.2}× (from {:.2}× to {:.2}× over {}), {:.2} cores used",
                            plural(point.workers, "worker", "workers"),
                            point.median,
                            point.low,
                            point.high,
                            plural(point.machines, "machine", "machines"),
                            point.cores_used
                        );
                        if point.disturbed > 0 {
                            let _ = write!(tip, "; {} disturbed, left out", point.disturbed);
                        }
                        svg::Point {
                            x: point.workers as f64,
                            y: point.median,
                            marker: marker_of(&point.variant),
                            tip,
                            hollow: false,
                            range: Some((point.low, point.high)),
                        }
                    })
                    .collect();
                svg::Series {
                    label,
                    note: String::new(),
                    flagged: !group.flags.is_empty(),
                    joined: headline.shape == Shape::Sweep,
                    points,
                }
            })
            .collect()
    } else {
        results
            .machines()
            .into_iter()
            .map(|index| {
                let machine = &class.machines[index];
                let flags = machine.flags();
                let points = results
                    .points
                    .iter()
                    .filter(|point| point.machine == index)
                    .map(|point| {
                        let mut tip = format!("{}: ", machine.label);
                        if !point.variant.is_empty() {
                            let _ = write!(tip, "{}, ", point.variant);
                        }
                        let _ = write!(
                            tip,
                            "{}, {:.2}× speedup, {:.2} cores used",
                            plural(point.workers, "worker", "workers"),
                            point.speedup,
                            point.cores_used
                        );
                        for flag in &flags {
                            let _ = write!(tip, " ({})", flag.mark());
                        }
                        for reason in &point.disturbed {
                            let _ = write!(tip, " (disturbed: {reason})");
                        }
                        svg::Point {
                            x: point.workers as f64,
                            y: point.speedup,
                            marker: marker_of(&point.variant),
                            tip,
                            hollow: point.is_disturbed(),
                            range: None,
                        }
                    })
                    .collect();
                svg::Series {
                    label: machine.label.clone(),
                    note: flags.iter().map(|flag| flag.mark()).collect::<Vec<_>>().join(" "),
                    flagged: !flags.is_empty(),
                    joined: headline.shape == Shape::Sweep,
                    points,
                }
            })
            .collect()
    };
    // The ideal line stays in view up to the biggest machine's cores.
    let mut core_counts: Vec<usize> = results
        .machines()
        .iter()
        .map(|&index| class.machines[index].machine.logical_cores)
        .filter(|&cores| cores > 1)
        .collect();
    core_counts.sort_unstable();
    core_counts.dedup();
    let most_cores = core_counts.last().copied().unwrap_or(1);
    let most_workers = results.points.iter().map(|point| point.workers).max().unwrap_or(1);
    let curves = results
        .parallel_fractions
        .iter()
        .map(|&p| svg::Curve {
            label: format!("Amdahl's law, P = {p}"),
            points: (1..=most_workers.max(2) * 4)
                .map(|quarter| {
                    let n = 1.0 + (quarter - 1) as f64 / 4.0;
                    (n, 1.0 / ((1.0 - p) + p / n))
                })
                .take_while(|(n, _)| *n <= most_workers.max(2) as f64 * 1.1)
                .collect(),
        })
        .collect();
    let subtitle = if grouped {
        format!(
            "{}: speedup against workers; {} machines in groups of equal cores: median, bar from lowest to highest",
            headline.lesson,
            results.machines().len()
        )
    } else {
        format!("{}: speedup against workers, one colour per machine", headline.lesson)
    };
    Chart {
        title: headline.title.to_string(),
        subtitle,
        x_label: "workers (threads or processes)".to_string(),
        y_label: "speedup over the sequential run (×)".to_string(),
        series,
        markers,
        y_at_least: most_cores.min(most_workers) as f64,
        ceilings: core_counts
            .into_iter()
            .map(|cores| (cores as f64, format!("{cores} cores")))
            .collect(),
        curves,
        hollow_means: if grouped {
            "cannot show parallelism (flagged)".to_string()
        } else {
            "disturbed, or cannot show parallelism".to_string()
        },
    }
}

/// One file that was not read, or read in part, and why.
#[derive(Clone, Debug)]
pub struct Skipped {
    pub file: String,
    pub reason: String,
    /// How many of its reports were read all the same (0: the file was skipped whole).
    pub kept: usize,
}

/// What the Markdown says about where the reports came from.
#[derive(Clone, Debug)]
pub struct Sources {
    /// The class folder, as given.
    pub folder: String,
    /// Files that held at least one report.
    pub files_read: usize,
    pub skipped: Vec<Skipped>,
}

/// The class report in Markdown. `charts[i]` is the file name (beside the Markdown) of the
/// chart of `class.headlines[i]`, or `None` where nothing was measured.
pub fn markdown(class: &Class, sources: &Sources, charts: &[Option<String>]) -> String {
    let mut out = String::new();
    let text = &mut out;
    line(text, "# Class results");
    line(text, "");
    let whole = sources.skipped.iter().filter(|skipped| skipped.kept == 0).count();
    let partly = sources.skipped.len() - whole;
    let _ = write!(
        text,
        "{} from {}, in {}: {} read",
        plural(class.reports, "report", "reports"),
        plural(class.machines.len(), "machine", "machines"),
        code_span(&sources.folder),
        plural(sources.files_read, "file", "files"),
    );
    if partly > 0 {
        let _ = write!(text, " ({partly} of them in part)");
    }
    let _ = writeln!(
        text,
        ", {whole} skipped{}.",
        if sources.skipped.is_empty() {
            ""
        } else {
            " (listed at the end)"
        }
    );
    line(
        text,
        "Every speedup was measured by a lesson on a student's machine, its variants side by side \
         in one run; where a machine sent several reports of a lesson, the median is shown. \
         *Cores used* is CPU time over wall time: how many cores were really busy.",
    );
    line(text, "");

    line(text, "## Machines");
    line(text, "");
    line(
        text,
        "| machine | logical cores | CPU | OS | arch | build | sizes | reports | flags |",
    );
    line(text, "|---|--:|---|---|---|---|---|--:|---|");
    for machine in &class.machines {
        let m = &machine.machine;
        let mut flags = marks(&machine.flags());
        if machine.busy_reports > 0 {
            if !flags.is_empty() {
                flags.push_str(", ");
            }
            let _ = write!(
                flags,
                "⚠ busy in {} of {}",
                machine.busy_reports,
                plural(machine.reports, "report", "reports")
            );
        }
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} profile, opt-level {} | {} | {} | {} |",
            escape(&machine.label),
            m.logical_cores,
            escape(m.cpu_model.as_deref().unwrap_or("unknown")),
            escape(&m.os),
            escape(&m.arch),
            escape(&m.profile),
            escape(&m.opt_level),
            machine.sizes(),
            machine.reports,
            flags,
        );
    }
    line(text, "");
    let mut flags_seen: Vec<Flag> = class.machines.iter().flat_map(ClassMachine::flags).collect();
    flags_seen.sort_by_key(|flag| *flag as u8);
    flags_seen.dedup();
    for flag in &flags_seen {
        let _ = writeln!(
            text,
            "- **{}**: {}. Every result of such a machine carries the flag.",
            flag.mark(),
            flag.explanation()
        );
    }
    if class.machines.iter().any(|machine| machine.busy_reports > 0) {
        line(
            text,
            "- **⚠ busy**: other programs kept the machine's cores busy as the lesson started, so its \
             figures from that run are disturbed: left out of the best speedups and the group medians.",
        );
    }
    if class.machines.iter().any(|machine| machine.quick) {
        line(
            text,
            "- *quick* sizes are small: start-up costs weigh more, so speedups read lower than at \
             full size.",
        );
    }
    line(text, "");

    let measured: Vec<&HeadlineResults> = class
        .headlines
        .iter()
        .filter(|results| !results.points.is_empty())
        .collect();
    if !measured.is_empty() {
        line(text, "## Best speedup of each machine");
        line(text, "");
        line(
            text,
            "The best variant of each headline workload, with the workers it had and the cores it used. \
             Disturbed results (the lesson said so, the machine was busy, or the figures contradict \
             each other) are left out here and marked in the tables below.",
        );
        line(text, "");
        let mut header = "| machine | logical cores |".to_string();
        let mut rule = "|---|--:|".to_string();
        for results in &measured {
            let _ = write!(header, " {} |", escape(results.headline.short));
            rule.push_str("---|");
        }
        header.push_str(" flags |");
        rule.push_str("---|");
        line(text, &header);
        line(text, &rule);
        for (index, machine) in class.machines.iter().enumerate() {
            let _ = write!(
                text,
                "| {} | {} |",
                escape(&machine.label),
                machine.machine.logical_cores
            );
            for results in &measured {
                let parallel: Vec<&Point> = results
                    .points
                    .iter()
                    .filter(|point| point.machine == index && point.workers > 1)
                    .collect();
                let best = parallel
                    .iter()
                    .filter(|point| !point.is_disturbed())
                    .max_by(|a, b| a.speedup.total_cmp(&b.speedup));
                match best {
                    Some(point) => {
                        let _ = write!(
                            text,
                            " {:.2}× on {} ({:.2} cores used) |",
                            point.speedup, point.workers, point.cores_used
                        );
                    }
                    None if !parallel.is_empty() => text.push_str(" – (disturbed) |"),
                    None => {
                        let one_worker = results.points.iter().any(|point| point.machine == index);
                        text.push_str(if one_worker { " 1 worker only |" } else { " – |" });
                    }
                }
            }
            let _ = writeln!(text, " {} |", marks(&machine.flags()));
        }
        line(text, "");
    }

    for (number, (results, chart)) in class.headlines.iter().zip(charts).enumerate() {
        let headline = results.headline;
        let _ = writeln!(text, "## {}. {}", number + 1, escape(headline.title));
        line(text, "");
        let workloads: Vec<String> = results.workloads.iter().map(|workload| code_span(workload)).collect();
        if results.points.is_empty() {
            let _ = writeln!(
                text,
                "No report of `{}` with this workload was read: nothing to show.",
                headline.lesson
            );
            line(text, "");
            continue;
        }
        let _ = writeln!(
            text,
            "From `{}` ({}). {}",
            headline.lesson,
            workloads.join(", "),
            headline.look_for
        );
        line(text, "");
        if let Some(chart) = chart {
            let _ = writeln!(
                text,
                "![{}: speedup against workers, one series per machine]({chart})",
                escape(headline.title)
            );
            line(text, "");
        }
        let sweep = headline.shape == Shape::Sweep;
        let grouped = results.machines().len() > GROUP_ABOVE;
        if grouped {
            group_table(text, class, results, sweep);
            line(text, "<details><summary>Every machine's figures</summary>");
            line(text, "");
        }
        if sweep {
            line(
                text,
                "| machine | workers | speedup | efficiency | cores used | reports | flags |",
            );
            line(text, "|---|--:|--:|--:|--:|--:|---|");
        } else {
            line(
                text,
                "| machine | variant | workers | speedup | efficiency | cores used | reports | flags |",
            );
            line(text, "|---|---|--:|--:|--:|--:|--:|---|");
        }
        for point in &results.points {
            let machine = &class.machines[point.machine];
            let mut flags = marks(&machine.flags());
            let mut add = |flag: &str| {
                if !flags.is_empty() {
                    flags.push_str(", ");
                }
                flags.push_str(flag);
            };
            if point.workers > machine.machine.logical_cores && !machine.flags().contains(&Flag::OneCore) {
                add("more workers than cores");
            }
            for reason in &point.disturbed {
                add(&format!("⚠ disturbed: {reason}"));
            }
            let _ = write!(text, "| {} |", escape(&machine.label));
            if !sweep {
                let _ = write!(text, " {} |", escape(&point.variant));
            }
            let _ = writeln!(
                text,
                " {} | {:.2}× | {} | {:.2} | {} | {} |",
                point.workers,
                point.speedup,
                if point.efficiency.is_finite() {
                    format!("{:.0} %", point.efficiency * 100.0)
                } else {
                    "–".to_string()
                },
                point.cores_used,
                point.reports,
                escape(&flags)
            );
        }
        line(text, "");
        if grouped {
            line(text, "</details>");
            line(text, "");
        }
    }

    predictions(text, class);

    if !sources.skipped.is_empty() {
        line(text, "## Files skipped");
        line(text, "");
        for skipped in &sources.skipped {
            let _ = write!(text, "- {}: ", code_span(&skipped.file));
            if skipped.kept > 0 {
                let _ = write!(
                    text,
                    "read in part ({} kept); ",
                    plural(skipped.kept, "report", "reports")
                );
            }
            let _ = writeln!(text, "{}", escape(&skipped.reason));
        }
        line(text, "");
    }
    out
}

/// The summary of a headline by group of machines: median, range, machines.
fn group_table(text: &mut String, class: &Class, results: &HeadlineResults, sweep: bool) {
    if sweep {
        line(
            text,
            "| machines | workers | median speedup | lowest – highest | median cores used | machines measured | disturbed, left out |",
        );
        line(text, "|---|--:|--:|---|--:|--:|--:|");
    } else {
        line(
            text,
            "| machines | variant | workers | median speedup | lowest – highest | median cores used | machines measured | disturbed, left out |",
        );
        line(text, "|---|---|--:|--:|---|--:|--:|--:|");
    }
    for group in groups(class, results) {
        for point in group_points(results, &group) {
            let _ = write!(text, "| {} |", escape(&group.label()));
            if !sweep {
                let _ = write!(text, " {} |", escape(&point.variant));
            }
            let _ = writeln!(
                text,
                " {} | {:.2}× | {:.2}× – {:.2}× | {:.2} | {} | {} |",
                point.workers, point.median, point.low, point.high, point.cores_used, point.machines, point.disturbed
            );
        }
    }
    line(text, "");
}

/// What the room predicted before each comparison was shown (`--predict`), against what was
/// measured: per workload and variant, how many predicted, the median prediction and the
/// median measurement, and how many came within a fifth.
fn predictions(text: &mut String, class: &Class) {
    if class.predictions.is_empty() {
        return;
    }
    line(text, "## The room's predictions against what we measured");
    line(text, "");
    line(
        text,
        "Before each comparison was shown, students predicted the speedup of its last variant over \
         its first (`--predict`, or at a `--step` pause). *Close* means within 20% of what their \
         own machine then measured.",
    );
    line(text, "");
    line(
        text,
        "| lesson | workload | variant | predictions | median predicted | median measured | close | too high | too low |",
    );
    line(text, "|---|---|---|--:|--:|--:|--:|--:|--:|");
    let mut keys: Vec<(&str, &str, &str)> = Vec::new();
    for prediction in &class.predictions {
        let key = (
            prediction.lesson.as_str(),
            prediction.workload.as_str(),
            prediction.variant.as_str(),
        );
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for (lesson, workload, variant) in keys {
        let here: Vec<&ClassPrediction> = class
            .predictions
            .iter()
            .filter(|p| p.lesson == lesson && p.workload == workload && p.variant == variant)
            .collect();
        let ratio = |p: &&ClassPrediction| p.predicted / p.measured;
        let close = here.iter().filter(|p| (ratio(p) - 1.0).abs() <= 0.2).count();
        let high = here.iter().filter(|p| ratio(p) > 1.2).count();
        let low = here.iter().filter(|p| ratio(p) < 0.8).count();
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {:.2}× | {:.2}× | {close} | {high} | {low} |",
            escape(lesson),
            escape(workload),
            escape(variant),
            here.len(),
            median(here.iter().map(|p| p.predicted).collect()),
            median(here.iter().map(|p| p.measured).collect()),
        );
    }
    line(text, "");
}

fn marks(flags: &[Flag]) -> String {
    flags.iter().map(|flag| flag.mark()).collect::<Vec<_>>().join(", ")
}

fn line(text: &mut String, content: &str) {
    text.push_str(content);
    text.push('\n');
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Text from a report, made safe for a Markdown paragraph or table cell: Markdown's special
/// characters are escaped, HTML's are written as entities, line breaks become spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '$' => {
                out.push('\\');
                out.push(character);
            }
            character if character.is_control() => out.push(' '),
            character => out.push(character),
        }
    }
    out
}

/// Text shown as code: a span whose backtick fence is longer than any run of backticks in it.
/// A `|` cannot be escaped inside a code span of a table cell, so it is written as an entity
/// there too; the span is only used outside tables.
pub fn code_span(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|character| if character.is_control() { ' ' } else { character })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for character in text.chars() {
        run = if character == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_reports;

    fn report(lesson: &str, cores: usize, optimized: bool, workload: &str, rows: &[(&str, usize, f64)]) -> Report {
        let rows: Vec<_> = rows
            .iter()
            .map(|(name, workers, speedup)| {
                serde_json::json!({ "name": name, "workers": workers, "runs": 1, "best_s": 1.0,
                    "median_s": 1.0, "cores_used": speedup, "speedup": speedup,
                    "efficiency": speedup / *workers as f64 })
            })
            .collect();
        let text = serde_json::json!({
            "schema": 1, "lesson": lesson, "title": "t",
            "machine": { "logical_cores": cores, "os": "Linux", "arch": "x86_64", "cpu_model": "CPU",
                         "profile": "dev", "opt_level": if optimized { "3" } else { "0" }, "optimized": optimized },
            "params": { "quick": true }, "warnings": [], "elapsed_s": 1.0,
            "sections": [{ "number": 1, "title": "s", "figures": {}, "comparisons": [
                { "workload": workload, "answer": "42", "answers_agree": true, "rows": rows } ] }]
        })
        .to_string();
        read_reports(&text).unwrap().remove(0)
    }

    #[test]
    fn variant_kinds_drop_the_count() {
        assert_eq!(variant_kind("2 threads, GIL"), "threads, GIL");
        assert_eq!(variant_kind("1 thread, GIL"), "threads, GIL");
        assert_eq!(variant_kind("1 threads"), "threads");
        assert_eq!(variant_kind("16 processes"), "processes");
        assert_eq!(variant_kind("1 process"), "processes");
        assert_eq!(variant_kind("thread pool"), "thread pool");
        assert_eq!(variant_kind("rayon par_iter"), "rayon par_iter");
        assert_eq!(variant_kind("3 threads (oversubscribed)"), "threads (oversubscribed)");
        assert_eq!(variant_kind(""), "");
    }

    #[test]
    fn machines_are_grouped_labelled_and_flagged() {
        let sweep = [("1 thread", 1, 1.0), ("2 threads", 2, 1.9), ("4 threads", 4, 1.95)];
        let entries = vec![
            Entry {
                folder: Some("ana".into()),
                report: report("lesson00_machine", 2, true, "CPU-bound tasks", &sweep),
            },
            Entry {
                folder: Some("ana".into()),
                report: report(
                    "lesson00_machine",
                    2,
                    true,
                    "CPU-bound tasks",
                    &[("1 thread", 1, 1.0), ("2 threads", 2, 1.7)],
                ),
            },
            Entry {
                folder: Some("ben".into()),
                report: report("lesson00_machine", 1, true, "CPU-bound tasks", &sweep),
            },
            Entry {
                folder: Some("ben".into()),
                report: report("lesson00_machine", 2, false, "CPU-bound tasks", &sweep),
            },
            Entry {
                folder: None,
                report: report("lesson00_machine", 8, true, "CPU-bound tasks", &sweep),
            },
            Entry {
                folder: None,
                report: report("lesson03_race", 8, true, "CPU-bound tasks", &sweep),
            },
        ];
        let class = gather(&entries);
        let labels: Vec<&str> = class.machines.iter().map(|machine| machine.label.as_str()).collect();
        assert_eq!(
            labels,
            ["ana", "ben (1 core)", "ben (2 cores, unoptimized)", "8 cores · CPU"]
        );
        assert_eq!(class.machines[0].reports, 2);
        assert_eq!(class.machines[3].lessons.len(), 2);
        assert_eq!(class.machines[1].flags(), [Flag::OneCore]);
        assert_eq!(class.machines[2].flags(), [Flag::Unoptimized]);
        let results = &class.headlines[0];
        assert_eq!(results.machines(), [0, 1, 2, 3]);
        // ana's two reports: the median (lower middle) of 1.9 and 1.7 at two workers.
        let ana_two = results
            .points
            .iter()
            .find(|point| point.machine == 0 && point.workers == 2)
            .unwrap();
        assert_eq!((ana_two.speedup, ana_two.reports), (1.7, 2));
        // Only lesson00 feeds this headline, not lesson03 with the same workload name.
        assert_eq!(results.points.iter().filter(|point| point.machine == 3).count(), 3);
        let chart = chart(&class, results);
        assert_eq!(chart.series.len(), 4);
        assert!(chart.series[1].flagged && chart.series[2].flagged && !chart.series[0].flagged);
    }

    #[test]
    fn variants_skip_the_baseline_and_match_across_machines() {
        let entries = vec![
            Entry {
                folder: Some("a".into()),
                report: report(
                    "lesson09_bzip2",
                    2,
                    true,
                    "bzip2 decompression of 30 requests",
                    &[("sequential", 1, 1.0), ("2 threads", 2, 1.8), ("2 processes", 2, 1.6)],
                ),
            },
            Entry {
                folder: Some("b".into()),
                report: report(
                    "lesson09_bzip2",
                    1,
                    true,
                    "bzip2 decompression of 300 requests",
                    &[
                        ("sequential", 1, 1.0),
                        ("1 threads", 1, 0.99),
                        ("1 processes", 1, f64::NAN),
                    ],
                ),
            },
        ];
        let class = gather(&entries);
        let results = class
            .headlines
            .iter()
            .find(|results| results.headline.slug == "bzip2-decompression")
            .unwrap();
        assert_eq!(results.variants, ["threads", "processes"]);
        assert_eq!(results.workloads.len(), 2);
        // Three points: the baselines are not points, and a speedup that is not a number is left out.
        assert_eq!(results.points.len(), 3);
        let text = markdown(
            &class,
            &Sources {
                folder: "class".into(),
                files_read: 2,
                skipped: vec![Skipped {
                    file: "class/x|y.json".into(),
                    reason: "not JSON".into(),
                    kept: 0,
                }],
            },
            &vec![None; class.headlines.len()],
        );
        assert!(text.contains("| b | threads | 1 | 0.99× |"), "{text}");
        assert!(text.contains("⚠ one core"), "{text}");
        assert!(text.contains("`class/x|y.json`: not JSON"), "{text}");
        assert!(text.contains("No report of `lesson00_machine`"), "{text}");
    }

    #[test]
    fn markdown_text_is_escaped() {
        assert_eq!(
            escape("a|b <c> *d* #1 & e_f"),
            "a\\|b &lt;c&gt; \\*d\\* \\#1 &amp; e\\_f"
        );
        assert_eq!(escape("two\nlines"), "two lines");
        assert_eq!(code_span("plain"), "`plain`");
        assert_eq!(code_span("a`b"), "``a`b``");
        assert_eq!(code_span("`x`"), "`` `x` ``");
    }
}
