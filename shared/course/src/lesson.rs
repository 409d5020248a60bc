//! A running lesson: the header, numbered sections, text that is silent under `--json`, and
//! the figures that the `--json` report collects.

use crate::chart::{Bars, Plot};
use crate::cli::CommonArgs;
use crate::machine::Machine;
use crate::present::{self, Key};
use crate::table::Table;
use crate::{UsageError, children, style};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::fmt::Display;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;
use timing::format;
use timing::{Comparison, ComparisonReport, Latencies, VariantRow};

/// Which lesson this is.
#[derive(Clone, Copy, Debug)]
pub struct Info {
    /// The package name, which is also the folder under `lessons/` and the binary's name.
    pub package: &'static str,
    pub title: &'static str,
}

/// The JSON report's version: bumped when a field changes meaning, so that collected class
/// results can be read correctly later.
pub const SCHEMA_VERSION: u32 = 1;

/// A lesson in progress. Methods take `&self`, so threads can share it (`say!` from a worker).
#[derive(Debug)]
pub struct Lesson {
    info: Info,
    common: CommonArgs,
    machine: Machine,
    started: Instant,
    /// Time spent waiting for the presenter at pauses: not part of the lesson's running time.
    paused: Mutex<std::time::Duration>,
    report: Mutex<Report>,
    header: std::sync::Once,
}

#[derive(Debug, Default)]
struct Report {
    params: Value,
    sections: Vec<SectionReport>,
    warnings: Vec<String>,
    /// The section being run, by number (a section shown again replaces its earlier report).
    current: Option<usize>,
}

#[derive(Debug, Serialize)]
struct SectionReport {
    number: usize,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<String>,
    figures: Map<String, Value>,
    comparisons: Vec<ComparisonReport>,
    /// What the student or the room predicted before a comparison was shown (`--predict`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    predictions: Vec<Prediction>,
}

impl SectionReport {
    fn new(number: usize, title: &str) -> Self {
        SectionReport {
            number,
            title: title.to_string(),
            notice: None,
            figures: Map::new(),
            comparisons: Vec::new(),
            predictions: Vec::new(),
        }
    }
}

/// A prediction of a comparison's speedup, and what was measured.
#[derive(Clone, Debug, Serialize)]
pub struct Prediction {
    pub workload: String,
    pub variant: String,
    pub baseline: String,
    pub predicted_speedup: f64,
    pub measured_speedup: f64,
}

/// One numbered section of a lesson: its title, as printed, and the function that runs it
/// over the lesson's state `S` (the parameters, and what one section hands to a later one).
/// A lesson lists its sections in lecture order and gives them to [`Lesson::run_sections`].
pub struct Section<S> {
    pub title: &'static str,
    pub run: fn(&Lesson, &mut S) -> anyhow::Result<()>,
}

impl<S> Section<S> {
    pub const fn new(title: &'static str, run: fn(&Lesson, &mut S) -> anyhow::Result<()>) -> Self {
        Section { title, run }
    }
}

/// The presenter pressed `q`: the lesson ends cleanly after the sections in `shown`.
#[derive(Debug)]
pub struct PresenterQuit {
    pub shown: Vec<usize>,
}

impl std::fmt::Display for PresenterQuit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.shown.is_empty() {
            write!(f, "stopped by the presenter before any section")
        } else {
            let numbers: Vec<String> = self.shown.iter().map(usize::to_string).collect();
            write!(
                f,
                "stopped by the presenter after showing sections {}",
                numbers.join(", ")
            )
        }
    }
}

impl std::error::Error for PresenterQuit {}

/// The exit status of a lesson the presenter stopped with `q` when `scripts/run-lessons.sh`
/// runs it (environment `COURSE_PRESENTER_QUIT_STATUS`): the script then ends the course. A
/// lesson run alone exits 0.
pub const PRESENTER_QUIT_ENV: &str = "COURSE_PRESENTER_QUIT_STATUS";

