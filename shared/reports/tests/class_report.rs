//! `class-report` run as an instructor runs it, on a class folder of real reports.
//!
//! `fixtures/class/` is such a folder. Its good reports were made by `scripts/run-lessons.sh
//! --quick --json` on one machine in three shapes:
//!
//! - `ana/`: every lesson, on 2 cores;
//! - `ben/`: every lesson under `taskset -c 0`, so the lessons saw 1 core;
//! - `chloe/`: lessons 00, 06 and 09 built with opt-level 0 (an unoptimized build);
//! - `erin/`: lessons 00 and 09 printed one after another into one file, and a lesson10 report
//!   with fields a later course might add and without the fields readers do not need.
//!
//! `dan/` and `stray.json` are what a class also hands in: random bytes, a cut-off report, JSON
//! that is not a report, reports missing a field that figures need, older and newer schemas, an
//! empty file, a note, and a file whose second report is cut off (its first is kept).
//!
//! The tests check meaning, never timings: every good file is counted, every bad one is named
//! and skipped, every machine gets its series, flags land where they belong, and the SVG is
//! well-formed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The files that must be named and skipped, with a word of the reason.
const BAD: &[(&str, &str)] = &[
    ("dan/empty.json", "empty"),
    ("dan/garbage.json", "not text"),
    ("dan/missing-machine.json", "no 'machine'"),
    ("dan/missing-speedup.json", "rows[1].speedup"),
    ("dan/not-a-report.json", "not a lesson's --json report"),
    ("dan/notes.txt", "not a .json file"),
    ("dan/schema-0.json", "schema 0 is older"),
    ("dan/schema-2.json", "schema 2 is newer"),
    ("dan/truncated.json", "cut short"),
    ("stray.json", "a list where an object should be"),
];

/// A file whose first report is good and whose second is cut off.
const PARTLY_GOOD: &str = "dan/two-reports-one-cut.json";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/class")
}

/// A fresh, empty folder for one test's output, under this package's target folder.
fn scratch(test: &str) -> PathBuf {
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR")).join("class-report").join(test);
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).unwrap();
    folder
}

