//! `cargo homework`: checks a student's exercise and teaches from the result.
//!
//! - `cargo homework NN`: builds lesson NN's exercise and runs its checks; a verdict, and each
//!   failing check with its hint. Once every check passes: where the reference solution is, two
//!   lines on what it does differently, and a speed verdict (yours against the reference, timed
//!   in one run; advice only, it never fails the homework).
//! - `cargo homework watch NN`: the same each time `src/exercise.rs` is saved (polling, so it
//!   works on WSL and network folders).
//! - `cargo homework list`: every exercise's state from saved progress, at once; only an
//!   exercise whose files changed since it was last checked is checked again.
//! - `cargo homework hint NN`: the next hint (the idea, then where, then nearly the code).
//! - `cargo homework reset NN`: the untouched stub again, the student's version kept as a backup.
//! - `cargo homework --course` (CI): every untouched stub fails its checks, every reference
//!   passes, every speed check runs.
//!
//! `--json` prints one JSON document instead of text. Progress lives in `.homework/` (see
//! `progress.rs`); the references and the stubs `reset` restores in `exercises/`. The course's
//! own tests point the runner elsewhere with `HOMEWORK_ROOT` (the course) and `HOMEWORK_STATE`
//! (the progress folder).

mod catalog;
mod checks;
mod progress;
mod verdict;

use checks::CheckRun;
use course::style;
use homework::speed::Report;
use progress::{Progress, hash_files};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// A line on stdout (the workspace forbids `println!` so that lessons print through `course`).
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

const USAGE: &str = "\
cargo homework: check your homework, with hints, saved progress and a speed verdict

  cargo homework NN          check lesson NN's exercise (03 or 3): a verdict and a hint per failing
                             check; once it passes, the reference solution's path and a speed verdict
  cargo homework watch NN    check again each time you save the exercise (Ctrl-C stops)
  cargo homework list        every exercise: done, not yet or not started (from saved progress)
  cargo homework hint NN     the next hint: first the idea, then where, then nearly the code
  cargo homework reset NN    start over from the stub; your version is kept as a named backup
  cargo homework --course    (CI) every untouched stub fails its checks, every reference passes

Options: --json (one JSON document on stdout), --no-speed (skip the speed verdict).
scripts/homework.sh takes the same arguments.";

/// How often `watch` looks at the file.
const POLL: Duration = Duration::from_millis(300);

fn main() -> ExitCode {
    let mut json = false;
    let mut speed = true;
    let mut exit_after: Option<usize> = None;
    let mut words: Vec<String> = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--no-speed" => speed = false,
            "-h" | "--help" => {
                say!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            // For tests and demonstrations: `watch` stops after this many checks.
            "--exit-after" => match args.next().and_then(|n| n.parse().ok()) {
                Some(n) => exit_after = Some(n),
                None => return refuse("--exit-after needs a number"),
            },
            _ if arg.starts_with('-') && arg != "--course" => return refuse(&format!("unknown option '{arg}'")),
            _ => words.push(arg),
        }
    }
    let root = root();
    let options = Options { json, speed };
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        [] | ["list"] => list(&root, &options),
        ["--course"] => course(&root),
        ["watch", number] => with_exercise(&root, number, |exercise| watch(&root, exercise, &options, exit_after)),
        ["hint", number] => with_exercise(&root, number, |exercise| hint(&root, exercise, &options)),
        ["reset", number] => with_exercise(&root, number, |exercise| reset(&root, exercise, &options)),
        [number] => with_exercise(&root, number, |exercise| {
            let outcome = check(&root, exercise, &options);
            if outcome { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }),
        _ => refuse(&format!(
            "expected a lesson number such as 03, or list, watch NN, hint NN, reset NN; not '{}'",
            words.join(" ")
        )),
    }
}

struct Options {
    json: bool,
    speed: bool,
}

/// A usage error: one line on stderr, status 2.
fn refuse(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "homework: {message} (see cargo homework --help)");
    ExitCode::from(2)
}

