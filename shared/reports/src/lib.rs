//! The lessons' `--json` reports, read back: for comparing machines, runs and classes without
//! assuming `jq` or Python on anyone's machine.
//!
//! - [`read_reports`] parses one or more reports, one after another in the same text (what
//!   `lesson --json; lesson --json` prints), into [`Report`]s; [`read_each`] does the same but
//!   keeps the good reports beside the bad ones, and [`read_report`] checks one document.
//! - [`aggregate`] gathers the same comparison from several runs and keeps the median of each
//!   figure ([`BenchRow`]): the course benchmark's table.
//! - [`Target`] is an efficiency a variant should reach, checked against the medians.
//! - [`class`] gathers a class's reports by machine and picks the headline workloads;
//!   [`svg`] draws them.
//!
//! Speedups and efficiencies are never recomputed here: each was measured side by side in one
//! run by the lesson, and only their medians across runs are taken.

pub mod class;
pub mod svg;

use serde::Deserialize;
use serde_json::{Map, Value};

/// The version of the `--json` document this crate reads: the lessons write it as `schema`, and
/// bump it when a field changes meaning. A report of another version is refused, not misread.
pub const SCHEMA: u64 = 1;

/// One lesson's `--json` document (see ARCHITECTURE.md), as far as reports need it. Fields that
/// are not listed here are ignored. [`read_report`] refuses a document without the fields that
/// figures are made of (see [`missing_field`]); the others take their defaults when absent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Report {
    pub schema: u32,
    pub lesson: String,
    pub title: String,
    pub machine: Machine,
    pub params: Value,
    pub sections: Vec<Section>,
    pub warnings: Vec<String>,
    #[serde(deserialize_with = "number_or_nan")]
    pub elapsed_s: f64,
}

/// The machine and build a report was measured on.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Machine {
    pub logical_cores: usize,
    pub os: String,
    pub arch: String,
    pub cpu_model: Option<String>,
    pub profile: String,
    pub opt_level: String,
    pub optimized: bool,
    /// How busy the machine's cores were with other programs as the lesson started (0 to 1),
    /// where the lesson could tell. Part of the run, not of the machine: two reports of one
    /// machine may differ, so [`PartialEq`] leaves it out.
    #[serde(deserialize_with = "optional_number")]
    pub busy_at_start: Option<f64>,
}

/// Above this share of its cores busy with other programs as a lesson started, a machine's
/// figures from that run are called disturbed (the lessons' header warns at the same level).
pub const BUSY: f64 = 0.4;

impl PartialEq for Machine {
    fn eq(&self, other: &Self) -> bool {
        self.logical_cores == other.logical_cores
            && self.os == other.os
            && self.arch == other.arch
            && self.cpu_model == other.cpu_model
            && self.profile == other.profile
            && self.opt_level == other.opt_level
            && self.optimized == other.optimized
    }
}

impl Machine {
    /// One line: `2 logical cores · x86_64 · Linux ... · AMD EPYC · dev profile, opt-level 3`.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            format!("{} logical cores", self.logical_cores),
            self.arch.clone(),
            self.os.clone(),
        ];
        parts.extend(self.cpu_model.clone());
        parts.push(format!("{} profile, opt-level {}", self.profile, self.opt_level));
        parts.join(" · ")
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Section {
    pub number: usize,
    pub title: String,
    pub notice: Option<String>,
    pub figures: Map<String, Value>,
    pub comparisons: Vec<Comparison>,
    /// What the student or the room predicted before a comparison was shown (`--predict`).
    pub predictions: Vec<Prediction>,
}

/// A prediction of a comparison's speedup, beside what was measured.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Prediction {
    pub workload: String,
    pub variant: String,
    pub baseline: String,
    #[serde(deserialize_with = "number_or_nan")]
    pub predicted_speedup: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub measured_speedup: f64,
}

/// A timed comparison: variants of one workload, with the answer they all computed.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Comparison {
    pub workload: String,
    pub answer: String,
    pub answers_agree: bool,
    pub rows: Vec<Row>,
}

