//! Every lesson's CPython twin (`lessons/*/python/*.py`), run alone with `--quick` on the
//! machine's python3: it explains itself with `--help`, prints one JSON document of the shape
//! `course::python` reads, and its answers equal what the Rust side computes for the same
//! input (the notes' word count and divisor counts, the generated book's length and CRC-32,
//! the simulated GIL's checksums). Without a python3 on the PATH there is nothing to run, and
//! each test says so and passes.

use course::python::{Twin, crc32, parse_twin};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

/// `lessons/<lesson>/python/<file>`.
fn twin(lesson: &str, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../lessons")
        .join(lesson)
        .join("python")
        .join(file)
}

fn python3() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join("python3"))
        .find(|p| p.is_file());
    if found.is_none() {
        eprintln!("no python3 on the PATH: the twins are not run");
    }
    found
}

/// Runs a twin with `args`, checks `--help` and the shape of what it printed, and returns it.
fn run(python: &PathBuf, lesson: &str, file: &str, args: &[&str]) -> Twin {
    let script = twin(lesson, file);
    let help = Command::new(python).arg(&script).arg("--help").output().unwrap();
    assert!(help.status.success(), "{file} --help failed");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("--quick") && help.contains("JSON"),
        "{file} --help:\n{help}"
    );
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{file} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = parse_twin(&stdout).unwrap_or_else(|problem| panic!("{file}: {problem}\n{stdout}"));
    assert_eq!(report.twin, lesson);
    assert!(report.python["version"].is_string(), "{file}: {:#}", report.python);
    assert!(!report.variants.is_empty(), "{file}: no variants");
    for variant in &report.variants {
        assert!(
            ["sequential", "threads", "processes"].contains(&variant.kind.as_str()),
            "{file}: {}",
            variant.kind
        );
        assert!(variant.workers >= 1);
        assert!(
            variant.samples.iter().all(|s| s.wall_s > 0.0),
            "{file}: {}",
            variant.name
        );
    }
    report
}

/// The answers of every run of every variant of `workload`.
fn answers<'a>(report: &'a Twin, workload: &'a str) -> Vec<&'a Value> {
    let answers: Vec<&Value> = report.variants_of(workload).flat_map(|v| v.answers.iter()).collect();
    assert!(!answers.is_empty(), "no variant of {workload}");
    answers
}

#[test]
fn lesson02_threads() {
    let Some(python) = python3() else { return };
    let report = run(&python, "lesson02_threads", "threads.py", &["--quick"]);
    let messages = json!(["hello with delay 2", "hello with delay 3", "hello with delay 5"]);
    assert_eq!(report.answers["messages"], messages);
    for answer in answers(&report, "print_with_delay") {
        assert_eq!(*answer, messages, "every variant printed the three messages");
    }
    // The notes' strings: 15 characters × 10,000, 14 × 10,000, and 21.
    assert_eq!(report.answers["lengths"], json!([150_000, 140_000, 21]));
    assert_eq!(report.answers["collected_sorted"], json!([21, 140_000, 150_000]));
    assert_eq!(report.extra["returned_by_join"], json!([null, null, null]));
    for worker in ["thread", "process"] {
        let cost = &report.extra["start_and_join"][worker];
        assert!(cost["samples"].as_u64().unwrap() >= 1, "{cost:#}");
        assert!(cost["median_s"].as_f64().unwrap() > 0.0);
    }
}

#[test]
fn lesson03_race() {
    let Some(python) = python3() else { return };
    let report = run(&python, "lesson03_race", "race.py", &["--quick", "--threads", "3"]);
    let expected = report.answers["expected"].as_u64().unwrap();
    assert_eq!(expected, 3 * report.params["increments"].as_u64().unwrap());
    let variants: Vec<_> = report.variants_of("counter").collect();
    assert_eq!(variants.len(), 4);
    for variant in &variants {
        for (answer, lost) in variant
            .answers
            .iter()
            .zip(variant.extra["lost_updates"].as_array().unwrap())
        {
            // Updates are lost, never gained.
            let total = answer.as_u64().unwrap();
            assert!(total <= expected, "{}: {total}", variant.name);
            assert_eq!(total + lost.as_u64().unwrap(), expected);
        }
    }
    let locked = report.variant("counter", "with a lock").unwrap();
    assert!(
        locked.answers.iter().all(|a| a.as_u64() == Some(expected)),
        "the lock is exact"
    );
}

