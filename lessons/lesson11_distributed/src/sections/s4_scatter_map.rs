//! Section 4: which process got which blocks, and what its map step produced.

use super::block_range;
use crate::{Cluster, Params};
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, p: &mut Params) -> anyhow::Result<()> {
    let gathered = p.plain()?;
    let how = match p.cluster {
        Cluster::Local => "the parent sent each process its blocks through a pipe",
        Cluster::Hosts { .. } => "each machine generated its own blocks",
    };
    say!(lesson, "  (ipyparallel's scatter and map; Hadoop's map.)");
    say!(
        lesson,
        "  The {} blocks were split into consecutive runs, one per process; {how}. Each process \
         then mapped its own lines to words, without talking to anyone.",
        p.corpus.blocks
    );
    let mut table = Table::new(&["process", "blocks", "bytes", "lines", "words mapped", "map time"]);
    for report in &gathered.reports {
        table.row([
            report.process.to_string(),
            block_range(&report.blocks),
            format::bytes(report.bytes),
            format::count(report.lines),
            format::count(report.words_mapped.unwrap_or(0)),
            format::seconds(report.dataflow_s),
        ]);
    }
    lesson.table(&table);
    say!(
        lesson,
        "  (map time: the whole dataflow on that process, map to gather.)"
    );
    let scatter: Vec<serde_json::Value> = gathered
        .reports
        .iter()
        .map(|r| {
            serde_json::json!({
                "process": r.process, "blocks": [r.blocks.start, r.blocks.end], "bytes": r.bytes,
                "lines": r.lines, "words_mapped": r.words_mapped,
            })
        })
        .collect();
    lesson.figure("scatter", &scatter);
    lesson.notice(
        "The map is embarrassingly parallel: each process works on its own blocks, and it is the \
         only step that needs no communication at all.",
    );
    Ok(())
}