/// One variant of a comparison, as the lesson measured it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct Row {
    pub name: String,
    pub workers: usize,
    pub runs: usize,
    #[serde(deserialize_with = "number_or_nan")]
    pub best_s: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub median_s: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub cores_used: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub speedup: f64,
    #[serde(deserialize_with = "number_or_nan")]
    pub efficiency: f64,
    /// Why the lesson called this row disturbed (reports before that judgement have none).
    pub disturbed: Option<String>,
    /// False for a variant that computes the answer another way; absent in older reports.
    pub same_algorithm: Option<bool>,
}

/// A figure in seconds or a ratio. JSON has no infinity or NaN, so a lesson that divided by a
/// zero time wrote `null`: it reads back as NaN, which readers leave out, rather than failing
/// the whole report.
fn number_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

fn optional_number<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.filter(|value| value.is_finite()))
}

/// Why some text could not be read as reports.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// Every report in `text`: JSON documents one after another, separated by whitespace. The
/// first document that is not a report is the error.
pub fn read_reports(text: &str) -> Result<Vec<Report>, ReadError> {
    read_each(text).into_iter().collect()
}

/// Every document in `text`, each read as a report or refused with the reason, in order. Text
/// that is not JSON ends the list with its error: nothing after it can be found reliably.
pub fn read_each(text: &str) -> Vec<Result<Report, ReadError>> {
    let mut results = Vec::new();
    for (index, document) in serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .enumerate()
    {
        let number = index + 1;
        match document {
            Ok(document) => {
                results.push(read_report(document).map_err(|reason| ReadError(format!("report {number}: {reason}"))))
            }
            Err(error) => {
                let reason = if error.is_eof() {
                    format!("report {number}: JSON cut short ({error})")
                } else {
                    format!("report {number}: not JSON ({error})")
                };
                results.push(Err(ReadError(reason)));
                break;
            }
        }
    }
    results
}

/// One JSON document read as a lesson's report, or why it is not one: not an object, no
/// `lesson` or `sections`, another [`SCHEMA`], a field that figures need is missing, or a field
/// of the wrong type.
pub fn read_report(document: Value) -> Result<Report, String> {
    let Some(object) = document.as_object() else {
        return Err(format!(
            "JSON, but not a lesson's --json report (a {} where an object should be)",
            json_kind(&document)
        ));
    };
    if !object.contains_key("lesson") || !object.contains_key("sections") {
        return Err("JSON, but not a lesson's --json report (no 'lesson' or 'sections')".to_string());
    }
    match object.get("schema").map(|schema| (schema, schema.as_u64())) {
        None => return Err(format!("no 'schema' version (this reader knows schema {SCHEMA})")),
        Some((_, Some(SCHEMA))) => {}
        Some((_, Some(version))) if version > SCHEMA => {
            return Err(format!(
                "schema {version} is newer than this reader (schema {SCHEMA}): update the course to read it"
            ));
        }
        Some((_, Some(version))) => {
            return Err(format!(
                "schema {version} is older than this reader (schema {SCHEMA}): run the lesson again to get a current report"
            ));
        }
        Some((schema, None)) => return Err(format!("schema {schema} is not a version number")),
    }
    if let Some(path) = missing_field(&document) {
        return Err(format!("no '{path}'"));
    }
    serde_json::from_value(document).map_err(|error| format!("unexpected shape ({error})"))
}

