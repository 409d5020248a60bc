//! The lecture's requests on the machine's CPython (`python/parallel_bzip2.py`): the same book
//! (generated again by the twin from the same seed and size, or read from the same `--input`
//! file), compressed at the same level, decompressed for as many requests one after another, on
//! a `ThreadPoolExecutor` and on a `ProcessPoolExecutor`. Its answer is the number of books it
//! got back, their length and their CRC-32, checked against Rust's book before its rows join
//! Rust's in a comparison of both (recorded in `--json`), shown as one table: each of Rust's
//! three versions beside the lecture's, with CPython/Rust.

use crate::Params;
use crate::answers::Unpacked;
use course::Lesson;
use course::python::{Python, Twin};
use course::table::Table;
use course::timing::{Comparison, ComparisonReport, Runs, format};
use serde_json::Value;
use std::time::Duration;

/// Runs the twin on the lesson's requests; `None` without a working Python.
pub fn decompress_in_cpython(lesson: &Lesson, p: &Params) -> Option<Twin> {
    p.python.interpreter()?;
    let mut args = vec![
        "--requests".to_string(),
        p.n_requests.to_string(),
        "--workers".to_string(),
        p.n_workers.to_string(),
        "--level".to_string(),
        p.level.to_string(),
        "--runs".to_string(),
        "1".to_string(),
    ];
    match (&p.input, p.text_kb) {
        // The user's own file: the twin reads it where it is, nothing is written.
        (Some(path), _) => args.extend(["--compressed".to_string(), path.display().to_string()]),
        // The same generated book: the twin makes it from the same seed and size.
        (None, Some(kb)) => args.extend([
            "--text-kb".to_string(),
            kb.to_string(),
            "--seed".to_string(),
            p.seed.to_string(),
        ]),
        (None, None) => return None,
    }
    // Some milliseconds per request and 100 kB in CPython's bz2 too, three times over.
    let output_mb = (p.book.len() as u64 * p.n_requests as u64) >> 20;
    let timeout = Duration::from_secs(60) + Duration::from_millis(300 * output_mb);
    p.python
        .run(lesson, course::python_twin!("parallel_bzip2.py"), args, timeout)
}

/// Rust's rows of `rust` (sequential, threads, processes) and the twin's beside them in one
/// comparison, recorded for `--json` once the twin's books are Rust's `expected` (else one
/// warning line and nothing), printed as one table with CPython/Rust. Returns the speedup of
/// CPython's thread pool over its own loop.
pub fn beside_rust(
    lesson: &Lesson,
    python: &Python,
    twin: &Twin,
    rust: &ComparisonReport,
    expected: &Unpacked,
    book: &[u8],
) -> anyhow::Result<Option<f64>> {
    let mut beside = Comparison::new(format!("{}, Rust and CPython", rust.workload));
    for row in &rust.rows {
        let added = beside.add_measured(&row.name, row.workers, vec![*expected], Runs::from(row.median));
        if !row.same_algorithm {
            added.other_algorithm();
        }
    }
    let added = python.add_rows(lesson, &mut beside, twin, "decompress", expected, |value| {
        unpacked(value, book)
    });
    if added.len() != rust.rows.len() {
        return Ok(None);
    }
    let report = lesson.compare_quietly(beside)?;
    let pairs: Vec<(&str, &str)> = added
        .iter()
        .zip(&rust.rows)
        .map(|(python, rust)| (python.as_str(), rust.name.as_str()))
        .collect();
    let ratios = course::python::ratios_quietly(lesson, &report, &pairs);
    let interpreter = python.label();
    let mut table = Table::new(&[
        "Rust · the lecture's Python",
        "Rust",
        "cores",
        &interpreter,
        "cores",
        "CPython/Rust",
    ]);
    for ((python_name, rust_name), ratio) in pairs.iter().zip(&ratios) {
        let (Some(python), Some(rust)) = (report.row(python_name), report.row(rust_name)) else {
            continue;
        };
        let python_name = python_name.trim_start_matches("CPython: ");
        table.row([
            if python_name == *rust_name {
                python_name.to_string()
            } else {
                format!("{rust_name} · {python_name}")
            },
            format::seconds(rust.median_s),
            format!("{:.2}", rust.cores_used),
            format::seconds(python.median_s),
            format!("{:.2}", python.cores_used),
            format::times(ratio.ratio),
        ]);
    }
    lesson.table(&table);
    let (loop_row, threads_row) = (report.row(&added[0]), report.row(&added[1]));
    Ok(loop_row
        .zip(threads_row)
        .map(|(one, threads)| one.median_s / threads.median_s.max(f64::MIN_POSITIVE)))
}

/// What a twin's variant computed, as Rust counts it: every book it got back is the book when
/// its length and CRC-32 are the book's and all are the same bytes; otherwise none is.
pub fn unpacked(value: &Value, book: &[u8]) -> Option<Unpacked> {
    let requests = value.get("requests")?.as_u64()? as usize;
    let bytes_each = value.get("bytes_each")?.as_u64()?;
    let crc32 = value.get("crc32")?.as_u64()?;
    let same = value.get("identical")?.as_bool()?;
    let is_the_book = same && bytes_each == book.len() as u64 && crc32 == u64::from(course::python::crc32(book));
    Some(Unpacked {
        requests,
        identical: if is_the_book { requests } else { 0 },
        bytes: bytes_each * requests as u64,
        errors: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_is_recognized_by_its_length_and_crc() {
        let book = b"123456789";
        let answer = |crc: u32, identical: bool| serde_json::json!({"requests": 3, "bytes_each": 9, "crc32": crc, "identical": identical});
        let right = unpacked(&answer(0xCBF4_3926, true), book).unwrap();
        assert_eq!((right.identical, right.bytes), (3, 27));
        assert_eq!(unpacked(&answer(0xCBF4_3927, true), book).unwrap().identical, 0);
        assert_eq!(unpacked(&answer(0xCBF4_3926, false), book).unwrap().identical, 0);
        assert!(unpacked(&serde_json::json!("garbage"), book).is_none());
    }
}
