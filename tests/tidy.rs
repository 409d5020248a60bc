//! The shape of the repository: what a student and an instructor find in every lesson.

use crate::support::{lessons, root};
use std::fs;

/// The sections a lesson README must have (matched at the start of a `##` heading).
const README_SECTIONS: [&str; 6] = [
    "Objectives",
    "How to run",
    "What to observe",
    "Pop quiz",
    "Homework",
    "Speaker notes",
];

#[test]
fn every_lesson_main_opens_with_its_objective() {
    for lesson in lessons() {
        let main = root().join("lessons").join(&lesson).join("src/main.rs");
        let text = fs::read_to_string(&main).unwrap_or_else(|_| panic!("{} is missing", main.display()));
        assert!(
            text.starts_with("//!"),
            "{} must open with a //! block stating the objective",
            main.display()
        );
    }
}

#[test]
fn every_lesson_has_a_complete_readme() {
    for lesson in lessons() {
        let path = root().join("lessons").join(&lesson).join("README.md");
        let text = fs::read_to_string(&path).unwrap_or_else(|_| panic!("{lesson} has no README.md"));
        let headings: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
        for section in README_SECTIONS {
            assert!(
                headings
                    .iter()
                    .any(|h| h.to_lowercase().starts_with(&section.to_lowercase())),
                "{lesson}/README.md has no '## {section}' section (has: {headings:?})"
            );
        }
        assert!(
            text.contains("<details>"),
            "{lesson}/README.md: the pop quiz answers go in <details>"
        );
        assert!(
            text.contains(&format!("cargo run -p {lesson}")),
            "{lesson}/README.md does not give the command to run it"
        );
        assert!(
            speaker_minutes(&text).is_some_and(|minutes| minutes > 0),
            "{lesson}/README.md: the speaker notes must say how long the lesson takes, as 'N minutes' (run-lessons.sh --plan reads it)"
        );
    }
}

/// The first "N minutes" in the README's speaker notes, as `scripts/run-lessons.sh --plan` reads it.
pub fn speaker_minutes(readme: &str) -> Option<u32> {
    let notes = readme.split("\n## Speaker notes").nth(1)?;
    let notes = notes.split("\n## ").next().unwrap_or(notes);
    let words: Vec<&str> = notes.split_whitespace().collect();
    words.windows(2).find_map(|pair| {
        let number = pair[0].trim_matches(|c: char| !c.is_ascii_digit());
        (pair[1].starts_with("minutes") && !number.is_empty())
            .then(|| number.parse().ok())
            .flatten()
    })
}

#[test]
fn every_exercise_has_a_stub_a_reference_and_homework_only_tests() {
    for lesson in lessons() {
        let dir = root().join("lessons").join(&lesson).join("exercise");
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let stub = fs::read_to_string(dir.join("src/exercise.rs")).expect("an exercise has src/exercise.rs");
        assert!(
            stub.starts_with("//! Exercise: "),
            "{lesson}: src/exercise.rs opens with '//! Exercise: <title>'"
        );
        // The reference lives with the homework runner, which names it only once the student's
        // version passes (an exercise not moved there yet keeps it in src/solution.rs).
        let kept = root()
            .join("shared/homework/exercises")
            .join(&lesson)
            .join("reference.rs");
        assert!(
            kept.is_file() || dir.join("src/solution.rs").is_file(),
            "{lesson}: the exercise has a reference solution in {}",
            kept.display()
        );
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("reference = []"),
            "{lesson}: the exercise crate has a `reference` feature"
        );
        let checks = fs::read_to_string(dir.join("tests/check.rs")).expect("an exercise has tests/check.rs");
        let tests = checks.matches("#[test]").count();
        let ignored = checks.matches("#[ignore = \"homework").count();
        assert!(tests >= 2, "{lesson}: an exercise needs real checks (found {tests})");
        assert_eq!(
            tests, ignored,
            "{lesson}: every exercise check is #[ignore = \"homework...\"] so the workspace stays green"
        );
        let readme = fs::read_to_string(root().join("lessons").join(&lesson).join("README.md")).unwrap_or_default();
        assert!(
            readme.contains("cargo homework") || readme.contains("scripts/homework.sh"),
            "{lesson}/README.md: the homework names its runner (cargo homework, or scripts/homework.sh)"
        );
    }
}

#[test]
fn every_lesson_is_in_the_course_readme() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md exists");
    for lesson in lessons() {
        assert!(
            readme.contains(&format!("cargo run -p {lesson}")),
            "README.md's lesson table does not list {lesson}"
        );
    }
}

