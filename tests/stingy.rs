//! A stingy machine: every lesson survives the limits of a student's laptop, container or shared
//! server. Each lesson runs at `--quick` as an unprivileged user (the test drops root's
//! privileges to `nobody` with `setpriv`; root is exempt from the per-user process limit, so a
//! test that stayed root would prove nothing) under one limit at a time, set with `prlimit`:
//!
//! - a per-user process limit of a few dozen tasks (`ulimit -u`), counted against the user's own;
//! - an address space of 1 GiB (`ulimit -v`), as shared university servers set;
//! - 32 open files (`ulimit -n`);
//! - then, where most lessons must stop instead: room for 3 more tasks, or 12 open files.
//!
//! Under each, a lesson either finishes (exit 0, adapting as it says on screen) or stops with a
//! short message and exit 1. Never a panic, a backtrace, an abort or a signal; nothing left
//! running, no temporary file left behind. When privileges cannot be dropped (no `setpriv`, not
//! root and no `prlimit`), the test says so and checks nothing.

use crate::support::{binary, for_every_lesson};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use testkit::Run;

/// The unprivileged user the lessons run as when the test runs as root.
const NOBODY: &str = "65534";

/// Tasks the unprivileged user may have at once, on top of those it already has.
const TASKS: u64 = 40;
/// The address space a lesson may use.
const ADDRESS_SPACE: u64 = 1 << 30;
/// Open files.
const OPEN_FILES: u64 = 32;
/// Open files where the lessons that talk over sockets cannot even start their server.
const HARDLY_ANY_FILES: u64 = 12;

/// How the lessons are run: as `nobody` (from root), or as the current user.
enum Runner {
    DropToNobody,
    AsMyself { uid: u32 },
}

fn runner() -> Option<Runner> {
    let works = |program: &str| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !works("prlimit") {
        return None;
    }
    let uid = nix::unistd::getuid();
    if uid.is_root() {
        works("setpriv").then_some(Runner::DropToNobody)
    } else {
        Some(Runner::AsMyself { uid: uid.as_raw() })
    }
}

/// A folder everyone may read and enter, holding a copy of `lesson`'s binary: the repository
/// itself may sit in a home folder that `nobody` cannot enter.
fn readable_copy(lesson: &str, folder: &Path) -> PathBuf {
    std::fs::create_dir_all(folder).unwrap();
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = folder.join(lesson);
    std::fs::copy(binary(lesson), &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
    copy
}

/// Tasks the user `uid` runs now (threads included), as the per-user limit counts them.
fn tasks_of(uid: u32) -> u64 {
    course::limits::tasks_of_user(uid).unwrap_or(0)
}

#[test]
fn every_lesson_survives_a_stingy_machine() {
    let Some(runner) = runner() else {
        eprintln!("stingy: skipped: prlimit (and, as root, setpriv) is needed to run the lessons under limits");
        return;
    };
    let scratch = std::env::temp_dir().join(format!("parallel-lessons-stingy-{}", std::process::id()));
    for_every_lesson(|lesson| {
        let copy = readable_copy(lesson, &scratch.join("bin"));
        let uid = match runner {
            Runner::DropToNobody => NOBODY.parse().unwrap(),
            Runner::AsMyself { uid } => uid,
        };
        let limits = [
            ("a per-user process limit", format!("--nproc={}", tasks_of(uid) + TASKS)),
            ("a 1 GiB address space", format!("--as={ADDRESS_SPACE}")),
            ("few open files", format!("--nofile={OPEN_FILES}")),
            // Where most lessons must stop: a refusal at every step (a reader thread, a pool's
            // worker, tokio's own sockets) must still be one line, never a panic or a hang.
            ("almost no room for tasks", format!("--nproc={}", tasks_of(uid) + 3)),
            ("hardly any open files", format!("--nofile={HARDLY_ANY_FILES}")),
        ];
        let mut problems = Vec::new();
        for (what, limit) in &limits {
            let temp = scratch.join(format!("tmp-{lesson}"));
            std::fs::create_dir_all(&temp).unwrap();
            std::fs::set_permissions(&temp, std::fs::Permissions::from_mode(0o1777)).unwrap();
            let mut args: Vec<String> = Vec::new();
            let program = match runner {
                Runner::DropToNobody => {
                    args.extend(
                        [
                            "--reuid",
                            NOBODY,
                            "--regid",
                            NOBODY,
                            "--clear-groups",
                            "--inh-caps=-all",
                            "prlimit",
                        ]
                        .map(String::from),
                    );
                    "setpriv"
                }
                Runner::AsMyself { .. } => "prlimit",
            };
            args.push(limit.clone());
            args.push("--".to_string());
            args.push(copy.display().to_string());
            args.push("--quick".to_string());
            let outcome = Run::new(program)
                .args(&args)
                .env("TMPDIR", &temp.display().to_string())
                .current_dir(&scratch)
                .go();
            let stderr = outcome.stderr.trim();
            let crashed = [
                "panicked",
                "RUST_BACKTRACE",
                "memory allocation of",
                "stack backtrace",
                "Aborted",
            ]
            .iter()
            .find(|word| stderr.contains(*word));
            let left: Vec<String> = std::fs::read_dir(&temp)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            let ok = match outcome.code() {
                Some(0) => crashed.is_none(),
                Some(1) => crashed.is_none() && !stderr.is_empty() && stderr.lines().count() <= 3,
                _ => false,
            };
            if !ok || !outcome.leftovers.is_empty() || !left.is_empty() || outcome.timed_out {
                problems.push(format!(
                    "under {what} ({limit}): {}\nleft running: {:?}\nleft in TMPDIR: {left:?}",
                    outcome.describe(),
                    outcome.leftovers
                ));
            }
            let _ = std::fs::remove_dir_all(&temp);
        }
        assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    });
    let _ = std::fs::remove_dir_all(&scratch);
}
