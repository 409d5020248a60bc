//! Finding and building the lessons under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every lesson: the folders under `lessons/` that hold a `Cargo.toml`, in course order.
pub fn all_lessons() -> Vec<String> {
    let mut lessons: Vec<String> = std::fs::read_dir(root().join("lessons"))
        .expect("lessons/ exists")
        .flatten()
        .filter(|entry| entry.path().join("Cargo.toml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    lessons.sort();
    lessons
}

/// The lessons under test: all of them, or those named in `LESSONS=a,b` while working on a few.
pub fn lessons() -> Vec<String> {
    let only: Option<Vec<String>> = std::env::var("LESSONS")
        .ok()
        .map(|list| list.split(',').map(|s| s.trim().to_string()).collect());
    let lessons: Vec<String> = all_lessons()
        .into_iter()
        .filter(|name| only.as_ref().is_none_or(|only| only.contains(name)))
        .collect();
    assert!(
        !lessons.is_empty(),
        "no lessons found under lessons/ (LESSONS={:?})",
        std::env::var("LESSONS").ok()
    );
    lessons
}

/// The built binary of `lesson`. The first call builds every lesson once, with the same
/// profile as this test (so `cargo test --release` tests release binaries).
pub fn binary(lesson: &str) -> PathBuf {
    static PROFILE_DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = PROFILE_DIR.get_or_init(|| {
        // This test runs from <target>/<profile>/deps/; the binaries land in <target>/<profile>/.
        let exe = std::env::current_exe().expect("the test knows its path");
        let profile_dir = exe
            .parent()
            .and_then(Path::parent)
            .expect("test binary lives in <target>/<profile>/deps");
        let target_dir = profile_dir.parent().expect("profile folder lives in the target folder");
        let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
            Some("debug") => "dev".to_string(),
            Some(name) => name.to_string(),
            None => "dev".to_string(),
        };
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut build = Command::new(cargo);
        build
            .current_dir(root())
            .args(["build", "--quiet", "--bins", "--profile", &profile, "--target-dir"]);
        build.arg(target_dir);
        for lesson in lessons() {
            build.args(["-p", &lesson]);
        }
        let status = build.status().expect("cargo runs");
        assert!(status.success(), "building the lessons failed");
        profile_dir.to_path_buf()
    });
    dir.join(lesson)
}

/// Runs `check` for every lesson and collects the failures, so that one broken lesson does
/// not hide another; fails at the end with all of them.
pub fn for_every_lesson(check: impl Fn(&str) + std::panic::RefUnwindSafe) {
    let mut failures = Vec::new();
    for lesson in lessons() {
        if let Err(panic) = std::panic::catch_unwind(|| check(&lesson)) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(no message)".to_string());
            failures.push(format!("=== {lesson} ===\n{message}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} lesson(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
