//! The flags every lesson shares, and value parsers that turn bad input into one clear line.
//!
//! Value names are a contract the end-to-end tests rely on: a flag whose value is a count is
//! shown as `<COUNT>` (the tests try 0, -1 and a non-number on it), a fraction of 0..1 as
//! `<FRACTION>`, and a duration in milliseconds as `<MS>`.

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;
use serde::Serialize;
use std::ffi::{OsStr, OsString};
use std::time::Duration;

/// `--quick`, `--step`, `--json`, `--seed`: the same meaning in every lesson.
#[derive(clap::Args, Clone, Debug, Default, Serialize)]
pub struct CommonArgs {
    /// Small sizes: the whole lesson runs in a second or two (the tests use this)
    #[arg(long)]
    pub quick: bool,
    /// Presenter mode: pause before each section and each answer (Enter: go on, q: quit, r: the last section again, s: skip the next); only on a terminal
    #[arg(long)]
    pub step: bool,
    /// Start at this section (numbered as the lesson prints them)
    #[arg(long, value_name = "COUNT", value_parser = count(1, 99))]
    pub section: Option<usize>,
    /// Before each timed comparison is shown, ask for a prediction of its speedup (read from stdin) and show it beside the measurement
    #[arg(long)]
    pub predict: bool,
    /// Print one JSON document (machine, parameters, every figure) and nothing else on stdout
    #[arg(long)]
    pub json: bool,
    /// Seed for everything random in the lesson (and its quiz): the same seed gives the same workload
    #[arg(long, value_name = "SEED", default_value_t = 2016, value_parser = SeedParser, allow_hyphen_values = true)]
    pub seed: u64,
}

impl CommonArgs {
    /// `quick` under `--quick`, else `full`: the one place a lesson picks its sizes.
    pub fn pick<T>(&self, quick: T, full: T) -> T {
        if self.quick { quick } else { full }
    }
}

/// Parses the command line; on bad input prints one line to stderr and exits with status 2
/// (`--help` and `--version` print and exit 0, as usual).
pub fn parse_args<A: clap::Parser>() -> A {
    crate::limits::fit_allocator_to_address_space();
    parse_args_from(std::env::args_os())
}

/// [`parse_args`] over the given arguments (the first one is the program name).
pub fn parse_args_from<A: clap::Parser, I: IntoIterator<Item = T>, T: Into<OsString> + Clone>(args: I) -> A {
    match A::try_parse_from(args) {
        Ok(args) => args,
        Err(error) => match error.kind() {
            ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => error.exit(),
            _ => {
                let program = A::command().get_name().to_string();
                eprintln!("{program}: {} (see --help)", one_line(&error));
                std::process::exit(2)
            }
        },
    }
}

/// The first line of clap's message, which names the problem (the rest is usage and tips).
fn one_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|line| !line.is_empty());
    let first = lines.next().unwrap_or("error: invalid arguments").to_string();
    // "the following required arguments were not provided:" names them on the lines below.
    if first.ends_with(':') {
        let named: Vec<&str> = lines.take_while(|line| !line.starts_with("Usage:")).collect();
        return format!("{first} {}", named.join(", "));
    }
    first
}

fn invalid(arg: Option<&clap::Arg>, value: &OsStr, why: &str) -> clap::Error {
    let flag = arg
        .map(|arg| format!("'{arg}'"))
        .unwrap_or_else(|| "the argument".to_string());
    clap::Error::raw(
        ErrorKind::ValueValidation,
        format!("invalid value '{}' for {flag}: {why}\n", value.to_string_lossy()),
    )
}

/// A whole number from `min` to `max`. Give the flag `value_name = "COUNT"`.
/// Pick `max` so that the largest accepted value still fits the machine (a million threads
/// would exhaust it): the message names the limit.
pub fn count(min: u64, max: u64) -> CountParser {
    CountParser { min, max }
}

#[derive(Clone, Copy, Debug)]
pub struct CountParser {
    min: u64,
    max: u64,
}

impl TypedValueParser for CountParser {
    type Value = usize;

    fn parse_ref(&self, _: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<usize, clap::Error> {
        let text = value.to_str().unwrap_or("").trim();
        let number: i128 = text.parse().map_err(|_| invalid(arg, value, "not a whole number"))?;
        if number < i128::from(self.min) {
            return Err(invalid(
                arg,
                value,
                &format!("must be at least {}", timing::format::count(self.min)),
            ));
        }
        if number > i128::from(self.max) {
            return Err(invalid(
                arg,
                value,
                &format!("must be at most {}", timing::format::count(self.max)),
            ));
        }
        usize::try_from(number).map_err(|_| invalid(arg, value, "too large for this machine"))
    }
}

/// `--seed`: any whole number from 0 to 18,446,744,073,709,551,615, with the same one-line
/// messages as the other numbers (a negative seed is a bad value, not an unknown flag).
#[derive(Clone, Copy, Debug)]
pub struct SeedParser;

impl TypedValueParser for SeedParser {
    type Value = u64;