/// Runs a lesson: prints the header, runs `body`, then prints the `--json` report or the end
/// line. An error from `body` is printed as one line on stderr: exit status 2 for bad input
/// ([`crate::usage_error`]), 1 for anything else. Child processes still recorded in
/// [`children`] are killed and reaped before returning, whatever happened.
pub fn run<P: Serialize>(
    info: Info,
    common: &CommonArgs,
    params: &P,
    body: impl FnOnce(&Lesson) -> anyhow::Result<()>,
) -> ExitCode {
    let lesson = Lesson::new(info, common, params);
    let result = body(&lesson);
    children::kill_all();
    match result {
        Ok(()) => {
            lesson.finish();
            ExitCode::SUCCESS
        }
        Err(error) if error.is::<PresenterQuit>() => {
            lesson.say("");
            lesson.say(style::dim(&format!("{}: {error}.", info.package)));
            let status = std::env::var(PRESENTER_QUIT_ENV)
                .ok()
                .and_then(|code| code.parse::<u8>().ok())
                .unwrap_or(0);
            ExitCode::from(status)
        }
        Err(error) => {
            let _ = std::io::stdout().flush();
            // A refusal by the machine names the limit in the way, unless the message already does.
            let limit = crate::limits::explain(&error)
                .filter(|limit| !format!("{error:#}").contains(limit.as_str()))
                .map(|limit| format!("; {limit}"))
                .unwrap_or_default();
            eprintln!("{}: error: {error:#}{limit}", info.package);
            ExitCode::from(if error.is::<UsageError>() { 2 } else { 1 })
        }
    }
}

impl Lesson {
    /// Starts a lesson. In text mode its header is printed before its first line of text.
    pub fn new<P: Serialize>(info: Info, common: &CommonArgs, params: &P) -> Self {
        children::watch_interrupts();
        let machine = Machine::detect();
        let mut params = serde_json::to_value(params).unwrap_or(Value::Null);
        // The common flags sit beside the lesson's own knobs, not nested under `common`.
        if let Some(object) = params.as_object_mut()
            && let Some(Value::Object(common)) = object.remove("common")
        {
            object.extend(common);
        }
        Lesson {
            info,
            common: common.clone(),
            report: Mutex::new(Report {
                params,
                warnings: machine.warnings(),
                ..Report::default()
            }),
            machine,
            started: Instant::now(),
            paused: Mutex::new(std::time::Duration::ZERO),
            header: std::sync::Once::new(),
        }
    }

    /// Prints the header before the lesson's first line of text, so that a lesson that refuses
    /// its input (a usage error) prints nothing but the one line on stderr.
    fn header_first(&self) {
        self.header.call_once(|| {
            let mut lines = vec![
                style::bold(&format!("{} · {}", self.info.package, self.info.title)),
                format!("  machine  {}", self.machine.summary()),
                format!("  build    {}", self.machine.build()),
            ];
            for warning in self.machine.warnings() {
                lines.push(style::yellow(&format!("  warning: {warning}")));
            }
            let mut out = std::io::stdout().lock();
            for line in lines {
                for wrapped in present::wrap(&line, present::width(), 4) {
                    let _ = writeln!(out, "{wrapped}");
                }
            }
        });
    }

    /// The common flags, for `quick` / `seed` / `pick`.
    pub fn common(&self) -> &CommonArgs {
        &self.common
    }

    pub fn quick(&self) -> bool {
        self.common.quick
    }

    pub fn seed(&self) -> u64 {
        self.common.seed
    }

