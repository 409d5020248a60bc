//! End-to-end tests of the whole course, run by `cargo test --workspace`.
//!
//! They run the real lesson binaries, as a student would, and check the contract every lesson
//! keeps (`ARCHITECTURE.md`). Every folder under `lessons/` joins these tests by existing:
//! there is no list of lessons to maintain. Tests assert meaning (answers, exit codes, the
//! shape of reports, nothing left behind), never timing: the machine is shared and noisy.
//!
//! Table of contents:
//! - [`contract`]: every lesson runs with `--quick`, starts with its header, ends cleanly, and
//!   its `--json` report parses and carries the machine, the parameters and its figures;
//! - [`bad_input`]: unknown flags, non-numbers, zero, negative and huge counts, out-of-range
//!   fractions: exit status 2 with one line on stderr, never a panic;
//! - [`cleanup`]: a lesson interrupted with SIGINT (alone, or with its whole process group as
//!   Ctrl-C does) leaves no process and no temporary file behind;
//! - [`stingy`]: every lesson at `--quick`, as an unprivileged user, under a low per-user process
//!   limit, a 1 GiB address space and few open files: it finishes or stops with a short
//!   message, never a panic or an abort, and leaves nothing behind;
//! - [`quiz`]: every lesson with `--quiz` gives the same problems for a seed forever (fixed
//!   word for word), hides answers until `--answers`, and refuses `--answers` alone;
//! - [`tidy`]: every lesson opens with its objective, names its concept file (short, free of
//!   presentation) in a `//! Read first:` line, keeps `main.rs` short, has a complete README
//!   (with the minutes its speaker notes plan), opts into the workspace lints and depends on no
//!   other lesson; every exercise has a stub, a reference solution and homework-only checks;
//! - [`projector`]: every section fits a projected screen (30 lines, 100 columns);
//! - [`scripts`]: `scripts/run-lessons.sh` runs lessons in order, reports failures, saves
//!   `--json` reports and prints a plan that adds up; `scripts/homework.sh` gives a verdict.
//!
//! To check only some lessons while working on them: `LESSONS=lesson03_race,lesson04_gil
//! cargo test --test tests`.

mod support;

mod bad_input;
mod cleanup;
mod contract;
mod projector;
mod quiz;
mod scripts;
mod stingy;
mod tidy;
