//! A running lesson: the header, numbered sections, text that is silent under `--json`, and
//! the figures that the `--json` report collects.

use crate::chart::{Bars, Plot};
use crate::cli::CommonArgs;
use crate::machine::Machine;
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
use timing::{Comparison, ComparisonReport, Latencies};

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
    report: Mutex<Report>,
    header: std::sync::Once,
}

#[derive(Debug, Default)]
struct Report {
    params: Value,
    sections: Vec<Section>,
    warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
struct Section {
    number: usize,
    title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<String>,
    figures: Map<String, Value>,
    comparisons: Vec<ComparisonReport>,
}

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
        Err(error) => {
            let _ = std::io::stdout().flush();
            eprintln!("{}: error: {error:#}", info.package);
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
                let _ = writeln!(out, "{line}");
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

    /// Prints one line of text (nothing under `--json`). See also the [`crate::say!`] macro.
    pub fn say(&self, line: impl Display) {
        if self.is_text() {
            self.header_first();
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not the lesson's failure: carry on quietly.
            let _ = writeln!(out, "{line}");
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

    /// Starts the next numbered section. Under `--step`, waits for Enter first (only when
    /// stdin is a terminal, so scripts and tests never block).
    pub fn section(&self, title: &str) {
        let number = {
            let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
            let number = report.sections.len() + 1;
            report.sections.push(Section {
                number,
                title: title.to_string(),
                notice: None,
                figures: Map::new(),
                comparisons: Vec::new(),
            });
            number
        };
        if self.common.step && self.is_text() && std::io::stdin().is_terminal() {
            self.write_raw(&style::dim(&format!("\n[Enter: section {number}, {title}] ")));
            let mut line = String::new();
            let _ = std::io::stdin().lock().read_line(&mut line);
        }
        self.say("");
        self.say(style::bold(&style::cyan(&format!("{number}. {title}"))));
    }

    /// The section's "what to notice" line (one or two sentences), printed and reported.
    pub fn notice(&self, text: &str) {
        self.with_section(|section| section.notice = Some(text.to_string()));
        self.say(format_args!("  {} {text}", style::bold("→ Notice:")));
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
    pub fn compare<A: PartialEq + std::fmt::Debug>(
        &self,
        comparison: Comparison<A>,
    ) -> anyhow::Result<ComparisonReport> {
        let report = comparison.finish()?;
        self.show_comparison(&report);
        self.with_section(|section| section.comparisons.push(report.clone()));
        Ok(report)
    }

    /// Like [`Lesson::compare`] (answers checked, the report recorded for `--json`), but prints
    /// nothing: for a sweep of many sizes that the lesson draws as one chart instead of tables.
    pub fn compare_quietly<A: PartialEq + std::fmt::Debug>(
        &self,
        comparison: Comparison<A>,
    ) -> anyhow::Result<ComparisonReport> {
        let report = comparison.finish()?;
        self.with_section(|section| section.comparisons.push(report.clone()));
        Ok(report)
    }

    fn show_comparison(&self, report: &ComparisonReport) {
        let mut table = Table::new(&[
            "variant",
            "workers",
            "median",
            "best",
            "speedup",
            "efficiency",
            "cores used",
        ]);
        let mut bars = Bars::new().width(32);
        for row in &report.rows {
            table.row([
                row.name.clone(),
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
        self.say("");
        self.say(format_args!(
            "  speedup over {}:",
            report
                .rows
                .first()
                .map(|r| r.name.as_str())
                .unwrap_or("the first variant")
        ));
        self.lines(bars.lines());
        let runs = report.rows.first().map(|r| r.runs).unwrap_or(1);
        let repeats = if runs > 1 {
            format!(" (median of {runs} runs)")
        } else {
            String::new()
        };
        self.say(format_args!(
            "  {} every variant computed the same answer{repeats}: {}",
            style::green("✓"),
            report.answer
        ));
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

    fn with_section(&self, change: impl FnOnce(&mut Section)) {
        let mut report = self.report.lock().unwrap_or_else(|e| e.into_inner());
        if report.sections.is_empty() {
            // Figures recorded before the first section belong to an unnamed section 0.
            report.sections.push(Section {
                number: 0,
                title: String::new(),
                notice: None,
                figures: Map::new(),
                comparisons: Vec::new(),
            });
        }
        if let Some(section) = report.sections.last_mut() {
            change(section);
        }
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
            "elapsed_s": self.started.elapsed().as_secs_f64(),
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
            self.say(style::dim(&format!(
                "End of {} ({}).",
                self.info.package,
                format::duration(self.started.elapsed())
            )));
        }
    }
}
