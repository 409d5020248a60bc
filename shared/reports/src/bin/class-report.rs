//! `class-report`: a class's results in one Markdown page with SVG charts. Reads every `.json`
//! file under a folder (the reports students made with `scripts/run-lessons.sh --json DIR`,
//! each student's in a folder of their own, or loose), groups them by machine, and writes the
//! speedup of the course's headline workloads against workers: one series per machine, or past
//! ten machines one per group of machines with the same cores (median and range), with each
//! core count's ceiling, cores used, a flag on every result that cannot show parallelism, and
//! disturbed results (a busy machine, figures that contradict each other) marked and left out
//! of the best figures; then the room's predictions against what was measured. A file that is
//! not a report is named on stderr and skipped; everything else is kept.

use clap::Parser;
use reports::class::{self, Entry, Skipped, Sources};
use reports::read_each;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "class-report",
    about = "Writes a class's results as Markdown with SVG charts: speedup against workers for \
the course's headline workloads (one series per machine, or per group of machines with equal \
cores past ten), cores used, a flag on every result that cannot show parallelism (one core, an \
unoptimized build) or was disturbed (a busy machine), and the room's predictions against what \
was measured. Reads every .json report under DIR, in per-student folders or loose; names and \
skips every file that is not a report."
)]
struct Args {
    /// The folder of collected reports (subfolders name their students)
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// Where to write the Markdown; the charts go beside it as <name>-<workload>.svg
    /// [default: DIR/class-report.md]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

/// Files larger than this are not reports (a full-size report is tens of kilobytes).
const MAX_REPORT_BYTES: u64 = 64 << 20;
/// Folders nested deeper than this under DIR are not searched.
const MAX_DEPTH: usize = 8;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            eprintln!("class-report: {}", first_line(&error.render().to_string()));
            return ExitCode::from(2);
        }
    };
    if !args.dir.is_dir() {
        let problem = if args.dir.exists() {
            "is not a folder"
        } else {
            "no such folder"
        };
        eprintln!("class-report: {}: {problem}", args.dir.display());
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("class-report: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(args: &Args) -> Result<(), String> {
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("class-report.md"));
    let stem = out
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .filter(|stem| !stem.is_empty())
        .unwrap_or_else(|| "class-report".to_string());
    let out_folder = match out.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A report written into DIR (the default) is not read back as a student's file next time.
    let out_folder_found = std::fs::canonicalize(&out_folder).ok();
    let out_name = out.file_name().map(|name| name.to_os_string());
    let is_output = |path: &Path| {
        let Some(name) = path.file_name() else {
            return false;
        };
        let text = name.to_string_lossy();
        let ours =
            Some(name) == out_name.as_deref() || (text.starts_with(&format!("{stem}-")) && text.ends_with(".svg"));
        ours && out_folder_found.is_some()
            && path.parent().and_then(|parent| std::fs::canonicalize(parent).ok()) == out_folder_found
    };

    let mut files = Vec::new();
    let mut skipped = Vec::new();
    collect(&args.dir, Path::new(""), 0, &is_output, &mut files, &mut skipped);

    let mut entries = Vec::new();
    let mut files_read = 0;
    for relative in &files {
        let path = args.dir.join(relative);
        let shown = path.display().to_string();
        let folder = match relative.components().count() {
            0 | 1 => None,
            _ => relative
                .components()
                .next()
                .map(|first| first.as_os_str().to_string_lossy().into_owned()),
        };
        let text = match read_text(&path) {
            Ok(text) => text,
            Err(reason) => {
                skipped.push(Skipped {
                    file: shown,
                    reason,
                    kept: 0,
                });
                continue;
            }
        };
        let results = read_each(&text);
        if results.is_empty() {
            skipped.push(Skipped {
                file: shown,
                reason: "empty: no report in it".to_string(),
                kept: 0,
            });
            continue;
        }
        let total = results.len();
        let mut problems = Vec::new();
        let mut kept = 0;
        for result in results {
            match result {
                Ok(report) => {
                    kept += 1;
                    entries.push(Entry {
                        folder: folder.clone(),
                        report,
                    });
                }
                Err(error) => problems.push(error.to_string()),
            }
        }
        if kept > 0 {
            files_read += 1;
        }
        if !problems.is_empty() {
            let reason = if total == 1 {
                // One document: "report 1: " says nothing more than the file name.
                problems[0].trim_start_matches("report 1: ").to_string()
            } else {
                problems.join("; ")
            };
            skipped.push(Skipped {
                file: shown,
                reason,
                kept,
            });
        }
    }
    skipped.sort_by(|a, b| a.file.cmp(&b.file));
    for skip in &skipped {
        if skip.kept == 0 {
            eprintln!("class-report: skipped {}: {}", skip.file, skip.reason);
        } else {
            eprintln!(
                "class-report: read {} of {}, skipped the rest: {}",
                plural(skip.kept, "report", "reports"),
                skip.file,
                skip.reason
            );
        }
    }
    if entries.is_empty() {
        return Err(format!(
            "no report could be read under {} ({} skipped); collect the files that `scripts/run-lessons.sh --json DIR` writes",
            args.dir.display(),
            plural(skipped.len(), "file", "files")
        ));
    }

    let class = class::gather(&entries);
    std::fs::create_dir_all(&out_folder).map_err(|error| format!("cannot create {}: {error}", out_folder.display()))?;
    let mut charts = Vec::new();
    for results in &class.headlines {
        if results.points.is_empty() {
            charts.push(None);
            continue;
        }
        let name = format!("{stem}-{}.svg", results.headline.slug);
        let path = out_folder.join(&name);
        let svg = class::chart(&class, results).render();
        std::fs::write(&path, svg).map_err(|error| format!("cannot write {}: {error}", path.display()))?;
        charts.push(Some(name));
    }
    let sources = Sources {
        folder: args.dir.display().to_string(),
        files_read,
        skipped,
    };
    let markdown = class::markdown(&class, &sources, &charts);
    std::fs::write(&out, markdown).map_err(|error| format!("cannot write {}: {error}", out.display()))?;

    let summary = format!(
        "class-report: {} from {} ({} read, {} skipped); wrote {} and {} beside it\n",
        plural(class.reports, "report", "reports"),
        plural(class.machines.len(), "machine", "machines"),
        plural(files_read, "file", "files"),
        sources.skipped.iter().filter(|skip| skip.kept == 0).count(),
        out.display(),
        plural(charts.iter().flatten().count(), "chart", "charts"),
    );
    // A closed pipe (`| head`) is not a failure of the report, which is written already.
    let _ = std::io::stdout().lock().write_all(summary.as_bytes());
    Ok(())
}

