//! Section 2: room for data, in memory and on disk.

use crate::Params;
use crate::resources;
use course::table::Table;
use course::timing::format;
use course::{Lesson, say};

/// Where the lecture's "biggish data" starts: 5 GB.
const BIGGISH: u64 = 5_000_000_000;

pub fn run(lesson: &Lesson, _: &mut Params) -> anyhow::Result<()> {
    let memory = resources::memory();
    let disk = resources::disk();
    let size = |bytes: Option<u64>| bytes.map_or("cannot be read on this platform".to_string(), format::bytes);
    let mut table = Table::new(&["", ""]).left(1);
    table.row(["memory (RAM) total", &size(memory.total)]);
    table.row(["memory available now", &size(memory.available)]);
    table.row(["swap", &size(memory.swap_total)]);
    table.row([format!("disk total at {}", disk.path), size(disk.total)]);
    table.row(["disk free for you".to_string(), size(disk.available)]);
    lesson.table(&table);
    if let Some(available) = memory.available {
        let fits = available / BIGGISH;
        say!(
            lesson,
            "  A 5 GB dataset (where the lecture's 'biggish data' starts) fits {} in available memory.",
            format::plural(fits, "time")
        );
    }
    lesson.figure("memory", &memory);
    lesson.figure("disk", &disk);
    lesson.notice(
        "Memory decides how much data one machine can hold at once; past it, data is streamed from \
         disk or split across machines (lesson 11).",
    );
    Ok(())
}