    fn parse_ref(&self, _: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<u64, clap::Error> {
        let text = value.to_str().unwrap_or("").trim();
        let number: i128 = text.parse().map_err(|_| invalid(arg, value, "not a whole number"))?;
        u64::try_from(number).map_err(|_| {
            let why = if number < 0 {
                "a seed is a whole number from 0"
            } else {
                "too large for a seed (at most 2^64 - 1)"
            };
            invalid(arg, value, why)
        })
    }
}

/// A fraction from 0 to 1 inclusive (a parallel fraction, an error rate). Give the flag
/// `value_name = "FRACTION"`.
pub fn fraction() -> FractionParser {
    FractionParser
}

#[derive(Clone, Copy, Debug)]
pub struct FractionParser;

impl TypedValueParser for FractionParser {
    type Value = f64;

    fn parse_ref(&self, _: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<f64, clap::Error> {
        let text = value.to_str().unwrap_or("").trim();
        let number: f64 = text.parse().map_err(|_| invalid(arg, value, "not a number"))?;
        if !(0.0..=1.0).contains(&number) {
            return Err(invalid(arg, value, "must be between 0 and 1"));
        }
        Ok(number)
    }
}

/// A duration in whole milliseconds from `min_ms` to `max_ms`. Give the flag `value_name = "MS"`.
pub fn millis(min_ms: u64, max_ms: u64) -> MillisParser {
    MillisParser { min_ms, max_ms }
}

#[derive(Clone, Copy, Debug)]
pub struct MillisParser {
    min_ms: u64,
    max_ms: u64,
}

impl TypedValueParser for MillisParser {
    type Value = Duration;

    fn parse_ref(&self, _: &clap::Command, arg: Option<&clap::Arg>, value: &OsStr) -> Result<Duration, clap::Error> {
        let text = value.to_str().unwrap_or("").trim();
        let number: i128 = text
            .parse()
            .map_err(|_| invalid(arg, value, "not a whole number of milliseconds"))?;
        if number < i128::from(self.min_ms) || number > i128::from(self.max_ms) {
            return Err(invalid(
                arg,
                value,
                &format!("must be from {} to {} ms", self.min_ms, self.max_ms),
            ));
        }
        Ok(Duration::from_millis(number as u64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    #[command(name = "demo")]
    struct Demo {
        #[command(flatten)]
        common: CommonArgs,
        #[arg(long, value_name = "COUNT", default_value_t = 2, value_parser = count(1, 64))]
        threads: usize,
        #[arg(long, value_name = "FRACTION", default_value_t = 0.5, value_parser = fraction())]
        parallel: f64,
        #[arg(long, value_name = "MS", default_value = "5", value_parser = millis(1, 1000))]
        interval: Duration,
        #[arg(long)]
        quiz: bool,
        #[arg(long, requires = "quiz")]
        answers: bool,
    }

    fn error_line(args: &[&str]) -> String {
        let error = Demo::try_parse_from(args).unwrap_err();
        one_line(&error)
    }

    #[test]
    fn defaults_and_values_parse() {
        let demo = Demo::try_parse_from(["demo", "--threads", "8", "--parallel", "0.95", "--quick"]).unwrap();
        assert_eq!(demo.threads, 8);
        assert_eq!(demo.parallel, 0.95);
        assert_eq!(demo.interval, Duration::from_millis(5));
        assert!(demo.common.quick && !demo.common.json);
        assert_eq!(demo.common.seed, 2016);
        assert_eq!(demo.common.pick(1, 100), 1);
    }

    #[test]
    fn bad_values_give_one_line_naming_the_problem() {
        let zero = error_line(&["demo", "--threads", "0"]);
        assert!(zero.contains("'0'") && zero.contains("at least 1"), "{zero}");
        let negative = error_line(&["demo", "--threads=-3"]);
        assert!(negative.contains("at least 1"), "{negative}");
        let huge = error_line(&["demo", "--threads", "1000000"]);
        assert!(huge.contains("must be at most 64"), "{huge}");
        let negative_seed = error_line(&["demo", "--seed", "-3"]);
        assert!(
            negative_seed.contains("'-3'") && negative_seed.contains("from 0"),
            "{negative_seed}"
        );
        let word_seed = error_line(&["demo", "--seed", "abc"]);
        assert!(word_seed.contains("not a whole number"), "{word_seed}");
        let word = error_line(&["demo", "--threads", "many"]);
        assert!(word.contains("not a whole number"), "{word}");
        let fraction = error_line(&["demo", "--parallel", "1.5"]);
        assert!(fraction.contains("between 0 and 1"), "{fraction}");
        let interval = error_line(&["demo", "--interval", "0"]);
        assert!(interval.contains("from 1 to 1000 ms"), "{interval}");
        let unknown = error_line(&["demo", "--bogus"]);
        let missing = error_line(&["demo", "--answers"]);
        assert!(missing.contains("not provided: --quiz"), "{missing}");
        assert!(unknown.contains("--bogus"), "{unknown}");
        for line in [
            zero,
            negative,
            huge,
            word,
            fraction,
            interval,
            unknown,
            missing,
            negative_seed,
            word_seed,
        ] {
            assert!(!line.contains('\n'));
            assert!(line.starts_with("error:"), "{line}");
        }
    }
}
