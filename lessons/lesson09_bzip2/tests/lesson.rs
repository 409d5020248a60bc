//! Lesson 09 run as a student runs it: every version decompresses every request to the book,
//! the parallel compressor's file decodes back to its input, and damaged input is refused with
//! one clear line, never a panic.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use testkit::Run;
use testkit::report::figure;

const LESSON: &str = env!("CARGO_BIN_EXE_lesson09_bzip2");

fn quick_report(extra: &[&str]) -> Value {
    Run::new(LESSON).args(["--quick", "--json"]).args(extra).json_report()
}

#[test]
fn every_version_decompresses_every_request_to_the_book() {
    let report = quick_report(&["--requests", "12"]);
    assert_eq!(figure(&report, "lossless"), true);
    // Section 1 times several warm runs, not one cold one.
    assert!(figure(&report, "timed_runs").as_u64().unwrap() >= 3);
    assert_eq!(figure(&report, "requests_identical_to_book"), 12);
    let book = figure(&report, "book_bytes").as_u64().unwrap();
    assert_eq!(figure(&report, "decompressed_bytes").as_u64(), Some(12 * book));
    let decompression = &report["sections"][1]["comparisons"][0];
    assert_eq!(decompression["answers_agree"], true);
    let names: Vec<&str> = decompression["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names[1].ends_with("threads") && names[2].ends_with("processes"),
        "{names:?}"
    );
    // The answer every version agreed on: all 12 identical, no errors.
    let answer = decompression["answer"].as_str().unwrap();
    assert!(
        answer.starts_with("12 of 12 identical to the book") && answer.ends_with(", 0 errors"),
        "{answer}"
    );
}

#[test]
fn the_parallel_compressor_writes_a_file_that_decodes_to_its_input() {
    let report = quick_report(&["--large-mb", "1", "--block-kb", "100"]);
    assert_eq!(figure(&report, "blocks"), 10);
    assert_eq!(figure(&report, "multi_stream_round_trip"), true);
    assert_eq!(figure(&report, "parallel_identical_to_sequential_blocks"), true);
    // A decoder that reads one stream stops after the first block.
    assert_eq!(figure(&report, "first_stream_only_bytes"), 100_000);
}

#[test]
fn damaged_requests_are_errors_and_the_pool_survives_them() {
    let report = quick_report(&[]);
    assert_eq!(figure(&report, "damaged_requests_rejected"), 4);
    let outcomes = figure(&report, "damaged_input_outcomes");
    assert!(outcomes["intact"].as_str().unwrap().contains("identical"));
    assert!(
        outcomes["truncated to half its length"]
            .as_str()
            .unwrap()
            .contains("truncated")
    );
    assert!(
        outcomes["4 bytes flipped in the middle"]
            .as_str()
            .unwrap()
            .contains("corrupt")
    );
    assert!(
        outcomes["plain text, not bzip2"]
            .as_str()
            .unwrap()
            .contains("not bzip2")
    );
}

/// A file for `--input`, in the folder Cargo gives integration tests for scratch files.
fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("lesson09-{}-{name}", std::process::id()));
    std::fs::File::create(&path)
        .and_then(|mut file| file.write_all(bytes))
        .unwrap();
    path
}

fn compressed(text: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    encoder.write_all(text).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn a_good_input_file_becomes_the_book() {
    let text = b"It was the best of times, it was the worst of times. ".repeat(400);
    let path = scratch_file("good.bz2", &compressed(&text));
    let report = quick_report(&["--input", path.to_str().unwrap(), "--requests", "4"]);
    let _ = std::fs::remove_file(&path);
    assert_eq!(figure(&report, "book_bytes").as_u64(), Some(text.len() as u64));
    assert_eq!(figure(&report, "requests_identical_to_book"), 4);
}

#[test]
fn a_damaged_or_missing_input_file_is_refused_with_one_line() {
    let good = compressed(&b"Call me Ishmael. Some years ago, never mind how long. ".repeat(300));
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    flipped[middle + 1] ^= 0xff;
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        ("truncated.bz2", Some(good[..good.len() / 2].to_vec()), "truncated"),
        ("corrupt.bz2", Some(flipped), "corrupt"),
        (
            "plain.txt",
            Some(b"just some text, not compressed".to_vec()),
            "not bzip2",
        ),
        ("empty.bz2", Some(Vec::new()), "truncated"),
        ("missing.bz2", None, "cannot read"),
    ];
    for (name, bytes, expected) in cases {
        let path = match &bytes {
            Some(bytes) => scratch_file(name, bytes),
            None => PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("no-such-file.bz2"),
        };
        let outcome = Run::new(LESSON)
            .args(["--quick", "--input", path.to_str().unwrap()])
            .go();
        let _ = std::fs::remove_file(&path);
        outcome.assert_code(2);
        outcome.assert_clean();
        let stderr = outcome.stderr.trim_end();
        assert_eq!(stderr.lines().count(), 1, "{name}: one line\n{}", outcome.describe());
        assert!(
            stderr.contains(path.to_str().unwrap()) && stderr.contains(expected),
            "{name}: the line names the file and says '{expected}'\n{}",
            outcome.describe()
        );
    }
}

#[test]
fn too_much_output_is_refused_before_any_work() {
    let outcome = Run::new(LESSON)
        .args(["--quick", "--json", "--requests", "10000", "--text-kb", "4096"])
        .go();
    outcome.assert_code(2);
    assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
    assert!(outcome.stderr.contains("limit"), "{}", outcome.describe());
}

#[test]
fn a_level_out_of_range_is_refused_with_its_range() {
    for (level, why) in [("10", "at most 9"), ("0", "at least 1")] {
        let outcome = Run::new(LESSON).args(["--quick", "--level", level]).go();
        outcome.assert_code(2);
        assert!(outcome.stdout.is_empty(), "{}", outcome.describe());
        let line = outcome.stderr.trim_end();
        assert_eq!(line.lines().count(), 1, "{}", outcome.describe());
        assert!(line.contains("--level") && line.contains(why), "{line}");
    }
}