    /// `quick` under `--quick`, else `full`.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        self.common.pick(quick, full)
    }

    /// True when text is being printed (not `--json`).
    pub fn is_text(&self) -> bool {
        !self.common.json
    }

    /// True when text goes to a terminal that can be redrawn in place (live charts).
    pub fn is_live_terminal(&self) -> bool {
        self.is_text() && std::io::stdout().is_terminal()
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Prints one line of text (nothing under `--json`), wrapped between words at the
    /// terminal's width (100 columns when stdout is not a terminal), continuation lines
    /// indented two more. See also the [`crate::say!`] macro.
    pub fn say(&self, line: impl Display) {
        if self.is_text() {
            self.header_first();
            let line = line.to_string();
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not the lesson's failure: carry on quietly.
            for wrapped in present::wrap(&line, present::width(), 2) {
                let _ = writeln!(out, "{wrapped}");
            }
        }
    }

    /// True when the presenter's pauses are on: `--step`, text, and a terminal to read keys from.
    pub fn presenting(&self) -> bool {
        self.common.step && self.is_text() && present::interactive()
    }

    /// Under `--step`, pauses with `prompt` and returns the key pressed; otherwise goes on.
    fn pause(&self, prompt: &str) -> Key {
        if !self.presenting() {
            return Key::Next;
        }
        self.write_raw(&style::dim(&format!("\n{prompt} ")));
        let waited = Instant::now();
        let key = present::read_key();
        *self.paused.lock().unwrap_or_else(|e| e.into_inner()) += waited.elapsed();
        self.write_raw("\n");
        key
    }

    /// A question to the room and its answer: under `--step` the lesson pauses after the
    /// question and shows the answer only when the presenter goes on (`q` there ends the
    /// lesson); otherwise both are printed. Both are indented like the section's text.
    pub fn reveal(&self, question: impl Display, answer: impl Display) -> anyhow::Result<()> {
        self.say(format_args!("  {question}"));
        if self.pause("[Enter: show the answer · q: quit]") == Key::Quit {
            return Err(anyhow::Error::new(PresenterQuit {
                shown: self.shown_so_far(),
            }));
        }
        self.say(format_args!("  {}", style::bold(&answer.to_string())));
        Ok(())
    }

    fn shown_so_far(&self) -> Vec<usize> {
        let report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        report.sections.iter().map(|s| s.number).filter(|&n| n > 0).collect()
    }

    /// Runs the lesson's sections in order, from `--section N` if given. Under `--step` on a
    /// terminal it pauses before each one: Enter runs it, `s` skips it, `r` runs the last one
    /// again, `q` ends the lesson cleanly; the screen is cleared so that each section's title
    /// stays at the top.
    pub fn run_sections<S>(&self, state: &mut S, sections: &[Section<S>]) -> anyhow::Result<()> {
        let first = self.common.section.unwrap_or(1);
        if first > sections.len() {
            return Err(crate::usage_error(format!(
                "--section {first}: this lesson has {}",
                format::plural(sections.len() as u64, "section")
            )));
        }
        let mut next = first - 1;
        let mut last: Option<usize> = None;
        loop {
            let prompt = match sections.get(next) {
                Some(section) => format!(
                    "[Enter: {}. {} · s: skip it{} · q: quit]",
                    next + 1,
                    section.title,
                    if last.is_some() { " · r: again" } else { "" }
                ),
                None if self.presenting() => "[Enter: end of the lesson · r: the last section again]".to_string(),
                None => return Ok(()),
            };
            let index = match self.pause(&prompt) {
                Key::Quit => {
                    return Err(anyhow::Error::new(PresenterQuit {
                        shown: self.shown_so_far(),
                    }));
                }
                Key::Again if last.is_some() => last.unwrap_or(next),
                Key::Skip if next < sections.len() => {
                    self.say(style::dim(&format!("  (section {} skipped)", next + 1)));
                    next += 1;
                    continue;
                }
                _ if next >= sections.len() => return Ok(()),
                _ => next,
            };
            let section = &sections[index];
            if self.presenting() {
                // Clear the screen; the lesson's name stays on top of every section.
                self.write_raw("\x1b[2J\x1b[H");
                self.say(style::dim(&format!(
                    "{} · {} · section {} of {}",
                    self.info.package,
                    self.info.title,
                    index + 1,
                    sections.len()
                )));
            }
            self.begin_section(index + 1, section.title);
            (section.run)(self, state)?;
            last = Some(index);
            next = index + 1;
        }
    }

    /// Writes text without a newline and flushes it: for redrawing a live display in place.
    pub fn write_raw(&self, text: &str) {
        if self.is_text() {
            self.header_first();
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
        }
    }

    /// Prints lines indented by two spaces.
    pub fn lines(&self, lines: impl IntoIterator<Item = impl Display>) {
        for line in lines {
            self.say(format_args!("  {line}"));
        }
    }

    /// Starts the next numbered section, for a lesson that runs its sections itself rather than
    /// through [`Lesson::run_sections`]. Under `--step` it waits for a key first.
    pub fn section(&self, title: &str) {
        let number = self.report.lock().unwrap_or_else(|e| e.into_inner()).sections.len() + 1;
        if self.pause(&format!("[Enter: section {number}, {title}]")) == Key::Quit {
            self.say(style::dim("  (q works between sections of run_sections; going on)"));
        }
        self.begin_section(number, title);
    }

    /// Records section `number` (replacing its report when it is shown again) and prints its title.
    fn begin_section(&self, number: usize, title: &str) {
        {
            let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
            report.sections.retain(|s| s.number != number);
            let at = report.sections.partition_point(|s| s.number < number);
            report.sections.insert(at, SectionReport::new(number, title));
            report.current = Some(number);
        }
        self.say("");
        self.say(style::bold(&style::cyan(&format!("{number}. {title}"))));
    }

    /// The section's "what to notice" line (one or two sentences), printed and reported.
    pub fn notice(&self, text: &str) {
        self.with_section(|section| section.notice = Some(text.to_string()));
        if self.is_text() {
            self.header_first();
            let line = format!("  {} {text}", style::bold("→ Notice:"));
            let mut out = std::io::stdout().lock();
            for wrapped in present::wrap(&line, present::width(), 10) {
                let _ = writeln!(out, "{wrapped}");
            }
        }
    }

    /// Records the value a parameter really took (a default that depends on the machine or on
    /// `--quick`), replacing what the command line said in the report's `params`.
    pub fn param(&self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(params) = report.params.as_object_mut() {
            params.insert(key.to_string(), value);
        }
    }

    /// Records a figure in the current section's `figures` (for `--json`); prints nothing.
    pub fn figure(&self, key: &str, value: impl Serialize) {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.with_section(|section| {
            section.figures.insert(key.to_string(), value);
        });
    }

    /// Records every field of `figures` (a struct that derives `Serialize`) in the current
    /// section's `figures`: one place that says what a section measured.
    pub fn figures(&self, figures: &impl Serialize) {
        match serde_json::to_value(figures) {
            Ok(Value::Object(fields)) => self.with_section(|section| section.figures.extend(fields)),
            Ok(other) => self.figure("value", other),
            Err(_) => {}
        }
    }

    /// `wanted` of something, or fewer when the machine's limits leave room for fewer (`room`
    /// from `course::limits`): then a warning names the limit. An error when not even one fits.
    pub fn at_most(&self, wanted: usize, what: &str, room: Option<(u64, String)>) -> anyhow::Result<usize> {
        let (fits, limit) = crate::limits::fit(wanted, what, room)?;
        if let Some(limit) = limit {
            self.warn(&format!("{what}: {fits} instead of {wanted}, as {limit}"));
        }
        Ok(fits)
    }

    /// Adds a warning to the report and prints it.
    pub fn warn(&self, text: &str) {
        self.report
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .warnings
            .push(text.to_string());
        self.say(style::yellow(&format!("  warning: {text}")));
    }

    /// Finishes a comparison, prints its table and speedup bars, and records it. Fails (and
    /// prints no speedup) when the variants computed different answers.
    pub fn compare<A: PartialEq + Display>(&self, comparison: Comparison<A>) -> anyhow::Result<ComparisonReport> {
        let report = comparison.finish()?;
        let prediction = self.ask_prediction(&report);
        self.show_comparison(&report);
        if let Some(prediction) = prediction {
            self.say(format_args!(
                "  you predicted {} for {}: measured {}",
                format::times(prediction.predicted_speedup),
                prediction.variant,
                format::times(prediction.measured_speedup)
            ));
            self.with_section(|section| section.predictions.push(prediction));
        }
        self.with_section(|section| section.comparisons.push(report.clone()));
        Ok(report)
    }

    /// Under `--predict` (or at a `--step` pause), asks for the speedup of the comparison's
    /// last variant over its first before the figures are shown. Reads a line from stdin; an
    /// empty line or anything that is not a positive number skips the prediction.
    fn ask_prediction(&self, report: &ComparisonReport) -> Option<Prediction> {
        if !(self.common.predict || self.presenting()) || report.rows.len() < 2 {
            return None;
        }
        let baseline = report.rows.first()?;
        let variant = report.rows.last()?;
        let question = format!(
            "Predict: how many times faster is '{}' than '{}'? (a number, Enter to skip) ",
            variant.name, baseline.name
        );
        // The question goes to stderr under --json, so that stdout stays one JSON document.
        if self.is_text() {
            self.write_raw(&format!("\n  {}", style::yellow(&question)));
        } else {
            eprint!("{question}");
        }
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).ok()?;
        let predicted: f64 = line.trim().trim_end_matches(['x', '×']).parse().ok()?;
        (predicted.is_finite() && predicted > 0.0).then(|| Prediction {
            workload: report.workload.clone(),
            variant: variant.name.clone(),
            baseline: baseline.name.clone(),
            predicted_speedup: predicted,
            measured_speedup: variant.speedup,
        })
    }

    /// Like [`Lesson::compare`] (answers checked, the report recorded for `--json`), but prints
    /// nothing: for a sweep of many sizes that the lesson draws as one chart instead of tables.
    pub fn compare_quietly<A: PartialEq + Display>(
        &self,
        comparison: Comparison<A>,
    ) -> anyhow::Result<ComparisonReport> {
        let report = comparison.finish()?;
        self.with_section(|section| section.comparisons.push(report.clone()));
        Ok(report)
    }

    fn show_comparison(&self, report: &ComparisonReport) {
        let runs = report.rows.first().map_or(1, |r| r.runs);
        let repeats = if runs > 1 {
            format!(" · median of {runs} runs")
        } else {
            String::new()
        };
        self.say(format_args!("  {}{repeats}", style::bold(&report.workload)));
        let mut table = Table::new(&[
            "variant",
            "workers",
            "median",
            "best",
            "speedup",
            "efficiency",
            "cores used",
        ]);
        let mut bars = Bars::new().width(28);
        for row in &report.rows {
            let name = if row.disturbed.is_some() {
                format!("{} ⚠", row.name)
            } else {
                row.name.clone()
            };
            table.row([
                name,
                row.workers.to_string(),
                format::seconds(row.median_s),
                format::seconds(row.best_s),
                format::times(row.speedup),
                row.efficiency.map_or("–".to_string(), format::percent),
                // The kernel charges CPU time in coarse steps: below a millisecond of wall
                // time, CPU / wall says more about the clock than about the work.
                if row.median_s >= 1e-3 {
                    format!("{:.2}", row.cores_used)
                } else {
                    "–".to_string()
                },
            ]);
            bars.row(&row.name, row.speedup, format::times(row.speedup));
        }
        self.lines(table.lines());
        self.say(format_args!(
            "  speedup over {}:",
            report.rows.first().map_or("the first variant", |r| r.name.as_str())
        ));
        self.lines(bars.lines());
        self.say(format_args!(
            "  {} every variant computed the same answer: {}",
            style::green("✓"),
            report.answer
        ));
        // One line for every disturbed row (each row's own reason is in --json): a busy machine
        // must not push a section off the screen.
        let disturbed: Vec<&VariantRow> = report.rows.iter().filter(|row| row.disturbed.is_some()).collect();
        if let Some(first) = disturbed.first() {
            let reason = first.disturbed.as_deref().unwrap_or_default();
            let line = if disturbed.len() == 1 {
                format!("  ⚠ disturbed: {}: {reason}", first.name)
            } else {
                let names: Vec<&str> = disturbed.iter().map(|row| row.name.as_str()).collect();
                format!(
                    "  ⚠ disturbed: {} (the first: {reason}; each row's reason is in --json)",
                    names.join(", ")
                )
            };
            self.say(style::yellow(&line));
        }
    }

    /// Prints an answer checked against what it should be: green ✓ when it is, red ✗ when it is
    /// not (colour only on a terminal).
    pub fn checked(&self, ok: bool, text: impl Display) {
        let mark = if ok { style::green("✓") } else { style::red("✗") };
        let text = text.to_string();
        let text = if ok { style::green(&text) } else { style::red(&text) };
        self.say(format_args!("  {mark} {text}"));
    }

    /// Prints a latency table (count, p50, p90, p99, max) and records the summaries under `key`.
    pub fn latencies(&self, key: &str, rows: &[(&str, &Latencies)]) {
        let mut table = Table::new(&["", "count", "p50", "p90", "p99", "max"]);
        let mut figures = Map::new();
        for (name, latencies) in rows {
            let s = latencies.summary();
            table.row([
                name.to_string(),
                format::count(s.count),
                format::duration(s.p50),
                format::duration(s.p90),
                format::duration(s.p99),
                format::duration(s.max),
            ]);
            figures.insert(name.to_string(), serde_json::to_value(s).unwrap_or(Value::Null));
        }
        self.lines(table.lines());
        self.figure(key, Value::Object(figures));
    }

    pub fn table(&self, table: &Table) {
        self.lines(table.lines());
    }

    pub fn bars(&self, bars: &Bars) {
        self.lines(bars.lines());
    }

    pub fn plot(&self, plot: &Plot) {
        self.lines(plot.lines());
    }

    fn with_section(&self, change: impl FnOnce(&mut SectionReport)) {
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        if report.sections.is_empty() {
            // Figures recorded before the first section belong to an unnamed section 0.
            report.sections.push(SectionReport::new(0, ""));
        }
        let current = report.current;
        let section = match current {
            Some(number) => report.sections.iter_mut().find(|s| s.number == number),
            None => report.sections.last_mut(),
        };
        if let Some(section) = section {
            change(section);
        }
    }

    /// How long the lesson has run, not counting the presenter's pauses.
    pub fn running_time(&self) -> std::time::Duration {
        let paused = *self.paused.lock().unwrap_or_else(|e| e.into_inner());
        self.started.elapsed().saturating_sub(paused)
    }

    /// The `--json` document, as [`Lesson::finish`] prints it.
    pub fn report_json(&self) -> Value {
        let report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        json!({
            "schema": SCHEMA_VERSION,
            "lesson": self.info.package,
            "title": self.info.title,
            "machine": self.machine,
            "params": report.params,
            "sections": report.sections,
            "warnings": report.warnings,
            "elapsed_s": self.running_time().as_secs_f64(),
        })
    }

    /// Prints the `--json` document, or in text mode the closing line.
    pub fn finish(&self) {
        if self.common.json {
            let mut out = std::io::stdout().lock();
            let document = serde_json::to_string_pretty(&self.report_json()).unwrap_or_else(|_| "{}".to_string());
            let _ = writeln!(out, "{document}");
        } else {
            self.say("");
            let paused = *self.paused.lock().unwrap_or_else(|e| e.into_inner());
            let pauses = if paused.is_zero() {
                String::new()
            } else {
                format!(", plus {} at pauses", format::duration(paused))
            };
            self.say(style::dim(&format!(
                "End of {} ({} running{pauses}).",
                self.info.package,
                format::duration(self.running_time())
            )));
        }
    }
}
