//! What every lesson shares beyond timing, so that each lesson's `main.rs` holds only its
//! lecture:
//!
//! - [`cli`]: the common flags (`--quick`, `--step`, `--json`, `--seed`), value parsers that
//!   refuse bad counts and fractions with one line, and [`parse_args`] (exit 2 on bad input);
//! - [`Lesson`]: the header, numbered sections with a "what to notice" line, printing that is
//!   silent under `--json`, figures and comparisons collected into the `--json` report;
//! - [`chart`] and [`table`]: horizontal bars, histograms, an x/y plot, aligned tables;
//! - [`children`]: forking and spawning child processes that never outlive the lesson, also
//!   when it is interrupted with Ctrl-C;
//! - [`machine`]: what the header says about the machine and the build;
//! - [`quiz`]: seeded questions to predict (`--quiz --seed S`) and their answers (`--answers`);
//! - [`python`]: the notes' programs on the machine's CPython (`--python`, `--no-python`),
//!   their answers checked against Rust's and their rows beside the Rust variants.
//!
//! A lesson's `main` looks like this:
//!
//! ```no_run
//! use clap::Parser;
//!
//! #[derive(Parser, serde::Serialize)]
//! #[command(about = "Shows one thing, measured.")]
//! struct Args {
//!     #[command(flatten)]
//!     common: course::CommonArgs,
//!     /// How many threads to use.
//!     #[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = course::cli::count(1, 1024))]
//!     threads: usize,
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     let args: Args = course::parse_args();
//!     course::run(course::info!("One thing"), &args.common, &args, |lesson| {
//!         lesson.section("The first idea");
//!         course::say!(lesson, "using {} threads", args.threads);
//!         lesson.notice("What to notice, in one sentence.");
//!         Ok(())
//!     })
//! }
//! ```

pub mod chart;
pub mod children;
pub mod cli;
mod lesson;
pub mod limits;
pub mod machine;
pub mod present;
pub mod python;
pub mod quiz;
pub mod style;
pub mod table;
pub mod threads;

pub use cli::{CommonArgs, parse_args};
pub use lesson::{Info, Lesson, PRESENTER_QUIT_ENV, Prediction, PresenterQuit, Section, run};
pub use timing;

/// Bad input found after the flags were parsed (two flags that contradict each other, a file
/// that is not what it should be). [`run`] prints it on one line and exits with status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// An error that [`run`] reports as bad input (exit status 2) rather than a failure (1).
pub fn usage_error(message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(message.into()))
}

/// `Info` for the calling lesson: its package name and a title.
#[macro_export]
macro_rules! info {
    ($title:expr) => {
        $crate::Info {
            package: env!("CARGO_PKG_NAME"),
            title: $title,
        }
    };
}

/// Prints one line of the lesson's text (nothing under `--json`): `say!(lesson, "{} threads", n)`.
#[macro_export]
macro_rules! say {
    ($lesson:expr) => {
        $lesson.say("")
    };
    ($lesson:expr, $($arg:tt)*) => {
        $lesson.say(format_args!($($arg)*))
    };
}
