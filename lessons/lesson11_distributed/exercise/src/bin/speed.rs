//! The speed verdict for lesson 11's exercise (`cargo homework 11` runs it once the checks
//! pass): the whole map/reduce word count of a large generated text, with as many mappers and
//! reducers as cores, yours against the reference. Built only with `--features speed`.

use lesson11_distributed_exercise as yours;
use lesson11_distributed_exercise::reference;

/// The count's size and a checksum of its words: equal counts give equal answers.
fn fingerprint<'a>(counts: impl IntoIterator<Item = (&'a String, &'a u64)>) -> String {
    let (mut words, mut total, mut sum) = (0u64, 0u64, 0u64);
    for (word, count) in counts {
        words += 1;
        total += count;
        sum = word
            .bytes()
            .fold(sum.rotate_left(7) ^ count, |s, b| s.rotate_left(5) ^ u64::from(b));
    }
    format!("{words} distinct words, {total} in all, checksum {sum:016x}")
}

fn main() {
    let mut speed = homework::speed::Speed::from_args();
    let n_workers = speed.cores().max(2);
    let bytes = if speed.quick() { 20_000 } else { 20_000_000 };
    let text = workloads::text::generate(11, bytes);
    speed.compare(
        "word_count (map_reduce)",
        format!(
            "{} bytes of text on {n_workers} mappers and {n_workers} reducers",
            homework::speed::count(text.len() as u64)
        ),
        n_workers,
        "one record per occurrence instead of per distinct word (no combiner), or stages that wait for each other",
        || fingerprint(&reference::word_count(&text, n_workers)),
        || fingerprint(&yours::word_count(&text, n_workers)),
    );
    std::process::exit(speed.finish());
}
