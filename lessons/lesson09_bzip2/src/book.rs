//! The book every request decompresses to: generated, or read from a bzip2 file given with
//! `--input` (a damaged or oversized one is refused with one line).

use crate::codec;
use course::timing::format;
use std::path::Path;

/// The most output the requests may produce in all: past it, memory runs short.
pub const OUTPUT_LIMIT: u64 = 2 << 30;
/// The largest book `--input` may hold once decompressed.
pub const BOOK_LIMIT: u64 = 64 << 20;

/// The book from a bzip2 file given with `--input`, or a one-line reason why it cannot be used.
pub fn read_book(path: &Path) -> anyhow::Result<Vec<u8>> {
    let name = path.display();
    let refuse = |why: String| course::usage_error(format!("{name}: {why}"));
    let metadata = std::fs::metadata(path).map_err(|error| refuse(format!("cannot read it ({error})")))?;
    if !metadata.is_file() {
        return Err(refuse("not a file".to_string()));
    }
    if metadata.len() > BOOK_LIMIT {
        return Err(refuse(format!(
            "{} is more than this lesson's {} limit",
            format::bytes(metadata.len()),
            format::bytes(BOOK_LIMIT)
        )));
    }
    let bytes = std::fs::read(path).map_err(|error| refuse(format!("cannot read it ({error})")))?;
    let book = codec::decompress_all_streams(&bytes, BOOK_LIMIT)
        .map_err(|why| refuse(format!("not a usable bzip2 file: {why}")))?;
    if book.is_empty() {
        return Err(refuse(
            "it decompresses to nothing: there is no book to work with".to_string(),
        ));
    }
    Ok(book)
}

/// Refuses, before any work, more requests than the memory their output needs allows.
pub fn check_output(book_bytes: usize, n_requests: usize) -> anyhow::Result<()> {
    let output = book_bytes as u64 * n_requests as u64;
    if output > OUTPUT_LIMIT {
        return Err(course::usage_error(format!(
            "{n_requests} requests of a {} book would decompress to {} in all; the limit here is {} \
             (lower --requests or --text-kb)",
            format::bytes(book_bytes as u64),
            format::bytes(output),
            format::bytes(OUTPUT_LIMIT)
        )));
    }
    Ok(())
}
