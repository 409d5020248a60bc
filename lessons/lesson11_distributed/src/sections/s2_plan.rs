//! Section 2: the steps, the lecture's table of tools, and the dataflow graph.

use super::say_lines;
use crate::Params;
use course::table::Table;
use course::{Lesson, say};

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    say!(lesson, "  Each step is a column of the lecture's table of tools:");
    let mut table = Table::new(&["step here", "ipyparallel", "Hadoop", "what moves"])
        .left(1)
        .left(2)
        .left(3);
    table.row([
        "scatter: blocks to processes",
        "scatter",
        "(blocks on the nodes)",
        "the data, once",
    ]);
    table.row(["map: lines to words", "map", "map", "nothing"]);
    table.row(["shuffle: each word to its owner", "-", "shuffle", "a record per word"]);
    table.row(["reduce: count per word", "-", "reduce", "nothing"]);
    table.row([
        "gather: counts to process 0",
        "gather",
        "(output files)",
        "a record per distinct word",
    ]);
    lesson.table(&table);
    say!(lesson);
    say!(
        lesson,
        "  Spark (and timely dataflow, used here) generalizes this to a graph of operators, a DAG. \
         `count_as_dataflow` in src/map_reduce.rs builds this one:"
    );
    say_lines(
        lesson,
        &[
            "",
            "  lines ─▶ map: (word, 1) ─(exchange by word)─▶ reduce: sum ─(exchange to 0)─▶ counts",
            "  number of lines ──────────────────────────────────────────(exchange to 0)─▶ sum",
            "",
        ],
    );
    say!(
        lesson,
        "  Every process builds this same graph and runs it on its own share of the data. An \
         exchange edge sends each record to the process its key names, over TCP; all other edges \
         stay inside a process. The processes share no memory, like MPI ranks on different nodes; \
         threads sharing one memory, as with OpenMP, are the tools of lessons 02 to 06."
    );
    lesson.figure(
        "steps",
        [
            "scatter",
            "map",
            "shuffle (exchange by key)",
            "reduce",
            "gather (exchange to 0)",
        ],
    );
    lesson.notice(
        "Only the exchange edges move data between processes; the whole design of a distributed \
         job is about moving as little as possible across them.",
    );
    Ok(())
}