#[test]
fn every_member_opts_into_workspace_lints_and_lessons_stand_alone() {
    let mut members: Vec<_> = Vec::new();
    for folder in ["lessons", "shared"] {
        for entry in fs::read_dir(root().join(folder)).unwrap().flatten() {
            if entry.path().join("Cargo.toml").is_file() {
                members.push(entry.path());
            }
            if entry.path().join("exercise/Cargo.toml").is_file() {
                members.push(entry.path().join("exercise"));
            }
        }
    }
    for member in members {
        let folder = member.file_name().unwrap().to_string_lossy().into_owned();
        // An exercise crate is named after its lesson: lessons/lesson00_machine/exercise is
        // the package lesson00_machine_exercise.
        let name = if folder == "exercise" {
            let lesson = member
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            format!("{lesson}_exercise")
        } else {
            folder
        };
        let manifest = fs::read_to_string(member.join("Cargo.toml")).unwrap();
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{name}/Cargo.toml must say `[lints] workspace = true` (lints are not inherited otherwise)"
        );
        assert!(
            manifest.contains(&format!("name = \"{name}\"")),
            "{name}: the folder name must be the package name"
        );
        assert!(
            manifest.contains("publish = false"),
            "{name}: internal crates say publish = false"
        );
        // Lessons depend on shared/ crates, never on each other; shared crates on no lesson.
        let dependencies = manifest.split("[dependencies]").nth(1).unwrap_or_default();
        for line in dependencies.lines() {
            assert!(
                !line.trim_start().starts_with("lesson"),
                "{name} depends on a lesson: {line}"
            );
        }
    }
}

/// Lines of a Rust file outside its `#[cfg(test)]` module (the budget counts what a student reads).
fn lines_outside_tests(text: &str) -> usize {
    text.lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .count()
}

/// The concept files a lesson's `main.rs` names in its `//! Read first:` line, in reading order.
pub fn concept_files(main: &str) -> Vec<String> {
    let Some(line) = main.lines().find(|line| line.starts_with("//! Read first:")) else {
        return Vec::new();
    };
    line.split(|c: char| c.is_whitespace() || c == ',' || c == '`')
        .map(|word| word.trim_end_matches(['.', ';', ')']))
        .filter(|word| word.starts_with("src/") && word.ends_with(".rs"))
        .map(str::to_string)
        .collect()
}

/// What a concept file must not contain: it is the code the lecture is about, not its show.
const PRESENTATION: [&str; 6] = ["course::", "timing::", "say!", "lesson.", "println!", "eprintln!"];

#[test]
fn every_lesson_names_a_short_concept_file_free_of_presentation() {
    let mut problems = Vec::new();
    for lesson in lessons() {
        let dir = root().join("lessons").join(&lesson);
        let main = fs::read_to_string(dir.join("src/main.rs")).unwrap_or_default();
        let files = concept_files(&main);
        if files.is_empty() {
            problems.push(format!(
                "{lesson}/src/main.rs has no '//! Read first: src/<concept>.rs' line naming its concept file"
            ));
        }
        for file in &files {
            let Ok(text) = fs::read_to_string(dir.join(file)) else {
                problems.push(format!(
                    "{lesson}: '//! Read first:' names {file}, which does not exist"
                ));
                continue;
            };
            let lines = lines_outside_tests(&text);
            if lines > 200 {
                problems.push(format!(
                    "{lesson}/{file}: {lines} lines outside tests; a concept file has at most 200"
                ));
            }
            let body: String = text
                .lines()
                .take_while(|line| !line.starts_with("#[cfg(test)]"))
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for word in PRESENTATION {
                if body.contains(word) {
                    problems.push(format!(
                        "{lesson}/{file} uses `{word}`: a concept file holds no presentation or timing"
                    ));
                }
            }
        }
        let main_lines = lines_outside_tests(&main);
        if main_lines > 200 {
            problems.push(format!(
                "{lesson}/src/main.rs: {main_lines} lines outside tests; at most 200 (the flags and the sections in order)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn concept_files_are_found_in_the_read_first_line() {
    let main = "//! x\n//! Read first: src/race.rs, then src/false_sharing.rs.\n";
    assert_eq!(concept_files(main), ["src/race.rs", "src/false_sharing.rs"]);
    assert!(concept_files("//! nothing to read").is_empty());
}