/// Every file under `dir/relative`, in name order, as paths relative to the class folder.
/// Hidden files and folders, and this run's own output, are passed over; a file that does not
/// end in `.json` is skipped with its name.
fn collect(
    root: &Path,
    relative: &Path,
    depth: usize,
    is_output: &dyn Fn(&Path) -> bool,
    files: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
) {
    let folder = root.join(relative);
    let listing = match std::fs::read_dir(&folder) {
        Ok(listing) => listing,
        Err(error) => {
            skipped.push(Skipped {
                file: folder.display().to_string(),
                reason: format!("cannot list the folder ({error})"),
                kept: 0,
            });
            return;
        }
    };
    let mut names: Vec<_> = listing.filter_map(Result::ok).map(|entry| entry.file_name()).collect();
    names.sort();
    for name in names {
        let text = name.to_string_lossy();
        let path = relative.join(&name);
        let full = root.join(&path);
        if text.starts_with('.') || is_output(&full) {
            continue;
        }
        // A folder linked in is not followed: a link can lead back up and never end.
        let Ok(own) = std::fs::symlink_metadata(&full) else {
            continue;
        };
        if own.is_symlink() && full.is_dir() {
            skipped.push(Skipped {
                file: full.display().to_string(),
                reason: "a link to a folder: not followed".to_string(),
                kept: 0,
            });
        } else if own.is_dir() {
            if depth + 1 < MAX_DEPTH {
                collect(root, &path, depth + 1, is_output, files, skipped);
            } else {
                skipped.push(Skipped {
                    file: full.display().to_string(),
                    reason: format!("nested more than {MAX_DEPTH} folders deep"),
                    kept: 0,
                });
            }
        } else if !text.to_ascii_lowercase().ends_with(".json") {
            skipped.push(Skipped {
                file: full.display().to_string(),
                reason: "not a .json file".to_string(),
                kept: 0,
            });
        } else {
            files.push(path);
        }
    }
}

/// The file's text, or why it cannot be a report.
fn read_text(path: &Path) -> Result<String, String> {
    let metadata = std::fs::metadata(path).map_err(|error| format!("cannot read it ({error})"))?;
    if !metadata.is_file() {
        return Err("not a plain file".to_string());
    }
    if metadata.len() > MAX_REPORT_BYTES {
        return Err(format!("{} MiB is too large for a report", metadata.len() >> 20));
    }
    let bytes = std::fs::read(path).map_err(|error| format!("cannot read it ({error})"))?;
    String::from_utf8(bytes).map_err(|_| "not text: a report is UTF-8 JSON".to_string())
}

/// A clap error on one line: its first, joined with the next when the first ends in a colon
/// ("the following required arguments were not provided: <DIR>").
fn first_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or("bad arguments").to_string();
    match lines.next() {
        Some(next) if first.ends_with(':') => format!("{first} {next}"),
        _ => first,
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}
