//! The lecture's requests on the machine's CPython (`python/parallel_bzip2.py`): the same book
//! (generated again by the twin from the same seed and size, or read from the same `--input`
//! file), compressed at the same level, decompressed for as many requests one after another, on
//! a `ThreadPoolExecutor` and on a `ProcessPoolExecutor`. Its answer is the number of books it
//! got back, their length and their CRC-32, checked against Rust's book before its rows join
//! section 2's comparison.

use crate::Params;
use crate::answers::Unpacked;
use course::Lesson;
use course::python::Twin;
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