/// The first field that a report's figures are made of and that `document` lacks, as a path
/// (`sections[2].comparisons[0].rows[1].speedup`): the machine's cores and build, and each
/// comparison's workload and its rows' names, workers, speedups and cores used. Without them a
/// report's figures would be read as zeros.
pub fn missing_field(document: &Value) -> Option<String> {
    const MACHINE: [&str; 2] = ["logical_cores", "optimized"];
    const COMPARISON: [&str; 2] = ["workload", "rows"];
    const ROW: [&str; 4] = ["name", "workers", "speedup", "cores_used"];
    let lacks = |value: &Value, key: &str| value.get(key).is_none();
    if lacks(document, "machine") {
        return Some("machine".to_string());
    }
    if let Some(key) = MACHINE.iter().find(|key| lacks(&document["machine"], key)) {
        return Some(format!("machine.{key}"));
    }
    let sections = document["sections"].as_array()?;
    for (s, section) in sections.iter().enumerate() {
        let Some(comparisons) = section.get("comparisons").and_then(Value::as_array) else {
            continue;
        };
        for (c, comparison) in comparisons.iter().enumerate() {
            if let Some(key) = COMPARISON.iter().find(|key| lacks(comparison, key)) {
                return Some(format!("sections[{s}].comparisons[{c}].{key}"));
            }
            let Some(rows) = comparison["rows"].as_array() else {
                continue;
            };
            for (r, row) in rows.iter().enumerate() {
                if let Some(key) = ROW.iter().find(|key| lacks(row, key)) {
                    return Some(format!("sections[{s}].comparisons[{c}].rows[{r}].{key}"));
                }
            }
        }
    }
    None
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

/// One line of the benchmark table: a variant of a workload, its medians over the runs.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    pub lesson: String,
    pub workload: String,
    pub variant: String,
    pub workers: usize,
    /// How many runs (reports) measured it.
    pub runs: usize,
    /// The median over runs of each run's median time, in seconds.
    pub time_s: f64,
    /// The medians over runs of what each run measured side by side.
    pub speedup: f64,
    pub efficiency: f64,
    pub cores_used: f64,
    /// The smallest and largest speedup over the runs: how much they varied.
    pub speedup_range: (f64, f64),
}

/// Gathers every comparison whose workload `wanted` accepts, across all reports, and returns
/// one row per (lesson, workload, variant) with the medians over the runs, in the order they
/// first appear.
pub fn aggregate(reports: &[Report], wanted: impl Fn(&str) -> bool) -> Vec<BenchRow> {
    type Key = (String, String, String);
    let mut order: Vec<Key> = Vec::new();
    let mut samples: std::collections::HashMap<Key, (usize, Vec<&Row>)> = Default::default();
    for report in reports {
        for comparison in report.sections.iter().flat_map(|section| &section.comparisons) {
            if !wanted(&comparison.workload) || !comparison.answers_agree {
                continue;
            }
            for row in &comparison.rows {
                let key = (report.lesson.clone(), comparison.workload.clone(), row.name.clone());
                if !samples.contains_key(&key) {
                    order.push(key.clone());
                }
                let entry = samples.entry(key).or_insert((row.workers, Vec::new()));
                entry.1.push(row);
            }
        }
    }
    order
        .into_iter()
        .map(|key| {
            let (workers, rows) = &samples[&key];
            let of = |figure: fn(&Row) -> f64| median(rows.iter().map(|row| figure(row)).collect());
            let speedups: Vec<f64> = rows.iter().map(|row| row.speedup).collect();
            BenchRow {
                lesson: key.0,
                workload: key.1,
                variant: key.2,
                workers: *workers,
                runs: rows.len(),
                time_s: of(|row| row.median_s),
                speedup: of(|row| row.speedup),
                efficiency: of(|row| row.efficiency),
                cores_used: of(|row| row.cores_used),
                speedup_range: (
                    speedups.iter().copied().fold(f64::INFINITY, f64::min),
                    speedups.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                ),
            }
        })
        .collect()
}

/// The middle value (the lower of the two middle ones for an even count, as `timing` picks its
/// median run); 0 for none.
pub fn median(mut values: Vec<f64>) -> f64 {
    // A figure a lesson left out (`null`, read as NaN: an efficiency where no workers were
    // added) is not a value; with none left, the median is NaN too, and is printed as "–".
    values.retain(|value| value.is_finite());
    values.sort_by(f64::total_cmp);
    values
        .get(values.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// An efficiency a variant should reach: `WORKLOAD/VARIANT>=0.90`, matched as substrings.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub workload: String,
    pub variant: String,
    pub min_efficiency: f64,
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let shape =
            || format!("'{text}' is not WORKLOAD/VARIANT>=EFFICIENCY (for example 'count_prime/thread pool>=0.90')");
        let (names, number) = text.split_once(">=").ok_or_else(shape)?;
        let (workload, variant) = names.split_once('/').ok_or_else(shape)?;
        let min_efficiency: f64 = number.trim().parse().map_err(|_| shape())?;
        if workload.trim().is_empty() || variant.trim().is_empty() || !(0.0..=1.0).contains(&min_efficiency) {
            return Err(shape());
        }
        Ok(Target {
            workload: workload.trim().to_string(),
            variant: variant.trim().to_string(),
            min_efficiency,
        })
    }
}

