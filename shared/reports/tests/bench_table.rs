//! `bench-table` run as `scripts/bench.sh` runs it: reports piped in, one table out.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn bench_table(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench-table"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bench-table starts");
    // bench-table may refuse its arguments and exit before reading: a closed pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

fn report(speedup: f64) -> String {
    serde_json::json!({
        "schema": 1, "lesson": "lesson06_pool_map", "title": "t",
        "machine": { "logical_cores": 2, "os": "Linux", "arch": "x86_64", "cpu_model": "CPU",
                     "profile": "dev", "opt_level": "3", "optimized": true },
        "params": {}, "warnings": [], "elapsed_s": 1.0,
        "sections": [{ "number": 3, "title": "s", "figures": {}, "comparisons": [
            { "workload": "count_prime on 4 numbers", "answer": "[194, 110, 96, 96]", "answers_agree": true, "rows": [
                { "name": "sequential", "workers": 1, "runs": 3, "best_s": 0.6, "median_s": 0.6,
                  "cores_used": 1.0, "speedup": 1.0, "efficiency": 1.0 },
                { "name": "process pool", "workers": 2, "runs": 3, "best_s": 0.31, "median_s": 0.31,
                  "cores_used": 1.95, "speedup": speedup, "efficiency": speedup / 2.0 } ] } ] }]
    })
    .to_string()
}

#[test]
fn piped_reports_make_one_table_with_targets() {
    let input = [report(1.94), report(1.90), report(1.96)].join("\n");
    let output = bench_table(&["--target", "count_prime/process pool>=0.85", "--strict"], &input);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("count_prime on 4 numbers"), "{stdout}");
    assert!(stdout.contains("process pool") && stdout.contains("1.94×"), "{stdout}");
    assert!(stdout.contains("met") && stdout.contains("0.97"), "{stdout}");
}

#[test]
fn a_missed_target_fails_only_when_strict() {
    let input = report(1.5);
    let lenient = bench_table(&["--target", "count_prime/process pool>=0.85"], &input);
    assert!(lenient.status.success());
    assert!(String::from_utf8_lossy(&lenient.stdout).contains("MISSED"));
    let strict = bench_table(&["--target", "count_prime/process pool>=0.85", "--strict"], &input);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    for (args, input) in [
        (&[][..], "not json"),
        (&[][..], ""),
        (&["--workload", "bzip2"][..], &report(1.9)[..]),
        (&["--target", "nonsense"][..], &report(1.9)[..]),
    ] {
        let output = bench_table(args, input);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("bench-table: "), "{stderr}");
    }
}