/// The top of the course: two folders above this crate (`HOMEWORK_ROOT` names another, for
/// the course's own tests).
fn root() -> PathBuf {
    let here = std::env::var_os("HOMEWORK_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    here.canonicalize().unwrap_or(here)
}

/// One exercise: `lessons/<lesson>/exercise/`.
struct Exercise {
    lesson: String,
    number: String,
    dir: PathBuf,
}

impl Exercise {
    fn package(&self) -> String {
        format!("{}_exercise", self.lesson)
    }

    /// The student's file.
    fn file(&self) -> PathBuf {
        self.dir.join("src/exercise.rs")
    }

    /// What a check result depends on: the student's file and the checks.
    fn watched(&self) -> Vec<PathBuf> {
        vec![self.file(), self.dir.join("tests/check.rs")]
    }

    fn course_copy(&self, root: &Path) -> PathBuf {
        root.join("shared/homework/exercises").join(&self.lesson)
    }

    /// The reference solution: with the runner, or (an exercise not moved yet) beside the stub.
    fn reference(&self, root: &Path) -> Option<PathBuf> {
        [
            self.course_copy(root).join("reference.rs"),
            self.dir.join("src/solution.rs"),
        ]
        .into_iter()
        .find(|path| path.is_file())
    }

    /// The untouched stub that `reset` restores.
    fn stub(&self, root: &Path) -> Option<PathBuf> {
        Some(self.course_copy(root).join("stub.rs")).filter(|path| path.is_file())
    }

    fn has_speed_check(&self) -> bool {
        self.dir.join("src/bin/speed.rs").is_file()
    }

    /// `//! Exercise: <title>` of the stub (or of the student's file).
    fn title(&self, root: &Path) -> String {
        [self.stub(root), Some(self.file())]
            .into_iter()
            .flatten()
            .filter_map(|path| std::fs::read_to_string(path).ok())
            .find_map(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("//! Exercise: ").map(str::to_string))
            })
            .unwrap_or_default()
    }

    /// Whether the student's file is still the untouched stub.
    fn untouched(&self, root: &Path) -> bool {
        match (self.stub(root), std::fs::read(self.file())) {
            (Some(stub), Ok(mine)) => std::fs::read(stub).is_ok_and(|stub| stub == mine),
            _ => false,
        }
    }
}

/// Every exercise, in lesson order.
fn exercises(root: &Path) -> Vec<Exercise> {
    let mut found: Vec<Exercise> = std::fs::read_dir(root.join("lessons"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let lesson = entry.file_name().to_string_lossy().into_owned();
            let number = lesson.strip_prefix("lesson")?.get(..2)?.to_string();
            let dir = entry.path().join("exercise");
            (number.bytes().all(|b| b.is_ascii_digit()) && dir.join("Cargo.toml").is_file()).then_some(Exercise {
                lesson,
                number,
                dir,
            })
        })
        .collect();
    found.sort_by(|a, b| a.lesson.cmp(&b.lesson));
    found
}

fn with_exercise(root: &Path, number: &str, then: impl FnOnce(&Exercise) -> ExitCode) -> ExitCode {
    let Some(wanted) = number
        .parse::<u32>()
        .ok()
        .filter(|_| number.len() <= 2)
        .map(|n| format!("{n:02}"))
    else {
        return refuse(&format!("expected a lesson number such as 03, not '{number}'"));
    };
    match exercises(root).into_iter().find(|exercise| exercise.number == wanted) {
        Some(exercise) => then(&exercise),
        None => refuse(&format!(
            "lesson {wanted} has no exercise (cargo homework list lists them)"
        )),
    }
}

/// `lessons/...` relative to the top of the course.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Builds and runs an exercise's checks with `features`.
fn run_checks(root: &Path, exercise: &Exercise, features: &[&str]) -> CheckRun {
    match checks::build(root, &exercise.package(), features, &["--test", "check"], true) {
        Ok(executable) => checks::run_checks(&executable, &exercise.dir),
        Err(errors) => CheckRun {
            compile_errors: Some(errors),
            ..CheckRun::default()
        },
    }
}