/// How a target fared: the rows it matched and whether each reached it.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetOutcome {
    pub target: Target,
    /// (workload, variant, median efficiency, met) for every matching row.
    pub matches: Vec<(String, String, f64, bool)>,
}

impl TargetOutcome {
    /// Met when at least one row matched and every matching row reached the efficiency.
    pub fn met(&self) -> bool {
        !self.matches.is_empty() && self.matches.iter().all(|(.., met)| *met)
    }
}

/// Checks `target` against the aggregated rows.
pub fn check(rows: &[BenchRow], target: &Target) -> TargetOutcome {
    let matches = rows
        .iter()
        .filter(|row| row.workload.contains(&target.workload) && row.variant.contains(&target.variant))
        .map(|row| {
            (
                row.workload.clone(),
                row.variant.clone(),
                row.efficiency,
                row.efficiency >= target.min_efficiency,
            )
        })
        .collect();
    TargetOutcome {
        target: target.clone(),
        matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(lesson: &str, speedup: f64, median_s: f64) -> String {
        serde_json::json!({
            "schema": 1, "lesson": lesson, "title": "t",
            "machine": { "logical_cores": 2, "os": "Linux", "arch": "x86_64", "cpu_model": "CPU",
                         "profile": "dev", "opt_level": "3", "optimized": true },
            "params": {}, "warnings": [], "elapsed_s": 1.0,
            "sections": [{ "number": 1, "title": "s", "figures": {}, "comparisons": [
                { "workload": "count_prime on 4 numbers", "answer": "[194]", "answers_agree": true, "rows": [
                    { "name": "sequential", "workers": 1, "runs": 3, "best_s": 1.0, "median_s": 1.0,
                      "cores_used": 1.0, "speedup": 1.0, "efficiency": 1.0 },
                    { "name": "thread pool", "workers": 2, "runs": 3, "best_s": median_s, "median_s": median_s,
                      "cores_used": 1.9, "speedup": speedup, "efficiency": speedup / 2.0 } ] } ] }]
        })
        .to_string()
    }

    #[test]
    fn concatenated_reports_are_read_and_aggregated_by_median() {
        let text = [
            report("l06", 1.9, 0.52),
            report("l06", 1.98, 0.505),
            report("l06", 1.2, 0.8),
        ]
        .join("\n");
        let reports = read_reports(&text).unwrap();
        assert_eq!(reports.len(), 3);
        assert_eq!(reports[0].machine.logical_cores, 2);
        let rows = aggregate(&reports, |workload| workload.contains("count_prime"));
        assert_eq!(rows.len(), 2);
        let threads = &rows[1];
        assert_eq!(
            (threads.variant.as_str(), threads.runs, threads.workers),
            ("thread pool", 3, 2)
        );
        assert_eq!(threads.speedup, 1.9);
        assert_eq!(threads.efficiency, 0.95);
        assert_eq!(threads.time_s, 0.52);
        assert_eq!(threads.speedup_range, (1.2, 1.98));
        assert!(aggregate(&reports, |workload| workload.contains("bzip2")).is_empty());
    }

    #[test]
    fn targets_parse_and_check() {
        let target: Target = "count_prime/thread pool>=0.90".parse().unwrap();
        assert_eq!(target.variant, "thread pool");
        for bad in ["count_prime>=0.9", "a/b>=1.5", "a/b", "/b>=0.5", "a/b>=x"] {
            assert!(bad.parse::<Target>().is_err(), "{bad}");
        }
        let reports = read_reports(&[report("l06", 1.9, 0.5), report("l06", 1.7, 0.6)].join(" ")).unwrap();
        let rows = aggregate(&reports, |_| true);
        let outcome = check(&rows, &target);
        assert_eq!(outcome.matches.len(), 1);
        // Median of 1.7 and 1.9 (the lower middle): 1.7, efficiency 0.85 < 0.90.
        assert!(!outcome.met());
        let looser: Target = "count_prime/thread>=0.80".parse().unwrap();
        assert!(check(&rows, &looser).met());
        let nothing: Target = "bzip2/threads>=0.5".parse().unwrap();
        assert!(!check(&rows, &nothing).met());
    }

    #[test]
    fn a_lessons_own_report_is_read_back_whole() {
        let common = course::CommonArgs {
            quick: true,
            json: true,
            seed: 1,
            ..Default::default()
        };
        let info = course::Info {
            package: "lesson99_reading",
            title: "Reading",
        };
        let lesson = course::Lesson::new(info, &common, &serde_json::json!({ "threads": 2 }));
        lesson.section("Sums");
        let mut comparison = course::timing::Comparison::new("sum of 0..100");
        comparison.variant("loop", 1, || (0..100u64).sum::<u64>());
        comparison.variant("formula", 2, || 99 * 100 / 2);
        lesson.compare(comparison).unwrap();
        let document = lesson.report_json();
        assert_eq!(missing_field(&document), None);
        let report = read_report(document).unwrap();
        assert_eq!(u64::from(report.schema), SCHEMA);
        assert_eq!(report.lesson, "lesson99_reading");
        assert_eq!(report.machine.logical_cores, lesson.machine().logical_cores);
        let rows = &report.sections[0].comparisons[0].rows;
        assert_eq!((rows[1].name.as_str(), rows[1].workers), ("formula", 2));
        assert!(rows[1].speedup > 0.0 && rows[0].speedup == 1.0);
    }

    #[test]
    fn documents_are_read_one_by_one_and_each_refusal_says_why() {
        let good = report("l06", 1.9, 0.5);
        let mut value: Value = serde_json::from_str(&good).unwrap();
        let reason = |value: Value| read_report(value).unwrap_err();
        assert!(reason(serde_json::json!([1])).contains("a list where an object should be"));
        let mut newer = value.clone();
        newer["schema"] = 2.into();
        assert!(reason(newer).contains("schema 2 is newer"));
        let mut older = value.clone();
        older["schema"] = 0.into();
        assert!(reason(older).contains("schema 0 is older"));
        let mut unversioned = value.clone();
        unversioned.as_object_mut().unwrap().remove("schema");
        assert!(reason(unversioned).contains("no 'schema'"));
        let mut no_cores = value.clone();
        no_cores["machine"].as_object_mut().unwrap().remove("logical_cores");
        assert_eq!(reason(no_cores), "no 'machine.logical_cores'");
        let mut no_speedup = value.clone();
        no_speedup["sections"][0]["comparisons"][0]["rows"][1]
            .as_object_mut()
            .unwrap()
            .remove("speedup");
        assert_eq!(reason(no_speedup), "no 'sections[0].comparisons[0].rows[1].speedup'");
        let mut wrong_type = value.clone();
        wrong_type["machine"]["logical_cores"] = "two".into();
        assert!(reason(wrong_type).contains("unexpected shape"));
        // A speedup of a zero time was written as null: it reads as NaN, not as a failure.
        value["sections"][0]["comparisons"][0]["rows"][1]["speedup"] = Value::Null;
        assert!(
            read_report(value.clone()).unwrap().sections[0].comparisons[0].rows[1]
                .speedup
                .is_nan()
        );
        // Unknown fields and missing optional ones are fine.
        value["a_later_field"] = 1.into();
        value.as_object_mut().unwrap().remove("title");
        value.as_object_mut().unwrap().remove("elapsed_s");
        assert!(read_report(value).is_ok());

        let text = format!("{good}\n{{\"a\": 1}}\n{good}\n{}", &good[..good.len() / 2]);
        let results = read_each(&text);
        assert_eq!(results.len(), 4);
        assert!(results[0].is_ok() && results[2].is_ok());
        assert!(
            results[1]
                .as_ref()
                .unwrap_err()
                .0
                .starts_with("report 2: JSON, but not")
        );
        assert!(
            results[3]
                .as_ref()
                .unwrap_err()
                .0
                .starts_with("report 4: JSON cut short")
        );
        assert!(read_each("").is_empty());
        assert!(read_each("{ nope").pop().unwrap().unwrap_err().0.contains("not JSON"));
    }

    #[test]
    fn text_that_is_not_a_report_is_an_error() {
        assert!(read_reports("{ not json").is_err());
        assert!(read_reports("{\"a\": 1}").is_err());
        assert!(read_reports("").unwrap().is_empty());
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.0);
        assert!(median(Vec::new()).is_nan());
        assert_eq!(median(vec![f64::NAN, 5.0]), 5.0);
    }
}