fn class_report(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_class-report"))
        .args(args)
        .output()
        .expect("class-report starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every file under `folder`, relative to it, with `/` between names.
fn files_under(folder: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut folders = vec![folder.to_path_buf()];
    while let Some(current) = folders.pop() {
        for entry in std::fs::read_dir(&current).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let relative = path.strip_prefix(folder).unwrap();
                files.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    files.sort();
    files
}

/// The table rows of a Markdown section (from its `## ` heading to the next) whose first cell
/// is `machine`.
fn rows_of<'a>(markdown: &'a str, heading: &str, machine: &str) -> Vec<&'a str> {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("no '{heading}' in\n{markdown}"));
    let section = &markdown[start..];
    let end = section[3..].find("\n## ").map_or(section.len(), |end| end + 3);
    section[..end]
        .lines()
        .filter(|line| line.starts_with(&format!("| {machine} |")))
        .collect()
}

/// The names of the elements in `svg`, checked to open and close in order: a well-formedness
/// check that needs no XML library. Text between tags must hold no raw `<` or `&` that is not
/// an entity, and attribute values no raw `<`.
fn check_well_formed(svg: &str) -> Result<Vec<String>, String> {
    let mut open: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        check_text(&rest[..start])?;
        let end = rest[start..].find('>').ok_or("a tag is not closed")? + start;
        let tag = &rest[start + 1..end];
        if tag.contains('<') {
            return Err(format!("'<' inside a tag: <{tag}>"));
        }
        if tag.matches('"').count() % 2 != 0 {
            return Err(format!("unbalanced quotes in <{tag}>"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            match open.pop() {
                Some(expected) if expected == name.trim() => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
        } else {
            let name: String = tag.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect();
            if name.is_empty() {
                return Err(format!("a tag without a name: <{tag}>"));
            }
            seen.push(name.clone());
            if !tag.ends_with('/') {
                open.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    check_text(rest)?;
    if !open.is_empty() {
        return Err(format!("never closed: {open:?}"));
    }
    if seen.first().map(String::as_str) != Some("svg") {
        return Err("the document is not an <svg>".to_string());
    }
    Ok(seen)
}

fn check_text(text: &str) -> Result<(), String> {
    for (index, _) in text.match_indices('&') {
        let entity = &text[index..];
        if !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
            .iter()
            .any(|known| entity.starts_with(known))
        {
            return Err(format!("a bare '&' in {text:?}"));
        }
    }
    Ok(())
}

/// The `data-machine` of every series group in `svg`, unescaped for `&amp;` only.
fn series_of(svg: &str) -> Vec<String> {
    svg.split(r#"<g class="series" data-machine=""#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

/// The text of one series group.
fn group_of<'a>(svg: &'a str, machine: &str) -> &'a str {
    let start = svg
        .find(&format!(r#"<g class="series" data-machine="{machine}">"#))
        .unwrap_or_else(|| panic!("no series for {machine}"));
    let end = svg[start..].find("</g>").unwrap() + start;
    &svg[start..end]
}

#[test]
fn the_fixture_class_gives_a_report_with_every_machine_and_every_bad_file_named() {
    let out = scratch("fixtures");
    let markdown_path = out.join("class-report.md");
    let output = class_report(&[&fixtures(), Path::new("--out"), &markdown_path]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");

    // Every good file is counted: each report in it, plus the good first half of the partly good one.
    let all = files_under(&fixtures());
    let good: Vec<&String> = all
        .iter()
        .filter(|file| !BAD.iter().any(|(bad, _)| bad == file) && file.as_str() != PARTLY_GOOD)
        .collect();
    let good_reports: usize = good
        .iter()
        .map(|file| {
            let text = std::fs::read_to_string(fixtures().join(file)).unwrap();
            reports::read_reports(&text)
                .unwrap_or_else(|error| panic!("{file} should be a good report: {error}"))
                .len()
        })
        .sum();
    assert_eq!(good.len(), 29, "{good:?}");
    let reports = good_reports + 1;
    assert!(
        stdout.contains(&format!(
            "{reports} reports from 5 machines ({} files read, {} skipped)",
            good.len() + 1,
            BAD.len()
        )),
        "{stdout}"
    );

    // Every bad file is named on stderr, once, with its reason; no good file is.
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), BAD.len() + 1, "{stderr}");
    for (file, reason) in BAD {
        let named: Vec<&&str> = lines
            .iter()
            .filter(|line| line.contains(&format!("/{file}:")))
            .collect();
        assert_eq!(named.len(), 1, "{file} should be named once:\n{stderr}");
        assert!(named[0].starts_with("class-report: skipped "), "{}", named[0]);
        assert!(named[0].contains(reason), "{file}: expected '{reason}' in {}", named[0]);
    }
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("class-report: read 1 report of ") && line.contains(PARTLY_GOOD)),
        "{stderr}"
    );
    for file in &good {
        assert!(!stderr.contains(file.as_str()), "{file} is good but named:\n{stderr}");
    }

    let markdown = std::fs::read_to_string(&markdown_path).unwrap();
    assert!(
        markdown.contains(&format!("{reports} reports from 5 machines")),
        "{markdown}"
    );
    // Both machine shapes, and the unoptimized build, with their flags.
    let machine_row = |label: &str| {
        let rows = rows_of(&markdown, "## Machines", label);
        assert_eq!(rows.len(), 1, "{label}: {rows:?}");
        rows[0].to_string()
    };
    assert!(machine_row("ana").starts_with("| ana | 2 |"));
    assert!(machine_row("ben").starts_with("| ben | 1 |"));
    assert!(machine_row("chloe").contains("opt-level 0"));
    assert!(machine_row("ben").contains("⚠ one core"));
    assert!(machine_row("chloe").contains("⚠ unoptimized"));
    for label in ["ana", "dan", "erin"] {
        assert!(!machine_row(label).contains('⚠'), "{}", machine_row(label));
    }
    assert!(machine_row("erin").contains("| 3 |"), "erin sent 3 reports in 2 files");

    // Every headline: a chart beside the Markdown, and every result of a flagged machine flagged.
    let headings = [
        "## 1. CPU-bound tasks",
        "## 2. A simulated GIL",
        "## 3. count\\_prime",
        "## 4. bzip2 decompression",
        "## 5. Amdahl",
    ];
    for heading in headings {
        for row in rows_of(&markdown, heading, "ben") {
            assert!(row.contains("⚠ one core"), "{heading}: {row}");
        }
        for row in rows_of(&markdown, heading, "chloe") {
            assert!(row.contains("⚠ unoptimized"), "{heading}: {row}");
        }
        for row in rows_of(&markdown, heading, "ana") {
            assert!(!row.contains('⚠'), "{heading}: {row}");
        }
        assert!(
            !rows_of(&markdown, heading, "ana").is_empty(),
            "{heading}: ana measured it"
        );
        assert!(
            !rows_of(&markdown, heading, "ben").is_empty(),
            "{heading}: ben measured it"
        );
    }
    for (file, _) in BAD {
        assert!(
            markdown.contains(&format!("/{file}`: ")),
            "{file} not listed:\n{markdown}"
        );
    }

    // The charts: well-formed, one series per machine that measured the workload, flagged
    // machines drawn hollow, and the ideal line.
    let charts: Vec<String> = markdown
        .lines()
        .filter_map(|line| line.strip_prefix("![")?.split("](").nth(1)?.strip_suffix(')'))
        .map(str::to_string)
        .collect();
    assert_eq!(charts.len(), headings.len(), "{markdown}");
    for (chart, heading) in charts.iter().zip(headings) {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap_or_else(|_| panic!("{chart} written"));
        let elements = check_well_formed(&svg).unwrap_or_else(|problem| panic!("{chart}: {problem}"));
        assert!(elements.iter().any(|name| name == "line"), "{chart}: no axes");
        assert!(svg.contains(r#"class="ideal""#), "{chart}: no ideal line");
        let mut expected: Vec<String> = ["ana", "ben", "chloe", "dan", "erin"]
            .into_iter()
            .filter(|label| !rows_of(&markdown, heading, label).is_empty())
            .map(str::to_string)
            .collect();
        let mut series = series_of(&svg);
        series.sort();
        expected.sort();
        assert_eq!(series, expected, "{chart}");
        assert!(
            group_of(&svg, "ben").contains(r##"fill="#ffffff""##),
            "{chart}: ben hollow"
        );
        assert!(
            !group_of(&svg, "ana").contains(r##"fill="#ffffff""##),
            "{chart}: ana filled"
        );
        assert!(group_of(&svg, "ben").contains("⚠ one core"), "{chart}: ben's tooltips");
    }
    let cpu_bound = std::fs::read_to_string(out.join(&charts[0])).unwrap();
    assert!(group_of(&cpu_bound, "chloe").contains("⚠ unoptimized"));
    assert!(
        group_of(&cpu_bound, "ana").contains("<polyline"),
        "a sweep joins its points"
    );
}

#[test]
fn by_default_the_report_goes_into_the_folder_and_is_not_read_back() {
    let class = scratch("default-output");
    for (student, lesson) in [
        ("ana", "lesson00_machine"),
        ("ben", "lesson00_machine"),
        ("ben", "lesson06_pool_map"),
    ] {
        std::fs::create_dir_all(class.join(student)).unwrap();
        std::fs::copy(
            fixtures().join(student).join(format!("{lesson}.json")),
            class.join(student).join(format!("{lesson}.json")),
        )
        .unwrap();
    }
    for run in 1..=2 {
        let output = class_report(&[&class]);
        assert_eq!(output.status.code(), Some(0), "run {run}: {}", text(&output.stderr));
        assert_eq!(
            text(&output.stderr),
            "",
            "run {run}: its own output is not a student's file"
        );
        assert!(
            text(&output.stdout).contains("3 reports from 2 machines"),
            "{}",
            text(&output.stdout)
        );
    }
    assert!(class.join("class-report.md").is_file());
    assert!(class.join("class-report-cpu-bound-tasks.svg").is_file());
    assert!(class.join("class-report-count-prime.svg").is_file());
    // No lesson09 report: no chart, and the section says so.
    assert!(!class.join("class-report-bzip2-decompression.svg").exists());
    let markdown = std::fs::read_to_string(class.join("class-report.md")).unwrap();
    assert!(markdown.contains("No report of `lesson09_bzip2`"), "{markdown}");
}

#[test]
fn loose_files_are_named_by_their_machine_and_odd_names_are_escaped() {
    let class = scratch("loose-and-odd");
    std::fs::copy(fixtures().join("ana/lesson00_machine.json"), class.join("mine.json")).unwrap();
    std::fs::copy(
        fixtures().join("ben/lesson00_machine.json"),
        class.join("also-mine.json"),
    )
    .unwrap();
    let odd = r#"<b>&"x" | y's"#;
    std::fs::create_dir_all(class.join(odd)).unwrap();
    std::fs::copy(
        fixtures().join("chloe/lesson00_machine.json"),
        class.join(odd).join("r.json"),
    )
    .unwrap();
    let out = scratch("loose-and-odd-out").join("week 3.md");
    let output = class_report(&[&class, Path::new("--out"), &out]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));

    let markdown = std::fs::read_to_string(&out).unwrap();
    assert!(markdown.contains("| 2 cores · AMD EPYC | 2 |"), "{markdown}");
    assert!(markdown.contains("| 1 core · AMD EPYC | 1 |"), "{markdown}");
    assert!(markdown.contains(r#"| &lt;b&gt;&amp;"x" \| y's | 2 |"#), "{markdown}");
    let svg = std::fs::read_to_string(out.with_file_name("week 3-cpu-bound-tasks.svg")).unwrap();
    check_well_formed(&svg).unwrap_or_else(|problem| panic!("{problem}\n{svg}"));
    let mut series = series_of(&svg);
    series.sort();
    assert_eq!(
        series,
        [
            "&lt;b&gt;&amp;&quot;x&quot; | y&apos;s",
            "1 core · AMD EPYC",
            "2 cores · AMD EPYC"
        ]
    );
}

#[test]
fn nothing_readable_is_status_1_and_bad_usage_is_status_2() {
    let class = scratch("nothing-readable");
    std::fs::copy(fixtures().join("dan/garbage.json"), class.join("garbage.json")).unwrap();
    std::fs::write(class.join("notes.md"), "# notes\n").unwrap();
    let output = class_report(&[&class]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("garbage.json: not text"), "{stderr}");
    assert!(stderr.contains("notes.md: not a .json file"), "{stderr}");
    assert!(stderr.contains("no report could be read"), "{stderr}");
    assert!(!class.join("class-report.md").exists());

    let missing = class.join("no-such-folder");
    let a_file = class.join("garbage.json");
    let cases: [&[&Path]; 4] = [&[], &[&missing], &[&a_file], &[&class, Path::new("--colour")]];
    for args in cases {
        let output = class_report(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("class-report: "), "{stderr}");
    }
    assert!(text(&class_report(&[]).stderr).contains("<DIR>"));
}

#[test]
fn the_well_formedness_check_catches_broken_svg() {
    assert!(check_well_formed(r#"<svg a="1"><g><title>x &amp; y</title></g></svg>"#).is_ok());
    for broken in [
        "<svg><g></svg>",
        "<svg><g></g>",
        "<svg>a & b</svg>",
        r#"<svg a="1><g/></svg>"#,
        "<g></g>",
    ] {
        assert!(check_well_formed(broken).is_err(), "{broken}");
    }
}

/// Every part of a real report removed, or replaced by a value of another type, in turn: each
/// mangled report is read or refused, and whatever is read makes a report and charts, without
/// a panic.
#[test]
fn no_mangled_report_makes_a_panic() {
    use reports::class::{Entry, Sources, chart, gather, markdown};
    use serde_json::Value;

    fn paths(value: &Value, path: &mut Vec<String>, all: &mut Vec<Vec<String>>) {
        all.push(path.clone());
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    path.push(key.clone());
                    paths(child, path, all);
                    path.pop();
                }
            }
            Value::Array(items) => {
                for (index, child) in items.iter().enumerate() {
                    path.push(index.to_string());
                    paths(child, path, all);
                    path.pop();
                }
            }
            _ => {}
        }
    }

    fn at<'a>(value: &'a mut Value, path: &[String]) -> &'a mut Value {
        path.iter().fold(value, |value, key| match value {
            Value::Array(items) => &mut items[key.parse::<usize>().unwrap()],
            other => &mut other[key.as_str()],
        })
    }

    let (mut read, mut refused) = (0, 0);
    for fixture in ["ana/lesson06_pool_map.json", "ben/lesson00_machine.json"] {
        let original: Value =
            serde_json::from_str(&std::fs::read_to_string(fixtures().join(fixture)).unwrap()).unwrap();
        let mut all = Vec::new();
        paths(&original, &mut Vec::new(), &mut all);
        let replacements = [
            Value::Null,
            Value::from("x"),
            Value::from(-1),
            Value::from(1e300),
            serde_json::json!([]),
        ];
        for path in all.iter().filter(|path| !path.is_empty()) {
            let mut mangled = Vec::new();
            let mut removed = original.clone();
            let (parent, last) = path.split_at(path.len() - 1);
            match at(&mut removed, parent) {
                Value::Object(map) => {
                    map.remove(&last[0]);
                }
                Value::Array(items) => {
                    items.remove(last[0].parse::<usize>().unwrap());
                }
                _ => unreachable!(),
            }
            mangled.push(removed);
            for replacement in &replacements {
                let mut replaced = original.clone();
                *at(&mut replaced, path) = replacement.clone();
                mangled.push(replaced);
            }
            for document in mangled {
                let Ok(report) = reports::read_report(document) else {
                    refused += 1;
                    continue;
                };
                read += 1;
                let class = gather(&[Entry {
                    folder: Some("s".to_string()),
                    report,
                }]);
                let sources = Sources {
                    folder: "class".to_string(),
                    files_read: 1,
                    skipped: Vec::new(),
                };
                let charts: Vec<Option<String>> = class.headlines.iter().map(|_| None).collect();
                assert!(markdown(&class, &sources, &charts).starts_with("# Class results"));
                for results in &class.headlines {
                    check_well_formed(&chart(&class, results).render()).unwrap();
                }
            }
        }
    }
    assert!(read > 100 && refused > 100, "read {read}, refused {refused}");
}

/// `scripts/class-report` builds the binary and runs it with the paths as the caller gave them,
/// relative to where it was called from.
#[test]
fn the_script_reads_a_folder_relative_to_where_it_is_called_from() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = scratch("script").join("class.md");
    let script = |args: &[&Path]| {
        Command::new("bash")
            .arg(repository.join("scripts/class-report"))
            .args(args)
            .current_dir(fixtures().parent().unwrap())
            .output()
            .expect("bash runs the script")
    };
    let output = script(&[Path::new("class"), Path::new("--out"), &out]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(
        text(&output.stdout).contains("from 5 machines"),
        "{}",
        text(&output.stdout)
    );
    assert!(out.is_file() && out.with_file_name("class-gil.svg").is_file());

    let output = script(&[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr
            .trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with("class-report: "),
        "{stderr}"
    );
}

/// A class of `students` made from ana's real reports: every machine given its own cores
/// (1 to 16), speedups as such a machine would measure them (each variant as its lesson says:
/// threads under the GIL stay near 1×, the Amdahl job follows the law for its P), a few
/// students on a busy machine or with an unoptimized build, and predictions in lesson06.
/// Deterministic: the same class every time.
fn generate_class(folder: &Path, students: usize) {
    use serde_json::{Value, json};
    let template = fixtures().join("ana");
    let core_choices = [2, 4, 4, 8, 8, 8, 16, 2, 4, 8, 12, 16, 6];
    for student in 0..students {
        let cores = if student == 3 {
            1
        } else {
            core_choices[student % core_choices.len()]
        };
        let busy = student % 9 == 5;
        let unoptimized = student == 11;
        // Each machine's own efficiency, 0.80 to 0.98.
        let efficiency = 0.98 - 0.02 * (student % 10) as f64;
        let dir = folder.join(format!("student{:02}", student + 1));
        std::fs::create_dir_all(&dir).unwrap();
        for lesson in [
            "lesson00_machine",
            "lesson04_gil",
            "lesson06_pool_map",
            "lesson09_bzip2",
            "lesson10_amdahl",
        ] {
            let text = std::fs::read_to_string(template.join(format!("{lesson}.json"))).unwrap();
            let mut report: Value = serde_json::from_str(&text).unwrap();
            report["machine"]["logical_cores"] = json!(cores);
            report["machine"]["cpu_model"] = json!(format!("CPU model {}", student % 4));
            report["machine"]["busy_at_start"] = json!(if busy { 0.82 } else { 0.03 });
            if unoptimized {
                report["machine"]["optimized"] = json!(false);
                report["machine"]["opt_level"] = json!("0");
            }
            let parallel = report["params"]["parallel"].as_f64().unwrap_or(0.9);
            for section in report["sections"].as_array_mut().unwrap() {
                for comparison in section["comparisons"].as_array_mut().unwrap() {
                    let workload = comparison["workload"].as_str().unwrap_or_default().to_string();
                    let sweep = workload == "CPU-bound tasks" || workload.starts_with("a job with P");
                    if sweep {
                        // A sweep from 1 worker to twice the cores.
                        let mut rows = Vec::new();
                        let mut workers = 1;
                        while workers <= (2 * cores).max(2) {
                            rows.push(json!({ "name": format!("{workers} threads"), "workers": workers }));
                            workers *= 2;
                        }
                        comparison["rows"] = json!(rows);
                    }
                    let rows = comparison["rows"].as_array_mut().unwrap();
                    for (index, row) in rows.iter_mut().enumerate() {
                        // The lessons' default is one worker per core: ana's 2 become this machine's.
                        if !sweep && row["workers"] == 2 {
                            row["workers"] = json!(cores);
                        }
                        let workers = row["workers"].as_u64().unwrap_or(1) as usize;
                        let name = row["name"].as_str().unwrap_or_default().to_string();
                        let busy_cores = if busy { 0.55 } else { 1.0 };
                        let usable = workers.min(cores) as f64;
                        let serialized = name.contains("GIL") && !name.contains("no GIL");
                        let mut speedup = if index == 0 {
                            1.0
                        } else if workload.starts_with("a job with P") {
                            efficiency / ((1.0 - parallel) + parallel / usable)
                        } else if serialized {
                            0.97
                        } else {
                            (usable * efficiency).max(0.9)
                        };
                        let mut cores_used = if serialized { 1.0 } else { usable * busy_cores };
                        if busy && index > 0 {
                            speedup *= 0.7;
                        }
                        if student == 7 && index > 0 {
                            // A run whose baseline was slowed: a speedup its cores cannot give.
                            speedup = usable * 1.4;
                            cores_used = usable;
                        }
                        row["speedup"] = json!(speedup);
                        row["cores_used"] = json!(cores_used);
                        row["efficiency"] = json!(speedup / workers as f64);
                        row["median_s"] = json!(1.0 / speedup);
                        row["best_s"] = json!(0.95 / speedup);
                        row["runs"] = json!(3);
                    }
                }
                if lesson == "lesson06_pool_map" && section["number"] == 3 {
                    let measured = section["comparisons"][0]["rows"][3]["speedup"].as_f64().unwrap_or(1.0);
                    section["predictions"] = json!([{
                        "workload": "count_prime on 4 numbers",
                        "variant": "process pool",
                        "baseline": "sequential",
                        "predicted_speedup": 1.0 + (student % 5) as f64,
                        "measured_speedup": measured,
                    }]);
                }
            }
            std::fs::write(
                dir.join(format!("{lesson}.json")),
                serde_json::to_string_pretty(&report).unwrap(),
            )
            .unwrap();
        }
    }
}

/// The centre of every marker in a chart (circles, squares, polygons), to the tenth of a pixel.
fn marker_centres(svg: &str) -> Vec<(i64, i64)> {
    let attribute = |tag: &str, name: &str| -> Option<f64> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        tag[start..].split('"').next()?.parse().ok()
    };
    let mut centres = Vec::new();
    let series = svg
        .split(r#"<g class="series""#)
        .skip(1)
        .map(|rest| &rest[..rest.find("</g>").unwrap()]);
    for group in series {
        for tag in group.split('<').skip(1) {
            let centre = if tag.starts_with("circle ") {
                attribute(tag, "cx").zip(attribute(tag, "cy"))
            } else if tag.starts_with("rect ") {
                let (x, y) = (attribute(tag, "x"), attribute(tag, "y"));
                let (w, h) = (attribute(tag, "width"), attribute(tag, "height"));
                x.zip(w)
                    .zip(y.zip(h))
                    .map(|((x, w), (y, h))| (x + w / 2.0, y + h / 2.0))
            } else if tag.starts_with("polygon ") {
                let start = tag.find("points=\"").unwrap() + 8;
                let corners: Vec<(f64, f64)> = tag[start..]
                    .split('"')
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .filter_map(|pair| pair.split_once(','))
                    .map(|(x, y)| (x.parse().unwrap(), y.parse().unwrap()))
                    .collect();
                let n = corners.len() as f64;
                Some((
                    corners.iter().map(|c| c.0).sum::<f64>() / n,
                    corners.iter().map(|c| c.1).sum::<f64>() / n,
                ))
            } else {
                None
            };
            if let Some((x, y)) = centre {
                centres.push(((x * 10.0).round() as i64, (y * 10.0).round() as i64));
            }
        }
    }
    centres
}

#[test]
fn a_class_of_thirty_is_summarised_by_core_count_and_nothing_hides() {
    let class_folder = scratch("thirty").join("class");
    generate_class(&class_folder, 30);
    let out = class_folder.parent().unwrap().join("report/class-report.md");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    let output = class_report(&[&class_folder, Path::new("--out"), &out]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let markdown = std::fs::read_to_string(&out).unwrap();
    assert!(markdown.contains("150 reports from 30 machines"), "{markdown}");

    // Busy students are flagged, and their figures are not anyone's best.
    let busy_row = rows_of(&markdown, "## Machines", "student06");
    assert!(busy_row[0].contains("⚠ busy in 5 of 5 reports"), "{busy_row:?}");
    let best = rows_of(&markdown, "## Best speedup", "student06");
    assert!(best[0].contains("– (disturbed)"), "{best:?}");
    // The run whose speedup passed its cores is disturbed, not best either.
    let impossible = rows_of(&markdown, "## Best speedup", "student08");
    assert!(impossible[0].contains("– (disturbed)"), "{impossible:?}");
    // Each report counted once per point, however many comparisons it matched.
    let per_machine = rows_of(&markdown, "## 2. ", "student01");
    assert!(
        !per_machine.is_empty() && per_machine.iter().all(|row| row.contains("| 1 |")),
        "{per_machine:?}"
    );
    // Predictions gathered.
    assert!(
        markdown.contains("## The room's predictions against what we measured"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| lesson06\\_pool\\_map | count\\_prime on 4 numbers | process pool | 30 |"),
        "{markdown}"
    );

    for (slug, _) in [
        ("cpu-bound-tasks", 0),
        ("gil", 1),
        ("count-prime", 2),
        ("bzip2-decompression", 3),
        ("amdahl", 4),
    ] {
        let svg = std::fs::read_to_string(out.with_file_name(format!("class-report-{slug}.svg"))).unwrap();
        check_well_formed(&svg).unwrap_or_else(|error| panic!("{slug}: {error}"));
        // Grouped by core count: one series per group, never one per student.
        let series = series_of(&svg);
        assert!(series.len() <= 10, "{slug}: {} series: {series:?}", series.len());
        assert!(
            series.iter().any(|label| label.starts_with("8 cores (")),
            "{slug}: {series:?}"
        );
        // The legend is no taller than the plot and its margin.
        let height: f64 = svg
            .split("height=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(height <= 460.0, "{slug}: the chart is {height} px tall");
        // No marker sits exactly on another.
        let centres = marker_centres(&svg);
        let mut unique = centres.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), centres.len(), "{slug}: a marker hides another");
        // Each core count's ceiling; x from 1.
        assert!(svg.contains(r#"class="ceiling""#), "{slug}");
        assert!(
            svg.contains(r#"text-anchor="middle">1</text>"#),
            "{slug}: the x axis does not start at 1"
        );
        if slug == "amdahl" {
            assert!(svg.contains("Amdahl&apos;s law, P = 0.9"), "{slug}: no predicted curve");
        }
    }
}
