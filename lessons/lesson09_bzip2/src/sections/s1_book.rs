//! Section 1: the book, its compression ratio, and the lossless check.

use crate::Params;
use crate::parallel_bzip2::{compress, decompress};
use course::table::Table;
use course::timing::{self, format};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (book, level) = (&p.book, p.level);
    match &p.input {
        Some(path) => say!(lesson, "  The book: the contents of {}.", path.display()),
        None => say!(
            lesson,
            "  The book: {} of generated English-like text (seed {}); the lecture used Huckleberry \
             Finn, about 600 kB.",
            format::bytes(book.len() as u64),
            lesson.seed()
        ),
    }
    // Each timed after one unmeasured warm-up run (the first run also pays for page faults
    // and cold caches), then the median of a few: what one request costs in section 2.
    let runs = lesson.pick(3, 5);
    let (mut compressed, compressing) = timing::repeat(1, runs, || compress(book, level));
    let compressed = compressed.pop().unwrap_or_default();
    let (restored, decompressing) = timing::repeat(1, runs, || decompress(&compressed));
    let lossless = !restored.is_empty() && restored.iter().all(|restored| restored.as_deref() == Ok(&book[..]));
    let (compressing, decompressing) = (compressing.median(), decompressing.median());
    let ratio = compressed.len() as f64 / book.len() as f64;

    let mut table = Table::new(&["", ""]).left(1);
    table.row(["original".to_string(), format::bytes(book.len() as u64)]);
    table.row([
        format!("compressed (level {level})"),
        format!(
            "{} ({} of the original)",
            format::bytes(compressed.len() as u64),
            format::percent(ratio)
        ),
    ]);
    table.row([
        format!("compressing took (median of {runs})"),
        format!(
            "{} ({})",
            format::duration(compressing.wall),
            format::throughput(book.len() as u64, compressing.wall)
        ),
    ]);
    table.row([
        format!("decompressing took (median of {runs})"),
        format!(
            "{} ({} of output)",
            format::duration(decompressing.wall),
            format::throughput(book.len() as u64, decompressing.wall)
        ),
    ]);
    lesson.table(&table);
    lesson.checked(
        lossless,
        if lossless {
            "decompressed == original, byte for byte"
        } else {
            "decompressed != original"
        },
    );
    lesson.figure("book_bytes", book.len());
    lesson.figure("compressed_bytes", compressed.len());
    lesson.figure("compression_ratio", ratio);
    lesson.figure("lossless", lossless);
    lesson.figure("timed_runs", runs);
    lesson.figure("compress", compressing);
    lesson.figure("decompress", decompressing);
    anyhow::ensure!(
        lossless,
        "the book did not survive compression and decompression unchanged"
    );
    lesson.notice(&format!(
        "The book shrinks to {} of its size (the lecture's to about 27%) and comes back exactly. \
         One decompression costs {} of pure computation: hundreds of requests make a CPU-bound job.",
        format::percent(ratio),
        format::duration(decompressing.wall)
    ));
    Ok(())
}