/// The simulated GIL's step with `rounds` rounds, as `lessons/lesson04_gil` computes it.
fn bytecode(index: u64, rounds: u64) -> u64 {
    let mut x = index.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    for _ in 0..rounds {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    x
}

#[test]
fn lesson04_gil() {
    let Some(python) = python3() else { return };
    let report = run(&python, "lesson04_gil", "gil.py", &["--quick", "--threads", "2"]);
    let rounds = report.params["rounds_per_step"].as_u64().unwrap();
    let steps = report.params["steps"].as_u64().unwrap();
    let checksum = |range: std::ops::Range<u64>| range.map(|i| bytecode(i, rounds)).fold(0u64, u64::wrapping_add);
    let cpu = json!({"steps": steps, "checksum": checksum(0..steps)});
    assert_eq!(report.answers["cpu"], cpu);
    for answer in answers(&report, "cpu_bound") {
        assert_eq!(*answer, cpu, "threads and processes computed what one thread did");
    }
    // Each I/O task runs steps 2t and 2t + 1.
    let tasks = report.params["io_tasks"].as_u64().unwrap();
    let io = json!({"steps": 2 * tasks, "checksum": checksum(0..2 * tasks)});
    for answer in answers(&report, "io_bound") {
        assert_eq!(*answer, io);
    }
    // The GIL is a fact, not a timing: CPU-bound threads use about one core between them.
    let has_gil = report.python["gil_enabled"]
        .as_bool()
        .unwrap_or(!report.python["free_threaded_build"].as_bool().unwrap_or(false));
    let threads = report.variant("cpu_bound", "2 threads").unwrap().median();
    if has_gil {
        assert!(
            threads.cores_used() <= 1.25,
            "{} cores under a GIL",
            threads.cores_used()
        );
    }
    let requests = report.params["requests"].as_u64().unwrap() as usize;
    let convoy = report.extra["convoy"].as_array().unwrap();
    assert_eq!(convoy.len(), 5, "alone, three switch intervals, processes");
    for setup in convoy {
        assert_eq!(setup["latencies_s"].as_array().unwrap().len(), requests, "{setup:#}");
        assert!(setup["p50_s"].as_f64().unwrap() > 0.0);
    }
    let intervals: Vec<f64> = convoy[1..4]
        .iter()
        .map(|s| s["switch_interval_s"].as_f64().unwrap())
        .collect();
    assert_eq!(intervals, [0.001, 0.005, 0.02]);
}

#[test]
fn lesson05_cores() {
    let Some(python) = python3() else { return };
    let report = run(
        &python,
        "lesson05_cores",
        "fry_eggs.py",
        &["--quick", "--workers", "2", "--phase-ms", "100"],
    );
    assert_eq!(report.answers["one_process"], "One process completed");
    assert_eq!(
        report.answers["pool"],
        json!(["One process completed", "One process completed"])
    );
    assert!(report.extra["summary"]["pool_cores_used"].as_f64().unwrap() > 0.0);
}

#[test]
fn lesson06_pool_map() {
    let Some(python) = python3() else { return };
    let report = run(
        &python,
        "lesson06_pool_map",
        "pool_map.py",
        &["--quick", "--workers", "2"],
    );
    // The notes' 300 strings, as the Rust lesson has them.
    assert_eq!(report.params["strings"], 300);
    for answer in answers(&report, "word_count") {
        assert_eq!(answer.as_u64(), Some(workloads::seed::SEED_WORD_COUNT as u64));
    }
    let numbers: Vec<u64> = report.params["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    let quick: Vec<u64> = workloads::seed::SEED_NUMBERS.iter().map(|n| n / 100).collect();
    assert_eq!(numbers, quick, "--quick: a hundredth of each of the notes' numbers");
    let divisors: Vec<u64> = numbers.iter().map(|&n| workloads::seed::count_divisors(n)).collect();
    for answer in answers(&report, "count_prime") {
        assert_eq!(*answer, json!(divisors));
    }
    let per_iteration = report.extra["summary"]["per_iteration_s"].as_f64().unwrap();
    assert!(per_iteration > 0.0 && per_iteration < 1e-5, "{per_iteration}");

    // The strings may come from a file, and the numbers from the command line.
    let file = std::env::temp_dir().join(format!("python-twins-strings-{}", std::process::id()));
    std::fs::write(&file, workloads::seed::seed_strings().join("\n")).unwrap();
    let report = run(
        &python,
        "lesson06_pool_map",
        "pool_map.py",
        &[
            "--quick",
            "--workers",
            "2",
            "--strings",
            file.to_str().unwrap(),
            "--numbers",
            "1000,12,13",
        ],
    );
    std::fs::remove_file(&file).unwrap();
    assert_eq!(report.answers["word_count"], 1100);
    assert_eq!(report.answers["divisor_counts"], json!([14, 4, 0]));
}

#[test]
fn lesson09_bzip2() {
    let Some(python) = python3() else { return };
    let report = run(
        &python,
        "lesson09_bzip2",
        "parallel_bzip2.py",
        &["--quick", "--workers", "2"],
    );
    // The same book as the Rust lesson's, for the same seed and size.
    let book = workloads::text::generate(2016, 50_000);
    let expected =
        json!({"requests": 30, "bytes_each": book.len(), "crc32": crc32(book.as_bytes()), "identical": true});
    assert_eq!(report.answers["decompress"], expected);
    for answer in answers(&report, "decompress") {
        assert_eq!(*answer, expected);
    }
    // Another seed and size give another book, still Rust's.
    let report = run(
        &python,
        "lesson09_bzip2",
        "parallel_bzip2.py",
        &[
            "--quick",
            "--seed",
            "7",
            "--text-kb",
            "123",
            "--requests",
            "3",
            "--workers",
            "2",
        ],
    );
    let book = workloads::text::generate(7, 123_000);
    assert_eq!(report.answers["decompress"]["bytes_each"], book.len());
    assert_eq!(report.answers["decompress"]["crc32"], crc32(book.as_bytes()));
}
