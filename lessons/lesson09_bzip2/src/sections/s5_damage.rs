//! Section 5: damaged input, in this process and through a worker process.

use crate::Params;
use crate::codec;
use crate::parallel_bzip2::{decompress, decompress_on_process_pool, start_decompress_pool};
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let (book, compressed) = (&p.book[..], &p.compressed[..]);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("intact", compressed.to_vec()),
        (
            "truncated to half its length",
            codec::truncated(compressed, compressed.len() / 2),
        ),
        ("4 bytes flipped in the middle", codec::corrupted(compressed)),
        ("plain text, not bzip2", book[..book.len().min(1000)].to_vec()),
        ("empty", Vec::new()),
    ];
    let mut pool = start_decompress_pool(p.n_workers)?;
    let requests: Vec<&[u8]> = cases.iter().map(|(_, bytes)| bytes.as_slice()).collect();
    let through_pool = decompress_on_process_pool(&requests, &mut pool)?;
    let mut table = Table::new(&["request", "size", "outcome, here and in a worker alike"]).left(2);
    let mut outcomes = serde_json::Map::new();
    for ((name, bytes), from_worker) in cases.iter().zip(&through_pool) {
        let here = decompress(bytes);
        anyhow::ensure!(
            here == *from_worker,
            "'{name}': a worker process and this process decompressed it differently"
        );
        let outcome = match &here {
            Ok(output) if output == book => "decompressed, identical to the book".to_string(),
            Ok(_) => "decompressed, but not to the book".to_string(),
            Err(why) => why.clone(),
        };
        table.row([name.to_string(), format::bytes(bytes.len() as u64), outcome.clone()]);
        outcomes.insert(name.to_string(), outcome.into());
    }
    lesson.table(&table);
    // Shutting down checks that every worker is still alive and ends cleanly.
    let n_workers = pool.n_workers();
    pool.shutdown()?;
    lesson.checked(
        true,
        format!(
            "all {} requests answered, and the pool's {} are still alive: a bad request is an \
             error value sent back, not a crash",
            cases.len(),
            format::plural(n_workers as u64, "worker")
        ),
    );
    say!(
        lesson,
        "  A damaged file given with --input FILE is refused the same way: one line naming the \
         problem, exit status 2."
    );
    lesson.figure("damaged_input_outcomes", outcomes);
    lesson.figure(
        "damaged_requests_rejected",
        through_pool.iter().filter(|result| result.is_err()).count(),
    );
    lesson.notice(
        "bzip2 checks every block with a CRC and every stream with an end marker, so damage is \
         detected, not decompressed into garbage. Handle it as a value: one bad request must not \
         bring down a pool.",
    );
    Ok(())
}