/// Builds and runs an exercise's speed check; None when it has none or it failed to run.
fn run_speed(root: &Path, exercise: &Exercise, features: &[&str], quick: bool) -> Result<Report, String> {
    let executable = checks::build(root, &exercise.package(), features, &["--bin", "speed"], false)
        .map_err(|errors| errors.join("\n"))?;
    let mut command = std::process::Command::new(executable);
    command.current_dir(&exercise.dir);
    if quick {
        command.arg("--quick");
    }
    let (ok, output, timed_out) = checks::run_limited(&mut command, checks::RUN_LIMIT);
    if timed_out {
        return Err(format!("the speed check ran past {} s", checks::RUN_LIMIT.as_secs()));
    }
    let document = output
        .lines()
        .rev()
        .find(|line| line.starts_with('{'))
        .unwrap_or_default();
    match serde_json::from_str::<Report>(document) {
        Ok(report) if ok => Ok(report),
        _ => Err(output
            .lines()
            .rev()
            .take(5)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

/// Checks one exercise, prints the verdict (text or JSON), saves progress; true if it passes.
fn check(root: &Path, exercise: &Exercise, options: &Options) -> bool {
    let title = exercise.title(root);
    let text = !options.json;
    if text {
        say!("{}", style::bold(&format!("Checking {}: {title}", exercise.lesson)));
        say!("  your file: {}", shown(root, &exercise.file()));
    }
    let hash = hash_files(&exercise.watched());
    let run = run_checks(root, exercise, &[]);
    let passed = run.all_pass();
    let reference = passed.then(|| exercise.reference(root)).flatten();
    let differs = catalog::about(&exercise.lesson).map(|about| about.differs);
    if text {
        for note in &run.notes {
            say!("  {} {note}", style::yellow("note:"));
        }
        if passed {
            say!(
                "  {} all {} checks pass {}",
                style::green("✓ done:"),
                run.passed.len(),
                style::dim(&format!("(in {})", timing::format::seconds(run.seconds)))
            );
            if let Some(path) = &reference {
                say!("  The reference solution, to compare with yours: {}", shown(root, path));
                for line in differs.into_iter().flatten() {
                    say!("    · {line}");
                }
            }
        } else {
            explain(&run, exercise);
        }
    }
    let speed = if passed && options.speed && exercise.has_speed_check() {
        if text {
            say!(
                "{}",
                style::dim("  Timing yours against the reference (a few seconds)…")
            );
        }
        Some(run_speed(root, exercise, &["speed"], false))
    } else {
        None
    };
    if text && passed {
        match &speed {
            Some(Ok(report)) => verdict::lines(report).iter().for_each(|line| say!("  {line}")),
            Some(Err(error)) => say!(
                "  No speed verdict this time: {}",
                error.lines().next().unwrap_or_default()
            ),
            None if !exercise.has_speed_check() => {
                say!("  (No speed verdict for this exercise: it is not about speed.)")
            }
            None => {}
        }
    }
    let mut progress = Progress::load(root);
    let entry = progress.entry(&exercise.lesson);
    entry.hash = hash;
    entry.passed = passed;
    entry.compiles = run.compile_errors.is_none();
    entry.checks = run.passed.len() + run.failed.len();
    entry.failed = run.failed.iter().map(|failure| failure.name.clone()).collect();
    entry.checked_at = progress::now();
    if let Some(Ok(report)) = &speed {
        entry.speed = Some(report.clone());
    }
    let saved = progress.save(root);
    if options.json {
        let document = json!({
            "exercise": exercise.lesson,
            "title": title,
            "file": shown(root, &exercise.file()),
            "compiles": run.compile_errors.is_none(),
            "passed": passed,
            "timed_out": run.timed_out,
            "checks_seconds": run.seconds,
            "checks": {
                "passed": run.passed,
                "failed": run.failed.iter().map(|f| json!({ "name": f.name, "message": f.message })).collect::<Vec<_>>(),
            },
            "compile_errors": run.compile_errors,
            "notes": run.notes,
            "reference": reference.as_ref().map(|path| json!({ "path": shown(root, path), "differs": differs })),
            "speed": match &speed { Some(Ok(report)) => json!(report), Some(Err(error)) => json!({ "error": error }), None => json!(null) },
        });
        say!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else if let Err(error) = saved {
        say!("  (progress not saved: {error})");
    }
    passed
}

/// The student's view of a failing run.
fn explain(run: &CheckRun, exercise: &Exercise) {
    if let Some(errors) = &run.compile_errors {
        say!(
            "  {} the exercise does not compile. The compiler says:",
            style::red("✗ not yet:")
        );
        for line in errors {
            say!("    {line}");
        }
    } else if run.timed_out {
        say!(
            "  {} the checks did not finish within {} s and were stopped: something waits forever \
             (a thread never joined, a lock never released, a loop that never ends).",
            style::red("✗ not yet:"),
            checks::RUN_LIMIT.as_secs()
        );
    } else {
        let total = run.passed.len() + run.failed.len();
        say!(
            "  {} {} of {total} checks fail {}",
            style::red("✗ not yet:"),
            run.failed.len(),
            style::dim(&format!("(in {})", timing::format::seconds(run.seconds)))
        );
    }
    for failure in &run.failed {
        say!("  {} {}", style::red("✗"), failure.name);
        for line in &failure.message {
            say!("      {line}");
        }
    }
    if catalog::about(&exercise.lesson).is_some() {
        say!(
            "  Stuck? cargo homework hint {} gives a hint, one step at a time.",
            exercise.number
        );
    }
    say!(
        "  Check again after each change: cargo homework {0} (or cargo homework watch {0})",
        exercise.number
    );
}

/// `list`: from saved progress, checking again only what changed.
fn list(root: &Path, options: &Options) -> ExitCode {
    let mut progress = Progress::load(root);
    let mut rows = Vec::new();
    for exercise in exercises(root) {
        let hash = hash_files(&exercise.watched());
        let saved = progress
            .exercises
            .get(&exercise.lesson)
            .filter(|entry| entry.hash == hash)
            .cloned();
        let (status, checked_now) = if exercise.untouched(root) {
            ("not started".to_string(), false)
        } else if let Some(entry) = saved {
            (status_of(&entry), false)
        } else {
            let _ = writeln!(
                std::io::stderr(),
                "  checking {} (changed since it was last checked)…",
                exercise.lesson
            );
            let run = run_checks(root, &exercise, &[]);
            let entry = progress.entry(&exercise.lesson);
            entry.hash = hash;
            entry.passed = run.all_pass();
            entry.compiles = run.compile_errors.is_none();
            entry.checks = run.passed.len() + run.failed.len();
            entry.failed = run.failed.iter().map(|failure| failure.name.clone()).collect();
            entry.checked_at = progress::now();
            (status_of(entry), true)
        };
        let entry = progress.exercises.get(&exercise.lesson).cloned().unwrap_or_default();
        let speed = entry
            .speed
            .as_ref()
            .filter(|_| entry.passed)
            .map(|report| {
                report
                    .timed
                    .iter()
                    .map(|timed| format!("{} {}", timed.function, timing::format::times(timed.ratio)))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .unwrap_or_default();
        rows.push((
            exercise.lesson.clone(),
            exercise.title(root),
            status,
            checked_now,
            speed,
            entry,
        ));
    }
    let _ = progress.save(root);
    if options.json {
        let document = json!({
            "exercises": rows.iter().map(|(lesson, title, status, checked_now, _, entry)| json!({
                "exercise": lesson, "title": title, "status": status, "checked_now": checked_now,
                "passed": entry.passed, "failed": entry.failed, "hints_shown": entry.hints_shown,
                "speed": entry.speed,
            })).collect::<Vec<_>>(),
        });
        say!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    say!("{:<22} {:<16} exercise", "lesson", "status");
    for (lesson, title, status, checked_now, speed, _) in &rows {
        let painted = if status == "done" {
            style::green(&format!("{status:<16}"))
        } else if status == "not started" {
            format!("{status:<16}")
        } else {
            style::red(&format!("{status:<16}"))
        };
        let mut line = format!("{lesson:<22} {painted} {title}");
        if !speed.is_empty() {
            line.push_str(&style::dim(&format!("  (speed: {speed})")));
        }
        if *checked_now {
            line.push_str(&style::dim("  (checked now)"));
        }
        say!("{line}");
    }
    say!("Check one with: cargo homework NN");
    ExitCode::SUCCESS
}

fn status_of(entry: &progress::Entry) -> String {
    if entry.passed {
        "done".to_string()
    } else if !entry.compiles {
        "does not compile".to_string()
    } else {
        format!("{} of {} fail", entry.failed.len(), entry.checks)
    }
}

/// `hint NN`: one more level each time.
fn hint(root: &Path, exercise: &Exercise, options: &Options) -> ExitCode {
    let Some(about) = catalog::about(&exercise.lesson) else {
        say!(
            "{} has no stepped hints yet; the header of {} and each failing check's hint are the help there is.",
            exercise.lesson,
            shown(root, &exercise.file())
        );
        return ExitCode::SUCCESS;
    };
    let mut progress = Progress::load(root);
    let entry = progress.entry(&exercise.lesson);
    let already_all = entry.hints_shown >= about.hints.len();
    entry.hints_shown = (entry.hints_shown + 1).min(about.hints.len());
    let shown_now = entry.hints_shown;
    let _ = progress.save(root);
    if options.json {
        let hints: Vec<_> = about.hints[..shown_now]
            .iter()
            .zip(catalog::LEVELS)
            .map(|(text, level)| json!({ "level": level, "hint": text }))
            .collect();
        say!(
            "{}",
            serde_json::to_string_pretty(&json!({ "exercise": exercise.lesson, "hints": hints })).unwrap_or_default()
        );
        return ExitCode::SUCCESS;
    }
    say!(
        "{}",
        style::bold(&format!("Hints for {}: {}", exercise.lesson, exercise.title(root)))
    );
    for (index, text) in about.hints[..shown_now].iter().enumerate() {
        say!("  Hint {} of 3, {}:", index + 1, catalog::LEVELS[index]);
        for line in course::present::wrap(text, 94, 0) {
            say!("    {line}");
        }
    }
    if already_all {
        say!(
            "  That was the last hint. The failing checks' own hints name what they saw: cargo homework {}",
            exercise.number
        );
    } else if shown_now < about.hints.len() {
        say!(
            "  Still stuck? cargo homework hint {} shows the next one.",
            exercise.number
        );
    }
    ExitCode::SUCCESS
}

/// `reset NN`: the stub again, the student's version kept.
fn reset(root: &Path, exercise: &Exercise, options: &Options) -> ExitCode {
    let stub = match exercise.stub(root) {
        Some(path) => std::fs::read(path),
        None => git_show(root, &exercise.file()),
    };
    let stub = match stub {
        Ok(stub) => stub,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "homework: no untouched stub to restore for {}: {error}",
                exercise.lesson
            );
            return ExitCode::from(1);
        }
    };
    let mine = std::fs::read(exercise.file()).unwrap_or_default();
    let mut backup = None;
    if mine != stub && !mine.is_empty() {
        let made = progress::ensure_folder(root).and_then(|dir| {
            let backups = dir.join("backups");
            std::fs::create_dir_all(&backups)?;
            let stamp = progress::stamp(progress::now());
            let path = (1..)
                .map(|n| {
                    let suffix = if n == 1 { String::new() } else { format!("-{n}") };
                    backups.join(format!("{}-{stamp}{suffix}.rs", exercise.lesson))
                })
                .find(|path| !path.exists())
                .expect("some name is free");
            std::fs::write(&path, &mine)?;
            Ok(path)
        });
        match made {
            Ok(path) => backup = Some(path),
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "homework: could not back up your version, so nothing was reset: {error}"
                );
                return ExitCode::from(1);
            }
        }
    }
    if let Err(error) = std::fs::write(exercise.file(), &stub) {
        let _ = writeln!(
            std::io::stderr(),
            "homework: could not write {}: {error}",
            shown(root, &exercise.file())
        );
        return ExitCode::from(1);
    }
    let mut progress = Progress::load(root);
    let entry = progress.entry(&exercise.lesson);
    entry.hash.clear();
    entry.passed = false;
    entry.speed = None;
    if let Some(path) = &backup {
        entry.backups.push(shown(root, path));
    }
    let _ = progress.save(root);
    if options.json {
        say!(
            "{}",
            json!({ "exercise": exercise.lesson, "reset": true, "backup": backup.as_ref().map(|p| shown(root, p)) })
        );
    } else if let Some(path) = backup {
        say!("{} is the untouched stub again.", shown(root, &exercise.file()));
        say!("Your version is kept in {}", shown(root, &path));
    } else {
        say!(
            "{} was already the untouched stub; nothing to keep.",
            shown(root, &exercise.file())
        );
    }
    ExitCode::SUCCESS
}

/// The committed version of `path`, for an exercise whose stub the runner does not keep.
fn git_show(root: &Path, path: &Path) -> std::io::Result<Vec<u8>> {
    let output = std::process::Command::new("git")
        .current_dir(root)
        .args(["show", &format!("HEAD:{}", shown(root, path))])
        .output()?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(std::io::Error::other(
            String::from_utf8_lossy(&output.stderr).trim().to_string(),
        ))
    }
}

/// `watch NN`: a check now, and another each time the file is saved.
fn watch(root: &Path, exercise: &Exercise, options: &Options, exit_after: Option<usize>) -> ExitCode {
    let file = exercise.file();
    let mut checks_done = 0;
    let mut last = None;
    loop {
        let now = hash_files(std::slice::from_ref(&file));
        if last.as_ref() != Some(&now) {
            // An editor may write a file in pieces: wait until it stops changing.
            std::thread::sleep(POLL);
            let settled = hash_files(std::slice::from_ref(&file));
            if settled != now {
                continue;
            }
            if last.is_some() && !options.json {
                say!(
                    "\n{}",
                    style::dim(&format!("{} was saved: checking again", shown(root, &file)))
                );
            }
            last = Some(settled);
            let passed = check(root, exercise, options);
            checks_done += 1;
            if exit_after.is_some_and(|most| checks_done >= most) {
                return if passed { ExitCode::SUCCESS } else { ExitCode::from(1) };
            }
            if !options.json {
                say!(
                    "{}",
                    style::dim(&format!(
                        "Watching {}: save it to check again (Ctrl-C stops).",
                        shown(root, &file)
                    ))
                );
            }
        }
        std::thread::sleep(POLL);
    }
}

/// `--course` (CI): every stub fails, every reference passes, every speed check runs, and every
/// stub kept for `reset` is the one in the exercise.
fn course(root: &Path) -> ExitCode {
    let all = exercises(root);
    if all.is_empty() {
        say!("no exercises found");
        return ExitCode::from(1);
    }
    let mut bad = false;
    let mut verdict = |ok: bool, text: String| {
        bad |= !ok;
        say!("{} {text}", if ok { style::green("✓") } else { style::red("✗") });
    };
    for exercise in &all {
        let lesson = &exercise.lesson;
        if let Some(stub) = exercise.stub(root) {
            verdict(
                exercise.untouched(root),
                format!(
                    "{lesson}: src/exercise.rs is the stub that reset restores ({})",
                    shown(root, &stub)
                ),
            );
        }
        let stub_run = run_checks(root, exercise, &[]);
        match &stub_run.compile_errors {
            Some(errors) => verdict(
                false,
                format!("{lesson}: the stub does not compile: {}", errors.join(" / ")),
            ),
            None => verdict(
                !stub_run.all_pass(),
                format!(
                    "{lesson}: the untouched stub fails its checks ({} of them)",
                    stub_run.failed.len()
                ),
            ),
        }
        let reference_run = run_checks(root, exercise, &["reference"]);
        let ok = reference_run.all_pass();
        verdict(ok, format!("{lesson}: the reference solution passes"));
        if !ok {
            explain(&reference_run, exercise);
        }
        if exercise.has_speed_check() {
            match run_speed(root, exercise, &["reference", "speed"], true) {
                Ok(report) => {
                    let mismatch = report.timed.iter().find_map(|timed| timed.mismatch.clone());
                    verdict(
                        mismatch.is_none() && !report.timed.is_empty(),
                        format!(
                            "{lesson}: the speed check times {} (the reference against itself){}",
                            report
                                .timed
                                .iter()
                                .map(|t| t.function.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            mismatch.map(|m| format!(": {m}")).unwrap_or_default()
                        ),
                    );
                }
                Err(error) => verdict(false, format!("{lesson}: the speed check does not run: {error}")),
            }
        }
    }
    if bad { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
