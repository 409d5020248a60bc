//! Section 1: the corpus, and the word count on one core that every other run must match.

use crate::Params;
use crate::map_reduce::count_sequential;
use course::chart::Bars;
use course::timing::{format, measure};
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let corpus = p.corpus;
    let text = p.text().0;
    say!(
        lesson,
        "  A corpus of {} blocks of {} ({} in all), generated from seed {}: the stand-in for a big \
         file that a distributed file system (HDFS) stores as blocks on many machines.",
        corpus.blocks,
        format::bytes(corpus.block_bytes as u64),
        format::bytes(text.len() as u64),
        corpus.seed
    );
    let bytes = text.len() as u64;
    let (sequential, measurement) = measure(|| count_sequential(text));
    say!(
        lesson,
        "  Counted on one core in {} ({}), by `count_sequential` in src/map_reduce.rs:",
        format::duration(measurement.wall),
        format::throughput(bytes, measurement.wall)
    );
    say!(lesson);
    let mut top: Vec<(&String, &u64)> = sequential.counts.iter().collect();
    top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut bars = Bars::new().width(30);
    for (word, count) in top.iter().take(8) {
        bars.row(word.as_str(), **count as f64, format::count(**count));
    }
    lesson.bars(&bars);
    let (words, letters) = (sequential.words(), sequential.letters());
    let mean_word_length = if words == 0 { 0.0 } else { letters as f64 / words as f64 };
    say!(
        lesson,
        "  {} words, {} distinct, in {} lines; {} letters, {mean_word_length:.3} letters per word.",
        format::count(words),
        sequential.counts.len(),
        format::count(sequential.lines),
        format::count(letters),
    );
    lesson.figure("corpus", corpus);
    lesson.figure("corpus_bytes", bytes);
    lesson.figure("words", words);
    lesson.figure("distinct_words", sequential.counts.len());
    lesson.figure("letters", letters);
    lesson.figure("lines", sequential.lines);
    lesson.figure("mean_word_length", mean_word_length);
    lesson.figure("sequential_s", measurement.wall.as_secs_f64());
    p.sequential = Some(sequential);
    lesson.notice("This is the answer every distributed run below must reproduce exactly.");
    Ok(())
}
