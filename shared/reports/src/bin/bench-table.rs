//! `bench-table`: the course benchmark's table. Reads lessons' `--json` reports (files, or
//! standard input when none are named: several reports one after another), gathers the
//! comparisons asked for, and prints one table of medians over the runs: workload, variant,
//! time, speedup, efficiency, cores used. Targets (`--target 'count_prime/thread pool>=0.90'`)
//! are checked against the median efficiencies.

use clap::Parser;
use course::table::Table;
use course::timing::format;
use reports::{Target, aggregate, check, read_reports};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "bench-table",
    about = "Prints the median of each timed comparison found in lessons' --json reports, over \
several runs: workload, variant, time, speedup, efficiency and cores used, and checks efficiency \
targets. Reads the files named, or standard input (reports one after another)."
)]
struct Args {
    /// Keep only comparisons whose workload contains this text (repeatable; default: all)
    #[arg(long, value_name = "TEXT")]
    workload: Vec<String>,
    /// An efficiency to reach, WORKLOAD/VARIANT>=EFFICIENCY, matched as substrings (repeatable)
    #[arg(long, value_name = "SPEC")]
    target: Vec<Target>,
    /// Fail (exit status 1) when a target is missed
    #[arg(long)]
    strict: bool,
    /// Report files [default: standard input]
    files: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(error) if !error.use_stderr() => error.exit(),
        Err(error) => {
            let message = error.render().to_string();
            eprintln!(
                "bench-table: {}",
                message.lines().next().unwrap_or("bad arguments").trim()
            );
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(all_met) => {
            if all_met || !args.strict {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            eprintln!("bench-table: {message}");
            ExitCode::from(2)
        }
    }
}

/// Prints the table; true when every target was met.
fn run(args: &Args) -> Result<bool, String> {
    let mut text = String::new();
    if args.files.is_empty() {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| format!("cannot read standard input: {error}"))?;
    } else {
        for file in &args.files {
            text.push_str(
                &std::fs::read_to_string(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?,
            );
            text.push('\n');
        }
    }
    let reports = read_reports(&text).map_err(|error| error.to_string())?;
    if reports.is_empty() {
        return Err("no reports to read (pipe lessons' --json output in, or name report files)".to_string());
    }
    let rows = aggregate(&reports, |workload| {
        args.workload.is_empty() || args.workload.iter().any(|wanted| workload.contains(wanted.as_str()))
    });
    if rows.is_empty() {
        return Err("no comparison in the reports matches the --workload filters".to_string());
    }

    let mut out = String::new();
    let mut machines: Vec<String> = reports.iter().map(|report| report.machine.summary()).collect();
    machines.dedup();
    out.push_str(&format!("Machine: {}\n", machines[0]));
    if machines.len() > 1 {
        out.push_str(&format!(
            "(the reports come from {} different machines or builds: medians mix them)\n",
            machines.len()
        ));
    }
    let mut warnings: Vec<&String> = reports.iter().flat_map(|report| &report.warnings).collect();
    warnings.sort();
    warnings.dedup();
    for warning in warnings {
        out.push_str(&format!("warning: {warning}\n"));
    }
    out.push('\n');

    let mut table = Table::new(&[
        "workload",
        "variant",
        "workers",
        "time",
        "speedup",
        "efficiency",
        "cores used",
        "runs",
        "speedup range",
    ])
    .left(1);
    let mut previous = String::new();
    for row in &rows {
        let workload = if row.workload == previous {
            String::new()
        } else {
            if !previous.is_empty() {
                table.row([""]);
            }
            previous = row.workload.clone();
            row.workload.clone()
        };
        table.row([
            workload,
            row.variant.clone(),
            row.workers.to_string(),
            format::seconds(row.time_s),
            format::times(row.speedup),
            if row.efficiency.is_finite() {
                format!("{:.2}", row.efficiency)
            } else {
                "–".to_string()
            },
            format!("{:.2}", row.cores_used),
            row.runs.to_string(),
            format!(
                "{} – {}",
                format::significant(row.speedup_range.0),
                format::significant(row.speedup_range.1)
            ),
        ]);
    }
    for line in table.lines() {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("\nTime, speedup, efficiency and cores used are medians over the runs; each run measured its variants side by side.\n");

    let mut all_met = true;
    if !args.target.is_empty() {
        out.push_str("\nTargets (efficiency = speedup / workers):\n");
        for target in &args.target {
            let outcome = check(&rows, target);
            all_met &= outcome.met();
            if outcome.matches.is_empty() {
                out.push_str(&format!(
                    "  MISSED  {} / {}: no such variant in the reports\n",
                    target.workload, target.variant
                ));
            }
            for (workload, variant, efficiency, met) in &outcome.matches {
                out.push_str(&format!(
                    "  {}  {workload} / {variant}: {efficiency:.2} (target ≥ {:.2})\n",
                    if *met { "met   " } else { "MISSED" },
                    target.min_efficiency
                ));
            }
        }
    }
    // A closed pipe (`| head`) is not a failure of the table.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(all_met)
}
